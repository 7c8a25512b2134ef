//! The HTML that Markdown renders to, made safe to publish: feed readers,
//! "RSS to HTML" widgets and the site itself show it as HTML, so whatever raw
//! HTML an article holds must not run script there or break out of its item.

use std::borrow::Cow;
use std::cell::Cell;
use std::collections::HashSet;
use std::sync::LazyLock;

use ammonia::{Builder, UrlRelative, UrlRelativeEvaluate};
use url::Url;

/// Prefix of every `id` in an article's HTML (GitHub's choice for the same
/// problem): ids from articles must not clobber the ids or globals of the
/// page that shows them, nor collide between items of one feed.
const ID_PREFIX: &str = "user-content-";

/// `html` with only ordinary markup left (ammonia's allow-list: no script,
/// style, iframe, form, svg or event-handler attribute; only http, https,
/// mailto, tel and a few other harmless URL schemes, so no `javascript:` or
/// `data:`), plus the markup pulldown-cmark emits for footnotes and table
/// alignment. Relative `href`/`src` become absolute against `article_link`:
/// readers show the body far from the site, and few honour `xml:base`.
pub fn sanitize(html: &str, article_link: &str) -> String {
    match Url::parse(article_link) {
        Ok(base) => {
            let previous = ARTICLE_LINK.replace(Some(base));
            let cleaned = AGAINST_ARTICLE_LINK.clean(html).to_string();
            ARTICLE_LINK.set(previous);
            cleaned
        }
        // Links are checked to be absolute http(s) URLs; should one not
        // parse, dropping relative targets beats guessing.
        Err(_) => {
            let mut builder = allow_list();
            builder.url_relative(UrlRelative::Deny);
            builder.clean(html).to_string()
        }
    }
}

/// The allow-list, with relative URLs left to the caller's choice.
fn allow_list() -> Builder<'static> {
    let mut builder = Builder::default();
    builder
        .id_prefix(Some(ID_PREFIX))
        .add_generic_attributes(["id"])
        .add_tag_attributes("img", ["title"])
        .add_tag_attributes("th", ["style"])
        .add_tag_attributes("td", ["style"])
        .filter_style_properties(HashSet::from(["text-align"]))
        .add_allowed_classes("div", ["footnote-definition"])
        .add_allowed_classes("sup", ["footnote-reference", "footnote-definition-label"])
        .rm_url_schemes(["data"]);
    builder
}

thread_local! {
    /// The link of the article [`sanitize`] is cleaning on this thread.
    static ARTICLE_LINK: Cell<Option<Url>> = const { Cell::new(None) };
}

/// Made once: building ammonia's allow-list (hash sets of tags, attributes
/// and schemes) cost as much as cleaning a short article, for every
/// Markdown article read. The article's link reaches it through
/// [`ARTICLE_LINK`], set by [`sanitize`] around each `clean`.
static AGAINST_ARTICLE_LINK: LazyLock<Builder<'static>> = LazyLock::new(|| {
    let mut builder = allow_list();
    builder.url_relative(UrlRelative::Custom(Box::new(AgainstArticle)));
    builder
});

/// Resolves a relative URL against the link in [`ARTICLE_LINK`]; a link to
/// a fragment follows [`ID_PREFIX`], as the ids it points to do.
struct AgainstArticle;

