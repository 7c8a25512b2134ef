//! The HTTP server over the published [`Snapshot`]: every connection starts
//! on the fast path (`fast`), which answers the GETs and HEADs of documents
//! in memory that make up nearly all of a feed server's traffic, and hands
//! the connection to a hyper 1.x service at the first request it does not
//! answer.
//!
//! This module owns the connection loop (accept, keep-alive, timeouts,
//! graceful shutdown) and the answer to one request: method check, exact
//! path lookup, encoding negotiation, conditional request, headers. It must
//! not know files, articles or rendering: everything it sends was computed
//! by `publish`, so handling a request is a lookup with no lock, no I/O and
//! no formatting; counting it is two relaxed atomic additions. Article and
//! archive pages are the exception: read from their files on a blocking
//! thread, their compressed bodies kept in [`PageVariants`]. `/healthz`
//! and `/metrics` (never cached, never in the output folder) are answered
//! from [`Metrics`] when no document has the path.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Body as _;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::TcpListener;
use tokio::task::{AbortHandle, JoinSet};

mod fast;

use crate::metrics::{Health, Metrics, Route};
use crate::output::{ArchivePage, ArticlePage, Format, OutputPath};
use crate::publish::{PageVariants, Rendered, SharedSnapshot, Snapshot, Variant};

/// Bytes of compressed article and archive pages kept for the next
/// request of the same page: at about 3 KB per compressed article page,
/// the thousands of pages a news site's readers open most, and a few
/// dozen archive pages; a bounded part of the memory budget.
const PAGE_VARIANTS_BUDGET: usize = 16 * 1024 * 1024;
/// Pause after a failed accept: errors such as EMFILE persist until some
/// connection closes, and retrying at once would spin a core.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);
/// File descriptors kept for everything but connections (articles, feeds,
/// the state journal, the watcher, and the document files held open for
/// `sendfile`), so that a flood of clients cannot stop a publish.
const RESERVED_FDS: u64 = 256 + crate::publish::MAX_BODY_FILES as u64;
/// At most one "connection limit reached" line per this period: under a
/// flood the limit is reached again at every close.
const LIMIT_LOG_PERIOD: Duration = Duration::from_secs(60);
/// How long shutdown waits for in-flight requests before cutting them off.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(5);

const ALLOW: HeaderValue = HeaderValue::from_static("GET, HEAD");
const VARY: HeaderValue = HeaderValue::from_static("Accept-Encoding");
const GZIP: HeaderValue = HeaderValue::from_static("gzip");
const BR: HeaderValue = HeaderValue::from_static("br");
const TEXT_PLAIN: HeaderValue = HeaderValue::from_static("text/plain; charset=utf-8");
const PROMETHEUS_TEXT: HeaderValue =
    HeaderValue::from_static("text/plain; version=0.0.4; charset=utf-8");
/// Health and metrics describe this process now: a cache must not answer
/// for it.
const NO_STORE: HeaderValue = HeaderValue::from_static("no-store");

/// What one client may hold of the server. [`Limits::default`] is what
/// `feedd serve` uses; tests shorten the timeouts.
#[derive(Debug, Clone)]
pub struct Limits {
    /// The longest request line plus headers, in bytes; hyper answers a
    /// longer head with `431` and closes. Feed readers send well under
    /// 2 KiB; without a cap hyper buffers about 400 KB per connection.
    pub max_head_bytes: usize,
    /// A client must send a whole request head within this time of
    /// connecting, or of the end of the previous response: this cuts off
    /// slowloris clients and is also the keep-alive idle timeout.
    pub header_read_timeout: Duration,
    /// A response write that makes no progress for this long (the client
    /// stopped reading) closes the connection, like nginx's `send_timeout`:
    /// hyper itself would wait forever.
    pub send_timeout: Duration,
    /// Connections open at once. Beyond it new ones wait in the kernel's
    /// listen backlog until one closes, like nginx's `worker_connections`.
    /// Lowered to fit the open-files limit, less the descriptors kept for
    /// feedd's own files (`RESERVED_FDS`).
    pub max_connections: usize,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            // nginx's default `large_client_header_buffers` allows as much.
            max_head_bytes: 16 * 1024,
            header_read_timeout: Duration::from_secs(10),
            send_timeout: Duration::from_secs(60),
            max_connections: 10_000,
        }
    }
}

/// Serves until `shutdown` resolves, then stops accepting, lets in-flight
/// requests finish (for at most 5 s) and returns.
///
/// Each request reads the current snapshot, so a publish is visible to the
/// next request without any signal. Accept errors are logged and retried;
/// this returns `Ok` once shut down.
pub async fn serve(
    listener: TcpListener,
    snapshot: SharedSnapshot,
    shutdown: impl Future<Output = ()>,
) -> io::Result<()> {
    serve_with_limits(listener, snapshot, shutdown, Limits::default()).await
}

/// [`serve`] with other [`Limits`]. `/healthz` answers 200 (there is no
/// rebuild to wait for) and `/metrics` counts this server's requests.
pub async fn serve_with_limits(
    listener: TcpListener,
    snapshot: SharedSnapshot,
    shutdown: impl Future<Output = ()>,
    limits: Limits,
) -> io::Result<()> {
    let metrics = Arc::new(Metrics::new());
    metrics.set_health(Health::ok());
    serve_with_metrics(listener, snapshot, metrics, shutdown, limits).await
}

