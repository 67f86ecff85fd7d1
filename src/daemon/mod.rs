//! `portcullis run`: the daemon. Follows log files as they grow and rotate, correlates their
//! events as they come and commits incidents, read positions and counters to SQLite.
//!
//! ```text
//! tail thread: notify wake-ups + rescans ─► Tailer::poll ─► parse (a LineParser per file)
//!        │ bounded channel of batches (records + positions after them)
//!        ▼
//! main loop: merge by event time ─► Engine ─► every second (or N events, or when input
//!            goes idle): one commit of incidents, checkpoint and counters
//! ```
//!
//! # Crash consistency by snapshots
//!
//! Every [`Settings::snapshot_every`] (and at a clean stop) the main loop freezes the whole
//! correlation state ([`crate::rules::engine::Engine::freeze`]), copies the records still
//! waiting in the merge and the source numbering, and marks every file's position at that
//! moment: every line received from the tailer is then in the engine or in the merge, so
//! those positions are exactly what the frozen state has consumed. The snapshot thread
//! encodes it straight into chunks staged in the database while the loop goes on; the next
//! commit after it is done puts it in force in the same transaction as the rewind offsets
//! it was taken at (and the incidents and read positions of that commit). Until then
//! commits keep the previous snapshot's rewind offsets, so a crash in between restarts from
//! the previous snapshot. Freezing shares the long-window groups (the bulk of a large
//! state) with the engine instead of copying them (`rules::shards`): the loop pauses for
//! milliseconds, and the memory held on top of the state is what the loop writes while the
//! thread has not encoded it yet, plus one chunk.
//!
//! On restart the snapshot is restored and every file is re-read from its rewind offset.
//! The lines up to the committed offset go to the engine again (without being counted
//! again): incidents re-derived from them get the same deterministic ids, and the store's
//! upsert never moves a count backwards, so nothing is doubled; lines after it are new, so
//! nothing is lost. Rules changed since the snapshot (a reload, an edited rule file) start
//! empty, and so does everything when no usable snapshot exists (a database written by an
//! older build): the daemon says so on stderr.
//!
//! Parsers that join several lines (FileZilla, IIS and Serv-U sessions, ASA build/teardown
//! pairs, the current `#Fields:` layout) keep state that is not in the snapshot: a restart
//! parses each file again from where the oldest session its parser held open at the
//! snapshot began (the checkpoint's `parse_from`), and at least `PARSER_LOOKBACK` (4 MiB)
//! before its rewind offset, dropping the events found before that offset (they are in the
//! snapshot), so a login whose USER line came before the snapshot and whose PASS line after
//! it is still one login. Layouts and ASA builds older than the look-back are lost to a
//! crash.
//!
//! # Live event time
//!
//! Replay ends; a live log does not. The engine's watermark advances with event time as
//! lines arrive; when no source has produced a line for [`IDLE_FLUSH`] (and every file is
//! read to its end), the lateness allowance is treated as elapsed: everything buffered is
//! correlated and committed at once. A line that arrives later but is stamped earlier than
//! what was flushed is correlated at its own time and counted as late.

mod control;
mod counters;
mod files;
mod merge;
mod parsing;
mod saved;
mod session;
mod snapshot_thread;
mod tail_thread;

pub use control::Control;

use crate::ingest::listen::{ListenerSpec, Listeners};
use crate::ingest::source::SourceSpec;
use crate::ingest::tail::DEFAULT_MAX_BYTES_PER_POLL;
use crate::record::Record;
use crate::rules::{Rule, RuleSetError};
use crate::store::StoreError;
use crossbeam_channel::Receiver;
use std::path::PathBuf;
use std::time::Duration;

