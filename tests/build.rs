//! `feedd build` and `feedd check` end to end: the real binary on temporary
//! sites, and what it wrote parsed back with feed-rs.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::ffi::OsStr;

use common::{Site, copy_tree, feedd_in, seconds, time};
use feed_rs::model::{Entry, Feed, FeedType};
use unicode_normalization::UnicodeNormalization;

const SEED_RELATIVE: &str = "Chính trị/000_dcc753fbd64ee8d5.txt";
const SEED: &str = include_str!("../articles/Chính trị/000_dcc753fbd64ee8d5.txt");

fn title(entry: &Entry) -> &str {
    entry.title.as_ref().map_or("", |t| t.content.as_str())
}

fn titles(feed: &Feed) -> Vec<&str> {
    feed.entries.iter().map(title).collect()
}

fn ids(feed: &Feed) -> Vec<&str> {
    feed.entries.iter().map(|e| e.id.as_str()).collect()
}

fn is_rss(url_path: &str) -> bool {
    url_path.ends_with("/rss.xml")
}

/// The URL paths of the feeds of the all-articles scope and of each category slug.
fn feed_paths(slugs: &[&str]) -> BTreeSet<String> {
    let mut paths = BTreeSet::new();
    for slug in slugs {
        paths.insert(format!("/{slug}/rss.xml"));
        paths.insert(format!("/{slug}/atom.xml"));
        paths.insert(format!("/{slug}/feed.json"));
    }
    paths.extend(["/rss.xml", "/atom.xml", "/feed.json"].map(String::from));
    paths
}

/// Checks that a feed parsed as the format its path names.
fn assert_format(url_path: &str, feed: &Feed) {
    let expected = if is_rss(url_path) {
        FeedType::RSS2
    } else if url_path.ends_with("/feed.json") {
        FeedType::JSON
    } else {
        FeedType::Atom
    };
    assert_eq!(feed.feed_type, expected, "{url_path}");
}

/// XML 1.0 `Char`: #x9 | #xA | #xD | [#x20-#xD7FF] | [#xE000-#xFFFD] | [#x10000-#x10FFFF],
/// without the controls XML 1.0 discourages and HTML forbids (#x7F-#x9F).
fn is_xml_char(c: char) -> bool {
    matches!(c, '\u{9}' | '\u{A}' | '\u{D}' | '\u{20}'..='\u{7E}' | '\u{A0}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// Characters XML 1.0 forbids in `bytes`, written raw or as character references.
fn xml_forbidden(bytes: &[u8]) -> Vec<String> {
    let text = std::str::from_utf8(bytes).expect("feeds are UTF-8");
    let mut found: Vec<String> = text
        .chars()
        .filter(|c| !is_xml_char(*c))
        .map(|c| format!("{:#x}", c as u32))
        .collect();
    for (i, _) in text.match_indices("&#") {
        let rest = &text[i + 2..];
        let Some(end) = rest.find(';') else { continue };
        let reference = &rest[..end];
        let code = match reference.strip_prefix(['x', 'X']) {
            Some(hex) => u32::from_str_radix(hex, 16).ok(),
            None => reference.parse().ok(),
        };
        if code
            .and_then(char::from_u32)
            .is_none_or(|c| !is_xml_char(c))
        {
            found.push(format!("&#{reference};"));
        }
    }
    found
}

// ---------------------------------------------------------------------------
// The seed article

#[test]
fn seed_article_has_its_title_author_and_lead_and_no_trailer() {
    let site = Site::new("");
    site.write(SEED_RELATIVE, SEED);
    site.build();

    let lead = SEED
        .lines()
        .filter(|l| !l.trim().is_empty())
        .nth(1)
        .unwrap()
        .trim();
    assert!(lead.starts_with("Là huyện có địa bàn rộng"), "{lead}");
    assert!(lead.ends_with("yên tâm lao động sản xuất."), "{lead}");

    let files = site.feed_files();
    assert_eq!(
        files.keys().cloned().collect::<BTreeSet<_>>(),
        feed_paths(&["chinh-tri"])
    );
    for (url_path, bytes) in &files {
        let feed = common::parse_feed(url_path, bytes);
        assert_format(url_path, &feed);
        assert_eq!(feed.entries.len(), 1, "{url_path}");
        let entry = &feed.entries[0];
        assert_eq!(
            title(entry),
            "Chú trọng phát triển Đảng ở cơ sở",
            "{url_path}"
        );
        let authors: Vec<&str> = entry.authors.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(authors, ["Minh Phúc"], "{url_path}");
        let summary = entry.summary.as_ref().map(|s| s.content.as_str());
        assert_eq!(summary, Some(lead), "{url_path}");
        let body = entry
            .content
            .as_ref()
            .and_then(|c| c.body.as_deref())
            .unwrap_or("");
        assert!(
            body.contains("nâng cấp 3 chi bộ xã lên thành đảng bộ."),
            "{url_path}: the body's last paragraph"
        );

        let text = std::str::from_utf8(bytes).unwrap();
        for trailer in [
            "Bài và ảnh",
            "Chia sẻ:",
            "Rao vặt",
            "Các đơn vị thông tin của TTXVN",
        ] {
            assert!(!text.contains(trailer), "{url_path} contains {trailer:?}");
        }
    }
}

// ---------------------------------------------------------------------------
// What was written is what readers get

/// One item as a reader should see it.
struct Expected<'a> {
    id: &'a str,
    title: &'a str,
    link: &'a str,
    author: &'a str,
    published: &'a str,
    updated: &'a str,
    summary: &'a str,
    content: &'a str,
    /// (slug, display name).
    categories: &'a [(&'a str, &'a str)],
}

fn check_entry(url_path: &str, entry: &Entry, expected: &Expected) {
    let what = format!("{url_path} {}", expected.title);
    assert_eq!(entry.id, expected.id, "{what}: id");
    assert_eq!(title(entry), expected.title, "{what}: title");
    let links: Vec<&str> = entry.links.iter().map(|l| l.href.as_str()).collect();
    assert_eq!(links, [expected.link], "{what}: links");
    let authors: Vec<&str> = entry.authors.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(authors, [expected.author], "{what}: authors");
    assert_eq!(
        entry.published.map(|d| d.timestamp()),
        Some(seconds(expected.published)),
        "{what}: published"
    );
    assert_eq!(
        entry.summary.as_ref().map(|s| s.content.as_str()),
        Some(expected.summary),
        "{what}: summary"
    );
    let content = entry
        .content
        .as_ref()
        .expect("full_content = true gives the body");
    assert_eq!(
        content.body.as_deref(),
        Some(expected.content),
        "{what}: content"
    );
    assert_eq!(
        content.content_type.to_string(),
        "text/html",
        "{what}: content type"
    );
    if is_rss(url_path) {
        let names: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
        let expected_names: Vec<&str> = expected.categories.iter().map(|(_, name)| *name).collect();
        assert_eq!(names, expected_names, "{what}: categories");
    } else {
        assert_eq!(
            entry.updated.map(|d| d.timestamp()),
            Some(seconds(expected.updated)),
            "{what}: updated"
        );
        let categories: Vec<(&str, Option<&str>)> = entry
            .categories
            .iter()
            .map(|c| (c.term.as_str(), c.label.as_deref()))
            .collect();
        let expected_categories: Vec<(&str, Option<&str>)> = expected
            .categories
            .iter()
            .map(|(slug, name)| (*slug, Some(*name)))
            .collect();
        assert_eq!(categories, expected_categories, "{what}: categories");
        assert_eq!(
            entry.links[0].rel.as_deref(),
            Some("alternate"),
            "{what}: link rel"
        );
    }
}

const METADATA_CONFIG: &str = r#"
[categories.technology]
title = "Công nghệ"
description = "Tin công nghệ"
"#;

/// Four articles covering front matter, the plain-text format, dates and
/// categories, with file times set so that every date is known.
fn metadata_site(extra: &str) -> Site {
    let site = Site::new(&format!("{METADATA_CONFIG}\n{extra}"));
    site.write(
        "Kinh tế/gia-lua.md",
        r#"+++
title = "Giá lúa tăng mạnh"
date = "2024-11-20T08:30:00+07:00"
updated = "2024-11-21T10:00:00Z"
author = "Thu Hà"
id = "tag:news.example.vn,2024:gia-lua"
summary = "Giá lúa tăng 5%."
+++

Giá lúa **tăng**.
"#,
    );
    // BOM and CRLF, as a Windows editor saves it; bylines end the body.
    site.write_at(
        "Technology/2024-11-18-ev-charging.txt",
        "\u{FEFF}Hà Nội mở dữ liệu trạm sạc\r\n\r\nThành phố công bố dữ liệu\r\ntrạm sạc xe điện.\r\n\r\nĐoạn hai & <b>không phải HTML</b>.\r\n\r\nTin: Ngọc Lan\r\n\r\nChia sẻ:\r\n",
        time("2024-11-19T00:00:00Z"),
    );
    site.write_at(
        "Technology/no-author.md",
        "+++\ntitle = \"Quy định mới về AI\"\ndate = \"2024-11-19 09:00\"\ncategories = [\"technology\", \"Kinh tế\"]\n+++\nKhung pháp lý cho **trí tuệ nhân tạo**.\n",
        time("2024-11-01T00:00:00Z"),
    );
    site.write_at(
        "Technology/external.md",
        "+++\ntitle = \"Báo cáo khảo sát\"\ndate = \"2024-11-10\"\nlink = \"https://other.example/story\"\nid = \"https://other.example/story\"\n+++\nNội dung *ngắn*.\n",
        time("2024-11-12T00:00:00Z"),
    );
    site
}

const GIA_LUA: Expected<'static> = Expected {
    id: "tag:news.example.vn,2024:gia-lua",
    title: "Giá lúa tăng mạnh",
    link: "https://news.example.vn/kinh-te/gia-lua.html",
    author: "Thu Hà",
    published: "2024-11-20T01:30:00Z",
    updated: "2024-11-21T10:00:00Z",
    summary: "Giá lúa tăng 5%.",
    content: "<p>Giá lúa <strong>tăng</strong>.</p>",
    categories: &[("kinh-te", "Kinh tế")],
};

