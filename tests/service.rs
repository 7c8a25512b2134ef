//! feedd as a systemd service: `packaging/feedd.service` passes
//! `systemd-analyze verify`, and the real `feedd serve` speaks the
//! notification protocol to a real datagram socket named by NOTIFY_SOCKET:
//! `READY=1` once the feeds are served, `RELOADING=1` then `READY=1` around
//! a reload that SIGHUP asks for, `STOPPING=1` on SIGTERM, and the
//! watchdog's keep-alive when `WATCHDOG_USEC` asks for it.

mod common;

use std::os::unix::net::UnixDatagram;
use std::path::Path;
use std::process::Command;
use std::sync::mpsc::Receiver;
use std::time::Instant;

use common::{SERVE_CONFIG, SERVE_DEADLINE, Serve, Site, reader_available};

const UNIT: &str = include_str!("../packaging/feedd.service");

/// The systemd unit file is what README.md describes and what systemd
/// accepts. `verify` needs no running systemd; it checks that the binary
/// and the `man:` page it names exist, so both are made here: the unit is
/// pointed at this build and `feedd man` installed in a temporary MANPATH.
#[test]
fn the_unit_file_passes_systemd_analyze_verify() {
    for directive in [
        "Type=notify",
        "ExecStart=/usr/local/bin/feedd serve --config /etc/feedd/feedd.toml",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "DynamicUser=yes",
        "StateDirectory=feedd",
        "CacheDirectory=feedd",
        "ProtectSystem=strict",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    ] {
        assert!(
            UNIT.lines().any(|line| line == directive),
            "packaging/feedd.service lacks {directive}"
        );
    }
    if !reader_available(
        "systemd-analyze",
        Command::new("systemd-analyze").arg("--version"),
    ) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let unit = dir.path().join("feedd.service");
    std::fs::write(
        &unit,
        UNIT.replace("/usr/local/bin/feedd", env!("CARGO_BIN_EXE_feedd")),
    )
    .unwrap();
    let man1 = dir.path().join("man/man1");
    std::fs::create_dir_all(&man1).unwrap();
    let man = Command::new(env!("CARGO_BIN_EXE_feedd"))
        .arg("man")
        .output()
        .unwrap();
    assert!(man.status.success());
    std::fs::write(man1.join("feedd.1"), &man.stdout).unwrap();

    let verify = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&unit)
        .env("MANPATH", dir.path().join("man"))
        // No running systemd here (a container, CI): verify works offline.
        .env("SYSTEMD_LOG_LEVEL", "notice")
        .output()
        .unwrap();
    let complaints = String::from_utf8_lossy(&verify.stderr).into_owned()
        + &String::from_utf8_lossy(&verify.stdout);
    assert!(
        verify.status.success() && complaints.trim().is_empty(),
        "systemd-analyze verify: {:?}\n{complaints}",
        verify.status
    );
}

/// The service manager's side of NOTIFY_SOCKET: every datagram received,
/// one message (`KEY=value` lines) each.
struct Manager {
    messages: Receiver<String>,
    /// Every message received so far, for failure reports.
    seen: Vec<String>,
}

impl Manager {
    fn listen(socket: &Path) -> Manager {
        let socket = UnixDatagram::bind(socket).expect("bind the notification socket");
        let (tx, messages) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let mut buffer = vec![0; 64 * 1024];
            while let Ok(length) = socket.recv(&mut buffer) {
                let message = String::from_utf8_lossy(&buffer[..length]).into_owned();
                if tx.send(message).is_err() {
                    return;
                }
            }
        });
        Manager {
            messages,
            seen: Vec::new(),
        }
    }

    /// The next message with the line `line`, skipping others; `serve`'s
    /// log (or a copy of it) goes into the failure report.
    fn wait_for(&mut self, line: &str, serve: &impl Log) -> String {
        let deadline = Instant::now() + SERVE_DEADLINE;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let Ok(message) = self.messages.recv_timeout(left) else {
                panic!(
                    "no {line} from feedd; messages: {:?}\nlog:\n{}",
                    self.seen,
                    serve.lines().join("\n")
                );
            };
            self.seen.push(message.clone());
            if message.lines().any(|l| l == line) {
                return message;
            }
        }
    }
}

/// What a failure report shows of feedd's log.
trait Log {
    fn lines(&self) -> Vec<String>;
}

impl Log for Serve {
    fn lines(&self) -> Vec<String> {
        self.log()
    }
}

impl Log for Vec<String> {
    fn lines(&self) -> Vec<String> {
        self.clone()
    }
}

