//! Pure functions from a feed's metadata and newest entries to RSS 2.0,
//! Atom 1.0 and JSON Feed 1.1 (`json_feed`) bytes, and from the list of
//! feeds to OPML 2.0 (`opml`).
//!
//! Knows no disk and no clock: every date comes from the entries, so
//! unchanged input gives byte-identical output.

use atom_syndication as atom;
use jiff::Timestamp;
use jiff::Zoned;
use jiff::tz::{Offset, TimeZone};
use memchr::memmem;
use rss::extension::atom::{AtomExtension, Link as RssAtomLink};
use rss::extension::dublincore::DublinCoreExtension;
use rss::extension::{Extension, ExtensionMap};

use crate::article::LeadImage;
use crate::catalog::{FeedItem, FeedMeta};
use crate::config::Config;
use crate::output::{Format, OutputPath, Scope};

mod json_feed;
mod opml;
pub use json_feed::render_json_feed;
pub use opml::render_opml;

/// The date the feeds carry: the latest updated date among the items, or
/// the Unix epoch for a feed with none. Never "now".
fn feed_updated(items: &[FeedItem]) -> Timestamp {
    items
        .iter()
        .map(|item| item.entry.updated)
        .max()
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// A feed that cannot be rendered as it should. Articles are checked so that
/// this does not happen (dates in years 1..=9999, text without XML-forbidden
/// characters); should it happen anyway, the feed's last good version stays
/// published rather than an empty or wrong one. Also: an article left out of
/// a feed because its file could no longer be read for its body.
#[derive(Debug, thiserror::Error)]
#[error("{feed}: {reason}")]
pub struct RenderError {
    /// The feed, shown as its URL path, e.g. `/kinh-te/rss.xml`.
    pub feed: OutputPath,
    /// What went wrong, and what became of the feed.
    pub reason: String,
}

impl RenderError {
    fn failed(feed: OutputPath, why: &str) -> RenderError {
        RenderError {
            feed,
            reason: format!("cannot render: {why}; the last good version stays published"),
        }
    }
}

/// `ts` in `tz`, at an offset of whole minutes. RFC 2822 and RFC 3339
/// offsets have no seconds, but a zone's local mean time before standard
/// time did (Asia/Ho_Chi_Minh until 1906: +07:06:40). Such an instant is
/// written at that offset rounded up to the minute: the same instant, with a
/// local time a few seconds later, so that 0001-01-01 does not fall back
/// into year 0. Years outside 1..=9999, which the article parser never
/// lets in, are an error: both formats have four-digit years.
fn in_zone(ts: Timestamp, tz: &TimeZone) -> Result<Zoned, String> {
    let seconds = tz.to_offset(ts).seconds();
    let zoned = if seconds % 60 == 0 {
        ts.to_zoned(tz.clone())
    } else {
        let whole_minutes = seconds.div_euclid(60) * 60 + 60;
        let zone = Offset::from_seconds(whole_minutes).map_or(TimeZone::UTC, Offset::to_time_zone);
        ts.to_zoned(zone)
    };
    if (1..=9999).contains(&zoned.year()) {
        Ok(zoned)
    } else {
        Err(format!("date {ts} is outside years 1 to 9999"))
    }
}

fn rfc2822(ts: Timestamp, tz: &TimeZone) -> Result<String, String> {
    jiff::fmt::rfc2822::to_string(&in_zone(ts, tz)?)
        .map_err(|e| format!("date {ts} cannot be written as RFC 2822: {e}"))
}

fn rfc3339(ts: Timestamp, tz: &TimeZone) -> Result<atom::FixedDateTime, String> {
    rfc3339_text(ts, tz).and_then(|text| {
        text.parse()
            .map_err(|e| format!("date {ts} cannot be written as RFC 3339: {text}: {e}"))
    })
}

/// `ts` as RFC 3339 text in `tz` (`2026-11-20T08:30:00+07:00`), as Atom and
/// JSON Feed write it.
fn rfc3339_text(ts: Timestamp, tz: &TimeZone) -> Result<String, String> {
    jiff::fmt::strtime::format("%Y-%m-%dT%H:%M:%S%:z", &in_zone(ts, tz)?)
        .map_err(|e| format!("date {ts} cannot be written as RFC 3339: {e}"))
}

/// Plain text as an Atom text construct: `type="text"`, or, when the text
/// holds `<` or `&`, the same text HTML-escaped as `type="html"`. Readers
/// show both alike, but validators (W3C's) warn on `type="text"` that looks
/// like markup (a literal `</b>`).
fn atom_text(text: &str) -> atom::Text {
    if text.contains(['<', '&']) {
        atom::Text::html(html_escape(text))
    } else {
        atom::Text::plain(text.to_string())
    }
}

/// Plain text as HTML: RSS readers treat `description` as HTML, so a
/// literal `<b>` or the `&` of "Bộ NN&PTNT" must arrive as text. The XML
/// writer escapes the result once more (`&amp;lt;b&amp;gt;` in the file).
fn html_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    crate::article::escape_html_into(text, &mut out);
    out
}

