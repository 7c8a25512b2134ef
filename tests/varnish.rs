//! feedd as the origin behind a cache tier: Debian's Varnish, started here
//! on 127.0.0.1 with `contrib/varnish/feedd.vcl`, in front of the real
//! `feedd serve`. Between the two sits a relay that records every request
//! Varnish sends to feedd and the status feedd answers, so the tests count
//! what feedd saw; varnishstat's counters are a second view.
//!
//! varnishd comes from the Debian package `varnish`, which `.ci/run`
//! installs and requires with `FEEDD_REQUIRE_READERS=1`. Without that
//! variable a missing varnishd skips these tests with a note, so
//! `cargo test` also works on a machine without it.

mod common;

use std::collections::BTreeMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{HttpResponse, SERVE_DEADLINE, Site, http_get, reader_available};

/// The VCL the README recommends; the tests change only its backend port.
const VCL: &str = include_str!("../contrib/varnish/feedd.vcl");
const VCL_BACKEND_PORT: &str = ".port = \"8080\";";

/// How long varnishd may take to listen: it first compiles the VCL with
/// the C compiler, which takes seconds on a busy machine.
const START_DEADLINE: Duration = Duration::from_secs(60);

/// How often a test asks again while it waits for Varnish.
const POLL: Duration = Duration::from_millis(50);

/// A served site whose feeds may be cached for `max_age` seconds.
fn site(max_age: u32) -> Site {
    Site::new(&format!(
        "[server]\nlisten = \"127.0.0.1:0\"\nmax_age = {max_age}\n\n[watch]\ndebounce_ms = 30\n"
    ))
}

fn article(title: &str) -> String {
    format!(
        "{title}\n\nSáng 5/11, HĐND tỉnh khai mạc kỳ họp chuyên đề.\n\n\
         Theo kế hoạch, kỳ họp diễn ra trong hai ngày.\n\nTin: Hoàng Anh\n"
    )
}

fn gunzip(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    flate2::read::GzDecoder::new(body)
        .read_to_end(&mut out)
        .expect("a gzip body");
    out
}

/// The feed bytes of a 200 answer, unchunked and decoded.
fn feed_bytes(response: &HttpResponse) -> Vec<u8> {
    assert_eq!(response.status, 200, "{response:?}");
    let body = match response.header("transfer-encoding") {
        None => response.body.clone(),
        Some("chunked") => unchunk(&response.body),
        Some(other) => panic!("unexpected Transfer-Encoding {other}"),
    };
    match response.header("content-encoding") {
        None => body,
        Some("gzip") => gunzip(&body),
        Some(other) => panic!("unexpected Content-Encoding {other}"),
    }
}

/// The data of a chunked body (Varnish streams what it compresses itself).
fn unchunk(mut chunked: &[u8]) -> Vec<u8> {
    let mut data = Vec::new();
    loop {
        let line_end = chunked
            .windows(2)
            .position(|w| w == b"\r\n")
            .expect("a chunk size line");
        let size_text = String::from_utf8_lossy(&chunked[..line_end]);
        let size_hex = size_text.split(';').next().unwrap_or_default().trim();
        let size = usize::from_str_radix(size_hex, 16).expect("a hex chunk size");
        if size == 0 {
            return data;
        }
        let start = line_end + 2;
        data.extend_from_slice(&chunked[start..start + size]);
        chunked = &chunked[start + size + 2..];
    }
}

/// Whether Varnish answered from an object it already held: its
/// `X-Varnish` then names this request and the one that stored the object.
fn from_cache(response: &HttpResponse) -> bool {
    response
        .header("x-varnish")
        .is_some_and(|ids| ids.split_whitespace().count() == 2)
}

fn wait_for(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + SERVE_DEADLINE;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(POLL);
    }
}

const GZIP: &[(&str, &str)] = &[("Accept-Encoding", "gzip")];

