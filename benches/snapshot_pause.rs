//! How long a snapshot of correlation state stops the daemon's main loop, before and after
//! moving the encoding to a worker thread: a 72 h slow-scan window over N scanning sources
//! (the largest state the default limits allow), then
//! - before: `Engine::snapshot` (encode on the loop) plus the SQLite write;
//! - after: `Engine::freeze` (the copy the loop still makes) and the commit that puts the
//!   staged snapshot in force; the encoding and the chunked write are timed apart (they run
//!   on the snapshot thread while the loop goes on).
//!
//! `cargo bench --bench snapshot_pause` (optionally `-- SOURCES`, default 1 000 000).

use chrono::Utc;
use portcullis::store::snapshots::CHUNK_BYTES;
use portcullis::store::Store;
use std::time::Instant;

#[path = "shared/slow_scan.rs"]
mod slow_scan;

/// Current resident memory in MiB (the copy's cost in memory while it is encoded).
fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

fn main() {
    let sources: u32 = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let engine = slow_scan::engine(sources);

    let t = Instant::now();
    let bytes = engine.snapshot();
    let encode_on_loop = t.elapsed().as_secs_f64();

    let before_copy = rss_mib();
    let t = Instant::now();
    let frozen = engine.freeze();
    let copy = t.elapsed().as_secs_f64();
    let copy_mib = rss_mib() - before_copy;
    let t = Instant::now();
    let again = frozen.encode();
    let encode_off_loop = t.elapsed().as_secs_f64();
    assert_eq!(again, bytes, "a frozen copy encodes to the same bytes");
    drop(frozen);

    let dir = tempfile::tempdir().expect("temp dir");
    let mut store = Store::open(&dir.path().join("bench.db")).expect("store");
    let t = Instant::now();
    let staged = store.stage_snapshot(&bytes, Utc::now()).expect("stage");
    let write = t.elapsed().as_secs_f64();
    let t = Instant::now();
    store
        .commit_checkpoint(&[], &[], &[], &[], Some(&staged))
        .expect("commit");
    let in_force = t.elapsed().as_secs_f64();
    let chunks = bytes.len().div_ceil(CHUNK_BYTES);
    println!("the copy holds {copy_mib:.0} MiB while it is encoded (engine state before it: RSS {before_copy:.0} MiB with the encoded bytes)");
    println!(
        "snapshot of {sources} slow-scan sources ({} groups, {:.1} MiB): main loop paused \
         {:.3}s before (encode {encode_on_loop:.3}s + write {write:.3}s), {:.3}s after \
         (copy {copy:.3}s + commit naming it {in_force:.4}s); off the loop: encode \
         {encode_off_loop:.3}s, write {write:.3}s in {chunks} chunks (a commit waits at most \
         one: ~{:.3}s)",
        engine.groups(),
        bytes.len() as f64 / (1024.0 * 1024.0),
        encode_on_loop + write,
        copy + in_force,
        write / chunks as f64,
    );
}