/// `(slug, display name)` of an article's categories, named as the feed names them.
fn category_names<'a>(
    feed: &'a FeedMeta,
    article: &'a crate::article::Article,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    article.categories.iter().map(|c| {
        let name = feed.category_names.get(&c.slug).unwrap_or(&c.name);
        (c.slug.as_str(), name.as_str())
    })
}

/// The Media RSS namespace (<https://www.rssboard.org/media-rss>), declared
/// only by feeds that have an image to show, so that the others stay as
/// they were.
const MEDIA_RSS: &str = "http://search.yahoo.com/mrss/";

/// The lead image as Media RSS, the way readers look for it in RSS:
/// `media:content` (the image, `medium="image"`, its type when known) and
/// `media:thumbnail` (the same URL: there is no smaller one to offer).
fn media_rss(image: &LeadImage) -> ExtensionMap {
    let element = |name: &str, attrs: Vec<(&str, &str)>| Extension {
        name: format!("media:{name}"),
        attrs: attrs
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    let mut content = vec![("url", image.url.as_str()), ("medium", "image")];
    if let Some(media_type) = image.media_type {
        content.push(("type", media_type));
    }
    let mut media = std::collections::BTreeMap::new();
    media.insert("content".to_string(), vec![element("content", content)]);
    media.insert(
        "thumbnail".to_string(),
        vec![element("thumbnail", vec![("url", image.url.as_str())])],
    );
    ExtensionMap::from([("media".to_string(), media)])
}

/// Renders the `format` document of a feed.
pub fn render_feed(
    format: Format,
    config: &Config,
    feed: &FeedMeta,
    items: &[FeedItem],
) -> Result<Vec<u8>, RenderError> {
    match format {
        Format::Rss => render_rss(config, feed, items),
        Format::Atom => render_atom(config, feed, items),
        Format::JsonFeed => render_json_feed(config, feed, items),
        // The list of every feed is not one scope's: `pipeline` renders it
        // with `render_opml` from the catalog's list of feeds.
        Format::Opml => Err(RenderError::failed(
            OutputPath::new(feed.scope.clone(), format),
            "the list of feeds is rendered by render_opml",
        )),
        // Pages need the catalog (the front page lists every category):
        // `pipeline` has `pages` render them.
        Format::Html => Err(RenderError::failed(
            OutputPath::new(feed.scope.clone(), format),
            "an HTML page is not a feed (pages::render_scope_page renders it)",
        )),
        Format::Stylesheet => Err(RenderError::failed(
            OutputPath::new(feed.scope.clone(), format),
            "the style sheet is not a feed (pages::stylesheet is it)",
        )),
    }
}

/// Renders an RSS 2.0 channel with `content:encoded`, `dc:creator`, an
/// `atom:link rel="self"` and one `atom:link rel="hub"` per WebSub hub.
pub fn render_rss(
    config: &Config,
    feed: &FeedMeta,
    items: &[FeedItem],
) -> Result<Vec<u8>, RenderError> {
    let site = &config.site;
    let tz = &site.timezone;
    let path = OutputPath::new(feed.scope.clone(), Format::Rss);
    let self_url = document_url(config, feed, Format::Rss);
    let failed = |reason: String| RenderError::failed(path.clone(), &reason);
    let rss_items = items
        .iter()
        .map(|item| {
            let entry = item.entry;
            let article = &*item.article;
            let author = article
                .author
                .clone()
                .unwrap_or_else(|| site.author.clone());
            let pub_date = rfc2822(entry.published, tz)
                .map_err(|e| failed(format!("article {}: {e}", article.path)))?;
            Ok(rss::Item {
                title: Some(article.title.clone()),
                link: Some(article.link.clone()),
                description: Some(html_escape(&item.body.summary)),
                guid: Some(rss::Guid {
                    value: article.id.clone(),
                    permalink: article.id == article.link,
                }),
                pub_date: Some(pub_date),
                categories: category_names(feed, article)
                    .map(|(_, name)| rss::Category {
                        name: name.to_string(),
                        domain: None,
                    })
                    .collect(),
                content: config
                    .feeds
                    .full_content
                    .then(|| item.body.content_html.clone()),
                dublin_core_ext: Some(DublinCoreExtension {
                    creators: vec![author.clone()],
                    ..Default::default()
                }),
                extensions: item.body.image.as_ref().map(media_rss).unwrap_or_default(),
                ..Default::default()
            })
        })
        .collect::<Result<Vec<_>, RenderError>>()?;
    let newest = items
        .first()
        .map(|item| rfc2822(item.entry.published, tz))
        .transpose()
        .map_err(&failed)?;
    let last_build_date = (!items.is_empty())
        .then(|| rfc2822(feed_updated(items), tz))
        .transpose()
        .map_err(&failed)?;
    let channel = rss::Channel {
        title: feed.title.clone(),
        link: feed.link.clone(),
        description: feed.description.clone(),
        language: Some(site.language.clone()),
        pub_date: newest,
        last_build_date,
        generator: Some("feedd".to_string()),
        atom_ext: Some(AtomExtension {
            links: std::iter::once(RssAtomLink {
                href: self_url,
                rel: "self".to_string(),
                mime_type: Some("application/rss+xml".to_string()),
                ..Default::default()
            })
            // WebSub discovery (W3C WebSub §4): the hubs beside the self
            // URL, which is the topic a subscriber names to them.
            .chain(hubs(config, feed).map(|hub| RssAtomLink {
                href: hub.clone(),
                rel: "hub".to_string(),
                ..Default::default()
            }))
            .chain(
                history_links(config, feed, Format::Rss).map(|(rel, href)| RssAtomLink {
                    href,
                    rel: rel.to_string(),
                    mime_type: Some("application/rss+xml".to_string()),
                    ..Default::default()
                }),
            )
            .collect(),
        }),
        items: rss_items,
        namespaces: items
            .iter()
            .any(|item| item.body.image.is_some())
            .then(|| ("media".to_string(), MEDIA_RSS.to_string()))
            .into_iter()
            .chain(archive_namespace(feed))
            .collect(),
        extensions: archive_marker(feed),
        ..Default::default()
    };
    let xml = channel
        .write_to(Vec::new())
        .map_err(|e| failed(format!("the XML writer failed: {e}")))?;
    descriptions_as_text(xml)
        .map(titles_with_hex_references)
        .map_err(failed)
}

/// RSS titles are plain text with no way to say so; the RSS Best Practices
/// Profile (and the W3C validator) ask for `&`, `<` and `>` in them as
/// hexadecimal character references, the form most aggregators decode
/// as text rather than markup. The XML writer escaped them with named
/// entities, which are the only `&` a title element holds.
///
/// Works on bytes, as [`descriptions_as_text`]: every marker and entity is
/// ASCII, so no cut falls inside a character, and an archive page's 200 KB
/// need no UTF-8 validation or `str` searching (7% of a build's CPU when
/// both passes worked on `str`).
fn titles_with_hex_references(xml: Vec<u8>) -> Vec<u8> {
    const OPEN: &[u8] = b"<title>";
    const CLOSE: &[u8] = b"</title>";
    let open = memmem::Finder::new(OPEN);
    let close = memmem::Finder::new(CLOSE);
    let mut out = Vec::with_capacity(xml.len() + 64);
    let mut rest = xml.as_slice();
    while let Some(start) = open.find(rest)
        && let Some((before, after)) = rest.split_at_checked(start + OPEN.len())
        && let Some(end) = close.find(after)
        && let Some((title, tail)) = after.split_at_checked(end)
    {
        out.extend_from_slice(before);
        let mut text = title;
        while let Some(amp) = memchr::memchr(b'&', text) {
            let (plain, entity) = text.split_at(amp);
            out.extend_from_slice(plain);
            let (replacement, skip) = [
                (&b"&amp;"[..], &b"&#x26;"[..]),
                (b"&lt;", b"&#x3C;"),
                (b"&gt;", b"&#x3E;"),
            ]
            .into_iter()
            .find(|(named, _)| entity.starts_with(named))
            .map_or((&b"&"[..], 1), |(named, hex)| (hex, named.len()));
            out.extend_from_slice(replacement);
            text = entity.get(skip..).unwrap_or_default();
        }
        out.extend_from_slice(text);
        rest = tail;
    }
    out.extend_from_slice(rest);
    out
}

/// The rss crate writes every item `description` as CDATA. Readers take it
/// the same either way, but the file should say what it means on its own,
/// for people and tools that read it raw: `NN&amp;amp;PTNT`, HTML escaped
/// once and XML escaped once. Nothing else can hold the marker: titles and
/// channel text are written escaped, and `content:encoded` is HTML whose
/// `<` in text is escaped.
fn descriptions_as_text(xml: Vec<u8>) -> Result<Vec<u8>, String> {
    const OPEN: &[u8] = b"<description><![CDATA[";
    const CLOSE: &[u8] = b"]]></description>";
    let open = memmem::Finder::new(OPEN);
    let close = memmem::Finder::new(CLOSE);
    let mut out = Vec::with_capacity(xml.len() + xml.len() / 8);
    let mut rest = xml.as_slice();
    while let Some(start) = open.find(rest) {
        let (before, after) = rest.split_at(start);
        out.extend_from_slice(before);
        let after = after.get(OPEN.len()..).unwrap_or_default();
        let end = close
            .find(after)
            .ok_or("a description's CDATA section is not closed")?;
        let (cdata, tail) = after.split_at(end);
        // HTML-escaped text holds no `>`, so the writer never split it.
        if memmem::find(cdata, b"]]>").is_some() {
            return Err("a description was split into several CDATA sections".into());
        }
        out.extend_from_slice(b"<description>");
        let mut text = cdata;
        while let Some(special) = memchr::memchr3(b'&', b'<', b'>', text) {
            let (plain, marked) = text.split_at(special);
            out.extend_from_slice(plain);
            out.extend_from_slice(match marked.first() {
                Some(b'&') => b"&amp;",
                Some(b'<') => b"&lt;",
                _ => b"&gt;",
            });
            text = marked.get(1..).unwrap_or_default();
        }
        out.extend_from_slice(text);
        out.extend_from_slice(b"</description>");
        rest = tail.get(CLOSE.len()..).unwrap_or_default();
    }
    out.extend_from_slice(rest);
    Ok(out)
}

/// Renders an Atom 1.0 feed; every entry carries an author (its own or the site's).
pub fn render_atom(
    config: &Config,
    feed: &FeedMeta,
    items: &[FeedItem],
) -> Result<Vec<u8>, RenderError> {
    if !config.feeds.full_content {
        return atom_document(config, feed, items, Contents::Written);
    }
    let marked = atom_document(config, feed, items, Contents::Marked)?;
    match with_contents(&marked, items) {
        Some(xml) => Ok(xml),
        // Some text of the feed holds the mark itself.
        None => atom_document(config, feed, items, Contents::Written),
    }
}

/// How [`atom_document`] writes each entry's `content`.
#[derive(Clone, Copy)]
enum Contents {
    /// As the XML writer escapes it.
    Written,
    /// As [`CONTENT_MARK`], for [`with_contents`] to replace.
    Marked,
}

/// Stands for an entry's content in the XML writer's output. The writer
/// escapes text a byte at a time into a new string (with the copy of each
/// body the entry needs, 9% of a build); the mark lets [`with_contents`]
/// write each body escaped in one pass instead. Private-use characters
/// around ASCII, which the writer leaves as they are.
const CONTENT_MARK: &str = "\u{F8FF}feedd:content\u{F8FF}";

/// `marked` with the n-th [`CONTENT_MARK`] replaced by the n-th item's body,
/// escaped as the XML writer escapes text (`quick_xml::escape`: `&`, `<`,
/// `>`, `'` and `"`). `None` unless it holds exactly one mark per item:
/// a title or summary holding the mark would be taken for a content.
fn with_contents(marked: &[u8], items: &[FeedItem]) -> Option<Vec<u8>> {
    let marks: Vec<usize> = memmem::find_iter(marked, CONTENT_MARK).collect();
    if marks.len() != items.len() {
        return None;
    }
    let bodies: usize = items.iter().map(|item| item.body.content_html.len()).sum();
    let mut out = Vec::with_capacity(marked.len() + bodies + bodies / 8);
    let mut from = 0;
    for (at, item) in marks.into_iter().zip(items) {
        out.extend_from_slice(marked.get(from..at)?);
        xml_escape_into(&item.body.content_html, &mut out);
        from = at + CONTENT_MARK.len();
    }
    out.extend_from_slice(marked.get(from..)?);
    Some(out)
}

/// `text` escaped as `quick_xml::escape` escapes it, onto `out`.
fn xml_escape_into(text: &str, out: &mut Vec<u8>) {
    const ESCAPES: [(u8, &str); 5] = [
        (b'&', "&amp;"),
        (b'<', "&lt;"),
        (b'>', "&gt;"),
        (b'\'', "&apos;"),
        (b'"', "&quot;"),
    ];
    crate::xml_text::escape_runs(text, &ESCAPES, |run| out.extend_from_slice(run.as_bytes()));
}

/// The Atom document of `feed`, its entries' contents as `contents` says.
fn atom_document(
    config: &Config,
    feed: &FeedMeta,
    items: &[FeedItem],
    contents: Contents,
) -> Result<Vec<u8>, RenderError> {
    let site = &config.site;
    let tz = &site.timezone;
    let path = OutputPath::new(feed.scope.clone(), Format::Atom);
    let self_url = document_url(config, feed, Format::Atom);
    let failed = |reason: String| RenderError::failed(path.clone(), &reason);
    let entries = items
        .iter()
        .map(|item| {
            let entry = item.entry;
            let article = &*item.article;
            let date =
                |ts| rfc3339(ts, tz).map_err(|e| failed(format!("article {}: {e}", article.path)));
            let author = article
                .author
                .clone()
                .unwrap_or_else(|| site.author.clone());
            Ok(atom::Entry {
                title: atom_text(&article.title),
                id: article.id.clone(),
                updated: date(entry.updated)?,
                published: Some(date(entry.published)?),
                authors: vec![atom::Person {
                    name: author.clone(),
                    ..Default::default()
                }],
                categories: category_names(feed, article)
                    .map(|(slug, name)| atom::Category {
                        term: slug.to_string(),
                        label: Some(name.to_string()),
                        ..Default::default()
                    })
                    .collect(),
                // The lead image as Atom's enclosure link (RFC 4287 4.2.7.2).
                links: std::iter::once(atom::Link {
                    href: article.link.clone(),
                    rel: "alternate".to_string(),
                    mime_type: Some("text/html".to_string()),
                    ..Default::default()
                })
                .chain(item.body.image.as_ref().map(|image| atom::Link {
                    href: image.url.clone(),
                    rel: "enclosure".to_string(),
                    mime_type: image.media_type.map(str::to_string),
                    ..Default::default()
                }))
                .collect(),
                summary: (!item.body.summary.is_empty()).then(|| atom_text(&item.body.summary)),
                content: config.feeds.full_content.then(|| atom::Content {
                    value: Some(match contents {
                        Contents::Marked => CONTENT_MARK.to_string(),
                        Contents::Written => item.body.content_html.clone(),
                    }),
                    content_type: Some("html".to_string()),
                    ..Default::default()
                }),
                ..Default::default()
            })
        })
        .collect::<Result<Vec<_>, RenderError>>()?;
    let updated = rfc3339(feed_updated(items), tz).map_err(&failed)?;
    let feed = atom::Feed {
        title: atom_text(&feed.title),
        id: feed_id(&feed.scope),
        updated,
        subtitle: Some(atom_text(&feed.description)),
        lang: Some(site.language.clone()),
        links: vec![
            atom::Link {
                href: feed.link.clone(),
                rel: "alternate".to_string(),
                mime_type: Some("text/html".to_string()),
                ..Default::default()
            },
            atom::Link {
                href: self_url,
                rel: "self".to_string(),
                mime_type: Some("application/atom+xml".to_string()),
                ..Default::default()
            },
        ]
        .into_iter()
        .chain(hubs(config, feed).map(|hub| atom::Link {
            href: hub.clone(),
            rel: "hub".to_string(),
            ..Default::default()
        }))
        .chain(
            history_links(config, feed, Format::Atom).map(|(rel, href)| atom::Link {
                href,
                rel: rel.to_string(),
                mime_type: Some("application/atom+xml".to_string()),
                ..Default::default()
            }),
        )
        .collect(),
        generator: Some(atom::Generator {
            value: "feedd".to_string(),
            ..Default::default()
        }),
        entries,
        namespaces: archive_namespace(feed).into_iter().collect(),
        extensions: atom_archive_marker(feed),
        ..Default::default()
    };
    feed.write_to(Vec::new())
        .map_err(|e| failed(format!("the XML writer failed: {e}")))
}

/// The absolute URL of `feed`'s document in `format`: the feed's own, or
/// its archive page's.
fn document_url(config: &Config, feed: &FeedMeta, format: Format) -> String {
    let path = match feed.history.page {
        Some(number) => crate::output::ArchivePage::new(feed.scope.clone(), format, number)
            .map(|page| page.url_path()),
        None => None,
    };
    let path = path.unwrap_or_else(|| OutputPath::new(feed.scope.clone(), format).url_path());
    format!("{}{path}", config.site.base_url)
}

/// The WebSub hubs a document names: none for an archive page, which does
/// not change and which no hub is pinged about.
fn hubs<'a>(config: &'a Config, feed: &FeedMeta) -> impl Iterator<Item = &'a String> {
    let hubs: &[String] = if feed.history.is_archive() {
        &[]
    } else {
        &config.websub.hubs
    };
    hubs.iter()
}

