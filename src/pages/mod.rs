//! The HTML side of the site: the front page (`/`), each category's page
//! (`/{category}/`) and a page per article at its default link
//! (`/{category}/{slug}.html`), so that no link in a feed is a dead end.
//!
//! Front and category pages are [`OutputPath`]s (`Format::Html`) rendered
//! beside their scope's feeds ([`render_scope_page`]) and published like
//! them: in the served snapshot, compressed once per change. Article pages
//! are too many for that (one per article: 100,000 pages would be hundreds
//! of megabytes in memory), so [`sync`] writes them straight to the output
//! folder, atomically and only when their bytes change, and the server reads
//! them from there on request with the same validators. Nothing here keeps
//! an article body after its page is written.
//!
//! `templates` holds the markup; this file gathers what each page shows
//! from the catalog. Knows no HTTP.

mod templates;

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jiff::Timestamp;
use rayon::prelude::*;

use crate::article::ArticleError;
use crate::catalog::{Catalog, Entry, FeedItem, FeedMeta, ParseSharing};
use crate::config::Config;
use crate::output::{ArticlePage, Format, OutputPath, Scope};
use crate::publish::{Durability, PublishError, output_entries, remove_output_file};
use templates::{ArticleView, Date, FeedLinks, Headline, Labels, NavLink, Section, SiteInfo};

/// Headlines per category on the front page.
const FRONT_PAGE_HEADLINES: usize = 5;
/// Headlines in the front page's "latest" column.
const FRONT_PAGE_LATEST: usize = 8;

/// The `/` or `/{category}/` page of `meta`'s scope, whose newest items are
/// `items` (the scope's feed items). The front page also lists each
/// category's newest headlines, which it asks `catalog` for.
pub fn render_scope_page(
    catalog: &Catalog,
    meta: &FeedMeta,
    items: &[FeedItem],
    now: Timestamp,
) -> Vec<u8> {
    let config = catalog.config();
    let site = site_info(config);
    match &meta.scope {
        Scope::All => {
            let latest: Vec<Headline> = items
                .iter()
                .take(FRONT_PAGE_LATEST)
                .map(|item| headline(config, item, false))
                .collect();
            let sections: Vec<Section> = catalog
                .scopes(now)
                .into_iter()
                .filter(|scope| *scope != Scope::All)
                .filter_map(|scope| {
                    let (meta, entries) = catalog.feed(&scope, now)?;
                    let entries = entries.into_iter().take(FRONT_PAGE_HEADLINES).collect();
                    let (items, _) = catalog.with_bodies(entries);
                    Some(section(catalog, &meta, &items, false))
                })
                .collect();
            let feeds = feed_links(config, &Scope::All, meta.title.clone());
            templates::index_page(
                &site,
                &meta.link,
                &feeds,
                &latest,
                &sections,
                &navigation(catalog, now),
            )
        }
        Scope::Category(_) => {
            let section = section(catalog, meta, items, true);
            // No navigation bar: it lists every category, and a category
            // page is rendered again only when its own articles change.
            templates::category_page(&site, &meta.link, &section, &[])
        }
    }
}

/// The article's page, from its file (read again) and the catalog.
fn render_article(
    catalog: &Catalog,
    sharing: &ParseSharing,
    entry: &Entry,
    page: &ArticlePage,
) -> Result<Vec<u8>, ArticleError> {
    let config = catalog.config();
    let (article, body) = sharing.article_with_body(catalog, entry)?;
    let site = site_info(config);
    let (category, feeds) = match &page.category {
        Some(slug) => {
            let title = catalog.category_name(slug).to_string();
            let scope = Scope::Category(slug.clone());
            let feeds = feed_links(config, &scope, format!("{title} – {}", config.site.title));
            let link = page_url(config, &scope);
            (Some(NavLink { title, link }), feeds)
        }
        None => (
            None,
            feed_links(config, &Scope::All, config.site.title.clone()),
        ),
    };
    let updated = (entry.updated != entry.published).then(|| date(config, entry.updated));
    let view = ArticleView {
        title: &article.title,
        url: &article.link,
        author: article.author.as_deref().unwrap_or(&config.site.author),
        published: date(config, entry.published),
        updated,
        summary: &body.summary,
        body_html: &body.content_html,
        category,
        feeds,
        image: body.image.as_ref().map(|image| image.url.as_str()),
    };
    // What an article page shows comes from its own file, its category's
    // name and the config only, so an edit elsewhere never changes it.
    Ok(templates::article_page(&site, &view, &[]))
}

