//! The steps every run shares: render the feeds of changed scopes into
//! publish updates, and the one-shot `build` and `check` commands.

use std::collections::BTreeSet;
use std::sync::Arc;

use jiff::Timestamp;
use rayon::prelude::*;

use crate::article::ArticleError;
use crate::catalog::{Catalog, ParseSharing};
use crate::config::Config;
use crate::output::{Format, OutputPath, Scope};
use crate::progress::Progress;
use crate::publish::{PublishError, PublishOutcome, Publisher, Update};
use crate::render::{RenderError, render_feed, render_opml};
use crate::state::{StateError, StateStore};

/// What rendering some scopes gave.
#[derive(Debug, Default)]
pub struct Rendered {
    /// New bytes for each feed; `None` removes a feed whose category has
    /// nothing published any more.
    pub updates: Vec<Update>,
    /// Scopes that could not be rendered: they get no update (their last
    /// good feeds stay, RSS and Atom alike).
    pub errors: Vec<RenderError>,
    /// Articles left out because their file changed or went away after the
    /// catalog read it (a fresh build would not have them as they were
    /// either); once each, however many feeds show them. The change that
    /// caused it is on its way from the watcher, so `serve` only notes it.
    pub left_out: Vec<ArticleError>,
}

/// Whether the feeds' article bodies stay in the catalog after rendering.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bodies {
    /// `serve`: the next edit re-renders the feeds that show them.
    Kept,
    /// `build`: nothing renders a feed twice, so keeping them only adds
    /// to the peak.
    Dropped,
}

/// Renders every feed of `scopes` as of `now`.
pub fn render_updates<'a>(
    catalog: &Catalog,
    scopes: impl IntoIterator<Item = &'a Scope>,
    now: Timestamp,
    bodies: Bodies,
) -> Rendered {
    let scopes: Vec<&Scope> = scopes.into_iter().collect();
    // Scopes render independently; their bodies are read from disk.
    let per_scope: Vec<Rendered> = scopes
        .par_iter()
        .map(|scope| render_scope(catalog, scope, now, bodies))
        .collect();
    catalog.prune_bodies(now);
    let mut rendered = Rendered::default();
    for scope in per_scope {
        rendered.absorb(scope);
    }
    rendered
}

impl Rendered {
    /// Takes in `part`'s updates and errors, and its left-out articles
    /// that are not noted yet (one article is in several scopes' feeds).
    fn absorb(&mut self, part: Rendered) {
        self.updates.extend(part.updates);
        self.errors.extend(part.errors);
        for error in part.left_out {
            if !self
                .left_out
                .iter()
                .any(|noted| noted.path() == error.path())
            {
                self.left_out.push(error);
            }
        }
    }
}

/// Scopes rendered and written together by a one-shot build: enough for
/// both cores, few enough that the feeds in memory at once stay a small part
/// of the build's peak (all 51 scopes' full-content feeds of a 50-category
/// site are about 35 MB).
const SCOPES_PER_BUILD_CHUNK: usize = 4;

/// [`render_updates`] and [`Publisher::publish`] of `scopes`, a few scopes
/// at a time, for `build`: no reader sees the feeds between two chunks, so
/// nothing needs them published together.
fn render_and_publish_in_chunks(
    catalog: &Catalog,
    publisher: &mut Publisher,
    scopes: &BTreeSet<Scope>,
    now: Timestamp,
) -> (Rendered, PublishOutcome) {
    let scopes: Vec<&Scope> = scopes.iter().collect();
    let mut rendered = Rendered::default();
    let mut outcome = PublishOutcome::default();
    for chunk in scopes.chunks(SCOPES_PER_BUILD_CHUNK) {
        let mut part = render_updates(catalog, chunk.iter().copied(), now, Bodies::Dropped);
        let published = publisher.publish(std::mem::take(&mut part.updates));
        outcome.changed.extend(published.changed);
        outcome.errors.extend(published.errors);
        rendered.absorb(part);
    }
    (rendered, outcome)
}

