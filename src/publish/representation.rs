//! The served representation of one feed: its bytes in every encoding, with
//! the validators (ETag, Last-Modified) and header values precomputed, and the
//! [`Snapshot`] of every feed that the HTTP server answers from.
//!
//! This module owns what a response is made of, computed once per change so
//! that serving a feed is a lookup. It must not know the disk (a
//! [`BodyFile`] is a file `disk` already opened, only held here), how feeds
//! are rendered, or how a request is answered.

use std::collections::HashMap;
use std::fs::File;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use arc_swap::ArcSwap;
use bytes::Bytes;
use hyper::header::HeaderValue;

use super::compress::{brotli, gzip};
use crate::output::{Format, OutputPath};

/// Hex digits of the blake3 hash kept in an ETag: 80 bits, plenty to tell
/// versions of one URL apart, short enough to keep headers small.
const ETAG_HEX_LEN: usize = 20;

/// Identity bodies smaller than this are written from memory: a copy of
/// 16 KiB costs about what the second system call of `sendfile` does.
const SENDFILE_MIN_BYTES: usize = 16 * 1024;
/// Document files held open for `sendfile` at most, so that a site of
/// thousands of categories cannot use up the descriptors connections and
/// article files need (the server keeps this many aside).
pub const MAX_BODY_FILES: usize = 256;
/// Document files held open now.
static BODY_FILES_OPEN: AtomicUsize = AtomicUsize::new(0);

/// A document's identity bytes in its file in the output folder, held open
/// so that the server sends them with `sendfile`: the kernel then hands
/// the page cache's pages to the socket, where a write from memory copies
/// the body once per response (a 166 KB feed cost feedd 55 µs of CPU per
/// response that way, nginx 34 with `sendfile`). The handle keeps the
/// bytes of the version it was opened on, even once a later publish has
/// renamed another file over the path.
#[derive(Debug)]
pub struct BodyFile {
    file: File,
    length: u64,
}

impl BodyFile {
    /// `file`, which holds a body of `length` bytes, kept for `sendfile` if
    /// the body is large enough to gain by it, the file holds exactly that
    /// many bytes, and fewer than [`MAX_BODY_FILES`] are open.
    pub(crate) fn keep(file: File, length: usize) -> Option<Arc<BodyFile>> {
        let length = u64::try_from(length).ok()?;
        if length < SENDFILE_MIN_BYTES as u64 || file.metadata().ok()?.len() != length {
            return None;
        }
        BODY_FILES_OPEN
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |open| {
                (open < MAX_BODY_FILES).then_some(open + 1)
            })
            .ok()?;
        Some(Arc::new(BodyFile { file, length }))
    }

    /// The open file; its bytes from offset 0 are the body.
    pub fn file(&self) -> &File {
        &self.file
    }

    /// The body's length in bytes.
    pub fn length(&self) -> u64 {
        self.length
    }
}

