//! WebSub publishing (W3C WebSub §5): after a feed's bytes change, each
//! configured hub gets `POST hub.mode=publish&hub.url={feed URL}`
//! (form-encoded), and then fetches the feed and pushes it to its
//! subscribers.
//!
//! The rebuild loop hands changed feed URLs to [`Pinger::notify`], which
//! never blocks: a bounded channel to one tokio task that owns every hub's
//! queue. Per hub:
//! - a feed waiting to be announced is in the hub's pending set once, so
//!   changes coalesce while it waits (or while it is being sent);
//! - a feed is announced at most once per [`COALESCE`] window: the first
//!   change at once (an aggregator should hear of an article within
//!   milliseconds), every later change within the window in one more ping at
//!   its end, so the hub always fetches the last version;
//! - at most [`CONCURRENCY`] requests at once, each cut off after
//!   [`TIMEOUT`]; a failed one (an error status, a timeout, no connection)
//!   is tried again after 1, 2, 4, ... s, [`ATTEMPTS`] times in all;
//! - at most [`MAX_PENDING`] feeds waiting; more changes are dropped and
//!   counted, so a dead hub costs bounded memory.
//!
//! It must not know feeds, articles or the disk: it gets URLs.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Uri, header};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tokio::sync::mpsc;
use tokio::task::JoinSet;
use tokio::time::Instant;
use tracing::{debug, warn};

use crate::metrics::{Metrics, PingOutcome};

/// A feed is announced to a hub at most once per this window.
pub const COALESCE: Duration = Duration::from_secs(1);
/// One ping's whole request, connection included.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// Attempts per change, the first included.
pub const ATTEMPTS: u32 = 6;
/// The wait before the first retry; it doubles after each.
pub const RETRY_FIRST: Duration = Duration::from_secs(1);
/// Requests in flight to one hub at once.
pub const CONCURRENCY: usize = 4;
/// Feeds waiting for one hub at most.
pub const MAX_PENDING: usize = 10_000;
/// Messages the channel from the rebuild loop holds: the task drains it at
/// once, so it fills only if the runtime is starved.
const CHANNEL: usize = 256;

enum Message {
    Changed(Vec<Arc<str>>),
    Hubs(Vec<String>),
}

/// The handle the rebuild loop holds; cheap to clone.
#[derive(Debug, Clone)]
pub struct Pinger {
    tx: mpsc::Sender<Message>,
    metrics: Arc<Metrics>,
}

impl std::fmt::Debug for Message {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Message::Changed(topics) => write!(f, "Changed({topics:?})"),
            Message::Hubs(hubs) => write!(f, "Hubs({hubs:?})"),
        }
    }
}

impl Pinger {
    /// Starts the task on `runtime`, announcing to `hubs` (absolute http(s)
    /// URLs, as `Config` validated them).
    pub fn start(
        runtime: &tokio::runtime::Handle,
        hubs: Vec<String>,
        metrics: Arc<Metrics>,
    ) -> Pinger {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let mut task = Task {
            hubs: Vec::new(),
            clients: Clients::default(),
            metrics: Arc::clone(&metrics),
        };
        task.set_hubs(hubs);
        runtime.spawn(task.run(rx));
        Pinger { tx, metrics }
    }

    /// Announces that the feeds at `topics` (absolute URLs, each the feed's
    /// self URL) changed. Never blocks; if the task is that far behind, the
    /// change is dropped and counted.
    pub fn notify(&self, topics: impl IntoIterator<Item = String>) {
        let topics: Vec<Arc<str>> = topics.into_iter().map(Arc::from).collect();
        if topics.is_empty() {
            return;
        }
        let count = topics.len();
        if self.tx.try_send(Message::Changed(topics)).is_err() {
            for _ in 0..count {
                self.metrics.ping(PingOutcome::Dropped);
            }
            warn!("WebSub: {count} feed changes not announced; the ping queue is full");
        }
    }

    /// Replaces the hubs (config reload). Feeds waiting for a hub that is
    /// still listed keep waiting; those of a removed hub are forgotten.
    pub fn set_hubs(&self, hubs: Vec<String>) {
        if self.tx.try_send(Message::Hubs(hubs)).is_err() {
            warn!("WebSub: the hub list was not updated; the ping queue is full");
        }
    }
}

