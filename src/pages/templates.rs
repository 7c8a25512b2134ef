//! The HTML of every page, as maud templates: the markup is checked when
//! feedd compiles and every value is escaped unless marked `PreEscaped`
//! (only an article body, which `article::html` has sanitized already).
//!
//! Pure: each function takes what the page shows and returns its bytes.
//! Knows no catalog, disk or clock.

use maud::{DOCTYPE, Markup, PreEscaped, html};

/// The style of every page: system fonts that cover Vietnamese diacritics,
/// a measure of about 70 characters, line height 1.6, dark mode, contrast
/// of at least 4.5:1 (WCAG AA) for text and links. Served as `/style.css`,
/// which every page links to by a relative URL, so that it loads wherever
/// the output folder is served from (another host, a path prefix, a copy
/// opened from disk).
pub const STYLE: &str = "\
:root{color-scheme:light dark;--fg:#1b1b1b;--muted:#555;--accent:#a4161a;--bg:#fff;--rule:#ddd;--band:#f6f3ee}\
@media(prefers-color-scheme:dark){:root{--fg:#e9e9e9;--muted:#b0b0b0;--accent:#ff8a8f;--bg:#141414;--rule:#3a3a3a;--band:#1e1e1e}}\
*{box-sizing:border-box}\
html{-webkit-text-size-adjust:100%}\
body{margin:0;background:var(--bg);color:var(--fg);font:1.0625rem/1.6 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",\"Helvetica Neue\",Arial,sans-serif}\
a{color:var(--accent)}a:hover{text-decoration-thickness:2px}\
.skip{position:absolute;left:-999px}.skip:focus{left:1rem;top:1rem;background:var(--bg);padding:.5rem}\
.wrap{max-width:72rem;margin:0 auto;padding:0 1rem}\
.measure{max-width:70ch}\
.masthead{border-bottom:4px solid var(--accent);background:var(--band)}\
.masthead .wrap{padding-top:1rem;padding-bottom:.75rem}\
.brand{font:700 clamp(1.6rem,5vw,2.4rem)/1.15 Georgia,\"Noto Serif\",\"Times New Roman\",serif;margin:0;letter-spacing:-.01em}\
.brand a{color:var(--fg);text-decoration:none}\
.tagline{margin:.25rem 0 0;color:var(--muted)}\
nav.sections ul{list-style:none;margin:.75rem 0 0;padding:0;display:flex;flex-wrap:wrap;gap:.25rem 1.25rem;font-weight:600}\
nav.sections a{text-decoration:none}\
main{padding:1.5rem 0 2rem}\
.grid{display:grid;gap:2rem 2.5rem;grid-template-columns:repeat(auto-fit,minmax(min(100%,20rem),1fr))}\
.section h2{font-size:1.35rem;line-height:1.3;margin:0 0 .25rem;padding-bottom:.35rem;border-bottom:1px solid var(--rule)}\
.section h2 a{color:var(--fg);text-decoration:none}\
.desc{color:var(--muted);margin:.25rem 0 .75rem;font-size:.95rem}\
ul.headlines{list-style:none;margin:0;padding:0}\
ul.headlines li{padding:.6rem 0;border-bottom:1px solid var(--rule)}\
ul.headlines a{color:var(--fg);font-weight:600;text-decoration:none;line-height:1.35}\
ul.headlines a:hover{color:var(--accent);text-decoration:underline}\
.meta,time{color:var(--muted);font-size:.875rem}\
ul.headlines .meta{display:block;margin-top:.15rem}\
ul.headlines p{margin:.3rem 0 0;font-size:.95rem}\
.feeds{font-size:.9rem;margin:.75rem 0 0}\
.feeds a{display:inline-block;margin-right:.75rem;padding:.1rem .5rem;border:1px solid var(--rule);border-radius:3px;text-decoration:none}\
article h1{font:700 clamp(1.6rem,4.5vw,2.3rem)/1.25 Georgia,\"Noto Serif\",\"Times New Roman\",serif;margin:.25rem 0 .75rem}\
.kicker{font-weight:700;text-transform:uppercase;font-size:.8rem;letter-spacing:.06em}\
.kicker a{text-decoration:none}\
.byline{color:var(--muted);font-size:.9rem;border-bottom:1px solid var(--rule);padding-bottom:.75rem}\
.byline strong{color:var(--fg)}\
.body{font-size:1.125rem}\
.body p{margin:0 0 1.1em}\
.body img,.body video{max-width:100%;height:auto}\
.body pre{overflow-x:auto}\
.body table{border-collapse:collapse;display:block;overflow-x:auto}\
.body td,.body th{border:1px solid var(--rule);padding:.3rem .5rem}\
aside.subscribe{margin-top:2rem;padding:1rem;background:var(--band);border-left:4px solid var(--accent)}\
aside.subscribe h2{font-size:1rem;margin:0}\
footer.site{border-top:1px solid var(--rule);padding:1rem 0 2rem;color:var(--muted);font-size:.9rem}\
";

