//! Where `feedd serve` logs go and in which form: stderr, as human-readable
//! lines (the default) or one JSON object per line for log shippers
//! (`--log-format json`). `RUST_LOG` filters both; `info` by default.
//!
//! The fields of the lines an operator watches (README, "Logs") are
//! tracing fields, so the JSON form carries them as keys of their own:
//! a rebuild (`reason`, `articles_read`, `feeds_changed`, `duration_ms`...)
//! and a rejected article (`file`, `line`, `column`, `reason`).

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

/// How log lines are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LogFormat {
    /// `timestamp LEVEL target: message key=value ...`, coloured on a terminal.
    #[default]
    Human,
    /// One JSON object per line: `timestamp`, `level`, `target`, `message`
    /// and the event's fields at the top level.
    Json,
}

/// Stderr, with the progress line of a startup scan (if one is drawn)
/// cleared around each log line.
struct ClearingProgress;

impl std::io::Write for ClearingProgress {
    fn write(&mut self, line: &[u8]) -> std::io::Result<usize> {
        crate::progress::suspended(|| std::io::stderr().write(line))
    }

    fn flush(&mut self) -> std::io::Result<()> {
        std::io::stderr().flush()
    }
}

/// Installs the global subscriber. Call once, before anything logs.
pub fn init(format: LogFormat) {
    // notify logs at info that it could not remove the watch of a folder
    // that is gone, which the kernel had removed with the folder: noise.
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info,notify=warn"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(|| ClearingProgress);
    match format {
        LogFormat::Human => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        // No colour codes inside JSON strings, whatever stderr is.
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .with_span_list(false)
            .with_ansi(false)
            .init(),
    }
}
