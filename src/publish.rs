//! Publishing: feed bytes -> files in the output directory (atomically) and
//! the in-memory [`Snapshot`] that the HTTP server answers from.
//!
//! This module owns the output directory's layout (it mirrors the URL space),
//! the atomic write, the per-feed validators (ETag, Last-Modified) and the
//! precompressed variants, all computed once per change so that serving a
//! feed is a lookup. It must not know how feeds are rendered, what an article
//! is, or anything about HTTP beyond the header values it precomputes.

use std::collections::{BTreeMap, HashMap};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use bytes::Bytes;
use hyper::header::HeaderValue;

/// Brotli quality for the `br` variant. Measured on a 300 KB RSS feed whose
/// items are the seed article's words shuffled (a stand-in for distinct
/// Vietnamese articles; release build, 2-core Xeon): q4 5 ms / 91 KB,
/// q5 10 ms / 86 KB, q6 13 ms / 85 KB, q9 41 ms / 80 KB, q11 440 ms / 74 KB
/// (gzip -6: 87 KB). 5 is as small as gzip at a cost an edit-to-visible
/// budget of milliseconds can still afford; higher qualities cost far more
/// time than the bytes they save.
const BROTLI_QUALITY: i32 = 5;
/// Brotli window (log2 bytes); 22 (4 MiB) covers any feed in one window.
const BROTLI_LGWIN: i32 = 22;
/// Hex digits of the blake3 hash kept in an ETag: 80 bits, plenty to tell
/// versions of one URL apart, short enough to keep headers small.
const ETAG_HEX_LEN: usize = 20;
/// Prefix and suffix of our temporary files, so that a crash's leftovers are
/// recognisable (and hidden from directory listings and static servers).
const TEMP_PREFIX: &str = ".feedd-";
const TEMP_SUFFIX: &str = ".tmp";

const RSS_CONTENT_TYPE: &str = "application/rss+xml; charset=utf-8";
const ATOM_CONTENT_TYPE: &str = "application/atom+xml; charset=utf-8";

/// One encoding of a feed, ready to send.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The bytes sent on the wire (identity, gzip or br).
    pub body: Bytes,
    /// Strong ETag of this encoding, quoted; each encoding has its own.
    pub etag: HeaderValue,
    /// `Content-Length` of `body`, precomputed so the server does no formatting.
    pub content_length: HeaderValue,
}

impl Variant {
    fn new(body: Bytes, etag: String) -> Variant {
        Variant {
            content_length: HeaderValue::from(body.len()),
            etag: header_value(etag),
            body,
        }
    }
}

/// Everything the server needs to answer for one feed, computed once per change.
#[derive(Debug)]
pub struct Rendered {
    /// The feed's bytes, as written to disk.
    pub identity: Variant,
    /// gzip (default level) of `identity`.
    pub gzip: Variant,
    /// Brotli of `identity`.
    pub br: Variant,
    /// When the feed's bytes last changed, truncated to whole seconds (HTTP
    /// dates have no finer resolution, and `If-Modified-Since` compares them).
    pub last_modified: SystemTime,
    /// `last_modified` as an HTTP date.
    pub last_modified_header: HeaderValue,
    /// `application/rss+xml; charset=utf-8` or `application/atom+xml; charset=utf-8`.
    pub content_type: HeaderValue,
}

impl Rendered {
    /// Builds every variant of a feed: hashes the bytes for the ETags and
    /// compresses them with gzip and brotli. CPU-bound (milliseconds for a
    /// large feed); call it off the async runtime.
    ///
    /// `url_path` only selects the content type: a path ending in `atom.xml`
    /// is Atom, anything else RSS.
    pub fn new(url_path: &str, body: Vec<u8>, last_modified: SystemTime) -> Rendered {
        let hash = blake3::hash(&body);
        Rendered::with_hash(url_path, Bytes::from(body), &hash, last_modified)
    }

    fn with_hash(
        url_path: &str,
        body: Bytes,
        hash: &blake3::Hash,
        last_modified: SystemTime,
    ) -> Rendered {
        let hex = hash.to_hex();
        let tag = &hex[..ETAG_HEX_LEN];
        let last_modified = whole_seconds(last_modified);
        let gzip = Bytes::from(gzip(&body));
        let br = Bytes::from(brotli(&body));
        Rendered {
            identity: Variant::new(body, format!("\"{tag}\"")),
            gzip: Variant::new(gzip, format!("\"{tag}-gzip\"")),
            br: Variant::new(br, format!("\"{tag}-br\"")),
            last_modified,
            last_modified_header: header_value(httpdate::fmt_http_date(last_modified)),
            content_type: HeaderValue::from_static(if url_path.ends_with("atom.xml") {
                ATOM_CONTENT_TYPE
            } else {
                RSS_CONTENT_TYPE
            }),
        }
    }
}

