//! History (RFC 5005): a scope with more than `feeds.limit` articles gets
//! archive pages of its RSS and Atom feeds, fixed pages counted from the
//! oldest article, linked from the main feed, parsed by real readers,
//! kept current by `serve` one page at a time, and served like the feeds.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::process::Command;

use common::{Site, assert_served_equals_fresh_build, parse_feed, reader_available};

/// Three articles a page: eleven articles make three archive pages (the
/// oldest nine) and a main feed of the newest three (one overlapping the
/// newest page).
const CONFIG: &str = "[feeds]\nlimit = 3\n";

fn config() -> String {
    format!("{CONFIG}\n{}", common::SERVE_CONFIG)
}

fn article(n: u32) -> String {
    format!(
        "+++\ntitle = \"Bài số {n}\"\ndate = \"2026-01-{n:02} 08:00\"\nupdated = \"2026-01-{n:02} 09:{n:02}\"\n+++\nNội dung bài {n}.\n"
    )
}

fn site_with(count: u32) -> Site {
    let site = Site::new(&config());
    for n in 1..=count {
        site.write(format!("Kinh tế/bai-{n}.md"), article(n));
    }
    site
}

fn archive_files(site: &Site) -> BTreeMap<String, Vec<u8>> {
    site.files()
        .into_iter()
        .filter(|(url, _)| feedd::output::ArchivePage::parse(url).is_some())
        .collect()
}

/// The `rel` links of a feed-rs feed, as `rel -> href`.
fn links(feed: &feed_rs::model::Feed) -> BTreeMap<String, String> {
    feed.links
        .iter()
        .filter_map(|link| Some((link.rel.clone()?, link.href.clone())))
        .collect()
}

fn local(url: &str) -> &str {
    url.strip_prefix("https://news.example.vn").unwrap()
}

/// Follows `rel="next"` from `start` to the oldest page: the titles of
/// each document, in order.
fn walk(site: &Site, start: &str, read: impl Fn(&str) -> Vec<u8>) -> Vec<(String, Vec<String>)> {
    let mut url = start.to_string();
    let mut documents = Vec::new();
    loop {
        let feed = parse_feed(&url, &read(&url));
        let titles = feed
            .entries
            .iter()
            .map(|entry| entry.title.as_ref().unwrap().content.clone())
            .collect();
        documents.push((url.clone(), titles));
        assert!(documents.len() < 20, "a loop of next links: {documents:?}");
        match links(&feed).get("next") {
            Some(next) => url = local(next).to_string(),
            None => break,
        }
    }
    let _ = site;
    documents
}

fn titles(range: std::ops::RangeInclusive<u32>) -> Vec<String> {
    range.rev().map(|n| format!("Bài số {n}")).collect()
}

