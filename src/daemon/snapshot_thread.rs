//! The snapshot thread: encodes a frozen copy of the correlation state straight into the
//! database (its own connection, a transaction per 4 MiB chunk, so the encoded snapshot is
//! never whole in memory) while the main loop goes on correlating. The main loop pays only for the copy; its next commit after the thread is
//! done puts the staged snapshot in force together with the rewind offsets of the moment
//! of the copy.

use super::saved;
use super::DaemonError;
use crate::record::Record;
use crate::rules::engine::snapshot::Frozen;
use crate::store::snapshots::Staged;
use crate::store::{Store, StoreError};
use chrono::{DateTime, Utc};
use crossbeam_channel::{bounded, Receiver, Sender};
use std::path::Path;
use std::thread::JoinHandle;
use std::time::Instant;

/// What the main loop hands over: everything a restart needs, as it was at `taken_at`.
pub struct Job {
    /// The engine's state.
    pub frozen: Frozen,
    /// Source names by index.
    pub names: Vec<String>,
    /// Records waiting in the merge.
    pub held: Vec<Record>,
    /// When the copy was made.
    pub taken_at: DateTime<Utc>,
}

/// A snapshot staged by the thread.
#[derive(Debug, Clone)]
pub struct Done {
    /// The staged generation, for the commit that puts it in force.
    pub staged: Staged,
    /// Its size in bytes.
    pub bytes: u64,
    /// Time spent encoding and writing it, in microseconds.
    pub micros: u64,
}

/// A running snapshot thread; at most one job is in flight.
pub struct SnapshotThread {
    jobs: Option<Sender<Job>>,
    done: Receiver<Result<Done, StoreError>>,
    handle: Option<JoinHandle<()>>,
    busy: bool,
}

impl SnapshotThread {
    /// Starts the thread with its own connection to `db`.
    pub fn spawn(db: &Path) -> Result<SnapshotThread, DaemonError> {
        let mut store = Store::open(db)?;
        let (jobs, job_rx) = bounded::<Job>(1);
        let (done_tx, done) = bounded(1);
        let handle = std::thread::Builder::new()
            .name("snapshot".into())
            .spawn(move || {
                for job in job_rx {
                    let started = Instant::now();
                    let result = store.stager(job.taken_at).and_then(|mut stager| {
                        let written =
                            saved::encode_into(&job.names, &job.held, job.frozen, &mut stager);
                        let bytes = stager.bytes();
                        stager.finish(written).map(|staged| Done {
                            staged,
                            bytes,
                            micros: started.elapsed().as_micros() as u64,
                        })
                    });
                    if done_tx.send(result).is_err() {
                        return;
                    }
                }
            })
            .map_err(DaemonError::Spawn)?;
        Ok(SnapshotThread {
            jobs: Some(jobs),
            done,
            handle: Some(handle),
            busy: false,
        })
    }

    /// A job is in flight.
    pub fn busy(&self) -> bool {
        self.busy
    }

    /// The job in flight is done: the next commit can put it in force.
    pub fn ready(&self) -> bool {
        self.busy && !self.done.is_empty()
    }

    /// Hands a job over; the caller checks [`SnapshotThread::busy`] first.
    pub fn send(&mut self, job: Job) -> Result<(), DaemonError> {
        let jobs = self.jobs.as_ref().ok_or(DaemonError::Stage("snapshot"))?;
        jobs.send(job).map_err(|_| DaemonError::Stage("snapshot"))?;
        self.busy = true;
        Ok(())
    }

    /// The job's result if it is done (without waiting).
    pub fn try_done(&mut self) -> Result<Option<Done>, DaemonError> {
        if !self.busy {
            return Ok(None);
        }
        match self.done.try_recv() {
            Ok(r) => {
                self.busy = false;
                Ok(Some(r?))
            }
            Err(crossbeam_channel::TryRecvError::Empty) => Ok(None),
            Err(_) => Err(DaemonError::Stage("snapshot")),
        }
    }

    /// Waits for the job in flight, if any.
    pub fn wait(&mut self) -> Result<Option<Done>, DaemonError> {
        if !self.busy {
            return Ok(None);
        }
        let r = self
            .done
            .recv()
            .map_err(|_| DaemonError::Stage("snapshot"))?;
        self.busy = false;
        Ok(Some(r?))
    }
}

impl Drop for SnapshotThread {
    fn drop(&mut self) {
        // Closing the job channel ends the thread after the job in flight.
        self.jobs = None;
        while self.done.try_recv().is_ok() {}
        if let Some(h) = self.handle.take() {
            // A job in flight blocks on the full result channel unless it is read.
            if self.busy {
                let _ = self.done.recv();
            }
            let _ = h.join();
        }
    }
}
