//! `feedd init [DIR]`: a new site that `feedd serve` runs from `DIR` at
//! once: `config/feedd.toml` (every key, commented, from
//! [`crate::config_reference`]) and one example article per format.

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::config::DEFAULT_CONFIG_PATH;
use crate::config_reference::commented_config;

/// Arguments of `feedd init`.
#[derive(clap::Args, Debug)]
pub struct InitArgs {
    /// The folder to create the site in (created if missing).
    #[arg(value_name = "DIR", default_value = ".")]
    pub dir: PathBuf,
}

/// The category folder the examples are written to.
pub const EXAMPLE_CATEGORY: &str = "Thời sự";

const HEADER: &str = "feedd configuration, written by `feedd init`.

Every key is listed with what it does and its default. A line starting
with # is not read: uncomment one to change it. Relative paths resolve
against this file's folder. docs/config.md in feedd's source lists the
same keys.";

/// The plain-text example, in the seed's format: title line, paragraphs,
/// then a byline and a trailer that feedd drops.
const PLAIN_TEXT_EXAMPLE: &str = "\
Ví dụ: một bài văn bản thuần

Dòng đầu tiên không trống là tiêu đề. Các đoạn cách nhau bằng một dòng trống, và đoạn đầu tiên là phần tóm tắt của bài trong các feed.

Văn bản được đăng đúng như đã viết, không bao giờ được hiểu là HTML: <b> vẫn hiện ra là <b>. Ngày đăng là lúc feedd thấy tệp lần đầu, trừ khi tên tệp bắt đầu bằng một ngày như 2026-11-05-ten-bai.txt.

Bài: Ban biên tập

Chia sẻ:

Dòng ký tên là dòng ngắn cuối cùng bắt đầu bằng một tiền tố trong text.byline_prefixes; phần còn lại của dòng là tác giả, và dòng đó cùng mọi dòng sau nó (như các dòng này) bị bỏ đi.
";

/// The Markdown example, with front matter; `{date}` is replaced by when it is written.
const MARKDOWN_EXAMPLE: &str = "\
+++
title = \"Ví dụ: một bài Markdown\"
date = \"{date}\"
author = \"Ban biên tập\"
+++

Phần đầu `+++` là front matter (TOML): `title`, `date`, `updated`, `author`,
`category` hoặc `categories`, `slug`, `id`, `link`, `summary`, `image` và
`draft`. Đoạn đầu tiên là phần tóm tắt.

Phần thân là **CommonMark**, thêm bảng, chú thích và ~~gạch ngang~~:

| Định dạng | Tiêu đề |
| --- | --- |
| `.txt` | dòng đầu tiên |
| `.md` | `title`, hoặc tiêu đề `#` đầu tiên |

`feedd new \"Tiêu đề\"` tạo một bài mới; `feedd explain TỆP` cho biết feedd đọc một tệp ra sao.
";

/// The files `init` writes under `dir`, with their contents; `now` dates
/// the Markdown example.
pub fn site_files(dir: &Path, now: &jiff::Zoned) -> Vec<(PathBuf, String)> {
    let config = commented_config(
        HEADER,
        &[
            ("site", "base_url", "\"http://127.0.0.1:8080\""),
            ("site", "language", "\"vi\""),
            ("site", "timezone", "\"Asia/Ho_Chi_Minh\""),
            ("paths", "articles", "\"../articles\""),
            ("paths", "output", "\"../feeds\""),
            ("paths", "state", "\"../.feedd-state\""),
        ],
    );
    let category = dir.join("articles").join(EXAMPLE_CATEGORY);
    let date = now
        .with_time_zone(
            jiff::tz::TimeZone::get("Asia/Ho_Chi_Minh").unwrap_or(jiff::tz::TimeZone::UTC),
        )
        .strftime("%Y-%m-%dT%H:%M:%S%:z")
        .to_string();
    vec![
        (dir.join(DEFAULT_CONFIG_PATH), config),
        (
            category.join("vi-du-bai-van-ban.txt"),
            PLAIN_TEXT_EXAMPLE.to_string(),
        ),
        (
            category.join("vi-du-bai-markdown.md"),
            MARKDOWN_EXAMPLE.replace("{date}", &date),
        ),
    ]
}

