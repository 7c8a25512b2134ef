//! `feedd explain FILE`: how feedd reads one file, the answer to "why is my
//! article not in the feed?". Where its title, author and dates came from,
//! what the byline dropped, and its state: published (in which feeds, at
//! which position), scheduled, draft, rejected (with the error), or not an
//! article (ignored, and why).
//!
//! Everything comes from the code a build runs: the scan's rules for what
//! is an article, the parser (with its provenance record), and a catalog
//! scanned as `build` scans it (with the catalog cache and the state
//! journal, both only read), whose own feed order gives the positions. It
//! writes nothing and takes no lock, so it works beside a running `serve`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;

use jiff::Timestamp;

use crate::article::{self, NotAnArticle, Origin};
use crate::catalog::{self, Catalog, Entry, Scope};
use crate::config::{Config, DEFAULT_CONFIG_PATH};
use crate::output::{ArchivePage, Format, OutputPath};
use crate::state::{Seen, StateStore};

/// Arguments of `feedd explain`.
#[derive(clap::Args, Debug)]
pub struct ExplainArgs {
    /// The config file; relative paths in it resolve against its folder.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
    pub config: PathBuf,
    /// The file to explain (under paths.articles).
    #[arg(value_name = "FILE")]
    pub file: PathBuf,
}

/// Runs `feedd explain`: the explanation on stdout; exit 1 only when the
/// config cannot be used or the file is not there.
pub fn run(args: &ExplainArgs) -> ExitCode {
    let config = match Config::load(&args.config) {
        Ok(config) => Arc::new(config),
        Err(error) => {
            eprintln!("{error}");
            return ExitCode::FAILURE;
        }
    };
    match explain(config, &args.file, Timestamp::now()) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("{message}");
            ExitCode::FAILURE
        }
    }
}

