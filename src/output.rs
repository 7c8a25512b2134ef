//! The output's URL space, typed: every file feedd writes and serves is an
//! [`OutputPath`], a [`Scope`] (which articles) in a [`Format`] (which
//! document). From it come the URL path, the file under the output folder
//! (which mirrors the URL space, so any static server can serve it), the
//! `Content-Type`, and back: [`OutputPath::parse`] of a URL path and
//! [`OutputPath::from_relative_file`] of a file found on disk.
//!
//! This is the only place that knows the layout. Only what parses here is
//! ever written, read back or served, which is what keeps writes inside the
//! output folder and traversal out of the server. It must not know what the
//! documents contain, how they are rendered, or how they are served.
//!
//! A new kind of output is one variant here, and the compiler then lists
//! every `match` that must learn about it (renderers, the feed count). Done:
//! RSS, Atom, JSON Feed (`/feed.json`, `/{category}/feed.json`), the
//! OPML list of every feed (`/feeds.opml`, of [`Scope::All`] only, which
//! `parse` enforces), and the HTML pages of the site and of each category
//! (`/`, `/{category}/`): [`Format::Html`], whose URL ends in `/` while its
//! file is `index.html` ([`OutputPath::url_path`] and
//! [`OutputPath::relative_file`] are separate for this reason), and the
//! pages' style sheet (`/style.css`, of [`Scope::All`] only).
//!
//! The archive pages of a scope's RSS and Atom feeds (RFC 5005,
//! `/{category}/atom-2.xml`) are an [`ArchivePage`]: a scope, a feed format
//! and a page number, typed here like every output but not an
//! [`OutputPath`], for the same reason as article pages below: together
//! they hold every article's body (more than once: in the site's pages and
//! its categories'), far too much for the publisher's maps and the served
//! snapshot, so `history` writes them to the output folder and the server
//! reads them from there.
//!
//! Article pages (`/{category}/{slug}.html`) are not a scope of feeds and
//! not an [`OutputPath`]: there is one per article, far too many to hold in
//! the publisher's maps or the served snapshot, so they are an
//! [`ArticlePage`] of their own, written by `pages` and served from the
//! output folder on request. An `ArticlePage` never parses as an
//! `OutputPath` and the other way round (its file name is a slug plus
//! `.html`, never `index.html`).

use std::fmt;
use std::num::NonZeroU32;
use std::path::{Component, Path, PathBuf};

/// Which articles a feed holds.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Every published article.
    All,
    /// One category, by slug.
    Category(String),
}

impl Scope {
    /// Whether this scope can be a folder of the URL space: the site itself,
    /// or a category whose slug is one or more lowercase ASCII letters,
    /// digits and `-` (what `slug::slugify` makes; anything else, such as
    /// `..` or `%2e`, could leave the output folder).
    pub fn is_well_formed(&self) -> bool {
        match self {
            Scope::All => true,
            Scope::Category(slug) => is_slug(slug),
        }
    }
}

/// Which document of a scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Format {
    /// RSS 2.0, `rss.xml`.
    Rss,
    /// Atom 1.0, `atom.xml`.
    Atom,
    /// JSON Feed 1.1, `feed.json`.
    JsonFeed,
    /// OPML 2.0 list of every feed, `feeds.opml`: site-wide, so only of
    /// [`Scope::All`].
    Opml,
    /// The HTML page of the scope (the site's front page, a category's
    /// page): file `index.html`, URL path ending in `/`.
    Html,
    /// The style sheet every page links to, `style.css`: site-wide, so only
    /// of [`Scope::All`]. One file a browser caches, where a copy inlined
    /// in each page made up a third of an article page's bytes.
    Stylesheet,
}

impl Format {
    /// Every format, in the order feeds are rendered.
    pub const ALL: [Format; 6] = [
        Format::Rss,
        Format::Atom,
        Format::JsonFeed,
        Format::Opml,
        Format::Html,
        Format::Stylesheet,
    ];

    /// Whether a document of this format exists for `scope`: every format
    /// for the site, the feeds (not the site-wide list) for a category.
    pub fn is_of(self, scope: &Scope) -> bool {
        match self {
            Format::Opml | Format::Stylesheet => *scope == Scope::All,
            Format::Rss | Format::Atom | Format::JsonFeed | Format::Html => true,
        }
    }

