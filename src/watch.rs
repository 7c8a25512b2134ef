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
//!
//! Symbolic links under the articles folder are not followed (the catalog
//! does not follow them either). Polling mode (network filesystems, where
//! inotify sees no remote writes) is our own stat-based poller rather than
//! notify's `PollWatcher`, which keeps modification times in whole seconds
//! and so misses a second write within the same second.

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, SendError, Sender};
use std::time::{Duration, Instant};

use notify::{RecommendedWatcher, RecursiveMode, Watcher as _};

use crate::file_stamp::FileStamp;

/// What the daemon's loop receives.
#[derive(Debug)]
pub enum Message {
    /// A raw event (or watcher error) from notify.
    Fs(notify::Result<notify::Event>),
    /// Stop: a signal arrived.
    Shutdown,
    /// Read the config again, as when its file changes (SIGHUP, `systemctl reload`).
    Reload,
}

/// A channel to the daemon's loop that knows whether a message waits in
/// it, so that long work on the loop can stop early for it (see
/// `daemon::Daemon::check_every_page`).
pub fn channel() -> (Inbox, Queue) {
    let (tx, rx) = std::sync::mpsc::channel();
    let counts = Arc::new(Counts::default());
    (
        Inbox {
            tx,
            counts: Arc::clone(&counts),
        },
        Queue { rx, counts },
    )
}

#[derive(Debug, Default)]
struct Counts {
    sent: AtomicU64,
    received: AtomicU64,
}

/// The sending side of [`channel`].
#[derive(Debug, Clone)]
pub struct Inbox {
    tx: Sender<Message>,
    counts: Arc<Counts>,
}

impl Inbox {
    /// Sends `message`; fails only when the loop has ended.
    pub fn send(&self, message: Message) -> Result<(), SendError<Message>> {
        // Counted first: a message counted but not yet in the channel is
        // in it a moment later.
        self.counts.sent.fetch_add(1, Ordering::Release);
        self.tx.send(message)
    }

    /// Whether a message was sent that the loop has not taken yet.
    pub fn is_waiting(&self) -> bool {
        self.counts.sent.load(Ordering::Acquire) > self.counts.received.load(Ordering::Acquire)
    }
}

/// The receiving side of [`channel`], read by [`next`].
#[derive(Debug)]
pub struct Queue {
    rx: Receiver<Message>,
    counts: Arc<Counts>,
}

impl Queue {
    fn recv(&self) -> Result<Message, RecvTimeoutError> {
        let message = self.rx.recv().map_err(|_| RecvTimeoutError::Disconnected)?;
        self.counts.received.fetch_add(1, Ordering::Release);
        Ok(message)
    }

    fn recv_timeout(&self, timeout: Duration) -> Result<Message, RecvTimeoutError> {
        let message = self.rx.recv_timeout(timeout)?;
        self.counts.received.fetch_add(1, Ordering::Release);
        Ok(message)
    }
}

/// Changes collected over one debounce window.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Batch {
    /// Changed paths under the articles folder (files or folders, present or gone), deduplicated.
    pub paths: Vec<PathBuf>,
    /// The same paths, for deduplication in constant time (a burst may bring tens of thousands).
    seen: HashSet<PathBuf>,
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
                && self.seen.insert(path.clone())
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

