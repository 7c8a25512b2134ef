//! What hostile article content becomes in the published feeds: read from
//! the raw XML that `feedd build` writes and through feed-rs.

mod common;

use common::Site;

fn rss_text(site: &Site, url_path: &str) -> String {
    let bytes = site.files().remove(url_path).expect(url_path);
    String::from_utf8(bytes).unwrap()
}

#[test]
fn rss_description_is_html_escaped_then_xml_escaped() {
    let site = Site::new("");
    site.write(
        "Chính trị/2026-11-20-a.txt",
        "Tin <b>một</b> & hai\n\nBộ NN&PTNT và Sở TT&TT nói <script>alert(1)</script> và <b>đậm</b>.\n\nThân bài.\n",
    );
    site.build();
    let rss = rss_text(&site, "/chinh-tri/rss.xml");
    let description = rss
        .split("<description>")
        .nth(2)
        .and_then(|d| d.split("</description>").next())
        .unwrap_or_else(|| panic!("no item description in\n{rss}"));
    assert_eq!(
        description,
        "Bộ NN&amp;amp;PTNT và Sở TT&amp;amp;TT nói &amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt; và &amp;lt;b&amp;gt;đậm&amp;lt;/b&amp;gt;."
    );
    // What an HTML-rendering reader gets after XML parsing: text, not markup.
    let feed = site.feed("/chinh-tri/rss.xml");
    let summary = &feed.entries[0].summary.as_ref().unwrap().content;
    assert_eq!(
        summary,
        "Bộ NN&amp;PTNT và Sở TT&amp;TT nói &lt;script&gt;alert(1)&lt;/script&gt; và &lt;b&gt;đậm&lt;/b&gt;."
    );
    // content:encoded and Atom were already right: HTML once, XML-escaped once.
    assert!(!rss.contains("<description><![CDATA["), "{rss}");
    assert!(
        rss.contains(
            "<content:encoded><![CDATA[<p>Bộ NN&amp;PTNT và Sở TT&amp;TT nói &lt;script&gt;"
        ),
        "{rss}"
    );
    let atom = String::from_utf8(site.files().remove("/chinh-tri/atom.xml").unwrap()).unwrap();
    assert!(
        atom.contains(
            "<summary type=\"html\">Bộ NN&amp;amp;PTNT và Sở TT&amp;amp;TT nói &amp;lt;script&amp;gt;alert(1)&amp;lt;/script&amp;gt;"
        ),
        "{atom}"
    );
    assert!(
        atom.contains("<content type=\"html\">&lt;p&gt;Bộ NN&amp;amp;PTNT"),
        "{atom}"
    );
    // Plain-text titles: RSS has no type, so `&`, `<` and `>` are written as
    // hexadecimal references (RSS Best Practices); Atom says type="html".
    assert!(
        rss.contains("<title>Tin &#x3C;b&#x3E;một&#x3C;/b&#x3E; &#x26; hai</title>"),
        "{rss}"
    );
    assert!(
        atom.contains(
            "<title type=\"html\">Tin &amp;lt;b&amp;gt;một&amp;lt;/b&amp;gt; &amp;amp; hai</title>"
        ),
        "{atom}"
    );
    assert_eq!(
        feed.entries[0].title.as_ref().unwrap().content,
        "Tin <b>một</b> & hai"
    );
}