/// Words the pages show, in the site's language (Vietnamese or English).
#[derive(Debug, Clone, Copy)]
pub struct Labels {
    skip: &'static str,
    sections: &'static str,
    latest: &'static str,
    subscribe: &'static str,
    subscribe_all: &'static str,
    subscribe_category: &'static str,
    published: &'static str,
    updated: &'static str,
    by: &'static str,
    nothing: &'static str,
    home: &'static str,
    how: &'static str,
}

impl Labels {
    /// Whether a BCP 47 language tag is Vietnamese.
    pub fn is_vietnamese(language: &str) -> bool {
        let primary = language.split(['-', '_']).next().unwrap_or("");
        primary.eq_ignore_ascii_case("vi")
    }

    /// The labels for a BCP 47 language tag: Vietnamese for `vi`, else English.
    pub fn for_language(language: &str) -> Labels {
        if Labels::is_vietnamese(language) {
            Labels {
                skip: "Bỏ qua đến nội dung",
                sections: "Chuyên mục",
                latest: "Tin mới nhất",
                subscribe: "Theo dõi",
                subscribe_all: "Theo dõi mọi bài viết",
                subscribe_category: "Theo dõi chuyên mục này",
                published: "Đăng lúc",
                updated: "Cập nhật",
                by: "Tác giả",
                nothing: "Chưa có bài viết.",
                home: "Trang chủ",
                how: "Dán một trong các địa chỉ này vào trình đọc tin (Feedly, NetNewsWire, Thunderbird, newsboat…), hoặc chỉ cần dán địa chỉ trang này: trình đọc sẽ tự tìm thấy nguồn tin.",
            }
        } else {
            Labels {
                skip: "Skip to content",
                sections: "Sections",
                latest: "Latest",
                subscribe: "Subscribe",
                subscribe_all: "Subscribe to every article",
                subscribe_category: "Subscribe to this section",
                published: "Published",
                updated: "Updated",
                by: "By",
                nothing: "No articles yet.",
                home: "Home",
                how: "Paste one of these addresses into a feed reader (Feedly, NetNewsWire, Thunderbird, newsboat…), or just this page's address: readers find the feeds on their own.",
            }
        }
    }
}

/// What every page shares: the site's name and language.
#[derive(Debug, Clone, Copy)]
pub struct SiteInfo<'a> {
    /// `site.title`.
    pub title: &'a str,
    /// `site.description`.
    pub description: &'a str,
    /// `site.language`, for `<html lang>`.
    pub language: &'a str,
    /// The front page's URL.
    pub home: &'a str,
    /// The words the pages use.
    pub labels: Labels,
}

/// The feeds of one scope, by URL.
#[derive(Debug, Clone)]
pub struct FeedLinks {
    /// Whose feeds, as a reader's list shows them ("Kinh tế – Tin tức").
    pub title: String,
    /// RSS 2.0.
    pub rss: String,
    /// Atom 1.0.
    pub atom: String,
    /// JSON Feed 1.1.
    pub json: String,
}

/// A date as a `<time>`: `datetime` in RFC 3339, the text for people.
#[derive(Debug, Clone)]
pub struct Date {
    /// RFC 3339, with the site's offset.
    pub machine: String,
    /// In the site's time zone, written the way the site's language writes dates.
    pub human: String,
}

