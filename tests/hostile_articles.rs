//! Hostile article files, table-driven: bad encodings, bad bytes, bad sizes,
//! bad front matter, bad dates, markup meant to run in a reader, symlinks,
//! FIFOs, unreadable files, names that collide.
//!
//! Each case lives in its own category folder and states its outcome: the
//! title it is published with, or the file it is rejected for and fragments
//! of the message (the contracts in the README). Each is checked twice with
//! the real binary:
//!
//! - alone in a small site, by `feedd check` and `feedd build`: exit status,
//!   one error line naming the file, what the feeds hold;
//! - dropped live, one after another, into one running `feedd serve`: the
//!   daemon keeps running, it logs the rejection, every feed that was there
//!   before is unchanged and every feed parses, and what it serves equals a
//!   fresh `feedd build` of the same tree into another folder.
//!
//! Running as root, read permissions do not stop reads (CAP_DAC_OVERRIDE), so
//! every feedd of this file then runs through `setpriv` with that
//! capability (and CAP_DAC_READ_SEARCH) dropped from its bounding set: still
//! root, owner of every file here, but bound by mode bits like any user.
//! Where setpriv cannot do that (a container without CAP_SETPCAP), only the
//! unreadable-file case is skipped, with a note.

mod common;

use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

use common::{SERVE_CONFIG, Site, assert_served_equals_fresh_build};

/// What feedd must do with a case.
enum Expect {
    /// Published in the feeds of `feed` (the case's folder if `None`) as
    /// an item titled `title`, and every fragment of `rss` is in the case's
    /// RSS file (its bytes) or in the HTML of its items.
    Published {
        title: &'static str,
        feed: Option<&'static str>,
        rss: &'static [&'static str],
    },
    /// `file` (under the case folder) is rejected: `check` and `build` exit
    /// 1 with a line starting with its path and holding every fragment of
    /// `message`; `serve` logs it as a warning. Nothing of it is published;
    /// with `also` another file of the case is published with that title.
    Rejected {
        file: &'static str,
        message: &'static [&'static str],
        also: Option<&'static str>,
    },
    /// Not published, and not an error (an article scheduled for later).
    Silent,
}

struct Case {
    /// The category folder, already a slug.
    name: &'static str,
    /// Creates the case's files in its folder; `outside` is a folder outside
    /// the articles tree.
    make: fn(folder: &Path, outside: &Path),
    expect: Expect,
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
}

fn symlink(target: impl AsRef<Path>, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

/// Deterministic bytes that are almost surely not text.
fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state = state
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (state >> 56) as u8
        })
        .collect()
}

const SYMLINK: &[&str] = &["is a symbolic link; feedd does not follow symbolic links"];
const NOT_UTF8: &[&str] = &["not valid UTF-8"];

fn published(title: &'static str) -> Expect {
    Expect::Published {
        title,
        feed: None,
        rss: &[],
    }
}

