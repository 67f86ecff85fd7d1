//! One run of the pipeline, from a checkpoint to a stop or a reload: the main loop that
//! merges, correlates and commits.

use super::counters::{Counters, EngineSide, SnapshotInfo};
use super::files::Files;
use super::merge::LiveMerge;
use super::saved;
use super::snapshot_thread::{Job, SnapshotThread};
use super::tail_thread::{Batch, Start, TailThread};
use super::{load_rules, Control, DaemonError, DaemonOptions, Listen, RunSummary};
use crate::ingest::lookup::EvidenceReader;
use crate::record::Record;
use crate::rules::engine::Engine;
use crate::rules::Rule;
use crate::store::checkpoints::Counter;
use crate::store::Store;
use chrono::{DateTime, Utc};
use crossbeam_channel::{bounded, select, Receiver};
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Batches in flight from the tail thread. A batch is at most one poll's byte budget, so
/// four bound the read-ahead to a few polls.
const BATCHES_IN_FLIGHT: usize = 4;
/// An idle daemon still commits its counters this often, so `portcullis stats` tells a
/// live daemon (a recent commit) from a dead one.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// The main loop's pause for a snapshot (freezing the state) times this is the least time
/// between two snapshots, so snapshots never take more than 2% of the loop's time however
/// large the state grows (at a million slow-scan sources the freeze takes a few ms; the
/// short-window state it still copies is what can make it longer).
const PAUSE_SHARE: u32 = 50;

/// The main loop's state.
pub struct Session<'a> {
    opts: &'a DaemonOptions,
    control: &'a Control,
    listen: &'a Listen,
    rules: Vec<Rule>,
    store: Store,
    engine: Engine,
    files: Files,
    merge: LiveMerge,
    counters: Counters,
    names: Vec<String>,
    /// Reads evidence kept by place back from the files (and their rotated copies).
    evidence: EvidenceReader,
    rx: Receiver<Batch>,
    tail: Option<TailThread>,
    /// Every file was read to its end at the last poll.
    drained: bool,
    /// Records pushed into the engine.
    pushed: u64,
    pushed_at_commit: u64,
    /// Latest event time pushed.
    max_pushed: Option<DateTime<Utc>>,
    /// Records were pushed since the engine was last flushed.
    unflushed: bool,
    /// The snapshot in force (committed by this session).
    snapshot: Option<SnapshotInfo>,
    /// The last copy of the state handed to the snapshot thread: when (monotonic clock),
    /// how long the main loop paused for it, and `pushed` then.
    frozen: Option<(Instant, Duration, u64)>,
    /// Encodes and stages snapshots off the main loop.
    snapshots: SnapshotThread,
    last_commit: Instant,
    dirty: bool,
}