    /// Whether it is a feed of its scope's articles (RSS, Atom, JSON Feed),
    /// rather than a document about the feeds.
    pub fn is_feed(self) -> bool {
        !matches!(self, Format::Opml | Format::Html | Format::Stylesheet)
    }

    /// The last segment of the URL path, and the file's name.
    pub fn file_name(self) -> &'static str {
        match self {
            Format::Rss => "rss.xml",
            Format::Atom => "atom.xml",
            Format::JsonFeed => "feed.json",
            Format::Opml => "feeds.opml",
            Format::Html => INDEX_HTML,
            Format::Stylesheet => "style.css",
        }
    }

    /// The last segment of the URL path: the file name, except for a page,
    /// which is served under its folder's URL (`/`, `/{category}/`).
    fn url_name(self) -> &'static str {
        match self {
            Format::Html => "",
            other => other.file_name(),
        }
    }

    /// The `Content-Type` it is served with.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Rss => "application/rss+xml; charset=utf-8",
            Format::Atom => "application/atom+xml; charset=utf-8",
            // JSON Feed 1.1's own type; JSON is UTF-8 by definition, but
            // the charset keeps browsers that show it raw from guessing.
            Format::JsonFeed => "application/feed+json; charset=utf-8",
            // What feed readers and OPML editors expect (OPML has no
            // registered type).
            Format::Opml => "text/x-opml; charset=utf-8",
            Format::Html => HTML_CONTENT_TYPE,
            Format::Stylesheet => "text/css; charset=utf-8",
        }
    }

    fn of_file_name(name: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|format| format.file_name() == name)
    }

    fn of_url_name(name: &str) -> Option<Format> {
        Format::ALL
            .into_iter()
            .find(|format| format.url_name() == name)
    }
}

/// One document of the output: a scope in a format.
///
/// `Debug` and `Display` show the URL path, which is how logs and errors
/// name a feed.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct OutputPath {
    /// Which articles.
    pub scope: Scope,
    /// Which document.
    pub format: Format,
}

impl OutputPath {
    /// The `format` document of `scope`.
    pub fn new(scope: Scope, format: Format) -> OutputPath {
        OutputPath { scope, format }
    }

    /// Every document of `scope`, one per format it has.
    pub fn all_of(scope: &Scope) -> impl Iterator<Item = OutputPath> + '_ {
        Format::ALL
            .into_iter()
            .filter(|format| format.is_of(scope))
            .map(|format| OutputPath::new(scope.clone(), format))
    }

    /// The URL path: `/rss.xml`, `/{category}/atom.xml`, `/{category}/`, ...
    pub fn url_path(&self) -> String {
        match &self.scope {
            Scope::All => format!("/{}", self.format.url_name()),
            Scope::Category(slug) => format!("/{slug}/{}", self.format.url_name()),
        }
    }

    /// The file, relative to the output folder: `rss.xml`, `{category}/atom.xml`, ...
    pub fn relative_file(&self) -> PathBuf {
        match &self.scope {
            Scope::All => PathBuf::from(self.format.file_name()),
            Scope::Category(slug) => Path::new(slug).join(self.format.file_name()),
        }
    }

    /// The file in `output_dir`. Inside it only if [`OutputPath::is_well_formed`].
    pub fn file_in(&self, output_dir: &Path) -> PathBuf {
        output_dir.join(self.relative_file())
    }

    /// The `Content-Type` it is served with.
    pub fn content_type(&self) -> &'static str {
        self.format.content_type()
    }

    /// Whether [`OutputPath::parse`] accepts its URL path, so that its file
    /// is inside the output folder. Always true for paths that came from
    /// `parse` or from the catalog's slugs; the publisher checks it anyway,
    /// since it is what keeps a write inside the output folder.
    pub fn is_well_formed(&self) -> bool {
        self.scope.is_well_formed() && self.format.is_of(&self.scope)
    }

    /// The document a URL path names, if it is one: exactly `/{file}` or
    /// `/{category}/{file}`, with a lowercase ASCII slug and nothing else
    /// (no query, no `.` or `..`, no percent-encoding, no doubled or
    /// trailing `/`). Each document has one URL path, so a request is
    /// answered only under the name it is published under.
    pub fn parse(url_path: &str) -> Option<OutputPath> {
        let rest = url_path.strip_prefix('/')?;
        let (category, name) = match rest.split_once('/') {
            Some((category, name)) => (Some(category), name),
            None => (None, rest),
        };
        let format = Format::of_url_name(name)?;
        OutputPath::with_scope(category, format)
    }

    /// The document a file of the output folder holds, from its path
    /// relative to that folder (`rss.xml`, `{category}/atom.xml`); `None` for
    /// any other file.
    pub fn from_relative_file(relative: &Path) -> Option<OutputPath> {
        let mut names = relative.components().map(|component| match component {
            Component::Normal(name) => name.to_str(),
            _ => None,
        });
        match (names.next(), names.next(), names.next()) {
            (Some(file), None, _) => OutputPath::from_parts(None, file?),
            (Some(category), Some(file), None) => OutputPath::from_parts(Some(category?), file?),
            _ => None,
        }
    }

    fn from_parts(category: Option<&str>, file_name: &str) -> Option<OutputPath> {
        let format = Format::of_file_name(file_name)?;
        OutputPath::with_scope(category, format)
    }

    fn with_scope(category: Option<&str>, format: Format) -> Option<OutputPath> {
        let scope = match category {
            None => Scope::All,
            Some(slug) if is_slug(slug) => Scope::Category(slug.to_owned()),
            Some(_) => return None,
        };
        format.is_of(&scope).then(|| OutputPath::new(scope, format))
    }
}

