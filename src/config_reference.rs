//! The one list of config keys, with each one's default and what it does.
//!
//! `feedd init` writes its commented `config/feedd.toml` from it and
//! `docs/config.md` is generated from it; `tests/config_reference.rs`
//! checks it against the schema in `config` (every key the parser accepts
//! is listed, nothing listed is unknown to it, and each stated default is
//! the parser's), so documentation cannot drift from the code.
//!
//! Knows nothing of articles, feeds or HTTP, and does not parse configs.

use std::fmt::Write as _;

/// One key of the config file.
#[derive(Debug, Clone, Copy)]
pub struct ConfigKey {
    /// Its table: `site`, or `categories.<slug>` for the per-category tables.
    pub table: &'static str,
    /// Its name in the table.
    pub name: &'static str,
    /// What applies when the key is left out.
    pub default: KeyDefault,
    /// What it does, in one or two sentences.
    pub doc: &'static str,
}

/// What applies when a key is left out.
#[derive(Debug, Clone, Copy)]
pub enum KeyDefault {
    /// The key must be set; `example` is a valid TOML value for it.
    Required {
        /// A valid value, as TOML.
        example: &'static str,
    },
    /// This TOML value, exactly as if written.
    Value(&'static str),
    /// A value computed from others, described in words; `example` is a
    /// valid TOML value for the key.
    Derived {
        /// What the default is, e.g. "the site title".
        means: &'static str,
        /// A valid value, as TOML.
        example: &'static str,
    },
}

impl KeyDefault {
    /// A valid TOML value for the key: the default itself where it is one.
    pub fn example(&self) -> &'static str {
        match self {
            KeyDefault::Required { example } | KeyDefault::Derived { example, .. } => example,
            KeyDefault::Value(value) => value,
        }
    }
}

impl ConfigKey {
    /// `table.name`, e.g. `feeds.limit`.
    pub fn dotted(&self) -> String {
        format!("{}.{}", self.table, self.name)
    }
}

/// The table name that stands for every `[categories.<slug>]` table.
pub const CATEGORY_TABLE: &str = "categories.<slug>";

/// Every key, table by table, in the order a config file lists them.
pub const CONFIG_KEYS: &[ConfigKey] = &[
    ConfigKey {
        table: "site",
        name: "title",
        default: KeyDefault::Required {
            example: "\"Tin tức\"",
        },
        doc: "The site's name: the title of the all-articles feed and the suffix of every category feed's title.",
    },
    ConfigKey {
        table: "site",
        name: "base_url",
        default: KeyDefault::Required {
            example: "\"https://news.example.vn\"",
        },
        doc: "Where the site is published, an absolute http(s) URL; every link in feeds and pages is built from it.",
    },
    ConfigKey {
        table: "site",
        name: "description",
        default: KeyDefault::Derived {
            means: "the title",
            example: "\"Tin tức mới nhất\"",
        },
        doc: "The all-articles feed's description.",
    },
    ConfigKey {
        table: "site",
        name: "language",
        default: KeyDefault::Value("\"en\""),
        doc: "A BCP 47 language tag (\"vi\", \"en-US\"): the feeds' language and the pages' lang and labels.",
    },
    ConfigKey {
        table: "site",
        name: "timezone",
        default: KeyDefault::Value("\"UTC\""),
        doc: "An IANA time zone (\"Asia/Ho_Chi_Minh\") for dates written without an offset and for dates shown on pages.",
    },
    ConfigKey {
        table: "site",
        name: "author",
        default: KeyDefault::Derived {
            means: "the title",
            example: "\"Ban biên tập\"",
        },
        doc: "The author of articles that name none.",
    },
    ConfigKey {
        table: "paths",
        name: "articles",
        default: KeyDefault::Value("\"articles\""),
        doc: "The folder editors drop articles into, relative to this file's folder.",
    },
    ConfigKey {
        table: "paths",
        name: "output",
        default: KeyDefault::Value("\"feeds\""),
        doc: "Where feeds and pages are written, mirroring the URL space; any static server can serve it.",
    },
    ConfigKey {
        table: "paths",
        name: "state",
        default: KeyDefault::Value("\".feedd-state\""),
        doc: "What feedd remembers between runs (first-seen dates, the catalog cache, the lock); never inside output.",
    },
    ConfigKey {
        table: "server",
        name: "listen",
        default: KeyDefault::Value("\"127.0.0.1:8080\""),
        doc: "The address `feedd serve` listens on; port 0 picks a free port (logged at startup).",
    },
    ConfigKey {
        table: "server",
        name: "max_age",
        default: KeyDefault::Value("300"),
        doc: "Cache-Control max-age of every response, in seconds: how long caches and readers may keep a copy.",
    },
    ConfigKey {
        table: "feeds",
        name: "limit",
        default: KeyDefault::Value("50"),
        doc: "Items per feed, newest first.",
    },
    ConfigKey {
        table: "feeds",
        name: "full_content",
        default: KeyDefault::Value("true"),
        doc: "Whether items carry the full article body, or only its summary.",
    },
    ConfigKey {
        table: "feeds",
        name: "max_article_bytes",
        default: KeyDefault::Value("1048576"),
        doc: "An article file larger than this (in bytes) is rejected without being read.",
    },
    ConfigKey {
        table: "watch",
        name: "debounce_ms",
        default: KeyDefault::Value("100"),
        doc: "File events are collected until this many milliseconds pass without one, then published together.",
    },
    ConfigKey {
        table: "watch",
        name: "poll_interval_ms",
        default: KeyDefault::Value("0"),
        doc: "0 watches with native events (inotify); more polls the articles every this many milliseconds, for network filesystems.",
    },
    ConfigKey {
        table: "text",
        name: "byline_prefixes",
        default: KeyDefault::Value(
            "[\"Bài và ảnh:\", \"Bài, ảnh:\", \"Bài:\", \"Tin và ảnh:\", \"Tin, ảnh:\", \"Tin:\", \"Ảnh:\", \"Theo \"]",
        ),
        doc: "A plain-text article's byline is its last line of at most 80 characters starting with one of these: the rest of the line is the author, and it and every line after it are dropped.",
    },
    ConfigKey {
        table: "websub",
        name: "hubs",
        default: KeyDefault::Value("[]"),
        doc: "WebSub hubs (absolute http(s) URLs) every feed advertises and `feedd serve` pings when a feed changes; none by default.",
    },
    ConfigKey {
        table: CATEGORY_TABLE,
        name: "title",
        default: KeyDefault::Derived {
            means: "the folder name as written",
            example: "\"Chính trị\"",
        },
        doc: "The category's display name; `<slug>` is the category's slug (`chinh-tri` for the folder `Chính trị/`).",
    },
    ConfigKey {
        table: CATEGORY_TABLE,
        name: "description",
        default: KeyDefault::Derived {
            means: "its title",
            example: "\"Tin chính trị\"",
        },
        doc: "The category feed's description.",
    },
];

