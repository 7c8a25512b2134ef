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

    /// The stamp as numbers, to hash.
    fn to_words(self) -> [u64; 7] {
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

/// A [`FileStamp`] as 8 bytes: what the catalog keeps of every article
/// (the whole stamp was 56 bytes, 5 MB at 100,000 articles). Two stamps
/// with the same digest are taken as equal; a 64-bit hash makes a false
/// match (an edit not noticed by a rescan) a chance of 1 in 2^64 per edit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StampDigest(u64);

impl FileStamp {
    /// The stamp's digest.
    pub fn digest(self) -> StampDigest {
        let mut hasher = blake3::Hasher::new();
        for word in self.to_words() {
            hasher.update(&word.to_le_bytes());
        }
        let hash = hasher.finalize();
        let first: [u8; 8] = std::array::from_fn(|i| hash.as_bytes()[i]);
        StampDigest(u64::from_le_bytes(first))
    }
}

impl StampDigest {
    /// The digest as a number, to keep on disk.
    pub fn to_word(self) -> u64 {
        self.0
    }

    /// The digest [`StampDigest::to_word`] gave.
    pub fn from_word(word: u64) -> StampDigest {
        StampDigest(word)
    }
}
