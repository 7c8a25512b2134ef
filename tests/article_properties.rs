//! Properties of the article parser and the renderers over generated input:
//! `parse_article` never panics, whatever the bytes and the file name, and
//! every article it accepts renders to RSS, Atom and JSON Feed that feed-rs
//! parses, and to a list of feeds (OPML) that is well-formed XML.
//! The generators mix arbitrary bytes with the fragments that matter (front
//! matter delimiters and keys, dates, bylines, Markdown and HTML syntax,
//! Vietnamese letters, combining marks, XML-forbidden characters).

use std::path::Path;
use std::sync::Arc;

use feedd::article::{parse_article, parse_article_with_body};
use feedd::catalog::{Catalog, Scope};
use feedd::config::Config;
use feedd::render::{render_atom, render_json_feed, render_opml, render_rss};
use feedd::state::StateStore;
use proptest::prelude::*;

const CONFIG: &str = "[site]\ntitle = \"Tin\"\nbase_url = \"https://news.example.vn\"\ntimezone = \"Asia/Ho_Chi_Minh\"\n\
[text]\nbyline_prefixes = [\"Theo \", \"Tin: \", \"Bài và ảnh: \", \"Đ\"]\n";

fn config() -> Config {
    Config::parse(Path::new("/srv/config/feedd.toml"), CONFIG).unwrap()
}

fn fragment() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "+++\n", "+++", "\n", "\n\n", "\r\n", "\r", "# ", "## ", "Theo ", "Tin: ", "Đ",
            "title = ", "date = ", "updated = ", "slug = ", "link = ", "categories = ",
            "category = ", "draft = true\n", "id = ", "summary = ", "author = ", "image = ",
            "\"", "\"\"\"", "'", "[", "]", "=", "2026-11-20", "2026-11-2Đx", "0000-01-01",
            "9999-12-31", "2026-02-30", "24:00", "T08:30:00+07:00", "Z", "-00:00",
            "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "]]>", "&", "&amp;",
            "&#106;avascript:", "[a](javascript:alert(1))", "[b](../c.html#x)", "![i](/i.jpg)",
            "<a href=\"x\">", "</a>", "[^1]", "[^1]: n\n", "|a|b|\n|-|-|\n", "~~x~~", "`c`",
            "```\n", "> ", "* ", "1. ", "<!--", "-->", "<![CDATA[",
            "\u{0}", "\u{1}", "\u{B}", "\u{FFFE}", "\u{FFFF}", "\u{FEFF}", "\u{301}", "\u{85}",
            "Bộ NN&PTNT", "Chính trị", "Đời sống", "ế", " ", "\t", ".", "/", "..",
        ])
        .prop_map(String::from),
        2 => "\\PC{0,16}",
        1 => any::<char>().prop_map(String::from),
    ]
}

fn text() -> impl Strategy<Value = String> {
    prop::collection::vec(fragment(), 0..48).prop_map(|parts| parts.concat())
}

fn front_matter_value() -> impl Strategy<Value = String> {
    prop_oneof![
        text().prop_map(|t| format!("{t:?}")),
        text(),
        Just("2026-11-20T08:30:00".to_string()),
        Just("0000-01-01".to_string()),
        Just("08:30:00".to_string()),
        prop::sample::select(vec![
            "\"https://cdn.example.vn/a.jpg\"",
            "\"/i/a b.png\"",
            "\"../x.gif?a=1&b=2\"",
            "\"http:\\\"\"",
            "\"javascript:alert(1)\"",
            "\"//\"",
        ])
        .prop_map(String::from),
        any::<i64>().prop_map(|n| n.to_string()),
        any::<bool>().prop_map(|b| b.to_string()),
        prop::collection::vec(text(), 0..4).prop_map(|items| format!("{items:?}")),
    ]
}

fn front_matter() -> impl Strategy<Value = String> {
    let key = prop::sample::select(vec![
        "title",
        "date",
        "updated",
        "author",
        "category",
        "categories",
        "slug",
        "id",
        "link",
        "summary",
        "draft",
        "image",
        "titel",
    ]);
    prop::collection::vec((key, front_matter_value()), 0..6).prop_map(|pairs| {
        let mut out = String::from("+++\n");
        for (key, value) in pairs {
            out.push_str(&format!("{key} = {value}\n"));
        }
        out.push_str("+++\n");
        out
    })
}

