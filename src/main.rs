//! The `feedd` command: argument parsing and exit codes only.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use feedd::config::{Config, DEFAULT_CONFIG_PATH};

/// Publishes RSS 2.0 and Atom 1.0 feeds for a news site.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build every feed, then watch the articles and serve the feeds until SIGINT/SIGTERM.
    Serve(ConfigArg),
    /// Build every feed into the output directory once.
    Build(ConfigArg),
    /// Validate the config and every article; report; build nothing.
    Check(feedd::cli::check::CheckArgs),
    /// Create a new site in DIR: a commented config and example articles.
    Init(feedd::cli::init::InitArgs),
    /// Create an article file named after its title, and print its path.
    New(feedd::cli::new::NewArgs),
    /// Explain how feedd reads one file, and where it is published (or why it is not).
    Explain(feedd::cli::explain::ExplainArgs),
}

#[derive(clap::Args)]
struct ConfigArg {
    /// The config file; relative paths in it resolve against its folder.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
    config: PathBuf,
}

fn main() -> ExitCode {
    match Cli::parse().command {
        Command::Serve(arg) => with_config(&arg, serve),
        Command::Build(arg) => with_config(&arg, build),
        Command::Check(args) => feedd::cli::check::run(&args),
        Command::Init(args) => feedd::cli::init::run(&args),
        Command::New(args) => feedd::cli::new::run(&args),
        Command::Explain(args) => feedd::cli::explain::run(&args),
    }
}

/// Runs `command` with the config `arg` names, or reports why it cannot be used.
fn with_config(arg: &ConfigArg, command: fn(Arc<Config>) -> ExitCode) -> ExitCode {
    match Config::load(&arg.config) {
        Ok(config) => command(Arc::new(config)),
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
    }
}

fn serve(config: Arc<Config>) -> ExitCode {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();
    match feedd::daemon::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

fn build(config: Arc<Config>) -> ExitCode {
    match feedd::pipeline::build(config.clone()) {
        Ok(report) => {
            for warning in &report.state_warnings {
                eprintln!("warning: {warning}");
            }
            for error in &report.rejected {
                eprintln!("{error}");
            }
            for error in &report.render_errors {
                eprintln!("{error}");
            }
            for error in &report.publish_errors {
                eprintln!("{error}");
            }
            for error in &report.state_errors {
                eprintln!("{error}");
            }
            if report.published {
                println!(
                    "built {} feeds, {} archive pages of feeds and {} pages from {} articles into {} ({} changed, {} articles rejected)",
                    report.feeds,
                    report.archive_pages,
                    report.pages,
                    report.articles,
                    config.paths.output.display(),
                    report.changed.len()
                        + report.pages_changed.len()
                        + report.archives_changed.len(),
                    report.rejected.len()
                );
            } else {
                eprintln!(
                    "{}: nothing published, because part of the articles could not be read; \
                     the feeds there are unchanged",
                    config.paths.output.display()
                );
            }
            if report.has_errors() {
                ExitCode::FAILURE
            } else {
                ExitCode::SUCCESS
            }
        }
        Err(error) => {
            eprintln!("{error:#}");
            ExitCode::FAILURE
        }
    }
}
