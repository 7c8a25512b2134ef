//! Faults around a running `feedd serve`, with the real binary: a second
//! process on the same state, an output folder that cannot be written, a
//! flood of files, `kill -9` mid-rebuild, a damaged state journal, a config
//! broken during reload. After each: the daemon still runs (or restarts
//! cleanly), the last good feeds stay served, and what is served equals a
//! fresh `feedd build` of the same tree.

mod common;

use common::{
    SERVE_CONFIG, Site, assert_same_feeds, assert_served_equals_fresh_build, feeds_on_disk,
};

fn article(title: &str) -> String {
    format!("{title}\n\nĐoạn mở đầu của {title}.\n\nTin: Thu Hà\n")
}

fn served_site() -> Site {
    let site = Site::new(SERVE_CONFIG);
    site.write("Thời sự/2026-11-20-a.txt", article("Tin A"));
    site.write("Kinh tế/2026-11-21-b.txt", article("Tin B"));
    site
}

#[test]
fn a_second_process_on_the_same_state_is_refused_with_a_clear_error() {
    let site = served_site();
    let serve = site.serve();
    let state = site.state().display().to_string();
    let expected = format!("{state}: the state folder is in use by another feedd process");

    let build = site.run("build");
    assert_eq!(build.code, Some(1), "{build}");
    assert!(build.stderr.contains(&expected), "{build}");

    let second = site.run("serve");
    assert_eq!(second.code, Some(1), "{second}");
    assert!(second.stderr.contains(&expected), "{second}");

    // The first is undisturbed, and once it stops the state is free again.
    assert_served_equals_fresh_build(&site, &serve);
    assert_eq!(serve.terminate(), Some(0));
    site.build();
}

/// The published date of every item, by feed and item id.
fn dates(feeds: &std::collections::BTreeMap<String, Vec<u8>>) -> Vec<(String, String, String)> {
    let mut dates = Vec::new();
    for (url, bytes) in feeds.iter().filter(|(url, _)| common::is_feed(url)) {
        for entry in common::parse_feed(url, bytes).entries {
            let published = entry.published.map(|d| d.to_rfc3339()).unwrap_or_default();
            dates.push((url.clone(), entry.id, published));
        }
    }
    dates
}

#[test]
fn a_damaged_state_journal_is_recovered_with_a_warning_and_no_date_moves() {
    let site = Site::new(SERVE_CONFIG);
    // No date in the name or the text: dated by when feedd first saw them,
    // which is what the journal remembers.
    let first = common::time("2026-11-01T08:00:00Z");
    site.write_at("Thời sự/a.txt", article("Tin A"), first);
    site.write_at("Thời sự/b.txt", article("Tin B"), first);
    site.write_at("Kinh tế/c.txt", article("Tin C"), first);
    site.build();
    // An edit moves the file's mtime but must not move the article.
    site.write_at(
        "Thời sự/a.txt",
        article("Tin A, sửa"),
        common::time("2026-11-02T08:00:00Z"),
    );
    site.build();
    let before = dates(&site.files());
    let journal = site.state().join("articles.journal");
    let good = std::fs::read(&journal).unwrap();

    let damages: Vec<(&str, Vec<u8>)> = vec![
        (
            "binary garbage",
            [&good[..], b"\x00\xff\xfe garbage \x80\n"].concat(),
        ),
        ("a torn last line", [&good[..], b"1762000000\t17"].concat()),
        (
            "a huge line",
            [&good[..], &vec![b'7'; 200_000], b"\n"].concat(),
        ),
        (
            "a future date",
            [
                &good[..],
                format!("1\t99999999999\t{}\tThời sự/a.txt\n", "0".repeat(32)).as_bytes(),
            ]
            .concat(),
        ),
        (
            "garbage first",
            [b"not a record\n".as_slice(), &good[..]].concat(),
        ),
    ];
    for (what, damaged) in damages {
        std::fs::write(&journal, &damaged).unwrap();
        let run = site.run("build");
        assert_eq!(run.code, Some(0), "{what}: {run}");
        assert!(
            run.stderr.starts_with(&format!(
                "warning: {}: 1 damaged lines skipped",
                journal.display()
            )),
            "{what}: {run}"
        );
        assert_eq!(dates(&site.files()), before, "{what}: a date moved");
        // Repaired: the next run is silent.
        site.build();

        std::fs::write(&journal, &damaged).unwrap();
        let serve = site.serve();
        assert!(serve.log_contains("1 damaged lines skipped"), "{what}");
        assert_eq!(
            dates(&site.files()),
            before,
            "{what}: a date moved in serve"
        );
        drop(serve);
    }

    // Truncated at an arbitrary byte, with a record lost: an article that was
    // never edited is dated by its file's mtime, which is the same date.
    std::fs::write(&journal, &good[..good.len() / 2]).unwrap();
    let run = site.run("build");
    assert_eq!(run.code, Some(0), "{run}");
    let after = dates(&site.files());
    let unedited: Vec<_> = before.iter().filter(|(_, _, d)| !d.is_empty()).collect();
    assert!(!unedited.is_empty());
    for record in &after {
        assert!(
            before.contains(record) || record.2.starts_with("2026-11-02"),
            "{record:?} moved"
        );
    }
}

