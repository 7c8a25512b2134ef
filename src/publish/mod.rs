//! Publishing: feed bytes -> files in the output directory (atomically) and
//! the in-memory [`Snapshot`] that the HTTP server answers from.
//!
//! This module owns the two-phase publish (serve the new bytes at once, then
//! write and compress them) and the retries of feeds that could not be
//! written; where each document goes is [`crate::output`]'s. Its parts:
//! `representation` (what is served: variants, validators, the snapshot),
//! `compress` (gzip, brotli), `writer` (storing snapshots, and compressing
//! feeds served before their compressed variants exist) and `disk` (atomic writes, the scan of the
//! feeds already on disk). It must not know how feeds are rendered, what an
//! article is, or anything about HTTP beyond the header values it precomputes.

mod compress;
mod disk;
mod representation;
mod writer;

/// Article pages are written with the same atomic write as feeds (`pages`).
pub(crate) use disk::{Durability, output_entries, remove_output_file, write_file};
pub use representation::{
    BodyFile, Documents, FeedLinks, MAX_BODY_FILES, PageVariants, Rendered, SharedSnapshot,
    Snapshot, Variant,
};
pub use writer::CompressServed;

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::PathBuf;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use rayon::prelude::*;

use crate::output::OutputPath;
use representation::{cache_control, header_value, whole_seconds};
use writer::SnapshotWriter;

/// The wait before the first retry of a feed that could not be written, and
/// the most it grows to (doubling after each failed retry): a full disk or a
/// read-only output folder is usually fixed by an operator within minutes,
/// and a retry costs one render and one write attempt per failed feed.
const RETRY_FIRST: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(60);

/// One change to the output: new bytes for a document, or `None` to remove it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Update {
    /// The document.
    pub path: OutputPath,
    /// Its new bytes; `None` removes it.
    pub bytes: Option<Vec<u8>>,
}

impl Update {
    /// New bytes for `path`.
    pub fn write(path: OutputPath, bytes: Vec<u8>) -> Update {
        Update {
            path,
            bytes: Some(bytes),
        }
    }

    /// `path` goes away.
    pub fn remove(path: OutputPath) -> Update {
        Update { path, bytes: None }
    }
}

/// A feed that could not be written, removed or read. `Display` is one line:
/// the file, what went wrong, and what to do.
#[derive(Debug, thiserror::Error)]
pub enum PublishError {
    /// The caller asked to publish a path whose category is not a slug, so
    /// that its file could lie outside the output directory.
    #[error(
        "{path}: not a feed path (expected /rss.xml, /atom.xml, /feed.json or the same under \
         /{{category}}/ with a lowercase slug); this is a bug in feedd, please report it"
    )]
    NotAFeedPath {
        /// The rejected path.
        path: OutputPath,
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
    pub changed: Vec<OutputPath>,
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
    published: BTreeMap<OutputPath, blake3::Hash>,
    /// Counts the documents written, for a progress line.
    progress: Arc<crate::progress::Progress>,
    writer: Arc<SnapshotWriter>,
    /// Feeds that changed twice within one second, by the second of their
    /// Last-Modified: it moves forward once that second is over ([`Publisher::restamp`]).
    restamp: BTreeMap<OutputPath, SystemTime>,
    /// Feeds whose last write or removal failed: the disk (and what is
    /// served) still holds their previous version until a retry succeeds.
    failed: BTreeSet<OutputPath>,
    /// When to retry `failed` ([`Publisher::take_retries`]).
    retry_at: Option<Instant>,
    /// The wait after the next failure.
    retry_backoff: Duration,
    /// What the `Link` header of each feed published from now on says.
    links: FeedLinks,
    /// [`Publisher::start_removing_leftover_temp_files`] at work.
    removing_leftovers: Option<std::thread::JoinHandle<Result<(), PublishError>>>,
}

/// One feed's change in a batch, between the two steps of a publish.
#[derive(Debug)]
enum Step {
    /// New bytes, to be written (and compressed when serving).
    Write {
        path: OutputPath,
        hash: blake3::Hash,
        body: Bytes,
        /// The identity-only version already served (`None` in build mode).
        rendered: Option<Arc<Rendered>>,
        /// What was served before, put back if the write fails.
        previous: Option<Arc<Rendered>>,
    },
    /// The feed goes away.
    Remove {
        path: OutputPath,
        /// What was served before, put back if the removal fails.
        previous: Option<Arc<Rendered>>,
    },
}

/// What a [`Step`]'s disk work came to.
#[derive(Debug)]
enum Applied {
    /// On disk; `full` has every variant (`None` in build mode).
    Written {
        path: OutputPath,
        hash: blake3::Hash,
        full: Option<Arc<Rendered>>,
    },
    /// The file is gone (`existed`: it was there until now).
    Removed { path: OutputPath, existed: bool },
    /// Disk unchanged; `previous` is what matches it.
    Failed {
        path: OutputPath,
        previous: Option<Arc<Rendered>>,
        error: PublishError,
    },
}

/// A publish whose changes are already served (identity variants only) but
/// not yet written to disk nor compressed; from [`Publisher::begin_publish`].
///
/// [`PendingPublish::finish`] completes it. Dropping it completes it too,
/// logging the errors instead of returning them, so that memory and disk
/// never stay apart.
#[must_use = "finish() writes the files and reports the errors"]
#[derive(Debug)]
pub struct PendingPublish<'a> {
    publisher: &'a mut Publisher,
    steps: Vec<Step>,
    last_modified: SystemTime,
    outcome: PublishOutcome,
    started: Instant,
    visible_after: Duration,
}