#[test]
fn walking_next_links_from_the_main_feed_reaches_every_article_in_fixed_pages() {
    let site = site_with(11);
    site.build();
    for start in [
        "/kinh-te/atom.xml",
        "/kinh-te/rss.xml",
        "/atom.xml",
        "/rss.xml",
    ] {
        let documents = walk(&site, start, |url| {
            std::fs::read(site.output().join(url.trim_start_matches('/'))).unwrap()
        });
        let stem = start.trim_end_matches(".xml");
        let urls: Vec<&str> = documents.iter().map(|(url, _)| url.as_str()).collect();
        assert_eq!(
            urls,
            [
                start.to_string(),
                format!("{stem}-3.xml"),
                format!("{stem}-2.xml"),
                format!("{stem}-1.xml")
            ]
        );
        // Pages counted from the oldest: 1-3, 4-6, 7-9; the main feed has
        // the newest three, so only article 9 is in two documents.
        let pages: Vec<&Vec<String>> = documents.iter().map(|(_, t)| t).collect();
        assert_eq!(*pages[0], titles(9..=11));
        assert_eq!(*pages[1], titles(7..=9));
        assert_eq!(*pages[2], titles(4..=6));
        assert_eq!(*pages[3], titles(1..=3));
        let archived: Vec<&String> = pages[1..].iter().flat_map(|t| t.iter()).collect();
        let unique: BTreeSet<&String> = archived.iter().copied().collect();
        assert_eq!(
            unique.len(),
            archived.len(),
            "an article on two archive pages"
        );
        let all: BTreeSet<&String> = pages.iter().flat_map(|t| t.iter()).collect();
        assert_eq!(all.len(), 11, "every article, once: {all:?}");
    }
    // The other links of a page, and the archive marker.
    let page = site.feed("/kinh-te/atom-2.xml");
    let links = links(&page);
    let at = |rel: &str| local(&links[rel]).to_string();
    assert_eq!(at("self"), "/kinh-te/atom-2.xml");
    assert_eq!(at("current"), "/kinh-te/atom.xml");
    assert_eq!(at("first"), "/kinh-te/atom.xml");
    assert_eq!(at("last"), "/kinh-te/atom-1.xml");
    assert_eq!(at("previous"), "/kinh-te/atom-3.xml");
    assert_eq!(at("next"), "/kinh-te/atom-1.xml");
    assert_eq!(at("prev-archive"), "/kinh-te/atom-1.xml");
    assert_eq!(at("next-archive"), "/kinh-te/atom-3.xml");
    let raw = String::from_utf8(site.files()["/kinh-te/rss-2.xml"].clone()).unwrap();
    assert!(raw.contains("<fh:archive"), "{raw}");
    assert!(raw.contains("xmlns:fh=\"http://purl.org/syndication/history/1.0\""));
    // Every archive file parses, and nothing but the pages exists.
    let files = archive_files(&site);
    let names: Vec<&str> = files.keys().map(String::as_str).collect();
    assert_eq!(
        names,
        [
            "/atom-1.xml",
            "/atom-2.xml",
            "/atom-3.xml",
            "/kinh-te/atom-1.xml",
            "/kinh-te/atom-2.xml",
            "/kinh-te/atom-3.xml",
            "/kinh-te/rss-1.xml",
            "/kinh-te/rss-2.xml",
            "/kinh-te/rss-3.xml",
            "/rss-1.xml",
            "/rss-2.xml",
            "/rss-3.xml"
        ]
    );
    for (url, bytes) in &files {
        parse_feed(url, bytes);
    }
}

#[test]
fn a_scope_within_the_limit_has_no_pages_and_no_history_links() {
    let site = site_with(3);
    site.build();
    assert!(archive_files(&site).is_empty());
    let raw = String::from_utf8(site.files()["/kinh-te/atom.xml"].clone()).unwrap();
    assert!(!raw.contains("rel=\"next\""), "{raw}");
}

#[test]
fn a_new_article_leaves_every_archive_page_byte_identical() {
    let site = site_with(11);
    site.build();
    let before = archive_files(&site);
    let mtimes = site.mtimes();
    site.write("Kinh tế/bai-12.md", article(12));
    site.build();
    assert_eq!(archive_files(&site), before);
    let after = site.mtimes();
    for url in before.keys() {
        assert_eq!(after[url], mtimes[url], "{url} was rewritten");
    }
    // The main feed moved on.
    let main = site.feed("/kinh-te/atom.xml");
    assert_eq!(main.entries[0].title.as_ref().unwrap().content, "Bài số 12");
}

#[test]
fn fewer_articles_or_a_larger_limit_remove_the_pages_no_longer_there() {
    let site = site_with(11);
    site.build();
    site.remove("Kinh tế/bai-11.md");
    site.remove("Kinh tế/bai-10.md");
    site.build();
    // Nine articles: two full pages leave the main feed its three.
    assert!(
        archive_files(&site)
            .keys()
            .all(|url| !url.contains("-3.xml"))
    );
    assert!(archive_files(&site).contains_key("/kinh-te/atom-2.xml"));
    site.write_config(&format!(
        "{}\n[feeds]\nlimit = 50\n\n{}",
        common::BASE_CONFIG,
        common::SERVE_CONFIG
    ));
    site.build();
    assert!(
        archive_files(&site).is_empty(),
        "{:?}",
        archive_files(&site).keys()
    );
    let raw = String::from_utf8(site.files()["/kinh-te/rss.xml"].clone()).unwrap();
    assert!(!raw.contains("rel=\"next\""));
}

