//! `portcullis stats`: the running daemon's counters, read from the database it commits to
//! (every commit rewrites them, so they are at most one commit period old; no IPC).

use super::Outcome;
use crate::store::checkpoints::Counter;
use crate::store::{Store, DEFAULT_DB};
use chrono::{DateTime, Utc};
use std::collections::BTreeMap;
use std::path::PathBuf;

#[derive(Debug, clap::Args)]
pub struct Args {
    /// Database the daemon writes to.
    #[arg(long, default_value = DEFAULT_DB)]
    db: PathBuf,
    /// One JSON object instead of the table.
    #[arg(long)]
    json: bool,
}

/// Per-file counter names, in display order.
const SOURCE_COUNTERS: &[&str] = &["lines", "events", "skipped", "rejected"];

pub fn run(args: Args) -> anyhow::Result<Outcome> {
    if !args.db.exists() {
        anyhow::bail!("{}: no such database", args.db.display());
    }
    let mut store = Store::open_read_only(&args.db)?;
    let counters = match store.counters() {
        Ok(c) => c,
        // A database no daemon has opened yet has no counters table.
        Err(crate::store::StoreError::Sqlite(e)) if e.to_string().contains("no such table") => {
            Vec::new()
        }
        Err(e) => return Err(e.into()),
    };
    // Older databases have no outbox yet: then there is nothing to show.
    let forward = store
        .forward_stats()
        .ok()
        .filter(|f| *f != Default::default());
    if counters.is_empty() && forward.is_none() {
        eprintln!(
            "portcullis: no daemon has committed to {} yet",
            args.db.display()
        );
        return Ok(Outcome::NothingFound);
    }
    let (total, open) = store.incident_totals()?;
    let checkpoints = store.load_checkpoint()?;

    let mut global: BTreeMap<&str, i64> = BTreeMap::new();
    let mut sources: BTreeMap<&str, BTreeMap<&str, i64>> = BTreeMap::new();
    for Counter {
        name,
        source,
        value,
        ..
    } in &counters
    {
        if source.is_empty() {
            global.insert(name, *value);
        } else {
            sources.entry(source).or_default().insert(name, *value);
        }
    }
    let g = |n: &str| global.get(n).copied().unwrap_or(0);
    let now = Utc::now();
    let age = |micros: i64| (now.timestamp_micros() - micros) as f64 / 1e6;
    let time = |micros: i64| DateTime::<Utc>::from_timestamp_micros(micros);

    if args.json {
        let cps: Vec<_> = checkpoints
            .iter()
            .map(|c| {
                serde_json::json!({
                    "source": c.source, "path": c.path.display().to_string(),
                    "inode": c.inode, "offset": c.offset, "rewind_offset": c.rewind_offset,
                    "snapshot_at": c.rewind_time.to_rfc3339(), "committed_at": c.committed_at,
                })
            })
            .collect();
        let v = serde_json::json!({
            "counters": global,
            "sources": sources,
            "incidents": { "total": total, "open": open },
            "last_commit_age_secs": age(g("committed_at")),
            "lag_secs": (g("newest_event") > 0).then(|| age(g("newest_event"))),
            "snapshot_age_secs": (g("snapshot_at") > 0).then(|| age(g("snapshot_at"))),
            "checkpoints": cps,
            "forward": forward.map(|f| serde_json::json!({
                "sent": f.sent, "failed_attempts": f.failed_attempts,
                "tls_failures": f.tls_failures, "queued": f.queued,
                "coalesced": f.coalesced, "dropped": f.dropped,
            })),
        });
        println!("{v}");
        return Ok(Outcome::Found);
    }

    let forward_line = forward.map(|f| {
        format!(
            "forward     {} sent, {} queued, {} failed attempts ({} TLS), {} coalesced, {} dropped (outbox full)",
            f.sent, f.queued, f.failed_attempts, f.tls_failures, f.coalesced, f.dropped
        )
    });
    if counters.is_empty() {
        // Only a replay forwarded into this database.
        println!("{}", forward_line.unwrap_or_default());
        return Ok(Outcome::Found);
    }
    let when = |micros: i64| time(micros).map_or("-".into(), |t| t.to_rfc3339());
    println!(
        "daemon      pid {}, started {} ({} ago), last commit {} ago, {} commits",
        g("pid"),
        when(g("started_at")),
        human(age(g("started_at"))),
        human(age(g("committed_at"))),
        g("commits")
    );
    if g("newest_event") > 0 {
        println!(
            "lag         newest event {}, {} behind now",
            when(g("newest_event")),
            human(age(g("newest_event")))
        );
    }
    println!(
        "engine      {} events correlated, {} late, {} buffered, {} held in the merge",
        g("events"),
        g("late"),
        g("buffered"),
        g("held")
    );
    if g("snapshot_at") > 0 {
        println!(
            "snapshot    {} bytes, taken {} ago (encoded in {:.1} ms)",
            g("snapshot_bytes"),
            human(age(g("snapshot_at"))),
            g("snapshot_micros") as f64 / 1000.0
        );
    }
    println!(
        "cap hits    {} groups, {} values, {} join candidates",
        g("group_cap_hits"),
        g("value_cap_hits"),
        g("join_cap_hits")
    );
    println!(
        "rules       {} running, {} reloads, {} refused",
        g("rules"),
        g("reloads"),
        g("reload_errors")
    );
    println!(
        "incidents   {total} stored, {open} open; {} updates written since start",
        g("incident_updates")
    );
    println!(
        "tail        {} rotations, {} truncations ({} without copy), {} deletions, {} files dropped, {} resumed compressed, {} compressed unreadable, {} errors",
        g("rotations"),
        g("truncations"),
        g("truncations_without_copy"),
        g("deletions"),
        g("files_dropped"),
        g("compressed_resumed"),
        g("compressed_unreadable"),
        g("tail_errors")
    );
    if let Some(line) = &forward_line {
        println!("{line}");
    }
    let width = sources.keys().map(|s| s.len()).max().unwrap_or(0).max(6);
    println!(
        "{:width$}  {:>10}  {:>10}  {:>10}  {:>10}",
        "source", "lines", "events", "skipped", "rejected"
    );
    for (name, c) in sources.iter().filter(|(_, c)| !c.contains_key("received")) {
        let v: Vec<i64> = SOURCE_COUNTERS
            .iter()
            .map(|n| c.get(n).copied().unwrap_or(0))
            .collect();
        println!(
            "{name:width$}  {:>10}  {:>10}  {:>10}  {:>10}",
            v[0], v[1], v[2], v[3]
        );
        if let Some(n) = c.get("compressed_unreadable").filter(|n| **n > 0) {
            println!(
                "{:width$}  {n} compressed rotated files not decompressible (yet)",
                ""
            );
        }
    }
    for (name, c) in sources.iter().filter(|(_, c)| c.contains_key("received")) {
        let v = |n: &str| c.get(n).copied().unwrap_or(0);
        println!(
            "listener    {name}: {} received, {} records, {} rejected, {} skipped, {} dropped \
             (channel full), {} dropped by the kernel, {} connections, {} refused",
            v("received"),
            v("records"),
            v("rejected"),
            v("skipped"),
            v("dropped"),
            v("kernel_drops"),
            v("connections"),
            v("refused")
        );
    }
    for c in &checkpoints {
        println!(
            "checkpoint  {} (inode {}): offset {}, re-read from {} after a restart",
            c.path.display(),
            c.inode,
            c.offset,
            c.rewind_offset
        );
    }
    Ok(Outcome::Found)
}

/// A duration in seconds, the way people read it: `0.4s`, `3m12s`, `2h05m`, `3d04h`.
fn human(secs: f64) -> String {
    if secs < 0.0 {
        return format!("-{}", human(-secs));
    }
    let s = secs as u64;
    match s {
        0..60 => format!("{secs:.1}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        3600..86_400 => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d{:02}h", s / 86_400, s % 86_400 / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::human;

    #[test]
    fn human_durations() {
        assert_eq!(human(0.42), "0.4s");
        assert_eq!(human(192.0), "3m12s");
        assert_eq!(human(7500.0), "2h05m");
        assert_eq!(human(3.0 * 86_400.0 + 4.0 * 3600.0), "3d04h");
        assert_eq!(human(-2.0), "-2.0s");
    }
}
