//! `feedd serve`: the only module that sees every piece.
//!
//! Startup serves the feeds already on disk at once, then rescans and
//! publishes what changed. One synchronous loop owns the catalog and the
//! publisher: it takes debounced batches from the watcher, wakes for
//! scheduled articles, reloads the config, and stops on a signal. The HTTP
//! server runs on tokio beside it and only reads the published snapshot;
//! the WebSub pinger runs there too, fed through a channel that never
//! blocks the loop. The loop keeps the health that `/healthz` reports and
//! counts what `/metrics` shows.

use std::collections::{BTreeSet, HashSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use jiff::Timestamp;
use tracing::{debug, error, info, warn};

use crate::article::ArticleError;
use crate::catalog::{Catalog, Changes, Scope};
use crate::config::Config;
use crate::history;
use crate::metrics::{Health, Metrics};
use crate::output::ArticlePage;
use crate::pages;
use crate::pipeline::{Bodies, all_scopes, render_updates};
use crate::progress::Progress;
use crate::publish::{FeedLinks, Publisher};
use crate::state::StateStore;
use crate::systemd::ServiceManager;
use crate::watch::{self, Message, Next};
use crate::websub::Pinger;

/// The name of the runtime's threads, which only answer requests.
const HTTP_THREAD_NAME: &str = "feedd-http";

/// Runs the daemon until SIGINT or SIGTERM.
pub fn run(config: Arc<Config>) -> anyhow::Result<()> {
    exit_on_panic_outside_requests();
    let runtime = http_runtime().context("cannot start the async runtime")?;
    // Before anything slow: until they are installed, SIGHUP would kill feedd.
    let signals = {
        let _in_runtime = runtime.enter();
        Signals::install()
    };
    let (tx, rx) = watch::channel();
    // First: a second process on the same state must stop before it touches
    // anything (removing the output folder's leftover temp files would
    // delete the running one's writes in flight). Its journal is read once
    // the feeds on disk are served.
    let state = StateStore::lock(&config.paths.state)?;

    let mut publisher = Publisher::new(config.paths.output.clone(), config.server.max_age, true);
    publisher.set_feed_links(feed_links(&config));
    let loaded = publisher.load_existing()?;
    let metrics = Arc::new(Metrics::new());
    let pinger = Pinger::start(
        runtime.handle(),
        config.websub.hubs.clone(),
        Arc::clone(&metrics),
    );
    let listener = runtime
        .block_on(tokio::net::TcpListener::bind(config.server.listen))
        .with_context(|| {
            format!(
                "{}: cannot listen on {} (server.listen); is another server using it?",
                config.source.display(),
                config.server.listen
            )
        })?;
    let address = listener.local_addr()?;
    info!(
        feeds = loaded,
        articles = %config.paths.articles.display(),
        output = %config.paths.output.display(),
        "listening on http://{address}/"
    );

    let (stop_server, server_stopped) = tokio::sync::oneshot::channel::<()>();
    let snapshot = publisher.snapshot();
    let signal_tx = tx.clone();
    let served_metrics = Arc::clone(&metrics);
    // A thread of its own drives the runtime, whichever its flavour: a
    // current-thread runtime only runs while someone is in `block_on`.
    let server = std::thread::Builder::new()
        .name(HTTP_THREAD_NAME.into())
        .spawn(move || {
            runtime.block_on(async move {
                tokio::spawn(forward_signals(signals, signal_tx));
                crate::server::serve_with_metrics(
                    listener,
                    snapshot,
                    served_metrics,
                    async {
                        let _ = server_stopped.await;
                    },
                    crate::server::Limits::default(),
                )
                .await
            })
        })
        .context("cannot start the HTTP thread")?;
    // The feeds on disk go out as identity until their compressed variants
    // are ready: the 205 documents of a 100,000-article site take most of a
    // second of one core to compress (gzip and brotli).
    let compress = publisher.compress_served();
    if !compress.is_empty() {
        std::thread::Builder::new()
            .name("feedd-compress".into())
            .spawn(move || compress.run())
            .context("cannot start the thread that compresses the loaded feeds")?;
    }

    let outcome = publisher
        .start_removing_leftover_temp_files()
        .context("cannot start the thread that removes leftover temporary files")
        .and_then(|()| Ok(state.load()?))
        .and_then(|mut state| {
            for warning in state.take_warnings() {
                warn!("{warning}");
            }
            Daemon::start(config, publisher, state, tx, metrics, pinger, address)
        })
        .and_then(|mut daemon| daemon.run_loop(&rx));

    let _ = stop_server.send(());
    let served = server.join();
    info!("stopped");
    outcome?;
    match served {
        Ok(served) => served.context("the HTTP server failed")?,
        Err(panic) => std::panic::resume_unwind(panic),
    }
    Ok(())
}

/// The runtime that answers requests, sized to the CPUs this process may
/// use (its affinity mask, as `taskset` or a cgroup sets it). On one CPU a
/// current-thread runtime: the work-stealing scheduler's cross-thread
/// wake-ups and queues buy nothing there and cost about an eighth of the
/// requests per second (measured with wrk against a bare hyper server
/// pinned to one core: 11,900 vs 10,500 req/s for a 25 KB feed).
fn http_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    let cpus = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let mut builder = if cpus == 1 {
        tokio::runtime::Builder::new_current_thread()
    } else {
        let mut builder = tokio::runtime::Builder::new_multi_thread();
        builder.worker_threads(cpus);
        builder
    };
    builder.enable_all().thread_name(HTTP_THREAD_NAME).build()
}

