//! One article file -> one [`Article`] (the metadata every article needs)
//! and, for the articles a feed shows, its [`Body`].
//!
//! The steps live in their own files: `decode` (bytes -> text),
//! `front_matter`, `date`, `plain_text` (the seed's format), `markdown` and
//! `html` (sanitizing), `id`. This file ties them together and checks the
//! fields every format shares.
//!
//! Knows nothing of other articles, feeds, the disk or the clock: the caller
//! reads the bytes and supplies the first-seen date where one is needed.

use std::path::{Path, PathBuf};

use jiff::Timestamp;
use toml::Spanned;
use unicode_normalization::UnicodeNormalization;

use crate::config::{Config, line_column};
use crate::slug::slugify;
use crate::xml_text::clean;

mod date;
mod decode;
mod front_matter;
mod html;
mod id;
mod image;
mod markdown;
mod plain_text;

use date::file_name_date;
pub use date::parse_date;
use decode::decode;
use front_matter::{FrontMatter, categories_of, front_matter_date, split_front_matter};
use id::id_from_path;
pub use id::{ArticleId, stable_uuid};
pub use image::LeadImage;
use markdown::parse_markdown;
pub use plain_text::escape_html_into;
use plain_text::parse_plain_text;

/// A category an article belongs to.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct CategoryRef {
    /// URL slug, e.g. `doi-song`.
    pub slug: String,
    /// The name as written (folder or front matter), e.g. `Đời sống`.
    pub name: String,
}

/// A parsed article, everything a feed item needs except dates the file does not state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Article {
    /// Path relative to `paths.articles`, `/`-separated, NFC.
    pub path: String,
    /// Stable id: front matter `id`, else derived from `path` alone.
    pub id: String,
    /// Plain-text title.
    pub title: String,
    /// URL slug.
    pub slug: String,
    /// Absolute URL of the article on the site.
    pub link: String,
    /// Author, when the article names one.
    pub author: Option<String>,
    /// Categories, the primary (link) one first.
    pub categories: Vec<CategoryRef>,
    /// Stated published date (front matter or file name); `None`: first seen.
    pub published: Option<Timestamp>,
    /// Stated updated date (front matter); `None`: when the content last changed.
    pub updated: Option<Timestamp>,
    /// Not to be published.
    pub draft: bool,
}

/// What a feed item shows of an article besides its metadata. Parsed only
/// for the articles a feed shows, since it costs most of the parsing and
/// nearly all of the memory.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Body {
    /// Plain-text summary.
    pub summary: String,
    /// Body as HTML.
    pub content_html: String,
    /// The lead image: front matter `image`, else the first image of a
    /// Markdown body.
    pub image: Option<LeadImage>,
}

/// Where one of an article's values came from (`feedd explain`). Lines
/// are 1-based lines of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Origin {
    /// The front matter key on this line.
    FrontMatter {
        /// Its line.
        line: usize,
    },
    /// A plain-text article's first non-empty line.
    TitleLine {
        /// Its line.
        line: usize,
    },
    /// A Markdown article's first `#` heading.
    Heading {
        /// Its line.
        line: usize,
    },
    /// A plain-text article's byline.
    Byline {
        /// Its line.
        line: usize,
    },
    /// The file name (its date prefix, or its stem for the slug).
    FileName,
    /// The first folder under `paths.articles`.
    Folder,
    /// The path under `paths.articles`.
    Path,
    /// The body's first paragraph.
    FirstParagraph,
    /// Not stated in the file: the config's default, or for dates the
    /// state journal.
    #[default]
    NotStated,
}

/// Where each of an article's values came from, and the lines a plain-text
/// article's byline dropped: what `feedd explain` shows. Filled only when
/// asked for ([`parse_article_explained`]), so the parse every scan does
/// costs nothing more.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Provenance {
    /// Of the title.
    pub title: Origin,
    /// Of the author (`NotStated`: `site.author`).
    pub author: Origin,
    /// Of the published date (`NotStated`: first seen).
    pub published: Origin,
    /// Of the updated date (`NotStated`: when the content last changed).
    pub updated: Origin,
    /// Of the categories (`NotStated`: none).
    pub categories: Origin,
    /// Of the slug.
    pub slug: Origin,
    /// Of the id.
    pub id: Origin,
    /// Of the link (`NotStated`: `{base_url}/{category}/{slug}.html`).
    pub link: Origin,
    /// Of the summary.
    pub summary: Origin,
    /// Of the draft flag (`NotStated`: not a draft).
    pub draft: Origin,
    /// The byline and every line after it (a plain-text article's trailer),
    /// which are not published: line number and text, empty lines left out.
    pub dropped: Vec<(usize, String)>,
}

