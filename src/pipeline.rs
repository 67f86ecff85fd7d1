//! Wires the stages together: the only place that knows all of them.
//!
//! ```text
//! file ─► read+parse thread ─┐ (bounded)
//! file ─► read+parse thread ─┼─► merge by event time ─► engine ─► store thread ─► SQLite
//!                            ┘                                 (bounded, batched)
//! ```
//! A full channel blocks the stage before it: a file waits on disk, nothing is lost.

use crate::forward::{ForwardError, ForwardSettings, Forwarder, DRAIN_LIMIT};
use crate::incident::Incident;
use crate::ingest::flowfile::{looks_like_flows, read_flow_files};
use crate::ingest::lookup::EvidenceReader;
use crate::ingest::source::{read_source, SourceError, SourceSpec, SourceStats};
use crate::record::Record;
use crate::rules::engine::{Engine, EngineStats};
use crate::rules::Rule;
use crate::store::outbox::ForwardStats;
use crate::store::{Store, StoreError};
use crossbeam_channel::{bounded, Receiver};
use std::collections::HashSet;
use std::path::PathBuf;
use std::thread;
use std::time::{Duration, Instant};

/// Blocks of parsed records in flight per source. Each block is up to 1 MiB of lines, so four
/// bound a source's read-ahead to a few MiB.
const RECORD_BLOCKS_IN_FLIGHT: usize = 4;
/// Incident batches in flight to the store.
const INCIDENT_BATCHES_IN_FLIGHT: usize = 16;
/// Records correlated between two hand-offs of incident updates to the store.
const UPDATE_EVERY: u64 = 8192;

/// What to replay and where to.
#[derive(Debug, Clone)]
pub struct ReplayOptions {
    /// The files.
    pub sources: Vec<SourceSpec>,
    /// The rules to run.
    pub rules: Vec<Rule>,
    /// The database.
    pub db: PathBuf,
    /// Lateness allowance of the engine.
    pub lateness: Duration,
    /// Send incident news to this syslog receiver too (through the outbox).
    pub forward: Option<ForwardSettings>,
    /// Caps on the engine's state (`[limits]`).
    pub limits: crate::rules::limits::Limits,
}

/// What a replay did.
#[derive(Debug, Clone)]
pub struct ReplaySummary {
    /// Per source: name, format, counters.
    pub sources: Vec<(String, String, SourceStats)>,
    /// Engine counters.
    pub engine: EngineStats,
    /// Distinct incidents opened or updated.
    pub incidents: usize,
    /// Wall-clock time.
    pub elapsed: Duration,
    /// Forwarding during this replay: messages sent, and the outbox left behind.
    pub forward: Option<ForwardStats>,
}