/// [`serve_with_limits`] counting into `metrics`, whose health the caller
/// keeps current (`feedd serve`: the rebuild loop).
pub async fn serve_with_metrics(
    listener: TcpListener,
    snapshot: SharedSnapshot,
    metrics: Arc<Metrics>,
    shutdown: impl Future<Output = ()>,
    limits: Limits,
) -> io::Result<()> {
    let mut builder = http1::Builder::new();
    builder
        .keep_alive(true)
        .timer(TokioTimer::new())
        // Kept per connection instead (`HeadWait`): hyper's arms and drops
        // a timer for every request, 5% of what a 304 costs.
        .header_read_timeout(None)
        .max_header_size(limits.max_head_bytes);
    let max_connections = connection_cap(limits.max_connections);
    let mut limit_logged_at: Option<Instant> = None;
    let graceful = GracefulShutdown::new();
    // Owning the connection tasks lets shutdown abort the ones that outlive
    // the drain instead of leaving them to the runtime; its length is the
    // number of open connections.
    let mut connections = JoinSet::new();
    let page_variants = Arc::new(PageVariants::new(PAGE_VARIANTS_BUDGET));
    tokio::pin!(shutdown);
    let head_clock = Arc::new(SweepClock::new());
    let mut waiting_heads: Vec<(AbortHandle, Arc<HeadWait>)> = Vec::new();
    // Tells connections on the fast path to close once idle; hyper's are
    // told by `graceful`.
    let (shutting_down, _) = tokio::sync::watch::channel(false);
    let sweep_period =
        (limits.header_read_timeout / 4).clamp(Duration::from_millis(10), Duration::from_secs(1));
    let mut sweep = tokio::time::interval(sweep_period);
    sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);

    'accept: loop {
        let accepted = tokio::select! {
            () = &mut shutdown => break 'accept,
            _ = sweep.tick() => {
                // The connections' clock lags by up to a period.
                let allowed = limits.header_read_timeout + sweep_period;
                close_late_heads(&mut waiting_heads, &head_clock, allowed);
                continue;
            }
            // Reap finished connections so the set does not grow forever.
            Some(_) = connections.join_next(), if !connections.is_empty() => continue,
            accepted = listener.accept(), if connections.len() < max_connections => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => accepted,
            Err(error) => {
                tracing::warn!(%error, "accept failed; retrying");
                tokio::select! {
                    () = &mut shutdown => break 'accept,
                    () = tokio::time::sleep(ACCEPT_BACKOFF) => continue,
                }
            }
        };
        // Feeds are answered in one write; Nagle would only delay the tail.
        if let Err(error) = stream.set_nodelay(true) {
            tracing::debug!(%peer, %error, "TCP_NODELAY not set");
        }
        let head = Arc::new(HeadWait::new(Arc::clone(&head_clock)));
        let fast = fast::Connection {
            snapshot: SharedSnapshot::clone(&snapshot),
            metrics: Arc::clone(&metrics),
            peer,
            max_head_bytes: limits.max_head_bytes,
            send_timeout: limits.send_timeout,
            head_wait: Arc::clone(&head),
        };
        let hyper_path = HyperPath {
            builder: builder.clone(),
            watcher: graceful.watcher(),
            page_variants: Arc::clone(&page_variants),
            send_timeout: limits.send_timeout,
        };
        let mut shutting_down = shutting_down.subscribe();
        let handle = connections.spawn(async move {
            let read = match fast.serve(&stream, &mut shutting_down).await {
                fast::Ended::Closed => return,
                fast::Ended::HandOff(read) => read,
            };
            let stream = fast::Prefixed::new(read, stream);
            if let Err(error) = hyper_path.serve(stream, fast).await {
                // Timeouts, resets and malformed requests: the client's
                // problem, not an operator's.
                tracing::debug!(%peer, %error, "connection ended with an error");
            }
        });
        waiting_heads.push((handle, head));
        if connections.len() >= max_connections
            && limit_logged_at.is_none_or(|at| at.elapsed() >= LIMIT_LOG_PERIOD)
        {
            limit_logged_at = Some(Instant::now());
            tracing::warn!(
                "{max_connections} connections open, the most allowed: new ones wait \
                 in the listen backlog until one closes (idle ones close after {:?})",
                limits.header_read_timeout
            );
        }
    }

    // Closing the listener refuses new connections while the others drain.
    drop(listener);
    shutting_down.send_replace(true);
    match tokio::time::timeout(DRAIN_TIMEOUT, graceful.shutdown()).await {
        Ok(()) => while connections.join_next().await.is_some() {},
        Err(_) => {
            tracing::warn!(
                connections = connections.len(),
                "connections still open after the drain timeout; closing them"
            );
            connections.shutdown().await;
        }
    }
    Ok(())
}

/// `wanted`, or fewer if the open-files limit cannot hold that many
/// connections besides [`RESERVED_FDS`]. Raises the soft limit toward the
/// hard one first, as Go's runtime does: the default soft limit of 1024
/// is a relic of `select(2)`, which tokio does not use.
fn connection_cap(wanted: usize) -> usize {
    use rustix::process::{Resource, Rlimit, getrlimit, setrlimit};
    let needed = u64::try_from(wanted)
        .unwrap_or(u64::MAX)
        .saturating_add(RESERVED_FDS);
    let limit = getrlimit(Resource::Nofile);
    let Some(soft) = limit.current else {
        return wanted; // unlimited
    };
    let mut available = soft;
    if soft < needed {
        let raised = limit.maximum.map_or(needed, |hard| hard.min(needed));
        if raised > soft
            && setrlimit(
                Resource::Nofile,
                Rlimit {
                    current: Some(raised),
                    maximum: limit.maximum,
                },
            )
            .is_ok()
        {
            available = raised;
        }
    }
    let cap = usize::try_from(available.saturating_sub(RESERVED_FDS))
        .unwrap_or(usize::MAX)
        .clamp(1, wanted.max(1));
    if cap < wanted {
        tracing::warn!(
            "the open-files limit ({available}) allows only {cap} connections at once; \
             raise it (ulimit -n, or LimitNOFILE= in a systemd unit) for {wanted}"
        );
    }
    cap
}

/// What a connection needs once its fast path hands it to hyper.
struct HyperPath {
    builder: http1::Builder,
    watcher: hyper_util::server::graceful::Watcher,
    page_variants: Arc<PageVariants>,
    send_timeout: Duration,
}

impl HyperPath {
    /// Serves the rest of the connection with hyper, the fast path's
    /// context reused.
    async fn serve(self, stream: fast::Prefixed, fast: fast::Connection) -> hyper::Result<()> {
        let fast::Connection {
            snapshot,
            metrics,
            peer,
            head_wait,
            ..
        } = fast;
        let page_variants = self.page_variants;
        let service = service_fn(move |mut request: Request<hyper::body::Incoming>| {
            decode_unreserved(&mut request);
            // Feeds and the other documents in memory are answered here, at
            // once; only a page read from its file makes a future of its own
            // (boxed: the feeds' future stays small, and hyper moves it).
            let page = match respond(&snapshot.load(), &metrics, &mut request) {
                Answer::Now(response, route) => {
                    count_request(&metrics, peer, &request, &response, route);
                    Ok(response)
                }
                Answer::Page(page) => Err(Box::pin(answer_page(
                    page,
                    request,
                    Arc::clone(&page_variants),
                    Arc::clone(&metrics),
                    peer,
                ))),
            };
            async move {
                Ok::<_, Infallible>(match page {
                    Ok(response) => response,
                    Err(reading) => reading.await,
                })
            }
        });
        let io = SendTimeout::new(TokioIo::new(stream), self.send_timeout, head_wait);
        self.watcher
            .watch(self.builder.serve_connection(io, service))
            .await
    }
}

/// A connection whose writes fail with `TimedOut` once they have made no
/// progress for `timeout`.
///
/// The timer is armed only when a write would block (the client's receive
/// window is full), so a request answered in one write costs a branch.
struct SendTimeout<T> {
    inner: T,
    timeout: Duration,
    /// Kept across stalls so that a connection allocates it at most once.
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    stalled: bool,
    /// Since when the connection has waited for a request head.
    head: Arc<HeadWait>,
}

/// Since when a connection has waited for a request head: since it opened
/// or since the server last wrote to it, in milliseconds of the server's
/// [`SweepClock`] (plus one); 0 while a write waits for the client to
/// read, which `send_timeout` governs instead. The accept loop closes the
/// connections that have waited longer than `header_read_timeout`, a few
/// times per timeout ([`close_late_heads`]): that cuts off slowloris
/// clients and idle keep-alive connections for a relaxed load and store
/// per write, where hyper's own header-read timeout armed and dropped a
/// timer per request (5% of what a 304 costs).
#[derive(Debug)]
struct HeadWait {
    since: AtomicU64,
    clock: Arc<SweepClock>,
}

impl HeadWait {
    fn new(clock: Arc<SweepClock>) -> HeadWait {
        let head = HeadWait {
            since: AtomicU64::new(0),
            clock,
        };
        head.restart();
        head
    }

    /// The server wrote: the next head is awaited from now.
    fn restart(&self) {
        let now = self.clock.now();
        self.since.store(now.saturating_add(1), Ordering::Relaxed);
    }

    /// A write waits for the client: no head is awaited until it is done.
    fn pause(&self) {
        self.since.store(0, Ordering::Relaxed);
    }

    /// Whether it has waited longer than `timeout` as of `now_ms`.
    fn is_late(&self, now_ms: u64, timeout: Duration) -> bool {
        let since = self.since.load(Ordering::Relaxed);
        let timeout = u64::try_from(timeout.as_millis()).unwrap_or(u64::MAX);
        since != 0 && now_ms.saturating_add(1).saturating_sub(since) > timeout
    }
}

