//! What feedd remembers about articles across runs: when it first saw each
//! one and when its content last changed, so that an edit or a restart never
//! moves an article in its feeds.
//!
//! Kept as an append-only journal (`articles.journal` in `paths.state`):
//! one line per change, so recording an edit costs the same whatever the
//! size of the corpus. Later lines win; the file is compacted (on load and
//! while running) when it has grown well past the number of articles.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;

const JOURNAL: &str = "articles.journal";
/// Held (an OS file lock) by the one process that owns `paths.state`: a
/// `feedd serve` for its lifetime, a `feedd build` while it builds. Two
/// writers would each compact the journal from their own records and drop
/// the other's.
const LOCK: &str = "feedd.lock";
/// Where a journal with damaged lines is copied before it is rewritten, so
/// that whatever was in it can still be looked at.
const DAMAGED_COPY: &str = "articles.journal.damaged";
/// No line feedd writes comes near this (a path is at most a few KiB even
/// escaped); a longer one is damage, and is skipped without being parsed.
const MAX_LINE_BYTES: usize = 64 * 1024;
/// Names of the temporary files a compaction writes before renaming; one
/// left by a crash is deleted by the next process that takes the lock.
const TEMP_PREFIX: &str = ".articles.journal-";
const TEMP_SUFFIX: &str = ".tmp";

/// Dates remembered for one article path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    /// The file's modification time when feedd first saw it.
    pub first_seen: Timestamp,
    /// The file's modification time when its content last changed.
    pub changed: Timestamp,
    /// Hash of the content at `changed`.
    pub hash: [u8; 16],
}

/// The journal of [`Seen`] records, by path relative to `paths.articles`.
#[derive(Debug)]
pub struct StateStore {
    /// Keyed by the same allocation the catalog uses for the path (see
    /// [`StateStore::shared_key`]), so 100,000 paths are held once, not twice.
    records: HashMap<Arc<str>, Seen>,
    journal: Option<(PathBuf, Option<File>)>,
    /// Lines in the journal file, to know when compacting it pays.
    journal_lines: usize,
    /// The lock on `paths.state`, released when the store is dropped.
    _lock: Option<File>,
    /// What loading had to repair, for the caller to report.
    warnings: Vec<String>,
    /// An append failed part-way (a full disk): the file may end in a torn
    /// line, which the next append would run into. Rewrite it whole instead.
    torn: bool,
    /// Lines recorded but not yet appended: a scan of a whole tree appends
    /// them with one write rather than one per article.
    pending: String,
    pending_lines: usize,
}

/// A state folder that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum StateError {
    /// The journal or the folder cannot be read or written.
    #[error("{}: {action}: {source}; check that the folder is writable (paths.state in the config)", .path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// What feedd was doing.
        action: &'static str,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Another feedd process holds the state folder.
    #[error(
        "{}: the state folder is in use by another feedd process (a `feedd serve` holds it while \
         it runs, a `feedd build` while it builds); a running `feedd serve` already publishes \
         every change, so stop it first or let the other build finish, or give this run its own \
         paths.state and paths.output",
        .dir.display()
    )]
    Locked {
        /// `paths.state`.
        dir: PathBuf,
    },
}

impl StateStore {
    /// A store that remembers nothing on disk (for `feedd check`).
    pub fn in_memory() -> StateStore {
        StateStore {
            records: HashMap::new(),
            journal: None,
            journal_lines: 0,
            _lock: None,
            warnings: Vec::new(),
            torn: false,
            pending: String::new(),
            pending_lines: 0,
        }
    }