const AI_RULES: Expected<'static> = Expected {
    id: "", // derived from the path; filled in from the feed
    title: "Quy định mới về AI",
    link: "https://news.example.vn/technology/no-author.html",
    author: "Ban biên tập",
    published: "2024-11-19T02:00:00Z",
    // The file is older than its date: updated is never before published.
    updated: "2024-11-19T02:00:00Z",
    summary: "Khung pháp lý cho trí tuệ nhân tạo.",
    content: "<p>Khung pháp lý cho <strong>trí tuệ nhân tạo</strong>.</p>",
    categories: &[("technology", "Công nghệ"), ("kinh-te", "Kinh tế")],
};

const EV_CHARGING: Expected<'static> = Expected {
    id: "",
    title: "Hà Nội mở dữ liệu trạm sạc",
    link: "https://news.example.vn/technology/2024-11-18-ev-charging.html",
    author: "Ngọc Lan",
    published: "2024-11-17T17:00:00Z",
    // First seen 31 hours after its date, never edited since: the file's
    // time tells when it was copied in, which is no update.
    updated: "2024-11-17T17:00:00Z",
    summary: "Thành phố công bố dữ liệu trạm sạc xe điện.",
    content: "<p>Thành phố công bố dữ liệu\ntrạm sạc xe điện.</p>\n<p>Đoạn hai &amp; &lt;b&gt;không phải HTML&lt;/b&gt;.</p>",
    categories: &[("technology", "Công nghệ")],
};

const EXTERNAL: Expected<'static> = Expected {
    id: "https://other.example/story",
    title: "Báo cáo khảo sát",
    link: "https://other.example/story",
    author: "Ban biên tập",
    published: "2024-11-09T17:00:00Z",
    updated: "2024-11-09T17:00:00Z",
    summary: "Nội dung ngắn.",
    content: "<p>Nội dung <em>ngắn</em>.</p>",
    categories: &[("technology", "Công nghệ")],
};

/// A feed's channel as a reader should see it.
struct Channel<'a> {
    /// "" for the all-articles feeds, else "/{category}".
    prefix: &'a str,
    title: &'a str,
    description: &'a str,
    link: &'a str,
    /// Newest first.
    items: Vec<&'a Expected<'a>>,
    /// The newest updated date of the items.
    updated: &'a str,
}

/// The derived (path-based) id of the entry titled `title` in `feed`.
fn id_of<'a>(feed: &'a Feed, title_text: &str) -> &'a str {
    &feed
        .entries
        .iter()
        .find(|e| title(e) == title_text)
        .expect(title_text)
        .id
}