/// The explanation of `file` as of `now`, or why there is none (the file
/// is not there).
pub fn explain(config: Arc<Config>, file: &Path, now: Timestamp) -> Result<String, String> {
    let root = config.paths.articles.clone();
    let mut out = String::new();
    let Some(relative) = relative_to(&root, file) else {
        if file.symlink_metadata().is_err() {
            return Err(format!(
                "{}: no such file; give the path of an article file",
                file.display()
            ));
        }
        line(
            &mut out,
            "state",
            &format!(
                "not an article: it is outside paths.articles ({}), the only folder feedd reads \
                 articles from; move it there",
                root.display()
            ),
        );
        return Ok(header(file, out));
    };
    let path = root.join(&relative);
    let meta = path.symlink_metadata().map_err(|error| {
        if error.kind() == std::io::ErrorKind::NotFound {
            format!(
                "{}: no such file; give the path of an article file",
                file.display()
            )
        } else {
            format!("{}: cannot look at it: {error}", file.display())
        }
    })?;

    if let Some(reason) = ignored(&root, &relative, &meta) {
        line(&mut out, "state", &format!("not an article: {reason}"));
        return Ok(header(&path, out));
    }

    let key = catalog::article_key(&relative);
    let state_dir = &config.paths.state;
    let (state, state_note) = match StateStore::read_only(state_dir) {
        Ok(state) => (state, None),
        Err(error) => (StateStore::in_memory(), Some(error.to_string())),
    };
    let remembered = key.as_deref().and_then(|key| state.get(key));
    let mut catalog = Catalog::new(config.clone(), state);
    // As `build` does: the cache only saves reading unchanged files again.
    let _ = catalog.load_cache();
    let changes = catalog.rescan();
    let errors: Vec<String> = changes
        .rejected
        .iter()
        .filter(|error| error.path() == path)
        .map(ToString::to_string)
        .collect();
    let entry = key
        .as_deref()
        .and_then(|key| catalog.entry(key))
        .filter(|entry| entry.source() == relative);
    let parsed = catalog::read_article_file(&config, &path)
        .ok()
        .flatten()
        .and_then(|bytes| {
            article::parse_article_explained(
                &config,
                &path,
                Path::new(key.as_deref().unwrap_or_default()),
                &bytes,
            )
            .ok()
        });

    let state_text = match (&entry, errors.first()) {
        (_, Some(_)) => "rejected".to_string(),
        (None, None) if changes.incomplete => {
            "unknown: part of the articles folder could not be read, so nothing is published \
             (see feedd check)"
                .to_string()
        }
        (None, None) => "not in the catalog".to_string(),
        (Some(entry), None) if entry.is_draft() => {
            let line_note = parsed
                .as_ref()
                .and_then(|(_, _, provenance)| line_of(provenance.draft))
                .map_or(String::new(), |line| format!(" (line {line})"));
            format!(
                "draft: its front matter says draft = true{line_note}, so it is not published; \
                 remove that line to publish it"
            )
        }
        (Some(entry), None) if entry.published > now => format!(
            "scheduled: published at {} ({} from now); feedd serve publishes it then, unprompted",
            show_date(&config, entry.published),
            show_span(now, entry.published)
        ),
        (Some(_), None) => "published".to_string(),
    };
    line(&mut out, "state", &state_text);
    for error in &errors {
        line(&mut out, "", error);
    }
    // What it shares with a newer article (its page, its id), as `check`
    // reports it.
    if let Some(entry) = &entry {
        let file = config.paths.articles.join(entry.source());
        let keys = std::collections::BTreeSet::from([std::sync::Arc::from(entry.key())]);
        for conflict in catalog.conflicts_of(&keys, now) {
            if conflict.path() == file {
                line(&mut out, "", &conflict.to_string());
            }
        }
    }
    if let (Some(entry), Some(_)) = (&entry, errors.first()) {
        line(
            &mut out,
            "",
            "the version read before (from the catalog cache) stays published until this is fixed:",
        );
        if !entry.is_draft() && entry.published <= now {
            placed(&mut out, &catalog, entry, now);
        }
    } else if let Some(entry) = &entry
        && !entry.is_draft()
        && entry.published <= now
    {
        placed(&mut out, &catalog, entry, now);
    }
    if let Some(note) = state_note {
        line(&mut out, "", &format!("(state journal not read: {note})"));
    }

    if let Some((article, body, provenance)) = &parsed {
        let site = &config.site;
        line(
            &mut out,
            "title",
            &with_origin(&article.title, provenance.title, "title"),
        );
        let author = match &article.author {
            Some(author) => with_origin(author, provenance.author, "author"),
            None => format!("{} (site.author: the article names none)", site.author),
        };
        line(&mut out, "author", &author);
        if let Some(entry) = &entry {
            let published = match provenance.published {
                Origin::NotStated => match remembered {
                    Some(_) => "first seen by feedd, from the state journal".to_string(),
                    None => "the file's modification time: feedd has not recorded this file yet, \
                             and the next build or serve keeps this as its first-seen date"
                        .to_string(),
                },
                origin => describe(origin, "date"),
            };
            line(
                &mut out,
                "published",
                &format!("{} ({published})", show_date(&config, entry.published)),
            );
            let updated = match provenance.updated {
                Origin::NotStated => updated_source(remembered, entry),
                origin => describe(origin, "updated"),
            };
            line(
                &mut out,
                "updated",
                &format!("{} ({updated})", show_date(&config, entry.updated)),
            );
        }
        let categories = if article.categories.is_empty() {
            "none: the file is at the top of paths.articles and its front matter names none"
                .to_string()
        } else {
            let names: Vec<String> = article
                .categories
                .iter()
                .map(|c| format!("{} ({})", c.slug, c.name))
                .collect();
            with_origin(&names.join(", "), provenance.categories, "category")
        };
        line(&mut out, "categories", &categories);
        line(
            &mut out,
            "slug",
            &with_origin(&article.slug, provenance.slug, "slug"),
        );
        line(
            &mut out,
            "id",
            &with_origin(&article.id, provenance.id, "id"),
        );
        let link = match provenance.link {
            Origin::NotStated => format!("{} (default: base_url/category/slug.html)", article.link),
            origin => with_origin(&article.link, origin, "link"),
        };
        line(&mut out, "link", &link);
        let summary = if body.summary.is_empty() {
            "none: the body has no paragraph".to_string()
        } else {
            with_origin(&shorten(&body.summary, 160), provenance.summary, "summary")
        };
        line(&mut out, "summary", &summary);
        if !provenance.dropped.is_empty() {
            line(
                &mut out,
                "dropped",
                "the byline and every line after it are not published:",
            );
            for (number, text) in &provenance.dropped {
                line(
                    &mut out,
                    "",
                    &format!("line {number}: {}", shorten(text, 100)),
                );
            }
        }
    }
    Ok(header(&path, out))
}

