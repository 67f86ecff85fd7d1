//! Crash test of `portcullis run`: a daemon tailing two growing logs is killed with SIGKILL
//! at random moments (fixed seed) and restarted each time, while a writer appends the logs
//! in time-ordered chunks and rotates them (rename and create). At the end the incidents
//! must equal those of one uninterrupted replay of the same lines: nothing lost, nothing
//! doubled.
//!
//! The rule set is the default pack without the rules whose state a restart does not
//! rebuild (24 h windows, random walks): see the `daemon` module docs.

mod daemon_support;

use daemon_support::*;
use std::time::{Duration, Instant};

/// Kills at least this many times.
const KILLS: usize = 40;
/// Seed of every random choice of the test (chunking, pauses, kill moments).
const SEED: u64 = 20_260_302;

#[test]
fn sigkill_at_random_moments_loses_and_doubles_nothing() {
    let started = Instant::now();
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let gen = root.join("gen");
    generate(&gen, 7, 40_000);
    let rules = short_rules(root);
    std::fs::create_dir_all(root.join("live")).unwrap();
    let db = root.join("live.db");
    let config = write_config(root, &db, Some(&rules), "commit_ms = 300\nidle_ms = 250");

    let vs = timed_lines(&gen.join("vsftpd.log"));
    let fw = timed_lines(&gen.join("kern.log"));
    let lines = vs.len() + fw.len();
    let mut rng = Rng::new(SEED);
    let parts = chunks(&vs, &fw, &mut rng, 1, 20);
    let n = parts.len();
    let live_vs = root.join("live/vsftpd.log");
    let live_fw = root.join("live/kern.log");

    // The writer: kern.log's part of a chunk first (the firewall sees a connection before
    // the FTP server logs it), pauses of 0-80 ms, two rename-and-create rotations.
    let (wvs, wfw) = (live_vs.clone(), live_fw.clone());
    let mut wrng = Rng::new(SEED + 1);
    let writer = std::thread::spawn(move || {
        for (k, (a, b)) in parts.into_iter().enumerate() {
            if k == n / 2 {
                std::fs::rename(&wvs, wvs.with_extension("log.1")).unwrap();
            }
            if k == 3 * n / 4 {
                std::fs::rename(&wfw, wfw.with_extension("log.1")).unwrap();
            }
            append(&wfw, &b);
            append(&wvs, &a);
            std::thread::sleep(Duration::from_millis(wrng.range(0, 81)));
        }
    });

    let log = root.join("daemon.err");
    let mut daemon = Daemon::start(&config, &log);
    let (mut kills, mut while_writing) = (0, 0);
    while kills < KILLS || !writer.is_finished() {
        std::thread::sleep(Duration::from_millis(rng.range(30, 500)));
        assert!(daemon.alive(), "daemon died:\n{}", daemon.log());
        while_writing += usize::from(!writer.is_finished());
        daemon.kill();
        kills += 1;
        daemon = Daemon::start(&config, &log);
    }
    writer.join().unwrap();

    let files = [live_vs.clone(), live_fw.clone()];
    let done = wait_for(Duration::from_secs(30), || {
        caught_up(&db, &files).then_some(())
    });
    assert!(done.is_some(), "daemon did not catch up:\n{}", daemon.log());
    assert_eq!(daemon.terminate(Duration::from_secs(10)), Some(0));
    let log_text = std::fs::read_to_string(&log).unwrap();
    assert!(!log_text.contains("panicked"), "{log_text}");

    let live = incident_keys(&db);
    let replayed = replay_keys(&gen, &root.join("replay.db"), Some(&rules));
    assert!(
        replayed.len() >= 10,
        "replay found too little: {replayed:?}"
    );
    assert!(
        live == replayed,
        "live run differs from replay:\n{}",
        diff(&live, &replayed)
    );
    eprintln!(
        "crash test: {kills} SIGKILLs ({while_writing} while writing), {lines} lines in {n} \
         chunks, 2 rotations, {} incidents, {:.1}s",
        live.len(),
        started.elapsed().as_secs_f64()
    );
}
