//! The precompressed encodings of a feed (gzip, brotli), from its bytes.
//!
//! It must not know what the bytes are or how they are served.

use std::io::Write;

/// Brotli quality for the `br` variant. Measured on a 300 KB RSS feed whose
/// items are the seed article's words shuffled (a stand-in for distinct
/// Vietnamese articles; release build, 2-core Xeon): q4 5 ms / 91 KB,
/// q5 10 ms / 86 KB, q6 13 ms / 85 KB, q9 41 ms / 80 KB, q11 440 ms / 74 KB
/// (gzip -6: 87 KB). 5 is as small as gzip at a cost an edit-to-visible
/// budget of milliseconds can still afford; higher qualities cost far more
/// time than the bytes they save.
const BROTLI_QUALITY: i32 = 5;
/// Brotli window (log2 bytes); 22 (4 MiB) covers any feed in one window.
const BROTLI_LGWIN: i32 = 22;

pub(super) fn gzip(body: &[u8]) -> Vec<u8> {
    let mut encoder = flate2::write::GzEncoder::new(
        Vec::with_capacity(body.len() / 4),
        flate2::Compression::default(),
    );
    // Writing into a Vec cannot fail.
    encoder
        .write_all(body)
        .and_then(|()| encoder.finish())
        .expect("gzip into memory cannot fail")
}

pub(super) fn brotli(body: &[u8]) -> Vec<u8> {
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin: BROTLI_LGWIN,
        size_hint: body.len(),
        ..Default::default()
    };
    let mut out = Vec::with_capacity(body.len() / 4);
    // Reading a slice and writing into a Vec cannot fail.
    brotli::BrotliCompress(&mut &body[..], &mut out, &params)
        .expect("brotli into memory cannot fail");
    out
}
