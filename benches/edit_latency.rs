//! Edit -> visible latency of `feedd serve` (issue 3): the real release
//! binary on a generated corpus, one article edited 100 times, each time
//! polling the category feed over HTTP until its ETag changes. Run at two
//! corpus sizes in one process, so the ratio shows whether an edit's cost
//! grows with the corpus. Prints figures; asserts nothing.
//!
//!     cargo bench --bench edit_latency

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const EDITS: usize = 100;
const DEBOUNCE_MS: u64 = 100;

fn main() {
    let mut results = Vec::new();
    for size in [1_000, 10_000] {
        results.push((size, measure(size)));
    }
    println!("\nedit -> new ETag over HTTP, {EDITS} edits, debounce_ms = {DEBOUNCE_MS}");
    println!(
        "{:>8} {:>9} {:>9} {:>9} {:>9}",
        "articles", "p50 ms", "p95 ms", "p99 ms", "max ms"
    );
    for (size, latencies) in &results {
        println!(
            "{size:>8} {:>9.1} {:>9.1} {:>9.1} {:>9.1}",
            percentile(latencies, 0.50),
            percentile(latencies, 0.95),
            percentile(latencies, 0.99),
            percentile(latencies, 1.0)
        );
    }
    let small = percentile(&results[0].1, 0.5) - DEBOUNCE_MS as f64;
    let large = percentile(&results[1].1, 0.5) - DEBOUNCE_MS as f64;
    println!(
        "p50 beyond the debounce: {small:.1} ms at {} articles, {large:.1} ms at {} (ratio {:.2})",
        results[0].0,
        results[1].0,
        large / small
    );
}

fn percentile(sorted_ms: &[f64], p: f64) -> f64 {
    let index = ((sorted_ms.len() as f64 - 1.0) * p).round() as usize;
    sorted_ms[index]
}