/// What the server answers from: every published feed by URL path, and the
/// response policy. Replaced whole, never mutated, so readers need no lock.
#[derive(Debug)]
pub struct Snapshot {
    /// Feeds by URL path (`/rss.xml`, `/{category}/atom.xml`, ...).
    pub feeds: HashMap<Box<str>, Arc<Rendered>>,
    /// `Cache-Control` of every feed response: `public, max-age=N`.
    pub cache_control: HeaderValue,
}

impl Snapshot {
    /// A snapshot with no feeds and `Cache-Control: public, max-age={max_age}`.
    pub fn empty(max_age: u32) -> Snapshot {
        Snapshot {
            feeds: HashMap::new(),
            cache_control: cache_control(max_age),
        }
    }
}

/// The snapshot shared between the publisher (writer) and the server (readers).
pub type SharedSnapshot = Arc<ArcSwap<Snapshot>>;

/// `Cache-Control: public, max-age={max_age}`.
fn cache_control(max_age: u32) -> HeaderValue {
    header_value(format!("public, max-age={max_age}"))
}

/// Builds a header value from text this module formatted itself (digits,
/// hex, quotes, HTTP dates), which is always visible ASCII.
fn header_value(text: String) -> HeaderValue {
    HeaderValue::try_from(text).expect("feedd formats header values from visible ASCII only")
}

/// True for `/rss.xml`, `/atom.xml`, `/{slug}/rss.xml` and `/{slug}/atom.xml`,
/// where a slug is one or more lowercase ASCII letters, digits and `-`.
///
/// Only these paths are ever written, read back or served, which is what
/// keeps writes inside the output directory and traversal out of the server.
pub fn is_feed_path(url_path: &str) -> bool {
    let Some(rest) = url_path.strip_prefix('/') else {
        return false;
    };
    let (category, file) = match rest.split_once('/') {
        Some((category, file)) => (Some(category), file),
        None => (None, rest),
    };
    matches!(file, "rss.xml" | "atom.xml") && category.is_none_or(is_slug)
}

fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

/// A feed that could not be written, removed or read. `Display` is one line:
/// the file, what went wrong, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The caller asked to publish something that is not a feed URL path.
    #[error(
        "{url_path}: not a feed path (expected /rss.xml, /atom.xml, /{{category}}/rss.xml or \
         /{{category}}/atom.xml with a lowercase slug); this is a bug in feedd, please report it"
    )]
    NotAFeedPath {
        /// The rejected URL path.
        url_path: String,
    },
    /// A folder of the output directory could not be created.
    #[error(
        "{}: cannot create folder: {error}; check that feedd may write to the output directory",
        .path.display()
    )]
    CreateDir {
        /// The folder.
        path: PathBuf,
        /// What the OS said.
        error: io::Error,
    },
    /// A feed file could not be written; the previous version stays published.
    #[error(
        "{}: cannot write feed: {error}; check free space and that feedd may write to the \
         output directory (the previous version is still served)",
        .path.display()
    )]
    Write {
        /// The feed file.
        path: PathBuf,
        /// What the OS said.
        error: io::Error,
    },
    /// A feed file that should no longer exist could not be removed.
    #[error(
        "{}: cannot remove feed: {error}; check that feedd may write to the output directory, \
         or delete the file by hand",
        .path.display()
    )]
    Remove {
        /// The feed file.
        path: PathBuf,
        /// What the OS said.
        error: io::Error,
    },
    /// The output directory (or a category folder in it) could not be read.
    #[error(
        "{}: cannot read: {error}; check that the output directory exists and feedd may read it",
        .path.display()
    )]
    Read {
        /// The folder or file.
        path: PathBuf,
        /// What the OS said.
        error: io::Error,
    },
}

/// The result of [`Publisher::publish`].
#[derive(Debug, Default)]
pub struct PublishOutcome {
    /// URL paths whose bytes changed (written) or that were removed.
    pub changed: Vec<String>,
    /// One error per feed that could not be published; its old version stays.
    pub errors: Vec<PublishError>,
}