/// Which article pages [`sync`] renders.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sync<'a> {
    /// Every page (a build, a config reload): each is rendered and written
    /// if its bytes changed; pages of no article are removed.
    All,
    /// As [`Sync::All`], but for the pages in `fresh` (output-relative
    /// files), which earlier passes rendered under the same config (a
    /// [`Sync::Missing`] pass, and this one's own earlier tries when they
    /// were cut short): the rest of a full pass that the daemon puts after
    /// the edits waiting, and interrupts for new ones.
    AllBut {
        /// Pages rendered under this config since the full pass began.
        fresh: &'a HashSet<PathBuf>,
    },
    /// A start on a cached catalog: the pages of `touched` articles and any
    /// page missing from the output folder (or empty); pages of no article
    /// are removed.
    Missing {
        /// Articles read anew.
        touched: &'a BTreeSet<Arc<str>>,
    },
    /// An edit: the pages of `touched` articles; of `gone`, those no
    /// article has any more are removed.
    Changed {
        /// Articles read anew, or just due.
        touched: &'a BTreeSet<Arc<str>>,
        /// Pages of articles removed or changed.
        gone: &'a BTreeSet<ArticlePage>,
    },
}

/// What [`sync`] did.
#[derive(Debug, Default)]
pub struct PageReport {
    /// Article pages there are now (counted by [`Sync::All`] only).
    pub pages: usize,
    /// How many pages changed bytes (written) or were removed.
    pub changed: usize,
    /// Articles whose page could not be rendered (the old page stays).
    pub rejected: Vec<ArticleError>,
    /// Pages that could not be written or removed.
    pub errors: Vec<PublishError>,
    /// The articles whose page could not be written, to try again
    /// ([`Sync::Missing`] also removes what could not be removed).
    pub failed: BTreeSet<Arc<str>>,
    /// Pages left out by [`PagePass::skip`]: while there are any, the
    /// pass is not complete (and the pages' config is not recorded).
    pub skipped: usize,
    /// The pages a [`Sync::Missing`] or [`Sync::AllBut`] pass rendered and
    /// are on disk now (output-relative files), for a [`Sync::AllBut`] to
    /// leave out.
    pub fresh: HashSet<PathBuf>,
}

/// Brings the article pages in the output folder up to date as of `now`.
/// Pages are rendered in parallel, each read, rendered, written and
/// dropped on its own thread, so that at most one body per thread is held.
pub fn sync(catalog: &Catalog, how: Sync, now: Timestamp) -> PageReport {
    let pass = plan(catalog, how, now);
    let sharing = ParseSharing::none();
    (0..pass.len())
        .into_par_iter()
        .for_each(|page| pass.render(catalog, &sharing, page));
    pass.finish()
}

/// The pages one [`sync`] renders, between [`plan`] and [`PagePass::finish`].
pub struct PagePass<'a> {
    config: Arc<Config>,
    all: bool,
    /// Whether to list the pages rendered in [`PageReport::fresh`].
    notes_fresh: bool,
    work: Vec<(ArticlePage, &'a Entry)>,
    /// For a full pass: the pages there should be, and those there were.
    expected: Option<HashSet<PathBuf>>,
    on_disk: Option<Result<HashSet<PathBuf>, PublishError>>,
    /// What the renders came to, as they come: a result per page would
    /// be a hundred bytes each, megabytes at 100,000 articles.
    report: Mutex<PageReport>,
}

