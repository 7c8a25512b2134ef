//! The editor's and operator's commands beside `serve` and `build`: `init`
//! (a new site), `new` (a new article), `explain` (how feedd reads one file)
//! and `check` (with its machine-readable output). Each file holds one
//! command: its arguments (clap) and what it does and prints; `main.rs`
//! only dispatches to them.

pub mod check;
pub mod explain;
pub mod init;
pub mod new;

use std::path::{Path, PathBuf};

/// Creates `files` (path, contents) with `create_new`, so that nothing that
/// exists is overwritten, with their missing folders. All or nothing: when
/// one cannot be created, the files and folders made before it are removed
/// again. `Err`: the path that failed and why.
pub(crate) fn create_all(files: &[(PathBuf, String)]) -> Result<(), (PathBuf, std::io::Error)> {
    let mut created_files: Vec<&Path> = Vec::new();
    let mut created_folders: Vec<PathBuf> = Vec::new();
    let result = (|| {
        for (path, contents) in files {
            if let Some(parent) = path.parent() {
                let mut missing = Vec::new();
                let mut folder = Some(parent);
                while let Some(f) = folder.filter(|f| !f.as_os_str().is_empty() && !f.exists()) {
                    missing.push(f.to_path_buf());
                    folder = f.parent();
                }
                for f in missing.into_iter().rev() {
                    std::fs::create_dir(&f).map_err(|e| (f.clone(), e))?;
                    created_folders.push(f);
                }
            }
            write_new(path, contents).map_err(|e| (path.clone(), e))?;
            created_files.push(path);
        }
        Ok(())
    })();
    if result.is_err() {
        for file in created_files {
            let _ = std::fs::remove_file(file);
        }
        for folder in created_folders.iter().rev() {
            let _ = std::fs::remove_dir(folder);
        }
    }
    result
}

fn write_new(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut file = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(path)?;
    let written = file
        .write_all(contents.as_bytes())
        .and_then(|()| file.sync_all());
    if written.is_err() {
        // Created by this call, so removing it loses nothing of anyone's.
        let _ = std::fs::remove_file(path);
    }
    written
}