/// Milliseconds since the server started, as of the accept loop's last
/// sweep: what a connection reads at every write to note when it began
/// waiting for a head. Reading the system clock there instead cost 2% of
/// a 304 (callgrind). It lags the real clock by up to a sweep period (more
/// if the loop is held up), which the sweep adds to the timeout.
#[derive(Debug)]
struct SweepClock {
    start: Instant,
    now_ms: AtomicU64,
}

impl SweepClock {
    fn new() -> SweepClock {
        SweepClock {
            start: Instant::now(),
            now_ms: AtomicU64::new(0),
        }
    }

    /// Reads the real clock, for the connections' next reads.
    fn advance(&self) -> u64 {
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        self.now_ms.store(now, Ordering::Relaxed);
        now
    }

    /// The time as of the last [`SweepClock::advance`].
    fn now(&self) -> u64 {
        self.now_ms.load(Ordering::Relaxed)
    }
}

/// Closes the connections that have waited longer than `timeout` for a
/// request head, and forgets the ones that ended.
fn close_late_heads(
    waiting: &mut Vec<(AbortHandle, Arc<HeadWait>)>,
    clock: &SweepClock,
    timeout: Duration,
) {
    let now = clock.advance();
    waiting.retain(|(connection, head)| {
        if connection.is_finished() {
            return false;
        }
        if head.is_late(now, timeout) {
            connection.abort();
            return false;
        }
        true
    });
}

impl<T> SendTimeout<T> {
    fn new(inner: T, timeout: Duration, head: Arc<HeadWait>) -> SendTimeout<T> {
        SendTimeout {
            inner,
            timeout,
            timer: None,
            stalled: false,
            head,
        }
    }

    /// A write that went through restarts the wait for the next head; one
    /// that waits for the client pauses it.
    fn note_write(&self, ready: bool) {
        if ready {
            self.head.restart();
        } else {
            self.head.pause();
        }
    }

    /// Called with the inner write's result: a ready result is progress,
    /// a pending one starts (or continues) the stall.
    fn watch<R>(
        &mut self,
        cx: &mut Context<'_>,
        polled: Poll<io::Result<R>>,
    ) -> Poll<io::Result<R>> {
        if polled.is_ready() {
            self.stalled = false;
            return polled;
        }
        let deadline = tokio::time::Instant::now() + self.timeout;
        let timer = match &mut self.timer {
            Some(timer) => {
                if !self.stalled {
                    timer.as_mut().reset(deadline);
                }
                timer
            }
            None => self
                .timer
                .insert(Box::pin(tokio::time::sleep_until(deadline))),
        };
        self.stalled = true;
        ready!(timer.as_mut().poll(cx));
        Poll::Ready(Err(io::Error::new(
            io::ErrorKind::TimedOut,
            "the client stopped reading the response",
        )))
    }
}

impl<T: hyper::rt::Read + Unpin> hyper::rt::Read for SendTimeout<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: hyper::rt::ReadBufCursor<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_read(cx, buf)
    }
}

impl<T: hyper::rt::Write + Unpin> hyper::rt::Write for SendTimeout<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write(cx, buf);
        this.note_write(polled.is_ready());
        this.watch(cx, polled)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_write_vectored(cx, bufs);
        this.note_write(polled.is_ready());
        this.watch(cx, polled)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let polled = Pin::new(&mut this.inner).poll_flush(cx);
        this.watch(cx, polled)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

/// What answers a request: a response at once, or a page to read from
/// its file.
enum Answer {
    Now(Response<Full<Bytes>>, Route),
    Page(PageFile),
}

/// The answer to one request, from the snapshot (and, for `/healthz` and
/// `/metrics`, `metrics`), and the route it counts under. A document's
/// response takes the request's header map (see [`respond_with`]).
fn respond<B>(snapshot: &Snapshot, metrics: &Metrics, request: &mut Request<B>) -> Answer {
    let method = request.method();
    if method != Method::GET && method != Method::HEAD {
        let mut response = plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed\n");
        response.headers_mut().insert(header::ALLOW, ALLOW);
        return Answer::Now(response, Route::Other);
    }
    // Exact match against the published paths, without percent-decoding or
    // normalising: `/../x`, `/%2e%2e/x` and `/a/../rss.xml` are simply not
    // keys, so traversal cannot reach anything but a feed.
    if let Some(feed) = snapshot.feeds.get(request.uri().path()) {
        let response = respond_with(feed, &snapshot.cache_control, request);
        return Answer::Now(response, Route::Document(feed.format));
    }
    // Article and archive pages are the answers read from disk (see
    // `pages`, `history`); their paths are never a document's in memory,
    // and looking for them only on a miss keeps them off the feeds' path.
    if let Some(page) = page_file(snapshot, request) {
        return Answer::Page(page);
    }
    let response = match request.uri().path() {
        "/healthz" => {
            let health = metrics.health();
            let status = if health.ok {
                StatusCode::OK
            } else {
                StatusCode::SERVICE_UNAVAILABLE
            };
            let response = uncached(method, status, TEXT_PLAIN, health.text.clone());
            return Answer::Now(response, Route::Healthz);
        }
        "/metrics" => {
            let text = Bytes::from(metrics.render());
            let response = uncached(method, StatusCode::OK, PROMETHEUS_TEXT, text);
            return Answer::Now(response, Route::Metrics);
        }
        path => match folder_without_slash(snapshot, path)
            .or_else(|| folder_of_index_html(snapshot, path))
        {
            Some(folder) => redirect(folder, &snapshot.cache_control),
            None => not_found(&snapshot.cache_control),
        },
    };
    Answer::Now(response, Route::Other)
}

/// Counts an answered request, and logs it at debug level.
fn count_request<B>(
    metrics: &Metrics,
    peer: std::net::SocketAddr,
    request: &Request<B>,
    response: &Response<Full<Bytes>>,
    route: Route,
) {
    let body_bytes = response.body().size_hint().exact().unwrap_or(0);
    metrics.request(route, response.status().as_u16(), body_bytes);
    tracing::debug!(
        %peer,
        method = %request.method(),
        path = request.uri().path(),
        status = response.status().as_u16(),
        "request"
    );
}

/// The answer with a page read from its file, counted.
async fn answer_page<B>(
    page: PageFile,
    mut request: Request<B>,
    variants: Arc<PageVariants>,
    metrics: Arc<Metrics>,
    peer: std::net::SocketAddr,
) -> Response<Full<Bytes>> {
    let route = Route::Document(page.format);
    let response = respond_page(page, &mut request, variants, Arc::clone(&metrics)).await;
    count_request(&metrics, peer, &request, &response, route);
    response
}