/// The slug the example `[categories.<slug>]` table uses.
pub const EXAMPLE_CATEGORY_SLUG: &str = "chinh-tri";

/// The tables of [`CONFIG_KEYS`], in order, each once.
pub fn tables() -> Vec<&'static str> {
    let mut tables: Vec<&'static str> = Vec::new();
    for key in CONFIG_KEYS {
        if !tables.contains(&key.table) {
            tables.push(key.table);
        }
    }
    tables
}

/// A config file listing every key with a comment on what it does. Keys in
/// `set` (`("site", "title", "\"My site\"")`: table, name, TOML value) and
/// required keys (with their example) are written as values; every other
/// key is written commented out with its default, so that the file means
/// exactly the defaults until a line is uncommented. The per-category
/// table is written as a commented-out example.
pub fn commented_config(header: &str, set: &[(&str, &str, &str)]) -> String {
    let mut out = String::new();
    for line in header.lines() {
        push_comment(&mut out, "", line);
    }
    for table in tables() {
        let (prefix, heading) = if table == CATEGORY_TABLE {
            ("# ", format!("categories.{EXAMPLE_CATEGORY_SLUG}"))
        } else {
            ("", table.to_string())
        };
        let _ = writeln!(out, "\n{prefix}[{heading}]");
        for (index, key) in CONFIG_KEYS
            .iter()
            .filter(|key| key.table == table)
            .enumerate()
        {
            if index > 0 {
                out.push('\n');
            }
            push_wrapped_comment(&mut out, &key_comment(key));
            let value = set
                .iter()
                .find(|(t, n, _)| *t == table && *n == key.name)
                .map(|(_, _, value)| *value);
            match (value, key.default) {
                (Some(value), _) => {
                    let _ = writeln!(out, "{prefix}{} = {value}", key.name);
                }
                (None, KeyDefault::Required { example }) => {
                    let _ = writeln!(out, "{prefix}{} = {example}", key.name);
                }
                (None, default) => {
                    let _ = writeln!(out, "# {} = {}", key.name, default.example());
                }
            }
        }
    }
    out
}

fn key_comment(key: &ConfigKey) -> String {
    let default = match key.default {
        KeyDefault::Required { .. } => "Required.".to_string(),
        KeyDefault::Value(value) => format!("Default: {value}."),
        KeyDefault::Derived { means, .. } => format!("Default: {means}."),
    };
    format!("{} {default}", key.doc)
}

fn push_comment(out: &mut String, prefix: &str, line: &str) {
    if line.is_empty() {
        out.push_str("#\n");
    } else {
        let _ = writeln!(out, "{prefix}# {line}");
    }
}

/// `text` as `# ` comment lines of at most about 78 characters.
fn push_wrapped_comment(out: &mut String, text: &str) {
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > 76 {
            push_comment(out, "", &line);
            line.clear();
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        push_comment(out, "", &line);
    }
}

/// The Markdown table of every key that `docs/config.md` holds.
pub fn markdown_table() -> String {
    let mut out = String::from("| key | default | what it does |\n| --- | --- | --- |\n");
    for key in CONFIG_KEYS {
        let default = match key.default {
            KeyDefault::Required { .. } => "required".to_string(),
            KeyDefault::Value(value) => format!("`{value}`"),
            KeyDefault::Derived { means, .. } => means.to_string(),
        };
        let _ = writeln!(
            out,
            "| `{}` | {} | {} |",
            key.dotted(),
            default.replace('|', "\\|"),
            key.doc.replace('|', "\\|")
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_key_is_listed_once() {
        let mut seen = std::collections::BTreeSet::new();
        for key in CONFIG_KEYS {
            assert!(seen.insert(key.dotted()), "{} twice", key.dotted());
        }
    }

    #[test]
    fn the_commented_config_sets_only_what_is_asked_and_required() {
        let text = commented_config("A header.", &[("paths", "output", "\"out\"")]);
        assert!(text.starts_with("# A header.\n"), "{text}");
        assert!(text.contains("\noutput = \"out\"\n"), "{text}");
        assert!(text.contains("\ntitle = \"Tin tức\"\n"), "{text}");
        assert!(text.contains("\n# limit = 50\n"), "{text}");
        assert!(text.contains("\n# [categories.chinh-tri]\n"), "{text}");
        for line in text.lines() {
            assert!(line.chars().count() <= 160, "{line}");
        }
    }
}