#[test]
fn repeated_requests_are_cache_hits_and_expired_ones_are_revalidated_with_a_304() {
    if !varnish_available() {
        return;
    }
    let max_age = 2;
    let site = site(max_age);
    site.write("Thời sự/hop-hdnd.txt", article("HĐND tỉnh họp chuyên đề"));
    let feedd = site.serve();
    let relay = Relay::start(&feedd.address);
    let varnish = Varnish::start(&relay.address);

    let identity = feedd.get("/rss.xml");
    // Right after a build feedd answers in identity until its gzip body is
    // ready; Varnish must first see the gzip one.
    let mut direct_gzip = feedd.request("/rss.xml", GZIP);
    wait_for("feedd's gzip body", || {
        direct_gzip = feedd.request("/rss.xml", GZIP);
        direct_gzip.header("content-encoding") == Some("gzip")
    });
    let gzip_etag = direct_gzip.header("etag").unwrap().to_string();

    // (a) One fetch, then the cache: every repeat is a hit, and feedd sent
    // the feed once. A repeat that came after max-age was revalidated, so
    // feedd answered it with a 304 rather than the feed again.
    let repeats = 20;
    let first = http_get(&varnish.address, "/rss.xml", GZIP);
    assert_eq!(first.header("content-encoding"), Some("gzip"));
    assert_eq!(feed_bytes(&first), identity.body);
    for _ in 0..repeats {
        let again = http_get(&varnish.address, "/rss.xml", GZIP);
        assert!(from_cache(&again), "not a cache hit: {again:?}");
        assert_eq!(again.header("content-encoding"), Some("gzip"));
        assert_eq!(feed_bytes(&again), identity.body);
    }
    let seen = relay.exchanges("/rss.xml");
    let whole: Vec<_> = seen.iter().filter(|e| e.status == 200).collect();
    assert_eq!(
        whole.len(),
        1,
        "feedd sent the feed more than once: {seen:#?}"
    );
    assert!(!whole[0].is_conditional(), "{seen:#?}");
    assert!(
        seen.iter()
            .skip(1)
            .all(|e| e.is_conditional() && e.status == 304),
        "{seen:#?}"
    );
    // Varnish fetches with GET and asks for gzip whatever the client accepts.
    assert!(seen.iter().all(|e| e.method == "GET"), "{seen:#?}");
    assert_eq!(whole[0].request_header("accept-encoding"), Some("gzip"));
    varnish.wait_for_counter("MAIN.cache_hit", repeats);
    println!(
        "{} requests through Varnish, {} reached feedd; varnishstat: {:?}",
        repeats + 1,
        seen.len(),
        varnish.counters()
    );

    // A client without gzip gets the same feed, unzipped by Varnish from
    // the one copy it holds.
    let plain = http_get(&varnish.address, "/rss.xml", &[]);
    assert!(from_cache(&plain), "{plain:?}");
    assert_eq!(plain.header("content-encoding"), None, "{plain:?}");
    assert_eq!(feed_bytes(&plain), identity.body);
    assert_eq!(plain.header("vary"), Some("Accept-Encoding"));

    // (b) Past max-age Varnish revalidates with feedd's validators, and
    // feedd's 304 keeps the cached feed.
    let started = Instant::now();
    let revalidated = || {
        relay.exchanges("/rss.xml").into_iter().find(|e| {
            e.request_header("if-none-match") == Some(gzip_etag.as_str()) && e.status == 304
        })
    };
    wait_for("Varnish to revalidate /rss.xml with a 304", || {
        let response = http_get(&varnish.address, "/rss.xml", GZIP);
        assert_eq!(feed_bytes(&response), identity.body);
        revalidated().is_some()
    });
    let revalidation = revalidated().unwrap();
    assert_eq!(
        revalidation.request_header("if-modified-since"),
        direct_gzip.header("last-modified"),
        "{revalidation:#?}"
    );
    let after = http_get(&varnish.address, "/rss.xml", GZIP);
    assert_eq!(feed_bytes(&after), identity.body);
    varnish.wait_for_counter("MAIN.fetch_304", 1);
    varnish.wait_for_counter("MAIN.backend_req", relay.count());
    println!(
        "revalidated with a 304 {} ms after polling began (max-age {max_age} s); varnishstat: {:?}",
        started.elapsed().as_millis(),
        varnish.counters()
    );
}

