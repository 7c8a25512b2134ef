//! Real feed readers read what feedd publishes: Python's feedparser (the
//! Universal Feed Parser behind many aggregators) parses every feed of the
//! bundled sample without a single complaint and sees what was written; in
//! a served corpus with the seed article and lead images, it sees the same
//! titles, authors, links, ids, dates and images in RSS and Atom as Python's
//! json module reads in the JSON Feed (feedparser 6.0 predates JSON Feed);
//! newsboat subscribes to every feed through the served `/feeds.opml`,
//! stores every item and then revalidates with 304s.
//!
//! The readers come from Debian packages (`python3-feedparser`, `newsboat`), which
//! `.ci/run` installs and marks required with `FEEDD_REQUIRE_READERS=1`.
//! Without that variable a missing reader skips the test with a note, so
//! `cargo test` also works on a machine without them.

mod common;

use std::path::Path;
use std::process::Command;

use common::{SYSTEM_PYTHON, Site, reader_available};

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
    common::system_python(FEEDPARSER_SCRIPT, [path])
}

fn bundled_sample() -> Site {
    let site = Site::new("[categories.chinh-tri]\ntitle = \"Chính trị\"\n");
    site.add_bundled_articles();
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

/// The bundled sample (with the seed article) plus two articles with lead
/// images, one from front matter and one from its Markdown body, served.
fn served_sample_with_images(rust_log: &str) -> (Site, common::Serve) {
    let site = Site::new(&format!(
        "{}\n[categories.chinh-tri]\ntitle = \"Chính trị\"\n",
        common::SERVE_CONFIG
    ));
    site.add_bundled_articles();
    site.write(
        "Kinh tế/anh-bia.md",
        "+++\ntitle = \"Giá cà phê lập đỉnh\"\ndate = \"2026-11-28 07:00\"\nauthor = \"Thu Hà\"\nimage = \"/images/ca-phe.jpg\"\n+++\n\nGiá cà phê tăng.\n",
    );
    site.write(
        "Đời sống/anh-trong-bai.md",
        "+++\ndate = \"2026-11-28 06:00\"\n+++\n# Phố đi bộ mở rộng\n\nTừ tuần sau ![phố](anh/pho.png) mở rộng.\n",
    );
    let serve = site.serve_logging(rust_log);
    (site, serve)
}

/// What feedparser (RSS, Atom) and Python's json (JSON Feed: feedparser
/// 6.0 predates it) see of one scope's three feeds: for each format, its
/// bozo flag and every entry's id, title, link, author, published and
/// updated instants (UTC seconds) and lead image.
const AGREEMENT_SCRIPT: &str = r#"
import sys, json, calendar, datetime, feedparser
rss_path, atom_path, json_path = sys.argv[1:4]
def seconds(parsed):
    return calendar.timegm(parsed) if parsed else None
def entries(path, image_of):
    d = feedparser.parse(path)
    return {"bozo": bool(d.bozo), "error": repr(d.get("bozo_exception", "")), "version": d.version,
            "entries": [[e.get("id"), e.get("title"), e.get("link"), e.get("author"),
                         seconds(e.get("published_parsed")), seconds(e.get("updated_parsed")),
                         image_of(e)] for e in d.entries]}
def rss_image(e):
    content = [m.get("url") for m in e.get("media_content", [])]
    thumbnails = [m.get("url") for m in e.get("media_thumbnail", [])]
    assert content == thumbnails, (content, thumbnails)
    return content[0] if content else None
def atom_image(e):
    enclosures = [l.get("href") for l in e.get("links", []) if l.get("rel") == "enclosure"]
    return enclosures[0] if enclosures else None
def instant(text):
    return int(datetime.datetime.fromisoformat(text).timestamp()) if text else None
with open(json_path, encoding="utf-8") as f:
    j = json.load(f)
out = {"rss": entries(rss_path, rss_image), "atom": entries(atom_path, atom_image),
       "json": {"bozo": j.get("version") != "https://jsonfeed.org/version/1.1", "error": "", "version": j.get("version"),
                "entries": [[i.get("id"), i.get("title"), i.get("url"), (i.get("authors") or [{}])[0].get("name"),
                             instant(i.get("date_published")), instant(i.get("date_modified")), i.get("image")]
                            for i in j.get("items", [])]}}
print(json.dumps(out, ensure_ascii=False))
"#;

#[test]
fn feedparser_sees_the_same_items_in_rss_atom_and_json_feed_as_served() {
    if !reader_available(
        "feedparser",
        Command::new(SYSTEM_PYTHON).args(["-c", "import feedparser"]),
    ) {
        return;
    }
    let (site, serve) = served_sample_with_images("info");
    let opml = serve.get("/feeds.opml");
    assert_eq!(opml.status, 200);
    let scopes: Vec<String> = String::from_utf8(opml.body)
        .unwrap()
        .split("xmlUrl=\"https://news.example.vn")
        .skip(1)
        .map(|rest| rest.split("rss.xml\"").next().unwrap().to_string())
        .collect();
    assert_eq!(scopes.len(), 6, "{scopes:?}");
    let dir = tempfile::tempdir().unwrap();
    let mut images = 0;
    let mut seed_seen = false;
    for scope in &scopes {
        let mut paths = Vec::new();
        for file in ["rss.xml", "atom.xml", "feed.json"] {
            let response = serve.get(&format!("{scope}{file}"));
            assert_eq!(response.status, 200, "{scope}{file}");
            let path = dir
                .path()
                .join(format!("{}{file}", scope.replace('/', "_")));
            std::fs::write(&path, &response.body).unwrap();
            paths.push(path);
        }
        let out = common::system_python(AGREEMENT_SCRIPT, &paths);
        let seen: serde_json::Value =
            serde_json::from_str(&out).unwrap_or_else(|e| panic!("{scope}: {e}: {out}"));
        for (format, version) in [("rss", "rss20"), ("atom", "atom10")] {
            assert_eq!(
                seen[format]["bozo"], false,
                "{scope}{format}: {}",
                seen[format]["error"]
            );
            assert_eq!(seen[format]["version"], version, "{scope}{format}");
        }
        assert_eq!(seen["json"]["bozo"], false, "{scope}feed.json");
        let [rss, atom, json] =
            ["rss", "atom", "json"].map(|f| seen[f]["entries"].as_array().unwrap().clone());
        assert!(!rss.is_empty(), "{scope}");
        assert_eq!(rss.len(), atom.len(), "{scope}");
        assert_eq!(rss.len(), json.len(), "{scope}");
        for ((r, a), j) in rss.iter().zip(&atom).zip(&json) {
            // id, title, link, author, published, image: the same in all three.
            for field in [0, 1, 2, 3, 4, 6] {
                assert_eq!(r[field], a[field], "{scope}: field {field}\n{r}\n{a}");
                assert_eq!(a[field], j[field], "{scope}: field {field}\n{a}\n{j}");
            }
            // Updated: Atom and JSON Feed carry it (RSS has no such element).
            assert_eq!(a[5], j[5], "{scope}: updated\n{a}\n{j}");
            for field in 0..6 {
                assert!(!a[field].is_null(), "{scope}: a missing field in {a}");
            }
            images += usize::from(!a[6].is_null());
            seed_seen |= a[1] == "Chú trọng phát triển Đảng ở cơ sở" && a[3] == "Minh Phúc";
        }
    }
    assert!(seed_seen, "the seed article was in no feed");
    // Each image article in its category's feeds and in the site's.
    assert_eq!(images, 4);
    common::assert_served_equals_fresh_build(&site, &serve);
}

/// newsboat subscribes to every feed through the served OPML list
/// (`newsboat -i`), a reload stores every item of every feed, and later
/// reloads are answered 304 (newsboat 2.21 sends validators from the third
/// reload of a new feed on).
#[test]
fn newsboat_imports_the_opml_list_stores_every_item_and_revalidates() {
    if !reader_available("newsboat", Command::new("newsboat").arg("--version")) {
        return;
    }
    let (site, serve) = served_sample_with_images("debug");
    let home = site.root().join("newsboat");
    std::fs::create_dir_all(&home).unwrap();
    let opml = serve.get("/feeds.opml");
    assert_eq!(opml.status, 200);
    std::fs::write(home.join("feeds.opml"), &opml.body).unwrap();
    let newsboat = |args: &[&str]| {
        let out = Command::new("newsboat")
            .args(["-u", "urls", "-c", "cache.db", "-C", "/dev/null"])
            .args(args)
            .current_dir(&home)
            .env("HOME", &home)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "newsboat {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    };
    newsboat(&["-i", "feeds.opml"]);
    // The list names https://news.example.vn; the reader fetches this server.
    let urls = std::fs::read_to_string(home.join("urls")).unwrap();
    let imported: Vec<&str> = urls
        .lines()
        .filter_map(|line| line.split_whitespace().next())
        .filter(|url| url.starts_with("https://news.example.vn/"))
        .collect();
    assert_eq!(imported.len(), 6, "{urls}");
    let local = imported
        .iter()
        .map(|url| {
            url.replace(
                "https://news.example.vn",
                &format!("http://{}", serve.address),
            )
        })
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(home.join("urls"), format!("{local}\n")).unwrap();

    // Every item of every feed, as feedd serves them. newsboat keeps one
    // copy of an item that several feeds carry (same guid): the site's
    // feed repeats every category's.
    let paths: Vec<String> = imported
        .iter()
        .map(|url| {
            url.trim_start_matches("https://news.example.vn")
                .to_string()
        })
        .collect();
    let items = paths
        .iter()
        .flat_map(|path| common::parse_feed(path, &serve.get(path).body).entries)
        .map(|entry| entry.id)
        .collect::<std::collections::BTreeSet<_>>()
        .len();
    let unread = newsboat(&["-x", "reload", "print-unread"]);
    assert_eq!(
        unread.trim(),
        format!("{items} unread articles"),
        "{paths:?}"
    );

    let answers =
        |path: &str, status: u16| serve.log_count(&format!("path=\"{path}\" status={status}"));
    for _ in 0..2 {
        newsboat(&["-x", "reload"]);
    }
    for path in &paths {
        serve.wait_until(&format!("a 304 for {path}"), || answers(path, 304) >= 1);
    }
    assert_eq!(
        newsboat(&["-x", "print-unread"]).trim(),
        format!("{items} unread articles"),
        "nothing lost or doubled by the revalidations"
    );
}