impl fmt::Display for OutputPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url_path())
    }
}

impl fmt::Debug for OutputPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.url_path(), f)
    }
}

/// Compares with a URL path, so that tests and callers holding text need
/// not parse it first.
impl PartialEq<&str> for OutputPath {
    fn eq(&self, url_path: &&str) -> bool {
        self.url_path() == *url_path
    }
}

/// The file name of a scope's page.
const INDEX_HTML: &str = "index.html";
/// What every HTML page is served as.
const HTML_CONTENT_TYPE: &str = "text/html; charset=utf-8";

/// The page of one article, at its default link: `/{category}/{slug}.html`
/// (its primary category), or `/{slug}.html` for an article in no category.
/// Written by `pages`, served from the output folder (see the module doc).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArticlePage {
    /// The primary category's slug, if the article has a category.
    pub category: Option<String>,
    /// The article's slug.
    pub slug: String,
}

impl ArticlePage {
    /// The page of the article `slug` in `category`; `None` when the two
    /// cannot make a page's path: not slugs, or the slug `index`, whose file
    /// would be the category's (or the site's) own page.
    pub fn new(category: Option<&str>, slug: &str) -> Option<ArticlePage> {
        let page = ArticlePage {
            category: category.map(str::to_owned),
            slug: slug.to_owned(),
        };
        page.is_well_formed().then_some(page)
    }

    fn is_well_formed(&self) -> bool {
        is_slug(&self.slug) && self.slug != "index" && self.category.as_deref().is_none_or(is_slug)
    }

    /// The URL path, `/{category}/{slug}.html`.
    pub fn url_path(&self) -> String {
        match &self.category {
            Some(category) => format!("/{category}/{}.html", self.slug),
            None => format!("/{}.html", self.slug),
        }
    }

    /// The file, relative to the output folder.
    pub fn relative_file(&self) -> PathBuf {
        let file = format!("{}.html", self.slug);
        match &self.category {
            Some(category) => Path::new(category).join(file),
            None => PathBuf::from(file),
        }
    }