/// `file` relative to the articles folder `root`, if it is under it (also
/// when one of them is reached through a symbolic link).
fn relative_to(root: &Path, file: &Path) -> Option<PathBuf> {
    let absolute = std::path::absolute(file).ok()?;
    let lexical = lexically_normal(&absolute);
    if let Ok(relative) = lexical.strip_prefix(root) {
        return Some(relative.to_path_buf());
    }
    // The link itself is never resolved: only the folders above it.
    let parent = lexical.parent()?.canonicalize().ok()?;
    let real_root = root.canonicalize().ok()?;
    let relative = parent.strip_prefix(&real_root).ok()?;
    Some(relative.join(lexical.file_name()?))
}

/// `path` without `.` and `..`, not resolving links.
fn lexically_normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// Why the scan never reads `relative` as an article (by its name, where it
/// lies, or what it is), if so. What the scan reports as rejected (a
/// symbolic link or a FIFO named like an article) is left to the catalog.
fn ignored(root: &Path, relative: &Path, meta: &std::fs::Metadata) -> Option<String> {
    if relative.as_os_str().is_empty() {
        return Some("it is the articles folder itself".into());
    }
    let reason = article::not_an_article(relative);
    if reason == Some(NotAnArticle::Hidden) {
        return Some(
            "hidden: a name on its path starts with a dot, and feedd skips hidden files and \
             folders; rename it to publish it"
                .into(),
        );
    }
    let mut folder = root.to_path_buf();
    let components: Vec<_> = relative.components().collect();
    for component in components.iter().take(components.len().saturating_sub(1)) {
        folder.push(component);
        if folder
            .symlink_metadata()
            .is_ok_and(|meta| meta.file_type().is_symlink())
        {
            return Some(format!(
                "it is behind {}, a symbolic link, and feedd never follows symbolic links under \
                 paths.articles; move the folder here instead of linking it",
                folder.display()
            ));
        }
    }
    if meta.is_dir() {
        return Some("a folder: feedd reads the articles inside it".into());
    }
    match reason {
        None | Some(NotAnArticle::Hidden) => None,
        Some(_) if meta.file_type().is_symlink() => {
            // A link to a folder is reported by the scan (rejected).
            let to_folder = std::fs::metadata(root.join(relative)).is_ok_and(|m| m.is_dir());
            (!to_folder).then(|| {
                "a symbolic link, not named like an article (feedd never follows links under \
                 paths.articles)"
                    .into()
            })
        }
        Some(NotAnArticle::EditorTemporary) => Some(
            "an editor's temporary or backup file (*~, *.swp, *.tmp, 4913), which feedd skips"
                .into(),
        ),
        Some(NotAnArticle::Extension) => Some(
            "feedd reads only .txt, .md and .markdown files; rename it with one of these to \
             publish it"
                .into(),
        ),
        Some(NotAnArticle::BadName) => None,
    }
}