/// One line of a list of articles.
#[derive(Debug, Clone)]
pub struct Headline {
    /// The article's title.
    pub title: String,
    /// Where it is read: its page, or its own `link`.
    pub link: String,
    /// When it was published.
    pub published: Date,
    /// Its summary, on a category's page.
    pub summary: Option<String>,
}

/// A category on the front page.
#[derive(Debug, Clone)]
pub struct Section {
    /// Display title.
    pub title: String,
    /// Description (omitted when it only repeats the title).
    pub description: Option<String>,
    /// The category's page.
    pub link: String,
    /// Its newest articles.
    pub headlines: Vec<Headline>,
    /// Its feeds.
    pub feeds: FeedLinks,
}

/// A link to a category, for the navigation bar.
#[derive(Debug, Clone)]
pub struct NavLink {
    /// Display title.
    pub title: String,
    /// The category's page.
    pub link: String,
}

/// An article's page.
#[derive(Debug, Clone)]
pub struct ArticleView<'a> {
    /// Title.
    pub title: &'a str,
    /// The page's own URL (canonical, og:url).
    pub url: &'a str,
    /// Author as the byline names them.
    pub author: &'a str,
    /// Published date.
    pub published: Date,
    /// Updated date, when it differs from `published`.
    pub updated: Option<Date>,
    /// Summary, for `<meta name="description">`.
    pub summary: &'a str,
    /// The sanitized body HTML (the same as the feeds' content).
    pub body_html: &'a str,
    /// The primary category: title and page, if the article has one.
    pub category: Option<NavLink>,
    /// The feeds the page offers: its category's, else the site's.
    pub feeds: FeedLinks,
    /// Lead image URL for `og:image` (front matter `image`, else a Markdown
    /// body's first image); `None` writes no tag.
    pub image: Option<&'a str>,
}

/// `<link rel="alternate">` for each of `feeds`: what browsers and feed
/// readers look for when given the page's address.
fn autodiscovery(feeds: &FeedLinks) -> Markup {
    html! {
        link rel="alternate" type="application/rss+xml" title={ (feeds.title) " (RSS)" } href=(feeds.rss);
        link rel="alternate" type="application/atom+xml" title={ (feeds.title) " (Atom)" } href=(feeds.atom);
        link rel="alternate" type="application/feed+json" title={ (feeds.title) " (JSON Feed)" } href=(feeds.json);
    }
}

/// The visible feed links.
fn feed_buttons(feeds: &FeedLinks) -> Markup {
    html! {
        a href=(feeds.rss) type="application/rss+xml" { "RSS" }
        a href=(feeds.atom) type="application/atom+xml" { "Atom" }
        a href=(feeds.json) type="application/feed+json" { "JSON Feed" }
    }
}

fn time(date: &Date) -> Markup {
    html! { time datetime=(date.machine) { (date.human) } }
}

/// Changes whenever the HTML of article pages does, so that pages written
/// by an earlier feedd are rendered again at the next start (the pages'
/// fingerprint holds it). 2: the style sheet is linked, not inlined.
pub const REVISION: u32 = 2;

/// Where the style sheet is from a page in the site's folder.
const STYLESHEET_FROM_SITE: &str = "style.css";
/// Where the style sheet is from a page in a category's folder.
const STYLESHEET_FROM_CATEGORY: &str = "../style.css";

/// The document around every page's `main`; `stylesheet`: the style sheet's
/// URL relative to the page.
fn page(
    site: &SiteInfo,
    title: &str,
    head: Markup,
    nav: &[NavLink],
    main: Markup,
    stylesheet: &str,
) -> Vec<u8> {
    let labels = site.labels;
    let markup = html! {
        (DOCTYPE)
        html lang=(site.language) {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) }
                (head)
                link rel="stylesheet" href=(stylesheet);
            }
            body {
                a.skip href="#main" { (labels.skip) }
                header.masthead {
                    div.wrap {
                        p.brand { a href=(site.home) { (site.title) } }
                        @if site.description != site.title {
                            p.tagline { (site.description) }
                        }
                        @if !nav.is_empty() {
                            nav.sections aria-label=(labels.sections) {
                                ul {
                                    @for item in nav {
                                        li { a href=(item.link) { (item.title) } }
                                    }
                                }
                            }
                        }
                    }
                }
                main #main { (main) }
                footer.site {
                    div.wrap {
                        a href=(site.home) { (labels.home) } " · " (site.title)
                    }
                }
            }
        }
    };
    let mut bytes = markup.into_string().into_bytes();
    bytes.push(b'\n');
    bytes
}

