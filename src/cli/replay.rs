//! `portcullis replay`: read files from start to end and store the incidents they contain.

use super::parse::parse_format;
use super::Outcome;
use crate::config::Config;
use crate::forward::ForwardSettings;
use crate::ingest::source::SourceSpec;
use crate::pipeline::{replay, ReplayOptions};
use crate::rules::engine::DEFAULT_LATENESS;
use crate::store::DEFAULT_DB;
use portcullis_parsers::{Format, SourceTz};
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Log files (format detected from content unless --format is given).
    files: Vec<PathBuf>,
    /// A config file naming sources (with format, timezone, host each), db and rules.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Database (default: portcullis.db in the working directory, or the config's).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Rule directory (default: the config's, else the built-in pack).
    #[arg(long)]
    rules: Option<PathBuf>,
    /// Force this format for every FILE.
    #[arg(long, value_parser = parse_format)]
    format: Option<Format>,
    /// Zone of timestamps without offset in every FILE: UTC, local, or an IANA name.
    #[arg(long, default_value = "local")]
    timezone: SourceTz,
    /// Address of the host that wrote the FILEs (FTP logs do not name their server).
    #[arg(long)]
    host: Option<std::net::IpAddr>,
    /// Also send incidents to this syslog receiver: tcp://, udp://, tls:// or relp://host:port
    /// (other [forward] settings from the config, else defaults).
    #[arg(long, value_name = "TARGET")]
    forward: Option<String>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let config = match &args.config {
        Some(path) => Some((Config::load(path)?, path.clone())),
        None => None,
    };
    let mut sources = Vec::new();
    if let Some((cfg, path)) = &config {
        sources.extend(cfg.source_specs(path)?);
    }
    sources.extend(args.files.iter().map(|f| SourceSpec {
        path: f.clone(),
        format: args.format,
        timezone: args.timezone,
        host: args.host,
    }));
    if sources.is_empty() {
        anyhow::bail!("nothing to replay: name log files or a --config with [[source]] entries");
    }
    let cfg = config.as_ref().map(|(c, _)| c);
    let db = args
        .db
        .or_else(|| cfg.and_then(|c| c.storage.db.clone()))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DB));
    let rules_dir = args.rules.or_else(|| cfg.and_then(|c| c.rules.dir.clone()));
    let mut rules = super::load_rules(rules_dir.as_ref())?;
    if let Some((c, path)) = &config {
        crate::rules::allow::attach(&mut rules, &c.allowlist(path)?);
    }
    let lateness = cfg
        .and_then(|c| c.rules.lateness_secs)
        .map_or(DEFAULT_LATENESS, Duration::from_secs);

    let forward = match (&args.forward, &config) {
        (Some(target), Some((c, _))) if c.forward.is_some() => {
            let mut section = c.forward.clone().expect("checked");
            section.target = target.clone();
            Some(section.validate().map_err(anyhow::Error::msg)?)
        }
        (Some(target), _) => Some(ForwardSettings::for_target(target).map_err(anyhow::Error::msg)?),
        (None, Some((c, path))) => c.forward_settings(path)?,
        (None, None) => None,
    };
    if forward.is_some() {
        // The forwarder says why a receiver refuses (a certificate, a closed port) through
        // `tracing`: warnings only, so the summary stays the output.
        crate::logging::init(Some(
            cfg.and_then(|c| c.log.level.as_deref()).unwrap_or("warn"),
        ))?;
    }

    let summary = replay(ReplayOptions {
        sources,
        rules,
        db: db.clone(),
        lateness,
        forward: forward.clone(),
        limits: cfg.map(|c| c.limits).unwrap_or_default(),
    })?;

    let mut total = 0;
    for (name, format, s) in &summary.sources {
        total += s.lines;
        println!(
            "{name} ({format}): {} lines, {} events, {} skipped, {} rejected",
            s.lines, s.events, s.skipped, s.rejected
        );
        for ex in &s.examples {
            println!("    rejected {ex}");
        }
    }
    let e = summary.engine;
    let secs = summary.elapsed.as_secs_f64().max(1e-9);
    println!(
        "{} events correlated ({} late), {} incidents -> {}",
        e.events,
        e.late,
        summary.incidents,
        db.display()
    );
    if e.group_cap_hits + e.value_cap_hits + e.join_cap_hits > 0 {
        println!(
            "cap hits: {} groups, {} values, {} join candidates",
            e.group_cap_hits, e.value_cap_hits, e.join_cap_hits
        );
    }
    if let (Some(f), Some(settings)) = (&summary.forward, &forward) {
        println!(
            "forwarded {} messages to {} ({} failed attempts, {} still queued, {} dropped)",
            f.sent,
            settings.target(),
            f.failed_attempts,
            f.queued,
            f.dropped
        );
    }
    println!(
        "{total} lines in {:.2}s ({:.0} lines/s)",
        summary.elapsed.as_secs_f64(),
        total as f64 / secs
    );
    Ok(if summary.incidents > 0 {
        Outcome::Found
    } else {
        Outcome::NothingFound
    })
}