fn rejected(file: &'static str, message: &'static [&'static str]) -> Expect {
    Expect::Rejected {
        file,
        message,
        also: None,
    }
}

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "slug-too-long",
            make: |d, _| {
                let slug = "a".repeat(300);
                write(
                    &d.join("a.md"),
                    format!("+++\ntitle = \"Dài\"\nslug = \"{slug}\"\n+++\nThân.\n"),
                )
            },
            expect: rejected("a.md", &[":3:8: the slug is 300 characters long"]),
        },
        Case {
            name: "slug-of-a-file-name-too-long",
            make: |d, _| {
                write(
                    &d.join(format!("{}.txt", "b".repeat(230))),
                    "Dài\n\nThân.\n",
                )
            },
            expect: Expect::Rejected {
                file: "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb.txt",
                message: &["made from the file name", "rename the file"],
                also: None,
            },
        },
        Case {
            name: "slug-index",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "+++\ntitle = \"Chỉ mục\"\nslug = \"index\"\n+++\nThân.\n",
                );
                write(&d.join("b.txt"), "Bài thường\n\nThân.\n");
            },
            expect: Expect::Rejected {
                file: "a.md",
                message: &[":3:8: the slug `index` would make its page the category's front page"],
                also: Some("Bài thường"),
            },
        },
        Case {
            name: "file-named-index",
            make: |d, _| {
                write(&d.join("index.txt"), "Chỉ mục\n\nThân.\n");
                write(&d.join("b.txt"), "Bài thường\n\nThân.\n");
            },
            expect: Expect::Rejected {
                file: "index.txt",
                message: &["the slug `index`", "made from the file name"],
                also: Some("Bài thường"),
            },
        },
        Case {
            name: "invalid-utf8",
            make: |d, _| {
                write(
                    &d.join("a.txt"),
                    [&b"Tin hong\n\nabc "[..], b"\xff def\n"].concat(),
                )
            },
            expect: rejected("a.txt", &[":3:5: not valid UTF-8"]),
        },
        Case {
            name: "windows-1258",
            // "Giá lúa tăng" as Windows-1258 bytes.
            make: |d, _| {
                write(
                    &d.join("a.txt"),
                    b"Gi\xe1 l\xfaa t\xe3ng\n\nN\xf4ng d\xe2n vui.\n",
                )
            },
            expect: rejected("a.txt", NOT_UTF8),
        },
        Case {
            name: "vni",
            // "Việt Nam" in VNI: ASCII letters followed by mark bytes.
            make: |d, _| write(&d.join("a.txt"), b"Vie\xe4t Nam\n\nNo\xe2ng d\xe2n.\n"),
            expect: rejected("a.txt", NOT_UTF8),
        },
        Case {
            name: "tcvn3",
            // "Việt Nam" in TCVN3 (ABC).
            make: |d, _| write(&d.join("a.txt"), b"Vi\xd6t Nam\n\nN\xabng d\xa9n.\n"),
            expect: rejected("a.txt", NOT_UTF8),
        },
        Case {
            // What Windows Notepad saves as "Unicode": the error names
            // UTF-16, where the generic hint would name Windows-1258.
            name: "utf16le-bom",
            make: |d, _| {
                let mut bytes = vec![0xFF, 0xFE];
                for unit in "Tiêu đề UTF-16\n\nThân bài.\n".encode_utf16() {
                    bytes.extend_from_slice(&unit.to_le_bytes());
                }
                write(&d.join("a.txt"), bytes);
            },
            expect: rejected(
                "a.txt",
                &["a.txt:1:1:", "UTF-16LE", "iconv -f UTF-16 -t UTF-8"],
            ),
        },
        Case {
            name: "utf16be-bom",
            make: |d, _| {
                let mut bytes = vec![0xFE, 0xFF];
                for unit in "+++\ntitle = \"Tin\"\n+++\nThân bài.\n".encode_utf16() {
                    bytes.extend_from_slice(&unit.to_be_bytes());
                }
                write(&d.join("a.md"), bytes);
            },
            expect: rejected(
                "a.md",
                &["a.md:1:1:", "UTF-16BE", "iconv -f UTF-16 -t UTF-8"],
            ),
        },
        Case {
            name: "nul-bytes",
            make: |d, _| write(&d.join("a.txt"), "Tin có\0 NUL\n\nĐoạn\0 có byte NUL.\n"),
            expect: Expect::Published {
                title: "Tin có NUL",
                feed: None,
                rss: &["Đoạn có byte NUL."],
            },
        },
        Case {
            name: "control-chars",
            make: |d, _| {
                write(
                    &d.join("a.txt"),
                    "Tin\u{1}\u{8} điều\u{b}\u{c} khiển\u{1b}\n\nĐoạn\u{7f}\u{1f} lạ\u{ffff}.\n",
                )
            },
            expect: published("Tin điều khiển"),
        },
        Case {
            name: "c1-controls",
            // DEL and C1 controls, raw and as Markdown character references:
            // gone from every feed and page; NEL is a line break.
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "# Tin\u{7f} C1\u{9f}\n\nMột\u{85}hai &#x9f; ba &#127; bốn\u{80}.\n",
                )
            },
            expect: Expect::Published {
                title: "Tin C1",
                feed: None,
                rss: &["Một\nhai  ba  bốn."],
            },
        },
        Case {
            name: "oversized",
            make: |d, _| {
                let mut text = "Tin rất lớn\n\n".as_bytes().to_vec();
                text.resize(1_048_577, b'a');
                write(&d.join("a.txt"), text);
            },
            expect: rejected(
                "a.txt",
                &["the file is 1048577 bytes, more than feeds.max_article_bytes (1048576)"],
            ),
        },
        Case {
            name: "long-line",
            make: |d, _| {
                let line = "chữ ".repeat(160_000); // 960,000 bytes on one line
                write(&d.join("a.txt"), format!("Dòng rất dài\n\n{line}\n"));
            },
            expect: published("Dòng rất dài"),
        },
        Case {
            name: "binary",
            make: |d, _| write(&d.join("a.txt"), noise(4096)),
            expect: rejected("a.txt", NOT_UTF8),
        },
        Case {
            name: "empty",
            make: |d, _| write(&d.join("a.txt"), ""),
            expect: rejected("a.txt", &["the file is empty"]),
        },
        Case {
            name: "whitespace-only",
            make: |d, _| write(&d.join("a.txt"), " \n\t\r\n  \n"),
            expect: rejected("a.txt", &["the file is empty"]),
        },
        Case {
            name: "title-only",
            make: |d, _| write(&d.join("a.txt"), "Chỉ có tiêu đề"),
            expect: published("Chỉ có tiêu đề"),
        },
        Case {
            name: "front-matter-only",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "+++\ntitle = \"Chỉ có front matter\"\n+++\n",
                )
            },
            expect: published("Chỉ có front matter"),
        },
        Case {
            name: "bom-and-crlf",
            make: |d, _| write(&d.join("a.txt"), "\u{feff}Tiêu đề BOM\r\n\r\nĐoạn một.\r\n"),
            expect: published("Tiêu đề BOM"),
        },
        Case {
            name: "unterminated-front-matter",
            make: |d, _| write(&d.join("a.md"), "+++\ntitle = \"Mở\"\n\nThân bài.\n"),
            expect: rejected("a.md", &[":1:1: front matter", "never closed"]),
        },
        Case {
            name: "wrong-type",
            make: |d, _| write(&d.join("a.md"), "+++\ntitle = 5\n+++\nThân bài.\n"),
            expect: rejected("a.md", &[":2:9: front matter", "invalid type"]),
        },
        Case {
            name: "unknown-key",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "+++\ntitel = \"Gõ nhầm\"\n+++\nThân bài.\n",
                )
            },
            expect: rejected("a.md", &[":2:1: front matter", "titel"]),
        },
        Case {
            name: "year-0",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "+++\ntitle = \"Năm 0\"\ndate = \"0000-01-01\"\n+++\nThân.\n",
                )
            },
            expect: rejected("a.md", &[":3:8: date:"]),
        },
        Case {
            name: "year-9999",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "+++\ntitle = \"Năm 9999\"\ndate = \"9999-01-01\"\n+++\nThân.\n",
                )
            },
            expect: Expect::Silent,
        },
        Case {
            name: "year-10000",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "+++\ntitle = \"Năm 10000\"\ndate = \"10000-01-01\"\n+++\nThân.\n",
                )
            },
            expect: rejected("a.md", &[":3:8: date:"]),
        },
        Case {
            name: "negative-year",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "+++\ntitle = \"Năm âm\"\ndate = \"-0044-03-15\"\n+++\nThân.\n",
                )
            },
            expect: rejected("a.md", &[":3:8: date:"]),
        },
        Case {
            name: "february-30",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "+++\ntitle = \"30 tháng 2\"\ndate = \"2026-02-30\"\n+++\nThân.\n",
                )
            },
            expect: rejected("a.md", &[":3:8: date:"]),
        },
        Case {
            name: "hour-25",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "+++\ntitle = \"25 giờ\"\ndate = \"2026-11-20 25:61\"\n+++\nThân.\n",
                )
            },
            expect: rejected("a.md", &[":3:8: date:"]),
        },
        Case {
            name: "date-typo",
            // A Vietnamese letter typed into a date: a byte slice in the
            // date parser used to panic on it.
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "+++\ntitle = \"Gõ nhầm ngày\"\ndate = \"2026-11-2Đx\"\n+++\nThân.\n",
                )
            },
            expect: rejected("a.md", &[":3:8: date:"]),
        },
        Case {
            name: "date-in-name-impossible",
            make: |d, _| write(&d.join("2026-13-45-bai.txt"), "Ngày trong tên\n\nThân.\n"),
            expect: rejected("2026-13-45-bai.txt", &["2026-13-45"]),
        },
        Case {
            name: "cdata-end-text",
            make: |d, _| {
                write(
                    &d.join("a.txt"),
                    "Tiêu đề ]]> lạ\n\nĐoạn có ]]> và <![CDATA[ giữa câu.\n",
                )
            },
            expect: published("Tiêu đề ]]> lạ"),
        },
        Case {
            name: "cdata-end-front-matter",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "+++\ntitle = \"A ]]> B\"\nsummary = \"x ]]> y <![CDATA[\"\nauthor = \"]]>\"\n+++\nThân ]]> bài.\n",
                )
            },
            expect: published("A ]]> B"),
        },
        Case {
            name: "script-in-text",
            make: |d, _| {
                write(
                    &d.join("a.txt"),
                    "Tin có <b>thẻ</b>\n\n<script>alert(1)</script> và <b>đậm</b> <img src=x onerror=alert(2)>.\n",
                )
            },
            expect: Expect::Published {
                title: "Tin có <b>thẻ</b>",
                feed: None,
                rss: &["&amp;lt;script&amp;gt;alert(1)", "&amp;lt;b&amp;gt;đậm"],
            },
        },
        Case {
            name: "script-in-front-matter",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "+++\ntitle = \"<script>alert(1)</script>\"\nsummary = \"<img src=x onerror=alert(2)>\"\nauthor = \"<script>alert(3)</script>\"\n+++\nThân bài.\n",
                )
            },
            expect: Expect::Published {
                title: "<script>alert(1)</script>",
                feed: None,
                rss: &["&amp;lt;img src=x onerror=alert(2)&amp;gt;"],
            },
        },
        Case {
            name: "markdown-raw-html",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "# Markdown có mã độc\n\nĐoạn đầu bình thường.\n\n<script>alert(1)</script>\n\n\
                     <img src=\"/anh.jpg\" onerror=\"alert(2)\">\n\n[bấm vào](javascript:alert(3)) và \
                     <a href=\"JaVaScRiPt:alert(4)\">đây</a>\n\n<table><tr><td>ô</td></tr></table>\n",
                )
            },
            expect: Expect::Published {
                title: "Markdown có mã độc",
                feed: None,
                rss: &["https://news.example.vn/anh.jpg", "<table>"],
            },
        },
        Case {
            name: "bo-nn-ptnt",
            make: |d, _| {
                write(
                    &d.join("a.txt"),
                    "Bộ NN&PTNT họp với Sở TT&TT\n\nBộ NN&PTNT và Sở TT&TT bàn về R&D; giá < 5 & > 3.\n",
                )
            },
            expect: Expect::Published {
                title: "Bộ NN&PTNT họp với Sở TT&TT",
                feed: None,
                rss: &["NN&amp;amp;PTNT", "TT&amp;amp;TT"],
            },
        },
        Case {
            name: "long-title",
            make: |d, _| {
                write(
                    &d.join("a.txt"),
                    format!("{}\n\nThân bài.\n", "Tít".repeat(40_000)),
                )
            },
            expect: rejected(
                "a.txt",
                &[":1:1: the title is 120000 characters long, more than 300"],
            ),
        },
        Case {
            name: "title-301",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    format!("+++\ntitle = \"{}\"\n+++\nThân bài.\n", "đ".repeat(301)),
                )
            },
            expect: rejected("a.md", &["the title is 301 characters long, more than 300"]),
        },
        Case {
            name: "title-300",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    format!("+++\ntitle = \"{}\"\n+++\nThân bài.\n", "đ".repeat(300)),
                )
            },
            expect: Expect::Published {
                // Checked by length below: 300 "đ".
                title: "",
                feed: None,
                rss: &[],
            },
        },
        Case {
            name: "symlink-loop",
            make: |d, _| symlink("..", &d.join("vong")),
            expect: rejected("vong", SYMLINK),
        },
        Case {
            name: "symlink-self",
            make: |d, _| symlink("a.txt", &d.join("a.txt")),
            expect: rejected("a.txt", SYMLINK),
        },
        Case {
            name: "symlink-out",
            make: |d, outside| {
                write(
                    &outside.join("ngoai.txt"),
                    "Bài ngoài cây\n\nKhông được đọc.\n",
                );
                symlink(outside.join("ngoai.txt"), &d.join("ngoai.txt"));
            },
            expect: rejected("ngoai.txt", SYMLINK),
        },
        Case {
            name: "symlink-folder-out",
            make: |d, outside| {
                write(
                    &outside.join("kho/bai.txt"),
                    "Bài trong kho ngoài\n\nKhông được đọc.\n",
                );
                symlink(outside.join("kho"), &d.join("kho"));
            },
            expect: rejected("kho", SYMLINK),
        },
        Case {
            name: "no-read-permission",
            make: |d, _| {
                use std::os::unix::fs::PermissionsExt;
                // Unreadable from its first moment (a hidden file is
                // ignored, and the rename is atomic): otherwise the daemon
                // could read it before the chmod and rightly keep that
                // version as the last good one.
                let hidden = d.join(".a.txt");
                write(&hidden, "Bài khóa\n\nKhông đọc được.\n");
                std::fs::set_permissions(&hidden, std::fs::Permissions::from_mode(0o000)).unwrap();
                std::fs::rename(&hidden, d.join("a.txt")).unwrap();
            },
            expect: rejected("a.txt", &["cannot read", "ermission denied"]),
        },
        Case {
            name: "folder-named-like-an-article",
            make: |d, _| {
                write(
                    &d.join("x.txt/bai.txt"),
                    "Bài trong thư mục x.txt\n\nThân.\n",
                )
            },
            expect: published("Bài trong thư mục x.txt"),
        },
        Case {
            name: "fifo",
            make: |d, _| {
                let status = Command::new("mkfifo")
                    .arg(d.join("ong.txt"))
                    .status()
                    .unwrap();
                assert!(status.success(), "mkfifo");
            },
            expect: rejected("ong.txt", &["is not a regular file"]),
        },
        Case {
            name: "nfc-nfd-twins",
            make: |d, _| {
                // NFC first, so that the order of creation cannot decide.
                write(&d.join("Gi\u{e1} l\u{fa}a.txt"), "Bản NFC\n\nThân.\n");
                write(&d.join("Gia\u{301} lu\u{301}a.txt"), "Bản NFD\n\nThân.\n");
            },
            // The NFD name's bytes sort first ("a" < "á").
            expect: Expect::Rejected {
                file: "Gi\u{e1} l\u{fa}a.txt",
                message: &[
                    "names the same article as",
                    "differ only in Unicode normalization",
                ],
                also: Some("Bản NFD"),
            },
        },
        // Last: 600 more feeds make every later fresh build slower.
        Case {
            name: "three-hundred-categories",
            make: |d, _| {
                let list: Vec<String> = (1..=300).map(|i| format!("\"the-loai-{i}\"")).collect();
                write(
                    &d.join("a.md"),
                    format!(
                        "+++\ntitle = \"Ba trăm chuyên mục\"\ncategories = [{}]\n+++\nThân bài.\n",
                        list.join(", ")
                    ),
                );
            },
            expect: Expect::Published {
                title: "Ba trăm chuyên mục",
                feed: Some("the-loai-300"),
                rss: &[],
            },
        },
        Case {
            // Asia/Ho_Chi_Minh's offset in year 1 is local mean time, with
            // seconds, which RFC 2822 and RFC 3339 cannot write.
            name: "year-1",
            make: |d, _| {
                write(
                    &d.join("a.md"),
                    "+++\ntitle = \"Năm 1\"\ndate = \"0001-01-01\"\n+++\nThân.\n",
                )
            },
            expect: published("Năm 1"),
        },
    ]
}