/// Writes feeds into the output directory and keeps the served snapshot in
/// step with it.
#[derive(Debug)]
pub struct Publisher {
    output_dir: PathBuf,
    serve_variants: bool,
    /// Hash of every published feed's bytes, so an unchanged feed is detected
    /// without reading its file back (and without keeping every body twice).
    published: BTreeMap<String, blake3::Hash>,
    snapshot: SharedSnapshot,
}

/// What one feed's share of a batch came to.
enum Applied {
    Unchanged,
    Written(blake3::Hash, Option<Arc<Rendered>>),
    Removed,
}

impl Publisher {
    /// A publisher for `output_dir` (created on first write if missing).
    ///
    /// `serve_variants`: false for one-shot `feedd build` (disk only: no
    /// compression, no snapshot), true for the daemon. `max_age` is the
    /// `Cache-Control` max-age in seconds.
    pub fn new(output_dir: PathBuf, max_age: u32, serve_variants: bool) -> Publisher {
        Publisher {
            output_dir,
            serve_variants,
            published: BTreeMap::new(),
            snapshot: Arc::new(ArcSwap::from_pointee(Snapshot::empty(max_age))),
        }
    }

    /// The snapshot the server reads; every publish swaps its contents.
    pub fn snapshot(&self) -> SharedSnapshot {
        Arc::clone(&self.snapshot)
    }

    /// Changes `Cache-Control` for future responses (config reload): stores a
    /// new snapshot with the same feeds.
    pub fn set_max_age(&self, max_age: u32) {
        // No race with `publish`: it takes `&mut self`, so load-then-store
        // cannot interleave with another writer.
        let current = self.snapshot.load();
        self.snapshot.store(Arc::new(Snapshot {
            feeds: current.feeds.clone(),
            cache_control: cache_control(max_age),
        }));
    }

    /// Reads the feeds already in the output directory so they are served at
    /// once at startup, with Last-Modified = the file's modification time.
    /// Returns how many were loaded.
    ///
    /// Only regular files at feed paths are read (no symlinks, nothing else).
    /// Leftover temporary files of an interrupted write are deleted. A feed
    /// file that cannot be read is logged and skipped: it is rewritten by the
    /// next publish. A missing output directory is simply empty.
    pub fn load_existing(&mut self) -> Result<usize, PublishError> {
        let found = self.scan_output_dir()?;
        let serve_variants = self.serve_variants;
        let loaded = parallel_map(&found, |(url_path, path)| {
            let result = std::fs::File::open(path).and_then(|mut file| {
                // The mtime of the very file read, not of whatever the path
                // names a moment later.
                let modified = file.metadata()?.modified()?;
                let mut body = Vec::new();
                io::Read::read_to_end(&mut file, &mut body)?;
                Ok((body, modified))
            });
            match result {
                Ok((body, modified)) => {
                    let hash = blake3::hash(&body);
                    // A file stamped in the future (copied from another
                    // machine, clock step) must still not claim a
                    // Last-Modified later than the response's Date.
                    let modified = modified.min(SystemTime::now());
                    let rendered = serve_variants.then(|| {
                        Arc::new(Rendered::with_hash(
                            url_path,
                            Bytes::from(body),
                            &hash,
                            modified,
                        ))
                    });
                    Some((hash, rendered))
                }
                Err(error) => {
                    tracing::warn!(
                        path = %path.display(),
                        %error,
                        "existing feed not loaded; it will be rewritten"
                    );
                    None
                }
            }
        });

        let mut count = 0;
        let mut feeds = self.snapshot.load().feeds.clone();
        for ((url_path, _), result) in found.into_iter().zip(loaded) {
            let Some((hash, rendered)) = result else {
                continue;
            };
            if let Some(rendered) = rendered {
                feeds.insert(url_path.as_str().into(), rendered);
            }
            self.published.insert(url_path, hash);
            count += 1;
        }
        if self.serve_variants {
            self.store_feeds(feeds);
        }
        Ok(count)
    }

    /// URL paths of every feed currently published (on disk and, when
    /// serving, in the snapshot), sorted.
    pub fn published_paths(&self) -> Vec<String> {
        self.published.keys().cloned().collect()
    }