/// Every output of `scope`: one format failing keeps the last good version
/// of all of them (no update at all).
fn render_scope(catalog: &Catalog, scope: &Scope, now: Timestamp, bodies: Bodies) -> Rendered {
    let config = catalog.config();
    let Some((meta, entries)) = catalog.feed(scope, now) else {
        return Rendered {
            updates: OutputPath::all_of(scope).map(Update::remove).collect(),
            ..Rendered::default()
        };
    };
    let (items, left_out) = match bodies {
        Bodies::Kept => catalog.with_bodies(entries),
        Bodies::Dropped => catalog.with_bodies_uncached(entries),
    };
    let (rendered, failed): (Vec<_>, Vec<_>) = OutputPath::all_of(scope)
        .map(|path| match path.format {
            // Site-wide, rendered with the site's feeds: any change to the
            // set of categories or their names dirties `Scope::All` too.
            Format::Opml => Ok(Update::write(
                path,
                render_opml(config, &catalog.feed_list(now)),
            )),
            Format::Html => Ok(Update::write(
                path,
                crate::pages::render_scope_page(catalog, &meta, &items, now),
            )),
            Format::Stylesheet => Ok(Update::write(path, crate::pages::stylesheet().to_vec())),
            format => {
                render_feed(format, config, &meta, &items).map(|bytes| Update::write(path, bytes))
            }
        })
        .partition(Result::is_ok);
    if failed.is_empty() {
        Rendered {
            updates: rendered.into_iter().filter_map(Result::ok).collect(),
            errors: Vec::new(),
            left_out,
        }
    } else {
        Rendered {
            updates: Vec::new(),
            errors: failed.into_iter().filter_map(Result::err).collect(),
            left_out,
        }
    }
}

/// Every scope that needs rendering for a full build: the catalog's own,
/// plus those published now that have to go.
pub fn all_scopes(catalog: &Catalog, publisher: &Publisher, now: Timestamp) -> BTreeSet<Scope> {
    let mut scopes: BTreeSet<Scope> = catalog.scopes(now).into_iter().collect();
    scopes.extend(publisher.published_paths().into_iter().map(|p| p.scope));
    scopes
}

/// What a one-shot build did.
#[derive(Debug, Default)]
pub struct BuildReport {
    /// Articles in the catalog (drafts and scheduled ones included).
    pub articles: usize,
    /// Feeds in the output directory after the build.
    pub feeds: usize,
    /// Pages (front, category and article pages, and their style sheet) after the build.
    pub pages: usize,
    /// Feeds written or removed because their bytes changed.
    pub changed: Vec<OutputPath>,
    /// Articles that could not be published.
    pub rejected: Vec<ArticleError>,
    /// Feeds and pages that could not be written.
    pub publish_errors: Vec<PublishError>,
    /// How many article pages were written or removed because their bytes changed.
    pub pages_changed: usize,
    /// Archive page files (RSS and Atom) after the build.
    pub archive_pages: usize,
    /// Archive page files written or removed because their bytes changed.
    pub archives_changed: Vec<crate::output::ArchivePage>,
    /// The state journal could not be written.
    pub state_errors: Vec<StateError>,
    /// What had to be repaired in the state journal (not an error).
    pub state_warnings: Vec<String>,
    /// Feeds that could not be rendered (their last good version stays).
    pub render_errors: Vec<RenderError>,
    /// False when nothing was published because a folder could not be read.
    pub published: bool,
}

impl BuildReport {
    /// Whether anything went wrong (the exit status is 1).
    pub fn has_errors(&self) -> bool {
        !(self.rejected.is_empty()
            && self.publish_errors.is_empty()
            && self.state_errors.is_empty()
            && self.render_errors.is_empty())
    }
}