/// How feedd runs here so that read permissions bind (see the module docs).
enum Permissions {
    /// Not root: they bind anyway.
    Apply,
    /// Root: through this prefix, which drops the capabilities that bypass them.
    Through(&'static [&'static str]),
    /// Root, and setpriv cannot drop them (not installed, or no CAP_SETPCAP
    /// in this container): the unreadable-file case cannot be made.
    Bypassed,
}

fn permissions() -> Permissions {
    let uid = Command::new("id").arg("-u").output().unwrap();
    if String::from_utf8_lossy(&uid.stdout).trim() != "0" {
        return Permissions::Apply;
    }
    let prefix: &'static [&'static str] = &[
        "setpriv",
        "--bounding-set=-dac_override,-dac_read_search",
        "--",
    ];
    let works = Command::new(prefix[0])
        .args(&prefix[1..])
        .arg("true")
        .status()
        .is_ok_and(|s| s.success());
    if works {
        Permissions::Through(prefix)
    } else {
        Permissions::Bypassed
    }
}

/// The cases this machine can make: all but the unreadable file when root
/// cannot shed CAP_DAC_OVERRIDE (root reads any file whatever its mode).
fn runnable(cases: Vec<Case>) -> Vec<Case> {
    if !matches!(permissions(), Permissions::Bypassed) {
        return cases;
    }
    eprintln!(
        "note: no-read-permission skipped: running as root and setpriv (util-linux) cannot drop \
         CAP_DAC_OVERRIDE here, so file permissions do not stop feedd's reads"
    );
    cases
        .into_iter()
        .filter(|case| case.name != "no-read-permission")
        .collect()
}

