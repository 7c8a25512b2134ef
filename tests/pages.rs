//! The HTML side (issue 8, items 1, 2 and 9): the front page, category
//! pages and article pages that `build` writes and `serve` serves, checked
//! with a real HTML5 parser (html5lib in strict mode: any parse error
//! fails) and a real browser (headless Chromium, which also saves
//! screenshots under `target/`).
//!
//! html5lib and Chromium are Debian packages (`python3-html5lib`,
//! `chromium`) that `.ci/run` installs and requires with
//! `FEEDD_REQUIRE_READERS=1`; without that variable a missing one skips its
//! test with a note.

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{
    SERVE_CONFIG, SYSTEM_PYTHON, Site, assert_served_equals_fresh_build, reader_available,
};

const SEED: &str = "000_dcc753fbd64ee8d5.txt";
const SEED_PAGE: &str = "/chinh-tri/000-dcc753fbd64ee8d5.html";
const BASE: &str = "https://news.example.vn";

/// Parses each file named on the command line with html5lib in strict mode
/// (a parse error raises) and prints what a reader of the page relies on,
/// one `file<TAB>fact<TAB>value` line each.
const HTML5LIB_SCRIPT: &str = r#"
import sys, html5lib
def say(path, key, value):
    print("%s\t%s\t%s" % (path, key, " ".join(str(value).split())))
for path in sys.argv[1:]:
    with open(path, "rb") as f:
        data = f.read()
    parser = html5lib.HTMLParser(strict=True, namespaceHTMLElements=False)
    try:
        doc = parser.parse(data)
    except Exception as e:
        say(path, "error", "%r %r" % (e, parser.errors[:3]))
        continue
    say(path, "lang", doc.get("lang"))
    say(path, "title", "".join(doc.find("head/title").itertext()))
    for l in doc.iter("link"):
        if l.get("rel") == "alternate":
            say(path, "alternate", "%s %s" % (l.get("type"), l.get("href")))
        if l.get("rel") == "canonical":
            say(path, "canonical", l.get("href"))
        if l.get("rel") == "stylesheet":
            say(path, "stylesheet", l.get("href"))
    say(path, "style elements", len(list(doc.iter("style"))))
    for m in doc.iter("meta"):
        key = m.get("property") or m.get("name")
        if key and m.get("content") is not None:
            say(path, "meta " + key, m.get("content"))
    for h in doc.iter("h1"):
        say(path, "h1", "".join(h.itertext()))
    say(path, "scripts", len(list(doc.iter("script"))))
    say(path, "main", len(list(doc.iter("main"))))
    for a in doc.iter("a"):
        say(path, "href", a.get("href"))
    for t in doc.iter("time"):
        say(path, "time", t.get("datetime"))
    say(path, "text", "".join(doc.find("body").itertext()))
"#;

/// What html5lib found in one page: each fact with its values, in order.
type Facts = BTreeMap<String, Vec<String>>;

/// The bundled sample (which holds the seed article), plus an article whose
/// front matter sets `link` and a draft: neither has a page.
fn sample_site(extra: &str) -> Site {
    let site = Site::new(&format!(
        "[categories.chinh-tri]\ntitle = \"Chính trị\"\ndescription = \"Tin chính trị trong nước\"\n{extra}"
    ));
    site.add_bundled_articles();
    assert!(
        site.articles().join("Chính trị").join(SEED).is_file(),
        "the bundled sample holds the seed article"
    );
    site.write(
        "Kinh tế/elsewhere.md",
        "+++\ntitle = \"Read elsewhere\"\ndate = 2026-11-01\nlink = \"https://other.example/story\"\n+++\nBody.\n",
    );
    site.write(
        "Kinh tế/draft.md",
        "+++\ntitle = \"Not yet\"\ndate = 2026-11-01\ndraft = true\n+++\nBody.\n",
    );
    site
}

fn html5lib_available() -> bool {
    reader_available(
        "html5lib (python3-html5lib)",
        Command::new(SYSTEM_PYTHON).args(["-c", "import html5lib"]),
    )
}

