//! Every article's metadata, by path and by category, kept in feed order so
//! that applying a change and picking a feed's newest items both cost the
//! same whatever the size of the corpus.
//!
//! Knows nothing of rendering or HTTP. `scan` reads the article files,
//! `cache` keeps what the catalog knows across restarts; this file is the
//! index and the rules for keeping it equal to the tree.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard};

use jiff::Timestamp;
use rayon::prelude::*;

use crate::article::{self, Article, ArticleError, ArticleId, Body};
use crate::config::Config;
use crate::file_stamp::StampDigest;
use crate::output::ArticlePage;
pub use crate::output::Scope;
use crate::progress::Progress;
use crate::state::{StateError, StateStore};

mod cache;
mod scan;
mod sharing;

use scan::{
    FileRead, RealFolders, content_hash, is_article_like, is_gone, is_visible, read_capped,
    read_file, relative_key,
};

pub use cache::TEMP_PREFIX as CACHE_TEMP_PREFIX;
pub use sharing::ParseSharing;

/// What the catalog keeps of every article: what feed order and the
/// category indexes need, and no more (title, link, author and body are read
/// again from the file when a feed shows the article). Category names and
/// slugs are interned: thousands of articles share each.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The article's id (ties in feed order are broken by it).
    id: ArticleId,
    /// `(slug, name)` of each category, the primary one first.
    categories: Categories,
    /// The dates the file states, if any (kept for the catalog cache).
    stated: (Option<Timestamp>, Option<Timestamp>),
    /// Not to be published.
    draft: bool,
    /// The slug of the article's page, when its link is its default link
    /// (front matter `link` means no page); the page's folder is the
    /// primary category. Kept so that a removed or edited article's old
    /// page can be removed without reading the file again.
    page: PageSlug,
    /// Published date: stated, else first seen.
    pub published: Timestamp,
    /// Updated date: stated, else when the content last changed; never before `published`.
    pub updated: Timestamp,
    /// The catalog's key (shared with its indexes).
    key: Key,
    /// The content hash of the file the metadata was read from: the body,
    /// read again when a feed shows the article, must be of the same content.
    hash: [u8; 16],
    file_stamp: StampDigest,
    /// The file it was read from (one of the key's spellings).
    source: RawPath,
}

/// A path relative to the articles folder as the file system spells it,
/// ordered by its bytes: the order that decides which of two spellings of
/// one name is the article.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct RawPath(Arc<[u8]>);

impl RawPath {
    fn new(relative: &Path) -> RawPath {
        RawPath::from_bytes(relative.as_os_str().as_encoded_bytes())
    }

    fn from_bytes(bytes: &[u8]) -> RawPath {
        RawPath(Arc::from(bytes))
    }

    fn bytes(&self) -> &[u8] {
        &self.0
    }

    fn path(&self) -> &Path {
        use std::os::unix::ffi::OsStrExt as _;
        Path::new(std::ffi::OsStr::from_bytes(&self.0))
    }

    /// The same path, held in `key`'s allocation when it is spelled as its
    /// key (nearly always: NFC names), so that 100,000 paths are held once.
    fn sharing(self, key: &Key) -> RawPath {
        if self.bytes() == key.as_bytes() {
            RawPath(Arc::<[u8]>::from(key.clone()))
        } else {
            self
        }
    }

    /// `relative`, held as [`RawPath::sharing`] holds it, without
    /// allocating a copy first.
    fn spelled(relative: &Path, key: &Key) -> RawPath {
        if relative.as_os_str().as_encoded_bytes() == key.as_bytes() {
            RawPath(Arc::<[u8]>::from(key.clone()))
        } else {
            RawPath::new(relative)
        }
    }
}

impl Ord for RawPath {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.bytes().cmp(other.bytes())
    }
}

impl PartialOrd for RawPath {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

/// The slug of an article's page, when its link is its default link (front
/// matter `link` means no page). Nearly always the file name's slug, which
/// is then made again from the key rather than held for every article.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PageSlug {
    None,
    OfFileName,
    Stated(Box<str>),
}

/// `(slug, name)` of each category of an article, the primary one first;
/// interned, as most articles share their list with thousands of others.
type Categories = Arc<[(Arc<str>, Arc<str>)]>;

/// An article's key: its path under the articles folder, `/`-separated, in
/// NFC. Shared by every index that names the article.
type Key = Arc<str>;

/// The raw spellings of one key, in byte order: nearly always one, kept
/// inline (a vector's allocation for every article cost 6 MB at 100,000).
#[derive(Debug, Default)]
enum Spellings {
    #[default]
    None,
    One(RawPath),
    /// Two or more, sorted: names that differ in Unicode normalization alone.
    Many(Vec<RawPath>),
}

impl Spellings {
    fn insert(&mut self, raw: RawPath) {
        match std::mem::take(self) {
            Spellings::None => *self = Spellings::One(raw),
            Spellings::One(one) if one == raw => *self = Spellings::One(one),
            Spellings::One(one) => {
                let mut both = vec![one, raw];
                both.sort();
                *self = Spellings::Many(both);
            }
            Spellings::Many(mut many) => {
                if let Err(at) = many.binary_search(&raw) {
                    many.insert(at, raw);
                }
                *self = Spellings::Many(many);
            }
        }
    }

    fn remove(&mut self, raw: &RawPath) {
        match std::mem::take(self) {
            Spellings::One(one) if &one == raw => {}
            Spellings::Many(mut many) => {
                if let Ok(at) = many.binary_search(raw) {
                    many.remove(at);
                }
                *self = match many.len() {
                    0 => Spellings::None,
                    1 => Spellings::One(many.remove(0)),
                    _ => Spellings::Many(many),
                };
            }
            other => *self = other,
        }
    }

    fn first(&self) -> Option<&RawPath> {
        self.iter().next()
    }

    fn is_empty(&self) -> bool {
        matches!(self, Spellings::None)
    }

    fn iter(&self) -> std::slice::Iter<'_, RawPath> {
        match self {
            Spellings::None => [].iter(),
            Spellings::One(one) => std::slice::from_ref(one).iter(),
            Spellings::Many(many) => many.iter(),
        }
    }
}

/// What an entry of the articles tree is to the catalog.
enum Found {
    /// A real folder, to walk.
    Folder,
    /// An article file, with its key.
    Article(Key),
    /// Nothing to publish (ignored, or reported as rejected).
    Nothing,
}

/// What reading an article file came to.
#[derive(Debug, PartialEq, Eq)]
enum Read {
    /// The file is no longer a regular file there.
    Gone,
    /// Published, unchanged, or rejected (the last good version kept).
    Kept,
}

/// The message for a symbolic link under the articles folder.
const SYMLINK_MESSAGE: &str = "is a symbolic link; feedd does not follow symbolic links under \
     paths.articles (only the articles folder itself may be one), so nothing behind it is published; \
     move or copy the file or folder here instead of linking it";

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct OrderKey {
    published: Reverse<Timestamp>,
    id: ArticleId,
    path: Key,
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
    /// Articles (by key) read anew or added: their pages need rendering.
    pub touched: BTreeSet<Arc<str>>,
    /// Pages of articles removed or changed: each goes unless an article
    /// still has it ([`Catalog::page_owners`]).
    pub pages_gone: BTreeSet<ArticlePage>,
    /// The oldest published date an article was added at or removed from
    /// (an edit does both), or the beginning of time when the name a
    /// category shows changed: archive pages of only older articles are
    /// as they were ([`Catalog::archives`]).
    pub oldest_change: Option<Timestamp>,
}

impl Changes {
    fn merge(&mut self, other: Changes) {
        self.dirty.extend(other.dirty);
        self.rejected.extend(other.rejected);
        self.read += other.read;
        self.state_errors.extend(other.state_errors);
        self.incomplete |= other.incomplete;
        self.touched.extend(other.touched);
        self.pages_gone.extend(other.pages_gone);
        self.oldest_change = earliest(self.oldest_change, other.oldest_change);
    }
}

/// Archive pages of one scope ([`Catalog::archives_changed_since`]).
#[derive(Debug, Default)]
pub struct ArchivePages<'a> {
    /// How many archive pages the scope has.
    pub count: usize,
    /// Each page asked for: its index (0 for page 1), what it shows and its articles.
    pub pages: Vec<(usize, FeedMeta, Vec<&'a Entry>)>,
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
    /// Where the document stands in the scope's history (RFC 5005): the
    /// main feed, or one of its archive pages, and how many there are.
    pub history: crate::history::History,
}

/// An article a feed shows, with its body.
#[derive(Debug, Clone)]
pub struct FeedItem<'a> {
    /// Its dates and place in the catalog.
    pub entry: &'a Entry,
    /// The parsed file.
    pub article: Arc<Article>,
    /// What the item shows of its text.
    pub body: Arc<Body>,
}

/// Every article's metadata, indexed for feeds.
#[derive(Debug)]
pub struct Catalog {
    config: Arc<Config>,
    state: StateStore,
    entries: BTreeMap<Key, Entry>,
    /// Every article file found, by raw relative path, with its key.
    files: BTreeMap<RawPath, Key>,
    /// The raw spellings of each key: more than one only when names differ
    /// in Unicode normalization alone.
    spellings: BTreeMap<Key, Spellings>,
    all: BTreeSet<OrderKey>,
    /// By the interned slug that the articles' entries share.
    categories: BTreeMap<Arc<str>, CategoryIndex>,
    /// Bodies of the articles feeds show, by key, with the content hash
    /// they were read at: an edit of one article re-reads only its own.
    bodies: Mutex<BodyCache>,
    /// Category slugs and names, one allocation each however many articles name them.
    interned: std::collections::HashSet<Arc<str>>,
    /// Lists of categories, one allocation each however many articles have them.
    interned_lists: std::collections::HashSet<Categories>,
    /// Articles indexed and pages of articles removed since the last
    /// [`Changes`] was handed out (see its fields of the same names).
    touched: BTreeSet<Key>,
    pages_gone: BTreeSet<ArticlePage>,
    oldest_change: Option<Timestamp>,
    /// Categories whose set of spellings changed: the name they show may
    /// have, and every page of their articles shows it.
    renamed: BTreeSet<String>,
    /// Files found and read, for a progress line (relaxed atomics: the
    /// parallel reads bump them without a lock).
    progress: Arc<Progress>,
}

/// `read`, counted into `progress` if it parsed the file (good or rejected).
fn counted(progress: &Progress, read: FileRead) -> FileRead {
    if matches!(read, FileRead::Parsed { .. } | FileRead::Failed(_)) {
        progress.article_parsed();
    }
    read
}

/// Articles and bodies of what the feeds show, by key, with the content
/// hash each was read at.
type BodyCache = HashMap<Key, ([u8; 16], Arc<Article>, Arc<Body>)>;

impl Entry {
    /// The article's key: its path under the articles folder, in NFC.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// The file it was read from, under the articles folder, as the file
    /// system spells it.
    pub fn source(&self) -> &Path {
        self.source.path()
    }

    /// Whether it is a draft (not published).
    pub fn is_draft(&self) -> bool {
        self.draft
    }

    /// The slug of each of its categories, the primary one first.
    pub fn category_slugs(&self) -> impl Iterator<Item = &str> {
        self.categories.iter().map(|(slug, _)| &**slug)
    }

    /// The hash of the content its metadata was read from: what an
    /// unchanged article keeps.
    pub fn content_hash(&self) -> &[u8; 16] {
        &self.hash
    }

    /// The article's id.
    pub fn id(&self) -> &ArticleId {
        &self.id
    }
}