    /// What the journal in `dir` remembers, read without taking the lock
    /// and never written (for `feedd explain`, which must work beside a
    /// running `serve`). Damaged lines are skipped, as [`StateStore::open`]
    /// does; no journal is an empty store.
    pub fn read_only(dir: &Path) -> Result<StateStore, StateError> {
        let path = dir.join(JOURNAL);
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(source) => {
                return Err(StateError::Io {
                    path,
                    action: "cannot read",
                    source,
                });
            }
        };
        let mut store = StateStore::in_memory();
        store.records = Loaded::parse(&bytes, Timestamp::now()).records;
        Ok(store)
    }

    /// An in-memory store remembering what this one does: a second process
    /// started on the same state folder, for tests.
    #[cfg(test)]
    pub(crate) fn in_memory_copy(&self) -> StateStore {
        let mut copy = StateStore::in_memory();
        copy.records = self.records.clone();
        copy
    }

    /// Locks `dir` (created if missing) for this process, or fails at once
    /// with [`StateError::Locked`] if another process holds it; then loads
    /// the journal ([`StateLock::load`]).
    pub fn open(dir: &Path) -> Result<StateStore, StateError> {
        StateStore::lock(dir)?.load()
    }

    /// Locks `dir` (created if missing) for this process, or fails at once
    /// with [`StateError::Locked`] if another process holds it. The journal
    /// is read by [`StateLock::load`], which `serve` calls once it answers
    /// from the feeds on disk: reading 100,000 records takes a tenth of a
    /// second that readers need not wait for.
    pub fn lock(dir: &Path) -> Result<StateLock, StateError> {
        let error = |path: &Path, action, source| StateError::Io {
            path: path.to_owned(),
            action,
            source,
        };
        std::fs::create_dir_all(dir)
            .map_err(|e| error(dir, "cannot create the state folder", e))?;
        let lock_path = dir.join(LOCK);
        let lock = OpenOptions::new()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&lock_path)
            .map_err(|e| error(&lock_path, "cannot open the lock file", e))?;
        match lock.try_lock() {
            Ok(()) => {}
            Err(TryLockError::WouldBlock) => {
                return Err(StateError::Locked {
                    dir: dir.to_owned(),
                });
            }
            Err(TryLockError::Error(e)) => return Err(error(&lock_path, "cannot lock", e)),
        }
        Ok(StateLock {
            dir: dir.to_owned(),
            lock,
        })
    }
}

/// `paths.state`, locked for this process ([`StateStore::lock`]), its
/// journal not read yet.
#[derive(Debug)]
pub struct StateLock {
    dir: PathBuf,
    lock: File,
}

impl StateLock {
    /// Loads the journal, compacting it when worthwhile.
    ///
    /// A damaged journal (a crash, a full disk, a stray edit) is recovered:
    /// every line that does not parse, or is not a record feedd could have
    /// written, is skipped, the journal is rewritten from the good ones (a
    /// copy of the damaged file is kept beside it) and [`StateStore::take_warnings`]
    /// says so. An article whose line was lost is dated by its file's
    /// modification time, which for an article never edited is the date it had.
    pub fn load(self) -> Result<StateStore, StateError> {
        let StateLock { dir, lock } = self;
        let dir = dir.as_path();
        let path = dir.join(JOURNAL);
        let error = |path: &Path, action, source| StateError::Io {
            path: path.to_owned(),
            action,
            source,
        };
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(error(&path, "cannot read", e)),
        };
        let loaded = Loaded::parse(&bytes, Timestamp::now());
        let mut store = StateStore {
            records: loaded.records,
            journal: Some((path.clone(), None)),
            journal_lines: loaded.lines,
            _lock: Some(lock),
            warnings: Vec::new(),
            torn: false,
            pending: String::new(),
            pending_lines: 0,
        };
        remove_leftover_temp_files(dir);
        if loaded.damaged > 0 {
            let copy = dir.join(DAMAGED_COPY);
            std::fs::write(&copy, &bytes).map_err(|e| error(&copy, "cannot write", e))?;
            store.warnings.push(format!(
                "{}: {} damaged lines skipped (first at line {}: {}); the journal was rewritten \
                 from the {} good records and the damaged one kept as {}; articles whose record \
                 was lost are dated by their file's modification time",
                path.display(),
                loaded.damaged,
                loaded.first_damage.0,
                loaded.first_damage.1,
                store.records.len(),
                copy.display()
            ));
            store.rewrite()?;
        } else {
            store.compact_if_worthwhile()?;
        }
        Ok(store)
    }
}

