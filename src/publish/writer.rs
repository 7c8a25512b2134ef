//! The one way to replace the served [`Snapshot`], and the compression of
//! feeds that are served before their compressed variants exist.
//!
//! At startup the feeds on disk are served as identity at once; their gzip
//! and brotli bodies are computed on another thread ([`CompressServed`]) while
//! the publisher goes on. Both store snapshots, so both go through
//! [`SnapshotWriter`], which serialises the stores and applies each
//! compressed version to every snapshot stored while the feed is still the
//! identity-only version it was computed from: a newer version of a feed is
//! never replaced by an older one, and a compressed version is never lost to
//! a store built from a map read before it was ready.
//!
//! It must not know the disk, rendering, or HTTP.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use hyper::header::HeaderValue;

use super::representation::{Documents, Rendered, SharedSnapshot, Snapshot};

/// A compressed version of a feed served as identity only.
#[derive(Debug)]
struct Upgrade {
    /// The identity-only version it was computed from.
    from: Arc<Rendered>,
    /// `from` with its gzip and brotli variants.
    to: Arc<Rendered>,
}

/// Stores snapshots for the publisher and for [`CompressServed`].
#[derive(Debug)]
pub(super) struct SnapshotWriter {
    shared: SharedSnapshot,
    /// Held across every store. Upgrades stay until their feed changes or
    /// goes away: the publisher builds a map from a snapshot it read earlier,
    /// which may predate the upgrade, and the upgrade must reach that map too.
    upgrades: Mutex<HashMap<Box<str>, Upgrade>>,
}

impl SnapshotWriter {
    pub(super) fn new(snapshot: Snapshot) -> SnapshotWriter {
        SnapshotWriter {
            shared: Arc::new(arc_swap::ArcSwap::from_pointee(snapshot)),
            upgrades: Mutex::new(HashMap::new()),
        }
    }

    /// What the server reads.
    pub(super) fn shared(&self) -> &SharedSnapshot {
        &self.shared
    }

    /// Serves `feeds` (with the compressed versions ready for any of them)
    /// and, if given, a new `Cache-Control`.
    pub(super) fn store(&self, mut feeds: Documents, cache_control: Option<HeaderValue>) {
        let mut upgrades = self.upgrades.lock().unwrap_or_else(PoisonError::into_inner);
        apply(&mut upgrades, &mut feeds);
        let cache_control =
            cache_control.unwrap_or_else(|| self.shared.load().cache_control.clone());
        let pages_dir = self.shared.load().pages_dir.clone();
        self.shared.store(Arc::new(Snapshot {
            feeds,
            cache_control,
            pages_dir,
        }));
    }

    /// The work of compressing every feed now served without compressed
    /// variants; [`CompressServed::run`] does it.
    pub(super) fn compress_served(self: &Arc<SnapshotWriter>) -> CompressServed {
        let pending = self
            .shared
            .load()
            .feeds
            .iter()
            .filter(|(_, feed)| feed.gzip.is_none() || feed.br.is_none())
            .map(|(path, feed)| (path.clone(), Arc::clone(feed)))
            .collect();
        CompressServed {
            writer: Arc::clone(self),
            pending,
        }
    }
}

/// Replaces in `feeds` each identity-only version that has an upgrade, and
/// forgets the upgrades whose feed has changed or gone.
fn apply(upgrades: &mut HashMap<Box<str>, Upgrade>, feeds: &mut Documents) {
    upgrades.retain(|path, upgrade| match feeds.get_mut(path) {
        Some(served) if Arc::ptr_eq(served, &upgrade.from) => {
            *served = Arc::clone(&upgrade.to);
            true
        }
        Some(served) => Arc::ptr_eq(served, &upgrade.to),
        None => false,
    });
}

/// Feeds served as identity only, to be compressed off the caller's thread;
/// from [`super::Publisher::compress_served`].
#[must_use = "run() computes the compressed variants"]
#[derive(Debug)]
pub struct CompressServed {
    writer: Arc<SnapshotWriter>,
    pending: Vec<(Box<str>, Arc<Rendered>)>,
}

impl CompressServed {
    /// How many feeds are to be compressed.
    pub fn len(&self) -> usize {
        self.pending.len()
    }

    /// Whether there is nothing to compress.
    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Compresses the feeds (CPU-bound, tens of milliseconds per large
    /// feed) and serves each compressed version, unless its feed has changed
    /// meanwhile.
    ///
    /// One after the other on the calling thread, not on rayon's pool: the
    /// startup scan runs there meanwhile, and a pool's threads finish the
    /// tasks they split off before they take another job, so a parallel
    /// compression of a hundred large feeds held the scan back (an edit
    /// made during a 100,000-article restart showed 1.90 s after the start
    /// then, 1.72 s now: the mean of eight alternated starts).
    pub fn run(self) {
        if self.pending.is_empty() {
            return;
        }
        let ready: Vec<(Box<str>, Upgrade)> = self
            .pending
            .into_iter()
            .map(|(path, from)| {
                let to = Arc::new(from.compressed());
                (path, Upgrade { from, to })
            })
            .collect();
        let writer = &self.writer;
        let mut upgrades = writer
            .upgrades
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        upgrades.extend(ready);
        let current = writer.shared.load_full();
        let mut feeds = current.feeds.clone();
        apply(&mut upgrades, &mut feeds);
        writer.shared.store(Arc::new(Snapshot {
            feeds,
            cache_control: current.cache_control.clone(),
            pages_dir: current.pages_dir.clone(),
        }));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn identity(body: &str) -> Arc<Rendered> {
        Arc::new(Rendered::identity_only(
            &crate::output::OutputPath::parse("/rss.xml").unwrap(),
            body.as_bytes().to_vec(),
            UNIX_EPOCH,
        ))
    }

    #[test]
    fn a_map_read_before_the_compression_was_ready_gets_it_when_stored() {
        let writer = Arc::new(SnapshotWriter::new(Snapshot::empty(60)));
        let mut feeds = Documents::default();
        feeds.insert("/rss.xml".into(), identity("<rss/>"));
        writer.store(feeds, None);
        // The publisher reads the map, then the compression lands, then the
        // publisher stores what it built from its (now stale) read.
        let stale = writer.shared().load().feeds.clone();
        writer.compress_served().run();
        assert!(writer.shared().load().feeds["/rss.xml"].gzip.is_some());
        writer.store(stale, None);
        assert!(writer.shared().load().feeds["/rss.xml"].gzip.is_some());
    }

    #[test]
    fn an_upgrade_is_forgotten_once_its_feed_changes() {
        let writer = Arc::new(SnapshotWriter::new(Snapshot::empty(60)));
        let old = identity("<rss>old</rss>");
        let mut feeds = Documents::default();
        feeds.insert("/rss.xml".into(), Arc::clone(&old));
        writer.store(feeds, None);
        writer.compress_served().run();
        let mut changed = Documents::default();
        changed.insert("/rss.xml".into(), identity("<rss>new</rss>"));
        writer.store(changed, None);
        assert!(writer.upgrades.lock().unwrap().is_empty());
        let served = &writer.shared().load().feeds["/rss.xml"];
        assert_eq!(served.identity.body, "<rss>new</rss>");
        assert!(served.gzip.is_none());
    }
}
