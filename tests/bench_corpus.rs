//! The benchmark corpus generator (`benches/support/corpus.rs`) is
//! deterministic and feedd accepts every article it writes; and
//! `scripts/bench.py`'s parsing of serve_compare.sh's table and its
//! statistics pass their self-test. No timing is asserted.

use std::path::Path;
use std::sync::Arc;

#[path = "../benches/support/corpus.rs"]
mod corpus;

use corpus::Corpus;

/// Every file under `dir`: (relative path, bytes, modification time).
fn tree(dir: &Path) -> Vec<(String, Vec<u8>, std::time::SystemTime)> {
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                folders.push(path);
            } else {
                let relative = path
                    .strip_prefix(dir)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                let modified = std::fs::metadata(&path).unwrap().modified().unwrap();
                files.push((relative, std::fs::read(&path).unwrap(), modified));
            }
        }
    }
    files.sort();
    files
}

#[test]
fn the_same_seed_writes_the_same_files_and_another_seed_other_ones() {
    let (first, second, other) = (
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
        tempfile::tempdir().unwrap(),
    );
    let corpus = Corpus::new(240, 7);
    let summary = corpus.write(first.path()).unwrap();
    corpus.write(second.path()).unwrap();
    Corpus { seed: 1, ..corpus }.write(other.path()).unwrap();

    let written = tree(first.path());
    assert_eq!(written.len(), 240);
    assert_eq!(summary.files, 240);
    assert_eq!(
        summary.bytes,
        written
            .iter()
            .map(|(_, bytes, _)| bytes.len() as u64)
            .sum::<u64>()
    );
    // Only the files dated by their modification time keep a fixed one;
    // the rest are as new as their writing.
    let contents =
        |files: Vec<(String, Vec<u8>, std::time::SystemTime)>| -> Vec<(String, Vec<u8>)> {
            files
                .into_iter()
                .map(|(path, bytes, _)| (path, bytes))
                .collect()
        };
    let dated_by_mtime = |files: &[(String, Vec<u8>, std::time::SystemTime)]| -> Vec<(String, std::time::SystemTime)> {
        files
            .iter()
            .filter(|(path, _, _)| !path.contains("-tin-") && !path.ends_with(".md"))
            .map(|(path, _, modified)| (path.clone(), *modified))
            .collect()
    };
    let again = tree(second.path());
    assert!(!dated_by_mtime(&written).is_empty());
    assert_eq!(dated_by_mtime(&written), dated_by_mtime(&again));
    assert_eq!(contents(written.clone()), contents(again));
    assert_ne!(contents(written.clone()), contents(tree(other.path())));
    // One article alone is the same as in the whole corpus.
    let newest = corpus.newest().unwrap();
    let on_disk = written
        .iter()
        .find(|(path, _, _)| Path::new(path) == newest.path)
        .expect("the newest article is on disk");
    assert_eq!(on_disk.1, newest.text.as_bytes());
}

#[test]
fn feedd_builds_every_generated_article_in_both_formats() {
    let site = tempfile::tempdir().unwrap();
    let corpus = Corpus::new(300, 12);
    corpus.write(&site.path().join("articles")).unwrap();
    std::fs::create_dir(site.path().join("config")).unwrap();
    let config_path = site.path().join("config/feedd.toml");
    std::fs::write(&config_path, Corpus::config_toml("127.0.0.1:0")).unwrap();
    let config = Arc::new(feedd::config::Config::load(&config_path).unwrap());

    let report = feedd::pipeline::build(config).unwrap();
    assert!(
        !report.has_errors(),
        "{:?}",
        report.rejected.first().map(ToString::to_string)
    );
    assert_eq!(report.articles, 300);
    // Every category feed and the site feed, in RSS, Atom and JSON Feed,
    // and the list of them all.
    assert_eq!(report.feeds, (12 + 1) * 3 + 1);
    let names = corpus.category_names();
    let extensions: Vec<_> = tree(&site.path().join("articles"))
        .iter()
        .map(|(path, _, _)| {
            Path::new(path)
                .extension()
                .unwrap()
                .to_string_lossy()
                .into_owned()
        })
        .collect();
    assert!(extensions.iter().any(|e| e == "txt") && extensions.iter().any(|e| e == "md"));

    // The newest article heads its category's feed, as scripts/bench.py
    // and benches/build.rs rely on.
    let newest = corpus.newest().unwrap();
    let category = newest
        .path
        .iter()
        .next()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert!(names.contains(&category));
    let feed = std::fs::read(
        site.path()
            .join("feeds")
            .join(feedd::slug::slugify(&category))
            .join("rss.xml"),
    )
    .unwrap();
    let feed = feed_rs::parser::parse(&feed[..]).unwrap();
    let title = newest
        .text
        .lines()
        .find_map(|line| line.strip_prefix("title = \""))
        .map(|rest| rest.trim_end_matches('"').to_string())
        .unwrap_or_else(|| newest.text.lines().next().unwrap().to_string());
    assert_eq!(feed.entries[0].title.as_ref().unwrap().content, title);
}

#[test]
fn bench_script_self_test_passes() {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/bench.py");
    let output = match std::process::Command::new("python3")
        .arg(&script)
        .arg("--self-test")
        .output()
    {
        Ok(output) => output,
        // No Python here: nothing to run the script with either.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return,
        Err(error) => panic!("cannot run python3: {error}"),
    };
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}
