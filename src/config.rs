//! The operator's TOML file: schema, defaults, validation with
//! `file:line:column` errors, and paths resolved against the config's folder.
//!
//! Knows nothing of articles, feeds or HTTP.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::ops::Range;
use std::path::{Path, PathBuf};

use jiff::tz::TimeZone;
use serde::Deserialize;
use toml::Spanned;

use crate::slug;
use crate::xml_text::clean;

/// The path `feedd` reads when `--config` is not given.
pub const DEFAULT_CONFIG_PATH: &str = "config/feedd.toml";

/// A validated configuration: every path absolute, every value checked.
#[derive(Debug, Clone)]
pub struct Config {
    /// The file this was read from.
    pub source: PathBuf,
    /// `[site]`.
    pub site: Site,
    /// `[paths]`, absolute.
    pub paths: Paths,
    /// `[server]`.
    pub server: Server,
    /// `[feeds]`.
    pub feeds: Feeds,
    /// `[watch]`.
    pub watch: Watch,
    /// `[text]`.
    pub text: Text,
    /// `[websub]`.
    pub websub: WebSub,
    /// `[categories.<slug>]`, by slug.
    pub categories: BTreeMap<String, CategoryConfig>,
}

/// `[site]`: what every feed says about the site.
#[derive(Debug, Clone, PartialEq)]
pub struct Site {
    /// Title of the all-articles feed and suffix of every category feed's title.
    pub title: String,
    /// Absolute http(s) URL without a trailing slash.
    pub base_url: String,
    /// Channel description; defaults to the title.
    pub description: String,
    /// BCP 47 language tag.
    pub language: String,
    /// Zone for dates written without an offset.
    pub timezone: TimeZone,
    /// Author of articles that name none.
    pub author: String,
}

/// `[paths]`, resolved against the config file's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    /// Where editors drop articles.
    pub articles: PathBuf,
    /// Where feeds are written; mirrors the URL space.
    pub output: PathBuf,
    /// Where first-seen dates are remembered.
    pub state: PathBuf,
}

/// `[server]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Server {
    /// Address to bind; port 0 picks a free one.
    pub listen: SocketAddr,
    /// `Cache-Control: max-age`, in seconds.
    pub max_age: u32,
}

/// `[feeds]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Feeds {
    /// Items per feed.
    pub limit: usize,
    /// Whether items carry the full article body.
    pub full_content: bool,
    /// Larger article files are rejected without being read.
    pub max_article_bytes: u64,
}

/// `[watch]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    /// Quiet time that closes a batch of file events, in milliseconds.
    pub debounce_ms: u64,
    /// 0: native events; otherwise the polling period in milliseconds.
    pub poll_interval_ms: u64,
}

/// `[text]`: how plain-text articles are read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Text {
    /// Prefixes that mark the byline line.
    pub byline_prefixes: Vec<String>,
}

/// `[websub]`: the hubs every feed advertises and that are told of changes.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct WebSub {
    /// Absolute http(s) URLs, as the `url` crate serializes them (so they
    /// are ASCII and fit a `Link` header and an XML attribute as they are);
    /// no two alike. Empty: no hub links and no pings.
    pub hubs: Vec<String>,
}

/// `[categories.<slug>]`: optional names for a category.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CategoryConfig {
    /// Display title; default: the folder name as written.
    pub title: Option<String>,
    /// Channel description; default: the title.
    pub description: Option<String>,
}

/// A configuration that cannot be used, with where and what to fix.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{}: cannot read the config file: {source}; pass the right file with --config", .path.display())]
    Read {
        /// The config file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A syntax, schema or value error at a position in the file.
    #[error("{}:{line}:{column}: {message}", .path.display())]
    At {
        /// The config file.
        path: PathBuf,
        /// 1-based line.
        line: usize,
        /// 1-based column, in characters.
        column: usize,
        /// What is wrong and what to do.
        message: String,
    },
}

impl ConfigError {
    fn at(path: &Path, text: &str, span: Option<Range<usize>>, message: impl Into<String>) -> Self {
        let (line, column) = line_column(text, span.map_or(0, |s| s.start));
        ConfigError::At {
            path: path.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }
}

/// 1-based line and column (in characters) of a byte offset.
pub fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let offset = floor_char_boundary(text, offset.min(text.len()));
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    (line, before[line_start..].chars().count() + 1)
}