/// Decodes the percent-encoded unreserved characters of the request's path
/// (`/%72ss.xml` is `/rss.xml`: RFC 3986 §6.2.2.2 makes them equivalent).
/// Every other escape stays, so a path still matches only what feedd
/// publishes; `%2F` and `%2E%2E` decode to nothing a lookup accepts (`.` is
/// decoded, but no published path or page file has a `..` segment).
fn decode_unreserved<B>(request: &mut Request<B>) {
    let path = request.uri().path();
    // A byte loop: `str::contains` with a char pattern costs several times
    // more on paths this short.
    if !path.as_bytes().contains(&b'%') {
        return;
    }
    let hex = |byte: Option<&u8>| byte.and_then(|b| char::from(*b).to_digit(16));
    let bytes = path.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&byte) = bytes.get(i) {
        if byte == b'%'
            && let (Some(high), Some(low)) = (hex(bytes.get(i + 1)), hex(bytes.get(i + 2)))
            && let Ok(unescaped) = u8::try_from(high * 16 + low)
            && (unescaped.is_ascii_alphanumeric() || matches!(unescaped, b'-' | b'.' | b'_' | b'~'))
        {
            decoded.push(unescaped);
            i += 3;
        } else {
            decoded.push(byte);
            i += 1;
        }
    }
    if decoded.len() == bytes.len() {
        return;
    }
    let Ok(mut path_and_query) = String::from_utf8(decoded) else {
        return;
    };
    if let Some(query) = request.uri().query() {
        path_and_query.push('?');
        path_and_query.push_str(query);
    }
    let mut parts = request.uri().clone().into_parts();
    let Ok(path_and_query) = hyper::http::uri::PathAndQuery::try_from(path_and_query) else {
        return;
    };
    parts.path_and_query = Some(path_and_query);
    if let Ok(uri) = hyper::Uri::from_parts(parts) {
        *request.uri_mut() = uri;
    }
}

fn not_found(cache_control: &HeaderValue) -> Response<Full<Bytes>> {
    let mut response = plain(StatusCode::NOT_FOUND, "not found\n");
    // Without a max-age a cache keeps a 404 as long as it likes
    // (Varnish: 2 minutes), hiding a new category's feed that long.
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, cache_control.clone());
    response
}

/// `/{category}/` when `path` is `/{category}` and that page is published:
/// what people type, and what links without the slash lead to.
fn folder_without_slash(snapshot: &Snapshot, path: &str) -> Option<HeaderValue> {
    let name = path.strip_prefix('/')?;
    if name.is_empty() || name.contains('/') {
        return None;
    }
    let folder = format!("{path}/");
    let page = OutputPath::parse(&folder).filter(|p| p.format == Format::Html)?;
    snapshot.feeds.contains_key(folder.as_str()).then_some(())?;
    HeaderValue::try_from(page.url_path()).ok()
}

/// `/x/index.html` -> `/x/` when that is a published folder page: the file
/// a static server of the output folder would answer with, sent to its one
/// URL rather than a 404.
fn folder_of_index_html(snapshot: &Snapshot, path: &str) -> Option<HeaderValue> {
    let folder = path.strip_suffix("index.html")?;
    if !folder.ends_with('/') || !snapshot.feeds.contains_key(folder) {
        return None;
    }
    HeaderValue::from_str(folder).ok()
}

/// `301` to `location`, cacheable like the pages.
fn redirect(location: HeaderValue, cache_control: &HeaderValue) -> Response<Full<Bytes>> {
    let mut response = plain(StatusCode::MOVED_PERMANENTLY, "moved\n");
    let headers = response.headers_mut();
    headers.insert(header::LOCATION, location);
    headers.insert(header::CACHE_CONTROL, cache_control.clone());
    response
}

/// A document served from its file in the output folder: an article page
/// or an archive page (see `pages`, `history`).
struct PageFile {
    file: PathBuf,
    format: Format,
    cache_control: HeaderValue,
    /// An archive page that is not the newest: once a newer page exists,
    /// no new article can change it (the file of the next page is looked
    /// for when the request comes, as the page's own file is read).
    sealed_unless_newest: Option<PathBuf>,
}

/// The article or archive page file a request's path names, if it is one
/// and pages are served (`/{category}/{slug}.html`,
/// `/{category}/atom-2.xml`); the caller has checked the method.
fn page_file<B>(snapshot: &Snapshot, request: &Request<B>) -> Option<PageFile> {
    let dir = snapshot.pages_dir.as_ref()?;
    let path = request.uri().path();
    if let Some(page) = ArticlePage::parse(path) {
        return Some(PageFile {
            file: dir.join(page.relative_file()),
            format: Format::Html,
            cache_control: snapshot.cache_control.clone(),
            sealed_unless_newest: None,
        });
    }
    let page = ArchivePage::parse(path)?;
    let newer = page
        .number
        .checked_add(1)
        .and_then(|number| ArchivePage::new(page.scope.clone(), page.format, number))
        .map(|newer| dir.join(newer.relative_file()));
    Some(PageFile {
        file: dir.join(page.relative_file()),
        format: page.format,
        cache_control: snapshot.cache_control.clone(),
        sealed_unless_newest: newer,
    })
}

/// The answer for a page served from its file, read on a blocking thread,
/// answered with the same validators and encodings as a feed.
async fn respond_page<B>(
    page: PageFile,
    request: &mut Request<B>,
    variants: Arc<PageVariants>,
    metrics: Arc<Metrics>,
) -> Response<Full<Bytes>> {
    let encoding = choose_encoding(request.headers());
    // The validators, for the blocking thread to skip compressing a body
    // that a 304 would not send.
    let mut validators = HeaderMap::new();
    for name in [header::IF_NONE_MATCH, header::IF_MODIFIED_SINCE] {
        for value in request.headers().get_all(&name) {
            validators.append(name.clone(), value.clone());
        }
    }
    let PageFile {
        file,
        format,
        mut cache_control,
        sealed_unless_newest,
    } = page;
    let read = tokio::task::spawn_blocking(move || {
        let (body, modified) = read_page(&file)?;
        let sealed = sealed_unless_newest.is_some_and(|newer| newer.is_file());
        let (rendered, compressed) = Rendered::page_from_file(
            format,
            body,
            modified,
            encoding == Encoding::Gzip,
            encoding == Encoding::Br,
            &variants,
            |etag, modified| is_not_modified(&validators, etag, modified, false),
        );
        metrics.pages_compressed(compressed);
        Ok::<_, io::Error>((rendered, sealed))
    })
    .await;
    match read {
        Ok(Ok((page, sealed))) => {
            if sealed {
                cache_control = SEALED_CACHE_CONTROL;
            }
            respond_with(&page, &cache_control, request)
        }
        // A name too long for the file system, or a file where a folder
        // would be, names no page either: a client's 404, not a fault.
        Ok(Err(error))
            if matches!(
                error.kind(),
                io::ErrorKind::NotFound
                    | io::ErrorKind::NotADirectory
                    | io::ErrorKind::InvalidFilename
            ) =>
        {
            not_found(&cache_control)
        }
        Ok(Err(error)) => {
            tracing::warn!(%error, path = request.uri().path(), "page could not be read");
            plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n")
        }
        Err(_) => plain(StatusCode::INTERNAL_SERVER_ERROR, "internal error\n"),
    }
}

/// `Cache-Control` of an archive page that is not the newest
/// (`history::SEALED_MAX_AGE`).
const SEALED_CACHE_CONTROL: HeaderValue = HeaderValue::from_static("public, max-age=86400");

/// A page's bytes and modification time; a file larger than any page
/// feedd writes is refused rather than read whole.
fn read_page(file: &Path) -> io::Result<(Vec<u8>, SystemTime)> {
    use std::io::Read as _;
    const MAX_PAGE_BYTES: u64 = 64 * 1024 * 1024;
    let opened = std::fs::File::open(file)?;
    let meta = opened.metadata()?;
    if !meta.is_file() {
        return Err(io::ErrorKind::NotFound.into());
    }
    let mut body = Vec::with_capacity(usize::try_from(meta.len()).unwrap_or(0).min(1 << 20));
    opened.take(MAX_PAGE_BYTES).read_to_end(&mut body)?;
    Ok((body, meta.modified()?))
}