/// Where an article stands in a feed's order (`feedd explain`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeedPlace {
    /// 1 for the newest; the feed shows the first `feeds.limit`.
    pub position: usize,
    /// How many of the scope's articles are published now.
    pub published: usize,
}

/// The catalog's key for the file at `relative` under the articles folder
/// (NFC, `/`-separated); `None` for a name that is not valid Unicode.
pub fn article_key(relative: &Path) -> Option<String> {
    relative_key(relative)
}

/// The bytes of the article file at `path` as a scan reads them: capped
/// at `feeds.max_article_bytes`, never through a symbolic link. `Ok(None)`:
/// not a regular file there.
pub fn read_article_file(config: &Config, path: &Path) -> Result<Option<Vec<u8>>, ArticleError> {
    read_capped(config, path).map(|read| read.map(|(bytes, _)| bytes))
}

impl Catalog {
    /// An empty catalog for `config`; call [`Catalog::rescan`] to fill it.
    pub fn new(config: Arc<Config>, state: StateStore) -> Catalog {
        Catalog {
            config,
            state,
            entries: BTreeMap::new(),
            files: BTreeMap::new(),
            spellings: BTreeMap::new(),
            all: BTreeSet::new(),
            categories: BTreeMap::new(),
            bodies: Mutex::new(HashMap::new()),
            interned: std::collections::HashSet::new(),
            interned_lists: std::collections::HashSet::new(),
            touched: BTreeSet::new(),
            pages_gone: BTreeSet::new(),
            oldest_change: None,
            renamed: BTreeSet::new(),
            progress: Arc::default(),
        }
    }

    /// Takes in what the catalog cache in `paths.state` knows (see the
    /// `cache` module), so that the next [`Catalog::rescan`] re-reads only
    /// files whose stamp changed. Returns how many articles it knew, or why
    /// it was not used (then the rescan reads every file, as without it).
    /// An entry whose content the state journal does not know is left out.
    /// For a new catalog only: one that knows files already takes nothing.
    pub fn load_cache(&mut self) -> Result<usize, String> {
        if !self.files.is_empty() || !self.entries.is_empty() {
            return Err("the catalog knows files already".to_string());
        }
        let cache =
            cache::load(&self.config.paths.state, &self.config).map_err(
                |unusable| match unusable {
                    cache::Unusable::Missing => "there is none".to_string(),
                    cache::Unusable::Stale => {
                        "written for another config or version of feedd".to_string()
                    }
                    cache::Unusable::Damaged(what) => format!("damaged ({what})"),
                },
            )?;
        // The catalog is new and the records come in key order, each with
        // a key of its own (checked): the indexes are built from sorted runs at once,
        // as `compact` rebuilds them, rather than by an insert per record and
        // index, which compared paths sharing their folder's long prefix a
        // dozen times each (most of a 100,000-article restart's cache load).
        let mut entries = Vec::new();
        let mut files = Vec::new();
        let mut spellings = Vec::new();
        let mut all = Vec::new();
        let mut by_category: HashMap<Arc<str>, Vec<OrderKey>> = HashMap::new();
        let mut previous: Option<Key> = None;
        for record in cache.records() {
            // A record out of key order, or a key's second one, is not one
            // `save_cache` wrote: left out, its file is read by the rescan
            // like any the cache does not know.
            if previous
                .as_deref()
                .is_some_and(|key| key >= record.key.as_str())
            {
                continue;
            }
            let key = self.key_for(&record.key);
            previous = Some(key.clone());
            let Some(seen) = self.state.get(&key).filter(|seen| seen.hash == record.hash) else {
                continue;
            };
            let raw = RawPath::spelled(Path::new(&record.raw), &key);
            let categories = self.intern_categories(
                record
                    .categories
                    .iter()
                    .map(|(slug, name)| (slug.as_str(), name.as_str())),
            );
            let (published, updated) = dates(record.stated, seen);
            let entry = Entry {
                id: ArticleId::new(&record.id),
                categories,
                stated: record.stated,
                draft: record.draft,
                page: record.page,
                published,
                updated,
                key: key.clone(),
                hash: record.hash,
                file_stamp: record.stamp,
                source: raw.clone(),
            };
            if !entry.draft {
                let order = Self::order_key(&entry);
                for (slug, name) in entry.categories.iter() {
                    by_category
                        .entry(slug.clone())
                        .or_default()
                        .push(order.clone());
                    self.count_name(slug, name);
                }
                all.push(order);
            }
            files.push((raw.clone(), key.clone()));
            spellings.push((key.clone(), Spellings::One(raw)));
            entries.push((key, entry));
        }
        let loaded = entries.len();
        self.entries.append(&mut entries.into_iter().collect());
        self.files.append(&mut files.into_iter().collect());
        self.spellings.append(&mut spellings.into_iter().collect());
        self.all.append(&mut all.into_iter().collect());
        for (slug, orders) in by_category {
            let index = self.category_index(&slug);
            index.order.append(&mut orders.into_iter().collect());
        }
        // Pages of cached articles are on disk already (a missing one is
        // found by `pages::sync`); only what is read anew is rendered.
        self.touched.clear();
        self.renamed.clear();
        self.oldest_change = None;
        Ok(loaded)
    }

    /// Writes what the catalog knows to the catalog cache in `paths.state`.
    pub fn save_cache(&self) -> std::io::Result<()> {
        let records = self.entries.values().filter_map(|entry| {
            Some(cache::Record {
                raw: std::str::from_utf8(entry.source.bytes()).ok()?.to_string(),
                key: entry.key.to_string(),
                stamp: entry.file_stamp,
                hash: entry.hash,
                id: entry.id.to_string(),
                stated: entry.stated,
                draft: entry.draft,
                page: entry.page.clone(),
                categories: entry
                    .categories
                    .iter()
                    .map(|(slug, name)| (slug.to_string(), name.to_string()))
                    .collect(),
            })
        });
        cache::save(&self.config.paths.state, &self.config, records)
    }

    fn intern(&mut self, text: &str) -> Arc<str> {
        if let Some(shared) = self.interned.get(text) {
            return shared.clone();
        }
        let shared: Arc<str> = Arc::from(text);
        self.interned.insert(shared.clone());
        shared
    }