/// The first half of [`sync`]: which pages to render, and the removals of
/// an edit's pages. Render each with [`PagePass::render`], in any order,
/// then [`PagePass::finish`].
pub fn plan<'a>(catalog: &'a Catalog, how: Sync, now: Timestamp) -> PagePass<'a> {
    let config = Arc::clone(catalog.config());
    let output = &config.paths.output;
    let all = matches!(how, Sync::All | Sync::AllBut { .. });
    if all {
        // Until this pass is done, the pages on disk are of no known
        // config: a kill now makes the next start render them all again.
        forget_fingerprint(&config);
    }
    let mut report = PageReport::default();
    let mut expected: Option<HashSet<PathBuf>> = None;
    let work: Vec<(ArticlePage, &Entry)> = match how {
        Sync::All | Sync::AllBut { .. } | Sync::Missing { .. } => {
            let pages = catalog.pages(now);
            expected = Some(pages.iter().map(|(p, _)| p.relative_file()).collect());
            report.pages = pages.len();
            match how {
                Sync::Missing { touched } => pages
                    .into_iter()
                    .filter(|(page, entry)| {
                        touched.contains(entry.key())
                            || !is_written(&output.join(page.relative_file()))
                    })
                    .collect(),
                Sync::AllBut { fresh } => pages
                    .into_iter()
                    .filter(|(page, _)| !fresh.contains(&page.relative_file()))
                    .collect(),
                _ => pages,
            }
        }
        Sync::Changed { touched, gone } => {
            // A page shows the newest article that has it, whichever of
            // them changed: an older one saved last must not take it over,
            // and a page whose article went shows the next one that has it.
            let mut pages: BTreeSet<ArticlePage> = touched
                .iter()
                .filter_map(|key| catalog.entry(key))
                .filter_map(|entry| catalog.page(entry, now))
                .collect();
            pages.extend(gone.iter().cloned());
            let owners = catalog.page_owners(&pages, now);
            for page in gone {
                if !owners.contains_key(page) {
                    remove_page(output, page, &mut report);
                }
            }
            owners.into_iter().collect()
        }
    };
    // The pages there before this pass (for a full pass, which also
    // removes those of no article).
    let on_disk: Option<Result<HashSet<PathBuf>, PublishError>> = expected.as_ref().map(|_| {
        existing_pages(output).map(|pages| pages.iter().map(ArticlePage::relative_file).collect())
    });
    PagePass {
        all,
        notes_fresh: matches!(how, Sync::Missing { .. } | Sync::AllBut { .. }),
        config,
        work,
        expected,
        on_disk,
        report: Mutex::new(report),
    }
}

impl<'a> PagePass<'a> {
    /// How many pages to render.
    pub fn len(&self) -> usize {
        self.work.len()
    }

    /// Whether there is no page to render.
    pub fn is_empty(&self) -> bool {
        self.work.is_empty()
    }

    /// The article of page `page`.
    pub fn entry(&self, page: usize) -> Option<&'a Entry> {
        self.work.get(page).map(|(_, entry)| *entry)
    }

    /// Renders page `page` of the pass, reading its article through
    /// `sharing`, writes it if its bytes differ, and notes the outcome.
    pub fn render(&self, catalog: &Catalog, sharing: &ParseSharing, page: usize) {
        let Some((page, entry)) = self.work.get(page) else {
            return;
        };
        let known = match &self.on_disk {
            Some(Ok(existing)) => Some(existing),
            _ => None,
        };
        let written = render_article(catalog, sharing, entry, page)
            .map(|bytes| write_page(&self.config.paths.output, page, &bytes, known));
        catalog.progress().page_written();
        // Nothing is left half-noted by a panic while it is held.
        let mut report = self
            .report
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match written {
            Ok(Ok(changed)) => {
                report.changed += usize::from(changed);
                if self.notes_fresh {
                    report.fresh.insert(page.relative_file());
                }
            }
            Ok(Err(error)) => {
                report.errors.push(error);
                report.failed.insert(Arc::from(entry.key()));
            }
            Err(error) => report.rejected.push(error),
        }
    }

    /// Leaves every page out of this pass.
    pub fn skip_all(&self) {
        let mut report = self
            .report
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        report.skipped += self.work.len();
    }

    /// Leaves page `page` out of this pass (nothing is written).
    pub fn skip(&self, page: usize) {
        if page < self.work.len() {
            let mut report = self
                .report
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            report.skipped += 1;
        }
    }

    /// The second half of [`sync`], once every page is rendered or skipped.
    pub fn finish(self) -> PageReport {
        let PagePass {
            config,
            all,
            expected,
            on_disk,
            report,
            ..
        } = self;
        let mut report = report
            .into_inner()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let output = &config.paths.output;
        // A pass that stopped early leaves the strays to the one that completes.
        if let (Some(expected), Some(on_disk), 0) = (expected, on_disk, report.skipped) {
            match on_disk {
                Ok(existing) => {
                    for relative in existing {
                        if !expected.contains(&relative)
                            && let Some(page) = ArticlePage::from_relative_file(&relative)
                        {
                            remove_page(output, &page, &mut report);
                        }
                    }
                }
                Err(error) => report.errors.push(error),
            }
        }
        if all && report.errors.is_empty() && report.skipped == 0 {
            save_fingerprint(&config);
        }
        report
    }
}