/// A `200`/`503` of `/healthz` or `/metrics`: `no-store`, and for HEAD the
/// length without the body.
fn uncached(
    method: &Method,
    status: StatusCode,
    content_type: HeaderValue,
    body: Bytes,
) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::default());
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, content_type);
    headers.insert(header::CACHE_CONTROL, NO_STORE);
    headers.insert(header::CONTENT_LENGTH, HeaderValue::from(body.len()));
    if method == Method::GET {
        *response.body_mut() = Full::new(body);
    }
    response
}

/// What a request for a published document gets: the variant, the
/// encoding it really has, and whether a `304` answers it. Both the hyper
/// path ([`respond_with`]) and the fast path (`fast`) send what this says.
struct DocumentAnswer<'a> {
    variant: &'a Variant,
    encoding: Encoding,
    not_modified: bool,
}

impl<'a> DocumentAnswer<'a> {
    fn new<H: RequestHeaders + ?Sized>(feed: &'a Rendered, headers: &H) -> DocumentAnswer<'a> {
        let (variant, encoding) = variant(feed, choose_encoding(headers));
        let not_modified = is_not_modified(
            headers,
            &variant.etag,
            feed.last_modified,
            feed.same_second_as_previous,
        );
        DocumentAnswer {
            variant,
            encoding,
            not_modified,
        }
    }
}

/// The answer with a published document. It takes the request's header
/// map, emptied, for its own (see [`recycled_headers`]).
fn respond_with<B>(
    feed: &Rendered,
    cache_control: &HeaderValue,
    request: &mut Request<B>,
) -> Response<Full<Bytes>> {
    let DocumentAnswer {
        variant,
        encoding,
        not_modified,
    } = DocumentAnswer::new(feed, request.headers());

    let mut response = Response::new(Full::default());
    *response.headers_mut() = recycled_headers(request.headers_mut());
    let out = response.headers_mut();
    out.insert(header::ETAG, variant.etag.clone());
    if let Some(link) = &feed.link {
        // WebSub discovery; on a 304 too, where it costs nothing and tells
        // a cache revalidating its copy the same.
        out.insert(header::LINK, link.clone());
    }
    // A second version within one second has no date of its own yet: the
    // previous version's would tell readers that trust dates (libcurl drops
    // a 200 not newer than its copy) that nothing changed. The publisher
    // gives it the next second as soon as that is not in the future.
    if !feed.same_second_as_previous {
        out.insert(header::LAST_MODIFIED, feed.last_modified_header.clone());
    }
    out.insert(header::CACHE_CONTROL, cache_control.clone());
    out.insert(header::VARY, VARY);
    if not_modified {
        *response.status_mut() = StatusCode::NOT_MODIFIED;
        return response;
    }
    out.insert(header::CONTENT_TYPE, feed.content_type.clone());
    if let Some(coding) = encoding.header() {
        out.insert(header::CONTENT_ENCODING, coding);
    }
    if request.method() == Method::GET {
        // hyper writes the body's length itself, for less than a header.
        *response.body_mut() = Full::new(variant.body.clone());
    } else {
        // HEAD: the body is empty, and the length a GET would receive is
        // announced all the same.
        out.insert(header::CONTENT_LENGTH, variant.content_length.clone());
    }
    response
}

/// Headers a response can hold: all of a document's at once.
const RESPONSE_HEADERS: usize = 8;
/// A request's header map larger than this (a client sent dozens of
/// headers) is not kept for the connection's later responses.
const RECYCLED_HEADERS_MAX: usize = 64;

/// The request's header map, emptied, to hold the response's headers.
///
/// hyper parses each request of a connection into the header map of the
/// previous response, so a response that reuses its request's map answers
/// every request of a keep-alive connection without allocating one. A new
/// map for all of a document's headers outgrows glibc's per-thread cache
/// and took malloc's slow path: about 6% of what feedd spent on a 304
/// (callgrind, against 0.4% for this).
fn recycled_headers(request_headers: &mut HeaderMap) -> HeaderMap {
    if request_headers.capacity() > RECYCLED_HEADERS_MAX {
        return HeaderMap::with_capacity(RESPONSE_HEADERS);
    }
    let mut headers = std::mem::take(request_headers);
    headers.clear();
    headers.reserve(RESPONSE_HEADERS);
    headers
}

fn plain(status: StatusCode, text: &'static str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, TEXT_PLAIN);
    response
}

/// The variant to send for the chosen `encoding`, and the encoding it really
/// has. Right after a change the compressed variants are still being
/// computed: the feed then goes out as identity, with the identity ETag, so
/// that the new bytes are visible without waiting for compression.
fn variant(feed: &Rendered, encoding: Encoding) -> (&Variant, Encoding) {
    let compressed = match encoding {
        Encoding::Identity => None,
        Encoding::Gzip => feed.gzip.as_ref(),
        Encoding::Br => feed.br.as_ref(),
    };
    match compressed {
        Some(variant) => (variant, encoding),
        None => (&feed.identity, Encoding::Identity),
    }
}

/// A content coding feedd can send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Encoding {
    Identity,
    Gzip,
    Br,
}

impl Encoding {
    /// Its `Content-Encoding`; none for identity.
    fn header(self) -> Option<HeaderValue> {
        match self {
            Encoding::Identity => None,
            Encoding::Gzip => Some(GZIP),
            Encoding::Br => Some(BR),
        }
    }
}

/// The values of a request's headers by name: hyper's map, or the list
/// httparse reads for the fast path, so that both paths answer a request
/// by the same functions.
trait RequestHeaders {
    fn values<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a [u8]>;
}

impl RequestHeaders for HeaderMap {
    fn values<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a [u8]> {
        self.get_all(name).iter().map(HeaderValue::as_bytes)
    }
}

impl RequestHeaders for [httparse::Header<'_>] {
    fn values<'a>(&'a self, name: &'a HeaderName) -> impl Iterator<Item = &'a [u8]> {
        self.iter()
            .filter(move |header| header.name.eq_ignore_ascii_case(name.as_str()))
            .map(|header| header.value)
    }
}

/// Picks the encoding from `Accept-Encoding` (RFC 9110 §12.5.3).
///
/// The highest q-value wins among br, gzip and an explicitly listed
/// identity; `*` stands for any coding not listed; q=0 excludes. Ties go to
/// br, then gzip: both are acceptable, and smaller is better. Identity is
/// the fallback when no compressed coding is acceptable, since it is never
/// worse to send the feed than a 406.
///
/// Works on the bytes: the tokens are ASCII, and `str` splitting by
/// `char` made this 4% of what a request cost (callgrind).
fn choose_encoding<H: RequestHeaders + ?Sized>(headers: &H) -> Encoding {
    // q-values in thousandths; None = not mentioned.
    let (mut br, mut gzip, mut identity, mut any) = (None, None, None, None);
    for value in headers.values(&header::ACCEPT_ENCODING) {
        for member in value.split(|&b| b == b',') {
            let mut parts = member.split(|&b| b == b';');
            let coding = parts.next().unwrap_or_default().trim_ascii();
            if coding.is_empty() {
                continue;
            }
            let Some(q) = parts.try_fold(1000, |q, param| {
                match param.iter().position(|&b| b == b'=') {
                    Some(equals) => {
                        let (name, value) = param.split_at(equals);
                        if name.trim_ascii().eq_ignore_ascii_case(b"q") {
                            parse_qvalue(value.get(1..).unwrap_or_default().trim_ascii())
                        } else {
                            Some(q)
                        }
                    }
                    // Other parameters carry no preference.
                    None => Some(q),
                }
            }) else {
                continue; // a malformed q-value says nothing we can trust
            };
            let slot = if coding.eq_ignore_ascii_case(b"br") {
                &mut br
            } else if coding.eq_ignore_ascii_case(b"gzip") || coding.eq_ignore_ascii_case(b"x-gzip")
            {
                &mut gzip
            } else if coding.eq_ignore_ascii_case(b"identity") {
                &mut identity
            } else if coding == b"*" {
                &mut any
            } else {
                continue;
            };
            *slot = Some(q);
        }
    }
    let br = br.or(any).unwrap_or(0);
    let gzip = gzip.or(any).unwrap_or(0);
    // Identity competes only when the client ranks it; being acceptable by
    // default must not beat a compressed coding the client asked for.
    let identity = identity.unwrap_or(0);
    if br > 0 && br >= gzip && br >= identity {
        Encoding::Br
    } else if gzip > 0 && gzip >= identity {
        Encoding::Gzip
    } else {
        Encoding::Identity
    }
}

