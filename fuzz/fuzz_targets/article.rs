//! `parse_article` on arbitrary bytes. The first byte picks the file's
//! name (format, category folder, date prefix); the rest is its content.
//! Besides "no panic", every accepted article must keep the promises the
//! feeds rely on.
#![no_main]

use std::path::Path;
use std::sync::LazyLock;

use feedd::article::{MAX_TITLE_CHARS, parse_article, parse_article_with_body};
use feedd::config::Config;
use libfuzzer_sys::fuzz_target;

const NAMES: [&str; 6] = [
    "Chính trị/000_dcc753fbd64ee8d5.txt",
    "Kinh tế/gia-lua.md",
    "2026-11-20-tin.txt",
    "Đời sống/sâu/2026-11-20-tin.markdown",
    "a.md",
    "x/y.TXT",
];

static CONFIG: LazyLock<Config> = LazyLock::new(|| {
    Config::parse(
        Path::new("/srv/config/feedd.toml"),
        "[site]\ntitle = \"Tin\"\nbase_url = \"https://news.example.vn\"\ntimezone = \"Asia/Ho_Chi_Minh\"\n\
         [text]\nbyline_prefixes = [\"Theo \", \"Tin: \", \"Bài và ảnh: \", \"Đ\"]\n",
    )
    .expect("the fuzz config parses")
});

fn forbidden_in_xml(c: char) -> bool {
    matches!(c, '\u{0}'..='\u{8}' | '\u{B}' | '\u{C}' | '\u{E}'..='\u{1F}' | '\u{FFFE}' | '\u{FFFF}')
}

/// Walks HTML as ammonia serializes it (text has `<` escaped, attribute
/// values are double-quoted with `"` escaped) and checks every tag and
/// attribute against what the sanitizer promises.
fn check_sanitized(html: &str) {
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        let rest_lower = rest.to_ascii_lowercase();
        let name: String = rest_lower
            .trim_start_matches('/')
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric())
            .collect();
        assert!(!name.is_empty(), "a bare < in {html}");
        for banned in [
            "script", "style", "iframe", "svg", "math", "form", "input", "object", "embed", "base",
            "meta", "link",
        ] {
            assert_ne!(name, banned, "{html}");
        }
        // Attributes up to the closing `>`, skipping quoted values.
        let mut in_value = false;
        let mut attribute_start = 0;
        let mut end = rest.len();
        for (i, c) in rest.char_indices() {
            match c {
                '"' => {
                    if !in_value {
                        let before = &rest_lower[attribute_start..i];
                        let attribute = before
                            .trim_end_matches('=')
                            .rsplit(' ')
                            .next()
                            .unwrap_or("");
                        assert!(!attribute.starts_with("on"), "{attribute} in {html}");
                        let value_lower = rest_lower[i + 1..].split('"').next().unwrap_or("");
                        if matches!(attribute, "href" | "src" | "cite" | "action" | "formaction") {
                            for scheme in ["javascript:", "data:", "vbscript:"] {
                                assert!(
                                    !value_lower.trim_start().starts_with(scheme),
                                    "{value_lower} in {html}"
                                );
                            }
                        }
                    } else {
                        attribute_start = i + 1;
                    }
                    in_value = !in_value;
                }
                '>' if !in_value => {
                    end = i;
                    break;
                }
                _ => {}
            }
        }
        assert!(end < rest.len(), "an unclosed tag in {html}");
        rest = &rest[end..];
    }
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, content)) = data.split_first() else {
        return;
    };
    let relative = NAMES[usize::from(selector) % NAMES.len()];
    let path = Path::new("/srv/articles").join(relative);
    let metadata = parse_article(&CONFIG, &path, Path::new(relative), content);
    let full = parse_article_with_body(&CONFIG, &path, Path::new(relative), content);
    // The metadata-only parse must accept and reject exactly what the full one does.
    assert_eq!(metadata.as_ref().ok(), full.as_ref().ok().map(|(article, _)| article));
    let Ok((article, body)) = full else {
        return;
    };
    assert!(!article.title.is_empty());
    assert!(article.title.chars().count() <= MAX_TITLE_CHARS);
    for text in [
        &article.title,
        &body.summary,
        &body.content_html,
        &article.id,
        &article.link,
    ] {
        assert!(!text.contains(forbidden_in_xml), "{text:?}");
    }
    check_sanitized(&body.content_html);
    assert!(feedd::slug::is_slug(&article.slug), "{:?}", article.slug);
    assert!(article.link.starts_with("http"), "{}", article.link);
});
