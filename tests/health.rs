//! `/healthz` and `/metrics` of the real `feedd serve`: health goes from 503
//! (startup scan not finished) to 200, to 503 while a feed cannot be
//! written and back to 200 once the retry succeeds; the metrics parse as
//! Prometheus text (our own strict parser, and the Prometheus project's
//! Python parser where installed) and their counters move with requests,
//! edits and rebuilds. Neither is cached nor written to the output folder.

mod common;

use std::collections::BTreeMap;
use std::process::Command;

use common::{SERVE_CONFIG, Serve, Site, reader_available};

fn article(title: &str) -> String {
    format!("{title}\n\nĐoạn mở đầu của {title}.\n\nTin: Thu Hà\n")
}

/// A parsed exposition: every sample by `name{labels}` as written.
type Samples = BTreeMap<String, f64>;

/// Parses the Prometheus text format 0.0.4 strictly enough to catch what a
/// scraper would reject: metric and label names, quoted label values,
/// numeric values, a `# TYPE` before each family's samples and at most one
/// per family, no sample twice, and histograms whose buckets are cumulative
/// and end in `+Inf` equal to `_count`.
fn parse_prometheus(text: &str) -> Result<Samples, String> {
    fn is_name(name: &str) -> bool {
        let mut chars = name.chars();
        chars
            .next()
            .is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == ':')
            && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':')
    }
    if !text.ends_with('\n') {
        return Err("the text does not end with a newline".into());
    }
    let mut types: BTreeMap<String, String> = BTreeMap::new();
    let mut samples = Samples::new();
    let mut buckets: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (number, line) in text.lines().enumerate() {
        let at = |why: &str| format!("line {}: {why}: {line:?}", number + 1);
        if let Some(comment) = line.strip_prefix('#') {
            let mut words = comment.trim_start().splitn(3, ' ');
            match (words.next(), words.next(), words.next()) {
                (Some("TYPE"), Some(name), Some(kind)) => {
                    if !is_name(name)
                        || !["counter", "gauge", "histogram", "summary", "untyped"].contains(&kind)
                    {
                        return Err(at("bad TYPE"));
                    }
                    if types.insert(name.into(), kind.into()).is_some() {
                        return Err(at("a second TYPE"));
                    }
                }
                (Some("HELP"), Some(name), _) if is_name(name) => {}
                (Some("HELP"), _, _) => return Err(at("bad HELP")),
                _ => {}
            }
            continue;
        }
        if line.is_empty() {
            continue;
        }
        let (series, value) = line.rsplit_once(' ').ok_or_else(|| at("no value"))?;
        let value: f64 = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            "NaN" => f64::NAN,
            v => v.parse().map_err(|_| at("value is not a number"))?,
        };
        let (name, labels) = match series.split_once('{') {
            None => (series, None),
            Some((name, rest)) => (
                name,
                Some(
                    rest.strip_suffix('}')
                        .ok_or_else(|| at("unclosed labels"))?,
                ),
            ),
        };
        if !is_name(name) {
            return Err(at("bad metric name"));
        }
        let mut le = None;
        if let Some(mut rest) = labels {
            while !rest.is_empty() {
                let (label, after) = rest.split_once("=\"").ok_or_else(|| at("bad label"))?;
                if !is_name(label) || label.contains(':') {
                    return Err(at("bad label name"));
                }
                let mut end = None;
                let mut escaped = false;
                for (i, c) in after.char_indices() {
                    match (escaped, c) {
                        (true, '\\' | '"' | 'n') => escaped = false,
                        (true, _) => return Err(at("bad escape")),
                        (false, '\\') => escaped = true,
                        (false, '"') => {
                            end = Some(i);
                            break;
                        }
                        (false, _) => {}
                    }
                }
                let end = end.ok_or_else(|| at("unclosed label value"))?;
                if label == "le" {
                    le = Some(after[..end].to_string());
                }
                rest = &after[end + 1..];
                rest = rest.strip_prefix(',').unwrap_or(rest);
            }
        }
        let family = ["_bucket", "_sum", "_count"]
            .iter()
            .find_map(|suffix| {
                name.strip_suffix(suffix)
                    .filter(|base| types.get(*base).is_some_and(|t| t == "histogram"))
            })
            .unwrap_or(name);
        if !types.contains_key(family) {
            return Err(at("sample before its TYPE"));
        }
        if name.ends_with("_bucket") && family != name {
            let le = le.ok_or_else(|| at("bucket without le"))?;
            let bound: f64 = if le == "+Inf" {
                f64::INFINITY
            } else {
                le.parse().map_err(|_| at("bad le"))?
            };
            let seen = buckets.entry(family.to_string()).or_default();
            if seen.last().is_some_and(|last| *last > value)
                || !bound.is_finite() && seen.is_empty()
            {
                return Err(at("buckets are not cumulative"));
            }
            seen.push(value);
        }
        if samples.insert(series.to_string(), value).is_some() {
            return Err(at("a sample twice"));
        }
    }
    for (family, counts) in &buckets {
        let inf = samples.get(&format!("{family}_bucket{{le=\"+Inf\"}}"));
        let count = samples.get(&format!("{family}_count"));
        if inf.is_none() || inf != count || counts.last() != inf {
            return Err(format!(
                "{family}: +Inf bucket {inf:?} is not _count {count:?}"
            ));
        }
    }
    Ok(samples)
}