/// Every page of the output folder through html5lib, by URL path.
fn parse_pages(site: &Site) -> BTreeMap<String, Facts> {
    let urls: Vec<String> = site.pages().into_keys().collect();
    let files: Vec<PathBuf> = urls
        .iter()
        .map(|url| site.output().join(common::file_of_url(url)))
        .collect();
    let out = common::system_python(HTML5LIB_SCRIPT, &files);
    let mut by_file: BTreeMap<String, Facts> = BTreeMap::new();
    for line in out.lines() {
        let mut parts = line.splitn(3, '\t');
        let (file, key, value) = (
            parts.next().unwrap(),
            parts.next().unwrap(),
            parts.next().unwrap_or(""),
        );
        by_file
            .entry(file.to_string())
            .or_default()
            .entry(key.to_string())
            .or_default()
            .push(value.to_string());
    }
    urls.into_iter()
        .zip(files)
        .map(|(url, file)| {
            let facts = by_file.remove(file.to_str().unwrap()).unwrap_or_default();
            (url, facts)
        })
        .collect()
}

/// A relative URL path (`style.css`, `../style.css`) against the page's URL path.
fn resolve(page: &str, relative: &str) -> String {
    let mut folder: Vec<&str> = page.split('/').collect();
    folder.pop();
    for segment in relative.split('/') {
        match segment {
            ".." => {
                folder.pop();
            }
            "." => {}
            name => folder.push(name),
        }
    }
    folder.join("/")
}

/// Prints how many pixels of the PNG file named first have the colour
/// `RRGGBB` named second (8-bit RGB or RGBA, as Chromium writes them).
const PNG_COLOUR_COUNT: &str = r#"
import struct, sys, zlib
data = open(sys.argv[1], "rb").read()
want = bytes.fromhex(sys.argv[2])
pos, idat = 8, b""
while pos < len(data):
    length, kind = struct.unpack(">I4s", data[pos:pos + 8])
    body = data[pos + 8:pos + 8 + length]
    pos += 12 + length
    if kind == b"IHDR":
        width, height, depth, colour = struct.unpack(">IIBB", body[:10])
    elif kind == b"IDAT":
        idat += body
assert depth == 8 and colour in (2, 6), (depth, colour)
bpp = 3 if colour == 2 else 4
stride = width * bpp
raw = zlib.decompress(idat)
previous, count, i = bytearray(stride), 0, 0
for _ in range(height):
    kind, line = raw[i], bytearray(raw[i + 1:i + 1 + stride])
    i += 1 + stride
    for x in range(stride):
        a = line[x - bpp] if x >= bpp else 0
        b = previous[x]
        c = previous[x - bpp] if x >= bpp else 0
        if kind == 1: line[x] = (line[x] + a) & 255
        elif kind == 2: line[x] = (line[x] + b) & 255
        elif kind == 3: line[x] = (line[x] + (a + b) // 2) & 255
        elif kind == 4:
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            line[x] = (line[x] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
    count += sum(1 for x in range(0, stride, bpp) if line[x:x + 3] == want)
    previous = line
print(count)
"#;

fn pixels_of_colour(png: &Path, rgb: &str) -> usize {
    let args = [png.as_os_str(), std::ffi::OsStr::new(rgb)];
    common::system_python(PNG_COLOUR_COUNT, args)
        .trim()
        .parse()
        .unwrap()
}

fn fact<'a>(facts: &'a Facts, key: &str) -> &'a [String] {
    facts.get(key).map_or(&[], Vec::as_slice)
}

fn alternates(scope_url: &str, title_free: bool) -> Vec<String> {
    let _ = title_free;
    let mut expected = vec![
        format!("application/atom+xml {BASE}{scope_url}atom.xml"),
        format!("application/feed+json {BASE}{scope_url}feed.json"),
        format!("application/rss+xml {BASE}{scope_url}rss.xml"),
    ];
    expected.sort();
    expected
}

