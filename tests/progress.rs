//! Progress of long work: on a terminal, `feedd build` (and the startup
//! scan of `serve`) draws a line of counts once the work has lasted a
//! moment; anywhere else (a pipe, a file, the journal) it never does, and
//! `build` prints one summary line. `FEEDD_PROGRESS_AFTER_MS=0` draws the
//! line at once, so that a small site shows it too.

mod common;

use std::process::Command;

use common::{FEEDD, SERVE_CONFIG, Site, reader_available, run_to_end};

fn site_with_articles() -> Site {
    let site = Site::new(SERVE_CONFIG);
    for n in 0..20 {
        site.write(
            format!("Mục {}/2026-11-{:02}-bai-{n}.txt", n % 3, n % 28 + 1),
            format!("Bài số {n}\n\nĐoạn một.\n"),
        );
    }
    site
}

fn has_terminal_codes(text: &str) -> bool {
    text.contains('\x1b') || text.contains('\r')
}

#[test]
fn without_a_terminal_build_prints_one_summary_line_and_no_progress() {
    let site = site_with_articles();
    let mut build = Command::new(FEEDD);
    build
        .args(["build", "--config"])
        .arg(site.config())
        .env("FEEDD_PROGRESS_AFTER_MS", "0");
    let run = run_to_end(build);
    assert_eq!(run.code, Some(0), "{run:?}");
    assert_eq!(run.stderr, "", "nothing but errors goes to stderr");
    let lines: Vec<&str> = run.stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{lines:?}");
    assert!(
        lines[0].starts_with("built ") && lines[0].contains("from 20 articles"),
        "{lines:?}"
    );
    assert!(!has_terminal_codes(&run.stdout), "{:?}", run.stdout);
}

#[test]
fn without_a_terminal_serve_logs_no_progress() {
    let site = site_with_articles();
    let serve = site.spawn_serve_with(&[], &[("FEEDD_PROGRESS_AFTER_MS", "0")]);
    serve.wait_for_log("the startup rebuild", "reason=\"startup\"");
    let log = serve.log();
    assert!(log.iter().all(|line| !has_terminal_codes(line)), "{log:?}");
    assert!(
        log.iter().all(|line| !line.contains("files scanned")),
        "{log:?}"
    );
}

/// `script` (util-linux) runs the build on a pseudo-terminal and copies
/// what it draws.
#[test]
fn on_a_terminal_build_draws_its_progress_then_clears_it() {
    if !reader_available("script", Command::new("script").arg("--version")) {
        return;
    }
    let site = site_with_articles();
    let command = format!("{FEEDD} build --config '{}'", site.config().display());
    let out = Command::new("script")
        .args(["--quiet", "--return", "--command", &command, "/dev/null"])
        .env("FEEDD_PROGRESS_AFTER_MS", "0")
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    let screen = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{screen}");
    assert!(
        screen.contains("build: ") && screen.contains("files scanned"),
        "no progress line in {screen:?}"
    );
    // Cleared (erase line) before the summary, which is what is left.
    let summary = screen
        .trim_end()
        .rsplit("\x1b[2K")
        .next()
        .unwrap_or_default();
    assert!(
        screen.contains("\x1b[2K") && summary.starts_with("built ") && !summary.contains('\r'),
        "{screen:?}"
    );
}