/// The front page: each category's newest headlines and feeds.
pub fn index_page(
    site: &SiteInfo,
    canonical: &str,
    feeds: &FeedLinks,
    latest: &[Headline],
    sections: &[Section],
    nav: &[NavLink],
) -> Vec<u8> {
    let labels = site.labels;
    let head = html! {
        meta name="description" content=(site.description);
        link rel="canonical" href=(canonical);
        (autodiscovery(feeds))
        meta property="og:title" content=(site.title);
        meta property="og:url" content=(canonical);
        meta property="og:type" content="website";
    };
    let main = html! {
        div.wrap {
            h1.skip { (site.title) }
            div.grid {
                section.section aria-labelledby="latest" {
                    h2 #latest { (labels.latest) }
                    (headline_list(latest, labels))
                    p.feeds { (feed_buttons(feeds)) }
                }
                @for (n, section) in sections.iter().enumerate() {
                    section.section aria-labelledby={ "s" (n) } {
                        h2 id={ "s" (n) } { a href=(section.link) { (section.title) } }
                        @if let Some(description) = &section.description {
                            p.desc { (description) }
                        }
                        (headline_list(&section.headlines, labels))
                        p.feeds aria-label={ (labels.subscribe) ": " (section.title) } {
                            (feed_buttons(&section.feeds))
                        }
                    }
                }
            }
            (subscribe_box(labels, labels.subscribe_all, feeds))
        }
    };
    page(site, site.title, head, nav, main, STYLESHEET_FROM_SITE)
}

/// A category's page: its headlines with summaries, and its feeds.
pub fn category_page(
    site: &SiteInfo,
    canonical: &str,
    section: &Section,
    nav: &[NavLink],
) -> Vec<u8> {
    let labels = site.labels;
    let title = format!("{} – {}", section.title, site.title);
    let head = html! {
        meta name="description" content=(section.description.as_deref().unwrap_or(&section.title));
        link rel="canonical" href=(canonical);
        (autodiscovery(&section.feeds))
        meta property="og:title" content=(title);
        meta property="og:url" content=(canonical);
        meta property="og:type" content="website";
    };
    let main = html! {
        div.wrap.measure {
            h1 { (section.title) }
            @if let Some(description) = &section.description {
                p.desc { (description) }
            }
            (headline_list(&section.headlines, labels))
            (subscribe_box(labels, labels.subscribe_category, &section.feeds))
        }
    };
    page(site, &title, head, nav, main, STYLESHEET_FROM_CATEGORY)
}

/// An article's page.
pub fn article_page(site: &SiteInfo, article: &ArticleView, nav: &[NavLink]) -> Vec<u8> {
    let labels = site.labels;
    let title = format!("{} – {}", article.title, site.title);
    let head = html! {
        meta name="description" content=(article.summary);
        meta name="author" content=(article.author);
        link rel="canonical" href=(article.url);
        (autodiscovery(&article.feeds))
        meta property="og:type" content="article";
        meta property="og:title" content=(article.title);
        meta property="og:url" content=(article.url);
        meta property="og:site_name" content=(site.title);
        @if let Some(image) = article.image {
            meta property="og:image" content=(image);
        }
        meta property="article:published_time" content=(article.published.machine);
        @if let Some(updated) = &article.updated {
            meta property="article:modified_time" content=(updated.machine);
        }
    };
    let main = html! {
        div.wrap.measure {
            article {
                @if let Some(category) = &article.category {
                    p.kicker { a href=(category.link) { (category.title) } }
                }
                h1 { (article.title) }
                p.byline {
                    (labels.by) " " strong { (article.author) }
                    " · " (labels.published) " " (time(&article.published))
                    @if let Some(updated) = &article.updated {
                        " · " (labels.updated) " " (time(updated))
                    }
                }
                div.body { (PreEscaped(article.body_html)) }
            }
            (subscribe_box(labels, labels.subscribe_category, &article.feeds))
        }
    };
    // Its page is in its primary category's folder, if it has one.
    let stylesheet = match article.category {
        Some(_) => STYLESHEET_FROM_CATEGORY,
        None => STYLESHEET_FROM_SITE,
    };
    page(site, &title, head, nav, main, stylesheet)
}