/// A panic in the rebuild loop, the watcher or the poller would leave a
/// process that serves stale feeds forever (or hangs while unwinding into
/// the runtime), which no supervisor notices: exit instead, so that systemd
/// or the like restarts feedd, which rescans. A panic while answering one
/// request only ends that connection (tokio catches it), as before.
fn exit_on_panic_outside_requests() {
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        report(info);
        if std::thread::current().name() != Some(HTTP_THREAD_NAME) {
            error!("internal error outside request handling; exiting so that a restart rescans");
            std::process::exit(101);
        }
    }));
}

/// The signals `serve` answers: SIGTERM and SIGINT stop it, SIGHUP reloads
/// the config (`systemctl reload`).
struct Signals {
    terminate: tokio::signal::unix::Signal,
    interrupt: tokio::signal::unix::Signal,
    hangup: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers; must run inside the runtime.
    fn install() -> std::io::Result<Signals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(Signals {
            terminate: signal(SignalKind::terminate())?,
            interrupt: signal(SignalKind::interrupt())?,
            hangup: signal(SignalKind::hangup())?,
        })
    }
}

async fn forward_signals(signals: std::io::Result<Signals>, tx: watch::Inbox) {
    let mut signals = match signals {
        Ok(signals) => signals,
        Err(error) => {
            error!("cannot install signal handlers ({error}); stop feedd with SIGKILL");
            return;
        }
    };
    loop {
        tokio::select! {
            _ = signals.terminate.recv() => info!("SIGTERM: shutting down"),
            _ = signals.interrupt.recv() => info!("SIGINT: shutting down"),
            _ = signals.hangup.recv() => {
                info!("SIGHUP: reloading the config");
                if tx.send(Message::Reload).is_err() {
                    return;
                }
                continue;
            }
        }
        break;
    }
    let _ = tx.send(Message::Shutdown);
}

struct Daemon {
    config: Arc<Config>,
    catalog: Catalog,
    publisher: Publisher,
    watch_scope: watch::Scope,
    _watching: watch::Watching,
    tx: watch::Inbox,
    /// Scheduled articles up to this instant have been published.
    due_until: Timestamp,
    /// The articles folder being watched (device, inode): another one under
    /// the same name (deleted and recreated, or renamed away and replaced)
    /// must be watched anew.
    watched_folder: Option<(u64, u64)>,
    /// While the articles folder is gone: when to look for it next, and the
    /// wait after that one.
    folder_gone: Option<(Instant, Duration)>,
    /// A scan could not read every folder: publish nothing until a full
    /// rescan succeeds.
    rescan_pending: bool,
    /// What `/metrics` counts and `/healthz` reports.
    metrics: Arc<Metrics>,
    /// The first error of the last rebuild that rendered anything, if it had any.
    last_rebuild_error: Option<String>,
    /// Tells the WebSub hubs of changed feeds.
    pinger: Pinger,
    /// Article pages to write again after a failed write or removal (a
    /// full or read-only output folder): the articles, when, and the wait
    /// after the next failure.
    page_retry: Option<(Instant, Duration, BTreeSet<Arc<str>>)>,
    /// When to give freed heap memory back (see [`Daemon::heap_trim_due`]),
    /// and when the first rebuild since the last time was.
    heap_trim: Option<(Instant, Instant)>,
    /// The archive pages of the feeds (RFC 5005).
    archives: history::Archives,
    /// Some while a full rebuild's check of the article and archive pages
    /// on disk is still to do (see [`PageWork::AllAfterEdits`]): the
    /// article pages rendered since that rebuild began (by it, and by the
    /// check's earlier tries that stopped for an edit), which need no check.
    deferred_page_check: Option<HashSet<PathBuf>>,
    /// systemd, when feedd runs as a `Type=notify` service.
    service: ServiceManager,
    /// Where the server listens, for the service status.
    address: std::net::SocketAddr,
}