#[test]
fn build_writes_valid_html5_pages_for_the_site_each_category_and_each_article() {
    if !html5lib_available() {
        return;
    }
    let site = sample_site("");
    site.build();
    let pages = parse_pages(&site);
    for (url, facts) in &pages {
        assert!(facts.get("error").is_none(), "{url}: {facts:?}");
        assert_eq!(fact(facts, "lang"), ["vi"], "{url}");
        assert_eq!(fact(facts, "scripts"), ["0"], "{url}: no JavaScript");
        assert_eq!(fact(facts, "main"), ["1"], "{url}: one main landmark");
        assert_eq!(fact(facts, "h1").len(), 1, "{url}: one h1");
        // One style sheet for every page, by a URL relative to the page,
        // so that it loads from whatever host or folder serves the output.
        let stylesheet = fact(facts, "stylesheet");
        assert_eq!(stylesheet.len(), 1, "{url}: {stylesheet:?}");
        assert_eq!(resolve(url, &stylesheet[0]), "/style.css", "{url}");
        assert_eq!(fact(facts, "style elements"), ["0"], "{url}");
    }
    assert_eq!(
        std::fs::read_to_string(site.output().join("style.css")).unwrap(),
        String::from_utf8_lossy(feedd::pages::stylesheet()),
    );

    // The front page: every category, its headlines and feeds, and
    // autodiscovery of the all-articles feeds.
    let front = &pages["/"];
    let mut found = fact(front, "alternate").to_vec();
    found.sort();
    assert_eq!(found, alternates("/", true));
    assert_eq!(fact(front, "canonical"), [format!("{BASE}/")]);
    let text = &fact(front, "text")[0];
    for heading in [
        "Chính trị",
        "Tin chính trị trong nước",
        "Kinh tế",
        "Đời sống",
        "Thể thao",
    ] {
        assert!(
            text.contains(heading),
            "front page lacks {heading:?}: {text}"
        );
    }
    let hrefs: BTreeSet<&str> = fact(front, "href").iter().map(String::as_str).collect();
    for category in ["chinh-tri", "kinh-te", "doi-song", "the-thao", "technology"] {
        for file in ["", "rss.xml", "atom.xml", "feed.json"] {
            let href = format!("{BASE}/{category}/{file}");
            assert!(
                hrefs.contains(href.as_str()),
                "front page lacks a link to {href}"
            );
        }
    }
    assert!(
        hrefs.contains(format!("{BASE}{SEED_PAGE}").as_str()),
        "{hrefs:?}"
    );
    assert!(
        hrefs.contains("https://other.example/story"),
        "a link-only article links out"
    );

    // A category page: its own feeds.
    let politics = &pages["/chinh-tri/"];
    let mut found = fact(politics, "alternate").to_vec();
    found.sort();
    assert_eq!(found, alternates("/chinh-tri/", true));
    assert_eq!(fact(politics, "h1"), ["Chính trị"]);
    assert!(fact(politics, "text")[0].contains("Chú trọng phát triển Đảng ở cơ sở"));

    // The seed's page: what the feeds say of it, and its body.
    let seed = &pages[SEED_PAGE];
    assert_eq!(fact(seed, "h1"), ["Chú trọng phát triển Đảng ở cơ sở"]);
    assert_eq!(fact(seed, "canonical"), [format!("{BASE}{SEED_PAGE}")]);
    assert_eq!(fact(seed, "meta og:url"), [format!("{BASE}{SEED_PAGE}")]);
    assert_eq!(
        fact(seed, "meta og:title"),
        ["Chú trọng phát triển Đảng ở cơ sở"]
    );
    let mut found = fact(seed, "alternate").to_vec();
    found.sort();
    assert_eq!(found, alternates("/chinh-tri/", true));
    let body = &fact(seed, "text")[0];
    assert!(body.contains("Minh Phúc"), "the author: {body}");
    assert!(body.contains("huyện Mường Nhé"), "the body: {body}");
    assert!(!body.contains("Chia sẻ"), "no trailer: {body}");
    let times = fact(seed, "time");
    assert!(
        !times.is_empty() && times.iter().all(|t| t.ends_with("+07:00")),
        "{times:?}"
    );

    // No link in any feed is a dead end: every item link on this site has
    // its page, and nothing else has one.
    let mut linked = BTreeSet::new();
    for (url, feed) in site.feeds() {
        for entry in &feed.entries {
            let href = &entry.links[0].href;
            if let Some(path) = href.strip_prefix(BASE) {
                assert!(pages.contains_key(path), "{url}: {href} has no page");
                linked.insert(path.to_string());
            }
        }
    }
    let article_pages: BTreeSet<String> = pages
        .keys()
        .filter(|url| url.ends_with(".html"))
        .cloned()
        .collect();
    assert_eq!(article_pages, linked);
    assert!(!site.output().join("kinh-te/elsewhere.html").exists());
    assert!(!site.output().join("kinh-te/draft.html").exists());
}