    fn intern_categories<'a>(
        &mut self,
        list: impl Iterator<Item = (&'a str, &'a str)>,
    ) -> Categories {
        let list: Vec<_> = list
            .map(|(slug, name)| (self.intern(slug), self.intern(name)))
            .collect();
        if let Some(shared) = self.interned_lists.get(list.as_slice()) {
            return shared.clone();
        }
        let shared: Categories = Arc::from(list);
        self.interned_lists.insert(shared.clone());
        shared
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
    /// vanished ones removed. Unchanged files (same stamp) are not re-read.
    ///
    /// The articles folder itself may be a symbolic link (the OS resolves it
    /// at each walk); nothing under it is followed.
    pub fn rescan(&mut self) -> Changes {
        let root = self.config.paths.articles.clone();
        let mut changes = self.sync_tree(&root, None);
        self.flush_state(&mut changes);
        self.compact();
        changes
    }

    /// Rebuilds the indexes with full nodes. A B-tree filled in key order,
    /// as a scan fills it, keeps its nodes a little over half full: at
    /// 100,000 articles that wasted about 30 MB. Rebuilt from sorted
    /// entries, every node is full; later edits split only the nodes they
    /// touch. Costs a few milliseconds per 100,000 articles, so it is worth
    /// doing after a whole tree was read, not after each edit.
    fn compact(&mut self) {
        self.entries = std::mem::take(&mut self.entries).into_iter().collect();
        self.files = std::mem::take(&mut self.files).into_iter().collect();
        self.spellings = std::mem::take(&mut self.spellings).into_iter().collect();
        self.all = std::mem::take(&mut self.all).into_iter().collect();
        for index in self.categories.values_mut() {
            index.order = std::mem::take(&mut index.order).into_iter().collect();
        }
    }

    /// Writes what this batch recorded to the state journal.
    fn flush_state(&mut self, changes: &mut Changes) {
        changes.touched.extend(std::mem::take(&mut self.touched));
        changes
            .pages_gone
            .extend(std::mem::take(&mut self.pages_gone));
        changes.oldest_change = earliest(changes.oldest_change, self.oldest_change.take());
        for slug in std::mem::take(&mut self.renamed) {
            if let Some(index) = self.categories.get(slug.as_str()) {
                changes
                    .touched
                    .extend(index.order.iter().map(|order| order.path.clone()));
            }
        }
        if let Err(error) = self.state.flush() {
            changes.state_errors.push(error);
        }
    }

    /// Applies changed paths (files or folders, present or gone) reported by
    /// the watcher. Each path is classified exactly as [`Catalog::rescan`]
    /// would classify it, so that the incremental path and a full build agree.
    pub fn apply(&mut self, paths: &[PathBuf]) -> Changes {
        let mut changes = self.apply_unflushed(paths);
        self.flush_state(&mut changes);
        changes
    }

    fn apply_unflushed(&mut self, paths: &[PathBuf]) -> Changes {
        let root = self.config.paths.articles.clone();
        let mut changes = Changes::default();
        if !std::fs::metadata(&root).is_ok_and(|meta| meta.is_dir()) {
            // The whole folder is gone (or being deleted): as with `build`,
            // nothing is removed until it is back and rescanned.
            changes.incomplete = true;
            return changes;
        }
        // Component order puts a folder just before everything under it, so
        // that what a walk of the folder covered is not read again.
        let mut relatives: Vec<&Path> = paths
            .iter()
            .filter_map(|path| path.strip_prefix(&root).ok())
            .collect();
        relatives.sort_unstable();
        relatives.dedup();
        if relatives.first().is_some_and(|r| r.as_os_str().is_empty()) {
            return self.sync_tree(&root, None);
        }
        let mut folders = RealFolders::default();
        let mut walked: Option<PathBuf> = None;
        for relative in relatives {
            if walked
                .as_ref()
                .is_some_and(|folder| relative.starts_with(folder))
            {
                continue;
            }
            if !is_visible(relative) {
                // The full scan never enters hidden folders or reads hidden
                // files, so nothing at or under such a path is an article.
                continue;
            }
            let path = &root.join(relative);
            let raw = RawPath::new(relative);
            // An intermediate symbolic link would be followed by the OS:
            // what lies behind one is, for the full scan, not there.
            let looked = folders.reachable(&root, relative).and_then(|reachable| {
                if !reachable {
                    return Ok(None);
                }
                match std::fs::symlink_metadata(path) {
                    Ok(meta) => Ok(Some(meta.file_type())),
                    Err(error) if is_gone(&error) => Ok(None),
                    Err(error) => Err(error),
                }
            });
            let file_type = match looked {
                Ok(file_type) => file_type,
                Err(source) => {
                    // In a folder feedd may not search: unknown, not gone.
                    changes.incomplete = true;
                    changes.rejected.push(ArticleError::Read {
                        path: path.clone(),
                        source,
                    });
                    continue;
                }
            };
            let found = match file_type {
                Some(file_type) => self.classify(path, relative, file_type, &mut changes),
                None => Found::Nothing,
            };
            let mut touched = BTreeSet::new();
            if !matches!(found, Found::Folder) {
                // A folder that became a file, a symlink, or nothing.
                self.forget_under(&raw, &mut touched);
            }
            match found {
                Found::Folder => {
                    self.forget(&raw, &mut touched);
                    self.settle_all(touched, None, &mut changes);
                    changes.merge(self.sync_tree(path, Some(&raw)));
                    walked = Some(raw.path().to_path_buf());
                }
                Found::Article(key) => {
                    self.found(raw.clone(), key.clone(), &mut touched);
                    touched.insert(key);
                    self.settle_all(touched, Some(&raw), &mut changes);
                }
                Found::Nothing => {
                    self.forget(&raw, &mut touched);
                    self.settle_all(touched, None, &mut changes);
                }
            }
        }
        changes
    }

    /// Makes the catalog match the folder `dir`, whose path relative to the
    /// articles folder is `prefix` (`None`: the articles folder itself).
    fn sync_tree(&mut self, dir: &Path, prefix: Option<&RawPath>) -> Changes {
        let mut changes = Changes::default();
        let found = self.walk(dir, &mut changes);
        let mut touched = BTreeSet::new();
        let found_raw: BTreeSet<&RawPath> = found.iter().map(|(raw, _)| raw).collect();
        // When part of the tree could not be read, what is missing from
        // `found` may still exist, so nothing is removed on its account.
        if !changes.incomplete {
            let stale: Vec<RawPath> = match prefix {
                None => self.files.keys().cloned().collect(),
                Some(prefix) => self.raw_under(prefix),
            };
            for raw in stale {
                if !found_raw.contains(&raw) {
                    self.forget(&raw, &mut touched);
                }
            }
        }
        for (raw, key) in found {
            self.found(raw, key.clone(), &mut touched);
            touched.insert(key);
        }
        self.settle_all(touched, None, &mut changes);
        changes
    }

    /// Every article file under `dir` (a real folder), with its key. Hidden
    /// entries are skipped, symbolic links are reported and never followed.
    fn walk(&self, dir: &Path, changes: &mut Changes) -> Vec<(RawPath, Key)> {
        let root = &self.config.paths.articles;
        let mut found = Vec::new();
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
            for dirent in listing {
                // An entry that cannot be listed may be an article.
                let Ok(dirent) = dirent else {
                    changes.incomplete = true;
                    continue;
                };
                if dirent.file_name().as_encoded_bytes().starts_with(b".") {
                    continue;
                }
                let path = dirent.path();
                let Ok(relative) = path.strip_prefix(root) else {
                    continue;
                };
                // `file_type` does not follow symbolic links.
                let Ok(file_type) = dirent.file_type() else {
                    changes.incomplete = true;
                    continue;
                };
                match self.classify(&path, relative, file_type, changes) {
                    Found::Folder => stack.push(path),
                    Found::Article(key) => {
                        self.progress.file_scanned();
                        found.push((RawPath::spelled(relative, &key), key));
                    }
                    Found::Nothing => {}
                }
            }
        }
        found
    }

    /// The key of the article at `relative`, sharing the allocation the
    /// indexes or the state journal already hold for it, if any.
    fn key_for(&self, relative: &str) -> Key {
        self.entries
            .get_key_value(relative)
            .map(|(key, _)| key.clone())
            .or_else(|| self.state.shared_key(relative))
            .unwrap_or_else(|| Key::from(relative))
    }

    /// What the entry at `path` is for the catalog, reporting what cannot be
    /// published. `file_type` is the entry's own (never a link's target).
    fn classify(
        &self,
        path: &Path,
        relative: &Path,
        file_type: std::fs::FileType,
        changes: &mut Changes,
    ) -> Found {
        let article_like = is_article_like(relative);
        let reject = |changes: &mut Changes, message: &str| {
            changes.rejected.push(ArticleError::Whole {
                path: path.to_path_buf(),
                message: message.to_string(),
            });
        };
        if file_type.is_dir() {
            return Found::Folder;
        }
        if file_type.is_symlink() {
            // Only the link is inspected here, for the message; its target is never read.
            let points_at_a_folder = match std::fs::metadata(path) {
                Ok(meta) => meta.is_dir(),
                // A loop (or a target feedd may not see) rather than a dangling link.
                Err(error) => error.kind() != std::io::ErrorKind::NotFound,
            };
            if article_like || points_at_a_folder {
                reject(changes, SYMLINK_MESSAGE);
            }
            return Found::Nothing;
        }
        if !article_like {
            return Found::Nothing;
        }
        if !file_type.is_file() {
            reject(
                changes,
                "is not a regular file (a FIFO, socket or device); feedd reads only regular files; \
                 replace it with a file or rename it",
            );
            return Found::Nothing;
        }
        match relative_key(relative) {
            Some(key) => Found::Article(self.key_for(&key)),
            // A name from an old archive in another encoding: say so rather
            // than let the article vanish.
            None => {
                reject(
                    changes,
                    "the file or folder name is not valid UTF-8; rename it \
                     (e.g. `convmv -f cp1258 -t utf8 --notest`)",
                );
                Found::Nothing
            }
        }
    }

    /// Records the article file `raw` under `key`.
    fn found(&mut self, raw: RawPath, key: Key, touched: &mut BTreeSet<Key>) {
        let raw = raw.sharing(&key);
        // Known already (every file of a rescan): keep the key the indexes
        // share rather than hold a second copy of it here.
        if self.files.get(&raw) == Some(&key) {
            return;
        }
        if let Some(old) = self.files.insert(raw.clone(), key.clone()) {
            if old == key {
                return;
            }
            self.unspell(&old, &raw);
            touched.insert(old);
        }
        self.spellings.entry(key).or_default().insert(raw);
    }

    /// Forgets the article file `raw`, if known.
    fn forget(&mut self, raw: &RawPath, touched: &mut BTreeSet<Key>) {
        if let Some(key) = self.files.remove(raw) {
            self.unspell(&key, raw);
            touched.insert(key);
        }
    }

    /// Forgets every article file under the folder `raw`.
    fn forget_under(&mut self, raw: &RawPath, touched: &mut BTreeSet<Key>) {
        for under in self.raw_under(raw) {
            self.forget(&under, touched);
        }
    }

    fn unspell(&mut self, key: &str, raw: &RawPath) {
        if let Some(spellings) = self.spellings.get_mut(key) {
            spellings.remove(raw);
            if spellings.is_empty() {
                self.spellings.remove(key);
            }
        }
    }

    /// Known article files under the folder `raw`.
    fn raw_under(&self, raw: &RawPath) -> Vec<RawPath> {
        let mut folder = raw.bytes().to_vec();
        folder.push(b'/');
        self.files
            .range(RawPath::from_bytes(&folder)..)
            .map(|(under, _)| under)
            .take_while(|under| under.bytes().starts_with(&folder))
            .cloned()
            .collect()
    }

    fn settle_all(
        &mut self,
        keys: BTreeSet<Key>,
        changed: Option<&RawPath>,
        changes: &mut Changes,
    ) {
        // One file is read in place; a batch is worth spreading over the
        // cores, a chunk at a time so that what is read but not yet taken
        // in stays small.
        const CHUNK: usize = 4096;
        let keys: Vec<Key> = keys.into_iter().collect();
        for chunk in keys.chunks(CHUNK) {
            let mut prefetched = if chunk.len() > 1 {
                self.prefetch(chunk)
            } else {
                HashMap::new()
            };
            for key in chunk {
                self.settle(key, changed, &mut prefetched, changes);
            }
        }
    }

    /// Publishes the article `key` from its file: the spelling whose raw
    /// name sorts first when NFC and NFD spellings name one article (the
    /// others are rejected), nothing when no file is left. `changed`: a file
    /// the watcher reported, re-read even if its stamp looks unchanged.
    fn settle(
        &mut self,
        key: &Key,
        changed: Option<&RawPath>,
        prefetched: &mut HashMap<RawPath, FileRead>,
        changes: &mut Changes,
    ) {
        let winner = loop {
            let Some(winner) = self
                .spellings
                .get(key)
                .and_then(|spellings| spellings.first())
                .cloned()
            else {
                self.remove(key, &mut changes.dirty);
                return;
            };
            let other_source = self
                .entries
                .get(key)
                .is_some_and(|entry| entry.source != winner);
            if other_source {
                // The file it was read from no longer names this article.
                self.remove(key, &mut changes.dirty);
            }
            let force = changed == Some(&winner);
            if self.upsert(&winner, key, force, prefetched, changes) == Read::Gone {
                let mut touched = BTreeSet::new();
                self.forget(&winner, &mut touched);
                continue;
            }
            break winner;
        };
        let root = &self.config.paths.articles;
        let winner_path = root.join(winner.path());
        for loser in self
            .spellings
            .get(key)
            .into_iter()
            .flat_map(Spellings::iter)
            .skip(1)
        {
            changes.rejected.push(ArticleError::Whole {
                path: root.join(loser.path()),
                message: format!(
                    "names the same article as {} (the names differ only in Unicode normalization); \
                     rename or delete one",
                    winner_path.display()
                ),
            });
        }
    }

    /// Counts what scans and page writes do into `progress` from now on.
    pub fn set_progress(&mut self, progress: Arc<Progress>) {
        self.progress = progress;
    }

    /// What scans and page writes have done (see [`Catalog::set_progress`]).
    pub fn progress(&self) -> &Progress {
        &self.progress
    }

    /// Reads the article file `raw` (key `key`) and publishes it. `force`:
    /// re-read even when its stamp is unchanged. `prefetched`: files already
    /// read (in parallel) for this batch.
    fn upsert(
        &mut self,
        raw: &RawPath,
        key: &Key,
        force: bool,
        prefetched: &mut HashMap<RawPath, FileRead>,
        changes: &mut Changes,
    ) -> Read {
        let read = match prefetched.remove(raw) {
            Some(read) => read,
            None => counted(
                &self.progress,
                read_file(&self.config, raw, key, self.known_stamp(raw, key, force)),
            ),
        };
        self.take_in(raw, key, read, changes)
    }

    /// The stamp under which `raw` was last read for `key`, if a read now
    /// may be skipped when the file still has it.
    fn known_stamp(&self, raw: &RawPath, key: &str, force: bool) -> Option<StampDigest> {
        if force {
            return None;
        }
        self.entries
            .get(key)
            .filter(|entry| entry.source == *raw)
            .map(|entry| entry.file_stamp)
    }

    /// Reads, in parallel, the winning file of each of `keys` that has to be
    /// read, so that [`Catalog::upsert`] finds them read.
    fn prefetch(&self, keys: &[Key]) -> HashMap<RawPath, FileRead> {
        let work: Vec<(&RawPath, &str, Option<StampDigest>)> = keys
            .iter()
            .filter_map(|key| {
                let winner = self.spellings.get(key)?.first()?;
                Some((winner, &**key, self.known_stamp(winner, key, false)))
            })
            .collect();
        let config = &self.config;
        let progress = &self.progress;
        work.into_par_iter()
            .map(|(raw, key, known)| {
                let read = counted(progress, read_file(config, raw, key, known));
                (raw.clone(), read)
            })
            .collect()
    }

    /// Publishes what reading the article file `raw` gave.
    fn take_in(&mut self, raw: &RawPath, key: &Key, read: FileRead, changes: &mut Changes) -> Read {
        let (stamp, mtime, hash, article) = match read {
            FileRead::Gone => return Read::Gone,
            FileRead::Unchanged => return Read::Kept,
            FileRead::Failed(error) => {
                // The last good version, if any, stays published: a typo must not drop an article.
                changes.rejected.push(error);
                return Read::Kept;
            }
            FileRead::Parsed {
                stamp,
                mtime,
                hash,
                article,
            } => (stamp, mtime, hash, article),
        };
        changes.read += 1;
        let seen = self.state.observe(key, mtime, hash);
        let stated = (article.published, article.updated);
        let (published, updated) = dates(stated, seen);
        // The same content read from the same file under the same config is
        // the same article.
        if let Some(old) = self.entries.get_mut(key)
            && old.hash == hash
            && old.source == *raw
            && old.published == published
            && old.updated == updated
        {
            old.file_stamp = stamp;
            return Read::Kept;
        }
        self.remove(key, &mut changes.dirty);
        let categories = self.intern_categories(
            article
                .categories
                .iter()
                .map(|category| (category.slug.as_str(), category.name.as_str())),
        );
        let page = page_slug(&self.config, &article, key);
        let entry = Entry {
            id: ArticleId::new(&article.id),
            categories,
            stated,
            draft: article.draft,
            page,
            published,
            updated,
            key: key.clone(),
            hash,
            file_stamp: stamp,
            source: raw.clone(),
        };
        self.index(&entry, &mut changes.dirty);
        self.entries.insert(key.clone(), entry);
        Read::Kept
    }

    fn order_key(entry: &Entry) -> OrderKey {
        OrderKey {
            published: Reverse(entry.published),
            id: entry.id.clone(),
            path: entry.key.clone(),
        }
    }

    fn index(&mut self, entry: &Entry, dirty: &mut BTreeSet<Scope>) {
        if entry.draft {
            return;
        }
        if entry.page != PageSlug::None {
            self.touched.insert(entry.key.clone());
        }
        let order = Self::order_key(entry);
        let mut change = entry.published;
        for (slug, name) in entry.categories.iter() {
            self.category_index(slug).order.insert(order.clone());
            if self.count_name(slug, name) {
                // A new spelling may become the name the category shows.
                change = Timestamp::MIN;
                self.renamed.insert(slug.to_string());
            }
            dirty.insert(Scope::Category(slug.to_string()));
        }
        self.oldest_change = earliest(self.oldest_change, Some(change));
        self.all.insert(order);
        dirty.insert(Scope::All);
    }

    /// The index of the category `slug` (interned), made empty if there is none.
    fn category_index(&mut self, slug: &Arc<str>) -> &mut CategoryIndex {
        self.categories.entry(Arc::clone(slug)).or_default()
    }

    /// Counts one more article writing the category `slug` as `name`;
    /// whether it is the first that does.
    fn count_name(&mut self, slug: &Arc<str>, name: &str) -> bool {
        let names = &mut self.category_index(slug).names;
        if let Some(uses) = names.get_mut(name) {
            *uses += 1;
            return false;
        }
        names.insert(name.to_string(), 1);
        true
    }

    fn remove(&mut self, key: &str, dirty: &mut BTreeSet<Scope>) {
        let Some(entry) = self.entries.remove(key) else {
            return;
        };
        if let Some(page) = page_of(&entry) {
            self.pages_gone.insert(page);
        }
        if entry.draft {
            return;
        }
        let order = Self::order_key(&entry);
        let mut change = entry.published;
        for (slug, name) in entry.categories.iter() {
            if let Some(index) = self.categories.get_mut(&**slug) {
                index.order.remove(&order);
                if let Some(count) = index.names.get_mut(&**name) {
                    *count -= 1;
                    if *count == 0 {
                        index.names.remove(&**name);
                        change = Timestamp::MIN;
                        self.renamed.insert(slug.to_string());
                    }
                }
                if index.order.is_empty() {
                    self.categories.remove(&**slug);
                }
            }
            dirty.insert(Scope::Category(slug.to_string()));
        }
        self.all.remove(&order);
        dirty.insert(Scope::All);
        self.oldest_change = earliest(self.oldest_change, Some(change));
    }

    /// Every scope that has a feed now: all articles, and each category
    /// with at least one article published by `now`.
    pub fn scopes(&self, now: Timestamp) -> Vec<Scope> {
        let mut scopes = vec![Scope::All];
        for (slug, index) in &self.categories {
            if first_due(&index.order, now).is_some() {
                scopes.push(Scope::Category(slug.to_string()));
            }
        }
        scopes
    }

    /// The feed of `scope` as of `now`: its metadata and newest items
    /// (newest first, ties by id, at most `feeds.limit`). `None`: the scope
    /// has no feed (a category with nothing published).
    pub fn feed(&self, scope: &Scope, now: Timestamp) -> Option<(FeedMeta, Vec<&Entry>)> {
        let limit = self.config.feeds.limit;
        let (meta, order) = self.meta_and_order(scope)?;
        let mut ids = HashSet::new();
        let items: Vec<&Entry> = due(order, now)
            .filter_map(|k| self.entries.get(&k.path))
            // A second article with an id already shown would make the feed
            // invalid (and readers merge the two): the newer one stands,
            // and `Catalog::conflicts` reports the other.
            .filter(|entry| ids.insert(&entry.id))
            .take(limit)
            .collect();
        if items.is_empty() && *scope != Scope::All {
            return None;
        }
        let mut meta = self.named(meta, &items);
        let archives = crate::history::archive_count(due_count(order, now), limit);
        meta.history = crate::history::History::main(archives);
        Some((meta, items))
    }

    /// `meta` with the display name of every category `items` are in.
    fn named(&self, mut meta: FeedMeta, items: &[&Entry]) -> FeedMeta {
        for (slug, _) in items.iter().flat_map(|e| e.categories.iter()) {
            if !meta.category_names.contains_key(&**slug) {
                let name = self.category_name(slug).to_string();
                meta.category_names.insert(slug.to_string(), name);
            }
        }
        meta
    }

    /// The archive pages of `scope`'s feeds as of `now` (RFC 5005), oldest
    /// first: page `n` (from 1) holds the articles `(n-1)*limit..n*limit`
    /// counted from the oldest, newest first within the page as in a feed.
    /// Only full pages, and only while something newer is left for the
    /// main feed to show, so that a page never has to take in a new article
    /// and the main feed and the pages together hold every article. Empty
    /// when everything fits in the main feed.
    pub fn archives(&self, scope: &Scope, now: Timestamp) -> Vec<(FeedMeta, Vec<&Entry>)> {
        self.archives_changed_since(scope, now, None)
            .pages
            .into_iter()
            .map(|(_, meta, items)| (meta, items))
            .collect()
    }

    /// [`Catalog::archives`], leaving out the pages that cannot have changed
    /// since the articles changed at `since` or later
    /// ([`Changes::oldest_change`]): a page whose articles are all older
    /// holds the same articles as before, since pages are counted from the
    /// oldest. The newest page is always in (its links change when a newer
    /// page appears). At 100,000 articles this is what keeps an edit from
    /// going over 2,000 pages of the site's feed.
    pub fn archives_changed_since(
        &self,
        scope: &Scope,
        now: Timestamp,
        since: Option<Timestamp>,
    ) -> ArchivePages<'_> {
        let limit = self.config.feeds.limit;
        let Some((meta, order)) = self.meta_and_order(scope) else {
            return ArchivePages::default();
        };
        let total = due_count(order, now);
        let archives = crate::history::archive_count(total, limit);
        let count = usize::try_from(archives).unwrap_or(usize::MAX);
        let per_page = limit.max(1);
        // Walked from the newest end, page by page, down to the first page
        // the change cannot reach: an edit of a recent article at 100,000
        // articles reads a few pages' keys, not all of them.
        let mut newest_first =
            due(order, now).skip(total.saturating_sub(count.saturating_mul(per_page)));
        let histories: Vec<_> = crate::history::History::pages(archives).collect();
        let mut pages = Vec::new();
        for (number, history) in histories.into_iter().enumerate().rev() {
            let chunk: Vec<&OrderKey> = newest_first.by_ref().take(per_page).collect();
            let newest = chunk.first().map(|key| key.published.0);
            if number + 1 != count && since.is_some_and(|since| newest < Some(since)) {
                // Every older page is older still.
                break;
            }
            let mut ids = HashSet::new();
            let items: Vec<&Entry> = chunk
                .iter()
                .filter_map(|key| self.entries.get(&key.path))
                .filter(|entry| ids.insert(&entry.id))
                .collect();
            let mut meta = self.named(meta.clone(), &items);
            meta.history = history;
            pages.push((number, meta, items));
        }
        pages.reverse();
        ArchivePages { count, pages }
    }

    /// Where the article `key` stands in `scope`'s order as of `now`, in
    /// the order [`Catalog::feed`] takes its items from; `None` when it is
    /// not published there (a draft, scheduled, or not of that scope).
    pub fn place_in_feed(&self, scope: &Scope, key: &str, now: Timestamp) -> Option<FeedPlace> {
        let (_, order) = self.meta_and_order(scope)?;
        let position = due(order, now).position(|order| &*order.path == key)? + 1;
        Some(FeedPlace {
            position,
            published: due_count(order, now),
        })
    }

    /// The metadata of every feed as of `now` (the site's, then each
    /// category's with something published, by slug), without the
    /// category names of items: what a list of the feeds (OPML) shows.
    pub fn feed_list(&self, now: Timestamp) -> Vec<FeedMeta> {
        self.scopes(now)
            .iter()
            .filter_map(|scope| self.meta_and_order(scope))
            .map(|(meta, _)| meta)
            .collect()
    }

    /// The title, description and link of `scope`'s feed, and its articles
    /// in feed order; `None` for a category with no article at all.
    /// The order of the articles whose pages are in `category`'s folder
    /// (`None`: the site's top, the pages of articles with no category,
    /// which only the site-wide order holds).
    fn order_of(&self, category: Option<&str>) -> Option<&BTreeSet<OrderKey>> {
        match category {
            Some(slug) => self.categories.get(slug).map(|index| &index.order),
            None => Some(&self.all),
        }
    }

    fn meta_and_order(&self, scope: &Scope) -> Option<(FeedMeta, &BTreeSet<OrderKey>)> {
        let site = &self.config.site;
        Some(match scope {
            Scope::All => (
                FeedMeta {
                    scope: Scope::All,
                    title: site.title.clone(),
                    description: site.description.clone(),
                    link: format!("{}/", site.base_url),
                    category_names: BTreeMap::new(),
                    history: crate::history::History::default(),
                },
                &self.all,
            ),
            Scope::Category(slug) => {
                let index = self.categories.get(slug.as_str())?;
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
                        history: crate::history::History::default(),
                    },
                    &index.order,
                )
            }
        })
    }

    /// `entries` (a feed's) as feed items: article and body, cached, else
    /// read again from their files. An entry whose file can no longer be
    /// read as that article (edited into something invalid before a feed
    /// showed it, removed since) is left out, with the reason: a fresh build
    /// would not have it either.
    pub fn with_bodies<'a>(
        &self,
        entries: Vec<&'a Entry>,
    ) -> (Vec<FeedItem<'a>>, Vec<ArticleError>) {
        self.items_read_by(entries, Catalog::shown_of)
    }

    /// As [`Catalog::with_bodies`], but read from the files without
    /// keeping them (unless a feed shows them already): for archive pages,
    /// which together hold every article.
    pub fn with_bodies_uncached<'a>(
        &self,
        entries: Vec<&'a Entry>,
    ) -> (Vec<FeedItem<'a>>, Vec<ArticleError>) {
        self.items_read_by(entries, Catalog::article_with_body)
    }

    /// `entries` as feed items, each read by `read`; those it cannot read
    /// are left out, with the reason.
    pub fn items_read_by<'a>(
        &self,
        entries: Vec<&'a Entry>,
        read: impl Fn(&Catalog, &Entry) -> Result<(Arc<Article>, Arc<Body>), ArticleError>,
    ) -> (Vec<FeedItem<'a>>, Vec<ArticleError>) {
        let mut items = Vec::with_capacity(entries.len());
        let mut left_out = Vec::new();
        for entry in entries {
            match read(self, entry) {
                Ok((article, body)) => items.push(FeedItem {
                    entry,
                    article,
                    body,
                }),
                Err(error) => left_out.push(error),
            }
        }
        (items, left_out)
    }

    fn cached_bodies(&self) -> MutexGuard<'_, BodyCache> {
        // A panic while holding the lock leaves nothing half-written in it.
        self.bodies
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn shown_of(&self, entry: &Entry) -> Result<(Arc<Article>, Arc<Body>), ArticleError> {
        if let Some((hash, article, body)) = self.cached_bodies().get(&entry.key)
            && *hash == entry.hash
        {
            return Ok((article.clone(), body.clone()));
        }
        let (article, body) = self.read_body(entry)?;
        let (article, body) = (Arc::new(article), Arc::new(body));
        self.cached_bodies().insert(
            entry.key.clone(),
            (entry.hash, article.clone(), body.clone()),
        );
        Ok((article, body))
    }

    /// The article and body of `entry` for its page: from the cache of what
    /// feeds show, else read again from its file (and not cached: pages are
    /// rendered for every article, and memory must not grow with them).
    pub fn article_with_body(
        &self,
        entry: &Entry,
    ) -> Result<(Arc<Article>, Arc<Body>), ArticleError> {
        if let Some((hash, article, body)) = self.cached_bodies().get(&entry.key)
            && *hash == entry.hash
        {
            return Ok((article.clone(), body.clone()));
        }
        self.read_body(entry)
            .map(|(article, body)| (Arc::new(article), Arc::new(body)))
    }

    /// Reads `entry`'s file again, whole: an error if it no longer holds
    /// the content the catalog indexed.
    fn read_body(&self, entry: &Entry) -> Result<(Article, Body), ArticleError> {
        let path = self.config.paths.articles.join(entry.source.path());
        let gone = || ArticleError::Whole {
            path: path.clone(),
            message: "is no longer there as it was read; it is left out until the change is seen"
                .into(),
        };
        let (bytes, _) = read_capped(&self.config, &path)?.ok_or_else(gone)?;
        // Another content than the catalog's would not match its order and
        // indexes; the watcher reports the change, which reads it whole.
        if content_hash(&bytes) != entry.hash {
            return Err(gone());
        }
        article::parse_article_with_body(&self.config, &path, Path::new(&*entry.key), &bytes)
    }

    /// The published article `key`, if any.
    pub fn entry(&self, key: &str) -> Option<&Entry> {
        self.entries.get(key)
    }

    /// The page `entry` has as of `now`: none for a draft, a scheduled
    /// article, or one whose front matter sets `link`.
    pub fn page(&self, entry: &Entry, now: Timestamp) -> Option<ArticlePage> {
        (!entry.draft && entry.published <= now)
            .then(|| page_of(entry))
            .flatten()
    }

    /// Every article page as of `now`, each with the article it shows. When
    /// two articles have the same default link, the newer (feed order) has
    /// the page, as the feeds list it first.
    pub fn pages(&self, now: Timestamp) -> Vec<(ArticlePage, &Entry)> {
        let mut seen = std::collections::HashSet::new();
        due(&self.all, now)
            .filter_map(|order| self.entries.get(&order.path))
            .filter_map(|entry| Some((self.page(entry, now)?, entry)))
            .filter(|(page, _)| seen.insert(page.clone()))
            .collect()
    }

    /// Articles whose page another article has as of `now` (the same
    /// primary category and slug): the page shows the newer one (as
    /// [`Catalog::pages`] decides), so each older one's link leads to
    /// another article. One error per such article, naming both files.
    pub fn page_conflicts(&self, now: Timestamp) -> Vec<ArticleError> {
        self.conflicts_among(due(&self.all, now), None, now)
    }

    /// Every error of two articles that cannot both be what they claim:
    /// [`Catalog::page_conflicts`] and [`Catalog::id_conflicts`].
    pub fn conflicts(&self, now: Timestamp) -> Vec<ArticleError> {
        let mut conflicts = self.page_conflicts(now);
        conflicts.extend(self.id_conflicts(now, None));
        conflicts
    }

    /// [`Catalog::conflicts`] that involve the articles `keys` (an edit's).
    pub fn conflicts_of(&self, keys: &BTreeSet<Arc<str>>, now: Timestamp) -> Vec<ArticleError> {
        let mut conflicts = self.page_conflicts_of(keys, now);
        let ids: HashSet<&ArticleId> = keys
            .iter()
            .filter_map(|key| self.entries.get(key))
            .map(|entry| &entry.id)
            .collect();
        if !ids.is_empty() {
            conflicts.extend(self.id_conflicts(now, Some(&ids)));
        }
        conflicts
    }

    /// Published articles whose id a newer one has as of `now` (only ids
    /// in `only`, when given): feeds show the newer one only, since two
    /// items with one id make a feed invalid and readers merge them. One
    /// error per such article, naming both files.
    fn id_conflicts(
        &self,
        now: Timestamp,
        only: Option<&HashSet<&ArticleId>>,
    ) -> Vec<ArticleError> {
        let root = &self.config.paths.articles;
        let newest_first: Vec<&Entry> = match only {
            None => due(&self.all, now)
                .filter_map(|order| self.entries.get(&order.path))
                .collect(),
            // An edit's few ids: a pass over the entries themselves (no
            // lookup per article: 100,000 of those took 40 ms), then the
            // holders of those ids in the order of `all`.
            Some(only) => {
                let mut holders: Vec<&Entry> = self
                    .entries
                    .values()
                    .filter(|entry| {
                        only.contains(&entry.id) && !entry.draft && entry.published <= now
                    })
                    .collect();
                holders.sort_by_cached_key(|entry| Catalog::order_key(entry));
                holders
            }
        };
        let mut owners: HashMap<&ArticleId, &Entry> = HashMap::new();
        let mut conflicts = Vec::new();
        for entry in newest_first {
            match owners.get(&entry.id) {
                Some(owner) => conflicts.push(ArticleError::Whole {
                    path: root.join(entry.source.path()),
                    message: format!(
                        "has the same id, {}, as the newer {}, so feeds show only that one; \
                         give one of them another `id` in its front matter (or none: one is \
                         made from the file's path)",
                        entry.id,
                        root.join(owner.source.path()).display()
                    ),
                }),
                None => {
                    owners.insert(&entry.id, entry);
                }
            }
        }
        conflicts
    }

    /// As [`Catalog::page_conflicts`], for the pages of the articles `keys`
    /// only (an edit's): scans their categories, not every article.
    pub fn page_conflicts_of<'k>(
        &self,
        keys: impl IntoIterator<Item = &'k Arc<str>>,
        now: Timestamp,
    ) -> Vec<ArticleError> {
        let pages: HashSet<ArticlePage> = keys
            .into_iter()
            .filter_map(|key| self.entries.get(key))
            .filter_map(|entry| self.page(entry, now))
            .collect();
        let categories: BTreeSet<Option<&str>> =
            pages.iter().map(|page| page.category.as_deref()).collect();
        let mut conflicts = Vec::new();
        for category in categories {
            let Some(order) = self.order_of(category) else {
                continue;
            };
            conflicts.extend(self.conflicts_among(due(order, now), Some(&pages), now));
        }
        conflicts
    }

    /// The articles of `order` (newest first) whose page a newer one of
    /// them has, among `only` when given.
    fn conflicts_among<'o>(
        &self,
        order: impl Iterator<Item = &'o OrderKey>,
        only: Option<&HashSet<ArticlePage>>,
        now: Timestamp,
    ) -> Vec<ArticleError> {
        let root = &self.config.paths.articles;
        let mut owners: HashMap<ArticlePage, &Entry> = HashMap::new();
        let mut conflicts = Vec::new();
        for entry in order.filter_map(|order| self.entries.get(&order.path)) {
            let Some(page) = self.page(entry, now) else {
                continue;
            };
            if only.is_some_and(|only| !only.contains(&page)) {
                continue;
            }
            match owners.get(&page) {
                Some(owner) => conflicts.push(ArticleError::Whole {
                    path: root.join(entry.source.path()),
                    message: format!(
                        "has the same page, {}{}, as the newer {} (same category and slug), \
                         so its link leads to that article; give one of them another `slug` \
                         in its front matter",
                        self.config.site.base_url,
                        page.url_path(),
                        root.join(owner.source.path()).display()
                    ),
                }),
                None => {
                    owners.insert(page, entry);
                }
            }
        }
        conflicts
    }

    /// The article each of `pages` shows as of `now` (the newest that has
    /// it, as [`Catalog::pages`] decides); a page no published article has
    /// is missing from the map. Scans the pages' categories once each.
    pub fn page_owners<'p>(
        &self,
        pages: impl IntoIterator<Item = &'p ArticlePage>,
        now: Timestamp,
    ) -> BTreeMap<ArticlePage, &Entry> {
        let mut wanted: BTreeMap<Option<&str>, BTreeSet<&ArticlePage>> = BTreeMap::new();
        for page in pages {
            wanted
                .entry(page.category.as_deref())
                .or_default()
                .insert(page);
        }
        let mut owners = BTreeMap::new();
        for (category, pages) in wanted {
            let Some(order) = self.order_of(category) else {
                continue;
            };
            let mut found = 0;
            for entry in due(order, now).filter_map(|order| self.entries.get(&order.path)) {
                if found == pages.len() {
                    break;
                }
                if let Some(page) = self.page(entry, now)
                    && pages.contains(&page)
                    && !owners.contains_key(&page)
                {
                    owners.insert(page, entry);
                    found += 1;
                }
            }
        }
        owners
    }

    /// Articles whose published date falls in `(after, until]`: their pages appear then.
    pub fn due_between(&self, after: Timestamp, until: Timestamp) -> Vec<Arc<str>> {
        self.all
            .range(boundary(until)..boundary(after))
            .map(|order| order.path.clone())
            .collect()
    }

    /// Drops cached bodies of articles that no feed shows as of `now`, once
    /// the cache has grown well past what the feeds show.
    pub fn prune_bodies(&self, now: Timestamp) {
        let limit = self.config.feeds.limit;
        let shown_at_most = (self.categories.len() + 1) * limit;
        let mut bodies = self.cached_bodies();
        if bodies.len() <= 2 * shown_at_most + 64 {
            return;
        }
        let shown: std::collections::HashSet<&str> = std::iter::once(&self.all)
            .chain(self.categories.values().map(|index| &index.order))
            .flat_map(|order| due(order, now).take(limit))
            .map(|key| &*key.path)
            .collect();
        bodies.retain(|key, _| shown.contains(&**key));
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
                        .categories
                        .iter()
                        .map(|(slug, _)| Scope::Category(slug.to_string())),
                );
            }
        }
        scopes
    }
}

