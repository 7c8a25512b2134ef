//! What the catalog knows, kept in the state folder (`catalog.cache`) so
//! that a restart stats the tree and re-reads only the files that changed
//! while feedd was down, instead of reading every article again.
//!
//! Per article file: its raw path, key, stamp (a 64-bit digest of size,
//! nanosecond mtime and ctime, inode), content hash and parsed metadata. Nothing here is trusted
//! beyond what a stat confirms: an entry is used only while its file still
//! has the recorded stamp, and its dates still come from the state journal.
//! So a cache left by a crash, or older than the tree, gives the same output
//! as a full scan. A missing cache, one written for another config or
//! version, or a damaged one is ignored whole (the catalog then reads every
//! file). Written atomically (temp file + rename).
//!
//! The format is text, one tab-separated record per line, fields escaped as
//! in the state journal, and a last line with the record count and a BLAKE3
//! hash of everything before it, so that a torn or edited file is noticed.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use jiff::Timestamp;

use super::PageSlug;
use crate::config::Config;
use crate::file_stamp::StampDigest;
use crate::state::{is_escaped, push_escaped, unescape};

/// The cache's file name in `paths.state`.
pub const CACHE_FILE: &str = "catalog.cache";

/// A cache being written; one left by a killed process is removed by the
/// next process that locks the state folder.
pub const TEMP_PREFIX: &str = ".catalog.cache-";

const MAGIC: &str = "feedd-catalog-cache";
/// Bump when the record layout or what an `Article` holds changes.
const FORMAT: u32 = 5;

/// One article file as the cache keeps it: what the catalog keeps of it.
#[derive(Debug, Clone, PartialEq)]
pub struct Record {
    /// Path under the articles folder as the file system spells it.
    pub raw: String,
    /// The catalog's key (NFC).
    pub key: String,
    pub stamp: StampDigest,
    pub hash: [u8; 16],
    pub id: String,
    /// Published and updated dates the file states.
    pub stated: (Option<Timestamp>, Option<Timestamp>),
    pub draft: bool,
    /// The slug of the article's page, if it has one.
    pub page: PageSlug,
    /// `(slug, name)` of each category.
    pub categories: Vec<(String, String)>,
}

/// Why a cache was not used.
#[derive(Debug, PartialEq, Eq)]
pub enum Unusable {
    /// There is none (a first run, or it was removed).
    Missing,
    /// Written by another version of feedd or for another config.
    Stale,
    /// Cannot be read or does not parse; what is wrong.
    Damaged(String),
}

/// What parsed metadata depends on besides the file: feedd's version and
/// the config keys that article parsing reads (a key that parsing starts to
/// read must be added here). Built from the values, not from `Debug` of the
/// whole config: a time zone's `Debug` shows its internal caches, which
/// differ between two processes that loaded the same file.
fn fingerprint(config: &Config) -> String {
    let mut hasher = blake3::Hasher::new();
    let mut field = |value: &[u8]| {
        hasher.update(&(value.len() as u64).to_le_bytes());
        hasher.update(value);
    };
    field(env!("CARGO_PKG_VERSION").as_bytes());
    field(config.paths.articles.as_os_str().as_encoded_bytes());
    field(config.site.base_url.as_bytes());
    let zone = &config.site.timezone;
    field(
        zone.iana_name()
            .map_or_else(|| format!("{zone:?}"), str::to_string)
            .as_bytes(),
    );
    for prefix in &config.text.byline_prefixes {
        field(prefix.as_bytes());
    }
    field(&config.feeds.max_article_bytes.to_le_bytes());
    hasher.finalize().to_hex().to_string()
}