/// What the `Link` header of every feed names.
fn feed_links(config: &Config) -> FeedLinks {
    FeedLinks {
        base_url: config.site.base_url.clone(),
        hubs: config.websub.hubs.clone(),
    }
}

/// The first and the longest wait between looks for a vanished articles folder.
const FOLDER_RETRY: (Duration, Duration) = (Duration::from_millis(100), Duration::from_secs(5));

/// How long [`Daemon::check_every_page`] goes on after an edit's rebuild
/// before it stops for the next one.
const PAGE_CHECK_AT_LEAST: Duration = Duration::from_millis(250);

/// The first wait before writing failed article pages again, and the
/// longest (doubling in between), as for feeds.
const PAGE_RETRY: (Duration, Duration) = (Duration::from_secs(1), Duration::from_secs(60));

/// The identity of a folder, `None` if it is not one.
fn folder_identity(path: &std::path::Path) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt as _;
    let meta = std::fs::metadata(path).ok()?;
    meta.is_dir().then(|| (meta.dev(), meta.ino()))
}

impl Daemon {
    fn start(
        config: Arc<Config>,
        publisher: Publisher,
        state: StateStore,
        tx: watch::Inbox,
        metrics: Arc<Metrics>,
        pinger: Pinger,
        address: std::net::SocketAddr,
    ) -> anyhow::Result<Daemon> {
        let watch_scope = watch::Scope {
            articles: config.paths.articles.clone(),
            config: std::path::absolute(&config.source).unwrap_or_else(|_| config.source.clone()),
        };
        // Watch before the first scan, so that nothing written during it is missed.
        let watched_folder = folder_identity(&config.paths.articles);
        let watching = start_watching(&config, &watch_scope, tx.clone())?;
        let mut daemon = Daemon {
            catalog: Catalog::new(config.clone(), state),
            config: Arc::clone(&config),
            publisher,
            watch_scope,
            _watching: watching,
            tx,
            due_until: Timestamp::now(),
            watched_folder,
            folder_gone: None,
            rescan_pending: false,
            metrics,
            last_rebuild_error: None,
            pinger,
            page_retry: None,
            heap_trim: None,
            archives: history::Archives::load(Arc::clone(&config)),
            deferred_page_check: None,
            service: ServiceManager::from_env(),
            address,
        };
        daemon
            .service
            .starting("starting: reading the articles and publishing");
        match daemon.catalog.load_cache() {
            Ok(known) => info!(
                articles = known,
                "catalog cache loaded; only changed files are read"
            ),
            Err(why) => info!("catalog cache not used ({why}); reading every article"),
        }
        // Shown on a terminal only, and cleared before the startup line is logged.
        let progress = Arc::new(Progress::default());
        daemon.catalog.set_progress(Arc::clone(&progress));
        daemon.publisher.set_progress(Arc::clone(&progress));
        let display = crate::progress::Display::start("startup scan", progress);
        daemon.publisher.finish_removing_leftover_temp_files()?;
        daemon.full_rebuild("startup");
        display.finish();
        daemon.update_health();
        // The first publish is served: `systemctl start` returns now.
        let status = daemon.status_line();
        daemon.service.ready(&status);
        daemon.save_cache();
        crate::heap::release_free_memory();
        Ok(daemon)
    }

    /// What `/healthz` says from now on: healthy once the startup scan is
    /// done (this is called first after it) while every feed could be
    /// rendered and written and the articles folder can be read.
    fn update_health(&mut self) {
        let health = match self.unhealthy_because() {
            Some(why) => Health::failing(&why),
            None => Health::ok(),
        };
        self.metrics.set_health(health);
        let status = self.status_line();
        self.service.status(&status);
    }

    /// Why `/healthz` answers 503, if it does.
    fn unhealthy_because(&self) -> Option<String> {
        if self.folder_gone.is_some() {
            Some("the articles folder is gone; the feeds stay as they are".into())
        } else if self.rescan_pending {
            Some("part of the articles folder could not be read; the feeds stay as they are".into())
        } else if let Some(error) = &self.last_rebuild_error {
            Some(format!("the last rebuild failed: {error}"))
        } else if self.publisher.retry_due().is_some() {
            Some("some feeds could not be written; retrying".into())
        } else if self.page_retry.is_some() {
            Some("some article or archive pages could not be written; retrying".into())
        } else {
            None
        }
    }