/// RFC 5005's links of `feed`'s document in `format`.
fn history_links(
    config: &Config,
    feed: &FeedMeta,
    format: Format,
) -> impl Iterator<Item = (&'static str, String)> {
    feed.history
        .links(&config.site.base_url, &feed.scope, format)
        .into_iter()
}

/// The `fh` namespace, declared by archive pages only.
fn archive_namespace(feed: &FeedMeta) -> Option<(String, String)> {
    feed.history
        .is_archive()
        .then(|| ("fh".to_string(), crate::history::NAMESPACE.to_string()))
}

/// `<fh:archive/>` (RFC 5005 section 4) in an RSS archive page: this
/// document is one of a feed's archives, not its current state.
fn archive_marker(feed: &FeedMeta) -> ExtensionMap {
    let marker = Extension {
        name: "fh:archive".to_string(),
        ..Default::default()
    };
    archive_extension(feed, marker)
}

/// [`archive_marker`] for Atom, whose crate has its own extension types.
fn atom_archive_marker(feed: &FeedMeta) -> atom::extension::ExtensionMap {
    let marker = atom::extension::Extension {
        name: "fh:archive".to_string(),
        ..Default::default()
    };
    archive_extension(feed, marker)
}

fn archive_extension<E>(
    feed: &FeedMeta,
    marker: E,
) -> std::collections::BTreeMap<String, std::collections::BTreeMap<String, Vec<E>>> {
    let mut map = std::collections::BTreeMap::new();
    if feed.history.is_archive() {
        map.insert(
            "fh".to_string(),
            std::collections::BTreeMap::from([("archive".to_string(), vec![marker])]),
        );
    }
    map
}

