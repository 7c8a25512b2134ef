//! A generated news archive for benchmarks: `articles` files of 1.7-5 KB
//! (3.2 KB on average, so that a 50-item category feed with full content is
//! about 170 KB) in `categories` category folders, in the seed article's
//! plain-text format (title, paragraphs, image caption, byline, related
//! stories and share trailer) and as Markdown with `+++` front matter, their
//! Vietnamese text composed from the seed's sentences.
//!
//! Every byte, file name and modification time is a function of
//! (`seed`, `articles`, `categories`) alone: each article draws from its own
//! random stream, so articles can be written in parallel and any one of them
//! can be regenerated without the rest. Dates run evenly over the two years
//! before [`NEWEST`], oldest first, so the last article is the newest and
//! heads its category's feed and the site feed.
//!
//! Shared by `examples/gen_corpus.rs` (the command line), `benches/build.rs`
//! and `tests/bench_corpus.rs` through `#[path]`; it knows nothing of feedd's
//! internals, only the article format of SPEC.md.

// Each including target uses a different part of this module.
#![allow(dead_code)]

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

const SEED_ARTICLE: &str = include_str!("../../articles/Chính trị/000_dcc753fbd64ee8d5.txt");

/// The seed's trailer after the byline: share links and site navigation,
/// which feedd drops with the byline.
const TRAILER: &str = "Chia sẻ:\n\ndoanh nghiệp - Sản phẩm - Dịch vụ Thông cáo báo chí Rao vặt\n\nCác đơn vị thông tin của TTXVN";

/// The default seed of [`Corpus`].
pub const DEFAULT_SEED: u64 = 0x5EED_F00D_1234_5678;

/// The newest article's date: 2026-11-29 23:00 at +07:00, in Unix seconds.
/// Fixed rather than "now" so that the bytes never change; before today, so
/// that no article is scheduled for later.
pub const NEWEST: i64 = 1_795_968_000;

const SPAN_SECONDS: i64 = 730 * 86_400;
const VIETNAM_OFFSET_SECONDS: i64 = 7 * 3600;

const CATEGORY_NAMES: [&str; 50] = [
    "Chính trị",
    "Kinh tế",
    "Xã hội",
    "Thế giới",
    "Thể thao",
    "Văn hóa",
    "Giáo dục",
    "Sức khỏe",
    "Pháp luật",
    "Đời sống",
    "Công nghệ",
    "Khoa học",
    "Du lịch",
    "Bất động sản",
    "Ô tô - Xe máy",
    "Giải trí",
    "Môi trường",
    "Nông nghiệp",
    "Quốc phòng",
    "Tài chính",
    "Chứng khoán",
    "Ngân hàng",
    "Doanh nghiệp",
    "Thị trường",
    "Giao thông",
    "Đô thị",
    "Bạn đọc",
    "Ý kiến",
    "Phóng sự",
    "Điều tra",
    "Gia đình",
    "Ẩm thực",
    "Thời trang",
    "Âm nhạc",
    "Điện ảnh",
    "Sân khấu",
    "Văn học",
    "Tôn giáo",
    "Dân tộc",
    "Miền núi",
    "Biển đảo",
    "Đối ngoại",
    "Người Việt bốn phương",
    "Lao động",
    "Việc làm",
    "Tuyển sinh",
    "Du học",
    "Y tế",
    "Thời tiết",
    "Ảnh",
];

const AUTHORS: [&str; 10] = [
    "Minh Phúc",
    "Thu Hà",
    "Ngọc Lan",
    "Văn Hải",
    "Quang Huy",
    "Đức Trung",
    "Lò Thị Hương",
    "Trần Bình",
    "Nguyễn Thị Thanh Thủy",
    "Hoàng Anh",
];

/// What to generate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Corpus {
    pub articles: usize,
    pub categories: usize,
    pub seed: u64,
}

impl Corpus {
    pub fn new(articles: usize, categories: usize) -> Self {
        Corpus {
            articles,
            categories: categories.max(1),
            seed: DEFAULT_SEED,
        }
    }

    /// The category folder names: Vietnamese section names, numbered past
    /// the fiftieth.
    pub fn category_names(&self) -> Vec<String> {
        (0..self.categories).map(category_name).collect()
    }

