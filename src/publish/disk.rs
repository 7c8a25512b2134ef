//! The output directory on disk: atomic writes of feed files, and the scan
//! that finds the feeds already there (clearing a crash's temporary files).
//!
//! It must not know the served snapshot, HTTP, or how feeds are rendered.

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use super::PublishError;
use crate::output::{OutputPath, Scope};

/// Prefix and suffix of our temporary files, so that a crash's leftovers are
/// recognisable (and hidden from directory listings and static servers).
const TEMP_PREFIX: &str = ".feedd-";
const TEMP_SUFFIX: &str = ".tmp";

/// Lists `(document, file)` of every regular file in the output directory
/// that is an [`OutputPath`]. Looks only where documents can be: the
/// folder's top, and in each category folder the names its documents have
/// (listing those folders whole would read every article page's name:
/// 100 ms at 100,000 articles, before the first feed could be served).
pub(super) fn scan_output_dir(
    output_dir: &Path,
) -> Result<Vec<(OutputPath, PathBuf)>, PublishError> {
    let mut found = Vec::new();
    for (name, file_type) in list_dir(output_dir)? {
        if file_type.is_file() {
            if let Some(output) = OutputPath::from_relative_file(Path::new(&name)) {
                found.push((output, output_dir.join(&name)));
            }
        } else if file_type.is_dir() {
            let scope = Scope::Category(name);
            if !scope.is_well_formed() {
                continue;
            }
            for output in OutputPath::all_of(&scope) {
                let path = output_dir.join(output.relative_file());
                // Not followed, as a listing would not: a symlink is no document.
                if std::fs::symlink_metadata(&path).is_ok_and(|meta| meta.is_file()) {
                    found.push((output, path));
                }
            }
        }
    }
    found.sort();
    Ok(found)
}

/// Deletes our temporary files (left by a crash between create and
/// rename) anywhere in the output folder. Before this process writes
/// anything there, or it could delete its own writes in flight.
pub(super) fn remove_leftover_temp_files(output_dir: &Path) -> Result<(), PublishError> {
    for (relative, file_type) in output_entries(output_dir)? {
        let path = output_dir.join(&relative);
        let is_temp = file_type.is_file()
            && path
                .file_name()
                .and_then(|name| name.to_str())
                .is_some_and(|name| name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX));
        if is_temp {
            match std::fs::remove_file(&path) {
                Ok(()) => {
                    tracing::debug!(path = %path.display(), "leftover temporary file removed")
                }
                Err(error) => tracing::warn!(
                    path = %path.display(),
                    %error,
                    "leftover temporary file could not be removed"
                ),
            }
        }
    }
    Ok(())
}

/// The entries of `dir` whose names are UTF-8 (no other can be an output
/// path), with their types; none if it does not exist.
fn list_dir(dir: &Path) -> Result<Vec<(String, std::fs::FileType)>, PublishError> {
    let read_error = |error| PublishError::Read {
        path: dir.to_owned(),
        error,
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(error) => return Err(read_error(error)),
    };
    let mut listed = Vec::new();
    for entry in entries {
        let entry = entry.map_err(read_error)?;
        if let (Ok(file_type), Ok(name)) = (entry.file_type(), entry.file_name().into_string()) {
            listed.push((name, file_type));
        }
    }
    Ok(listed)
}

/// Every entry that can be an output file, relative to the output
/// directory, with its type: those at its top and in its category folders
/// (folders named as a well-formed category slug). Symlinked folders are
/// not followed: nothing outside the output directory may end up served.
/// A folder gone meanwhile has nothing in it.
pub(crate) fn output_entries(
    output_dir: &Path,
) -> Result<Vec<(PathBuf, std::fs::FileType)>, PublishError> {
    let mut found = Vec::new();
    for (name, file_type) in list_dir(output_dir)? {
        if !file_type.is_dir() {
            found.push((PathBuf::from(name), file_type));
        } else if Scope::Category(name.clone()).is_well_formed() {
            for (inner, file_type) in list_dir(&output_dir.join(&name))? {
                if !file_type.is_dir() {
                    found.push((Path::new(&name).join(inner), file_type));
                }
            }
        }
    }
    Ok(found)
}