fn measure(size: usize) -> Vec<f64> {
    let root = tempfile::tempdir().unwrap();
    let articles = root.path().join("articles");
    let categories = generate_corpus(&articles, size);
    let edited = articles.join(&categories[0]).join("edited.txt");
    std::fs::write(&edited, edited_text("Bài được sửa 0", 0)).unwrap();
    std::fs::write(
        root.path().join("feedd.toml"),
        format!(
            "[site]\ntitle = \"Bench\"\nbase_url = \"https://news.example.vn\"\ntimezone = \"Asia/Ho_Chi_Minh\"\n\
             [server]\nlisten = \"127.0.0.1:0\"\n[watch]\ndebounce_ms = {DEBOUNCE_MS}\n"
        ),
    )
    .unwrap();

    let started = Instant::now();
    let (mut child, address) = start(&root.path().join("feedd.toml"));
    eprintln!(
        "{size} articles: serving after {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let feed = format!("/{}/rss.xml", slug(&categories[0]));
    let mut connection = TcpStream::connect(&address).unwrap();
    connection.set_nodelay(true).unwrap();
    let mut etag = get_etag(&mut connection, &feed);

    let mut latencies = Vec::with_capacity(EDITS);
    for i in 1..=EDITS {
        std::fs::write(&edited, edited_text(&format!("Bài được sửa {i}"), i)).unwrap();
        let written = Instant::now();
        let deadline = written + Duration::from_secs(10);
        loop {
            let now_etag = get_etag(&mut connection, &feed);
            if now_etag != etag {
                etag = now_etag;
                break;
            }
            assert!(Instant::now() < deadline, "edit {i} never became visible");
            std::thread::sleep(Duration::from_millis(1));
        }
        latencies.push(written.elapsed().as_secs_f64() * 1000.0);
        // Let the watcher go quiet, so each edit is measured on its own.
        std::thread::sleep(Duration::from_millis(DEBOUNCE_MS / 2));
    }
    let _ = child.kill();
    let _ = child.wait();
    latencies.sort_by(f64::total_cmp);
    latencies
}

/// `size` articles in 20 category folders: plain text and Markdown, dated
/// over the past months, so every category feed is full.
fn generate_corpus(articles: &Path, size: usize) -> Vec<String> {
    let categories: Vec<String> = (0..20).map(|c| format!("Chuyên mục {c}")).collect();
    for i in 0..size {
        let folder = articles.join(&categories[i % categories.len()]);
        std::fs::create_dir_all(&folder).unwrap();
        let day = 1 + (i % 28);
        let month = 1 + (i / 28) % 10;
        if i % 3 == 0 {
            let text = format!(
                "+++\ntitle = \"Bài Markdown {i}\"\ndate = \"2026-{month:02}-{day:02} 08:{:02}\"\nauthor = \"Phóng viên {}\"\n+++\n\n{}",
                i % 60,
                i % 17,
                paragraphs(i)
            );
            std::fs::write(folder.join(format!("bai-{i}.md")), text).unwrap();
        } else {
            std::fs::write(
                folder.join(format!("2026-{month:02}-{day:02}-tin-{i}.txt")),
                article_text(&format!("Tin số {i}"), i),
            )
            .unwrap();
        }
    }
    categories
}

fn paragraphs(seed: usize) -> String {
    (0..5)
        .map(|p| {
            format!(
                "Đoạn {p} của bài {seed}: huyện Mường Nhé đã tăng cường công tác xây dựng Đảng ở cơ sở, \
                 góp phần đảm bảo an ninh chính trị, trật tự an toàn xã hội, tạo điều kiện cho nhân dân yên tâm \
                 lao động sản xuất. Kinh tế xã hội của huyện đã có những bước phát triển đáng kể.\n\n"
            )
        })
        .collect()
}

/// An article in the seed's format: title, paragraphs, byline, trailer.
fn article_text(title: &str, seed: usize) -> String {
    format!(
        "{title}\n\n{}Bài và ảnh: Minh Phúc\n\nChia sẻ:\n",
        paragraphs(seed)
    )
}

/// The edited article, dated after every generated one so that it heads its feeds.
fn edited_text(title: &str, seed: usize) -> String {
    format!(
        "+++\ndate = \"2026-11-27 10:00\"\n+++\n{}",
        article_text(title, seed)
    )
}

fn slug(category: &str) -> String {
    feedd::slug::slugify(category)
}

fn start(config: &Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_feedd"))
        .args(["serve", "--config"])
        .arg(config)
        .env("RUST_LOG", "feedd=debug")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut address = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if let Some(rest) = line.split("listening on http://").nth(1) {
            address = Some(
                rest.trim_end_matches('/')
                    .split('/')
                    .next()
                    .unwrap()
                    .to_string(),
            );
        }
        if line.contains("reason=\"startup\"") {
            eprintln!("{line}");
            break;
        }
    }
    // Keep draining the log so the daemon never blocks on a full pipe;
    // FEEDD_BENCH_LOG=1 shows it.
    let show = std::env::var_os("FEEDD_BENCH_LOG").is_some();
    std::thread::spawn(move || {
        for line in lines.map_while(Result::ok) {
            if show {
                eprintln!("{line}");
            }
        }
    });
    (child, address.expect("feedd logs its address"))
}

/// One keep-alive GET; returns the ETag.
fn get_etag(connection: &mut TcpStream, path: &str) -> String {
    write!(connection, "GET {path} HTTP/1.1\r\nHost: bench\r\n\r\n").unwrap();
    let mut reader = BufReader::new(&mut *connection);
    let mut etag = String::new();
    let mut length = 0usize;
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let lower = line.to_ascii_lowercase();
        if let Some(value) = lower.strip_prefix("etag:") {
            etag = value.trim().to_string();
        } else if let Some(value) = lower.strip_prefix("content-length:") {
            length = value.trim().parse().unwrap();
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).unwrap();
    etag
}