    /// Applies one batch of updates, then stores one new snapshot.
    ///
    /// `Some(bytes)`: the feed's new bytes, written (temp file in the same
    /// folder, sync, rename) only if they differ from what is published.
    /// `None`: the feed file is removed, and its category folder if now
    /// empty. Unchanged feeds keep their `Arc` in the new snapshot.
    ///
    /// Returns the URL paths whose bytes changed or were removed. A failure
    /// on one feed does not stop the others: that feed keeps its old version
    /// and the error is returned alongside. Blocking (disk, compression);
    /// call it off the async runtime.
    pub fn publish(&mut self, updates: Vec<(String, Option<Vec<u8>>)>) -> PublishOutcome {
        let mut outcome = PublishOutcome::default();
        // The last update of a path wins, as if the batch were applied in order.
        let mut batch: BTreeMap<String, Option<Vec<u8>>> = BTreeMap::new();
        for (url_path, body) in updates {
            if is_feed_path(&url_path) {
                batch.insert(url_path, body);
            } else {
                outcome.errors.push(PublishError::NotAFeedPath { url_path });
            }
        }
        let batch: Vec<(String, Option<Vec<u8>>)> = batch.into_iter().collect();

        // Feeds are independent files: write and compress them in parallel,
        // so a batch costs about as much as its largest feed.
        let results = parallel_map_owned(batch, |(url_path, body)| {
            let applied = match body {
                Some(body) => self.write(&url_path, body),
                None => self.remove(&url_path),
            };
            (url_path, applied)
        });

        let mut feeds = self
            .serve_variants
            .then(|| self.snapshot.load().feeds.clone());
        for (url_path, applied) in results {
            match applied {
                Ok(Applied::Unchanged) => {}
                Ok(Applied::Written(hash, rendered)) => {
                    if let (Some(feeds), Some(rendered)) = (feeds.as_mut(), rendered) {
                        feeds.insert(url_path.as_str().into(), rendered);
                    }
                    self.published.insert(url_path.clone(), hash);
                    outcome.changed.push(url_path);
                }
                Ok(Applied::Removed) => {
                    if let Some(feeds) = feeds.as_mut() {
                        feeds.remove(url_path.as_str());
                    }
                    self.published.remove(&url_path);
                    // Only now that every write of the batch is done: a
                    // concurrent write may have been about to fill the folder.
                    self.remove_category_dir_if_empty(&url_path);
                    outcome.changed.push(url_path);
                }
                Err(error) => outcome.errors.push(error),
            }
        }
        if let Some(feeds) = feeds
            && !outcome.changed.is_empty()
        {
            self.store_feeds(feeds);
        }
        outcome
    }

    fn store_feeds(&self, feeds: HashMap<Box<str>, Arc<Rendered>>) {
        let cache_control = self.snapshot.load().cache_control.clone();
        self.snapshot.store(Arc::new(Snapshot {
            feeds,
            cache_control,
        }));
    }

    /// The file of a feed path; `url_path` must satisfy [`is_feed_path`], so
    /// the result is inside the output directory.
    fn file_of(&self, url_path: &str) -> PathBuf {
        debug_assert!(is_feed_path(url_path));
        self.output_dir.join(url_path.trim_start_matches('/'))
    }

    fn write(&self, url_path: &str, body: Vec<u8>) -> Result<Applied, PublishError> {
        let hash = blake3::hash(&body);
        if self.published.get(url_path) == Some(&hash) {
            return Ok(Applied::Unchanged);
        }
        let path = self.file_of(url_path);
        let modified = write_atomically(&path, &body)?;
        // The file's own mtime, so feedd and a static server of the output
        // directory announce the same Last-Modified. The filesystem clock
        // never runs ahead of the system clock, so this is <= any later Date;
        // `min` only guards against a filesystem that disagrees.
        let last_modified = modified
            .unwrap_or_else(SystemTime::now)
            .min(SystemTime::now());
        let rendered = self.serve_variants.then(|| {
            Arc::new(Rendered::with_hash(
                url_path,
                Bytes::from(body),
                &hash,
                last_modified,
            ))
        });
        Ok(Applied::Written(hash, rendered))
    }

    fn remove(&self, url_path: &str) -> Result<Applied, PublishError> {
        let path = self.file_of(url_path);
        let existed = match std::fs::remove_file(&path) {
            Ok(()) => true,
            Err(error) if error.kind() == io::ErrorKind::NotFound => false,
            Err(error) => return Err(PublishError::Remove { path, error }),
        };
        let was_published = self.published.contains_key(url_path);
        Ok(if existed || was_published {
            Applied::Removed
        } else {
            Applied::Unchanged
        })
    }

