//! Network listeners of the daemon: syslog over UDP and TCP ([`syslog`]), NetFlow v5/v9 and
//! IPFIX over UDP ([`netflow`]).
//!
//! Each listener runs on its own threads and hands `Vec<Record>` batches to the main loop
//! over one bounded channel with `try_send`: when the channel is full the batch is dropped
//! and counted (UDP cannot wait; a TCP sender is not made to wait either, so one slow
//! consumer never stalls every connection). Threads use read timeouts of [`READ_TIMEOUT`]
//! and stop when the stop flag is set.

pub mod netflow;
pub mod syslog;

use crate::record::Record;
use crossbeam_channel::{Sender, TrySendError};
use portcullis_parsers::SourceTz;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

/// How long a listener thread blocks in a read before it looks at the stop flag: bounds
/// how long a SIGTERM waits for the listeners.
pub const READ_TIMEOUT: Duration = Duration::from_millis(200);

/// What a listener receives.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListenerKind {
    /// Syslog messages, one per UDP datagram.
    SyslogUdp,
    /// Syslog messages over TCP, octet-counted or LF-framed (RFC 6587).
    SyslogTcp,
    /// NetFlow v5/v9 and IPFIX datagrams.
    Netflow,
}

/// One configured listener.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListenerSpec {
    /// What it receives.
    pub kind: ListenerKind,
    /// Address to bind.
    pub bind: SocketAddr,
    /// Zone of syslog stamps without offset.
    pub timezone: SourceTz,
}

impl ListenerSpec {
    /// The listener's source name (in `portcullis stats` and in evidence provenance):
    /// `syslog+udp://127.0.0.1:5514`, `syslog+tcp://…`, `netflow+udp://…`.
    pub fn name(&self) -> String {
        let scheme = match self.kind {
            ListenerKind::SyslogUdp => "syslog+udp",
            ListenerKind::SyslogTcp => "syslog+tcp",
            ListenerKind::Netflow => "netflow+udp",
        };
        format!("{scheme}://{}", self.bind)
    }
}

/// Counters of one listener, shared between its threads and the main loop.
#[derive(Debug, Default)]
pub struct ListenerCounters {
    /// Datagrams (NetFlow, syslog UDP) or messages (syslog TCP) received.
    pub received: AtomicU64,
    /// Records made from them (sent or dropped).
    pub records: AtomicU64,
    /// Datagrams or messages that did not decode or parse, or were too long.
    pub rejected: AtomicU64,
    /// Well-formed messages without an event (unknown program, non-firewall kernel line).
    pub skipped: AtomicU64,
    /// Records dropped because the channel to the main loop was full.
    pub dropped: AtomicU64,
    /// Datagrams the kernel dropped on a full socket buffer (Linux, `/proc/net/udp`).
    pub kernel_drops: AtomicU64,
    /// TCP connections accepted.
    pub connections: AtomicU64,
    /// TCP connections refused because too many were open.
    pub refused: AtomicU64,
}

impl ListenerCounters {
    /// `(name, value)` of every counter, for `portcullis stats`.
    pub fn snapshot(&self) -> Vec<(&'static str, u64)> {
        let g = |a: &AtomicU64| a.load(Ordering::Relaxed);
        vec![
            ("received", g(&self.received)),
            ("records", g(&self.records)),
            ("rejected", g(&self.rejected)),
            ("skipped", g(&self.skipped)),
            ("dropped", g(&self.dropped)),
            ("kernel_drops", g(&self.kernel_drops)),
            ("connections", g(&self.connections)),
            ("refused", g(&self.refused)),
        ]
    }
}

/// The sending side shared by a listener's threads: counts records and drops.
#[derive(Debug, Clone)]
pub struct Emitter {
    tx: Sender<Vec<Record>>,
    counters: Arc<ListenerCounters>,
}

impl Emitter {
    /// Sends `batch` without waiting; a full (or closed) channel drops it, counted.
    pub fn emit(&self, batch: Vec<Record>) {
        if batch.is_empty() {
            return;
        }
        let n = batch.len() as u64;
        self.counters.records.fetch_add(n, Ordering::Relaxed);
        match self.tx.try_send(batch) {
            Ok(()) => {}
            Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) => {
                self.counters.dropped.fetch_add(n, Ordering::Relaxed);
            }
        }
    }
}

/// Running listeners.
pub struct Listeners {
    stop: Arc<AtomicBool>,
    handles: Vec<JoinHandle<()>>,
    counters: Vec<(String, Arc<ListenerCounters>)>,
}

impl Listeners {
    /// Binds every listener (listener `i` numbers its records as source `sources[i]`) and
    /// starts its threads. A bind failure stops the ones already started and is returned.
    pub fn start(
        specs: &[ListenerSpec],
        sources: &[u32],
        tx: &Sender<Vec<Record>>,
    ) -> std::io::Result<Listeners> {
        let mut out = Listeners {
            stop: Arc::new(AtomicBool::new(false)),
            handles: Vec::new(),
            counters: Vec::new(),
        };
        for (spec, &source) in specs.iter().zip(sources) {
            let counters = Arc::new(ListenerCounters::default());
            let emit = Emitter {
                tx: tx.clone(),
                counters: Arc::clone(&counters),
            };
            let stop = Arc::clone(&out.stop);
            let started = match spec.kind {
                ListenerKind::Netflow => netflow::spawn(spec, source, emit, stop),
                ListenerKind::SyslogUdp => syslog::spawn_udp(spec, source, emit, stop),
                ListenerKind::SyslogTcp => syslog::spawn_tcp(spec, source, emit, stop),
            };
            match started {
                Ok(h) => out.handles.push(h),
                Err(e) => {
                    out.stop_and_join();
                    return Err(std::io::Error::new(
                        e.kind(),
                        format!("{}: {e}", spec.name()),
                    ));
                }
            }
            out.counters.push((spec.name(), counters));
        }
        Ok(out)
    }

    /// Names and counters, in the order of the specs.
    pub fn counters(&self) -> &[(String, Arc<ListenerCounters>)] {
        &self.counters
    }

    /// Stops every thread and waits for them (at most about [`READ_TIMEOUT`]).
    pub fn stop_and_join(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        for h in self.handles.drain(..) {
            let _ = h.join();
        }
    }
}

impl Drop for Listeners {
    fn drop(&mut self) {
        self.stop_and_join();
    }
}
