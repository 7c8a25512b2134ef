//! Issue 9: the config reference cannot drift from the code. The key table
//! in `feedd::config_reference` (which `feedd init` and `docs/config.md`
//! are made from) must list exactly the keys the parser accepts, with the
//! defaults it applies; a key added to the config without documentation
//! fails here.

use std::collections::BTreeSet;
use std::path::Path;

use feedd::config::Config;
use feedd::config_reference::{
    CATEGORY_TABLE, CONFIG_KEYS, EXAMPLE_CATEGORY_SLUG, KeyDefault, markdown_table, tables,
};

const CONFIG_PATH: &str = "/srv/site/config/feedd.toml";

/// The table as written in a config file (the per-category one with the example slug).
fn written_table(table: &str) -> String {
    if table == CATEGORY_TABLE {
        format!("categories.{EXAMPLE_CATEGORY_SLUG}")
    } else {
        table.to_string()
    }
}

/// A config that sets only the required keys.
fn required_only() -> String {
    let mut text = String::from("[site]\n");
    for key in CONFIG_KEYS {
        if let KeyDefault::Required { example } = key.default {
            assert_eq!(key.table, "site", "only [site] has required keys");
            text.push_str(&format!("{} = {example}\n", key.name));
        }
    }
    text
}

/// The names serde accepts in `table`, read from the message of a config
/// that has an unknown key there ("unknown field `x`, expected one of `a`, `b`").
fn accepted_keys(table: &str) -> BTreeSet<String> {
    let probe = "zz_not_a_key";
    let text = if table == "site" {
        format!("[site]\n{probe} = 1\n")
    } else {
        format!("{}[{table}]\n{probe} = 1\n", required_only())
    };
    let error = Config::parse(Path::new(CONFIG_PATH), &text)
        .expect_err("an unknown key is an error")
        .to_string();
    let expected = error
        .split_once("expected ")
        .unwrap_or_else(|| panic!("[{table}]: no list of keys in {error:?}"))
        .1;
    let keys: BTreeSet<String> = expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect();
    assert!(!keys.is_empty(), "[{table}]: no key in {error:?}");
    keys
}

fn top_level_tables() -> BTreeSet<String> {
    let error = Config::parse(Path::new(CONFIG_PATH), "zz_not_a_key = 1\n")
        .expect_err("an unknown key is an error")
        .to_string();
    let expected = error.split_once("expected ").expect("a list of tables").1;
    expected
        .split('`')
        .skip(1)
        .step_by(2)
        .map(str::to_string)
        .collect()
}

#[test]
fn every_key_the_parser_accepts_is_documented_and_nothing_else() {
    let documented_tables: BTreeSet<String> = tables()
        .iter()
        .map(|t| t.split('.').next().unwrap_or(t).to_string())
        .collect();
    assert_eq!(
        top_level_tables(),
        documented_tables,
        "the config's tables and feedd::config_reference::CONFIG_KEYS differ"
    );
    for table in tables() {
        let documented: BTreeSet<String> = CONFIG_KEYS
            .iter()
            .filter(|key| key.table == table)
            .map(|key| key.name.to_string())
            .collect();
        assert_eq!(
            accepted_keys(&written_table(table)),
            documented,
            "[{table}]: the keys the config accepts and those in \
             feedd::config_reference::CONFIG_KEYS differ; document the new key there"
        );
    }
}

#[test]
fn a_config_with_every_key_set_to_its_example_parses() {
    let mut text = String::new();
    for table in tables() {
        text.push_str(&format!("[{}]\n", written_table(table)));
        for key in CONFIG_KEYS.iter().filter(|key| key.table == table) {
            text.push_str(&format!("{} = {}\n", key.name, key.default.example()));
        }
    }
    Config::parse(Path::new(CONFIG_PATH), &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
}

#[test]
fn every_stated_default_is_the_default_the_parser_applies() {
    let defaults = Config::parse(Path::new(CONFIG_PATH), &required_only()).unwrap();
    for key in CONFIG_KEYS {
        let KeyDefault::Value(value) = key.default else {
            continue;
        };
        let text = if key.table == "site" {
            format!("{}{} = {value}\n", required_only(), key.name)
        } else {
            format!(
                "{}[{}]\n{} = {value}\n",
                required_only(),
                key.table,
                key.name
            )
        };
        let explicit = Config::parse(Path::new(CONFIG_PATH), &text)
            .unwrap_or_else(|e| panic!("{}: {e}", key.dotted()));
        assert_eq!(
            format!("{explicit:?}"),
            format!("{defaults:?}"),
            "{} = {value} is documented as the default but is not",
            key.dotted()
        );
    }
}

#[test]
fn the_commented_config_of_feedd_init_means_the_defaults() {
    let text = feedd::config_reference::commented_config("", &[]);
    let parsed = Config::parse(Path::new(CONFIG_PATH), &text).unwrap();
    let defaults = Config::parse(Path::new(CONFIG_PATH), &required_only()).unwrap();
    assert_eq!(format!("{parsed:?}"), format!("{defaults:?}"));
    // Uncommenting every key line gives a valid config too.
    let uncommented: String = text
        .lines()
        .map(|line| {
            let rest = line.strip_prefix("# ").unwrap_or(line);
            let is_key_line = rest.starts_with('[')
                || CONFIG_KEYS
                    .iter()
                    .any(|key| rest.starts_with(&format!("{} = ", key.name)));
            if is_key_line { rest } else { line }
        })
        .collect::<Vec<_>>()
        .join("\n");
    Config::parse(Path::new(CONFIG_PATH), &uncommented)
        .unwrap_or_else(|e| panic!("{e}\n{uncommented}"));
}

/// `docs/config.md` holds the table `markdown_table` makes, between two
/// markers; `FEEDD_BLESS=1` rewrites it.
#[test]
fn docs_config_md_lists_every_key() {
    const BEGIN: &str = "<!-- keys: generated from src/config_reference.rs; FEEDD_BLESS=1 cargo test --test config_reference rewrites it -->\n";
    const END: &str = "<!-- end of keys -->\n";
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/config.md");
    let doc = std::fs::read_to_string(&path).expect("docs/config.md");
    let (before, rest) = doc
        .split_once(BEGIN)
        .expect("the begin marker in docs/config.md");
    let (table, after) = rest
        .split_once(END)
        .expect("the end marker in docs/config.md");
    let expected = markdown_table();
    if table != expected {
        if std::env::var_os("FEEDD_BLESS").is_some() {
            std::fs::write(&path, format!("{before}{BEGIN}{expected}{END}{after}")).unwrap();
        } else {
            panic!(
                "docs/config.md's table of keys differs from src/config_reference.rs; \
                 run FEEDD_BLESS=1 cargo test --test config_reference"
            );
        }
    }
}

/// The README's example config holds only keys that exist.
#[test]
fn the_readme_example_config_is_valid() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    let section = readme
        .split_once("\n## Configuration\n")
        .expect("a Configuration section")
        .1;
    let example = section
        .split_once("```toml\n")
        .and_then(|(_, rest)| rest.split_once("```\n"))
        .expect("a toml example")
        .0;
    Config::parse(Path::new(CONFIG_PATH), example).unwrap_or_else(|e| panic!("{e}"));
}