    /// The `Content-Type` it is served with.
    pub fn content_type() -> &'static str {
        HTML_CONTENT_TYPE
    }

    /// The page a URL path names, if it is one, spelled exactly as
    /// [`ArticlePage::url_path`] spells it (as [`OutputPath::parse`]).
    pub fn parse(url_path: &str) -> Option<ArticlePage> {
        let rest = url_path.strip_prefix('/')?;
        let (category, file) = match rest.split_once('/') {
            Some((category, file)) => (Some(category), file),
            None => (None, rest),
        };
        ArticlePage::new(category, file.strip_suffix(".html")?)
    }

    /// The page a file of the output folder is, from its path relative to
    /// that folder.
    pub fn from_relative_file(relative: &Path) -> Option<ArticlePage> {
        let mut names = relative.components().map(|component| match component {
            Component::Normal(name) => name.to_str(),
            _ => None,
        });
        let (category, file) = match (names.next(), names.next(), names.next()) {
            (Some(file), None, _) => (None, file?),
            (Some(category), Some(file), None) => (Some(category?), file?),
            _ => return None,
        };
        ArticlePage::new(category, file.strip_suffix(".html")?)
    }
}

impl fmt::Display for ArticlePage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url_path())
    }
}

/// One archive page of a scope's RSS or Atom feed (RFC 5005):
/// `/{category}/atom-{number}.xml`, `/rss-{number}.xml`. Page 1 holds the
/// oldest `feeds.limit` articles, page 2 the next, and so on: numbered from
/// the oldest, so that a new article never moves an older one to another
/// page. Written by `history`, served from the output folder.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ArchivePage {
    /// Which articles.
    pub scope: Scope,
    /// [`Format::Rss`] or [`Format::Atom`].
    pub format: Format,
    /// From the oldest page, 1.
    pub number: NonZeroU32,
}

impl ArchivePage {
    /// Page `number` of `scope`'s `format` feed; `None` for a format that
    /// has no archive pages (only RSS and Atom have) or a scope that is not
    /// a folder of the URL space.
    pub fn new(scope: Scope, format: Format, number: NonZeroU32) -> Option<ArchivePage> {
        let page = ArchivePage {
            scope,
            format,
            number,
        };
        page.is_well_formed().then_some(page)
    }

    fn is_well_formed(&self) -> bool {
        matches!(self.format, Format::Rss | Format::Atom) && self.scope.is_well_formed()
    }

    /// The file's (and the URL path's last segment's) name: `atom-2.xml`.
    fn file_name(&self) -> String {
        let stem = match self.format {
            Format::Rss => "rss",
            _ => "atom",
        };
        format!("{stem}-{}.xml", self.number)
    }

    /// The URL path, `/{category}/atom-2.xml`.
    pub fn url_path(&self) -> String {
        match &self.scope {
            Scope::All => format!("/{}", self.file_name()),
            Scope::Category(slug) => format!("/{slug}/{}", self.file_name()),
        }
    }

    /// The file, relative to the output folder.
    pub fn relative_file(&self) -> PathBuf {
        match &self.scope {
            Scope::All => PathBuf::from(self.file_name()),
            Scope::Category(slug) => Path::new(slug).join(self.file_name()),
        }
    }

    /// The `Content-Type` it is served with: its feed's.
    pub fn content_type(&self) -> &'static str {
        self.format.content_type()
    }

    /// The page a URL path names, if it is one, spelled exactly as
    /// [`ArchivePage::url_path`] spells it (no leading zero, no sign).
    pub fn parse(url_path: &str) -> Option<ArchivePage> {
        let rest = url_path.strip_prefix('/')?;
        match rest.split_once('/') {
            Some((category, name)) => ArchivePage::from_parts(Some(category), name),
            None => ArchivePage::from_parts(None, rest),
        }
    }

    /// The page a file of the output folder is, from its path relative to
    /// that folder.
    pub fn from_relative_file(relative: &Path) -> Option<ArchivePage> {
        let mut names = relative.components().map(|component| match component {
            Component::Normal(name) => name.to_str(),
            _ => None,
        });
        match (names.next(), names.next(), names.next()) {
            (Some(file), None, _) => ArchivePage::from_parts(None, file?),
            (Some(category), Some(file), None) => ArchivePage::from_parts(Some(category?), file?),
            _ => None,
        }
    }

    fn from_parts(category: Option<&str>, name: &str) -> Option<ArchivePage> {
        let (stem, number) = name.strip_suffix(".xml")?.split_once('-')?;
        let format = match stem {
            "rss" => Format::Rss,
            "atom" => Format::Atom,
            _ => return None,
        };
        // Only the canonical spelling: digits, no leading zero.
        if number.starts_with('0') || !number.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let number: NonZeroU32 = number.parse().ok()?;
        let scope = match category {
            None => Scope::All,
            Some(slug) => Scope::Category(slug.to_owned()),
        };
        ArchivePage::new(scope, format, number)
    }
}

