//! Issue 9: the editor's and operator's commands, run as the real binary:
//! `feedd init`, `feedd new`, `feedd explain` and `feedd check --format json`.

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{Run, Site, feedd_in, files_under, parse_feed};

/// The titles of the items of the feed file `relative` under `output`.
fn titles_in(output: &Path, relative: &str) -> BTreeSet<String> {
    let bytes = std::fs::read(output.join(relative)).unwrap_or_else(|e| panic!("{relative}: {e}"));
    parse_feed(relative, &bytes)
        .entries
        .into_iter()
        .filter_map(|entry| entry.title.map(|t| t.content))
        .collect()
}

fn assert_success(run: &Run) {
    assert_eq!(run.code, Some(0), "{run}");
}

#[test]
fn init_makes_a_site_that_builds_from_its_folder_at_once() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("tin tức");
    let run = feedd_in(temp.path(), ["init", "tin tức"]);
    assert_success(&run);
    let written: BTreeSet<String> = files_under(&dir)
        .into_keys()
        .map(|name| name.trim_start_matches('/').to_string())
        .collect();
    assert_eq!(
        written,
        BTreeSet::from(
            [
                "config/feedd.toml",
                "articles/Thời sự/vi-du-bai-van-ban.txt",
                "articles/Thời sự/vi-du-bai-markdown.md",
            ]
            .map(String::from)
        ),
        "nothing else"
    );
    for file in &written {
        assert!(
            run.stdout.contains(file.as_str()),
            "{file} not named:\n{run}"
        );
    }

    // The default --config, from the site's folder.
    assert_success(&feedd_in(&dir, ["check"]));
    let build = feedd_in(&dir, ["build"]);
    assert_success(&build);
    assert!(build.stderr.is_empty(), "{build}");
    let output = dir.join("feeds");
    let expected = BTreeSet::from(
        ["Ví dụ: một bài văn bản thuần", "Ví dụ: một bài Markdown"].map(String::from),
    );
    for feed in [
        "rss.xml",
        "atom.xml",
        "feed.json",
        "thoi-su/rss.xml",
        "thoi-su/atom.xml",
    ] {
        assert_eq!(titles_in(&output, feed), expected, "{feed}");
    }
    let atom = parse_feed(
        "atom",
        &std::fs::read(output.join("thoi-su/atom.xml")).unwrap(),
    );
    let plain = atom
        .entries
        .iter()
        .find(|e| {
            e.title
                .as_ref()
                .is_some_and(|t| t.content.contains("văn bản"))
        })
        .unwrap();
    assert_eq!(plain.authors[0].name, "Ban biên tập");
    let content = plain.content.as_ref().and_then(|c| c.body.clone()).unwrap();
    assert!(
        !content.contains("Chia sẻ"),
        "the trailer is dropped: {content}"
    );
    assert!(output.join("thoi-su/vi-du-bai-markdown.html").is_file());
}

#[test]
fn init_refuses_to_overwrite_and_then_writes_nothing() {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path();
    assert_success(&feedd_in(dir, ["init"]));
    let before = files_under(dir);
    let again = feedd_in(dir, ["init", "."]);
    assert_eq!(again.code, Some(1), "{again}");
    assert!(again.stderr.contains("already exists"), "{again}");
    assert!(again.stderr.contains("config/feedd.toml"), "{again}");
    assert_eq!(files_under(dir), before);

    // One of the files alone is enough to refuse, and nothing is made.
    let other = tempfile::tempdir().unwrap();
    let mine = other.path().join("articles/Thời sự/vi-du-bai-markdown.md");
    std::fs::create_dir_all(mine.parent().unwrap()).unwrap();
    std::fs::write(&mine, "my own article").unwrap();
    let refused = feedd_in(other.path(), ["init"]);
    assert_eq!(refused.code, Some(1), "{refused}");
    assert!(
        refused
            .stderr
            .contains("vi-du-bai-markdown.md: already exists"),
        "{refused}"
    );
    assert!(refused.stderr.contains("nothing was written"), "{refused}");
    assert!(!other.path().join("config").exists());
    assert_eq!(std::fs::read_to_string(&mine).unwrap(), "my own article");
    assert_eq!(files_under(other.path()).len(), 1);
}

