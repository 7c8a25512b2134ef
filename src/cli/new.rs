//! `feedd new [--category C] [--format md|txt] "Title"`: a new article file
//! with the name and front matter feedd expects, like `hugo new`.
//!
//! Markdown: `{slug}.md` with `title` and `date` (now, in `site.timezone`)
//! in its front matter. Plain text, the seed's format: `{date}-{slug}.txt`
//! (the date prefix dates it) with the title as its first line. The slug is
//! the title's ([`crate::slug`]); the category is the first folder, an
//! existing one when its name gives the same slug.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use serde::Serialize;
use unicode_normalization::UnicodeNormalization;

use crate::article::MAX_TITLE_CHARS;
use crate::config::{Config, DEFAULT_CONFIG_PATH};
use crate::slug::slugify;

/// Arguments of `feedd new`.
#[derive(clap::Args, Debug)]
pub struct NewArgs {
    /// The config file; the article goes under its paths.articles.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// The category: its folder under paths.articles (an existing folder
    /// whose name gives the same slug is used, else one is made).
    #[arg(long, value_name = "C")]
    pub category: Option<String>,
    /// `md`: Markdown with front matter; `txt`: plain text, the title as its first line.
    #[arg(long, value_enum, default_value_t = ArticleFormat::Md)]
    pub format: ArticleFormat,
    /// Write `draft = true` in its front matter: not published until removed.
    #[arg(long)]
    pub draft: bool,
    /// The article's title.
    pub title: String,
}

/// The formats `feedd new` writes.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArticleFormat {
    /// Markdown with `+++` front matter.
    Md,
    /// Plain text in the seed's format.
    Txt,
}

/// A new article: where it goes and what it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewArticle {
    /// Its path under `paths.articles`.
    pub relative: PathBuf,
    /// The title as the article states it (NFC, trimmed).
    pub title: String,
    /// The file's contents.
    pub contents: String,
}

/// Why no article was made.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NewError {
    /// The title cannot be written as given.
    #[error("the title {title:?} {problem}")]
    Title {
        /// As given.
        title: String,
        /// What is wrong and what to do.
        problem: String,
    },
    /// The category cannot be a folder name.
    #[error("the category {category:?} {problem}")]
    Category {
        /// As given.
        category: String,
        /// What is wrong and what to do.
        problem: String,
    },
}

/// Longer slugs are cut at a word: a file name has at most 255 bytes, and
/// a URL of a whole sentence helps no one.
const MAX_SLUG_CHARS: usize = 80;

/// The title as an article states it: NFC, without surrounding whitespace
/// (or a byte-order mark, which a plain-text file cannot start with).
pub fn normalize_title(title: &str) -> String {
    let title: String = title.nfc().collect();
    title
        .trim_matches(|c: char| c.is_whitespace() || c == '\u{FEFF}')
        .to_string()
}

/// The article `feedd new` writes for `title` in the category folder
/// `folder` (its name under `paths.articles`; `None`: at the top), dated `now`.
pub fn new_article(
    title: &str,
    folder: Option<&str>,
    format: ArticleFormat,
    draft: bool,
    now: &jiff::Zoned,
) -> Result<NewArticle, NewError> {
    let problem = |problem: &str| NewError::Title {
        title: title.to_string(),
        problem: problem.to_string(),
    };
    let normalized = normalize_title(title);
    if normalized.is_empty() {
        return Err(problem("is empty; give the article a title"));
    }
    if normalized
        .chars()
        .any(|c| c.is_control() || c == '\u{FFFE}' || c == '\u{FFFF}')
    {
        return Err(problem(
            "holds a line break or a control character; write it on one line",
        ));
    }
    if normalized.chars().count() > MAX_TITLE_CHARS {
        return Err(problem(&format!(
            "is longer than {MAX_TITLE_CHARS} characters; shorten it"
        )));
    }
    let slug = file_slug(&normalized);
    if slug.is_empty() {
        return Err(problem(
            "has no letter or digit to name the file after; add a word to it",
        ));
    }
    let date = now.strftime("%Y-%m-%d").to_string();
    let (file_name, contents) = match format {
        ArticleFormat::Md => {
            #[derive(Serialize)]
            struct Front<'a> {
                title: &'a str,
                date: String,
                #[serde(skip_serializing_if = "std::ops::Not::not")]
                draft: bool,
            }
            let front = Front {
                title: &normalized,
                date: now.strftime("%Y-%m-%dT%H:%M:%S%:z").to_string(),
                draft,
            };
            // Strings and a bool always serialize.
            let front = toml::to_string(&front).unwrap_or_default();
            (format!("{slug}.md"), format!("+++\n{front}+++\n\n"))
        }
        ArticleFormat::Txt => {
            if normalized == "+++" {
                return Err(problem(
                    "would open front matter as the first line of a plain-text file; use --format md",
                ));
            }
            let front = if draft {
                "+++\ndraft = true\n+++\n"
            } else {
                ""
            };
            (
                format!("{date}-{slug}.txt"),
                format!("{front}{normalized}\n\n"),
            )
        }
    };
    let relative = match folder {
        Some(folder) => Path::new(folder).join(file_name),
        None => PathBuf::from(file_name),
    };
    Ok(NewArticle {
        relative,
        title: normalized,
        contents,
    })
}