impl fmt::Display for ArchivePage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.url_path())
    }
}

/// One or more lowercase ASCII letters, digits and `-`.
fn is_slug(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn output_path() -> impl Strategy<Value = OutputPath> {
        let scope = prop_oneof![
            Just(Scope::All),
            "[a-z0-9-]{1,24}".prop_map(Scope::Category),
        ];
        let format = proptest::sample::select(Format::ALL.to_vec());
        (scope, format)
            .prop_filter("a format of the scope", |(scope, format)| {
                format.is_of(scope)
            })
            .prop_map(|(scope, format)| OutputPath::new(scope, format))
    }

    proptest! {
        #[test]
        fn url_path_and_file_parse_back_to_the_same_path(path in output_path()) {
            prop_assert_eq!(OutputPath::parse(&path.url_path()), Some(path.clone()));
            prop_assert_eq!(OutputPath::from_relative_file(&path.relative_file()), Some(path.clone()));
            prop_assert!(path.is_well_formed());
            let relative = path.relative_file();
            prop_assert!(relative.components().all(|c| matches!(c, Component::Normal(_))));
        }

        /// Whatever the text, a path is accepted only under its own name:
        /// no second spelling (`//`, `%2e`, `./`, a query) reaches a feed.
        #[test]
        fn parse_accepts_only_the_canonical_spelling(text in "(/|[a-zA-Z0-9._%?#-]|đ|\\.\\.|rss\\.xml|atom\\.xml|feed\\.json|feeds\\.opml){0,8}") {
            if let Some(path) = OutputPath::parse(&text) {
                prop_assert_eq!(path.url_path(), text);
            }
        }

        #[test]
        fn a_mangled_path_is_rejected(path in output_path(), at in any::<prop::sample::Index>(), insert in prop::sample::select(vec!["/", ".", "..", "%2e", "A", "é", " ", "?", "\\", "\0"])) {
            let url = path.url_path();
            let at = at.index(url.len() + 1);
            let mangled = format!("{}{insert}{}", &url[..at], &url[at..]);
            prop_assert_eq!(OutputPath::parse(&mangled), None, "{:?}", mangled);
        }
    }

    #[test]
    fn feed_paths_are_the_four_shapes_with_a_slug() {
        for path in [
            "/rss.xml",
            "/atom.xml",
            "/chinh-tri/rss.xml",
            "/doi-song/atom.xml",
            "/2024/rss.xml",
            "/feed.json",
            "/kinh-te/feed.json",
            "/feeds.opml",
            "/",
            "/chinh-tri/",
        ] {
            assert_eq!(OutputPath::parse(path).unwrap().url_path(), path);
        }
        for path in [
            "",
            "rss.xml",
            "/index.html",
            "/chinh-tri/index.html",
            "/chinh-tri",
            "/chinh-tri//",
            "/secret.txt",
            "/x/y/rss.xml",
            "/../rss.xml",
            "/./rss.xml",
            "/%2e%2e/rss.xml",
            "/%2E%2E/rss.xml",
            "/chinh%2dtri/rss.xml",
            "/Chinh-tri/rss.xml",
            "/chinh_tri/rss.xml",
            "//rss.xml",
            "/chinh-tri//rss.xml",
            "/chinh-tri/rss.xml/",
            "/chinh-tri/feed.xml",
            "/chinh-tri/RSS.xml",
            "/đời-sống/rss.xml",
            "/doi-song\u{0}/rss.xml",
            "/rss.xml?x=1",
            "/rss.xml#top",
            "/x.xml",
            "/arss.xml",
            "/a/arss.xml",
            "/feed.JSON",
            "/kinh-te/feed.json/",
            "/kinh-te/feeds.json",
            "/kinh-te/feeds.opml",
            "/feeds.OPML",
            "/feeds.opml/",
        ] {
            assert_eq!(OutputPath::parse(path), None, "{path:?}");
        }
    }

    #[test]
    fn files_outside_the_layout_are_not_outputs() {
        for file in [
            "",
            ".",
            "/rss.xml",
            "../rss.xml",
            "./rss.xml",
            "x/y/rss.xml",
            "Kinh-te/rss.xml",
            ".feedd-abc.tmp",
            "kinh-te/.feedd-abc.tmp",
            "kinh-te",
        ] {
            assert_eq!(
                OutputPath::from_relative_file(Path::new(file)),
                None,
                "{file:?}"
            );
        }
        assert_eq!(
            OutputPath::from_relative_file(Path::new("kinh-te/atom.xml")),
            Some(OutputPath::new(
                Scope::Category("kinh-te".into()),
                Format::Atom
            ))
        );
    }

    #[test]
    fn each_format_has_its_content_type() {
        let of = |url_path| OutputPath::parse(url_path).unwrap().content_type();
        assert_eq!(of("/rss.xml"), "application/rss+xml; charset=utf-8");
        assert_eq!(of("/a/atom.xml"), "application/atom+xml; charset=utf-8");
        assert_eq!(of("/a/feed.json"), "application/feed+json; charset=utf-8");
        assert_eq!(of("/feeds.opml"), "text/x-opml; charset=utf-8");
        assert_eq!(of("/a/"), "text/html; charset=utf-8");
    }

    #[test]
    fn a_scope_that_is_not_a_slug_is_not_well_formed() {
        for slug in ["", "..", ".", "a/b", "%2e", "Kinh-te", "đ"] {
            let path = OutputPath::new(Scope::Category(slug.into()), Format::Rss);
            assert!(!path.is_well_formed(), "{slug:?}");
        }
    }

    #[test]
    fn every_scope_has_one_path_per_format() {
        let scope = Scope::Category("the-thao".into());
        let paths: Vec<String> = OutputPath::all_of(&scope).map(|p| p.url_path()).collect();
        assert_eq!(
            paths,
            [
                "/the-thao/rss.xml",
                "/the-thao/atom.xml",
                "/the-thao/feed.json",
                "/the-thao/"
            ]
        );
        let site: Vec<String> = OutputPath::all_of(&Scope::All)
            .map(|p| p.url_path())
            .collect();
        assert_eq!(
            site,
            [
                "/rss.xml",
                "/atom.xml",
                "/feed.json",
                "/feeds.opml",
                "/",
                "/style.css"
            ]
        );
        assert_eq!(
            format!("{:?}", OutputPath::new(Scope::All, Format::Atom)),
            "\"/atom.xml\""
        );
        let category_list = OutputPath::new(Scope::Category("a".into()), Format::Opml);
        assert!(!category_list.is_well_formed());
        assert_eq!(
            OutputPath::from_relative_file(Path::new("a/feeds.opml")),
            None
        );
    }

    #[test]
    fn a_page_is_served_under_its_folder_and_written_as_index_html() {
        let site = OutputPath::new(Scope::All, Format::Html);
        assert_eq!(site.url_path(), "/");
        assert_eq!(site.relative_file(), Path::new("index.html"));
        let category = OutputPath::new(Scope::Category("kinh-te".into()), Format::Html);
        assert_eq!(category.url_path(), "/kinh-te/");
        assert_eq!(category.relative_file(), Path::new("kinh-te/index.html"));
        assert_eq!(
            OutputPath::from_relative_file(Path::new("kinh-te/index.html")),
            Some(category)
        );
    }

    #[test]
    fn article_pages_are_a_slug_dot_html_and_never_an_output_path() {
        let page = ArticlePage::parse("/kinh-te/gia-lua.html").unwrap();
        assert_eq!(page.category.as_deref(), Some("kinh-te"));
        assert_eq!(page.relative_file(), Path::new("kinh-te/gia-lua.html"));
        assert_eq!(ArticlePage::parse("/gia-lua.html").unwrap().category, None);
        for path in [
            "/",
            "/kinh-te/",
            "/index.html",
            "/kinh-te/index.html",
            "/kinh-te/rss.xml",
            "/Kinh-te/a.html",
            "/kinh-te/A.html",
            "/kinh-te/.html",
            "/a/b/c.html",
            "/../a.html",
            "/kinh-te/a.html/",
            "/kinh-te/a.htm",
            "/kinh-te/a.html?x",
        ] {
            assert_eq!(ArticlePage::parse(path), None, "{path:?}");
        }
        for file in [
            "kinh-te/index.html",
            "index.html",
            "x/y/z.html",
            "../a.html",
        ] {
            assert_eq!(ArticlePage::from_relative_file(Path::new(file)), None);
        }
        assert_eq!(OutputPath::parse("/kinh-te/gia-lua.html"), None);
        assert_eq!(
            OutputPath::from_relative_file(Path::new("kinh-te/gia-lua.html")),
            None
        );
    }

    #[test]
    fn archive_pages_are_feed_name_dash_number_and_nothing_else() {
        let page = ArchivePage::parse("/kinh-te/atom-2.xml").unwrap();
        assert_eq!(page.scope, Scope::Category("kinh-te".into()));
        assert_eq!(page.format, Format::Atom);
        assert_eq!(page.number.get(), 2);
        assert_eq!(page.relative_file(), Path::new("kinh-te/atom-2.xml"));
        assert_eq!(page.content_type(), "application/atom+xml; charset=utf-8");
        let site = ArchivePage::parse("/rss-17.xml").unwrap();
        assert_eq!((site.scope, site.format), (Scope::All, Format::Rss));
        for path in [
            "/atom-0.xml",
            "/atom-02.xml",
            "/atom-+2.xml",
            "/atom--2.xml",
            "/atom-.xml",
            "/atom-2.XML",
            "/feed-2.json",
            "/feed.json-2.xml",
            "/rss-4294967296.xml",
            "/a/b/rss-2.xml",
            "/Kinh-te/rss-2.xml",
            "/kinh-te/rss-2.xml/",
            "/rss-2.html",
        ] {
            assert_eq!(ArchivePage::parse(path), None, "{path:?}");
        }
        for path in ["/atom-2.xml", "/kinh-te/rss-3.xml"] {
            assert_eq!(OutputPath::parse(path), None);
            assert_eq!(ArticlePage::parse(path), None);
        }
        assert_eq!(
            ArchivePage::new(Scope::All, Format::JsonFeed, NonZeroU32::MIN),
            None
        );
    }

    proptest! {
        #[test]
        fn archive_pages_parse_back_and_only_from_their_own_spelling(
            category in proptest::option::of("[a-z0-9-]{1,12}"),
            atom in any::<bool>(),
            number in 1u32..,
            text in "(/|[a-z0-9.+-]|rss|atom|\\.xml){0,8}",
        ) {
            let scope = category.map_or(Scope::All, Scope::Category);
            let format = if atom { Format::Atom } else { Format::Rss };
            let page = ArchivePage::new(scope, format, NonZeroU32::new(number).unwrap()).unwrap();
            prop_assert_eq!(ArchivePage::parse(&page.url_path()), Some(page.clone()));
            prop_assert_eq!(ArchivePage::from_relative_file(&page.relative_file()), Some(page.clone()));
            if let Some(page) = ArchivePage::parse(&text) {
                prop_assert_eq!(page.url_path(), text.clone());
                prop_assert_eq!(OutputPath::parse(&text), None);
                prop_assert_eq!(ArticlePage::parse(&text), None);
            }
        }
    }

    proptest! {
        #[test]
        fn article_pages_parse_back_and_only_from_their_own_spelling(
            category in proptest::option::of("[a-z0-9-]{1,12}"),
            slug in "[a-z0-9-]{1,12}",
            text in "(/|[a-zA-Z0-9._%?-]|\\.html|index){0,8}",
        ) {
            if let Some(page) = ArticlePage::new(category.as_deref(), &slug) {
                prop_assert_eq!(ArticlePage::parse(&page.url_path()), Some(page.clone()));
                prop_assert_eq!(ArticlePage::from_relative_file(&page.relative_file()), Some(page.clone()));
            }
            if let Some(page) = ArticlePage::parse(&text) {
                prop_assert_eq!(page.url_path(), text.clone());
                prop_assert_eq!(OutputPath::parse(&text), None);
            }
        }
    }
}
