//! Every article's metadata, by path and by category, kept in feed order so
//! that applying a change and picking a feed's newest items both cost the
//! same whatever the size of the corpus.
//!
//! Knows nothing of rendering or HTTP; reads article files and the state journal.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use jiff::Timestamp;

use crate::article::{self, Article, ArticleError};
use crate::config::Config;
use crate::state::{StateError, StateStore};

/// Which articles a feed holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Every published article.
    All,
    /// One category, by slug.
    Category(String),
}

impl Scope {
    /// URL path of the RSS feed of this scope.
    pub fn rss_path(&self) -> String {
        match self {
            Scope::All => "/rss.xml".to_string(),
            Scope::Category(slug) => format!("/{slug}/rss.xml"),
        }
    }

    /// URL path of the Atom feed of this scope.
    pub fn atom_path(&self) -> String {
        match self {
            Scope::All => "/atom.xml".to_string(),
            Scope::Category(slug) => format!("/{slug}/atom.xml"),
        }
    }

    /// The scope a feed URL path belongs to, if it is one of ours.
    pub fn of_path(url_path: &str) -> Option<Scope> {
        let rest = url_path.strip_prefix('/')?;
        let dir = rest
            .strip_suffix("rss.xml")
            .or_else(|| rest.strip_suffix("atom.xml"))?;
        match dir {
            "" => Some(Scope::All),
            _ => dir
                .strip_suffix('/')
                .map(|slug| Scope::Category(slug.to_string())),
        }
    }
}

/// An article with the dates it is published under.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The parsed file.
    pub article: Arc<Article>,
    /// Published date: stated, else first seen.
    pub published: Timestamp,
    /// Updated date: stated, else when the content last changed; never before `published`.
    pub updated: Timestamp,
    file_stamp: FileStamp,
}

/// Modification time and size: when both are unchanged, a rescan skips the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileStamp {
    modified: std::time::SystemTime,
    len: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct OrderKey {
    published: Reverse<Timestamp>,
    id: String,
    path: String,
}

#[derive(Debug, Default)]
struct CategoryIndex {
    order: BTreeSet<OrderKey>,
    /// Names the category is written as, with how many articles use each.
    names: BTreeMap<String, usize>,
}

/// What applying changes did.
#[derive(Debug, Default)]
pub struct Changes {
    /// Feeds whose content may have changed.
    pub dirty: BTreeSet<Scope>,
    /// Files that could not be published, each with the reason.
    pub rejected: Vec<ArticleError>,
    /// Files read and parsed.
    pub read: usize,
    /// The state journal could not be written (dates still apply for this run).
    pub state_errors: Vec<StateError>,
    /// A folder could not be read, so the catalog may lack articles that exist.
    pub incomplete: bool,
}

impl Changes {
    fn merge(&mut self, other: Changes) {
        self.dirty.extend(other.dirty);
        self.rejected.extend(other.rejected);
        self.read += other.read;
        self.state_errors.extend(other.state_errors);
        self.incomplete |= other.incomplete;
    }
}

/// Title, description and links of one feed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeedMeta {
    /// Which articles.
    pub scope: Scope,
    /// Channel title.
    pub title: String,
    /// Channel description.
    pub description: String,
    /// The site page the feed stands for.
    pub link: String,
    /// Display name of every category its items are in, by slug, so that
    /// a category is named the same way on every item.
    pub category_names: BTreeMap<String, String>,
}

/// Every article's metadata, indexed for feeds.
#[derive(Debug)]
pub struct Catalog {
    config: Arc<Config>,
    state: StateStore,
    entries: BTreeMap<String, Entry>,
    all: BTreeSet<OrderKey>,
    categories: BTreeMap<String, CategoryIndex>,
}

impl Catalog {
    /// An empty catalog for `config`; call [`Catalog::rescan`] to fill it.
    pub fn new(config: Arc<Config>, state: StateStore) -> Catalog {
        Catalog {
            config,
            state,
            entries: BTreeMap::new(),
            all: BTreeSet::new(),
            categories: BTreeMap::new(),
        }
    }

    /// Gives back the state journal (to carry it over to a catalog with a new config).
    pub fn into_state(self) -> StateStore {
        self.state
    }

    /// The configuration the catalog was built with.
    pub fn config(&self) -> &Arc<Config> {
        &self.config
    }

    /// How many articles are known (drafts and scheduled ones included).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no article is known.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Walks the whole articles folder: new and changed files are read,
    /// vanished ones removed. Unchanged files (same mtime and size) are not re-read.
    pub fn rescan(&mut self) -> Changes {
        let root = self.config.paths.articles.clone();
        self.sync_tree(&root, "")
    }