impl<'a> UrlRelativeEvaluate<'a> for AgainstArticle {
    fn evaluate<'url>(&self, target: &'url str) -> Option<Cow<'url, str>> {
        let base = ARTICLE_LINK.take()?;
        let absolute = match target.strip_prefix('#') {
            Some(fragment) if !fragment.starts_with(ID_PREFIX) => {
                base.join(&format!("#{ID_PREFIX}{fragment}"))
            }
            _ => base.join(target),
        };
        ARTICLE_LINK.set(Some(base));
        absolute.ok().map(|url| Cow::Owned(url.into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LINK: &str = "https://news.example.vn/kinh-te/gia-lua.html";

    fn clean(html: &str) -> String {
        sanitize(html, LINK)
    }

    #[test]
    fn script_handlers_and_dangerous_urls_are_removed() {
        let hostile = [
            "<script>alert(1)</script>",
            "<img src=x onerror=alert(1)>",
            "<a href=\"javascript:alert(1)\">a</a>",
            "<a href=\"JaVaScRiPt:alert(1)\">a</a>",
            "<a href=\"&#106;avascript:alert(1)\">a</a>",
            "<a href=\"&#x6A;&#x61;vascript&colon;alert(1)\">a</a>",
            "<a href=\" java\tscript:alert(1)\">a</a>",
            "<a href=\"vbscript:msgbox(1)\">a</a>",
            "<iframe src=\"https://evil.example/\"></iframe>",
            "<style>body{display:none}</style>",
            "<svg onload=alert(1)><circle r=1 /></svg>",
            "<form action=\"https://evil.example/\"><input name=p></form>",
            "<object data=\"x.swf\"></object><embed src=\"x.swf\">",
            "<img src=\"data:image/svg+xml;base64,PHN2Zz4=\">",
            "<a href=\"data:text/html,<script>alert(1)</script>\">a</a>",
            "<p style=\"background:url(javascript:alert(1))\">x</p>",
            "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
            "<base href=\"https://evil.example/\"><meta http-equiv=refresh content=0>",
            "<div onclick=\"alert(1)\" onmouseover=alert(1)>x</div>",
            "<noscript><p title=\"</noscript><img src=x onerror=alert(1)>\"></noscript>",
        ];
        for html in hostile {
            let cleaned = clean(html).to_ascii_lowercase();
            for bad in [
                "<script",
                "onerror",
                "onload",
                "onclick",
                "onmouseover",
                "javascript",
                "vbscript",
                "<iframe",
                "<style",
                "<svg",
                "<form",
                "<input",
                "<object",
                "<embed",
                "data:",
                "<base",
                "<meta",
                "<math",
                "background",
            ] {
                assert!(!cleaned.contains(bad), "{html} -> {cleaned}");
            }
        }
    }

    #[test]
    fn ordinary_markup_survives() {
        let html = concat!(
            "<table><thead><tr><th style=\"text-align: center\">a</th></tr></thead>",
            "<tbody><tr><td style=\"text-align: right; color: red\">1</td></tr></tbody></table>",
            "<figure><img src=\"https://cdn.example.vn/a.jpg\" alt=\"Ảnh\" title=\"T\" width=\"640\" height=\"480\">",
            "<figcaption>Chú thích</figcaption></figure>",
            "<h2>H</h2><ul><li>x</li></ul><ol><li>y</li></ol><blockquote>q</blockquote>",
            "<pre><code>let x = 1 &lt; 2;</code></pre><del>old</del><em>e</em><strong>s</strong>",
            "<a href=\"https://x.example/\" title=\"t\">ngoài</a>",
        );
        let cleaned = clean(html);
        for kept in [
            "<th style=\"text-align:center\">a</th>",
            "<td style=\"text-align:right\">1</td>",
            "<figure><img src=\"https://cdn.example.vn/a.jpg\" alt=\"Ảnh\" title=\"T\" width=\"640\" height=\"480\">",
            "<figcaption>Chú thích</figcaption></figure>",
            "<h2>H</h2><ul><li>x</li></ul><ol><li>y</li></ol><blockquote>q</blockquote>",
            "<pre><code>let x = 1 &lt; 2;</code></pre><del>old</del><em>e</em><strong>s</strong>",
            "<a href=\"https://x.example/\" title=\"t\" rel=\"noopener noreferrer\">ngoài</a>",
        ] {
            assert!(cleaned.contains(kept), "{kept}\n{cleaned}");
        }
    }

    #[test]
    fn each_article_resolves_against_its_own_link_on_any_thread() {
        let link_of = |n: usize| format!("https://news.example.vn/muc-{n}/bai.html");
        let threads: Vec<_> = (0..4)
            .map(|thread| {
                std::thread::spawn(move || {
                    for n in (0..50).map(|i| thread * 100 + i) {
                        let cleaned = sanitize("<img src=\"a.jpg\">", &link_of(n));
                        let expected = format!("src=\"https://news.example.vn/muc-{n}/a.jpg\"");
                        assert!(cleaned.contains(&expected), "{n}: {cleaned}");
                    }
                })
            })
            .collect();
        for thread in threads {
            assert!(thread.join().is_ok());
        }
        // A link that does not parse drops relative targets, and the next
        // article is not affected.
        assert!(!sanitize("<img src=\"a.jpg\">", "not a url").contains("a.jpg"));
        assert!(sanitize("<img src=\"a.jpg\">", &link_of(7)).contains("/muc-7/a.jpg"));
    }

    #[test]
    fn relative_urls_become_absolute_and_fragments_follow_the_id_prefix() {
        for (target, expected) in [
            ("/images/a.jpg", "https://news.example.vn/images/a.jpg"),
            ("a.jpg", "https://news.example.vn/kinh-te/a.jpg"),
            (
                "../doi-song/b.html#x",
                "https://news.example.vn/doi-song/b.html#x",
            ),
            (
                "./c/./d.png?w=2",
                "https://news.example.vn/kinh-te/c/d.png?w=2",
            ),
            ("../../../e", "https://news.example.vn/e"),
            (
                "?trang=2",
                "https://news.example.vn/kinh-te/gia-lua.html?trang=2",
            ),
            ("//cdn.example.vn/f.png", "https://cdn.example.vn/f.png"),
            (
                "#phan-2",
                "https://news.example.vn/kinh-te/gia-lua.html#user-content-phan-2",
            ),
            ("https://other.example/x", "https://other.example/x"),
            ("mailto:toasoan@example.vn", "mailto:toasoan@example.vn"),
        ] {
            let cleaned = clean(&format!("<a href=\"{target}\">a</a><img src=\"{target}\">"));
            assert!(
                cleaned.contains(&format!("<a href=\"{expected}\"")),
                "{target}: {cleaned}"
            );
            if !target.starts_with("mailto") {
                assert!(
                    cleaned.contains(&format!("<img src=\"{expected}\"")),
                    "{target}: {cleaned}"
                );
            }
        }
        assert_eq!(
            clean("<h2 id=\"phan-2\">P</h2>"),
            "<h2 id=\"user-content-phan-2\">P</h2>"
        );
    }
}
