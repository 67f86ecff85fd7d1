//! `portcullis gen`: deterministic sample logs with ground truth.

use super::Outcome;
use crate::gen::{generate, GenOptions, Scenario};
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Output directory (created if missing).
    #[arg(long, default_value = "samples")]
    out: PathBuf,
    /// Random seed: the same seed and size give byte-identical files.
    #[arg(long, default_value_t = GenOptions::default().seed)]
    seed: u64,
    /// Approximate number of lines over all files.
    #[arg(long, default_value_t = GenOptions::default().lines)]
    lines: u64,
    /// Time of the first line (RFC 3339).
    #[arg(long)]
    start: Option<chrono::DateTime<chrono::Utc>>,
    /// Benign traffic only: no attack scenario, an empty ground truth (same as
    /// `--scenario benign`).
    #[arg(long, conflicts_with = "scenario")]
    benign: bool,
    /// What to add to the benign traffic: `mixed` (one of each attack), `benign` (nothing),
    /// `slow-scan` (one port every 5 minutes all run long), `fast-scan` (20 hosts in seconds).
    #[arg(long, value_parser = parse_scenario)]
    scenario: Option<Scenario>,
}

/// The `--scenario` names.
fn parse_scenario(s: &str) -> Result<Scenario, String> {
    match s {
        "mixed" => Ok(Scenario::Mixed),
        "benign" => Ok(Scenario::Benign),
        "slow-scan" => Ok(Scenario::SlowScan),
        "fast-scan" => Ok(Scenario::FastScan),
        _ => Err("expected mixed, benign, slow-scan or fast-scan".into()),
    }
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut opts = GenOptions {
        seed: args.seed,
        lines: args.lines,
        scenario: match (args.benign, args.scenario) {
            (true, _) => Scenario::Benign,
            (false, s) => s.unwrap_or_default(),
        },
        ..GenOptions::default()
    };
    if let Some(start) = args.start {
        opts.start = start;
    }
    std::fs::create_dir_all(&args.out)?;
    let t = std::time::Instant::now();
    let summary = generate(&opts, &args.out)?;
    eprintln!(
        "wrote {} vsftpd and {} firewall lines, {} expected incidents, to {} in {:.2}s",
        summary.vsftpd_lines,
        summary.firewall_lines,
        summary.incidents,
        args.out.display(),
        t.elapsed().as_secs_f64()
    );
    Ok(Outcome::Found)
}
