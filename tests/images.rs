//! Lead images (front matter `image`, else a Markdown body's first image)
//! reach every format as readers look for them, and the W3C feed
//! validator's rules for those elements hold (checked here one by one; see
//! README: the validator itself cannot run in CI):
//! - RSS: `media:content` with an absolute `url`, `medium` among image,
//!   audio, video, document, executable and a `type` that is a MIME type;
//!   `media:thumbnail` with an absolute `url`; `xmlns:media` declared as
//!   `http://search.yahoo.com/mrss/` (and only where used);
//! - Atom: `link rel="enclosure"` with an absolute `href` and a MIME `type`
//!   when one is given, one per entry;
//! - JSON Feed: the item's `image`.

mod common;

use std::collections::BTreeMap;

use common::Site;
use quick_xml::events::Event;

const MEDIA_RSS: &str = "http://search.yahoo.com/mrss/";

/// Every element of `xml` with its attributes, in document order, by
/// qualified name, and the item (or entry) it is in, counted from 1.
fn elements(xml: &[u8]) -> Vec<(usize, String, BTreeMap<String, String>)> {
    let mut reader = quick_xml::Reader::from_str(std::str::from_utf8(xml).unwrap());
    let mut item = 0;
    let mut out = Vec::new();
    loop {
        match reader.read_event().expect("well-formed XML") {
            Event::Start(e) | Event::Empty(e) => {
                let name = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                if name == "item" || name == "entry" {
                    item += 1;
                }
                let attributes = e
                    .attributes()
                    .map(|a| {
                        let a = a.unwrap();
                        (
                            String::from_utf8(a.key.as_ref().to_vec()).unwrap(),
                            a.normalized_value(quick_xml::XmlVersion::Implicit1_0)
                                .unwrap()
                                .into_owned(),
                        )
                    })
                    .collect();
                out.push((item, name, attributes));
            }
            Event::Eof => return out,
            _ => {}
        }
    }
}

/// The validator's `mime_re`: type "/" subtype, with optional parameters.
fn is_mime_type(value: &str) -> bool {
    let token = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-.+_!#$&^".contains(&b))
    };
    let essence = value.split(';').next().unwrap_or_default().trim();
    essence
        .split_once('/')
        .is_some_and(|(t, s)| token(t) && token(s))
}

fn is_absolute_http(url: &str) -> bool {
    (url.starts_with("https://") || url.starts_with("http://"))
        && !url.contains([' ', '"', '<', '>', '\\', '^', '`', '{', '|', '}'])
}

/// The lead image of every item of an RSS feed (`None`: no Media RSS),
/// checking the validator's rules on the way.
fn rss_images(xml: &[u8]) -> Vec<Option<(String, Option<String>)>> {
    let all = elements(xml);
    let rss = &all[0];
    assert_eq!(rss.1, "rss");
    let uses_media = all.iter().any(|(_, name, _)| name.starts_with("media:"));
    assert_eq!(
        rss.2.get("xmlns:media").map(String::as_str),
        uses_media.then_some(MEDIA_RSS),
        "xmlns:media declared exactly when used"
    );
    let items = all.iter().map(|e| e.0).max().unwrap_or(0);
    (1..=items)
        .map(|n| {
            let of = |element: &str| -> Vec<&BTreeMap<String, String>> {
                all.iter()
                    .filter(|(item, name, _)| *item == n && name == element)
                    .map(|(_, _, attributes)| attributes)
                    .collect()
            };
            let content = of("media:content");
            let thumbnail = of("media:thumbnail");
            assert!(content.len() <= 1 && thumbnail.len() == content.len());
            let content = content.first()?;
            let url = &content["url"];
            assert!(is_absolute_http(url), "media:content url {url}");
            assert!(
                ["image", "audio", "video", "document", "executable"]
                    .contains(&content["medium"].as_str())
            );
            if let Some(media_type) = content.get("type") {
                assert!(is_mime_type(media_type), "{media_type}");
            }
            for (key, _) in content.iter() {
                assert!(["url", "medium", "type"].contains(&key.as_str()), "{key}");
            }
            assert_eq!(&thumbnail[0]["url"], url, "media:thumbnail url");
            Some((url.clone(), content.get("type").cloned()))
        })
        .collect()
}

/// The enclosure of every entry of an Atom feed, checking the rules.
fn atom_images(xml: &[u8]) -> Vec<Option<(String, Option<String>)>> {
    let all = elements(xml);
    let entries = all.iter().map(|e| e.0).max().unwrap_or(0);
    (1..=entries)
        .map(|n| {
            let enclosures: Vec<&BTreeMap<String, String>> = all
                .iter()
                .filter(|(entry, name, a)| {
                    *entry == n
                        && name == "link"
                        && a.get("rel").map(String::as_str) == Some("enclosure")
                })
                .map(|(_, _, a)| a)
                .collect();
            assert!(enclosures.len() <= 1, "one enclosure per entry");
            let link = enclosures.first()?;
            assert!(is_absolute_http(&link["href"]), "{}", link["href"]);
            if let Some(media_type) = link.get("type") {
                assert!(is_mime_type(media_type), "{media_type}");
            }
            Some((link["href"].clone(), link.get("type").cloned()))
        })
        .collect()
}