    /// The one line `systemctl status` shows under the unit.
    fn status_line(&self) -> String {
        let serving = format!(
            "serving {} feeds of {} articles on http://{}/",
            self.publisher.published_feeds(),
            self.catalog.len(),
            self.address
        );
        match self.unhealthy_because() {
            Some(why) => format!("{serving}; unhealthy: {why}"),
            None => serving,
        }
    }

    /// Keeps what the catalog knows for the next start (after a crash the
    /// last saved cache is used: entries whose files changed since are read
    /// again, so it is never wrong, only less complete).
    fn save_cache(&self) {
        if let Err(error) = self.catalog.save_cache() {
            warn!(
                "{}: cannot write the catalog cache: {error}; the next start reads every article",
                self.config.paths.state.display()
            );
        }
    }

    fn run_loop(&mut self, rx: &watch::Queue) -> anyhow::Result<()> {
        loop {
            let debounce = Duration::from_millis(self.config.watch.debounce_ms);
            let scheduled = self.catalog.next_scheduled(self.due_until);
            let restamp = self
                .publisher
                .restamp_due()
                .and_then(|t| Timestamp::try_from(t).ok());
            let deadline = scheduled
                .into_iter()
                .chain(restamp)
                .min()
                .map(instant_of)
                .into_iter()
                .chain(self.folder_gone.map(|(next_look, _)| next_look))
                .chain(self.publisher.retry_due())
                .chain(self.page_retry.as_ref().map(|(at, _, _)| *at))
                .chain(self.heap_trim.map(|(at, _)| at))
                .chain(self.page_check_due().then(Instant::now))
                .chain(self.service.watchdog_due())
                .min();
            let next = watch::next(rx, &self.watch_scope, debounce, deadline);
            if matches!(next, Next::Shutdown) {
                self.service.stopping();
                self.save_cache();
                return Ok(());
            }
            self.handle(next);
            self.update_health();
            self.service.keep_alive();
        }
    }

    /// One wake-up of the loop: a deadline or a batch of file events.
    fn handle(&mut self, next: Next) {
        match next {
            // The loop saves the cache and returns on it.
            Next::Shutdown => {}
            Next::Deadline => {
                if self
                    .folder_gone
                    .is_some_and(|(next_look, _)| next_look <= Instant::now())
                {
                    self.check_articles_folder();
                }
                // Feeds that could not be written (a full or read-only
                // output folder) are rendered and written again.
                let retries: BTreeSet<Scope> = (self.publisher)
                    .take_retries(Instant::now())
                    .into_iter()
                    .map(|path| path.scope)
                    .collect();
                let reason = if retries.is_empty() {
                    "scheduled"
                } else {
                    "retry"
                };
                let none = PageWork::changed(BTreeSet::new(), BTreeSet::new());
                self.publish_scopes(retries, 0, Instant::now(), reason, none, None);
                for restamp_error in self.publisher.restamp() {
                    error!("{restamp_error}");
                }
                if self
                    .page_retry
                    .as_ref()
                    .is_some_and(|(at, _, _)| *at <= Instant::now())
                {
                    self.retry_pages();
                }
                if self.heap_trim.is_some_and(|(at, _)| at <= Instant::now()) {
                    self.heap_trim = None;
                    crate::heap::release_free_memory();
                }
                self.check_every_page(Duration::ZERO);
            }
            Next::Batch(batch) if batch.is_empty() => {}
            Next::Batch(batch) => {
                debug!(paths = ?batch.paths, rescan = batch.rescan, config = batch.config_changed, "file events");
                self.metrics.watch_batch(batch.paths.len());
                if batch.config_changed && self.reload_config() {
                    return;
                }
                if batch.rescan {
                    warn!("file events were lost; rescanning every article");
                    self.full_rebuild("rescan");
                } else if self.rescan_pending {
                    self.full_rebuild("rescan");
                } else if !batch.paths.is_empty() {
                    let started = Instant::now();
                    let changes = self.catalog.apply(&batch.paths);
                    self.publish_changes(changes, started, "edit", false);
                }
                self.check_articles_folder();
                // A steady stream of edits must not put the check off for ever.
                self.check_every_page(PAGE_CHECK_AT_LEAST);
            }
        }
    }

    /// Re-walks every article and renders every feed (startup, rescan, config reload).
    fn full_rebuild(&mut self, reason: &str) {
        if reason != "startup" {
            self.metrics.rescan();
        }
        let started = Instant::now();
        let mut changes = self.catalog.rescan();
        if !changes.incomplete {
            self.rescan_pending = false;
            changes.dirty = all_scopes(&self.catalog, &self.publisher, Timestamp::now());
        }
        self.publish_changes(changes, started, reason, true);
        crate::heap::release_free_memory();
        self.heap_trim = None;
    }