/// How long after its date an article file first seen is taken to have been
/// written then, rather than copied in later (see [`dates`]).
const WRITTEN_WITHIN_SECONDS: i64 = 24 * 60 * 60;

/// Published and updated dates: stated, else first seen and the last change
/// feedd saw (from the state journal), else published; an article is never
/// updated before it is published.
///
/// A file's modification time when feedd first sees it tells when the file
/// reached this disk. Within a day after the article's date that is when it
/// was written (`2026-11-20-slug.txt` saved at 14:05 was updated at 14:05,
/// not at midnight, and a day's articles do not all share one updated
/// instant); later it is a clone, a copy or a restore from backup, which is
/// no update: an article dated in its front matter or file name and never
/// changed since is then updated when it was published, not at the second a
/// whole folder was copied in. Compared in whole seconds, as the journal
/// keeps them, so that a restart dates every article as the run before it
/// did: a file rewritten within the second feedd first saw it (an editor
/// writing it in two steps) is not updated.
fn dates(
    stated: (Option<Timestamp>, Option<Timestamp>),
    seen: crate::state::Seen,
) -> (Timestamp, Timestamp) {
    let published = stated.0.unwrap_or(seen.first_seen);
    let updated = match stated.1 {
        Some(updated) => updated,
        None if seen.changed.as_second() > seen.first_seen.as_second() => seen.changed,
        None if seen.first_seen.as_second() - published.as_second() < WRITTEN_WITHIN_SECONDS => {
            seen.first_seen
        }
        None => published,
    };
    (published, updated.max(published))
}

