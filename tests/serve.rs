//! `feedd serve` end to end (issue 3): the real binary on a temp dir and an
//! ephemeral port on 127.0.0.1, real file events, a real HTTP client.
//! Every wait polls with a deadline; no test sleeps for a fixed time.

mod common;

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;

const DEADLINE: Duration = Duration::from_secs(10);

/// A running `feedd serve` on its own temp tree.
struct Feedd {
    root: tempfile::TempDir,
    child: Child,
    address: String,
    log: Arc<Mutex<Vec<String>>>,
    client: Client<HttpConnector, Empty<Bytes>>,
}

struct Response {
    status: StatusCode,
    headers: hyper::HeaderMap,
    body: Bytes,
}

impl Response {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    fn feed(&self) -> feed_rs::model::Feed {
        feed_rs::parser::parse(&self.body[..]).expect("served feed parses")
    }
}

/// How the daemon learns of changes: the live-edit tests run in both modes.
#[derive(Debug, Clone, Copy)]
enum Mode {
    /// inotify.
    Native,
    /// Our stat-based poller (`watch.poll_interval_ms`).
    Polling,
}

/// Generates `native::<test>` and `polling::<test>` for each `async fn <test>(Mode)`.
macro_rules! in_both_modes {
    ($($test:ident),* $(,)?) => {
        mod native {
            $(#[tokio::test]
            async fn $test() {
                super::$test(super::Mode::Native).await
            })*
        }
        mod polling {
            $(#[tokio::test]
            async fn $test() {
                super::$test(super::Mode::Polling).await
            })*
        }
    };
}

in_both_modes!(
    an_edit_is_served_with_a_new_etag_and_the_same_id_and_date,
    new_articles_deletes_and_renames_move_items_between_feeds,
    folders_created_renamed_and_deleted_whole,
    editor_saves_are_seen_once_whole,
    a_broken_edit_keeps_the_last_good_version_and_is_logged,
    a_burst_of_files_all_arrive,
    config_reload_applies_a_good_config_and_keeps_the_old_on_a_broken_one,
    twelve_edits_half_a_second_apart_all_show,
    symlinks_created_while_serving_are_not_followed,
    the_articles_folder_deleted_and_recreated_is_watched_again,
    nfc_and_nfd_spellings_while_serving_give_what_build_gives,
    an_oversized_article_is_rejected_and_the_last_good_version_stays,
    an_unreadable_folder_holds_publishing_as_build_does,
    an_articles_folder_that_is_a_symlink_is_followed,
);

fn config_text(extra: &str) -> String {
    config_text_in(Mode::Native, extra)
}

fn config_text_in(mode: Mode, extra: &str) -> String {
    let watch = match mode {
        Mode::Native => "",
        Mode::Polling => "poll_interval_ms = 50\n",
    };
    format!(
        r#"[site]
title = "Tin tức"
base_url = "https://news.example.vn"
language = "vi"
timezone = "Asia/Ho_Chi_Minh"

[paths]
articles = "articles"
output = "feeds"
state = "state"

[server]
listen = "127.0.0.1:0"
max_age = 120

[watch]
debounce_ms = 30
{watch}{extra}"#
    )
}

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

impl Feedd {
    /// A fresh tree with `articles` (relative path, text) and the daemon started on it.
    fn start(articles: &[(&str, &str)], extra_config: &str) -> Feedd {
        Feedd::start_in_mode(Mode::Native, articles, extra_config)
    }

    fn start_in_mode(mode: Mode, articles: &[(&str, &str)], extra_config: &str) -> Feedd {
        let root = tempfile::tempdir().unwrap();
        write(
            &root.path().join("feedd.toml"),
            &config_text_in(mode, extra_config),
        );
        for (path, text) in articles {
            write(&root.path().join("articles").join(path), text);
        }
        Feedd::start_in(root)
    }

    fn start_in(root: tempfile::TempDir) -> Feedd {
        Feedd::start_with(root, Command::new(env!("CARGO_BIN_EXE_feedd")))
    }

