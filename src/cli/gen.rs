//! `portcullis gen`: deterministic sample logs with ground truth.

use super::Outcome;
use crate::gen::{generate, GenOptions};
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
    /// Benign traffic only: no attack scenario, an empty ground truth.
    #[arg(long)]
    benign: bool,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let mut opts = GenOptions {
        seed: args.seed,
        lines: args.lines,
        attacks: !args.benign,
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
