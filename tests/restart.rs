//! Restarts with the catalog cache (`catalog.cache` in the state folder):
//! `build` and `serve` share it, a restart reads only what changed while
//! feedd was down, and whatever state the cache is in, what is served
//! equals a fresh build of the tree.

mod common;

use common::{SERVE_CONFIG, Site, assert_served_equals_fresh_build};

fn site_with_articles() -> Site {
    let site = Site::new(SERVE_CONFIG);
    for i in 0..30 {
        site.write(
            // Dated names: dates are read in the site's zone (Asia/Ho_Chi_Minh).
            format!("Mục {}/2026-11-{:02}-bai-{i:02}.txt", i % 3, i % 28 + 1),
            format!("Bài số {i}\n\nĐoạn mở đầu số {i}.\n\nBài và ảnh: Minh Phúc\n"),
        );
    }
    site
}

#[test]
fn serve_uses_the_cache_that_build_wrote_and_reads_only_what_changed() {
    let site = site_with_articles();
    let built = site.build();
    assert_eq!(built.code, Some(0), "{built}");
    assert!(site.state().join("catalog.cache").is_file());
    // Changed while nothing runs: one edit, one new article, one removal.
    site.write(
        "Mục 0/2026-11-01-bai-00.txt",
        "Bài số 0, sửa\n\nĐoạn mới.\n",
    );
    site.write("Mục 1/bai-moi.txt", "Bài mới\n\nĐoạn.\n");
    site.remove("Mục 2/2026-11-03-bai-02.txt");

    let serve = site.serve();
    assert!(
        serve.log_contains("catalog cache loaded"),
        "serve did not use build's cache: {:?}",
        serve.log()
    );
    assert!(
        serve.log_contains("articles_read=2 "),
        "only the edited and the new file should be read: {:?}",
        serve.log()
    );
    let served = assert_served_equals_fresh_build(&site, &serve);
    assert!(
        served
            .values()
            .any(|bytes| { String::from_utf8_lossy(bytes).contains("Bài số 0, sửa") })
    );
    serve.terminate();
}

#[test]
fn after_a_kill_or_with_a_damaged_cache_the_feeds_still_equal_a_fresh_build() {
    let site = site_with_articles();
    let serve = site.serve();
    // The cache is written just after the startup rebuild is logged.
    serve.wait_until("the startup's catalog cache", || {
        site.state().join("catalog.cache").is_file()
    });
    serve.kill();
    // Edited after the crash: the cache saved at startup is now stale for it.
    site.write(
        "Mục 1/2026-11-02-bai-01.txt",
        "Bài số 1, sau sự cố\n\nĐoạn.\n",
    );
    let serve = site.serve();
    assert!(
        serve.log_contains("catalog cache loaded"),
        "{:?}",
        serve.log()
    );
    assert_served_equals_fresh_build(&site, &serve);
    serve.terminate();

    let cache = site.state().join("catalog.cache");
    // One record's path edited in place: the checksum no longer matches.
    let text = std::fs::read_to_string(&cache).unwrap();
    let damaged = text.replacen("bai-05", "bai-06", 1);
    assert_ne!(damaged, text, "the cache should name bai-05: {text}");
    std::fs::write(&cache, damaged).unwrap();
    let serve = site.serve();
    assert!(
        serve.log_contains("catalog cache not used (damaged"),
        "{:?}",
        serve.log()
    );
    assert_served_equals_fresh_build(&site, &serve);
    serve.terminate();
}