#[test]
fn a_page_in_no_category_links_the_style_sheet_from_its_own_folder() {
    if !html5lib_available() {
        return;
    }
    let site = Site::new("");
    site.write(
        "tin-ngan.md",
        "+++\ntitle = \"Tin ngắn\"\ndate = 2026-11-01\n+++\nMột dòng.\n",
    );
    site.write(
        "Kinh tế/gia-lua.md",
        "+++\ntitle = \"Giá lúa\"\ndate = 2026-11-02\n+++\nTăng.\n",
    );
    site.build();
    let pages = parse_pages(&site);
    for url in ["/", "/kinh-te/", "/kinh-te/gia-lua.html", "/tin-ngan.html"] {
        let stylesheet = fact(&pages[url], "stylesheet");
        assert_eq!(stylesheet.len(), 1, "{url}: {stylesheet:?}");
        assert_eq!(resolve(url, &stylesheet[0]), "/style.css", "{url}");
    }
}

#[test]
fn english_sites_get_english_labels_and_plain_text_stays_text() {
    let site = Site::with_config(
        "[site]\ntitle = \"Daily <News>\"\nbase_url = \"https://d.example\"\nlanguage = \"en\"\n\n\
         [paths]\narticles = \"../articles\"\noutput = \"../feeds\"\nstate = \"../state\"\n",
    );
    site.write(
        "World/a.md",
        "+++\ntitle = \"A <b>bold</b> & \\\"quoted\\\" title\"\ndate = 2026-01-02T03:04:05Z\nauthor = \"Ann\"\n+++\nHello <script>alert(1)</script> **world**.\n",
    );
    site.write(
        "World/b.md",
        "+++\ntitle = \"B\"\ndate = 2026-01-03T00:00:00Z\n+++\nText ![chart](https://cdn.example/c.png \"c\")\n",
    );
    site.build();
    let b = String::from_utf8(site.pages()["/world/b.html"].clone()).unwrap();
    assert!(
        b.contains("<meta property=\"og:image\" content=\"https://cdn.example/c.png\">"),
        "the lead image: {b}"
    );
    let page = String::from_utf8(site.pages()["/world/a.html"].clone()).unwrap();
    assert!(!page.contains("og:image"), "no image, no og:image: {page}");
    assert!(
        page.starts_with("<!DOCTYPE html><html lang=\"en\">"),
        "{page}"
    );
    assert!(page.contains("<title>A &lt;b&gt;bold&lt;/b&gt; &amp; &quot;quoted&quot; title – Daily &lt;News&gt;</title>"), "{page}");
    assert!(!page.contains("<script"), "sanitized body: {page}");
    assert!(page.contains("<strong>world</strong>"), "{page}");
    assert!(page.contains("By <strong>Ann</strong>"), "{page}");
    assert!(
        page.contains("<time datetime=\"2026-01-02T03:04:05+00:00\">2 Jan 2026, 03:04</time>"),
        "{page}"
    );
}

fn body_text(response: &common::HttpResponse) -> String {
    String::from_utf8(response.body.clone()).unwrap()
}