#[test]
fn feeds_carry_the_titles_authors_ids_dates_links_and_categories_written() {
    let site = metadata_site("");
    site.build();
    assert_eq!(
        site.feed_files().keys().cloned().collect::<BTreeSet<_>>(),
        feed_paths(&["kinh-te", "technology"])
    );

    let files = site.feed_files();
    let feeds = site.feeds();
    let ai_id = id_of(&feeds["/rss.xml"], AI_RULES.title).to_string();
    let ev_id = id_of(&feeds["/rss.xml"], EV_CHARGING.title).to_string();
    for derived in [&ai_id, &ev_id] {
        assert!(
            derived.starts_with("urn:uuid:") && derived.len() == 45,
            "{derived}"
        );
    }
    let ai = Expected {
        id: &ai_id,
        ..AI_RULES
    };
    let ev = Expected {
        id: &ev_id,
        ..EV_CHARGING
    };

    let scopes = [
        Channel {
            prefix: "",
            title: "Tin tức",
            description: "Tin tức mới nhất",
            link: "https://news.example.vn/",
            items: vec![&GIA_LUA, &ai, &ev, &EXTERNAL],
            updated: GIA_LUA.updated,
        },
        Channel {
            prefix: "/kinh-te",
            title: "Kinh tế – Tin tức",
            description: "Kinh tế",
            link: "https://news.example.vn/kinh-te/",
            items: vec![&GIA_LUA, &ai],
            updated: GIA_LUA.updated,
        },
        Channel {
            prefix: "/technology",
            title: "Công nghệ – Tin tức",
            description: "Tin công nghệ",
            link: "https://news.example.vn/technology/",
            items: vec![&ai, &ev, &EXTERNAL],
            updated: ai.updated,
        },
    ];
    for Channel {
        prefix,
        title: channel_title,
        description,
        link,
        items,
        updated,
    } in scopes
    {
        for file in ["rss.xml", "atom.xml"] {
            let url_path = format!("{prefix}/{file}");
            let feed = &feeds[&url_path];
            assert_format(&url_path, feed);
            assert_eq!(
                feed.title.as_ref().map(|t| t.content.as_str()),
                Some(channel_title),
                "{url_path}"
            );
            assert_eq!(
                feed.description.as_ref().map(|t| t.content.as_str()),
                Some(description),
                "{url_path}"
            );
            let links: Vec<(&str, Option<&str>)> = feed
                .links
                .iter()
                .map(|l| (l.href.as_str(), l.rel.as_deref()))
                .collect();
            let self_url = format!("https://news.example.vn{url_path}");
            assert!(
                links.contains(&(self_url.as_str(), Some("self"))),
                "{url_path}: self link in {links:?}"
            );
            assert!(
                links
                    .iter()
                    .any(|(href, rel)| *href == link && *rel != Some("self")),
                "{url_path}: {link} in {links:?}"
            );
            // The channel's date is the newest updated date of its items, never "now".
            assert_eq!(
                feed.updated.map(|d| d.timestamp()),
                Some(seconds(updated)),
                "{url_path}: channel updated"
            );

            let expected_titles: Vec<&str> = items.iter().map(|e| e.title).collect();
            assert_eq!(
                titles(feed),
                expected_titles,
                "{url_path}: items newest first"
            );
            for (entry, expected) in feed.entries.iter().zip(&items) {
                check_entry(&url_path, entry, expected);
            }

            let raw = std::str::from_utf8(&files[&url_path]).unwrap();
            if is_rss(&url_path) {
                assert_eq!(feed.language.as_deref(), Some("vi"), "{url_path}");
                assert_eq!(
                    feed.published.map(|d| d.timestamp()),
                    Some(seconds(items[0].published)),
                    "{url_path}: pubDate"
                );
                for item in &items {
                    let guid = if item.id == item.link {
                        format!("<guid>{}</guid>", item.id)
                    } else {
                        format!("<guid isPermaLink=\"false\">{}</guid>", item.id)
                    };
                    assert!(raw.contains(&guid), "{url_path}: {guid}");
                    let creator = format!("<dc:creator>{}</dc:creator>", item.author);
                    assert!(raw.contains(&creator), "{url_path}: {creator}");
                }
                assert!(
                    !raw.contains("isPermaLink=\"false\">https://other.example/story<"),
                    "{url_path}: an id that is the link is a permalink"
                );
                assert_eq!(
                    raw.matches("<content:encoded>").count(),
                    items.len(),
                    "{url_path}"
                );
            } else {
                assert!(raw.contains("xml:lang=\"vi\""), "{url_path}");
                assert_eq!(
                    raw.matches("<content type=\"html\">").count(),
                    items.len(),
                    "{url_path}"
                );
            }
        }
    }

    // Ids depend on the article's path only, not on base_url; links follow base_url.
    site.write_config(&format!(
        "{}\n{METADATA_CONFIG}",
        common::BASE_CONFIG.replace("https://news.example.vn", "https://tin.example.org")
    ));
    site.build();
    for url_path in ["/rss.xml", "/atom.xml"] {
        let feed = site.feed(url_path);
        assert_eq!(id_of(&feed, ai.title), ai.id, "{url_path}");
        assert_eq!(id_of(&feed, ev.title), ev.id, "{url_path}");
        let entry = feed.entries.iter().find(|e| title(e) == ev.title).unwrap();
        assert_eq!(
            entry.links[0].href,
            "https://tin.example.org/technology/2024-11-18-ev-charging.html"
        );
    }
}

#[test]
fn full_content_false_leaves_the_body_out() {
    let site = metadata_site("[feeds]\nfull_content = false\n");
    site.build();
    for (url_path, bytes) in site.feed_files() {
        let feed = common::parse_feed(&url_path, &bytes);
        assert!(!feed.entries.is_empty(), "{url_path}");
        // JSON Feed requires content: there it is the summary, as text.
        let json = url_path.ends_with("/feed.json");
        for entry in &feed.entries {
            if json {
                let content = entry.content.as_ref().and_then(|c| c.body.as_deref());
                let summary = entry.summary.as_ref().map(|s| s.content.as_str());
                assert_eq!(content, summary, "{url_path}: {}", title(entry));
                continue;
            }
            assert!(
                entry.content.is_none(),
                "{url_path}: {} has content",
                title(entry)
            );
            assert!(
                entry
                    .summary
                    .as_ref()
                    .is_some_and(|s| !s.content.is_empty()),
                "{url_path}: {} has a summary",
                title(entry)
            );
        }
        let raw = String::from_utf8(bytes).unwrap();
        assert!(
            !raw.contains("<content:encoded>") && !raw.contains("<content "),
            "{url_path}"
        );
        assert!(
            !raw.contains("<strong>") && !raw.contains("&lt;strong&gt;"),
            "{url_path}: body text"
        );
    }
}

// ---------------------------------------------------------------------------
// Stable output and incremental changes

/// A site with three categories and undated plain-text articles (dated by
/// their file times), so that the state journal matters.
fn three_category_site() -> Site {
    let site = Site::new("");
    site.write_at(
        "Chính trị/hop-bao.txt",
        "Họp báo Chính phủ\n\nNội dung họp báo.\n\nTin: Văn Hải\n",
        time("2024-11-01T01:00:00Z"),
    );
    site.write_at(
        "Chính trị/2024-11-03-quoc-hoi.txt",
        "Quốc hội khai mạc\n\nKỳ họp thứ tám.\n",
        time("2024-11-03T05:00:00Z"),
    );
    site.write_at(
        "Thể thao/bong-da.txt",
        "Giải bóng đá thiếu niên\n\nKhai mạc sáng nay.\n\nBài: Quang Huy\n",
        time("2024-11-02T01:00:00Z"),
    );
    site.write_at(
        "Đời sống/hoa-sua.md",
        "+++\ndate = \"2024-11-04 07:00\"\n+++\n# Mùa hoa sữa\n\nHà Nội vào thu.\n",
        time("2024-11-05T00:00:00Z"),
    );
    site
}

#[test]
fn two_builds_of_one_tree_are_byte_identical_and_leave_files_untouched() {
    let site = three_category_site();
    site.build();
    let first = site.feed_files();
    assert_eq!(
        first.keys().cloned().collect::<BTreeSet<_>>(),
        feed_paths(&["chinh-tri", "the-thao", "doi-song"])
    );

    let stamp = time("2020-01-01T00:00:00Z");
    site.set_output_mtimes(stamp);
    site.build();
    assert_eq!(site.feed_files(), first, "second build");
    assert!(
        site.mtimes().values().all(|m| *m == stamp),
        "an unchanged feed must not be rewritten: {:?}",
        site.mtimes()
    );

    // From scratch (no output, no state): the same bytes again, since the
    // dates come from the files, never from the clock.
    std::fs::remove_dir_all(site.output()).unwrap();
    std::fs::remove_dir_all(site.state()).unwrap();
    site.build();
    assert_eq!(site.feed_files(), first, "build from scratch");
}

