//! `feedd check [--format human|json]`: validates the config and every
//! article and reports each problem, building nothing. The human format is
//! one `file:line:column: what; what to do` line each on stderr; `json` is
//! JSON Lines on stdout (one object per problem) for editors' CI and
//! editor plugins. The exit status is the same for both.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use serde::Serialize;

use crate::article::ArticleError;
use crate::config::{Config, ConfigError, DEFAULT_CONFIG_PATH};
use crate::output::OutputPath;

/// Arguments of `feedd check`.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// The config file; relative paths in it resolve against its folder.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// How problems are reported: `human` lines on stderr, or `json`: one
    /// JSON object per line on stdout (file, line, column, message, hint).
    #[arg(long, value_enum, default_value_t = ReportFormat::Human)]
    pub format: ReportFormat,
}

/// How `check` reports problems.
#[derive(clap::ValueEnum, Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportFormat {
    /// `file:line:column: message; hint`, one line each on stderr.
    Human,
    /// JSON Lines on stdout.
    Json,
}

/// One problem as `--format json` writes it.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Problem {
    /// The file, as feedd names it in the human format.
    pub file: String,
    /// 1-based line, when the problem has one.
    pub line: Option<usize>,
    /// 1-based column in characters, when the problem has one.
    pub column: Option<usize>,
    /// What is wrong.
    pub message: String,
    /// What to do about it, when feedd knows.
    pub hint: Option<String>,
}

impl Problem {
    fn new(file: &std::path::Path, at: Option<(usize, usize)>, text: &str) -> Problem {
        // Every message is written "what is wrong; what to do".
        let (message, hint) = match text.split_once("; ") {
            Some((message, hint)) => (message, Some(hint.to_string())),
            None => (text, None),
        };
        Problem {
            file: file.display().to_string(),
            line: at.map(|(line, _)| line),
            column: at.map(|(_, column)| column),
            message: message.to_string(),
            hint,
        }
    }

    /// The problem an article error reports.
    pub fn of_article(error: &ArticleError) -> Problem {
        match error {
            ArticleError::At {
                path,
                line,
                column,
                message,
            } => Problem::new(path, Some((*line, *column)), message),
            ArticleError::Whole { path, message } => Problem::new(path, None, message),
            ArticleError::Read { path, source } => Problem::new(
                path,
                None,
                &format!("cannot read: {source}; check that it exists and is readable"),
            ),
        }
    }

    /// The problem a config error reports.
    pub fn of_config(error: &ConfigError) -> Problem {
        match error {
            ConfigError::At {
                path,
                line,
                column,
                message,
            } => Problem::new(path, Some((*line, *column)), message),
            ConfigError::Read { path, source } => Problem::new(
                path,
                None,
                &format!(
                    "cannot read the config file: {source}; pass the right file with --config"
                ),
            ),
        }
    }

    fn to_json_line(&self) -> String {
        // A struct of strings and numbers always serializes.
        serde_json::to_string(self).unwrap_or_default()
    }
}

/// Runs `feedd check`.
pub fn run(args: &CheckArgs) -> ExitCode {
    let json = args.format == ReportFormat::Json;
    let config = match Config::load(&args.config) {
        Ok(config) => Arc::new(config),
        Err(error) => {
            if json {
                println!("{}", Problem::of_config(&error).to_json_line());
            } else {
                eprintln!("{error}");
            }
            return ExitCode::FAILURE;
        }
    };
    let (catalog, rejected) = crate::pipeline::check(config.clone());
    for error in &rejected {
        if json {
            println!("{}", Problem::of_article(error).to_json_line());
        } else {
            eprintln!("{error}");
        }
    }
    let now = jiff::Timestamp::now();
    let summary = format!(
        "{}: {} articles, {} feeds, {} rejected",
        config.source.display(),
        catalog.len(),
        catalog
            .scopes(now)
            .iter()
            .flat_map(OutputPath::all_of)
            .count(),
        rejected.len()
    );
    // stdout holds nothing but problems in JSON Lines.
    if json {
        eprintln!("{summary}");
    } else {
        println!("{summary}");
    }
    if rejected.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn message_and_hint_are_split_at_the_first_semicolon() {
        let problem = Problem::of_article(&ArticleError::At {
            path: "/a/b.md".into(),
            line: 3,
            column: 8,
            message: "date: bad; write e.g. \"2026-11-20\"; or remove it".into(),
        });
        assert_eq!(
            problem,
            Problem {
                file: "/a/b.md".into(),
                line: Some(3),
                column: Some(8),
                message: "date: bad".into(),
                hint: Some("write e.g. \"2026-11-20\"; or remove it".into()),
            }
        );
        let whole = Problem::of_article(&ArticleError::Whole {
            path: Path::new("/a/c.txt").into(),
            message: "no hint here".into(),
        });
        assert_eq!(
            whole.to_json_line(),
            r#"{"file":"/a/c.txt","line":null,"column":null,"message":"no hint here","hint":null}"#
        );
    }
}
