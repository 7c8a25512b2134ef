//! The catalog's side that touches the file system: which entries of the
//! articles tree are articles, reading one article file (capped, never
//! through a symbolic link, never blocking on a FIFO), its content hash and
//! stamp. Functions of the file alone, so that files can be read in parallel;
//! the index in `mod.rs` decides what to do with what they return.

use std::io::Read as _;
use std::path::{Path, PathBuf};

use jiff::Timestamp;

use super::RawPath;
use crate::article::{self, Article, ArticleError};
use crate::config::Config;
use crate::file_stamp::{FileStamp, StampDigest};

/// Folders already checked, within one batch of watcher events, to be real
/// folders (not symbolic links) below the articles folder.
#[derive(Default)]
pub(super) struct RealFolders(std::collections::HashMap<PathBuf, bool>);

impl RealFolders {
    /// Whether every folder between the articles folder and `relative` is a
    /// real folder, so that a look at `relative` follows no link. `Err`: one
    /// could not be looked at (no search permission), so nobody knows.
    pub(super) fn reachable(&mut self, root: &Path, relative: &Path) -> std::io::Result<bool> {
        let Some(parent) = relative.parent() else {
            return Ok(true);
        };
        let mut folder = PathBuf::new();
        for component in parent.components() {
            folder.push(component);
            let real = match self.0.get(&folder) {
                Some(real) => *real,
                None => {
                    let real = match std::fs::symlink_metadata(root.join(&folder)) {
                        Ok(meta) => meta.is_dir(),
                        Err(error) if is_gone(&error) => false,
                        Err(error) => return Err(error),
                    };
                    self.0.insert(folder.clone(), real);
                    real
                }
            };
            if !real {
                return Ok(false);
            }
        }
        Ok(true)
    }
}

/// Whether a failed look at a path means that nothing is there.
pub(super) fn is_gone(error: &std::io::Error) -> bool {
    matches!(
        error.kind(),
        std::io::ErrorKind::NotFound | std::io::ErrorKind::NotADirectory
    )
}

/// Whether no component of `relative` is hidden (starts with a dot).
pub(super) fn is_visible(relative: &Path) -> bool {
    relative.components().all(|component| match component {
        std::path::Component::Normal(name) => !name.as_encoded_bytes().starts_with(b"."),
        _ => false,
    })
}

/// Whether `relative` is named like an article, judging a name that is not
/// UTF-8 by its readable part (so that it can be reported).
pub(super) fn is_article_like(relative: &Path) -> bool {
    article::is_article_path(Path::new(&*relative.to_string_lossy()))
}

/// What reading one article file gave, before the catalog takes it in.
pub(super) enum FileRead {
    /// The file is no longer a regular file there.
    Gone,
    /// The file has the stamp it was last read with: not read again.
    Unchanged,
    /// It cannot be published (unreadable, too big, or not a valid article).
    Failed(ArticleError),
    /// Read and parsed.
    Parsed {
        stamp: StampDigest,
        /// Modification time in whole seconds, as the state journal keeps
        /// them: a date must not change between the run that first saw the
        /// file and the next one.
        mtime: Timestamp,
        hash: [u8; 16],
        article: Box<Article>,
    },
}

/// Reads and parses the article file `raw` (key `key`) unless it still
/// has the stamp `known`. Touches nothing but the file, so files can be
/// read in parallel.
pub(super) fn read_file(
    config: &Config,
    raw: &RawPath,
    key: &str,
    known: Option<StampDigest>,
) -> FileRead {
    let path = config.paths.articles.join(raw.path());
    // A stat is enough to know that a file is unchanged, which after a
    // restart is true of nearly every file.
    if let Some(known) = known
        && let Ok(meta) = std::fs::symlink_metadata(&path)
        && meta.is_file()
        && FileStamp::of(&meta).digest() == known
    {
        return FileRead::Unchanged;
    }
    let (bytes, meta) = match read_capped(config, &path) {
        Ok(Some(read)) => read,
        Ok(None) => return FileRead::Gone,
        Err(error) => return FileRead::Failed(error),
    };
    let stamp = FileStamp::of(&meta).digest();
    if known == Some(stamp) {
        return FileRead::Unchanged;
    }
    match article::parse_article(config, &path, Path::new(key), &bytes) {
        Ok(article) => FileRead::Parsed {
            stamp,
            mtime: whole_second_mtime(&meta),
            hash: content_hash(&bytes),
            article: Box::new(article),
        },
        Err(error) => FileRead::Failed(error),
    }
}