#[test]
fn served_pages_revalidate_compress_redirect_and_follow_edits_page_by_page() {
    let site = sample_site(SERVE_CONFIG);
    let story = "Thể thao/chung-ket.md";
    let page = "/the-thao/chung-ket.html";
    site.write(
        story,
        "+++\ntitle = \"Chung kết\"\ndate = 2026-11-30T10:00:00+07:00\n+++\nTrận chung kết.\n",
    );
    let serve = site.serve();
    assert_served_equals_fresh_build(&site, &serve);

    // Validators, 304 and encodings, as for feeds; the pages' style sheet too.
    for path in ["/", "/chinh-tri/", SEED_PAGE, "/style.css"] {
        let ok = serve.get(path);
        assert_eq!(ok.status, 200, "{path}");
        let content_type = match path {
            "/style.css" => "text/css; charset=utf-8",
            _ => "text/html; charset=utf-8",
        };
        assert_eq!(ok.header("content-type"), Some(content_type), "{path}");
        assert_eq!(ok.header("cache-control"), Some("public, max-age=300"));
        assert!(ok.header("last-modified").is_some(), "{path}");
        let etag = ok.header("etag").unwrap().to_string();
        let again = serve.request(path, &[("If-None-Match", &etag)]);
        assert_eq!(again.status, 304, "{path}");
        assert!(again.body.is_empty());
        let gzip = serve.request(path, &[("Accept-Encoding", "gzip")]);
        assert_eq!(gzip.header("content-encoding"), Some("gzip"), "{path}");
        assert_eq!(gzip.header("vary"), Some("Accept-Encoding"));
        let gzip_etag = gzip.header("etag").unwrap().to_string();
        assert_ne!(gzip_etag, etag, "{path}: one ETag per encoding");
        let mut unzipped = Vec::new();
        std::io::Read::read_to_end(
            &mut flate2::read::GzDecoder::new(&gzip.body[..]),
            &mut unzipped,
        )
        .unwrap();
        assert_eq!(unzipped, ok.body, "{path}");
        let br = serve.request(path, &[("Accept-Encoding", "br")]);
        assert_eq!(br.header("content-encoding"), Some("br"), "{path}");
        let revalidated = serve.request(
            path,
            &[("Accept-Encoding", "gzip"), ("If-None-Match", &gzip_etag)],
        );
        assert_eq!(revalidated.status, 304, "{path}");
        let head = common::http_request(&serve.address, "HEAD", path);
        assert_eq!(head.status, 200, "{path}");
        assert!(head.body.is_empty());
    }
    let redirect = serve.get("/chinh-tri");
    assert_eq!(redirect.status, 301);
    assert_eq!(redirect.header("location"), Some("/chinh-tri/"));
    assert_eq!(serve.get("/no-such-category").status, 404);
    assert_eq!(serve.get("/chinh-tri/no-such-article.html").status, 404);
    // One URL per page: the folder's index.html (which a static server of
    // the output folder would answer) redirects to it.
    let index = serve.get("/chinh-tri/index.html");
    assert_eq!(index.status, 301);
    assert_eq!(index.header("location"), Some("/chinh-tri/"));
    assert_eq!(
        serve.get("/kinh-te/elsewhere.html").status,
        404,
        "link-only"
    );

    // An edit rewrites that article's page, its category's page and the
    // front page, and no other article page.
    assert!(body_text(&serve.get(page)).contains("Chung kết"));
    let before = site.mtimes();
    site.write(
        story,
        "+++\ntitle = \"Chung kết đã xong\"\ndate = 2026-11-30T10:00:00+07:00\n+++\nTrận chung kết.\n",
    );
    serve.wait_until("the page shows the edit", || {
        body_text(&serve.get(page)).contains("Chung kết đã xong")
    });
    serve.wait_until("the category page shows the edit", || {
        body_text(&serve.get("/the-thao/")).contains("Chung kết đã xong")
    });
    // Served first, written a moment later: wait for the files.
    let expected = BTreeSet::from(["/".to_string(), "/the-thao/".to_string(), page.to_string()]);
    let rewritten = || -> BTreeSet<String> {
        site.mtimes()
            .into_iter()
            .filter(|(url, mtime)| common::is_page(url) && before.get(url) != Some(mtime))
            .map(|(url, _)| url)
            .collect()
    };
    serve.wait_until("the three pages written", || {
        rewritten().is_superset(&expected)
    });
    assert_eq!(rewritten(), expected, "no other page is rewritten");
    assert_served_equals_fresh_build(&site, &serve);

    // A draft has no page; nor has an article whose front matter sets `link`.
    site.write(
        story,
        "+++\ntitle = \"Chung kết\"\ndate = 2026-11-30T10:00:00+07:00\ndraft = true\n+++\nX.\n",
    );
    serve.wait_until("the draft's page is gone", || serve.get(page).status == 404);
    assert!(!site.output().join("the-thao/chung-ket.html").exists());
    site.write(
        story,
        "+++\ntitle = \"Chung kết\"\ndate = 2026-11-30T10:00:00+07:00\n+++\nX.\n",
    );
    serve.wait_until("the page is back", || serve.get(page).status == 200);
    site.write(
        story,
        "+++\ntitle = \"Chung kết\"\ndate = 2026-11-30T10:00:00+07:00\nlink = \"https://x.example/y\"\n+++\nX.\n",
    );
    serve.wait_until("the link-only article's page is gone", || {
        serve.get(page).status == 404
    });
    site.write(
        story,
        "+++\ntitle = \"Chung kết\"\ndate = 2026-11-30T10:00:00+07:00\nslug = \"tran-cuoi\"\n+++\nX.\n",
    );
    serve.wait_until("the page under its new slug", || {
        serve.get("/the-thao/tran-cuoi.html").status == 200
    });
    site.remove(story);
    serve.wait_until("the deleted article's page is gone", || {
        serve.get("/the-thao/tran-cuoi.html").status == 404
    });
    assert_served_equals_fresh_build(&site, &serve);
}