/// The file in `paths.state` that holds [`fingerprint`] of the config the
/// article pages on disk were all rendered with.
const FINGERPRINT_FILE: &str = "pages.fingerprint";

/// The style sheet of every page, `/style.css`.
pub fn stylesheet() -> &'static [u8] {
    templates::STYLE.as_bytes()
}

/// What article pages depend on besides their article: feedd's version (the
/// templates) and the config values they show or parse articles with.
pub(crate) fn fingerprint(config: &Config) -> String {
    let mut hasher = blake3::Hasher::new();
    let mut field = |value: &[u8]| {
        hasher.update(&(value.len() as u64).to_le_bytes());
        hasher.update(value);
    };
    let site = &config.site;
    field(env!("CARGO_PKG_VERSION").as_bytes());
    field(&templates::REVISION.to_le_bytes());
    for text in [
        &site.title,
        &site.base_url,
        &site.description,
        &site.language,
        &site.author,
    ] {
        field(text.as_bytes());
    }
    // A time zone's Debug differs between processes; its name does not.
    let zone = &site.timezone;
    field(zone.iana_name().unwrap_or("").as_bytes());
    field(format!("{:?}", zone.to_offset(Timestamp::UNIX_EPOCH)).as_bytes());
    for (slug, category) in &config.categories {
        field(slug.as_bytes());
        field(category.title.as_deref().unwrap_or("\0").as_bytes());
    }
    for prefix in &config.text.byline_prefixes {
        field(prefix.as_bytes());
    }
    field(&config.feeds.max_article_bytes.to_le_bytes());
    hasher.finalize().to_hex().to_string()
}

/// Whether every article page on disk was rendered under this config, so
/// that a start needs to render only the pages of articles read anew.
pub fn fingerprint_is_current(config: &Config) -> bool {
    std::fs::read_to_string(config.paths.state.join(FINGERPRINT_FILE))
        .is_ok_and(|stored| stored.trim_end() == fingerprint(config))
}

fn forget_fingerprint(config: &Config) {
    let _ = std::fs::remove_file(config.paths.state.join(FINGERPRINT_FILE));
}

/// Not written atomically: a torn file only fails to match, which costs a
/// full render at the next start, never a stale page.
fn save_fingerprint(config: &Config) {
    let path = config.paths.state.join(FINGERPRINT_FILE);
    if let Err(error) = std::fs::write(&path, fingerprint(config) + "\n") {
        tracing::warn!(path = %path.display(), %error, "cannot record the pages' config; the next start renders every page");
    }
}

/// Whether a page file is there and not empty (pages are not synced: a
/// power loss just after a write may leave one empty; see `Durability`).
fn is_written(file: &Path) -> bool {
    std::fs::metadata(file).is_ok_and(|meta| meta.is_file() && meta.len() > 0)
}

/// Writes `bytes` as `page` unless the file already holds them (so that an
/// unchanged page keeps its modification time, its `Last-Modified`).
/// `Ok(true)`: written.
fn write_page(
    output: &Path,
    page: &ArticlePage,
    bytes: &[u8],
    on_disk: Option<&HashSet<PathBuf>>,
) -> Result<bool, PublishError> {
    let relative = page.relative_file();
    let path = output.join(&relative);
    // A full pass knows which pages exist: a cold build tries no read.
    let may_exist = on_disk.is_none_or(|existing| existing.contains(&relative));
    if may_exist && std::fs::read(&path).is_ok_and(|old| old == bytes) {
        return Ok(false);
    }
    // The mtime the write gives is the page's Last-Modified.
    crate::publish::write_file(&path, bytes, None, Durability::Unsynced)?;
    Ok(true)
}