#[test]
fn an_edit_rewrites_only_the_feeds_that_hold_the_article() {
    let site = three_category_site();
    site.build();
    let before = site.feed_files();
    let stamp = time("2020-01-01T00:00:00Z");
    site.set_output_mtimes(stamp);

    site.write_at(
        "Thể thao/bong-da.txt",
        "Giải bóng đá thiếu niên: kết quả\n\nĐội chủ nhà thắng.\n\nBài: Quang Huy\n",
        time("2024-11-06T00:00:00Z"),
    );
    site.build();

    let after = site.feed_files();
    let mtimes = site.mtimes();
    assert_eq!(
        after.keys().collect::<Vec<_>>(),
        before.keys().collect::<Vec<_>>()
    );
    let holding: BTreeSet<&str> = [
        "/rss.xml",
        "/atom.xml",
        "/feed.json",
        "/the-thao/rss.xml",
        "/the-thao/atom.xml",
        "/the-thao/feed.json",
    ]
    .into();
    for (url_path, bytes) in &after {
        if holding.contains(url_path.as_str()) {
            assert_ne!(*bytes, before[url_path], "{url_path} should change");
            assert_ne!(mtimes[url_path], stamp, "{url_path} should be rewritten");
        } else {
            assert_eq!(*bytes, before[url_path], "{url_path} should not change");
            assert_eq!(
                mtimes[url_path], stamp,
                "{url_path} should not be rewritten"
            );
        }
    }

    // The edit moves the updated date, never the published one.
    let feed = site.feed("/the-thao/atom.xml");
    let entry = &feed.entries[0];
    assert_eq!(title(entry), "Giải bóng đá thiếu niên: kết quả");
    assert_eq!(
        entry.published.map(|d| d.timestamp()),
        Some(seconds("2024-11-02T01:00:00Z"))
    );
    assert_eq!(
        entry.updated.map(|d| d.timestamp()),
        Some(seconds("2024-11-06T00:00:00Z"))
    );
}

#[test]
fn a_category_whose_last_article_is_deleted_loses_its_feeds() {
    let site = three_category_site();
    site.build();
    assert!(site.output().join("the-thao/rss.xml").is_file());

    site.remove("Thể thao/bong-da.txt");
    site.build();
    assert_eq!(
        site.feed_files().keys().cloned().collect::<BTreeSet<_>>(),
        feed_paths(&["chinh-tri", "doi-song"])
    );
    assert!(
        !site.output().join("the-thao").exists(),
        "the empty category folder is removed too"
    );
    for (url_path, feed) in site.feeds() {
        assert!(
            !titles(&feed).contains(&"Giải bóng đá thiếu niên"),
            "{url_path}"
        );
    }
}

// ---------------------------------------------------------------------------
// Bad input

#[test]
fn each_bad_article_gives_one_error_line_and_the_rest_is_published() {
    let site = Site::new("");
    site.write("Chính trị/tot-1.txt", "Bài tốt một\n\nNội dung.\n");
    site.write("Kinh tế/tot-2.md", "# Bài tốt hai\n\nNội dung.\n");
    site.write(
        "Thể thao/tot-3.md",
        "+++\ntitle = \"Bài tốt ba\"\ndate = \"2024-02-29\"\n+++\nNội dung.\n",
    );

    // (file, bytes, how the message starts after the path, a word it contains)
    let bad: [(&str, &[u8], &str, &str); 7] = [
        // "Tin tức" saved as Windows-1258.
        (
            "Chính trị/windows-1258.txt",
            b"Ti\xeau \xf0\xea\xec\n\nTin t\xf4\xe6c\n",
            ":1:",
            "UTF-8",
        ),
        ("Chính trị/empty.txt", b"", ": ", "empty"),
        (
            "Kinh tế/no-title.md",
            b"Just a paragraph, no heading.\n",
            ": ",
            "title",
        ),
        (
            "Kinh tế/unterminated.md",
            b"+++\ntitle = \"x\"\n\nBody\n",
            ":1:1: ",
            "never closed",
        ),
        (
            "Kinh tế/bad-toml.md",
            b"+++\ntitle = x\n+++\nBody\n",
            ":2:9: ",
            "front matter",
        ),
        (
            "Thể thao/unknown-key.md",
            b"+++\ntitle = \"x\"\ntitel = \"y\"\n+++\nBody\n",
            ":3:1: ",
            "titel",
        ),
        (
            "Thể thao/impossible-date.md",
            b"+++\ntitle = \"x\"\ndate = \"2026-02-30\"\n+++\nBody\n",
            ":3:8: ",
            "2026-02-30",
        ),
    ];
    for (relative, bytes, _, _) in &bad {
        site.write(relative, bytes);
    }

    let run = site.run("build");
    assert_eq!(run.code, Some(1), "{run}");
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), bad.len(), "one line per bad file:\n{run}");
    for (relative, _, position, word) in &bad {
        let prefix = format!("{}{position}", site.article(relative).display());
        let matching: Vec<&&str> = lines.iter().filter(|l| l.starts_with(&prefix)).collect();
        assert_eq!(matching.len(), 1, "{prefix}\n{run}");
        assert!(matching[0].contains(word), "{word:?} in {}", matching[0]);
    }

    // Every good article is published, in the feeds of its category.
    let feeds = site.feeds();
    assert_eq!(
        feeds.keys().cloned().collect::<BTreeSet<_>>(),
        feed_paths(&["chinh-tri", "kinh-te", "the-thao"])
    );
    for url_path in ["/rss.xml", "/atom.xml"] {
        let mut all = titles(&feeds[url_path]);
        all.sort();
        assert_eq!(
            all,
            ["Bài tốt ba", "Bài tốt hai", "Bài tốt một"],
            "{url_path}"
        );
    }
    assert_eq!(titles(&feeds["/chinh-tri/rss.xml"]), ["Bài tốt một"]);
    assert_eq!(titles(&feeds["/kinh-te/atom.xml"]), ["Bài tốt hai"]);
    assert_eq!(titles(&feeds["/the-thao/rss.xml"]), ["Bài tốt ba"]);
}

#[test]
fn ignored_files_never_appear() {
    let site = Site::new("");
    site.write("Chính trị/that.txt", "Bài thật\n\nNội dung.\n");
    let ignored = [
        ".hidden.txt",
        ".drafts/a.txt",
        ".drafts/Thể thao/b.md",
        "Chính trị/.an.txt",
        "Chính trị/.git/x.md",
        "Kinh tế/.cache/y.md",
        "Chính trị/that.txt~",
        "Chính trị/.that.txt.swp",
        "Chính trị/that.swp",
        "Chính trị/that.tmp",
        "Chính trị/that.txt.tmp",
        "Chính trị/.#that.txt",
        "Chính trị/4913",
        "4913",
        "Chính trị/anh.jpg",
        "Chính trị/trang.html",
        "Chính trị/ghi-chu",
    ];
    for (i, relative) in ignored.iter().enumerate() {
        site.write(relative, format!("IGNORED {i}\n\nKhông được xuất bản.\n"));
    }
    // Not even read: a binary image would be rejected as invalid UTF-8.
    site.write("Chính trị/anh-2.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00");

    site.build();
    let files = site.feed_files();
    assert_eq!(
        files.keys().cloned().collect::<BTreeSet<_>>(),
        feed_paths(&["chinh-tri"])
    );
    for (url_path, bytes) in &files {
        let text = String::from_utf8_lossy(bytes);
        assert!(!text.contains("IGNORED"), "{url_path}");
        assert_eq!(
            titles(&common::parse_feed(url_path, bytes)),
            ["Bài thật"],
            "{url_path}"
        );
    }
}

