//! File-system events -> debounced batches of changed paths.
//!
//! Knows what a path is for only as far as "article tree", "config file" or
//! "noise"; what an article path means is the catalog's business. Paths are
//! kept whether they still exist or not: the catalog re-stats each one, so a
//! deletion or the old name of a rename is never lost.
//!
//! The batching is our own, over notify's raw events, rather than
//! notify-debouncer-full: that one delivers on a timer tick (a quarter of the
//! timeout by default), which adds up to 25 ms to every edit, and its rename
//! pairing and file-id cache buy nothing here because the catalog re-stats
//! every path it is given.

use std::path::{Path, PathBuf};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::time::{Duration, Instant};

use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};

/// What the daemon's loop receives.
#[derive(Debug)]
pub enum Message {
    /// A raw event (or watcher error) from notify.
    Fs(notify::Result<notify::Event>),
    /// Stop: a signal arrived.
    Shutdown,
}

/// Changes collected over one debounce window.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Changed paths under the articles folder (files or folders, present or gone), deduplicated.
    pub paths: Vec<PathBuf>,
    /// Events were lost (queue overflow, watcher error): re-walk everything.
    pub rescan: bool,
    /// The config file was written, replaced or removed.
    pub config_changed: bool,
}

/// Where events matter.
#[derive(Debug, Clone)]
pub struct Scope {
    /// The articles folder (watched recursively).
    pub articles: PathBuf,
    /// The config file (its folder is watched, so that editors' atomic saves are seen).
    pub config: PathBuf,
}

impl Batch {
    /// Adds one notify result: errors and overflow flags ask for a rescan;
    /// editor temporaries and hidden paths are dropped; everything else under
    /// the articles folder is kept for the catalog to re-stat.
    pub fn add(&mut self, scope: &Scope, event: notify::Result<notify::Event>) {
        let event = match event {
            Ok(event) => event,
            Err(_) => {
                self.rescan = true;
                return;
            }
        };
        if event.need_rescan() {
            self.rescan = true;
        }
        if matches!(event.kind, notify::EventKind::Access(_)) {
            return;
        }
        for path in event.paths {
            if path == scope.config {
                self.config_changed = true;
            } else if path.starts_with(&scope.articles)
                && !is_noise(&path)
                && !self.paths.contains(&path)
            {
                self.paths.push(path);
            }
        }
    }

    /// Whether there is anything to do.
    pub fn is_empty(&self) -> bool {
        self.paths.is_empty() && !self.rescan && !self.config_changed
    }
}

/// Editor temporaries and hidden files: never articles, never folders of articles.
fn is_noise(path: &Path) -> bool {
    let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
        return false;
    };
    name.starts_with('.')
        || name.ends_with('~')
        || name == "4913"
        || name.ends_with(".swp")
        || name.ends_with(".swx")
        || name.ends_with(".tmp")
}

/// Keeps the OS watcher alive; dropping it stops the events.
pub struct Watching {
    _watcher: Box<dyn notify::Watcher + Send>,
}

/// Starts watching `scope`, sending events to `tx`. `poll_interval_ms > 0`
/// polls instead of using native events (network filesystems).
pub fn start(
    scope: &Scope,
    poll_interval_ms: u64,
    tx: Sender<Message>,
) -> notify::Result<Watching> {
    let handler = move |event: notify::Result<notify::Event>| {
        // Fails only when the daemon is shutting down.
        let _ = tx.send(Message::Fs(event));
    };
    let mut watcher: Box<dyn notify::Watcher + Send> = if poll_interval_ms > 0 {
        let config =
            notify::Config::default().with_poll_interval(Duration::from_millis(poll_interval_ms));
        Box::new(notify::PollWatcher::new(handler, config)?)
    } else {
        Box::new(RecommendedWatcher::new(handler, notify::Config::default())?)
    };
    watcher.watch(&scope.articles, RecursiveMode::Recursive)?;
    if let Some(config_dir) = scope.config.parent() {
        // Watching the folder rather than the file survives atomic saves,
        // which replace the file (and its inode).
        // A config folder inside the articles tree is already watched.
        if !config_dir.starts_with(&scope.articles) {
            watcher.watch(config_dir, RecursiveMode::NonRecursive)?;
        }
    }
    Ok(Watching { _watcher: watcher })
}

/// What the loop should do next.
#[derive(Debug)]
pub enum Next {
    /// A batch of changes, closed by `debounce` of quiet.
    Batch(Batch),
    /// The deadline passed with no event.
    Deadline,
    /// Shut down.
    Shutdown,
}