impl<'a> Session<'a> {
    /// Opens the store, restores `snapshot` (the one in force, with when it was taken),
    /// resumes from the checkpoint and starts the tail thread.
    pub fn start(
        opts: &'a DaemonOptions,
        rules: Vec<Rule>,
        control: &'a Control,
        reloads: u64,
        listen: &'a Listen,
        snapshot: Option<(Vec<u8>, String)>,
    ) -> Result<Session<'a>, DaemonError> {
        let mut store = Store::open(&opts.db)?;
        store.set_outbox(opts.forward.as_ref().map(|f| f.outbox));
        let rows = store.load_checkpoint()?;
        let patterns = opts
            .sources
            .iter()
            .map(|s| s.path.display().to_string())
            .collect();
        let (files, plan) = Files::resume(patterns, &rows);
        let mut merge = LiveMerge::default();
        let listeners = listen.names.clone();
        let (engine, names) = match snapshot {
            None => (
                Engine::with_limits(rules.clone(), opts.lateness, opts.limits),
                listeners,
            ),
            Some((bytes, taken_at)) => {
                match saved::decode(&bytes, rules.clone(), opts.lateness, &listeners, &mut merge) {
                    Ok(mut r) => {
                        r.engine.set_limits(opts.limits);
                        tracing::info!(
                            taken_at,
                            bytes = bytes.len(),
                            "restored snapshot {}",
                            r.report
                        );
                        (r.engine, r.names)
                    }
                    Err(e) => {
                        tracing::warn!(
                            taken_at,
                            error = %e,
                            "snapshot not usable, correlation state starts empty"
                        );
                        (
                            Engine::with_limits(rules.clone(), opts.lateness, opts.limits),
                            listeners,
                        )
                    }
                }
            }
        };
        if plan.had_checkpoint {
            tracing::info!(
                files = plan.positions.iter().map(Vec::len).sum::<usize>(),
                rereading = plan.reread.len(),
                "resuming"
            );
        }
        let (tx, rx) = bounded(BATCHES_IN_FLIGHT);
        let start = Start {
            positions: plan.positions,
            reread: plan.reread,
            read_from_start: opts.settings.read_from_start || plan.had_checkpoint,
            names: names.clone(),
        };
        let snapshots = SnapshotThread::spawn(&opts.db)?;
        let tail = TailThread::spawn(opts.sources.clone(), start, &opts.settings, tx)?;
        Ok(Session {
            opts,
            control,
            listen,
            engine,
            rules,
            store,
            files,
            merge,
            counters: Counters {
                started_at: Utc::now(),
                reloads,
                ..Counters::default()
            },
            names,
            evidence: EvidenceReader::default(),
            rx,
            tail: Some(tail),
            drained: false,
            pushed: 0,
            pushed_at_commit: 0,
            max_pushed: None,
            unflushed: false,
            snapshot: None,
            frozen: None,
            snapshots,
            last_commit: Instant::now(),
            dirty: false,
        })
    }

    /// Runs until a stop (returns `None`) or an accepted reload (returns the new rules).
    pub fn run(mut self) -> Result<(RunSummary, Option<Vec<Rule>>), DaemonError> {
        loop {
            let timeout = self.timeout(Instant::now());
            select! {
                recv(self.rx) -> batch => match batch {
                    Ok(batch) => self.absorb(batch),
                    Err(_) => return Err(self.tail_failure()),
                },
                recv(self.listen.rx) -> batch => {
                    if let Ok(records) = batch {
                        self.absorb_listened(records);
                    }
                },
                default(timeout) => {}
            }
            self.feed();
            self.maybe_flush()?;
            self.maybe_commit()?;
            if self.control.stop_requested() {
                return self.shutdown(None);
            }
            if self.control.take_reload() {
                match load_rules(self.opts.rules_dir.as_ref()) {
                    Ok(mut rules) => {
                        crate::rules::allow::attach(&mut rules, &self.opts.allow);
                        return self.shutdown(Some(rules));
                    }
                    Err(e) => {
                        self.counters.reload_errors += 1;
                        tracing::warn!("reload refused, the old rules keep running:\n{e}");
                    }
                }
            }
        }
    }

    /// How long to wait for input before looking at timers and signals again.
    fn timeout(&self, now: Instant) -> Duration {
        let s = &self.opts.settings;
        let mut deadline = (now + s.idle).min(self.last_commit + HEARTBEAT);
        if self.dirty || self.unflushed {
            deadline = deadline.min(self.last_commit + s.commit_interval);
        }
        if let Some(t) = self.merge.next_release(s.idle) {
            deadline = deadline.min(t);
        }
        if self.unflushed {
            if let Some(t) = self.merge.last_data() {
                deadline = deadline.min(t + s.idle);
            }
        }
        deadline
            .saturating_duration_since(now)
            .max(Duration::from_millis(1))
    }

    /// Takes in one batch from the tail thread.
    fn absorb(&mut self, batch: Batch) {
        let now = Instant::now();
        if let Some(names) = batch.names {
            self.names = names;
        }
        for f in batch.files {
            self.counters.add_lines(f.source, &f.counts);
            self.files.note_read(
                (f.pattern, f.dev, f.inode),
                &f.path,
                f.end,
                f.fingerprint,
                f.sample,
            );
            self.files
                .note_pending((f.pattern, f.dev, f.inode), f.pending_since);
            if !f.records.is_empty() {
                self.merge.add(f.source, f.records, now);
            }
        }
        for (i, ps) in batch.positions.iter().enumerate() {
            self.files.apply_positions(i, ps);
        }
        self.drained = batch.drained;
        self.counters.tail = batch.tail;
        self.dirty = true;
    }

    /// Takes in one batch from a listener (all its records are of one source).
    fn absorb_listened(&mut self, records: Vec<Record>) {
        if let Some(first) = records.first() {
            self.merge
                .add(first.event.origin.source, records, Instant::now());
            self.dirty = true;
        }
    }

    /// Moves every record the merge releases into the engine.
    fn feed(&mut self) {
        let now = Instant::now();
        while let Some(r) = self.merge.pop(now, self.drained, self.opts.settings.idle) {
            self.push(r);
        }
    }

    fn push(&mut self, r: Record) {
        let ts = r.event.timestamp;
        self.max_pushed = Some(self.max_pushed.map_or(ts, |m| m.max(ts)));
        self.counters.newest_event = self.max_pushed;
        self.engine.push(r);
        self.pushed += 1;
        self.unflushed = true;
    }

    /// When input has been silent for the idle period, correlates everything buffered (the
    /// lateness allowance is taken as elapsed) and commits at once.
    fn maybe_flush(&mut self) -> Result<(), DaemonError> {
        let idle = self.opts.settings.idle;
        let waited = self.merge.last_data().map(|t| t.elapsed());
        let silent = waited.is_none_or(|w| w >= idle);
        if !(self.drained && self.merge.held() == 0 && silent) {
            return Ok(());
        }
        // Joins waiting within their tolerance keep waiting (their partner may still come
        // from another file); they are decided once the silence outlasts the tolerance.
        let pending = self.engine.pending_joins();
        if self.unflushed || pending > 0 {
            self.engine.flush_idle(waited.unwrap_or(idle));
            let decided = self.engine.pending_joins() < pending;
            if self.unflushed || decided {
                self.unflushed = false;
                self.commit(false)?;
            }
        }
        Ok(())
    }

    fn maybe_commit(&mut self) -> Result<(), DaemonError> {
        let s = &self.opts.settings;
        let since = self.last_commit.elapsed();
        let due = self.pushed - self.pushed_at_commit >= s.commit_events
            || ((self.dirty || self.pushed > self.pushed_at_commit) && since >= s.commit_interval)
            || since >= HEARTBEAT
            || self.snapshots.ready();
        if due {
            self.commit(false)?;
        }
        Ok(())
    }

    /// Writes the incidents updated since the last commit, the checkpoint and the counters
    /// in one transaction; a snapshot the snapshot thread finished staging goes in force
    /// with it. When a snapshot is due, the state is copied and handed to the thread after
    /// the commit. `snapshot` (a stop or a reload): waits for a snapshot of everything up to
    /// now and commits it in force.
    fn commit(&mut self, snapshot: bool) -> Result<(), DaemonError> {
        // Updates first: a copy taken after them holds no pending update, as the store
        // holds them.
        let mut updates = self.engine.take_updates();
        if !updates.is_empty() {
            let paths: Vec<PathBuf> = self.names.iter().map(PathBuf::from).collect();
            self.evidence.resolve(&mut updates, &paths);
            self.counters.incident_updates += updates.len() as u64;
        }
        let done = if snapshot {
            self.snapshots.wait()?;
            self.freeze()?;
            self.snapshots.wait()?
        } else {
            self.snapshots.try_done()?
        };
        if let Some(d) = &done {
            self.files.snapshot_in_force();
            self.snapshot = Some(SnapshotInfo {
                at: d.staged.taken_at,
                bytes: d.bytes,
                micros: d.micros,
                pause_micros: self.frozen.map_or(0, |(_, p, _)| p.as_micros() as u64),
            });
        }
        let taken_at = self.snapshot.map_or(DateTime::<Utc>::UNIX_EPOCH, |s| s.at);
        let rows = self.files.rows(taken_at);
        self.counters.commits += 1;
        let side = EngineSide {
            stats: self.engine.stats(),
            buffered: self.pushed - self.engine.stats().events.min(self.pushed),
            held: self.merge.held() as u64,
            rules: self.rules.len() as u64,
            snapshot: self.snapshot,
        };
        let mut counters = self.counters.rows(&self.names, &side);
        for (name, c) in self.listen.listeners.counters() {
            for (n, v) in c.snapshot() {
                counters.push(Counter::new(n, name, v as i64));
            }
        }
        let staged = done.as_ref().map(|d| &d.staged);
        self.store
            .commit_checkpoint(&updates, &self.names, &rows, &counters, staged)?;
        self.files.prune();
        self.last_commit = Instant::now();
        self.pushed_at_commit = self.pushed;
        self.dirty = false;
        if !snapshot && self.snapshot_due() {
            self.freeze()?;
        }
        Ok(())
    }

    /// A snapshot is due: the interval passed since the last one (stretched when copying
    /// the state is slow), events came since, and the thread is free. An idle daemon does
    /// not rewrite an unchanged state.
    fn snapshot_due(&self) -> bool {
        !self.snapshots.busy()
            && self.frozen.is_none_or(|(at, pause, pushed)| {
                let every = self.opts.settings.snapshot_every.max(pause * PAUSE_SHARE);
                at.elapsed() >= every && pushed != self.pushed
            })
    }

    /// Freezes the correlation state, copies the merge's records and the source names at
    /// this moment and hands them to the snapshot thread.
    fn freeze(&mut self) -> Result<(), DaemonError> {
        let started = Instant::now();
        let job = Job {
            frozen: self.engine.freeze(),
            names: self.names.clone(),
            held: self.merge.records().cloned().collect(),
            taken_at: Utc::now(),
        };
        self.files.mark_snapshot();
        self.frozen = Some((started, started.elapsed(), self.pushed));
        self.snapshots.send(job)
    }

    /// Stops the tail thread, correlates everything it read, commits.
    fn shutdown(
        mut self,
        next: Option<Vec<Rule>>,
    ) -> Result<(RunSummary, Option<Vec<Rule>>), DaemonError> {
        if let Some(tail) = self.tail.take() {
            tail.stop();
            while let Ok(batch) = self.rx.recv() {
                self.absorb(batch);
            }
            tail.join()?;
        }
        while let Ok(records) = self.listen.rx.try_recv() {
            self.absorb_listened(records);
        }
        for r in self.merge.drain_all() {
            self.push(r);
        }
        self.engine.finish();
        self.unflushed = false;
        self.commit(true)?;
        // Said only now: a line written after this message is read by the new rules (the
        // old session has stopped reading and committed what it read).
        if let Some(rules) = &next {
            tracing::info!(rules = rules.len(), "reloading");
        }
        let summary = RunSummary {
            lines: self.counters.sources.iter().map(|c| c.lines).sum(),
            events: self.engine.stats().events,
            commits: self.counters.commits,
            reloads: 0,
        };
        Ok((summary, next))
    }

    /// The tail thread ended without being asked: its panic, as an error.
    fn tail_failure(&mut self) -> DaemonError {
        match self.tail.take().map(TailThread::join) {
            Some(Err(e)) => e,
            _ => DaemonError::Stage("tail"),
        }
    }
}