fn remove_page(output: &Path, page: &ArticlePage, report: &mut PageReport) {
    match remove_output_file(output, &page.relative_file()) {
        Ok(true) => report.changed += 1,
        Ok(false) => {}
        Err(error) => report.errors.push(error),
    }
}

/// Every article page in the output folder: `*.html` files (other than
/// `index.html`) at its top and in its category folders.
fn existing_pages(output: &Path) -> Result<Vec<ArticlePage>, PublishError> {
    Ok(output_entries(output)?
        .iter()
        .filter_map(|(relative, _)| ArticlePage::from_relative_file(relative))
        .collect())
}

fn site_info(config: &Config) -> SiteInfo<'_> {
    SiteInfo {
        title: &config.site.title,
        description: &config.site.description,
        language: &config.site.language,
        home: site_home(config),
        labels: Labels::for_language(&config.site.language),
    }
}

fn site_home(config: &Config) -> &str {
    // `base_url` has no trailing slash; the front page's URL is `{base_url}/`,
    // but a link to the bare `base_url` reaches it as well.
    if config.site.base_url.is_empty() {
        "/"
    } else {
        &config.site.base_url
    }
}

/// The absolute URL of `scope`'s page.
fn page_url(config: &Config, scope: &Scope) -> String {
    let path = OutputPath::new(scope.clone(), Format::Html);
    format!("{}{}", config.site.base_url, path.url_path())
}

/// The feeds of `scope`, by absolute URL.
fn feed_links(config: &Config, scope: &Scope, title: String) -> FeedLinks {
    let url = |format| {
        let path = OutputPath::new(scope.clone(), format);
        format!("{}{}", config.site.base_url, path.url_path())
    };
    FeedLinks {
        title,
        rss: url(Format::Rss),
        atom: url(Format::Atom),
        json: url(Format::JsonFeed),
    }
}

/// The categories that have a page now, for the navigation bar.
fn navigation(catalog: &Catalog, now: Timestamp) -> Vec<NavLink> {
    let config = catalog.config();
    catalog
        .scopes(now)
        .into_iter()
        .filter_map(|scope| match &scope {
            Scope::All => None,
            Scope::Category(slug) => Some(NavLink {
                title: catalog.category_name(slug).to_string(),
                link: page_url(config, &scope),
            }),
        })
        .collect()
}

fn section(catalog: &Catalog, meta: &FeedMeta, items: &[FeedItem], summaries: bool) -> Section {
    let config = catalog.config();
    let title = match &meta.scope {
        Scope::All => config.site.title.clone(),
        Scope::Category(slug) => catalog.category_name(slug).to_string(),
    };
    Section {
        description: (meta.description != title).then(|| meta.description.clone()),
        link: meta.link.clone(),
        headlines: items
            .iter()
            .map(|item| headline(config, item, summaries))
            .collect(),
        feeds: feed_links(config, &meta.scope, meta.title.clone()),
        title,
    }
}

fn headline(config: &Config, item: &FeedItem, summary: bool) -> Headline {
    Headline {
        title: item.article.title.clone(),
        link: item.article.link.clone(),
        published: date(config, item.entry.published),
        summary: summary
            .then(|| item.body.summary.clone())
            .filter(|s| !s.is_empty()),
    }
}

/// `ts` in the site's time zone: RFC 3339 for `datetime`, and for people
/// `02/12/2026 08:15` in Vietnamese, `2 Dec 2026, 08:15` otherwise (local
/// time, as news sites write it; `datetime` carries the offset).
fn date(config: &Config, ts: Timestamp) -> Date {
    let zoned = ts.to_zoned(config.site.timezone.clone());
    let vietnamese = Labels::is_vietnamese(&config.site.language);
    let human_format = if vietnamese {
        "%d/%m/%Y %H:%M"
    } else {
        "%-d %b %Y, %H:%M"
    };
    let format = |f: &str| jiff::fmt::strtime::format(f, &zoned).unwrap_or_else(|_| ts.to_string());
    Date {
        machine: format("%Y-%m-%dT%H:%M:%S%:z"),
        human: format(human_format),
    }
}