#[test]
fn markdown_raw_html_is_sanitized_in_every_feed() {
    let site = Site::new("");
    site.write(
        "Kinh tế/2026-11-20-gia-lua.md",
        concat!(
            "# Giá lúa\n\nMở đầu.\n\n",
            "<script>alert(1)</script>\n\n",
            "<img src=\"anh/lua.jpg\" onerror=\"alert(1)\" alt=\"Lúa\">\n\n",
            "[bấm](javascript:alert(1)) <a href=\"JaVaScRiPt:alert(1)\">x</a> <a href=\"/gia-vang.html\">vàng</a>\n\n",
            "<iframe src=\"https://evil.example/\"></iframe><svg onload=alert(1)></svg><style>p{}</style>\n\n",
            "<figure><img src=\"/a.jpg\" alt=\"A\"><figcaption>Chú thích</figcaption></figure>\n\n",
            "| a | b |\n|---|---|\n| 1 | 2 |\n",
        ),
    );
    site.build();
    for url_path in [
        "/kinh-te/rss.xml",
        "/kinh-te/atom.xml",
        "/rss.xml",
        "/atom.xml",
    ] {
        let feed = site.feed(url_path);
        let content = feed.entries[0]
            .content
            .as_ref()
            .unwrap()
            .body
            .as_ref()
            .unwrap();
        let lower = content.to_ascii_lowercase();
        for bad in [
            "<script",
            "onerror",
            "javascript",
            "<iframe",
            "<svg",
            "onload",
            "<style",
        ] {
            assert!(!lower.contains(bad), "{url_path}: {bad} in {content}");
        }
        for kept in [
            "<img src=\"https://news.example.vn/kinh-te/anh/lua.jpg\" alt=\"Lúa\">",
            "<a href=\"https://news.example.vn/gia-vang.html\" rel=\"noopener noreferrer\">vàng</a>",
            "<figure><img src=\"https://news.example.vn/a.jpg\" alt=\"A\"><figcaption>Chú thích</figcaption></figure>",
            "<table>",
        ] {
            assert!(
                content.contains(kept),
                "{url_path}: {kept} not in {content}"
            );
        }
    }
}

#[test]
fn a_letter_typed_into_a_date_is_a_clear_error_not_a_panic() {
    let site = Site::new("");
    site.write(
        "a.md",
        "+++\ntitle = \"Tin\"\ndate = \"2026-11-2Đx\"\n+++\nBody.\n",
    );
    site.write("2026-11-2Đx-b.txt", "Tin\n\nBody.\n");
    site.write(
        "c.md",
        "+++\ntitle = \"Tin\"\ndate = 0000-06-01\n+++\nBody.\n",
    );
    site.write("good.txt", "Tin tốt\n\nBody.\n");
    for command in ["check", "build"] {
        let run = site.run(command);
        assert_eq!(run.code, Some(1), "{run}");
        let a = site.article("a.md");
        let c = site.article("c.md");
        assert!(
            run.stderr.contains(&format!(
                "{}:3:8: date: \"2026-11-2Đx\" is not a valid date",
                a.display()
            )),
            "{run}"
        );
        assert!(
            run.stderr.contains(&format!(
                "{}:3:8: date: \"0000-06-01\" is outside years 1 to 9999",
                c.display()
            )),
            "{run}"
        );
        assert!(!run.stderr.contains("panicked"), "{run}");
    }
    let feed = site.feed("/rss.xml");
    let mut titles: Vec<_> = feed
        .entries
        .iter()
        .map(|e| e.title.as_ref().unwrap().content.as_str())
        .collect();
    titles.sort();
    // The file whose name starts with a broken date has no date prefix: it is an article.
    assert_eq!(titles, ["Tin", "Tin tốt"]);
}

#[test]
fn titles_over_300_characters_are_rejected_with_their_position() {
    let site = Site::new("");
    let long = "Đ".repeat(301);
    site.write("a.txt", format!("\n  {long}\n\nBody.\n"));
    site.write("b.md", format!("Intro.\n\n# {long}\n"));
    site.write(
        "c.md",
        format!("+++\ndraft = false\ntitle = \"{long}\"\n+++\nBody.\n"),
    );
    site.write("ok.txt", format!("{}\n\nBody.\n", "Đ".repeat(300)));
    let run = site.run("check");
    assert_eq!(run.code, Some(1), "{run}");
    for (file, position) in [("a.txt", "2:3"), ("b.md", "3:1"), ("c.md", "3:9")] {
        let expected = format!(
            "{}:{position}: the title is 301 characters long, more than 300; ",
            site.article(file).display()
        );
        assert!(run.stderr.contains(&expected), "{expected}\n{run}");
    }
    assert!(!run.stderr.contains("ok.txt"), "{run}");
}