    /// Article `index`: its path under the articles folder, its bytes, and
    /// the modification time it must have (files whose name and text carry
    /// no date are dated by it).
    pub fn article(&self, index: usize) -> Article {
        let sentences = Sentences::from_seed();
        self.article_with(&sentences, index)
    }

    /// The article with the newest date, which heads its category's feed.
    pub fn newest(&self) -> Option<Article> {
        self.articles
            .checked_sub(1)
            .map(|index| self.article(index))
    }

    /// Writes every article under `articles_dir` (created if missing),
    /// on all CPUs.
    pub fn write(&self, articles_dir: &Path) -> std::io::Result<Summary> {
        let sentences = Sentences::from_seed();
        for category in self.category_names() {
            std::fs::create_dir_all(articles_dir.join(category))?;
        }
        let workers = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(self.articles.max(1));
        let results: Vec<std::io::Result<Summary>> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..workers)
                .map(|worker| {
                    let sentences = &sentences;
                    scope.spawn(move || {
                        let mut summary = Summary::default();
                        for index in (worker..self.articles).step_by(workers) {
                            let article = self.article_with(sentences, index);
                            article.write_under(articles_dir)?;
                            summary.add(article.text.len());
                        }
                        Ok(summary)
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("a corpus writer panicked"))
                .collect()
        });
        let mut total = Summary::default();
        for result in results {
            total.merge(&result?);
        }
        Ok(total)
    }

    /// A `feedd.toml` for a corpus laid out as `articles/`, `config/`,
    /// `feeds/` and `.feedd-state/` under one folder: full content,
    /// 50 items per feed, the default debounce.
    pub fn config_toml(listen: &str) -> String {
        format!(
            "# Written by examples/gen_corpus.rs for a generated benchmark corpus.\n\
             [site]\ntitle = \"Tin tức\"\nbase_url = \"https://news.example.vn\"\n\
             description = \"Tin tức mới nhất\"\nlanguage = \"vi\"\n\
             timezone = \"Asia/Ho_Chi_Minh\"\nauthor = \"Ban biên tập\"\n\n\
             [paths]\narticles = \"../articles\"\noutput = \"../feeds\"\nstate = \"../.feedd-state\"\n\n\
             [server]\nlisten = \"{listen}\"\nmax_age = 300\n\n\
             [feeds]\nlimit = 50\nfull_content = true\n\n\
             [watch]\ndebounce_ms = 100\npoll_interval_ms = 0\n"
        )
    }

    fn article_with(&self, sentences: &Sentences, index: usize) -> Article {
        let mut rng = Rng::for_article(self.seed, index);
        let category = category_name(index % self.categories);
        let published = self.published(index, &mut rng);
        let local = LocalTime::of(published);
        let (date, time) = (local.date(), local.time());
        let folder = if index.is_multiple_of(3) {
            Path::new(&category)
                .join(format!("{:04}", local.year))
                .join(format!("{:02}", local.month))
        } else {
            PathBuf::from(&category)
        };
        let title = sentences.title(&mut rng);
        let author = *rng.pick(&AUTHORS);
        // About 4 KB per file with the plain-text trailer; 50 of them make a
        // category feed of about 170 KB with full content.
        let body_bytes = 1_500 + rng.below(1_400);
        let mut modified = None;
        let (name, text) = match index % 10 {
            // The seed's format, dated by the file name.
            0..=4 => (
                format!("{date}-tin-{index}.txt"),
                plain_text(sentences, &mut rng, &title, author, body_bytes),
            ),
            // The seed's own name and no date: feedd dates it by the file's
            // modification time, which is set to the article's date.
            5 => {
                modified = Some(UNIX_EPOCH + Duration::from_secs(published.max(0) as u64));
                (
                    format!("{:03}_{:016x}.txt", index % 1000, rng.next()),
                    plain_text(sentences, &mut rng, &title, author, body_bytes),
                )
            }
            _ => {
                let mut front = format!(
                    "+++\ntitle = {}\nauthor = {}\ndate = \"{date} {time}\"\n",
                    toml_string(&title),
                    toml_string(author)
                );
                if index % 20 == 7 {
                    let other = category_name((index + 3) % self.categories);
                    front.push_str(&format!(
                        "categories = [{}, {}]\n",
                        toml_string(&category),
                        toml_string(&other)
                    ));
                }
                if index % 4 == 2 {
                    front.push_str(&format!(
                        "summary = {}\n",
                        toml_string(sentences.pick(&mut rng))
                    ));
                }
                front.push_str("+++\n\n");
                (
                    format!("bai-viet-{index}.md"),
                    front + &markdown_body(sentences, &mut rng, author, index, body_bytes),
                )
            }
        };
        Article {
            path: folder.join(name),
            text,
            modified,
        }
    }

