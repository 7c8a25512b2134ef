//! The yardstick under feedd's serving figures: the least a hyper 1.x
//! server can do to serve one feed as feedd does, from memory, on one
//! thread. Any path answers the file given; `If-None-Match` with its ETag
//! gets a 304; `Accept-Encoding` naming gzip gets the gzip copy computed at
//! start. No routing, no metrics, no timeouts, no logs, none of feedd's
//! headers beyond what serve_compare.sh checks.
//!
//! Run it as feedd is run against nginx, so that feedd's own cost over
//! hyper can be read off two rows of one harness:
//!
//!     cargo build --release --example bare_hyper
//!     taskset -c 1 target/release/examples/bare_hyper 127.0.0.1:18300 FEED &
//!     ../shared/bench/serve_compare.sh http://127.0.0.1:18300/feed.xml FEED

use std::convert::Infallible;
use std::io::Write as _;

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;

struct Variant {
    body: Bytes,
    etag: HeaderValue,
    length: HeaderValue,
}

impl Variant {
    fn new(body: Vec<u8>, tag: &str) -> anyhow::Result<Variant> {
        let hash = blake3::hash(&body).to_hex();
        let short = hash.get(..20).unwrap_or(hash.as_str());
        Ok(Variant {
            etag: HeaderValue::from_str(&format!("\"{short}{tag}\""))?,
            length: HeaderValue::from(body.len()),
            body: Bytes::from(body),
        })
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(file)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: bare_hyper LISTEN_ADDR FEED_FILE");
    };
    let body = std::fs::read(&file)?;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&body)?;
    let identity: &'static Variant = Box::leak(Box::new(Variant::new(body, "")?));
    let gzip: &'static Variant = Box::leak(Box::new(Variant::new(encoder.finish()?, "-gz")?));

    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(serve(&listen, identity, gzip))
}

async fn serve(
    listen: &str,
    identity: &'static Variant,
    gzip: &'static Variant,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen).await?;
    loop {
        let (stream, _) = listener.accept().await?;
        stream.set_nodelay(true)?;
        let service = service_fn(move |request: Request<hyper::body::Incoming>| async move {
            let wants_gzip = request
                .headers()
                .get(header::ACCEPT_ENCODING)
                .and_then(|value| value.to_str().ok())
                .is_some_and(|value| value.contains("gzip"));
            let variant = if wants_gzip { gzip } else { identity };
            let mut response = Response::new(Full::default());
            let headers = response.headers_mut();
            headers.insert(header::ETAG, variant.etag.clone());
            headers.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("public, max-age=300"),
            );
            headers.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
            if request.headers().get(header::IF_NONE_MATCH) == Some(&variant.etag) {
                *response.status_mut() = StatusCode::NOT_MODIFIED;
                return Ok::<_, Infallible>(response);
            }
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/rss+xml; charset=utf-8"),
            );
            if wants_gzip {
                headers.insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
            }
            headers.insert(header::CONTENT_LENGTH, variant.length.clone());
            *response.body_mut() = Full::new(variant.body.clone());
            Ok(response)
        });
        tokio::task::spawn(async move {
            // Resets and malformed requests end a connection; nothing to report.
            let _ = http1::Builder::new()
                .keep_alive(true)
                .serve_connection(TokioIo::new(stream), service)
                .await;
        });
    }
}