    /// Notices the articles folder gone, or back, or replaced by another
    /// under the same name: the watch is lost with it, so it is watched anew
    /// and then rescanned. While it is gone the feeds stay as they are (as
    /// `build` publishes nothing then), and it is looked for with a growing wait.
    fn check_articles_folder(&mut self) {
        let articles = &self.config.paths.articles;
        let Some(identity) = folder_identity(articles) else {
            match self.folder_gone {
                None => {
                    warn!(
                        articles = %articles.display(),
                        "the articles folder is gone; the feeds stay as they are until it is back"
                    );
                    self.folder_gone = Some((Instant::now() + FOLDER_RETRY.0, FOLDER_RETRY.0));
                }
                Some((_, wait)) => {
                    let wait = (wait * 2).min(FOLDER_RETRY.1);
                    self.folder_gone = Some((Instant::now() + wait, wait));
                }
            }
            return;
        };
        if self.watched_folder == Some(identity) && self.folder_gone.is_none() {
            return;
        }
        match start_watching(&self.config, &self.watch_scope, self.tx.clone()) {
            Ok(watching) => self._watching = watching,
            Err(error) => {
                // Gone again already: keep looking.
                warn!("{error:#}");
                self.folder_gone = Some((Instant::now() + FOLDER_RETRY.0, FOLDER_RETRY.0));
                return;
            }
        }
        self.watched_folder = Some(identity);
        self.folder_gone = None;
        info!(articles = %articles.display(), "watching the articles folder anew");
        self.full_rebuild("articles folder back");
    }

    /// `full`: after a rescan, every article page is checked (see
    /// [`PageWork`]); else only the pages the changes touch.
    fn publish_changes(&mut self, changes: Changes, started: Instant, reason: &str, full: bool) {
        for rejected in &changes.rejected {
            log_rejected(rejected);
        }
        self.metrics
            .articles(changes.read, changes.rejected.len(), self.catalog.len());
        for state_error in &changes.state_errors {
            error!("{state_error}");
        }
        if changes.incomplete {
            // As `build` does: articles in a folder that could not be listed
            // would look deleted, so nothing is published until every folder
            // can be read; the next change rescans everything.
            warn!(
                reason,
                "part of the articles folder could not be read; the feeds stay as they are"
            );
            self.rescan_pending = true;
            return;
        }
        // Looked for once the feeds are out: not on the edit's way to readers.
        let conflicts_among = (!full).then(|| changes.touched.clone());
        let pages = if !full {
            PageWork::changed(changes.touched, changes.pages_gone)
        } else if reason == "config reload" || !pages::fingerprint_is_current(&self.config) {
            // A new config (or feedd version) can change what every page shows.
            PageWork::AllAfterEdits(BTreeSet::new())
        } else {
            PageWork::Missing(changes.touched)
        };
        let oldest_change = changes.oldest_change;
        self.publish_scopes(
            changes.dirty,
            changes.read,
            started,
            reason,
            pages,
            oldest_change,
        );
        let conflicts = match conflicts_among {
            None => self.catalog.conflicts(Timestamp::now()),
            Some(keys) => self.catalog.conflicts_of(&keys, Timestamp::now()),
        };
        for conflict in conflicts {
            warn!(path = %conflict.path().display(), "{conflict}");
        }
    }