/// Writes `records` to `dir`/[`CACHE_FILE`], atomically. Streamed record by
/// record: at 100,000 articles the whole text is about 45 MB, which held at
/// once was the largest allocation of a serve's start.
pub fn save(
    dir: &Path,
    config: &Config,
    mut records: impl Iterator<Item = Record>,
) -> std::io::Result<()> {
    let mut temp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .suffix(".tmp")
        .tempfile_in(dir)?;
    let mut out = std::io::BufWriter::with_capacity(64 * 1024, temp.as_file_mut());
    let mut checksum = blake3::Hasher::new();
    let mut line = format!("{MAGIC}\t{FORMAT}\t{}\n", fingerprint(config));
    let mut count = 0usize;
    loop {
        checksum.update(line.as_bytes());
        out.write_all(line.as_bytes())?;
        line.clear();
        let Some(record) = records.next() else { break };
        write_record(&mut line, &record);
        count += 1;
    }
    writeln!(out, "end\t{count}\t{}", checksum.finalize().to_hex())?;
    out.flush()?;
    drop(out);
    temp.persist(dir.join(CACHE_FILE)).map_err(|e| e.error)?;
    Ok(())
}

/// A cache file that is whole and was written by this version for this
/// config: its records are read one at a time ([`Loaded::records`]), so
/// that the catalog's long-lived allocations are not scattered among 100,000
/// records' worth of short-lived strings (which kept about 30 MB of the
/// heap from being given back).
#[derive(Debug)]
pub struct Loaded {
    text: String,
    records: std::ops::Range<usize>,
}

impl Loaded {
    /// The records, in the order they were saved. Each was checked to
    /// parse when the file was loaded.
    pub fn records(&self) -> impl Iterator<Item = Record> + '_ {
        self.text
            .get(self.records.clone())
            .unwrap_or_default()
            .lines()
            .filter_map(parse_record)
    }

    #[cfg(test)]
    fn collect(&self) -> Vec<Record> {
        self.records().collect()
    }
}

/// The cache in `dir`/[`CACHE_FILE`], if it is there, whole, and was
/// written by this version for this config.
pub fn load(dir: &Path, config: &Config) -> Result<Loaded, Unusable> {
    let text = match std::fs::read(dir.join(CACHE_FILE)) {
        Ok(bytes) => String::from_utf8(bytes).map_err(|_| Unusable::Damaged("not UTF-8".into()))?,
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            return Err(Unusable::Missing);
        }
        Err(error) => return Err(Unusable::Damaged(error.to_string())),
    };
    let damaged = |what: &str| Unusable::Damaged(what.to_string());
    let body_end = text
        .trim_end_matches('\n')
        .rfind('\n')
        .map(|at| at + 1)
        .ok_or_else(|| damaged("no end line"))?;
    let (body, end) = text.split_at(body_end);
    let mut end_fields = end.trim_end_matches('\n').split('\t');
    let (Some("end"), Some(count), Some(checksum), None) = (
        end_fields.next(),
        end_fields.next(),
        end_fields.next(),
        end_fields.next(),
    ) else {
        return Err(damaged("no end line (cut short?)"));
    };
    if blake3::hash(body.as_bytes()).to_hex().as_str() != checksum {
        return Err(damaged("checksum mismatch"));
    }
    let header = body.lines().next().unwrap_or_default();
    let mut header_fields = header.split('\t');
    if header_fields.next() != Some(MAGIC) {
        return Err(damaged("not a feedd catalog cache"));
    }
    if header_fields.next() != Some(FORMAT.to_string().as_str())
        || header_fields.next() != Some(fingerprint(config).as_str())
    {
        return Err(Unusable::Stale);
    }
    let records_start = (header.len() + 1).min(body_end);
    let mut parsed = 0usize;
    // Each record is parsed and dropped here, so that a damaged one is
    // found before the catalog takes in any.
    for (index, line) in body
        .get(records_start..)
        .unwrap_or_default()
        .lines()
        .enumerate()
    {
        if parse_fields(line).is_none() {
            return Err(Unusable::Damaged(format!(
                "record {} does not parse",
                index + 1
            )));
        }
        parsed += 1;
    }
    if count.parse::<usize>().ok() != Some(parsed) {
        return Err(damaged("record count mismatch"));
    }
    Ok(Loaded {
        records: records_start..body_end,
        text,
    })
}

fn push_field(out: &mut String, text: &str) {
    push_escaped(out, text);
    out.push('\t');
}

fn push_time(out: &mut String, time: Option<Timestamp>) {
    if let Some(time) = time {
        let _ = write!(out, "{}", time.as_nanosecond());
    }
    out.push('\t');
}

