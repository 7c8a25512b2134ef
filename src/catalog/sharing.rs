//! One parse of an article body for every rendering of one pass that
//! needs it.
//!
//! A build renders each article three times from its file: its page, its
//! category's archive page and the site's (parsing, Markdown and
//! sanitizing were a third of a cold build's CPU). A pass that knows in
//! advance how often it will read each article ([`ParseSharing::new`])
//! keeps a parsed body until its last use, and orders its work so that
//! those uses come close together (`pipeline::sync_pages_and_archives`):
//! then only the bodies between an article's first and last use are held.
//! A byte budget bounds that however the articles fall into pages (many
//! small categories spread an article's uses apart); past it, bodies are
//! parsed again, as without sharing. What is shared is what
//! [`Catalog::article_with_body`] returns for the same content hash, so
//! sharing never changes output.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};

use crate::article::{Article, ArticleError, Body};
use crate::catalog::{Catalog, Entry, FeedItem};

/// Bodies held for a later use, at most [`ParseSharing::budget`] bytes.
pub struct ParseSharing {
    budget: usize,
    held: Mutex<Held>,
}

#[derive(Default)]
struct Held {
    /// Uses still to come, by article key (the first use included until
    /// it happens).
    uses: HashMap<Arc<str>, u32>,
    bodies: HashMap<Arc<str>, Parsed>,
    bytes: usize,
    peak_bytes: usize,
}

struct Parsed {
    hash: [u8; 16],
    article: Arc<Article>,
    body: Arc<Body>,
    bytes: usize,
}

impl ParseSharing {
    /// Sharing for a pass that reads the articles of `uses` (each as often
    /// as it is there), with at most `budget` bytes of bodies held at once.
    pub fn new<'a>(uses: impl IntoIterator<Item = &'a Entry>, budget: usize) -> ParseSharing {
        let mut counted: HashMap<Arc<str>, u32> = HashMap::new();
        for entry in uses {
            let count = counted.entry(Arc::clone(&entry.key)).or_default();
            *count = count.saturating_add(1);
        }
        ParseSharing {
            budget,
            held: Mutex::new(Held {
                uses: counted,
                ..Held::default()
            }),
        }
    }

    /// No sharing: every read parses (a pass that reads each article once).
    pub fn none() -> ParseSharing {
        ParseSharing::new([], 0)
    }

    /// The most bytes of bodies held at once so far.
    pub fn peak_bytes(&self) -> usize {
        self.lock().peak_bytes
    }

    fn lock(&self) -> MutexGuard<'_, Held> {
        // Nothing is left half-updated by a panic while it is held.
        self.held
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// `entry`'s article and body, as [`Catalog::article_with_body`]: held
    /// from an earlier use, else read (and held if another use is to come).
    pub fn article_with_body(
        &self,
        catalog: &Catalog,
        entry: &Entry,
    ) -> Result<(Arc<Article>, Arc<Body>), ArticleError> {
        {
            let mut held = self.lock();
            if let Some(parsed) = held.bodies.get(&entry.key)
                && parsed.hash == entry.hash
            {
                let found = (Arc::clone(&parsed.article), Arc::clone(&parsed.body));
                held.used(&entry.key);
                return Ok(found);
            }
        }
        // Parsed without the lock, so that the threads of a pass parse at once.
        let (article, body) = catalog.article_with_body(entry)?;
        let mut held = self.lock();
        if held.used(&entry.key) && !held.bodies.contains_key(&entry.key) {
            let bytes = size_of(&article, &body);
            if held.bytes + bytes <= self.budget {
                held.bytes += bytes;
                held.peak_bytes = held.peak_bytes.max(held.bytes);
                held.bodies.insert(
                    Arc::clone(&entry.key),
                    Parsed {
                        hash: entry.hash,
                        article: Arc::clone(&article),
                        body: Arc::clone(&body),
                        bytes,
                    },
                );
            }
        }
        Ok((article, body))
    }

    /// `entries` as feed items, each read as [`ParseSharing::article_with_body`];
    /// as [`Catalog::with_bodies_uncached`] otherwise.
    pub fn items<'a>(
        &self,
        catalog: &Catalog,
        entries: Vec<&'a Entry>,
    ) -> (Vec<FeedItem<'a>>, Vec<ArticleError>) {
        catalog.items_read_by(entries, |catalog, entry| {
            self.article_with_body(catalog, entry)
        })
    }
}

impl Held {
    /// Counts one use of `key`; whether another is still to come. The
    /// body goes after its last use.
    fn used(&mut self, key: &str) -> bool {
        let more = match self.uses.get_mut(key) {
            Some(left) => {
                *left = left.saturating_sub(1);
                *left > 0
            }
            None => false,
        };
        if !more {
            self.uses.remove(key);
            if let Some(parsed) = self.bodies.remove(key) {
                self.bytes -= parsed.bytes;
            }
        }
        more
    }
}

/// About what one parsed article holds on the heap.
fn size_of(article: &Article, body: &Body) -> usize {
    const OVERHEAD: usize = 512;
    OVERHEAD
        + body.content_html.len()
        + body.summary.len()
        + article.title.len()
        + article.id.len()
        + article.link.len()
        + article.path.len()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::state::StateStore;

    #[test]
    fn a_body_is_parsed_once_held_until_its_last_use_and_no_longer() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("articles")).unwrap();
        std::fs::write(
            dir.path().join("articles/a.txt"),
            "Tiêu đề\n\nNội dung bài viết.\n",
        )
        .unwrap();
        let config = Config::parse(
            &dir.path().join("feedd.toml"),
            "[site]\ntitle = \"Tin\"\nbase_url = \"https://news.example.vn\"\n\
             [paths]\narticles = \"articles\"\n",
        )
        .unwrap();
        let mut catalog = Catalog::new(Arc::new(config), StateStore::in_memory());
        catalog.rescan();
        let entry = catalog.entry("a.txt").unwrap();

        let sharing = ParseSharing::new([entry, entry, entry], 1 << 20);
        let (first, _) = sharing.article_with_body(&catalog, entry).unwrap();
        let (second, _) = sharing.article_with_body(&catalog, entry).unwrap();
        assert!(
            Arc::ptr_eq(&first, &second),
            "the second use shares the parse"
        );
        assert!(sharing.lock().bytes > 0, "held for the third use");
        let (third, _) = sharing.article_with_body(&catalog, entry).unwrap();
        assert!(Arc::ptr_eq(&first, &third));
        assert_eq!(sharing.lock().bytes, 0, "let go after the last use");
        assert!(sharing.lock().bodies.is_empty());
        assert!(sharing.peak_bytes() > 0);

        // Past the budget nothing is held: each use parses.
        let tight = ParseSharing::new([entry, entry], 1);
        let (first, _) = tight.article_with_body(&catalog, entry).unwrap();
        let (second, _) = tight.article_with_body(&catalog, entry).unwrap();
        assert!(!Arc::ptr_eq(&first, &second));
        assert_eq!(first, second, "the same article either way");
        assert_eq!(tight.peak_bytes(), 0);
    }
}
