//! A second yardstick, below `bare_hyper`: one feed served from memory by
//! an HTTP/1.1 loop written for it (httparse to read a request, one
//! vectored write of a prebuilt head and the body). It answers as
//! `bare_hyper` does; it shows what a fast path beside hyper could gain.
//!
//!     cargo build --release --example bare_raw
//!     taskset -c 1 target/release/examples/bare_raw 127.0.0.1:18301 FEED &
//!     ../shared/bench/serve_compare.sh http://127.0.0.1:18301/feed.xml FEED

use std::io::{IoSlice, Write as _};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};

struct Variant {
    body: Vec<u8>,
    etag: String,
    head_200: Vec<u8>,
    head_304: Vec<u8>,
}

impl Variant {
    fn new(body: Vec<u8>, tag: &str, gzip: bool) -> Variant {
        let hash = blake3::hash(&body).to_hex();
        let short = hash.get(..20).unwrap_or(hash.as_str());
        let etag = format!("\"{short}{tag}\"");
        let common = format!(
            "etag: {etag}\r\ncache-control: public, max-age=300\r\nvary: Accept-Encoding\r\n"
        );
        let head_304 = format!("HTTP/1.1 304 Not Modified\r\n{common}\r\n").into_bytes();
        let encoding = if gzip {
            "content-encoding: gzip\r\n"
        } else {
            ""
        };
        let head_200 = format!(
            "HTTP/1.1 200 OK\r\n{common}content-type: application/rss+xml; charset=utf-8\r\n{encoding}content-length: {}\r\n\r\n",
            body.len()
        )
        .into_bytes();
        Variant {
            body,
            etag,
            head_200,
            head_304,
        }
    }
}

fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let (Some(listen), Some(file)) = (args.next(), args.next()) else {
        anyhow::bail!("usage: bare_raw LISTEN_ADDR FEED_FILE");
    };
    let body = std::fs::read(&file)?;
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    encoder.write_all(&body)?;
    let identity: &'static Variant = Box::leak(Box::new(Variant::new(body, "", false)));
    let gzip: &'static Variant = Box::leak(Box::new(Variant::new(encoder.finish()?, "-gz", true)));
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(&listen).await?;
            loop {
                let (stream, _) = listener.accept().await?;
                stream.set_nodelay(true)?;
                tokio::spawn(connection(stream, identity, gzip));
            }
        })
}

async fn connection(mut stream: tokio::net::TcpStream, identity: &Variant, gzip: &Variant) {
    let mut buf = vec![0u8; 4096];
    let mut filled = 0;
    loop {
        let Ok(n) = stream.read(&mut buf[filled..]).await else {
            return;
        };
        if n == 0 {
            return;
        }
        filled += n;
        let mut consumed = 0;
        loop {
            let mut headers = [httparse::EMPTY_HEADER; 32];
            let mut request = httparse::Request::new(&mut headers);
            let Ok(status) = request.parse(&buf[consumed..filled]) else {
                return;
            };
            let httparse::Status::Complete(len) = status else {
                break;
            };
            consumed += len;
            let wants_gzip = request.headers.iter().any(|h| {
                h.name.eq_ignore_ascii_case("accept-encoding")
                    && h.value.windows(4).any(|w| w == b"gzip")
            });
            let variant = if wants_gzip { gzip } else { identity };
            let fresh = request.headers.iter().any(|h| {
                h.name.eq_ignore_ascii_case("if-none-match") && h.value == variant.etag.as_bytes()
            });
            let (head, body): (&[u8], &[u8]) = if fresh {
                (&variant.head_304, &[])
            } else {
                (&variant.head_200, &variant.body)
            };
            if write_all(&mut stream, head, body).await.is_err() {
                return;
            }
        }
        buf.copy_within(consumed..filled, 0);
        filled -= consumed;
        if filled == buf.len() {
            return;
        }
    }
}

async fn write_all(
    stream: &mut tokio::net::TcpStream,
    mut head: &[u8],
    mut body: &[u8],
) -> std::io::Result<()> {
    while !head.is_empty() {
        let n = stream
            .write_vectored(&[IoSlice::new(head), IoSlice::new(body)])
            .await?;
        if n == 0 {
            return Err(std::io::ErrorKind::WriteZero.into());
        }
        let from_head = n.min(head.len());
        head = &head[from_head..];
        body = &body[n - from_head..];
    }
    stream.write_all(body).await
}