#[test]
fn check_json_reports_one_object_per_problem_with_the_same_exit_codes() {
    let site = Site::new("");
    site.write("Kinh tế/good.txt", "Tiêu đề\n\nNội dung.\n");
    site.write(
        "Kinh tế/bad-date.md",
        "+++\ntitle = \"x\"\ndate = \"2026-02-30\"\n+++\nBody\n",
    );
    site.write("Kinh tế/empty.txt", "");
    let config = site.config();
    let config = config.to_str().unwrap();

    let human = site.run("check");
    assert_eq!(human.code, Some(1), "{human}");
    assert_eq!(human.stderr_lines().len(), 2, "{human}");

    let json = feedd_in(
        site.root(),
        ["check", "--config", config, "--format", "json"],
    );
    assert_eq!(json.code, Some(1), "{json}");
    let problems: Vec<serde_json::Value> = json
        .stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{line}: {e}")))
        .collect();
    assert_eq!(problems.len(), 2, "{json}");
    let by_file = |name: &str| {
        problems
            .iter()
            .find(|p| p["file"].as_str().unwrap().ends_with(name))
            .unwrap_or_else(|| panic!("no problem for {name}: {json}"))
    };
    let bad_date = by_file("bad-date.md");
    assert_eq!(bad_date["line"], 3);
    assert_eq!(bad_date["column"], 8);
    assert!(
        bad_date["message"].as_str().unwrap().contains("2026-02-30"),
        "{bad_date}"
    );
    let empty = by_file("empty.txt");
    assert!(
        empty["line"].is_null() && empty["column"].is_null(),
        "{empty}"
    );
    assert_eq!(empty["message"], "the file is empty");
    assert_eq!(empty["hint"], "write a title line and a body, or delete it");
    for problem in &problems {
        let keys: BTreeSet<&str> = problem
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            keys,
            BTreeSet::from(["file", "line", "column", "message", "hint"])
        );
    }

    site.remove("Kinh tế/bad-date.md");
    site.remove("Kinh tế/empty.txt");
    let clean = feedd_in(
        site.root(),
        ["check", "--config", config, "--format", "json"],
    );
    assert_eq!(clean.code, Some(0), "{clean}");
    assert_eq!(clean.stdout, "", "{clean}");

    site.write_config("[site]\ntitle = \"x\"\nbase_url = \"ftp://x\"\n");
    let broken = feedd_in(
        site.root(),
        ["check", "--config", config, "--format", "json"],
    );
    assert_eq!(broken.code, Some(1), "{broken}");
    let problem: serde_json::Value = serde_json::from_str(broken.stdout.trim()).unwrap();
    assert_eq!(
        (problem["line"].clone(), problem["column"].clone()),
        (3.into(), 12.into())
    );

    let usage = feedd_in(site.root(), ["check", "--format", "xml"]);
    assert_eq!(usage.code, Some(2), "{usage}");
}