/// An article file that cannot be published, with where and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ArticleError {
    /// The file could not be read.
    #[error("{}: cannot read: {source}; check that it exists and is readable", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A problem at a known position.
    #[error("{}:{line}:{column}: {message}", .path.display())]
    At {
        /// The file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong and what to do.
        message: String,
    },
    /// A problem with the file as a whole.
    #[error("{}: {message}", .path.display())]
    Whole {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        message: String,
    },
}

impl ArticleError {
    /// The file the error is about.
    pub fn path(&self) -> &Path {
        match self {
            ArticleError::Read { path, .. }
            | ArticleError::At { path, .. }
            | ArticleError::Whole { path, .. } => path,
        }
    }
}

/// Whether a path relative to the articles folder names an article:
/// `.txt`, `.md` or `.markdown`, and not hidden, in a hidden folder, or an
/// editor temporary.
pub fn is_article_path(relative: &Path) -> bool {
    not_an_article(relative).is_none()
}

/// Why a path relative to the articles folder names no article, if so.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotAnArticle {
    /// A file or folder on the way starts with a dot.
    Hidden,
    /// An editor's temporary or backup file (`*~`, `*.swp`, `*.tmp`, `4913`).
    EditorTemporary,
    /// Not `.txt`, `.md` or `.markdown`.
    Extension,
    /// Not a plain relative path of Unicode names.
    BadName,
}

/// Why `relative` (under the articles folder) is not an article by its
/// name alone; `None`: it is named like one. The one rule the scan and
/// `feedd explain` share.
pub fn not_an_article(relative: &Path) -> Option<NotAnArticle> {
    let mut components = relative.components().peekable();
    while let Some(component) = components.next() {
        let std::path::Component::Normal(name) = component else {
            return Some(NotAnArticle::BadName);
        };
        let Some(name) = name.to_str() else {
            return Some(NotAnArticle::BadName);
        };
        if name.starts_with('.') {
            return Some(NotAnArticle::Hidden);
        }
        if components.peek().is_none() {
            return not_an_article_file_name(name);
        }
    }
    Some(NotAnArticle::BadName)
}

fn not_an_article_file_name(name: &str) -> Option<NotAnArticle> {
    if name.ends_with('~') || name == "4913" {
        return Some(NotAnArticle::EditorTemporary);
    }
    let Some((stem, extension)) = name.rsplit_once('.') else {
        return Some(NotAnArticle::Extension);
    };
    if !stem.is_empty() && Format::from_extension(extension).is_some() {
        return None;
    }
    if ["swp", "swo", "swx", "tmp"]
        .iter()
        .any(|temporary| extension.eq_ignore_ascii_case(temporary))
    {
        Some(NotAnArticle::EditorTemporary)
    } else {
        Some(NotAnArticle::Extension)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    PlainText,
    Markdown,
}

impl Format {
    fn from_extension(extension: &str) -> Option<Format> {
        match extension.to_ascii_lowercase().as_str() {
            "txt" => Some(Format::PlainText),
            "md" | "markdown" => Some(Format::Markdown),
            _ => None,
        }
    }
}

/// Longer titles are rejected rather than cut: a cut title would be
/// published silently wrong, and a very long "title" is usually a paragraph
/// whose title line is missing.
pub const MAX_TITLE_CHARS: usize = 300;

/// Whether `id` can be an Atom entry id and an RSS guid: an absolute URI
/// (RFC 3986: a scheme, a colon, then something), with no whitespace or
/// character a URI may not hold.
fn is_uri(id: &str) -> bool {
    let Some((scheme, rest)) = id.split_once(':') else {
        return false;
    };
    let mut scheme_chars = scheme.chars();
    scheme_chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && scheme_chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !rest
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c))
}

/// The longest slug: its page's file name (`{slug}.html`) must fit the 255
/// bytes most file systems allow, with room for the temporary name feedd
/// writes it under first.
pub const MAX_SLUG_BYTES: usize = 200;

/// Reads one article's metadata. `path` is only for messages; `relative` is
/// its path under `paths.articles` (which gives category, slug, id and date
/// prefix). Rejects exactly the files [`parse_article_with_body`] rejects.
pub fn parse_article(
    config: &Config,
    path: &Path,
    relative: &Path,
    bytes: &[u8],
) -> Result<Article, ArticleError> {
    parse(config, path, relative, bytes, false, None).map(|(article, _)| article)
}

/// Reads one article with its body, as [`parse_article_with_body`], and
/// says where each value came from.
pub fn parse_article_explained(
    config: &Config,
    path: &Path,
    relative: &Path,
    bytes: &[u8],
) -> Result<(Article, Body, Provenance), ArticleError> {
    let mut provenance = Provenance::default();
    parse(config, path, relative, bytes, true, Some(&mut provenance))
        .map(|(article, body)| (article, body.unwrap_or_default(), provenance))
}

/// Reads one article with its body, as a feed shows it.
pub fn parse_article_with_body(
    config: &Config,
    path: &Path,
    relative: &Path,
    bytes: &[u8],
) -> Result<(Article, Body), ArticleError> {
    parse(config, path, relative, bytes, true, None)
        .map(|(article, body)| (article, body.unwrap_or_default()))
}