    /// Renders and publishes `scopes`, plus those of every article that fell
    /// due since the last publish (so a busy loop never delays one).
    fn publish_scopes(
        &mut self,
        mut scopes: BTreeSet<Scope>,
        read: usize,
        started: Instant,
        reason: &str,
        mut pages: PageWork,
        oldest_change: Option<Timestamp>,
    ) {
        let now = Timestamp::now();
        // Articles that fell due since then are changes at their dates.
        let changed_since = oldest_change.map_or(self.due_until, |at| at.min(self.due_until));
        scopes.extend(self.catalog.scopes_due_between(self.due_until, now));
        // Scheduled articles that are due now get their pages now.
        pages.touch(self.catalog.due_between(self.due_until, now));
        self.due_until = self.due_until.max(now);
        // Nor a scheduled article while the tree is only partly known: the
        // full rebuild that ends this renders every feed as of its own time.
        if scopes.is_empty() || self.rescan_pending {
            return;
        }
        let rendered = render_updates(&self.catalog, &scopes, now, Bodies::Kept);
        for render_error in &rendered.errors {
            error!("{render_error}");
        }
        for left_out in &rendered.left_out {
            // Edited or removed since it was read: the watcher's next batch
            // reads it again, so this is news, not a fault.
            info!(path = %left_out.path().display(), "not in the feeds until its change is read: {left_out}");
        }
        let pending = self.publisher.begin_publish(rendered.updates);
        // The new bytes are served from here on: tell the hubs now rather
        // than after the writes and the compression (tens of milliseconds
        // for large feeds), so that they hear of an edit as soon as a reader
        // can see it. Should a write fail, the previous version is served
        // again and the retry that writes it pings once more.
        if !self.config.websub.hubs.is_empty() {
            let base_url = &self.config.site.base_url;
            self.pinger.notify(
                pending
                    .written()
                    .filter(|path| path.format.is_feed())
                    .map(|path| format!("{base_url}{}", path.url_path())),
            );
        }
        // Before the feeds' files are written and compressed (hundreds of
        // milliseconds when an article joins many feeds): an item now served
        // links to its page, and a feed to its archive pages, which must not
        // stay missing that long. After the feeds are served, so that an
        // edit still reaches them first.
        let which = match pages {
            PageWork::Changed(..) => history::Which::Scopes {
                dirty: &scopes,
                changed_since,
                unknown_left_to_full_sync: self.deferred_page_check.is_some(),
            },
            PageWork::AllAfterEdits(_) => history::Which::Missing,
            PageWork::Missing(_) => history::Which::Everything,
        };
        let check_every_page_later = matches!(pages, PageWork::AllAfterEdits(_));
        let (mut pages, archives) = crate::pipeline::sync_pages_and_archives(
            &self.catalog,
            &mut self.archives,
            pages.sync(),
            which,
            now,
        );
        if check_every_page_later {
            self.deferred_page_check = Some(std::mem::take(&mut pages.fresh));
        }
        let outcome = pending.finish();
        for publish_error in &outcome.errors {
            error!("{publish_error}");
        }
        self.last_rebuild_error = rendered
            .errors
            .iter()
            .map(ToString::to_string)
            .chain(outcome.errors.iter().map(ToString::to_string))
            .next();
        let write_errors = outcome.errors.len() + pages.errors.len() + archives.errors.len();
        self.metrics.rebuild(
            started.elapsed(),
            rendered.errors.is_empty() && write_errors == 0,
        );
        self.pages_done(&pages);
        self.archives_done(&archives);
        self.heap_trim_due();
        let changed: Vec<String> = outcome.changed.iter().map(|path| path.url_path()).collect();
        info!(
            reason,
            articles_read = read,
            articles = self.catalog.len(),
            feeds_changed = outcome.changed.iter().filter(|path| path.format.is_feed()).count(),
            changed = %changed.join(" "),
            pages_changed = pages.changed,
            archive_pages_checked = archives.checked,
            archive_pages_rendered = archives.rendered,
            archive_pages_changed = archives.changed.len(),
            errors = rendered.errors.len() + write_errors,
            duration_ms = milliseconds(started.elapsed()),
            "rebuilt"
        );
    }

    /// Whether [`Daemon::check_every_page`] has work to do now (not while
    /// part of the tree is unknown: pages of articles in a folder that
    /// could not be read would look like strays).
    fn page_check_due(&self) -> bool {
        self.deferred_page_check.is_some() && !self.rescan_pending
    }

    /// The second pass of a full rebuild's page work (see
    /// [`PageWork::AllAfterEdits`]): every article page and archive page
    /// on disk is rendered and compared, and what no article has is
    /// removed. It stops as soon as a message waits for the loop (after
    /// `at_least`), and goes on where it stopped on the loop's next turn:
    /// at 100,000 articles it takes seconds, and an edit made meanwhile
    /// should not wait for it.
    fn check_every_page(&mut self, at_least: Duration) {
        if !self.page_check_due() {
            return;
        }
        let mut fresh = self.deferred_page_check.take().unwrap_or_default();
        info!(
            already_rendered = fresh.len(),
            "checking every page on disk against what it should show"
        );
        let started = Instant::now();
        let inbox = &self.tx;
        let stop = || started.elapsed() >= at_least && inbox.is_waiting();
        let (mut pages, archives, stopped) = crate::pipeline::sync_pages_and_archives_until(
            &self.catalog,
            &mut self.archives,
            pages::Sync::AllBut { fresh: &fresh },
            history::Which::Everything,
            Timestamp::now(),
            &stop,
        );
        let skipped = pages.skipped + archives.skipped;
        if stopped {
            fresh.extend(std::mem::take(&mut pages.fresh));
            self.deferred_page_check = Some(fresh);
        }
        self.pages_done(&pages);
        self.archives_done(&archives);
        self.heap_trim_due();
        info!(
            pages_changed = pages.changed,
            archive_pages_rendered = archives.rendered,
            archive_pages_changed = archives.changed.len(),
            errors = pages.errors.len() + archives.errors.len(),
            left_for_later = skipped,
            duration_ms = milliseconds(started.elapsed()),
            "{}",
            if stopped {
                "checking the pages on disk; stopped for what waits"
            } else {
                "every page on disk checked"
            }
        );
    }