fn write_record(out: &mut String, record: &Record) {
    push_field(out, &record.raw);
    push_field(out, &record.key);
    let _ = write!(out, "{}\t", record.stamp.to_word());
    for byte in record.hash {
        let _ = write!(out, "{byte:02x}");
    }
    out.push('\t');
    push_field(out, &record.id);
    push_time(out, record.stated.0);
    push_time(out, record.stated.1);
    out.push_str(if record.draft { "1\t" } else { "0\t" });
    // A slug is never empty and never has `=`, so these two cannot be one.
    push_field(
        out,
        match &record.page {
            PageSlug::None => "",
            PageSlug::OfFileName => "=",
            PageSlug::Stated(slug) => slug,
        },
    );
    let _ = write!(out, "{}", record.categories.len());
    for (slug, name) in &record.categories {
        out.push('\t');
        push_field(out, slug);
        push_field(out, name);
        // push_field ends each field with a tab; the line ends without one.
        out.pop();
    }
    out.push('\n');
}

/// A record's fields as the file spells them, checked: every escape is
/// one [`push_escaped`] writes and every number parses, so that
/// [`Fields::into_record`] cannot fail. Checking a cache this way copies
/// nothing.
struct Fields<'a> {
    raw: &'a str,
    key: &'a str,
    stamp: StampDigest,
    hash: [u8; 16],
    id: &'a str,
    stated: (Option<Timestamp>, Option<Timestamp>),
    draft: bool,
    page: &'a str,
    /// `(slug, name)` fields, alternating.
    categories: std::str::Split<'a, char>,
}

fn parse_fields(line: &str) -> Option<Fields<'_>> {
    let escaped = |field: &'_ str| is_escaped(field).then_some(());
    let mut fields = line.split('\t');
    let mut next = || fields.next();
    let raw = next()?;
    let key = next()?;
    let stamp = StampDigest::from_word(next()?.parse().ok()?);
    let hash_hex = next()?;
    if hash_hex.len() != 32 || !hash_hex.is_ascii() {
        return None;
    }
    let mut hash = [0u8; 16];
    for (i, byte) in hash.iter_mut().enumerate() {
        *byte = u8::from_str_radix(hash_hex.get(2 * i..2 * i + 2)?, 16).ok()?;
    }
    let id = next()?;
    let time = |field: &str| -> Option<Option<Timestamp>> {
        if field.is_empty() {
            return Some(None);
        }
        Timestamp::from_nanosecond(field.parse().ok()?)
            .ok()
            .map(Some)
    };
    let published = time(next()?)?;
    let updated = time(next()?)?;
    let draft = match next()? {
        "0" => false,
        "1" => true,
        _ => return None,
    };
    let page = next()?;
    let count: usize = next()?.parse().ok()?;
    let categories = fields.clone();
    let mut listed = 0usize;
    for field in fields.by_ref() {
        escaped(field)?;
        listed += 1;
    }
    if Some(listed) != count.checked_mul(2) {
        return None;
    }
    for field in [raw, key, id, page] {
        escaped(field)?;
    }
    Some(Fields {
        raw,
        key,
        stamp,
        hash,
        id,
        stated: (published, updated),
        draft,
        page,
        categories,
    })
}

impl Fields<'_> {
    fn into_record(self) -> Option<Record> {
        let page = match unescape(self.page)?.as_str() {
            "" => PageSlug::None,
            "=" => PageSlug::OfFileName,
            slug => PageSlug::Stated(Box::from(slug)),
        };
        let mut categories = Vec::new();
        let mut names = self.categories;
        while let (Some(slug), Some(name)) = (names.next(), names.next()) {
            categories.push((unescape(slug)?, unescape(name)?));
        }
        Some(Record {
            raw: unescape(self.raw)?,
            key: unescape(self.key)?,
            stamp: self.stamp,
            hash: self.hash,
            id: unescape(self.id)?,
            stated: self.stated,
            draft: self.draft,
            page,
            categories,
        })
    }
}