/// Removes the output file `relative` (`Ok(false)` if it was not there),
/// then its category folder if that leaves it empty, as a category gone
/// from the site takes its folder with its last file.
pub(crate) fn remove_output_file(output_dir: &Path, relative: &Path) -> Result<bool, PublishError> {
    let path = output_dir.join(relative);
    match std::fs::remove_file(&path) {
        Ok(()) => {
            if relative
                .parent()
                .is_some_and(|dir| !dir.as_os_str().is_empty())
                && let Some(dir) = path.parent()
            {
                // Succeeds only if the folder is empty.
                let _ = std::fs::remove_dir(dir);
            }
            Ok(true)
        }
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(error) => Err(PublishError::Remove { path, error }),
    }
}

/// The bytes of a feed file, its modification time (the mtime of the very
/// file read, not of whatever the path names a moment later) and the file,
/// still open.
pub(super) fn read_with_mtime(path: &Path) -> io::Result<(Vec<u8>, SystemTime, std::fs::File)> {
    let mut file = std::fs::File::open(path)?;
    let modified = file.metadata()?.modified()?;
    let mut body = Vec::new();
    io::Read::read_to_end(&mut file, &mut body)?;
    Ok((body, modified, file))
}

/// When a written file reaches the disk.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Durability {
    /// Synced before the rename: a crash soon after can never leave an
    /// empty file under its name. A feed's way.
    SyncEach,
    /// Not synced: the file system writes it back in its own time. One
    /// `fsync` per file costs milliseconds on a real disk, and a `syncfs`
    /// after a batch writes back every page at once, seconds for 10,000
    /// pages; article pages can be rendered again from their articles, so
    /// they are not synced. A reader still never sees part of a file; only
    /// a power loss soon after may leave one empty, which `pages` renders
    /// again at the next start.
    Unsynced,
}

/// Writes `body` to `path` so that readers see either the old file or the
/// new one, never a part: temp file in the same folder (a rename across
/// filesystems would not be atomic), mtime set to `modified`, sync, rename.
///
/// Returns the file written, open for reading: it keeps these bytes even
/// after a later write renames another file over `path`.
pub(crate) fn write_atomically(
    path: &Path,
    body: &[u8],
    modified: SystemTime,
) -> Result<std::fs::File, PublishError> {
    write_file(path, body, Some(modified), Durability::SyncEach)
}

/// [`write_atomically`], syncing as `durability` says; `modified: None`
/// leaves the mtime the write gives (now), one system call less.
pub(crate) fn write_file(
    path: &Path,
    body: &[u8],
    modified: Option<SystemTime>,
    durability: Durability,
) -> Result<std::fs::File, PublishError> {
    let write_error = |error| PublishError::Write {
        path: path.to_owned(),
        error,
    };
    let dir = path.parent().ok_or_else(|| {
        write_error(io::Error::new(
            io::ErrorKind::InvalidInput,
            "feed path has no folder",
        ))
    })?;
    let mut builder = tempfile::Builder::new();
    builder.prefix(TEMP_PREFIX).suffix(TEMP_SUFFIX);
    // tempfile defaults to 0600; a feed must stay readable by a static
    // server running as another user, like any file feedd would create.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        builder.permissions(std::fs::Permissions::from_mode(0o644));
    }
    // The folder nearly always exists: creating it only when the file
    // cannot be saves two system calls per write (a tenth of a cold
    // build's system time with an article page per article). A file where
    // the folder should be is reported by the folder's creation, which
    // names the folder.
    let mut file = match builder.tempfile_in(dir) {
        Err(error)
            if matches!(
                error.kind(),
                io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
            ) =>
        {
            std::fs::create_dir_all(dir).map_err(|error| PublishError::CreateDir {
                path: dir.to_owned(),
                error,
            })?;
            builder.tempfile_in(dir)
        }
        created => created,
    }
    .map_err(write_error)?;
    file.write_all(body).map_err(write_error)?;
    // The mtime is the Last-Modified the snapshot already announces, so that
    // a restart and a static server of the output directory announce it too.
    // Set after the last write (a write would move it), before the sync (so
    // that the sync makes it durable along with the bytes) and before the
    // rename (so that no reader sees the feed with another time).
    if let Some(modified) = modified {
        file.as_file().set_modified(modified).map_err(write_error)?;
    }
    // Without the sync, a crash soon after the rename can leave an empty
    // file under the feed's name. The folder itself is not synced: losing
    // the rename in a crash leaves the previous, complete feed, and the
    // next start rebuilds it anyway.
    if durability == Durability::SyncEach {
        file.as_file().sync_all().map_err(write_error)?;
    }
    file.persist(path).map_err(|e| write_error(e.error))
}