fn new_site() -> Site {
    let mut site = Site::new(SERVE_CONFIG);
    if let Permissions::Through(prefix) = permissions() {
        site.set_command_prefix(prefix);
    }
    site
}

/// Titles of the items of a parsed feed, as text (an Atom title of type
/// html is decoded).
fn titles(feed: &feed_rs::model::Feed) -> Vec<String> {
    feed.entries
        .iter()
        .map(|e| {
            e.title.as_ref().map_or_else(String::new, |t| {
                if t.content_type.to_string().starts_with("text/html") {
                    html_unescape(&t.content)
                } else {
                    t.content.clone()
                }
            })
        })
        .collect()
}

/// Text from HTML that holds only text and character references.
fn html_unescape(html: &str) -> String {
    let mut out = String::new();
    let mut rest = html;
    while let Some(start) = rest.find('&') {
        out.push_str(&rest[..start]);
        rest = &rest[start..];
        let Some(end) = rest.find(';') else { break };
        let name = &rest[1..end];
        let decoded = match name {
            "lt" => Some('<'),
            "gt" => Some('>'),
            "amp" => Some('&'),
            "quot" => Some('"'),
            "apos" => Some('\''),
            _ => name
                .strip_prefix("#x")
                .or_else(|| name.strip_prefix("#X"))
                .and_then(|hex| u32::from_str_radix(hex, 16).ok())
                .or_else(|| name.strip_prefix('#').and_then(|dec| dec.parse().ok()))
                .and_then(char::from_u32),
        };
        match decoded {
            Some(c) => {
                out.push(c);
                rest = &rest[end + 1..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

/// Every HTML string of a feed's items, as a reader gets it after XML
/// parsing: RSS `description` (HTML, by RSS 2.0 and by what readers do) and
/// `content:encoded`, Atom `summary` and `content` when their type is html.
fn item_html(url: &str, feed: &feed_rs::model::Feed) -> Vec<String> {
    let rss = url.ends_with("rss.xml");
    let is_html = |media: String| media.starts_with("text/html");
    let mut html = Vec::new();
    for entry in &feed.entries {
        if let Some(summary) = &entry.summary
            && (rss || is_html(summary.content_type.to_string()))
        {
            html.push(summary.content.clone());
        }
        if let Some(content) = &entry.content
            && (rss || is_html(content.content_type.to_string()))
        {
            html.extend(content.body.clone());
        }
    }
    html
}

/// The tags of an HTML string, lowercased (`<a href="...">`); text, where
/// markup is escaped (`&lt;script&gt;`), is not a tag.
fn tags(html: &str) -> Vec<String> {
    let lower = html.to_lowercase();
    let mut found = Vec::new();
    let mut rest = lower.as_str();
    while let Some(start) = rest.find('<') {
        rest = &rest[start + 1..];
        if !rest.starts_with(|c: char| c.is_ascii_alphabetic() || c == '/') {
            continue;
        }
        let end = rest.find('>').unwrap_or(rest.len());
        found.push(format!("<{}>", &rest[..end]));
        rest = &rest[end..];
    }
    found
}

/// What a reader rendering items as HTML must never get: a script, an
/// event handler, a `javascript:` URL.
fn assert_no_live_markup(case: &str, url: &str, feed: &feed_rs::model::Feed) {
    for html in item_html(url, feed) {
        for tag in tags(&html) {
            let handler = tag
                .split(|c: char| c.is_ascii_whitespace() || c == '/' || c == '"' || c == '\'')
                .any(|word| word.starts_with("on") && word.contains('='));
            let bad = tag.starts_with("<script") || handler || tag.contains("javascript:");
            assert!(!bad, "{case}: {url} gives readers {tag:?} in HTML: {html}");
        }
    }
}

/// Checks the feeds in `feeds` (by URL path) against a case's expectation.
/// All of them must parse; those of the case (all of them if `alone`) must
/// give readers no live markup.
fn check_feeds(case: &Case, feeds: &BTreeMap<String, Vec<u8>>, alone: bool) {
    let parsed: BTreeMap<&String, feed_rs::model::Feed> = feeds
        .iter()
        .filter(|(url, _)| common::is_feed(url))
        .map(|(url, bytes)| (url, common::parse_feed(url, bytes)))
        .collect();
    let own = |kind: &str, slug: &str| format!("/{slug}/{kind}.xml");
    let case_feed = match &case.expect {
        Expect::Published {
            feed: Some(feed), ..
        } => feed,
        _ => case.name,
    };
    for (url, feed) in &parsed {
        if alone || url.starts_with(&format!("/{case_feed}/")) {
            assert_no_live_markup(case.name, url, feed);
        }
    }
    match &case.expect {
        Expect::Published { title, feed, rss } => {
            let slug = feed.unwrap_or(case.name);
            for kind in ["rss", "atom"] {
                let url = own(kind, slug);
                let feed = parsed
                    .get(&url)
                    .unwrap_or_else(|| panic!("{}: {url} is not published", case.name));
                let got = titles(feed);
                assert_eq!(got.len(), 1, "{}: {url} items {got:?}", case.name);
                if title.is_empty() {
                    assert_eq!(got[0], "đ".repeat(300), "{}", case.name);
                } else {
                    assert_eq!(got[0], *title, "{}: {url}", case.name);
                }
            }
            let rss_url = own("rss", slug);
            let rss_file = String::from_utf8_lossy(&feeds[&rss_url]).into_owned();
            let rss_html = item_html(&rss_url, &parsed[&rss_url]).join("\n");
            for fragment in *rss {
                assert!(
                    rss_file.contains(fragment) || rss_html.contains(fragment),
                    "{}: the RSS file lacks {fragment:?}:\n{rss_file}",
                    case.name
                );
            }
        }
        Expect::Rejected { also, .. } => {
            for kind in ["rss", "atom"] {
                let url = own(kind, case.name);
                match also {
                    Some(title) => {
                        let feed = parsed
                            .get(&url)
                            .unwrap_or_else(|| panic!("{}: {url} is not published", case.name));
                        assert_eq!(titles(feed), vec![title.to_string()], "{}", case.name);
                    }
                    None => assert!(
                        !parsed.contains_key(&url),
                        "{}: {url} is published: {:?}",
                        case.name,
                        titles(&parsed[&url])
                    ),
                }
            }
        }
        Expect::Silent => {
            for kind in ["rss", "atom"] {
                let url = own(kind, case.name);
                assert!(
                    !parsed.contains_key(&url),
                    "{}: {url} is published",
                    case.name
                );
            }
        }
    }
}

/// The path feedd names a case's file by.
fn case_path(site: &Site, case: &Case, file: &str) -> String {
    site.article(case.name).join(file).display().to_string()
}

#[test]
fn each_hostile_article_alone_gets_its_outcome_from_check_and_build() {
    let cases = runnable(cases());
    assert!(cases.len() >= 30);
    all_alone(&cases);
}

/// Runs [`check_alone`] for every case, reporting every failure at once.
fn all_alone(cases: &[Case]) {
    let mut failures = Vec::new();
    for case in cases {
        let outcome = std::panic::catch_unwind(|| check_alone(case));
        if let Err(panic) = outcome {
            failures.push(format!("[{}] {}", case.name, panic_message(&panic)));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {} cases failed:\n\n{}",
        failures.len(),
        cases.len(),
        failures.join("\n\n")
    );
}

fn panic_message(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_default()
}

fn check_alone(case: &Case) {
    let site = new_site();
    site.write("thoi-su/2026-11-20-tin.txt", "Tin tốt\n\nĐoạn mở đầu.\n");
    let folder = site.article(case.name);
    std::fs::create_dir_all(&folder).unwrap();
    let outside = site.root().join("outside");
    (case.make)(&folder, &outside);

    for command in ["check", "build"] {
        let run = site.run(command);
        let lines = run.stderr_lines();
        match &case.expect {
            Expect::Rejected { file, message, .. } => {
                assert_eq!(run.code, Some(1), "{}: {command}:\n{run}", case.name);
                let path = case_path(&site, case, file);
                let line = lines
                    .iter()
                    .find(|l| l.starts_with(&format!("{path}:")))
                    .unwrap_or_else(|| panic!("{}: {command} names no {path}:\n{run}", case.name));
                for fragment in *message {
                    assert!(
                        line.contains(fragment),
                        "{}: {command}: {fragment:?} not in {line:?}",
                        case.name
                    );
                }
                assert_eq!(lines.len(), 1, "{}: {command}: one line:\n{run}", case.name);
            }
            Expect::Published { .. } | Expect::Silent => {
                assert_eq!(run.code, Some(0), "{}: {command}:\n{run}", case.name);
                assert!(lines.is_empty(), "{}: {command}:\n{run}", case.name);
            }
        }
    }
    let feeds = site.files();
    check_feeds(case, &feeds, true);
    assert!(
        feeds.contains_key("/thoi-su/rss.xml"),
        "{}: the good article's feed is missing",
        case.name
    );
}

#[test]
fn hostile_articles_dropped_into_a_running_serve_change_nothing_else() {
    all_live(&runnable(cases()));
}

/// Drops every case, one after another, into one running `feedd serve`.
fn all_live(cases: &[Case]) {
    let site = new_site();
    site.write("thoi-su/2026-11-20-tin.txt", "Tin tốt\n\nĐoạn mở đầu.\n");
    site.write(
        "kinh-te/2026-11-21-gia.md",
        "+++\ntitle = \"Giá lúa\"\n+++\nGiá lúa tăng.\n",
    );
    let outside = site.root().join("outside");
    let mut serve = site.serve();
    assert_served_equals_fresh_build(&site, &serve);

    let mut failures = Vec::new();
    for (index, case) in cases.iter().enumerate() {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            drop_in(&site, &mut serve, case, index, &outside)
        }));
        if let Err(panic) = outcome {
            failures.push(format!("[{}] {}", case.name, panic_message(&panic)));
            // Go on with the other cases without this one, so that one
            // defect does not fail every later case too.
            let removed = std::fs::remove_dir_all(site.article(case.name));
            assert!(removed.is_ok(), "{}: {removed:?}", case.name);
            let answers = std::net::TcpStream::connect(&serve.address).is_ok();
            if !serve.is_running() || !answers {
                let log = serve.log();
                let tail = &log[log.len().saturating_sub(5)..];
                failures.push(format!(
                    "[{}] feedd serve died or stopped answering; restarted without the case; \
                     its last lines:\n{}",
                    case.name,
                    tail.join("\n")
                ));
                serve = site.serve();
            }
            assert_served_equals_fresh_build(&site, &serve);
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

fn drop_in(site: &Site, serve: &mut common::Serve, case: &Case, index: usize, outside: &Path) {
    let before = serve.served(site.file_paths());
    let folder = site.article(case.name);
    std::fs::create_dir_all(&folder).unwrap();
    (case.make)(&folder, outside);
    // A marker written after the case: once it is served, the case's file
    // events have been handled (they come first, in the same batch or an
    // earlier one).
    let marker = format!("Mốc {index}");
    site.write(
        format!("marker/{index:02}.txt"),
        format!("{marker}\n\nSau {}.\n", case.name),
    );
    serve.wait_until(&format!("{}: the marker", case.name), || {
        let response = serve.get("/marker/rss.xml");
        response.status == 200 && String::from_utf8_lossy(&response.body).contains(&marker)
    });
    assert!(serve.is_running(), "{}: feedd serve died", case.name);

    if let Expect::Rejected { file, message, .. } = &case.expect {
        let path = case_path(site, case, file);
        // The warning is logged before the marker is published, but the
        // thread that collects the log may not have read it yet.
        serve.wait_until(
            &format!("{}: a warning naming {path} with {message:?}", case.name),
            || {
                serve.log().into_iter().any(|line| {
                    line.contains("WARN")
                        && line.contains(&path)
                        && message.iter().all(|fragment| line.contains(fragment))
                })
            },
        );
    }

    let fresh = assert_served_equals_fresh_build(site, serve);
    check_feeds(case, &fresh, false);
    let own = format!("/{}/", case.name);
    for (url, bytes) in &before {
        let changes_allowed = url == "/rss.xml"
            || url == "/atom.xml"
            || url == "/feed.json"
            // The site's archive pages: a case's article may be dated
            // among them, which moves every newer one.
            || feedd::output::ArchivePage::parse(url)
                .is_some_and(|page| page.scope == feedd::output::Scope::All)
            // The list of feeds gains or loses the case's own category.
            || url == "/feeds.opml"
            // The front page lists the newest headlines and every category.
            || url == "/"
            || url.starts_with("/marker/")
            || url.starts_with(&own);
        if !changes_allowed {
            assert!(
                fresh.get(url) == Some(bytes),
                "{}: {url} changed or went away",
                case.name
            );
        }
    }
}