fn parse(
    config: &Config,
    path: &Path,
    relative: &Path,
    bytes: &[u8],
    with_body: bool,
    provenance: Option<&mut Provenance>,
) -> Result<(Article, Option<Body>), ArticleError> {
    let at = |text: &str, offset: usize, message: String| {
        let (line, column) = line_column(text, offset);
        ArticleError::At {
            path: path.to_path_buf(),
            line,
            column,
            message,
        }
    };
    let whole = |message: String| ArticleError::Whole {
        path: path.to_path_buf(),
        message,
    };

    let format = relative
        .extension()
        .and_then(|e| e.to_str())
        .and_then(Format::from_extension)
        .ok_or_else(|| whole("not an article: feedd reads .txt, .md and .markdown files".into()))?;
    let text = decode(bytes).map_err(|not_text| ArticleError::At {
        path: path.to_path_buf(),
        line: not_text.line,
        column: not_text.column,
        message: not_text.message,
    })?;
    if text.trim().is_empty() {
        return Err(whole(
            "the file is empty; write a title line and a body, or delete it".into(),
        ));
    }

    let (front_range, body_offset) =
        split_front_matter(&text).map_err(|message| at(&text, 0, message))?;
    // Spans inside the front matter are relative to its first byte.
    let front_start = front_range.as_ref().map_or(0, |range| range.start);
    let span_at = |span_start: usize, message: String| at(&text, front_start + span_start, message);
    let front: FrontMatter = match front_range {
        None => FrontMatter::default(),
        Some(range) => toml::from_str(text.get(range).unwrap_or_default()).map_err(|e| {
            span_at(
                e.span().map_or(0, |s| s.start),
                format!(
                    "front matter: {}; fix this value (the keys, their types and date forms \
                     are in the README's \"Articles\")",
                    e.message().trim_end()
                ),
            )
        })?,
    };
    let body = text.get(body_offset..).unwrap_or_default();
    let tz = &config.site.timezone;
    let date_of = |value: &Option<Spanned<toml::Value>>,
                   key: &str|
     -> Result<Option<Timestamp>, ArticleError> {
        value
            .as_ref()
            .map(|v| {
                front_matter_date(v.get_ref(), tz)
                    .map_err(|reason| span_at(v.span().start, format!("{key}: {reason}")))
            })
            .transpose()
    };
    let mut published = date_of(&front.date, "date")?;
    let updated = date_of(&front.updated, "updated")?;

    let relative_text = nfc(relative_to_slash(relative));
    let stem = file_stem(&relative_text);
    if published.is_none() {
        published = file_name_date(stem, tz).map_err(whole)?;
    }

    let categories =
        categories_of(&front, &relative_text).map_err(|(span, message)| span_at(span, message))?;
    let slug = match &front.slug {
        Some(slug) => {
            let value = slugify(slug.get_ref());
            if value.is_empty() {
                return Err(span_at(
                    slug.span().start,
                    "slug has no letters or digits; write e.g. slug = \"gia-lua-tang\"".into(),
                ));
            }
            value
        }
        None => {
            let value = file_name_slug(&relative_text);
            if value.is_empty() {
                return Err(whole(
                    "the file name has no letters or digits to make a slug from; rename it or add slug = \"...\" to the front matter".into(),
                ));
            }
            value
        }
    };
    let link = match &front.link {
        Some(link) => {
            let value = link.get_ref().trim();
            if !(value.starts_with("https://") || value.starts_with("http://"))
                || value.contains(char::is_whitespace)
            {
                return Err(span_at(
                    link.span().start,
                    "link must be an absolute http(s) URL".into(),
                ));
            }
            // Published as written, but only if a reader can follow it.
            if let Err(error) = url::Url::parse(value) {
                return Err(span_at(
                    link.span().start,
                    format!(
                        "link {value:?} is not a valid URL ({error}); write e.g. link = \"https://example.vn/bai-viet.html\""
                    ),
                ));
            }
            value.to_string()
        }
        None => match categories.first() {
            Some(category) => format!("{}/{}/{}.html", config.site.base_url, category.slug, slug),
            None => format!("{}/{}.html", config.site.base_url, slug),
        },
    };
    // An article with a page must have a slug its file can be named by,
    // and that is not the category page's `index.html`.
    if front.link.is_none() {
        let problem = if slug.len() > MAX_SLUG_BYTES {
            Some(format!(
                "the slug is {} characters long, more than {MAX_SLUG_BYTES}, too long for its page's file name",
                slug.len()
            ))
        } else if slug == "index" {
            Some(
                "the slug `index` would make its page the category's front page (index.html)"
                    .to_string(),
            )
        } else {
            None
        };
        if let Some(problem) = problem {
            return Err(match &front.slug {
                Some(stated) => span_at(
                    stated.span().start,
                    format!("{problem}; write another slug = \"...\""),
                ),
                None => whole(format!(
                    "{problem} (made from the file name); rename the file or add slug = \"...\" to the front matter"
                )),
            });
        }
    }
    // Checked whether or not the body is wanted, so that an article is
    // rejected alike by metadata scans and by the feeds that show it.
    let front_image = front
        .image
        .as_ref()
        .map(|image| {
            image::resolve(image.get_ref(), &link)
                .map_err(|message| span_at(image.span().start, message))
        })
        .transpose()?;
    let parsed = match format {
        Format::PlainText => parse_plain_text(
            body,
            front.title.is_some(),
            &config.text.byline_prefixes,
            with_body,
        ),
        Format::Markdown => parse_markdown(body, front.title.is_some(), &link, with_body),
    };
    let (title, title_offset) = match &front.title {
        Some(title) => (
            Some(title.get_ref().trim().to_string()),
            front_start + title.span().start,
        ),
        None => (parsed.title, body_offset + parsed.title_offset),
    };
    // Cleaned before it is judged: a title of control characters is none.
    let title = title
        .map(|t| clean(t).trim().to_string())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| {
            whole(match format {
                Format::PlainText => {
                    "no title: the first non-empty line is the title; add one".into()
                }
                Format::Markdown => {
                    "no title: add `title = \"...\"` to the front matter or a `# Heading` line"
                        .into()
                }
            })
        })?;
    let title_length = title.chars().count();
    if title_length > MAX_TITLE_CHARS {
        return Err(at(
            &text,
            title_offset,
            format!(
                "the title is {title_length} characters long, more than {MAX_TITLE_CHARS}; shorten it (a long first line of a plain-text article may be a paragraph missing its title line above it)"
            ),
        ));
    }

    let id = match front.id.as_ref() {
        Some(stated) => {
            let id = clean(stated.get_ref().trim().to_string());
            if !is_uri(&id) {
                return Err(span_at(
                    stated.span().start,
                    "id must be a URI (an Atom feed's entry id is one), e.g. \
                     id = \"urn:uuid:…\", id = \"tag:example.vn,2026:bai-123\" or an http(s) \
                     URL; or leave it out for one made from the file's path"
                        .into(),
                ));
            }
            id
        }
        None => id_from_path(&relative_text),
    };

    // TOML escapes and Markdown character references can produce characters
    // that the raw text did not contain, so every field is cleaned once more.
    let article = Article {
        path: relative_text,
        id: clean(id),
        title,
        slug,
        link: clean(link),
        author: front
            .author
            .as_ref()
            .map(|author| author.get_ref().clone())
            .or(parsed.author)
            .map(|a| clean(a.trim().to_string()))
            .filter(|a| !a.is_empty()),
        categories: categories
            .into_iter()
            .map(|c| CategoryRef {
                slug: c.slug,
                name: clean(c.name),
            })
            .collect(),
        published,
        updated,
        draft: front.draft.as_ref().is_some_and(|draft| *draft.get_ref()),
    };
    if let Some(provenance) = provenance {
        let line = |offset: usize| line_column(&text, offset).0;
        let key_line = |start: usize| Origin::FrontMatter {
            line: line(front_start + start),
        };
        let stated = |span: Option<std::ops::Range<usize>>, otherwise: Origin| {
            span.map_or(otherwise, |span| key_line(span.start))
        };
        *provenance = Provenance {
            title: match (&front.title, format) {
                (Some(title), _) => key_line(title.span().start),
                (None, Format::PlainText) => Origin::TitleLine {
                    line: line(body_offset + parsed.title_offset),
                },
                (None, Format::Markdown) => Origin::Heading {
                    line: line(body_offset + parsed.title_offset),
                },
            },
            author: match (&front.author, parsed.byline_offset) {
                (Some(author), _) => key_line(author.span().start),
                (None, Some(offset)) if article.author.is_some() => Origin::Byline {
                    line: line(body_offset + offset),
                },
                _ => Origin::NotStated,
            },
            published: match &front.date {
                Some(date) => key_line(date.span().start),
                None if article.published.is_some() => Origin::FileName,
                None => Origin::NotStated,
            },
            updated: stated(front.updated.as_ref().map(Spanned::span), Origin::NotStated),
            categories: match (&front.category, &front.categories) {
                (Some(category), _) => key_line(category.span().start),
                (None, Some(list)) => key_line(list.span().start),
                (None, None) if article.categories.is_empty() => Origin::NotStated,
                (None, None) => Origin::Folder,
            },
            slug: stated(front.slug.as_ref().map(Spanned::span), Origin::FileName),
            id: stated(front.id.as_ref().map(Spanned::span), Origin::Path),
            link: stated(front.link.as_ref().map(Spanned::span), Origin::NotStated),
            summary: stated(
                front.summary.as_ref().map(Spanned::span),
                Origin::FirstParagraph,
            ),
            draft: stated(front.draft.as_ref().map(Spanned::span), Origin::NotStated),
            dropped: match parsed.byline_offset {
                Some(offset) => {
                    let first = line(body_offset + offset);
                    text.lines()
                        .enumerate()
                        .skip(first - 1)
                        .filter(|(_, l)| !l.trim().is_empty())
                        .map(|(index, l)| (index + 1, l.to_string()))
                        .collect()
                }
                None => Vec::new(),
            },
        };
    }
    let body = parsed.body.map(|body| {
        let mut body = Body {
            summary: clean(
                front
                    .summary
                    .as_ref()
                    .map(|s| s.get_ref().trim().to_string())
                    .unwrap_or(body.summary),
            ),
            image: front_image.or_else(|| match format {
                Format::Markdown => image::first_image(&body.content_html),
                Format::PlainText => None,
            }),
            content_html: clean(body.content_html),
        };
        // Bodies stay cached while their feeds show them.
        body.summary.shrink_to_fit();
        body.content_html.shrink_to_fit();
        body
    });
    Ok((article, body))
}

