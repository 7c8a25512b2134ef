//! HTTP behaviour over a real socket: a `Publisher` writes feeds into a
//! temporary output directory and `feedd::server::serve` answers from its
//! snapshot. Every network call has a deadline, so a hang fails fast.

mod common;

use std::io::{Read, Write};
use std::net::SocketAddr;
use std::path::Path;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use feedd::output::OutputPath;
use feedd::publish::{Publisher, Update};
use http_body_util::{BodyExt, Full};
use hyper::header::{self, HeaderMap, HeaderName};
use hyper::{Method, Request, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use tempfile::TempDir;
use tokio::net::TcpListener;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio::time::timeout;

use common::{ATOM, RSS, SECRET};

/// An update of the feed at `url_path`; `None` removes it.
fn update(url_path: &str, bytes: Option<Vec<u8>>) -> Update {
    let path = OutputPath::parse(url_path).expect("a feed path");
    Update { path, bytes }
}

/// Generous: a passing run takes milliseconds.
const DEADLINE: Duration = Duration::from_secs(10);
const MAX_AGE: u32 = 300;

const CATEGORY_RSS: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Chính trị – Tin tức</title><link>https://news.example.vn/chinh-tri/</link>
<description>Tin chính trị</description></channel></rss>
"#;

struct Reply {
    status: StatusCode,
    headers: HeaderMap,
    body: Bytes,
}

impl Reply {
    fn header(&self, name: HeaderName) -> &str {
        self.headers
            .get(&name)
            .unwrap_or_else(|| panic!("no {name} header in {:?}", self.headers))
            .to_str()
            .unwrap()
    }
}

struct Server {
    addr: SocketAddr,
    client: Client<HttpConnector, Full<Bytes>>,
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<std::io::Result<()>>,
}

impl Server {
    async fn start(publisher: &Publisher) -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (tx, rx) = oneshot::channel::<()>();
        let task = tokio::spawn(feedd::server::serve(
            listener,
            publisher.snapshot(),
            async move {
                // A dropped sender also means "stop".
                let _ = rx.await;
            },
        ));
        Server {
            addr,
            client: Client::builder(TokioExecutor::new()).build_http(),
            shutdown: Some(tx),
            task,
        }
    }

    async fn request(&self, method: Method, path: &str, headers: &[(HeaderName, &str)]) -> Reply {
        let mut request = Request::builder()
            .method(method)
            .uri(format!("http://{}{path}", self.addr));
        for (name, value) in headers {
            request = request.header(name, *value);
        }
        let request = request.body(Full::default()).unwrap();
        let response = timeout(DEADLINE, self.client.request(request))
            .await
            .expect("response in time")
            .expect("response");
        let (parts, body) = response.into_parts();
        let body = timeout(DEADLINE, body.collect())
            .await
            .expect("body in time")
            .expect("body")
            .to_bytes();
        Reply {
            status: parts.status,
            headers: parts.headers,
            body,
        }
    }

    async fn get(&self, path: &str, headers: &[(HeaderName, &str)]) -> Reply {
        self.request(Method::GET, path, headers).await
    }

    /// Sends `target` byte for byte (a client library might normalise it)
    /// and returns the whole raw response.
    async fn raw_get(&self, target: &str) -> String {
        let request = format!("GET {target} HTTP/1.1\r\nHost: feedd\r\nConnection: close\r\n\r\n");
        self.raw(request.into_bytes()).await
    }

    /// Sends `request` as is and returns everything the server sends until
    /// it closes the connection.
    async fn raw(&self, request: Vec<u8>) -> String {
        let addr = self.addr;
        // Blocking std I/O on its own thread, with socket timeouts as well as
        // the outer deadline: tokio's io-util is not among the features.
        let exchange = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
            let mut stream = std::net::TcpStream::connect_timeout(&addr, DEADLINE)?;
            stream.set_read_timeout(Some(DEADLINE))?;
            stream.set_write_timeout(Some(DEADLINE))?;
            // A server that refuses the request may close before it has
            // read all of it: the write then fails, but its answer is there.
            let written = stream.write_all(&request);
            let mut response = Vec::new();
            match stream.read_to_end(&mut response) {
                Ok(_) => Ok(response),
                Err(_) if !response.is_empty() => Ok(response),
                Err(error) => written.and(Err(error)),
            }
        });
        let response = timeout(DEADLINE, exchange)
            .await
            .expect("raw exchange in time")
            .expect("raw exchange did not panic")
            .expect("raw exchange");
        String::from_utf8_lossy(&response).into_owned()
    }

    async fn stop(mut self) -> std::io::Result<()> {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        timeout(DEADLINE, self.task)
            .await
            .expect("serve returns in time")
            .expect("serve did not panic")
    }
}

/// An output directory with `/rss.xml`, `/atom.xml` and `/chinh-tri/rss.xml`.
fn published() -> (TempDir, Publisher) {
    let dir = tempfile::tempdir().unwrap();
    let mut publisher = Publisher::new(dir.path().join("feeds"), MAX_AGE, true);
    let outcome = publisher.publish(vec![
        update("/rss.xml", Some(RSS.into())),
        update("/atom.xml", Some(ATOM.into())),
        update("/chinh-tri/rss.xml", Some(CATEGORY_RSS.into())),
    ]);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.changed.len(), 3);
    (dir, publisher)
}

fn feed_file(dir: &TempDir, url_path: &str) -> std::path::PathBuf {
    dir.path()
        .join("feeds")
        .join(url_path.trim_start_matches('/'))
}

fn mtime(path: &Path) -> SystemTime {
    std::fs::metadata(path).unwrap().modified().unwrap()
}

/// Asserts that the file's mtime is exactly the `Last-Modified` of `reply`:
/// whole seconds on disk too, not merely the same second once truncated.
fn assert_mtime_is_last_modified(path: &Path, reply: &Reply) {
    let last_modified = httpdate::parse_http_date(reply.header(header::LAST_MODIFIED)).unwrap();
    assert_eq!(mtime(path), last_modified, "{}", path.display());
}