    /// Evenly spread over [`SPAN_SECONDS`] before [`NEWEST`], oldest first,
    /// jittered within an article's share of the span.
    fn published(&self, index: usize, rng: &mut Rng) -> i64 {
        let step = SPAN_SECONDS / self.articles.max(1) as i64;
        let back = (self.articles - 1 - index) as i64 * step;
        let jitter = if step > 1 {
            rng.below(step as usize / 2) as i64
        } else {
            0
        };
        NEWEST - back - jitter
    }
}

/// One generated article.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Article {
    /// Relative to the articles folder; its first component is the category.
    pub path: PathBuf,
    pub text: String,
    pub modified: Option<SystemTime>,
}

impl Article {
    /// Writes the article, creating its folder when missing.
    pub fn write_under(&self, articles_dir: &Path) -> std::io::Result<()> {
        let path = articles_dir.join(&self.path);
        let mut file = match std::fs::File::create(&path) {
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
                if let Some(folder) = path.parent() {
                    std::fs::create_dir_all(folder)?;
                }
                std::fs::File::create(&path)?
            }
            other => other?,
        };
        file.write_all(self.text.as_bytes())?;
        if let Some(modified) = self.modified {
            file.set_modified(modified)?;
        }
        Ok(())
    }
}

/// Sizes of what [`Corpus::write`] wrote.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Summary {
    pub files: usize,
    pub bytes: u64,
    pub smallest: usize,
    pub largest: usize,
}

impl Summary {
    fn add(&mut self, size: usize) {
        self.smallest = if self.files == 0 {
            size
        } else {
            self.smallest.min(size)
        };
        self.largest = self.largest.max(size);
        self.files += 1;
        self.bytes += size as u64;
    }

    fn merge(&mut self, other: &Summary) {
        if other.files == 0 {
            return;
        }
        self.smallest = if self.files == 0 {
            other.smallest
        } else {
            self.smallest.min(other.smallest)
        };
        self.largest = self.largest.max(other.largest);
        self.files += other.files;
        self.bytes += other.bytes;
    }
}

fn category_name(index: usize) -> String {
    let name = CATEGORY_NAMES[index % CATEGORY_NAMES.len()];
    match index / CATEGORY_NAMES.len() {
        0 => name.to_string(),
        round => format!("{name} {}", round + 1),
    }
}

/// The seed's body cut into sentences and its short lines (image captions).
struct Sentences {
    sentences: Vec<String>,
    captions: Vec<String>,
}

impl Sentences {
    fn from_seed() -> Self {
        let lines: Vec<&str> = SEED_ARTICLE
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty())
            .skip(1)
            .take_while(|line| !line.starts_with("Bài và ảnh:"))
            .collect();
        let captions = lines
            .iter()
            .filter(|line| line.len() < 200)
            .map(|line| line.to_string())
            .collect();
        let sentences = lines
            .iter()
            .filter(|line| line.len() >= 200)
            .flat_map(|paragraph| paragraph.split_inclusive(". "))
            .map(|sentence| sentence.trim().to_string())
            .filter(|sentence| sentence.len() > 20)
            .collect();
        Sentences {
            sentences,
            captions,
        }
    }

    fn pick(&self, rng: &mut Rng) -> &str {
        rng.pick(&self.sentences).as_str()
    }

    /// The first 5-11 words of a sentence, capitalised, without trailing
    /// punctuation.
    fn title(&self, rng: &mut Rng) -> String {
        let words: Vec<&str> = self
            .pick(rng)
            .split_whitespace()
            .take(5 + rng.below(7))
            .collect();
        let title = words.join(" ");
        let title = title.trim_end_matches([',', '.', ':', ';']);
        let mut chars = title.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => String::new(),
        }
    }

    /// A one-sentence lead (the feed's summary), then paragraphs of 1-4
    /// sentences until `bytes` are reached.
    fn paragraphs(&self, rng: &mut Rng, bytes: usize) -> Vec<String> {
        let mut paragraphs = Vec::new();
        let mut size = 0;
        while size < bytes {
            let count = if paragraphs.is_empty() {
                1
            } else {
                1 + rng.below(4)
            };
            let paragraph = (0..count)
                .map(|_| self.pick(rng))
                .collect::<Vec<_>>()
                .join(" ");
            size += paragraph.len() + 2;
            paragraphs.push(paragraph);
        }
        paragraphs
    }
}