/// The modification time of every feed file (not temporary files, which
/// come and go), by URL path.
fn feed_mtimes(site: &Site) -> std::collections::BTreeMap<String, std::time::SystemTime> {
    site.file_paths()
        .into_iter()
        .filter(|url| url.ends_with("rss.xml") || url.ends_with("atom.xml"))
        .filter_map(|url| {
            let path = site.output().join(url.trim_start_matches('/'));
            let mtime = std::fs::metadata(path).and_then(|m| m.modified()).ok()?;
            Some((url, mtime))
        })
        .collect()
}

/// Temporary files feedd writes before renaming (feeds and state journal).
fn temp_files(dir: &std::path::Path) -> Vec<std::path::PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(folder) = stack.pop() {
        for entry in std::fs::read_dir(&folder).into_iter().flatten().flatten() {
            let path = entry.path();
            let name = entry.file_name().to_string_lossy().into_owned();
            if path.is_dir() {
                stack.push(path);
            } else if name.ends_with(".tmp") {
                found.push(path);
            }
        }
    }
    found
}

/// A small tmpfs mounted on a folder, unmounted when dropped: a real full
/// or read-only filesystem under the output folder. Root ignores permission
/// bits, so a read-only or full file system is the honest way to make
/// writes fail; `None` where mounting is not allowed.
struct Tmpfs {
    path: std::path::PathBuf,
}

impl Tmpfs {
    fn mount(path: &std::path::Path, size: &str) -> Option<Tmpfs> {
        std::fs::create_dir_all(path).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(path)
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        mounted.then(|| Tmpfs {
            path: path.to_owned(),
        })
    }

    fn remount(&self, options: &str) {
        let status = std::process::Command::new("mount")
            .args(["-o", &format!("remount,{options}")])
            .arg(&self.path)
            .status()
            .unwrap();
        assert!(status.success(), "remount {options}");
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount")
            .arg("-l")
            .arg(&self.path)
            .status();
    }
}

/// Fills the file system holding `dir` with a hidden file (not a feed, so
/// feedd leaves it alone); returns it.
fn fill(dir: &std::path::Path) -> std::path::PathBuf {
    use std::io::Write;
    let path = dir.join(".filler");
    let mut file = std::fs::File::create(&path).unwrap();
    let chunk = vec![0u8; 64 * 1024];
    while file.write_all(&chunk).is_ok() {}
    let _ = file.flush();
    path
}

/// Edits an article, waits until the daemon logged one more failed write,
/// and checks that it still serves exactly what is on disk (the last good
/// feeds), with the old title.
fn edit_while_unwritable(site: &Site, serve: &common::Serve, file: &str, old: &str, new: &str) {
    let errors = serve.log_count("cannot write feed");
    site.write(file, article(new));
    serve.wait_until("a failed write to be logged", || {
        serve.log_count("cannot write feed") > errors
    });
    let on_disk = feeds_on_disk(site);
    let served = serve.served(on_disk.keys().cloned());
    assert_same_feeds(&served, &on_disk, "served", "on disk");
    let feed = String::from_utf8_lossy(&on_disk[&feed_of(file)]).into_owned();
    assert!(feed.contains(old) && !feed.contains(new), "{feed}");
}

