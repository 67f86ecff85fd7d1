//! What a snapshot of correlation state costs the daemon: how long its main loop stops, and
//! how much memory the process holds on top of the state while the snapshot is encoded and
//! written. The state is a 72 h slow-scan window over N scanning sources (the largest state
//! the default limits allow). The snapshot follows the daemon's path: the loop freezes the
//! state, a thread encodes it straight into SQLite chunks, the loop goes on
//! correlating meanwhile (probes of the same scan, at a steady rate and then as fast as it
//! can), and a commit puts the snapshot in force. Peak memory is the kernel's high-water
//! mark (`VmHWM`), reset before each snapshot. For comparison, the old on-loop way: encode
//! on the loop, then write.
//!
//! Last, a start: a fresh process reads the snapshot in force and restores the engine from
//! it, as the daemon does, and reports its peak memory.
//!
//! `cargo bench --bench snapshot_pause` (optionally `-- SOURCES`, default 1 000 000).

use chrono::{Duration, Utc};
use portcullis::record::RawLine;
use portcullis::rules::engine::Engine;
use portcullis::store::snapshots::CHUNK_BYTES;
use portcullis::store::Store;
use std::time::Instant;

#[path = "shared/slow_scan.rs"]
mod slow_scan;

/// Probes a second the loop correlates during the steady-rate snapshot: a busy firewall's
/// refusals, all of them landing in the slow-scan state.
const STEADY_RATE: u64 = 10_000;

/// A line of `/proc/self/status` in MiB (`VmRSS` now, `VmHWM` the peak since the reset).
fn status_mib(field: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(field))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Starts a new peak: the high-water mark becomes the current RSS (Linux `clear_refs` 5).
fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").expect("reset VmHWM");
}

/// Pushes probes of the scan into `engine`: existing sources (pseudo-random), new ports.
struct Probes {
    sources: u32,
    n: u64,
    raw: RawLine,
}

impl Probes {
    fn push(&mut self, engine: &mut Engine) {
        self.n += 1;
        let s = (self.n.wrapping_mul(2_654_435_761) % u64::from(self.sources)) as u32;
        let at = slow_scan::end() + Duration::milliseconds(self.n as i64);
        let port = 3000 + (self.n % 20_000) as u16;
        engine.push(slow_scan::probe(s, port, at, &self.raw));
    }
}

/// One snapshot the daemon's way while the loop correlates `rate` probes a second (0: as
/// fast as it can). Prints the loop's pause, the peak memory over the state and the times.
fn snapshot(engine: &mut Engine, probes: &mut Probes, store: &mut Option<Store>, rate: u64) {
    let state = status_mib("VmRSS:");
    reset_peak();
    let t = Instant::now();
    let frozen = engine.freeze();
    let pause = t.elapsed().as_secs_f64();
    let mut thread_store = store.take().expect("store");
    let worker = std::thread::spawn(move || {
        let t = Instant::now();
        let mut stager = thread_store.stager(Utc::now()).expect("stager");
        let written = frozen.encode_into(&mut stager);
        let len = stager.bytes() as usize;
        let staged = stager.finish(written).expect("stage");
        (thread_store, staged, len, t.elapsed().as_secs_f64())
    });
    let started = Instant::now();
    let before = probes.n;
    while !worker.is_finished() {
        if rate == 0 {
            for _ in 0..1000 {
                probes.push(engine);
            }
        } else {
            let due = (started.elapsed().as_secs_f64() * rate as f64) as u64;
            while probes.n - before < due {
                probes.push(engine);
            }
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
    }
    let pushed = probes.n - before;
    let (mut s, staged, len, total) = worker.join().expect("snapshot thread");
    let t = Instant::now();
    s.commit_checkpoint(&[], &[], &[], &[], Some(&staged))
        .expect("commit");
    let in_force = t.elapsed().as_secs_f64();
    *store = Some(s);
    let peak = status_mib("VmHWM:");
    let what = if rate == 0 {
        "as fast as it can".to_string()
    } else {
        format!("{rate}/s")
    };
    println!(
        "loop correlating {what} ({pushed} probes meanwhile): paused {:.3}s (copy {pause:.3}s + \
         commit naming it {in_force:.4}s); peak RSS {peak:.0} MiB = state {state:.0} MiB + \
         {:.0} MiB; snapshot {:.1} MiB encoded and written in {total:.3}s in {} chunks",
        pause + in_force,
        peak - state,
        len as f64 / (1024.0 * 1024.0),
        len.div_ceil(CHUNK_BYTES),
    );
}

/// The start of a daemon in this process: read the snapshot in force in `db`, restore.
fn restore(db: &str) {
    let t = Instant::now();
    let mut store = Store::open(std::path::Path::new(db)).expect("store");
    let (bytes, _) = store
        .load_snapshot()
        .expect("load")
        .expect("a snapshot in force");
    let (engine, _) = Engine::restore(
        vec![slow_scan::rule()],
        portcullis::rules::engine::DEFAULT_LATENESS,
        &bytes,
    )
    .expect("restore");
    drop(bytes);
    println!(
        "a start (fresh process): read and restored {} groups in {:.3}s; peak RSS {:.0} MiB, \
         then {:.0} MiB",
        engine.groups(),
        t.elapsed().as_secs_f64(),
        status_mib("VmHWM:"),
        status_mib("VmRSS:"),
    );
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if let Some(i) = args.iter().position(|a| a == "--restore") {
        restore(&args[i + 1]);
        return;
    }
    let sources: u32 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let mut engine = slow_scan::engine(sources);
    println!(
        "{sources} slow-scan sources ({} groups): RSS {:.0} MiB",
        engine.groups(),
        status_mib("VmRSS:")
    );
    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Some(Store::open(&dir.path().join("bench.db")).expect("store"));
    let mut probes = Probes {
        sources,
        n: 0,
        raw: RawLine::from_text("probe"),
    };
    snapshot(&mut engine, &mut probes, &mut store, STEADY_RATE);
    snapshot(&mut engine, &mut probes, &mut store, 0);

    // The old way: the loop encodes, then writes.
    let state = status_mib("VmRSS:");
    reset_peak();
    let t = Instant::now();
    let bytes = engine.snapshot();
    let encode = t.elapsed().as_secs_f64();
    let mut store = store.expect("store");
    let staged = store.stage_snapshot(&bytes, Utc::now()).expect("stage");
    store
        .commit_checkpoint(&[], &[], &[], &[], Some(&staged))
        .expect("commit");
    println!(
        "on the loop (the old way): paused {:.3}s (encode {encode:.3}s); peak RSS {:.0} MiB = \
         state {state:.0} MiB + {:.0} MiB",
        t.elapsed().as_secs_f64(),
        status_mib("VmHWM:"),
        status_mib("VmHWM:") - state,
    );
    drop(engine);
    let db = dir.path().join("bench.db");
    let status = std::process::Command::new(std::env::current_exe().expect("this bench"))
        .arg("--restore")
        .arg(&db)
        .status()
        .expect("restore process");
    assert!(status.success());
}
