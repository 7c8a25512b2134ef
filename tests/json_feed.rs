//! JSON Feed 1.1 (`/feed.json`, `/{category}/feed.json`): valid by the
//! spec, and the same items as the Atom feed of its scope (ids, titles,
//! links, dates to the character, authors, categories, summary, content),
//! written by `build` and kept current by `serve`.

mod common;

use common::{SERVE_CONFIG, Site};
use serde_json::Value;

/// The bundled sample (which holds the seed article), built.
fn bundled_sample(extra_toml: &str) -> Site {
    let site = Site::new(extra_toml);
    site.add_bundled_articles();
    site
}

fn json(bytes: &[u8]) -> Value {
    serde_json::from_slice(bytes).expect("feed.json is JSON")
}

fn string<'a>(value: &'a Value, key: &str, what: &str) -> &'a str {
    value[key]
        .as_str()
        .unwrap_or_else(|| panic!("{what}: {key} is not a string: {value}"))
}

/// Checks `feed` against JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>):
/// the version URL, the required `title` and `items`, only the spec's keys
/// (extensions would start with `_`), an `id` and content on every item,
/// RFC 3339 dates, authors with a name, absolute http(s) URLs.
fn assert_valid_json_feed(url_path: &str, feed: &Value) {
    const TOP: [&str; 14] = [
        "version",
        "title",
        "home_page_url",
        "feed_url",
        "description",
        "user_comment",
        "next_url",
        "icon",
        "favicon",
        "authors",
        "language",
        "expired",
        "hubs",
        "items",
    ];
    const ITEM: [&str; 15] = [
        "id",
        "url",
        "external_url",
        "title",
        "content_html",
        "content_text",
        "summary",
        "image",
        "banner_image",
        "date_published",
        "date_modified",
        "authors",
        "tags",
        "language",
        "attachments",
    ];
    let object = feed.as_object().expect("a JSON Feed is an object");
    for key in object.keys() {
        assert!(
            TOP.contains(&key.as_str()) || key.starts_with('_'),
            "{url_path}: unknown top-level key {key}"
        );
    }
    assert_eq!(
        string(feed, "version", url_path),
        "https://jsonfeed.org/version/1.1"
    );
    assert!(!string(feed, "title", url_path).is_empty());
    for key in ["home_page_url", "feed_url"] {
        assert!(
            string(feed, key, url_path).starts_with("https://"),
            "{url_path}: {key}"
        );
    }
    for item in feed["items"].as_array().expect("items is an array") {
        let what = format!("{url_path}: item {}", item["id"]);
        for key in item.as_object().expect("an item is an object").keys() {
            assert!(
                ITEM.contains(&key.as_str()) || key.starts_with('_'),
                "{what}: unknown key {key}"
            );
        }
        assert!(!string(item, "id", &what).is_empty(), "{what}");
        assert!(
            item["content_html"].is_string() || item["content_text"].is_string(),
            "{what}: content_html or content_text is required"
        );
        assert!(string(item, "url", &what).starts_with("http"), "{what}");
        for key in ["date_published", "date_modified"] {
            let date = string(item, key, &what);
            assert!(
                date.parse::<jiff::Timestamp>().is_ok(),
                "{what}: {key} {date} is not RFC 3339"
            );
        }
        let authors = item["authors"].as_array().expect("authors is an array");
        assert!(!authors.is_empty(), "{what}");
        for author in authors {
            assert!(!string(author, "name", &what).is_empty(), "{what}");
        }
        if let Some(tags) = item.get("tags") {
            assert!(
                tags.as_array()
                    .is_some_and(|tags| tags.iter().all(Value::is_string)),
                "{what}: tags"
            );
        }
    }
}