#[test]
fn an_archive_page_that_cannot_be_written_fails_the_build_and_names_the_file() {
    let site = site_with(11);
    // As root permission bits would not stop the write: a folder where the
    // page's file goes makes its rename fail.
    std::fs::create_dir_all(site.output().join("kinh-te/atom-2.xml/inside")).unwrap();
    let run = site.run("build");
    assert_ne!(run.code, Some(0), "{}", run.stderr);
    assert!(
        run.stderr.contains("atom-2.xml") && run.stderr.contains("cannot write"),
        "{}",
        run.stderr
    );
    // The other pages and the feeds are written all the same.
    assert!(archive_files(&site).contains_key("/kinh-te/rss-2.xml"));
    assert!(site.files().contains_key("/kinh-te/atom.xml"));
}

#[test]
fn feedparser_reads_every_archive_page_without_complaint() {
    if !reader_available(
        "feedparser",
        Command::new(common::SYSTEM_PYTHON).args(["-c", "import feedparser"]),
    ) {
        return;
    }
    let site = site_with(11);
    site.build();
    let script = r#"
import sys, feedparser
for path in sys.argv[1:]:
    d = feedparser.parse(path)
    rels = sorted(l.get("rel") for l in d.feed.get("links", []))
    print(path.split("/feeds/")[1], int(bool(d.bozo)), repr(d.get("bozo_exception", "")), len(d.entries), ",".join(rels))
"#;
    let files: Vec<String> = archive_files(&site)
        .keys()
        .map(|url| {
            site.output()
                .join(url.trim_start_matches('/'))
                .display()
                .to_string()
        })
        .collect();
    let report = common::system_python(script, &files);
    assert_eq!(report.lines().count(), 12, "{report}");
    for line in report.lines() {
        let fields: Vec<&str> = line.split(' ').collect();
        assert_eq!(fields[1], "0", "bozo: {line}");
        assert_eq!(fields[3], "3", "{line}");
        assert!(
            fields[4].contains("current") && fields[4].contains("last"),
            "{line}"
        );
    }
}

#[test]
fn serve_keeps_pages_current_one_page_at_a_time_and_serves_them_like_feeds() {
    let site = site_with(11);
    let serve = site.serve_logging("info");
    assert_served_equals_fresh_build(&site, &serve);

    // Served with the feed's type and validators; a page no new article
    // can change is cached for a day, the newest one like the feeds.
    let sealed = serve.get("/kinh-te/atom-1.xml");
    assert_eq!(sealed.status, 200);
    assert_eq!(
        sealed.header("content-type"),
        Some("application/atom+xml; charset=utf-8")
    );
    assert_eq!(
        sealed.header("cache-control"),
        Some("public, max-age=86400")
    );
    let newest = serve.get("/kinh-te/rss-3.xml");
    assert_eq!(newest.header("cache-control"), Some("public, max-age=300"));
    let etag = sealed.header("etag").unwrap().to_string();
    let again = serve.request("/kinh-te/atom-1.xml", &[("If-None-Match", &etag)]);
    assert_eq!(again.status, 304);
    let gzip = serve.request("/kinh-te/atom-1.xml", &[("Accept-Encoding", "gzip")]);
    assert_eq!(gzip.header("content-encoding"), Some("gzip"));
    assert_eq!(serve.get("/kinh-te/atom-4.xml").status, 404);
    assert_eq!(serve.get("/kinh-te/atom-01.xml").status, 404);

    // An edit of an old article renders its page (in the category and in
    // the site's history) and no other.
    let before = serve.get("/kinh-te/atom-1.xml").body;
    let rebuilds = serve.log_count("reason=\"edit\"");
    site.write(
        "Kinh tế/bai-2.md",
        article(2).replace("Nội dung bài 2.", "Nội dung mới."),
    );
    serve.wait_until("the edit's rebuild", || {
        serve.log_count("reason=\"edit\"") > rebuilds
    });
    let line = serve
        .log()
        .into_iter()
        .rev()
        .find(|line| line.contains("reason=\"edit\""))
        .unwrap();
    assert!(line.contains("archive_pages_rendered=2"), "{line}");
    assert_ne!(serve.get("/kinh-te/atom-1.xml").body, before);
    assert_served_equals_fresh_build(&site, &serve);

    // Removing articles removes the pages the scope no longer has.
    site.remove("Kinh tế/bai-11.md");
    site.remove("Kinh tế/bai-10.md");
    serve.wait_until("the third page to go", || {
        serve.get("/kinh-te/atom-3.xml").status == 404
    });
    assert!(!site.output().join("kinh-te/rss-3.xml").exists());
    assert_eq!(
        serve.get("/kinh-te/atom-2.xml").header("cache-control"),
        Some("public, max-age=300"),
        "now the newest page"
    );
    assert_served_equals_fresh_build(&site, &serve);

    // New articles that make a new page give the page before it, newest
    // until then, its link to the new one.
    for n in 10..=12 {
        site.write(format!("Kinh tế/bai-{n}.md"), article(n));
    }
    serve.wait_until("the new third page", || {
        serve.get("/kinh-te/atom-3.xml").status == 200
    });
    assert_served_equals_fresh_build(&site, &serve);
    let second = String::from_utf8(serve.get("/kinh-te/atom-2.xml").body).unwrap();
    assert!(second.contains("atom-3.xml"), "{second}");
}