    /// Starts the daemon as a user that file permissions apply to: as root,
    /// `nobody` (via `setpriv`, on a copy of the binary it may run, with
    /// the tree given to it); otherwise the current user.
    fn start_unprivileged(mode: Mode, articles: &[(&str, &str)]) -> Feedd {
        let root = tempfile::tempdir().unwrap();
        write(&root.path().join("feedd.toml"), &config_text_in(mode, ""));
        for (path, text) in articles {
            write(&root.path().join("articles").join(path), text);
        }
        let is_root = Command::new("id").arg("-u").output().unwrap().stdout == b"0\n";
        if !is_root {
            return Feedd::start_in(root);
        }
        let binary = root.path().join("feedd");
        std::fs::copy(env!("CARGO_BIN_EXE_feedd"), &binary).unwrap();
        let status = Command::new("chown")
            .args(["-R", "nobody:nogroup"])
            .arg(root.path())
            .status()
            .unwrap();
        assert!(status.success());
        let unprivileged = || {
            let mut command = Command::new("setpriv");
            command
                .args(["--reuid=65534", "--regid=65534", "--clear-groups"])
                .arg(&binary);
            command
        };
        // Another test's child, forked while the copy was open for writing,
        // holds that file open until it execs, and the kernel refuses to
        // run a file open for writing ("Text file busy"). Once one run
        // succeeds no such child is left: the copy is closed here.
        let deadline = std::time::Instant::now() + DEADLINE;
        while !unprivileged()
            .arg("--version")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .unwrap()
            .success()
        {
            assert!(
                std::time::Instant::now() < deadline,
                "the copy of feedd never ran"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        Feedd::start_with(root, unprivileged())
    }

    fn start_with(root: tempfile::TempDir, command: Command) -> Feedd {
        let feedd = Feedd::spawn_with(root, command);
        // The feeds already on disk are served from the first moment; a fresh
        // tree has none until the startup scan is published.
        feedd.wait_for_log("the startup rebuild", "reason=\"startup\"");
        feedd
    }

    /// Starts the daemon and returns as soon as it listens.
    fn spawn_with(root: tempfile::TempDir, mut command: Command) -> Feedd {
        let mut child = command
            .args(["serve", "--config"])
            .arg(root.path().join("feedd.toml"))
            .env("RUST_LOG", "info,feedd::server=debug")
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let log = Arc::new(Mutex::new(Vec::new()));
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let stderr = child.stderr.take().unwrap();
        let lines = Arc::clone(&log);
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if let Some(rest) = line.split("listening on http://").nth(1) {
                    let _ = address_tx.send(rest.split('/').next().unwrap_or_default().to_string());
                }
                lines.lock().unwrap().push(line);
            }
        });
        let address = address_rx
            .recv_timeout(DEADLINE)
            .expect("feedd logs its listen address");
        Feedd {
            root,
            child,
            address,
            log,
            client: Client::builder(TokioExecutor::new()).build_http(),
        }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.root.path().join(relative)
    }

    fn article(&self, relative: &str) -> PathBuf {
        self.path("articles").join(relative)
    }

    async fn request(&self, method: Method, path: &str, headers: &[(&str, &str)]) -> Response {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.address));
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let call = async {
            let response = self
                .client
                .request(request.body(Empty::new()).unwrap())
                .await
                .unwrap();
            let (parts, body) = response.into_parts();
            Response {
                status: parts.status,
                headers: parts.headers,
                body: body.collect().await.unwrap().to_bytes(),
            }
        };
        tokio::time::timeout(DEADLINE, call)
            .await
            .expect("response within the deadline")
    }

    /// Polls `path` with `Accept-Encoding: gzip` until the answer is gzip.
    async fn gzip_once_compressed(&self, path: &str) -> Response {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let response = self
                .request(Method::GET, path, &[("accept-encoding", "gzip")])
                .await;
            if response.header("content-encoding") == Some("gzip") {
                return response;
            }
            assert!(Instant::now() < deadline, "{path} still not served gzipped");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    async fn get(&self, path: &str) -> Response {
        self.request(Method::GET, path, &[]).await
    }

    /// Polls `path` until `accept` holds for its response.
    async fn get_until(
        &self,
        what: &str,
        path: &str,
        accept: impl Fn(&Response) -> bool,
    ) -> Response {
        let deadline = Instant::now() + DEADLINE;
        loop {
            let response = self.get(path).await;
            if accept(&response) {
                return response;
            }
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; last: {} {}",
                response.status,
                response.text()
            );
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn log_contains(&self, needle: &str) -> bool {
        self.log
            .lock()
            .unwrap()
            .iter()
            .any(|line| line.contains(needle))
    }

    fn wait_for_log(&self, what: &str, needle: &str) {
        let deadline = Instant::now() + DEADLINE;
        while !self.log_contains(needle) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}: {needle:?}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// A fresh `feedd build` of the same articles, with the same config but
    /// its own output and state folders: its feeds by URL path.
    fn fresh_build(&self) -> BTreeMap<String, Vec<u8>> {
        let fresh = self.path("fresh");
        if fresh.exists() {
            std::fs::remove_dir_all(&fresh).unwrap();
        }
        std::fs::create_dir(&fresh).unwrap();
        let config = std::fs::read_to_string(self.path("feedd.toml"))
            .unwrap()
            .replace("output = \"feeds\"", "output = \"fresh/feeds\"")
            .replace("state = \"state\"", "state = \"fresh/state\"");
        write(&self.path("fresh.toml"), &config);
        let run = common::feedd_in(
            self.root.path(),
            [
                "build".as_ref(),
                "--config".as_ref(),
                self.path("fresh.toml").as_os_str(),
            ],
        );
        // 1: some articles were rejected, which the daemon must reject too.
        assert!(matches!(run.code, Some(0 | 1)), "{run}");
        assert!(run.stdout.contains("built "), "the build published: {run}");
        common::files_under(&fresh.join("feeds"))
    }

    /// Waits until the daemon serves, and has on disk, exactly the feeds a
    /// fresh build of the articles as they are now writes, byte for byte.
    async fn assert_serves_a_fresh_build(&self) {
        let expected = self.fresh_build();
        assert!(expected.contains_key("/rss.xml"));
        let deadline = Instant::now() + DEADLINE;
        loop {
            let on_disk = common::files_under(&self.path("feeds"));
            let mut served = BTreeMap::new();
            for url in on_disk.keys().chain(expected.keys()) {
                let response = self.get(url).await;
                if response.status == StatusCode::OK {
                    served.insert(url.clone(), response.body.to_vec());
                }
            }
            if on_disk == expected && served == expected {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "served != fresh build\nserved: {:?}\nbuilt: {:?}\nfirst difference: {}",
                served.keys().collect::<Vec<_>>(),
                expected.keys().collect::<Vec<_>>(),
                expected
                    .iter()
                    .find(|(url, bytes)| served.get(*url) != Some(bytes))
                    .map_or(String::new(), |(url, bytes)| format!(
                        "{url}\n--- built\n{}\n--- served\n{}",
                        String::from_utf8_lossy(bytes),
                        served
                            .get(url)
                            .map_or("(nothing)".into(), |b| String::from_utf8_lossy(b))
                    ))
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Sends SIGTERM and waits for the exit status.
    fn terminate(mut self) -> (std::process::ExitStatus, tempfile::TempDir) {
        let status = common::terminate(&mut self.child);
        let root = std::mem::replace(&mut self.root, tempfile::tempdir().unwrap());
        (status, root)
    }
}

impl Drop for Feedd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries
        .iter()
        .map(|e| {
            e.title
                .as_ref()
                .map(|t| t.content.clone())
                .unwrap_or_default()
        })
        .collect()
}

const A: &str = "Thời sự/2026-11-20-a.txt";
const A_TEXT: &str = "Tin A\n\nĐoạn mở đầu A.\n\nBài: Thu Hà\n";

#[tokio::test]
async fn serves_feeds_with_the_headers_of_the_spec() {
    let feedd = Feedd::start(&[(A, A_TEXT)], "");
    let rss = feedd.get("/thoi-su/rss.xml").await;
    assert_eq!(rss.status, StatusCode::OK);
    assert_eq!(
        rss.header("content-type"),
        Some("application/rss+xml; charset=utf-8")
    );
    assert_eq!(rss.header("cache-control"), Some("public, max-age=120"));
    assert_eq!(rss.header("vary"), Some("Accept-Encoding"));
    let etag = rss.header("etag").unwrap().to_string();
    let last_modified = rss.header("last-modified").unwrap().to_string();
    let modified = httpdate::parse_http_date(&last_modified).unwrap();
    let date = httpdate::parse_http_date(rss.header("date").unwrap()).unwrap();
    assert!(
        modified <= date,
        "Last-Modified {last_modified} is after Date"
    );
    assert_eq!(titles(&rss.feed()), ["Tin A"]);
    assert_eq!(
        feedd.get("/atom.xml").await.header("content-type"),
        Some("application/atom+xml; charset=utf-8")
    );

    for (validator, value) in [
        ("if-none-match", etag.as_str()),
        ("if-modified-since", last_modified.as_str()),
    ] {
        let not_modified = feedd
            .request(Method::GET, "/thoi-su/rss.xml", &[(validator, value)])
            .await;
        assert_eq!(not_modified.status, StatusCode::NOT_MODIFIED, "{validator}");
        assert!(not_modified.body.is_empty());
        assert_eq!(not_modified.header("etag"), Some(etag.as_str()));
        assert_eq!(
            not_modified.header("last-modified"),
            Some(last_modified.as_str())
        );
        assert_eq!(
            not_modified.header("cache-control"),
            Some("public, max-age=120")
        );
        assert_eq!(not_modified.header("vary"), Some("Accept-Encoding"));
    }
    let stale_tag = feedd
        .request(
            Method::GET,
            "/thoi-su/rss.xml",
            &[
                ("if-none-match", "\"other\""),
                ("if-modified-since", &last_modified),
            ],
        )
        .await;
    assert_eq!(
        stale_tag.status,
        StatusCode::OK,
        "If-None-Match wins over If-Modified-Since"
    );

    let head = feedd.request(Method::HEAD, "/thoi-su/rss.xml", &[]).await;
    assert_eq!(head.status, StatusCode::OK);
    assert!(head.body.is_empty());
    assert_eq!(head.header("etag"), Some(etag.as_str()));
    assert_eq!(
        head.header("content-length"),
        Some(rss.body.len().to_string().as_str())
    );

    let post = feedd.request(Method::POST, "/rss.xml", &[]).await;
    assert_eq!(post.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(post.header("allow"), Some("GET, HEAD"));

    // `/` and `/thoi-su/` are pages (tests/pages.rs); their files' names
    // redirect there (one URL per page).
    for (path, folder) in [("/index.html", "/"), ("/thoi-su/index.html", "/thoi-su/")] {
        let response = feedd.get(path).await;
        assert_eq!(response.status, StatusCode::MOVED_PERMANENTLY, "{path}");
        assert_eq!(response.header("location"), Some(folder), "{path}");
    }
    for path in [
        "/nope.xml",
        "/feedd.toml",
        "/../feedd.toml",
        "/%2e%2e/feedd.toml",
        "/thoi-su/..%2Frss.xml",
        "/state/articles.journal",
    ] {
        let response = feedd.get(path).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!response.text().contains("[site]"), "{path}");
    }

    let gzip = feedd
        .request(
            Method::GET,
            "/thoi-su/rss.xml",
            &[("accept-encoding", "gzip")],
        )
        .await;
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    let mut identity = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gzip.body[..]),
        &mut identity,
    )
    .unwrap();
    assert_eq!(identity, rss.body);
    let br = feedd
        .request(
            Method::GET,
            "/thoi-su/rss.xml",
            &[("accept-encoding", "br")],
        )
        .await;
    assert_eq!(br.header("content-encoding"), Some("br"));
    let mut identity = Vec::new();
    brotli::BrotliDecompress(&mut &br.body[..], &mut identity).unwrap();
    assert_eq!(identity, rss.body);
    let etags = [
        etag.as_str(),
        gzip.header("etag").unwrap(),
        br.header("etag").unwrap(),
    ];
    assert!(
        etags[0] != etags[1] && etags[1] != etags[2] && etags[0] != etags[2],
        "{etags:?}"
    );
}

async fn an_edit_is_served_with_a_new_etag_and_the_same_id_and_date(mode: Mode) {
    let feedd = Feedd::start_in_mode(mode, &[(A, A_TEXT)], "");
    let before = feedd.get("/thoi-su/atom.xml").await;
    let old_etag = before.header("etag").unwrap().to_string();
    let old_entry = before.feed().entries[0].clone();
    // Dated by its file name and not changed since feedd first saw it: the
    // file's time is when it was written to this disk, not an update.
    assert!(old_entry.published.is_some());
    assert_eq!(old_entry.updated, old_entry.published);

    // The journal keeps whole seconds: a rewrite within the second of the
    // file's first modification time is the file being written, not an edit.
    // Files are stamped from the kernel's coarse clock, up to a tick behind
    // the wall clock, hence the margin past the next second.
    let first_mtime = std::fs::metadata(feedd.article(A))
        .unwrap()
        .modified()
        .unwrap();
    let next_second = std::time::UNIX_EPOCH
        + Duration::from_secs(
            first_mtime
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_secs()
                + 1,
        )
        + Duration::from_millis(50);
    while std::time::SystemTime::now() < next_second {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    write(
        &feedd.article(A),
        "Tin A đã sửa\n\nĐoạn mở đầu mới.\n\nBài: Thu Hà\n",
    );
    let after = feedd
        .get_until("the edit", "/thoi-su/atom.xml", |r| {
            r.header("etag") != Some(old_etag.as_str())
        })
        .await;
    let entry = &after.feed().entries[0];
    assert_eq!(entry.title.as_ref().unwrap().content, "Tin A đã sửa");
    assert_eq!(entry.id, old_entry.id);
    assert_eq!(entry.published, old_entry.published);
    // An edit feedd saw is an update (today, after the file name's date).
    assert!(entry.updated > old_entry.updated, "{entry:?}");
}

async fn new_articles_deletes_and_renames_move_items_between_feeds(mode: Mode) {
    let b = "Thời sự/b.txt";
    let feedd = Feedd::start_in_mode(mode, &[(A, A_TEXT), (b, "Tin B\n\nThân bài B.\n")], "");
    assert_eq!(
        feedd.get("/the-thao/rss.xml").await.status,
        StatusCode::NOT_FOUND
    );

    // A new article in a new category folder makes that category's feeds appear.
    write(&feedd.article("Thể thao/c.txt"), "Tin C\n\nThân bài C.\n");
    let sport = feedd
        .get_until("the new category", "/the-thao/rss.xml", |r| {
            r.status == StatusCode::OK
        })
        .await;
    assert_eq!(titles(&sport.feed()), ["Tin C"]);
    assert_eq!(feedd.get("/the-thao/atom.xml").await.status, StatusCode::OK);

    // A delete removes the item.
    std::fs::remove_file(feedd.article(b)).unwrap();
    feedd
        .get_until("the delete", "/thoi-su/rss.xml", |r| {
            !titles(&r.feed()).contains(&"Tin B".to_string())
        })
        .await;

    // A rename within a category keeps the item under its new link.
    std::fs::rename(feedd.article(A), feedd.article("Thời sự/a-moi.txt")).unwrap();
    let renamed = feedd
        .get_until("the rename", "/thoi-su/rss.xml", |r| {
            r.feed().entries.iter().any(|e| {
                e.links
                    .iter()
                    .any(|l| l.href.ends_with("/thoi-su/a-moi.html"))
            })
        })
        .await;
    assert_eq!(titles(&renamed.feed()), ["Tin A"]);

    // A rename across categories moves it; the emptied category's feeds go away.
    std::fs::rename(
        feedd.article("Thời sự/a-moi.txt"),
        feedd.article("Thể thao/a-moi.txt"),
    )
    .unwrap();
    feedd
        .get_until("the emptied category", "/thoi-su/rss.xml", |r| {
            r.status == StatusCode::NOT_FOUND
        })
        .await;
    let sport = feedd
        .get_until("the moved item", "/the-thao/rss.xml", |r| {
            titles(&r.feed()).len() == 2
        })
        .await;
    assert!(titles(&sport.feed()).contains(&"Tin A".to_string()));
    assert_eq!(
        feedd.get("/thoi-su/atom.xml").await.status,
        StatusCode::NOT_FOUND
    );
    // The file goes just after the feed stops being served.
    let deadline = Instant::now() + DEADLINE;
    while feedd.path("feeds/thoi-su/rss.xml").exists() {
        assert!(
            Instant::now() < deadline,
            "the emptied category's file stays"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn folders_created_renamed_and_deleted_whole(mode: Mode) {
    let feedd = Feedd::start_in_mode(mode, &[(A, A_TEXT)], "");

    // A folder built elsewhere and moved in at once.
    let staging = feedd.path("staging/Kinh tế");
    write(&staging.join("x.txt"), "Tin X\n\nThân bài.\n");
    write(
        &staging.join("2026/y.md"),
        "+++\ntitle = \"Tin Y\"\n+++\nThân bài.\n",
    );
    std::fs::rename(&staging, feedd.article("Kinh tế")).unwrap();
    feedd
        .get_until("the moved-in folder", "/kinh-te/rss.xml", |r| {
            r.status == StatusCode::OK && r.feed().entries.len() == 2
        })
        .await;

    std::fs::rename(feedd.article("Kinh tế"), feedd.article("Economy")).unwrap();
    feedd
        .get_until("the renamed folder", "/economy/atom.xml", |r| {
            r.status == StatusCode::OK && r.feed().entries.len() == 2
        })
        .await;
    feedd
        .get_until("the old folder's feeds", "/kinh-te/rss.xml", |r| {
            r.status == StatusCode::NOT_FOUND
        })
        .await;

    std::fs::remove_dir_all(feedd.article("Economy")).unwrap();
    feedd
        .get_until("the deleted folder", "/economy/atom.xml", |r| {
            r.status == StatusCode::NOT_FOUND
        })
        .await;
    let all = feedd
        .get_until("the all feed", "/rss.xml", |r| r.feed().entries.len() == 1)
        .await;
    assert_eq!(titles(&all.feed()), ["Tin A"]);
}

async fn editor_saves_are_seen_once_whole(mode: Mode) {
    let feedd = Feedd::start_in_mode(mode, &[(A, A_TEXT)], "");
    let etag = feedd
        .get("/rss.xml")
        .await
        .header("etag")
        .unwrap()
        .to_string();

    // vim: probe file 4913, swap file, then write via a temp file renamed over the article.
    let dir = feedd.article("Thời sự");
    write(&dir.join("4913"), "");
    std::fs::remove_file(dir.join("4913")).unwrap();
    write(&dir.join(".2026-11-20-a.txt.swp"), "swap");
    write(
        &dir.join("2026-11-20-a.txt.tmp"),
        "Tin A lưu nguyên tử\n\nThân bài.\n",
    );
    std::fs::rename(dir.join("2026-11-20-a.txt.tmp"), feedd.article(A)).unwrap();
    write(&dir.join("2026-11-20-a.txt~"), A_TEXT);
    let after = feedd
        .get_until("the atomic save", "/rss.xml", |r| {
            r.header("etag") != Some(etag.as_str())
        })
        .await;
    assert_eq!(titles(&after.feed()), ["Tin A lưu nguyên tử"]);
}

async fn a_broken_edit_keeps_the_last_good_version_and_is_logged(mode: Mode) {
    let feedd = Feedd::start_in_mode(
        mode,
        &[
            (A, A_TEXT),
            ("Thời sự/b.md", "+++\ntitle = \"Tin B\"\n+++\nThân.\n"),
        ],
        "",
    );
    std::fs::write(
        feedd.article("Thời sự/b.md"),
        "+++\ntitle = \"Tin B\"\nsai = 1\n+++\nThân.\n",
    )
    .unwrap();
    feedd.wait_for_log(
        "the rejected article",
        "b.md:3:1: front matter: unknown field `sai`",
    );
    std::fs::write(feedd.article("Thời sự/c.txt"), "Tin C\n\nThân.\n").unwrap();
    let feed = feedd
        .get_until("a later good article", "/thoi-su/rss.xml", |r| {
            r.feed().entries.len() == 3
        })
        .await;
    assert!(titles(&feed.feed()).contains(&"Tin B".to_string()));
}

async fn a_burst_of_files_all_arrive(mode: Mode) {
    let feedd = Feedd::start_in_mode(mode, &[(A, A_TEXT)], "[feeds]\nlimit = 2000\n");
    let burst = feedd.path("burst");
    for i in 0..1000 {
        write(
            &burst.join(format!("Nhiều/{:03}/tin-{i}.txt", i % 50)),
            &format!("Tin số {i}\n\nThân bài {i}.\n"),
        );
    }
    std::fs::rename(burst.join("Nhiều"), feedd.article("Nhiều")).unwrap();
    for i in 1000..1500 {
        write(
            &feedd.article(&format!("Nhiều/moi/tin-{i}.txt")),
            &format!("Tin số {i}\n\nThân bài {i}.\n"),
        );
    }
    feedd
        .get_until("1500 new items", "/nhieu/rss.xml", |r| {
            r.status == StatusCode::OK && r.feed().entries.len() == 1500
        })
        .await;
}

async fn config_reload_applies_a_good_config_and_keeps_the_old_on_a_broken_one(mode: Mode) {
    let feedd = Feedd::start_in_mode(mode, &[(A, A_TEXT)], "");
    let config = feedd.path("feedd.toml");
    std::fs::write(
        &config,
        config_text_in(mode, "")
            .replace("title = \"Tin tức\"", "title = \"Báo Mới\"")
            .replace("max_age = 120", "max_age = 60"),
    )
    .unwrap();
    let reloaded = feedd
        .get_until("the new site title", "/rss.xml", |r| {
            r.feed().title.is_some_and(|t| t.content == "Báo Mới")
        })
        .await;
    assert_eq!(reloaded.header("cache-control"), Some("public, max-age=60"));

    std::fs::write(
        &config,
        "[site]\ntitle = \"Hỏng\"\nbase_url = \"not a url\"\n",
    )
    .unwrap();
    feedd.wait_for_log("the broken config", "config not reloaded");
    assert!(feedd.log_contains("feedd.toml:3:12: site.base_url must be an absolute http(s) URL"));
    // The old config stays in force: edits are still published under it.
    write(&feedd.article("Thời sự/moi.txt"), "Tin mới\n\nThân.\n");
    let feed = feedd
        .get_until("an edit after the broken config", "/rss.xml", |r| {
            r.feed().entries.len() == 2
        })
        .await;
    assert_eq!(feed.feed().title.unwrap().content, "Báo Mới");
}

#[tokio::test]
async fn a_scheduled_article_appears_when_its_time_comes() {
    let at = jiff::Timestamp::now() + jiff::SignedDuration::from_secs(3);
    let scheduled = format!(
        "+++\ntitle = \"Tin hẹn giờ\"\ndate = \"{}\"\n+++\nThân.\n",
        at.round(jiff::Unit::Second).unwrap()
    );
    let feedd = Feedd::start(&[(A, A_TEXT), ("Hẹn giờ/x.md", &scheduled)], "");
    let early = feedd.get("/rss.xml").await;
    assert_eq!(titles(&early.feed()), ["Tin A"]);
    assert_eq!(
        feedd.get("/hen-gio/rss.xml").await.status,
        StatusCode::NOT_FOUND
    );
    let feed = feedd
        .get_until("the scheduled article", "/hen-gio/rss.xml", |r| {
            r.status == StatusCode::OK
        })
        .await;
    assert!(jiff::Timestamp::now() >= at.round(jiff::Unit::Second).unwrap());
    assert_eq!(titles(&feed.feed()), ["Tin hẹn giờ"]);
    let all = feedd
        .get_until("the all feed", "/rss.xml", |r| r.feed().entries.len() == 2)
        .await;
    assert_eq!(titles(&all.feed())[1], "Tin A");
}

#[tokio::test]
async fn sigterm_exits_zero_and_a_restart_keeps_etags() {
    let feedd = Feedd::start(
        &[
            (A, A_TEXT),
            ("Kinh tế/b.md", "+++\ntitle = \"Tin B\"\n+++\nThân.\n"),
        ],
        "",
    );
    let paths = [
        "/rss.xml",
        "/atom.xml",
        "/kinh-te/rss.xml",
        "/thoi-su/atom.xml",
    ];
    let mut before = Vec::new();
    for path in paths {
        let response = feedd
            .request(Method::GET, path, &[("accept-encoding", "gzip")])
            .await;
        before.push((
            response.header("etag").unwrap().to_string(),
            response.header("last-modified").unwrap().to_string(),
        ));
    }
    let (status, root) = feedd.terminate();
    assert!(status.success(), "{status}");

    let restarted = Feedd::start_in(root);
    // The fourteen documents on disk (three scopes in three formats and
    // with a page each, the list of feeds and the pages' style sheet) were
    // loaded (and so served) before the socket was even logged, ahead of
    // the startup scan.
    assert!(
        restarted.log_contains("/ feeds=14 "),
        "{:#?}",
        restarted.log.lock().unwrap()
    );
    for (path, (etag, last_modified)) in paths.iter().zip(&before) {
        // Compressed in the background after a start.
        let response = restarted.gzip_once_compressed(path).await;
        assert_eq!(response.header("etag"), Some(etag.as_str()), "{path}");
        assert_eq!(
            response.header("last-modified"),
            Some(last_modified.as_str()),
            "{path}"
        );
    }
    for (path, (etag, _)) in paths.iter().zip(&before) {
        let response = restarted
            .request(Method::GET, path, &[("accept-encoding", "gzip")])
            .await;
        assert_eq!(
            response.header("etag"),
            Some(etag.as_str()),
            "{path} after the rescan"
        );
    }
}

/// The temporary files of a publish that a killed feedd left in the output
/// folder are gone once a restart has published, wherever they were, and
/// nothing else there is touched.
#[tokio::test]
async fn a_restart_removes_the_temporary_files_a_killed_publish_left() {
    let feedd = Feedd::start(&[(A, A_TEXT)], "");
    let (status, root) = feedd.terminate();
    assert!(status.success(), "{status}");
    let feeds = root.path().join("feeds");
    let leftovers = [
        feeds.join(".feedd-rss.xml.a1b2c3.tmp"),
        feeds.join("thoi-su/.feedd-atom.xml.d4e5f6.tmp"),
    ];
    let kept = [feeds.join(".feedd-notes.txt"), feeds.join("thoi-su/x.tmp")];
    for file in leftovers.iter().chain(&kept) {
        write(file, "half a feed");
    }
    let restarted = Feedd::start_in(root);
    for file in &leftovers {
        assert!(!file.exists(), "{} is still there", file.display());
    }
    for file in &kept {
        assert!(file.exists(), "{} was removed", file.display());
    }
    assert_eq!(restarted.get("/thoi-su/rss.xml").await.status, 200);
}

/// The feeds on disk are answered the moment feedd listens, before their
/// gzip and brotli bodies are computed (in the background, since a large
/// site's feeds take most of a second of one core): every answer, from the first one,
/// is the bytes on disk in the encoding it names, with that encoding's ETag,
/// and revalidates with it.
#[tokio::test]
async fn a_request_right_after_a_restart_gets_the_feed_on_disk_with_its_own_etag() {
    let feedd = Feedd::start(
        &[
            (A, A_TEXT),
            ("Kinh tế/b.md", "+++\ntitle = \"Tin B\"\n+++\nThân.\n"),
        ],
        "",
    );
    const ENCODINGS: [&str; 3] = ["identity", "gzip", "br"];
    let mut etags = BTreeMap::new();
    for accept in ENCODINGS {
        let response = feedd
            .request(Method::GET, "/rss.xml", &[("accept-encoding", accept)])
            .await;
        assert_eq!(
            response.header("content-encoding").unwrap_or("identity"),
            accept
        );
        etags.insert(accept, response.header("etag").unwrap().to_string());
    }
    let (status, root) = feedd.terminate();
    assert!(status.success(), "{status}");
    let on_disk = std::fs::read(root.path().join("feeds/rss.xml")).unwrap();

    let restarted = Feedd::spawn_with(root, Command::new(env!("CARGO_BIN_EXE_feedd")));
    for accept in ENCODINGS {
        let response = restarted
            .request(Method::GET, "/rss.xml", &[("accept-encoding", accept)])
            .await;
        assert_eq!(response.status, StatusCode::OK, "{accept}");
        let sent = response.header("content-encoding").unwrap_or("identity");
        assert!(
            sent == accept || sent == "identity",
            "{accept}: sent {sent}"
        );
        assert_eq!(
            decode(sent, &response.body),
            on_disk,
            "{accept}: sent {sent}"
        );
        let etag = response.header("etag").unwrap();
        assert_eq!(etag, etags[sent], "{accept}: sent {sent}");
        let revalidated = restarted
            .request(
                Method::GET,
                "/rss.xml",
                &[("accept-encoding", accept), ("if-none-match", etag)],
            )
            .await;
        // An identity answer to a gzip or br request was sent before that
        // encoding was compressed; once it is, the same request gets the
        // compressed body, whose ETag differs, and so a 200.
        let now_compressed = sent != accept
            && revalidated.status == StatusCode::OK
            && revalidated.header("content-encoding") == Some(accept);
        assert!(
            revalidated.status == StatusCode::NOT_MODIFIED || now_compressed,
            "{accept}: {}",
            revalidated.status
        );
    }
    let gzip = restarted.gzip_once_compressed("/rss.xml").await;
    assert_eq!(gzip.header("etag"), Some(etags["gzip"].as_str()));
    assert_eq!(decode("gzip", &gzip.body), on_disk);
}

fn decode(encoding: &str, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match encoding {
        "identity" => out.extend_from_slice(body),
        "gzip" => {
            std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(body), &mut out).unwrap();
        }
        "br" => {
            std::io::Read::read_to_end(&mut brotli::Decompressor::new(body, 4096), &mut out)
                .unwrap();
        }
        other => panic!("unexpected content-encoding {other}"),
    }
    out
}

/// newsboat, a real feed reader, subscribes over HTTP, sees new items, and
/// gets 304s once it sends validators (newsboat 2.21 starts doing so on the
/// third reload of a new feed).
#[tokio::test]
async fn newsboat_reads_the_served_feed_and_revalidates() {
    if !common::reader_available("newsboat", Command::new("newsboat").arg("--version")) {
        return;
    }
    let feedd = Feedd::start(&[(A, A_TEXT)], "");
    let home = feedd.path("newsboat");
    std::fs::create_dir_all(&home).unwrap();
    std::fs::write(
        home.join("urls"),
        format!("http://{}/thoi-su/atom.xml\n", feedd.address),
    )
    .unwrap();
    let reload = || {
        let out = Command::new("newsboat")
            .args([
                "-u",
                "urls",
                "-c",
                "cache.db",
                "-C",
                "/dev/null",
                "-x",
                "reload",
                "print-unread",
            ])
            .current_dir(&home)
            .env("HOME", &home)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    };
    // newsboat reads the Atom feed; the test polls the RSS one, so the
    // access log's Atom lines are newsboat's alone.
    let answers = |status: u16| {
        let needle = format!("path=\"/thoi-su/atom.xml\" status={status}");
        feedd
            .log
            .lock()
            .unwrap()
            .iter()
            .filter(|l| l.contains(&needle))
            .count()
    };
    let wait_for_answers = |status: u16, count: usize| {
        let deadline = Instant::now() + DEADLINE;
        while answers(status) < count {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {count} answers {status}"
            );
            std::thread::sleep(Duration::from_millis(5));
        }
    };
    for _ in 0..3 {
        assert_eq!(reload(), "1 unread articles");
    }
    wait_for_answers(304, 1);
    let (full_before, not_modified_before) = (answers(200), answers(304));

    let etag = feedd
        .get("/thoi-su/rss.xml")
        .await
        .header("etag")
        .unwrap()
        .to_string();
    write(&feedd.article("Thời sự/b.txt"), "Tin B\n\nThân bài B.\n");
    feedd
        .get_until("the new article", "/thoi-su/rss.xml", |r| {
            r.header("etag") != Some(etag.as_str())
        })
        .await;
    // newsboat (libcurl) drops a 200 whose Last-Modified is not later than
    // its copy's. When the edit lands in the second of the previous version,
    // feedd moves Last-Modified on as soon as that second is over, so the
    // reader sees the change within about a second.
    let deadline = Instant::now() + DEADLINE;
    while reload() != "2 unread articles" {
        assert!(
            Instant::now() < deadline,
            "newsboat never saw the new article: {:#?}",
            feedd.log.lock().unwrap()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for_answers(200, full_before + 1);
    assert_eq!(
        answers(304),
        not_modified_before,
        "a changed feed is sent in full"
    );
}

/// Runs `feedd serve` on `root` and waits for it to exit; returns (code, stderr).
fn serve_until_exit(root: &Path) -> (Option<i32>, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_feedd"))
        .args(["serve", "--config"])
        .arg(root.join("feedd.toml"))
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let deadline = Instant::now() + DEADLINE;
    while child.try_wait().unwrap().is_none() {
        assert!(Instant::now() < deadline, "feedd serve did not exit");
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn serve_refuses_a_missing_articles_folder_and_a_busy_port() {
    let root = tempfile::tempdir().unwrap();
    write(&root.path().join("feedd.toml"), &config_text(""));
    let (code, stderr) = serve_until_exit(root.path());
    assert_eq!(code, Some(1), "{stderr}");
    let articles = root.path().join("articles").display().to_string();
    assert!(
        stderr.contains(&format!(
            "{articles}: cannot watch the articles folder; check that it exists"
        )),
        "{stderr}"
    );

    std::fs::create_dir_all(root.path().join("articles")).unwrap();
    let busy = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = busy.local_addr().unwrap().port();
    let config = config_text("").replace("127.0.0.1:0", &format!("127.0.0.1:{port}"));
    write(&root.path().join("feedd.toml"), &config);
    let (code, stderr) = serve_until_exit(root.path());
    assert_eq!(code, Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "cannot listen on 127.0.0.1:{port} (server.listen)"
        )),
        "{stderr}"
    );
}

/// Issue 6, item 8: notify's PollWatcher compared whole-second mtimes, so in
/// polling mode a second write within the same second was never seen. Each
/// edit here has the same length, and each must show before the next.
async fn twelve_edits_half_a_second_apart_all_show(mode: Mode) {
    let feedd = Feedd::start_in_mode(mode, &[(A, A_TEXT)], "");
    let mut last_write = Instant::now();
    for edit in 1..=12 {
        let wait = Duration::from_millis(500).saturating_sub(last_write.elapsed());
        tokio::time::sleep(wait).await;
        let title = format!("Tin A bản {edit:02}");
        write(&feedd.article(A), &format!("{title}\n\nThân bài.\n"));
        last_write = Instant::now();
        feedd
            .get_until(&format!("edit {edit}"), "/thoi-su/rss.xml", |r| {
                titles(&r.feed()) == [title.clone()]
            })
            .await;
    }
}

/// Issue 6, item 2: `articles/vong -> articles` created while serving made
/// the daemon publish every article a second time under `vong/`, which a
/// build does not. Links are never followed, in either path.
async fn symlinks_created_while_serving_are_not_followed(mode: Mode) {
    let feedd = Feedd::start_in_mode(
        mode,
        &[(A, A_TEXT), ("Kinh tế/b.txt", "Tin B\n\nThân bài B.\n")],
        "",
    );
    let outside = feedd.path("outside");
    write(&outside.join("x.txt"), "Tin ngoài\n\nThân.\n");
    let links = [
        ("vong", feedd.article("")),
        ("ra-ngoai", outside.clone()),
        ("Kinh tế/c.txt", outside.join("x.txt")),
        ("loop", feedd.article("loop")),
    ];
    for (name, target) in &links {
        std::os::unix::fs::symlink(target, feedd.article(name)).unwrap();
    }
    for (name, _) in &links {
        feedd.wait_for_log(
            "the link reported",
            &format!(
                "{}: is a symbolic link; feedd does not follow symbolic links",
                feedd.article(name).display()
            ),
        );
    }
    // An edit inside the linked-to folder, seen once, under its real name.
    write(&feedd.article("Kinh tế/d.txt"), "Tin D\n\nThân.\n");
    feedd
        .get_until("the article after the links", "/kinh-te/rss.xml", |r| {
            titles(&r.feed()).len() == 2
        })
        .await;
    feedd.assert_serves_a_fresh_build().await;
    assert_eq!(
        feedd.get("/vong/rss.xml").await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(feedd.get("/rss.xml").await.feed().entries.len(), 3);

    // The link replaced by a real folder, and a real file by a link.
    std::fs::remove_file(feedd.article("vong")).unwrap();
    write(&feedd.article("vong/e.txt"), "Tin E\n\nThân.\n");
    std::fs::remove_file(feedd.article("Kinh tế/b.txt")).unwrap();
    std::os::unix::fs::symlink(outside.join("x.txt"), feedd.article("Kinh tế/b.txt")).unwrap();
    feedd
        .get_until("the real folder", "/vong/rss.xml", |r| {
            r.status == StatusCode::OK
        })
        .await;
    feedd.assert_serves_a_fresh_build().await;
}

/// Issue 6, item 7: the articles folder deleted and recreated lost the
/// watch. While it is gone the feeds stay (as `build` publishes nothing
/// then); once it is back it is watched and rescanned.
async fn the_articles_folder_deleted_and_recreated_is_watched_again(mode: Mode) {
    let feedd = Feedd::start_in_mode(mode, &[(A, A_TEXT)], "");
    let before = common::files_under(&feedd.path("feeds"));
    // Moved away first, so that the folder vanishes at once whatever a
    // poll or a debounce window catches.
    std::fs::rename(feedd.article(""), feedd.path("old")).unwrap();
    std::fs::remove_dir_all(feedd.path("old")).unwrap();
    feedd.wait_for_log("the warning", "the articles folder is gone");
    assert!(
        common::files_under(&feedd.path("feeds")) == before,
        "the feeds on disk changed"
    );
    assert_eq!(titles(&feedd.get("/rss.xml").await.feed()), ["Tin A"]);

    let staging = feedd.path("staging");
    write(&staging.join("Kinh tế/b.txt"), "Tin B\n\nThân bài B.\n");
    std::fs::rename(&staging, feedd.article("")).unwrap();
    feedd
        .get_until("the new folder's article", "/rss.xml", |r| {
            titles(&r.feed()) == ["Tin B"]
        })
        .await;
    // Watched again: a later edit shows.
    write(&feedd.article("Kinh tế/c.txt"), "Tin C\n\nThân.\n");
    feedd
        .get_until("an edit in the new folder", "/kinh-te/rss.xml", |r| {
            titles(&r.feed()).len() == 2
        })
        .await;
    assert_eq!(
        feedd.get("/thoi-su/rss.xml").await.status,
        StatusCode::NOT_FOUND
    );
    feedd.assert_serves_a_fresh_build().await;
}

/// Issue 6, item 7: two names that differ only as NFC/NFD used to map to one
/// article silently. The raw name that sorts first is the article, in a
/// rescan and in the incremental path alike; the other is rejected.
async fn nfc_and_nfd_spellings_while_serving_give_what_build_gives(mode: Mode) {
    use unicode_normalization::UnicodeNormalization;
    let name = "Thời sự/Giá lúa.md";
    let nfc: String = name.nfc().collect();
    let nfd: String = name.nfd().collect();
    let text = |title: &str| {
        format!(
            "+++\ntitle = \"{title}\"\ndate = \"2026-11-20T08:00:00+07:00\"\n\
             updated = \"2026-11-20T09:00:00+07:00\"\n+++\nThân.\n"
        )
    };
    let feedd = Feedd::start_in_mode(mode, &[(&nfc, &text("Tin NFC"))], "");
    write(&feedd.article(&nfd), &text("Tin NFD"));
    feedd.wait_for_log(
        "the second spelling rejected",
        &format!(
            "{}: names the same article as {} (the names differ only in Unicode normalization)",
            feedd.article(&nfc).display(),
            feedd.article(&nfd).display()
        ),
    );
    feedd
        .get_until("the first raw name's article", "/rss.xml", |r| {
            titles(&r.feed()) == ["Tin NFD"]
        })
        .await;
    feedd.assert_serves_a_fresh_build().await;
    std::fs::remove_file(feedd.article(&nfd)).unwrap();
    feedd
        .get_until("the other spelling's article", "/rss.xml", |r| {
            titles(&r.feed()) == ["Tin NFC"]
        })
        .await;
    feedd.assert_serves_a_fresh_build().await;
}

/// Issue 6, item 5: a 30 MB article was read and published whole.
async fn an_oversized_article_is_rejected_and_the_last_good_version_stays(mode: Mode) {
    let feedd = Feedd::start_in_mode(
        mode,
        &[(A, A_TEXT), ("Kinh tế/b.txt", "Tin B\n\nThân bài B.\n")],
        "[feeds]\nmax_article_bytes = 200\n",
    );
    let economy = feedd.get("/kinh-te/rss.xml").await.body;
    let long = format!("Tin A dài\n\n{}\n", "x".repeat(300));
    write(&feedd.article(A), &long);
    write(&feedd.article("Thời sự/lon.txt"), &"y".repeat(5000));
    for (path, size) in [(A, long.len()), ("Thời sự/lon.txt", 5000)] {
        feedd.wait_for_log(
            "the oversized file",
            &format!(
                "{}: the file is {size} bytes, more than feeds.max_article_bytes (200); shorten it or \
                 raise feeds.max_article_bytes in {}",
                feedd.article(path).display(),
                feedd.path("feedd.toml").display()
            ),
        );
    }
    write(&feedd.article("Thời sự/c.txt"), "Tin C\n\nThân.\n");
    let feed = feedd
        .get_until("a later article", "/thoi-su/rss.xml", |r| {
            titles(&r.feed()).len() == 2
        })
        .await;
    assert!(titles(&feed.feed()).contains(&"Tin A".to_string()));
    assert_eq!(feedd.get("/kinh-te/rss.xml").await.body, economy);
}

/// Issue 6, item 5: `build` publishes nothing while a folder cannot be read
/// (its articles would look deleted); `serve` published the other changes
/// meanwhile. Now it keeps the feeds until every folder can be read.
async fn an_unreadable_folder_holds_publishing_as_build_does(mode: Mode) {
    use std::os::unix::fs::PermissionsExt as _;
    let feedd = Feedd::start_unprivileged(
        mode,
        &[(A, A_TEXT), ("Kinh tế/b.txt", "Tin B\n\nThân bài B.\n")],
    );
    let before = common::files_under(&feedd.path("feeds"));
    let economy = feedd.article("Kinh tế");
    std::fs::set_permissions(&economy, std::fs::Permissions::from_mode(0o000)).unwrap();
    // A second change after the chmod, which native events and a poll both see.
    write(&feedd.article("Thời sự/c.txt"), "Tin C\n\nThân.\n");
    feedd.wait_for_log(
        "the unreadable folder",
        &format!("{}: cannot read this folder", economy.display()),
    );
    feedd.wait_for_log("the held publish", "the feeds stay as they are");
    assert!(
        common::files_under(&feedd.path("feeds")) == before,
        "the feeds on disk changed"
    );
    assert_eq!(titles(&feedd.get("/rss.xml").await.feed()).len(), 2);

    std::fs::set_permissions(&economy, std::fs::Permissions::from_mode(0o755)).unwrap();
    write(&feedd.article("Thời sự/d.txt"), "Tin D\n\nThân.\n");
    feedd
        .get_until(
            "every article once the folder is readable",
            "/rss.xml",
            |r| r.feed().entries.len() == 4,
        )
        .await;
    feedd.assert_serves_a_fresh_build().await;
}

/// The articles folder itself may be a symbolic link (a deploy that points
/// `articles` at a checkout): it is followed, and edits under it are seen.
async fn an_articles_folder_that_is_a_symlink_is_followed(mode: Mode) {
    let root = tempfile::tempdir().unwrap();
    write(&root.path().join("feedd.toml"), &config_text_in(mode, ""));
    write(&root.path().join("checkout").join(A), A_TEXT);
    std::os::unix::fs::symlink(root.path().join("checkout"), root.path().join("articles")).unwrap();
    let feedd = Feedd::start_in(root);
    write(&feedd.article("Kinh tế/b.txt"), "Tin B\n\nThân bài B.\n");
    feedd
        .get_until("the article written through the link", "/rss.xml", |r| {
            r.feed().entries.len() == 2
        })
        .await;
    feedd.assert_serves_a_fresh_build().await;
}