fn json_images(bytes: &[u8]) -> Vec<Option<String>> {
    let feed: serde_json::Value = serde_json::from_slice(bytes).unwrap();
    feed["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|item| item.get("image").map(|i| i.as_str().unwrap().to_string()))
        .collect()
}

fn site_with_images() -> Site {
    let site = Site::new("");
    let article = |name: &str, date: &str, text: &str| {
        site.write(
            format!("Kinh tế/{name}"),
            format!("+++\ndate = \"{date}\"\n{text}"),
        );
    };
    article(
        "a.md",
        "2026-11-20 08:00",
        "title = \"Tuyệt đối\"\nimage = \"https://cdn.example.vn/lua.JPEG?w=800&h=600\"\n+++\n\nĐoạn ![khác](https://x.example/y.png).\n",
    );
    article(
        "b.md",
        "2026-11-20 07:00",
        "title = \"Tương đối\"\nimage = \"anh/ảnh lúa.webp\"\n+++\n\nĐoạn.\n",
    );
    article(
        "c.md",
        "2026-11-20 06:00",
        "+++\n# Ảnh đầu bài\n\nChữ <img src=\"javascript:alert(1)\"> rồi ![a](/images/dau.png \"t\") và ![b](/images/sau.gif).\n",
    );
    article(
        "d.txt",
        "2026-11-20 05:00",
        "title = \"Chữ có ảnh\"\nimage = \"/images/d\"\n+++\nThân.\n",
    );
    article(
        "e.md",
        "2026-11-20 04:00",
        "+++\n# Không ảnh\n\nChỉ chữ, và <img alt=\"không src\">.\n",
    );
    site.build();
    site
}

#[test]
fn the_lead_image_is_in_every_format_and_the_formats_agree() {
    let site = site_with_images();
    let files = site.files();
    let expected: Vec<Option<(&str, Option<&str>)>> = vec![
        Some((
            "https://cdn.example.vn/lua.JPEG?w=800&h=600",
            Some("image/jpeg"),
        )),
        Some((
            "https://news.example.vn/kinh-te/anh/%E1%BA%A3nh%20l%C3%BAa.webp",
            Some("image/webp"),
        )),
        Some(("https://news.example.vn/images/dau.png", Some("image/png"))),
        Some(("https://news.example.vn/images/d", None)),
        None,
    ];
    let expected: Vec<Option<(String, Option<String>)>> = expected
        .iter()
        .map(|e| e.map(|(url, media_type)| (url.to_string(), media_type.map(str::to_string))))
        .collect();
    let urls: Vec<Option<String>> = expected
        .iter()
        .map(|e| e.as_ref().map(|(url, _)| url.clone()))
        .collect();
    for scope in ["", "/kinh-te"] {
        let rss = rss_images(&files[&format!("{scope}/rss.xml")]);
        assert_eq!(rss, expected, "{scope}/rss.xml");
        let atom = atom_images(&files[&format!("{scope}/atom.xml")]);
        assert_eq!(atom, expected, "{scope}/atom.xml");
        let json = json_images(&files[&format!("{scope}/feed.json")]);
        assert_eq!(json, urls, "{scope}/feed.json");
    }
    // feed-rs, a reader's parser, finds them where readers look.
    let rss = site.feed("/kinh-te/rss.xml");
    let media_url = rss.entries[0].media[0].content[0]
        .url
        .as_ref()
        .map(|u| u.to_string());
    assert_eq!(
        media_url.as_deref(),
        Some("https://cdn.example.vn/lua.JPEG?w=800&h=600")
    );
}

#[test]
fn feeds_without_images_declare_no_media_namespace() {
    let site = Site::new("");
    site.write("Kinh tế/a.txt", "Tin\n\nThân.\n");
    site.build();
    let rss = &site.files()["/kinh-te/rss.xml"];
    assert_eq!(rss_images(rss), [None]);
    assert!(!String::from_utf8_lossy(rss).contains("xmlns:media"));
}

#[test]
fn an_unusable_image_is_rejected_with_its_file_and_line() {
    for (value, fragment) in [
        ("\"\"", "image is empty"),
        ("\"javascript:alert(1)\"", "is not an http(s) URL"),
        ("\"data:image/png;base64,AAAA\"", "is not an http(s) URL"),
        ("\"ftp://cdn.example.vn/a.jpg\"", "is not an http(s) URL"),
        ("\"https://[::1\"", "is not a usable URL"),
        ("\"a\\u0007.jpg\"", "control character"),
        ("42", "front matter: invalid type"),
    ] {
        let site = Site::new("");
        site.write("Kinh tế/ok.txt", "Tin tốt\n\nThân.\n");
        site.write(
            "Kinh tế/bad.md",
            format!("+++\ntitle = \"T\"\nimage = {value}\n+++\nThân.\n"),
        );
        let run = site.run("build");
        assert_eq!(run.code, Some(1), "{value}: {run}");
        let path = site.article("Kinh tế/bad.md");
        let line = run
            .stderr_lines()
            .into_iter()
            .find(|l| l.contains("bad.md"))
            .unwrap_or_else(|| panic!("{value}: no error line: {run}"));
        assert!(
            line.starts_with(&format!("{}:3:9: ", path.display())),
            "{value}: {line}"
        );
        assert!(line.contains(fragment), "{value}: {line}");
        // The good article is published all the same.
        assert_eq!(site.feed("/kinh-te/rss.xml").entries.len(), 1);
    }
}