/// The slug of `article`'s page, if its link is the page's URL.
fn page_slug(config: &Config, article: &Article, key: &str) -> PageSlug {
    let category = article.categories.first().map(|c| c.slug.as_str());
    let Some(page) = ArticlePage::new(category, &article.slug) else {
        return PageSlug::None;
    };
    let base = config.site.base_url.as_str();
    let is_default_link = article
        .link
        .strip_prefix(base)
        .is_some_and(|rest| rest == page.url_path());
    if !is_default_link {
        PageSlug::None
    } else if article.slug == article::file_name_slug(key) {
        PageSlug::OfFileName
    } else {
        PageSlug::Stated(Box::from(article.slug.as_str()))
    }
}

/// The page of `entry` if it has one at all (drafts and dates aside).
fn page_of(entry: &Entry) -> Option<ArticlePage> {
    let category = entry.categories.first().map(|(slug, _)| &**slug);
    match &entry.page {
        PageSlug::None => None,
        PageSlug::OfFileName => ArticlePage::new(category, &article::file_name_slug(&entry.key)),
        PageSlug::Stated(slug) => ArticlePage::new(category, slug),
    }
}

/// The earlier of two optional times; `None` only when both are.
fn earliest(one: Option<Timestamp>, other: Option<Timestamp>) -> Option<Timestamp> {
    match (one, other) {
        (Some(one), Some(other)) => Some(one.min(other)),
        (one, other) => one.or(other),
    }
}