    /// Schedules giving freed heap memory back once edits have been quiet
    /// for a while. Each rebuild renders and compresses feeds of hundreds
    /// of kilobytes, and glibc keeps what they freed: at 100,000 articles,
    /// 20 edits grew the daemon by 30 MB. A trim takes milliseconds, so it
    /// waits for a quiet moment, but not longer than a minute of steady edits.
    fn heap_trim_due(&mut self) {
        const QUIET: Duration = Duration::from_secs(2);
        const LONGEST: Duration = Duration::from_secs(60);
        let now = Instant::now();
        let first = self.heap_trim.map_or(now, |(_, first)| first);
        self.heap_trim = Some(((now + QUIET).min(first + LONGEST), first));
    }

    /// Logs what a page sync did wrong, and schedules another try of the
    /// pages that could not be written or removed.
    fn pages_done(&mut self, report: &pages::PageReport) {
        // The file changed (or went) since the catalog read it: the event
        // of that change renders the page again, and a file that is bad
        // now is reported then as "article skipped".
        for rejected in &report.rejected {
            debug!(path = %rejected.path().display(), "article page not rendered yet: {rejected}");
        }
        for publish_error in &report.errors {
            error!("{publish_error}");
        }
        if report.errors.is_empty() {
            return;
        }
        let (wait, mut touched) = match self.page_retry.take() {
            Some((_, wait, touched)) => ((wait * 2).min(PAGE_RETRY.1), touched),
            None => (PAGE_RETRY.0, BTreeSet::new()),
        };
        touched.extend(report.failed.iter().cloned());
        self.page_retry = Some((Instant::now() + wait, wait, touched));
    }

    /// Logs what an archive sync did wrong, and schedules another try
    /// (with the article pages': the same wait).
    fn archives_done(&mut self, report: &history::HistoryReport) {
        for left_out in &report.left_out {
            debug!(path = %left_out.path().display(), "archive page rendered without it for now: {left_out}");
        }
        for publish_error in &report.errors {
            error!("{publish_error}");
        }
        if self.archives.has_retries() && self.page_retry.is_none() {
            self.page_retry = Some((Instant::now() + PAGE_RETRY.0, PAGE_RETRY.0, BTreeSet::new()));
        }
    }

    /// Writes again the pages whose write failed, and removes what should
    /// have been removed (a full pass over which pages exist).
    fn retry_pages(&mut self) {
        let Some((_, wait, touched)) = self.page_retry.take() else {
            return;
        };
        if self.archives.has_retries() {
            let report = self.archives.sync(
                &self.catalog,
                history::Which::Scopes {
                    dirty: &BTreeSet::new(),
                    changed_since: Timestamp::MIN,
                    unknown_left_to_full_sync: false,
                },
                Timestamp::now(),
            );
            for publish_error in &report.errors {
                error!("{publish_error}");
            }
            if self.archives.has_retries() {
                self.page_retry = Some((
                    Instant::now() + wait,
                    (wait * 2).min(PAGE_RETRY.1),
                    touched.clone(),
                ));
            }
        }
        let report = pages::sync(
            &self.catalog,
            pages::Sync::Missing { touched: &touched },
            Timestamp::now(),
        );
        if !report.errors.is_empty() {
            self.page_retry = Some((Instant::now(), wait, touched));
        }
        self.pages_done(&report);
        info!(pages_changed = report.changed, "article pages retried");
    }

    /// Applies an edited config file. Returns true when it rebuilt everything.
    /// A broken config is reported and the one in force stays.
    /// The service manager hears of the reload (`RELOADING=1`, then
    /// `READY=1` once the new config is published or refused).
    fn reload_config(&mut self) -> bool {
        self.service.reloading();
        let reloaded = self.apply_new_config();
        self.update_health();
        let status = self.status_line();
        self.service.ready(&status);
        reloaded
    }

