//! Progress of long work (`feedd build`, the startup scan of `serve`):
//! counters the parallel scan, the publisher and the page writer bump, and
//! a line on a terminal that shows them while the work lasts.
//!
//! The counters are relaxed atomics bumped once per file, never a lock, so
//! that counting costs the rayon threads nothing measurable. The line is
//! drawn (indicatif) only when stderr is a terminal and only once the work
//! has taken [`SHOW_AFTER`]: quick runs and logs that are not a terminal
//! (systemd's journal, a file, a pipe) never see a progress bar; they get
//! the run's one summary line instead (`built ...` for `build`, the
//! startup `rebuilt` line for `serve`).

use std::io::IsTerminal;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::mpsc::{RecvTimeoutError, Sender, channel};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// How long work runs before its progress is shown.
pub const SHOW_AFTER: Duration = Duration::from_secs(1);

/// Overrides [`SHOW_AFTER`], in milliseconds, so that a test on a
/// pseudo-terminal sees the line without a second of work.
const SHOW_AFTER_ENV: &str = "FEEDD_PROGRESS_AFTER_MS";

/// How often the line is redrawn.
const REDRAW: Duration = Duration::from_millis(100);

/// What long work has done so far.
#[derive(Debug, Default)]
pub struct Progress {
    files_scanned: AtomicUsize,
    articles_parsed: AtomicUsize,
    feeds_written: AtomicUsize,
    pages_written: AtomicUsize,
}

impl Progress {
    /// Article files found by the walk of the articles folder.
    pub fn file_scanned(&self) {
        self.files_scanned.fetch_add(1, Relaxed);
    }

    /// Article files read and parsed (good or rejected).
    pub fn article_parsed(&self) {
        self.articles_parsed.fetch_add(1, Relaxed);
    }

    /// Feeds and site pages rendered and compared with the disk (written
    /// if they changed).
    pub fn feed_written(&self) {
        self.feeds_written.fetch_add(1, Relaxed);
    }

    /// Article pages rendered and compared with the disk.
    pub fn page_written(&self) {
        self.pages_written.fetch_add(1, Relaxed);
    }

    /// The counts as one line, short enough for an 80-column terminal
    /// with the title and the elapsed time around it.
    pub fn line(&self) -> String {
        format!(
            "{} files scanned, {} parsed, {} feeds and {} pages written",
            self.files_scanned.load(Relaxed),
            self.articles_parsed.load(Relaxed),
            self.feeds_written.load(Relaxed),
            self.pages_written.load(Relaxed),
        )
    }
}

/// The bar being drawn, if any, so that log lines can clear it first
/// (see [`suspended`]).
static ACTIVE: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// Runs `write` (a log line to stderr) with the progress line, if one is
/// drawn, cleared before and redrawn after, so the two never mix.
pub fn suspended<R>(write: impl FnOnce() -> R) -> R {
    let active = ACTIVE
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .clone();
    match active {
        Some(bar) => bar.suspend(write),
        None => write(),
    }
}

/// Draws the line for the first time, and makes it the one log lines clear.
fn draw(title: &'static str, progress: &Progress) -> ProgressBar {
    // Hidden until whole, so that no half-made line is drawn.
    let bar = ProgressBar::hidden();
    bar.set_style(
        ProgressStyle::with_template("{spinner} {prefix}: {msg} ({elapsed})")
            .unwrap_or_else(|_| ProgressStyle::default_spinner()),
    );
    bar.set_prefix(title);
    bar.set_message(progress.line());
    bar.set_draw_target(ProgressDrawTarget::stderr());
    bar.tick();
    *ACTIVE.lock().unwrap_or_else(PoisonError::into_inner) = Some(bar.clone());
    bar
}

/// The progress line of one piece of work, drawn by a thread of its own
/// until [`Display::finish`] (or drop).
pub struct Display {
    stop: Option<Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Display {
    /// Shows `progress` under `title` on stderr if it is a terminal and
    /// the work lasts; otherwise does nothing.
    pub fn start(title: &'static str, progress: Arc<Progress>) -> Display {
        if !std::io::stderr().is_terminal() {
            return Display {
                stop: None,
                thread: None,
            };
        }
        let show_after = std::env::var(SHOW_AFTER_ENV)
            .ok()
            .and_then(|ms| ms.parse().ok())
            .map_or(SHOW_AFTER, Duration::from_millis);
        // Zero (tests): drawn before this returns, however quick the work.
        let drawn = show_after.is_zero().then(|| draw(title, &progress));
        let (stop, stopped) = channel::<()>();
        let thread = std::thread::Builder::new()
            .name("feedd-progress".into())
            .spawn(move || {
                let bar = match drawn {
                    Some(bar) => bar,
                    // Quick work ends before anything is drawn.
                    None => match stopped.recv_timeout(show_after) {
                        Err(RecvTimeoutError::Timeout) => draw(title, &progress),
                        _ => return,
                    },
                };
                while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(REDRAW) {
                    bar.set_message(progress.line());
                    bar.tick();
                }
                *ACTIVE.lock().unwrap_or_else(PoisonError::into_inner) = None;
                bar.finish_and_clear();
            })
            .ok();
        Display {
            stop: Some(stop),
            thread,
        }
    }

    /// Clears the line (if drawn) and waits for it to be gone.
    pub fn finish(mut self) {
        self.stop_thread();
    }

    fn stop_thread(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

impl Drop for Display {
    fn drop(&mut self) {
        self.stop_thread();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_from_many_threads_add_up() {
        let progress = Progress::default();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..1000 {
                        progress.file_scanned();
                        progress.article_parsed();
                    }
                });
            }
        });
        progress.feed_written();
        progress.page_written();
        assert_eq!(
            progress.line(),
            "4000 files scanned, 4000 parsed, 1 feeds and 1 pages written"
        );
    }
}