/// The title's slug, cut after a whole word at most [`MAX_SLUG_CHARS`] long.
fn file_slug(title: &str) -> String {
    let slug = slugify(title);
    if slug.len() <= MAX_SLUG_CHARS {
        return slug;
    }
    let mut cut = String::new();
    for word in slug.split('-') {
        if !cut.is_empty() && cut.len() + 1 + word.len() > MAX_SLUG_CHARS {
            break;
        }
        if !cut.is_empty() {
            cut.push('-');
        }
        cut.push_str(word);
    }
    // One word longer than the limit: cut inside it (slugs are ASCII).
    cut.truncate(MAX_SLUG_CHARS);
    cut
}

/// The folder for `category` under `articles`: an existing one whose name
/// gives the same slug (so `--category chinh-tri` finds `Chính trị/`), else
/// the name as given.
pub fn category_folder(articles: &Path, category: &str) -> Result<String, NewError> {
    let problem = |problem: &str| NewError::Category {
        category: category.to_string(),
        problem: problem.to_string(),
    };
    let name: String = category.trim().nfc().collect();
    if name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control)
    {
        return Err(problem(
            "is not a folder name; write it as a single name such as \"Đời sống\"",
        ));
    }
    let slug = slugify(&name);
    if slug.is_empty() {
        return Err(problem("has no letter or digit to make a slug from"));
    }
    let existing = std::fs::read_dir(articles)
        .into_iter()
        .flatten()
        .flatten()
        .filter(|entry| entry.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|entry| entry.file_name().to_str().map(str::to_string))
        .filter(|folder| !folder.starts_with('.') && slugify(folder) == slug)
        .min();
    Ok(existing.unwrap_or(name))
}

