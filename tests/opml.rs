//! `/feeds.opml`: an OPML 2.0 list of every feed (the site's and each
//! category's), rebuilt when the set of categories or their names change,
//! untouched otherwise, served as `text/x-opml`.

mod common;

use std::collections::BTreeSet;

use common::{SERVE_CONFIG, Site, time};
use quick_xml::events::Event;

/// One `<outline>`'s attributes, by name.
type Outline = std::collections::BTreeMap<String, String>;

/// The head's title and every outline of an OPML 2.0 document, checking its
/// shape on the way: an `opml` root of version 2.0 with `head` and `body`,
/// and outlines of `type="rss"` with `text` and `xmlUrl` (what OPML 2.0
/// requires of a subscription list).
fn read_opml(bytes: &[u8]) -> (String, Vec<Outline>) {
    let text = std::str::from_utf8(bytes).expect("OPML is UTF-8");
    let mut reader = quick_xml::Reader::from_str(text);
    let mut path: Vec<String> = Vec::new();
    let mut title = String::new();
    let mut outlines = Vec::new();
    let mut seen = BTreeSet::new();
    loop {
        let event = reader.read_event().expect("well-formed XML");
        let (element, empty) = match &event {
            Event::Start(e) => (Some(e.clone()), false),
            Event::Empty(e) => (Some(e.clone()), true),
            _ => (None, false),
        };
        if let Some(element) = element {
            let name = String::from_utf8(element.name().as_ref().to_vec()).unwrap();
            let attributes: Outline = element
                .attributes()
                .map(|a| {
                    let a = a.expect("a well-formed attribute");
                    (
                        String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                        a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .expect("an attribute value")
                            .into_owned(),
                    )
                })
                .collect();
            let parent = path.join("/");
            match (parent.as_str(), name.as_str()) {
                ("", "opml") => assert_eq!(attributes["version"], "2.0"),
                ("opml", "head" | "body") => {}
                ("opml/head", "title" | "docs") => {}
                ("opml/body", "outline") => {
                    assert_eq!(attributes["type"], "rss");
                    assert!(!attributes["text"].is_empty());
                    assert!(attributes["xmlUrl"].starts_with("https://"));
                    outlines.push(attributes);
                }
                other => panic!("unexpected element {other:?}"),
            }
            seen.insert(name.clone());
            if !empty {
                path.push(name);
            }
        }
        match event {
            Event::Text(t) if path.join("/") == "opml/head/title" => {
                title = t.decode().unwrap().into_owned();
            }
            Event::End(_) => {
                path.pop();
            }
            Event::Eof => break,
            _ => {}
        }
    }
    assert!(path.is_empty());
    assert!(seen.contains("head") && seen.contains("body"), "{seen:?}");
    (title, outlines)
}

#[test]
fn the_list_names_every_feed_with_its_title_and_urls() {
    let site = Site::new(
        "[categories.chinh-tri]\ntitle = \"Chính trị & \\\"Thời sự\\\"\"\ndescription = \"Tin <chính> trị\"\n",
    );
    site.write("Chính trị/a.txt", "Tin A\n\nThân.\n");
    site.write("Đời sống/b.txt", "Tin B\n\nThân.\n");
    // Scheduled: its category has no feed yet, so it is not listed.
    site.write(
        "Tương lai/c.md",
        "+++\ntitle = \"C\"\ndate = \"2999-01-01\"\n+++\nThân.\n",
    );
    site.build();
    let (title, outlines) = read_opml(&site.files()["/feeds.opml"]);
    assert_eq!(title, "Tin tức");
    let rows: Vec<[&str; 5]> = outlines
        .iter()
        .map(|o| {
            [
                o["text"].as_str(),
                o["title"].as_str(),
                o["xmlUrl"].as_str(),
                o["htmlUrl"].as_str(),
                o["description"].as_str(),
            ]
        })
        .collect();
    assert_eq!(
        rows,
        [
            [
                "Tin tức",
                "Tin tức",
                "https://news.example.vn/rss.xml",
                "https://news.example.vn/",
                "Tin tức mới nhất"
            ],
            [
                "Chính trị & \"Thời sự\" – Tin tức",
                "Chính trị & \"Thời sự\" – Tin tức",
                "https://news.example.vn/chinh-tri/rss.xml",
                "https://news.example.vn/chinh-tri/",
                "Tin <chính> trị"
            ],
            [
                "Đời sống – Tin tức",
                "Đời sống – Tin tức",
                "https://news.example.vn/doi-song/rss.xml",
                "https://news.example.vn/doi-song/",
                "Đời sống"
            ],
        ]
    );
    assert!(outlines.iter().all(|o| o["language"] == "vi"));
    // Each listed feed exists, and is the channel the outline names.
    let files = site.files();
    for outline in &outlines {
        let url = outline["xmlUrl"].trim_start_matches("https://news.example.vn");
        let feed = common::parse_feed(url, &files[url]);
        assert_eq!(feed.title.unwrap().content, outline["title"]);
    }
}

