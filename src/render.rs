//! Pure functions from a feed's metadata and newest entries to RSS 2.0 and
//! Atom 1.0 bytes.
//!
//! Knows no disk and no clock: every date comes from the entries, so
//! unchanged input gives byte-identical output.

use atom_syndication as atom;
use jiff::Timestamp;
use jiff::tz::TimeZone;
use rss::extension::atom::{AtomExtension, Link as RssAtomLink};
use rss::extension::dublincore::DublinCoreExtension;

use crate::catalog::{Entry, FeedMeta};
use crate::config::Config;

/// The date the feeds carry: the latest updated date among the items, or
/// the Unix epoch for a feed with none. Never "now".
fn feed_updated(items: &[&Entry]) -> Timestamp {
    items
        .iter()
        .map(|e| e.updated)
        .max()
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

fn rfc2822(ts: Timestamp, tz: &TimeZone) -> String {
    jiff::fmt::rfc2822::to_string(&ts.to_zoned(tz.clone())).unwrap_or_else(|_| ts.to_string())
}

fn rfc3339(ts: Timestamp, tz: &TimeZone) -> atom::FixedDateTime {
    let text = ts
        .to_zoned(tz.clone())
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    text.parse().unwrap_or_default()
}

/// `(slug, display name)` of an entry's categories, named as the feed names them.
fn category_names<'a>(
    feed: &'a FeedMeta,
    entry: &'a Entry,
) -> impl Iterator<Item = (&'a str, &'a str)> {
    entry.article.categories.iter().map(|c| {
        let name = feed.category_names.get(&c.slug).unwrap_or(&c.name);
        (c.slug.as_str(), name.as_str())
    })
}

/// Renders an RSS 2.0 channel with `content:encoded`, `dc:creator` and an `atom:link rel="self"`.
pub fn render_rss(config: &Config, feed: &FeedMeta, items: &[&Entry]) -> Vec<u8> {
    let site = &config.site;
    let tz = &site.timezone;
    let self_url = format!("{}{}", site.base_url, feed.scope.rss_path());
    let rss_items: Vec<rss::Item> = items
        .iter()
        .map(|entry| {
            let article = &entry.article;
            let author = article
                .author
                .clone()
                .unwrap_or_else(|| site.author.clone());
            rss::Item {
                title: Some(article.title.clone()),
                link: Some(article.link.clone()),
                description: Some(article.summary.clone()),
                guid: Some(rss::Guid {
                    value: article.id.clone(),
                    permalink: article.id == article.link,
                }),
                pub_date: Some(rfc2822(entry.published, tz)),
                categories: category_names(feed, entry)
                    .map(|(_, name)| rss::Category {
                        name: name.to_string(),
                        domain: None,
                    })
                    .collect(),
                content: config
                    .feeds
                    .full_content
                    .then(|| article.content_html.clone()),
                dublin_core_ext: Some(DublinCoreExtension {
                    creators: vec![author.clone()],
                    ..Default::default()
                }),
                ..Default::default()
            }
        })
        .collect();
    let newest = items.first().map(|e| rfc2822(e.published, tz));
    let channel = rss::Channel {
        title: feed.title.clone(),
        link: feed.link.clone(),
        description: feed.description.clone(),
        language: Some(site.language.clone()),
        pub_date: newest,
        last_build_date: (!items.is_empty()).then(|| rfc2822(feed_updated(items), tz)),
        generator: Some("feedd".to_string()),
        atom_ext: Some(AtomExtension {
            links: vec![RssAtomLink {
                href: self_url,
                rel: "self".to_string(),
                mime_type: Some("application/rss+xml".to_string()),
                ..Default::default()
            }],
        }),
        items: rss_items,
        ..Default::default()
    };
    // Writing into a Vec cannot fail.
    channel.write_to(Vec::new()).unwrap_or_default()
}

/// Renders an Atom 1.0 feed; every entry carries an author (its own or the site's).
pub fn render_atom(config: &Config, feed: &FeedMeta, items: &[&Entry]) -> Vec<u8> {
    let site = &config.site;
    let tz = &site.timezone;
    let self_url = format!("{}{}", site.base_url, feed.scope.atom_path());
    let entries: Vec<atom::Entry> = items
        .iter()
        .map(|entry| {
            let article = &entry.article;
            let author = article
                .author
                .clone()
                .unwrap_or_else(|| site.author.clone());
            atom::Entry {
                title: atom::Text::plain(article.title.clone()),
                id: article.id.clone(),
                updated: rfc3339(entry.updated, tz),
                published: Some(rfc3339(entry.published, tz)),
                authors: vec![atom::Person {
                    name: author.clone(),
                    ..Default::default()
                }],
                categories: category_names(feed, entry)
                    .map(|(slug, name)| atom::Category {
                        term: slug.to_string(),
                        label: Some(name.to_string()),
                        ..Default::default()
                    })
                    .collect(),
                links: vec![atom::Link {
                    href: article.link.clone(),
                    rel: "alternate".to_string(),
                    mime_type: Some("text/html".to_string()),
                    ..Default::default()
                }],
                summary: (!article.summary.is_empty())
                    .then(|| atom::Text::plain(article.summary.clone())),
                content: config.feeds.full_content.then(|| atom::Content {
                    value: Some(article.content_html.clone()),
                    content_type: Some("html".to_string()),
                    ..Default::default()
                }),
                ..Default::default()
            }
        })
        .collect();
    let feed = atom::Feed {
        title: atom::Text::plain(feed.title.clone()),
        id: feed_id(&feed.scope),
        updated: rfc3339(feed_updated(items), tz),
        subtitle: Some(atom::Text::plain(feed.description.clone())),
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
        ],
        generator: Some(atom::Generator {
            value: "feedd".to_string(),
            ..Default::default()
        }),
        entries,
        ..Default::default()
    };
    feed.write_to(Vec::new()).unwrap_or_default()
}

/// A feed id that, like article ids, does not change with `base_url`.
fn feed_id(scope: &crate::catalog::Scope) -> String {
    let key = match scope {
        crate::catalog::Scope::All => String::new(),
        crate::catalog::Scope::Category(slug) => slug.clone(),
    };
    crate::article::stable_uuid(&format!("feedd:feed:{key}"))
}
