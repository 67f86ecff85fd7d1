//! `portcullis run`: the daemon. Follows the configured logs, correlates live, commits
//! incidents and read positions to SQLite; SIGTERM/SIGINT stop it cleanly, SIGHUP reloads
//! the rules.

use super::Outcome;
use crate::config::{Config, DEFAULT_SOURCES};
use crate::daemon::{self, Control, DaemonOptions, Settings};
use crate::rules::engine::DEFAULT_LATENESS;
use crate::store::DEFAULT_DB;
use anyhow::Context;
use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Config file: sources (paths or patterns, format, timezone, host), database, rules and
    /// `[run]` settings. Without it: the usual vsftpd, ProFTPD, kern.log and auth.log paths that exist,
    /// the built-in rules, and portcullis.db in the working directory.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Database (default: the config's, else portcullis.db in the working directory).
    #[arg(long)]
    db: Option<PathBuf>,
    /// Rule directory, read again on SIGHUP (default: the config's, else the built-in pack).
    #[arg(long)]
    rules: Option<PathBuf>,
}

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    let (cfg, cfg_name) = match &args.config {
        Some(path) => (Config::load(path)?, path.clone()),
        None => (
            Config::embedded_default(),
            PathBuf::from("<built-in defaults>"),
        ),
    };
    crate::logging::init(cfg.log.level.as_deref())?;
    let sources = cfg.source_specs(&cfg_name)?;
    let listeners = cfg.listener_specs(&cfg_name)?;
    let forward = cfg.forward_settings(&cfg_name)?;
    if sources.is_empty() && listeners.is_empty() {
        let tried: Vec<&str> = DEFAULT_SOURCES.iter().map(|(p, _)| *p).collect();
        anyhow::bail!(
            "nothing to watch: name [[source]] entries in a --config file (without one, \
             portcullis watches whichever of {} exist, and none does)",
            tried.join(", ")
        );
    }
    let db = args
        .db
        .or_else(|| cfg.storage.db.clone())
        .unwrap_or_else(|| PathBuf::from(DEFAULT_DB));
    let rules_dir = args.rules.or_else(|| cfg.rules.dir.clone());
    let mut rules = daemon::load_rules(rules_dir.as_ref())?;
    let allow = match &args.config {
        Some(path) => cfg.allowlist(path)?,
        None => Vec::new(),
    };
    crate::rules::allow::attach(&mut rules, &allow);
    let lateness = cfg
        .rules
        .lateness_secs
        .map_or(DEFAULT_LATENESS, Duration::from_secs);
    let d = Settings::default();
    let ms = |v: Option<u64>, default: Duration| v.map_or(default, Duration::from_millis);
    let settings = Settings {
        poll: ms(cfg.run.poll_ms, d.poll),
        idle: ms(cfg.run.idle_ms, d.idle),
        commit_interval: ms(cfg.run.commit_ms, d.commit_interval),
        commit_events: cfg.run.commit_events.unwrap_or(d.commit_events).max(1),
        read_from_start: cfg.run.read_from_start.unwrap_or(d.read_from_start),
        snapshot_every: ms(cfg.run.snapshot_ms, d.snapshot_every),
        ..d
    };

    // Handlers first: once the daemon says what it watches, signals are handled.
    let control = Control::from_signals().context("installing signal handlers")?;
    for s in &sources {
        tracing::info!(
            path = ?s.path,
            format = s.format.map_or("detected".into(), |f| f.to_string()),
            timezone = ?s.timezone,
            host = s.host.map_or(String::new(), |h| h.to_string()),
            "watching"
        );
    }
    tracing::info!(
        rules = rules.len(),
        dir = rules_dir
            .as_ref()
            .map_or("built-in pack".into(), |d| format!("{d:?}")),
        db = ?db,
        snapshot_every_s = settings.snapshot_every.as_secs(),
        "running"
    );

    if let Some(f) = &forward {
        tracing::info!(receiver = f.target(), format = ?f.format, "forwarding incidents");
    }
    let opts = DaemonOptions {
        sources,
        rules_dir,
        rules,
        allow,
        db,
        lateness,
        limits: cfg.limits,
        settings,
        listeners,
        forward,
    };
    let summary = daemon::run(&opts, &control)?;
    tracing::info!(
        lines = summary.lines,
        events = summary.events,
        commits = summary.commits,
        reloads = summary.reloads,
        "stopped"
    );
    Ok(Outcome::Found)
}