/// Rescan period: the truth about files, whatever notify says (it only wakes the poll up
/// earlier). A quarter second keeps a missed wake-up invisible next to the commit period.
pub const POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Input silence after which buffered events are correlated without waiting for the
/// lateness allowance, and a quiet source stops holding back the merge. Short enough for
/// the 500 ms latency goal; long enough that lines a writer emits together arrive together.
pub const IDLE_FLUSH: Duration = Duration::from_millis(100);
/// Longest time between two commits while events flow: what a crash can cost in re-reading,
/// and how stale `portcullis stats` can be.
pub const COMMIT_INTERVAL: Duration = Duration::from_secs(1);
/// Events correlated between two commits at most, so a backlog commits in bounded steps.
pub const COMMIT_EVENTS: u64 = 50_000;
/// Longest time between two snapshots of correlation state: what a crash costs in
/// re-reading (30 s of lines take well under a second to correlate again), against the
/// cost of writing the state (for a million slow-scan sources: 133 MiB, encoded and written
/// off the main loop in 2-8 s; the loop pauses for milliseconds).
pub const SNAPSHOT_EVERY: Duration = Duration::from_secs(30);

/// How the daemon polls, flushes and commits (`[run]` in the config).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// Rescan period.
    pub poll: Duration,
    /// Input silence before buffered events are flushed.
    pub idle: Duration,
    /// Longest time between commits.
    pub commit_interval: Duration,
    /// Most events between commits.
    pub commit_events: u64,
    /// At the very first start, read existing files from their start (else from their end).
    pub read_from_start: bool,
    /// Most bytes one poll reads per source pattern.
    pub max_bytes_per_poll: usize,
    /// Longest time between two snapshots of correlation state.
    pub snapshot_every: Duration,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            poll: POLL_INTERVAL,
            idle: IDLE_FLUSH,
            commit_interval: COMMIT_INTERVAL,
            commit_events: COMMIT_EVENTS,
            read_from_start: false,
            max_bytes_per_poll: DEFAULT_MAX_BYTES_PER_POLL,
            snapshot_every: SNAPSHOT_EVERY,
        }
    }
}

/// What the daemon runs on.
#[derive(Debug, Clone)]
pub struct DaemonOptions {
    /// Sources; `path` may be a pattern with `*` and `?` in its file-name part.
    pub sources: Vec<SourceSpec>,
    /// Rule directory, read again on reload; the built-in pack when `None`.
    pub rules_dir: Option<PathBuf>,
    /// The rules loaded at start.
    pub rules: Vec<Rule>,
    /// Allowlist entries from the configuration, attached to the rules at start and on
    /// every reload.
    pub allow: Vec<crate::rules::allow::Allow>,
    /// The database.
    pub db: PathBuf,
    /// Lateness allowance of the engine.
    pub lateness: Duration,
    /// Caps on the engine's state (`[limits]`).
    pub limits: crate::rules::limits::Limits,
    /// Timing.
    pub settings: Settings,
    /// Network listeners (syslog, NetFlow); their source numbers are kept across restarts
    /// (see `saved::number_sources`).
    pub listeners: Vec<ListenerSpec>,
    /// Syslog forwarding of incident news (`[forward]`), through the outbox.
    pub forward: Option<crate::forward::ForwardSettings>,
}

/// Batches in flight from the listeners to the main loop. A batch is one datagram or one
/// TCP read (up to ~30 flows or a few hundred syslog lines); 4096 of them absorb about a
/// second of 100 k flows/s while the main loop commits. Past it batches are dropped, counted.
pub const LISTENER_BATCHES: usize = 4096;

/// The running listeners and the receiving end of their channel; they live across reloads.
pub struct Listen {
    /// Batches of records from every listener.
    pub rx: Receiver<Vec<Record>>,
    /// The listeners (names and counters).
    pub listeners: Listeners,
    /// Source names by index at the start: the last snapshot's, with listeners new since
    /// then appended (files found later are numbered after them).
    pub names: Vec<String>,
}