/// Parses an RFC 9110 qvalue (`0`, `0.5`, `1.000`) into thousandths.
fn parse_qvalue(text: &[u8]) -> Option<u16> {
    let (whole, fraction) = match text.iter().position(|&b| b == b'.') {
        Some(dot) => (text.get(..dot)?, text.get(dot + 1..)?),
        None => (text, &b""[..]),
    };
    if fraction.len() > 3 || !fraction.iter().all(u8::is_ascii_digit) {
        return None;
    }
    let thousandths = fraction
        .iter()
        .copied()
        .chain(std::iter::repeat(b'0'))
        .take(3)
        .fold(0, |n, digit| n * 10 + u16::from(digit - b'0'));
    match whole {
        b"0" => Some(thousandths),
        b"1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

/// Whether a GET/HEAD can be answered `304 Not Modified` (RFC 9110 §13.2.2).
///
/// `If-None-Match`, when present, decides alone by weak comparison against
/// `etag` (`*` matches any existing feed) and `If-Modified-Since` is then
/// ignored. Otherwise a single valid `If-Modified-Since` at or after
/// `last_modified` (whole seconds, like HTTP dates) means not modified.
///
/// `same_second_as_previous`: another version was published earlier in the
/// second `last_modified` names, so only a strictly later date is proof.
fn is_not_modified<H: RequestHeaders + ?Sized>(
    headers: &H,
    etag: &HeaderValue,
    last_modified: SystemTime,
    same_second_as_previous: bool,
) -> bool {
    let mut if_none_match = headers.values(&header::IF_NONE_MATCH).peekable();
    if if_none_match.peek().is_some() {
        let ours = opaque_tag(etag.as_bytes());
        return if_none_match.any(|value| {
            // What a cache sends back nearly always: our tag, byte for byte.
            value == etag.as_bytes()
                || value.trim_ascii() == b"*"
                || entity_tags(value).any(|tag| opaque_tag(tag) == ours)
        });
    }
    let mut if_modified_since = headers.values(&header::IF_MODIFIED_SINCE);
    match (if_modified_since.next(), if_modified_since.next()) {
        // Several values are invalid and must be ignored (RFC 9110 §13.1.3).
        (Some(value), None) => std::str::from_utf8(value)
            .ok()
            .and_then(|text| httpdate::parse_http_date(text).ok())
            .is_some_and(|since| {
                last_modified < since || (last_modified == since && !same_second_as_previous)
            }),
        _ => false,
    }
}

/// The entity tags of an `If-None-Match` list, each with any `W/` prefix.
/// Splits on the quotes, not on commas: an opaque tag may contain a comma.
fn entity_tags(list: &[u8]) -> impl Iterator<Item = &[u8]> {
    let mut rest = list;
    std::iter::from_fn(move || {
        let start = rest.iter().position(|&b| b == b'"')?;
        let end = start + 1 + rest[start + 1..].iter().position(|&b| b == b'"')?;
        let weak = start >= 2 && &rest[start - 2..start] == b"W/";
        let tag = &rest[if weak { start - 2 } else { start }..=end];
        rest = &rest[end + 1..];
        Some(tag)
    })
}

/// An entity tag without its weakness marker: what weak comparison compares.
fn opaque_tag(tag: &[u8]) -> &[u8] {
    tag.strip_prefix(b"W/").unwrap_or(tag)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn decoded(target: &str) -> String {
        let mut request = Request::get(target).body(()).unwrap();
        decode_unreserved(&mut request);
        request.uri().to_string()
    }

    #[test]
    fn unreserved_escapes_are_decoded_and_no_other() {
        assert_eq!(decoded("/%72ss.xml"), "/rss.xml");
        assert_eq!(
            decoded("/kinh%2dte/%7E%5F.html?q=%72"),
            "/kinh-te/~_.html?q=%72"
        );
        assert_eq!(decoded("/a%2Fb%20c%25d%00"), "/a%2Fb%20c%25d%00");
        assert_eq!(decoded("/%2e%2E/x"), "/../x");
        assert_eq!(decoded("/%7"), "/%7");
        assert_eq!(decoded("/%zz%"), "/%zz%");
        assert_eq!(decoded("/%252e"), "/%252e");
        assert_eq!(decoded("/%%372"), "/%72");
    }

    proptest::proptest! {
        /// Any path a client may send: no panic, each decoded escape takes
        /// two bytes off, and a path without one is left alone. (Decoding
        /// is done once: `%%372` gives `%72`, which is looked up as such.)
        #[test]
        fn decoding_is_total_and_only_shortens(path in "/[a-zA-Z0-9%./_~!$&'()*+,;=:@-]{0,40}") {
            let Ok(uri) = path.parse::<hyper::Uri>() else { return Ok(()); };
            let once = decoded(&uri.to_string());
            proptest::prop_assert!(once.len() <= path.len());
            proptest::prop_assert_eq!((path.len() - once.len()) % 2, 0);
            if !path.contains('%') {
                proptest::prop_assert_eq!(once, path);
            }
        }

        /// Any `Accept-Encoding` a client may send: no panic, and a coding
        /// it excludes with `q=0` (listed last, so nothing overrides it) is
        /// never chosen.
        #[test]
        fn choosing_an_encoding_is_total_and_honours_exclusions(
            value in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..60),
            excluded in proptest::sample::select(vec!["gzip", "br"]),
        ) {
            let Ok(value) = HeaderValue::from_bytes(&value) else { return Ok(()); };
            let mut headers = HeaderMap::new();
            headers.append(header::ACCEPT_ENCODING, value);
            let _ = choose_encoding(&headers);
            headers.append(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(&format!("{excluded};q=0")).unwrap(),
            );
            let chosen = choose_encoding(&headers);
            let excluded = if excluded == "gzip" { Encoding::Gzip } else { Encoding::Br };
            proptest::prop_assert_ne!(chosen, excluded);
        }
    }

    #[test]
    fn sealed_archive_pages_have_the_history_max_age() {
        assert_eq!(
            SEALED_CACHE_CONTROL.to_str().unwrap(),
            format!("public, max-age={}", crate::history::SEALED_MAX_AGE)
        );
    }

    const ETAG: &str = "\"0123456789abcdef0123\"";
    /// Sun, 06 Nov 1994 08:49:37 GMT
    const LAST_MODIFIED_SECS: u64 = 784_111_777;

    fn root_rss() -> crate::output::OutputPath {
        crate::output::OutputPath::new(crate::output::Scope::All, crate::output::Format::Rss)
    }

    fn last_modified() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(LAST_MODIFIED_SECS)
    }

    fn headers(pairs: &[(header::HeaderName, &str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (name, value) in pairs {
            map.append(name.clone(), HeaderValue::from_str(value).unwrap());
        }
        map
    }

    fn not_modified(pairs: &[(header::HeaderName, &str)]) -> bool {
        is_not_modified(
            &headers(pairs),
            &HeaderValue::from_static(ETAG),
            last_modified(),
            false,
        )
    }

    #[test]
    fn an_equal_if_modified_since_is_no_proof_after_two_versions_in_one_second() {
        let at = last_modified();
        let secs = at.duration_since(UNIX_EPOCH).unwrap().as_secs();
        let etag = HeaderValue::from_static(ETAG);
        let equal = headers(&[(header::IF_MODIFIED_SINCE, &http_date(secs))]);
        let later = headers(&[(header::IF_MODIFIED_SINCE, &http_date(secs + 1))]);
        assert!(!is_not_modified(&equal, &etag, at, true));
        assert!(is_not_modified(&later, &etag, at, true));
        let tag = headers(&[(header::IF_NONE_MATCH, ETAG)]);
        assert!(is_not_modified(&tag, &etag, at, true), "ETags stay exact");
    }

    fn http_date(secs: u64) -> String {
        httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(secs))
    }

    #[test]
    fn no_validators_means_modified() {
        assert!(!not_modified(&[]));
    }

    #[test]
    fn if_none_match_with_the_etag_is_not_modified() {
        assert!(not_modified(&[(header::IF_NONE_MATCH, ETAG)]));
        assert!(!not_modified(&[(header::IF_NONE_MATCH, "\"other\"")]));
    }

    #[test]
    fn if_none_match_compares_weakly() {
        assert!(not_modified(&[(
            header::IF_NONE_MATCH,
            &format!("W/{ETAG}")
        )]));
    }

    #[test]
    fn if_none_match_matches_any_member_of_a_list() {
        let list = format!("\"a\", W/\"b,c\",{ETAG} , \"d\"");
        assert!(not_modified(&[(header::IF_NONE_MATCH, &list)]));
        assert!(not_modified(&[
            (header::IF_NONE_MATCH, "\"a\""),
            (header::IF_NONE_MATCH, ETAG),
        ]));
        assert!(!not_modified(&[(header::IF_NONE_MATCH, "\"a\", W/\"b\"")]));
    }

    #[test]
    fn if_none_match_tags_are_whole_not_prefixes() {
        let gzip_tag = ETAG.replace("\"", "").to_owned() + "-gzip";
        assert!(!not_modified(&[(
            header::IF_NONE_MATCH,
            &format!("\"{gzip_tag}\"")
        )]));
        assert!(!not_modified(&[(
            header::IF_NONE_MATCH,
            ETAG.trim_matches('"')
        )]));
    }

    #[test]
    fn if_none_match_star_matches_an_existing_feed() {
        assert!(not_modified(&[(header::IF_NONE_MATCH, "*")]));
    }

    #[test]
    fn if_none_match_wins_over_if_modified_since() {
        let later = http_date(LAST_MODIFIED_SECS + 3600);
        let earlier = http_date(LAST_MODIFIED_SECS - 3600);
        // Tag differs, date alone would say 304: the tag decides.
        assert!(!not_modified(&[
            (header::IF_NONE_MATCH, "\"other\""),
            (header::IF_MODIFIED_SINCE, &later),
        ]));
        // Tag matches, date alone would say 200: the tag decides.
        assert!(not_modified(&[
            (header::IF_NONE_MATCH, ETAG),
            (header::IF_MODIFIED_SINCE, &earlier),
        ]));
    }

    #[test]
    fn if_modified_since_equal_is_not_modified() {
        let same = http_date(LAST_MODIFIED_SECS);
        assert_eq!(same, "Sun, 06 Nov 1994 08:49:37 GMT");
        assert!(not_modified(&[(header::IF_MODIFIED_SINCE, &same)]));
    }

    #[test]
    fn if_modified_since_later_is_not_modified() {
        let later = http_date(LAST_MODIFIED_SECS + 1);
        assert!(not_modified(&[(header::IF_MODIFIED_SINCE, &later)]));
    }

    #[test]
    fn if_modified_since_earlier_is_modified() {
        let earlier = http_date(LAST_MODIFIED_SECS - 1);
        assert!(!not_modified(&[(header::IF_MODIFIED_SINCE, &earlier)]));
    }

    #[test]
    fn unparseable_if_modified_since_is_ignored() {
        for junk in ["yesterday", "", "Sun, 06 Nov 1994 08:49:37", "784111777"] {
            assert!(
                !not_modified(&[(header::IF_MODIFIED_SINCE, junk)]),
                "{junk}"
            );
        }
    }

    #[test]
    fn obsolete_http_date_formats_are_accepted() {
        assert!(not_modified(&[(
            header::IF_MODIFIED_SINCE,
            "Sunday, 06-Nov-94 08:49:37 GMT"
        )]));
        assert!(not_modified(&[(
            header::IF_MODIFIED_SINCE,
            "Sun Nov  6 08:49:37 1994"
        )]));
    }

    #[test]
    fn several_if_modified_since_values_are_ignored() {
        let same = http_date(LAST_MODIFIED_SECS);
        assert!(!not_modified(&[
            (header::IF_MODIFIED_SINCE, &same),
            (header::IF_MODIFIED_SINCE, &same),
        ]));
    }

    fn encoding(accept: Option<&str>) -> Encoding {
        let pairs: Vec<_> = accept
            .map(|v| (header::ACCEPT_ENCODING, v))
            .into_iter()
            .collect();
        choose_encoding(&headers(&pairs))
    }

    #[test]
    fn missing_or_empty_accept_encoding_means_identity() {
        assert_eq!(encoding(None), Encoding::Identity);
        assert_eq!(encoding(Some("")), Encoding::Identity);
        assert_eq!(encoding(Some("identity")), Encoding::Identity);
        assert_eq!(encoding(Some("deflate, zstd")), Encoding::Identity);
    }

    #[test]
    fn br_is_preferred_over_gzip_when_both_are_acceptable() {
        assert_eq!(encoding(Some("gzip, deflate, br")), Encoding::Br);
        assert_eq!(encoding(Some("gzip, deflate, br, zstd")), Encoding::Br);
        assert_eq!(encoding(Some("gzip")), Encoding::Gzip);
        assert_eq!(encoding(Some("x-gzip")), Encoding::Gzip);
        assert_eq!(encoding(Some("BR")), Encoding::Br);
    }

    #[test]
    fn q_values_rank_the_codings() {
        assert_eq!(encoding(Some("br;q=0.5, gzip;q=0.8")), Encoding::Gzip);
        assert_eq!(encoding(Some("br;q=0.8, gzip;q=0.5")), Encoding::Br);
        assert_eq!(encoding(Some("gzip ; q=1.0, br ; Q=0.999")), Encoding::Gzip);
        assert_eq!(
            encoding(Some("identity;q=1, gzip;q=0.5")),
            Encoding::Identity
        );
        assert_eq!(encoding(Some("gzip;q=0.5, identity;q=0.4")), Encoding::Gzip);
    }

    #[test]
    fn q_zero_excludes_a_coding() {
        assert_eq!(encoding(Some("br;q=0, gzip")), Encoding::Gzip);
        assert_eq!(encoding(Some("br;q=0.000, gzip;q=0")), Encoding::Identity);
        assert_eq!(encoding(Some("gzip;q=0")), Encoding::Identity);
    }

    #[test]
    fn star_stands_for_codings_not_listed() {
        assert_eq!(encoding(Some("*")), Encoding::Br);
        assert_eq!(encoding(Some("br;q=0, *")), Encoding::Gzip);
        assert_eq!(encoding(Some("*;q=0")), Encoding::Identity);
        assert_eq!(encoding(Some("*;q=0, gzip")), Encoding::Gzip);
        assert_eq!(encoding(Some("gzip;q=0.9, *;q=0.1")), Encoding::Gzip);
    }

    #[test]
    fn malformed_q_values_are_ignored() {
        assert_eq!(encoding(Some("br;q=2, gzip")), Encoding::Gzip);
        assert_eq!(encoding(Some("br;q=0.1234, gzip")), Encoding::Gzip);
        assert_eq!(encoding(Some("br;q=abc")), Encoding::Identity);
        assert_eq!(encoding(Some("br;q=, gzip;q=0.5")), Encoding::Gzip);
    }

    #[test]
    fn several_accept_encoding_lines_are_one_list() {
        let map = headers(&[
            (header::ACCEPT_ENCODING, "gzip"),
            (header::ACCEPT_ENCODING, "br"),
        ]);
        assert_eq!(choose_encoding(&map), Encoding::Br);
    }

    #[test]
    fn qvalues_parse_to_thousandths() {
        assert_eq!(parse_qvalue(b"0"), Some(0));
        assert_eq!(parse_qvalue(b"0."), Some(0));
        assert_eq!(parse_qvalue(b"0.5"), Some(500));
        assert_eq!(parse_qvalue(b"0.05"), Some(50));
        assert_eq!(parse_qvalue(b"1"), Some(1000));
        assert_eq!(parse_qvalue(b"1.000"), Some(1000));
        assert_eq!(parse_qvalue(b"1.001"), None);
        assert_eq!(parse_qvalue(b"0.5000"), None);
        assert_eq!(parse_qvalue(b"-0"), None);
        assert_eq!(parse_qvalue(b".5"), None);
    }

    /// A snapshot serving `feed` at `/rss.xml`, with `max-age=300`.
    fn serving_rss(feed: Rendered) -> Snapshot {
        let mut snapshot = Snapshot::empty(300);
        snapshot
            .feeds
            .insert("/rss.xml".into(), std::sync::Arc::new(feed));
        snapshot
    }

    /// The response `respond` gives at once; panics on a page to read.
    fn answered(
        snapshot: &Snapshot,
        metrics: &Metrics,
        mut request: Request<()>,
    ) -> Response<Full<Bytes>> {
        match respond(snapshot, metrics, &mut request) {
            Answer::Now(response, _) => response,
            Answer::Page(page) => panic!("a page to read: {}", page.file.display()),
        }
    }

    #[test]
    fn respond_is_a_lookup_with_the_spec_headers() {
        let feed = Rendered::new(&root_rss(), b"<rss/>".to_vec(), last_modified());
        let etag = feed.br.as_ref().unwrap().etag.clone();
        let snapshot = serving_rss(feed);
        let request = |method: Method, path: &str| {
            Request::builder()
                .method(method)
                .uri(path)
                .header(header::ACCEPT_ENCODING, "gzip, br")
                .body(())
                .unwrap()
        };
        let metrics = Metrics::new();
        let respond =
            |snapshot: &Snapshot, request: Request<()>| answered(snapshot, &metrics, request);
        let ok = respond(&snapshot, request(Method::GET, "/rss.xml"));
        assert_eq!(ok.status(), StatusCode::OK);
        assert_eq!(ok.headers()[header::CONTENT_ENCODING], "br");
        assert_eq!(ok.headers()[header::ETAG], etag);
        assert_eq!(ok.headers()[header::VARY], "Accept-Encoding");
        let missing = respond(&snapshot, request(Method::GET, "/rss.xml/"));
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
        assert_eq!(
            missing.headers()[header::CACHE_CONTROL],
            "public, max-age=300"
        );
        let post = respond(&snapshot, request(Method::POST, "/rss.xml"));
        assert_eq!(post.status(), StatusCode::METHOD_NOT_ALLOWED);
        assert_eq!(post.headers()[header::ALLOW], "GET, HEAD");
    }

    #[test]
    fn a_response_carries_none_of_its_request_headers() {
        // The response is built in the request's header map: nothing the
        // client sent may remain in it, however many headers it sent.
        let feed = Rendered::new(&root_rss(), b"<rss/>".to_vec(), last_modified());
        let etag = feed.gzip.as_ref().unwrap().etag.clone();
        let snapshot = serving_rss(feed);
        let metrics = Metrics::new();
        for extra in [0, 3, 200] {
            for validator in [None, Some(etag.clone())] {
                let mut request = Request::builder()
                    .uri("/rss.xml")
                    .header(header::ACCEPT_ENCODING, "gzip")
                    .header(header::COOKIE, "session=secret")
                    .header(header::SET_COOKIE, "a=b")
                    .header(header::AUTHORIZATION, "Basic c2VjcmV0");
                for i in 0..extra {
                    request = request.header(format!("x-padding-{i}"), "x");
                }
                if let Some(etag) = &validator {
                    request = request.header(header::IF_NONE_MATCH, etag);
                }
                let response = answered(&snapshot, &metrics, request.body(()).unwrap());
                let names: Vec<&str> = response.headers().keys().map(|n| n.as_str()).collect();
                let expected: &[&str] = if validator.is_some() {
                    &["etag", "last-modified", "cache-control", "vary"]
                } else {
                    &[
                        "etag",
                        "last-modified",
                        "cache-control",
                        "vary",
                        "content-type",
                        "content-encoding",
                    ]
                };
                assert_eq!(names, expected, "{extra} extra headers, {validator:?}");
                assert_eq!(response.headers().len(), expected.len());
            }
        }
    }

    #[test]
    fn a_feed_not_yet_compressed_goes_out_as_identity() {
        let feed = Rendered::identity_only(&root_rss(), b"<rss/>".to_vec(), last_modified());
        let etag = feed.identity.etag.clone();
        let snapshot = serving_rss(feed);
        let metrics = Metrics::new();
        let respond =
            |snapshot: &Snapshot, request: Request<()>| answered(snapshot, &metrics, request);
        for accept in ["gzip", "br", "gzip, deflate, br"] {
            let request = Request::builder()
                .uri("/rss.xml")
                .header(header::ACCEPT_ENCODING, accept)
                .body(())
                .unwrap();
            let ok = respond(&snapshot, request);
            assert_eq!(ok.status(), StatusCode::OK, "{accept}");
            assert!(!ok.headers().contains_key(header::CONTENT_ENCODING));
            assert_eq!(ok.headers()[header::ETAG], etag);
            assert_eq!(ok.body().size_hint().exact(), Some(6));
            // The response still depends on Accept-Encoding: once the
            // compressed variants exist, the same request gets one.
            assert_eq!(ok.headers()[header::VARY], "Accept-Encoding");

            let revalidate = Request::builder()
                .uri("/rss.xml")
                .header(header::ACCEPT_ENCODING, accept)
                .header(header::IF_NONE_MATCH, etag.clone())
                .body(())
                .unwrap();
            let not_modified = respond(&snapshot, revalidate);
            assert_eq!(not_modified.status(), StatusCode::NOT_MODIFIED, "{accept}");
            assert_eq!(not_modified.headers()[header::ETAG], etag);
        }
    }
}
