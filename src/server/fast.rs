//! The fast path: what nearly every request to a feed server is, a GET or
//! HEAD of a document held in memory on an HTTP/1.1 keep-alive connection,
//! read with httparse and answered with one vectored write of a head built
//! from the document's precomputed header values and its body.
//!
//! It exists for speed alone: hyper's request and response types, header
//! maps and state machine cost as much as the rest of a 304 (hyper served
//! feedd's documents at nginx's rate, no faster). It answers exactly what
//! [`respond_with`](super::respond_with) answers, through the same
//! [`DocumentAnswer`]. Anything else on a connection (another method, path
//! or version, a request body, an upgrade, an escaped path, a head that is
//! malformed, too large or has too many headers) hands the connection to
//! hyper with the bytes already read, and hyper serves it to the end.

use std::cell::RefCell;
use std::io::{self, IoSlice};
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncWrite, Interest, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::{DocumentAnswer, HeadWait};
use crate::metrics::{Metrics, Route};
use crate::publish::{BodyFile, SharedSnapshot, Snapshot};

/// Headers a request on the fast path may carry. Readers send about ten;
/// a request with more goes to hyper, which allows 100.
const MAX_HEADERS: usize = 32;
/// What a connection reads into first; grown up to the head limit for a
/// request that does not fit.
const READ_BUFFER_BYTES: usize = 4096;

/// What the fast path of one connection needs.
pub(super) struct Connection {
    pub snapshot: SharedSnapshot,
    pub metrics: Arc<Metrics>,
    pub peer: SocketAddr,
    pub max_head_bytes: usize,
    pub send_timeout: Duration,
    pub head_wait: Arc<HeadWait>,
}

/// How a connection's fast path ended.
pub(super) enum Ended {
    /// Nothing more to do: the client closed the connection or asked to,
    /// a write failed, or the server is shutting down.
    Closed,
    /// A request the fast path does not answer: hyper serves the connection
    /// from here, starting with these bytes, already read.
    HandOff(Vec<u8>),
}

/// A response ready to be written.
struct Reply {
    status: u16,
    body: Body,
    close: bool,
    format: crate::output::Format,
}

/// What follows a response's head.
enum Body {
    Bytes(Bytes),
    /// A large identity body, sent from its file (see [`BodyFile`]).
    File(Arc<BodyFile>),
}

impl Body {
    fn length(&self) -> u64 {
        match self {
            Body::Bytes(bytes) => u64::try_from(bytes.len()).unwrap_or(u64::MAX),
            Body::File(file) => file.length(),
        }
    }
}