#[test]
fn the_list_changes_with_the_categories_and_only_then() {
    let site = Site::new("");
    site.write("Chính trị/a.txt", "Tin A\n\nThân.\n");
    site.build();
    let opml = site.output().join("feeds.opml");
    let stamp = time("2020-01-01T00:00:00Z");
    common::set_mtime(&opml, stamp);
    let modified = || std::fs::metadata(&opml).unwrap().modified().unwrap();
    let xml_urls = || -> Vec<String> {
        read_opml(&std::fs::read(&opml).unwrap())
            .1
            .into_iter()
            .map(|o| o["xmlUrl"].clone())
            .collect()
    };

    // An article in an existing category: the list stays as it was.
    site.write("Chính trị/b.txt", "Tin B\n\nThân.\n");
    site.build();
    assert_eq!(modified(), stamp, "rewritten without a change");

    // A new category: listed.
    site.write("Kinh tế/c.txt", "Tin C\n\nThân.\n");
    site.build();
    assert_eq!(
        xml_urls(),
        [
            "https://news.example.vn/rss.xml",
            "https://news.example.vn/chinh-tri/rss.xml",
            "https://news.example.vn/kinh-te/rss.xml"
        ]
    );

    // A renamed category (by the config): its new name.
    site.write_config(&format!(
        "{}\n[categories.kinh-te]\ntitle = \"Kinh doanh\"\n",
        common::BASE_CONFIG
    ));
    site.build();
    let titles: Vec<String> = read_opml(&std::fs::read(&opml).unwrap())
        .1
        .into_iter()
        .map(|o| o["title"].clone())
        .collect();
    assert_eq!(titles[2], "Kinh doanh – Tin tức");

    // A category whose last article goes: no longer listed.
    site.remove("Kinh tế/c.txt");
    site.build();
    assert_eq!(
        xml_urls(),
        [
            "https://news.example.vn/rss.xml",
            "https://news.example.vn/chinh-tri/rss.xml"
        ]
    );
}

#[test]
fn serve_answers_the_list_and_keeps_it_current() {
    let site = Site::new(SERVE_CONFIG);
    site.write("Chính trị/a.txt", "Tin A\n\nThân.\n");
    let serve = site.serve();
    let response = serve.get("/feeds.opml");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/x-opml; charset=utf-8")
    );
    assert_eq!(read_opml(&response.body).1.len(), 2);
    assert_eq!(serve.get("/chinh-tri/feeds.opml").status, 404);

    site.write("Thể thao/b.txt", "Tin B\n\nThân.\n");
    serve.wait_until("the new category in /feeds.opml", || {
        read_opml(&serve.get("/feeds.opml").body).1.len() == 3
    });
    site.remove("Chính trị/a.txt");
    serve.wait_until("the emptied category gone from /feeds.opml", || {
        let outlines = read_opml(&serve.get("/feeds.opml").body).1;
        outlines.len() == 2 && outlines[1]["xmlUrl"].ends_with("/the-thao/rss.xml")
    });
    common::assert_served_equals_fresh_build(&site, &serve);
}