/// A feed id that, like article ids, does not change with `base_url`.
fn feed_id(scope: &Scope) -> String {
    let key = match scope {
        Scope::All => String::new(),
        Scope::Category(slug) => slug.clone(),
    };
    crate::article::stable_uuid(&format!("feedd:feed:{key}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_a_feed_cannot_carry_are_errors_not_fallbacks() {
        let tz = TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        let ok: Timestamp = "2026-11-20T01:30:00Z".parse().unwrap();
        assert_eq!(rfc2822(ok, &tz).unwrap(), "Fri, 20 Nov 2026 08:30:00 +0700");
        assert_eq!(
            rfc3339(ok, &tz).unwrap().to_rfc3339(),
            "2026-11-20T08:30:00+07:00"
        );
        for unrepresentable in [Timestamp::MIN, "-000001-06-01T00:00:00Z".parse().unwrap()] {
            assert!(rfc2822(unrepresentable, &tz).is_err(), "{unrepresentable}");
            assert!(rfc3339(unrepresentable, &tz).is_err(), "{unrepresentable}");
        }
    }

    #[test]
    fn local_mean_time_offsets_with_seconds_are_written_at_a_whole_minute() {
        let tz = TimeZone::get("Asia/Ho_Chi_Minh").unwrap();
        // 0001-01-01 00:00 at the zone's LMT offset, +07:06:40 (or so, by tzdb version).
        let midnight = crate::article::parse_date("0001-01-01", &tz).unwrap();
        let rss = rfc2822(midnight, &tz).unwrap();
        let atom = rfc3339(midnight, &tz).unwrap();
        assert!(
            rss.starts_with("Mon, 1 Jan 0001 00:00:") && rss.ends_with(" +0707"),
            "{rss}"
        );
        assert_eq!(atom.timestamp(), midnight.as_second(), "same instant");
        assert!(
            atom.to_rfc3339().starts_with("0001-01-01T00:00:"),
            "{atom:?}"
        );
    }

    #[test]
    fn title_entities_become_hex_references_and_nothing_else_changes() {
        let xml = "<title>A &amp; B &lt;b&gt; &amp;lt; &quot;Đ&quot;</title><link>x?a=1&amp;b=2</link><title>&amp;</title><title>&amp;";
        assert_eq!(
            String::from_utf8(titles_with_hex_references(xml.into())).unwrap(),
            "<title>A &#x26; B &#x3C;b&#x3E; &#x26;lt; &quot;Đ&quot;</title><link>x?a=1&amp;b=2</link><title>&#x26;</title><title>&amp;"
        );
    }

    proptest::proptest! {
        #[test]
        fn contents_are_escaped_as_the_xml_writer_escapes_text(
            text in "[a-zộ&<>'\"\\n ]{0,100}|\\PC{0,100}"
        ) {
            let mut out = Vec::new();
            xml_escape_into(&text, &mut out);
            proptest::prop_assert_eq!(
                String::from_utf8(out).unwrap(),
                quick_xml::escape::escape(text.as_str()).into_owned()
            );
        }
    }

    #[test]
    fn item_descriptions_become_escaped_text() {
        let xml = "<rss><channel><description>Kênh &amp; tin</description><item><description><![CDATA[NN&amp;PTNT &lt;b&gt;]]></description><content:encoded><![CDATA[<p>x</p>]]></content:encoded></item><item><description><![CDATA[]]></description></item></channel></rss>";
        let out = descriptions_as_text(xml.into()).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "<rss><channel><description>Kênh &amp; tin</description><item><description>NN&amp;amp;PTNT &amp;lt;b&amp;gt;</description><content:encoded><![CDATA[<p>x</p>]]></content:encoded></item><item><description></description></item></channel></rss>"
        );
        assert!(
            descriptions_as_text(b"<description><![CDATA[a]]>b]]></description>".to_vec()).is_err()
        );
        assert!(descriptions_as_text(b"<description><![CDATA[a".to_vec()).is_err());
    }
}