impl Connection {
    /// Answers the requests of `stream` until it closes, the server shuts
    /// down (`shutdown` changes), or a request needs hyper.
    pub(super) async fn serve(
        &self,
        stream: &TcpStream,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Ended {
        let mut buffer = vec![0u8; READ_BUFFER_BYTES];
        let (mut start, mut end) = (0, 0);
        let mut head = Vec::with_capacity(512);
        loop {
            // Every complete request read is answered in order: a pipelining
            // client sends several at once.
            while start < end {
                let pending = buffer.get(start..end).unwrap_or_default();
                let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
                let mut request = httparse::Request::new(&mut headers);
                let length = match request.parse(pending) {
                    Ok(httparse::Status::Complete(length)) => length,
                    Ok(httparse::Status::Partial) if pending.len() < self.max_head_bytes => break,
                    // Too long, malformed, or too many headers: hyper answers
                    // each as it should (431, 400).
                    _ => return Ended::HandOff(pending.to_vec()),
                };
                head.clear();
                let Some(reply) = reply(&request, &self.snapshot.load(), &mut head) else {
                    return Ended::HandOff(pending.to_vec());
                };
                self.count(&request, &reply);
                start += length;
                let written = match &reply.body {
                    Body::Bytes(body) => self.write(stream, &head, body).await,
                    Body::File(body) => self.send_file(stream, &head, body).await,
                };
                if let Err(error) = written {
                    tracing::debug!(peer = %self.peer, %error, "connection ended with an error");
                    return Ended::Closed;
                }
                if reply.close {
                    // A FIN after the response, as hyper sends: the client
                    // reads to the end instead of guessing.
                    let _ = rustix::net::shutdown(stream, rustix::net::Shutdown::Write);
                    return Ended::Closed;
                }
            }
            // What is left is the start of the next request.
            buffer.copy_within(start..end, 0);
            end -= start;
            start = 0;
            if end == buffer.len() {
                let grown = (buffer.len() * 2).min(self.max_head_bytes.max(READ_BUFFER_BYTES));
                buffer.resize(grown, 0);
            }
            let Some(unread) = buffer.get_mut(end..) else {
                return Ended::Closed;
            };
            match read(stream, unread, shutdown).await {
                Some(read) if read > 0 => end += read,
                _ => return Ended::Closed,
            }
        }
    }

    /// Writes the whole response; a write that makes no progress for
    /// `send_timeout` (the client stopped reading) fails.
    async fn write(&self, stream: &TcpStream, head: &[u8], body: &[u8]) -> io::Result<()> {
        let (mut head, mut body) = (head, body);
        loop {
            match stream.try_write_vectored(&[IoSlice::new(head), IoSlice::new(body)]) {
                Ok(written) => {
                    let from_head = written.min(head.len());
                    head = head.get(from_head..).unwrap_or_default();
                    body = body.get(written - from_head..).unwrap_or_default();
                    if head.is_empty() && body.is_empty() {
                        self.head_wait.restart();
                        return Ok(());
                    }
                }
                Err(error) => self.wait_writable(stream, error).await?,
            }
        }
    }

    /// Writes the head, then the body from its file with `sendfile`; the
    /// head goes with `MSG_MORE`, so that it leaves with the body's first
    /// bytes rather than in a packet of its own.
    async fn send_file(&self, stream: &TcpStream, head: &[u8], body: &BodyFile) -> io::Result<()> {
        let mut head = head;
        while !head.is_empty() {
            let sent = stream.try_io(Interest::WRITABLE, || {
                Ok(rustix::net::send(
                    stream,
                    head,
                    rustix::net::SendFlags::MORE | rustix::net::SendFlags::NOSIGNAL,
                )?)
            });
            match sent {
                Ok(sent) => head = head.get(sent..).unwrap_or_default(),
                Err(error) => self.wait_writable(stream, error).await?,
            }
        }
        let mut offset = 0;
        while offset < body.length() {
            let left = usize::try_from(body.length() - offset).unwrap_or(usize::MAX);
            let sent = stream.try_io(Interest::WRITABLE, || {
                Ok(rustix::fs::sendfile(
                    stream,
                    body.file(),
                    Some(&mut offset),
                    left,
                )?)
            });
            match sent {
                // The file is shorter than the body it held (an operator
                // truncated it): close rather than leave the client waiting.
                Ok(0) => return Err(io::ErrorKind::UnexpectedEof.into()),
                Ok(_) => {}
                Err(error) => self.wait_writable(stream, error).await?,
            }
        }
        self.head_wait.restart();
        Ok(())
    }

    /// After a write that failed with `error`: waits until the socket takes
    /// more if it would have blocked, for at most `send_timeout`.
    async fn wait_writable(&self, stream: &TcpStream, error: io::Error) -> io::Result<()> {
        if error.kind() != io::ErrorKind::WouldBlock {
            return Err(error);
        }
        self.head_wait.pause();
        match tokio::time::timeout(self.send_timeout, stream.writable()).await {
            Ok(writable) => writable,
            Err(_) => Err(io::Error::new(
                io::ErrorKind::TimedOut,
                "the client stopped reading the response",
            )),
        }
    }

    fn count(&self, request: &httparse::Request<'_, '_>, reply: &Reply) {
        self.metrics.request(
            Route::Document(reply.format),
            reply.status,
            reply.body.length(),
        );
        tracing::debug!(
            peer = %self.peer,
            method = request.method.unwrap_or_default(),
            path = request.path.unwrap_or_default(),
            status = reply.status,
            "request"
        );
    }
}

/// Reads what the client sent into `buffer`: `None` once the server shuts
/// down or the connection fails, `Some(0)` at its end.
async fn read(
    stream: &TcpStream,
    buffer: &mut [u8],
    shutdown: &mut watch::Receiver<bool>,
) -> Option<usize> {
    loop {
        tokio::select! {
            // Shutdown first: a client that always has the next request
            // ready would otherwise hold the drain up until its timeout.
            biased;
            _ = shutdown.changed() => return None,
            readable = stream.readable() => readable.ok()?,
        }
        match stream.try_read(buffer) {
            Ok(read) => return Some(read),
            Err(error) if error.kind() == io::ErrorKind::WouldBlock => continue,
            Err(_) => return None,
        }
    }
}

/// The reply to `request` with its head written into `head`, or `None`
/// when hyper must answer it.
fn reply(
    request: &httparse::Request<'_, '_>,
    snapshot: &Snapshot,
    head: &mut Vec<u8>,
) -> Option<Reply> {
    let is_head = match request.method? {
        "GET" => false,
        "HEAD" => true,
        _ => return None,
    };
    // HTTP/1.0 keeps a connection alive only when asked: hyper knows how.
    if request.version? != 1 {
        return None;
    }
    let target = request.path?;
    let path = target.split_once('?').map_or(target, |(path, _)| path);
    // Escapes are decoded by the hyper path (`decode_unreserved`); bytes a
    // URI may not hold are hyper's to refuse.
    if !path.starts_with('/') || target.bytes().any(|b| b"%\"<>\\^`{|}".contains(&b)) {
        return None;
    }
    let feed = snapshot.feeds.get(path)?;
    let close = keeps_alive(request.headers)?;
    let DocumentAnswer {
        variant,
        encoding,
        not_modified,
    } = DocumentAnswer::new(feed, request.headers);

    let status = if not_modified { 304 } else { 200 };
    head.extend_from_slice(if not_modified {
        b"HTTP/1.1 304 Not Modified\r\n"
    } else {
        b"HTTP/1.1 200 OK\r\n"
    });
    push_header(head, "etag", variant.etag.as_bytes());
    if let Some(link) = &feed.link {
        push_header(head, "link", link.as_bytes());
    }
    if !feed.same_second_as_previous {
        push_header(head, "last-modified", feed.last_modified_header.as_bytes());
    }
    push_header(head, "cache-control", snapshot.cache_control.as_bytes());
    push_header(head, "vary", super::VARY.as_bytes());
    let mut body = Body::Bytes(Bytes::new());
    if !not_modified {
        push_header(head, "content-type", feed.content_type.as_bytes());
        if let Some(coding) = encoding.header() {
            push_header(head, "content-encoding", coding.as_bytes());
        }
        push_header(head, "content-length", variant.content_length.as_bytes());
        if !is_head {
            body = match (&feed.body_file, encoding) {
                (Some(file), super::Encoding::Identity) => Body::File(Arc::clone(file)),
                _ => Body::Bytes(variant.body.clone()),
            };
        }
    }
    if close {
        push_header(head, "connection", b"close");
    }
    push_date(head);
    head.extend_from_slice(b"\r\n");
    Some(Reply {
        status,
        body,
        close,
        format: feed.format,
    })
}

/// Whether the request asks to close the connection after its response
/// (`Some(true)`), or `None` for any other use of the headers that decide
/// a connection's fate (a body, an upgrade, `Expect`): hyper's to answer.
fn keeps_alive(headers: &[httparse::Header<'_>]) -> Option<bool> {
    let mut close = false;
    for header in headers {
        let name = header.name;
        if ["content-length", "transfer-encoding", "expect", "upgrade"]
            .iter()
            .any(|framing| name.eq_ignore_ascii_case(framing))
        {
            return None;
        }
        if name.eq_ignore_ascii_case("connection") {
            for option in header.value.split(|&b| b == b',') {
                let option = option.trim_ascii();
                if option.eq_ignore_ascii_case(b"close") {
                    close = true;
                } else if !option.eq_ignore_ascii_case(b"keep-alive") && !option.is_empty() {
                    return None;
                }
            }
        }
    }
    Some(close)
}

fn push_header(head: &mut Vec<u8>, name: &str, value: &[u8]) {
    head.extend_from_slice(name.as_bytes());
    head.extend_from_slice(b": ");
    head.extend_from_slice(value);
    head.extend_from_slice(b"\r\n");
}

/// Appends `date: {now}\r\n`, formatted once a second per thread, as hyper
/// caches it.
fn push_date(head: &mut Vec<u8>) {
    thread_local! {
        static DATE: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let now = SystemTime::now();
    let second = now
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    DATE.with_borrow_mut(|(cached, text)| {
        if *cached != second {
            *cached = second;
            *text = httpdate::fmt_http_date(now);
        }
        push_header(head, "date", text.as_bytes());
    });
}

/// A connection handed to hyper: reads return the bytes the fast path had
/// already read, then the socket's.
pub(super) struct Prefixed {
    prefix: Vec<u8>,
    read: usize,
    stream: TcpStream,
}

impl Prefixed {
    pub(super) fn new(prefix: Vec<u8>, stream: TcpStream) -> Prefixed {
        Prefixed {
            prefix,
            read: 0,
            stream,
        }
    }
}

impl AsyncRead for Prefixed {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let unread = this.prefix.get(this.read..).unwrap_or_default();
        if unread.is_empty() {
            return Pin::new(&mut this.stream).poll_read(cx, buf);
        }
        let taken = unread.len().min(buf.remaining());
        buf.put_slice(unread.get(..taken).unwrap_or_default());
        this.read += taken;
        if this.read == this.prefix.len() {
            this.prefix = Vec::new();
            this.read = 0;
        }
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for Prefixed {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::{Format, OutputPath, Scope};
    use crate::publish::Rendered;

    fn snapshot() -> Snapshot {
        let modified = UNIX_EPOCH + Duration::from_secs(1_790_000_000);
        let feed = Rendered::new(
            &OutputPath::new(Scope::All, Format::Rss),
            b"<rss/>".to_vec(),
            modified,
        );
        let mut snapshot = Snapshot::empty(300);
        snapshot.feeds.insert("/rss.xml".into(), Arc::new(feed));
        snapshot
    }

    /// The reply to `request` (a whole head) and the head written, or
    /// `None` if it goes to hyper.
    fn answer(request: &str) -> Option<(Reply, String)> {
        let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
        let mut parsed = httparse::Request::new(&mut headers);
        let status = parsed.parse(request.as_bytes()).expect("a valid request");
        assert!(status.is_complete(), "{request:?}");
        let mut head = Vec::new();
        let reply = reply(&parsed, &snapshot(), &mut head)?;
        Some((reply, String::from_utf8(head).expect("an ASCII head")))
    }

    #[test]
    fn only_a_plain_get_or_head_of_a_document_is_answered_here() {
        for request in [
            "GET /rss.xml HTTP/1.1\r\nHost: a\r\n\r\n",
            "HEAD /rss.xml HTTP/1.1\r\n\r\n",
            "GET /rss.xml?utm_source=x HTTP/1.1\r\n\r\n",
            "GET /rss.xml HTTP/1.1\r\nConnection: keep-alive\r\n\r\n",
            "GET /rss.xml HTTP/1.1\r\nConnection: Keep-Alive, close\r\n\r\n",
        ] {
            assert!(answer(request).is_some(), "{request:?}");
        }
        for request in [
            // Not a document in memory: 404s, pages, health are hyper's.
            "GET /atom.xml HTTP/1.1\r\n\r\n",
            "GET /healthz HTTP/1.1\r\n\r\n",
            "GET /rss.xml/ HTTP/1.1\r\n\r\n",
            // Other methods, versions and request forms.
            "POST /rss.xml HTTP/1.1\r\n\r\n",
            "get /rss.xml HTTP/1.1\r\n\r\n",
            "GET /rss.xml HTTP/1.0\r\n\r\n",
            "GET http://a/rss.xml HTTP/1.1\r\n\r\n",
            "GET * HTTP/1.1\r\n\r\n",
            // Escapes, and bytes hyper's URI parser refuses.
            "GET /%72ss.xml HTTP/1.1\r\n\r\n",
            "GET /rss.xml?q={x} HTTP/1.1\r\n\r\n",
            // A body, or a connection that changes hands.
            "GET /rss.xml HTTP/1.1\r\nContent-Length: 0\r\n\r\n",
            "GET /rss.xml HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n",
            "GET /rss.xml HTTP/1.1\r\nExpect: 100-continue\r\n\r\n",
            "GET /rss.xml HTTP/1.1\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n",
            "GET /rss.xml HTTP/1.1\r\nConnection: TE\r\n\r\n",
        ] {
            assert!(answer(request).is_none(), "{request:?}");
        }
    }

    #[test]
    fn the_head_says_what_the_body_is_and_whether_the_connection_stays() {
        let (reply, head) =
            answer("GET /rss.xml HTTP/1.1\r\nAccept-Encoding: gzip\r\n\r\n").unwrap();
        assert_eq!((reply.status, reply.close), (200, false));
        assert!(head.starts_with("HTTP/1.1 200 OK\r\n"), "{head}");
        assert!(head.contains("\r\ncontent-encoding: gzip\r\n"), "{head}");
        let length = format!("\r\ncontent-length: {}\r\n", reply.body.length());
        assert!(head.contains(&length), "{head}");
        assert!(head.ends_with("\r\n\r\n") && !head.contains("connection:"));

        let (reply, head) = answer("HEAD /rss.xml HTTP/1.1\r\nConnection: close\r\n\r\n").unwrap();
        assert!(reply.body.length() == 0 && reply.close);
        assert!(head.contains("\r\ncontent-length: 6\r\n"), "{head}");
        assert!(head.contains("\r\nconnection: close\r\n"), "{head}");

        let etag = snapshot().feeds["/rss.xml"].identity.etag.clone();
        let request = format!(
            "GET /rss.xml HTTP/1.1\r\nIf-None-Match: {}\r\n\r\n",
            etag.to_str().unwrap()
        );
        let (reply, head) = answer(&request).unwrap();
        assert_eq!(reply.status, 304);
        assert_eq!(reply.body.length(), 0);
        assert!(head.starts_with("HTTP/1.1 304 Not Modified\r\n"), "{head}");
        assert!(
            !head.contains("content-length") && !head.contains("content-type"),
            "{head}"
        );
    }

    proptest::proptest! {
        /// Whatever a client sends, answering it does not panic, and what
        /// the fast path answers is a GET or HEAD of the published feed
        /// with a whole head.
        #[test]
        fn any_request_head_is_answered_or_handed_on(
            method in "(GET|HEAD|POST|[A-Z]{1,7})",
            target in "(/rss\\.xml|/[a-z%.?/=]{0,12})",
            version in "HTTP/1\\.[01]",
            headers in proptest::collection::vec(
                ("(Connection|Content-Length|Accept-Encoding|If-None-Match|If-Modified-Since|[A-Za-z-]{1,12})",
                 "[ -~]{0,40}"),
                0..8,
            ),
        ) {
            let mut request = format!("{method} {target} {version}\r\n");
            for (name, value) in &headers {
                request.push_str(&format!("{name}: {}\r\n", value.trim()));
            }
            request.push_str("\r\n");
            let mut parsed_headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
            let mut parsed = httparse::Request::new(&mut parsed_headers);
            if let Ok(httparse::Status::Complete(_)) = parsed.parse(request.as_bytes()) {
                let mut head = Vec::new();
                if let Some(reply) = reply(&parsed, &snapshot(), &mut head) {
                    proptest::prop_assert!(method == "GET" || method == "HEAD");
                    proptest::prop_assert!(target.starts_with("/rss.xml"));
                    proptest::prop_assert!(head.ends_with(b"\r\n\r\n"));
                    proptest::prop_assert!(reply.status == 200 || reply.status == 304);
                }
            }
        }
    }
}