    /// Applies changed paths (files or folders, present or gone) reported by the watcher.
    pub fn apply(&mut self, paths: &[PathBuf]) -> Changes {
        let root = self.config.paths.articles.clone();
        let mut changes = Changes::default();
        let mut seen = BTreeSet::new();
        for path in paths {
            let Ok(relative) = path.strip_prefix(&root) else {
                continue;
            };
            let Some(relative_key) = relative_key(relative) else {
                continue;
            };
            if !seen.insert(relative_key.clone()) {
                continue;
            }
            if relative_key.is_empty() {
                changes.merge(self.rescan());
                continue;
            }
            match std::fs::metadata(path) {
                Ok(meta) if meta.is_dir() => changes.merge(self.sync_tree(path, &relative_key)),
                Ok(_) if article::is_article_path(relative) => {
                    changes.merge(self.upsert(path, &relative_key, true))
                }
                Ok(_) => {}
                Err(_) => {
                    // Gone: the file itself, or a folder with everything under it.
                    self.remove(&relative_key, &mut changes.dirty);
                    let under = self.keys_under(&relative_key);
                    for key in under {
                        self.remove(&key, &mut changes.dirty);
                    }
                }
            }
        }
        changes
    }

    /// Makes the catalog match the folder `dir` (relative `prefix`, "" for the root).
    fn sync_tree(&mut self, dir: &Path, prefix: &str) -> Changes {
        let mut changes = Changes::default();
        let mut found = BTreeSet::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(folder) = stack.pop() {
            let listing = match std::fs::read_dir(&folder) {
                Ok(listing) => listing,
                Err(error) => {
                    changes.incomplete = true;
                    changes.rejected.push(ArticleError::Whole {
                        path: folder,
                        message: format!(
                            "cannot read this folder: {error}; check that it exists and feedd may read it \
                             (paths.articles in the config)"
                        ),
                    });
                    continue;
                }
            };
            for dirent in listing.flatten() {
                let path = dirent.path();
                let Ok(relative) = path.strip_prefix(&self.config.paths.articles) else {
                    continue;
                };
                let Ok(file_type) = dirent.file_type() else {
                    continue;
                };
                let hidden = dirent.file_name().as_encoded_bytes().starts_with(b".");
                if file_type.is_dir() {
                    if !hidden {
                        stack.push(path);
                    }
                    continue;
                }
                match relative_key(relative) {
                    Some(key) if article::is_article_path(relative) => {
                        changes.merge(self.upsert(&path, &key, false));
                        found.insert(key);
                    }
                    Some(_) => {}
                    // A name from an old archive in another encoding: say so
                    // rather than let the article vanish.
                    None if article::is_article_path(Path::new(&*relative.to_string_lossy())) => {
                        changes.rejected.push(ArticleError::Whole {
                            path,
                            message: "the file or folder name is not valid UTF-8; rename it \
                                      (e.g. `convmv -f cp1258 -t utf8 --notest`)"
                                .into(),
                        });
                    }
                    None => {}
                }
            }
        }
        if changes.incomplete {
            // Part of the tree could not be read: what is missing from `found`
            // may still exist, so nothing is removed on its account.
            return changes;
        }
        let mut stale = self.keys_under(prefix);
        stale.retain(|key| !found.contains(key));
        for key in stale {
            self.remove(&key, &mut changes.dirty);
        }
        changes
    }

    /// Keys of the articles under the folder `prefix` ("" for the root).
    fn keys_under(&self, prefix: &str) -> Vec<String> {
        if prefix.is_empty() {
            return self.entries.keys().cloned().collect();
        }
        let folder = format!("{prefix}/");
        self.entries
            .range(folder.clone()..)
            .map(|(key, _)| key)
            .take_while(|key| key.starts_with(&folder))
            .cloned()
            .collect()
    }