impl PendingPublish<'_> {
    /// The documents whose new bytes this publish serves already (and
    /// writes in [`PendingPublish::finish`]): what changed for a reader.
    pub fn written(&self) -> impl Iterator<Item = &OutputPath> {
        self.steps.iter().filter_map(|step| match step {
            Step::Write { path, .. } => Some(path),
            Step::Remove { .. } => None,
        })
    }

    /// The second step of [`Publisher::publish`]: writes each changed feed
    /// (temp file in the same folder, mtime set to the Last-Modified already
    /// served, sync, rename) and compresses it, removes removed feeds, then
    /// stores a snapshot with every variant. Feeds are independent files, so
    /// this runs in parallel and costs about as much as the largest feed.
    ///
    /// A feed whose write or removal fails gets its previous version back in
    /// the snapshot (it is still the one on disk) and its error in the
    /// outcome.
    pub fn finish(mut self) -> PublishOutcome {
        self.complete()
    }

    fn complete(&mut self) -> PublishOutcome {
        let steps = std::mem::take(&mut self.steps);
        let mut outcome = std::mem::take(&mut self.outcome);
        if steps.is_empty() {
            return outcome;
        }
        let publisher = &mut *self.publisher;
        let last_modified = self.last_modified;
        let applied: Vec<Applied> = {
            let publisher = &*publisher;
            steps
                .into_par_iter()
                .map(|step| {
                    let applied = publisher.apply(step, last_modified);
                    publisher.progress.feed_written();
                    applied
                })
                .collect()
        };

        let mut feeds = publisher
            .serve_variants
            .then(|| publisher.writer.shared().load().feeds.clone());
        let mut served_changed = false;
        let mut failed_now = false;
        for applied in applied {
            match applied {
                Applied::Written { path, hash, full } => {
                    if let (Some(feeds), Some(full)) = (feeds.as_mut(), full) {
                        feeds.insert(path.url_path().into(), full);
                        served_changed = true;
                    }
                    publisher.published.insert(path.clone(), hash);
                    publisher.failed.remove(&path);
                    outcome.changed.push(path);
                }
                Applied::Removed { path, existed } => {
                    publisher.failed.remove(&path);
                    let was_published = publisher.published.remove(&path).is_some();
                    if existed || was_published {
                        // Only now that every write of the batch is done: a
                        // concurrent write may have been about to fill the
                        // folder.
                        publisher.remove_category_dir_if_empty(&path);
                        outcome.changed.push(path);
                    }
                }
                Applied::Failed {
                    path,
                    previous,
                    error,
                } => {
                    publisher.failed.insert(path.clone());
                    failed_now = true;
                    // The disk still holds the previous version (or nothing):
                    // serve that again rather than bytes that are not there.
                    if let Some(feeds) = feeds.as_mut() {
                        match previous {
                            Some(previous) => feeds.insert(path.url_path().into(), previous),
                            None => feeds.remove(path.url_path().as_str()),
                        };
                        served_changed = true;
                    }
                    outcome.errors.push(error);
                }
            }
        }
        if let Some(feeds) = feeds
            && served_changed
        {
            publisher.store_feeds(feeds);
        }
        if failed_now {
            publisher.retry_at = Some(Instant::now() + publisher.retry_backoff);
            publisher.retry_backoff = (publisher.retry_backoff * 2).min(RETRY_MAX);
        } else if publisher.failed.is_empty() {
            publisher.retry_at = None;
            publisher.retry_backoff = RETRY_FIRST;
        }
        tracing::debug!(
            changed = outcome.changed.len(),
            errors = outcome.errors.len(),
            visible_ms = self.visible_after.as_secs_f64() * 1000.0,
            ms = self.started.elapsed().as_secs_f64() * 1000.0,
            "published"
        );
        outcome
    }
}

impl Drop for PendingPublish<'_> {
    fn drop(&mut self) {
        // Empty after `finish` (or a batch with nothing to do). While a
        // panic unwinds, doing the disk work could panic again and abort;
        // the feeds are left to the next publish, which rewrites them since
        // `published` still has their old hashes.
        if self.steps.is_empty() || thread::panicking() {
            return;
        }
        for error in self.complete().errors {
            tracing::error!("{error}");
        }
    }
}

impl Publisher {
    /// A publisher for `output_dir` (created on first write if missing).
    ///
    /// `serve_variants`: false for one-shot `feedd build` (disk only: no
    /// compression, no snapshot), true for the daemon. `max_age` is the
    /// `Cache-Control` max-age in seconds.
    pub fn new(output_dir: PathBuf, max_age: u32, serve_variants: bool) -> Publisher {
        // Serving reads article pages from where they are written.
        let pages_dir = serve_variants.then(|| Arc::from(output_dir.as_path()));
        Publisher {
            output_dir,
            serve_variants,
            published: BTreeMap::new(),
            progress: Arc::default(),
            writer: Arc::new(SnapshotWriter::new(Snapshot {
                pages_dir,
                ..Snapshot::empty(max_age)
            })),
            restamp: BTreeMap::new(),
            failed: BTreeSet::new(),
            retry_at: None,
            retry_backoff: RETRY_FIRST,
            links: FeedLinks::default(),
            removing_leftovers: None,
        }
    }

    /// Sets the WebSub hubs and base URL that the `Link` header of every
    /// feed loaded or published from now on names. Feeds already served
    /// keep theirs: a change of either also changes every feed's bytes
    /// (they name the hubs and their own URL), so the rebuild that follows
    /// a config reload republishes them all with the new header.
    pub fn set_feed_links(&mut self, links: FeedLinks) {
        self.links = links;
    }