fn metrics(serve: &Serve) -> Samples {
    let response = serve.get("/metrics");
    assert_eq!(response.status, 200);
    assert_eq!(
        response.header("content-type"),
        Some("text/plain; version=0.0.4; charset=utf-8")
    );
    assert_eq!(response.header("cache-control"), Some("no-store"));
    let text = String::from_utf8(response.body).unwrap();
    parse_prometheus(&text).unwrap_or_else(|e| panic!("{e}\n{text}"))
}

fn value(samples: &Samples, series: &str) -> f64 {
    *samples
        .get(series)
        .unwrap_or_else(|| panic!("{series} missing in {samples:#?}"))
}

#[test]
fn the_parser_rejects_what_a_scraper_would() {
    let good = "# HELP a_total A.\n# TYPE a_total counter\na_total{x=\"1\\\"\"} 3\n\
                # TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3.5\nh_count 2\n";
    assert_eq!(parse_prometheus(good).unwrap().len(), 5);
    for bad in [
        "a 1\n",
        "# TYPE a counter\na one\n",
        "# TYPE a counter\na{x=1} 1\n",
        "# TYPE a counter\na{x=\"1} 1\n",
        "# TYPE a counter\n1a 1\n",
        "# TYPE a counter\na 1\na 2\n",
        "# TYPE a counter\n# TYPE a gauge\n",
        "# TYPE a counter\na 1",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_count 3\n",
    ] {
        assert!(parse_prometheus(bad).is_err(), "{bad:?}");
    }
}

#[test]
fn healthz_is_503_until_the_startup_scan_is_done_then_200() {
    let site = Site::new(SERVE_CONFIG);
    // Enough articles that the startup scan takes a while after the
    // listener is up (feedd serves before it scans).
    for n in 0..4000 {
        site.write(
            format!("Mục {}/2026-11-{:02}-bai-{n}.txt", n % 8, n % 28 + 1),
            article(&format!("Tin số {n}")),
        );
    }
    let serve = site.spawn_serve();
    let first = serve.get("/healthz");
    assert_eq!(first.status, 503, "{first:?}");
    assert!(
        String::from_utf8_lossy(&first.body).starts_with("starting"),
        "{first:?}"
    );
    assert_eq!(first.header("cache-control"), Some("no-store"));
    assert_eq!(
        first.header("content-type"),
        Some("text/plain; charset=utf-8")
    );
    serve.wait_until("healthz to answer 200", || {
        serve.get("/healthz").status == 200
    });
    assert!(serve.log_contains("reason=\"startup\""));
    assert_eq!(serve.get("/healthz").body, b"ok\n");
    let samples = metrics(&serve);
    assert_eq!(value(&samples, "feedd_articles"), 4000.0);
    assert_eq!(value(&samples, "feedd_healthy"), 1.0);
    // Neither is a file of the output folder.
    let files = common::files_under(&site.output());
    assert!(
        files
            .keys()
            .all(|f| !f.contains("healthz") && !f.contains("metrics")),
        "{:?}",
        files.keys()
    );
}