    fn apply_new_config(&mut self) -> bool {
        let new = match Config::load(&self.config.source) {
            Ok(config) => Arc::new(config),
            Err(error) => {
                error!("config not reloaded, the previous one stays in force: {error}");
                return false;
            }
        };
        for (what, changed) in [
            (
                "server.listen",
                new.server.listen != self.config.server.listen,
            ),
            ("paths.output", new.paths.output != self.config.paths.output),
            ("paths.state", new.paths.state != self.config.paths.state),
        ] {
            if changed {
                warn!("{what} changed in the config; it takes effect after a restart");
            }
        }
        if new.server.max_age != self.config.server.max_age {
            self.publisher.set_max_age(new.server.max_age);
        }
        // Every feed names the hubs and its own URL, so a change to either
        // changes every feed, and the rebuild below republishes them with
        // the new Link header.
        self.publisher.set_feed_links(feed_links(&new));
        if new.websub.hubs != self.config.websub.hubs {
            self.pinger.set_hubs(new.websub.hubs.clone());
        }
        if new.paths.articles != self.config.paths.articles || new.watch != self.config.watch {
            self.watch_scope.articles = new.paths.articles.clone();
            self.watched_folder = folder_identity(&new.paths.articles);
            match start_watching(&new, &self.watch_scope, self.tx.clone()) {
                Ok(watching) => self._watching = watching,
                Err(error) => error!("cannot watch the new articles folder: {error:#}"),
            }
        }
        info!(config = %new.source.display(), "config reloaded");
        // Titles, dates, links and limits may all have changed: re-read every
        // article under the new settings; unchanged feeds are not rewritten.
        let state = std::mem::replace(
            &mut self.catalog,
            Catalog::new(new.clone(), StateStore::in_memory()),
        )
        .into_state();
        self.catalog = Catalog::new(new.clone(), state);
        self.archives.set_config(Arc::clone(&new));
        self.config = new;
        self.full_rebuild("config reload");
        true
    }
}

/// One `warn` line per rejected article: the message in the
/// `file:line:column: reason` form of every error (which editors and
/// terminals link to the place), and its parts as fields of their own
/// (README, "Logs"), so that a JSON log needs no parsing.
fn log_rejected(rejected: &ArticleError) {
    let file = rejected.path().display();
    match rejected {
        ArticleError::At {
            line,
            column,
            message,
            ..
        } => warn!(%file, line, column, reason = %message, "article skipped: {rejected}"),
        ArticleError::Whole { message, .. } => {
            warn!(%file, reason = %message, "article skipped: {rejected}");
        }
        ArticleError::Read { source, .. } => warn!(
            %file,
            reason = %format_args!("cannot read: {source}; check that it exists and is readable"),
            "article skipped: {rejected}"
        ),
    }
}

/// A duration in milliseconds, to a tenth.
fn milliseconds(duration: Duration) -> f64 {
    (duration.as_secs_f64() * 10_000.0).round() / 10.0
}

/// Which article pages a rebuild brings up to date (see [`pages::Sync`]).
enum PageWork {
    /// Every page, in two passes: now the pages missing from the output
    /// folder (and those of these articles); every other page once the
    /// edits that waited for this rebuild are published (see
    /// [`Daemon::check_every_page`]). Rendering every page reads every
    /// article again (seconds at 100,000), and an editor who saved during
    /// a long start should not wait for that.
    AllAfterEdits(BTreeSet<Arc<str>>),
    /// Pages of these articles, and any missing from the output folder.
    Missing(BTreeSet<Arc<str>>),
    /// Pages of these articles, and these pages if no article has them now.
    Changed(BTreeSet<Arc<str>>, BTreeSet<ArticlePage>),
}

impl PageWork {
    fn changed(touched: BTreeSet<Arc<str>>, gone: BTreeSet<ArticlePage>) -> PageWork {
        PageWork::Changed(touched, gone)
    }

    fn touch(&mut self, keys: Vec<Arc<str>>) {
        match self {
            PageWork::AllAfterEdits(touched)
            | PageWork::Missing(touched)
            | PageWork::Changed(touched, _) => touched.extend(keys),
        }
    }

    fn sync(&self) -> pages::Sync<'_> {
        match self {
            PageWork::AllAfterEdits(touched) | PageWork::Missing(touched) => {
                pages::Sync::Missing { touched }
            }
            PageWork::Changed(touched, gone) => pages::Sync::Changed { touched, gone },
        }
    }
}

fn start_watching(
    config: &Config,
    scope: &watch::Scope,
    tx: watch::Inbox,
) -> anyhow::Result<watch::Watching> {
    watch::start(scope, config.watch.poll_interval_ms, tx).with_context(|| {
        format!(
            "{}: cannot watch the articles folder; check that it exists (paths.articles in {})",
            config.paths.articles.display(),
            config.source.display()
        )
    })
}

/// The monotonic instant of a wall-clock time (now, if it has passed).
fn instant_of(at: Timestamp) -> Instant {
    let wait = Timestamp::now().duration_until(at);
    let wait = Duration::try_from(wait).unwrap_or(Duration::ZERO);
    // The published second has begun once we pass it; a millisecond of slack
    // keeps a wake-up from landing just before it.
    Instant::now() + wait + Duration::from_millis(1)
}
