//! An article's lead image: front matter `image` (an absolute URL, or a
//! path made absolute against the article's link), else the first image of
//! a Markdown body once sanitized. Feeds carry it the way readers look for
//! it (Media RSS, an Atom enclosure link, JSON Feed's `image`), so it must
//! be an absolute http(s) URL, and its media type is known when its file
//! name says it.

use url::Url;

/// The lead image of an article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeadImage {
    /// Absolute http(s) URL, serialized by the URL parser (so that spaces
    /// and other characters a URI cannot hold are percent-encoded).
    pub url: String,
    /// `image/jpeg`, ... from the file name's extension, when it is one of
    /// the common image formats; `None` otherwise (no type is better than
    /// a wrong one).
    pub media_type: Option<&'static str>,
}

impl LeadImage {
    fn new(url: Url) -> LeadImage {
        let media_type = media_type_of(&url);
        LeadImage {
            url: url.into(),
            media_type,
        }
    }
}

/// Front matter `image` against the article's link. An error says what is
/// wrong and what to write instead.
pub(super) fn resolve(value: &str, article_link: &str) -> Result<LeadImage, String> {
    const WHAT: &str = "write an absolute http(s) URL (\"https://cdn.example.vn/a.jpg\") or a path \
                        made absolute against the article's link (\"/images/a.jpg\", \"a.jpg\")";
    let value = value.trim();
    if value.is_empty() {
        return Err(format!("image is empty; {WHAT}, or remove the key"));
    }
    if value.chars().any(char::is_control) {
        return Err(format!("image holds a control character; {WHAT}"));
    }
    let url = Url::parse(article_link)
        .and_then(|base| base.join(value))
        .map_err(|e| format!("image {value:?} is not a usable URL ({e}); {WHAT}"))?;
    if !is_http_uri(&url) {
        return Err(format!(
            "image {value:?} is not an http(s) URL (it resolves to {:?}); {WHAT}",
            url.as_str()
        ));
    }
    Ok(LeadImage::new(url))
}

/// The first `<img src>` of sanitized HTML that is an absolute http(s)
/// URL. The sanitizer's serializer writes every attribute double-quoted,
/// with `&` as `&amp;` and `"` as `&quot;`, and has made relative sources
/// absolute; anything it did not write (no quote, another scheme) is
/// skipped rather than guessed at.
pub(super) fn first_image(html: &str) -> Option<LeadImage> {
    let mut rest = html;
    while let Some((_, after)) = rest.split_once("<img ") {
        let tag = after.split_once('>').map_or(after, |(tag, _)| tag);
        rest = after;
        let Some((_, value)) = tag
            .split_once(" src=\"")
            .or_else(|| tag.strip_prefix("src=\"").map(|value| ("", value)))
        else {
            continue;
        };
        let Some((src, _)) = value.split_once('"') else {
            continue;
        };
        let src = src.replace("&quot;", "\"").replace("&amp;", "&");
        if let Ok(url) = Url::parse(&src)
            && is_http_uri(&url)
        {
            return Some(LeadImage::new(url));
        }
    }
    None
}

/// Whether `url` is http(s) with a host, and written with only the
/// characters RFC 3986 allows: the URL parser accepts hosts such as `"`
/// (WHATWG URLs are more lenient than URIs), which readers and validators
/// would not take.
fn is_http_uri(url: &Url) -> bool {
    matches!(url.scheme(), "http" | "https")
        && url.host_str().is_some_and(|host| !host.is_empty())
        && url
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~:/?#[]@!$&'()*+,;=%".contains(&b))
}

/// The media type a URL's file name says, for the image formats browsers
/// and readers show.
fn media_type_of(url: &Url) -> Option<&'static str> {
    let name = url.path_segments()?.next_back()?;
    let (_, extension) = name.rsplit_once('.')?;
    Some(match extension.to_ascii_lowercase().as_str() {
        "jpg" | "jpeg" | "jpe" => "image/jpeg",
        "png" => "image/png",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "avif" => "image/avif",
        "svg" => "image/svg+xml",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const LINK: &str = "https://news.example.vn/kinh-te/gia-lua.html";

    #[test]
    fn absolute_and_relative_values_resolve_against_the_link() {
        for (value, url, media_type) in [
            (
                "https://cdn.example.vn/a.JPG",
                "https://cdn.example.vn/a.JPG",
                Some("image/jpeg"),
            ),
            (
                "/images/lua.png",
                "https://news.example.vn/images/lua.png",
                Some("image/png"),
            ),
            (
                "anh/lua.webp?w=800",
                "https://news.example.vn/kinh-te/anh/lua.webp?w=800",
                Some("image/webp"),
            ),
            ("//img.example.vn/x", "https://img.example.vn/x", None),
            (
                " ảnh lúa.jpg ",
                "https://news.example.vn/kinh-te/%E1%BA%A3nh%20l%C3%BAa.jpg",
                Some("image/jpeg"),
            ),
            (
                "http://cdn.example.vn/b.svg#x",
                "http://cdn.example.vn/b.svg#x",
                Some("image/svg+xml"),
            ),
        ] {
            let image = resolve(value, LINK).unwrap();
            assert_eq!(image.url, url, "{value:?}");
            assert_eq!(image.media_type, media_type, "{value:?}");
        }
    }

    #[test]
    fn unusable_values_are_errors() {
        for value in [
            "",
            "   ",
            "javascript:alert(1)",
            "data:image/png;base64,AAAA",
            "mailto:a@example.vn",
            "ftp://cdn.example.vn/a.jpg",
            "http://",
            "https://[::1",
            "a\u{7}.jpg",
        ] {
            assert!(resolve(value, LINK).is_err(), "{value:?}");
        }
    }

    #[test]
    fn the_first_http_image_of_sanitized_html_is_the_lead() {
        let html = "<p>x</p><img alt=\"a\"><img src=\"mailto:x\"><figure><img src=\"https://cdn.example.vn/a.jpg?w=1&amp;h=2\" alt=\"Ảnh\"></figure><img src=\"https://cdn.example.vn/b.png\">";
        let image = first_image(html).unwrap();
        assert_eq!(image.url, "https://cdn.example.vn/a.jpg?w=1&h=2");
        assert_eq!(image.media_type, Some("image/jpeg"));
        assert_eq!(first_image("<p>no image</p>"), None);
        assert_eq!(first_image("<img src=\"https://x.example/a.gif"), None);
        assert_eq!(
            first_image("<img src=\"https://x.example/a.gif\">")
                .unwrap()
                .url,
            "https://x.example/a.gif"
        );
    }

    proptest! {
        /// Whatever the text, resolving never panics and gives an absolute
        /// http(s) URL or an error.
        #[test]
        fn resolve_never_panics_and_gives_http_urls(value in "\\PC{0,40}|(https?:/{0,3}|/|\\.\\./|[a-z]+:)[\\PC&&[^ ]]{0,30}") {
            if let Ok(image) = resolve(&value, LINK) {
                prop_assert!(image.url.starts_with("http://") || image.url.starts_with("https://"), "{}", image.url);
                prop_assert!(!image.url.contains([' ', '"', '<', '>', '{', '|', '\\']), "{}", image.url);
            }
        }

        #[test]
        fn first_image_never_panics_and_gives_http_urls(html in "(<img |src=\"|\"|>|https://x\\.example/|&amp;|&quot;|[a-zé .]){0,24}") {
            if let Some(image) = first_image(&html) {
                prop_assert!(image.url.starts_with("http://") || image.url.starts_with("https://"), "{}", image.url);
            }
        }
    }
}
