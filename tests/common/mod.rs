//! Helpers shared by the integration tests: a temporary site (config,
//! articles, output) and the real `feedd` binary run against it.
//!
//! Each test crate uses only part of this module.
#![allow(dead_code)]

use std::collections::BTreeMap;
use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tempfile::TempDir;

/// The `[site]` and `[paths]` tables every [`Site`] starts with. Extra TOML
/// passed to [`Site::new`] follows it, so it may add any other table
/// (`[server]`, `[feeds]`, `[watch]`, `[text]`, `[categories.*]`).
pub const BASE_CONFIG: &str = r#"[site]
title = "Tin tức"
base_url = "https://news.example.vn"
description = "Tin tức mới nhất"
language = "vi"
timezone = "Asia/Ho_Chi_Minh"
author = "Ban biên tập"

[paths]
articles = "../articles"
output = "../feeds"
state = "../state"
"#;

/// A site in a temporary folder:
/// `config/feedd.toml`, `articles/`, `feeds/` (output) and `state/`.
/// The config uses relative paths, so it also checks that they resolve
/// against the config's folder.
pub struct Site {
    dir: TempDir,
    /// A command (and its arguments) that every run of feedd goes through,
    /// e.g. `setpriv` to drop capabilities; empty to run feedd directly.
    prefix: Vec<std::ffi::OsString>,
}

impl Site {
    /// [`BASE_CONFIG`] followed by `extra_toml`.
    pub fn new(extra_toml: &str) -> Site {
        Site::with_config(&format!("{BASE_CONFIG}\n{extra_toml}"))
    }

    /// A site whose config file holds exactly `config_text`.
    pub fn with_config(config_text: &str) -> Site {
        let dir = tempfile::tempdir().expect("create temp dir");
        std::fs::create_dir_all(dir.path().join("config")).unwrap();
        std::fs::create_dir_all(dir.path().join("articles")).unwrap();
        let site = Site {
            dir,
            prefix: Vec::new(),
        };
        site.write_config(config_text);
        site
    }

    /// Runs every later feedd of this site through `prefix` (a command and
    /// its arguments, feedd's own following).
    pub fn set_command_prefix(&mut self, prefix: &[&str]) {
        self.prefix = prefix.iter().map(std::ffi::OsString::from).collect();
    }

    /// A command that runs feedd (through the prefix, if any) in the site's root.
    fn feedd_command(&self) -> Command {
        let mut command = match self.prefix.split_first() {
            Some((program, args)) => {
                let mut command = Command::new(program);
                command.args(args).arg(FEEDD);
                command
            }
            None => Command::new(FEEDD),
        };
        command.current_dir(self.root());
        command
    }

    /// Replaces the config file.
    pub fn write_config(&self, config_text: &str) {
        std::fs::write(self.config(), config_text).unwrap();
    }

    /// The temporary folder holding everything.
    pub fn root(&self) -> &Path {
        self.dir.path()
    }

    /// `config/feedd.toml`.
    pub fn config(&self) -> PathBuf {
        self.root().join("config/feedd.toml")
    }

    /// `paths.articles`.
    pub fn articles(&self) -> PathBuf {
        self.root().join("articles")
    }

    /// Copies the bundled sample articles (the seed article among them)
    /// into this site's articles folder.
    pub fn add_bundled_articles(&self) {
        copy_tree(
            &Path::new(env!("CARGO_MANIFEST_DIR")).join("articles"),
            &self.articles(),
        );
    }

    /// `paths.output`.
    pub fn output(&self) -> PathBuf {
        self.root().join("feeds")
    }

    /// `paths.state`.
    pub fn state(&self) -> PathBuf {
        self.root().join("state")
    }

    /// The absolute path of an article, as feedd names it in messages.
    pub fn article(&self, relative: impl AsRef<Path>) -> PathBuf {
        self.articles().join(relative)
    }