    fn remove_category_dir_if_empty(&self, url_path: &str) {
        let path = self.file_of(url_path);
        let Some(dir) = path.parent().filter(|dir| *dir != self.output_dir) else {
            return;
        };
        // Succeeds only if the folder is empty; anything else (another feed,
        // an operator's file) keeps it, which is harmless.
        if let Err(error) = std::fs::remove_dir(dir) {
            tracing::debug!(path = %dir.display(), %error, "category folder kept");
        }
    }

    /// Lists `(url_path, file)` of every regular feed file in the output
    /// directory, deleting leftover temporary files on the way.
    fn scan_output_dir(&self) -> Result<Vec<(String, PathBuf)>, PublishError> {
        let mut found = Vec::new();
        let entries = match std::fs::read_dir(&self.output_dir) {
            Ok(entries) => entries,
            Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(found),
            Err(error) => {
                return Err(PublishError::Read {
                    path: self.output_dir.clone(),
                    error,
                });
            }
        };
        for entry in entries {
            let entry = entry.map_err(|error| PublishError::Read {
                path: self.output_dir.clone(),
                error,
            })?;
            let Ok(file_type) = entry.file_type() else {
                continue;
            };
            let Some(name) = entry.file_name().to_str().map(str::to_owned) else {
                continue; // not UTF-8, so not a feed path
            };
            if file_type.is_file() {
                collect_feed_file(&entry.path(), &format!("/{name}"), &mut found);
            } else if file_type.is_dir() && is_slug(&name) {
                // Symlinked folders are not followed: nothing outside the
                // output directory may end up served.
                let dir = entry.path();
                let inner = std::fs::read_dir(&dir).map_err(|error| PublishError::Read {
                    path: dir.clone(),
                    error,
                })?;
                for inner in inner {
                    let inner = inner.map_err(|error| PublishError::Read {
                        path: dir.clone(),
                        error,
                    })?;
                    let is_file = inner.file_type().is_ok_and(|t| t.is_file());
                    if let (true, Some(file)) = (is_file, inner.file_name().to_str()) {
                        collect_feed_file(&inner.path(), &format!("/{name}/{file}"), &mut found);
                    }
                }
            }
        }
        found.sort();
        Ok(found)
    }
}

/// Adds `path` to `found` if `url_path` is a feed; deletes it if it is one of
/// our temporary files (left by a crash between create and rename).
fn collect_feed_file(path: &Path, url_path: &str, found: &mut Vec<(String, PathBuf)>) {
    if is_feed_path(url_path) {
        found.push((url_path.to_owned(), path.to_owned()));
        return;
    }
    let is_temp = path
        .file_name()
        .and_then(|name| name.to_str())
        .is_some_and(|name| name.starts_with(TEMP_PREFIX) && name.ends_with(TEMP_SUFFIX));
    if is_temp {
        match std::fs::remove_file(path) {
            Ok(()) => tracing::debug!(path = %path.display(), "leftover temporary file removed"),
            Err(error) => tracing::warn!(
                path = %path.display(),
                %error,
                "leftover temporary file could not be removed"
            ),
        }
    }
}