/// A file's bytes: generated text with or without front matter, arbitrary
/// bytes, or generated text with a few bytes overwritten.
fn content() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        (prop::option::of(front_matter()), text()).prop_map(|(front, body)| {
            format!("{}{body}", front.unwrap_or_default()).into_bytes()
        }),
        prop::collection::vec(any::<u8>(), 0..600),
        (
            text(),
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..6)
        )
            .prop_map(|(text, edits)| {
                let mut bytes = text.into_bytes();
                if !bytes.is_empty() {
                    for (index, byte) in edits {
                        let at = index.index(bytes.len());
                        bytes[at] = byte;
                    }
                }
                bytes
            }),
    ]
}

/// A path relative to the articles folder: any components (`..`, empty,
/// NUL, Vietnamese, dated), any extension.
fn relative_name() -> impl Strategy<Value = String> {
    let component = prop_oneof![
        prop::sample::select(vec![
            "Chính trị",
            "Đời sống",
            "2026-11-20-tin",
            "2026-11-2Đx",
            "2026-13-45",
            "..",
            ".",
            "",
            ".hidden",
            "!!!",
            "a b",
            "Đ",
        ])
        .prop_map(String::from),
        "\\PC{0,12}",
        any::<String>(),
    ];
    let extension = prop::sample::select(vec![
        ".txt",
        ".md",
        ".markdown",
        ".TXT",
        ".Md",
        "",
        ".tmp",
        ".txt~",
    ]);
    (prop::collection::vec(component, 1..4), extension)
        .prop_map(|(parts, extension)| format!("{}{extension}", parts.join("/")))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn parse_article_never_panics(relative in relative_name(), bytes in content()) {
        let config = config();
        let path = Path::new("/srv/articles").join(&relative);
        let metadata = parse_article(&config, &path, Path::new(&relative), &bytes);
        let full = parse_article_with_body(&config, &path, Path::new(&relative), &bytes);
        // Metadata is read for every article, the body only for those a
        // feed shows: both must accept and reject the same files alike.
        match (&metadata, &full) {
            (Ok(metadata), Ok((article, _))) => prop_assert_eq!(metadata, article),
            (Err(a), Err(b)) => prop_assert_eq!(a.to_string(), b.to_string()),
            _ => prop_assert!(false, "with and without the body disagree: {:?} / {:?}", metadata, full),
        }
        match full {
            Ok((article, body)) => {
                prop_assert!(!article.title.is_empty());
                prop_assert!(article.title.chars().count() <= 300);
                prop_assert!(!body.content_html.to_ascii_lowercase().contains("<script"));
            }
            Err(error) => {
                let message = error.to_string();
                prop_assert!(message.starts_with(&path.display().to_string()), "{message}");
            }
        }
    }
}

proptest! {
    // Each case writes a file and reads it back through the catalog.
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn every_accepted_article_renders_to_feeds_that_parse(
        markdown in any::<bool>(),
        front in prop::option::of(front_matter()),
        body in text(),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let articles = dir.path().join("articles");
        let relative = if markdown { "Kinh tế/bai.md" } else { "Kinh tế/2026-11-20-bai.txt" };
        std::fs::create_dir_all(articles.join("Kinh tế")).unwrap();
        let bytes = format!("{}{body}", front.unwrap_or_default()).into_bytes();
        std::fs::write(articles.join(relative), &bytes).unwrap();
        let config = Config::parse(
            &dir.path().join("feedd.toml"),
            &format!("{CONFIG}[paths]\narticles = \"articles\"\noutput = \"feeds\"\nstate = \"state\"\n"),
        )
        .unwrap();
        let accepted = parse_article(&config, &articles.join(relative), Path::new(relative), &bytes);
        let mut catalog = Catalog::new(Arc::new(config), StateStore::in_memory());
        let changes = catalog.rescan();
        prop_assert_eq!(changes.rejected.len(), usize::from(accepted.is_err()));
        // Far enough ahead that scheduled articles are published too.
        let now: jiff::Timestamp = "9999-12-30T00:00:00Z".parse().unwrap();
        for scope in catalog.scopes(now) {
            let (meta, entries) = catalog.feed(&scope, now).unwrap();
            let (items, left_out) = catalog.with_bodies(entries);
            prop_assert!(left_out.is_empty(), "{:?}", left_out);
            let rss = render_rss(catalog.config(), &meta, &items).unwrap();
            let atom = render_atom(catalog.config(), &meta, &items).unwrap();
            let json = render_json_feed(catalog.config(), &meta, &items).unwrap();
            prop_assert!(serde_json::from_slice::<serde_json::Value>(&json).is_ok());
            for (name, xml) in [("rss", &rss), ("atom", &atom), ("json", &json)] {
                let feed = feed_rs::parser::parse(xml.as_slice());
                prop_assert!(feed.is_ok(), "{} {:?}: {:?}\n{}", name, scope, feed.err(), String::from_utf8_lossy(xml));
                prop_assert_eq!(feed.unwrap().entries.len(), items.len());
            }
        }
        let opml = render_opml(catalog.config(), &catalog.feed_list(now));
        let mut reader = quick_xml::Reader::from_reader(opml.as_slice());
        let mut buffer = Vec::new();
        loop {
            match reader.read_event_into(&mut buffer) {
                Ok(quick_xml::events::Event::Eof) => break,
                Ok(_) => buffer.clear(),
                Err(e) => prop_assert!(false, "OPML: {e}\n{}", String::from_utf8_lossy(&opml)),
            }
        }
        if accepted.as_ref().is_ok_and(|a| !a.draft) {
            prop_assert!(catalog.scopes(now).contains(&Scope::All));
        }
    }
}