/// The log line of the newest rebuild for an edit, once there is one more than `before`.
fn next_edit_line(serve: &common::Serve, before: usize) -> String {
    serve.wait_until("the edit's rebuild", || {
        serve.log_count("reason=\"edit\"") > before
    });
    serve
        .log()
        .into_iter()
        .rev()
        .find(|line| line.contains("reason=\"edit\""))
        .unwrap()
}

#[test]
fn an_edit_looks_only_at_the_pages_it_can_reach_and_serve_still_equals_a_build() {
    let site = site_with(11);
    let serve = site.serve_logging("info");
    assert_served_equals_fresh_build(&site, &serve);

    // The newest article: only the newest page of the category and of
    // the site is looked at (their links depend on the page count).
    let edits = serve.log_count("reason=\"edit\"");
    site.write(
        "Kinh tế/bai-11.md",
        article(11).replace("Nội dung bài 11.", "Nội dung mới."),
    );
    let line = next_edit_line(&serve, edits);
    assert!(line.contains("archive_pages_checked=2"), "{line}");
    assert_served_equals_fresh_build(&site, &serve);

    // A back-dated article moves every article after it to the next
    // place: every page from the first one changes.
    let edits = serve.log_count("reason=\"edit\"");
    site.write(
        "Kinh tế/bai-0.md",
        "+++\ntitle = \"Bài số 0\"\ndate = \"2025-12-31 08:00\"\n+++\nNội dung bài 0.\n",
    );
    let line = next_edit_line(&serve, edits);
    assert!(line.contains("archive_pages_checked=6"), "{line}");
    assert_served_equals_fresh_build(&site, &serve);

    // A new article that spells the category another way can change the
    // name every page shows for it.
    let edits = serve.log_count("reason=\"edit\"");
    site.write(
        "Kinh tế/bai-12.md",
        "+++\ntitle = \"Bài số 12\"\ndate = \"2026-01-12 08:00\"\ncategory = \"Kinh Tế\"\n+++\nNội dung bài 12.\n",
    );
    let line = next_edit_line(&serve, edits);
    // Thirteen articles: four pages in each of the two scopes.
    assert!(line.contains("archive_pages_checked=8"), "{line}");
    assert_served_equals_fresh_build(&site, &serve);
}

#[test]
fn a_restart_renders_no_page_already_on_disk() {
    let site = site_with(11);
    site.build();
    let serve = site.serve_logging("info");
    let line = serve.wait_for_line("the startup rebuild's line", "reason=\"startup\"");
    assert!(line.contains("archive_pages_rendered=0"), "{line}");
    // A page deleted behind feedd's back is rendered again at the next start.
    drop(serve);
    std::fs::remove_file(site.output().join("kinh-te/atom-2.xml")).unwrap();
    let serve = site.serve_logging("info");
    let line = serve.wait_for_line("the startup rebuild's line", "reason=\"startup\"");
    assert!(line.contains("archive_pages_rendered=1"), "{line}");
    assert_served_equals_fresh_build(&site, &serve);
}

