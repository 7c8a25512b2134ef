//! What feedd remembers about articles across runs: when it first saw each
//! one and when its content last changed, so that an edit or a restart never
//! moves an article in its feeds.
//!
//! Kept as an append-only journal (`articles.journal` in `paths.state`):
//! one line per change, so recording an edit costs the same whatever the
//! size of the corpus. Later lines win; the file is compacted (on load and
//! while running) when it has grown well past the number of articles.

use std::collections::HashMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

const JOURNAL: &str = "articles.journal";

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
    records: HashMap<String, Seen>,
    journal: Option<(PathBuf, Option<File>)>,
    /// Lines in the journal file, to know when compacting it pays.
    journal_lines: usize,
}

/// A state journal that cannot be read or written.
#[derive(Debug, thiserror::Error)]
#[error("{}: {action}: {source}; check that the folder is writable (paths.state in the config)", .path.display())]
pub struct StateError {
    path: PathBuf,
    action: &'static str,
    source: std::io::Error,
}

impl StateStore {
    /// A store that remembers nothing on disk (for `feedd check`).
    pub fn in_memory() -> StateStore {
        StateStore {
            records: HashMap::new(),
            journal: None,
            journal_lines: 0,
        }
    }

    /// Loads the journal in `dir` (created if missing), compacting it when worthwhile.
    pub fn open(dir: &Path) -> Result<StateStore, StateError> {
        let path = dir.join(JOURNAL);
        let error = |action, source| StateError {
            path: path.clone(),
            action,
            source,
        };
        std::fs::create_dir_all(dir).map_err(|e| error("cannot create the state folder", e))?;
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            Err(e) => return Err(error("cannot read", e)),
        };
        let mut records = HashMap::new();
        let mut lines = 0usize;
        for line in text.lines() {
            lines += 1;
            // A line cut short by a crash is skipped: losing one record only
            // means that article is dated as if first seen now.
            if let Some((path, seen)) = parse_line(line) {
                records.insert(path, seen);
            }
        }
        let mut store = StateStore {
            records,
            journal: Some((path.clone(), None)),
            journal_lines: lines,
        };
        store.compact_if_worthwhile()?;
        Ok(store)
    }

    /// What is remembered of `path`.
    pub fn get(&self, path: &str) -> Option<Seen> {
        self.records.get(path).copied()
    }

    /// Records that `path` has content `hash` with modification time
    /// `mtime`, and returns its remembered dates.
    pub fn observe(
        &mut self,
        path: &str,
        mtime: Timestamp,
        hash: [u8; 16],
    ) -> Result<Seen, StateError> {
        let seen = match self.records.get(path) {
            Some(seen) if seen.hash == hash => return Ok(*seen),
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
        self.records.insert(path.to_string(), seen);
        self.append(path, &seen)?;
        Ok(seen)
    }

    fn append(&mut self, path: &str, seen: &Seen) -> Result<(), StateError> {
        let Some((journal_path, file)) = self.journal.as_mut() else {
            return Ok(());
        };
        let error = |action, source| StateError {
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
            // One write per record, so concurrent appenders never interleave a line.
            file.write_all(format_line(path, seen).as_bytes())
                .map_err(|e| error("cannot append", e))?;
        }
        self.journal_lines += 1;
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
        let Some((path, file)) = self.journal.as_mut() else {
            return Ok(());
        };
        // The open handle would keep appending to the replaced file.
        *file = None;
        let path = path.clone();
        self.compact().map_err(|source| StateError {
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
        let mut temp = tempfile::NamedTempFile::new_in(dir)?;
        temp.write_all(text.as_bytes())?;
        temp.as_file().sync_all()?;
        temp.persist(path).map_err(|e| e.error)?;
        Ok(())
    }
}

fn format_line(path: &str, seen: &Seen) -> String {
    let hash: String = seen.hash.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "{}\t{}\t{}\t{}\n",
        seen.first_seen.as_second(),
        seen.changed.as_second(),
        hash,
        escape(path)
    )
}

fn parse_line(line: &str) -> Option<(String, Seen)> {
    let mut fields = line.splitn(4, '\t');
    let first_seen = Timestamp::from_second(fields.next()?.parse().ok()?).ok()?;
    let changed = Timestamp::from_second(fields.next()?.parse().ok()?).ok()?;
    let hex = fields.next()?;
    let mut hash = [0u8; 16];
    if hex.len() != 32 {
        return None;
    }
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    let path = unescape(fields.next()?)?;
    Some((
        path,
        Seen {
            first_seen,
            changed,
            hash,
        },
    ))
}

fn escape(path: &str) -> String {
    path.replace('\\', "\\\\")
        .replace('\t', "\\t")
        .replace('\n', "\\n")
}

fn unescape(text: &str) -> Option<String> {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next()? {
                't' => out.push('\t'),
                'n' => out.push('\n'),
                '\\' => out.push('\\'),
                _ => return None,
            }
        } else {
            out.push(c);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(second: i64) -> Timestamp {
        Timestamp::from_second(second).unwrap()
    }

    #[test]
    fn first_seen_survives_edits_and_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let mut store = StateStore::open(dir.path()).unwrap();
        let seen = store
            .observe("Đời sống/a\tb.txt", ts(100), [1; 16])
            .unwrap();
        assert_eq!((seen.first_seen, seen.changed), (ts(100), ts(100)));
        let touched = store
            .observe("Đời sống/a\tb.txt", ts(150), [1; 16])
            .unwrap();
        assert_eq!(touched.changed, ts(100), "same content: not a change");
        let edited = store
            .observe("Đời sống/a\tb.txt", ts(200), [2; 16])
            .unwrap();
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
            store.observe("a.txt", ts(i64::from(i)), hash).unwrap();
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
        store.observe("a.txt", ts(5), [5; 16]).unwrap();
        drop(store);
        let mut file = OpenOptions::new()
            .append(true)
            .open(dir.path().join(JOURNAL))
            .unwrap();
        file.write_all(b"12\t1").unwrap();
        let reopened = StateStore::open(dir.path()).unwrap();
        assert_eq!(reopened.get("a.txt").unwrap().first_seen, ts(5));
    }
}