#[test]
fn an_edit_and_a_new_category_reach_clients_through_varnish_after_max_age() {
    if !varnish_available() {
        return;
    }
    let max_age = 1;
    let site = site(max_age);
    site.write("Thời sự/hop-hdnd.txt", article("HĐND tỉnh họp chuyên đề"));
    let feedd = site.serve();
    let relay = Relay::start(&feedd.address);
    let varnish = Varnish::start(&relay.address);

    // Both variants and the feed of a category that does not exist yet
    // are in the cache before the edit.
    let old = feedd.get("/rss.xml").body;
    assert_eq!(
        feed_bytes(&http_get(&varnish.address, "/rss.xml", GZIP)),
        old
    );
    assert_eq!(
        feed_bytes(&http_get(&varnish.address, "/rss.xml", &[])),
        old
    );
    let missing = http_get(&varnish.address, "/kinh-te/rss.xml", &[]);
    assert_eq!(missing.status, 404);
    assert_eq!(
        missing.header("cache-control"),
        Some(format!("public, max-age={max_age}").as_str()),
        "a 404 without freshness stays in Varnish for its default TTL (2 minutes)"
    );

    let edited_title = "HĐND tỉnh thông qua nghị quyết";
    let new_title = "Giá lúa tăng";
    let edited_at = Instant::now();
    site.write("Thời sự/hop-hdnd.txt", article(edited_title));
    site.write("Kinh tế/gia-lua.txt", article(new_title));

    let shows = |response: &HttpResponse, title: &str| {
        response.status == 200 && {
            let bytes = feed_bytes(response);
            common::parse_feed("a feed through Varnish", &bytes);
            String::from_utf8_lossy(&bytes).contains(title)
        }
    };
    let clients = [
        ("gzip client", "/rss.xml", GZIP, edited_title),
        ("identity client", "/rss.xml", &[][..], edited_title),
        ("new category", "/kinh-te/rss.xml", &[][..], new_title),
    ];
    let mut seen_at = BTreeMap::new();
    let deadline = edited_at + SERVE_DEADLINE;
    while seen_at.len() < clients.len() {
        assert!(
            Instant::now() < deadline,
            "only {seen_at:?} saw the change through Varnish"
        );
        for (client, path, headers, title) in clients {
            if !seen_at.contains_key(client)
                && shows(&http_get(&varnish.address, path, headers), title)
            {
                seen_at.insert(client, edited_at.elapsed().as_millis());
            }
        }
        std::thread::sleep(POLL);
    }
    println!("edit visible through Varnish after (ms, max-age {max_age} s): {seen_at:?}");

    // Varnish learnt of the edit by revalidating its copy: the old ETag no
    // longer matched, so feedd answered with the new feed.
    let seen = relay.exchanges("/rss.xml");
    assert!(
        seen.iter().any(|e| e.is_conditional() && e.status == 200),
        "{seen:#?}"
    );
    // Once settled, both clients get exactly what feedd serves.
    let new = feedd.get("/rss.xml").body;
    wait_for("both variants to match feedd", || {
        feed_bytes(&http_get(&varnish.address, "/rss.xml", GZIP)) == new
            && feed_bytes(&http_get(&varnish.address, "/rss.xml", &[])) == new
    });
}

