//! NetFlow v5 over UDP into a listener at a fixed rate: every datagram sent is either
//! received or counted as dropped (by the kernel or on a full channel), every record
//! made is either delivered or counted as dropped, and at the target rate nothing drops.
//!
//! `PORTCULLIS_FLOW_RATE=<records/s>` overrides the rate (to measure the machine).

use crossbeam_channel::bounded;
use portcullis::daemon::LISTENER_BATCHES;
use portcullis::ingest::listen::{ListenerKind, ListenerSpec, Listeners};
use portcullis_parsers::SourceTz;
use std::net::UdpSocket;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

const RECORDS_PER_DATAGRAM: usize = 30;
/// Target rate in records per second (release build; a debug build decodes ~5x slower).
const RATE: u64 = if cfg!(debug_assertions) {
    40_000
} else {
    200_000
};
const SECONDS: f64 = 2.0;

/// A NetFlow v5 datagram of `n` TCP flows, sequence `seq`.
fn v5(seq: u32, n: usize) -> Vec<u8> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as u32;
    let mut d = Vec::with_capacity(24 + 48 * n);
    d.extend(5u16.to_be_bytes());
    d.extend((n as u16).to_be_bytes());
    d.extend(3_600_000u32.to_be_bytes()); // sys uptime ms
    d.extend(now.to_be_bytes());
    d.extend(0u32.to_be_bytes());
    d.extend(seq.wrapping_mul(n as u32).to_be_bytes());
    d.extend([0, 0, 0, 0]); // engine type, id, sampling
    for i in 0..n {
        d.extend([10, 0, (i >> 8) as u8, i as u8]); // src
        d.extend([192, 0, 2, 10]); // dst
        d.extend([0, 0, 0, 0]); // next hop
        d.extend([0, 1, 0, 2]); // input, output
        d.extend(3u32.to_be_bytes()); // packets
        d.extend(180u32.to_be_bytes()); // bytes
        d.extend(3_599_000u32.to_be_bytes()); // first
        d.extend(3_599_900u32.to_be_bytes()); // last
        d.extend((40_000 + i as u16).to_be_bytes());
        d.extend(21u16.to_be_bytes());
        d.extend([0, 0x02, 6, 0]); // pad, flags, proto, tos
        d.extend([0, 0, 0, 0, 24, 24, 0, 0]); // AS, masks, pad
    }
    d
}

#[test]
fn netflow_udp_accounting_and_no_drops_at_rate() {
    let rate: u64 = std::env::var("PORTCULLIS_FLOW_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(RATE);
    let port = UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let spec = ListenerSpec {
        kind: ListenerKind::Netflow,
        bind: format!("127.0.0.1:{port}").parse().unwrap(),
        timezone: SourceTz::Utc,
    };
    let (tx, rx) = bounded(LISTENER_BATCHES);
    let mut listeners = Listeners::start(&[spec], &[0], &tx).unwrap();
    drop(tx);
    // The consumer: the daemon's main loop stand-in, counting what it is handed.
    let consumer = std::thread::spawn(move || {
        let mut n = 0u64;
        while let Ok(batch) = rx.recv() {
            n += batch.len() as u64;
        }
        n
    });

    let datagrams = (rate as f64 * SECONDS / RECORDS_PER_DATAGRAM as f64) as u64;
    let per_ms = rate as f64 / RECORDS_PER_DATAGRAM as f64 / 1000.0;
    let payloads: Vec<Vec<u8>> = (0..64).map(|s| v5(s, RECORDS_PER_DATAGRAM)).collect();
    let sender = UdpSocket::bind("127.0.0.1:0").unwrap();
    sender.connect(("127.0.0.1", port)).unwrap();
    let start = Instant::now();
    let mut sent = 0u64;
    while sent < datagrams {
        // Paced in 1 ms steps: send what is due by now, then sleep a little.
        let due = ((start.elapsed().as_secs_f64() * 1000.0 * per_ms) as u64).min(datagrams);
        while sent < due {
            sender.send(&payloads[sent as usize % 64]).unwrap();
            sent += 1;
        }
        std::thread::sleep(Duration::from_micros(500));
    }
    let took = start.elapsed().as_secs_f64();

    let c = std::sync::Arc::clone(&listeners.counters()[0].1);
    let settled = Instant::now();
    while c.received.load(Ordering::Relaxed) < sent && settled.elapsed() < Duration::from_secs(2) {
        std::thread::sleep(Duration::from_millis(20));
    }
    listeners.stop_and_join();
    drop(listeners);
    let delivered = consumer.join().unwrap();

    let g = |a: &std::sync::atomic::AtomicU64| a.load(Ordering::Relaxed);
    let (received, kernel, records, dropped) = (
        g(&c.received),
        g(&c.kernel_drops),
        g(&c.records),
        g(&c.dropped),
    );
    eprintln!(
        "netflow: rate={rate}/s sent={sent} datagrams ({} records) in {took:.2}s: received={received} \
         kernel_drops={kernel} records={records} delivered={delivered} channel_drops={dropped} rejected={}",
        sent * RECORDS_PER_DATAGRAM as u64,
        g(&c.rejected)
    );
    assert_eq!(g(&c.rejected), 0);
    // Datagrams: every one sent was received or dropped by the kernel (Linux counts it).
    if cfg!(target_os = "linux") {
        assert_eq!(received + kernel, sent, "datagram accounting");
    }
    // Records: every one decoded was delivered or counted as dropped.
    assert_eq!(records, received * RECORDS_PER_DATAGRAM as u64);
    assert_eq!(delivered + dropped, records, "record accounting");
    assert_eq!(
        records + kernel * RECORDS_PER_DATAGRAM as u64,
        sent * RECORDS_PER_DATAGRAM as u64
    );
    assert_eq!((kernel, dropped), (0, 0), "drops at {rate} records/s");
}