/// Daemon failures. A source that cannot be read is not one: it is counted and retried.
#[derive(Debug, thiserror::Error)]
pub enum DaemonError {
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A thread of the daemon stopped unexpectedly (a bug).
    #[error("internal error: the {0} thread stopped unexpectedly")]
    Stage(&'static str),
    /// The tail thread could not be started.
    #[error("cannot start the tail thread: {0}")]
    Spawn(std::io::Error),
    /// A listener could not bind its address.
    #[error("cannot start listener {0}")]
    Listen(std::io::Error),
    /// The syslog forwarder could not start.
    #[error(transparent)]
    Forward(#[from] crate::forward::ForwardError),
}

/// What a finished daemon did over its whole run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RunSummary {
    /// Lines read (not counting lines re-read after a restart).
    pub lines: u64,
    /// Events correlated (including re-read ones).
    pub events: u64,
    /// Commits made.
    pub commits: u64,
    /// Rule reloads applied.
    pub reloads: u64,
}

/// Loads the rules of `dir`, or the built-in pack.
pub fn load_rules(dir: Option<&PathBuf>) -> Result<Vec<Rule>, RuleSetError> {
    match dir {
        Some(d) => crate::rules::load_dir(d),
        None => crate::rules::default_rules(),
    }
}

/// Runs until `control` says stop (SIGTERM, SIGINT): then drains what was read, commits
/// and returns. A reload request (SIGHUP) reads the rule directory again; if it loads, the
/// daemon commits a snapshot and restarts its pipeline from it with the new rules
/// (unchanged rules keep their state, changed ones start empty); if not, the old rules keep
/// running and the errors go to stderr.
pub fn run(opts: &DaemonOptions, control: &Control) -> Result<RunSummary, DaemonError> {
    let (tx, rx) = crossbeam_channel::bounded(LISTENER_BATCHES);
    // Listeners keep the numbers the last snapshot gave them (its state's evidence names
    // sources by number), whatever the configuration's order; new ones come after.
    // Read once: the first session restores from the same bytes.
    let snapshot = crate::store::Store::open(&opts.db)?.load_snapshot()?;
    let previous = snapshot
        .as_ref()
        .and_then(|(bytes, _)| saved::names(bytes))
        .unwrap_or_default();
    let wanted: Vec<String> = opts.listeners.iter().map(ListenerSpec::name).collect();
    let (names, sources) = saved::number_sources(previous, &wanted);
    let listen = Listen {
        listeners: Listeners::start(&opts.listeners, &sources, &tx).map_err(DaemonError::Listen)?,
        rx,
        names,
    };
    drop(tx);
    // Forwards across reloads; on the way out (stop or error) it gets a bounded time to
    // send what the last commit queued.
    let forwarder = opts
        .forward
        .as_ref()
        .map(|f| crate::forward::Forwarder::spawn(&opts.db, f.clone()))
        .transpose()?;
    let result = run_sessions(opts, control, &listen, snapshot);
    if let Some(f) = forwarder {
        f.finish(crate::forward::DRAIN_LIMIT);
    }
    result
}

/// Runs sessions until a stop; a reload starts the next one with the new rules. The first
/// session restores `snapshot` (the one in force at the start, already read); later ones
/// read the snapshot their predecessor committed.
fn run_sessions(
    opts: &DaemonOptions,
    control: &Control,
    listen: &Listen,
    snapshot: Option<(Vec<u8>, String)>,
) -> Result<RunSummary, DaemonError> {
    let mut rules = opts.rules.clone();
    let mut total = RunSummary::default();
    let mut first = Some(snapshot);
    loop {
        let snapshot = match first.take() {
            Some(s) => s,
            None => crate::store::Store::open(&opts.db)?.load_snapshot()?,
        };
        let (summary, next) =
            session::Session::start(opts, rules, control, total.reloads, listen, snapshot)?
                .run()?;
        total.lines += summary.lines;
        total.events += summary.events;
        total.commits += summary.commits;
        match next {
            Some(new_rules) => {
                total.reloads += 1;
                rules = new_rules;
            }
            None => return Ok(total),
        }
    }
}