fn kill(signal: &str, pid: u32) {
    let status = Command::new("kill")
        .args([signal, &pid.to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill {signal} {pid}");
}

fn site_config(title: &str) -> String {
    format!(
        "[site]\ntitle = \"{title}\"\nbase_url = \"https://news.example.vn\"\n\n\
         [paths]\narticles = \"../articles\"\noutput = \"../feeds\"\nstate = \"../state\"\n\n\
         {SERVE_CONFIG}"
    )
}

fn feed_title(serve: &Serve) -> String {
    let response = serve.get("/atom.xml");
    assert_eq!(response.status, 200, "GET /atom.xml");
    common::parse_feed("/atom.xml", &response.body)
        .title
        .map(|t| t.content)
        .unwrap_or_default()
}

#[test]
fn ready_after_the_first_publish_reload_on_sighup_stopping_on_sigterm() {
    // The config file is a link to `site.toml` beside it: writing
    // `site.toml` is no event on the config's own name, so only SIGHUP
    // makes feedd read it again.
    let site = Site::with_config("");
    std::fs::remove_file(site.config()).unwrap();
    let real_config = site.root().join("config/site.toml");
    std::fs::write(&real_config, site_config("Tin tức")).unwrap();
    std::os::unix::fs::symlink("site.toml", site.config()).unwrap();
    site.write(
        "Thời sự/2026-11-05-bai-dau.txt",
        "Bài đầu tiên\n\nĐoạn một.\n",
    );

    let socket = site.root().join("notify.sock");
    let mut manager = Manager::listen(&socket);
    let mut serve = site.spawn_serve_with(&[], &[("NOTIFY_SOCKET", socket.to_str().unwrap())]);

    let ready = manager.wait_for("READY=1", &serve);
    // Nothing was on disk before: a feed answered now was published by the
    // startup scan, which therefore came first.
    assert_eq!(feed_title(&serve), "Tin tức");
    assert!(
        ready.lines().any(|l| l.starts_with("STATUS=serving ")),
        "{ready:?}"
    );
    assert!(
        manager.seen[..manager.seen.len() - 1]
            .iter()
            .all(|m| !m.contains("READY=1")),
        "READY=1 twice: {:?}",
        manager.seen
    );

    // A new title in the file, then SIGHUP: reloading, and ready again
    // once the new title is served.
    std::fs::write(&real_config, site_config("Tin tức mới")).unwrap();
    kill("-HUP", serve.pid());
    let reloading = manager.wait_for("RELOADING=1", &serve);
    assert!(
        reloading.lines().any(|l| l
            .strip_prefix("MONOTONIC_USEC=")
            .is_some_and(|usec| usec.parse::<u64>().is_ok())),
        "{reloading:?}"
    );
    manager.wait_for("READY=1", &serve);
    assert_eq!(feed_title(&serve), "Tin tức mới");
    serve.wait_for_log("the SIGHUP line", "SIGHUP: reloading the config");

    // A broken config: refused, the one in force stays, and the manager is
    // told the reload is over all the same.
    std::fs::write(&real_config, "[site\n").unwrap();
    kill("-HUP", serve.pid());
    manager.wait_for("RELOADING=1", &serve);
    manager.wait_for("READY=1", &serve);
    serve.wait_for_log("the refused config", "config not reloaded");
    assert_eq!(feed_title(&serve), "Tin tức mới");
    assert!(serve.is_running());

    let log = serve.log();
    assert_eq!(serve.terminate(), Some(0), "exit status after SIGTERM");
    let stopping = manager.wait_for("STOPPING=1", &log);
    assert!(stopping.contains("STATUS=stopping"), "{stopping:?}");
}

/// With `WatchdogSec=` in the unit, systemd sets WATCHDOG_USEC and expects
/// `WATCHDOG=1` at least that often; feedd sends it from its rebuild loop
/// at half the interval, while idle too.
#[test]
fn the_watchdog_is_kept_alive_when_asked_for() {
    let site = Site::new(SERVE_CONFIG);
    site.write("Thời sự/bai.txt", "Bài\n\nĐoạn.\n");
    let socket = site.root().join("notify.sock");
    let mut manager = Manager::listen(&socket);
    let serve = site.spawn_serve_with(
        &[],
        &[
            ("NOTIFY_SOCKET", socket.to_str().unwrap()),
            ("WATCHDOG_USEC", "200000"),
        ],
    );
    manager.wait_for("READY=1", &serve);
    for _ in 0..3 {
        manager.wait_for("WATCHDOG=1", &serve);
    }
}