    /// Writes an article (creating its folders) and returns its path.
    pub fn write(&self, relative: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> PathBuf {
        let path = self.article(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// Writes an article with the given modification time.
    pub fn write_at(
        &self,
        relative: impl AsRef<Path>,
        contents: impl AsRef<[u8]>,
        mtime: SystemTime,
    ) -> PathBuf {
        let path = self.write(relative, contents);
        set_mtime(&path, mtime);
        path
    }

    /// Deletes an article.
    pub fn remove(&self, relative: impl AsRef<Path>) {
        std::fs::remove_file(self.article(relative)).unwrap();
    }

    /// Runs `feedd <command> --config <config>` from the site's root folder.
    pub fn run(&self, command: &str) -> Run {
        let mut feedd = self.feedd_command();
        feedd.args([
            OsStr::new(command),
            OsStr::new("--config"),
            self.config().as_os_str(),
        ]);
        run_to_end(feedd)
    }

    /// `feedd build`, which must succeed without a message on stderr.
    pub fn build(&self) -> Run {
        let run = self.run("build");
        assert_eq!(run.code, Some(0), "feedd build failed:\n{run}");
        assert!(run.stderr.is_empty(), "feedd build wrote to stderr:\n{run}");
        run
    }

    /// Every feed under the output folder, by URL path (`/rss.xml`,
    /// `/doi-song/atom.xml`): the files but the HTML pages ([`Site::pages`]).
    pub fn files(&self) -> BTreeMap<String, Vec<u8>> {
        files_under(&self.output())
            .into_iter()
            .filter(|(url, _)| !is_page(url))
            .collect()
    }

    /// Every HTML page under the output folder, by URL path (`/`,
    /// `/doi-song/`, `/doi-song/{slug}.html`).
    pub fn pages(&self) -> BTreeMap<String, Vec<u8>> {
        files_under(&self.output())
            .into_iter()
            .filter(|(url, _)| is_page(url))
            .collect()
    }

    /// Every feed of articles (RSS, Atom, JSON Feed) under the output
    /// folder, by URL path: [`Site::files`] without the list of feeds.
    pub fn feed_files(&self) -> BTreeMap<String, Vec<u8>> {
        let mut files = self.files();
        files.retain(|url, _| is_feed(url));
        files
    }

    /// The URL path of every file under the output folder; unlike
    /// [`Site::files`], safe while a daemon replaces them.
    pub fn file_paths(&self) -> Vec<String> {
        walk(&self.output())
            .into_iter()
            .map(|(url, _)| url)
            .collect()
    }

    /// The modification time of every file under the output folder, by URL
    /// path. A file gone between the listing and its stat (a running
    /// `serve`'s temporary file, renamed into place) is left out.
    pub fn mtimes(&self) -> BTreeMap<String, SystemTime> {
        walk(&self.output())
            .into_iter()
            .filter_map(|(url, path)| match std::fs::metadata(&path) {
                Ok(meta) => Some((url, meta.modified().unwrap())),
                Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
                Err(error) => panic!("{}: {error}", path.display()),
            })
            .collect()
    }

    /// Sets the modification time of every output file to `mtime`.
    pub fn set_output_mtimes(&self, mtime: SystemTime) {
        for (_, path) in walk(&self.output()) {
            set_mtime(&path, mtime);
        }
    }

    /// The feed at `url_path`, parsed with feed-rs.
    pub fn feed(&self, url_path: &str) -> feed_rs::model::Feed {
        let path = self.output().join(file_of_url(url_path));
        let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        parse_feed(url_path, &bytes)
    }

    /// Every feed (RSS, Atom, JSON Feed) in the output folder, parsed with
    /// feed-rs, by URL path.
    pub fn feeds(&self) -> BTreeMap<String, feed_rs::model::Feed> {
        self.files()
            .iter()
            .filter(|(url, _)| is_feed(url))
            .map(|(url, bytes)| (url.clone(), parse_feed(url, bytes)))
            .collect()
    }
}

/// Whether `url_path` names a feed of articles (not the list of feeds).
pub fn is_feed(url_path: &str) -> bool {
    feedd::output::OutputPath::parse(url_path).is_some_and(|path| path.format.is_feed())
}

/// What a run of the binary did.
#[derive(Debug)]
pub struct Run {
    /// Exit code; `None` if killed by a signal.
    pub code: Option<i32>,
    /// Standard output, lossily decoded.
    pub stdout: String,
    /// Standard error, lossily decoded.
    pub stderr: String,
}

impl Run {
    /// The non-empty lines of stderr.
    pub fn stderr_lines(&self) -> Vec<&str> {
        self.stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect()
    }

    /// The stderr line about `file` (it starts with its path) that holds
    /// `needle`; panics naming both when there is none.
    pub fn error_about(&self, file: &Path, needle: &str) -> &str {
        let file = file.display().to_string();
        self.stderr_lines()
            .into_iter()
            .find(|line| line.starts_with(&file) && line.contains(needle))
            .unwrap_or_else(|| panic!("no error about {file} with {needle:?}: {self}"))
    }
}

impl std::fmt::Display for Run {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "exit: {:?}\n--- stdout\n{}--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }
}

/// The `feedd` binary Cargo built for these tests.
pub const FEEDD: &str = env!("CARGO_BIN_EXE_feedd");

/// Runs `feedd` with `args` in `cwd`, with no stdin, and waits for it
/// (killed and failed after a generous deadline, so a hang cannot stall CI).
pub fn feedd_in<I, S>(cwd: &Path, args: I) -> Run
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut command = Command::new(FEEDD);
    command.args(args).current_dir(cwd);
    run_to_end(command)
}

/// Runs `command` (a feedd) with no stdin and waits for it, like [`feedd_in`].
pub fn run_to_end(mut command: Command) -> Run {
    let mut child = command
        .env_remove("RUST_LOG")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run feedd");
    let read_all = |mut pipe: Box<dyn std::io::Read + Send>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            let _ = pipe.read_to_end(&mut bytes);
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = read_all(Box::new(child.stdout.take().unwrap()));
    let stderr = read_all(Box::new(child.stderr.take().unwrap()));
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if std::time::Instant::now() > deadline {
            let _ = child.kill();
            panic!("feedd did not finish within 60 s");
        }
        std::thread::sleep(Duration::from_millis(5));
    };
    Run {
        code: status.code(),
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}

/// Parses feed bytes with feed-rs, naming `what` on failure.
pub fn parse_feed(what: &str, bytes: &[u8]) -> feed_rs::model::Feed {
    feed_rs::parser::parse(bytes).unwrap_or_else(|e| panic!("{what} does not parse: {e}"))
}

/// Sets a file's modification time.
pub fn set_mtime(path: &Path, mtime: SystemTime) {
    let file = std::fs::File::options().write(true).open(path).unwrap();
    file.set_modified(mtime).unwrap();
}

/// A `SystemTime` from an RFC 3339 timestamp, e.g. `"2024-11-20T01:30:00Z"`.
pub fn time(rfc3339: &str) -> SystemTime {
    let ts: jiff::Timestamp = rfc3339.parse().unwrap();
    let nanos = ts.as_nanosecond();
    UNIX_EPOCH + Duration::from_nanos(u64::try_from(nanos).expect("after 1970"))
}

/// Seconds since the epoch of an RFC 3339 timestamp.
pub fn seconds(rfc3339: &str) -> i64 {
    rfc3339.parse::<jiff::Timestamp>().unwrap().as_second()
}

/// Every file under `dir` as `(url path, file)`, sorted.
fn walk(dir: &Path) -> Vec<(String, PathBuf)> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        let Ok(listing) = std::fs::read_dir(&folder) else {
            continue;
        };
        for entry in listing {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else {
                let relative = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .replace('\\', "/");
                // A folder's page is served under the folder's URL.
                let url = match relative.strip_suffix("index.html") {
                    Some(folder) if folder.is_empty() || folder.ends_with('/') => {
                        format!("/{folder}")
                    }
                    _ => format!("/{relative}"),
                };
                found.push((url, path));
            }
        }
    }
    found.sort();
    found
}