/// A feed waiting to be announced to one hub.
#[derive(Debug, Clone, Copy)]
struct Pending {
    /// Not before then (the coalescing window, or a retry's backoff).
    due: Instant,
    /// Attempts already made for this change.
    attempts: u32,
}

/// One hub's queue.
#[derive(Debug)]
struct Hub {
    url: Arc<str>,
    uri: Uri,
    pending: HashMap<Arc<str>, Pending>,
    in_flight: HashSet<Arc<str>>,
    /// When each feed was last sent, kept for one [`COALESCE`] window.
    last_sent: HashMap<Arc<str>, Instant>,
}

impl Hub {
    fn change(&mut self, topic: &Arc<str>, now: Instant, metrics: &Metrics) {
        if self.pending.contains_key(topic) {
            metrics.ping(PingOutcome::Coalesced);
            return;
        }
        if self.pending.len() >= MAX_PENDING {
            metrics.ping(PingOutcome::Dropped);
            return;
        }
        let due = self
            .last_sent
            .get(topic)
            .map_or(now, |sent| (*sent + COALESCE).max(now));
        self.pending
            .insert(Arc::clone(topic), Pending { due, attempts: 0 });
    }

    /// The feed to send next: due, not in flight, earliest first.
    fn next_due(&self, now: Instant) -> Option<(Arc<str>, Pending)> {
        if self.in_flight.len() >= CONCURRENCY {
            return None;
        }
        self.pending
            .iter()
            .filter(|(topic, pending)| pending.due <= now && !self.in_flight.contains(*topic))
            .min_by_key(|(_, pending)| pending.due)
            .map(|(topic, pending)| (Arc::clone(topic), *pending))
    }

    /// When a feed not in flight falls due; `None` while every request slot
    /// is taken (a finished request wakes the task then: waking for a feed
    /// already due but not sendable would spin).
    fn next_wake(&self) -> Option<Instant> {
        if self.in_flight.len() >= CONCURRENCY {
            return None;
        }
        self.pending
            .iter()
            .filter(|(topic, _)| !self.in_flight.contains(*topic))
            .map(|(_, pending)| pending.due)
            .min()
    }
}

/// The HTTP clients, one per scheme; https only once a hub needs it (it
/// loads the system's trust store).
#[derive(Default)]
struct Clients {
    http: Option<Client<HttpConnector, Full<Bytes>>>,
    https: Option<Result<HttpsClient, String>>,
}

type HttpsClient = Client<hyper_rustls::HttpsConnector<HttpConnector>, Full<Bytes>>;

impl Clients {
    fn http(&mut self) -> Client<HttpConnector, Full<Bytes>> {
        self.http
            .get_or_insert_with(|| {
                let mut connector = HttpConnector::new();
                connector.set_nodelay(true);
                connector.set_connect_timeout(Some(TIMEOUT));
                Client::builder(TokioExecutor::new()).build(connector)
            })
            .clone()
    }

    fn https(&mut self) -> Result<HttpsClient, String> {
        self.https
            .get_or_insert_with(|| {
                let builder = hyper_rustls::HttpsConnectorBuilder::new()
                    .with_native_roots()
                    .map_err(|error| {
                        format!(
                            "no trusted root certificates ({error}); install the system's \
                             CA certificates (ca-certificates)"
                        )
                    })?;
                let mut http = HttpConnector::new();
                http.set_nodelay(true);
                http.set_connect_timeout(Some(TIMEOUT));
                http.enforce_http(false);
                let connector = builder.https_only().enable_http1().wrap_connector(http);
                Ok(Client::builder(TokioExecutor::new()).build(connector))
            })
            .clone()
    }
}

/// The task that owns every hub's queue.
struct Task {
    hubs: Vec<Hub>,
    clients: Clients,
    metrics: Arc<Metrics>,
}

/// One finished ping: the hub, the feed, the attempts made, and the error.
type Done = (Arc<str>, Arc<str>, u32, Result<(), String>);

