//! `feedd serve --log-format json`: every line on stderr is one JSON
//! object, and the lines an operator's tools look for carry their facts as
//! fields of their own: a rebuild (`reason`, `articles_read`,
//! `feeds_changed`, `changed`, `duration_ms`...) and a rejected article
//! (`file`, `line`, `column`, `reason`).

mod common;

use serde_json::Value;

use common::{SERVE_CONFIG, Site};

fn events(log: &[String]) -> Vec<Value> {
    log.iter()
        .map(|line| {
            serde_json::from_str::<Value>(line)
                .unwrap_or_else(|e| panic!("not a JSON line ({e}): {line:?}"))
        })
        .collect()
}

fn find(events: &[Value], what: impl Fn(&Value) -> bool) -> Option<&Value> {
    events.iter().find(|event| what(event))
}

#[test]
fn json_logs_carry_the_rebuild_and_rejection_fields() {
    let site = Site::new(SERVE_CONFIG);
    site.write(
        "Thời sự/2026-11-05-bai-dau.txt",
        "Bài đầu tiên\n\nĐoạn một.\n",
    );
    let serve = site.spawn_serve_with(&["--log-format", "json"], &[]);
    serve.wait_for_log("the startup rebuild", "\"reason\":\"startup\"");

    site.write(
        "Thời sự/2026-11-05-bai-dau.txt",
        "Bài đầu tiên, sửa\n\nĐoạn một.\n",
    );
    serve.wait_for_log("the edit's rebuild", "\"reason\":\"edit\"");
    // Line 3 holds a date that does not exist.
    let bad = site.write(
        "Thời sự/sai-ngay.md",
        "+++\ntitle = \"Sai ngày\"\ndate = \"2026-02-30\"\n+++\n\nThân bài.\n",
    );
    serve.wait_for_log("the rejection", "article skipped");
    let log = serve.log();
    assert_eq!(serve.terminate(), Some(0));

    let events = events(&log);
    for event in &events {
        for key in ["timestamp", "level", "target", "message"] {
            assert!(event.get(key).is_some(), "no {key} in {event}");
        }
    }
    let listening = find(&events, |e| {
        e["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("listening on http://127.0.0.1:"))
    })
    .expect("the listening line");
    assert!(listening["output"].is_string(), "{listening}");

    let edit = find(&events, |e| {
        e["message"] == "rebuilt" && e["reason"] == "edit"
    })
    .expect("a rebuild line for the edit");
    assert_eq!(edit["level"], "INFO");
    assert_eq!(edit["articles_read"], 1, "{edit}");
    assert_eq!(edit["articles"], 1, "{edit}");
    assert!(
        edit["feeds_changed"].as_u64().is_some_and(|n| n >= 3),
        "{edit}"
    );
    let changed = edit["changed"].as_str().expect("changed, a string");
    assert!(changed.split(' ').any(|path| path == "/rss.xml"), "{edit}");
    assert!(edit["pages_changed"].is_u64(), "{edit}");
    assert_eq!(edit["errors"], 0, "{edit}");
    assert!(
        edit["duration_ms"].as_f64().is_some_and(|ms| ms >= 0.0),
        "{edit}"
    );

    let rejected = find(&events, |e| {
        e["message"]
            .as_str()
            .is_some_and(|m| m.starts_with("article skipped: "))
    })
    .expect("a line for the rejected article");
    assert_eq!(rejected["level"], "WARN");
    assert_eq!(rejected["file"], bad.display().to_string(), "{rejected}");
    assert_eq!(rejected["line"], 3, "{rejected}");
    assert!(
        rejected["column"].as_u64().is_some_and(|c| c >= 1),
        "{rejected}"
    );
    let reason = rejected["reason"].as_str().expect("reason, a string");
    assert!(reason.contains("2026-02-30"), "{rejected}");
    assert!(
        !reason.contains("sai-ngay.md"),
        "the file is a field of its own: {rejected}"
    );
}

/// Without `--log-format`, lines are for people: no JSON, the same fields
/// as `key=value`.
#[test]
fn human_logs_are_the_default() {
    let site = Site::new(SERVE_CONFIG);
    site.write("Thời sự/bai.txt", "Bài\n\nĐoạn.\n");
    let serve = site.serve();
    let log = serve.log();
    assert!(log.iter().all(|line| !line.starts_with('{')), "{log:?}");
    let rebuilt = log
        .iter()
        .find(|line| line.contains("rebuilt"))
        .expect("a rebuild line");
    for field in [
        "reason=\"startup\"",
        "articles_read=1",
        "feeds_changed=",
        "duration_ms=",
    ] {
        assert!(rebuilt.contains(field), "{field} not in {rebuilt}");
    }
}