impl Drop for BodyFile {
    fn drop(&mut self) {
        BODY_FILES_OPEN.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One encoding of a feed, ready to send.
#[derive(Debug, Clone)]
pub struct Variant {
    /// The bytes sent on the wire (identity, gzip or br).
    pub body: Bytes,
    /// Strong ETag of this encoding, quoted; each encoding has its own.
    pub etag: HeaderValue,
    /// `Content-Length` of `body`, precomputed so the server does no formatting.
    pub content_length: HeaderValue,
}

impl Variant {
    fn new(body: Bytes, etag: String) -> Variant {
        Variant {
            content_length: HeaderValue::from(body.len()),
            etag: header_value(etag),
            body,
        }
    }
}

/// Everything the server needs to answer for one feed, computed once per change.
///
/// A change is published in two steps: first with the identity variant only,
/// so that the new bytes are served at once, then with the compressed
/// variants as well (compression takes milliseconds that an edit should not
/// wait for).
#[derive(Debug, Clone)]
pub struct Rendered {
    /// The feed's bytes, as written to disk.
    pub identity: Variant,
    /// gzip (default level) of `identity`; `None` while it is being
    /// computed, when the server sends `identity` instead.
    pub gzip: Option<Variant>,
    /// Brotli of `identity`; `None` while it is being computed, when the
    /// server sends `identity` instead.
    pub br: Option<Variant>,
    /// When the feed's bytes last changed, truncated to whole seconds (HTTP
    /// dates have no finer resolution, and `If-Modified-Since` compares them).
    pub last_modified: SystemTime,
    /// `last_modified` as an HTTP date.
    pub last_modified_header: HeaderValue,
    /// An earlier version of this feed was published within the same
    /// second: a client whose copy is dated that second may hold the older
    /// bytes, so an `If-Modified-Since` equal to `last_modified` proves
    /// nothing (a later one still does), and no `Last-Modified` is sent until
    /// [`Publisher::restamp`] moves it to a second of its own.
    pub same_second_as_previous: bool,
    /// The document's `Content-Type` ([`OutputPath::content_type`]).
    pub content_type: HeaderValue,
    /// Which kind of document it is (for the request metrics).
    pub format: Format,
    /// The `Link` header of a feed when WebSub hubs are configured
    /// ([`FeedLinks::header`]); `None` otherwise.
    pub link: Option<HeaderValue>,
    /// `identity`'s bytes in the document's file, for the server to send
    /// with `sendfile`; `None` until the file is written, and for bodies
    /// too small to be worth it ([`BodyFile::keep`]).
    pub body_file: Option<Arc<BodyFile>>,
}

impl Rendered {
    /// Builds every variant of a feed: hashes the bytes for the ETags and
    /// compresses them with gzip and brotli. CPU-bound (milliseconds for a
    /// large feed); call it off the async runtime.
    ///
    /// `path` selects the content type.
    pub fn new(path: &OutputPath, body: Vec<u8>, last_modified: SystemTime) -> Rendered {
        Rendered::identity_only(path, body, last_modified).compressed()
    }

    /// Like [`Rendered::new`] without the compressed variants: only the hash
    /// of the bytes (well under a millisecond for a large feed). Add them
    /// later with [`Rendered::compressed`].
    pub fn identity_only(path: &OutputPath, body: Vec<u8>, last_modified: SystemTime) -> Rendered {
        let hash = blake3::hash(&body);
        Rendered::with_hash(path, Bytes::from(body), &hash, last_modified)
    }

    /// The same feed with its gzip and brotli variants, computed from
    /// `identity` (the ETags derive from its tag; the bytes are shared, not
    /// copied). CPU-bound; call it off the async runtime.
    pub fn compressed(&self) -> Rendered {
        let tag = self.tag();
        Rendered {
            gzip: Some(Variant::new(
                Bytes::from(gzip(&self.identity.body)),
                format!("\"{tag}-gzip\""),
            )),
            br: Some(Variant::new(
                Bytes::from(brotli(&self.identity.body)),
                format!("\"{tag}-br\""),
            )),
            ..self.clone()
        }
    }

    /// A page (article or archive) read from the output folder for one
    /// request, with the validators a snapshot entry of the same bytes
    /// would have, and only the compressed variants asked for (what the
    /// request does not use is not computed), each taken from `cache` or
    /// compressed once and put there, and with no compressed body when
    /// `not_modified` says the variant's tag and date answer the request
    /// with a 304. Also returns how many bodies it compressed (0 or 1).
    pub fn page_from_file(
        format: Format,
        body: Vec<u8>,
        modified: SystemTime,
        gzip_it: bool,
        br_it: bool,
        cache: &PageVariants,
        not_modified: impl Fn(&HeaderValue, SystemTime) -> bool,
    ) -> (Rendered, usize) {
        let hash = blake3::hash(&body);
        let mut page = Rendered::with_format(format, Bytes::from(body), &hash, modified);
        let tag = page.tag().to_string();
        let mut compressed = 0;
        // A conditional request that the variant's tag answers gets a 304,
        // which has no body: compressing one for it would be wasted.
        let mut variant = |suffix: &'static str, compress: fn(&[u8]) -> Vec<u8>| {
            let etag = format!("\"{tag}-{suffix}\"");
            let unchanged = not_modified(&header_value(etag.clone()), modified);
            let body = if unchanged {
                Bytes::new()
            } else {
                let (body, fresh) = cache
                    .get_or_compress(*hash.as_bytes(), suffix, || compress(&page.identity.body));
                compressed += usize::from(fresh);
                body
            };
            Variant::new(body, etag)
        };
        if gzip_it {
            page.gzip = Some(variant("gzip", gzip));
        }
        if br_it {
            page.br = Some(variant("br", brotli));
        }
        (page, compressed)
    }

    /// The identity variant only, from a hash already computed.
    pub(super) fn with_hash(
        path: &OutputPath,
        body: Bytes,
        hash: &blake3::Hash,
        last_modified: SystemTime,
    ) -> Rendered {
        Rendered::with_format(path.format, body, hash, last_modified)
    }

    fn with_format(
        format: Format,
        body: Bytes,
        hash: &blake3::Hash,
        last_modified: SystemTime,
    ) -> Rendered {
        let hex = hash.to_hex();
        let tag = &hex[..ETAG_HEX_LEN];
        let last_modified = whole_seconds(last_modified);
        Rendered {
            identity: Variant::new(body, format!("\"{tag}\"")),
            gzip: None,
            br: None,
            last_modified,
            last_modified_header: header_value(httpdate::fmt_http_date(last_modified)),
            same_second_as_previous: false,
            content_type: HeaderValue::from_static(format.content_type()),
            format,
            link: None,
            body_file: None,
        }
    }

    /// The hash part of the identity ETag: what every variant's tag starts with.
    fn tag(&self) -> &str {
        let quoted = self.identity.etag.to_str();
        quoted
            .expect("identity ETags are quoted hex")
            .trim_matches('"')
    }
}

/// What a feed's `Link` header says (WebSub discovery, W3C WebSub §4): each
/// hub, then the feed's own URL, the topic a subscriber names to the hub.
/// Computed once per change, like every other header value.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FeedLinks {
    /// `site.base_url`, without a trailing `/`.
    pub base_url: String,
    /// `websub.hubs`, already ASCII (the `url` crate's serialization).
    pub hubs: Vec<String>,
}