#[test]
fn healthz_is_503_while_a_feed_cannot_be_written_and_200_after_the_retry() {
    let site = Site::new(SERVE_CONFIG);
    site.write("Thời sự/2026-11-20-a.txt", article("Tin A"));
    site.write("Kinh tế/2026-11-21-b.txt", article("Tin B"));
    let serve = site.serve();
    serve.wait_until("healthz to answer 200", || {
        serve.get("/healthz").status == 200
    });
    let before = metrics(&serve);

    // A file where a category folder should be: its feeds cannot be written.
    std::fs::remove_dir_all(site.output().join("thoi-su")).unwrap();
    std::fs::write(site.output().join("thoi-su"), "not a folder").unwrap();
    site.write("Thời sự/2026-11-20-a.txt", article("Tin A sửa"));
    serve.wait_until("healthz to answer 503", || {
        serve.get("/healthz").status == 503
    });
    let failing = String::from_utf8(serve.get("/healthz").body).unwrap();
    assert!(
        failing.starts_with("the last rebuild failed: ") && failing.contains("thoi-su"),
        "{failing}"
    );
    assert_eq!(failing.lines().count(), 1, "{failing}");
    let during = metrics(&serve);
    assert_eq!(value(&during, "feedd_healthy"), 0.0);
    assert!(
        value(&during, "feedd_rebuilds_total{result=\"error\"}")
            > value(&before, "feedd_rebuilds_total{result=\"error\"}")
    );
    // The feeds are still served meanwhile.
    assert_eq!(serve.get("/thoi-su/rss.xml").status, 200);

    std::fs::remove_file(site.output().join("thoi-su")).unwrap();
    serve.wait_until("healthz to answer 200 after the retry", || {
        serve.get("/healthz").status == 200
    });
    // The line is logged before health turns, but the thread that collects
    // the log may not have read it yet.
    serve.wait_until("the retry's rebuild line", || {
        serve.log_contains("reason=\"retry\"")
    });
    common::assert_served_equals_fresh_build(&site, &serve);
}

#[test]
fn healthz_is_503_while_an_article_page_cannot_be_written_and_200_after_the_retry() {
    let site = Site::new(SERVE_CONFIG);
    site.write("Thời sự/2026-11-20-a.txt", article("Tin A"));
    let serve = site.serve();
    serve.wait_until("healthz to answer 200", || {
        serve.get("/healthz").status == 200
    });
    let before = metrics(&serve);

    // A folder where the new article's page goes: its rename fails.
    std::fs::create_dir_all(site.output().join("thoi-su/2026-11-21-b.html/x")).unwrap();
    site.write("Thời sự/2026-11-21-b.txt", article("Tin B"));
    serve.wait_until("healthz to answer 503", || {
        serve.get("/healthz").status == 503
    });
    let failing = String::from_utf8(serve.get("/healthz").body).unwrap();
    assert!(failing.contains("pages could not be written"), "{failing}");
    let during = metrics(&serve);
    assert!(
        value(&during, "feedd_rebuilds_total{result=\"error\"}")
            > value(&before, "feedd_rebuilds_total{result=\"error\"}")
    );
    // Logged before health turns, but perhaps not collected yet.
    let line = serve.wait_for_line("the edit's rebuild line", "reason=\"edit\"");
    assert!(line.contains("errors=1"), "{line}");

    std::fs::remove_dir_all(site.output().join("thoi-su/2026-11-21-b.html")).unwrap();
    serve.wait_until("healthz to answer 200 after the retry", || {
        serve.get("/healthz").status == 200
    });
    assert_eq!(serve.get("/thoi-su/2026-11-21-b.html").status, 200);
    common::assert_served_equals_fresh_build(&site, &serve);
}