/// The file, relative to the output folder, that serves `url`: a folder's
/// URL (`/`, `/kinh-te/`) is its `index.html`.
pub fn file_of_url(url: &str) -> String {
    let relative = url.trim_start_matches('/');
    if relative.is_empty() || relative.ends_with('/') {
        format!("{relative}index.html")
    } else {
        relative.to_string()
    }
}

/// Whether the URL path is an HTML page's (front, category or article page).
pub fn is_page(url: &str) -> bool {
    url.ends_with('/') || url.ends_with(".html")
}

/// Every file under `dir` with its bytes, by URL path; a file gone between
/// the listing and its read (a running `serve`'s temporary file) is left out.
pub fn files_under(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    walk(dir)
        .into_iter()
        .filter_map(|(url, path)| match std::fs::read(&path) {
            Ok(bytes) => Some((url, bytes)),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => None,
            Err(error) => panic!("{}: {error}", path.display()),
        })
        .collect()
}

/// Whether the real reader `name` runs (`probe` succeeds). Readers are
/// Debian packages that `.ci/run` installs and requires with
/// `FEEDD_REQUIRE_READERS=1`; without that variable a missing reader skips
/// its test with a note, so `cargo test` also works on a bare machine.
/// Debian's Python, which its python3-* packages (feedparser, html5lib)
/// belong to, whatever `python3` is first on PATH.
pub const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// The standard output of `script` run by [`SYSTEM_PYTHON`] with `args`;
/// fails the test, with its standard error, unless it succeeds.
pub fn system_python<I, S>(script: &str, args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let mut python = Command::new(SYSTEM_PYTHON);
    python.args(["-c", script]).args(args);
    stdout_of_success(python, "python3")
}