fn is_strong_hash_etag(etag: &str, suffix: &str) -> bool {
    let Some(inner) = etag
        .strip_prefix('"')
        .and_then(|e| e.strip_suffix('"'))
        .and_then(|e| e.strip_suffix(suffix))
    else {
        return false;
    };
    inner.len() >= 16 && inner.bytes().all(|b| b.is_ascii_hexdigit())
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .unwrap();
    out
}

fn unbrotli(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    brotli::Decompressor::new(body, 4096)
        .read_to_end(&mut out)
        .unwrap();
    out
}

#[tokio::test]
async fn get_answers_with_the_feed_and_every_header() {
    let (dir, publisher) = published();
    let server = Server::start(&publisher).await;

    let reply = server.get("/rss.xml", &[]).await;
    assert_eq!(reply.status, StatusCode::OK);
    assert_eq!(reply.body, RSS);
    assert_eq!(
        reply.header(header::CONTENT_TYPE),
        "application/rss+xml; charset=utf-8"
    );
    assert!(is_strong_hash_etag(reply.header(header::ETAG), ""));
    assert_mtime_is_last_modified(&feed_file(&dir, "/rss.xml"), &reply);
    assert_eq!(reply.header(header::CACHE_CONTROL), "public, max-age=300");
    assert_eq!(reply.header(header::VARY), "Accept-Encoding");
    assert_eq!(reply.header(header::CONTENT_LENGTH), RSS.len().to_string());
    assert!(!reply.headers.contains_key(header::CONTENT_ENCODING));
    let date = httpdate::parse_http_date(reply.header(header::DATE)).unwrap();
    let last_modified = httpdate::parse_http_date(reply.header(header::LAST_MODIFIED)).unwrap();
    assert!(last_modified <= date, "Last-Modified after Date");
    let parsed = feed_rs::parser::parse(&reply.body[..]).expect("a feed");
    assert_eq!(parsed.entries.len(), 1);

    let atom = server.get("/atom.xml", &[]).await;
    assert_eq!(atom.status, StatusCode::OK);
    assert_eq!(atom.body, ATOM);
    assert_eq!(
        atom.header(header::CONTENT_TYPE),
        "application/atom+xml; charset=utf-8"
    );
    assert_ne!(atom.header(header::ETAG), reply.header(header::ETAG));

    let category = server.get("/chinh-tri/rss.xml", &[]).await;
    assert_eq!(category.status, StatusCode::OK);
    assert_eq!(category.body, CATEGORY_RSS);

    // A query string does not change the resource.
    let query = server.get("/rss.xml?utm_source=reader", &[]).await;
    assert_eq!(query.status, StatusCode::OK);
    assert_eq!(query.body, RSS);

    server.stop().await.unwrap();
}

#[tokio::test]
async fn head_sends_the_headers_of_get_without_a_body() {
    let (_dir, publisher) = published();
    let server = Server::start(&publisher).await;

    for accept in ["identity", "gzip", "br"] {
        let accept_encoding = [(header::ACCEPT_ENCODING, accept)];
        let get = server.get("/rss.xml", &accept_encoding).await;
        let head = server
            .request(Method::HEAD, "/rss.xml", &accept_encoding)
            .await;
        assert_eq!(head.status, StatusCode::OK);
        assert!(head.body.is_empty());
        for name in [
            header::CONTENT_TYPE,
            header::ETAG,
            header::LAST_MODIFIED,
            header::CACHE_CONTROL,
            header::VARY,
            header::CONTENT_LENGTH,
        ] {
            assert_eq!(head.headers.get(&name), get.headers.get(&name), "{name}");
        }
        assert_eq!(
            head.headers.get(header::CONTENT_ENCODING),
            get.headers.get(header::CONTENT_ENCODING)
        );
        assert_eq!(
            head.header(header::CONTENT_LENGTH),
            get.body.len().to_string()
        );
    }

    server.stop().await.unwrap();
}

#[tokio::test]
async fn other_methods_get_405_with_allow() {
    let (_dir, publisher) = published();
    let server = Server::start(&publisher).await;

    for method in [
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
    ] {
        for path in ["/rss.xml", "/nope"] {
            let reply = server.request(method.clone(), path, &[]).await;
            assert_eq!(
                reply.status,
                StatusCode::METHOD_NOT_ALLOWED,
                "{method} {path}"
            );
            assert_eq!(reply.header(header::ALLOW), "GET, HEAD");
            assert!(!reply.body.is_empty());
        }
    }
    // Nothing was changed by them.
    assert_eq!(server.get("/rss.xml", &[]).await.body, RSS);

    server.stop().await.unwrap();
}

