//! Real feed readers read what feedd publishes: Python's feedparser (the
//! Universal Feed Parser behind many aggregators) parses every feed of the
//! bundled sample without a single complaint and sees what was written.
//!
//! The readers come from Debian packages (`python3-feedparser`), which
//! `.ci/run` installs and marks required with `FEEDD_REQUIRE_READERS=1`.
//! Without that variable a missing reader skips the test with a note, so
//! `cargo test` also works on a machine without them.

mod common;

use std::path::Path;
use std::process::Command;

use common::{Site, reader_available};

/// Debian's python3-* packages belong to this interpreter, not to whatever
/// `python3` comes first on PATH.
const SYSTEM_PYTHON: &str = "/usr/bin/python3";

/// What feedparser makes of one feed, one line per fact, for exact comparison.
const FEEDPARSER_SCRIPT: &str = r#"
import sys, feedparser
d = feedparser.parse(sys.argv[1])
print("bozo", int(bool(d.bozo)), repr(d.get("bozo_exception", "")))
print("version", d.version)
print("title", d.feed.get("title"))
print("language", d.feed.get("language"))
for e in d.entries:
    print("entry", e.get("id"), "|", e.get("title"), "|", e.get("link"), "|", e.get("author"),
          "|", e.get("published_parsed") is not None, "|", ",".join(t.get("term") or "" for t in e.get("tags", [])))
"#;

fn feedparser(path: &Path) -> String {
    let out = Command::new(SYSTEM_PYTHON)
        .args(["-c", FEEDPARSER_SCRIPT])
        .arg(path)
        .output()
        .expect("run feedparser");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn bundled_sample() -> Site {
    let site = Site::new("[categories.chinh-tri]\ntitle = \"Chính trị\"\n");
    let sample = Path::new(env!("CARGO_MANIFEST_DIR")).join("articles");
    let status = Command::new("cp")
        .arg("-R")
        .arg(sample.join("."))
        .arg(site.articles())
        .status()
        .unwrap();
    assert!(status.success());
    site.build();
    site
}

#[test]
fn feedparser_reads_every_feed_without_complaint() {
    if !reader_available(
        "feedparser",
        Command::new(SYSTEM_PYTHON).args(["-c", "import feedparser"]),
    ) {
        return;
    }
    let site = bundled_sample();
    let feeds = site.feeds();
    assert!(feeds.len() >= 10, "{:?}", feeds.keys());
    for (url_path, parsed_by_feed_rs) in &feeds {
        if !url_path.ends_with(".xml") {
            continue;
        }
        let report = feedparser(&site.output().join(url_path.trim_start_matches('/')));
        let lines: Vec<&str> = report.lines().collect();
        assert_eq!(lines[0], "bozo 0 ''", "{url_path}:\n{report}");
        let version = if url_path.ends_with("atom.xml") {
            "atom10"
        } else {
            "rss20"
        };
        assert_eq!(lines[1], format!("version {version}"), "{url_path}");
        assert_eq!(lines[3], "language vi", "{url_path}");
        let entries: Vec<&str> = lines
            .iter()
            .filter(|l| l.starts_with("entry "))
            .copied()
            .collect();
        assert_eq!(entries.len(), parsed_by_feed_rs.entries.len(), "{url_path}");
        for (line, entry) in entries.iter().zip(&parsed_by_feed_rs.entries) {
            // Both readers agree on id, title and link, and every item has
            // an author and a parseable date.
            let fields: Vec<&str> = line["entry ".len()..].split(" | ").collect();
            assert_eq!(fields[0], entry.id, "{url_path}");
            assert_eq!(
                fields[1],
                entry.title.as_ref().unwrap().content,
                "{url_path}"
            );
            assert_eq!(fields[2], entry.links[0].href, "{url_path}");
            assert_ne!(fields[3], "None", "{url_path}: no author in {line}");
            assert_eq!(fields[4], "True", "{url_path}: no date in {line}");
            assert!(!fields[5].is_empty(), "{url_path}: no category in {line}");
        }
    }
    let politics = feedparser(&site.output().join("chinh-tri/atom.xml"));
    assert!(politics.contains("title Chính trị – Tin tức"), "{politics}");
    assert!(
        politics.contains("| Chú trọng phát triển Đảng ở cơ sở | https://news.example.vn/chinh-tri/000-dcc753fbd64ee8d5.html | Minh Phúc | True | chinh-tri"),
        "{politics}"
    );
}
