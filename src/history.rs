//! History (RFC 5005): the archive pages of each scope's RSS and Atom
//! feeds, so that an aggregator can walk back past the newest
//! `feeds.limit` articles to the first one.
//!
//! Pages are fixed: page `n` (from 1) holds the articles `(n-1)*limit ..
//! n*limit` counted from the oldest, and exists only while the main feed
//! still has something newer to show. A new article therefore never
//! changes a page; only an edit, a removal or a back-dated article among
//! a page's own articles does. That is RFC 5005's section 4, "Archived
//! Feeds" (each page carries `fh:archive`, links `prev-archive`,
//! `next-archive` and `current`), whose documents are meant not to change;
//! each document also carries section 3's paging links (`next` to the
//! older page, `previous`, `first`, `last`), which more readers follow
//! (podcast apps, feedparser exposes both) and which the W3C validator
//! accepts beside them. The main feed links `next` and `prev-archive` to
//! the newest page and `last` to the oldest.
//!
//! Only the newest page's links change when a newer page appears (it
//! gains `next-archive`); every older page is sealed and served with a
//! long max-age ([`SEALED_MAX_AGE`]).
//!
//! [`Archives::sync`] keeps the pages in the output folder equal to the
//! catalog: it computes a fingerprint of what each page shows (its
//! articles' keys, content hashes and dates, the feed's names and the
//! config) and renders only pages whose fingerprint changed (an edit
//! fingerprints only the pages its changes can reach: those with an
//! article at or after the oldest date it added or removed), reading
//! their bodies from the article files and dropping them once written
//! (`pipeline::sync_pages_and_archives` renders them beside the article
//! pages, so that each article is parsed once for its page and both its
//! archive pages).
//! The fingerprints (32 bytes a page) live in memory and in
//! `paths.state/history.fingerprints`, so a restart renders nothing that
//! is already on disk. Pages are not synced to disk, as article pages
//! (see `publish::Durability`): a page lost to a power cut is missing or
//! empty at the next start, which renders it again.

use std::collections::{BTreeMap, BTreeSet, HashSet};
use std::num::NonZeroU32;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use rayon::prelude::*;

use crate::article::ArticleError;
use crate::catalog::{Catalog, Entry, FeedMeta, ParseSharing};
use crate::config::Config;
use crate::output::{ArchivePage, Format, OutputPath, Scope};
use crate::publish::{Durability, PublishError, output_entries, remove_output_file};
use crate::render::render_feed;

/// The namespace of `fh:archive` (RFC 5005 section 4).
pub const NAMESPACE: &str = "http://purl.org/syndication/history/1.0";

/// `Cache-Control` max-age of an archive page that no new article can
/// change any more (every page but the newest): a day. An edit to an old
/// article still reaches a cache that revalidates (same ETag rules) after
/// that day, a price worth paying for the pages' being nearly static.
pub const SEALED_MAX_AGE: u32 = 86_400;

/// The feed formats that have archive pages.
const FORMATS: [Format; 2] = [Format::Rss, Format::Atom];

/// Where a feed document stands in its scope's history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct History {
    /// How many archive pages the scope has (0: the main feed holds all).
    pub archives: u32,
    /// `Some(n)`: the document is archive page `n`; `None`: the main feed.
    pub page: Option<NonZeroU32>,
}

/// How many archive pages `due` articles fill at `limit` a page: the full
/// pages, counted from the oldest, that leave at least one article newer
/// than them for the main feed (so no page ever equals the main feed).
pub fn archive_count(due: usize, limit: usize) -> u32 {
    if limit == 0 || due == 0 {
        return 0;
    }
    u32::try_from((due - 1) / limit).unwrap_or(u32::MAX)
}

impl History {
    /// The main feed of a scope with `archives` pages.
    pub fn main(archives: u32) -> History {
        History {
            archives,
            page: None,
        }
    }

    /// Each archive page of a scope with `archives` pages, oldest first.
    pub fn pages(archives: u32) -> impl Iterator<Item = History> {
        (1..=archives).map(move |n| History {
            archives,
            page: NonZeroU32::new(n),
        })
    }

    /// Whether the document is an archive page.
    pub fn is_archive(&self) -> bool {
        self.page.is_some()
    }