#[test]
fn check_reports_a_bad_article_and_writes_nothing() {
    let site = three_category_site();
    let run = site.run("check");
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stderr.is_empty(), "{run}");

    site.write(
        "Thể thao/hong.md",
        "+++\ntitle = \"x\"\ndraft = \"yes\"\n+++\n",
    );
    let run = site.run("check");
    assert_eq!(run.code, Some(1), "{run}");
    let lines = run.stderr_lines();
    assert_eq!(lines.len(), 1, "{run}");
    assert!(
        lines[0].starts_with(&format!(
            "{}:3:9: ",
            site.article("Thể thao/hong.md").display()
        )),
        "{run}"
    );

    assert!(
        !site.output().exists(),
        "check must not create the output folder"
    );
    assert!(
        !site.state().exists(),
        "check must not create the state folder"
    );
}

// ---------------------------------------------------------------------------
// Slugs, categories, dates, ordering

#[test]
fn category_folders_and_file_names_become_slugs() {
    let site = Site::new("");
    site.write(
        "Đời sống/Giá lúa tăng: 5%!.txt",
        "Giá lúa tăng\n\nNội dung.\n",
    );
    site.write(
        "Kinh tế - Xã hội/2024/11/(Tin nóng) Xuất khẩu, thủy sản....md",
        "# Xuất khẩu thủy sản\n\nNội dung.\n",
    );
    site.build();

    assert_eq!(
        site.feed_files().keys().cloned().collect::<BTreeSet<_>>(),
        feed_paths(&["doi-song", "kinh-te-xa-hoi"])
    );
    let rss = site.feed("/doi-song/rss.xml");
    assert_eq!(
        rss.entries[0].links[0].href,
        "https://news.example.vn/doi-song/gia-lua-tang-5.html"
    );
    assert_eq!(rss.title.unwrap().content, "Đời sống – Tin tức");
    let atom = site.feed("/kinh-te-xa-hoi/atom.xml");
    assert_eq!(
        atom.entries[0].links[0].href,
        "https://news.example.vn/kinh-te-xa-hoi/tin-nong-xuat-khau-thuy-san.html"
    );
    assert_eq!(
        atom.entries[0].categories[0].label.as_deref(),
        Some("Kinh tế - Xã hội")
    );
}

#[test]
fn nfd_and_nfc_spellings_of_names_give_the_same_feeds() {
    let folder = "Đời sống";
    let file = "Chợ phiên vùng cao.txt";
    let body = "Chợ phiên vùng cao\n\nNgười Mông gùi ngô xuống chợ.\n";
    let mtime = time("2024-11-12T03:00:00Z");

    let nfc_site = Site::new("");
    let nfc = format!(
        "{}/{}",
        folder.nfc().collect::<String>(),
        file.nfc().collect::<String>()
    );
    nfc_site.write_at(&nfc, body, mtime);
    let nfd_site = Site::new("");
    let nfd = format!(
        "{}/{}",
        folder.nfd().collect::<String>(),
        file.nfd().collect::<String>()
    );
    assert_ne!(nfc, nfd);
    nfd_site.write_at(&nfd, body, mtime);

    nfc_site.build();
    nfd_site.build();
    let feed = nfd_site.feed("/doi-song/atom.xml");
    let entry = &feed.entries[0];
    assert_eq!(
        entry.links[0].href,
        "https://news.example.vn/doi-song/cho-phien-vung-cao.html"
    );
    let label = entry.categories[0].label.clone().unwrap();
    assert_eq!(
        label,
        folder.nfc().collect::<String>(),
        "category names are NFC"
    );
    // Same slug, link, id, category name: the same bytes.
    assert_eq!(nfd_site.feed_files(), nfc_site.feed_files());
}

#[test]
fn two_articles_with_one_id_are_an_error_naming_both_and_feeds_show_the_newer() {
    let site = Site::new("");
    site.write(
        "Kinh tế/cu.md",
        "+++\ntitle = \"Bài cũ\"\nid = \"tag:x,2026:mot\"\ndate = \"2026-01-01 08:00\"\n+++\nCũ.\n",
    );
    site.write(
        "Kinh tế/moi.md",
        "+++\ntitle = \"Bài mới\"\nid = \"tag:x,2026:mot\"\ndate = \"2026-01-02 08:00\"\n+++\nMới.\n",
    );
    site.write(
        "Kinh tế/khac.md",
        "+++\ntitle = \"Bài khác\"\ndate = \"2025-12-01 08:00\"\n+++\nKhác.\n",
    );
    for command in ["check", "build"] {
        let run = site.run(command);
        assert_eq!(run.code, Some(1), "{command}: {run}");
        let line = run.error_about(&site.article("Kinh tế/cu.md"), "same id");
        let newer = site.article("Kinh tế/moi.md").display().to_string();
        assert!(
            line.contains(&newer) && line.contains("tag:x,2026:mot"),
            "{line}"
        );
    }
    for (url_path, feed) in site.feeds() {
        assert_eq!(titles(&feed), ["Bài mới", "Bài khác"], "{url_path}");
    }
}

#[test]
fn an_id_that_is_not_a_uri_is_rejected_at_its_line() {
    let site = Site::new("");
    site.write(
        "Kinh tế/a.md",
        "+++\ntitle = \"A\"\nid = \"bai 123\"\n+++\nA.\n",
    );
    site.write(
        "Kinh tế/b.md",
        "+++\ntitle = \"B\"\nid = \"dupid\"\n+++\nB.\n",
    );
    site.write(
        "Kinh tế/c.md",
        "+++\ntitle = \"C\"\nid = \"urn:isbn:0451450523\"\n+++\nC.\n",
    );
    let run = site.run("check");
    assert_eq!(run.code, Some(1), "{run}");
    for file in ["a.md", "b.md"] {
        let path = site
            .article(format!("Kinh tế/{file}"))
            .display()
            .to_string();
        assert!(
            run.stderr_lines()
                .iter()
                .any(|line| line.starts_with(&format!("{path}:3:6: id must be a URI"))),
            "{file}: {run}"
        );
    }
    site.run("build");
    assert_eq!(titles(&site.feed("/kinh-te/atom.xml")), ["C"]);
}

