//! feedd: publishes RSS 2.0 and Atom 1.0 feeds for a news site.
//!
//! Data flows one way:
//! files -> `watch` -> `article` -> `catalog` -> `render` -> `publish` -> `server`,
//! with `daemon` the only module that wires them all and `output` the one map
//! of the URL space that they share. ARCHITECTURE.md has the module map.
// Unsafe code only where a module says why (one libc call in `heap`).
#![deny(unsafe_code)]

pub mod article;
pub mod catalog;
pub mod cli;
pub mod config;
pub mod config_reference;
pub mod daemon;
pub mod file_stamp;
pub mod heap;
pub mod history;
pub mod logs;
pub mod metrics;
pub mod output;
pub mod pages;
pub mod pipeline;
pub mod progress;
pub mod publish;
pub mod render;
pub mod server;
pub mod slug;
pub mod state;
pub mod systemd;
pub mod watch;
pub mod websub;
pub mod xml_text;