    /// The history links of `scope`'s `format` document, `(rel, absolute
    /// URL)`, in a fixed order; none for a scope without archive pages.
    pub fn links(
        &self,
        base_url: &str,
        scope: &Scope,
        format: Format,
    ) -> Vec<(&'static str, String)> {
        let main = format!(
            "{base_url}{}",
            OutputPath::new(scope.clone(), format).url_path()
        );
        let page = |n: u32| {
            NonZeroU32::new(n)
                .and_then(|n| ArchivePage::new(scope.clone(), format, n))
                .map(|page| format!("{base_url}{}", page.url_path()))
        };
        let (Some(newest), Some(oldest)) = (page(self.archives), page(1)) else {
            return Vec::new();
        };
        match self.page.map(NonZeroU32::get) {
            None => vec![
                ("first", main),
                ("next", newest.clone()),
                ("last", oldest),
                ("prev-archive", newest),
            ],
            Some(n) => {
                let older = page(n - 1);
                let newer = (n < self.archives).then(|| page(n + 1)).flatten();
                let mut links = vec![
                    ("current", main.clone()),
                    ("first", main.clone()),
                    ("previous", newer.clone().unwrap_or(main)),
                ];
                links.extend(older.clone().map(|url| ("next", url)));
                links.push(("last", oldest));
                links.extend(older.map(|url| ("prev-archive", url)));
                links.extend(newer.map(|url| ("next-archive", url)));
                links
            }
        }
    }
}

/// What [`Archives::sync`] brings up to date.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Which<'a> {
    /// Every scope; pages missing from the output folder are rendered
    /// whatever their fingerprint, and archive files of no page removed (a
    /// build, a start, a rescan, a config reload).
    Everything,
    /// Every scope, but only the pages missing from the output folder (a
    /// start whose [`Which::Everything`] sync waits for the edits made
    /// during the scan). A page on disk keeps the fingerprint it had, so
    /// that the sync that follows checks it.
    Missing,
    /// The pages of these scopes (an edit's dirty scopes), trusting that
    /// the output folder holds what was last written; pages whose articles
    /// are all older than `changed_since` (see
    /// [`crate::catalog::Changes::oldest_change`]) are not even looked at.
    Scopes {
        dirty: &'a BTreeSet<Scope>,
        changed_since: Timestamp,
        /// A [`Which::Everything`] sync is still to come (see
        /// [`Which::Missing`]): pages with no fingerprint that the
        /// changes cannot have reached are left to it, rather than all
        /// looked at now.
        unknown_left_to_full_sync: bool,
    },
}

/// What [`Archives::sync`] did.
#[derive(Debug, Default)]
pub struct HistoryReport {
    /// Archive files there are now ([`Which::Everything`] only).
    pub pages: usize,
    /// Pages whose fingerprint was computed (those an edit's changes can
    /// have reached; every page of a full sync).
    pub checked: usize,
    /// Pages rendered (each in RSS and Atom), whether their bytes changed or not.
    pub rendered: usize,
    /// Pages the sync stopped before rendering (see
    /// `pipeline::sync_pages_and_archives_until`): not known to be
    /// current, so the next sync looks at them again.
    pub skipped: usize,
    /// Files written or removed because their bytes changed.
    pub changed: Vec<ArchivePage>,
    /// Articles left out of a page because their file changed since the
    /// catalog read it (the watcher's next batch renders the page again).
    pub left_out: Vec<ArticleError>,
    /// Pages that could not be rendered, written or removed.
    pub errors: Vec<PublishError>,
}

/// A fingerprint of what one archive page shows.
type Fingerprint = [u8; 32];

/// The archive pages on disk, by what they show, and the scopes to render
/// again because a write failed.
#[derive(Debug)]
pub struct Archives {
    config: Arc<Config>,
    /// Per scope, the fingerprint of each page on disk (index `n - 1`);
    /// `None` for a page that was not written as it should be.
    known: BTreeMap<Scope, Vec<Option<Fingerprint>>>,
    /// Scopes whose last sync failed somewhere: synced again with the next.
    retry: BTreeSet<Scope>,
}

/// The file in `paths.state` that holds the fingerprints.
const STATE_FILE: &str = "history.fingerprints";
/// Its first line: another version of the file is not read.
const STATE_HEADER: &str = "feedd history 1";

/// The files of one page whose bytes changed, and the articles left out of it.
type Written = (Vec<ArchivePage>, Vec<ArticleError>);

/// One archive page to render, both formats.
struct Work<'a> {
    meta: FeedMeta,
    entries: Vec<&'a Entry>,
}