fn feed_of(file: &str) -> String {
    let category = if file.starts_with("Thời sự") {
        "thoi-su"
    } else {
        "kinh-te"
    };
    format!("/{category}/rss.xml")
}

/// Waits until the daemon has retried on its own (no file event) and serves
/// what a fresh build writes.
fn recovers(site: &Site, serve: &mut common::Serve) {
    let retries = serve.log_count("reason=\"retry\"");
    serve.wait_until("a retry", || serve.log_count("reason=\"retry\"") > retries);
    assert_served_equals_fresh_build(site, serve);
    assert!(serve.is_running());
    assert_eq!(temp_files(&site.output()), Vec::<std::path::PathBuf>::new());
}

#[test]
fn an_output_folder_that_cannot_be_written_keeps_the_last_good_feeds_and_recovers() {
    let site = served_site();
    let tmpfs = Tmpfs::mount(&site.output(), "512k");
    let mut serve = site.serve();
    assert_served_equals_fresh_build(&site, &serve);
    let a = "Thời sự/2026-11-20-a.txt";
    let b = "Kinh tế/2026-11-21-b.txt";

    match &tmpfs {
        Some(tmpfs) => {
            // Full.
            let filler = fill(&site.output());
            edit_while_unwritable(&site, &serve, a, "Tin A", "Tin A đầy đĩa");
            std::fs::remove_file(filler).unwrap();
            recovers(&site, &mut serve);

            // Read-only.
            tmpfs.remount("ro");
            edit_while_unwritable(&site, &serve, b, "Tin B", "Tin B chỉ đọc");
            tmpfs.remount("rw");
            recovers(&site, &mut serve);
        }
        None => eprintln!(
            "note: mount is not permitted here, so the full and read-only file system \
             cases are skipped; the category-folder case below still runs"
        ),
    }

    // A file where a category folder should be (ENOTDIR; works anywhere).
    std::fs::remove_dir_all(site.output().join("thoi-su")).unwrap();
    std::fs::write(site.output().join("thoi-su"), "not a folder").unwrap();
    let errors = serve.log_count("cannot");
    site.write(a, article("Tin A không thư mục"));
    serve.wait_until("a failed write to be logged", || {
        serve.log_count("cannot") > errors
    });
    let served = serve.get("/thoi-su/rss.xml");
    assert_eq!(served.status, 200, "the last good feed is still served");
    assert!(!String::from_utf8_lossy(&served.body).contains("không thư mục"));
    std::fs::remove_file(site.output().join("thoi-su")).unwrap();
    recovers(&site, &mut serve);
    drop(serve);
    drop(tmpfs);
}

#[test]
fn fifty_thousand_files_at_once_are_all_served_as_a_fresh_build_would() {
    let site = served_site();
    // The folders exist and are watched first: files created in a new
    // folder make no events of their own (the folder is read whole).
    for folder in 0..20 {
        site.write(format!("Lô {folder:02}/dau.txt"), article("Bài đầu lô"));
    }
    let serve = site.serve();
    serve.wait_for_log("the folders in the catalog", "articles=22");
    // Stopped while the files are created, the daemon cannot drain its
    // inotify queue, which overflows (fs.inotify.max_queued_events, 16384 by
    // default) as it would behind a slow disk: the lost events must lead to a
    // full rescan. The system-wide limit itself is left alone.
    let signal = |name: &str| {
        let status = std::process::Command::new("kill")
            .args([name, &serve.pid().to_string()])
            .status()
            .unwrap();
        assert!(status.success(), "kill {name}");
    };
    signal("-STOP");
    let started = std::time::Instant::now();
    let total = 50_000;
    for i in 0..total {
        site.write(
            format!("Lô {:02}/bai-{i:05}.txt", i % 20),
            format!("Bài số {i}\n\nĐoạn mở đầu số {i}.\n"),
        );
    }
    let written = started.elapsed();
    signal("-CONT");
    let expected = format!("articles={}", total + 22);
    serve.wait_until_within(
        "every article in the catalog",
        std::time::Duration::from_secs(300),
        || serve.log_contains(&expected),
    );
    let overflowed = serve.log_contains("file events were lost");
    eprintln!(
        "50,000 files written in {written:?}; all in the catalog {:?} after the first; \
         event queue overflowed (full rescan): {overflowed}",
        started.elapsed()
    );
    let queue: usize = std::fs::read_to_string("/proc/sys/fs/inotify/max_queued_events")
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(usize::MAX);
    if queue < total {
        assert!(
            overflowed,
            "the inotify queue ({queue} events) must have overflowed"
        );
    }
    assert_served_equals_fresh_build(&site, &serve);
}