#[test]
fn feeds_hold_the_newest_items_up_to_the_limit_ties_broken_by_id() {
    let site = Site::new("[feeds]\nlimit = 3\n");
    let articles = [
        ("Kinh tế/a.md", "tag:x,2024:e", "Oldest", "2024-10-01"),
        ("Kinh tế/b.md", "tag:x,2024:d", "Middle", "2024-11-02"),
        ("Kinh tế/c.md", "tag:x,2024:b", "Tie B", "2024-11-03 10:00"),
        ("Kinh tế/d.md", "tag:x,2024:c", "Early", "2024-11-01"),
        ("Kinh tế/e.md", "tag:x,2024:a", "Tie A", "2024-11-03 10:00"),
    ];
    for (relative, id, title_text, date) in articles {
        site.write(
            relative,
            format!(
                "+++\ntitle = \"{title_text}\"\nid = \"{id}\"\ndate = \"{date}\"\n+++\nBody.\n"
            ),
        );
    }
    site.build();
    for (url_path, feed) in site.feeds() {
        assert_eq!(titles(&feed), ["Tie A", "Tie B", "Middle"], "{url_path}");
        assert_eq!(
            ids(&feed),
            ["tag:x,2024:a", "tag:x,2024:b", "tag:x,2024:d"],
            "{url_path}"
        );
    }
}

#[test]
fn naive_dates_are_in_the_site_timezone_and_file_names_can_date_articles() {
    let site = Site::new("");
    let cases = [
        (
            "Thời sự/naive-minute.md",
            "date = \"2024-11-20 08:30\"",
            "2024-11-20T01:30:00Z",
        ),
        (
            "Thời sự/naive-second.md",
            "date = \"2024-11-20 08:30:15\"",
            "2024-11-20T01:30:15Z",
        ),
        (
            "Thời sự/naive-day.md",
            "date = \"2024-11-21\"",
            "2024-11-20T17:00:00Z",
        ),
        (
            "Thời sự/toml-local.md",
            "date = 2024-11-22T08:30:00",
            "2024-11-22T01:30:00Z",
        ),
        (
            "Thời sự/rfc3339.md",
            "date = \"2024-11-23T08:30:00+09:00\"",
            "2024-11-22T23:30:00Z",
        ),
        ("Thời sự/2024-11-18-prefix.md", "", "2024-11-17T17:00:00Z"),
    ];
    for (relative, front, _) in cases {
        site.write(
            relative,
            format!("+++\ntitle = \"{relative}\"\n{front}\n+++\nBody.\n"),
        );
    }
    site.write(
        "Thời sự/2024-11-19 prefix plain.txt",
        "Plain dated by name\n\nBody.\n",
    );
    site.build();

    for url_path in [
        "/rss.xml",
        "/atom.xml",
        "/thoi-su/rss.xml",
        "/thoi-su/atom.xml",
    ] {
        let feed = site.feed(url_path);
        let published: BTreeMap<&str, Option<i64>> = feed
            .entries
            .iter()
            .map(|e| (title(e), e.published.map(|d| d.timestamp())))
            .collect();
        for (relative, _, expected) in cases {
            assert_eq!(
                published[relative],
                Some(seconds(expected)),
                "{url_path}: {relative}"
            );
        }
        assert_eq!(
            published["Plain dated by name"],
            Some(seconds("2024-11-18T17:00:00Z")),
            "{url_path}"
        );
    }
    // RSS dates are written in the site's zone.
    let rss = String::from_utf8(site.feed_files()["/rss.xml"].clone()).unwrap();
    assert!(
        rss.contains("<pubDate>Wed, 20 Nov 2024 08:30:00 +0700</pubDate>"),
        "{rss}"
    );
}

#[test]
fn an_article_in_two_categories_is_in_both_and_once_in_all_and_drafts_in_none() {
    let site = Site::new("");
    site.write(
        "Kinh tế/qr.md",
        "+++\ntitle = \"Thanh toán QR\"\ncategories = [\"kinh-te\", \"Công nghệ\"]\n+++\nBody.\n",
    );
    site.write("Kinh tế/gia-vang.txt", "Giá vàng\n\nBody.\n");
    site.write(
        "Kinh tế/nhap.md",
        "+++\ntitle = \"Bản nháp\"\ndraft = true\n+++\nBody.\n",
    );
    site.write(
        "Thể thao/nhap.md",
        "+++\ntitle = \"Bản nháp thể thao\"\ndraft = true\n+++\nBody.\n",
    );
    site.build();

    let feeds = site.feeds();
    assert_eq!(
        feeds.keys().cloned().collect::<BTreeSet<_>>(),
        feed_paths(&["kinh-te", "cong-nghe"])
    );
    for (url_path, feed) in &feeds {
        let list = titles(feed);
        assert_eq!(
            list.iter().filter(|t| **t == "Thanh toán QR").count(),
            1,
            "{url_path}: {list:?}"
        );
        assert!(
            !list.iter().any(|t| t.starts_with("Bản nháp")),
            "{url_path}: {list:?}"
        );
    }
    assert_eq!(titles(&feeds["/cong-nghe/rss.xml"]), ["Thanh toán QR"]);
    assert_eq!(feeds["/kinh-te/atom.xml"].entries.len(), 2);
    assert_eq!(feeds["/atom.xml"].entries.len(), 2);
}

#[test]
fn a_future_dated_article_is_in_no_feed() {
    let site = Site::new("");
    site.write("Kinh tế/now.txt", "Tin hôm nay\n\nBody.\n");
    site.write(
        "Kinh tế/later.md",
        "+++\ntitle = \"Tin tương lai\"\ndate = \"2999-01-01 08:00\"\n+++\nBody.\n",
    );
    site.write(
        "Thể thao/later.md",
        "+++\ntitle = \"Thể thao tương lai\"\ndate = \"2999-01-01T00:00:00Z\"\n+++\nBody.\n",
    );
    site.build();

    let feeds = site.feeds();
    assert_eq!(
        feeds.keys().cloned().collect::<BTreeSet<_>>(),
        feed_paths(&["kinh-te"])
    );
    for (url_path, feed) in &feeds {
        assert_eq!(titles(feed), ["Tin hôm nay"], "{url_path}");
    }
}

// ---------------------------------------------------------------------------
// XML

#[test]
fn feeds_have_no_xml_forbidden_characters_from_control_characters_in_files() {
    let site = Site::new("");
    site.write("Kinh tế/raw.txt", "Ti\u{1}tle\u{FFFF} một\n\nBo\u{0}dy\u{B} \u{8}text \u{1F}\u{FFFE}end.\n\nTin: Tác\u{7} giả\n");
    site.write(
        "Kinh tế/raw-md.md",
        "+++\ntitle = \"Markdown\u{1B} title\"\nsummary = \"Sum\u{C}mary\"\ncategories = [\"Kinh tế\", \"Ca\u{2}fe\"]\n+++\nBody \u{10}text.\n",
    );
    site.write(
        "Kinh tế/c1.md",
        "+++\ntitle = \"C1\\u007F\\u0085 title\\u009f\"\n+++\nBody\u{80} &#x9f;text &#127;.\n",
    );
    site.build();
    for (url_path, bytes) in site.feed_files() {
        assert_eq!(xml_forbidden(&bytes), Vec::<String>::new(), "{url_path}");
        common::parse_feed(&url_path, &bytes);
    }
    let feed = site.feed("/kinh-te/rss.xml");
    let mut list = titles(&feed);
    list.sort();
    assert_eq!(list, ["C1\n title", "Markdown title", "Title một"]);
}

// ---------------------------------------------------------------------------
// The command line