#[test]
fn an_uncompressed_answer_is_gzipped_by_varnish_rather_than_cached_as_is() {
    if !varnish_available() {
        return;
    }
    let site = site(300);
    site.write("Thời sự/hop-hdnd.txt", article("HĐND tỉnh họp chuyên đề"));
    let feedd = site.serve();
    let relay = Relay::start_forwarding(&feedd.address, Forward::WithoutAcceptEncoding);
    let varnish = Varnish::start(&relay.address);

    let identity = feedd.get("/rss.xml").body;
    for _ in 0..2 {
        let gzipped = http_get(&varnish.address, "/rss.xml", GZIP);
        assert_eq!(
            gzipped.header("content-encoding"),
            Some("gzip"),
            "{gzipped:?}"
        );
        assert_eq!(feed_bytes(&gzipped), identity);
        let plain = http_get(&varnish.address, "/rss.xml", &[]);
        assert_eq!(plain.header("content-encoding"), None, "{plain:?}");
        assert_eq!(feed_bytes(&plain), identity);
    }
    assert_eq!(relay.exchanges("/rss.xml").len(), 1);
}

/// Whether varnishd runs here; see the module docs.
fn varnish_available() -> bool {
    reader_available("varnishd", Command::new(varnishd()).arg("-V"))
}

/// Debian puts varnishd in /usr/sbin, which is not on a user's PATH.
fn varnishd() -> PathBuf {
    let packaged = Path::new("/usr/sbin/varnishd");
    if packaged.exists() {
        packaged.to_path_buf()
    } else {
        PathBuf::from("varnishd")
    }
}

/// A varnishd in the foreground with its own working folder, stopped when
/// dropped.
struct Varnish {
    child: Child,
    /// `127.0.0.1:port` that clients use.
    address: String,
    /// Holds the VCL and varnishd's working folder (`-n`).
    dir: tempfile::TempDir,
    log: Arc<Mutex<Vec<String>>>,
}

impl Varnish {
    /// Starts Varnish with [`VCL`] in front of `backend` and waits until
    /// it answers.
    fn start(backend: &str) -> Varnish {
        let (host, port) = backend.rsplit_once(':').unwrap();
        assert!(VCL.contains(VCL_BACKEND_PORT), "the VCL names no port 8080");
        let vcl = VCL
            .replace("\"127.0.0.1\"", &format!("\"{host}\""))
            .replace(VCL_BACKEND_PORT, &format!(".port = \"{port}\";"));
        let mut dir = tempfile::tempdir().unwrap();
        let vcl_path = dir.path().join("feedd.vcl");
        std::fs::write(&vcl_path, vcl).unwrap();
        // The port is free when asked but could be taken before varnishd
        // binds it: then try another.
        let mut attempts = 0;
        loop {
            attempts += 1;
            let address = free_address();
            let mut child = Command::new(varnishd())
                .arg("-F")
                // As root, varnishd would run its worker as the `vcache`
                // user, which cannot enter a private temp folder.
                .args(["-j", "none"])
                .arg("-n")
                .arg(dir.path().join("varnish"))
                .args(["-a", &address])
                .arg("-f")
                .arg(&vcl_path)
                .args(["-s", "malloc,32m"])
                // No management port: nothing here uses varnishadm.
                .args(["-T", "none"])
                // A test needs few threads; the default starts 200.
                .args(["-p", "thread_pools=1", "-p", "thread_pool_min=5"])
                .stdin(Stdio::null())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .expect("run varnishd");
            let log = Arc::new(Mutex::new(Vec::new()));
            collect_lines(child.stdout.take().unwrap(), &log);
            collect_lines(child.stderr.take().unwrap(), &log);
            let deadline = Instant::now() + START_DEADLINE;
            let exited = loop {
                if let Some(status) = child.try_wait().unwrap() {
                    break Some(status);
                }
                if TcpStream::connect(&address).is_ok() {
                    break None;
                }
                assert!(
                    Instant::now() < deadline,
                    "varnishd did not listen on {address}; log:\n{}",
                    log.lock().unwrap().join("\n")
                );
                std::thread::sleep(Duration::from_millis(20));
            };
            let varnish = Varnish {
                child,
                address,
                dir,
                log,
            };
            match exited {
                None => {
                    // Listening is the manager's part; wait for the worker.
                    let probe = http_get(&varnish.address, "/varnish-probe", &[]);
                    assert_eq!(probe.status, 404, "{probe:?}");
                    return varnish;
                }
                Some(status) if attempts < 3 => {
                    eprintln!(
                        "varnishd exited ({status}); retrying on another port; log:\n{}",
                        varnish.log.lock().unwrap().join("\n")
                    );
                    dir = varnish.into_dir();
                }
                Some(status) => panic!(
                    "varnishd exited ({status}); log:\n{}",
                    varnish.log.lock().unwrap().join("\n")
                ),
            }
        }
    }

