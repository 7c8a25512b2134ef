//! `feedd completions SHELL` and `feedd man`: generated from the argument
//! definitions, so every subcommand (the ones `feedd --help` lists, however
//! many are added later) is in them. The bash script is loaded by a real
//! bash and the page rendered by a real `man`, when present.

mod common;

use std::process::Command;

use common::{feedd_in, reader_available};

/// The subcommands `feedd --help` lists, but `help`.
fn subcommands() -> Vec<String> {
    let help = feedd_in(std::env::temp_dir().as_path(), ["--help"]);
    assert_eq!(help.code, Some(0), "{help:?}");
    let names: Vec<String> = help
        .stdout
        .lines()
        .skip_while(|line| !line.starts_with("Commands:"))
        .skip(1)
        .take_while(|line| line.starts_with("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter(|name| *name != "help")
        .map(String::from)
        .collect();
    for expected in ["serve", "build", "check", "completions", "man"] {
        assert!(names.iter().any(|n| n == expected), "{names:?}");
    }
    names
}

fn generate(args: &[&str]) -> String {
    let run = feedd_in(std::env::temp_dir().as_path(), args);
    assert_eq!(run.code, Some(0), "feedd {args:?}: {run:?}");
    assert!(run.stderr.is_empty(), "feedd {args:?}: {}", run.stderr);
    run.stdout
}

#[test]
fn every_shell_gets_a_script_naming_every_subcommand() {
    let subcommands = subcommands();
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let script = generate(&["completions", shell]);
        assert!(script.len() > 500, "{shell}: {script}");
        for name in &subcommands {
            assert!(script.contains(name.as_str()), "{shell} lacks {name}");
        }
        assert!(script.contains("log-format"), "{shell} lacks --log-format");
    }
    let unknown = feedd_in(std::env::temp_dir().as_path(), ["completions", "tcsh"]);
    assert_eq!(unknown.code, Some(2), "{unknown:?}");
}

/// bash loads the script, registers it for `feedd`, and completing
/// `feedd s` offers `serve`.
#[test]
fn bash_loads_the_completion_script() {
    if !reader_available("bash", Command::new("bash").arg("--version")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("feedd.bash");
    std::fs::write(&script, generate(&["completions", "bash"])).unwrap();
    let probe = format!(
        "source '{}' && complete -p feedd && COMP_WORDS=(feedd s) COMP_CWORD=1 \
         COMP_LINE='feedd s' COMP_POINT=7 && _feedd feedd s feedd && echo \"${{COMPREPLY[@]}}\"",
        script.display()
    );
    let out = Command::new("bash")
        .args(["--norc", "--noprofile", "-c", &probe])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("-F _feedd feedd"), "{stdout}");
    assert!(
        stdout
            .lines()
            .last()
            .unwrap_or_default()
            .split(' ')
            .any(|w| w == "serve"),
        "{stdout}"
    );
}

#[test]
fn the_man_page_covers_every_subcommand_and_renders() {
    let page = generate(&["man"]);
    assert!(page.lines().any(|l| l.starts_with(".TH feedd 1")), "{page}");
    let subcommands = subcommands();
    for name in &subcommands {
        assert!(
            page.contains(&format!(".SS \"feedd {name}\"")),
            "the page lacks a section for {name}"
        );
    }
    if !reader_available("man", Command::new("man").arg("--version")) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("feedd.1");
    std::fs::write(&file, &page).unwrap();
    let out = Command::new("man")
        .args(["--warnings", "-l"])
        .arg(&file)
        .env("MANWIDTH", "100")
        .env("MANPAGER", "cat")
        .env("PAGER", "cat")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let warnings = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "man -l: {warnings}");
    assert!(warnings.trim().is_empty(), "groff warnings: {warnings}");
    for section in ["NAME", "SYNOPSIS", "COMMANDS"] {
        assert!(
            text.lines().any(|l| l == section),
            "no {section} in\n{text}"
        );
    }
    for name in &subcommands {
        assert!(
            text.contains(&format!("feedd {name}")),
            "{name} not in\n{text}"
        );
    }
    assert!(text.contains("--log-format"), "{text}");
}
