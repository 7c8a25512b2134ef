//! Faults around a running `feedd serve`, with the real binary: a second
//! process on the same state, an output folder that cannot be written, a
//! flood of files, `kill -9` mid-rebuild, a damaged state journal, a config
//! broken during reload. After each: the daemon still runs (or restarts
//! cleanly), the last good feeds stay served, and what is served equals a
//! fresh `feedd build` of the same tree.

mod common;

use common::{SERVE_CONFIG, Site, assert_served_equals_fresh_build};

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
    for (url, bytes) in feeds {
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