#[test]
fn a_restart_renders_missing_pages_and_removes_pages_of_articles_deleted_meanwhile() {
    let site = sample_site(SERVE_CONFIG);
    site.write(
        "Thể thao/tam-thoi.md",
        "+++\ntitle = \"Tạm thời\"\ndate = 2026-11-30\n+++\nX.\n",
    );
    site.build();
    assert!(site.output().join("the-thao/tam-thoi.html").is_file());
    // While feedd is down: an article goes, a page is lost, a stray page appears.
    site.remove("Thể thao/tam-thoi.md");
    std::fs::remove_file(site.output().join(SEED_PAGE.trim_start_matches('/'))).unwrap();
    std::fs::write(site.output().join("the-thao/stray.html"), "x").unwrap();
    let serve = site.serve();
    assert!(!site.output().join("the-thao/tam-thoi.html").exists());
    assert!(!site.output().join("the-thao/stray.html").exists());
    assert_eq!(serve.get(SEED_PAGE).status, 200);
    assert_served_equals_fresh_build(&site, &serve);
}

#[test]
fn a_start_without_state_writes_missing_pages_first_and_checks_the_rest_after() {
    let site = sample_site(SERVE_CONFIG);
    site.build();
    // While feedd is down its state folder goes (nothing records what the
    // pages on disk were rendered with), a page is lost, one is damaged
    // and a stray appears.
    std::fs::remove_dir_all(site.state()).unwrap();
    let lost = site.output().join(SEED_PAGE.trim_start_matches('/'));
    std::fs::remove_file(&lost).unwrap();
    let damaged = site
        .pages()
        .into_keys()
        .find(|page| {
            page.matches('/').count() == 2
                && page.ends_with(".html")
                && !page.ends_with("/index.html")
                && page != SEED_PAGE
        })
        .map(|page| site.output().join(page.trim_start_matches('/')))
        .expect("an article page");
    std::fs::write(&damaged, "stale").unwrap();
    std::fs::write(site.output().join("chinh-tri/stray.html"), "x").unwrap();
    let serve = site.serve_logging("info");
    let startup = serve.wait_for_line("the startup rebuild's line", "reason=\"startup\"");
    // The first pass writes only what the feeds would otherwise link to in
    // vain, and removes the stray (both found without reading an article).
    assert!(startup.contains("pages_changed=2 "), "{startup}");
    assert!(!site.output().join("chinh-tri/stray.html").exists());
    assert_eq!(serve.get(SEED_PAGE).status, 200);
    let check = serve.wait_for_line("the check of every page", "every page on disk checked");
    // The damaged page rewritten.
    assert!(check.contains("pages_changed=1 "), "{check}");
    assert_ne!(std::fs::read(&damaged).unwrap(), b"stale");
    assert_served_equals_fresh_build(&site, &serve);
    // The check is recorded: the next start checks nothing again (a check
    // still due would begin at the loop's first turn, before an edit).
    drop(serve);
    let serve = site.serve_logging("info");
    site.write(
        "Thể thao/sau.md",
        "+++\ntitle = \"Sau\"\ndate = 2026-11-30\n+++\nX.\n",
    );
    serve.wait_for_log("the edit's rebuild", "reason=\"edit\"");
    assert!(!serve.log_contains("checking every page on disk"));
    assert_served_equals_fresh_build(&site, &serve);
}