/// Replay failures.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    /// A source could not be read.
    #[error(transparent)]
    Source(#[from] SourceError),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The forwarder could not start.
    #[error(transparent)]
    Forward(#[from] ForwardError),
    /// A stage thread panicked (a bug).
    #[error("internal error: the {0} stage stopped unexpectedly")]
    Stage(&'static str),
}

/// Reads every source to its end, correlates the records in event-time order and stores the
/// incidents.
pub fn replay(opts: ReplayOptions) -> Result<ReplaySummary, PipelineError> {
    let started = Instant::now();
    let started_at = chrono::Utc::now();
    let mut store = Store::open(&opts.db)?;
    // The forwarder sends while the replay runs, and drains (bounded) after it.
    let forwarding = match &opts.forward {
        Some(f) => {
            store.set_outbox(Some(f.outbox));
            let before = store.forward_stats()?;
            Some((Forwarder::spawn(&opts.db, f.clone())?, before))
        }
        None => None,
    };
    let names: Vec<String> = opts
        .sources
        .iter()
        .map(|s| s.path.display().to_string())
        .collect();

    // Resolve formats before starting threads, so a bad source fails fast. Flow files
    // (captures, raw datagrams) are recognised by their first bytes.
    let mut prepared = Vec::new();
    let mut flow_files = Vec::new();
    for (i, spec) in opts.sources.iter().enumerate() {
        if spec.format.is_none() && is_flow_file(&spec.path) {
            flow_files.push((i as u32, spec.clone()));
            continue;
        }
        let ctx = spec.context();
        let format = spec.resolve_format(&ctx)?;
        prepared.push((i as u32, spec.clone(), format, ctx));
    }

    let (summary_sources, engine_stats, incidents) = thread::scope(|s| {
        let mut readers = Vec::new();
        let mut receivers = Vec::new();
        for (i, spec, format, ctx) in &prepared {
            let (tx, rx) = bounded(RECORD_BLOCKS_IN_FLIGHT);
            receivers.push(rx);
            readers.push(s.spawn(move || read_source(*i, spec, *format, ctx, &tx)));
        }
        let flow_reader = (!flow_files.is_empty()).then(|| {
            let (tx, rx) = bounded(RECORD_BLOCKS_IN_FLIGHT);
            receivers.push(rx);
            let files = &flow_files;
            s.spawn(move || read_flow_files(files, &tx))
        });
        let (inc_tx, inc_rx) = bounded::<Vec<Incident>>(INCIDENT_BATCHES_IN_FLIGHT);
        let store_names = names.clone();
        let paths: Vec<PathBuf> = opts.sources.iter().map(|s| s.path.clone()).collect();
        let writer = s.spawn(move || -> Result<Store, StoreError> {
            let mut evidence = EvidenceReader::default();
            for mut batch in inc_rx {
                evidence.resolve(&mut batch, &paths);
                store.write_incidents(&batch, &store_names)?;
            }
            Ok(store)
        });

        let mut engine = Engine::with_limits(opts.rules.clone(), opts.lateness, opts.limits);
        let mut ids = HashSet::new();
        let mut send = |engine: &mut Engine| {
            let updates = engine.take_updates();
            if updates.is_empty() {
                return true;
            }
            ids.extend(updates.iter().map(|i| i.id.clone()));
            inc_tx.send(updates).is_ok()
        };
        let mut since_update = 0u64;
        let mut merged = MergeByTime::new(receivers);
        for rec in merged.by_ref() {
            engine.push(rec);
            since_update += 1;
            if since_update >= UPDATE_EVERY {
                since_update = 0;
                if !send(&mut engine) {
                    break; // the writer failed; its error is reported below
                }
            }
        }
        engine.finish();
        send(&mut engine);
        drop(inc_tx);
        drop(merged);

        let mut stats = Vec::new();
        for ((_, spec, format, _), handle) in prepared.iter().zip(readers) {
            let st = handle
                .join()
                .map_err(|_| PipelineError::Stage("reader"))??;
            stats.push((spec.path.display().to_string(), format.to_string(), st));
        }
        if let Some(handle) = flow_reader {
            let sts = handle
                .join()
                .map_err(|_| PipelineError::Stage("flow reader"))??;
            for ((_, spec), st) in flow_files.iter().zip(sts) {
                stats.push((spec.path.display().to_string(), "netflow".to_string(), st));
            }
        }
        let store = writer.join().map_err(|_| PipelineError::Stage("store"))??;
        Ok::<_, PipelineError>((stats, engine.stats(), (ids.len(), store)))
    })?;
    let (incident_count, mut store) = incidents;
    store.record_run("replay", started_at, &summary_sources)?;
    let elapsed = started.elapsed();
    let forward = match forwarding {
        Some((forwarder, before)) => {
            forwarder.finish(DRAIN_LIMIT);
            let after = store.forward_stats()?;
            Some(ForwardStats {
                sent: after.sent - before.sent,
                failed_attempts: after.failed_attempts - before.failed_attempts,
                tls_failures: after.tls_failures - before.tls_failures,
                coalesced: after.coalesced - before.coalesced,
                dropped: after.dropped - before.dropped,
                queued: after.queued,
            })
        }
        None => None,
    };
    Ok(ReplaySummary {
        sources: summary_sources,
        engine: engine_stats,
        incidents: incident_count,
        elapsed,
        forward,
    })
}

/// True when the file's first bytes say it holds flow exports rather than text lines.
fn is_flow_file(path: &std::path::Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 4];
    std::fs::File::open(path)
        .and_then(|mut f| f.read(&mut head))
        .is_ok_and(|n| looks_like_flows(&head[..n]))
}

/// Merges per-source record streams into one stream ordered by event time (each source is
/// nearly ordered already; the engine's reorder buffer absorbs what is left).
struct MergeByTime {
    sources: Vec<MergeInput>,
}

/// One source of the merge: its channel, the block being drained, and whether it ended.
type MergeInput = (
    Receiver<Vec<Record>>,
    std::iter::Peekable<std::vec::IntoIter<Record>>,
    bool,
);

impl MergeByTime {
    fn new(receivers: Vec<Receiver<Vec<Record>>>) -> MergeByTime {
        MergeByTime {
            sources: receivers
                .into_iter()
                .map(|rx| (rx, Vec::new().into_iter().peekable(), false))
                .collect(),
        }
    }
}

impl Iterator for MergeByTime {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        for (rx, queue, done) in &mut self.sources {
            while queue.peek().is_none() && !*done {
                match rx.recv() {
                    Ok(block) => *queue = block.into_iter().peekable(),
                    Err(_) => *done = true,
                }
            }
        }
        let mut best: Option<(usize, chrono::DateTime<chrono::Utc>)> = None;
        for (i, (_, queue, _)) in self.sources.iter_mut().enumerate() {
            if let Some(r) = queue.peek() {
                if best.is_none_or(|(_, t)| r.event.timestamp < t) {
                    best = Some((i, r.event.timestamp));
                }
            }
        }
        self.sources[best?.0].1.next()
    }
}