fn floor_char_boundary(text: &str, mut i: usize) -> usize {
    while !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    site: RawSite,
    #[serde(default)]
    paths: RawPaths,
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    feeds: RawFeeds,
    #[serde(default)]
    watch: RawWatch,
    #[serde(default)]
    text: RawText,
    #[serde(default)]
    websub: RawWebSub,
    #[serde(default)]
    categories: BTreeMap<Spanned<String>, RawCategory>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSite {
    title: Spanned<String>,
    base_url: Spanned<String>,
    description: Option<String>,
    language: Option<Spanned<String>>,
    timezone: Option<Spanned<String>>,
    author: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawPaths {
    articles: Option<String>,
    output: Option<String>,
    state: Option<Spanned<String>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawServer {
    listen: Option<Spanned<String>>,
    max_age: Option<u32>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFeeds {
    limit: Option<Spanned<usize>>,
    full_content: Option<bool>,
    max_article_bytes: Option<Spanned<u64>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWatch {
    debounce_ms: Option<u64>,
    poll_interval_ms: Option<u64>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawText {
    byline_prefixes: Option<Spanned<Vec<String>>>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawWebSub {
    #[serde(default)]
    hubs: Vec<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCategory {
    title: Option<String>,
    description: Option<String>,
}

/// `feeds.max_article_bytes` when not set: 1 MiB, some 20 times the longest
/// real news article, small enough that a stray dump cannot fill memory.
pub const DEFAULT_MAX_ARTICLE_BYTES: u64 = 1 << 20;

/// The byline prefixes used when `[text] byline_prefixes` is not set.
pub const DEFAULT_BYLINE_PREFIXES: [&str; 8] = [
    "Bài và ảnh:",
    "Bài, ảnh:",
    "Bài:",
    "Tin và ảnh:",
    "Tin, ảnh:",
    "Tin:",
    "Ảnh:",
    "Theo ",
];

impl Config {
    /// Reads and validates the config file at `path`.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
            path: path.to_path_buf(),
            source,
        })?;
        Config::parse(path, &text)
    }

    /// Validates `text` as if read from `path`; relative paths resolve against `path`'s folder.
    pub fn parse(path: &Path, text: &str) -> Result<Config, ConfigError> {
        let err = |span: Option<Range<usize>>, message: String| {
            ConfigError::at(path, text, span, message)
        };
        let raw: RawConfig = toml::from_str(text).map_err(|e| {
            err(
                e.span(),
                format!(
                    "{}; see the [configuration] section of README.md",
                    e.message().trim_end()
                ),
            )
        })?;

        let title = raw.site.title.get_ref().trim().to_string();
        if title.is_empty() {
            return Err(err(
                Some(raw.site.title.span()),
                "site.title must not be empty".into(),
            ));
        }
        let base_url = validate_base_url(raw.site.base_url.get_ref()).ok_or_else(|| {
            err(
                Some(raw.site.base_url.span()),
                "site.base_url must be an absolute http(s) URL, e.g. \"https://news.example.vn\""
                    .into(),
            )
        })?;
        let language = match raw.site.language {
            None => "en".to_string(),
            Some(lang) => {
                let value = lang.get_ref();
                if !is_language_tag(value) {
                    return Err(err(
                        Some(lang.span()),
                        format!(
                            "site.language {value:?} is not a BCP 47 language tag; write e.g. \"vi\" or \"en-US\""
                        ),
                    ));
                }
                value.clone()
            }
        };
        let timezone = match raw.site.timezone {
            None => TimeZone::UTC,
            Some(tz) => TimeZone::get(tz.get_ref()).map_err(|_| {
                err(
                    Some(tz.span()),
                    format!(
                        "site.timezone {:?} is not an IANA time zone; write e.g. \"Asia/Ho_Chi_Minh\" or \"UTC\"",
                        tz.get_ref()
                    ),
                )
            })?,
        };
        // TOML escapes such as "\u0001" can write characters a feed may not hold.
        let title = clean(title);
        let site = Site {
            description: clean(raw.site.description.unwrap_or_else(|| title.clone())),
            author: clean(raw.site.author.unwrap_or_else(|| title.clone())),
            title,
            base_url,
            language,
            timezone,
        };

        // `feedd.toml` has the parent "", which `absolute` refuses: it is ".".
        let base_dir = match path.parent() {
            Some(parent) if !parent.as_os_str().is_empty() => parent.to_path_buf(),
            _ => PathBuf::from("."),
        };
        let base_dir = std::path::absolute(&base_dir).unwrap_or(base_dir);
        let resolve =
            |p: Option<&str>, default: &str| normalize(&base_dir.join(p.unwrap_or(default)));
        let output = resolve(raw.paths.output.as_deref(), "feeds");
        let state = resolve(
            raw.paths.state.as_ref().map(|s| s.get_ref().as_str()),
            ".feedd-state",
        );
        if state.starts_with(&output) {
            return Err(err(
                raw.paths.state.as_ref().map(Spanned::span),
                format!(
                    "paths.state ({}) is inside paths.output ({}), which is served to the world; move it out",
                    state.display(),
                    output.display()
                ),
            ));
        }
        let paths = Paths {
            articles: resolve(raw.paths.articles.as_deref(), "articles"),
            output,
            state,
        };

        let listen = match raw.server.listen {
            None => SocketAddr::from(([127, 0, 0, 1], 8080)),
            Some(listen) => listen.get_ref().parse().map_err(|_| {
                err(
                    Some(listen.span()),
                    format!(
                        "server.listen {:?} is not an IP address with a port; write e.g. \"127.0.0.1:8080\"",
                        listen.get_ref()
                    ),
                )
            })?,
        };
        let server = Server {
            listen,
            max_age: raw.server.max_age.unwrap_or(300),
        };

        let feeds = Feeds {
            limit: match raw.feeds.limit {
                None => 50,
                Some(limit) if *limit.get_ref() == 0 => {
                    return Err(err(
                        Some(limit.span()),
                        "feeds.limit must be at least 1".into(),
                    ));
                }
                Some(limit) => limit.into_inner(),
            },
            full_content: raw.feeds.full_content.unwrap_or(true),
            max_article_bytes: match raw.feeds.max_article_bytes {
                None => DEFAULT_MAX_ARTICLE_BYTES,
                Some(max) if *max.get_ref() == 0 => {
                    return Err(err(
                        Some(max.span()),
                        "feeds.max_article_bytes must be at least 1 (the default is 1048576, 1 MiB)"
                            .into(),
                    ));
                }
                Some(max) => max.into_inner(),
            },
        };
        let watch = Watch {
            debounce_ms: raw.watch.debounce_ms.unwrap_or(100),
            poll_interval_ms: raw.watch.poll_interval_ms.unwrap_or(0),
        };
        let text_config = Text {
            byline_prefixes: match raw.text.byline_prefixes {
                None => DEFAULT_BYLINE_PREFIXES
                    .iter()
                    .map(|s| s.to_string())
                    .collect(),
                Some(prefixes) => {
                    if prefixes.get_ref().iter().any(|p| p.trim().is_empty()) {
                        return Err(err(
                            Some(prefixes.span()),
                            "text.byline_prefixes must not contain an empty prefix: it would match every line".into(),
                        ));
                    }
                    prefixes.into_inner()
                }
            },
        };

        let mut hubs: Vec<String> = Vec::new();
        for hub in raw.websub.hubs {
            let Some(url) = validate_hub_url(hub.get_ref()) else {
                return Err(err(
                    Some(hub.span()),
                    format!(
                        "websub.hubs: {:?} is not an absolute http(s) URL without credentials or \
                         fragment; write e.g. \"https://pubsubhubbub.appspot.com/\" (the URL is \
                         published in every feed)",
                        hub.get_ref()
                    ),
                ));
            };
            if hubs.contains(&url) {
                return Err(err(
                    Some(hub.span()),
                    format!("websub.hubs: {url} is listed twice; remove one"),
                ));
            }
            hubs.push(url);
        }
        let websub = WebSub { hubs };

        let mut categories = BTreeMap::new();
        for (key, category) in raw.categories {
            if !slug::is_slug(key.get_ref()) {
                return Err(err(
                    Some(key.span()),
                    format!(
                        "category key {:?} is not a slug; write it as {:?}",
                        key.get_ref(),
                        slug::slugify(key.get_ref())
                    ),
                ));
            }
            categories.insert(
                key.into_inner(),
                CategoryConfig {
                    title: category.title.map(clean),
                    description: category.description.map(clean),
                },
            );
        }

        Ok(Config {
            source: path.to_path_buf(),
            site,
            paths,
            server,
            feeds,
            watch,
            text: text_config,
            websub,
            categories,
        })
    }
}

/// `site.base_url` as every feed URL is built from it: as written (trimmed,
/// without a trailing `/`), so that output does not change with the URL
/// parser's normalisation. Valid when the `url` crate parses it as an
/// absolute `http://` or `https://` URL whose host is a domain name of
/// letters, digits, `-` and `.` (an internationalised one too) or an IP
/// address, with a valid port if any, and nothing a base cannot carry:
/// credentials, a query or a fragment. Characters that the parser would
/// drop or rewrite silently (whitespace, controls, `\`, quotes, `<`, `>`)
/// are typos here, not URLs.
fn validate_base_url(text: &str) -> Option<String> {
    let text = text.trim();
    // The parser also accepts `http:/host` and `http:host`; links built by
    // appending to that text would not be absolute.
    let spelled_out = text.starts_with("https://") || text.starts_with("http://");
    let silently_rewritten = text
        .chars()
        .any(|c| c.is_whitespace() || c.is_control() || "\\\"<>".contains(c));
    if !spelled_out || silently_rewritten {
        return None;
    }
    let url = url::Url::parse(text).ok()?;
    let host_ok = match url.host()? {
        url::Host::Domain(domain) => {
            !domain.is_empty()
                && domain
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.')
        }
        url::Host::Ipv4(_) | url::Host::Ipv6(_) => true,
    };
    let valid = host_ok
        && url.username().is_empty()
        && url.password().is_none()
        && url.query().is_none()
        && url.fragment().is_none();
    valid.then(|| text.trim_end_matches('/').to_string())
}

/// A `websub.hubs` entry in the `url` crate's serialization, if it is an
/// absolute `http://` or `https://` URL with a host and no credentials (the
/// URL is published in every feed) or fragment (a hub is one resource).
/// Whitespace and controls inside are typos, not URLs, as for `base_url`.
fn validate_hub_url(text: &str) -> Option<String> {
    let text = text.trim();
    if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return None;
    }
    let url = url::Url::parse(text).ok()?;
    let valid = matches!(url.scheme(), "http" | "https")
        && url.host().is_some()
        && url.username().is_empty()
        && url.password().is_none()
        && url.fragment().is_none();
    valid.then(|| url.as_str().to_string())
}

fn is_language_tag(tag: &str) -> bool {
    let mut parts = tag.split('-');
    let primary = parts.next().unwrap_or("");
    (2..=8).contains(&primary.len())
        && primary.chars().all(|c| c.is_ascii_alphabetic())
        && parts.all(|p| (1..=8).contains(&p.len()) && p.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Removes `.` and `..` components without touching the disk, so a path
/// that does not exist yet still compares correctly (`state` inside `output`).
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(Path::new("/srv/feedd/config/feedd.toml"), text)
    }

    fn error_of(text: &str) -> String {
        parse(text)
            .expect_err("config should be rejected")
            .to_string()
    }

    const MINIMAL: &str = "[site]\ntitle = \"Tin tức\"\nbase_url = \"https://news.example.vn/\"\n";

    #[test]
    fn minimal_config_gets_the_documented_defaults() {
        let config = parse(MINIMAL).unwrap();
        assert_eq!(config.site.base_url, "https://news.example.vn");
        assert_eq!(config.site.description, "Tin tức");
        assert_eq!(config.site.author, "Tin tức");
        assert_eq!(config.site.language, "en");
        assert_eq!(config.site.timezone, TimeZone::UTC);
        assert_eq!(
            config.paths.articles,
            Path::new("/srv/feedd/config/articles")
        );
        assert_eq!(config.paths.output, Path::new("/srv/feedd/config/feeds"));
        assert_eq!(
            config.paths.state,
            Path::new("/srv/feedd/config/.feedd-state")
        );
        assert_eq!(config.server.listen, "127.0.0.1:8080".parse().unwrap());
        assert_eq!(config.feeds.max_article_bytes, 1_048_576);
        assert_eq!(config.server.max_age, 300);
        assert_eq!(config.feeds.limit, 50);
        assert!(config.feeds.full_content);
        assert_eq!(config.watch.debounce_ms, 100);
        assert_eq!(config.watch.poll_interval_ms, 0);
        assert_eq!(
            config.text.byline_prefixes.len(),
            DEFAULT_BYLINE_PREFIXES.len()
        );
    }

    #[test]
    fn relative_paths_resolve_against_the_config_folder() {
        let config = parse(&format!(
            "{MINIMAL}[paths]\narticles = \"../articles\"\noutput = \"/var/www/feeds\"\n"
        ))
        .unwrap();
        assert_eq!(config.paths.articles, Path::new("/srv/feedd/articles"));
        assert_eq!(config.paths.output, Path::new("/var/www/feeds"));
    }

    #[test]
    fn a_config_named_without_a_folder_resolves_against_the_working_directory() {
        let config = Config::parse(Path::new("feedd.toml"), MINIMAL).unwrap();
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(config.paths.articles, cwd.join("articles"));
        assert!(config.paths.output.is_absolute());
    }

    #[test]
    fn toml_escapes_cannot_put_xml_forbidden_characters_in_feeds() {
        let config = parse(
            "[site]\ntitle = \"Tin\\u0001 tức\"\nbase_url = \"https://a.vn\"\nauthor = \"B\\u000b\"\n\
             [categories.x]\ntitle = \"X\\f\"\n",
        )
        .unwrap();
        assert_eq!(config.site.title, "Tin tức");
        assert_eq!(config.site.description, "Tin tức");
        assert_eq!(config.site.author, "B");
        assert_eq!(config.categories["x"].title.as_deref(), Some("X"));
    }

    #[test]
    fn full_config_is_read() {
        let config = parse(
            r#"
[site]
title = "Tin tức"
base_url = "https://news.example.vn"
description = "Tin tức mới nhất"
language = "vi"
timezone = "Asia/Ho_Chi_Minh"
author = "Ban biên tập"

[server]
listen = "0.0.0.0:9000"
max_age = 60

[feeds]
limit = 10
full_content = false
max_article_bytes = 65536

[watch]
debounce_ms = 20
poll_interval_ms = 500

[text]
byline_prefixes = ["By "]

[categories.chinh-tri]
title = "Chính trị"
description = "Tin chính trị"
"#,
        )
        .unwrap();
        assert_eq!(config.site.language, "vi");
        assert_eq!(config.site.timezone.iana_name(), Some("Asia/Ho_Chi_Minh"));
        assert_eq!(config.server.max_age, 60);
        assert_eq!(config.feeds.limit, 10);
        assert!(!config.feeds.full_content);
        assert_eq!(config.feeds.max_article_bytes, 65536);
        assert_eq!(config.watch.poll_interval_ms, 500);
        assert_eq!(config.text.byline_prefixes, ["By "]);
        assert_eq!(
            config.categories["chinh-tri"].title.as_deref(),
            Some("Chính trị")
        );
    }

    #[test]
    fn missing_required_key_names_its_table() {
        let msg = error_of("[site]\ntitle = \"x\"\n");
        assert!(
            msg.starts_with("/srv/feedd/config/feedd.toml:1:1: "),
            "{msg}"
        );
        assert!(msg.contains("base_url"), "{msg}");
    }

    #[test]
    fn unknown_key_is_rejected_at_its_line_and_column() {
        let msg = error_of(&format!("{MINIMAL}[feeds]\nlimt = 3\n"));
        assert!(
            msg.starts_with("/srv/feedd/config/feedd.toml:5:1: "),
            "{msg}"
        );
        assert!(msg.contains("limt"), "{msg}");
    }

    #[test]
    fn wrong_type_is_rejected_at_its_value() {
        let msg = error_of(&format!("{MINIMAL}[server]\nmax_age = \"five\"\n"));
        assert!(
            msg.starts_with("/srv/feedd/config/feedd.toml:5:11: "),
            "{msg}"
        );
    }

    #[test]
    fn base_url_is_kept_as_written_without_its_trailing_slash() {
        for (written, kept) in [
            ("https://news.example.vn/", "https://news.example.vn"),
            (" http://news.example.vn ", "http://news.example.vn"),
            (
                "https://news.example.vn/tin/",
                "https://news.example.vn/tin",
            ),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("https://[::1]:8443/", "https://[::1]:8443"),
            ("https://tintức.vn", "https://tintức.vn"),
            ("https://News.Example.vn", "https://News.Example.vn"),
            ("https://a.vn/tin-tức", "https://a.vn/tin-tức"),
        ] {
            let config = parse(&format!(
                "[site]\ntitle = \"x\"\nbase_url = \"{written}\"\n"
            ))
            .unwrap_or_else(|e| panic!("{written}: {e}"));
            assert_eq!(config.site.base_url, kept);
        }
    }

    #[test]
    fn bad_base_url_is_rejected_at_its_value() {
        for url in [
            "news.example.vn",
            "ftp://news.example.vn",
            "https://",
            "https://a b",
            "http:/news.example.vn",
            "http:news.example.vn",
            "HTTPS//news.example.vn",
            "https://news.example.vn:99999",
            "https://news.example.vn:80x",
            "https://[::1",
            "https://user:secret@news.example.vn",
            "https://news.example.vn/?page=1",
            "https://news.example.vn/#top",
            "https://news.example.vn\\\\tin",
            "https://news.ex\\tample.vn",
            "https://news_example.vn",
            "https://news.example.vn/<b>",
        ] {
            let msg = error_of(&format!("[site]\ntitle = \"x\"\nbase_url = \"{url}\"\n"));
            assert!(
                msg.starts_with("/srv/feedd/config/feedd.toml:3:12: "),
                "{msg}"
            );
            assert!(msg.contains("absolute http(s) URL"), "{msg}");
        }
    }

    #[test]
    fn websub_hubs_default_to_none_and_are_kept_normalized() {
        assert!(parse(MINIMAL).unwrap().websub.hubs.is_empty());
        let config = parse(&format!(
            "{MINIMAL}[websub]\nhubs = [\"https://Hub.example\", \"http://127.0.0.1:8081/hub?x=1\"]\n"
        ))
        .unwrap();
        assert_eq!(
            config.websub.hubs,
            ["https://hub.example/", "http://127.0.0.1:8081/hub?x=1"]
        );
    }

    #[test]
    fn bad_values_are_rejected_with_positions() {
        let cases = [
            (
                "[site]\ntitle = \"x\"\nbase_url = \"http://a\"\ntimezone = \"Mars/Olympus\"\n",
                "4:12",
                "IANA",
            ),
            (
                "[site]\ntitle = \"x\"\nbase_url = \"http://a\"\nlanguage = \"english language\"\n",
                "4:12",
                "BCP 47",
            ),
            (
                &format!("{MINIMAL}[server]\nlisten = \"localhost\"\n"),
                "5:10",
                "IP address",
            ),
            (
                &format!("{MINIMAL}[feeds]\nlimit = 0\n"),
                "5:9",
                "at least 1",
            ),
            (
                &format!("{MINIMAL}[feeds]\nmax_article_bytes = 0\n"),
                "5:21",
                "feeds.max_article_bytes must be at least 1",
            ),
            (
                &format!("{MINIMAL}[feeds]\nmax_article_bytes = -5\n"),
                "5:21",
                "",
            ),
            (
                &format!("{MINIMAL}[categories.\"Chính trị\"]\ntitle = \"x\"\n"),
                "4:13",
                "chinh-tri",
            ),
            (
                &format!("{MINIMAL}[paths]\noutput = \"out\"\nstate = \"out/state\"\n"),
                "6:9",
                "inside paths.output",
            ),
            (
                &format!("{MINIMAL}[websub]\nhubs = [\"https://hub.example/\", \"hub.example\"]\n"),
                "5:33",
                "absolute http(s) URL",
            ),
            (
                &format!("{MINIMAL}[websub]\nhubs = [\"ftp://hub.example/\"]\n"),
                "5:9",
                "absolute http(s) URL",
            ),
            (
                &format!("{MINIMAL}[websub]\nhubs = [\"https://user:pw@hub.example/\"]\n"),
                "5:9",
                "without credentials",
            ),
            (
                &format!("{MINIMAL}[websub]\nhubs = [\"https://hub.example/#x\"]\n"),
                "5:9",
                "fragment",
            ),
            (
                &format!(
                    "{MINIMAL}[websub]\nhubs = [\"https://hub.example\", \"https://HUB.example/\"]\n"
                ),
                "5:32",
                "listed twice",
            ),
        ];
        for (text, position, words) in cases {
            let msg = error_of(text);
            assert!(
                msg.starts_with(&format!("/srv/feedd/config/feedd.toml:{position}: ")),
                "{msg}"
            );
            assert!(msg.contains(words), "{msg}");
        }
    }

    #[test]
    fn line_column_counts_characters_not_bytes() {
        let text = "a = \"Đời\"\nb = 1";
        assert_eq!(line_column(text, text.find("\"\n").unwrap()), (1, 9));
        assert_eq!(line_column(text, text.find('b').unwrap()), (2, 1));
    }
}