/// Runs `feedd new`: writes the article and prints its path.
pub fn run(args: &NewArgs) -> ExitCode {
    let config = match Config::load(&args.config) {
        Ok(config) => config,
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    match create(&config, args) {
        Ok(path) => {
            println!("{}", path.display());
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

fn create(config: &Config, args: &NewArgs) -> Result<PathBuf, String> {
    let articles = &config.paths.articles;
    let folder = args
        .category
        .as_deref()
        .map(|category| category_folder(articles, category))
        .transpose()
        .map_err(|e| format!("{e}"))?;
    let now = jiff::Zoned::now().with_time_zone(config.site.timezone.clone());
    let article = new_article(
        &args.title,
        folder.as_deref(),
        args.format,
        args.draft,
        &now,
    )
    .map_err(|e| e.to_string())?;
    let path = articles.join(&article.relative);
    // Another format of the same name would be the same link and page.
    if let (Some(parent), Some(stem)) = (path.parent(), path.file_stem()) {
        for extension in ["md", "markdown", "txt"] {
            let twin = parent.join(Path::new(stem).with_extension(extension));
            if twin.symlink_metadata().is_ok() {
                return Err(format!(
                    "{}: already exists; feedd new never overwrites a file: edit that one, or give \
                     this article another title",
                    twin.display()
                ));
            }
        }
    }
    super::create_all(&[(path.clone(), article.contents)]).map_err(|(failed, error)| {
        if error.kind() == std::io::ErrorKind::AlreadyExists {
            format!(
                "{}: already exists; feedd new never overwrites a file",
                failed.display()
            )
        } else {
            format!(
                "{}: cannot create: {error}; check that paths.articles ({}) is writable",
                failed.display(),
                articles.display()
            )
        }
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn config() -> Config {
        Config::parse(
            Path::new("/srv/config/feedd.toml"),
            "[site]\ntitle = \"Tin\"\nbase_url = \"https://news.example.vn\"\ntimezone = \"Asia/Ho_Chi_Minh\"\n",
        )
        .unwrap()
    }

    fn now() -> jiff::Zoned {
        jiff::Zoned::now().with_time_zone(config().site.timezone)
    }

    fn parse(article: &NewArticle) -> Result<crate::article::Article, String> {
        let config = config();
        let path = config.paths.articles.join(&article.relative);
        crate::article::parse_article(
            &config,
            &path,
            &article.relative,
            article.contents.as_bytes(),
        )
        .map_err(|e| e.to_string())
    }

    #[test]
    fn names_follow_the_title_and_format() {
        let now: jiff::Zoned = "2026-11-20T08:30:05+07:00[Asia/Ho_Chi_Minh]"
            .parse()
            .unwrap();
        let md = new_article(
            "  Giá lúa \"tăng\" / giảm ",
            Some("Kinh tế"),
            ArticleFormat::Md,
            false,
            &now,
        )
        .unwrap();
        assert_eq!(md.relative, Path::new("Kinh tế/gia-lua-tang-giam.md"));
        assert_eq!(
            md.contents,
            "+++\ntitle = 'Giá lúa \"tăng\" / giảm'\ndate = \"2026-11-20T08:30:05+07:00\"\n+++\n\n"
        );
        let article = parse(&md).unwrap();
        assert_eq!(article.title, "Giá lúa \"tăng\" / giảm");
        assert_eq!(
            article.published,
            Some("2026-11-20T01:30:05Z".parse().unwrap())
        );
        assert_eq!(article.categories[0].slug, "kinh-te");
        assert!(!article.draft);

        let txt = new_article("Đời sống", None, ArticleFormat::Txt, true, &now).unwrap();
        assert_eq!(txt.relative, Path::new("2026-11-20-doi-song.txt"));
        let article = parse(&txt).unwrap();
        assert_eq!(article.title, "Đời sống");
        assert!(article.draft);
        assert_eq!(
            article.published,
            Some("2026-11-19T17:00:00Z".parse().unwrap())
        );
    }

    #[test]
    fn titles_that_cannot_be_written_are_refused_with_a_reason() {
        for (title, words) in [
            ("", "empty"),
            (" \t", "empty"),
            ("a\nb", "one line"),
            ("!!!", "no letter or digit"),
        ] {
            let error = new_article(title, None, ArticleFormat::Md, false, &now()).unwrap_err();
            assert!(error.to_string().contains(words), "{title:?}: {error}");
        }
        let long = "chữ ".repeat(100);
        assert!(new_article(&long, None, ArticleFormat::Md, false, &now()).is_err());
        let slug = file_slug(&"tiêu đề rất dài ".repeat(20));
        assert!(
            slug.len() <= MAX_SLUG_CHARS && !slug.ends_with('-'),
            "{slug}"
        );
    }

    proptest! {
        /// Any title `new` accepts is the title feedd reads back, in both
        /// formats, and the article is dated no later than now.
        #[test]
        fn any_title_round_trips_through_new_and_parse(
            title in prop_oneof![
                "\\PC{0,120}",
                "[ \"'\\\\/+#\\[\\]{}=ầĐơ\u{300}\u{feff}\t\u{2028}a1\\-]{0,40}",
                any::<String>(),
            ],
            markdown in any::<bool>(),
            draft in any::<bool>(),
        ) {
            let format = if markdown { ArticleFormat::Md } else { ArticleFormat::Txt };
            let now = now();
            if let Ok(article) = new_article(&title, Some("Thời sự"), format, draft, &now) {
                let parsed = parse(&article).map_err(TestCaseError::fail)?;
                prop_assert_eq!(&parsed.title, &article.title);
                prop_assert_eq!(&article.title, &normalize_title(&title));
                prop_assert_eq!(parsed.draft, draft);
                prop_assert_eq!(&parsed.categories[0].slug, "thoi-su");
                prop_assert!(parsed.published.is_some_and(|date| date <= now.timestamp()));
            }
        }
    }
}