    /// varnishstat's value of each counter these tests look at.
    fn counters(&self) -> BTreeMap<String, u64> {
        let out = Command::new("varnishstat")
            .arg("-n")
            .arg(self.dir.path().join("varnish"))
            .arg("-1")
            .args(["-f", "MAIN.cache_hit", "-f", "MAIN.cache_hit_grace"])
            .args(["-f", "MAIN.cache_miss", "-f", "MAIN.backend_req"])
            .args(["-f", "MAIN.fetch_304"])
            .output()
            .expect("run varnishstat");
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| {
                let mut fields = line.split_whitespace();
                let name = fields.next()?;
                let value = fields.next()?.parse().ok()?;
                Some((name.to_string(), value))
            })
            .collect()
    }

    /// Waits until varnishstat's `counter` reaches `at_least`: workers
    /// add their counts to the totals in batches.
    fn wait_for_counter(&self, counter: &str, at_least: usize) {
        let at_least = u64::try_from(at_least).unwrap();
        let mut last = BTreeMap::new();
        wait_for(&format!("varnishstat {counter} >= {at_least}"), || {
            last = self.counters();
            last.get(counter).is_some_and(|&value| value >= at_least)
        });
    }

    /// Stops varnishd and hands back its folder, for another try.
    fn into_dir(mut self) -> tempfile::TempDir {
        self.stop();
        let dir = tempfile::tempdir().unwrap();
        std::mem::replace(&mut self.dir, dir)
    }

    fn stop(&mut self) {
        if self.child.try_wait().ok().flatten().is_some() {
            return;
        }
        // SIGTERM lets the manager stop its worker; SIGKILL would orphan it.
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let deadline = Instant::now() + SERVE_DEADLINE;
        while self.child.try_wait().ok().flatten().is_none() {
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Varnish {
    fn drop(&mut self) {
        self.stop();
    }
}

fn collect_lines(pipe: impl Read + Send + 'static, log: &Arc<Mutex<Vec<String>>>) {
    let log = Arc::clone(log);
    std::thread::spawn(move || {
        for line in BufReader::new(pipe).lines().map_while(Result::ok) {
            log.lock().unwrap().push(line);
        }
    });
}

/// `127.0.0.1:port` with a port that was free a moment ago.
fn free_address() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().to_string()
}

/// One request Varnish sent to feedd, and feedd's answer, as the relay
/// passed them on.
#[derive(Debug, Clone)]
struct Exchange {
    method: String,
    path: String,
    /// Header names in lowercase, with their values.
    request_headers: Vec<(String, String)>,
    status: u16,
}

impl Exchange {
    fn request_header(&self, name: &str) -> Option<&str> {
        self.request_headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn is_conditional(&self) -> bool {
        self.request_header("if-none-match").is_some()
            || self.request_header("if-modified-since").is_some()
    }
}

/// A TCP relay from Varnish to feedd that understands just enough HTTP/1.1
/// to record each exchange: Varnish sends GETs without bodies, one at a
/// time per connection, and feedd frames every body with Content-Length.
struct Relay {
    address: String,
    seen: Arc<Mutex<Vec<Exchange>>>,
}

/// What the relay passes on of each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forward {
    AsIs,
    /// Drops `Accept-Encoding`, so that feedd answers uncompressed as it
    /// does for the few milliseconds after a change.
    WithoutAcceptEncoding,
}

impl Relay {
    fn start(upstream: &str) -> Relay {
        Relay::start_forwarding(upstream, Forward::AsIs)
    }

    fn start_forwarding(upstream: &str, forward: Forward) -> Relay {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let address = listener.local_addr().unwrap().to_string();
        let seen = Arc::new(Mutex::new(Vec::new()));
        let upstream = upstream.to_string();
        let recorder = Arc::clone(&seen);
        std::thread::spawn(move || {
            for client in listener.incoming().map_while(Result::ok) {
                let upstream = upstream.clone();
                let recorder = Arc::clone(&recorder);
                std::thread::spawn(move || {
                    // A connection Varnish or feedd closes ends here; what
                    // was relayed until then is recorded.
                    let _ = relay_connection(client, &upstream, forward, &recorder);
                });
            }
        });
        Relay { address, seen }
    }

    /// Every exchange for `path`, in order.
    fn exchanges(&self, path: &str) -> Vec<Exchange> {
        let seen = self.seen.lock().unwrap();
        seen.iter().filter(|e| e.path == path).cloned().collect()
    }

    /// How many requests reached feedd, for any path.
    fn count(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

fn relay_connection(
    client: TcpStream,
    upstream: &str,
    forward: Forward,
    seen: &Mutex<Vec<Exchange>>,
) -> io::Result<()> {
    let server = TcpStream::connect(upstream)?;
    let mut from_client = BufReader::new(client.try_clone()?);
    let mut to_client = client;
    let mut from_server = BufReader::new(server.try_clone()?);
    let mut to_server = server;
    while let Some(request) = read_head(&mut from_client)? {
        match forward {
            Forward::AsIs => to_server.write_all(&request)?,
            Forward::WithoutAcceptEncoding => {
                let kept: Vec<&[u8]> = request
                    .split_inclusive(|&b| b == b'\n')
                    .filter(|line| !line.to_ascii_lowercase().starts_with(b"accept-encoding:"))
                    .collect();
                to_server.write_all(&kept.concat())?;
            }
        }
        let Some(response) = read_head(&mut from_server)? else {
            return Ok(());
        };
        let (request_line, request_headers) = parse_head(&request);
        let (status_line, response_headers) = parse_head(&response);
        let mut words = request_line.split(' ');
        let method = words.next().unwrap_or_default().to_string();
        let path = words.next().unwrap_or_default().to_string();
        let status: u16 = status_line
            .split(' ')
            .nth(1)
            .and_then(|code| code.parse().ok())
            .unwrap_or_default();
        let body_length = if method == "HEAD" || status == 304 || status == 204 {
            Some(0)
        } else {
            response_headers
                .iter()
                .find(|(name, _)| name == "content-length")
                .and_then(|(_, value)| value.parse::<u64>().ok())
        };
        // Recorded before Varnish sees the answer, so that a client that
        // got it through Varnish finds it recorded.
        seen.lock().unwrap().push(Exchange {
            method,
            path,
            request_headers,
            status,
        });
        to_client.write_all(&response)?;
        match body_length {
            Some(length) => {
                io::copy(&mut (&mut from_server).take(length), &mut to_client)?;
            }
            None => {
                io::copy(&mut from_server, &mut to_client)?;
                return Ok(());
            }
        }
    }
    Ok(())
}

/// One HTTP head (request or status line and headers, through the blank
/// line), or `None` at the end of the stream.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Vec<u8>>> {
    let mut head = Vec::new();
    loop {
        let start = head.len();
        if reader.read_until(b'\n', &mut head)? == 0 {
            return if head.is_empty() {
                Ok(None)
            } else {
                Err(io::ErrorKind::UnexpectedEof.into())
            };
        }
        if matches!(&head[start..], b"\r\n" | b"\n") {
            return Ok(Some(head));
        }
    }
}

/// The first line of a head, and its headers with lowercase names.
fn parse_head(head: &[u8]) -> (String, Vec<(String, String)>) {
    let text = String::from_utf8_lossy(head);
    let mut lines = text.lines();
    let first = lines.next().unwrap_or_default().to_string();
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_string()))
        .collect();
    (first, headers)
}
