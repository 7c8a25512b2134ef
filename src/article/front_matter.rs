//! The `+++` TOML front matter: its keys, where it ends, its dates and categories.

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::Spanned;

use super::CategoryRef;
use super::date::parse_date;
use crate::slug::slugify;

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub(super) struct FrontMatter {
    pub(super) title: Option<Spanned<String>>,
    pub(super) date: Option<Spanned<toml::Value>>,
    pub(super) updated: Option<Spanned<toml::Value>>,
    pub(super) author: Option<Spanned<String>>,
    pub(super) category: Option<Spanned<String>>,
    pub(super) categories: Option<Spanned<Vec<String>>>,
    pub(super) slug: Option<Spanned<String>>,
    pub(super) id: Option<Spanned<String>>,
    pub(super) link: Option<Spanned<String>>,
    pub(super) summary: Option<Spanned<String>>,
    pub(super) draft: Option<Spanned<bool>>,
    pub(super) image: Option<Spanned<String>>,
}

/// Splits off `+++` front matter: the byte range of its TOML and where the body starts.
pub(super) fn split_front_matter(
    text: &str,
) -> Result<(Option<std::ops::Range<usize>>, usize), String> {
    let (first_line, rest) = text.split_once('\n').unwrap_or((text, ""));
    if first_line.trim_end() != "+++" {
        return Ok((None, 0));
    }
    let start = (first_line.len() + 1).min(text.len());
    let mut offset = start;
    for line in rest.split_inclusive('\n') {
        if line.trim_end() == "+++" {
            return Ok((Some(start..offset), offset + line.len()));
        }
        offset += line.len();
    }
    Err("front matter opened with +++ is never closed; add a line +++ after its last key".into())
}

pub(super) fn front_matter_date(value: &toml::Value, tz: &TimeZone) -> Result<Timestamp, String> {
    match value {
        toml::Value::String(s) => parse_date(s, tz),
        toml::Value::Datetime(d) => parse_date(&d.to_string(), tz),
        other => Err(format!(
            "expected a date, found {}; write e.g. \"2026-11-20 08:30\"",
            other.type_str()
        )),
    }
}

pub(super) fn categories_of(
    front: &FrontMatter,
    relative: &str,
) -> Result<Vec<CategoryRef>, (usize, String)> {
    let mut named: Vec<(usize, &str)> = Vec::new();
    if let Some(category) = &front.category {
        named.push((category.span().start, category.get_ref()));
    }
    if let Some(list) = &front.categories {
        named.extend(
            list.get_ref()
                .iter()
                .map(|c| (list.span().start, c.as_str())),
        );
    }
    let mut categories: Vec<CategoryRef> = Vec::new();
    if named.is_empty()
        && let Some((folder, _)) = relative.split_once('/')
    {
        let slug = slugify(folder);
        if slug.is_empty() {
            return Err((
                0,
                format!(
                    "folder {folder:?} has no letters or digits to make a category slug; rename it"
                ),
            ));
        }
        categories.push(CategoryRef {
            slug,
            name: folder.to_string(),
        });
    }
    for (span, name) in named {
        let name = name.trim();
        let slug = slugify(name);
        if slug.is_empty() {
            return Err((
                span,
                format!("category {name:?} has no letters or digits; write e.g. \"doi-song\""),
            ));
        }
        if !categories.iter().any(|c| c.slug == slug) {
            categories.push(CategoryRef {
                slug,
                name: name.to_string(),
            });
        }
    }
    Ok(categories)
}