    /// Reads one article file. `force`: re-read even when mtime and size are unchanged
    /// (a watcher event may come within the filesystem's timestamp granularity).
    fn upsert(&mut self, path: &Path, key: &str, force: bool) -> Changes {
        let mut changes = Changes::default();
        // Only regular files (or links to them): reading a FIFO or a device
        // named like an article would block or never end.
        let Some(meta) = std::fs::metadata(path).ok().filter(|m| m.is_file()) else {
            self.remove(key, &mut changes.dirty);
            return changes;
        };
        let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
        let stamp = FileStamp {
            modified,
            len: meta.len(),
        };
        if !force && self.entries.get(key).is_some_and(|e| e.file_stamp == stamp) {
            return changes;
        }
        let bytes = match std::fs::read(path) {
            Ok(bytes) => bytes,
            Err(source) => {
                if source.kind() == std::io::ErrorKind::NotFound {
                    self.remove(key, &mut changes.dirty);
                } else {
                    changes.rejected.push(ArticleError::Read {
                        path: path.to_path_buf(),
                        source,
                    });
                }
                return changes;
            }
        };
        changes.read = 1;
        let relative = Path::new(key);
        let article = match article::parse_article(&self.config, path, relative, &bytes) {
            Ok(article) => article,
            Err(error) => {
                // The last good version, if any, stays published: a typo must not drop an article.
                changes.rejected.push(error);
                return changes;
            }
        };
        // Whole seconds, as the state journal keeps them: a date must not
        // change between the run that first saw the file and the next one.
        let mtime = Timestamp::try_from(modified)
            .and_then(|t| Timestamp::from_second(t.as_second()))
            .unwrap_or(Timestamp::UNIX_EPOCH);
        let hash: [u8; 16] = blake3::hash(&bytes).as_bytes()[..16]
            .try_into()
            .unwrap_or_default();
        let seen = match self.state.observe(key, mtime, hash) {
            Ok(seen) => seen,
            Err(error) => {
                changes.state_errors.push(error);
                self.state.get(key).unwrap_or(crate::state::Seen {
                    first_seen: mtime,
                    changed: mtime,
                    hash,
                })
            }
        };
        let published = article.published.unwrap_or(seen.first_seen);
        let updated = article.updated.unwrap_or(seen.changed).max(published);
        if let Some(old) = self.entries.get_mut(key)
            && *old.article == article
            && old.published == published
            && old.updated == updated
        {
            old.file_stamp = stamp;
            return changes;
        }
        self.remove(key, &mut changes.dirty);
        let entry = Entry {
            article: Arc::new(article),
            published,
            updated,
            file_stamp: stamp,
        };
        self.index(key, &entry, &mut changes.dirty);
        self.entries.insert(key.to_string(), entry);
        changes
    }

    fn order_key(key: &str, entry: &Entry) -> OrderKey {
        OrderKey {
            published: Reverse(entry.published),
            id: entry.article.id.clone(),
            path: key.to_string(),
        }
    }

    fn index(&mut self, key: &str, entry: &Entry, dirty: &mut BTreeSet<Scope>) {
        if entry.article.draft {
            return;
        }
        let order = Self::order_key(key, entry);
        for category in &entry.article.categories {
            let index = self.categories.entry(category.slug.clone()).or_default();
            index.order.insert(order.clone());
            *index.names.entry(category.name.clone()).or_default() += 1;
            dirty.insert(Scope::Category(category.slug.clone()));
        }
        self.all.insert(order);
        dirty.insert(Scope::All);
    }

    fn remove(&mut self, key: &str, dirty: &mut BTreeSet<Scope>) {
        let Some(entry) = self.entries.remove(key) else {
            return;
        };
        if entry.article.draft {
            return;
        }
        let order = Self::order_key(key, &entry);
        for category in &entry.article.categories {
            if let Some(index) = self.categories.get_mut(&category.slug) {
                index.order.remove(&order);
                if let Some(count) = index.names.get_mut(&category.name) {
                    *count -= 1;
                    if *count == 0 {
                        index.names.remove(&category.name);
                    }
                }
                if index.order.is_empty() {
                    self.categories.remove(&category.slug);
                }
            }
            dirty.insert(Scope::Category(category.slug.clone()));
        }
        self.all.remove(&order);
        dirty.insert(Scope::All);
    }

    /// Every scope that has a feed now: all articles, and each category
    /// with at least one article published by `now`.
    pub fn scopes(&self, now: Timestamp) -> Vec<Scope> {
        let mut scopes = vec![Scope::All];
        for (slug, index) in &self.categories {
            if first_due(&index.order, now).is_some() {
                scopes.push(Scope::Category(slug.clone()));
            }
        }
        scopes
    }