/// Atom contents are put in place after the XML writer ran (render.rs,
/// `with_contents`): each entry gets its own body, escaped as the writer
/// escapes text, also when a title or summary holds the mark that stands
/// for a content while the writer runs.
#[test]
fn every_atom_entry_carries_its_own_body_even_when_a_title_holds_the_content_mark() {
    let dir = tempfile::tempdir().unwrap();
    let articles = dir.path().join("articles");
    std::fs::create_dir_all(articles.join("Kinh tế")).unwrap();
    let bodies = [
        "Giá lúa <b>tăng</b> & \"mạnh\" ở 'miền Tây'.",
        "Bộ NN&PTNT: <i>giữ</i> giá.",
        "",
    ];
    for (n, body) in bodies.iter().enumerate() {
        std::fs::write(
            articles.join(format!("Kinh tế/2026-11-2{n}-bai-{n}.md")),
            format!("+++\ntitle = \"Bài {n} \u{F8FF}feedd:content\u{F8FF}\"\n+++\n{body}\n"),
        )
        .unwrap();
    }
    std::fs::write(
        articles.join("Kinh tế/2026-11-25-binh-thuong.txt"),
        "Tin bình thường\n\nMột đoạn có <thẻ> & 'nháy'.\n",
    )
    .unwrap();
    let config = Config::parse(
        &dir.path().join("feedd.toml"),
        &format!(
            "{CONFIG}[paths]\narticles = \"articles\"\noutput = \"feeds\"\nstate = \"state\"\n"
        ),
    )
    .unwrap();
    let mut catalog = Catalog::new(Arc::new(config), StateStore::in_memory());
    assert!(catalog.rescan().rejected.is_empty());
    let now: jiff::Timestamp = "2026-12-01T00:00:00Z".parse().unwrap();
    for scope in [Scope::All, Scope::Category("kinh-te".into())] {
        let (meta, entries) = catalog.feed(&scope, now).unwrap();
        let (items, _) = catalog.with_bodies(entries);
        assert_eq!(items.len(), 4);
        let atom = render_atom(catalog.config(), &meta, &items).unwrap();
        let feed = feed_rs::parser::parse(atom.as_slice()).unwrap();
        for (item, entry) in items.iter().zip(&feed.entries) {
            let content = entry.content.as_ref().and_then(|c| c.body.clone());
            assert_eq!(
                content.unwrap_or_default(),
                item.body.content_html,
                "{}",
                item.article.title
            );
            let title = &entry.title.as_ref().unwrap().content;
            assert_eq!(title, &item.article.title);
            assert_eq!(title.contains('\u{F8FF}'), title.starts_with("Bài"));
        }
    }

    // Without the mark in any text, the same bytes as with it nowhere else.
    let (meta, entries) = catalog.feed(&Scope::All, now).unwrap();
    let (items, _) = catalog.with_bodies(entries);
    let plain: Vec<_> = items
        .into_iter()
        .filter(|item| !item.article.title.contains('\u{F8FF}'))
        .collect();
    let atom = String::from_utf8(render_atom(catalog.config(), &meta, &plain).unwrap()).unwrap();
    assert!(
        atom.contains("<content type=\"html\">&lt;p&gt;Một đoạn có &amp;lt;thẻ&amp;gt; &amp;amp; &apos;nháy&apos;.&lt;/p&gt;</content>"),
        "{atom}"
    );
}