    /// When feeds that could not be written are to be tried again, if any are.
    pub fn retry_due(&self) -> Option<Instant> {
        self.retry_at.filter(|_| !self.failed.is_empty())
    }

    /// Once [`Publisher::retry_due`] has come: the paths of the feeds
    /// that could not be written or removed, for the caller to render and
    /// publish again. Before then, nothing. A retry that fails again waits
    /// twice as long (up to a minute); one that succeeds ends the retries.
    pub fn take_retries(&mut self, now: Instant) -> Vec<OutputPath> {
        match self.retry_at {
            Some(at) if at <= now => {
                self.retry_at = None;
                std::mem::take(&mut self.failed).into_iter().collect()
            }
            _ => Vec::new(),
        }
    }

    /// When [`Publisher::restamp`] has work to do, if ever.
    pub fn restamp_due(&self) -> Option<SystemTime> {
        self.restamp
            .values()
            .min()
            .map(|second| *second + Duration::from_secs(1))
    }

    /// Moves Last-Modified forward to the current second for each feed that
    /// changed a second time within the second its Last-Modified names, once
    /// that second is over (before then it would be later than the response's
    /// Date). HTTP dates have whole seconds, and readers built on libcurl
    /// (newsboat, for one) drop a 200 whose Last-Modified is not later than
    /// that of the copy they hold; without this they would keep the older
    /// version until the feed changed again. The file's mtime moves too, so
    /// disk and memory keep agreeing.
    pub fn restamp(&mut self) -> Vec<PublishError> {
        let now = whole_seconds(SystemTime::now());
        let due: Vec<OutputPath> = self
            .restamp
            .iter()
            .filter(|(_, second)| **second < now)
            .map(|(path, _)| path.clone())
            .collect();
        if due.is_empty() {
            return Vec::new();
        }
        let mut errors = Vec::new();
        let mut feeds = self.writer.shared().load().feeds.clone();
        for path in due {
            self.restamp.remove(&path);
            let url_path = path.url_path();
            let Some(current) = feeds.get(url_path.as_str()) else {
                continue;
            };
            // A failed write put the previous version back: nothing to move.
            if !current.same_second_as_previous || current.last_modified >= now {
                continue;
            }
            let file = self.file_of(&path);
            let stamped = std::fs::File::options()
                .write(true)
                .open(&file)
                .and_then(|file| file.set_modified(now));
            if let Err(error) = stamped {
                errors.push(PublishError::Write { path: file, error });
                continue;
            }
            let mut moved = Rendered::clone(current);
            moved.last_modified = now;
            moved.last_modified_header = header_value(httpdate::fmt_http_date(now));
            moved.same_second_as_previous = false;
            feeds.insert(url_path.into(), Arc::new(moved));
        }
        self.store_feeds(feeds);
        errors
    }

    /// The snapshot the server reads; every publish swaps its contents.
    pub fn snapshot(&self) -> SharedSnapshot {
        Arc::clone(self.writer.shared())
    }

    /// The compression of every feed served without its gzip and brotli
    /// variants (those [`Publisher::load_existing`] loaded), to run on
    /// another thread: until it is done they go out as identity, with the
    /// identity ETag. Stores by the publisher meanwhile are safe: a feed
    /// that changes keeps its new version, and the others get their
    /// compressed variants whenever they are ready.
    pub fn compress_served(&self) -> CompressServed {
        self.writer.compress_served()
    }

    /// Changes `Cache-Control` for future responses (config reload): stores a
    /// new snapshot with the same feeds.
    pub fn set_max_age(&self, max_age: u32) {
        // No race with `publish`: it takes `&mut self`, so load-then-store
        // cannot interleave with another publish, and `writer` serialises
        // it with the compression of loaded feeds.
        let feeds = self.writer.shared().load().feeds.clone();
        self.writer.store(feeds, Some(cache_control(max_age)));
    }