impl FeedLinks {
    /// `<hub>; rel="hub", ..., <self>; rel="self"` for a feed, when there
    /// are hubs; `None` for documents that are not feeds, or without hubs.
    /// The self URL is percent-encoded where `base_url` is not ASCII (a
    /// header carries URIs, the feed itself the URL as written).
    pub fn header(&self, path: &OutputPath) -> Option<HeaderValue> {
        if self.hubs.is_empty() || !path.format.is_feed() {
            return None;
        }
        let self_url = url::Url::parse(&format!("{}{}", self.base_url, path.url_path())).ok()?;
        let mut value = String::new();
        for hub in &self.hubs {
            value.push_str(&format!("<{hub}>; rel=\"hub\", "));
        }
        value.push_str(&format!("<{self_url}>; rel=\"self\""));
        HeaderValue::try_from(value).ok()
    }
}

/// Served documents by URL path. Hashed with foldhash rather than SipHash:
/// hashing the path was 1.5% of what a 304 cost (callgrind), and the keys
/// are feedd's own paths, which no client can add to; the seed is still
/// random per process.
pub type Documents = HashMap<Box<str>, Arc<Rendered>, foldhash::fast::RandomState>;

/// What the server answers from: every published feed by URL path, and the
/// response policy. Replaced whole, never mutated, so readers need no lock.
#[derive(Debug)]
pub struct Snapshot {
    /// Feeds by URL path (`/rss.xml`, `/{category}/atom.xml`, ...).
    pub feeds: Documents,
    /// `Cache-Control` of every feed response: `public, max-age=N`.
    pub cache_control: HeaderValue,
    /// The output folder, where article pages are read on request (they
    /// are too many to hold here; see `pages`). `None`: none are served.
    pub pages_dir: Option<Arc<Path>>,
}

impl Snapshot {
    /// A snapshot with no feeds and `Cache-Control: public, max-age={max_age}`.
    pub fn empty(max_age: u32) -> Snapshot {
        Snapshot {
            feeds: Documents::default(),
            cache_control: cache_control(max_age),
            pages_dir: None,
        }
    }
}

/// Compressed bodies of pages served from their files, by content hash and
/// encoding, so that a popular page is compressed once, not per request;
/// at most [`PageVariants::new`]'s budget of bytes, the least recently
/// used going first. Its lock is taken on the blocking thread that has
/// just read the page's file, never on the feeds' request path, and held
/// for a lookup or an insert only, never while compressing.
#[derive(Debug)]
pub struct PageVariants {
    budget: usize,
    inner: std::sync::Mutex<PageVariantsInner>,
}