/// Bytes of parsed bodies that [`sync_pages_and_archives`] may hold for
/// their next use. 20,000 generated articles in 50 categories, with
/// `feeds.limit` 50, held 8 MB at most (an article waits for its category's
/// archive page to fill: about 50 x 50 articles later); fewer, larger
/// categories hold less, and past this many small ones parse again.
const SHARED_BODIES_BUDGET: usize = 32 << 20;

/// One rendering of [`sync_pages_and_archives`]: an index into its pass.
#[derive(Debug, Clone, Copy)]
enum Job {
    Page(usize),
    Archive(usize),
}

/// [`crate::pages::sync`] and [`crate::history::Archives::sync`] as one
/// pass that parses each article once for its page and its archive pages
/// (the site's and its category's): the renders run in the order of the
/// newest article each needs, oldest first, so that an article's uses come
/// close together and its body is held only between them ([`ParseSharing`]).
pub fn sync_pages_and_archives(
    catalog: &Catalog,
    archives: &mut crate::history::Archives,
    pages: crate::pages::Sync,
    which: crate::history::Which,
    now: Timestamp,
) -> (crate::pages::PageReport, crate::history::HistoryReport) {
    let (pages, history, _) =
        sync_pages_and_archives_until(catalog, archives, pages, which, now, &|| false);
    (pages, history)
}

/// [`sync_pages_and_archives`], leaving out every render not begun when
/// `stop` says so: those are counted as skipped in the reports (and an
/// archive page skipped is looked at again by the next sync). `true` with
/// the reports when it stopped early: the archive pages may then not even
/// have been planned.
pub fn sync_pages_and_archives_until(
    catalog: &Catalog,
    archives: &mut crate::history::Archives,
    pages: crate::pages::Sync,
    which: crate::history::Which,
    now: Timestamp,
    stop: &(dyn Fn() -> bool + Sync),
) -> (
    crate::pages::PageReport,
    crate::history::HistoryReport,
    bool,
) {
    // Planning takes a second at 100,000 articles: looked at between steps.
    let page_pass = crate::pages::plan(catalog, pages, now);
    if stop() {
        page_pass.skip_all();
        return (page_pass.finish(), Default::default(), true);
    }
    let archive_pass = archives.plan(catalog, which, now);
    let mut jobs: Vec<(Timestamp, Job)> = Vec::with_capacity(page_pass.len() + archive_pass.len());
    for page in 0..page_pass.len() {
        if let Some(entry) = page_pass.entry(page) {
            jobs.push((entry.published, Job::Page(page)));
        }
    }
    for page in 0..archive_pass.len() {
        let entries = archive_pass.entries(page);
        let newest = entries.iter().map(|entry| entry.published).max();
        jobs.push((newest.unwrap_or(Timestamp::MIN), Job::Archive(page)));
    }
    // Stable: a page before the archive pages that end with its article.
    jobs.sort_by_key(|(newest, _)| *newest);
    let uses = (0..page_pass.len())
        .filter_map(|page| page_pass.entry(page))
        .chain((0..archive_pass.len()).flat_map(|page| archive_pass.entries(page).iter().copied()));
    let stopped_early = stop();
    let sharing = match stopped_early {
        true => ParseSharing::none(),
        false => ParseSharing::new(uses, SHARED_BODIES_BUDGET),
    };
    // `par_bridge` hands the jobs out in this order as threads come free
    // (an indexed parallel iterator would split the list in halves, far
    // apart in time).
    jobs.into_iter()
        .map(|(_, job)| job)
        .par_bridge()
        .for_each(|job| match job {
            Job::Page(page) if stop() => page_pass.skip(page),
            Job::Page(page) => page_pass.render(catalog, &sharing, page),
            // Not rendered: `finish` finds it missing.
            Job::Archive(_) if stop() => {}
            Job::Archive(page) => archive_pass.render(catalog, &sharing, page),
        });
    tracing::debug!(
        held_at_most = sharing.peak_bytes(),
        "article pages and archive pages rendered"
    );
    let pages = page_pass.finish();
    let history = archives.finish(archive_pass);
    let stopped = stopped_early || pages.skipped > 0 || history.skipped > 0;
    (pages, history, stopped)
}