    /// Reads the feeds already in the output directory so they are served at
    /// once at startup, with Last-Modified = the file's modification time.
    /// Returns how many were loaded.
    ///
    /// Only their hash is computed here (a fraction of a millisecond per
    /// feed); compressing the 205 documents of a 100,000-article site takes
    /// most of a second of one core, which startup must not wait for:
    /// [`Publisher::compress_served`].
    ///
    /// Only regular files at feed paths are read (no symlinks, nothing else).
    /// Leftover temporary files of an interrupted write stay until
    /// [`Publisher::remove_leftover_temp_files`], which must come before the
    /// first publish. A feed
    /// file that cannot be read is logged and skipped: it is rewritten by the
    /// next publish. A missing output directory is simply empty.
    pub fn load_existing(&mut self) -> Result<usize, PublishError> {
        let found = disk::scan_output_dir(&self.output_dir)?;
        let serve_variants = self.serve_variants;
        let links = &self.links;
        let loaded: Vec<_> = found
            .par_iter()
            .map(|(output, path)| match disk::read_with_mtime(path) {
                Ok((body, modified, file)) => {
                    let hash = blake3::hash(&body);
                    // A file stamped in the future (copied from another
                    // machine, clock step) must still not claim a
                    // Last-Modified later than the response's Date.
                    let modified = modified.min(SystemTime::now());
                    let rendered = serve_variants.then(|| {
                        let length = body.len();
                        let mut rendered =
                            Rendered::with_hash(output, Bytes::from(body), &hash, modified);
                        rendered.link = links.header(output);
                        rendered.body_file = BodyFile::keep(file, length);
                        Arc::new(rendered)
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
            })
            .collect();

        let mut count = 0;
        let mut feeds = self.writer.shared().load().feeds.clone();
        for ((path, _), result) in found.into_iter().zip(loaded) {
            let Some((hash, rendered)) = result else {
                continue;
            };
            if let Some(rendered) = rendered {
                feeds.insert(path.url_path().into(), rendered);
            }
            self.published.insert(path, hash);
            count += 1;
        }
        if self.serve_variants {
            self.store_feeds(feeds);
        }
        Ok(count)
    }

    /// Deletes the temporary files an interrupted write left anywhere in the
    /// output folder (a listing of every file: `serve` does it once it
    /// answers requests, before it publishes anything).
    pub fn remove_leftover_temp_files(&self) -> Result<(), PublishError> {
        disk::remove_leftover_temp_files(&self.output_dir)
    }

    /// [`Publisher::remove_leftover_temp_files`] on a thread of its own, so
    /// that listing 100,000 pages (a fifth of a second) overlaps the loading
    /// of the state and the catalog cache at startup. Call
    /// [`Publisher::finish_removing_leftover_temp_files`] before anything
    /// is written to the output folder.
    pub fn start_removing_leftover_temp_files(&mut self) -> std::io::Result<()> {
        let output_dir = self.output_dir.clone();
        let removing = std::thread::Builder::new()
            .name("feedd-leftovers".into())
            .spawn(move || disk::remove_leftover_temp_files(&output_dir))?;
        self.removing_leftovers = Some(removing);
        Ok(())
    }

    /// Waits for [`Publisher::start_removing_leftover_temp_files`] to be done.
    pub fn finish_removing_leftover_temp_files(&mut self) -> Result<(), PublishError> {
        match self
            .removing_leftovers
            .take()
            .map(std::thread::JoinHandle::join)
        {
            None => Ok(()),
            Some(Ok(removed)) => removed,
            Some(Err(panic)) => std::panic::resume_unwind(panic),
        }
    }

    /// Every feed currently published (on disk and, when serving, in the
    /// snapshot), sorted.
    pub fn published_paths(&self) -> Vec<OutputPath> {
        self.published.keys().cloned().collect()
    }

    /// Counts the documents written into `progress` from now on.
    pub fn set_progress(&mut self, progress: Arc<crate::progress::Progress>) {
        self.progress = progress;
    }

    /// How many of the published documents are feeds (not pages or OPML).
    pub fn published_feeds(&self) -> usize {
        self.published
            .keys()
            .filter(|path| path.format.is_feed())
            .count()
    }

    /// Applies one batch of updates: [`Publisher::begin_publish`], then
    /// [`PendingPublish::finish`].
    ///
    /// `Some(bytes)`: the feed's new bytes, published only if they differ
    /// from what is published. `None`: the feed file is removed, and its
    /// category folder if now empty. Unchanged feeds keep their `Arc` in the
    /// snapshot.
    ///
    /// Returns the URL paths whose bytes changed or were removed. A failure
    /// on one feed does not stop the others: that feed keeps its old version
    /// (served and on disk) and the error is returned alongside. Blocking
    /// (disk, compression); call it off the async runtime.
    pub fn publish(&mut self, updates: Vec<Update>) -> PublishOutcome {
        self.begin_publish(updates).finish()
    }

    /// The first step of [`Publisher::publish`]: makes the batch visible
    /// over HTTP at once, before any disk or compression work.
    ///
    /// Hashes the new bytes, and (when serving) stores one snapshot in which
    /// every changed feed has its new identity variant, ETag and
    /// Last-Modified (now, in whole seconds) but no compressed variants yet,
    /// and every removed feed is gone. Nothing is written until
    /// [`PendingPublish::finish`]. In build mode (`serve_variants` false)
    /// this only hashes.
    pub fn begin_publish(&mut self, updates: Vec<Update>) -> PendingPublish<'_> {
        let started = Instant::now();
        let mut outcome = PublishOutcome::default();
        // The last update of a path wins, as if the batch were applied in order.
        let mut batch: BTreeMap<OutputPath, Option<Vec<u8>>> = BTreeMap::new();
        for Update { path, bytes } in updates {
            if path.is_well_formed() {
                batch.insert(path, bytes);
            } else {
                outcome.errors.push(PublishError::NotAFeedPath { path });
            }
        }

        // One time for the whole batch, in whole seconds: that is all an
        // HTTP date can say, and the files get exactly this mtime, so the
        // Last-Modified served now is the one a restart or a static server
        // of the output directory will announce.
        let last_modified = whole_seconds(SystemTime::now());
        let mut feeds = self
            .serve_variants
            .then(|| self.writer.shared().load().feeds.clone());
        let mut served_changed = false;
        let mut steps = Vec::new();
        for (path, body) in batch {
            let url_path = path.url_path();
            let Some(body) = body else {
                let previous = feeds
                    .as_mut()
                    .and_then(|feeds| feeds.remove(url_path.as_str()));
                served_changed |= previous.is_some();
                steps.push(Step::Remove { path, previous });
                continue;
            };
            // Hashing is the only per-byte work here: a fraction of a
            // millisecond for a large feed, so it is not worth threads.
            let hash = blake3::hash(&body);
            if self.published.get(&path) == Some(&hash) {
                continue;
            }
            let body = Bytes::from(body);
            let (rendered, previous) = match feeds.as_mut() {
                Some(feeds) => {
                    let mut rendered =
                        Rendered::with_hash(&path, body.clone(), &hash, last_modified);
                    rendered.link = self.links.header(&path);
                    rendered.same_second_as_previous = feeds
                        .get(url_path.as_str())
                        .is_some_and(|previous| previous.last_modified == last_modified);
                    if rendered.same_second_as_previous {
                        self.restamp.insert(path.clone(), last_modified);
                    } else {
                        self.restamp.remove(&path);
                    }
                    let rendered = Arc::new(rendered);
                    let previous = feeds.insert(url_path.into(), Arc::clone(&rendered));
                    served_changed = true;
                    (Some(rendered), previous)
                }
                None => (None, None),
            };
            steps.push(Step::Write {
                path,
                hash,
                body,
                rendered,
                previous,
            });
        }
        if let Some(feeds) = feeds
            && served_changed
        {
            self.store_feeds(feeds);
        }
        PendingPublish {
            publisher: self,
            steps,
            last_modified,
            outcome,
            started,
            visible_after: started.elapsed(),
        }
    }

    fn store_feeds(&self, feeds: Documents) {
        self.writer.store(feeds, None);
    }

    /// The file of a document; `path` must be well-formed (as every path in
    /// a batch is), so the result is inside the output directory.
    fn file_of(&self, path: &OutputPath) -> PathBuf {
        debug_assert!(path.is_well_formed());
        path.file_in(&self.output_dir)
    }

    /// Does one step's disk work (and, for a write when serving, its
    /// compression). Touches neither the snapshot nor `published`, so steps
    /// can run in parallel.
    fn apply(&self, step: Step, last_modified: SystemTime) -> Applied {
        match step {
            Step::Write {
                path,
                hash,
                body,
                rendered,
                previous,
            } => match disk::write_atomically(&self.file_of(&path), &body, last_modified) {
                Ok(file) => Applied::Written {
                    full: rendered.map(|rendered| {
                        let mut full = rendered.compressed();
                        full.body_file = BodyFile::keep(file, body.len());
                        Arc::new(full)
                    }),
                    path,
                    hash,
                },
                Err(error) => Applied::Failed {
                    path,
                    previous,
                    error,
                },
            },
            Step::Remove { path, previous } => {
                let file = self.file_of(&path);
                match std::fs::remove_file(&file) {
                    Ok(()) => Applied::Removed {
                        path,
                        existed: true,
                    },
                    Err(error) if error.kind() == io::ErrorKind::NotFound => Applied::Removed {
                        path,
                        existed: false,
                    },
                    Err(error) => Applied::Failed {
                        path,
                        previous,
                        error: PublishError::Remove { path: file, error },
                    },
                }
            }
        }
    }

    fn remove_category_dir_if_empty(&self, path: &OutputPath) {
        let file = self.file_of(path);
        let Some(dir) = file.parent().filter(|dir| *dir != self.output_dir) else {
            return;
        };
        // Succeeds only if the folder is empty; anything else (another feed,
        // an operator's file) keeps it, which is harmless.
        if let Err(error) = std::fs::remove_dir(dir) {
            tracing::debug!(path = %dir.display(), %error, "category folder kept");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Format, Scope};
    use std::path::Path;

    /// An update of the feed at `url_path`; `None` removes it.
    fn update(url_path: &str, bytes: Option<Vec<u8>>) -> Update {
        let path = OutputPath::parse(url_path).expect("a feed path");
        Update { path, bytes }
    }

    #[test]
    fn a_second_version_in_the_same_second_is_marked() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, true);
        let snapshot = publisher.snapshot();
        publisher.publish(vec![update("/rss.xml", Some(b"<rss>1</rss>".to_vec()))]);
        let first = Arc::clone(&snapshot.load().feeds["/rss.xml"]);
        assert!(!first.same_second_as_previous);
        publisher.publish(vec![update("/rss.xml", Some(b"<rss>2</rss>".to_vec()))]);
        let second = Arc::clone(&snapshot.load().feeds["/rss.xml"]);
        assert_eq!(
            second.same_second_as_previous,
            second.last_modified == first.last_modified
        );
    }

    #[test]
    fn a_second_change_within_one_second_moves_last_modified_once_the_second_is_over() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, true);
        let snapshot = publisher.snapshot();
        let feed = || Arc::clone(&snapshot.load().feeds["/rss.xml"]);
        // Two versions in one second (retried in the rare case they straddle one).
        let mut version = 0;
        let first = loop {
            version += 1;
            publisher.publish(vec![update(
                "/rss.xml",
                Some(format!("<rss>{version}</rss>").into_bytes()),
            )]);
            let first = feed();
            version += 1;
            publisher.publish(vec![update(
                "/rss.xml",
                Some(format!("<rss>{version}</rss>").into_bytes()),
            )]);
            if feed().same_second_as_previous {
                break first;
            }
        };
        assert_eq!(
            publisher.restamp_due(),
            Some(first.last_modified + Duration::from_secs(1))
        );
        let deadline = std::time::Instant::now() + Duration::from_secs(5);
        while feed().last_modified == first.last_modified {
            assert!(publisher.restamp().is_empty());
            assert!(
                std::time::Instant::now() < deadline,
                "Last-Modified never moved"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        let moved = feed();
        assert!(moved.last_modified > first.last_modified);
        assert!(
            moved.last_modified <= SystemTime::now(),
            "never later than Date"
        );
        assert!(!moved.same_second_as_previous);
        assert_ne!(moved.identity.etag, first.identity.etag);
        assert_eq!(
            mtime(&dir.path().join("rss.xml")),
            moved.last_modified,
            "disk agrees"
        );
        assert_eq!(publisher.restamp_due(), None);
    }

    #[test]
    fn publish_writes_once_and_removes_the_empty_category_folder() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, false);
        let outcome = publisher.publish(vec![
            update("/rss.xml", Some(b"<rss>1</rss>".to_vec())),
            update("/the-gioi/atom.xml", Some(b"<feed/>".to_vec())),
        ]);
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        assert_eq!(outcome.changed, ["/rss.xml", "/the-gioi/atom.xml"]);
        assert_eq!(
            std::fs::read(dir.path().join("the-gioi/atom.xml")).unwrap(),
            b"<feed/>"
        );
        // Build mode leaves the snapshot alone.
        assert!(publisher.snapshot().load().feeds.is_empty());