/// Every JSON Feed of `site`'s output agrees with its scope's Atom feed.
fn assert_json_feeds_match_atom(site: &Site, full_content: bool) -> usize {
    let files = site.files();
    let mut checked = 0;
    for (url_path, bytes) in &files {
        let Some(scope) = url_path.strip_suffix("feed.json") else {
            continue;
        };
        let feed = json(bytes);
        assert_valid_json_feed(url_path, &feed);
        let atom_path = format!("{scope}atom.xml");
        let atom = common::parse_feed(&atom_path, &files[&atom_path]);
        let atom_raw = std::str::from_utf8(&files[&atom_path]).unwrap();
        assert_eq!(
            string(&feed, "title", url_path),
            atom.title.as_ref().unwrap().content
        );
        assert_eq!(
            string(&feed, "feed_url", url_path),
            format!("https://news.example.vn{url_path}")
        );
        assert_eq!(
            Some(string(&feed, "home_page_url", url_path)),
            atom.links
                .iter()
                .find(|l| l.rel.as_deref() == Some("alternate"))
                .map(|l| l.href.as_str())
        );
        assert_eq!(string(&feed, "language", url_path), "vi");
        let items = feed["items"].as_array().unwrap();
        assert_eq!(items.len(), atom.entries.len(), "{url_path}");
        for (item, entry) in items.iter().zip(&atom.entries) {
            let what = format!("{url_path}: {}", entry.id);
            assert_eq!(string(item, "id", &what), entry.id);
            assert_eq!(
                string(item, "title", &what),
                entry.title.as_ref().unwrap().content
            );
            assert_eq!(string(item, "url", &what), entry.links[0].href);
            // The same instant at the same offset, to the character.
            for (key, element) in [
                ("date_published", "published"),
                ("date_modified", "updated"),
            ] {
                let date = string(item, key, &what);
                assert!(
                    atom_raw.contains(&format!("<{element}>{date}</{element}>")),
                    "{what}: {key} {date} is not the Atom entry's {element}"
                );
                assert!(date.ends_with("+07:00"), "{what}: in the site's zone");
            }
            assert_eq!(
                item["authors"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|a| a["name"].as_str().unwrap())
                    .collect::<Vec<_>>(),
                entry
                    .authors
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>(),
                "{what}"
            );
            let tags: Vec<&str> = item["tags"]
                .as_array()
                .map(|tags| tags.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            let labels: Vec<&str> = entry
                .categories
                .iter()
                .map(|c| c.label.as_deref().unwrap_or(&c.term))
                .collect();
            assert_eq!(tags, labels, "{what}");
            let summary = entry
                .summary
                .as_ref()
                .map(|s| s.content.as_str())
                .unwrap_or_default();
            assert_eq!(item["summary"].as_str().unwrap_or_default(), summary);
            if full_content {
                assert_eq!(
                    item["content_html"].as_str(),
                    entry.content.as_ref().and_then(|c| c.body.as_deref()),
                    "{what}"
                );
                assert!(item.get("content_text").is_none(), "{what}");
            } else {
                assert!(item.get("content_html").is_none(), "{what}");
                assert_eq!(item["content_text"].as_str(), Some(summary), "{what}");
            }
        }
        checked += 1;
    }
    checked
}

#[test]
fn every_scope_has_a_json_feed_with_the_atom_feeds_items() {
    let site = bundled_sample("[categories.chinh-tri]\ntitle = \"Chính trị\"\n");
    site.build();
    assert_eq!(assert_json_feeds_match_atom(&site, true), 6);
    // The seed article, as the spec's fields.
    let politics = json(&site.files()["/chinh-tri/feed.json"]);
    assert_eq!(politics["title"], "Chính trị – Tin tức");
    assert_eq!(
        politics["home_page_url"],
        "https://news.example.vn/chinh-tri/"
    );
    let seed = politics["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|item| item["title"] == "Chú trọng phát triển Đảng ở cơ sở")
        .expect("the seed article");
    assert_eq!(
        seed["url"],
        "https://news.example.vn/chinh-tri/000-dcc753fbd64ee8d5.html"
    );
    assert_eq!(seed["authors"][0]["name"], "Minh Phúc");
    assert_eq!(seed["tags"][0], "Chính trị");
    assert!(
        seed["id"]
            .as_str()
            .is_some_and(|id| id.starts_with("urn:uuid:"))
    );
}

#[test]
fn without_full_content_the_item_content_is_the_summary_as_text() {
    let site = bundled_sample("[feeds]\nfull_content = false\n");
    site.build();
    assert_eq!(assert_json_feeds_match_atom(&site, false), 6);
}

#[test]
fn text_that_json_must_escape_round_trips() {
    let site = Site::new("");
    let title = "Tin \"trích\" \\ <b>&</b> \u{2028} tab\there";
    site.write(
        "Thời sự/a.md",
        "+++\ntitle = \"Tin \\\"trích\\\" \\\\ <b>&</b> \\u2028 tab\\there\"\nauthor = 'A \"B\"'\n+++\n\nĐoạn <em>một</em>.\n",
    );
    site.build();
    let feed = json(&site.files()["/thoi-su/feed.json"]);
    assert_valid_json_feed("/thoi-su/feed.json", &feed);
    assert_eq!(feed["items"][0]["title"], title);
    assert_eq!(feed["items"][0]["authors"][0]["name"], "A \"B\"");
    assert_eq!(feed["items"][0]["tags"][0], "Thời sự");
}

#[test]
fn serve_answers_the_json_feed_with_its_type_and_keeps_it_current() {
    let site = Site::new(SERVE_CONFIG);
    site.write("Thời sự/a.txt", "Tin A\n\nThân bài.\n");
    let serve = site.serve();
    let response = serve.get("/thoi-su/feed.json");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("application/feed+json; charset=utf-8")
    );
    assert!(response.header("etag").is_some());
    assert_eq!(json(&response.body)["items"][0]["title"], "Tin A");
    let etag = response.header("etag").unwrap().to_string();
    let revalidated = serve.request("/thoi-su/feed.json", &[("if-none-match", &etag)]);
    assert_eq!(revalidated.status, 304);

    site.write("Thời sự/b.txt", "Tin B\n\nThân bài.\n");
    serve.wait_until("the new article in /feed.json", || {
        let items = json(&serve.get("/feed.json").body)["items"].clone();
        items.as_array().is_some_and(|items| items.len() == 2)
    });
    common::assert_served_equals_fresh_build(&site, &serve);
}