#[test]
fn new_writes_an_article_that_checks_and_is_published() {
    let site = Site::new("");
    site.write("Chính trị/old.txt", "Bài cũ\n\nNội dung.\n");
    let config = site.config();
    let config = config.to_str().unwrap();
    let title = "Giá lúa \"tăng\" / giảm: 'kỷ lục' \\ mới";
    let md = feedd_in(
        site.root(),
        ["new", "--config", config, "--category", "chinh-tri", title],
    );
    assert_success(&md);
    let md_path = Path::new(md.stdout.trim());
    assert_eq!(
        md_path,
        site.articles()
            .join("Chính trị/gia-lua-tang-giam-ky-luc-moi.md")
    );
    let txt = feedd_in(
        site.root(),
        [
            "new",
            "--config",
            config,
            "--category",
            "Thể thao",
            "--format",
            "txt",
            "Đội tuyển thắng",
        ],
    );
    assert_success(&txt);
    let txt_path = Path::new(txt.stdout.trim());
    assert!(
        txt_path.starts_with(site.articles().join("Thể thao")),
        "{txt}"
    );
    let name = txt_path.file_name().unwrap().to_str().unwrap();
    assert!(
        name.ends_with("-doi-tuyen-thang.txt")
            && name.len() == "2026-11-20-doi-tuyen-thang.txt".len(),
        "{name}"
    );
    assert_eq!(
        std::fs::read_to_string(txt_path).unwrap(),
        "Đội tuyển thắng\n\n"
    );

    assert_success(&site.run("check"));
    assert_success(&site.build());
    let titles = titles_in(&site.output(), "rss.xml");
    assert!(
        titles.contains(title) && titles.contains("Đội tuyển thắng"),
        "{titles:?}"
    );
    assert!(titles_in(&site.output(), "chinh-tri/atom.xml").contains(title));
    assert!(titles_in(&site.output(), "the-thao/atom.xml").contains("Đội tuyển thắng"));

    // Never over an existing file, nor beside one of the same name.
    let before = std::fs::read(md_path).unwrap();
    for format in ["md", "txt"] {
        let again = feedd_in(
            site.root(),
            [
                "new",
                "--config",
                config,
                "--category",
                "Chính trị",
                "--format",
                format,
                title,
            ],
        );
        if format == "md" {
            assert_eq!(again.code, Some(1), "{again}");
            assert!(again.stderr.contains("already exists"), "{again}");
        }
    }
    assert_eq!(std::fs::read(md_path).unwrap(), before);

    let draft = feedd_in(
        site.root(),
        ["new", "--config", config, "--draft", "Bản nháp"],
    );
    assert_success(&draft);
    assert_success(&site.build());
    assert!(!titles_in(&site.output(), "rss.xml").contains("Bản nháp"));

    for (bad, words) in [("", "empty"), ("a\nb", "one line"), ("???", "no letter")] {
        let refused = feedd_in(site.root(), ["new", "--config", config, bad]);
        assert_eq!(refused.code, Some(1), "{refused}");
        assert!(refused.stderr.contains(words), "{refused}");
    }
}

/// `feedd explain FILE` for the site's config, as the binary prints it.
fn explain(site: &Site, relative: &str) -> String {
    let config = site.config();
    let file = site.articles().join(relative);
    let run = feedd_in(
        site.root(),
        [
            "explain".as_ref(),
            "--config".as_ref(),
            config.as_os_str(),
            file.as_os_str(),
        ],
    );
    assert_success(&run);
    run.stdout
}

fn assert_has(text: &str, needles: &[&str]) {
    for needle in needles {
        assert!(text.contains(needle), "{needle:?} not in:\n{text}");
    }
}

