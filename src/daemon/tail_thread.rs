//! The tail thread: polls one `Tailer` per source pattern when notify wakes it and at every
//! rescan period, parses what it read, and hands the records with the positions after them
//! to the main loop over a bounded channel (a full channel makes it wait: the files wait on
//! disk, nothing is lost). While a poll fills its byte budget it polls again at once: a
//! backlog is read at full speed.

use super::files::FileId;
use super::parsing::{FileRecords, Parsers, Reread};
use super::{DaemonError, Settings};
use crate::ingest::source::SourceSpec;
use crate::ingest::tail::{FilePosition, TailOptions, TailStats, Tailer};
use crossbeam_channel::{bounded, Receiver, Sender};
use notify::Watcher;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;

/// What one poll produced.
#[derive(Debug)]
pub struct Batch {
    /// Parsed blocks, per file in read order.
    pub files: Vec<FileRecords>,
    /// Per pattern: every followed file's position after these blocks.
    pub positions: Vec<Vec<FilePosition>>,
    /// Every file was read to its end (the poll stayed under its byte budget).
    pub drained: bool,
    /// Followed paths by source index, when a new one appeared.
    pub names: Option<Vec<String>>,
    /// Tailer counters, summed over patterns.
    pub tail: TailStats,
}

/// Where the tailers start.
#[derive(Debug, Default)]
pub struct Start {
    /// Per pattern: positions to resume from.
    pub positions: Vec<Vec<FilePosition>>,
    /// Per file: the region already read by the previous run.
    pub reread: HashMap<FileId, Reread>,
    /// Read files no position names from their start.
    pub read_from_start: bool,
    /// Source names taken before the files' (the listeners', then the files' of the
    /// snapshot resumed from, which keep their numbers): new files are numbered after them.
    pub names: Vec<String>,
}

/// A running tail thread.
pub struct TailThread {
    handle: JoinHandle<()>,
    stop: Arc<AtomicBool>,
    wake: Sender<()>,
}

impl TailThread {
    /// Starts following `sources` from `start`, sending batches to `tx`.
    pub fn spawn(
        sources: Vec<SourceSpec>,
        start: Start,
        settings: &Settings,
        tx: Sender<Batch>,
    ) -> Result<TailThread, DaemonError> {
        let stop = Arc::new(AtomicBool::new(false));
        let (wake_tx, wake_rx) = bounded::<()>(1);
        let mut worker = Worker::new(sources, start, settings, wake_tx.clone());
        let flag = Arc::clone(&stop);
        let poll = settings.poll;
        let handle = std::thread::Builder::new()
            .name("tail".into())
            .spawn(move || worker.run(&flag, &wake_rx, poll, &tx))
            .map_err(DaemonError::Spawn)?;
        Ok(TailThread {
            handle,
            stop,
            wake: wake_tx,
        })
    }

    /// Asks the thread to stop after its current poll (its last batch is still sent).
    pub fn stop(&self) {
        self.stop.store(true, Ordering::SeqCst);
        let _ = self.wake.try_send(());
    }

    /// Waits for the thread to end.
    pub fn join(self) -> Result<(), DaemonError> {
        self.handle.join().map_err(|_| DaemonError::Stage("tail"))
    }
}

/// The state of the tail thread.
struct Worker {
    sources: Vec<SourceSpec>,
    tailers: Vec<Tailer>,
    budget: usize,
    parsers: Parsers,
    reread: HashMap<FileId, Reread>,
    names: Vec<String>,
    index: HashMap<PathBuf, u32>,
    watcher: Option<notify::RecommendedWatcher>,
    watched: HashSet<PathBuf>,
}

impl Worker {
    fn new(sources: Vec<SourceSpec>, start: Start, settings: &Settings, wake: Sender<()>) -> Self {
        let opts = TailOptions {
            read_from_start: start.read_from_start,
            max_bytes_per_poll: settings.max_bytes_per_poll,
            ..TailOptions::default()
        };
        let mut positions = start.positions;
        positions.resize(sources.len(), Vec::new());
        let tailers = sources
            .iter()
            .zip(positions)
            .map(|(s, p)| Tailer::new(vec![s.path.clone()], p, opts.clone()))
            .collect();
        let watcher = notify::recommended_watcher(move |_: notify::Result<notify::Event>| {
            let _ = wake.try_send(());
        });
        let watcher = match watcher {
            Ok(w) => Some(w),
            Err(e) => {
                tracing::warn!(error = %e, "notify unavailable, rescanning only");
                None
            }
        };
        Worker {
            sources,
            tailers,
            budget: settings.max_bytes_per_poll.max(1),
            parsers: Parsers::default(),
            reread: start.reread,
            index: (start.names.iter().enumerate())
                .map(|(i, n)| (PathBuf::from(n), i as u32))
                .collect(),
            names: start.names,
            watcher,
            watched: HashSet::new(),
        }
    }