#[test]
fn config_errors_name_the_file_line_and_column() {
    let base = "[site]\ntitle = \"Tin tức\"\nbase_url = \"https://news.example.vn\"\n";
    let cases = [
        // (config, position, a word the message contains)
        (
            "[site]\ntitle = \"Tin tức\"\n".to_string(),
            "1:1",
            "base_url",
        ),
        (format!("{base}[feeds]\nlimt = 3\n"), "5:1", "limt"),
        (
            format!("{base}[feeds]\nlimit = \"ten\"\n"),
            "5:9",
            "invalid type",
        ),
        (
            "[site]\ntitle = \"Tin tức\"\nbase_url = \"news.example.vn\"\n".to_string(),
            "3:12",
            "URL",
        ),
        (format!("{base}[paths]\narticles = 5\n"), "5:12", "string"),
    ];
    for (config, position, word) in cases {
        let site = Site::with_config(&config);
        site.write("Kinh tế/a.txt", "A\n\nB\n");
        for command in ["build", "check"] {
            let run = site.run(command);
            assert_eq!(run.code, Some(1), "{command} {config:?}\n{run}");
            let lines = run.stderr_lines();
            assert_eq!(lines.len(), 1, "{command} {config:?}\n{run}");
            let prefix = format!("{}:{position}: ", site.config().display());
            assert!(
                lines[0].starts_with(&prefix),
                "{command}: expected {prefix}\n{run}"
            );
            assert!(
                lines[0].contains(word),
                "{command}: expected {word:?}\n{run}"
            );
            assert!(!site.output().exists(), "{command} {config:?}");
        }
    }

    let site = Site::new("");
    let missing = site.root().join("nowhere/feedd.toml");
    let run = feedd_in(
        site.root(),
        [
            OsStr::new("build"),
            OsStr::new("--config"),
            missing.as_os_str(),
        ],
    );
    assert_eq!(run.code, Some(1), "{run}");
    assert!(
        run.stderr.starts_with(&format!("{}: ", missing.display())),
        "{run}"
    );
}

#[test]
fn usage_errors_exit_2_and_help_and_version_exit_0() {
    let dir = tempfile::tempdir().unwrap();
    let usage_errors: [&[&str]; 5] = [
        &[],
        &["frobnicate"],
        &["build", "--bogus"],
        &["build", "--config"],
        &["build", "extra"],
    ];
    for args in usage_errors {
        let run = feedd_in(dir.path(), args);
        assert_eq!(run.code, Some(2), "{args:?}\n{run}");
        assert!(!run.stderr.is_empty(), "{args:?}");
    }
    let help = feedd_in(dir.path(), ["--help"]);
    assert_eq!(help.code, Some(0), "{help}");
    for command in ["serve", "build", "check"] {
        assert!(help.stdout.contains(command), "{help}");
    }
    let help = feedd_in(dir.path(), ["build", "--help"]);
    assert_eq!(help.code, Some(0), "{help}");
    assert!(help.stdout.contains("--config"), "{help}");
    let version = feedd_in(dir.path(), ["--version"]);
    assert_eq!(version.code, Some(0), "{version}");
    assert!(
        version.stdout.contains(env!("CARGO_PKG_VERSION")),
        "{version}"
    );
}

#[test]
fn config_defaults_to_config_feedd_toml_in_the_working_directory() {
    let site = Site::new("");
    site.write("Kinh tế/a.txt", "Tin A\n\nBody.\n");
    let run = feedd_in(site.root(), ["build"]);
    assert_eq!(run.code, Some(0), "{run}");
    assert_eq!(titles(&site.feed("/kinh-te/rss.xml")), ["Tin A"]);
}

#[test]
fn the_bundled_sample_builds_and_every_feed_parses() {
    let site = Site::new("");
    let manifest = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    copy_tree(&manifest.join("articles"), &site.articles());
    std::fs::copy(manifest.join("config/feedd.toml"), site.config()).unwrap();
    let sample_files = common::files_under(&site.articles()).len();

    let run = site.run("build");
    assert_eq!(run.code, Some(0), "{run}");
    assert!(run.stderr.is_empty(), "{run}");
    assert!(
        run.stdout
            .contains(&format!("from {sample_files} articles")),
        "{run}"
    );
    let feeds = site.feeds();
    assert!(
        feeds.contains_key("/rss.xml") && feeds.contains_key("/atom.xml"),
        "{:?}",
        feeds.keys()
    );
    for (url_path, feed) in &feeds {
        assert_format(url_path, feed);
        assert!(!feed.entries.is_empty(), "{url_path}");
        assert_eq!(
            xml_forbidden(&site.feed_files()[url_path]),
            Vec::<String>::new(),
            "{url_path}"
        );
    }
    let seed = feeds["/chinh-tri/rss.xml"]
        .entries
        .iter()
        .find(|e| title(e) == "Chú trọng phát triển Đảng ở cơ sở");
    assert!(seed.is_some(), "the seed article is in its category feed");
    assert_eq!(
        feeds["/rss.xml"].title.as_ref().map(|t| t.content.as_str()),
        Some("Tin tức")
    );
}

// ---------------------------------------------------------------------------
// Known bugs: each test fails today and is ignored until the fix lands.

/// Regression (found in review): TOML escapes in front matter (`\u0001`, `\b`, `\f`) and Markdown
/// character references (`&#1;`, `&#xFFFE;`) produce characters XML 1.0
/// forbids, which `decode` cannot see because they do not exist in the raw
/// text. The feeds are then not well-formed XML.
#[test]
fn escaped_control_characters_never_reach_the_feeds() {
    let site = Site::new("");
    site.write(
        "Kinh tế/escaped.md",
        "+++\ntitle = \"Tiêu\\u0001 đề \\b x\"\nsummary = \"Tóm\\u0002 tắt\\f.\"\nid = \"tag:x,2024:\\u0003\"\nlink = \"https://x.example/\\u0004\"\n+++\nThân &#1; bài &#xFFFE; và &#11;.\n",
    );
    site.build();
    for (url_path, bytes) in site.feed_files() {
        assert_eq!(xml_forbidden(&bytes), Vec::<String>::new(), "{url_path}");
    }
}

/// Regression (found in review): with `title` in the front matter, the body's first `# heading` is
/// still taken as the title and dropped from the content.
#[test]
fn a_markdown_heading_stays_in_the_body_when_the_front_matter_has_the_title() {
    let site = Site::new("");
    site.write(
        "Kinh tế/a.md",
        "+++\ntitle = \"Tiêu đề\"\n+++\n# Phần một\n\nNội dung.\n",
    );
    site.build();
    let feed = site.feed("/kinh-te/atom.xml");
    let body = feed.entries[0]
        .content
        .as_ref()
        .and_then(|c| c.body.clone())
        .unwrap();
    assert!(body.contains("Phần một"), "{body}");
}

/// Regression (found in review): an item's category is labelled with the name its own article wrote
/// (`categories = ["kinh-te"]`) rather than the category's title ("Kinh tế",
/// its folder name), so one feed shows one category under two names.
#[test]
fn every_item_of_a_category_names_it_the_same_way() {
    let site = Site::new("");
    site.write("Kinh tế/a.txt", "Tin A\n\nBody.\n");
    site.write(
        "Kinh tế/b.md",
        "+++\ntitle = \"Tin B\"\ncategories = [\"kinh-te\"]\n+++\nBody.\n",
    );
    site.build();
    let rss = site.feed("/kinh-te/rss.xml");
    assert_eq!(rss.title.as_ref().unwrap().content, "Kinh tế – Tin tức");
    for entry in &rss.entries {
        let names: Vec<&str> = entry.categories.iter().map(|c| c.term.as_str()).collect();
        assert_eq!(names, ["Kinh tế"], "{}", title(entry));
    }
    let atom = site.feed("/kinh-te/atom.xml");
    for entry in &atom.entries {
        assert_eq!(
            entry.categories[0].label.as_deref(),
            Some("Kinh tế"),
            "{}",
            title(entry)
        );
    }
}