/// The bytes of the regular file `path`, at most `feeds.max_article_bytes`
/// of them. `Ok(None)`: not a regular file there (any more).
pub(super) fn read_capped(
    config: &Config,
    path: &Path,
) -> Result<Option<(Vec<u8>, std::fs::Metadata)>, ArticleError> {
    let max = config.feeds.max_article_bytes;
    let (file, meta) = match open_regular(path) {
        Ok(Some(opened)) => opened,
        // Replaced by a link, a folder or a FIFO since it was listed: the
        // watcher reports that change, and the next scan classifies it.
        Ok(None) => return Ok(None),
        Err(source) if source.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(ArticleError::Read {
                path: path.to_path_buf(),
                source,
            });
        }
    };
    let too_big = |len: u64| ArticleError::Whole {
        path: path.to_path_buf(),
        message: format!(
            "the file is {len} bytes, more than feeds.max_article_bytes ({max}); shorten it or raise \
             feeds.max_article_bytes in {}",
            config.source.display()
        ),
    };
    if meta.len() > max {
        return Err(too_big(meta.len()));
    }
    // At most one byte past the limit, so a file that grew since the
    // stat is caught without being read whole.
    let mut bytes = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).saturating_add(1));
    if let Err(source) = (&file).take(max.saturating_add(1)).read_to_end(&mut bytes) {
        return Err(ArticleError::Read {
            path: path.to_path_buf(),
            source,
        });
    }
    let read = bytes.len() as u64;
    if read > max {
        let now = file.metadata().map_or(read, |meta| meta.len().max(read));
        return Err(too_big(now));
    }
    Ok(Some((bytes, meta)))
}

pub(super) fn whole_second_mtime(meta: &std::fs::Metadata) -> Timestamp {
    let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
    Timestamp::try_from(modified)
        .and_then(|t| Timestamp::from_second(t.as_second()))
        .unwrap_or(Timestamp::UNIX_EPOCH)
}

/// Opens `path` for reading if it is a regular file, without following a
/// symbolic link and without blocking on a FIFO put there since it was listed.
/// `Ok(None)`: it is something else now.
pub(super) fn open_regular(
    path: &Path,
) -> std::io::Result<Option<(std::fs::File, std::fs::Metadata)>> {
    use std::os::unix::fs::OpenOptionsExt as _;
    let opened = std::fs::File::options()
        .read(true)
        .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
        .open(path);
    let file = match opened {
        Ok(file) => file,
        Err(error) if error.raw_os_error() == Some(libc::ELOOP) => return Ok(None),
        Err(error) => return Err(error),
    };
    let meta = file.metadata()?;
    Ok(meta.is_file().then_some((file, meta)))
}

/// The first 16 bytes of the BLAKE3 hash of `bytes`, the journal's content hash.
pub(super) fn content_hash(bytes: &[u8]) -> [u8; 16] {
    let full = blake3::hash(bytes);
    let full = full.as_bytes();
    std::array::from_fn(|i| full[i])
}

/// `/`-separated relative path in NFC, so that NFC and NFD spellings of one
/// file name (macOS, rsync) are one article. `None`: not valid Unicode.
pub(super) fn relative_key(relative: &Path) -> Option<String> {
    use unicode_normalization::{IsNormalized, UnicodeNormalization};
    let mut key = String::new();
    for component in relative.components() {
        let std::path::Component::Normal(name) = component else {
            return None;
        };
        if !key.is_empty() {
            key.push('/');
        }
        let name = name.to_str()?;
        // Nearly every name is NFC already, and saying so is a table
        // lookup per character, where normalizing decomposes and composes
        // again (7% of a 100,000-article restart).
        if unicode_normalization::is_nfc_quick(name.chars()) == IsNormalized::Yes {
            key.push_str(name);
        } else {
            key.extend(name.nfc());
        }
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use unicode_normalization::UnicodeNormalization;

    proptest::proptest! {
        /// The quick check only skips work: the key is the NFC of the
        /// name, whichever spelling the file system gave.
        #[test]
        fn the_key_is_the_nfc_of_the_path(
            folder in "[a-zđĐ\u{300}-\u{303}\u{323}\u{1ea0}-\u{1ef9} ]{1,12}",
            file in "[a-zêơư][a-zêơư\u{300}-\u{303}\u{309}\u{1ea0}-\u{1ef9}.]{0,11}",
        ) {
            let relative = Path::new(&folder).join(&file);
            let expected: String = format!("{folder}/{file}").nfc().collect();
            proptest::prop_assert_eq!(relative_key(&relative), Some(expected));
        }
    }
}