#[test]
fn explain_tells_where_each_value_came_from_and_where_it_is_published() {
    let site = Site::new("[feeds]\nlimit = 2\n");
    site.add_bundled_articles();
    let seed = "Chính trị/000_dcc753fbd64ee8d5.txt";
    let text = explain(&site, seed);
    assert_has(
        &text,
        &[
            "state:      published",
            "title:      Chú trọng phát triển Đảng ở cơ sở (the first line, line 1)",
            "author:     Minh Phúc (the byline, line 20)",
            "(the file's modification time: feedd has not recorded this file yet",
            "categories: chinh-tri (Chính trị) (the folder)",
            "slug:       000-dcc753fbd64ee8d5 (the file name)",
            "(made from the path under paths.articles)",
            "link:       https://news.example.vn/chinh-tri/000-dcc753fbd64ee8d5.html (default",
            "summary:    Là huyện có địa bàn rộng",
            "line 20: Bài và ảnh: Minh Phúc",
            "line 22: Chia sẻ:",
            "line 26: Các đơn vị thông tin của TTXVN",
        ],
    );

    // Positions are the built feeds' own.
    assert_success(&site.build());
    let front_matter = "Kinh tế/ngan-hang-tang-toc-thanh-toan-qr.md";
    let article = explain(&site, front_matter);
    assert_has(
        &article,
        &[
            "title:      Thanh toán QR xuyên biên giới: ngân hàng tăng tốc số hóa (front matter `title`, line 2)",
            "(front matter `date`, line 3)",
            "(front matter `author`, line 4)",
            "(front matter `category`, line 5)",
        ],
    );
    let titles_of = |feed: &str| -> Option<Vec<String>> {
        let bytes = std::fs::read(site.output().join(feed)).ok()?;
        Some(
            parse_feed(feed, &bytes)
                .entries
                .into_iter()
                .map(|e| e.title.unwrap().content)
                .collect(),
        )
    };
    let is_it = |t: &String| t.starts_with("Thanh toán QR xuyên biên giới");
    let mut archived_somewhere = false;
    for folder in ["", "kinh-te/", "technology/"] {
        let titles = titles_of(&format!("{folder}rss.xml")).unwrap();
        let urls = format!("/{folder}rss.xml, /{folder}atom.xml, /{folder}feed.json");
        if let Some(index) = titles.iter().position(is_it) {
            assert_has(
                &article,
                &[&format!("{urls}: item {} of {}", index + 1, titles.len())],
            );
        }
        // Archive pages, as the build wrote them.
        for number in 1.. {
            let Some(page) = titles_of(&format!("{folder}rss-{number}.xml")) else {
                break;
            };
            if let Some(index) = page.iter().position(is_it) {
                archived_somewhere = true;
                assert_has(
                    &article,
                    &[&format!(
                        "/{folder}rss-{number}.xml, /{folder}atom-{number}.xml: item {} of {} (archive page {number})",
                        index + 1,
                        page.len()
                    )],
                );
            }
        }
    }
    assert!(
        archived_somewhere || article.contains("past feeds.limit (2)"),
        "{article}"
    );
    assert_has(
        &article,
        &["page: /kinh-te/ngan-hang-tang-toc-thanh-toan-qr.html"],
    );
    // The build recorded the first-seen date.
    assert_has(
        &explain(&site, seed),
        &["(first seen by feedd, from the state journal)"],
    );
}