/// A file was opened or read, which changes nothing.
fn is_access(event: &notify::Result<notify::Event>) -> bool {
    event
        .as_ref()
        .is_ok_and(|event| matches!(event.kind, notify::EventKind::Access(_)))
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

/// Keeps the OS watcher (or the poller) alive; dropping it stops the events.
pub enum Watching {
    /// Native events.
    Native(Box<dyn notify::Watcher + Send>),
    /// Our own poller; dropping the sender stops its thread at once.
    Polling(Sender<()>),
}

/// Starts watching `scope`, sending events to `tx`. `poll_interval_ms > 0`
/// polls instead of using native events (network filesystems).
pub fn start(scope: &Scope, poll_interval_ms: u64, tx: Inbox) -> notify::Result<Watching> {
    if poll_interval_ms > 0 {
        return start_polling(scope, Duration::from_millis(poll_interval_ms), tx);
    }
    // The articles folder itself may be a link: it is resolved once, here,
    // and events under the resolved folder are named under the configured
    // one, as the catalog names its files.
    let articles = scope.articles.clone();
    let resolved = std::fs::canonicalize(&articles).unwrap_or_else(|_| articles.clone());
    let watched = resolved.clone();
    let handler = move |event: notify::Result<notify::Event>| {
        // notify watches IN_OPEN, so every article feedd itself reads (all
        // of them in a startup scan) comes back as an event: queued, those
        // held 45 MB at 100,000 articles until the daemon had drained them.
        if is_access(&event) {
            return;
        }
        let event = event.map(|mut event| {
            for path in &mut event.paths {
                if resolved != articles
                    && let Ok(rest) = path.strip_prefix(&resolved)
                {
                    *path = match rest.as_os_str().is_empty() {
                        true => articles.clone(),
                        false => articles.join(rest),
                    };
                }
            }
            event
        });
        // Fails only when the daemon is shutting down.
        let _ = tx.send(Message::Fs(event));
    };
    // Following a link would watch a folder twice under two names (inotify
    // then reports events of one under the other) or one outside the tree.
    let config = notify::Config::default().with_follow_symlinks(false);
    let mut watcher: Box<dyn notify::Watcher + Send> =
        Box::new(RecommendedWatcher::new(handler, config)?);
    watcher.watch(&watched, RecursiveMode::Recursive)?;
    if let Some(config_dir) = scope.config.parent() {
        // Watching the folder rather than the file survives atomic saves,
        // which replace the file (and its inode).
        // A config folder inside the articles tree is already watched.
        if !config_dir.starts_with(&scope.articles) {
            watcher.watch(config_dir, RecursiveMode::NonRecursive)?;
        }
    }
    Ok(Watching::Native(watcher))
}

/// What one poll compares of a path: its [`FileStamp`] and its type and
/// permissions. For a folder only its identity: its times move whenever an
/// entry is added, which the entry itself reports (and a changed articles
/// folder would mean a full rescan).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    file: FileStamp,
    mode: u32,
}

impl Stamp {
    fn of(meta: &std::fs::Metadata) -> Stamp {
        use std::os::unix::fs::MetadataExt as _;
        Stamp {
            file: if meta.is_dir() {
                FileStamp::identity_of(meta)
            } else {
                FileStamp::of(meta)
            },
            mode: meta.mode(),
        }
    }
}

/// Every path the poller watches, with its stamp: the entries of each
/// folder by name (short keys: cheaper to hash than whole paths), plus the
/// articles folder itself and the config file.
#[derive(Debug, Default)]
struct Snapshot {
    singles: HashMap<PathBuf, Stamp>,
    folders: HashMap<PathBuf, HashMap<std::ffi::OsString, Stamp>>,
    /// Folders that exist but could not be listed: their entries are
    /// unknown, not gone.
    unreadable: Vec<PathBuf>,
}

impl Snapshot {
    #[cfg(test)]
    fn contains(&self, path: &Path) -> bool {
        self.singles.contains_key(path)
            || path
                .parent()
                .zip(path.file_name())
                .is_some_and(|(folder, name)| {
                    self.folders
                        .get(folder)
                        .is_some_and(|entries| entries.contains_key(name))
                })
    }
}

/// Stats the articles tree (the folder itself followed, nothing under it;
/// hidden entries skipped, as the catalog skips them) and the config file.
fn snapshot(scope: &Scope) -> Snapshot {
    let mut found = Snapshot::default();
    if let Ok(meta) = std::fs::metadata(&scope.articles) {
        found
            .singles
            .insert(scope.articles.clone(), Stamp::of(&meta));
        let mut stack = vec![scope.articles.clone()];
        while let Some(folder) = stack.pop() {
            let listing = match std::fs::read_dir(&folder) {
                Ok(listing) => listing,
                Err(error) => {
                    if error.kind() != std::io::ErrorKind::NotFound {
                        found.unreadable.push(folder);
                    }
                    continue;
                }
            };
            let mut entries = HashMap::new();
            for dirent in listing.flatten() {
                let name = dirent.file_name();
                if name.as_encoded_bytes().starts_with(b".") {
                    continue;
                }
                // `DirEntry::metadata` does not follow symbolic links.
                let Ok(meta) = dirent.metadata() else {
                    continue;
                };
                if meta.is_dir() {
                    stack.push(dirent.path());
                }
                entries.insert(name, Stamp::of(&meta));
            }
            found.folders.insert(folder, entries);
        }
    }
    if let Ok(meta) = std::fs::metadata(&scope.config) {
        found.singles.insert(scope.config.clone(), Stamp::of(&meta));
    }
    found
}

/// Takes a new snapshot into `previous` and returns what changed.
fn poll(scope: &Scope, previous: &mut Snapshot) -> Vec<PathBuf> {
    let mut current = snapshot(scope);
    for folder in &current.unreadable {
        if let Some(entries) = previous.folders.remove(folder) {
            current.folders.insert(folder.clone(), entries);
        }
    }
    let changed = changed_paths(previous, &current);
    *previous = current;
    changed
}