impl StateStore {
    /// What loading repaired, one line each (empty for a sound journal);
    /// each is returned once.
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// The path as the store holds it, for the caller to share rather than
    /// allocate again.
    pub fn shared_key(&self, path: &str) -> Option<Arc<str>> {
        self.records.get_key_value(path).map(|(key, _)| key.clone())
    }

    /// What is remembered of `path`.
    pub fn get(&self, path: &str) -> Option<Seen> {
        self.records.get(path).copied()
    }

    /// Records that `path` has content `hash` with modification time
    /// `mtime`, and returns its remembered dates. The journal line is
    /// written by the next [`StateStore::flush`]. A new `path` is kept as
    /// given, shared with the caller (the catalog's key).
    pub fn observe(&mut self, path: &Arc<str>, mtime: Timestamp, hash: [u8; 16]) -> Seen {
        let seen = match self.records.get(&**path) {
            Some(seen) if seen.hash == hash => return *seen,
            Some(seen) => Seen {
                first_seen: seen.first_seen,
                changed: mtime.max(seen.changed),
                hash,
            },
            None => Seen {
                first_seen: mtime,
                changed: mtime,
                hash,
            },
        };
        let key = self.shared_key(path).unwrap_or_else(|| Arc::clone(path));
        self.records.insert(key, seen);
        if self.journal.is_some() {
            self.pending.push_str(&format_line(path, &seen));
            self.pending_lines += 1;
        }
        seen
    }