/// The first key in feed order with a published date not after `now`.
fn boundary(now: Timestamp) -> OrderKey {
    OrderKey {
        published: Reverse(now),
        id: ArticleId::Text(Arc::from("")),
        path: Arc::from(""),
    }
}

fn due(order: &BTreeSet<OrderKey>, now: Timestamp) -> impl Iterator<Item = &OrderKey> {
    order.range(boundary(now)..)
}

/// How many articles of `order` are due as of `now`: all but the
/// scheduled ones, which are few, so only they are walked (a count of the
/// due ones walked 100,000 keys, a millisecond, for every feed of an edit).
fn due_count(order: &BTreeSet<OrderKey>, now: Timestamp) -> usize {
    order.len() - order.range(..boundary(now)).count()
}

fn first_due(order: &BTreeSet<OrderKey>, now: Timestamp) -> Option<&OrderKey> {
    due(order, now).next()
}

#[cfg(test)]
mod dates_tests {
    use super::*;
    use crate::state::Seen;

    fn ts(seconds: i64) -> Timestamp {
        Timestamp::from_second(seconds).unwrap()
    }

    #[test]
    fn an_update_is_stated_or_an_edit_seen_or_the_writing_on_the_articles_day() {
        const DAY: i64 = WRITTEN_WITHIN_SECONDS;
        let seen = |first_seen, changed| Seen {
            first_seen: ts(first_seen),
            changed: ts(changed),
            hash: [0; 16],
        };
        // (stated published, stated updated, first seen, changed) -> (published, updated)
        let cases = [
            // Undated and never changed: first sight dates both.
            ((None, None), seen(500, 500), (500, 500)),
            // Undated, edited since: the edit is the update.
            ((None, None), seen(500, 700), (500, 700)),
            // Dated, never changed, first seen within a day of its date:
            // written then.
            ((Some(100), None), seen(500, 500), (100, 500)),
            ((Some(100), None), seen(DAY + 99, DAY + 99), (100, DAY + 99)),
            // Dated, never changed, first seen a day or more after its date:
            // the file's time is a copy's, a clone's, a restore's.
            ((Some(100), None), seen(DAY + 100, DAY + 100), (100, 100)),
            ((Some(100), None), seen(9 * DAY, 9 * DAY), (100, 100)),
            // Dated, edited since first sight.
            (
                (Some(100), None),
                seen(9 * DAY, 9 * DAY + 5),
                (100, 9 * DAY + 5),
            ),
            // Rewritten within the second of first sight: not an edit,
            // however many nanoseconds apart (the journal keeps seconds).
            (
                (Some(100), None),
                Seen {
                    changed: ts(9 * DAY) + jiff::SignedDuration::from_millis(900),
                    ..seen(9 * DAY, 9 * DAY)
                },
                (100, 100),
            ),
            // Stated updated wins over what was seen.
            ((Some(100), Some(300)), seen(500, 700), (100, 300)),
            // Never updated before published, however stated or seen.
            ((Some(900), Some(300)), seen(500, 500), (900, 900)),
            ((Some(900), None), seen(500, 700), (900, 900)),
        ];
        for ((published, updated), seen, expected) in cases {
            let stated = (published.map(ts), updated.map(ts));
            let (published, updated) = dates(stated, seen);
            assert_eq!(
                (published.as_second(), updated.as_second()),
                expected,
                "{stated:?} {seen:?}"
            );
        }
    }
}

#[cfg(test)]
mod spellings_tests {
    use super::*;

    fn names(spellings: &Spellings) -> Vec<&[u8]> {
        spellings.iter().map(RawPath::bytes).collect()
    }

    #[test]
    fn spellings_stay_sorted_and_unique_through_any_inserts_and_removes() {
        let nfd = RawPath::from_bytes("Mu\u{31b}c/bai.txt".as_bytes());
        let nfc = RawPath::from_bytes("M\u{1ee5}c/bai.txt".as_bytes());
        let third = RawPath::from_bytes(b"Muc/bai.txt");
        let mut spellings = Spellings::default();
        assert!(spellings.is_empty());
        spellings.insert(nfc.clone());
        spellings.insert(nfc.clone());
        assert_eq!(names(&spellings), [nfc.bytes()]);
        spellings.insert(nfd.clone());
        spellings.insert(third.clone());
        let mut sorted = vec![nfc.bytes(), nfd.bytes(), third.bytes()];
        sorted.sort();
        assert_eq!(names(&spellings), sorted);
        assert_eq!(spellings.first().map(RawPath::bytes), Some(sorted[0]));
        spellings.remove(&third);
        spellings.remove(&nfd);
        assert_eq!(names(&spellings), [nfc.bytes()]);
        assert!(matches!(spellings, Spellings::One(_)));
        spellings.remove(&nfd);
        assert_eq!(names(&spellings), [nfc.bytes()]);
        spellings.remove(&nfc);
        assert!(spellings.is_empty());
    }
}

#[cfg(test)]
mod tree_tests {
    //! The full scan and the incremental path against real temp trees: what
    //! `apply` makes of any change must equal what a fresh `rescan` finds.

    use super::*;
    use std::os::unix::fs::symlink;

    struct Tree {
        dir: tempfile::TempDir,
        catalog: Catalog,
    }

    fn config_for(root: &Path, extra: &str) -> Arc<Config> {
        let text = format!(
            "[site]\ntitle = \"Tin\"\nbase_url = \"https://news.example.vn\"\n\
             [paths]\narticles = \"articles\"\n{extra}"
        );
        Arc::new(Config::parse(&root.join("feedd.toml"), &text).unwrap())
    }

    impl Tree {
        fn new(extra: &str) -> Tree {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("articles")).unwrap();
            let catalog = Catalog::new(config_for(dir.path(), extra), StateStore::in_memory());
            Tree { dir, catalog }
        }

        fn path(&self, relative: &str) -> PathBuf {
            self.dir.path().join("articles").join(relative)
        }

        fn write(&self, relative: &str, text: &str) -> PathBuf {
            let path = self.path(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, text).unwrap();
            path
        }

        /// What a fresh catalog finds in the tree now.
        /// A fresh scan with the remembered dates, as `feedd build` on the
        /// same state folder (a fresh state would date an article first seen
        /// under another spelling of its name by the current file instead).
        fn fresh(&self) -> (Catalog, Changes) {
            let state = self.catalog.state.in_memory_copy();
            let mut fresh = Catalog::new(self.catalog.config.clone(), state);
            let changes = fresh.rescan();
            (fresh, changes)
        }

        /// Applies `changed` (relative paths) as the watcher would report
        /// them, and checks the catalog against a fresh scan.
        fn apply(&mut self, changed: &[&str]) -> Changes {
            let paths: Vec<PathBuf> = changed.iter().map(|p| self.path(p)).collect();
            let changes = self.catalog.apply(&paths);
            self.assert_fresh();
            changes
        }

        fn assert_fresh(&self) {
            let (fresh, _) = self.fresh();
            assert_eq!(
                feeds(&self.catalog),
                feeds(&fresh),
                "incremental != fresh scan"
            );
        }

        /// What the daemon does after each change: renders the feeds, which
        /// keeps what they show (the last good version of an article whose
        /// file turns bad later).
        fn render(&self) {
            let now = Timestamp::now();
            for scope in self.catalog.scopes(now) {
                let (_, entries) = self.catalog.feed(&scope, now).unwrap();
                let (_, left_out) = self.catalog.with_bodies(entries);
                assert!(left_out.is_empty(), "{left_out:?}");
            }
        }