/// Runs `command` to its end and checks that it succeeded (failing with
/// its stderr, named `what`); its stdout.
pub fn stdout_of_success(mut command: Command, what: &str) -> String {
    let out = command
        .output()
        .unwrap_or_else(|error| panic!("cannot run {what}: {error}"));
    assert!(
        out.status.success(),
        "{what}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn reader_available(name: &str, probe: &mut Command) -> bool {
    let works = probe.output().is_ok_and(|out| out.status.success());
    if !works {
        assert!(
            std::env::var_os("FEEDD_REQUIRE_READERS").is_none(),
            "{name} is required (FEEDD_REQUIRE_READERS is set) but does not run"
        );
        eprintln!("skipped: {name} is not installed (see README.md, Tests)");
    }
    works
}

/// How long a live test waits for the daemon before failing.
pub const SERVE_DEADLINE: Duration = Duration::from_secs(20);
/// How long `serve` may take to finish its startup rebuild.
pub const STARTUP_DEADLINE: Duration = Duration::from_secs(90);

/// `[server]` and `[watch]` for a [`Site`] that is served: an ephemeral port
/// on 127.0.0.1 and a short debounce.
pub const SERVE_CONFIG: &str = "[server]\nlisten = \"127.0.0.1:0\"\n\n[watch]\ndebounce_ms = 30\n";

/// A running `feedd serve`, killed when dropped. Its stderr is collected
/// line by line, so tests can wait for log lines.
pub struct Serve {
    child: std::process::Child,
    /// `127.0.0.1:port`.
    pub address: String,
    log: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

/// One HTTP response, read whole.
#[derive(Debug)]
pub struct HttpResponse {
    /// The status code.
    pub status: u16,
    /// Header names (lowercase) and values.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl HttpResponse {
    /// The first value of header `name` (lowercase).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

impl Site {
    /// Starts `feedd serve` on this site (whose config must listen on port 0,
    /// see [`SERVE_CONFIG`]) and waits for its startup rebuild.
    pub fn serve(&self) -> Serve {
        self.serve_logging("info")
    }

    /// [`Site::serve`] with `RUST_LOG` set to `rust_log` (`debug` logs
    /// every request with its path and status).
    pub fn serve_logging(&self, rust_log: &str) -> Serve {
        let serve = self.spawn_serve_logging(rust_log);
        // A guard against a hang, not a speed check: a debug build's first
        // rebuild of a few thousand articles on a busy machine takes a while.
        serve.wait_until_within("the startup rebuild", STARTUP_DEADLINE, || {
            serve.log_contains("reason=\"startup\"")
        });
        serve
    }

    /// Starts `feedd serve` and waits only until it listens.
    pub fn spawn_serve(&self) -> Serve {
        self.spawn_serve_logging("info")
    }

    fn spawn_serve_logging(&self, rust_log: &str) -> Serve {
        self.spawn_serve_with(&[], &[("RUST_LOG", rust_log)])
    }

    /// Starts `feedd serve` with more arguments after `--config PATH` and
    /// with more environment variables, and waits only until it listens.
    pub fn spawn_serve_with(&self, args: &[&str], envs: &[(&str, &str)]) -> Serve {
        use std::io::BufRead;
        let mut child = self
            .feedd_command()
            .args(["serve", "--config"])
            .arg(self.config())
            .args(args)
            .env("RUST_LOG", "info")
            .envs(envs.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("run feedd serve");
        let log = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let lines = std::sync::Arc::clone(&log);
        std::thread::spawn(move || {
            for line in std::io::BufReader::new(stderr)
                .lines()
                .map_while(Result::ok)
            {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = address_tx.send(rest.split('/').next().unwrap_or_default().to_string());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let address = match address_rx.recv_timeout(SERVE_DEADLINE) {
            Ok(address) => address,
            Err(_) => {
                let _ = child.kill();
                let _ = child.wait();
                panic!(
                    "feedd serve did not log its address; log:\n{}",
                    log.lock().unwrap().join("\n")
                );
            }
        };
        Serve {
            child,
            address,
            log,
        }
    }

    /// Runs `feedd build` of this site's articles into `output` with its own
    /// empty state folder `state`, as a second config beside the first.
    pub fn fresh_build(&self, output: &Path, state: &Path) -> Run {
        let config = std::fs::read_to_string(self.config()).unwrap();
        let articles = self.articles();
        let config: String = config
            .lines()
            .map(|line| {
                let key = line.split('=').next().unwrap_or_default().trim();
                match key {
                    "articles" => format!("articles = {:?}", articles.display().to_string()),
                    "output" => format!("output = {:?}", output.display().to_string()),
                    "state" => format!("state = {:?}", state.display().to_string()),
                    _ => line.to_string(),
                }
            })
            .map(|line| line + "\n")
            .collect();
        let path = self.root().join("config/fresh.toml");
        std::fs::write(&path, config).unwrap();
        let mut feedd = self.feedd_command();
        feedd.args([
            OsStr::new("build"),
            OsStr::new("--config"),
            path.as_os_str(),
        ]);
        run_to_end(feedd)
    }
}

impl Serve {
    /// A GET of `path` with `headers`, over a new connection.
    pub fn request(&self, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
        http_get(&self.address, path, headers)
    }

    /// A GET of `path`.
    pub fn get(&self, path: &str) -> HttpResponse {
        self.request(path, &[])
    }

    /// Every line logged so far.
    pub fn log(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Whether a logged line contains `needle`.
    pub fn log_contains(&self, needle: &str) -> bool {
        self.log.lock().unwrap().iter().any(|l| l.contains(needle))
    }

    /// How many logged lines contain `needle`.
    pub fn log_count(&self, needle: &str) -> usize {
        self.log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(needle))
            .count()
    }

    /// Waits until a logged line contains `needle`; the first such line.
    pub fn wait_for_line(&self, what: &str, needle: &str) -> String {
        self.wait_for_log(what, needle);
        self.log()
            .into_iter()
            .find(|line| line.contains(needle))
            .unwrap_or_default()
    }

    /// Waits until a logged line contains `needle`.
    pub fn wait_for_log(&self, what: &str, needle: &str) {
        self.wait_until(what, || self.log_contains(needle));
    }

    /// Polls `done` until it holds, failing with the log after the deadline.
    pub fn wait_until(&self, what: &str, done: impl FnMut() -> bool) {
        self.wait_until_within(what, SERVE_DEADLINE, done);
    }

    /// [`Serve::wait_until`] with another deadline, for slow work.
    pub fn wait_until_within(&self, what: &str, within: Duration, mut done: impl FnMut() -> bool) {
        let deadline = std::time::Instant::now() + within;
        while !done() {
            assert!(
                std::time::Instant::now() < deadline,
                "timed out waiting for {what}; log:\n{}",
                self.log().join("\n")
            );
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Whether the process is still running.
    pub fn is_running(&mut self) -> bool {
        self.child.try_wait().unwrap().is_none()
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The body of every URL path in `paths` that answers 200.
    pub fn served(&self, paths: impl IntoIterator<Item = String>) -> BTreeMap<String, Vec<u8>> {
        paths
            .into_iter()
            .filter_map(|path| {
                let response = self.get(&path);
                (response.status == 200).then_some((path, response.body))
            })
            .collect()
    }

    /// Sends SIGKILL and waits for the process to be gone.
    pub fn kill(mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Sends SIGTERM and returns the exit code.
    pub fn terminate(mut self) -> Option<i32> {
        terminate(&mut self.child).code()
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A plain HTTP/1.1 GET to `address` (`127.0.0.1:port`) with
/// `Connection: close`, read to the end.
pub fn http_get(address: &str, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    http_send(address, "GET", path, headers)
}

/// A request with `method` and no body, as [`http_get`] sends it.
pub fn http_request(address: &str, method: &str, path: &str) -> HttpResponse {
    http_send(address, method, path, &[])
}

fn http_send(address: &str, method: &str, path: &str, headers: &[(&str, &str)]) -> HttpResponse {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(address)
        .unwrap_or_else(|e| panic!("connect to {address}: {e}"));
    stream.set_read_timeout(Some(SERVE_DEADLINE)).unwrap();
    let mut request =
        format!("{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n");
    for (name, value) in headers {
        request.push_str(&format!("{name}: {value}\r\n"));
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).unwrap();
    let mut raw = Vec::new();
    stream
        .read_to_end(&mut raw)
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let split = raw
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or_else(|| panic!("GET {path}: no end of head in {raw:?}"));
    let head = String::from_utf8_lossy(&raw[..split]).into_owned();
    let mut lines = head.split("\r\n");
    let status = lines
        .next()
        .and_then(|l| l.split(' ').nth(1))
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("GET {path}: bad status line in {head:?}"));
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    HttpResponse {
        status,
        headers,
        body: raw[split + 4..].to_vec(),
    }
}

/// Asserts that what `serve` answers, and what it has written to the output
/// folder, both equal a fresh `feedd build` of the same articles with the
/// same journal (which alone knows when an article was first seen and last
/// edited): the same URL paths, byte for byte. Polls until the deadline
/// first, since the daemon may still be publishing. Returns the fresh
/// build's feeds.
pub fn assert_served_equals_fresh_build(site: &Site, serve: &Serve) -> BTreeMap<String, Vec<u8>> {
    let fresh = tempfile::tempdir().unwrap();
    let deadline = std::time::Instant::now() + SERVE_DEADLINE;
    loop {
        let output = fresh.path().join("feeds");
        let _ = std::fs::remove_dir_all(&output);
        let state = fresh.path().join("state");
        let _ = std::fs::remove_dir_all(&state);
        std::fs::create_dir_all(&state).unwrap();
        // Absent before the daemon has seen any article; a line it is still
        // appending is a torn line, which the build skips as a crash leaves it.
        let _ = std::fs::copy(
            site.state().join("articles.journal"),
            state.join("articles.journal"),
        );
        site.fresh_build(&output, &state);
        let expected = files_under(&output);
        let on_disk = feeds_on_disk(site);
        let mut paths: std::collections::BTreeSet<String> = expected.keys().cloned().collect();
        // Every file there, temporary ones too: none but the feeds may answer.
        paths.extend(site.file_paths());
        let served = serve.served(paths);
        let difference = feeds_difference(&served, &expected, "served", "fresh build")
            .or_else(|| feeds_difference(&on_disk, &expected, "on disk", "fresh build"));
        let Some(difference) = difference else {
            return expected;
        };
        if std::time::Instant::now() > deadline {
            panic!("{difference}\n--- log\n{}", serve.log().join("\n"));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Panics, naming the first difference as text, unless `a` and `b` hold the
/// same feeds.
pub fn assert_same_feeds(
    a: &BTreeMap<String, Vec<u8>>,
    b: &BTreeMap<String, Vec<u8>>,
    a_name: &str,
    b_name: &str,
) {
    if let Some(difference) = feeds_difference(a, b, a_name, b_name) {
        panic!("{difference}");
    }
}

/// Where `a` and `b` differ, with the first differing feed of each as text;
/// `None` when they hold the same feeds.
fn feeds_difference(
    a: &BTreeMap<String, Vec<u8>>,
    b: &BTreeMap<String, Vec<u8>>,
    a_name: &str,
    b_name: &str,
) -> Option<String> {
    let differing: std::collections::BTreeSet<&String> = a
        .keys()
        .chain(b.keys())
        .filter(|url| a.get(*url) != b.get(*url))
        .collect();
    let url = *differing.first()?;
    let text = |m: &BTreeMap<String, Vec<u8>>| {
        m.get(url).map_or("(none)".to_string(), |b| {
            String::from_utf8_lossy(b).into_owned()
        })
    };
    Some(format!(
        "{a_name} and {b_name} differ at {differing:?}\n--- {a_name} {url}\n{}\n--- {b_name} {url}\n{}",
        text(a),
        text(b)
    ))
}

/// Every feed file and page in the output folder (not temporary files, nor
/// anything else a test put there), by URL path. Safe while a daemon replaces them:
/// a file gone between listing and reading is left out.
pub fn feeds_on_disk(site: &Site) -> BTreeMap<String, Vec<u8>> {
    site.file_paths()
        .into_iter()
        .filter(|url| {
            feedd::output::OutputPath::parse(url).is_some()
                || feedd::output::ArchivePage::parse(url).is_some()
                || is_page(url)
        })
        .filter_map(|url| {
            let bytes = std::fs::read(site.output().join(file_of_url(&url))).ok()?;
            Some((url, bytes))
        })
        .collect()
}

/// Copies the folder `from` to `to`, recursively (files and folders only).
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy_tree(&entry.path(), &target);
        } else {
            std::fs::copy(entry.path(), &target).unwrap();
        }
    }
}

/// Feeds the HTTP tests put in an output folder by hand, so that what the
/// server answers depends on no article parsing.
pub const RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Tin tức</title><link>https://news.example.vn/</link>
<description>Tin tức mới nhất</description>
<item><title>Một</title><link>https://news.example.vn/a.html</link><guid>https://news.example.vn/a.html</guid></item>
</channel></rss>
"#;
pub const ATOM: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Tin tức</title><id>urn:feedd:all</id>
<updated>2024-05-01T08:00:00Z</updated><author><name>Ban biên tập</name></author>
<entry><title>Một</title><id>urn:feedd:a</id><updated>2024-05-01T08:00:00Z</updated></entry>
</feed>
"#;
/// Content of a file next to the output folder that must never be served.
pub const SECRET: &str = "TOP-SECRET-DO-NOT-SERVE";

/// Sends SIGTERM to `child` and waits, with a deadline, for it to exit.
pub fn terminate(child: &mut std::process::Child) -> std::process::ExitStatus {
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success(), "kill -TERM {}", child.id());
    let deadline = std::time::Instant::now() + SERVE_DEADLINE;
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            return status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "feedd did not exit after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
}