    /// Appends what [`StateStore::observe`] recorded since the last flush.
    /// On failure the records still hold for this run, and the next flush
    /// rewrites the journal whole.
    pub fn flush(&mut self) -> Result<(), StateError> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let lines = std::mem::take(&mut self.pending);
        let count = std::mem::take(&mut self.pending_lines);
        self.append(&lines, count)
    }

    fn append(&mut self, lines: &str, count: usize) -> Result<(), StateError> {
        if self.torn {
            // The record is already in `records`, so the rewrite holds it.
            self.rewrite()?;
            self.torn = false;
            return Ok(());
        }
        let Some((journal_path, file)) = self.journal.as_mut() else {
            return Ok(());
        };
        let error = |action, source| StateError::Io {
            path: journal_path.clone(),
            action,
            source,
        };
        if file.is_none() {
            let opened = OpenOptions::new()
                .create(true)
                .append(true)
                .open(&*journal_path)
                .map_err(|e| error("cannot open", e))?;
            *file = Some(opened);
        }
        if let Some(file) = file.as_mut() {
            // One write per batch: an O_APPEND write of whole lines, so a
            // line is never split between writers.
            if let Err(e) = file.write_all(lines.as_bytes()) {
                self.torn = true;
                return Err(error("cannot append", e));
            }
        }
        self.journal_lines += count;
        // Also while running: a daemon that lives for months of edits must
        // not grow the journal without bound. Amortised, still constant per edit.
        self.compact_if_worthwhile()
    }

    /// Rewrites the journal with one line per record once it holds more than
    /// twice as many lines as records.
    fn compact_if_worthwhile(&mut self) -> Result<(), StateError> {
        if self.journal_lines <= 2 * self.records.len() + 64 {
            return Ok(());
        }
        self.rewrite()
    }

    /// Rewrites the journal with one line per record.
    fn rewrite(&mut self) -> Result<(), StateError> {
        let Some((path, file)) = self.journal.as_mut() else {
            return Ok(());
        };
        // The open handle would keep appending to the replaced file.
        *file = None;
        let path = path.clone();
        self.compact().map_err(|source| StateError::Io {
            path,
            action: "cannot compact",
            source,
        })?;
        self.journal_lines = self.records.len();
        Ok(())
    }

    fn compact(&self) -> std::io::Result<()> {
        let Some((path, _)) = &self.journal else {
            return Ok(());
        };
        let mut sorted: Vec<_> = self.records.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let text: String = sorted
            .into_iter()
            .map(|(p, seen)| format_line(p, seen))
            .collect();
        let dir = path.parent().unwrap_or(Path::new("."));
        let mut temp = tempfile::Builder::new()
            .prefix(TEMP_PREFIX)
            .suffix(TEMP_SUFFIX)
            .tempfile_in(dir)?;
        temp.write_all(text.as_bytes())?;
        temp.as_file().sync_all()?;
        temp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

impl Drop for StateStore {
    /// Whatever a caller recorded but did not flush still reaches the
    /// journal (an error here was already reported by an earlier flush, or
    /// is repaired by the next run from the files' modification times).
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

/// Deletes journal compaction and catalog cache temp files left by a killed
/// process (only the lock
/// holder calls this, so none of them is being written).
fn remove_leftover_temp_files(dir: &Path) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let is_temp = name.to_str().is_some_and(|n| {
            (n.starts_with(TEMP_PREFIX) || n.starts_with(crate::catalog::CACHE_TEMP_PREFIX))
                && n.ends_with(TEMP_SUFFIX)
        });
        if is_temp {
            // Failing leaves a harmless file; the next start tries again.
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

fn format_line(path: &str, seen: &Seen) -> String {
    let mut line = String::with_capacity(64 + path.len());
    let _ = write!(
        line,
        "{}\t{}\t",
        seen.first_seen.as_second(),
        seen.changed.as_second()
    );
    for byte in seen.hash {
        let _ = write!(line, "{byte:02x}");
    }
    line.push('\t');
    push_escaped(&mut line, path);
    line.push('\n');
    line
}

/// The records of a journal file, and what was wrong with it.
struct Loaded {
    records: HashMap<Arc<str>, Seen>,
    /// Lines in the file, damaged ones included.
    lines: usize,
    /// Lines skipped as damaged.
    damaged: usize,
    /// The first damaged line's number and what is wrong with it.
    first_damage: (usize, &'static str),
}

impl Loaded {
    /// Parses a journal written by [`format_line`], one record per line,
    /// skipping damaged lines. `now` bounds the dates: feedd records file
    /// modification times as it sees them, so a date after the load is damage.
    fn parse(bytes: &[u8], now: Timestamp) -> Loaded {
        let mut loaded = Loaded {
            records: HashMap::new(),
            lines: 0,
            damaged: 0,
            first_damage: (0, ""),
        };
        // A file that does not end in a newline was cut short mid-append
        // (crash, full disk): its last line is torn even if it happens to parse.
        let torn_tail = !bytes.is_empty() && !bytes.ends_with(b"\n");
        let mut lines: Vec<&[u8]> = bytes.split(|b| *b == b'\n').collect();
        if bytes.ends_with(b"\n") || bytes.is_empty() {
            lines.pop();
        }
        let count = lines.len();
        for (index, line) in lines.into_iter().enumerate() {
            loaded.lines += 1;
            let parsed = if torn_tail && index + 1 == count {
                Err("cut short")
            } else {
                parse_line(line, now)
            };
            match parsed {
                Ok((path, seen)) => loaded.merge(path, seen),
                Err(what) => {
                    if loaded.damaged == 0 {
                        loaded.first_damage = (index + 1, what);
                    }
                    loaded.damaged += 1;
                }
            }
        }
        loaded
    }

    /// Adds a record; a later line for the same path is a later change of it.
    fn merge(&mut self, path: String, seen: Seen) {
        let merged = match self.records.get(path.as_str()) {
            // feedd never moves first_seen and never moves changed back, so
            // for a sound journal this is simply the later line; for a
            // damaged or hand-edited one it keeps the article where it was.
            Some(old) => Seen {
                first_seen: old.first_seen.min(seen.first_seen),
                changed: old.changed.max(seen.changed),
                hash: seen.hash,
            },
            None => seen,
        };
        self.records.insert(Arc::from(path), merged);
    }
}

/// One journal line, or what is wrong with it.
fn parse_line(line: &[u8], now: Timestamp) -> Result<(String, Seen), &'static str> {
    if line.len() > MAX_LINE_BYTES {
        return Err("longer than any record");
    }
    let line = std::str::from_utf8(line).map_err(|_| "not UTF-8")?;
    let mut fields = line.splitn(4, '\t');
    let mut date = |name| -> Result<Timestamp, &'static str> {
        let text = fields.next().ok_or(name)?;
        let second: i64 = text.parse().map_err(|_| name)?;
        Timestamp::from_second(second).map_err(|_| name)
    };
    let first_seen = date("bad first-seen date")?;
    let changed = date("bad changed date")?;
    if changed < first_seen {
        return Err("changed before first seen");
    }
    if changed > now {
        return Err("date in the future");
    }
    let hex = fields.next().ok_or("no hash")?;
    let mut hash = [0u8; 16];
    if hex.len() != 32 {
        return Err("bad hash");
    }
    for (i, byte) in hash.iter_mut().enumerate() {
        let pair = hex.get(2 * i..2 * i + 2).ok_or("bad hash")?;
        *byte = u8::from_str_radix(pair, 16).map_err(|_| "bad hash")?;
    }
    let path = unescape(fields.next().ok_or("no path")?).ok_or("bad path escape")?;
    // No article path is empty, absolute, or holds a NUL.
    if path.is_empty() || path.starts_with('/') || path.contains('\0') {
        return Err("bad path");
    }
    Ok((
        path,
        Seen {
            first_seen,
            changed,
            hash,
        },
    ))
}

/// Appends `text` with `\\`, tab, LF and CR escaped, so that it fits one
/// tab-separated field of a line (the journal's and the catalog cache's).
/// Copies the runs between escapes whole: at 100,000 articles a restart
/// reads and writes some 300,000 fields.
pub(crate) fn push_escaped(out: &mut String, text: &str) {
    const ESCAPES: [(u8, &str); 4] = [
        (b'\\', "\\\\"),
        (b'\t', "\\t"),
        (b'\n', "\\n"),
        (b'\r', "\\r"),
    ];
    crate::xml_text::escape_runs(text, &ESCAPES, |run| out.push_str(run));
}

/// The text [`push_escaped`] wrote; `None` for an escape it never writes.
pub(crate) fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some((plain, escaped)) = rest.split_once('\\') {
        out.push_str(plain);
        let mut chars = escaped.chars();
        out.push(unescaped(chars.next()?)?);
        rest = chars.as_str();
    }
    out.push_str(rest);
    Some(out)
}

/// Whether `text` is something [`push_escaped`] could have written: every
/// backslash starts one of its escapes. [`unescape`] without the copy.
pub(crate) fn is_escaped(text: &str) -> bool {
    let mut rest = text;
    while let Some((_, escaped)) = rest.split_once('\\') {
        let mut chars = escaped.chars();
        if chars.next().and_then(unescaped).is_none() {
            return false;
        }
        rest = chars.as_str();
    }
    true
}

/// The character the escape `\\{c}` stands for.
fn unescaped(c: char) -> Option<char> {
    match c {
        't' => Some('\t'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        '\\' => Some('\\'),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn names_with_separators_and_line_ends_survive_the_journal() {
        let names = [
            "a\\b.txt", "a\tb.txt", "a\nb.txt", "a\rb.txt", "ends\r", "\\t.txt",
        ];
        let dir = tempfile::tempdir().unwrap();
        let mut store = StateStore::open(dir.path()).unwrap();
        for (i, name) in names.iter().enumerate() {
            store.observe(&Arc::from(*name), ts(100 + i as i64), [1; 16]);
        }
        drop(store);
        let reopened = StateStore::open(dir.path()).unwrap();
        assert!(reopened.warnings.is_empty(), "{:?}", reopened.warnings);
        for (i, name) in names.iter().enumerate() {
            let seen = reopened
                .get(name)
                .unwrap_or_else(|| panic!("{name:?} lost"));
            assert_eq!(seen.first_seen, ts(100 + i as i64), "{name:?}");
        }
    }

    #[test]
    fn first_seen_survives_edits_and_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = StateStore::open(dir.path()).unwrap();
        let seen = store.observe(&Arc::from("Đời sống/a\tb.txt"), ts(100), [1; 16]);
        assert_eq!((seen.first_seen, seen.changed), (ts(100), ts(100)));
        let touched = store.observe(&Arc::from("Đời sống/a\tb.txt"), ts(150), [1; 16]);
        assert_eq!(touched.changed, ts(100), "same content: not a change");
        let edited = store.observe(&Arc::from("Đời sống/a\tb.txt"), ts(200), [2; 16]);
        assert_eq!((edited.first_seen, edited.changed), (ts(100), ts(200)));
        drop(store);

        let reopened = StateStore::open(dir.path()).unwrap();
        assert_eq!(reopened.get("Đời sống/a\tb.txt"), Some(edited));
    }

    #[test]
    fn a_long_journal_is_compacted_on_load_without_losing_records() {
        let dir = tempfile::tempdir().unwrap();
        // As left by a concurrent `feedd build`, or by a crash before compaction.
        let mut journal: String = (0..200u8)
            .map(|i| {
                format_line(
                    "a.txt",
                    &Seen {
                        first_seen: ts(0),
                        changed: ts(i64::from(i)),
                        hash: [i; 16],
                    },
                )
            })
            .collect();
        journal.push_str(&format_line(
            "b.txt",
            &Seen {
                first_seen: ts(7),
                changed: ts(7),
                hash: [7; 16],
            },
        ));
        std::fs::write(dir.path().join(JOURNAL), journal).unwrap();
        let reopened = StateStore::open(dir.path()).unwrap();
        let lines = std::fs::read_to_string(dir.path().join(JOURNAL))
            .unwrap()
            .lines()
            .count();
        assert_eq!(lines, 2);
        assert_eq!(reopened.get("a.txt").unwrap().changed, ts(199));
        assert_eq!(reopened.get("a.txt").unwrap().first_seen, ts(0));
        assert_eq!(reopened.get("b.txt").unwrap().first_seen, ts(7));
    }

    #[test]
    fn a_running_store_keeps_its_journal_small() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = StateStore::open(dir.path()).unwrap();
        for i in 0..1000u32 {
            let mut hash = [0; 16];
            hash[..4].copy_from_slice(&i.to_le_bytes());
            store.observe(&Arc::from("a.txt"), ts(i64::from(i)), hash);
            store.flush().unwrap();
        }
        let lines = std::fs::read_to_string(dir.path().join(JOURNAL))
            .unwrap()
            .lines()
            .count();
        assert!(lines <= 2 + 64, "{lines} lines for one record");
        drop(store);
        let reopened = StateStore::open(dir.path()).unwrap();
        assert_eq!(reopened.get("a.txt").unwrap().changed, ts(999));
        assert_eq!(reopened.get("a.txt").unwrap().first_seen, ts(0));
    }

    #[test]
    fn a_torn_last_line_is_ignored() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = StateStore::open(dir.path()).unwrap();
        store.observe(&Arc::from("a.txt"), ts(5), [5; 16]);
        drop(store);
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.path().join(JOURNAL))
            .unwrap();
        file.write_all(b"12\t1").unwrap();
        let reopened = StateStore::open(dir.path()).unwrap();
        assert_eq!(reopened.get("a.txt").unwrap().first_seen, ts(5));
    }

    #[test]
    fn a_second_open_of_one_folder_is_refused_until_the_first_is_dropped() {
        let dir = tempfile::tempdir().unwrap();
        let first = StateStore::open(dir.path()).unwrap();
        let refused = StateStore::open(dir.path()).unwrap_err();
        assert!(matches!(refused, StateError::Locked { .. }), "{refused}");
        let message = refused.to_string();
        assert!(
            message.starts_with(&format!(
                "{}: the state folder is in use",
                dir.path().display()
            )),
            "{message}"
        );
        drop(first);
        StateStore::open(dir.path()).unwrap();
    }

    /// A journal with one good record for `good.txt` (dates 100 and 200),
    /// then `damage`, then a second good record for `after.txt`.
    fn journal_with(damage: &[u8]) -> Vec<u8> {
        let good = |path, first, changed, h| {
            format_line(
                path,
                &Seen {
                    first_seen: ts(first),
                    changed: ts(changed),
                    hash: [h; 16],
                },
            )
        };
        let mut bytes = good("good.txt", 100, 200, 1).into_bytes();
        bytes.extend_from_slice(damage);
        bytes.extend_from_slice(good("after.txt", 300, 300, 3).as_bytes());
        bytes
    }

    #[test]
    fn every_kind_of_damage_is_skipped_and_the_good_records_keep_their_dates() {
        let hash = "01".repeat(16);
        let huge = format!("5\t5\t{hash}\t{}\n", "x".repeat(MAX_LINE_BYTES + 1));
        let cases: Vec<(&str, Vec<u8>)> = vec![
            ("garbage", b"this is not a record\n".to_vec()),
            ("binary", b"\x00\xff\xfe\x80binary\x01\x02\n".to_vec()),
            (
                "not UTF-8 in the path",
                [format!("5\t5\t{hash}\ta").as_bytes(), b"\xff\n"].concat(),
            ),
            ("half a line", b"100\t20\n".to_vec()),
            ("a huge line", huge.into_bytes()),
            ("an empty line", b"\n".to_vec()),
            (
                "a far-future date",
                format!("100\t99999999999\t{hash}\tgood.txt\n").into_bytes(),
            ),
            (
                "changed before first seen",
                format!("100\t50\t{hash}\tgood.txt\n").into_bytes(),
            ),
            (
                "a date out of range",
                format!("1\t999999999999999999\t{hash}\tx.txt\n").into_bytes(),
            ),
            ("a short hash", b"5\t5\tabc\tx.txt\n".to_vec()),
            (
                "a hash that is not hex",
                format!("5\t5\t{}\tx.txt\n", "zz".repeat(16)).into_bytes(),
            ),
            (
                "a bad escape",
                format!("5\t5\t{hash}\tx\\q.txt\n").into_bytes(),
            ),
            (
                "an absolute path",
                format!("5\t5\t{hash}\t/etc/passwd\n").into_bytes(),
            ),
            (
                "a NUL in the path",
                format!("5\t5\t{hash}\tx\0.txt\n").into_bytes(),
            ),
            (
                "a multibyte hash",
                format!("5\t5\t{}\tx.txt\n", "đ".repeat(16)).into_bytes(),
            ),
        ];
        for (what, damage) in cases {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(JOURNAL), journal_with(&damage)).unwrap();
            let mut store = StateStore::open(dir.path()).unwrap();
            let good = store
                .get("good.txt")
                .unwrap_or_else(|| panic!("{what}: lost good.txt"));
            assert_eq!(
                (good.first_seen, good.changed),
                (ts(100), ts(200)),
                "{what}"
            );
            assert_eq!(
                store.get("after.txt").map(|s| s.first_seen),
                Some(ts(300)),
                "{what}"
            );
            assert_eq!(store.get("x.txt"), None, "{what}");
            let warnings = store.take_warnings();
            assert_eq!(warnings.len(), 1, "{what}: {warnings:?}");
            assert!(
                warnings[0].contains("1 damaged lines skipped (first at line 2"),
                "{what}: {warnings:?}"
            );
            assert_eq!(
                std::fs::read(dir.path().join(DAMAGED_COPY)).unwrap(),
                journal_with(&damage),
                "{what}: the damaged journal is kept"
            );
            drop(store);
            // Rewritten clean: the next load has nothing to report.
            let mut reopened = StateStore::open(dir.path()).unwrap();
            assert!(reopened.take_warnings().is_empty(), "{what}");
            assert_eq!(
                reopened.get("good.txt").unwrap().first_seen,
                ts(100),
                "{what}"
            );
        }
    }

    #[test]
    fn duplicate_records_never_move_first_seen_later_nor_changed_earlier() {
        let dir = tempfile::tempdir().unwrap();
        let line = |first, changed, h| {
            format_line(
                "a.txt",
                &Seen {
                    first_seen: ts(first),
                    changed: ts(changed),
                    hash: [h; 16],
                },
            )
        };
        let journal = [line(100, 100, 1), line(500, 600, 2), line(100, 300, 3)].concat();
        std::fs::write(dir.path().join(JOURNAL), journal).unwrap();
        let seen = StateStore::open(dir.path()).unwrap().get("a.txt").unwrap();
        assert_eq!(
            (seen.first_seen, seen.changed, seen.hash),
            (ts(100), ts(600), [3; 16])
        );
    }

    #[test]
    fn a_journal_cut_mid_record_loses_only_that_record_and_appends_cleanly() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = StateStore::open(dir.path()).unwrap();
        store.observe(&Arc::from("a.txt"), ts(5), [5; 16]);
        store.observe(&Arc::from("b.txt"), ts(6), [6; 16]);
        drop(store);
        let path = dir.path().join(JOURNAL);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes.truncate(bytes.len() - 3);
        std::fs::write(&path, bytes).unwrap();
        let mut store = StateStore::open(dir.path()).unwrap();
        assert_eq!(store.get("a.txt").unwrap().first_seen, ts(5));
        assert_eq!(store.get("b.txt"), None);
        assert_eq!(store.take_warnings().len(), 1);
        store.observe(&Arc::from("c.txt"), ts(7), [7; 16]);
        drop(store);
        let mut reopened = StateStore::open(dir.path()).unwrap();
        assert!(reopened.take_warnings().is_empty());
        assert_eq!(reopened.get("c.txt").unwrap().first_seen, ts(7));
    }

    #[test]
    fn leftover_compaction_temp_files_are_removed_on_open() {
        let dir = tempfile::tempdir().unwrap();
        let leftover = dir.path().join(format!("{TEMP_PREFIX}abc{TEMP_SUFFIX}"));
        std::fs::write(&leftover, "half").unwrap();
        let _store = StateStore::open(dir.path()).unwrap();
        assert!(!leftover.exists());
    }

    proptest::proptest! {
        #[test]
        fn escaping_round_trips_and_unescaping_is_total(
            text in "[a\\\\\t\n\rtnrđ\u{301}]{0,24}",
            noise in "[a\\\\\t\n\rtnrxđ]{0,24}",
        ) {
            let mut escaped = String::new();
            push_escaped(&mut escaped, &text);
            proptest::prop_assert!(!escaped.contains(['\t', '\n', '\r']));
            proptest::prop_assert!(is_escaped(&escaped));
            proptest::prop_assert_eq!(unescape(&escaped), Some(text));
            // Anything else, as a damaged file holds: an answer, never a panic,
            // and the check agrees with the unescaping.
            proptest::prop_assert_eq!(is_escaped(&noise), unescape(&noise).is_some());
        }
    }
}