#[derive(Debug, Default)]
struct PageVariantsInner {
    bodies: HashMap<([u8; 32], &'static str), (Bytes, u64)>,
    bytes: usize,
    clock: u64,
}

impl PageVariants {
    /// A cache of at most `budget` bytes of compressed bodies.
    pub fn new(budget: usize) -> PageVariants {
        PageVariants {
            budget,
            inner: std::sync::Mutex::new(PageVariantsInner::default()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PageVariantsInner> {
        // Nothing is left half-done under the lock by a panic.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The `encoding` body of the content `hash`: cached, or compressed now
    /// (`true`) and cached if it fits.
    fn get_or_compress(
        &self,
        hash: [u8; 32],
        encoding: &'static str,
        compress: impl FnOnce() -> Vec<u8>,
    ) -> (Bytes, bool) {
        {
            let mut inner = self.lock();
            inner.clock += 1;
            let now = inner.clock;
            if let Some((body, used)) = inner.bodies.get_mut(&(hash, encoding)) {
                *used = now;
                return (body.clone(), false);
            }
        }
        let body = Bytes::from(compress());
        if body.len() > self.budget / 4 {
            return (body, true);
        }
        let mut inner = self.lock();
        inner.bytes += body.len();
        let now = inner.clock;
        if let Some((old, _)) = inner.bodies.insert((hash, encoding), (body.clone(), now)) {
            // Another request compressed it meanwhile.
            inner.bytes -= old.len();
        }
        while inner.bytes > self.budget {
            let Some(oldest) = inner
                .bodies
                .iter()
                .min_by_key(|(_, (_, used))| *used)
                .map(|(key, _)| *key)
            else {
                break;
            };
            if let Some((gone, _)) = inner.bodies.remove(&oldest) {
                inner.bytes -= gone.len();
            }
        }
        (body, true)
    }

    /// Bytes held now.
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }
}

/// The snapshot shared between the publisher (writer) and the server (readers).
pub type SharedSnapshot = Arc<ArcSwap<Snapshot>>;

/// `Cache-Control: public, max-age={max_age}`.
pub(super) fn cache_control(max_age: u32) -> HeaderValue {
    header_value(format!("public, max-age={max_age}"))
}

/// Builds a header value from text this module formatted itself (digits,
/// hex, quotes, HTTP dates), which is always visible ASCII.
pub(super) fn header_value(text: String) -> HeaderValue {
    HeaderValue::try_from(text).expect("feedd formats header values from visible ASCII only")
}

/// Truncates to whole seconds since the epoch (times before it become it).
pub(super) fn whole_seconds(time: SystemTime) -> SystemTime {
    let secs = time
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| since.as_secs());
    UNIX_EPOCH + Duration::from_secs(secs)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn path(url_path: &str) -> OutputPath {
        OutputPath::parse(url_path).unwrap()
    }

    #[test]
    fn a_page_a_304_answers_is_not_compressed_but_keeps_its_tag() {
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let html = b"<!doctype html><p>Tin</p>".repeat(50);
        let cache = PageVariants::new(1 << 20);
        let (revalidated, compressed) = Rendered::page_from_file(
            Format::Html,
            html.clone(),
            at,
            true,
            true,
            &cache,
            |_, _| true,
        );
        assert_eq!(compressed, 0);
        let (sent, compressed) = Rendered::page_from_file(
            Format::Html,
            html.clone(),
            at,
            true,
            true,
            &cache,
            |_, _| false,
        );
        assert_eq!(compressed, 2);
        for (sent, revalidated) in [
            (sent.gzip.unwrap(), revalidated.gzip.unwrap()),
            (sent.br.unwrap(), revalidated.br.unwrap()),
        ] {
            assert_eq!(sent.etag, revalidated.etag);
            assert!(!sent.body.is_empty());
            assert!(revalidated.body.is_empty());
        }
        let (identity_only, _) =
            Rendered::page_from_file(Format::Html, html, at, false, false, &cache, |_, _| false);
        assert!(identity_only.gzip.is_none() && identity_only.br.is_none());
    }

    #[test]
    fn a_page_is_compressed_once_and_the_cache_keeps_to_its_budget() {
        let at = UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        let cache = PageVariants::new(4096);
        let page = |n: u32| format!("<p>trang {n}</p>").repeat(40).into_bytes();
        let serve = |n| {
            Rendered::page_from_file(Format::Html, page(n), at, true, false, &cache, |_, _| false)
        };
        let (first, compressed) = serve(1);
        assert_eq!(compressed, 1);
        let (again, compressed) = serve(1);
        assert_eq!(compressed, 0, "the second request compresses nothing");
        assert_eq!(first.gzip.unwrap().body, again.gzip.unwrap().body);
        for n in 2..200 {
            serve(n);
            assert!(cache.bytes() <= 4096, "{}", cache.bytes());
        }
        // Long evicted, so compressed again, the same.
        let (later, compressed) = serve(1);
        assert_eq!(compressed, 1);
        assert_eq!(gunzip(&later.gzip.unwrap().body), page(1));
    }

    fn gunzip(body: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        std::io::Read::read_to_end(&mut flate2::read::GzDecoder::new(body), &mut out).unwrap();
        out
    }

    #[test]
    fn rendered_has_one_etag_per_encoding_from_the_hash_of_the_bytes() {
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_750);
        let a = Rendered::new(&path("/rss.xml"), b"<rss/>".to_vec(), at);
        let b = Rendered::new(&path("/x/rss.xml"), b"<rss/>".to_vec(), SystemTime::now());
        assert_eq!(a.identity.etag, b.identity.etag);
        let tag = a
            .identity
            .etag
            .to_str()
            .unwrap()
            .trim_matches('"')
            .to_owned();
        assert_eq!(tag.len(), ETAG_HEX_LEN);
        let gzip = a.gzip.as_ref().expect("new compresses");
        let br = a.br.as_ref().expect("new compresses");
        assert_eq!(gzip.etag, format!("\"{tag}-gzip\"").as_str());
        assert_eq!(br.etag, format!("\"{tag}-br\"").as_str());
        let c = Rendered::new(&path("/rss.xml"), b"<rss></rss>".to_vec(), at);
        assert_ne!(a.identity.etag, c.identity.etag);
        assert_eq!(
            a.last_modified,
            UNIX_EPOCH + Duration::from_secs(1_700_000_000)
        );
        assert_eq!(a.last_modified_header, "Tue, 14 Nov 2023 22:13:20 GMT");
        assert_eq!(a.content_type, "application/rss+xml; charset=utf-8");
        assert_eq!(a.identity.content_length, "6");
    }

    #[test]
    fn feed_links_name_each_hub_then_the_feed() {
        let links = FeedLinks {
            base_url: "https://news.example.vn/tin-tức".into(),
            hubs: vec!["https://hub.example/".into(), "http://127.0.0.1:1/h".into()],
        };
        assert_eq!(
            links.header(&path("/kinh-te/atom.xml")).unwrap(),
            "<https://hub.example/>; rel=\"hub\", <http://127.0.0.1:1/h>; rel=\"hub\", \
             <https://news.example.vn/tin-t%E1%BB%A9c/kinh-te/atom.xml>; rel=\"self\""
        );
        let none = FeedLinks {
            hubs: Vec::new(),
            ..links
        };
        assert_eq!(none.header(&path("/rss.xml")), None);
    }

    #[test]
    fn atom_paths_get_the_atom_content_type() {
        let r = Rendered::new(
            &path("/chinh-tri/atom.xml"),
            b"<feed/>".to_vec(),
            SystemTime::now(),
        );
        assert_eq!(r.content_type, "application/atom+xml; charset=utf-8");
    }

    #[test]
    fn compressed_variants_decode_to_the_body() {
        use std::io::Read;
        let body = "<rss>Tin tức mới nhất</rss>".repeat(100).into_bytes();
        let r = Rendered::new(&path("/rss.xml"), body.clone(), SystemTime::now());
        let (gzip, br) = (r.gzip.as_ref().unwrap(), r.br.as_ref().unwrap());
        let mut gunzipped = Vec::new();
        flate2::read::GzDecoder::new(&gzip.body[..])
            .read_to_end(&mut gunzipped)
            .unwrap();
        assert_eq!(gunzipped, body);
        let mut unbrotlied = Vec::new();
        brotli::Decompressor::new(&br.body[..], 4096)
            .read_to_end(&mut unbrotlied)
            .unwrap();
        assert_eq!(unbrotlied, body);
        assert!(gzip.body.len() < body.len() && br.body.len() < body.len());
    }

    #[test]
    fn identity_only_has_no_compressed_variants_until_compressed() {
        let at = UNIX_EPOCH + Duration::from_millis(1_700_000_000_750);
        let bare = Rendered::identity_only(&path("/a/atom.xml"), b"<feed/>".to_vec(), at);
        assert!(bare.gzip.is_none() && bare.br.is_none());
        let full = Rendered::new(&path("/a/atom.xml"), b"<feed/>".to_vec(), at);
        assert_eq!(bare.identity.etag, full.identity.etag);
        assert_eq!(bare.last_modified, full.last_modified);
        assert_eq!(bare.content_type, "application/atom+xml; charset=utf-8");

        let compressed = bare.compressed();
        assert_eq!(compressed.identity.etag, bare.identity.etag);
        assert_eq!(compressed.last_modified_header, bare.last_modified_header);
        assert_eq!(compressed.gzip.unwrap().etag, full.gzip.unwrap().etag);
        assert_eq!(compressed.br.unwrap().etag, full.br.unwrap().etag);
        // The identity bytes are shared, not copied.
        assert_eq!(
            compressed.identity.body.as_ptr(),
            bare.identity.body.as_ptr()
        );
    }
}
