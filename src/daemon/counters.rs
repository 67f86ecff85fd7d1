//! The daemon's live counters, written with every commit for `portcullis stats`.
//!
//! Counter names (source `''` unless said otherwise):
//! `started_at`, `committed_at`, `newest_event`, `snapshot_at` (Unix microseconds);
//! `snapshot_bytes`, `snapshot_micros`, `snapshot_pause_micros` (size of the snapshot in
//! force, time the snapshot thread spent encoding and writing it, time the main loop
//! stopped to freeze the state for it);
//! `pid`, `rules`, `commits`, `incident_updates`, `reloads`, `reload_errors`;
//! engine: `events`, `late`, `buffered`, `held`, `group_cap_hits`, `value_cap_hits`,
//! `join_cap_hits`; tail: `rotations`, `deletions`, `truncations`,
//! `truncations_without_copy`, `files_dropped`, `compressed_resumed`, `tail_errors`,
//! `compressed_unreadable`;
//! per file path: `lines`, `events`, `skipped`, `rejected`, `compressed_unreadable`
//! (compressed rotated files of it that could not be decompressed yet, each counted once).

use super::parsing::LineCounts;
use crate::ingest::tail::TailStats;
use crate::rules::engine::EngineStats;
use crate::store::checkpoints::Counter;
use chrono::{DateTime, Utc};

/// Counters of one session that are not kept elsewhere.
#[derive(Debug, Clone, Default)]
pub struct Counters {
    /// When the session started.
    pub started_at: DateTime<Utc>,
    /// Line counters per source index.
    pub sources: Vec<LineCounts>,
    /// Latest event time seen.
    pub newest_event: Option<DateTime<Utc>>,
    /// Commits so far.
    pub commits: u64,
    /// Incident snapshots written.
    pub incident_updates: u64,
    /// Rule reloads applied before this session.
    pub reloads: u64,
    /// Reloads refused (bad rules).
    pub reload_errors: u64,
    /// Tailer counters.
    pub tail: TailStats,
}

/// The last snapshot of correlation state a session wrote.
#[derive(Debug, Clone, Copy)]
pub struct SnapshotInfo {
    /// When it was taken (wall clock).
    pub at: DateTime<Utc>,
    /// Its size.
    pub bytes: u64,
    /// Time spent encoding and writing it (off the main loop), in microseconds.
    pub micros: u64,
    /// Time the main loop stopped to freeze the state for it, in microseconds.
    pub pause_micros: u64,
}

/// The engine's side of a commit.
#[derive(Debug, Clone, Copy, Default)]
pub struct EngineSide {
    /// Engine counters.
    pub stats: EngineStats,
    /// Records pushed but not yet correlated.
    pub buffered: u64,
    /// Records waiting in the merge.
    pub held: u64,
    /// Rules running.
    pub rules: u64,
    /// The last snapshot of correlation state: when, its size, how long encoding took.
    pub snapshot: Option<SnapshotInfo>,
}

impl Counters {
    /// Adds a block's line counts to source `source`.
    pub fn add_lines(&mut self, source: u32, c: &LineCounts) {
        let i = source as usize;
        if self.sources.len() <= i {
            self.sources.resize(i + 1, LineCounts::default());
        }
        self.sources[i].add(c);
    }

    /// Rows to write; `names` maps source indexes to file paths.
    pub fn rows(&self, names: &[String], e: &EngineSide) -> Vec<Counter> {
        let micros = |t: Option<DateTime<Utc>>| t.map_or(0, |t| t.timestamp_micros());
        let g = |name: &str, v: u64| Counter::new(name, "", v as i64);
        let mut out = vec![
            Counter::new("started_at", "", self.started_at.timestamp_micros()),
            Counter::new("committed_at", "", Utc::now().timestamp_micros()),
            Counter::new("newest_event", "", micros(self.newest_event)),
            Counter::new("snapshot_at", "", micros(e.snapshot.map(|s| s.at))),
            g("snapshot_bytes", e.snapshot.map_or(0, |s| s.bytes)),
            g("snapshot_micros", e.snapshot.map_or(0, |s| s.micros)),
            g(
                "snapshot_pause_micros",
                e.snapshot.map_or(0, |s| s.pause_micros),
            ),
            g("pid", u64::from(std::process::id())),
            g("rules", e.rules),
            g("commits", self.commits),
            g("incident_updates", self.incident_updates),
            g("reloads", self.reloads),
            g("reload_errors", self.reload_errors),
            g("events", e.stats.events),
            g("late", e.stats.late),
            g("buffered", e.buffered),
            g("held", e.held),
            g("group_cap_hits", e.stats.group_cap_hits),
            g("value_cap_hits", e.stats.value_cap_hits),
            g("join_cap_hits", e.stats.join_cap_hits),
            g("rotations", self.tail.rotations),
            g("deletions", self.tail.deletions),
            g("truncations", self.tail.truncations),
            g(
                "truncations_without_copy",
                self.tail.truncations_without_copy,
            ),
            g("files_dropped", self.tail.files_dropped),
            g("compressed_resumed", self.tail.compressed_resumed),
            g("tail_errors", self.tail.errors),
            g("compressed_unreadable", self.tail.compressed_unreadable),
        ];
        for (path, n) in &self.tail.unreadable {
            let name = path.display().to_string();
            out.push(Counter::new("compressed_unreadable", &name, *n as i64));
        }
        for (i, c) in self.sources.iter().enumerate() {
            let Some(name) = names.get(i) else { continue };
            for (n, v) in [
                ("lines", c.lines),
                ("events", c.events),
                ("skipped", c.skipped),
                ("rejected", c.rejected),
            ] {
                out.push(Counter::new(n, name, v as i64));
            }
        }
        out
    }
}
