//! JSON Feed 1.1 (<https://jsonfeed.org/version/1.1>): the same items, ids,
//! dates, authors and links as the RSS and Atom feeds of a scope, written
//! with serde.
//!
//! Pure, like the XML renderers: every date comes from the items.

use serde::Serialize;

use super::{RenderError, category_names, rfc3339_text};
use crate::catalog::{FeedItem, FeedMeta};
use crate::config::Config;
use crate::output::{Format, OutputPath};

/// The version URL a JSON Feed 1.1 document must start with.
const VERSION: &str = "https://jsonfeed.org/version/1.1";

/// The top-level object. Field order is the spec's, so that the file reads
/// as the spec lists it.
#[derive(Serialize)]
struct Feed<'a> {
    version: &'static str,
    title: &'a str,
    home_page_url: &'a str,
    feed_url: String,
    description: &'a str,
    language: &'a str,
    /// WebSub hubs (`websub.hubs`); left out when there are none.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    hubs: Vec<Hub<'a>>,
    items: Vec<Item<'a>>,
}

#[derive(Serialize)]
struct Hub<'a> {
    #[serde(rename = "type")]
    kind: &'static str,
    url: &'a str,
}

#[derive(Serialize)]
struct Item<'a> {
    id: &'a str,
    url: &'a str,
    title: &'a str,
    /// JSON Feed wants `content_html` or `content_text`: the body when
    /// feeds carry it, else the summary as text (as RSS's description).
    #[serde(skip_serializing_if = "Option::is_none")]
    content_html: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    content_text: Option<&'a str>,
    #[serde(skip_serializing_if = "str::is_empty")]
    summary: &'a str,
    /// The lead image.
    #[serde(skip_serializing_if = "Option::is_none")]
    image: Option<&'a str>,
    date_published: String,
    date_modified: String,
    authors: [Author<'a>; 1],
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tags: Vec<&'a str>,
}

#[derive(Serialize)]
struct Author<'a> {
    name: &'a str,
}

/// Renders a JSON Feed 1.1 document: every item carries an author (its own
/// or the site's), its published and modified dates in the site's time zone,
/// and its categories as tags, named as the XML feeds name them.
pub fn render_json_feed(
    config: &Config,
    feed: &FeedMeta,
    items: &[FeedItem],
) -> Result<Vec<u8>, RenderError> {
    let site = &config.site;
    let tz = &site.timezone;
    let path = OutputPath::new(feed.scope.clone(), Format::JsonFeed);
    let failed = |reason: String| RenderError::failed(path.clone(), &reason);
    let json_items = items
        .iter()
        .map(|item| {
            let article = &*item.article;
            let date = |ts| {
                rfc3339_text(ts, tz).map_err(|e| failed(format!("article {}: {e}", article.path)))
            };
            let full = config.feeds.full_content;
            Ok(Item {
                id: &article.id,
                url: &article.link,
                title: &article.title,
                content_html: full.then_some(item.body.content_html.as_str()),
                content_text: (!full).then_some(item.body.summary.as_str()),
                summary: &item.body.summary,
                image: item.body.image.as_ref().map(|image| image.url.as_str()),
                date_published: date(item.entry.published)?,
                date_modified: date(item.entry.updated)?,
                authors: [Author {
                    name: article.author.as_deref().unwrap_or(&site.author),
                }],
                tags: category_names(feed, article)
                    .map(|(_, name)| name)
                    .collect(),
            })
        })
        .collect::<Result<Vec<_>, RenderError>>()?;
    let document = Feed {
        version: VERSION,
        title: &feed.title,
        home_page_url: &feed.link,
        feed_url: format!("{}{}", site.base_url, path.url_path()),
        description: &feed.description,
        language: &site.language,
        hubs: config
            .websub
            .hubs
            .iter()
            .map(|url| Hub {
                kind: "WebSub",
                url,
            })
            .collect(),
        items: json_items,
    };
    let mut bytes = serde_json::to_vec_pretty(&document)
        .map_err(|e| failed(format!("the JSON writer failed: {e}")))?;
    bytes.push(b'\n');
    Ok(bytes)
}