/// Where `entry` (published) stands in each of its feeds, and its page.
fn placed(out: &mut String, catalog: &Catalog, entry: &Entry, now: Timestamp) {
    let limit = catalog.config().feeds.limit;
    let scopes = std::iter::once(Scope::All).chain(
        entry
            .category_slugs()
            .map(|slug| Scope::Category(slug.to_string())),
    );
    for scope in scopes {
        let urls: Vec<String> = OutputPath::all_of(&scope)
            .filter(|path| path.format.is_feed())
            .map(|path| path.url_path())
            .collect();
        let urls = urls.join(", ");
        let place = catalog.place_in_feed(&scope, entry.key(), now);
        // The items the build writes, from the same catalog call (an
        // article whose id a newer one has is not among them).
        let in_main = catalog
            .feed(&scope, now)
            .and_then(|(_, items)| {
                let index = items.iter().position(|item| item.key() == entry.key())?;
                Some((index + 1, items.len()))
            })
            .map(|(position, shown)| {
                line(out, "", &format!("{urls}: item {position} of {shown}"));
            })
            .is_some();
        // The archive pages the build writes, from the same catalog call.
        let archived = catalog
            .archives(&scope, now)
            .into_iter()
            .find_map(|(meta, items)| {
                let index = items.iter().position(|item| item.key() == entry.key())?;
                Some((meta.history.page?, index + 1, items.len()))
            });
        if let Some((number, position, of)) = archived {
            let pages: Vec<String> = Format::ALL
                .into_iter()
                .filter_map(|format| ArchivePage::new(scope.clone(), format, number))
                .map(|page| page.url_path())
                .collect();
            line(
                out,
                "",
                &format!(
                    "{}: item {position} of {of} (archive page {number})",
                    pages.join(", ")
                ),
            );
        } else if !in_main {
            let text = match place {
                Some(place) => format!(
                    "{urls}: not shown: it is article {} of {} there, past feeds.limit ({limit}), \
                     and archive pages hold only full pages of {limit} counted from the oldest",
                    place.position, place.published
                ),
                None => format!("{urls}: not in it"),
            };
            line(out, "", &text);
        }
    }
    if let Some(page) = catalog.page(entry, now) {
        // Two articles with one default link share one page: the newer's.
        let shown_by = catalog
            .pages(now)
            .into_iter()
            .find(|(other, _)| *other == page)
            .map(|(_, owner)| owner.key().to_string())
            .filter(|owner| owner != entry.key());
        let text = match shown_by {
            None => format!("page: {}", page.url_path()),
            Some(owner) => format!(
                "page: {} shows {owner} instead, a newer article with the same link; give one                  of them another slug",
                page.url_path()
            ),
        };
        line(out, "", &text);
    }
}

fn updated_source(remembered: Option<Seen>, entry: &Entry) -> String {
    match remembered {
        _ if entry.updated == entry.published => "not changed since it was published".to_string(),
        Some(_) => "when its content last changed, from the state journal".to_string(),
        None => "the file's modification time".to_string(),
    }
}

fn line_of(origin: Origin) -> Option<usize> {
    match origin {
        Origin::FrontMatter { line }
        | Origin::TitleLine { line }
        | Origin::Heading { line }
        | Origin::Byline { line } => Some(line),
        _ => None,
    }
}

/// Where a value came from, in words; `key` is its front matter key.
fn describe(origin: Origin, key: &str) -> String {
    match origin {
        Origin::FrontMatter { line } => format!("front matter `{key}`, line {line}"),
        Origin::TitleLine { line } => format!("the first line, line {line}"),
        Origin::Heading { line } => format!("the first # heading, line {line}"),
        Origin::Byline { line } => format!("the byline, line {line}"),
        Origin::FileName => "the file name".into(),
        Origin::Folder => "the folder".into(),
        Origin::Path => "made from the path under paths.articles".into(),
        Origin::FirstParagraph => "the first paragraph".into(),
        Origin::NotStated => "not stated".into(),
    }
}

fn with_origin(value: &str, origin: Origin, key: &str) -> String {
    format!("{value} ({})", describe(origin, key))
}

fn show_date(config: &Config, date: Timestamp) -> String {
    date.to_zoned(config.site.timezone.clone())
        .strftime("%Y-%m-%d %H:%M:%S %:z")
        .to_string()
}

/// How long from `from` to `to`, roughly, in days, hours and minutes.
fn show_span(from: Timestamp, to: Timestamp) -> String {
    let minutes = (to.as_second() - from.as_second()).max(0) / 60;
    let (days, hours, minutes) = (minutes / 1440, minutes / 60 % 24, minutes % 60);
    match (days, hours) {
        (0, 0) => format!("{minutes} min"),
        (0, _) => format!("{hours} h {minutes} min"),
        _ => format!("{days} d {hours} h"),
    }
}

/// `text` cut to `max` characters, with an ellipsis when cut.
fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut cut: String = text.chars().take(max).collect();
    cut.push('…');
    cut
}

fn line(out: &mut String, label: &str, text: &str) {
    let label = if label.is_empty() {
        String::new()
    } else {
        format!("{label}:")
    };
    let _ = writeln!(out, "  {label:<12}{text}");
}

fn header(path: &Path, body: String) -> String {
    format!("{}\n{body}", path.display())
}