#[test]
fn explain_names_each_state_an_article_can_be_in() {
    let site = Site::new("");
    site.write(
        "Thời sự/draft.md",
        "+++\ntitle = \"Nháp\"\ndraft = true\n+++\nThân.\n",
    );
    site.write(
        "Thời sự/later.md",
        "+++\ntitle = \"Sau\"\ndate = \"2999-01-01\"\n+++\nThân.\n",
    );
    site.write(
        "Thời sự/bad.md",
        "+++\ntitle = \"Hỏng\"\ndate = \"2026-02-30\"\n+++\nThân.\n",
    );
    site.write("Thời sự/.hidden.md", "# Ẩn\n");
    site.write("Thời sự/photo.jpg", "not an article");
    site.write("Thời sự/a.md~", "# Backup\n");
    site.write("Thời sự/huge.txt", "T\n\n".repeat(600_000));
    std::os::unix::fs::symlink(
        site.root().join("config/feedd.toml"),
        site.article("Thời sự/link.txt"),
    )
    .unwrap();

    assert_has(
        &explain(&site, "Thời sự/draft.md"),
        &["state:      draft: its front matter says draft = true (line 3)"],
    );
    assert_has(
        &explain(&site, "Thời sự/later.md"),
        &[
            "state:      scheduled: published at 2999-01-01 00:00:00 +07:00",
            "(front matter `date`, line 3)",
        ],
    );
    let bad = explain(&site, "Thời sự/bad.md");
    assert_has(
        &bad,
        &[
            "state:      rejected",
            "bad.md:3:8: date: \"2026-02-30\" is not a valid date",
        ],
    );
    assert!(!bad.contains("title:"), "{bad}");
    assert_has(
        &explain(&site, "Thời sự/.hidden.md"),
        &["not an article: hidden"],
    );
    assert_has(
        &explain(&site, "Thời sự/photo.jpg"),
        &["not an article: feedd reads only .txt, .md and .markdown"],
    );
    assert_has(
        &explain(&site, "Thời sự/a.md~"),
        &["not an article: an editor's temporary"],
    );
    assert_has(
        &explain(&site, "Thời sự/huge.txt"),
        &["state:      rejected", "more than feeds.max_article_bytes"],
    );
    assert_has(
        &explain(&site, "Thời sự/link.txt"),
        &["state:      rejected", "is a symbolic link"],
    );
    assert_has(&explain(&site, "Thời sự"), &["not an article: a folder"]);

    // Same category and slug: one page, the newer article's.
    site.write(
        "Thời sự/2026-01-01-x.md",
        "+++\ntitle = \"Cũ\"\nslug = \"trung\"\n+++\n",
    );
    site.write(
        "Thời sự/2026-01-02-x.md",
        "+++\ntitle = \"Mới\"\nslug = \"trung\"\n+++\n",
    );
    assert_has(
        &explain(&site, "Thời sự/2026-01-01-x.md"),
        &["page: /thoi-su/trung.html shows Thời sự/2026-01-02-x.md instead"],
    );
    assert_has(
        &explain(&site, "Thời sự/2026-01-02-x.md"),
        &["page: /thoi-su/trung.html\n"],
    );

    let outside = feedd_in(
        site.root(),
        [
            "explain",
            "--config",
            site.config().to_str().unwrap(),
            "config/feedd.toml",
        ],
    );
    assert_success(&outside);
    assert_has(
        &outside.stdout,
        &["not an article: it is outside paths.articles"],
    );
    let missing = feedd_in(
        site.root(),
        [
            "explain",
            "--config",
            site.config().to_str().unwrap(),
            "articles/nope.md",
        ],
    );
    assert_eq!(missing.code, Some(1), "{missing}");
    assert_has(&missing.stderr, &["no such file"]);
}

#[test]
fn explain_works_beside_a_running_serve_and_changes_nothing() {
    let site = Site::new(common::SERVE_CONFIG);
    site.write("Thời sự/a.txt", "Tin A\n\nThân.\n");
    let serve = site.serve();
    let journal = site.state().join("articles.journal");
    let journal_before = std::fs::read(&journal).unwrap();
    // serve holds the lock on the state folder all along.
    let text = explain(&site, "Thời sự/a.txt");
    assert_has(
        &text,
        &[
            "state:      published",
            "(first seen by feedd, from the state journal)",
        ],
    );
    assert_eq!(std::fs::read(&journal).unwrap(), journal_before);
    drop(serve);
}

#[test]
fn explain_of_an_article_a_newer_one_shares_its_id_or_page_with_says_so() {
    let site = Site::new("");
    site.write(
        "Kinh tế/cu.md",
        "+++\ntitle = \"Bài cũ\"\nid = \"tag:x,2026:mot\"\nslug = \"gia-lua\"\ndate = \"2026-01-01 08:00\"\n+++\nCũ.\n",
    );
    site.write(
        "Kinh tế/moi.md",
        "+++\ntitle = \"Bài mới\"\nid = \"tag:x,2026:mot\"\nslug = \"gia-lua\"\ndate = \"2026-01-02 08:00\"\n+++\nMới.\n",
    );
    let older = explain(&site, "Kinh tế/cu.md");
    assert!(older.contains("has the same id"), "{older}");
    assert!(older.contains("has the same page"), "{older}");
    // Not in the feeds, which show the newer one only.
    assert!(
        !older.contains("item 1 of") && !older.contains("item 2 of"),
        "{older}"
    );
    let newer = explain(&site, "Kinh tế/moi.md");
    assert!(!newer.contains("has the same"), "{newer}");
    assert!(
        newer.contains("/kinh-te/rss.xml, /kinh-te/atom.xml, /kinh-te/feed.json: item 1 of 1"),
        "{newer}"
    );
}