/// The pages one [`Archives::sync`] renders, between [`Archives::plan`]
/// and [`Archives::finish`].
pub struct ArchivePass<'a> {
    config: Arc<Config>,
    full: bool,
    scopes: BTreeSet<Scope>,
    work: Vec<(Scope, Work<'a>)>,
    now_known: BTreeMap<Scope, Vec<Option<Fingerprint>>>,
    report: HistoryReport,
    /// What each page's render came to, by index into `work`, as they come.
    done: Mutex<Vec<(usize, Result<Written, PublishError>)>>,
}

impl<'a> ArchivePass<'a> {
    /// How many pages to render.
    pub fn len(&self) -> usize {
        self.work.len()
    }

    /// Whether there is no page to render.
    pub fn is_empty(&self) -> bool {
        self.work.is_empty()
    }

    /// The articles page `page` shows.
    pub fn entries(&self, page: usize) -> &[&'a Entry] {
        self.work
            .get(page)
            .map_or(&[], |(_, work)| work.entries.as_slice())
    }

    /// Renders page `page` of the pass in both formats, reading its
    /// articles through `sharing`, writes each file whose bytes differ,
    /// and notes the outcome.
    pub fn render(&self, catalog: &Catalog, sharing: &ParseSharing, page: usize) {
        let Some((_, work)) = self.work.get(page) else {
            return;
        };
        let result = render_and_write(catalog, sharing, &self.config, work);
        // Nothing is left half-noted by a panic while it is held.
        self.done
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .push((page, result));
    }
}

impl Archives {
    /// The archive pages as the state folder remembers them for `config`
    /// (nothing known when it does not: every page is rendered once).
    pub fn load(config: Arc<Config>) -> Archives {
        let known = std::fs::read_to_string(config.paths.state.join(STATE_FILE))
            .ok()
            .and_then(|text| parse_state(&text))
            .unwrap_or_default();
        Archives {
            config,
            known,
            retry: BTreeSet::new(),
        }
    }

    /// Renders pages with `config` from now on (a config reload; follow it
    /// with a [`Which::Everything`] sync, since the pages show the config).
    pub fn set_config(&mut self, config: Arc<Config>) {
        self.config = config;
    }

    /// Whether a sync failed and its scopes wait for another try.
    pub fn has_retries(&self) -> bool {
        !self.retry.is_empty()
    }

    /// Brings the archive pages of `which` up to date with `catalog` as of
    /// `now`: renders (in parallel, one page's bodies per thread) the pages
    /// whose fingerprint changed, writes each file whose bytes changed,
    /// removes the pages a scope no longer has.
    pub fn sync(&mut self, catalog: &Catalog, which: Which, now: Timestamp) -> HistoryReport {
        let pass = self.plan(catalog, which, now);
        let sharing = ParseSharing::none();
        (0..pass.len())
            .into_par_iter()
            .for_each(|page| pass.render(catalog, &sharing, page));
        self.finish(pass)
    }