/// The seed's layout: title, paragraphs separated by two or three line
/// breaks, one image caption, the byline, then what a news site's page adds
/// and feedd drops: share links, related stories, site navigation.
fn plain_text(
    sentences: &Sentences,
    rng: &mut Rng,
    title: &str,
    author: &str,
    bytes: usize,
) -> String {
    let paragraphs = sentences.paragraphs(rng, bytes);
    let caption_at = rng.below(paragraphs.len()).max(1);
    let mut text = format!("{title}\n\n");
    for (number, paragraph) in paragraphs.iter().enumerate() {
        if number == caption_at {
            text.push_str(rng.pick(&sentences.captions).as_str());
            text.push_str("\n\n\n");
        }
        text.push_str(paragraph);
        text.push_str(if rng.below(2) == 0 { "\n\n" } else { "\n\n\n" });
    }
    text.push_str(&format!("Bài và ảnh: {author}\n\nTin liên quan:\n\n"));
    for _ in 0..6 + rng.below(7) {
        // Marked, as news sites do; a bare title could start with "Theo "
        // and pass for the byline.
        text.push_str("» ");
        text.push_str(&sentences.title(rng));
        text.push_str("\n\n");
    }
    text.push_str(TRAILER);
    text
}

/// Markdown with the constructs feeds carry: headings, emphasis, lists, links.
fn markdown_body(
    sentences: &Sentences,
    rng: &mut Rng,
    author: &str,
    index: usize,
    bytes: usize,
) -> String {
    let mut body = String::new();
    for (number, paragraph) in sentences.paragraphs(rng, bytes).into_iter().enumerate() {
        match number % 5 {
            1 => body.push_str(&format!("**{author}:** {paragraph}\n\n")),
            2 => body.push_str(&format!(
                "## {}\n\n{paragraph} [Xem thêm](https://news.example.vn/tin/{index}-{number}.html).\n\n",
                sentences.title(rng)
            )),
            3 => {
                let (first, rest) = split_once_sentence(&paragraph);
                body.push_str(&format!("- {first}\n- *{rest}*\n\n"));
            }
            _ => body.push_str(&format!("{paragraph}\n\n")),
        }
    }
    body
}

fn split_once_sentence(paragraph: &str) -> (&str, &str) {
    match paragraph.split_once(". ") {
        Some((first, rest)) => (first, rest),
        None => (paragraph, ""),
    }
}

/// A TOML basic string.
fn toml_string(text: &str) -> String {
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            c if c.is_control() => quoted.push_str(&format!("\\u{:04X}", c as u32)),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

/// A Unix time in Vietnam (+07:00, no daylight saving time).
struct LocalTime {
    year: i64,
    month: i64,
    day: i64,
    hour: i64,
    minute: i64,
}

impl LocalTime {
    fn of(unix: i64) -> Self {
        let local = unix + VIETNAM_OFFSET_SECONDS;
        let (days, seconds) = (local.div_euclid(86_400), local.rem_euclid(86_400));
        let (year, month, day) = civil_from_days(days);
        LocalTime {
            year,
            month,
            day,
            hour: seconds / 3600,
            minute: seconds % 3600 / 60,
        }
    }

    /// `YYYY-MM-DD`
    fn date(&self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// `HH:MM`
    fn time(&self) -> String {
        format!("{:02}:{:02}", self.hour, self.minute)
    }
}

/// Howard Hinnant's `civil_from_days`: days since 1970-01-01 to a
/// proleptic Gregorian date.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// xorshift64*, seeded per article through splitmix64 so that articles are
/// independent streams.
struct Rng(u64);

impl Rng {
    fn for_article(seed: u64, index: usize) -> Self {
        let mut z = seed ^ (index as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15);
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        Rng((z ^ (z >> 31)) | 1)
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        if n == 0 {
            0
        } else {
            (self.next() % n as u64) as usize
        }
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