#[test]
fn kill_9_in_the_middle_of_a_large_rebuild_then_restart_leaves_no_temp_files() {
    let site = Site::new(SERVE_CONFIG);
    for i in 0..3000 {
        site.write(
            format!("Mục {:03}/bai-{i:04}.txt", i % 300),
            format!("Bài số {i}\n\nĐoạn mở đầu số {i}.\n"),
        );
    }
    // 1: during the first build of 602 feeds.
    let serve = site.spawn_serve();
    serve.wait_until("the first feed file", || !site.file_paths().is_empty());
    let written_at_kill = site.file_paths().len();
    serve.kill();
    // 2: during a rebuild that rewrites every feed (a new site title).
    let serve = site.serve();
    let title_change = std::fs::read_to_string(site.config())
        .unwrap()
        .replace("title = \"Tin tức\"", "title = \"Tin tức mới\"");
    let mtimes = feed_mtimes(&site);
    site.write_config(&title_change);
    serve.wait_until("the first feed rewritten", || feed_mtimes(&site) != mtimes);
    let rewritten = feed_mtimes(&site)
        .iter()
        .filter(|(url, mtime)| mtimes.get(*url) != Some(mtime))
        .count();
    serve.kill();
    eprintln!(
        "killed with {written_at_kill} of 602 feeds written, then with {rewritten} of 602 rewritten"
    );

    let serve = site.serve();
    assert_eq!(temp_files(&site.output()), Vec::<std::path::PathBuf>::new());
    // The new process writes a cache of its own once its startup scan is
    // done: wait for that to end rather than catch its temp file.
    serve.wait_until("no catalog cache temp file in the state folder", || {
        temp_files(&site.state()).is_empty()
    });
    assert_served_equals_fresh_build(&site, &serve);
}

#[test]
fn a_config_broken_during_reload_keeps_the_old_one_until_fixed() {
    let site = served_site();
    let serve = site.serve();
    let good = std::fs::read_to_string(site.config()).unwrap();
    let before = serve.served(site.file_paths());
    let broken: Vec<(&str, Vec<u8>)> = vec![
        (
            "a TOML syntax error",
            format!("{good}\n[site\n").into_bytes(),
        ),
        (
            "an unknown key",
            format!("{good}\n[feeds]\nlimt = 5\n").into_bytes(),
        ),
        ("an empty file", Vec::new()),
        ("binary garbage", b"\x00\xff\xfe\x80garbage".to_vec()),
        (
            "a missing required key",
            good.replace("base_url", "base_ur1").into_bytes(),
        ),
    ];
    for (what, bytes) in broken {
        let refused = serve.log_count("config not reloaded");
        std::fs::write(site.config(), bytes).unwrap();
        serve.wait_until(what, || serve.log_count("config not reloaded") > refused);
        assert_eq!(
            serve.served(site.file_paths()),
            before,
            "{what}: feeds changed"
        );
        assert_eq!(
            common::files_under(&site.output()),
            before,
            "{what}: files changed"
        );
    }
    // Still the old config in force: an edit is published under it.
    site.write("Kinh tế/2026-11-22-c.txt", article("Tin C"));
    serve.wait_until("the edit", || {
        String::from_utf8_lossy(&serve.get("/kinh-te/rss.xml").body).contains("Tin C")
    });
    let fixed = good.replace("title = \"Tin tức\"", "title = \"Tin tức đã sửa\"");
    site.write_config(&fixed);
    serve.wait_until("the fixed config", || {
        String::from_utf8_lossy(&serve.get("/rss.xml").body).contains("Tin tức đã sửa")
    });
    assert_served_equals_fresh_build(&site, &serve);
}
