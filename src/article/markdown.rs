//! Markdown articles.

use super::{Body, ParsedBody, html};

/// CommonMark plus tables, footnotes and strikethrough, sanitized (see
/// [`html::sanitize`], which also makes relative links absolute). Unless the
/// front matter gave the title (`has_title`), the first `#` heading becomes
/// the title and leaves the body, so it is not shown twice. `with_body`:
/// also render and sanitize the HTML, which only the articles a feed shows
/// need; without it the text is parsed only as far as the title.
pub(super) fn parse_markdown(
    body: &str,
    has_title: bool,
    article_link: &str,
    with_body: bool,
) -> ParsedBody {
    use pulldown_cmark::{Event, HeadingLevel, Options, Parser, Tag, TagEnd};

    let options =
        Options::ENABLE_TABLES | Options::ENABLE_FOOTNOTES | Options::ENABLE_STRIKETHROUGH;
    let mut title: Option<String> = None;
    let mut title_offset = 0;
    let mut title_taken = has_title;
    let mut in_title = false;
    let mut summary: Option<String> = None;
    let mut paragraph_text: Option<String> = None;
    let mut events = Vec::new();
    for (event, range) in Parser::new_ext(body, options).into_offset_iter() {
        match &event {
            Event::Start(Tag::Heading {
                level: HeadingLevel::H1,
                ..
            }) if !title_taken => {
                in_title = true;
                title_taken = true;
                title = Some(String::new());
                title_offset = range.start;
                continue;
            }
            Event::End(TagEnd::Heading(HeadingLevel::H1)) if in_title => {
                in_title = false;
                if !with_body {
                    break;
                }
                continue;
            }
            Event::Text(t) | Event::Code(t) if in_title => {
                title.get_or_insert_default().push_str(t);
                continue;
            }
            _ if in_title => continue,
            Event::Start(Tag::Paragraph) if summary.is_none() => {
                paragraph_text = Some(String::new())
            }
            Event::End(TagEnd::Paragraph) if summary.is_none() => {
                summary = paragraph_text
                    .take()
                    .map(|s| s.trim().to_string())
                    .filter(|s| !s.is_empty());
            }
            Event::Text(t) | Event::Code(t) => {
                if let Some(text) = paragraph_text.as_mut() {
                    text.push_str(t);
                }
            }
            Event::SoftBreak | Event::HardBreak => {
                if let Some(text) = paragraph_text.as_mut() {
                    text.push(' ');
                }
            }
            _ => {}
        }
        if with_body {
            events.push(event);
        } else if title_taken && !in_title {
            break;
        }
    }
    let title = title.map(|t| t.trim().to_string());
    if !with_body {
        return ParsedBody {
            title,
            title_offset,
            author: None,
            byline_offset: None,
            body: None,
        };
    }
    let mut rendered = String::with_capacity(body.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut rendered, events.into_iter());
    ParsedBody {
        title,
        title_offset,
        author: None,
        byline_offset: None,
        body: Some(Body {
            summary: summary.unwrap_or_default(),
            content_html: html::sanitize(&rendered, article_link)
                .trim_end()
                .to_string(),
            ..Body::default()
        }),
    }
}