#[test]
fn metrics_count_requests_rebuilds_and_file_events() {
    let site = Site::new(SERVE_CONFIG);
    site.write("Thời sự/2026-11-20-a.txt", article("Tin A"));
    let bad = site.write("Thời sự/2026-11-21-hong.txt", b"\xff\xfe not utf-8\n");
    let serve = site.serve();
    let before = metrics(&serve);
    assert!(
        value(&before, "feedd_articles_rejected_total") >= 1.0,
        "{before:#?}"
    );

    let feed = serve.get("/rss.xml");
    assert_eq!(feed.status, 200);
    let etag = feed.header("etag").unwrap().to_string();
    assert_eq!(
        serve
            .request("/rss.xml", &[("If-None-Match", &etag)])
            .status,
        304
    );
    assert_eq!(serve.get("/thoi-su/atom.xml").status, 200);
    assert_eq!(serve.get("/no/such.xml").status, 404);
    // Health turns once the startup scan has returned, just after the
    // line that `serve()` waits for.
    serve.wait_until("healthz to answer 200", || {
        serve.get("/healthz").status == 200
    });
    site.write("Thời sự/2026-11-20-a.txt", article("Tin A sửa"));
    std::fs::remove_file(bad).unwrap();
    serve.wait_until("the edit to be served", || {
        String::from_utf8_lossy(&serve.get("/thoi-su/rss.xml").body).contains("Tin A sửa")
    });
    // The edit is served before its files are written; the rebuild is
    // counted once they are.
    let mut after = Samples::new();
    serve.wait_until("the rebuild to be counted", || {
        after = metrics(&serve);
        value(&after, "feedd_rebuilds_total{result=\"ok\"}")
            > value(&before, "feedd_rebuilds_total{result=\"ok\"}")
    });

    let delta = |series: &str| value(&after, series) - value(&before, series);
    assert_eq!(
        delta("feedd_http_requests_total{route=\"rss\",status=\"304\"}"),
        1.0
    );
    assert_eq!(delta("feedd_http_not_modified_total"), 1.0);
    assert_eq!(
        delta("feedd_http_requests_total{route=\"atom\",status=\"200\"}"),
        1.0
    );
    assert_eq!(
        delta("feedd_http_requests_total{route=\"other\",status=\"404\"}"),
        1.0
    );
    assert_eq!(
        delta("feedd_http_requests_total{route=\"healthz\",status=\"200\"}"),
        1.0
    );
    // The scrapes before the last one.
    assert!(delta("feedd_http_requests_total{route=\"metrics\",status=\"200\"}") >= 1.0);
    // /rss.xml once, and /thoi-su/rss.xml polled until the edit showed.
    assert!(delta("feedd_http_requests_total{route=\"rss\",status=\"200\"}") >= 2.0);
    assert!(delta("feedd_http_response_body_bytes_total") >= feed.body.len() as f64);
    assert!(delta("feedd_rebuild_duration_seconds_count") >= 1.0);
    assert!(delta("feedd_watch_batches_total") >= 1.0);
    assert!(delta("feedd_watch_paths_total") >= 2.0);
    assert!(delta("feedd_articles_read_total") >= 1.0);
    assert_eq!(value(&after, "feedd_articles"), 1.0);
    assert_eq!(value(&after, "feedd_rescans_total"), 0.0);
    assert_eq!(
        value(&after, "feedd_websub_pings_total{outcome=\"ok\"}"),
        0.0
    );

    // HEAD: the length, no body, and not cached either.
    let head = common::http_request(&serve.address, "HEAD", "/metrics");
    assert_eq!(head.status, 200);
    assert!(head.body.is_empty());
    assert!(head.header("content-length").is_some_and(|n| n != "0"));
    assert_eq!(
        common::http_request(&serve.address, "POST", "/healthz").status,
        405
    );

    // The Prometheus project's own parser, where installed.
    if reader_available(
        "prometheus_client",
        Command::new(common::SYSTEM_PYTHON).args(["-c", "import prometheus_client"]),
    ) {
        let text = String::from_utf8(serve.get("/metrics").body).unwrap();
        let script = "import sys\nfrom prometheus_client.parser import text_string_to_metric_families\n\
                      for f in text_string_to_metric_families(sys.stdin.read()):\n    \
                      print(f.name, f.type, len(f.samples))\n";
        let mut child = Command::new(common::SYSTEM_PYTHON)
            .args(["-c", script])
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        use std::io::Write;
        child
            .stdin
            .take()
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        let out = child.wait_with_output().unwrap();
        let report = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success(),
            "{}\n{text}",
            String::from_utf8_lossy(&out.stderr)
        );
        for family in [
            "feedd_http_requests counter",
            "feedd_rebuild_duration_seconds histogram",
            "feedd_healthy gauge",
        ] {
            assert!(report.contains(family), "{family}: {report}");
        }
    }
}