    /// The first half of [`Archives::sync`]: which pages to render, and the
    /// removals that need no rendering. Render each with
    /// [`ArchivePass::render`], in any order, then [`Archives::finish`].
    pub fn plan<'a>(
        &mut self,
        catalog: &'a Catalog,
        which: Which,
        now: Timestamp,
    ) -> ArchivePass<'a> {
        let config = Arc::clone(&self.config);
        let output = &config.paths.output;
        let full = which == Which::Everything;
        let missing_only = which == Which::Missing;
        let retried: BTreeSet<Scope> = std::mem::take(&mut self.retry);
        let mut scopes = retried.clone();
        let mut changed_since = None;
        let mut unknown_left = false;
        match which {
            Which::Everything => {
                scopes.extend(catalog.scopes(now));
                scopes.extend(self.known.keys().cloned());
            }
            Which::Missing => scopes.extend(catalog.scopes(now)),
            Which::Scopes {
                dirty,
                changed_since: since,
                unknown_left_to_full_sync,
            } => {
                scopes.extend(dirty.iter().cloned());
                changed_since = Some(since);
                unknown_left = unknown_left_to_full_sync;
            }
        }
        let config_print = config_fingerprint(&config);
        let mut report = HistoryReport::default();
        let mut work: Vec<(Scope, Work)> = Vec::new();
        let mut now_known: BTreeMap<Scope, Vec<Option<Fingerprint>>> = BTreeMap::new();
        for scope in &scopes {
            let before = self.known.get(scope).map(Vec::as_slice).unwrap_or(&[]);
            let since = changed_since.filter(|_| !retried.contains(scope));
            let mut archived = catalog.archives_changed_since(scope, now, since);
            // A page left out keeps the fingerprint it had; one that has none
            // (never rendered by this process) is looked at after all, and
            // so is every page when their number changed: the page that was
            // the newest links to the new one (or is the newest again), and
            // the batch may have added or removed more than one page's worth.
            let looked_at: HashSet<usize> =
                archived.pages.iter().map(|(number, ..)| *number).collect();
            let left_out_unknown = !unknown_left
                && (0..archived.count).any(|number| {
                    !looked_at.contains(&number) && before.get(number).copied().flatten().is_none()
                });
            if left_out_unknown || archived.count != before.len() {
                archived = catalog.archives_changed_since(scope, now, None);
            }
            let mut prints: Vec<Option<Fingerprint>> = (0..archived.count)
                .map(|number| before.get(number).copied().flatten())
                .collect();
            report.checked += archived.pages.len();
            for (number, meta, entries) in archived.pages {
                if missing_only && both_written(output, scope, number + 1) {
                    continue;
                }
                // The full sync to come renders it if it must; and a page
                // written now must not wait for it.
                if unknown_left
                    && !looked_at.contains(&number)
                    && before.get(number).copied().flatten().is_none()
                    && both_written(output, scope, number + 1)
                {
                    continue;
                }
                let fingerprint = fingerprint(&config_print, &meta, &entries);
                let unchanged = before.get(number).copied().flatten() == Some(fingerprint)
                    && (!full || both_written(output, scope, number + 1));
                if let Some(print) = prints.get_mut(number) {
                    *print = Some(fingerprint);
                }
                if !unchanged {
                    work.push((scope.clone(), Work { meta, entries }));
                }
            }
            // Pages the scope had and has no more (a full sync removes
            // them, and any other stray, by what is on disk).
            if !full {
                for number in prints.len() + 1..=before.len() {
                    for page in pages_numbered(scope, number) {
                        remove_page(output, &page, &mut report);
                    }
                }
            }
            now_known.insert(scope.clone(), prints);
        }

        ArchivePass {
            config,
            full,
            scopes,
            work,
            now_known,
            report,
            done: Mutex::new(Vec::new()),
        }
    }

    /// The second half of [`Archives::sync`], once every page is rendered.
    pub fn finish(&mut self, pass: ArchivePass) -> HistoryReport {
        let ArchivePass {
            config,
            full,
            scopes,
            work,
            mut now_known,
            mut report,
            done,
        } = pass;
        let output = &config.paths.output;
        let mut done = done
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        done.sort_by_key(|(page, _)| *page);
        report.rendered = done.len();
        let rendered: HashSet<usize> = done.iter().map(|(page, _)| *page).collect();
        for (page, (scope, work)) in work.iter().enumerate() {
            if !rendered.contains(&page) {
                forget(&mut now_known, scope, &work.meta);
                report.skipped += 1;
            }
        }
        for (page, result) in done {
            let Some((scope, work)) = work.get(page) else {
                continue;
            };
            match result {
                Ok((changed, left_out)) => {
                    report.changed.extend(changed);
                    if !left_out.is_empty() {
                        // Rendered without them for now: not what the
                        // fingerprint says, so rendered again next time.
                        forget(&mut now_known, scope, &work.meta);
                        report.left_out.extend(left_out);
                    }
                }
                Err(error) => {
                    forget(&mut now_known, scope, &work.meta);
                    self.retry.insert(scope.clone());
                    report.errors.push(error);
                }
            }
        }
        // A sync that stopped early leaves the strays to the one that
        // completes (listing the output folder takes 100 ms at 100,000
        // articles, and the loop is waited for).
        if full && report.skipped == 0 {
            let expected: HashSet<PathBuf> = now_known
                .iter()
                .flat_map(|(scope, prints)| {
                    (1..=prints.len()).flat_map(move |number| pages_numbered(scope, number))
                })
                .map(|page| page.relative_file())
                .collect();
            report.pages = expected.len();
            match existing_pages(output) {
                Ok(existing) => {
                    for page in existing {
                        if !expected.contains(&page.relative_file()) {
                            remove_page(output, &page, &mut report);
                        }
                    }
                }
                Err(error) => report.errors.push(error),
            }
        }
        for (scope, prints) in now_known {
            if prints.is_empty() {
                self.known.remove(&scope);
            } else {
                self.known.insert(scope, prints);
            }
        }
        if !report.errors.is_empty() && full {
            // A failed removal is found again by the next full sync only.
            self.retry.extend(scopes);
        }
        if report.rendered > 0 || !report.changed.is_empty() {
            self.save();
        }
        report
    }

    /// Writes the fingerprints to the state folder. A failure costs only
    /// renders at the next start.
    fn save(&self) {
        let path = self.config.paths.state.join(STATE_FILE);
        let mut text = String::from(STATE_HEADER);
        text.push('\n');
        for (scope, prints) in &self.known {
            text.push_str(match scope {
                Scope::All => "",
                Scope::Category(slug) => slug,
            });
            for print in prints {
                text.push('\t');
                match print {
                    Some(print) => text.push_str(&blake3::Hash::from(*print).to_hex()),
                    None => text.push('-'),
                }
            }
            text.push('\n');
        }
        if let Err(error) =
            crate::publish::write_file(&path, text.as_bytes(), None, Durability::Unsynced)
        {
            tracing::warn!("{error}; the next start renders every archive page again");
        }
    }
}