/// Waits for the first event (or `deadline`), then collects events until
/// none arrives for `debounce`. A steady stream of events is cut into
/// batches of at most `max_batch_age`, so a long copy still shows progress.
pub fn next(
    rx: &Receiver<Message>,
    scope: &Scope,
    debounce: Duration,
    deadline: Option<Instant>,
) -> Next {
    let first = match deadline {
        None => rx.recv().map_err(|_| RecvTimeoutError::Disconnected),
        Some(deadline) => rx.recv_timeout(deadline.saturating_duration_since(Instant::now())),
    };
    let mut batch = Batch::default();
    match first {
        Ok(Message::Fs(event)) => batch.add(scope, event),
        Ok(Message::Shutdown) | Err(RecvTimeoutError::Disconnected) => return Next::Shutdown,
        Err(RecvTimeoutError::Timeout) => return Next::Deadline,
    }
    let started = Instant::now();
    let max_batch_age = (debounce * 10).max(Duration::from_secs(1));
    loop {
        let wait = debounce.min(max_batch_age.saturating_sub(started.elapsed()));
        if wait.is_zero() {
            return Next::Batch(batch);
        }
        match rx.recv_timeout(wait) {
            Ok(Message::Fs(event)) => batch.add(scope, event),
            Ok(Message::Shutdown) | Err(RecvTimeoutError::Disconnected) => return Next::Shutdown,
            Err(RecvTimeoutError::Timeout) => return Next::Batch(batch),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use notify::event::{CreateKind, EventKind, Flag, ModifyKind, RemoveKind, RenameMode};

    fn scope() -> Scope {
        Scope {
            articles: PathBuf::from("/srv/articles"),
            config: PathBuf::from("/srv/config/feedd.toml"),
        }
    }

    fn event(kind: EventKind, paths: &[&str]) -> notify::Result<notify::Event> {
        Ok(notify::Event {
            kind,
            paths: paths.iter().map(PathBuf::from).collect(),
            attrs: Default::default(),
        })
    }

    fn batch_of(events: Vec<notify::Result<notify::Event>>) -> Batch {
        let mut batch = Batch::default();
        for e in events {
            batch.add(&scope(), e);
        }
        batch
    }

    #[test]
    fn removals_and_both_sides_of_a_rename_are_kept() {
        let batch = batch_of(vec![
            event(
                EventKind::Remove(RemoveKind::File),
                &["/srv/articles/a/x.txt"],
            ),
            event(
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                &["/srv/articles/a/y.txt", "/srv/articles/b/y.txt"],
            ),
            event(
                EventKind::Create(CreateKind::Folder),
                &["/srv/articles/New folder"],
            ),
        ]);
        let paths: Vec<_> = batch.paths.iter().map(|p| p.to_str().unwrap()).collect();
        assert_eq!(
            paths,
            [
                "/srv/articles/a/x.txt",
                "/srv/articles/a/y.txt",
                "/srv/articles/b/y.txt",
                "/srv/articles/New folder"
            ]
        );
        assert!(!batch.rescan && !batch.config_changed);
    }

    #[test]
    fn editor_temporaries_and_hidden_files_are_dropped() {
        let batch = batch_of(vec![
            event(
                EventKind::Create(CreateKind::File),
                &["/srv/articles/a/4913"],
            ),
            event(
                EventKind::Create(CreateKind::File),
                &["/srv/articles/a/.x.txt.swp"],
            ),
            event(
                EventKind::Create(CreateKind::File),
                &["/srv/articles/a/x.txt~"],
            ),
            event(
                EventKind::Create(CreateKind::File),
                &["/srv/articles/a/.#x.txt"],
            ),
            event(
                EventKind::Create(CreateKind::File),
                &["/srv/articles/a/x.txt.tmp"],
            ),
            event(
                EventKind::Modify(ModifyKind::Name(RenameMode::Both)),
                &["/srv/articles/a/x.txt.tmp", "/srv/articles/a/x.txt"],
            ),
        ]);
        assert_eq!(batch.paths, [PathBuf::from("/srv/articles/a/x.txt")]);
    }

    #[test]
    fn duplicates_collapse_and_unrelated_paths_are_ignored() {
        let batch = batch_of(vec![
            event(EventKind::Modify(ModifyKind::Any), &["/srv/articles/x.txt"]),
            event(EventKind::Modify(ModifyKind::Any), &["/srv/articles/x.txt"]),
            event(
                EventKind::Modify(ModifyKind::Any),
                &["/srv/config/other.toml"],
            ),
            event(
                EventKind::Access(notify::event::AccessKind::Any),
                &["/srv/articles/y.txt"],
            ),
        ]);
        assert_eq!(batch.paths, [PathBuf::from("/srv/articles/x.txt")]);
        assert!(!batch.config_changed);
    }

    #[test]
    fn config_writes_are_flagged() {
        let batch = batch_of(vec![event(
            EventKind::Modify(ModifyKind::Name(RenameMode::To)),
            &["/srv/config/feedd.toml"],
        )]);
        assert!(batch.config_changed && batch.paths.is_empty());
    }

    #[test]
    fn errors_and_overflow_ask_for_a_rescan() {
        assert!(batch_of(vec![Err(notify::Error::generic("queue overflow"))]).rescan);
        let overflow = notify::Event::new(EventKind::Other).set_flag(Flag::Rescan);
        assert!(batch_of(vec![Ok(overflow)]).rescan);
    }

    #[test]
    fn next_closes_a_batch_after_quiet_and_honours_the_deadline() {
        let (tx, rx) = std::sync::mpsc::channel();
        let deadline = Instant::now() + Duration::from_millis(5);
        assert!(matches!(
            next(&rx, &scope(), Duration::from_millis(5), Some(deadline)),
            Next::Deadline
        ));
        tx.send(Message::Fs(event(EventKind::Any, &["/srv/articles/a.txt"])))
            .unwrap();
        tx.send(Message::Fs(event(EventKind::Any, &["/srv/articles/b.txt"])))
            .unwrap();
        match next(&rx, &scope(), Duration::from_millis(5), None) {
            Next::Batch(batch) => assert_eq!(batch.paths.len(), 2),
            other => panic!("{other:?}"),
        }
        tx.send(Message::Shutdown).unwrap();
        assert!(matches!(
            next(&rx, &scope(), Duration::from_millis(5), None),
            Next::Shutdown
        ));
    }
}
