//! What a file's metadata says about whether its content may have changed:
//! the one comparison the catalog's rescan and the poller both make.
//! Pure; reads nothing itself.

use std::os::unix::fs::MetadataExt as _;

/// When all of these are unchanged, the file is taken as unchanged.
/// Nanosecond times, the change time and the inode catch what mtime and size
/// miss: a second write within the same second, `rsync -t`, a file renamed
/// over another.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FileStamp {
    modified: (i64, i64),
    changed: (i64, i64),
    len: u64,
    inode: (u64, u64),
}

impl FileStamp {
    /// The stamp of a file's metadata.
    pub fn of(meta: &std::fs::Metadata) -> FileStamp {
        FileStamp {
            modified: (meta.mtime(), meta.mtime_nsec()),
            changed: (meta.ctime(), meta.ctime_nsec()),
            len: meta.len(),
            inode: (meta.dev(), meta.ino()),
        }
    }

    /// The stamp as numbers, to keep on disk.
    pub fn to_words(&self) -> [u64; 7] {
        [
            self.modified.0 as u64,
            self.modified.1 as u64,
            self.changed.0 as u64,
            self.changed.1 as u64,
            self.len,
            self.inode.0,
            self.inode.1,
        ]
    }

    /// The stamp [`FileStamp::to_words`] gave.
    pub fn from_words(words: [u64; 7]) -> FileStamp {
        FileStamp {
            modified: (words[0] as i64, words[1] as i64),
            changed: (words[2] as i64, words[3] as i64),
            len: words[4],
            inode: (words[5], words[6]),
        }
    }

    /// Only which file it is (device and inode), not its times or size.
    pub fn identity_of(meta: &std::fs::Metadata) -> FileStamp {
        FileStamp {
            modified: (0, 0),
            changed: (0, 0),
            len: 0,
            inode: (meta.dev(), meta.ino()),
        }
    }
}