impl Task {
    fn set_hubs(&mut self, urls: Vec<String>) {
        let mut old: HashMap<Arc<str>, Hub> = self
            .hubs
            .drain(..)
            .map(|hub| (Arc::clone(&hub.url), hub))
            .collect();
        for url in urls {
            if let Some(hub) = old.remove(url.as_str()) {
                self.hubs.push(hub);
                continue;
            }
            match url.parse::<Uri>() {
                Ok(uri) => self.hubs.push(Hub {
                    url: Arc::from(url),
                    uri,
                    pending: HashMap::new(),
                    in_flight: HashSet::new(),
                    last_sent: HashMap::new(),
                }),
                Err(error) => warn!("WebSub hub {url} not used: {error}"),
            }
        }
    }

    async fn run(mut self, mut rx: mpsc::Receiver<Message>) {
        let mut requests: JoinSet<Done> = JoinSet::new();
        loop {
            let now = Instant::now();
            for hub in &mut self.hubs {
                while let Some((topic, pending)) = hub.next_due(now) {
                    hub.pending.remove(&topic);
                    hub.in_flight.insert(Arc::clone(&topic));
                    hub.last_sent.insert(Arc::clone(&topic), now);
                    let client = if hub.uri.scheme_str() == Some("https") {
                        self.clients.https().map(Either::Https)
                    } else {
                        Ok(Either::Http(self.clients.http()))
                    };
                    let (url, uri) = (Arc::clone(&hub.url), hub.uri.clone());
                    requests.spawn(async move {
                        let result = match client {
                            Ok(client) => ping(client, uri, &topic).await,
                            Err(error) => Err(error),
                        };
                        (url, topic, pending.attempts + 1, result)
                    });
                }
                hub.last_sent
                    .retain(|_, sent| now.saturating_duration_since(*sent) < COALESCE);
            }
            let pending: usize = self.hubs.iter().map(|hub| hub.pending.len()).sum();
            self.metrics.pings_pending(pending);
            let wake = self.hubs.iter().filter_map(Hub::next_wake).min();
            // The window's end, so that `last_sent` is pruned even when idle.
            let prune = self
                .hubs
                .iter()
                .flat_map(|hub| hub.last_sent.values())
                .min()
                .map(|sent| *sent + COALESCE);
            let wake = wake.into_iter().chain(prune).min();
            tokio::select! {
                message = rx.recv() => match message {
                    None => break,
                    Some(Message::Changed(topics)) => {
                        let now = Instant::now();
                        for hub in &mut self.hubs {
                            for topic in &topics {
                                hub.change(topic, now, &self.metrics);
                            }
                        }
                    }
                    Some(Message::Hubs(hubs)) => self.set_hubs(hubs),
                },
                Some(done) = requests.join_next(), if !requests.is_empty() => {
                    if let Ok(done) = done {
                        self.finished(done);
                    }
                }
                () = sleep_until(wake), if wake.is_some() => {}
            }
        }
    }

    fn finished(&mut self, (url, topic, attempts, result): Done) {
        let Some(hub) = self.hubs.iter_mut().find(|hub| hub.url == url) else {
            return; // removed by a config reload meanwhile
        };
        hub.in_flight.remove(&topic);
        let error = match result {
            Ok(()) => {
                debug!(hub = %url, topic = %topic, "WebSub ping sent");
                self.metrics.ping(PingOutcome::Ok);
                return;
            }
            Err(error) => error,
        };
        self.metrics.ping(PingOutcome::Error);
        // A newer change already waits: that ping announces this one too.
        if hub.pending.contains_key(&topic) {
            return;
        }
        if attempts >= ATTEMPTS {
            self.metrics.ping(PingOutcome::GaveUp);
            warn!(
                "WebSub hub {url}: giving up announcing {topic} after {attempts} attempts: {error}"
            );
            return;
        }
        let backoff = RETRY_FIRST * 2u32.saturating_pow(attempts - 1);
        debug!(hub = %url, topic = %topic, %error, ?backoff, "WebSub ping failed; will retry");
        if hub.pending.len() >= MAX_PENDING {
            self.metrics.ping(PingOutcome::Dropped);
            return;
        }
        hub.pending.insert(
            topic,
            Pending {
                due: Instant::now() + backoff,
                attempts,
            },
        );
    }
}

async fn sleep_until(wake: Option<Instant>) {
    if let Some(wake) = wake {
        tokio::time::sleep_until(wake).await;
    }
}

enum Either {
    Http(Client<HttpConnector, Full<Bytes>>),
    Https(HttpsClient),
}