/// Paths that are new, gone, or stamped differently in `current`.
fn changed_paths(previous: &Snapshot, current: &Snapshot) -> Vec<PathBuf> {
    let mut changed: Vec<PathBuf> = Vec::new();
    let no_entries = HashMap::new();
    for (path, stamp) in &current.singles {
        if previous.singles.get(path) != Some(stamp) {
            changed.push(path.clone());
        }
    }
    for path in previous.singles.keys() {
        if !current.singles.contains_key(path) {
            changed.push(path.clone());
        }
    }
    for (folder, entries) in &current.folders {
        let before = previous.folders.get(folder).unwrap_or(&no_entries);
        for (name, stamp) in entries {
            if before.get(name) != Some(stamp) {
                changed.push(folder.join(name));
            }
        }
        for name in before.keys() {
            if !entries.contains_key(name) {
                changed.push(folder.join(name));
            }
        }
    }
    for (folder, entries) in &previous.folders {
        if !current.folders.contains_key(folder) {
            changed.extend(entries.keys().map(|name| folder.join(name)));
        }
    }
    changed
}

/// Polls `scope` every `interval` on a thread of its own, sending what
/// changed as one event. The first snapshot is taken before this returns, so
/// nothing written after it is missed.
fn start_polling(scope: &Scope, interval: Duration, tx: Inbox) -> notify::Result<Watching> {
    let scope = scope.clone();
    let mut previous = snapshot(&scope);
    if !previous.singles.contains_key(&scope.articles) {
        return Err(notify::Error::path_not_found().add_path(scope.articles));
    }
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    std::thread::Builder::new()
        .name("feedd-poll".into())
        .spawn(move || {
            // A poll of a large tree may take longer than the period: waiting
            // at least as long as the last poll took keeps the poller to half
            // a core at most, whatever the tree's size.
            let mut wait = interval;
            // Ends when the `Watching` (and with it `stop`) is dropped.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(wait) {
                let started = Instant::now();
                let changed = poll(&scope, &mut previous);
                wait = interval.max(started.elapsed());
                if changed.is_empty() {
                    continue;
                }
                let event = notify::Event {
                    kind: notify::EventKind::Any,
                    paths: changed,
                    attrs: Default::default(),
                };
                if tx.send(Message::Fs(Ok(event))).is_err() {
                    return;
                }
            }
        })
        .map_err(notify::Error::io)?;
    Ok(Watching::Polling(stop))
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
pub fn next(rx: &Queue, scope: &Scope, debounce: Duration, deadline: Option<Instant>) -> Next {
    let first = match deadline {
        None => rx.recv(),
        Some(deadline) => rx.recv_timeout(deadline.saturating_duration_since(Instant::now())),
    };
    let mut batch = Batch::default();
    match first {
        Ok(Message::Fs(event)) => batch.add(scope, event),
        Ok(Message::Reload) => batch.config_changed = true,
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
            Ok(Message::Reload) => batch.config_changed = true,
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
        let (tx, rx) = channel();
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

    #[test]
    fn a_reload_request_is_a_config_change() {
        let (tx, rx) = channel();
        tx.send(Message::Reload).unwrap();
        match next(&rx, &scope(), Duration::from_millis(5), None) {
            Next::Batch(batch) => {
                assert!(batch.config_changed && batch.paths.is_empty() && !batch.is_empty());
            }
            other => panic!("{other:?}"),
        }
    }

    fn temp_scope() -> (tempfile::TempDir, Scope) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("articles")).unwrap();
        let scope = Scope {
            articles: dir.path().join("articles"),
            config: dir.path().join("feedd.toml"),
        };
        (dir, scope)
    }

    #[test]
    fn a_poll_sees_a_rewrite_within_the_same_second_and_size() {
        let (_dir, scope) = temp_scope();
        let a = scope.articles.join("a.txt");
        let second = std::time::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let write = |text: &str, nanos: u64| {
            std::fs::write(&a, text).unwrap();
            let file = std::fs::File::options().write(true).open(&a).unwrap();
            file.set_modified(second + Duration::from_nanos(nanos))
                .unwrap();
        };
        write("Tin 1", 100);
        let first = snapshot(&scope);
        write("Tin 2", 200);
        let second_poll = snapshot(&scope);
        assert_eq!(
            changed_paths(&first, &second_poll),
            std::slice::from_ref(&a)
        );
        // Even with the modification time put back, the change time moves.
        write("Tin 3", 200);
        assert_eq!(changed_paths(&second_poll, &snapshot(&scope)), [a]);
    }

    #[test]
    fn a_poll_reports_new_and_gone_paths_and_does_not_enter_links() {
        let (_dir, scope) = temp_scope();
        std::fs::create_dir(scope.articles.join("Thời sự")).unwrap();
        std::fs::write(scope.articles.join("Thời sự/a.txt"), "Tin A").unwrap();
        let before = snapshot(&scope);
        std::os::unix::fs::symlink(&scope.articles, scope.articles.join("vong")).unwrap();
        std::fs::write(scope.articles.join("Thời sự/b.txt"), "Tin B").unwrap();
        std::fs::remove_file(scope.articles.join("Thời sự/a.txt")).unwrap();
        std::fs::write(scope.articles.join(".an.txt"), "hidden").unwrap();
        let after = snapshot(&scope);
        let mut changed = changed_paths(&before, &after);
        changed.sort();
        assert_eq!(
            changed,
            [
                scope.articles.join("Thời sự/a.txt"),
                scope.articles.join("Thời sự/b.txt"),
                scope.articles.join("vong"),
            ]
        );
        assert!(after.contains(&scope.articles.join("vong")));
        assert!(!after.contains(&scope.articles.join("vong/Thời sự")));
        std::fs::write(&scope.config, "[site]").unwrap();
        assert_eq!(
            changed_paths(&after, &snapshot(&scope)),
            std::slice::from_ref(&scope.config)
        );
    }

    #[test]
    fn the_inbox_tells_whether_a_message_waits_until_next_takes_it() {
        let (tx, rx) = channel();
        assert!(!tx.is_waiting());
        tx.send(Message::Reload).unwrap();
        assert!(tx.clone().is_waiting());
        match next(&rx, &scope(), Duration::ZERO, Some(Instant::now())) {
            Next::Batch(batch) => assert!(batch.config_changed),
            other => panic!("{other:?}"),
        }
        assert!(!tx.is_waiting());
    }

    #[test]
    fn the_poller_sends_changes_and_stops_when_dropped() {
        let (_dir, scope) = temp_scope();
        let (tx, rx) = channel();
        let watching = start(&scope, 10, tx).unwrap();
        let a = scope.articles.join("a.txt");
        std::fs::write(&a, "Tin A").unwrap();
        match next(&rx, &scope, Duration::from_millis(5), None) {
            Next::Batch(batch) => assert_eq!(batch.paths, [a]),
            other => panic!("{other:?}"),
        }
        drop(watching);
        // The thread ends and drops its sender.
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            match rx.recv_timeout(Duration::from_millis(50)) {
                Err(RecvTimeoutError::Disconnected) => break,
                _ => assert!(Instant::now() < deadline, "the poller did not stop"),
            }
        }
    }

    #[test]
    fn reading_articles_sends_the_daemon_nothing() {
        let (_dir, scope) = temp_scope();
        let a = scope.articles.join("a.txt");
        std::fs::write(&a, "Tin A").unwrap();
        let (tx, rx) = channel();
        let _watching = start(&scope, 0, tx).unwrap();
        for _ in 0..20 {
            std::fs::read(&a).unwrap();
        }
        // Events arrive in order: once the marker's is in, every event of
        // the reads before it has been sent or dropped.
        let marker = scope.articles.join("marker.txt");
        std::fs::write(&marker, "").unwrap();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let remaining = deadline.saturating_duration_since(Instant::now());
            match rx.recv_timeout(remaining) {
                Ok(Message::Fs(Ok(event))) => {
                    assert!(
                        !matches!(event.kind, EventKind::Access(_)),
                        "an access event reached the daemon: {event:?}"
                    );
                    if event.paths.contains(&marker) {
                        break;
                    }
                }
                other => panic!("no event for the marker file: {other:?}"),
            }
        }
    }

    /// The cost of one poll at 100,000 files (prints it; asserts nothing):
    /// `cargo test --release --lib poll_cost -- --ignored --nocapture`
    #[test]
    #[ignore = "a measurement: creates 100,000 files"]
    fn poll_cost_at_100k_files() {
        let (_dir, scope) = temp_scope();
        for folder in 0..100 {
            let dir = scope.articles.join(format!("Mục {folder}"));
            std::fs::create_dir(&dir).unwrap();
            for file in 0..1000 {
                std::fs::write(dir.join(format!("tin-{file}.txt")), "Tin\n\nThân.\n").unwrap();
            }
        }
        let mut previous = snapshot(&scope);
        let mut times = Vec::new();
        for _ in 0..5 {
            let started = Instant::now();
            let changed = poll(&scope, &mut previous);
            times.push(started.elapsed());
            assert!(changed.is_empty());
        }
        times.sort();
        println!(
            "one poll of {} paths: median {:.1} ms, min {:.1} ms, max {:.1} ms",
            previous.folders.values().map(HashMap::len).sum::<usize>(),
            times[2].as_secs_f64() * 1000.0,
            times[0].as_secs_f64() * 1000.0,
            times[4].as_secs_f64() * 1000.0
        );
    }
}
