//! The seed's plain-text format.

use super::{Body, ParsedBody};

/// The seed's format: title line, blank-line separated paragraphs, and a
/// byline that ends the body. `has_title`: the front matter gave the title,
/// so the first line is body text. `with_body`: also make the summary and
/// the HTML, which only the articles a feed shows need.
pub(super) fn parse_plain_text(
    body: &str,
    has_title: bool,
    byline_prefixes: &[String],
    with_body: bool,
) -> ParsedBody {
    let mut lines: Vec<&str> = body.lines().collect();
    let mut title = None;
    let mut title_offset = 0;
    if !has_title && let Some(index) = lines.iter().position(|l| !l.trim().is_empty()) {
        // `lines` split at LF only: `decode` turned every CR into LF.
        let skipped: usize = lines.iter().take(index).map(|l| l.len() + 1).sum();
        let line = lines.get(index).copied().unwrap_or_default();
        title_offset = skipped + line.len() - line.trim_start().len();
        title = Some(line.trim().to_string());
        lines.drain(..=index);
    }
    // The LAST short matching line is the byline, so that a body paragraph
    // such as "Theo thống kê, ..." earlier on stays in the body.
    let mut author = None;
    let mut byline_offset = None;
    if let Some(index) = lines
        .iter()
        .rposition(|l| is_byline(l.trim(), byline_prefixes))
    {
        let line = lines.get(index).map_or("", |l| l.trim());
        let name = byline_prefixes
            .iter()
            .find_map(|p| line.strip_prefix(p.as_str()))
            .unwrap_or(line);
        author = Some(name.trim().to_string()).filter(|a| !a.is_empty());
        // Every line is a slice of `body`, so its address gives its offset.
        byline_offset = lines
            .get(index)
            .map(|l| (l.as_ptr() as usize).saturating_sub(body.as_ptr() as usize));
        lines.truncate(index);
    }
    if !with_body {
        return ParsedBody {
            title,
            title_offset,
            author,
            byline_offset,
            body: None,
        };
    }

    let mut paragraphs: Vec<Vec<&str>> = Vec::new();
    let mut current: Vec<&str> = Vec::new();
    for line in lines {
        let line = line.trim();
        if line.is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
        } else {
            current.push(line);
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }

    let summary = paragraphs.first().map(|p| p.join(" ")).unwrap_or_default();
    // Escaping adds a little; seven bytes of markup per paragraph.
    let text_bytes: usize = paragraphs.iter().flatten().map(|line| line.len() + 1).sum();
    let mut content_html =
        String::with_capacity(text_bytes + text_bytes / 16 + 8 * paragraphs.len());
    for paragraph in &paragraphs {
        if !content_html.is_empty() {
            content_html.push('\n');
        }
        content_html.push_str("<p>");
        escape_html_into(&paragraph.join("\n"), &mut content_html);
        content_html.push_str("</p>");
    }
    ParsedBody {
        title,
        title_offset,
        author,
        byline_offset,
        body: Some(Body {
            summary,
            content_html,
            ..Body::default()
        }),
    }
}

fn is_byline(line: &str, prefixes: &[String]) -> bool {
    line.chars().count() <= 80 && prefixes.iter().any(|p| line.starts_with(p.as_str()))
}

/// Plain text as HTML text: `&`, `<`, `>` and `"` become references, so
/// that a literal `<b>` or the `&` of "Bộ NN&PTNT" is shown, not parsed.
/// The four are ASCII, so the text between them is copied a run at a time
/// (a char at a time was 5% of a build).
pub fn escape_html_into(text: &str, out: &mut String) {
    const ENTITIES: [(u8, &str); 4] = [
        (b'&', "&amp;"),
        (b'<', "&lt;"),
        (b'>', "&gt;"),
        (b'"', "&quot;"),
    ];
    out.reserve(text.len());
    crate::xml_text::escape_runs(text, &ENTITIES, |run| out.push_str(run));
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The escaping as it was written first, a character at a time.
    fn escaped_char_by_char(text: &str) -> String {
        let mut out = String::new();
        for c in text.chars() {
            match c {
                '&' => out.push_str("&amp;"),
                '<' => out.push_str("&lt;"),
                '>' => out.push_str("&gt;"),
                '"' => out.push_str("&quot;"),
                _ => out.push(c),
            }
        }
        out
    }

    #[test]
    fn markup_and_ampersands_are_escaped() {
        let mut out = String::from("<p>");
        escape_html_into(
            "Bộ NN&PTNT: <script>alert(\"x\")</script> & “Sở TT&TT”",
            &mut out,
        );
        assert_eq!(
            out,
            "<p>Bộ NN&amp;PTNT: &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; “Sở TT&amp;TT”"
        );
    }

    #[test]
    fn a_special_character_is_found_at_every_offset_across_chunks() {
        for special in ['&', '<', '>', '"'] {
            for before in 0..70 {
                let text = format!(
                    "{}{special}ộ",
                    "ạ".repeat(before / 3) + &"a".repeat(before % 3)
                );
                let mut out = String::new();
                escape_html_into(&text, &mut out);
                assert_eq!(
                    out,
                    escaped_char_by_char(&text),
                    "{special} after {before} bytes"
                );
            }
        }
    }

    proptest! {
        #[test]
        fn escaping_runs_equals_escaping_characters(text in "[a-zộ“&<>\"\\n ]{0,100}|\\PC{0,100}") {
            let mut out = String::new();
            escape_html_into(&text, &mut out);
            prop_assert_eq!(out, escaped_char_by_char(&text));
        }
    }
}
