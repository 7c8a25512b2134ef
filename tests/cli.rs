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