/// Runs headless Chromium with a fresh profile on `args`, giving up after
/// a minute; its stdout.
fn chromium(args: &[&str]) -> String {
    let profile = tempfile::tempdir().unwrap();
    let mut chromium = Command::new("timeout");
    chromium
        .args([
            "60",
            "chromium",
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
        ])
        .args([
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args);
    common::stdout_of_success(chromium, &format!("chromium {args:?}"))
}

#[test]
fn chromium_finds_the_feeds_and_renders_the_pages_for_phone_and_desktop() {
    if !reader_available(
        "chromium",
        Command::new("chromium").args(["--headless", "--no-sandbox", "--version"]),
    ) {
        return;
    }
    let site = sample_site(SERVE_CONFIG);
    let serve = site.serve();
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR")).join("screenshots");
    std::fs::create_dir_all(&shots).unwrap();
    for (name, path, scope) in [("index", "/", "/"), ("article", SEED_PAGE, "/chinh-tri/")] {
        let url = format!("http://{}{path}", serve.address);
        let dom = chromium(&["--dump-dom", &url]);
        for (kind, file) in [
            ("application/rss+xml", "rss.xml"),
            ("application/atom+xml", "atom.xml"),
            ("application/feed+json", "feed.json"),
        ] {
            let link = dom
                .split("<link ")
                .skip(1)
                .find(|tag| tag.contains(&format!("type=\"{kind}\"")))
                .unwrap_or_else(|| panic!("{path}: no {kind} autodiscovery in {dom}"));
            assert!(link.contains("rel=\"alternate\""), "{link}");
            assert!(
                link.contains(&format!("href=\"{BASE}{scope}{file}\"")),
                "{link}"
            );
        }
        if name == "article" {
            assert!(dom.contains("Chú trọng phát triển Đảng ở cơ sở"), "{dom}");
        }
        for (device, size) in [("phone", "390,844"), ("desktop", "1280,900")] {
            let file = shots.join(format!("{name}-{device}.png"));
            let _ = std::fs::remove_file(&file);
            chromium(&[
                &format!("--screenshot={}", file.display()),
                &format!("--window-size={size}"),
                &url,
            ]);
            let png = std::fs::read(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
            assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"), "{}", file.display());
            // A page that rendered (text, rules, colours) compresses far
            // less than a blank one, which is a few kilobytes.
            assert!(
                png.len() > 20_000,
                "{}: {} bytes",
                file.display(),
                png.len()
            );
            // The masthead's band (#f6f3ee) shows only if the style sheet
            // the page links to was found and applied.
            if device == "phone" {
                let band = pixels_of_colour(&file, "f6f3ee");
                assert!(
                    band > 5_000,
                    "{}: {band} pixels of the masthead band",
                    file.display()
                );
            }
            eprintln!("screenshot: {}", file.display());
        }
    }
}

#[test]
fn two_articles_with_one_page_are_an_error_naming_both_and_the_page_is_the_newer_ones() {
    let site = Site::new("");
    site.write(
        "Kinh tế/cu.md",
        "+++\ntitle = \"Bài cũ\"\nslug = \"gia-lua\"\ndate = \"2026-01-01 08:00\"\n+++\nCũ.\n",
    );
    site.write(
        "Kinh tế/moi.md",
        "+++\ntitle = \"Bài mới\"\nslug = \"gia-lua\"\ndate = \"2026-01-02 08:00\"\n+++\nMới.\n",
    );
    for command in ["check", "build"] {
        let run = site.run(command);
        assert_eq!(run.code, Some(1), "{command}: {run}");
        let line = run.error_about(&site.article("Kinh tế/cu.md"), "same page");
        let newer = site.article("Kinh tế/moi.md").display().to_string();
        assert!(line.contains(&newer), "{line}");
        assert!(line.contains("/kinh-te/gia-lua.html"), "{line}");
        assert!(line.contains("slug"), "{line}");
    }
    // Both stay in the feeds; the page is the newer article's.
    let page = String::from_utf8(site.pages()["/kinh-te/gia-lua.html"].clone()).unwrap();
    assert!(page.contains("Bài mới") && !page.contains("Bài cũ"));
    let feed = String::from_utf8(site.files()["/kinh-te/rss.xml"].clone()).unwrap();
    assert!(feed.contains("Bài mới") && feed.contains("Bài cũ"));
}

#[test]
fn serve_warns_of_a_second_article_with_one_page_as_soon_as_it_is_saved() {
    let site = Site::new("");
    site.write(
        "Kinh tế/cu.md",
        "+++\ntitle = \"Bài cũ\"\nslug = \"gia-lua\"\ndate = \"2026-01-01 08:00\"\n+++\nCũ.\n",
    );
    let serve = site.serve();
    serve.wait_for_log("the first build", "reason=\"startup\"");
    assert_eq!(serve.log_count("has the same page"), 0);
    site.write(
        "Kinh tế/moi.md",
        "+++\ntitle = \"Bài mới\"\nslug = \"gia-lua\"\ndate = \"2026-01-02 08:00\"\n+++\nMới.\n",
    );
    serve.wait_for_log("a warning naming both files", "has the same page");
    let old = site.article("Kinh tế/cu.md").display().to_string();
    serve.wait_until("the warning names the older file", || {
        serve.log_count(&old) > 0
    });
}

#[test]
fn serve_gives_a_shared_page_to_the_newer_article_whichever_was_saved_last_and_to_the_next_when_it_goes()
 {
    let site = Site::new("");
    let newer =
        "+++\ntitle = \"Bài mới\"\nslug = \"gia-lua\"\ndate = \"2026-01-02 08:00\"\n+++\nMới.\n";
    let older =
        "+++\ntitle = \"Bài cũ\"\nslug = \"gia-lua\"\ndate = \"2026-01-01 08:00\"\n+++\nCũ.\n";
    site.write("Kinh tế/moi.md", newer);
    let serve = site.serve();
    let page = |serve: &common::Serve| {
        let response = serve.get("/kinh-te/gia-lua.html");
        (
            response.status,
            String::from_utf8_lossy(&response.body).into_owned(),
        )
    };
    assert!(page(&serve).1.contains("Bài mới"));

    // The older article, saved last, must not take the page over.
    site.write("Kinh tế/cu.md", older);
    serve.wait_for_log("the older article read", "has the same page");
    assert_served_equals_fresh_build(&site, &serve);
    assert!(page(&serve).1.contains("Bài mới"));

    // The newer one deleted: the page shows the older one, not the deleted text.
    site.remove("Kinh tế/moi.md");
    serve.wait_until("the page of the remaining article", || {
        page(&serve).1.contains("Bài cũ")
    });
    assert_served_equals_fresh_build(&site, &serve);

    site.remove("Kinh tế/cu.md");
    serve.wait_until("the page gone", || page(&serve).0 == 404);
    assert_served_equals_fresh_build(&site, &serve);
}

#[test]
fn a_page_url_no_file_can_have_is_a_404_not_a_server_error() {
    let site = Site::new("");
    site.write("Kinh tế/a.md", "+++\ntitle = \"A\"\n+++\nA.\n");
    let serve = site.serve();
    let long = "a".repeat(300);
    for path in [
        format!("/kinh-te/{long}.html"),
        format!("/{long}.html"),
        format!("/{long}/a.html"),
        format!("/kinh-te/{long}-2.xml"),
        "/kinh-te/a.html/b.html".to_string(),
    ] {
        assert_eq!(serve.get(&path).status, 404, "{path}");
    }
    assert_eq!(serve.get("/kinh-te/a.html").status, 200);
}

#[test]
fn serve_warns_of_a_second_article_with_one_id_and_serves_what_a_build_writes() {
    let site = Site::new("");
    site.write(
        "Kinh tế/moi.md",
        "+++\ntitle = \"Bài mới\"\nid = \"tag:x,2026:mot\"\ndate = \"2026-01-02 08:00\"\n+++\nMới.\n",
    );
    let serve = site.serve();
    site.write(
        "Kinh tế/cu.md",
        "+++\ntitle = \"Bài cũ\"\nid = \"tag:x,2026:mot\"\ndate = \"2026-01-01 08:00\"\n+++\nCũ.\n",
    );
    serve.wait_for_log("a warning naming both files", "has the same id");
    let feeds = assert_served_equals_fresh_build(&site, &serve);
    let rss = String::from_utf8(feeds["/kinh-te/rss.xml"].clone()).unwrap();
    assert!(rss.contains("Bài mới") && !rss.contains("Bài cũ"), "{rss}");
}

#[test]
fn index_html_redirects_to_its_folder_and_percent_encoded_letters_name_the_same_documents() {
    let site = Site::new("");
    site.write("Kinh tế/a.md", "+++\ntitle = \"A\"\n+++\nA.\n");
    let serve = site.serve();
    for (index, folder) in [("/index.html", "/"), ("/kinh%2Dte/index.html", "/kinh-te/")] {
        let redirect = serve.get(index);
        assert_eq!(redirect.status, 301, "{index}");
        assert_eq!(redirect.header("location"), Some(folder), "{index}");
    }
    for (alias, canonical) in [
        ("/kinh%2Dte/rss.xml", "/kinh-te/rss.xml"),
        ("/%6Binh-te/%61.html", "/kinh-te/a.html"),
        ("/%66eed.json", "/feed.json"),
    ] {
        let (a, b) = (serve.get(alias), serve.get(canonical));
        assert_eq!((a.status, b.status), (200, 200), "{alias}");
        assert_eq!(a.body, b.body, "{alias}");
    }
    assert_eq!(serve.get("/kinh-te/index.htm").status, 404);
    assert_eq!(serve.get("/kinh-teindex.html").status, 404);
}