/// Writes `body` to `path` so that readers see either the old file or the
/// new one, never a part: temp file in the same folder (a rename across
/// filesystems would not be atomic), sync, rename. Returns the new file's
/// modification time when the OS reports one.
fn write_atomically(path: &Path, body: &[u8]) -> Result<Option<SystemTime>, PublishError> {
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
    std::fs::create_dir_all(dir).map_err(|error| PublishError::CreateDir {
        path: dir.to_owned(),
        error,
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
    let mut file = builder.tempfile_in(dir).map_err(write_error)?;
    file.write_all(body).map_err(write_error)?;
    // Without the sync, a crash soon after the rename can leave an empty
    // file under the feed's name. The folder itself is not synced: losing
    // the rename in a crash leaves the previous, complete feed, and the
    // next start rebuilds it anyway.
    file.as_file().sync_all().map_err(write_error)?;
    let modified = file.as_file().metadata().and_then(|m| m.modified()).ok();
    file.persist(path).map_err(|e| write_error(e.error))?;
    Ok(modified)
}

/// Truncates to whole seconds since the epoch (times before it become it).
fn whole_seconds(time: SystemTime) -> SystemTime {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    UNIX_EPOCH + Duration::from_secs(secs)
}

fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail.
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .expect("gzip into memory cannot fail")
}

fn brotli(body: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin: BROTLI_LGWIN,
        size_hint: body.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(body.len() / 4);
    // Reading a slice and writing into a Vec cannot fail.
    brotli::BrotliCompress(&mut &body[..], &mut out, &params)
        .expect("brotli into memory cannot fail");
    out
}

/// Maps `f` over `items` on up to one thread per core, keeping the order.
fn parallel_map<T: Sync, R: Send>(items: &[T], f: impl Fn(&T) -> R + Sync) -> Vec<R> {
    run_parallel(items.len(), |index| f(&items[index]))
}

/// Like [`parallel_map`], but hands each item to `f` by value.
fn parallel_map_owned<T: Send, R: Send>(items: Vec<T>, f: impl Fn(T) -> R + Sync) -> Vec<R> {
    let slots: Vec<Mutex<Option<T>>> = items
        .into_iter()
        .map(|item| Mutex::new(Some(item)))
        .collect();
    run_parallel(slots.len(), |index| {
        // Each index is claimed exactly once, so the lock is never contended
        // and the slot is always full; a poisoned lock can only follow a
        // panic in `f`, which `run_parallel` propagates anyway.
        let item = slots[index]
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
            .expect("each slot is taken once");
        f(item)
    })
}

/// Runs `f(0..count)` on the calling thread plus up to one helper per
/// remaining core; workers claim indices through a shared counter, so a slow
/// item does not hold up a fixed share of the others.
fn run_parallel<R: Send>(count: usize, f: impl Fn(usize) -> R + Sync) -> Vec<R> {
    let next = AtomicUsize::new(0);
    let work = || {
        let mut done = Vec::new();
        loop {
            let index = next.fetch_add(1, Ordering::Relaxed);
            if index >= count {
                return done;
            }
            done.push((index, f(index)));
        }
    };
    let helpers = thread::available_parallelism()
        .map_or(1, usize::from)
        .min(count)
        .saturating_sub(1);
    let mut results: Vec<(usize, R)> = thread::scope(|scope| {
        let handles: Vec<_> = (0..helpers)
            .filter_map(|_| {
                // If the OS refuses a thread, the calling thread (and the
                // helpers that did start) still get through every index.
                thread::Builder::new()
                    .name("feedd-publish".into())
                    .spawn_scoped(scope, work)
                    .ok()
            })
            .collect();
        let mut results = work();
        for handle in handles {
            match handle.join() {
                Ok(done) => results.extend(done),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        results
    });
    results.sort_unstable_by_key(|(index, _)| *index);
    results.into_iter().map(|(_, result)| result).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feed_paths_are_the_four_shapes_with_a_slug() {
        for path in [
            "/rss.xml",
            "/atom.xml",
            "/chinh-tri/rss.xml",
            "/doi-song/atom.xml",
            "/2024/rss.xml",
        ] {
            assert!(is_feed_path(path), "{path}");
        }
        for path in [
            "",
            "/",
            "rss.xml",
            "/index.html",
            "/secret.txt",
            "/x/y/rss.xml",
            "/../rss.xml",
            "/./rss.xml",
            "/%2e%2e/rss.xml",
            "/Chinh-tri/rss.xml",
            "/chinh_tri/rss.xml",
            "//rss.xml",
            "/chinh-tri/",
            "/chinh-tri/rss.xml/",
            "/chinh-tri/feed.xml",
            "/đời-sống/rss.xml",
            "/rss.xml?x=1",
        ] {
            assert!(!is_feed_path(path), "{path}");
        }
    }

    #[test]
    fn rendered_has_one_etag_per_encoding_from_the_hash_of_the_bytes() {
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_750);
        let a = Rendered::new("/rss.xml", b"<rss/>".to_vec(), at);
        let b = Rendered::new("/x/rss.xml", b"<rss/>".to_vec(), SystemTime::now());
        assert_eq!(a.identity.etag, b.identity.etag);
        let tag = a
            .identity
            .etag
            .to_str()
            .unwrap()
            .trim_matches('"')
            .to_owned();
        assert_eq!(tag.len(), ETAG_HEX_LEN);
        assert_eq!(a.gzip.etag, format!("\"{tag}-gzip\"").as_str());
        assert_eq!(a.br.etag, format!("\"{tag}-br\"").as_str());
        let c = Rendered::new("/rss.xml", b"<rss></rss>".to_vec(), at);
        assert_ne!(a.identity.etag, c.identity.etag);
        assert_eq!(
            a.last_modified,
            UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );
        assert_eq!(a.last_modified_header, "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(a.content_type, RSS_CONTENT_TYPE);
        assert_eq!(a.identity.content_length, "6");
    }

    #[test]
    fn atom_paths_get_the_atom_content_type() {
        let r = Rendered::new(
            "/chinh-tri/atom.xml",
            b"<feed/>".to_vec(),
            SystemTime::now(),
        );
        assert_eq!(r.content_type, ATOM_CONTENT_TYPE);
    }

    #[test]
    fn compressed_variants_decode_to_the_body() {
        use std::io::Read;
        let body = "<rss>Tin tức mới nhất</rss>".repeat(100).into_bytes();
        let r = Rendered::new("/rss.xml", body.clone(), SystemTime::now());
        let mut gunzipped = Vec::new();
        flate2::read::GzDecoder::new(&r.gzip.body[..])
            .read_to_end(&mut gunzipped)
            .unwrap();
        assert_eq!(gunzipped, body);
        let mut unbrotlied = Vec::new();
        brotli::Decompressor::new(&r.br.body[..], 4096)
            .read_to_end(&mut unbrotlied)
            .unwrap();
        assert_eq!(unbrotlied, body);
        assert!(r.gzip.body.len() < body.len() && r.br.body.len() < body.len());
    }

    #[test]
    fn parallel_map_keeps_order_and_visits_everything_once() {
        let items: Vec<u32> = (0..1000).collect();
        assert_eq!(
            parallel_map(&items, |n| n * 2),
            (0..1000).map(|n| n * 2).collect::<Vec<_>>()
        );
        assert_eq!(
            parallel_map_owned(Vec::<u32>::new(), |n| n),
            Vec::<u32>::new()
        );
        let owned: Vec<String> = (0..50).map(|n| n.to_string()).collect();
        assert_eq!(parallel_map_owned(owned.clone(), |s| s), owned);
    }

    #[test]
    fn publish_writes_once_and_removes_the_empty_category_folder() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, false);
        let outcome = publisher.publish(vec![
            ("/rss.xml".into(), Some(b"<rss>1</rss>".to_vec())),
            ("/the-gioi/atom.xml".into(), Some(b"<feed/>".to_vec())),
        ]);
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        assert_eq!(outcome.changed, ["/rss.xml", "/the-gioi/atom.xml"]);
        assert_eq!(
            std::fs::read(dir.path().join("the-gioi/atom.xml")).unwrap(),
            b"<feed/>"
        );
        // Build mode leaves the snapshot alone.
        assert!(publisher.snapshot().load().feeds.is_empty());

        let again = publisher.publish(vec![("/rss.xml".into(), Some(b"<rss>1</rss>".to_vec()))]);
        assert!(again.changed.is_empty() && again.errors.is_empty());

        let removed = publisher.publish(vec![
            ("/the-gioi/atom.xml".into(), None),
            ("/never/rss.xml".into(), None),
        ]);
        assert_eq!(removed.changed, ["/the-gioi/atom.xml"]);
        assert!(!dir.path().join("the-gioi").exists());
        assert_eq!(publisher.published_paths(), ["/rss.xml"]);
    }

    #[test]
    fn removing_one_feed_while_adding_its_sibling_keeps_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, true);
        publisher.publish(vec![("/a/rss.xml".into(), Some(b"<rss/>".to_vec()))]);
        let outcome = publisher.publish(vec![
            ("/a/rss.xml".into(), None),
            ("/a/atom.xml".into(), Some(b"<feed/>".to_vec())),
        ]);
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        assert_eq!(outcome.changed, ["/a/atom.xml", "/a/rss.xml"]);
        assert!(dir.path().join("a/atom.xml").is_file());
        assert!(!dir.path().join("a/rss.xml").exists());
        assert_eq!(publisher.published_paths(), ["/a/atom.xml"]);
        let snapshot = publisher.snapshot().load_full();
        assert!(snapshot.feeds.contains_key("/a/atom.xml"));
        assert!(!snapshot.feeds.contains_key("/a/rss.xml"));
    }

    #[test]
    fn publish_rejects_paths_that_are_not_feeds_and_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().join("out"), 60, true);
        let outcome = publisher.publish(vec![
            ("/../escape/rss.xml".into(), Some(b"x".to_vec())),
            ("/atom.xml".into(), Some(b"<feed/>".to_vec())),
        ]);
        assert_eq!(outcome.changed, ["/atom.xml"]);
        assert_eq!(outcome.errors.len(), 1);
        let message = outcome.errors[0].to_string();
        assert!(
            message.starts_with("/../escape/rss.xml: not a feed path"),
            "{message}"
        );
        assert!(!dir.path().join("escape").exists());
        assert!(publisher.snapshot().load().feeds.contains_key("/atom.xml"));
    }

    #[test]
    fn a_failed_write_keeps_the_old_feed_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, true);
        publisher.publish(vec![
            ("/a/rss.xml".into(), Some(b"old".to_vec())),
            ("/rss.xml".into(), Some(b"old".to_vec())),
        ]);
        // A folder where the feed file should be makes the rename fail,
        // even for root (which permission bits would not stop).
        let blocker = dir.path().join("a/rss.xml");
        std::fs::remove_file(&blocker).unwrap();
        std::fs::create_dir_all(blocker.join("inside")).unwrap();
        let outcome = publisher.publish(vec![
            ("/a/rss.xml".into(), Some(b"new".to_vec())),
            ("/rss.xml".into(), Some(b"new".to_vec())),
        ]);
        assert_eq!(outcome.changed, ["/rss.xml"]);
        assert_eq!(outcome.errors.len(), 1);
        let message = outcome.errors[0].to_string();
        assert!(
            message.contains("a/rss.xml: cannot write feed: "),
            "{message}"
        );
        assert!(message.contains("; check "), "{message}");
        assert!(!message.contains('\n'));
        let snapshot = publisher.snapshot().load_full();
        assert_eq!(snapshot.feeds["/a/rss.xml"].identity.body, "old");
        assert_eq!(snapshot.feeds["/rss.xml"].identity.body, "new");
        // No temporary file is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["rss.xml"]);
    }

    #[test]
    fn set_max_age_keeps_the_feeds() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 300, true);
        publisher.publish(vec![("/rss.xml".into(), Some(b"<rss/>".to_vec()))]);
        let before = publisher.snapshot().load_full();
        assert_eq!(before.cache_control, "public, max-age=300");
        publisher.set_max_age(60);
        let after = publisher.snapshot().load_full();
        assert_eq!(after.cache_control, "public, max-age=60");
        assert!(Arc::ptr_eq(
            &before.feeds["/rss.xml"],
            &after.feeds["/rss.xml"]
        ));
        // A later publish keeps the new policy.
        publisher.publish(vec![("/atom.xml".into(), Some(b"<feed/>".to_vec()))]);
        assert_eq!(
            publisher.snapshot().load().cache_control,
            "public, max-age=60"
        );
    }

    #[test]
    fn load_existing_reads_feeds_only_and_clears_leftover_temp_files() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("kinh-te")).unwrap();
        std::fs::create_dir_all(root.join("x/y")).unwrap();
        std::fs::write(root.join("rss.xml"), "<rss/>").unwrap();
        std::fs::write(root.join("kinh-te/atom.xml"), "<feed/>").unwrap();
        std::fs::write(root.join("secret.txt"), "no").unwrap();
        std::fs::write(root.join("x/y/rss.xml"), "no").unwrap();
        std::fs::write(root.join(".feedd-abc.tmp"), "half").unwrap();
        let mut publisher = Publisher::new(root.to_owned(), 60, false);
        assert_eq!(publisher.load_existing().unwrap(), 2);
        assert_eq!(
            publisher.published_paths(),
            ["/kinh-te/atom.xml", "/rss.xml"]
        );
        assert!(!root.join(".feedd-abc.tmp").exists());
        // Known bytes: an identical publish changes nothing, even in build mode.
        let outcome = publisher.publish(vec![("/rss.xml".into(), Some(b"<rss/>".to_vec()))]);
        assert!(outcome.changed.is_empty());
    }

    #[test]
    fn load_existing_on_a_missing_output_dir_finds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().join("absent"), 60, true);
        assert_eq!(publisher.load_existing().unwrap(), 0);
    }
}