    /// The feed of `scope` as of `now`: its metadata and newest items
    /// (newest first, ties by id, at most `feeds.limit`). `None`: the scope
    /// has no feed (a category with nothing published).
    pub fn feed(&self, scope: &Scope, now: Timestamp) -> Option<(FeedMeta, Vec<&Entry>)> {
        let site = &self.config.site;
        let limit = self.config.feeds.limit;
        let (meta, order) = match scope {
            Scope::All => (
                FeedMeta {
                    scope: Scope::All,
                    title: site.title.clone(),
                    description: site.description.clone(),
                    link: format!("{}/", site.base_url),
                    category_names: BTreeMap::new(),
                },
                &self.all,
            ),
            Scope::Category(slug) => {
                let index = self.categories.get(slug)?;
                let configured = self.config.categories.get(slug);
                let title = configured
                    .and_then(|c| c.title.clone())
                    .unwrap_or_else(|| self.category_name(slug).to_string());
                let description = configured
                    .and_then(|c| c.description.clone())
                    .unwrap_or_else(|| title.clone());
                (
                    FeedMeta {
                        scope: scope.clone(),
                        title: format!("{title} – {}", site.title),
                        description,
                        link: format!("{}/{slug}/", site.base_url),
                        category_names: BTreeMap::new(),
                    },
                    &index.order,
                )
            }
        };
        let items: Vec<&Entry> = due(order, now)
            .take(limit)
            .filter_map(|k| self.entries.get(&k.path))
            .collect();
        if items.is_empty() && *scope != Scope::All {
            return None;
        }
        let mut meta = meta;
        for category in items.iter().flat_map(|e| &e.article.categories) {
            if !meta.category_names.contains_key(&category.slug) {
                let name = self.category_name(&category.slug).to_string();
                meta.category_names.insert(category.slug.clone(), name);
            }
        }
        Some((meta, items))
    }

    /// The display name of a category: its configured title, else the name
    /// it is written as (folder or front matter), preferring one that is
    /// not just the slug itself.
    pub fn category_name<'a>(&'a self, slug: &'a str) -> &'a str {
        if let Some(title) = self
            .config
            .categories
            .get(slug)
            .and_then(|c| c.title.as_deref())
        {
            return title;
        }
        let names = self.categories.get(slug).map(|index| &index.names);
        names
            .and_then(|names| {
                names
                    .keys()
                    .find(|name| name.as_str() != slug)
                    .or_else(|| names.keys().next())
            })
            .map_or(slug, String::as_str)
    }

    /// The earliest published date after `now` (a scheduled article), if any.
    pub fn next_scheduled(&self, now: Timestamp) -> Option<Timestamp> {
        self.all
            .range(..boundary(now))
            .next_back()
            .map(|k| k.published.0)
    }

    /// Scopes with an article whose published date falls in `(after, until]`.
    pub fn scopes_due_between(&self, after: Timestamp, until: Timestamp) -> BTreeSet<Scope> {
        let mut scopes = BTreeSet::new();
        for key in self.all.range(boundary(until)..boundary(after)) {
            scopes.insert(Scope::All);
            if let Some(entry) = self.entries.get(&key.path) {
                scopes.extend(
                    entry
                        .article
                        .categories
                        .iter()
                        .map(|c| Scope::Category(c.slug.clone())),
                );
            }
        }
        scopes
    }
}

/// The first key in feed order with a published date not after `now`.
fn boundary(now: Timestamp) -> OrderKey {
    OrderKey {
        published: Reverse(now),
        id: String::new(),
        path: String::new(),
    }
}

fn due(order: &BTreeSet<OrderKey>, now: Timestamp) -> impl Iterator<Item = &OrderKey> {
    order.range(boundary(now)..)
}

fn first_due(order: &BTreeSet<OrderKey>, now: Timestamp) -> Option<&OrderKey> {
    due(order, now).next()
}

/// `/`-separated relative path in NFC, so that NFC and NFD spellings of one
/// file name (macOS, rsync) are one article. `None`: not valid Unicode.
fn relative_key(relative: &Path) -> Option<String> {
    use unicode_normalization::UnicodeNormalization;
    let mut key = String::new();
    for component in relative.components() {
        let std::path::Component::Normal(name) = component else {
            return None;
        };
        if !key.is_empty() {
            key.push('/');
        }
        key.extend(name.to_str()?.nfc());
    }
    Some(key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_paths_round_trip() {
        for scope in [Scope::All, Scope::Category("doi-song".into())] {
            assert_eq!(Scope::of_path(&scope.rss_path()), Some(scope.clone()));
            assert_eq!(Scope::of_path(&scope.atom_path()), Some(scope.clone()));
        }
        assert_eq!(Scope::of_path("/x.xml"), None);
        assert_eq!(Scope::of_path("/arss.xml"), None);
    }
}
