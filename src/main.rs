//! The `feedd` command: argument parsing and exit codes only.

use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{CommandFactory as _, Parser, Subcommand};
use feedd::config::{Config, DEFAULT_CONFIG_PATH};
use feedd::logs::LogFormat;

/// Publishes RSS 2.0 and Atom 1.0 feeds for a news site.
#[derive(Parser)]
#[command(version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Build every feed, then watch the articles and serve the feeds until SIGINT/SIGTERM;
    /// SIGHUP reloads the config.
    Serve(ServeArgs),
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
    /// Print a shell completion script, e.g. `feedd completions bash > /etc/bash_completion.d/feedd`.
    Completions {
        /// The shell to complete for.
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the manual page (roff), e.g. `feedd man > /usr/local/share/man/man1/feedd.1`.
    Man,
}

#[derive(clap::Args)]
struct ServeArgs {
    #[command(flatten)]
    config: ConfigArg,
    /// How log lines on stderr are written: `human` (default) or `json`, one object per line.
    #[arg(long, value_enum, value_name = "FORMAT", default_value_t = LogFormat::Human)]
    log_format: LogFormat,
}

#[derive(clap::Args)]
struct ConfigArg {
    /// The config file; relative paths in it resolve against its folder.
    #[arg(long, value_name = "PATH", default_value = DEFAULT_CONFIG_PATH)]
    config: PathBuf,
}

fn main() -> ExitCode {
    feedd::heap::limit_arenas();
    match Cli::parse().command {
        Command::Serve(args) => {
            feedd::logs::init(args.log_format);
            with_config(&args.config, serve)
        }
        Command::Build(arg) => with_config(&arg, build),
        Command::Check(args) => feedd::cli::check::run(&args),
        Command::Init(args) => feedd::cli::init::run(&args),
        Command::New(args) => feedd::cli::new::run(&args),
        Command::Explain(args) => feedd::cli::explain::run(&args),
        Command::Completions { shell } => completions(shell),
        Command::Man => man(),
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

/// Writes generated text to stdout; a closed pipe (`feedd man | head`) is
/// not an error worth more than the exit status.
fn print_generated(text: &[u8]) -> ExitCode {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(text).and_then(|()| stdout.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::FAILURE,
        Err(error) => {
            eprintln!("cannot write to stdout: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The completion script, generated from the argument definitions above,
/// so every subcommand and option is in it.
fn completions(shell: clap_complete::Shell) -> ExitCode {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "feedd", &mut script);
    print_generated(&script)
}

/// `feedd(1)`, generated from the argument definitions above: one page,
/// with a section per command (its synopsis, description and options), so
/// that `man feedd` answers everything and names no page that is not installed.
fn man() -> ExitCode {
    let mut cli = Cli::command().disable_help_subcommand(true);
    cli.build();
    match render_man(&cli) {
        Ok(page) => print_generated(&page),
        Err(error) => {
            eprintln!("cannot render the manual page: {error}");
            ExitCode::FAILURE
        }
    }
}

fn render_man(cli: &clap::Command) -> std::io::Result<Vec<u8>> {
    let top = clap_mangen::Man::new(cli.clone());
    let mut page = Vec::new();
    top.render_title(&mut page)?;
    top.render_name_section(&mut page)?;
    top.render_synopsis_section(&mut page)?;
    top.render_description_section(&mut page)?;
    top.render_options_section(&mut page)?;
    writeln!(page, ".SH COMMANDS")?;
    for command in cli
        .get_subcommands()
        .filter(|command| !command.is_hide_set())
    {
        let man = clap_mangen::Man::new(command.clone());
        writeln!(page, ".SS \"feedd {}\"", command.get_name())?;
        // Each piece comes as a section of its own, with the page's string
        // definitions repeated: keep its body, as a paragraph of this
        // command's subsection.
        let mut pieces = vec![Vec::new(), Vec::new()];
        man.render_synopsis_section(&mut pieces[0])?;
        man.render_description_section(&mut pieces[1])?;
        if command.get_arguments().any(|arg| !arg.is_hide_set()) {
            pieces.push(Vec::new());
            man.render_options_section(&mut pieces[2])?;
        }
        for piece in &pieces {
            for line in String::from_utf8_lossy(piece).lines() {
                if !line.starts_with(".SH ")
                    && !line.starts_with(".ie ")
                    && !line.starts_with(".el ")
                {
                    writeln!(page, "{line}")?;
                }
            }
            writeln!(page, ".PP")?;
        }
    }
    top.render_version_section(&mut page)?;
    Ok(page)
}

fn serve(config: Arc<Config>) -> ExitCode {
    match feedd::daemon::run(config) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{error:#}");
            ExitCode::FAILURE
        }
    }
}

fn build(config: Arc<Config>) -> ExitCode {
    let started = std::time::Instant::now();
    let progress = Arc::new(feedd::progress::Progress::default());
    let display = feedd::progress::Display::start("build", Arc::clone(&progress));
    let built = feedd::pipeline::build_with_progress(config.clone(), progress);
    display.finish();
    match built {
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
                    "built {} feeds, {} archive pages of feeds and {} pages from {} articles into {} ({} changed, {} articles rejected) in {:.2} s",
                    report.feeds,
                    report.archive_pages,
                    report.pages,
                    report.articles,
                    config.paths.output.display(),
                    report.changed.len() + report.pages_changed + report.archives_changed.len(),
                    report.rejected.len(),
                    started.elapsed().as_secs_f64()
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