/// `feedd build`: reads every article and writes every feed whose bytes changed.
pub fn build(config: Arc<Config>) -> anyhow::Result<BuildReport> {
    build_with_progress(config, Arc::default())
}

/// [`build`], counting files scanned, articles parsed and documents
/// written into `progress` as it goes (for a progress line).
pub fn build_with_progress(
    config: Arc<Config>,
    progress: Arc<Progress>,
) -> anyhow::Result<BuildReport> {
    let mut state = StateStore::open(&config.paths.state)?;
    let state_warnings = state.take_warnings();
    let mut catalog = Catalog::new(config.clone(), state);
    catalog.set_progress(Arc::clone(&progress));
    // Without a usable cache every file is read, which gives the same result.
    let _ = catalog.load_cache();
    let changes = catalog.rescan();
    let mut publisher = Publisher::new(config.paths.output.clone(), config.server.max_age, false);
    publisher.set_progress(progress);
    publisher.load_existing()?;
    publisher.remove_leftover_temp_files()?;
    let mut report = BuildReport {
        articles: catalog.len(),
        rejected: changes.rejected,
        state_errors: changes.state_errors,
        state_warnings,
        ..BuildReport::default()
    };
    // A folder that could not be read would look like deleted articles:
    // publishing now would drop them (or every feed) from the site.
    if !changes.incomplete {
        let now = Timestamp::now();
        let scopes = all_scopes(&catalog, &publisher, now);
        // Article pages are written beside the feeds, not after them: the
        // feeds' rendering and publishing leave a core idle much of the
        // time, and the pages fill it (10,000 articles on 2 cores: the
        // build takes about a third less time than one after the other).
        let ((rendered, outcome), pages) = rayon::join(
            || render_and_publish_in_chunks(&catalog, &mut publisher, &scopes, now),
            || {
                let mut archives = crate::history::Archives::load(config.clone());
                sync_pages_and_archives(
                    &catalog,
                    &mut archives,
                    crate::pages::Sync::All,
                    crate::history::Which::Everything,
                    now,
                )
            },
        );
        let (pages, history) = pages;
        report.archive_pages = history.pages;
        report.archives_changed = history.changed;
        report.rejected.extend(history.left_out);
        report.render_errors = rendered.errors;
        // Two articles with one page (both published, the older one's items
        // linking to the other's page) or one id (feeds show the newer):
        // an error, so that the build fails until one gets another slug or id.
        report.rejected.extend(catalog.conflicts(now));
        // Changed while this build read it: not published, as if rejected.
        report.rejected.extend(rendered.left_out);
        report.changed = outcome.changed;
        report.publish_errors = outcome.errors;
        report.publish_errors.extend(history.errors);
        report.pages = pages.pages;
        report.pages_changed = pages.changed;
        report.rejected.extend(pages.rejected);
        report.publish_errors.extend(pages.errors);
        report.published = true;
    }
    let (pages, feeds): (Vec<_>, Vec<_>) = publisher
        .published_paths()
        .into_iter()
        // The pages' style sheet counts with them.
        .partition(|path| matches!(path.format, Format::Html | Format::Stylesheet));
    report.feeds = feeds.len();
    report.pages += pages.len();
    if let Err(error) = catalog.save_cache() {
        report.state_warnings.push(format!(
            "{}: cannot write the catalog cache: {error}; the next run reads every article",
            config.paths.state.display()
        ));
    }
    Ok(report)
}

/// `feedd check`: reads every article and reports, writing nothing.
pub fn check(config: Arc<Config>) -> (Catalog, Vec<ArticleError>) {
    let mut catalog = Catalog::new(config, StateStore::in_memory());
    let mut changes = catalog.rescan();
    changes.rejected.extend(catalog.conflicts(Timestamp::now()));
    (catalog, changes.rejected)
}