    fn run(
        &mut self,
        stop: &AtomicBool,
        wake: &Receiver<()>,
        poll: std::time::Duration,
        tx: &Sender<Batch>,
    ) {
        let mut last_positions: Vec<Vec<FilePosition>> = Vec::new();
        let mut last_drained = None;
        loop {
            self.watch_dirs();
            let stopping = stop.load(Ordering::SeqCst);
            let batch = self.poll_once();
            let changed = !batch.files.is_empty()
                || batch.names.is_some()
                || last_drained != Some(batch.drained)
                || batch.positions != last_positions;
            let drained = batch.drained;
            if changed {
                last_drained = Some(batch.drained);
                last_positions.clone_from(&batch.positions);
                if tx.send(batch).is_err() {
                    return;
                }
            }
            if stopping {
                return;
            }
            if drained {
                let _ = wake.recv_timeout(poll);
                // Coalesce the burst of events one write makes.
                while wake.try_recv().is_ok() {}
            }
        }
    }

    /// Watches the directory of every pattern that exists now (notify is only a wake-up:
    /// a directory that cannot be watched is still rescanned).
    fn watch_dirs(&mut self) {
        let Some(w) = self.watcher.as_mut() else {
            return;
        };
        for s in &self.sources {
            let dir = match s.path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => PathBuf::from("."),
            };
            if !self.watched.contains(&dir)
                && dir.is_dir()
                && w.watch(&dir, notify::RecursiveMode::NonRecursive).is_ok()
            {
                self.watched.insert(dir);
            }
        }
    }

    fn poll_once(&mut self) -> Batch {
        let mut batch = Batch {
            files: Vec::new(),
            positions: Vec::with_capacity(self.tailers.len()),
            drained: true,
            names: None,
            tail: TailStats::default(),
        };
        let names_before = self.names.len();
        for (i, tailer) in self.tailers.iter_mut().enumerate() {
            let before = bytes_read(&tailer.stats());
            let blocks = match tailer.poll() {
                Ok(b) => b,
                Err(e) => {
                    tracing::warn!(source = ?self.sources[i].path, error = %e, "poll failed");
                    Vec::new()
                }
            };
            let stats = tailer.stats();
            if bytes_read(&stats) - before >= self.budget as u64 {
                batch.drained = false;
            }
            add_tail_stats(&mut batch.tail, &stats);
            for tb in &blocks {
                let source = source_index(&mut self.names, &mut self.index, &tb.path);
                let id = (i, tb.file.dev, tb.file.inode);
                let reread = self.reread.get(&id).copied();
                let recs = self.parsers.parse(i, &self.sources[i], source, tb, reread);
                batch.files.push(recs);
            }
            batch.positions.push(tailer.positions());
        }
        let followed: HashSet<FileId> = batch
            .positions
            .iter()
            .enumerate()
            .flat_map(|(i, ps)| ps.iter().map(move |p| (i, p.dev, p.inode)))
            .collect();
        self.parsers.retain(|k| followed.contains(k));
        self.reread.retain(|k, _| followed.contains(k));
        if self.names.len() != names_before {
            batch.names = Some(self.names.clone());
        }
        batch
    }
}

/// Bytes a tailer has read so far, over files followed and finished.
fn bytes_read(s: &TailStats) -> u64 {
    s.finished_bytes + s.files.iter().map(|f| f.bytes).sum::<u64>()
}

/// Adds the counters of `s` to `total` (files are not listed).
fn add_tail_stats(total: &mut TailStats, s: &TailStats) {
    total.rotations += s.rotations;
    total.deletions += s.deletions;
    total.truncations += s.truncations;
    total.truncations_without_copy += s.truncations_without_copy;
    total.unseen_rotated += s.unseen_rotated;
    total.files_finished += s.files_finished;
    total.files_dropped += s.files_dropped;
    total.compressed_resumed += s.compressed_resumed;
    total.errors += s.errors;
    total.compressed_unreadable += s.compressed_unreadable;
    total.unreadable.extend(s.unreadable.iter().cloned());
}

/// The source index of a followed path, numbering new paths as they appear.
fn source_index(names: &mut Vec<String>, index: &mut HashMap<PathBuf, u32>, path: &Path) -> u32 {
    *index.entry(path.to_path_buf()).or_insert_with(|| {
        names.push(path.display().to_string());
        (names.len() - 1) as u32
    })
}