/// `text` in NFC, as it is when it is already (nearly always: the quick
/// check costs a tenth of recomposing).
fn nfc(text: String) -> String {
    if unicode_normalization::is_nfc_quick(text.chars()) == unicode_normalization::IsNormalized::Yes
    {
        text
    } else {
        text.nfc().collect()
    }
}

fn relative_to_slash(relative: &Path) -> String {
    relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

/// What a format's parser found in the text after the front matter.
struct ParsedBody {
    title: Option<String>,
    /// Byte offset in the body where the title was found, for messages.
    title_offset: usize,
    author: Option<String>,
    /// Byte offset in the body of the byline line (plain text), if any.
    byline_offset: Option<usize>,
    /// `None` unless asked for.
    body: Option<Body>,
}

/// The file name of `relative` (a `/`-separated path) without its extension.
fn file_stem(relative: &str) -> &str {
    let file_name = relative.rsplit('/').next().unwrap_or(relative);
    file_name
        .rsplit_once('.')
        .map_or(file_name, |(stem, _)| stem)
}

/// The slug an article at `relative` (its NFC key) has when its front
/// matter sets none.
pub fn file_name_slug(relative: &str) -> String {
    slugify(file_stem(relative))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::parse(
            Path::new("/srv/config/feedd.toml"),
            "[site]\ntitle = \"Tin\"\nbase_url = \"https://news.example.vn\"\ntimezone = \"Asia/Ho_Chi_Minh\"\n",
        )
        .unwrap()
    }

    /// An article with its body, as a feed shows it.
    #[derive(Debug)]
    struct Full {
        article: Article,
        summary: String,
        content_html: String,
    }

    impl std::ops::Deref for Full {
        type Target = Article;

        fn deref(&self) -> &Article {
            &self.article
        }
    }

    /// Parses with and without the body, which must agree on the metadata.
    fn parse(relative: &str, text: &str) -> Result<Full, ArticleError> {
        let path = Path::new("/srv/articles").join(relative);
        let config = config();
        let metadata = parse_article(&config, &path, Path::new(relative), text.as_bytes());
        let full = parse_article_with_body(&config, &path, Path::new(relative), text.as_bytes());
        match (&metadata, &full) {
            (Ok(metadata), Ok((article, _))) => assert_eq!(metadata, article),
            (Err(a), Err(b)) => assert_eq!(a.to_string(), b.to_string()),
            _ => panic!("with and without the body disagree: {metadata:?} / {full:?}"),
        }
        full.map(|(article, body)| Full {
            article,
            summary: body.summary,
            content_html: body.content_html,
        })
    }

    fn error_of(relative: &str, bytes: &[u8]) -> String {
        parse_article(
            &config(),
            &Path::new("/srv/articles").join(relative),
            Path::new(relative),
            bytes,
        )
        .expect_err("article should be rejected")
        .to_string()
    }

    const SEED: &str = include_str!("../../articles/Chính trị/000_dcc753fbd64ee8d5.txt");

    #[test]
    fn seed_article_gives_title_author_summary_and_drops_the_trailer() {
        let article = parse("Chính trị/000_dcc753fbd64ee8d5.txt", SEED).unwrap();
        assert_eq!(article.title, "Chú trọng phát triển Đảng ở cơ sở");
        assert_eq!(article.author.as_deref(), Some("Minh Phúc"));
        assert!(
            article
                .summary
                .starts_with("Là huyện có địa bàn rộng, dân số đông")
        );
        assert!(
            article
                .summary
                .ends_with("tạo điều kiện cho nhân dân yên tâm lao động sản xuất.")
        );
        assert_eq!(
            article.categories,
            [CategoryRef {
                slug: "chinh-tri".into(),
                name: "Chính trị".into()
            }]
        );
        assert_eq!(article.slug, "000-dcc753fbd64ee8d5");
        assert_eq!(
            article.link,
            "https://news.example.vn/chinh-tri/000-dcc753fbd64ee8d5.html"
        );
        assert!(
            article
                .content_html
                .contains("nâng cấp 3 chi bộ xã lên thành đảng bộ.")
        );
        for trailer in [
            "Bài và ảnh",
            "Chia sẻ:",
            "Rao vặt",
            "Các đơn vị thông tin của TTXVN",
        ] {
            assert!(!article.content_html.contains(trailer), "{trailer}");
        }
        assert_eq!(article.published, None);
    }

    #[test]
    fn byline_is_the_last_short_matching_line() {
        let text =
            "Title\n\nTheo thống kê, sản lượng tăng.\n\nMore text.\n\nTheo TTXVN\n\nChia sẻ:\n";
        let article = parse("a.txt", text).unwrap();
        assert_eq!(article.author.as_deref(), Some("TTXVN"));
        assert!(
            article
                .content_html
                .contains("Theo thống kê, sản lượng tăng.")
        );
        assert!(!article.content_html.contains("Chia sẻ"));
    }

    #[test]
    fn long_line_with_a_prefix_is_not_a_byline() {
        let long = format!("Theo {}", "x".repeat(90));
        let article = parse("a.txt", &format!("Title\n\n{long}\n")).unwrap();
        assert_eq!(article.author, None);
        assert!(article.content_html.contains(&long));
    }

    #[test]
    fn plain_text_is_escaped_never_interpreted() {
        let article = parse(
            "a.txt",
            "A <b>bold</b> & title\n\n<script>alert(1)</script>\n",
        )
        .unwrap();
        assert_eq!(article.title, "A <b>bold</b> & title");
        assert_eq!(
            article.content_html,
            "<p>&lt;script&gt;alert(1)&lt;/script&gt;</p>"
        );
    }

    #[test]
    fn bom_crlf_and_nfd_are_normalised() {
        let nfd: String = "Đời sống\r\n\r\nMột đoạn.\r\n".nfd().collect();
        let bytes = [b"\xEF\xBB\xBF".as_slice(), nfd.as_bytes()].concat();
        let (article, body) =
            parse_article_with_body(&config(), Path::new("/x/a.txt"), Path::new("a.txt"), &bytes)
                .unwrap();
        assert_eq!(article.title, "Đời sống".nfc().collect::<String>());
        assert_eq!(body.content_html, "<p>Một đoạn.</p>");
    }

    #[test]
    fn markdown_takes_front_matter_and_renders_extensions() {
        let text = "+++\ntitle = \"Giá lúa\"\ndate = \"2026-11-20 08:30\"\nauthor = \"Thu Hà\"\ncategories = [\"Kinh tế\", \"technology\"]\n+++\n\nFirst *para*.\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n~~old~~ note[^1]\n\n[^1]: foot\n";
        let article = parse("Đời sống/gia-lua.md", text).unwrap();
        assert_eq!(article.title, "Giá lúa");
        assert_eq!(article.author.as_deref(), Some("Thu Hà"));
        assert_eq!(article.summary, "First para.");
        let slugs: Vec<_> = article.categories.iter().map(|c| c.slug.as_str()).collect();
        assert_eq!(slugs, ["kinh-te", "technology"]);
        assert_eq!(article.link, "https://news.example.vn/kinh-te/gia-lua.html");
        assert_eq!(
            article.published,
            Some("2026-11-20T01:30:00Z".parse().unwrap())
        );
        assert!(article.content_html.contains("<table>"));
        assert!(article.content_html.contains("<del>old</del>"));
        // Footnotes survive sanitizing, their links following the id prefix.
        for kept in [
            "<sup class=\"footnote-reference\"><a href=\"https://news.example.vn/kinh-te/gia-lua.html#user-content-1\" rel=\"noopener noreferrer\">1</a></sup>",
            "<div class=\"footnote-definition\" id=\"user-content-1\"><sup class=\"footnote-definition-label\">1</sup>",
        ] {
            assert!(
                article.content_html.contains(kept),
                "{}",
                article.content_html
            );
        }
    }

    #[test]
    fn relative_links_and_images_become_absolute() {
        let article = parse(
            "Kinh tế/gia-lua.md",
            "# Giá lúa\n\n![ảnh](/images/lua.jpg) [tiếp](phan-2.html) [ngoài](https://x.example/)\n",
        )
        .unwrap();
        assert!(
            article
                .content_html
                .contains(r#"src="https://news.example.vn/images/lua.jpg""#),
            "{}",
            article.content_html
        );
        assert!(
            article
                .content_html
                .contains(r#"href="https://news.example.vn/kinh-te/phan-2.html""#)
        );
        assert!(
            article
                .content_html
                .contains(r#"href="https://x.example/""#)
        );
    }

    #[test]
    fn a_link_is_published_as_written_only_if_it_is_a_url() {
        let link_of = |link: &str| {
            let text = format!("+++\ntitle = \"t\"\nlink = {link:?}\n+++\nBody.\n");
            parse("a.md", &text).map(|article| article.link.clone())
        };
        for good in [
            "https://other.example/story",
            "http://127.0.0.1:8080/a?b=c#d",
            "https://[::1]/x",
            "https://vnexpress.net/bão-số-9.html",
        ] {
            assert_eq!(link_of(good).unwrap(), good);
        }
        for (bad, why) in [
            ("http://[::1", "not a valid URL"),
            ("https://", "not a valid URL"),
            ("https://exa mple.vn/", "absolute http(s) URL"),
            ("https://example.vn:99999/", "not a valid URL"),
            ("ftp://example.vn/", "absolute http(s) URL"),
            ("/relative.html", "absolute http(s) URL"),
        ] {
            let error = link_of(bad).unwrap_err().to_string();
            assert!(
                error.contains(why) && error.contains(":3:8:"),
                "{bad}: {error}"
            );
        }
    }

    #[test]
    fn markdown_title_comes_from_the_first_heading() {
        let article = parse("Tech/x.md", "Intro line.\n\n# The *Real* Title\n\nBody.\n").unwrap();
        assert_eq!(article.title, "The Real Title");
        assert!(!article.content_html.contains("Real"));
        assert_eq!(article.summary, "Intro line.");
    }

    #[test]
    fn naive_dates_are_in_the_site_timezone_and_rfc3339_keeps_its_offset() {
        let naive = parse("a.md", "+++\ntitle = \"t\"\ndate = \"2026-11-20\"\n+++\n").unwrap();
        assert_eq!(
            naive.published,
            Some("2026-11-19T17:00:00Z".parse().unwrap())
        );
        let toml_datetime = parse(
            "a.md",
            "+++\ntitle = \"t\"\ndate = 2026-11-20T08:30:00\n+++\n",
        )
        .unwrap();
        assert_eq!(
            toml_datetime.published,
            Some("2026-11-20T01:30:00Z".parse().unwrap())
        );
        let rfc = parse("a.md", "+++\ntitle = \"t\"\ndate = \"2026-11-21T09:15:00+07:00\"\nupdated = \"2026-11-22T00:00:00Z\"\n+++\n").unwrap();
        assert_eq!(rfc.published, Some("2026-11-21T02:15:00Z".parse().unwrap()));
        assert_eq!(rfc.updated, Some("2026-11-22T00:00:00Z".parse().unwrap()));
    }

    #[test]
    fn file_name_date_prefix_gives_the_published_date() {
        let article = parse(
            "Kinh tế/2026-11-18-gia-lua-tang.txt",
            "Giá lúa tăng\n\nBody.\n",
        )
        .unwrap();
        assert_eq!(
            article.published,
            Some("2026-11-17T17:00:00Z".parse().unwrap())
        );
        assert_eq!(article.slug, "2026-11-18-gia-lua-tang");
    }

    #[test]
    fn ids_depend_on_the_relative_path_only() {
        let a = parse("x/a.txt", "T\n\nB\n").unwrap();
        let edited = parse("x/a.txt", "T2\n\nB2\n").unwrap();
        let other = parse("y/a.txt", "T\n\nB\n").unwrap();
        assert_eq!(a.id, edited.id);
        assert_ne!(a.id, other.id);
        assert!(
            a.id.starts_with("urn:uuid:") && a.id.len() == 45,
            "{}",
            a.id
        );
        let own = parse(
            "a.md",
            "+++\ntitle = \"t\"\nid = \"tag:example.vn,2026:1\"\n+++\n",
        )
        .unwrap();
        assert_eq!(own.id, "tag:example.vn,2026:1");
    }

    #[test]
    fn drafts_and_front_matter_overrides() {
        let article = parse(
            "a/b.txt",
            "+++\ntitle = \"Own\"\ndraft = true\nslug = \"Tên riêng\"\nlink = \"https://other.example/x\"\nsummary = \"S\"\n+++\nFirst body line\n",
        )
        .unwrap();
        assert!(article.draft);
        assert_eq!(article.title, "Own");
        assert_eq!(article.slug, "ten-rieng");
        assert_eq!(article.link, "https://other.example/x");
        assert_eq!(article.summary, "S");
        assert_eq!(article.content_html, "<p>First body line</p>");
    }

    #[test]
    fn provenance_says_where_each_value_came_from() {
        let explained = |relative: &str, text: &str| {
            parse_article_explained(
                &config(),
                &Path::new("/srv/articles").join(relative),
                Path::new(relative),
                text.as_bytes(),
            )
            .unwrap()
            .2
        };
        let seed = explained("Chính trị/000_dcc753fbd64ee8d5.txt", SEED);
        assert_eq!(seed.title, Origin::TitleLine { line: 1 });
        assert_eq!(seed.author, Origin::Byline { line: 20 });
        assert_eq!(seed.published, Origin::NotStated);
        assert_eq!(seed.categories, Origin::Folder);
        assert_eq!(seed.slug, Origin::FileName);
        assert_eq!(seed.id, Origin::Path);
        assert_eq!(seed.summary, Origin::FirstParagraph);
        assert_eq!(seed.dropped.first().map(|(line, _)| *line), Some(20));
        assert_eq!(
            seed.dropped.last().map(|(_, text)| text.as_str()),
            Some("Các đơn vị thông tin của TTXVN")
        );

        let markdown = explained(
            "Kinh tế/2026-11-18-x.md",
            "+++\nauthor = \"A\"\nslug = \"s\"\ncategories = [\"b\"]\n+++\n\nIntro.\n\n# Heading\n",
        );
        assert_eq!(markdown.title, Origin::Heading { line: 9 });
        assert_eq!(markdown.author, Origin::FrontMatter { line: 2 });
        assert_eq!(markdown.slug, Origin::FrontMatter { line: 3 });
        assert_eq!(markdown.categories, Origin::FrontMatter { line: 4 });
        assert_eq!(markdown.published, Origin::FileName);
        assert!(markdown.dropped.is_empty());
    }

    #[test]
    fn xml_forbidden_characters_are_removed() {
        let article = parse("a.txt", "Ti\u{1}tle\u{FFFF}\n\nBo\u{0}dy\u{B}\n").unwrap();
        assert_eq!(article.title, "Title");
        assert_eq!(article.content_html, "<p>Body</p>");
    }

    #[test]
    fn invalid_utf8_is_rejected_with_its_line() {
        // "Tin tức" in Windows-1258: 0xE6 is not valid UTF-8 on its own.
        let msg = error_of("a.txt", b"Title\n\nTin t\xF4\xE6c\n");
        assert!(
            msg.starts_with("/srv/articles/a.txt:3:6: not valid UTF-8 (byte 12)"),
            "{msg}"
        );
        let after_bom = error_of("a.txt", b"\xEF\xBB\xBFTitle\n\xFF\n");
        assert!(
            after_bom.starts_with("/srv/articles/a.txt:2:1: not valid UTF-8 (byte 9)"),
            "{after_bom}"
        );
        let first_line = error_of("a.txt", b"\xEF\xBB\xBFAb\xFF\n");
        assert!(
            first_line.starts_with("/srv/articles/a.txt:1:3: "),
            "{first_line}"
        );
        assert!(msg.contains("UTF-8"), "{msg}");
    }

    #[test]
    fn bad_articles_are_rejected_with_reasons() {
        let cases: [(&str, &str, &str); 9] = [
            ("a.txt", "", "/srv/articles/a.txt: the file is empty"),
            (
                "a.txt",
                " \n\n \n",
                "/srv/articles/a.txt: the file is empty",
            ),
            (
                "a.md",
                "Just text, no heading.\n",
                "/srv/articles/a.md: no title",
            ),
            (
                "a.md",
                "+++\ntitle = \"x\"\nBody\n",
                "/srv/articles/a.md:1:1: front matter opened with +++ is never closed",
            ),
            (
                "a.md",
                "+++\ntitle = \"x\"\ntitel = \"y\"\n+++\n",
                "/srv/articles/a.md:3:1: front matter: unknown field `titel`",
            ),
            (
                "a.md",
                "+++\ntitle = x\n+++\n",
                "/srv/articles/a.md:2:9: front matter:",
            ),
            (
                "a.md",
                "+++\ntitle = \"x\"\ndate = \"2026-02-30\"\n+++\n",
                "/srv/articles/a.md:3:8: date: \"2026-02-30\" is not a valid date",
            ),
            (
                "a.md",
                "+++\ntitle = \"x\"\ndraft = \"yes\"\n+++\n",
                "/srv/articles/a.md:3:9: front matter:",
            ),
            (
                "2026-13-45-x.txt",
                "T\n\nB\n",
                "/srv/articles/2026-13-45-x.txt: the file name starts with 2026-13-45",
            ),
        ];
        for (relative, text, expected) in cases {
            let msg = error_of(relative, text.as_bytes());
            assert!(msg.starts_with(expected), "{relative} {text:?}: {msg}");
        }
    }

    #[test]
    fn ignored_paths() {
        for ignored in [
            ".hidden.txt",
            ".git/x.md",
            "Chính trị/.drafts/a.txt",
            "a.txt~",
            "a.txt.swp",
            ".a.txt.swp",
            "a.tmp",
            "a.txt.tmp",
            ".#a.txt",
            "4913",
            "Chính trị/4913",
            "image.jpg",
            "notes",
            ".txt",
        ] {
            assert!(!is_article_path(Path::new(ignored)), "{ignored}");
        }
        for article in ["a.txt", "Chính trị/a.TXT", "x/y/z/b.md", "c.markdown"] {
            assert!(is_article_path(Path::new(article)), "{article}");
        }
    }
}
