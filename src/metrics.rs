//! What `/metrics` and `/healthz` report: a small registry of counters, a
//! histogram and the health of the last rebuild, written in the Prometheus
//! text format (version 0.0.4) when asked.
//!
//! Every counter is an atomic bumped with `Relaxed` ordering: the request
//! path takes no lock and waits for nothing (a scrape may see one counter a
//! request ahead of another, which Prometheus tolerates). The health report
//! is replaced whole through an `ArcSwap`, like the feed snapshot. This
//! module owns the names and the format; it must not know what a request,
//! a rebuild or a hub is beyond the numbers it is given.

use std::fmt::Write as _;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

use arc_swap::ArcSwap;
use bytes::Bytes;

use crate::output::Format;

/// What a request asked for, as the `route` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// A published document of this format.
    Document(Format),
    /// `/healthz`.
    Healthz,
    /// `/metrics`.
    Metrics,
    /// Anything else (404), and any method but GET and HEAD (405).
    Other,
}

impl Route {
    /// `route` label values, by [`Route::index`].
    const LABELS: [&'static str; 9] = [
        "rss", "atom", "json", "opml", "html", "css", "healthz", "metrics", "other",
    ];

    fn index(self) -> usize {
        match self {
            Route::Document(Format::Rss) => 0,
            Route::Document(Format::Atom) => 1,
            Route::Document(Format::JsonFeed) => 2,
            Route::Document(Format::Opml) => 3,
            // The front, category and article pages.
            Route::Document(Format::Html) => 4,
            Route::Document(Format::Stylesheet) => 5,
            Route::Healthz => 6,
            Route::Metrics => 7,
            Route::Other => 8,
        }
    }
}

/// The statuses feedd answers with, then one slot for any other.
const STATUSES: [u16; 5] = [200, 304, 404, 405, 503];
const STATUS_SLOTS: usize = STATUSES.len() + 1;

/// Upper bounds of the rebuild duration histogram, in seconds: an edit's
/// rebuild takes milliseconds, a full one of 100,000 articles seconds.
const REBUILD_BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// How a WebSub ping ended, as the `outcome` label says it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PingOutcome {
    /// The hub answered 2xx.
    Ok,
    /// An attempt failed (an error status, a timeout, no connection); it is
    /// tried again later.
    Error,
    /// The last attempt failed; the change is not announced to that hub.
    GaveUp,
    /// The change joined a ping already waiting for the same feed and hub.
    Coalesced,
    /// Too many feeds were waiting for that hub; the change was not queued.
    Dropped,
}

impl PingOutcome {
    const ALL: [PingOutcome; 5] = [
        PingOutcome::Ok,
        PingOutcome::Error,
        PingOutcome::GaveUp,
        PingOutcome::Coalesced,
        PingOutcome::Dropped,
    ];

    fn label(self) -> &'static str {
        match self {
            PingOutcome::Ok => "ok",
            PingOutcome::Error => "error",
            PingOutcome::GaveUp => "gave_up",
            PingOutcome::Coalesced => "coalesced",
            PingOutcome::Dropped => "dropped",
        }
    }
}

/// What `/healthz` answers: healthy or not, and the text saying why.
#[derive(Debug, Clone)]
pub struct Health {
    /// `200` when true, `503` otherwise.
    pub ok: bool,
    /// The response body, one line.
    pub text: Bytes,
}

impl Health {
    /// Healthy: the first build is done and the last rebuild succeeded.
    pub fn ok() -> Health {
        Health {
            ok: true,
            text: Bytes::from_static(b"ok\n"),
        }
    }

    /// Not healthy, and why (one line; a newline is added).
    pub fn failing(why: &str) -> Health {
        let line: String = why.lines().next().unwrap_or_default().into();
        Health {
            ok: false,
            text: Bytes::from(line + "\n"),
        }
    }
}