#[test]
fn a_start_without_state_renders_missing_archive_pages_first_and_checks_the_rest_after() {
    let site = site_with(11);
    site.build();
    std::fs::remove_dir_all(site.state()).unwrap();
    std::fs::remove_file(site.output().join("kinh-te/atom-2.xml")).unwrap();
    let damaged = site.output().join("kinh-te/rss-1.xml");
    std::fs::write(&damaged, "stale").unwrap();
    let serve = site.serve_logging("info");
    let startup = serve.wait_for_line("the startup rebuild's line", "reason=\"startup\"");
    // Only the missing page's scope and number, in both formats.
    assert!(startup.contains("archive_pages_rendered=1 "), "{startup}");
    assert_eq!(serve.get("/kinh-te/atom-2.xml").status, 200);
    let check = serve.wait_for_line("the check of every page", "every page on disk checked");
    assert!(check.contains("archive_pages_changed=1 "), "{check}");
    assert_ne!(std::fs::read(&damaged).unwrap(), b"stale");
    assert_served_equals_fresh_build(&site, &serve);
}

#[test]
fn edits_during_the_check_of_every_page_are_published_without_waiting_for_it() {
    // Enough pages that a debug build checks them for a second or more:
    // 3,000 article pages and 2,000 archive pages in two formats.
    let site = Site::new(&config());
    for n in 0..3000u32 {
        let (day, hour, minute) = (1 + n / 1440, n / 60 % 24, n % 60);
        site.write(
            format!("Kinh tế/bai-{n}.md"),
            format!(
                "+++\ntitle = \"Bài số {n}\"\ndate = \"2026-01-{day:02} {hour:02}:{minute:02}\"\n+++\nNội dung bài {n}.\n"
            ),
        );
    }
    site.build();
    // No record of what the pages on disk were rendered with.
    std::fs::remove_dir_all(site.state()).unwrap();
    let serve = site.serve_logging("info");
    let edit = |n: u32| {
        site.write(
            format!("Kinh tế/moi-{n}.md"),
            format!("+++\ntitle = \"Bài mới {n}\"\ndate = \"2026-02-0{n} 08:00\"\n+++\nMới.\n"),
        );
        serve.wait_until("the new article in the feed", || {
            String::from_utf8_lossy(&serve.get("/kinh-te/rss.xml").body)
                .contains(&format!("Bài mới {n}"))
        });
    };
    // Made before the check begins: published before it.
    edit(1);
    // Made while it runs: it stops for the edit, then goes on.
    edit(2);
    serve.wait_for_log("the check of every page", "every page on disk checked");
    let log = serve.log();
    let position = |needle: &str| {
        log.iter()
            .position(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no {needle:?} in the log:\n{}", log.join("\n")))
    };
    let first_edit = position("reason=\"edit\"");
    let stopped = position("stopped for what waits");
    let second_edit = first_edit
        + 1
        + log[first_edit + 1..]
            .iter()
            .position(|line| line.contains("reason=\"edit\""))
            .expect("the second edit's rebuild");
    let checked = position("every page on disk checked");
    assert!(
        first_edit < stopped && stopped < second_edit && second_edit < checked,
        "{}",
        log.join("\n")
    );
    assert_served_equals_fresh_build(&site, &serve);
}

#[test]
fn a_page_served_from_its_file_is_compressed_once_for_many_requests() {
    let site = site_with(11);
    let serve = site.serve();
    let compressions = || {
        let metrics = String::from_utf8(serve.get("/metrics").body).unwrap();
        metrics
            .lines()
            .find_map(|line| line.strip_prefix("feedd_page_compressions_total "))
            .map(|count| count.parse::<u64>().unwrap())
            .expect("feedd_page_compressions_total in /metrics")
    };
    let before = compressions();
    for url in ["/kinh-te/bai-2.html", "/kinh-te/atom-1.xml"] {
        for encoding in ["gzip", "br"] {
            let first = serve.request(url, &[("Accept-Encoding", encoding)]);
            let second = serve.request(url, &[("Accept-Encoding", encoding)]);
            assert_eq!(first.status, 200);
            assert_eq!(first.header("content-encoding"), Some(encoding));
            assert_eq!(first.body, second.body);
            assert_eq!(first.header("etag"), second.header("etag"));
        }
    }
    assert_eq!(compressions() - before, 4, "each page and encoding once");
}