/// The fingerprints a state file holds; `None` for anything but a whole,
/// well-formed file of this version (then every page is rendered again).
fn parse_state(text: &str) -> Option<BTreeMap<Scope, Vec<Option<Fingerprint>>>> {
    let mut lines = text.lines();
    if lines.next()? != STATE_HEADER || !text.ends_with('\n') {
        return None;
    }
    let mut known = BTreeMap::new();
    for line in lines {
        let mut fields = line.split('\t');
        let scope = match fields.next()? {
            "" => Scope::All,
            slug => Scope::Category(slug.to_owned()),
        };
        if !scope.is_well_formed() {
            return None;
        }
        let prints = fields
            .map(|field| match field {
                "-" => Some(None),
                hex => blake3::Hash::from_hex(hex)
                    .ok()
                    .map(|hash| Some(*hash.as_bytes())),
            })
            .collect::<Option<Vec<_>>>()?;
        known.insert(scope, prints);
    }
    Some(known)
}

/// Marks the page of `meta` as not written as its fingerprint says.
fn forget(known: &mut BTreeMap<Scope, Vec<Option<Fingerprint>>>, scope: &Scope, meta: &FeedMeta) {
    let index = meta.history.page.map_or(0, |n| n.get() as usize - 1);
    if let Some(print) = known
        .get_mut(scope)
        .and_then(|prints| prints.get_mut(index))
    {
        *print = None;
    }
}

/// Both formats' page `number` of `scope`.
fn pages_numbered(scope: &Scope, number: usize) -> impl Iterator<Item = ArchivePage> + '_ {
    let number = u32::try_from(number).ok().and_then(NonZeroU32::new);
    FORMATS
        .into_iter()
        .filter_map(move |format| ArchivePage::new(scope.clone(), format, number?))
}

fn both_written(output: &Path, scope: &Scope, number: usize) -> bool {
    pages_numbered(scope, number).all(|page| {
        std::fs::metadata(output.join(page.relative_file()))
            .is_ok_and(|meta| meta.is_file() && meta.len() > 0)
    })
}

/// What every page depends on besides its articles: what article pages
/// depend on (feedd's version, the site, the parsing settings) and what
/// the feeds add.
fn config_fingerprint(config: &Config) -> Fingerprint {
    let mut hasher = blake3::Hasher::new();
    hasher.update(crate::pages::fingerprint(config).as_bytes());
    hasher.update(&(config.feeds.limit as u64).to_le_bytes());
    hasher.update(&[u8::from(config.feeds.full_content)]);
    *hasher.finalize().as_bytes()
}

/// What one page shows: its place, its feed's names, and each article by
/// key, content and dates (the body is read from exactly that content).
fn fingerprint(config: &Fingerprint, meta: &FeedMeta, entries: &[&Entry]) -> Fingerprint {
    let mut hasher = blake3::Hasher::new();
    let mut field = |value: &[u8]| {
        hasher.update(&(value.len() as u64).to_le_bytes());
        hasher.update(value);
    };
    field(config);
    let number = meta.history.page.map_or(0, NonZeroU32::get);
    field(&number.to_le_bytes());
    // The newest page's links change when a newer one appears; the
    // others' never do.
    field(&[u8::from(number == meta.history.archives)]);
    for text in [&meta.title, &meta.description, &meta.link] {
        field(text.as_bytes());
    }
    for (slug, name) in &meta.category_names {
        field(slug.as_bytes());
        field(name.as_bytes());
    }
    for entry in entries {
        field(entry.key().as_bytes());
        entry.id().with_text(|id| field(id.as_bytes()));
        field(entry.content_hash());
        field(&entry.published.as_nanosecond().to_le_bytes());
        field(&entry.updated.as_nanosecond().to_le_bytes());
    }
    *hasher.finalize().as_bytes()
}

