//! OPML 2.0 (<http://opml.org/spec2.opml>): the list of every feed of the
//! site, for one-click subscription to all of them (`newsboat -i`, "import
//! OPML" in most readers).
//!
//! Pure: the same feeds give the same bytes, so the file is rewritten only
//! when a category appears, goes, or is renamed (or the site's title,
//! description, language or base URL change).

use crate::catalog::FeedMeta;
use crate::config::Config;
use crate::output::{Format, OutputPath};

/// One `<outline type="rss">` per feed, the site's first, each with its
/// title (`text` and `title`), description, RSS feed (`xmlUrl`), site page
/// (`htmlUrl`) and language. `type="rss"` is what OPML 2.0 calls any feed
/// a reader subscribes to; `xmlUrl` names the RSS 2.0 feed, which every
/// reader can read.
pub fn render_opml(config: &Config, feeds: &[FeedMeta]) -> Vec<u8> {
    let site = &config.site;
    let mut out = String::with_capacity(256 + feeds.len() * 320);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<opml version=\"2.0\">\n  <head>\n");
    out.push_str("    <title>");
    escape_into(&site.title, &mut out);
    // No `<docs>`: optional, and the W3C validator, which knows only the
    // head elements of OPML 1.0, warns on it.
    out.push_str("</title>\n  </head>\n  <body>\n");
    for feed in feeds {
        let rss = OutputPath::new(feed.scope.clone(), Format::Rss);
        let xml_url = format!("{}{}", site.base_url, rss.url_path());
        out.push_str("    <outline type=\"rss\"");
        for (name, value) in [
            ("text", feed.title.as_str()),
            ("title", &feed.title),
            ("description", &feed.description),
            ("xmlUrl", &xml_url),
            ("htmlUrl", &feed.link),
            ("language", &site.language),
        ] {
            out.push(' ');
            out.push_str(name);
            out.push_str("=\"");
            escape_into(value, &mut out);
            out.push('"');
        }
        out.push_str("/>\n");
    }
    out.push_str("  </body>\n</opml>\n");
    out.into_bytes()
}

/// `text` as XML character data or a double-quoted attribute value. Tabs
/// and line breaks become character references, which attribute-value
/// normalisation would otherwise turn into spaces. The text holds no
/// character XML forbids (config and articles are cleaned when read).
fn escape_into(text: &str, out: &mut String) {
    const REFERENCES: [(u8, &str); 7] = [
        (b'&', "&amp;"),
        (b'<', "&lt;"),
        (b'>', "&gt;"),
        (b'"', "&quot;"),
        (b'\t', "&#x9;"),
        (b'\n', "&#xA;"),
        (b'\r', "&#xD;"),
    ];
    crate::xml_text::escape_runs(text, &REFERENCES, |run| out.push_str(run));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_and_whitespace_in_names_are_escaped() {
        let mut out = String::new();
        escape_into("A & <B> \"c\"\td\ne", &mut out);
        assert_eq!(out, "A &amp; &lt;B&gt; &quot;c&quot;&#x9;d&#xA;e");
    }
}