/// Regression (found in review): the first build dates an undated article by its file time with
/// nanoseconds, the state journal keeps whole seconds, so the next build
/// orders two articles first seen within one second differently.
#[test]
fn articles_first_seen_in_one_second_keep_their_order_across_builds() {
    let site = Site::new("");
    site.write_at(
        "Kinh tế/later.md",
        "+++\ntitle = \"Later\"\nid = \"tag:x,2024:z\"\n+++\nBody.\n",
        time("2024-11-01T00:00:00.900Z"),
    );
    site.write_at(
        "Kinh tế/earlier.md",
        "+++\ntitle = \"Earlier\"\nid = \"tag:x,2024:a\"\n+++\nBody.\n",
        time("2024-11-01T00:00:00.100Z"),
    );
    site.build();
    let first = site.feed_files();
    site.build();
    assert_eq!(
        titles(&site.feed("/rss.xml")),
        titles(&common::parse_feed("first", &first["/rss.xml"]))
    );
    assert_eq!(site.feed_files(), first);
}

/// Regression (found in review): the position of invalid UTF-8 is always column 1, and after a BOM
/// the offset is counted in the text without it, so the line can be wrong.
#[test]
fn invalid_utf8_is_reported_at_the_bad_byte() {
    let site = Site::new("");
    site.write("Kinh tế/col.txt", b"Title\n\nTin t\xf4\xe6c\n");
    site.write("Kinh tế/bom.txt", b"\xEF\xBB\xBFTitle\n\xff\n");
    let run = site.run("build");
    assert_eq!(run.code, Some(1), "{run}");
    let col = format!("{}:3:6: ", site.article("Kinh tế/col.txt").display());
    let bom = format!("{}:2:1: ", site.article("Kinh tế/bom.txt").display());
    for prefix in [col, bom] {
        assert!(
            run.stderr_lines().iter().any(|l| l.starts_with(&prefix)),
            "{prefix}\n{run}"
        );
    }
}

/// Regression (found in review): a file or folder whose name is not valid UTF-8 (copied from an old
/// Windows archive) is skipped without a word, so its articles silently
/// never appear.
#[cfg(unix)]
#[test]
fn names_that_are_not_utf8_are_reported() {
    use std::os::unix::ffi::OsStrExt;
    let site = Site::new("");
    site.write("Kinh tế/ok.txt", "Tin tốt\n\nBody.\n");
    let file = std::path::Path::new("Kinh tế").join(OsStr::from_bytes(b"Tin t\xf4\xe6c.txt"));
    site.write(&file, "Tin cũ\n\nBody.\n");
    let folder = std::path::Path::new(OsStr::from_bytes(b"Kinh t\xea")).join("a.txt");
    site.write(&folder, "Tin trong thư mục cũ\n\nBody.\n");
    let run = site.run("build");
    assert_eq!(run.code, Some(1), "{run}");
    for path in [site.article(&file), site.article(&folder)] {
        let name = path.display().to_string();
        assert!(
            run.stderr_lines().iter().any(|l| l.starts_with(&name)),
            "{name}\n{run}"
        );
    }
}

/// Regression (found in review): a `paths.articles` that does not exist (a typo, an unmounted
/// network share) is read as an empty folder: `build` exits 0 and deletes
/// every category feed; `check` reports success.
#[test]
fn a_missing_articles_folder_is_an_error_and_keeps_the_feeds() {
    let site = three_category_site();
    site.build();
    let before = site.feed_files();
    site.write_config(
        &common::BASE_CONFIG.replace("articles = \"../articles\"", "articles = \"../artcles\""),
    );
    for command in ["check", "build"] {
        let run = site.run(command);
        assert_eq!(run.code, Some(1), "{command}\n{run}");
        let missing = site.root().join("artcles").display().to_string();
        assert!(
            run.stderr_lines().iter().any(|l| l.starts_with(&missing)),
            "{command}: names {missing}\n{run}"
        );
    }
    assert_eq!(site.feed_files(), before, "the published feeds are kept");
}

/// A FIFO named like an article (or any other non-regular file) is reported
/// and never opened: reading it would block the build forever.
#[cfg(unix)]
#[test]
fn a_fifo_named_like_an_article_does_not_block_the_build() {
    let site = Site::new("");
    site.write("Kinh tế/a.txt", "Tin A\n\nBody.\n");
    let fifo = site.article("Kinh tế/pipe.txt");
    let status = std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap();
    assert!(status.success());
    let run = site.run("build");
    assert_eq!(run.code, Some(1), "{run}");
    assert_eq!(
        run.stderr_lines(),
        [format!(
            "{}: is not a regular file (a FIFO, socket or device); feedd reads only regular files; \
             replace it with a file or rename it",
            fifo.display()
        )],
    );
    assert_eq!(titles(&site.feed("/kinh-te/rss.xml")), ["Tin A"]);
}

/// A day's articles dated by file name are updated when each was written,
/// so that they do not all share the day's midnight; an article whose file
/// appeared long after its date (a copy, a clone) is updated when it was
/// published, not at the copy's second.
#[test]
fn files_written_on_their_day_are_updated_then_and_copies_are_not() {
    let site = Site::new(METADATA_CONFIG);
    site.write_at(
        "Technology/2024-11-18-sang.txt",
        "Tin buổi sáng\n\nThân bài.\n",
        time("2024-11-18T02:00:00Z"),
    );
    site.write_at(
        "Technology/2024-11-18-chieu.txt",
        "Tin buổi chiều\n\nThân bài.\n",
        time("2024-11-18T07:05:00Z"),
    );
    // Copied in with the others, a year after its date.
    site.write_at(
        "Technology/2023-11-18-cu.txt",
        "Tin cũ\n\nThân bài.\n",
        time("2024-11-18T07:05:00Z"),
    );
    site.build();
    let feed = &site.feeds()["/technology/atom.xml"];
    let dates = |wanted: &str| {
        let entry = feed
            .entries
            .iter()
            .find(|e| title(e) == wanted)
            .expect(wanted);
        (
            entry.published.map(|d| d.timestamp()),
            entry.updated.map(|d| d.timestamp()),
        )
    };
    // File names date in site.timezone (Asia/Ho_Chi_Minh, +07:00).
    let midnight = seconds("2024-11-17T17:00:00Z");
    assert_eq!(
        dates("Tin buổi sáng"),
        (Some(midnight), Some(seconds("2024-11-18T02:00:00Z")))
    );
    assert_eq!(
        dates("Tin buổi chiều"),
        (Some(midnight), Some(seconds("2024-11-18T07:05:00Z")))
    );
    let a_year_before = seconds("2023-11-17T17:00:00Z");
    assert_eq!(dates("Tin cũ"), (Some(a_year_before), Some(a_year_before)));
}