/// Renders one page in both formats and writes each file whose bytes
/// differ. The bodies are dropped on return.
fn render_and_write(
    catalog: &Catalog,
    sharing: &ParseSharing,
    config: &Config,
    work: &Work,
) -> Result<Written, PublishError> {
    let (items, left_out) = sharing.items(catalog, work.entries.clone());
    let mut changed = Vec::new();
    let Some(number) = work.meta.history.page else {
        return Ok((changed, left_out));
    };
    for format in FORMATS {
        let Some(page) = ArchivePage::new(work.meta.scope.clone(), format, number) else {
            continue;
        };
        let bytes = render_feed(format, config, &work.meta, &items).map_err(|error| {
            PublishError::Write {
                path: config.paths.output.join(page.relative_file()),
                error: std::io::Error::other(error.reason),
            }
        })?;
        let path = config.paths.output.join(page.relative_file());
        if std::fs::read(&path).is_ok_and(|old| old == bytes) {
            continue;
        }
        crate::publish::write_file(&path, &bytes, None, Durability::Unsynced)?;
        changed.push(page);
    }
    Ok((changed, left_out))
}

fn remove_page(output: &Path, page: &ArchivePage, report: &mut HistoryReport) {
    match remove_output_file(output, &page.relative_file()) {
        Ok(true) => report.changed.push(page.clone()),
        Ok(false) => {}
        Err(error) => report.errors.push(error),
    }
}

/// Every archive page file in the output folder, at its top and in its
/// category folders.
fn existing_pages(output: &Path) -> Result<Vec<ArchivePage>, PublishError> {
    Ok(output_entries(output)?
        .iter()
        .filter_map(|(relative, _)| ArchivePage::from_relative_file(relative))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_are_the_full_ones_that_leave_the_main_feed_something_newer() {
        assert_eq!(archive_count(0, 10), 0);
        assert_eq!(archive_count(10, 10), 0);
        assert_eq!(archive_count(11, 10), 1);
        assert_eq!(archive_count(20, 10), 1);
        assert_eq!(archive_count(21, 10), 2);
        assert_eq!(archive_count(5, 0), 0);
    }

    fn rels(history: History) -> Vec<String> {
        history
            .links("https://x", &Scope::Category("a".into()), Format::Atom)
            .into_iter()
            .map(|(rel, url)| format!("{rel} {}", url.trim_start_matches("https://x/a/")))
            .collect()
    }

    #[test]
    fn each_document_links_its_neighbours_and_both_ends() {
        assert!(rels(History::main(0)).is_empty());
        assert_eq!(
            rels(History::main(3)),
            [
                "first atom.xml",
                "next atom-3.xml",
                "last atom-1.xml",
                "prev-archive atom-3.xml"
            ]
        );
        let pages: Vec<History> = History::pages(3).collect();
        assert_eq!(
            rels(pages[2]),
            [
                "current atom.xml",
                "first atom.xml",
                "previous atom.xml",
                "next atom-2.xml",
                "last atom-1.xml",
                "prev-archive atom-2.xml"
            ]
        );
        assert_eq!(
            rels(pages[0]),
            [
                "current atom.xml",
                "first atom.xml",
                "previous atom-2.xml",
                "last atom-1.xml",
                "next-archive atom-2.xml"
            ]
        );
    }

    #[test]
    fn a_state_file_is_used_whole_or_not_at_all() {
        let a = blake3::hash(b"a").to_hex().to_string();
        let good = format!("{STATE_HEADER}\n\t{a}\t-\nkinh-te\t{a}\n");
        let known = parse_state(&good).unwrap();
        assert_eq!(
            known[&Scope::All],
            [Some(*blake3::hash(b"a").as_bytes()), None]
        );
        assert_eq!(known[&Scope::Category("kinh-te".into())].len(), 1);
        for bad in [
            String::new(),
            good.trim_end().to_string(),
            good.replace(STATE_HEADER, "feedd history 0"),
            good.replace("kinh-te", "../x"),
            good.replace(&a[..4], "zzzz"),
        ] {
            assert!(parse_state(&bad).is_none(), "{bad:?}");
        }
    }

    proptest::proptest! {
        #[test]
        fn any_state_file_text_is_read_without_panicking(text in "\\PC{0,200}") {
            let _ = parse_state(&text);
            let _ = parse_state(&format!("{STATE_HEADER}\n{text}\n"));
        }
    }
}