        let again = publisher.publish(vec![update("/rss.xml", Some(b"<rss>1</rss>".to_vec()))]);
        assert!(again.changed.is_empty() && again.errors.is_empty());

        let removed = publisher.publish(vec![
            update("/the-gioi/atom.xml", None),
            update("/never/rss.xml", None),
        ]);
        assert_eq!(removed.changed, ["/the-gioi/atom.xml"]);
        assert!(!dir.path().join("the-gioi").exists());
        assert_eq!(publisher.published_paths(), ["/rss.xml"]);
    }

    #[test]
    fn removing_one_feed_while_adding_its_sibling_keeps_the_folder() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, true);
        publisher.publish(vec![update("/a/rss.xml", Some(b"<rss/>".to_vec()))]);
        let outcome = publisher.publish(vec![
            update("/a/rss.xml", None),
            update("/a/atom.xml", Some(b"<feed/>".to_vec())),
        ]);
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        assert_eq!(outcome.changed, ["/a/rss.xml", "/a/atom.xml"]);
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
            Update::write(
                OutputPath::new(Scope::Category("../escape".into()), Format::Rss),
                b"x".to_vec(),
            ),
            update("/atom.xml", Some(b"<feed/>".to_vec())),
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
    fn a_failed_write_is_retried_with_backoff_until_it_succeeds() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, true);
        publisher.publish(vec![update("/a/rss.xml", Some(b"old".to_vec()))]);
        assert_eq!(publisher.retry_due(), None);
        // A file where the category folder should be: ENOTDIR, even for root.
        std::fs::remove_dir_all(dir.path().join("a")).unwrap();
        std::fs::write(dir.path().join("a"), "not a folder").unwrap();
        let publish_new = |publisher: &mut Publisher| {
            publisher.publish(vec![update("/a/rss.xml", Some(b"new".to_vec()))])
        };
        let failed_at = Instant::now();
        assert_eq!(publish_new(&mut publisher).errors.len(), 1);
        let first = publisher.retry_due().expect("a retry is scheduled");
        assert!(first >= failed_at + RETRY_FIRST);
        assert!(publisher.take_retries(failed_at).is_empty(), "not due yet");
        assert_eq!(publisher.take_retries(first), ["/a/rss.xml"]);
        assert_eq!(publisher.retry_due(), None, "taken");

        // Still broken: the next wait is twice as long.
        let failed_again = Instant::now();
        assert_eq!(publish_new(&mut publisher).errors.len(), 1);
        let second = publisher.retry_due().unwrap();
        assert!(second >= failed_again + 2 * RETRY_FIRST);
        assert_eq!(publisher.take_retries(second), ["/a/rss.xml"]);

        // Fixed: the retry writes it, and no more retries are scheduled.
        std::fs::remove_file(dir.path().join("a")).unwrap();
        let outcome = publish_new(&mut publisher);
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        assert_eq!(std::fs::read(dir.path().join("a/rss.xml")).unwrap(), b"new");
        assert_eq!(publisher.retry_due(), None);
        assert_eq!(publisher.retry_backoff, RETRY_FIRST);
    }

    #[test]
    fn a_failed_write_keeps_the_old_feed_and_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, true);
        publisher.publish(vec![
            update("/a/rss.xml", Some(b"old".to_vec())),
            update("/rss.xml", Some(b"old".to_vec())),
        ]);
        // A folder where the feed file should be makes the rename fail,
        // even for root (which permission bits would not stop).
        let blocker = dir.path().join("a/rss.xml");
        std::fs::remove_file(&blocker).unwrap();
        std::fs::create_dir_all(blocker.join("inside")).unwrap();
        let old = Arc::clone(&publisher.snapshot().load().feeds["/a/rss.xml"]);
        let pending = publisher.begin_publish(vec![
            update("/a/rss.xml", Some(b"new".to_vec())),
            update("/rss.xml", Some(b"new".to_vec())),
        ]);
        assert_eq!(publisher_feeds(&pending)["/a/rss.xml"].identity.body, "new");
        let outcome = pending.finish();
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
        // The very entry served before, compressed variants and all.
        assert!(Arc::ptr_eq(&snapshot.feeds["/a/rss.xml"], &old));
        assert_eq!(snapshot.feeds["/rss.xml"].identity.body, "new");
        // No temporary file is left behind.
        let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("a"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(leftovers, ["rss.xml"]);
    }

    fn mtime(path: &Path) -> SystemTime {
        std::fs::metadata(path).unwrap().modified().unwrap()
    }

    #[test]
    fn begin_publish_serves_identity_at_once_and_finish_writes_and_compresses() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, true);
        let snapshot = publisher.snapshot();
        let file = dir.path().join("a/rss.xml");

        let before = SystemTime::now();
        let pending = publisher.begin_publish(vec![update("/a/rss.xml", Some(b"<rss/>".to_vec()))]);
        let served = Arc::clone(&snapshot.load().feeds["/a/rss.xml"]);
        assert_eq!(served.identity.body, "<rss/>");
        assert!(served.gzip.is_none() && served.br.is_none());
        assert_eq!(served.last_modified, whole_seconds(served.last_modified));
        assert!(whole_seconds(before) <= served.last_modified);
        assert!(served.last_modified <= SystemTime::now());
        assert!(!file.exists(), "written before finish");

        let outcome = pending.finish();
        assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
        assert_eq!(outcome.changed, ["/a/rss.xml"]);
        let full = Arc::clone(&snapshot.load().feeds["/a/rss.xml"]);
        assert!(full.gzip.is_some() && full.br.is_some());
        assert_eq!(full.identity.etag, served.identity.etag);
        assert_eq!(full.last_modified_header, served.last_modified_header);
        assert_eq!(std::fs::read(&file).unwrap(), b"<rss/>");
        // Disk and memory agree exactly, to the nanosecond.
        assert_eq!(mtime(&file), served.last_modified);
        assert_eq!(publisher.published_paths(), ["/a/rss.xml"]);
    }

    #[test]
    fn dropping_a_pending_publish_still_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, true);
        drop(publisher.begin_publish(vec![update("/rss.xml", Some(b"<rss/>".to_vec()))]));
        assert_eq!(
            std::fs::read(dir.path().join("rss.xml")).unwrap(),
            b"<rss/>"
        );
        assert!(publisher.snapshot().load().feeds["/rss.xml"].gzip.is_some());
        assert_eq!(publisher.published_paths(), ["/rss.xml"]);
    }

    #[test]
    fn build_mode_stamps_files_with_whole_seconds() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, false);
        let before = whole_seconds(SystemTime::now());
        publisher.publish(vec![update("/rss.xml", Some(b"<rss/>".to_vec()))]);
        let modified = mtime(&dir.path().join("rss.xml"));
        assert_eq!(modified, whole_seconds(modified));
        assert!(before <= modified && modified <= SystemTime::now());
    }

    #[test]
    fn a_failed_removal_serves_the_feed_again() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, true);
        publisher.publish(vec![update("/a/rss.xml", Some(b"old".to_vec()))]);
        // A folder with something in it cannot be removed as a file, even by root.
        let blocker = dir.path().join("a/rss.xml");
        std::fs::remove_file(&blocker).unwrap();
        std::fs::create_dir_all(blocker.join("inside")).unwrap();

        let pending = publisher.begin_publish(vec![update("/a/rss.xml", None)]);
        assert!(!publisher_feeds(&pending).contains_key("/a/rss.xml"));
        let outcome = pending.finish();
        assert!(outcome.changed.is_empty());
        assert_eq!(outcome.errors.len(), 1);
        let message = outcome.errors[0].to_string();
        assert!(
            message.contains("a/rss.xml: cannot remove feed: "),
            "{message}"
        );
        assert_eq!(
            publisher.snapshot().load().feeds["/a/rss.xml"]
                .identity
                .body,
            "old"
        );
        assert_eq!(publisher.published_paths(), ["/a/rss.xml"]);
    }

    /// The feeds a pending publish has made visible.
    fn publisher_feeds(pending: &PendingPublish<'_>) -> Documents {
        pending.publisher.writer.shared().load().feeds.clone()
    }

    #[test]
    fn a_category_path_that_is_a_file_fails_the_write_and_keeps_the_old_feeds() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, true);
        publisher.publish(vec![update("/rss.xml", Some(b"old".to_vec()))]);
        // A regular file where the category folder should go: creating the
        // folder fails, even for root (which permission bits would not stop).
        std::fs::write(dir.path().join("b"), "not a folder").unwrap();

        let pending = publisher.begin_publish(vec![
            update("/b/rss.xml", Some(b"new".to_vec())),
            update("/rss.xml", Some(b"new".to_vec())),
        ]);
        // Both are served at once, before any disk work...
        let visible = publisher_feeds(&pending);
        assert_eq!(visible["/b/rss.xml"].identity.body, "new");
        assert_eq!(visible["/rss.xml"].identity.body, "new");
        let outcome = pending.finish();
        // ...and the one that could not be written is withdrawn.
        assert_eq!(outcome.changed, ["/rss.xml"]);
        assert_eq!(outcome.errors.len(), 1);
        let message = outcome.errors[0].to_string();
        assert!(message.contains("b: cannot create folder: "), "{message}");
        let snapshot = publisher.snapshot().load_full();
        assert!(!snapshot.feeds.contains_key("/b/rss.xml"));
        assert_eq!(snapshot.feeds["/rss.xml"].identity.body, "new");
        assert_eq!(publisher.published_paths(), ["/rss.xml"]);
        assert_eq!(
            std::fs::read(dir.path().join("b")).unwrap(),
            b"not a folder"
        );
        assert_eq!(std::fs::read(dir.path().join("rss.xml")).unwrap(), b"new");
    }

    #[test]
    fn set_max_age_keeps_the_feeds() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().to_owned(), 300, true);
        publisher.publish(vec![update("/rss.xml", Some(b"<rss/>".to_vec()))]);
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
        publisher.publish(vec![update("/atom.xml", Some(b"<feed/>".to_vec()))]);
        assert_eq!(
            publisher.snapshot().load().cache_control,
            "public, max-age=60"
        );
    }

    #[test]
    fn load_existing_reads_feeds_only_and_leftover_temp_files_are_cleared_apart() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("kinh-te")).unwrap();
        std::fs::create_dir_all(root.join("the-thao")).unwrap();
        std::fs::create_dir_all(root.join("x/y")).unwrap();
        std::fs::write(root.join("rss.xml"), "<rss/>").unwrap();
        std::fs::write(root.join("kinh-te/atom.xml"), "<feed/>").unwrap();
        std::fs::write(root.join("kinh-te/bai-viet.html"), "<p>page</p>").unwrap();
        std::fs::write(root.join("secret.txt"), "no").unwrap();
        std::fs::write(root.join("x/y/rss.xml"), "no").unwrap();
        // A symlink at a feed's name is not followed.
        std::os::unix::fs::symlink(root.join("secret.txt"), root.join("the-thao/rss.xml")).unwrap();
        std::fs::write(root.join(".feedd-abc.tmp"), "half").unwrap();
        std::fs::write(root.join("kinh-te/.feedd-def.tmp"), "half").unwrap();
        let mut publisher = Publisher::new(root.to_owned(), 60, false);
        assert_eq!(publisher.load_existing().unwrap(), 2);
        // Sorted by scope (the site first), then format.
        assert_eq!(
            publisher.published_paths(),
            ["/rss.xml", "/kinh-te/atom.xml"]
        );
        assert!(root.join(".feedd-abc.tmp").exists(), "not looked for yet");
        publisher.remove_leftover_temp_files().unwrap();
        assert!(!root.join(".feedd-abc.tmp").exists());
        assert!(!root.join("kinh-te/.feedd-def.tmp").exists());
        assert!(root.join("kinh-te/bai-viet.html").exists());
        // Known bytes: an identical publish changes nothing, even in build mode.
        let outcome = publisher.publish(vec![update("/rss.xml", Some(b"<rss/>".to_vec()))]);
        assert!(outcome.changed.is_empty());
    }

    /// A publisher serving the feeds a previous one left on disk.
    fn restarted_with(feeds: &[(&str, &str)]) -> (tempfile::TempDir, Publisher) {
        let dir = tempfile::tempdir().unwrap();
        let mut first = Publisher::new(dir.path().to_owned(), 60, false);
        let updates = feeds
            .iter()
            .map(|(path, body)| update(path, Some(body.as_bytes().to_vec())))
            .collect();
        assert!(first.publish(updates).errors.is_empty());
        let mut publisher = Publisher::new(dir.path().to_owned(), 60, true);
        assert_eq!(publisher.load_existing().unwrap(), feeds.len());
        (dir, publisher)
    }

    #[test]
    fn load_existing_serves_identity_at_once_and_compress_served_adds_the_variants() {
        let (_dir, publisher) = restarted_with(&[("/rss.xml", "<rss>a</rss>")]);
        let snapshot = publisher.snapshot();
        let loaded = Arc::clone(&snapshot.load().feeds["/rss.xml"]);
        assert_eq!(loaded.identity.body, "<rss>a</rss>");
        assert!(
            loaded.gzip.is_none() && loaded.br.is_none(),
            "startup must not wait for compression"
        );

        let compress = publisher.compress_served();
        assert_eq!(compress.len(), 1);
        compress.run();
        let full = Arc::clone(&snapshot.load().feeds["/rss.xml"]);
        assert_eq!(full.identity.etag, loaded.identity.etag);
        assert_eq!(full.last_modified, loaded.last_modified);
        let expected = Rendered::new(
            &OutputPath::parse("/rss.xml").unwrap(),
            b"<rss>a</rss>".to_vec(),
            loaded.last_modified,
        );
        for (got, want) in [(&full.gzip, &expected.gzip), (&full.br, &expected.br)] {
            let (got, want) = (got.as_ref().unwrap(), want.as_ref().unwrap());
            assert_eq!(got.etag, want.etag);
            assert_eq!(got.body, want.body);
        }
        assert!(publisher.compress_served().is_empty());
    }

    #[test]
    fn a_feed_changed_before_its_compression_is_ready_keeps_the_new_version() {
        let (_dir, mut publisher) =
            restarted_with(&[("/rss.xml", "<rss>old</rss>"), ("/atom.xml", "<feed/>")]);
        let compress = publisher.compress_served();
        let outcome = publisher.publish(vec![update("/rss.xml", Some(b"<rss>new</rss>".to_vec()))]);
        assert!(outcome.errors.is_empty());
        compress.run();
        let snapshot = publisher.snapshot().load_full();
        let rss = &snapshot.feeds["/rss.xml"];
        assert_eq!(rss.identity.body, "<rss>new</rss>");
        assert_eq!(
            gunzip(&rss.gzip.as_ref().unwrap().body),
            b"<rss>new</rss>",
            "the old bytes' compression must not come back"
        );
        assert!(snapshot.feeds["/atom.xml"].gzip.is_some());
    }

    #[test]
    fn stores_after_the_compression_keep_it() {
        let (_dir, mut publisher) =
            restarted_with(&[("/rss.xml", "<rss/>"), ("/atom.xml", "<feed/>")]);
        publisher.compress_served().run();
        publisher.set_max_age(30);
        let outcome =
            publisher.publish(vec![update("/atom.xml", Some(b"<feed>b</feed>".to_vec()))]);
        assert!(outcome.errors.is_empty());
        let snapshot = publisher.snapshot().load_full();
        assert!(snapshot.feeds["/rss.xml"].gzip.is_some());
        assert_eq!(snapshot.cache_control, "public, max-age=30");
    }

    fn gunzip(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(body), &mut out).unwrap();
        out
    }

    #[test]
    fn load_existing_on_a_missing_output_dir_finds_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let mut publisher = Publisher::new(dir.path().join("absent"), 60, true);
        assert_eq!(publisher.load_existing().unwrap(), 0);
    }
}