fn headline_list(headlines: &[Headline], labels: Labels) -> Markup {
    html! {
        @if headlines.is_empty() {
            p { (labels.nothing) }
        } @else {
            ul.headlines {
                @for headline in headlines {
                    li {
                        a href=(headline.link) { (headline.title) }
                        span.meta { (time(&headline.published)) }
                        @if let Some(summary) = &headline.summary {
                            p { (summary) }
                        }
                    }
                }
            }
        }
    }
}

fn subscribe_box(labels: Labels, heading: &str, feeds: &FeedLinks) -> Markup {
    html! {
        aside.subscribe aria-label=(labels.subscribe) {
            h2 { (heading) }
            p.feeds { (feed_buttons(feeds)) }
            p.meta { (labels.how) }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn site() -> SiteInfo<'static> {
        SiteInfo {
            title: "Tin <tức> & \"bạn\"",
            description: "Mô tả",
            language: "vi",
            home: "https://x.example",
            labels: Labels::for_language("vi-VN"),
        }
    }

    fn feeds() -> FeedLinks {
        FeedLinks {
            title: "A & B".into(),
            rss: "https://x.example/a/rss.xml".into(),
            atom: "https://x.example/a/atom.xml".into(),
            json: "https://x.example/a/feed.json".into(),
        }
    }

    fn date() -> Date {
        Date {
            machine: "2026-01-02T03:04:05+07:00".into(),
            human: "02/01/2026 03:04".into(),
        }
    }

    #[test]
    fn every_value_is_escaped_but_the_sanitized_body() {
        let view = ArticleView {
            title: "<script>x</script>",
            url: "https://x.example/a/b.html?q=\"1\"",
            author: "A <b>",
            published: date(),
            updated: None,
            summary: "S\" onload=\"x",
            body_html: "<p>Đã <em>làm</em></p>",
            category: None,
            feeds: feeds(),
            image: None,
        };
        let page = String::from_utf8(article_page(&site(), &view, &[])).unwrap();
        assert!(!page.contains("<script>"), "{page}");
        assert!(page.contains("&lt;script&gt;x&lt;/script&gt;"), "{page}");
        assert!(
            page.contains("Tin &lt;tức&gt; &amp; &quot;bạn&quot;"),
            "{page}"
        );
        assert!(
            page.contains("content=\"S&quot; onload=&quot;x\""),
            "{page}"
        );
        assert!(page.contains("<p>Đã <em>làm</em></p>"), "{page}");
        assert!(page.contains("<html lang=\"vi\">"), "{page}");
        assert!(!page.contains("og:image"), "no image, no tag: {page}");
        assert!(page.contains("title=\"A &amp; B (RSS)\""), "{page}");
    }

    #[test]
    fn the_lead_image_hook_writes_og_image() {
        let view = ArticleView {
            title: "T",
            url: "https://x.example/a/b.html",
            author: "A",
            published: date(),
            updated: Some(date()),
            summary: "S",
            body_html: "",
            category: None,
            feeds: feeds(),
            image: Some("https://x.example/i.jpg"),
        };
        let page = String::from_utf8(article_page(&site(), &view, &[])).unwrap();
        assert!(page.contains("<meta property=\"og:image\" content=\"https://x.example/i.jpg\">"));
        assert!(page.contains("article:modified_time"));
    }

    #[test]
    fn labels_follow_the_primary_language_subtag() {
        assert!(Labels::is_vietnamese("vi"));
        assert!(Labels::is_vietnamese("VI-vn"));
        assert!(!Labels::is_vietnamese("en"));
        assert!(!Labels::is_vietnamese("vie"));
        assert_eq!(Labels::for_language("en-GB").latest, "Latest");
        assert_eq!(Labels::for_language("").latest, "Latest");
    }
}
