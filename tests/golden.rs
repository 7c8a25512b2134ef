//! Output stays byte-identical across refactors and speedups: `feedd build`
//! of the bundled articles, with first-seen dates pinned in the state
//! journal, must write exactly the files under `tests/golden/bundled/` (and,
//! with two items per feed, `tests/golden/bundled-limit-2/`).
//!
//! Those files were written by feedd before issue 7's rework and are only
//! ever re-blessed (`FEEDD_BLESS=1 cargo test --test golden`) for a change
//! that means to alter the output; the diff then shows what changed.

mod common;

use std::path::{Path, PathBuf};

use common::{copy_tree, feedd_in, files_under};

/// 2026-11-30T00:53:20Z: the first-seen and last-changed date of every
/// bundled article that states none, so the output does not depend on today.
const PINNED_SECONDS: i64 = 1_796_000_000;

fn golden_dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(name)
}

/// Rewrites every journal line's first-seen and changed seconds, keeping its
/// content hash and path.
fn pin_journal_dates(journal: &Path) {
    let text = std::fs::read_to_string(journal).expect("read the state journal");
    let mut pinned = String::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.splitn(4, '\t').collect();
        assert_eq!(fields.len(), 4, "unexpected journal line {line:?}");
        pinned.push_str(&format!(
            "{PINNED_SECONDS}\t{PINNED_SECONDS}\t{}\t{}\n",
            fields[2], fields[3]
        ));
    }
    std::fs::write(journal, pinned).expect("write the state journal");
}

#[test]
fn bundled_articles_build_to_the_golden_feeds() {
    build_and_compare("bundled", None);
}

/// With a feed limit below the article count, so that which articles a feed
/// shows (and which bodies are needed) is decided by the limit.
#[test]
fn bundled_articles_with_two_items_per_feed_build_to_the_golden_feeds() {
    build_and_compare("bundled-limit-2", Some(2));
}

fn build_and_compare(golden_name: &str, feed_limit: Option<usize>) {
    let golden_dir = || golden_dir(golden_name);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let site = tempfile::tempdir().expect("temp dir");
    copy_tree(&repo.join("articles"), &site.path().join("articles"));
    copy_tree(&repo.join("config"), &site.path().join("config"));
    let config = site.path().join("config/feedd.toml");
    let config_arg = config.to_str().expect("UTF-8 temp path");
    if let Some(limit) = feed_limit {
        let text = std::fs::read_to_string(&config).expect("read the bundled config");
        let text = text.replace("limit = 50", &format!("limit = {limit}"));
        assert!(
            text.contains(&format!("limit = {limit}")),
            "the bundled config has no `limit = 50`"
        );
        std::fs::write(&config, text).expect("write the config");
    }

    let first = feedd_in(site.path(), ["build", "--config", config_arg]);
    assert_eq!(first.code, Some(0), "first build failed: {first}");
    pin_journal_dates(&site.path().join(".feedd-state/articles.journal"));
    std::fs::remove_dir_all(site.path().join("feeds")).expect("remove the first output");
    let second = feedd_in(site.path(), ["build", "--config", config_arg]);
    assert_eq!(second.code, Some(0), "second build failed: {second}");

    let built = files_under(&site.path().join("feeds"));
    if std::env::var_os("FEEDD_BLESS").is_some() {
        let _ = std::fs::remove_dir_all(golden_dir());
        for (relative, bytes) in &built {
            let path = golden_dir().join(common::file_of_url(relative));
            std::fs::create_dir_all(path.parent().expect("a file has a parent")).expect("mkdir");
            std::fs::write(path, bytes).expect("write a golden file");
        }
        return;
    }
    let golden = files_under(&golden_dir());
    assert!(
        !golden.is_empty(),
        "no golden files under {}",
        golden_dir().display()
    );
    let names = |files: &std::collections::BTreeMap<String, Vec<u8>>| {
        files.keys().cloned().collect::<Vec<_>>()
    };
    assert_eq!(
        names(&built),
        names(&golden),
        "a different set of output files"
    );
    for (relative, bytes) in &built {
        if bytes != &golden[relative] {
            panic!(
                "{relative} differs from tests/golden/{golden_name}{relative}:\n--- built\n{}\n--- golden\n{}",
                String::from_utf8_lossy(bytes),
                String::from_utf8_lossy(&golden[relative])
            );
        }
    }
}