#[tokio::test]
async fn unknown_paths_get_404() {
    let (_dir, publisher) = published();
    let server = Server::start(&publisher).await;

    for path in [
        "/",
        "/index.html",
        "/RSS.XML",
        "/rss.xml/",
        "/rss.xml.gz",
        "/chinh-tri",
        "/chinh-tri/",
        "/chinh-tri/atom.xml",
        "/the-gioi/rss.xml",
        "/feeds/rss.xml",
    ] {
        let reply = server.get(path, &[]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert_eq!(
            reply.header(header::CONTENT_TYPE),
            "text/plain; charset=utf-8"
        );
        let head = server.request(Method::HEAD, path, &[]).await;
        assert_eq!(head.status, StatusCode::NOT_FOUND, "HEAD {path}");
        assert!(head.body.is_empty());
    }

    server.stop().await.unwrap();
}

#[tokio::test]
async fn path_traversal_gets_404_and_never_a_file() {
    let (dir, publisher) = published();
    // Bait inside the output directory and next to it.
    std::fs::write(dir.path().join("feeds/secret.txt"), SECRET).unwrap();
    std::fs::write(dir.path().join("secret.txt"), SECRET).unwrap();
    let server = Server::start(&publisher).await;

    for target in [
        "/secret.txt",
        "/../secret.txt",
        "/../../../../etc/passwd",
        "/%2e%2e/secret.txt",
        "/%2E%2E/secret.txt",
        "/..%2Fsecret.txt",
        "/%2F..%2Fsecret.txt",
        "/chinh-tri/../secret.txt",
        "/chinh-tri/../rss.xml",
        "/chinh-tri%2Frss.xml",
        "/./rss.xml",
        "//rss.xml",
        "/rss.xml%00",
        "/..\\secret.txt",
    ] {
        let response = server.raw_get(target).await;
        assert!(
            response.starts_with("HTTP/1.1 404 "),
            "{target}: {response}"
        );
        assert!(!response.contains(SECRET), "{target} leaked the file");
        assert!(!response.contains("root:"), "{target} leaked /etc/passwd");
    }
    // Control: the raw client does reach real feeds, also with a letter
    // percent-encoded (RFC 3986 §6.2.2.2: the same URL).
    for target in ["/rss.xml", "/%72ss.xml"] {
        assert!(
            server.raw_get(target).await.starts_with("HTTP/1.1 200 "),
            "{target}"
        );
    }

    server.stop().await.unwrap();
}

#[tokio::test]
async fn an_oversized_request_head_gets_431_and_the_connection_closes() {
    let (_dir, publisher) = published();
    let server = Server::start(&publisher).await;
    let request = |header_bytes: usize| {
        format!(
            "GET /rss.xml HTTP/1.1\r\nHost: feedd\r\nX-Padding: {}\r\nConnection: close\r\n\r\n",
            "a".repeat(header_bytes)
        )
        .into_bytes()
    };

    // Well under the cap, as real browsers' cookies are: answered.
    let response = server.raw(request(12 * 1024)).await;
    assert!(response.starts_with("HTTP/1.1 200 "), "{response:.200}");

    // Just over the cap, and the 200 KB header that used to get a 200.
    for header_bytes in [17 * 1024, 200 * 1024] {
        let response = server.raw(request(header_bytes)).await;
        assert!(
            response.starts_with("HTTP/1.1 431 "),
            "{header_bytes} bytes: {response:.200}"
        );
        assert!(!response.contains("<rss"), "{header_bytes} bytes");
    }

    // The server is unharmed.
    assert_eq!(server.get("/rss.xml", &[]).await.body, RSS);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn files_in_the_output_dir_that_are_not_feeds_are_never_served() {
    let (dir, publisher) = published();
    drop(publisher);
    let feeds = dir.path().join("feeds");
    std::fs::write(feeds.join("secret.txt"), SECRET).unwrap();
    std::fs::write(feeds.join("index.htm"), SECRET).unwrap();
    std::fs::create_dir_all(feeds.join("x/y")).unwrap();
    std::fs::write(feeds.join("x/y/rss.xml"), SECRET).unwrap();
    std::fs::create_dir_all(feeds.join("Upper")).unwrap();
    std::fs::write(feeds.join("Upper/rss.xml"), SECRET).unwrap();
    std::fs::write(feeds.join("chinh-tri/notes.xml"), SECRET).unwrap();

    // A restart loads what is on disk: the feeds, and only them.
    let mut publisher = Publisher::new(feeds.clone(), MAX_AGE, true);
    assert_eq!(publisher.load_existing().unwrap(), 3);
    assert_eq!(
        publisher.published_paths(),
        ["/rss.xml", "/atom.xml", "/chinh-tri/rss.xml"]
    );
    let server = Server::start(&publisher).await;
    for path in [
        "/secret.txt",
        "/index.htm",
        "/index.html",
        "/x/y/rss.xml",
        "/Upper/rss.xml",
        "/chinh-tri/notes.xml",
    ] {
        let reply = server.get(path, &[]).await;
        assert_eq!(reply.status, StatusCode::NOT_FOUND, "{path}");
        assert!(!String::from_utf8_lossy(&reply.body).contains(SECRET));
    }
    assert_eq!(server.get("/rss.xml", &[]).await.status, StatusCode::OK);

    server.stop().await.unwrap();
}

/// A raw response's status line, its headers in order of name, without
/// `date` (which moves with the clock), and its body.
fn head_and_body(response: &str) -> (String, Vec<String>, String) {
    let (head, body) = response.split_once("\r\n\r\n").expect("a whole head");
    let (status, headers) = head.split_once("\r\n").unwrap_or((head, ""));
    let mut headers: Vec<String> = headers
        .split("\r\n")
        .filter(|line| !line.to_ascii_lowercase().starts_with("date:"))
        .map(str::to_owned)
        .collect();
    headers.sort();
    (status.to_owned(), headers, body.to_owned())
}

/// The documents in memory are answered by the fast path (`server::fast`);
/// a path with an escape goes through hyper. Both must send the same bytes
/// but the date, whatever the request asks.
#[tokio::test]
async fn the_fast_path_and_hyper_answer_a_document_alike() {
    let (_dir, publisher) = published();
    let server = Server::start(&publisher).await;
    let plain = server.get("/rss.xml", &[]).await;
    let etag = plain.headers[header::ETAG].to_str().unwrap().to_owned();
    let modified = plain.headers[header::LAST_MODIFIED]
        .to_str()
        .unwrap()
        .to_owned();
    let cases = [
        ("GET", String::new()),
        ("HEAD", String::new()),
        ("GET", "Accept-Encoding: gzip\r\n".to_owned()),
        ("GET", "Accept-Encoding: br;q=1, gzip;q=0.5\r\n".to_owned()),
        ("HEAD", "Accept-Encoding: gzip\r\n".to_owned()),
        ("GET", format!("If-None-Match: {etag}\r\n")),
        ("GET", format!("If-None-Match: W/{etag}, \"other\"\r\n")),
        ("GET", "If-None-Match: \"other\"\r\n".to_owned()),
        ("GET", format!("If-Modified-Since: {modified}\r\n")),
        ("HEAD", format!("If-Modified-Since: {modified}\r\n")),
    ];
    for (method, headers) in &cases {
        let exchange = |path: &str| {
            format!("{method} {path} HTTP/1.1\r\nHost: feedd\r\n{headers}Connection: close\r\n\r\n")
        };
        let fast = server.raw(exchange("/rss.xml").into_bytes()).await;
        let hyper = server.raw(exchange("/%72ss.xml").into_bytes()).await;
        assert_eq!(
            head_and_body(&fast),
            head_and_body(&hyper),
            "{method} with {headers:?}"
        );
        assert!(
            fast.starts_with("HTTP/1.1 200 ") || fast.starts_with("HTTP/1.1 304 "),
            "{fast:.100}"
        );
    }
    server.stop().await.unwrap();
}

/// A client may send requests without waiting for responses: each is
/// answered, in order, including the ones after a request that hands the
/// connection from the fast path to hyper.
#[tokio::test]
async fn pipelined_requests_are_answered_in_order_across_the_hand_off_to_hyper() {
    let (_dir, publisher) = published();
    let server = Server::start(&publisher).await;
    let requests = [
        "GET /rss.xml HTTP/1.1\r\nHost: feedd\r\n\r\n",
        "HEAD /atom.xml HTTP/1.1\r\nHost: feedd\r\n\r\n",
        "DELETE /rss.xml HTTP/1.1\r\nHost: feedd\r\n\r\n",
        "GET /nothing-here.xml HTTP/1.1\r\nHost: feedd\r\n\r\n",
        "GET /chinh-tri/rss.xml HTTP/1.1\r\nHost: feedd\r\nConnection: close\r\n\r\n",
    ];
    let response = server.raw(requests.concat().into_bytes()).await;
    let statuses: Vec<&str> = response
        .match_indices("HTTP/1.1 ")
        .filter_map(|(at, _)| response.get(at + 9..at + 12))
        .collect();
    assert_eq!(statuses, ["200", "200", "405", "404", "200"], "{response}");
    let rss = response.find(RSS).expect("the RSS body, whole");
    let category = response
        .find(CATEGORY_RSS)
        .expect("the category's body, whole");
    assert!(rss < category);
    assert!(!response.contains(ATOM), "HEAD sends no body");
    server.stop().await.unwrap();
}

/// A request head that arrives in pieces is answered once whole; one that
/// never ends is refused at the head limit, by hyper, as before.
#[tokio::test]
async fn a_request_head_sent_in_pieces_is_answered_once_whole() {
    let (_dir, publisher) = published();
    let server = Server::start(&publisher).await;
    let addr = server.addr;
    let exchange = tokio::task::spawn_blocking(move || -> std::io::Result<Vec<u8>> {
        let mut stream = std::net::TcpStream::connect_timeout(&addr, DEADLINE)?;
        stream.set_read_timeout(Some(DEADLINE))?;
        stream.set_nodelay(true)?;
        let request = b"GET /rss.xml HTTP/1.1\r\nHost: feedd\r\nConnection: close\r\n\r\n";
        for piece in request.chunks(7) {
            stream.write_all(piece)?;
            stream.flush()?;
            std::thread::sleep(Duration::from_millis(5));
        }
        let mut response = Vec::new();
        stream.read_to_end(&mut response)?;
        Ok(response)
    });
    let response = timeout(DEADLINE, exchange).await.unwrap().unwrap().unwrap();
    let response = String::from_utf8_lossy(&response);
    assert!(response.starts_with("HTTP/1.1 200 "), "{response:.200}");
    assert!(response.ends_with(RSS), "{response:.200}");
    server.stop().await.unwrap();
}

/// A feed of `length` bytes, its content told by `version`.
fn large_feed(version: char, length: usize) -> Vec<u8> {
    let mut feed = format!("<rss version=\"2.0\"><channel><title>{version}</title>").into_bytes();
    feed.resize(length - "</channel></rss>".len(), version as u8);
    feed.extend_from_slice(b"</channel></rss>");
    feed
}

/// Large identity bodies go out of their files with `sendfile`: each
/// version whole, on a keep-alive connection whose next response follows
/// at the right byte, after a republish and after a restart alike.
#[tokio::test]
async fn large_feeds_are_sent_from_their_files_whole_in_every_version() {
    let (dir, mut publisher) = published();
    let first = large_feed('a', 200_000);
    let outcome = publisher.publish(vec![update("/rss.xml", Some(first.clone()))]);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let server = Server::start(&publisher).await;
    let sent_from_file = |publisher: &Publisher| {
        publisher.snapshot().load().feeds["/rss.xml"]
            .body_file
            .is_some()
    };
    assert!(
        sent_from_file(&publisher),
        "a 200 KB feed is sent from its file"
    );

    // Two GETs and a HEAD on one connection: the bodies are whole and the
    // next head starts where the file's bytes end.
    let pipelined = |target: &str| {
        format!(
            "GET {target} HTTP/1.1\r\nHost: feedd\r\n\r\nHEAD {target} HTTP/1.1\r\nHost: feedd\r\n\r\n\
             GET {target} HTTP/1.1\r\nHost: feedd\r\nConnection: close\r\n\r\n"
        )
    };
    let expect_twice = |response: &str, body: &[u8]| {
        let body = std::str::from_utf8(body).unwrap();
        let heads: Vec<&str> = response.split(body).collect();
        assert_eq!(heads.len(), 3, "two whole bodies");
        assert!(heads[0].starts_with("HTTP/1.1 200 "), "{:.200}", heads[0]);
        assert_eq!(heads[1].matches("HTTP/1.1 200 ").count(), 2, "{}", heads[1]);
        assert_eq!(heads[2], "");
    };
    expect_twice(
        &server.raw(pipelined("/rss.xml").into_bytes()).await,
        &first,
    );

    // Another version of the same length: never the old file's bytes.
    let second = large_feed('b', 200_000);
    let outcome = publisher.publish(vec![update("/rss.xml", Some(second.clone()))]);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert!(sent_from_file(&publisher));
    expect_twice(
        &server.raw(pipelined("/rss.xml").into_bytes()).await,
        &second,
    );
    // Compressed, it is the compressed bytes from memory.
    let gzipped = server
        .get("/rss.xml", &[(header::ACCEPT_ENCODING, "gzip")])
        .await;
    assert_eq!(gunzip(&gzipped.body), second);
    server.stop().await.unwrap();
    drop(publisher);

    // A restart serves the file it finds from that file.
    let mut restarted = Publisher::new(dir.path().join("feeds"), MAX_AGE, true);
    restarted.load_existing().unwrap();
    assert!(
        sent_from_file(&restarted),
        "a feed found on disk is sent from its file"
    );
    let server = Server::start(&restarted).await;
    expect_twice(
        &server.raw(pipelined("/rss.xml").into_bytes()).await,
        &second,
    );
    server.stop().await.unwrap();
}

#[tokio::test]
async fn if_none_match_gets_304_with_the_validators_repeated() {
    let (_dir, publisher) = published();
    let server = Server::start(&publisher).await;
    let full = server.get("/rss.xml", &[]).await;
    let etag = full.header(header::ETAG).to_owned();

    for if_none_match in [
        etag.clone(),
        format!("W/{etag}"),
        format!("\"nope\", {etag}"),
        "*".to_owned(),
    ] {
        for method in [Method::GET, Method::HEAD] {
            let reply = server
                .request(
                    method.clone(),
                    "/rss.xml",
                    &[(header::IF_NONE_MATCH, &if_none_match)],
                )
                .await;
            assert_eq!(
                reply.status,
                StatusCode::NOT_MODIFIED,
                "{method} {if_none_match}"
            );
            assert!(reply.body.is_empty());
            for name in [
                header::ETAG,
                header::LAST_MODIFIED,
                header::CACHE_CONTROL,
                header::VARY,
            ] {
                assert_eq!(reply.headers.get(&name), full.headers.get(&name), "{name}");
            }
        }
    }
    let other = server
        .get("/rss.xml", &[(header::IF_NONE_MATCH, "\"nope\"")])
        .await;
    assert_eq!(other.status, StatusCode::OK);
    assert_eq!(other.body, RSS);

    server.stop().await.unwrap();
}

#[tokio::test]
async fn if_modified_since_gets_304_when_not_changed_since() {
    let (_dir, publisher) = published();
    let server = Server::start(&publisher).await;
    let full = server.get("/rss.xml", &[]).await;
    let last_modified = full.header(header::LAST_MODIFIED).to_owned();
    let at = httpdate::parse_http_date(&last_modified).unwrap();
    let later = httpdate::fmt_http_date(at + Duration::from_secs(60));
    let earlier = httpdate::fmt_http_date(at - Duration::from_secs(1));

    for since in [&last_modified, &later] {
        let reply = server
            .get("/rss.xml", &[(header::IF_MODIFIED_SINCE, since)])
            .await;
        assert_eq!(reply.status, StatusCode::NOT_MODIFIED, "{since}");
        assert!(reply.body.is_empty());
        for name in [
            header::ETAG,
            header::LAST_MODIFIED,
            header::CACHE_CONTROL,
            header::VARY,
        ] {
            assert_eq!(reply.headers.get(&name), full.headers.get(&name), "{name}");
        }
    }
    for since in [earlier.as_str(), "not a date"] {
        let reply = server
            .get("/rss.xml", &[(header::IF_MODIFIED_SINCE, since)])
            .await;
        assert_eq!(reply.status, StatusCode::OK, "{since}");
        assert_eq!(reply.body, RSS);
    }

    server.stop().await.unwrap();
}

#[tokio::test]
async fn if_none_match_wins_over_if_modified_since() {
    let (_dir, publisher) = published();
    let server = Server::start(&publisher).await;
    let full = server.get("/rss.xml", &[]).await;
    let etag = full.header(header::ETAG).to_owned();
    let last_modified = full.header(header::LAST_MODIFIED).to_owned();
    let long_ago = httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(1_000_000_000));

    let stale_tag = server
        .get(
            "/rss.xml",
            &[
                (header::IF_NONE_MATCH, "\"old\""),
                (header::IF_MODIFIED_SINCE, &last_modified),
            ],
        )
        .await;
    assert_eq!(stale_tag.status, StatusCode::OK);
    assert_eq!(stale_tag.body, RSS);

    let fresh_tag = server
        .get(
            "/rss.xml",
            &[
                (header::IF_NONE_MATCH, &etag),
                (header::IF_MODIFIED_SINCE, &long_ago),
            ],
        )
        .await;
    assert_eq!(fresh_tag.status, StatusCode::NOT_MODIFIED);

    server.stop().await.unwrap();
}

#[tokio::test]
async fn gzip_and_br_bodies_decode_to_the_feed_and_have_their_own_etag() {
    let (_dir, publisher) = published();
    let server = Server::start(&publisher).await;
    let identity = server.get("/atom.xml", &[]).await;
    let identity_etag = identity.header(header::ETAG).to_owned();
    let tag = identity_etag.trim_matches('"');

    let gzip = server
        .get("/atom.xml", &[(header::ACCEPT_ENCODING, "gzip")])
        .await;
    assert_eq!(gzip.status, StatusCode::OK);
    assert_eq!(gzip.header(header::CONTENT_ENCODING), "gzip");
    assert_eq!(gzip.header(header::ETAG), format!("\"{tag}-gzip\""));
    assert_eq!(gzip.header(header::VARY), "Accept-Encoding");
    assert_eq!(
        gzip.header(header::CONTENT_LENGTH),
        gzip.body.len().to_string()
    );
    assert_eq!(gunzip(&gzip.body), ATOM.as_bytes());

    let br = server
        .get(
            "/atom.xml",
            &[(header::ACCEPT_ENCODING, "gzip, deflate, br")],
        )
        .await;
    assert_eq!(br.status, StatusCode::OK);
    assert_eq!(br.header(header::CONTENT_ENCODING), "br");
    assert_eq!(br.header(header::ETAG), format!("\"{tag}-br\""));
    assert_eq!(unbrotli(&br.body), ATOM.as_bytes());
    assert_eq!(
        br.header(header::CONTENT_TYPE),
        "application/atom+xml; charset=utf-8"
    );

    let refused = server
        .get(
            "/atom.xml",
            &[(header::ACCEPT_ENCODING, "br;q=0, gzip;q=0")],
        )
        .await;
    assert!(!refused.headers.contains_key(header::CONTENT_ENCODING));
    assert_eq!(refused.body, ATOM);

    // A validator is only good for its own encoding.
    let cross = server
        .get(
            "/atom.xml",
            &[
                (header::ACCEPT_ENCODING, "gzip"),
                (header::IF_NONE_MATCH, &identity_etag),
            ],
        )
        .await;
    assert_eq!(cross.status, StatusCode::OK);
    assert_eq!(cross.header(header::ETAG), format!("\"{tag}-gzip\""));
    let same = server
        .get(
            "/atom.xml",
            &[
                (header::ACCEPT_ENCODING, "gzip"),
                (header::IF_NONE_MATCH, gzip.header(header::ETAG)),
            ],
        )
        .await;
    assert_eq!(same.status, StatusCode::NOT_MODIFIED);
    assert_eq!(same.header(header::ETAG), gzip.header(header::ETAG));

    server.stop().await.unwrap();
}

#[tokio::test]
async fn republishing_new_bytes_changes_the_etag_and_the_body() {
    let (_dir, mut publisher) = published();
    let server = Server::start(&publisher).await;
    let before = server.get("/rss.xml", &[]).await;
    let gzip_before = server
        .get("/rss.xml", &[(header::ACCEPT_ENCODING, "gzip")])
        .await;

    let edited = RSS.replace("Một", "Hai");
    let outcome = publisher.publish(vec![update("/rss.xml", Some(edited.clone().into()))]);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.changed, ["/rss.xml"]);

    let after = server.get("/rss.xml", &[]).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(after.body, edited);
    assert_ne!(after.header(header::ETAG), before.header(header::ETAG));
    let gzip_after = server
        .get("/rss.xml", &[(header::ACCEPT_ENCODING, "gzip")])
        .await;
    assert_eq!(gunzip(&gzip_after.body), edited.as_bytes());
    assert_ne!(
        gzip_after.header(header::ETAG),
        gzip_before.header(header::ETAG)
    );
    // The old validator no longer matches.
    let old_tag = server
        .get(
            "/rss.xml",
            &[(header::IF_NONE_MATCH, before.header(header::ETAG))],
        )
        .await;
    assert_eq!(old_tag.status, StatusCode::OK);
    assert_eq!(old_tag.body, edited);
    // Other feeds are untouched.
    assert_eq!(server.get("/atom.xml", &[]).await.body, ATOM);

    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_change_is_served_as_identity_at_once_and_compressed_once_written() {
    let (dir, mut publisher) = published();
    let server = Server::start(&publisher).await;
    let accept = [(header::ACCEPT_ENCODING, "gzip, deflate, br")];
    let before = server.get("/rss.xml", &[]).await;
    let compressed = server.get("/rss.xml", &accept).await;
    assert_eq!(compressed.header(header::CONTENT_ENCODING), "br");

    let edited = RSS.replace("Một", "Hai");
    let pending = publisher.begin_publish(vec![update("/rss.xml", Some(edited.clone().into()))]);
    // Visible before any disk or compression work: identity, with the
    // identity ETag, even to a client that would take gzip or br.
    let early = server.get("/rss.xml", &accept).await;
    assert_eq!(early.status, StatusCode::OK);
    assert_eq!(early.body, edited);
    assert!(!early.headers.contains_key(header::CONTENT_ENCODING));
    assert!(is_strong_hash_etag(early.header(header::ETAG), ""));
    assert_ne!(early.header(header::ETAG), before.header(header::ETAG));
    assert_eq!(early.header(header::VARY), "Accept-Encoding");
    assert_eq!(
        early.header(header::CONTENT_LENGTH),
        edited.len().to_string()
    );
    let early_head = server.request(Method::HEAD, "/rss.xml", &accept).await;
    assert!(early_head.body.is_empty());
    for name in [header::ETAG, header::CONTENT_LENGTH, header::LAST_MODIFIED] {
        assert_eq!(
            early_head.headers.get(&name),
            early.headers.get(&name),
            "{name}"
        );
    }
    assert!(!early_head.headers.contains_key(header::CONTENT_ENCODING));
    // The identity ETag revalidates while it is what is sent.
    let revalidated = server
        .get(
            "/rss.xml",
            &[
                accept[0].clone(),
                (header::IF_NONE_MATCH, early.header(header::ETAG)),
            ],
        )
        .await;
    assert_eq!(revalidated.status, StatusCode::NOT_MODIFIED);

    let outcome = pending.finish();
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.changed, ["/rss.xml"]);
    let tag = early.header(header::ETAG).trim_matches('"');
    let br = server.get("/rss.xml", &accept).await;
    assert_eq!(br.header(header::CONTENT_ENCODING), "br");
    assert_eq!(br.header(header::ETAG), format!("\"{tag}-br\""));
    assert_eq!(unbrotli(&br.body), edited.as_bytes());
    let gzip = server
        .get("/rss.xml", &[(header::ACCEPT_ENCODING, "gzip")])
        .await;
    assert_eq!(gzip.header(header::CONTENT_ENCODING), "gzip");
    assert_eq!(gzip.header(header::ETAG), format!("\"{tag}-gzip\""));
    assert_eq!(gunzip(&gzip.body), edited.as_bytes());
    // One Last-Modified throughout, and it is the file's mtime exactly;
    // none at all while this version shares the second of the one before
    // (the publisher moves it to the next second once that has begun).
    let same_second = publisher.snapshot().load().feeds["/rss.xml"].same_second_as_previous;
    for reply in [&early, &br, &gzip] {
        assert_eq!(
            reply.headers.contains_key(header::LAST_MODIFIED),
            !same_second
        );
    }
    assert_eq!(
        br.headers.get(header::LAST_MODIFIED),
        early.headers.get(header::LAST_MODIFIED)
    );
    let file = feed_file(&dir, "/rss.xml");
    assert_eq!(std::fs::read(&file).unwrap(), edited.as_bytes());
    if !same_second {
        assert_mtime_is_last_modified(&file, &br);
    }

    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_feed_that_cannot_be_written_keeps_its_old_version_served() {
    let (dir, mut publisher) = published();
    let server = Server::start(&publisher).await;
    let gzip = [(header::ACCEPT_ENCODING, "gzip")];
    let before = server.get("/chinh-tri/rss.xml", &gzip).await;
    let atom_before = std::fs::read(feed_file(&dir, "/atom.xml")).unwrap();
    // Path conflicts, since as root permission bits would not stop a write:
    // a folder where the category feed's file goes makes its rename fail,
    // and a regular file where a new category's folder goes makes creating
    // the folder fail.
    let blocker = feed_file(&dir, "/chinh-tri/rss.xml");
    std::fs::remove_file(&blocker).unwrap();
    std::fs::create_dir_all(blocker.join("inside")).unwrap();
    std::fs::write(dir.path().join("feeds/the-gioi"), SECRET).unwrap();

    let edited = CATEGORY_RSS.replace("Tin chính trị", "Tin mới");
    let pending = publisher.begin_publish(vec![
        update("/chinh-tri/rss.xml", Some(edited.clone().into())),
        update("/the-gioi/rss.xml", Some(CATEGORY_RSS.into())),
        update("/rss.xml", Some(RSS.replace("Một", "Hai").into())),
    ]);
    assert_eq!(server.get("/chinh-tri/rss.xml", &[]).await.body, edited);
    assert_eq!(
        server.get("/the-gioi/rss.xml", &[]).await.status,
        StatusCode::OK
    );
    let outcome = pending.finish();

    assert_eq!(outcome.changed, ["/rss.xml"]);
    let messages: Vec<String> = outcome.errors.iter().map(|e| e.to_string()).collect();
    assert_eq!(messages.len(), 2, "{messages:?}");
    assert!(
        messages[0].contains("chinh-tri/rss.xml: cannot write feed: "),
        "{messages:?}"
    );
    assert!(
        messages[1].contains("the-gioi: cannot create folder: "),
        "{messages:?}"
    );
    // The old version again, with its own validators and encodings.
    let after = server.get("/chinh-tri/rss.xml", &gzip).await;
    assert_eq!(after.status, StatusCode::OK);
    assert_eq!(gunzip(&after.body), CATEGORY_RSS.as_bytes());
    for name in [
        header::ETAG,
        header::LAST_MODIFIED,
        header::CONTENT_ENCODING,
    ] {
        assert_eq!(
            after.headers.get(&name),
            before.headers.get(&name),
            "{name}"
        );
    }
    // A feed never written is not served.
    let never = server.get("/the-gioi/rss.xml", &[]).await;
    assert_eq!(never.status, StatusCode::NOT_FOUND);
    assert!(!String::from_utf8_lossy(&never.body).contains(SECRET));
    // The disk is as it was, apart from the feed that was written.
    assert_eq!(
        std::fs::read(dir.path().join("feeds/the-gioi")).unwrap(),
        SECRET.as_bytes()
    );
    assert!(blocker.join("inside").is_dir());
    assert_eq!(
        std::fs::read(feed_file(&dir, "/atom.xml")).unwrap(),
        atom_before
    );
    assert_eq!(
        std::fs::read(feed_file(&dir, "/rss.xml")).unwrap(),
        RSS.replace("Một", "Hai").as_bytes()
    );
    let leftovers: Vec<_> = std::fs::read_dir(dir.path().join("feeds/chinh-tri"))
        .unwrap()
        .map(|entry| entry.unwrap().file_name())
        .collect();
    assert_eq!(leftovers, ["rss.xml"], "temporary files left behind");
    assert_eq!(
        publisher.published_paths(),
        ["/rss.xml", "/atom.xml", "/chinh-tri/rss.xml"]
    );

    server.stop().await.unwrap();
}

#[tokio::test]
async fn republishing_identical_bytes_does_not_touch_the_file() {
    let (dir, mut publisher) = published();
    let server = Server::start(&publisher).await;
    let file = feed_file(&dir, "/chinh-tri/rss.xml");
    let before = std::fs::metadata(&file).unwrap();
    let reply_before = server.get("/chinh-tri/rss.xml", &[]).await;

    let outcome = publisher.publish(vec![update(
        "/chinh-tri/rss.xml",
        Some(CATEGORY_RSS.into()),
    )]);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert!(outcome.changed.is_empty());

    let after = std::fs::metadata(&file).unwrap();
    assert_eq!(after.modified().unwrap(), before.modified().unwrap());
    #[cfg(unix)]
    {
        // A rewrite would have renamed a new inode into place.
        use std::os::unix::fs::MetadataExt;
        assert_eq!(after.ino(), before.ino());
    }
    let reply_after = server.get("/chinh-tri/rss.xml", &[]).await;
    assert_eq!(
        reply_after.header(header::ETAG),
        reply_before.header(header::ETAG)
    );
    assert_eq!(
        reply_after.header(header::LAST_MODIFIED),
        reply_before.header(header::LAST_MODIFIED)
    );

    server.stop().await.unwrap();
}

#[tokio::test]
async fn removing_a_feed_deletes_its_file_and_it_404s() {
    let (dir, mut publisher) = published();
    let server = Server::start(&publisher).await;
    assert_eq!(
        server.get("/chinh-tri/rss.xml", &[]).await.status,
        StatusCode::OK
    );

    let outcome = publisher.publish(vec![update("/chinh-tri/rss.xml", None)]);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    assert_eq!(outcome.changed, ["/chinh-tri/rss.xml"]);
    assert!(!feed_file(&dir, "/chinh-tri/rss.xml").exists());
    assert!(
        !dir.path().join("feeds/chinh-tri").exists(),
        "empty category folder left behind"
    );
    assert_eq!(
        server.get("/chinh-tri/rss.xml", &[]).await.status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        publisher.published_paths(),
        ["/rss.xml", "/atom.xml"],
        "published paths follow removals"
    );
    // Removing it again is not a change.
    let again = publisher.publish(vec![update("/chinh-tri/rss.xml", None)]);
    assert!(again.changed.is_empty() && again.errors.is_empty());

    server.stop().await.unwrap();
}

#[tokio::test]
async fn a_restart_serves_the_same_etags_and_last_modified() {
    let (dir, publisher) = published();
    let first = Server::start(&publisher).await;
    let mut before = Vec::new();
    for accept in ["identity", "gzip", "br"] {
        before.push(
            first
                .get("/chinh-tri/rss.xml", &[(header::ACCEPT_ENCODING, accept)])
                .await,
        );
    }
    first.stop().await.unwrap();
    drop(publisher);

    let mut restarted = Publisher::new(dir.path().join("feeds"), MAX_AGE, true);
    assert_eq!(restarted.load_existing().unwrap(), 3);
    // The daemon runs this on a thread of its own; until it is done the
    // loaded feeds go out as identity.
    restarted.compress_served().run();
    let second = Server::start(&restarted).await;
    for (accept, before) in ["identity", "gzip", "br"].into_iter().zip(before) {
        let after = second
            .get("/chinh-tri/rss.xml", &[(header::ACCEPT_ENCODING, accept)])
            .await;
        assert_eq!(after.status, StatusCode::OK);
        assert_eq!(after.body, before.body, "{accept}");
        assert_eq!(
            after.header(header::ETAG),
            before.header(header::ETAG),
            "{accept}"
        );
        assert_eq!(
            after.header(header::LAST_MODIFIED),
            before.header(header::LAST_MODIFIED)
        );
    }
    // And the restarted publisher knows the bytes: no rewrite.
    let outcome = restarted.publish(vec![update("/rss.xml", Some(RSS.into()))]);
    assert!(outcome.changed.is_empty());

    second.stop().await.unwrap();
}

#[tokio::test]
async fn max_age_changes_apply_to_the_next_response() {
    let (_dir, publisher) = published();
    let server = Server::start(&publisher).await;
    publisher.set_max_age(60);
    let reply = server.get("/rss.xml", &[]).await;
    assert_eq!(reply.header(header::CACHE_CONTROL), "public, max-age=60");
    assert_eq!(reply.body, RSS);
    server.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_makes_serve_return() {
    let (_dir, publisher) = published();
    let server = Server::start(&publisher).await;
    // Leaves an idle keep-alive connection in the client's pool, which must
    // not hold shutdown up for the whole drain period.
    assert_eq!(server.get("/rss.xml", &[]).await.status, StatusCode::OK);
    let started = Instant::now();

    server.stop().await.expect("serve returns Ok");

    let elapsed = started.elapsed();
    assert!(
        elapsed < Duration::from_secs(4),
        "an idle connection held shutdown for {elapsed:?}"
    );
}

/// A response already under way is not touched by a publish: the client
/// gets every byte of the version it asked for, and the next request the
/// new one. (The body is large enough that most of it is still in the
/// server when the new version is published.)
#[tokio::test]
async fn a_feed_replaced_while_its_response_is_in_flight_completes_with_the_old_bytes() {
    let (_dir, mut publisher) = published();
    let old: Vec<u8> = (0..4_000_000u32)
        .map(|i| b"abcdefghijklmnopqrstuvwxyz\n"[(i % 27) as usize])
        .collect();
    let outcome = publisher.publish(vec![update("/rss.xml", Some(old.clone()))]);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let server = Server::start(&publisher).await;

    let addr = server.addr;
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let (go_on_tx, go_on_rx) = std::sync::mpsc::channel::<()>();
    let client = tokio::task::spawn_blocking(move || -> Vec<u8> {
        let mut stream = std::net::TcpStream::connect_timeout(&addr, DEADLINE).unwrap();
        stream.set_read_timeout(Some(DEADLINE)).unwrap();
        stream
            .write_all(b"GET /rss.xml HTTP/1.1\r\nHost: feedd\r\nConnection: close\r\n\r\n")
            .unwrap();
        let mut raw = vec![0; 64 * 1024];
        stream.read_exact(&mut raw).unwrap();
        started_tx.send(()).unwrap();
        go_on_rx.recv_timeout(DEADLINE).unwrap();
        stream.read_to_end(&mut raw).unwrap();
        raw
    });
    timeout(DEADLINE, async {
        while started_rx.try_recv().is_err() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the response started");

    let new = RSS.replace("Một", "Hai");
    let outcome = publisher.publish(vec![update("/rss.xml", Some(new.clone().into()))]);
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    go_on_tx.send(()).unwrap();

    let raw = timeout(DEADLINE, client).await.unwrap().unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(raw.len() - split, old.len());
    assert!(raw[split..] == old[..], "the body in flight changed");
    assert_eq!(server.get("/rss.xml", &[]).await.body, new);
    server.stop().await.unwrap();
}
