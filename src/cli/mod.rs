//! The command line: one file per subcommand.

mod gen;
mod incidents;
mod parse;
mod replay;
mod rules;
mod run;
mod stats;

use clap::{Parser, Subcommand};
use std::path::PathBuf;

/// Outcome of a command, mapped to the process exit code by `main`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Done, with results (exit 0).
    Found,
    /// Done, nothing matched (exit 1).
    NothingFound,
}

/// portcullis: correlates FTP server, firewall and flow logs into security incidents.
#[derive(Debug, Parser)]
#[command(name = "portcullis", version, about)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read log files from start to end, correlate them, store the incidents.
    Replay(replay::Args),
    /// List stored incidents.
    Incidents(incidents::Args),
    /// Print the normalized events of a log file as JSON lines (one per line that parses).
    Parse(parse::Args),
    /// Generate realistic vsftpd and firewall logs with their ground truth.
    Gen(gen::Args),
    /// Validate rule files.
    Rules(rules::Args),
    /// Follow log files as they grow and rotate, correlate live, store incidents (daemon).
    Run(run::Args),
    /// Show the running daemon's counters (read from its database).
    Stats(stats::Args),
}

/// Runs the parsed command line.
pub fn run(cli: Cli) -> anyhow::Result<Outcome> {
    match cli.command {
        Command::Replay(a) => replay::run(a),
        Command::Incidents(a) => incidents::run(a),
        Command::Parse(a) => parse::run(a),
        Command::Gen(a) => gen::run(a),
        Command::Rules(a) => rules::run(a),
        Command::Run(a) => run::run(a),
        Command::Stats(a) => stats::run(a),
    }
}

/// `--rules DIR` or the built-in pack.
fn load_rules(dir: Option<&PathBuf>) -> anyhow::Result<Vec<crate::rules::Rule>> {
    Ok(match dir {
        Some(d) => crate::rules::load_dir(d)?,
        None => crate::rules::default_rules()?,
    })
}
