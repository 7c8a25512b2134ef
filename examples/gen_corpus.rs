//! Writes a generated benchmark corpus (see `benches/support/corpus.rs`):
//!
//!     cargo run --release --example gen_corpus -- --articles 100000 --categories 50 DIR
//!
//! gives `DIR/articles/` and `DIR/config/feedd.toml` (output `DIR/feeds/`,
//! state `DIR/.feedd-state/`), so that `feedd build --config
//! DIR/config/feedd.toml` builds it. The same options give the same bytes.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, bail};
use clap::Parser;

#[path = "../benches/support/corpus.rs"]
mod corpus;

use corpus::Corpus;

/// Writes a deterministic corpus of generated news articles.
#[derive(Parser)]
struct Args {
    /// How many articles.
    #[arg(long, default_value_t = 10_000)]
    articles: usize,
    /// How many category folders.
    #[arg(long, default_value_t = 50)]
    categories: usize,
    /// Another seed gives another corpus of the same shape.
    #[arg(long, default_value_t = corpus::DEFAULT_SEED)]
    seed: u64,
    /// `server.listen` in the written config.
    #[arg(long, default_value = "127.0.0.1:18200")]
    listen: String,
    /// Delete DIR's articles/, feeds/ and .feedd-state/ first (otherwise an
    /// existing articles/ folder is an error).
    #[arg(long)]
    replace: bool,
    /// Where to write articles/ and config/.
    dir: PathBuf,
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("gen_corpus: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> anyhow::Result<()> {
    let articles = args.dir.join("articles");
    if args.replace {
        for folder in [
            &articles,
            &args.dir.join("feeds"),
            &args.dir.join(".feedd-state"),
        ] {
            match std::fs::remove_dir_all(folder) {
                Err(error) if error.kind() != std::io::ErrorKind::NotFound => {
                    return Err(error)
                        .with_context(|| format!("cannot delete {}", folder.display()));
                }
                _ => {}
            }
        }
    } else if articles.exists() {
        bail!(
            "{} exists: pass --replace to delete it (and feeds/, .feedd-state/) first",
            articles.display()
        );
    }
    let corpus = Corpus {
        articles: args.articles,
        categories: args.categories.max(1),
        seed: args.seed,
    };
    let started = Instant::now();
    let summary = corpus
        .write(&articles)
        .with_context(|| format!("cannot write the corpus under {}", articles.display()))?;
    let config = args.dir.join("config");
    std::fs::create_dir_all(&config)
        .with_context(|| format!("cannot create {}", config.display()))?;
    let config = config.join("feedd.toml");
    std::fs::write(&config, Corpus::config_toml(&args.listen))
        .with_context(|| format!("cannot write {}", config.display()))?;
    println!(
        "wrote {} articles ({:.1} MB, {:.1} KB on average, {:.1}-{:.1} KB) in {} categories under {} in {:.2} s",
        summary.files,
        summary.bytes as f64 / 1e6,
        summary.bytes as f64 / summary.files.max(1) as f64 / 1e3,
        summary.smallest as f64 / 1e3,
        summary.largest as f64 / 1e3,
        corpus.categories,
        articles.display(),
        started.elapsed().as_secs_f64()
    );
    println!("config: {}", config.display());
    // What scripts/bench.py reads: category folders and their feeds.
    for (index, name) in corpus.category_names().iter().enumerate().take(2) {
        println!(
            "category {index}: folder={name} feed=/{}/rss.xml",
            feedd::slug::slugify(name)
        );
    }
    Ok(())
}