fn parse_record(line: &str) -> Option<Record> {
    parse_fields(line)?.into_record()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> Config {
        Config::parse(
            Path::new("/srv/config/feedd.toml"),
            "[site]\ntitle = \"Tin\"\nbase_url = \"https://news.example.vn\"\n",
        )
        .unwrap()
    }

    fn record(raw: &str, draft: bool) -> Record {
        let meta = std::fs::metadata(env!("CARGO_MANIFEST_DIR")).unwrap();
        Record {
            raw: raw.to_string(),
            key: format!("{raw} (NFC)"),
            stamp: crate::file_stamp::FileStamp::of(&meta).digest(),
            hash: [0xAB; 16],
            id: "urn:uuid:1 tab\there, new\nline, back\\slash, CR\r, = and 😀".into(),
            stated: (
                Some(Timestamp::from_nanosecond(1_796_000_000_123_456_789).unwrap()),
                None,
            ),
            draft,
            page: if draft {
                PageSlug::None
            } else {
                PageSlug::Stated("gia-lua-tang".into())
            },
            categories: vec![
                ("doi-song".into(), "Đời sống".into()),
                ("empty".into(), String::new()),
            ],
        }
    }

    #[test]
    fn the_fingerprint_is_the_same_for_the_same_config_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("feedd.toml");
        std::fs::write(
            &path,
            "[site]\ntitle = \"Tin\"\nbase_url = \"https://news.example.vn\"\ntimezone = \"Asia/Ho_Chi_Minh\"\n",
        )
        .unwrap();
        let first = Config::load(&path).unwrap();
        // Using the zone fills its caches, which its Debug would show.
        let _ = Timestamp::now().to_zoned(first.site.timezone.clone());
        let second = Config::load(&path).unwrap();
        assert_eq!(fingerprint(&first), fingerprint(&second));
        let mut other = second.clone();
        other.text.byline_prefixes.push("Ảnh: ".into());
        assert_ne!(fingerprint(&other), fingerprint(&second));
    }

    #[test]
    fn records_come_back_as_they_were_saved() {
        let dir = tempfile::tempdir().unwrap();
        let records = vec![
            record("Đời sống/a\tb.txt", false),
            record("Đời sống/c.md", true),
            record("x.txt", false),
            Record {
                page: PageSlug::OfFileName,
                ..record("y.txt", false)
            },
        ];
        save(dir.path(), &config(), records.clone().into_iter()).unwrap();
        assert_eq!(
            load(dir.path(), &config()).map(|loaded| loaded.collect()),
            Ok(records)
        );
    }

    #[test]
    fn a_missing_stale_or_damaged_cache_is_not_used() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(load(dir.path(), &config()).err(), Some(Unusable::Missing));
        save(
            dir.path(),
            &config(),
            vec![record("a.txt", false)].into_iter(),
        )
        .unwrap();
        let other = Config::parse(
            Path::new("/srv/config/feedd.toml"),
            "[site]\ntitle = \"Tin\"\nbase_url = \"https://other.example\"\n",
        )
        .unwrap();
        assert_eq!(load(dir.path(), &other).err(), Some(Unusable::Stale));
        let path = dir.path().join(CACHE_FILE);
        let whole = std::fs::read(&path).unwrap();
        for cut in [1, whole.len() / 2, whole.len() - 2] {
            std::fs::write(&path, &whole[..cut]).unwrap();
            assert!(
                matches!(load(dir.path(), &config()), Err(Unusable::Damaged(_))),
                "cut at {cut}"
            );
        }
        let mut edited = whole.clone();
        let at = edited.iter().position(|&b| b == b'\n').unwrap() + 1;
        edited[at] = b'X';
        std::fs::write(&path, &edited).unwrap();
        assert!(matches!(
            load(dir.path(), &config()),
            Err(Unusable::Damaged(_))
        ));
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400)) {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(CACHE_FILE), &bytes).unwrap();
            let _ = load(dir.path(), &config());
        }

        #[test]
        fn any_record_line_parses_or_is_refused_without_panic(line in "\\PC{0,200}") {
            let _ = parse_record(&line);
        }
    }
}