/// Why a site could not be created.
#[derive(Debug, thiserror::Error)]
pub enum InitError {
    /// Some of the files exist already.
    #[error(
        "{}: already exists; feedd init writes nothing over existing files, so nothing was written. \
         Run it in an empty folder (feedd init DIR), or move {} away",
        .existing.first().map_or(String::new(), |p| p.display().to_string()),
        if .existing.len() == 1 { "it" } else { "these files" }
    )]
    Exists {
        /// Every file `init` would write that exists.
        existing: Vec<PathBuf>,
    },
    /// A file or folder could not be created.
    #[error("{}: cannot create: {source}; nothing was written", .path.display())]
    Create {
        /// What could not be created.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
}

/// Creates the site in `dir`: every file or none. Returns the files written.
pub fn init(dir: &Path, now: &jiff::Zoned) -> Result<Vec<PathBuf>, InitError> {
    let files = site_files(dir, now);
    let existing: Vec<PathBuf> = files
        .iter()
        .map(|(path, _)| path)
        .filter(|path| path.symlink_metadata().is_ok())
        .cloned()
        .collect();
    if !existing.is_empty() {
        return Err(InitError::Exists { existing });
    }
    super::create_all(&files).map_err(|(path, source)| {
        // Another process created it since the check above.
        if source.kind() == std::io::ErrorKind::AlreadyExists {
            InitError::Exists {
                existing: vec![path],
            }
        } else {
            InitError::Create { path, source }
        }
    })?;
    Ok(files.into_iter().map(|(path, _)| path).collect())
}

/// Runs `feedd init`, printing what it wrote and what to do next.
pub fn run(args: &InitArgs) -> ExitCode {
    match init(&args.dir, &jiff::Zoned::now()) {
        Ok(files) => {
            for file in &files {
                println!("created {}", file.display());
            }
            let cd = if args.dir == Path::new(".") {
                String::new()
            } else {
                format!("cd {} && ", shell_word(&args.dir))
            };
            println!(
                "\nNext: {cd}feedd serve, and open http://127.0.0.1:8080/; \
                 set site.title and site.base_url in config/feedd.toml before publishing"
            );
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("{error}");
            if let InitError::Exists { existing } = &error {
                for path in existing.iter().skip(1) {
                    eprintln!("{}: already exists", path.display());
                }
            }
            ExitCode::FAILURE
        }
    }
}

/// `path` quoted for a POSIX shell when it needs it.
fn shell_word(path: &Path) -> String {
    let text = path.display().to_string();
    if !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "/._-+".contains(c))
    {
        text
    } else {
        format!("'{}'", text.replace('\'', "'\\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_config_written_is_valid_and_keeps_the_other_defaults() {
        let files = site_files(Path::new("/srv/site"), &jiff::Zoned::now());
        let (path, text) = &files[0];
        let config = crate::config::Config::parse(path, text).unwrap();
        assert_eq!(config.paths.articles, Path::new("/srv/site/articles"));
        assert_eq!(config.paths.output, Path::new("/srv/site/feeds"));
        assert_eq!(config.feeds.limit, 50);
    }

    #[test]
    fn every_example_article_parses() {
        let now = jiff::Zoned::now();
        let files = site_files(Path::new("/srv/site"), &now);
        let config = crate::config::Config::parse(&files[0].0, &files[0].1).unwrap();
        for (path, text) in &files[1..] {
            let relative = path.strip_prefix("/srv/site/articles").unwrap();
            let article =
                crate::article::parse_article(&config, path, relative, text.as_bytes()).unwrap();
            assert!(article.published.is_none_or(|date| date <= now.timestamp()));
            assert_eq!(article.author.as_deref(), Some("Ban biên tập"));
            assert_eq!(article.categories[0].slug, "thoi-su");
        }
    }
}