        /// Titles of every article, as the feeds show them.
        fn titles(&self) -> Vec<String> {
            let mut titles: Vec<String> = self
                .catalog
                .entries
                .values()
                .map(|e| self.catalog.shown_of(e).unwrap().0.title.clone())
                .collect();
            titles.sort();
            titles
        }
    }

    /// Every feed's bytes (and the set of feeds) as of a fixed time.
    fn feeds(catalog: &Catalog) -> BTreeMap<String, Option<Vec<u8>>> {
        let now = Timestamp::from_second(4_000_000_000).unwrap();
        let rendered = crate::pipeline::render_updates(
            catalog,
            &catalog.scopes(now),
            now,
            crate::pipeline::Bodies::Kept,
        );
        assert!(rendered.errors.is_empty(), "{:?}", rendered.errors);
        assert!(rendered.left_out.is_empty(), "{:?}", rendered.left_out);
        rendered
            .updates
            .into_iter()
            .map(|update| (update.path.url_path(), update.bytes))
            .collect()
    }

    fn messages(changes: &Changes) -> Vec<String> {
        changes.rejected.iter().map(ToString::to_string).collect()
    }

    /// The archive pages an edit looks at are those of a full pass whose
    /// newest article is at or after the change, and always the newest
    /// page; each page holds its `limit` articles counted from the oldest.
    #[test]
    fn archive_pages_since_a_change_are_those_of_all_it_can_reach() {
        let mut tree = Tree::new("[feeds]\nlimit = 5\n");
        for day in 1..=23 {
            tree.write(&format!("A/2026-01-{day:02}-a.txt"), "T\n\nB\n");
        }
        tree.write("A/later.md", "+++\ntitle = \"t\"\ndate = 3000-01-01\n+++\n");
        tree.catalog.rescan();
        let now = Timestamp::now();
        let catalog = &tree.catalog;
        let scope = Scope::Category("a".into());
        let all = catalog.archives_changed_since(&scope, now, None);
        // 23 due articles: four full pages, three left for the main feed only.
        assert_eq!(all.count, 4);
        let keys = |entries: &[&Entry]| {
            entries
                .iter()
                .map(|e| e.key().to_string())
                .collect::<Vec<_>>()
        };
        for (number, meta, entries) in &all.pages {
            let days = (number * 5 + 1..=number * 5 + 5).rev();
            let expected: Vec<String> = days
                .map(|day| format!("A/2026-01-{day:02}-a.txt"))
                .collect();
            assert_eq!(keys(entries), expected, "page {}", number + 1);
            assert_eq!(
                meta.history.page.map(|n| n.get() as usize),
                Some(number + 1)
            );
        }
        for since_day in 1..=28 {
            let since: Timestamp = format!("2026-01-{since_day:02}T00:00:00Z").parse().unwrap();
            let some = catalog.archives_changed_since(&scope, now, Some(since));
            assert_eq!(some.count, all.count);
            let expected: Vec<usize> = all
                .pages
                .iter()
                .filter(|(number, _, entries)| {
                    number + 1 == all.count || entries.first().is_some_and(|e| e.published >= since)
                })
                .map(|(number, ..)| *number)
                .collect();
            let got: Vec<usize> = some.pages.iter().map(|(number, ..)| *number).collect();
            assert_eq!(got, expected, "since day {since_day}");
            for (number, _, entries) in &some.pages {
                assert_eq!(keys(entries), keys(&all.pages[*number].2));
            }
        }
    }

    /// `feedd explain`'s positions are the feeds' own order (issue 9).
    #[test]
    fn place_in_feed_is_the_position_the_feed_shows() {
        let mut tree = Tree::new("[feeds]\nlimit = 3\n");
        for day in 1..=5 {
            tree.write(&format!("A/2026-01-0{day}-a.txt"), "T\n\nB\n");
            tree.write(&format!("B/2026-02-0{day}-b.txt"), "T\n\nB\n");
        }
        tree.write("A/later.md", "+++\ntitle = \"t\"\ndate = 3000-01-01\n+++\n");
        tree.write("A/draft.md", "+++\ntitle = \"t\"\ndraft = true\n+++\n");
        tree.catalog.rescan();
        let now = Timestamp::now();
        let catalog = &tree.catalog;
        for scope in [
            Scope::All,
            Scope::Category("a".into()),
            Scope::Category("b".into()),
        ] {
            let (_, shown) = catalog.feed(&scope, now).unwrap();
            assert_eq!(shown.len(), 3);
            for (index, entry) in shown.iter().enumerate() {
                let place = catalog.place_in_feed(&scope, entry.key(), now).unwrap();
                assert_eq!(place.position, index + 1);
            }
        }
        let oldest = catalog.place_in_feed(&Scope::All, "A/2026-01-01-a.txt", now);
        assert_eq!(
            oldest,
            Some(FeedPlace {
                position: 10,
                published: 10
            })
        );
        assert_eq!(catalog.place_in_feed(&Scope::All, "A/later.md", now), None);
        assert_eq!(catalog.place_in_feed(&Scope::All, "A/draft.md", now), None);
        assert_eq!(
            catalog.place_in_feed(&Scope::Category("b".into()), "A/2026-01-01-a.txt", now),
            None
        );
    }

    #[test]
    fn symlinks_are_reported_and_never_followed_in_both_paths() {
        let mut tree = Tree::new("");
        tree.write("Thời sự/a.txt", "Tin A\n\nThân.\n");
        let outside = tree.dir.path().join("outside");
        std::fs::create_dir(&outside).unwrap();
        std::fs::write(outside.join("x.txt"), "Tin ngoài\n\nThân.\n").unwrap();
        tree.catalog.rescan();

        let links = [
            ("vong", tree.path("")),
            ("Thời sự/ra-ngoai", outside.clone()),
            ("Thời sự/b.txt", outside.join("x.txt")),
            ("loop", tree.path("loop")),
            ("dangling.txt", tree.path("nowhere.txt")),
        ];
        for (name, target) in &links {
            symlink(target, tree.path(name)).unwrap();
        }
        // A symlink whose name is no article and whose target is a file: ignored.
        symlink(outside.join("x.txt"), tree.path("ghi-chu")).unwrap();
        let changes = tree.apply(&[
            "vong",
            "Thời sự/ra-ngoai",
            "Thời sự/b.txt",
            "loop",
            "dangling.txt",
            "ghi-chu",
        ]);
        // Events from inside a link (a watcher that followed it) change nothing.
        tree.apply(&["vong/Thời sự/a.txt", "Thời sự/ra-ngoai/x.txt"]);
        assert_eq!(tree.titles(), ["Tin A"]);

        let (_, scanned) = tree.fresh();
        for (what, changes) in [("apply", &changes), ("rescan", &scanned)] {
            let mut reported = messages(changes);
            reported.sort();
            let mut expected: Vec<String> = links
                .iter()
                .map(|(name, _)| format!("{}: {SYMLINK_MESSAGE}", tree.path(name).display()))
                .collect();
            expected.sort();
            assert_eq!(reported, expected, "{what}");
        }

        // A link replaced by a real folder, and a real file by a link.
        std::fs::remove_file(tree.path("vong")).unwrap();
        tree.write("vong/c.txt", "Tin C\n\nThân.\n");
        tree.apply(&["vong", "vong/c.txt"]);
        assert_eq!(tree.titles(), ["Tin A", "Tin C"]);
        std::fs::remove_file(tree.path("Thời sự/a.txt")).unwrap();
        symlink(outside.join("x.txt"), tree.path("Thời sự/a.txt")).unwrap();
        tree.apply(&["Thời sự/a.txt"]);
        assert_eq!(tree.titles(), ["Tin C"]);
        // The real folder replaced by a link: everything under it goes.
        std::fs::remove_dir_all(tree.path("vong")).unwrap();
        symlink(&outside, tree.path("vong")).unwrap();
        tree.apply(&["vong"]);
        assert!(tree.titles().is_empty());
    }

    #[test]
    fn the_articles_folder_itself_may_be_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("real/Thời sự")).unwrap();
        std::fs::write(dir.path().join("real/Thời sự/a.txt"), "Tin A\n\nThân.\n").unwrap();
        symlink(dir.path().join("real"), dir.path().join("articles")).unwrap();
        let mut catalog = Catalog::new(config_for(dir.path(), ""), StateStore::in_memory());
        let changes = catalog.rescan();
        assert!(changes.rejected.is_empty(), "{:?}", messages(&changes));
        assert_eq!(catalog.len(), 1);
    }

    #[test]
    fn an_oversized_file_is_rejected_unread_and_the_last_good_version_stays() {
        let mut tree = Tree::new("[feeds]\nmax_article_bytes = 64\n");
        let a = tree.write("a.txt", "Tin A\n\nThân.\n");
        tree.catalog.rescan();
        tree.render();
        // Sparse: 8 GiB that a read of the whole file would never finish allocating.
        let big = tree.path("big.txt");
        std::fs::File::create(&big)
            .unwrap()
            .set_len(8 << 30)
            .unwrap();
        let long = format!("Tin A dài\n\n{}\n", "x".repeat(100));
        std::fs::write(&a, &long).unwrap();
        let changes = tree.catalog.apply(&[a.clone(), big.clone()]);
        let config = tree.dir.path().join("feedd.toml");
        let mut reported = messages(&changes);
        reported.sort();
        assert_eq!(
            reported,
            [
                format!(
                    "{}: the file is {} bytes, more than feeds.max_article_bytes (64); shorten it or \
                     raise feeds.max_article_bytes in {}",
                    a.display(),
                    long.len(),
                    config.display()
                ),
                format!(
                    "{}: the file is 8589934592 bytes, more than feeds.max_article_bytes (64); shorten \
                     it or raise feeds.max_article_bytes in {}",
                    big.display(),
                    config.display()
                ),
            ]
        );
        assert_eq!(tree.titles(), ["Tin A"], "the last good version stays");
        std::fs::write(&a, "Tin A mới\n\nThân.\n").unwrap();
        tree.catalog.apply(&[a]);
        assert_eq!(tree.titles(), ["Tin A mới"]);
        // Exactly at the limit is fine.
        tree.write("c.txt", &format!("Tin C\n\n{}", "y".repeat(64 - 7)));
        assert_eq!(std::fs::metadata(tree.path("c.txt")).unwrap().len(), 64);
        tree.apply(&["c.txt"]);
        assert_eq!(tree.titles(), ["Tin A mới", "Tin C"]);
    }

    #[test]
    fn nfc_and_nfd_spellings_one_article_the_first_raw_name_wins() {
        use unicode_normalization::UnicodeNormalization;
        let mut tree = Tree::new("");
        let nfc: String = "Thời sự/Giá lúa.txt".nfc().collect();
        let nfd: String = "Thời sự/Giá lúa.txt".nfd().collect();
        // Which sorts first by bytes decides; here the NFD spelling ("o" + marks).
        assert!(nfd.as_bytes() < nfc.as_bytes());
        let first = tree.write(&nfc, "Tin NFC\n\nThân.\n");
        // Seconds before the other spelling: the key keeps its first-seen date.
        std::fs::File::options()
            .write(true)
            .open(&first)
            .unwrap()
            .set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(5))
            .unwrap();
        tree.catalog.rescan();
        assert_eq!(tree.titles(), ["Tin NFC"]);

        tree.write(&nfd, "Tin NFD\n\nThân.\n");
        let changes = tree.apply(&[&nfd]);
        assert_eq!(tree.titles(), ["Tin NFD"]);
        let expected = format!(
            "{}: names the same article as {} (the names differ only in Unicode normalization); \
             rename or delete one",
            tree.path(&nfc).display(),
            tree.path(&nfd).display()
        );
        assert_eq!(messages(&changes), std::slice::from_ref(&expected));
        let (_, scanned) = tree.fresh();
        assert_eq!(messages(&scanned), [expected]);

        // An edit of the loser changes nothing; of the winner, shows.
        tree.write(&nfc, "Tin NFC sửa\n\nThân.\n");
        tree.apply(&[&nfc]);
        assert_eq!(tree.titles(), ["Tin NFD"]);
        // The winner deleted: the other spelling becomes the article.
        std::fs::remove_file(tree.path(&nfd)).unwrap();
        let changes = tree.apply(&[&nfd]);
        assert!(changes.rejected.is_empty(), "{:?}", messages(&changes));
        assert_eq!(tree.titles(), ["Tin NFC sửa"]);

        // Folders spelled both ways.
        let folder_nfd: String = "Đời sống".nfd().collect();
        tree.write("Đời sống/x.txt", "Tin X NFC\n\nThân.\n");
        tree.write(&format!("{folder_nfd}/x.txt"), "Tin X NFD\n\nThân.\n");
        tree.apply(&["Đời sống", &folder_nfd]);
        assert_eq!(tree.titles(), ["Tin NFC sửa", "Tin X NFD"]);
        std::fs::remove_dir_all(tree.path(&folder_nfd)).unwrap();
        tree.apply(&[&folder_nfd]);
        assert_eq!(tree.titles(), ["Tin NFC sửa", "Tin X NFC"]);
    }

    #[test]
    fn incremental_and_full_scan_agree_on_odd_entries() {
        let mut tree = Tree::new("");
        tree.write("a.txt", "Tin A\n\nThân.\n");
        tree.catalog.rescan();

        // A folder created inside a hidden folder, reported on its own.
        tree.write(".nhap/Thời sự/b.txt", "Tin B\n\nThân.\n");
        tree.apply(&[".nhap/Thời sự", ".nhap/Thời sự/b.txt"]);
        assert_eq!(tree.titles(), ["Tin A"]);

        // Names that are not UTF-8: reported, never published, in both paths.
        use std::os::unix::ffi::OsStrExt as _;
        let latin1 = tree
            .path("")
            .join(std::ffi::OsStr::from_bytes(b"Gi\xe1 l\xfaa.txt"));
        std::fs::write(&latin1, "Tin Latin-1\n\nThân.\n").unwrap();
        let changes = tree.catalog.apply(std::slice::from_ref(&latin1));
        tree.assert_fresh();
        assert_eq!(changes.rejected.len(), 1, "{:?}", messages(&changes));
        assert!(messages(&changes)[0].contains("not valid UTF-8"));
        std::fs::remove_file(&latin1).unwrap();

        // A file that becomes a folder named like an article, and back.
        std::fs::remove_file(tree.path("a.txt")).unwrap();
        tree.write("a.txt/c.txt", "Tin C\n\nThân.\n");
        tree.apply(&["a.txt"]);
        assert_eq!(tree.titles(), ["Tin C"]);
        std::fs::remove_dir_all(tree.path("a.txt")).unwrap();
        tree.write("a.txt", "Tin A lại\n\nThân.\n");
        tree.apply(&["a.txt"]);
        assert_eq!(tree.titles(), ["Tin A lại"]);
        // A deep event under what is now a file changes nothing.
        tree.apply(&["a.txt/c.txt"]);
        assert_eq!(tree.titles(), ["Tin A lại"]);

        // A FIFO named like an article replacing one: reported, never opened.
        std::fs::remove_file(tree.path("a.txt")).unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(tree.path("a.txt"))
            .status()
            .unwrap();
        assert!(status.success());
        let changes = tree.apply(&["a.txt"]);
        assert!(tree.titles().is_empty());
        assert!(messages(&changes)[0].contains("is not a regular file"));
    }

    #[test]
    fn a_folder_and_its_files_in_one_batch_are_read_once() {
        let mut tree = Tree::new("");
        tree.catalog.rescan();
        for i in 0..3 {
            tree.write(&format!("Mới/{i}.txt"), &format!("Tin {i}\n\nThân.\n"));
        }
        // As a poll reports a new folder: the files first, in any order.
        let changes = tree.apply(&["Mới/2.txt", "Mới", "Mới/0.txt", "Mới/1.txt"]);
        assert_eq!(changes.read, 3);
        assert_eq!(tree.titles(), ["Tin 0", "Tin 1", "Tin 2"]);
    }

    #[test]
    fn an_article_whose_file_went_bad_before_a_feed_showed_it_is_left_out_not_the_feed() {
        let mut tree = Tree::new("");
        tree.write("Thời sự/a.txt", "Tin A\n\nThân.\n");
        let b = tree.write("Thời sự/b.txt", "Tin B\n\nThân.\n");
        tree.catalog.rescan();
        // Edited into an empty file; the watcher has not reported it yet.
        std::fs::write(&b, "").unwrap();
        let now = Timestamp::now();
        let (_, entries) = tree.catalog.feed(&Scope::All, now).unwrap();
        let (items, left_out) = tree.catalog.with_bodies(entries);
        let titles: Vec<&str> = items
            .iter()
            .map(|item| item.article.title.as_str())
            .collect();
        assert_eq!(titles, ["Tin A"]);
        assert_eq!(left_out.len(), 1);
        assert_eq!(left_out[0].path(), b);
        // Whole feeds: still rendered, and the article named once although
        // two feeds (the site's and its category's) would show it.
        let rendered = crate::pipeline::render_updates(
            &tree.catalog,
            &tree.catalog.scopes(now),
            now,
            crate::pipeline::Bodies::Kept,
        );
        assert!(rendered.errors.is_empty(), "{:?}", rendered.errors);
        assert_eq!(rendered.left_out.len(), 1, "{:?}", rendered.left_out);
        let documents = crate::output::OutputPath::all_of(&Scope::All).count()
            + crate::output::OutputPath::all_of(&Scope::Category("thoi-su".into())).count();
        assert_eq!(rendered.updates.len(), documents);
        assert!(rendered.updates.iter().all(|update| update.bytes.is_some()));
    }

    #[test]
    fn a_missing_articles_folder_removes_nothing() {
        let mut tree = Tree::new("");
        let a = tree.write("Thời sự/a.txt", "Tin A\n\nThân.\n");
        tree.catalog.rescan();
        tree.render();
        std::fs::remove_dir_all(tree.path("")).unwrap();
        let changes = tree
            .catalog
            .apply(&[a, tree.path("Thời sự"), tree.path("")]);
        assert!(changes.incomplete && changes.dirty.is_empty());
        assert_eq!(tree.titles(), ["Tin A"]);
        let changes = tree.catalog.rescan();
        assert!(changes.incomplete && changes.dirty.is_empty());
        assert_eq!(tree.titles(), ["Tin A"]);
    }

    #[test]
    fn a_rewrite_keeping_size_and_mtime_is_seen_by_a_rescan() {
        let mut tree = Tree::new("");
        let a = tree.write("a.txt", "Tin 1\n\nThân.\n");
        let mtime = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_800_000_000);
        let set = |nanos: u32| {
            let file = std::fs::File::options().write(true).open(&a).unwrap();
            file.set_modified(mtime + std::time::Duration::from_nanos(nanos.into()))
                .unwrap();
        };
        set(1000);
        tree.catalog.rescan();
        // Same size, and the modification time put back (`rsync -t`, `touch -r`).
        std::fs::write(&a, "Tin 2\n\nThân.\n").unwrap();
        set(1000);
        tree.catalog.rescan();
        assert_eq!(tree.titles(), ["Tin 2"]);
    }
}