/// Every counter feedd exports. One per process, shared by the server,
/// the rebuild loop and the WebSub pinger.
#[derive(Debug)]
pub struct Metrics {
    requests: [[AtomicU64; STATUS_SLOTS]; Route::LABELS.len()],
    body_bytes: AtomicU64,
    rebuilds_ok: AtomicU64,
    rebuilds_failed: AtomicU64,
    /// Per bucket, not cumulative (summed when written).
    rebuild_buckets: [AtomicU64; REBUILD_BUCKETS.len() + 1],
    rebuild_micros: AtomicU64,
    articles: AtomicU64,
    articles_read: AtomicU64,
    articles_rejected: AtomicU64,
    watch_batches: AtomicU64,
    watch_paths: AtomicU64,
    rescans: AtomicU64,
    pages_compressed: AtomicU64,
    pings: [AtomicU64; PingOutcome::ALL.len()],
    pings_pending: AtomicU64,
    health: ArcSwap<Health>,
}

impl Default for Metrics {
    fn default() -> Metrics {
        Metrics::new()
    }
}

impl Metrics {
    /// Every counter at zero; health "starting" (503) until told otherwise.
    pub fn new() -> Metrics {
        Metrics {
            requests: Default::default(),
            body_bytes: AtomicU64::new(0),
            rebuilds_ok: AtomicU64::new(0),
            rebuilds_failed: AtomicU64::new(0),
            rebuild_buckets: Default::default(),
            rebuild_micros: AtomicU64::new(0),
            articles: AtomicU64::new(0),
            articles_read: AtomicU64::new(0),
            articles_rejected: AtomicU64::new(0),
            watch_batches: AtomicU64::new(0),
            watch_paths: AtomicU64::new(0),
            rescans: AtomicU64::new(0),
            pages_compressed: AtomicU64::new(0),
            pings: Default::default(),
            pings_pending: AtomicU64::new(0),
            health: ArcSwap::from_pointee(Health::failing(
                "starting: the first scan of the articles is not finished",
            )),
        }
    }

    /// One answered request and the body bytes it sent.
    pub fn request(&self, route: Route, status: u16, body_bytes: u64) {
        let slot = STATUSES
            .iter()
            .position(|s| *s == status)
            .unwrap_or(STATUSES.len());
        self.requests[route.index()][slot].fetch_add(1, Relaxed);
        if body_bytes > 0 {
            self.body_bytes.fetch_add(body_bytes, Relaxed);
        }
    }

    /// One rebuild: how long it took and whether every feed was rendered
    /// and written.
    pub fn rebuild(&self, took: Duration, ok: bool) {
        if ok {
            &self.rebuilds_ok
        } else {
            &self.rebuilds_failed
        }
        .fetch_add(1, Relaxed);
        let seconds = took.as_secs_f64();
        let bucket = REBUILD_BUCKETS
            .iter()
            .position(|bound| seconds <= *bound)
            .unwrap_or(REBUILD_BUCKETS.len());
        self.rebuild_buckets[bucket].fetch_add(1, Relaxed);
        let micros = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        self.rebuild_micros.fetch_add(micros, Relaxed);
    }

    /// Articles read in a rebuild, how many were rejected, and how many the
    /// catalog holds now.
    pub fn articles(&self, read: usize, rejected: usize, in_catalog: usize) {
        self.articles_read.fetch_add(read as u64, Relaxed);
        self.articles_rejected.fetch_add(rejected as u64, Relaxed);
        self.articles.store(in_catalog as u64, Relaxed);
    }

    /// One debounced batch of file events naming `paths` files.
    pub fn watch_batch(&self, paths: usize) {
        self.watch_batches.fetch_add(1, Relaxed);
        self.watch_paths.fetch_add(paths as u64, Relaxed);
    }

    /// `count` bodies of pages served from their files were compressed
    /// for a response (none when the compressed body was cached).
    pub fn pages_compressed(&self, count: usize) {
        if count > 0 {
            self.pages_compressed.fetch_add(count as u64, Relaxed);
        }
    }

