//! Crash test of `portcullis run`: a daemon tailing two growing logs is killed with SIGKILL
//! at random moments (fixed seed) and restarted each time, while a writer appends the logs
//! in time-ordered chunks and rotates them (rename and create). At the end the incidents
//! must equal those of one uninterrupted replay of the same lines: nothing lost, nothing
//! doubled.
//!
//! The rule set is the whole default pack. The generated firewall log gets three slow
//! scanners added (one probe every one to five minutes over the whole log), so the 24 h
//! windows and the random walk carry state across many restarts: only the snapshots
//! restored at each start make them fire as in the replay.

mod daemon_support;

use daemon_support::*;
use std::path::Path;
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
    add_slow_scanners(&gen.join("kern.log"));
    std::fs::create_dir_all(root.join("live")).unwrap();
    let db = root.join("live.db");
    let config = write_config(
        root,
        &db,
        None,
        "commit_ms = 300\nidle_ms = 250\nsnapshot_ms = 700",
    );

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
    let replayed = replay_keys(&gen, &root.join("replay.db"), None);
    assert!(
        replayed.len() >= 10,
        "replay found too little: {replayed:?}"
    );
    for (rule, source) in [
        ("firewall.slow_port_scan", "192.0.2.201"),
        ("firewall.slow_host_sweep", "192.0.2.202"),
        ("firewall.trw_scanner", "192.0.2.203"),
    ] {
        assert!(
            replayed
                .iter()
                .any(|k| k.0 == rule && k.1.contains(&format!("source.ip={source}"))),
            "{rule} of {source} must fire: {replayed:?}"
        );
    }
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

/// Adds three slow scanners to a generated kern.log, in time order: a port scan of one
/// host (a refused port every 110 s: 15 ports after 26 minutes), a sweep of port 23 (a
/// refused host every 100 s: 25 hosts after 40 minutes) and a source whose first contacts
/// all fail, one every 5 minutes (the random walk decides after 4).
fn add_slow_scanners(kern: &Path) {
    let mut lines = timed_lines(kern);
    let start = lines[0].0;
    let end = lines.last().unwrap().0;
    let mut add = |t: i64, src: &str, dst: String, port: u16| {
        let stamp = chrono::DateTime::from_timestamp(t, 500_000_000)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S%.6f+00:00");
        let line = format!(
            "{stamp} fw01 kernel: [2211309.000001] DROP_IN: IN=eth0 OUT=eth1 \
             MAC=00:16:3e:5a:01:0a:00:16:3e:c4:7f:01:08:00 SRC={src} DST={dst} LEN=44 \
             TOS=0x00 PREC=0x00 TTL=50 ID=1 PROTO=TCP SPT=40000 DPT={port} WINDOW=1024 \
             RES=0x00 SYN URGP=0\n"
        );
        lines.push((t, line.into_bytes()));
    };
    for i in 0..(end - start) / 110 {
        add(
            start + 37 + i * 110,
            "192.0.2.201",
            "203.0.113.30".into(),
            7000 + i as u16,
        );
    }
    for i in 0..(end - start) / 100 {
        add(
            start + 53 + i * 100,
            "192.0.2.202",
            format!("203.0.113.{}", 100 + i),
            23,
        );
    }
    for i in 0..(end - start) / 300 {
        add(
            start + 71 + i * 300,
            "192.0.2.203",
            format!("198.51.100.{}", 10 + i),
            3389,
        );
    }
    // Stable: an added line comes after the generated lines of its second.
    lines.sort_by_key(|(t, _)| *t);
    let text: Vec<u8> = lines.into_iter().flat_map(|(_, l)| l).collect();
    std::fs::write(kern, text).unwrap();
}