/// The form body of a publish ping for `topic`.
pub fn publish_body(topic: &str) -> String {
    url::form_urlencoded::Serializer::new(String::new())
        .append_pair("hub.mode", "publish")
        .append_pair("hub.url", topic)
        .finish()
}

/// One publish ping; `Ok` on a 2xx answer within [`TIMEOUT`].
async fn ping(client: Either, hub: Uri, topic: &str) -> Result<(), String> {
    let request = Request::builder()
        .method(Method::POST)
        .uri(hub)
        .header(
            header::CONTENT_TYPE,
            "application/x-www-form-urlencoded; charset=utf-8",
        )
        .header(
            header::USER_AGENT,
            concat!("feedd/", env!("CARGO_PKG_VERSION")),
        )
        .body(Full::new(Bytes::from(publish_body(topic))))
        .map_err(|error| error.to_string())?;
    let sent = async {
        match client {
            Either::Http(client) => client.request(request).await,
            Either::Https(client) => client.request(request).await,
        }
    };
    let response = tokio::time::timeout(TIMEOUT, sent)
        .await
        .map_err(|_| format!("no answer within {TIMEOUT:?}"))?
        .map_err(|error| format!("{error:#}"))?;
    // The body is not read: dropping it closes that connection, which is
    // rare enough (pings are few) to keep the code simple.
    let status = response.status();
    if status.is_success() {
        Ok(())
    } else {
        Err(format!("the hub answered {status}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_body_is_form_encoded() {
        assert_eq!(
            publish_body("https://news.example.vn/kinh-te/rss.xml?a=b&c"),
            "hub.mode=publish&hub.url=https%3A%2F%2Fnews.example.vn%2Fkinh-te%2Frss.xml%3Fa%3Db%26c"
        );
    }

    fn hub() -> Hub {
        Hub {
            url: Arc::from("http://127.0.0.1:1/"),
            uri: Uri::from_static("http://127.0.0.1:1/"),
            pending: HashMap::new(),
            in_flight: HashSet::new(),
            last_sent: HashMap::new(),
        }
    }

    #[test]
    fn changes_to_a_waiting_feed_coalesce_and_a_sent_one_waits_for_the_window() {
        let metrics = Metrics::new();
        let mut hub = hub();
        let topic: Arc<str> = Arc::from("https://a/rss.xml");
        let now = Instant::now();
        for _ in 0..10 {
            hub.change(&topic, now, &metrics);
        }
        assert_eq!(hub.pending.len(), 1);
        assert!(metrics.render().contains("outcome=\"coalesced\"} 9"));
        assert!(hub.next_due(now).is_some());
        // Sent now: a change right after waits for the end of the window.
        hub.pending.clear();
        hub.last_sent.insert(Arc::clone(&topic), now);
        hub.change(&topic, now, &metrics);
        assert!(hub.next_due(now).is_none());
        assert!(hub.next_due(now + COALESCE).is_some());
    }

    #[test]
    fn a_hub_with_every_slot_taken_sets_no_wake_up() {
        let metrics = Metrics::new();
        let mut hub = hub();
        let now = Instant::now();
        for i in 0..CONCURRENCY + 1 {
            hub.change(&Arc::from(format!("https://a/{i}/rss.xml")), now, &metrics);
        }
        for _ in 0..CONCURRENCY {
            let (topic, _) = hub.next_due(now).unwrap();
            hub.pending.remove(&topic);
            hub.in_flight.insert(topic);
        }
        assert_eq!(hub.pending.len(), 1);
        assert!(hub.next_due(now).is_none());
        assert_eq!(
            hub.next_wake(),
            None,
            "a due feed with no free slot would spin the task"
        );
        let done = hub.in_flight.iter().next().cloned().unwrap();
        hub.in_flight.remove(&done);
        assert_eq!(hub.next_wake(), Some(now));
    }

    #[test]
    fn the_pending_set_is_bounded() {
        let metrics = Metrics::new();
        let mut hub = hub();
        let now = Instant::now();
        for i in 0..MAX_PENDING + 5 {
            hub.change(&Arc::from(format!("https://a/{i}/rss.xml")), now, &metrics);
        }
        assert_eq!(hub.pending.len(), MAX_PENDING);
        assert!(metrics.render().contains("outcome=\"dropped\"} 5"));
    }
}