#[cfg(test)]
mod cache_tests {
    //! A restart with the catalog cache reads only what changed while feedd
    //! was down, and knows exactly what a catalog that read every file knows.

    use super::*;

    struct Site {
        dir: tempfile::TempDir,
        config: Arc<Config>,
    }

    impl Site {
        fn new() -> Site {
            let dir = tempfile::tempdir().unwrap();
            std::fs::create_dir(dir.path().join("articles")).unwrap();
            let text = "[site]\ntitle = \"Tin\"\nbase_url = \"https://news.example.vn\"\n\
                        [paths]\narticles = \"articles\"\nstate = \"state\"\n";
            let config = Arc::new(Config::parse(&dir.path().join("feedd.toml"), text).unwrap());
            Site { dir, config }
        }

        fn write(&self, relative: &str, text: &str) {
            let path = self.dir.path().join("articles").join(relative);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, text).unwrap();
        }

        /// A catalog as a (re)started feedd has it: journal, cache, rescan.
        fn start(&self) -> (Catalog, Result<usize, String>, Changes) {
            let state = StateStore::open(&self.config.paths.state).unwrap();
            let mut catalog = Catalog::new(self.config.clone(), state);
            let cached = catalog.load_cache();
            let changes = catalog.rescan();
            (catalog, cached, changes)
        }

        /// Writes `count` plain-text articles into `folder`, starts on
        /// them, saves the cache as a shutdown does, and returns what the
        /// feeds showed.
        fn shown_with_saved_cache(&self, folder: &str, count: usize) -> Vec<String> {
            for i in 0..count {
                self.write(
                    &format!("{folder}/bai-{i}.txt"),
                    &format!("Tiêu đề {i}\n\nThân {i}.\n"),
                );
            }
            let (first, _, _) = self.start();
            first.save_cache().unwrap();
            shown(&first)
        }
    }

    /// Everything a feed shows of every scope, bodies included.
    fn shown(catalog: &Catalog) -> Vec<String> {
        let now = Timestamp::now();
        let mut shown = Vec::new();
        for scope in catalog.scopes(now) {
            let (meta, entries) = catalog.feed(&scope, now).unwrap();
            shown.push(format!("{meta:?}"));
            let (items, left_out) = catalog.with_bodies(entries);
            assert!(left_out.is_empty(), "{left_out:?}");
            for item in items {
                shown.push(format!(
                    "{:?} {} {} {:?}",
                    item.article, item.entry.published, item.entry.updated, item.body
                ));
            }
        }
        shown
    }

    #[test]
    fn a_restart_reads_only_changed_files_and_knows_what_a_full_scan_knows() {
        let site = Site::new();
        for i in 0..20 {
            site.write(
                &format!("Đời sống/bai-{i}.txt"),
                &format!("Tiêu đề {i}\n\nThân bài {i}.\n"),
            );
        }
        site.write(
            "Kinh tế/giu-nguyen.md",
            "+++\ntitle = \"Giữ\"\n+++\nThân.\n",
        );
        let (first, cached, changes) = site.start();
        assert!(cached.is_err(), "no cache on a first start");
        assert_eq!(changes.read, 21);
        first.save_cache().unwrap();
        drop(first);

        // While feedd is down: one edit, one new file, one deletion.
        site.write("Đời sống/bai-3.txt", "Tiêu đề mới\n\nThân bài khác.\n");
        site.write("Đời sống/bai-new.txt", "Bài mới\n\nThân.\n");
        std::fs::remove_file(site.dir.path().join("articles/Đời sống/bai-7.txt")).unwrap();
        let (restarted, cached, changes) = site.start();
        assert_eq!(cached, Ok(21));
        assert_eq!(changes.read, 2, "only the edited and the new file are read");
        assert_eq!(restarted.len(), 21);
        let restarted_shows = shown(&restarted);
        restarted.save_cache().unwrap();
        drop(restarted);

        // A catalog that read every file (no cache) shows the same.
        std::fs::remove_file(site.config.paths.state.join(cache::CACHE_FILE)).unwrap();
        let (full, cached, changes) = site.start();
        assert!(cached.is_err());
        assert_eq!(changes.read, 21);
        assert_eq!(shown(&full), restarted_shows);
        assert!(
            restarted_shows
                .iter()
                .any(|line| line.contains("Tiêu đề mới"))
        );
    }

    #[test]
    fn a_whole_cache_with_records_repeated_or_out_of_order_gives_what_a_full_scan_gives() {
        let site = Site::new();
        let before = site.shown_with_saved_cache("Thời sự", 6);
        let state = &site.config.paths.state;
        let records: Vec<cache::Record> = cache::load(state, &site.config)
            .unwrap()
            .records()
            .collect();
        assert_eq!(records.len(), 6);
        // Saved whole (its checksum holds), but not as `save_cache` writes.
        let repeated = records.iter().chain(records.iter().rev()).cloned();
        cache::save(state, &site.config, repeated).unwrap();
        let (restarted, cached, changes) = site.start();
        assert_eq!(cached, Ok(6));
        assert_eq!(changes.read, 0);
        assert_eq!(shown(&restarted), before);
    }

    #[test]
    fn a_damaged_cache_means_a_full_scan_not_wrong_output() {
        let site = Site::new();
        let before = site.shown_with_saved_cache("a", 5);
        let path = site.config.paths.state.join(cache::CACHE_FILE);
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("bai-2.txt"));
        std::fs::write(&path, text.replace("bai-2.txt", "bai-X.txt")).unwrap();
        let (restarted, cached, changes) = site.start();
        assert!(cached.unwrap_err().starts_with("damaged"));
        assert_eq!(changes.read, 5);
        assert_eq!(shown(&restarted), before);
    }
}