    /// One full rescan after startup (lost events, config reload, the
    /// articles folder back or readable again).
    pub fn rescan(&self) {
        self.rescans.fetch_add(1, Relaxed);
    }

    /// One WebSub ping (or change) ended so.
    pub fn ping(&self, outcome: PingOutcome) {
        let index = PingOutcome::ALL
            .iter()
            .position(|o| *o == outcome)
            .unwrap_or_default();
        self.pings[index].fetch_add(1, Relaxed);
    }

    /// Feeds waiting to be announced, over every hub.
    pub fn pings_pending(&self, pending: usize) {
        self.pings_pending.store(pending as u64, Relaxed);
    }

    /// Replaces what `/healthz` answers.
    pub fn set_health(&self, health: Health) {
        self.health.store(Arc::new(health));
    }

    /// What `/healthz` answers now.
    pub fn health(&self) -> Arc<Health> {
        self.health.load_full()
    }

    /// Every metric in the Prometheus text format, version 0.0.4.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(4096);
        let get = |counter: &AtomicU64| counter.load(Relaxed);
        header(
            &mut out,
            "feedd_http_requests_total",
            "counter",
            "HTTP requests answered, by route kind and status.",
        );
        let mut not_modified = 0;
        for (route, statuses) in Route::LABELS.iter().zip(&self.requests) {
            for (slot, count) in statuses.iter().enumerate() {
                let status = STATUSES
                    .get(slot)
                    .map_or_else(|| "other".to_string(), u16::to_string);
                let count = get(count);
                if status == "304" {
                    not_modified += count;
                }
                let _ = writeln!(
                    out,
                    "feedd_http_requests_total{{route=\"{route}\",status=\"{status}\"}} {count}"
                );
            }
        }
        sample(
            &mut out,
            "feedd_http_not_modified_total",
            "counter",
            "Requests answered 304 Not Modified (the status=\"304\" requests, summed).",
            not_modified,
        );
        sample(
            &mut out,
            "feedd_http_response_body_bytes_total",
            "counter",
            "Body bytes of the responses sent (as encoded; HEAD and 304 send none).",
            get(&self.body_bytes),
        );
        header(
            &mut out,
            "feedd_rebuilds_total",
            "counter",
            "Rebuilds, by whether every feed was rendered and written.",
        );
        let _ = writeln!(
            out,
            "feedd_rebuilds_total{{result=\"ok\"}} {}",
            get(&self.rebuilds_ok)
        );
        let _ = writeln!(
            out,
            "feedd_rebuilds_total{{result=\"error\"}} {}",
            get(&self.rebuilds_failed)
        );
        header(
            &mut out,
            "feedd_rebuild_duration_seconds",
            "histogram",
            "Time from a batch of changes to its feeds published.",
        );
        let mut cumulative = 0;
        for (bound, count) in REBUILD_BUCKETS.iter().zip(&self.rebuild_buckets) {
            cumulative += get(count);
            let _ = writeln!(
                out,
                "feedd_rebuild_duration_seconds_bucket{{le=\"{bound}\"}} {cumulative}"
            );
        }
        cumulative += get(&self.rebuild_buckets[REBUILD_BUCKETS.len()]);
        let _ = writeln!(
            out,
            "feedd_rebuild_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}"
        );
        let _ = writeln!(
            out,
            "feedd_rebuild_duration_seconds_sum {}",
            get(&self.rebuild_micros) as f64 / 1e6
        );
        let _ = writeln!(out, "feedd_rebuild_duration_seconds_count {cumulative}");
        sample(
            &mut out,
            "feedd_articles",
            "gauge",
            "Articles in the catalog (drafts and scheduled ones included).",
            get(&self.articles),
        );
        sample(
            &mut out,
            "feedd_articles_read_total",
            "counter",
            "Article files read and parsed by rebuilds.",
            get(&self.articles_read),
        );
        sample(
            &mut out,
            "feedd_articles_rejected_total",
            "counter",
            "Article files rejected by rebuilds (a bad file counts again each time it is read).",
            get(&self.articles_rejected),
        );
        sample(
            &mut out,
            "feedd_watch_batches_total",
            "counter",
            "Debounced batches of file events.",
            get(&self.watch_batches),
        );
        sample(
            &mut out,
            "feedd_watch_paths_total",
            "counter",
            "Changed paths named by those batches.",
            get(&self.watch_paths),
        );
        sample(
            &mut out,
            "feedd_rescans_total",
            "counter",
            "Full rescans of the articles after startup (lost events, config reload, folder back).",
            get(&self.rescans),
        );
        sample(
            &mut out,
            "feedd_page_compressions_total",
            "counter",
            "Article and archive pages compressed for a response (a cached compressed page costs none).",
            get(&self.pages_compressed),
        );
        header(
            &mut out,
            "feedd_websub_pings_total",
            "counter",
            "WebSub publish pings to hubs, by outcome (coalesced and dropped: changes, not requests).",
        );
        for (outcome, count) in PingOutcome::ALL.iter().zip(&self.pings) {
            let _ = writeln!(
                out,
                "feedd_websub_pings_total{{outcome=\"{}\"}} {}",
                outcome.label(),
                get(count)
            );
        }
        sample(
            &mut out,
            "feedd_websub_pending",
            "gauge",
            "Feed changes waiting to be announced, over every hub.",
            get(&self.pings_pending),
        );
        let health = self.health.load();
        sample(
            &mut out,
            "feedd_healthy",
            "gauge",
            "1 when /healthz answers 200, else 0.",
            u64::from(health.ok),
        );
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn sample(out: &mut String, name: &str, kind: &str, help: &str, value: u64) {
    header(out, name, kind, help);
    let _ = writeln!(out, "{name} {value}");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_show_in_the_text_format() {
        let metrics = Metrics::new();
        metrics.request(Route::Document(Format::Rss), 200, 1000);
        metrics.request(Route::Document(Format::Rss), 304, 0);
        metrics.request(Route::Document(Format::Atom), 304, 0);
        metrics.request(Route::Other, 418, 0);
        metrics.rebuild(Duration::from_millis(7), true);
        metrics.rebuild(Duration::from_secs(100), false);
        metrics.ping(PingOutcome::Coalesced);
        let text = metrics.render();
        for line in [
            "feedd_http_requests_total{route=\"rss\",status=\"200\"} 1",
            "feedd_http_requests_total{route=\"rss\",status=\"304\"} 1",
            "feedd_http_requests_total{route=\"other\",status=\"other\"} 1",
            "feedd_http_not_modified_total 2",
            "feedd_http_response_body_bytes_total 1000",
            "feedd_rebuilds_total{result=\"ok\"} 1",
            "feedd_rebuilds_total{result=\"error\"} 1",
            "feedd_rebuild_duration_seconds_bucket{le=\"0.005\"} 0",
            "feedd_rebuild_duration_seconds_bucket{le=\"0.01\"} 1",
            "feedd_rebuild_duration_seconds_bucket{le=\"30\"} 1",
            "feedd_rebuild_duration_seconds_bucket{le=\"+Inf\"} 2",
            "feedd_rebuild_duration_seconds_sum 100.007",
            "feedd_rebuild_duration_seconds_count 2",
            "feedd_websub_pings_total{outcome=\"coalesced\"} 1",
            "feedd_healthy 0",
        ] {
            assert!(text.lines().any(|l| l == line), "{line} missing in\n{text}");
        }
    }

    #[test]
    fn health_is_one_line() {
        assert_eq!(Health::failing("a\nb").text, "a\n");
        assert!(Health::ok().ok);
    }
}
