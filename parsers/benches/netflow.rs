//! Throughput of the NetFlow v5/v9/IPFIX decoder and the nfdump CSV parser on synthetic but
//! realistic input built in memory: v5 datagrams of 30 records, v9 and IPFIX datagrams of 24
//! records with the fields a router exports (addresses, ports, protocol, flags, counters,
//! times, interfaces, ToS, masks, next hop, AS numbers). Templates are sent once up front.
//! Run: `cargo bench -p portcullis-parsers --bench netflow`. Prints records/s and MB/s (of
//! datagram bytes) per format, as the range over the rounds, per second of CPU time of the
//! benchmark thread (so other load on a shared machine does not count; wall time where
//! `/proc/thread-self/schedstat` is missing). "events" builds an `Event` per flow
//! (`Decoder::decode`); "flow records" stops at the `FlowRecord` (`decode_flows`).
//! `NETFLOW_BENCH=<part of a name>` selects benches and `NETFLOW_BENCH_ROUNDS=n` sets the rounds.

use portcullis_parsers::netflow::{Decoder, DecoderLimits};
use portcullis_parsers::{Event, Format, LineParser, ParseContext, SourceTz};
use std::hint::black_box;
use std::net::IpAddr;
use std::time::Instant;

const DATAGRAMS: usize = 20_000;
const ROUNDS: usize = 5;
const SECS: u32 = 1_709_294_400;

/// xorshift64*: deterministic, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn u32(&mut self) -> u32 {
        (self.next() >> 32) as u32
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// (field type, length) of the v9/IPFIX template: what a Cisco router's "traditional
/// IPv4" record holds (20 fields, 49 bytes).
const FIELDS: &[(u16, u16)] = &[
    (8, 4),  // src
    (12, 4), // dst
    (15, 4), // next hop
    (7, 2),  // sport
    (11, 2), // dport
    (4, 1),  // proto
    (6, 1),  // flags
    (5, 1),  // tos
    (1, 4),  // bytes
    (2, 4),  // packets
    (22, 4), // first
    (21, 4), // last
    (10, 2), // in
    (14, 2), // out
    (16, 2), // src as
    (17, 2), // dst as
    (9, 1),  // src mask
    (13, 1), // dst mask
    (61, 1), // direction
    (89, 4), // forwarding status
];

/// Same, IPFIX style: absolute millisecond times instead of uptime offsets (53 bytes).
fn ipfix_fields() -> Vec<(u16, u16)> {
    FIELDS
        .iter()
        .map(|&(t, l)| match t {
            22 => (152, 8),
            21 => (153, 8),
            _ => (t, l),
        })
        .collect()
}

fn record(rng: &mut Rng, fields: &[(u16, u16)]) -> Vec<u8> {
    let mut r = Vec::new();
    for &(t, l) in fields {
        let v: u64 = match t {
            4 => [6, 6, 6, 17, 17, 1][rng.below(6) as usize],
            7 => 1024 + rng.below(60000),
            11 => [21, 22, 80, 443, 53, 2121][rng.below(6) as usize],
            1 => 40 + rng.below(1_000_000),
            2 => 1 + rng.below(1000),
            22 | 21 => 1_000_000 + rng.below(50_000),
            152 | 153 => u64::from(SECS) * 1000 - rng.below(60_000),
            _ => rng.next(),
        };
        r.extend_from_slice(&v.to_be_bytes()[8 - usize::from(l)..]);
    }
    r
}

fn set(id: u16, body: &[u8]) -> Vec<u8> {
    [
        &id.to_be_bytes()[..],
        &(body.len() as u16 + 4).to_be_bytes(),
        body,
    ]
    .concat()
}

fn template(id: u16, fields: &[(u16, u16)]) -> Vec<u8> {
    let mut b = [id.to_be_bytes(), (fields.len() as u16).to_be_bytes()].concat();
    for (t, l) in fields {
        b.extend_from_slice(&t.to_be_bytes());
        b.extend_from_slice(&l.to_be_bytes());
    }
    b
}

fn v9(count: u16, seq: u32, sets: &[Vec<u8>]) -> Vec<u8> {
    let head = [
        &9u16.to_be_bytes()[..],
        &count.to_be_bytes(),
        &1_100_000u32.to_be_bytes(),
        &SECS.to_be_bytes(),
        &seq.to_be_bytes(),
        &1u32.to_be_bytes(),
    ]
    .concat();
    [head, sets.concat()].concat()
}

fn ipfix(seq: u32, sets: &[Vec<u8>]) -> Vec<u8> {
    let body = sets.concat();
    [
        &10u16.to_be_bytes()[..],
        &(16 + body.len() as u16).to_be_bytes(),
        &SECS.to_be_bytes(),
        &seq.to_be_bytes(),
        &1u32.to_be_bytes(),
        &body,
    ]
    .concat()
}

/// (template datagram, data datagrams) for one version.
fn datagrams(version: u16, rng: &mut Rng) -> (Option<Vec<u8>>, Vec<Vec<u8>>) {
    let per = if version == 5 { 30 } else { 24 };
    match version {
        5 => {
            let dgs = (0..DATAGRAMS)
                .map(|i| {
                    let mut d = [
                        &5u16.to_be_bytes()[..],
                        &(per as u16).to_be_bytes(),
                        &1_100_000u32.to_be_bytes(),
                        &SECS.to_be_bytes(),
                        &0u32.to_be_bytes(),
                        &(i as u32).to_be_bytes(),
                        &[0, 0, 0, 0],
                    ]
                    .concat();
                    for _ in 0..per {
                        let mut r = [0u8; 48];
                        for chunk in r.chunks_mut(4) {
                            chunk.copy_from_slice(&rng.u32().to_be_bytes());
                        }
                        r[24..28].copy_from_slice(&1_000_000u32.to_be_bytes());
                        r[28..32].copy_from_slice(&1_050_000u32.to_be_bytes());
                        r[38] = [6, 17, 1][rng.below(3) as usize];
                        d.extend_from_slice(&r);
                    }
                    d
                })
                .collect();
            (None, dgs)
        }
        9 => {
            let tpl = v9(1, 0, &[set(0, &template(256, FIELDS))]);
            let dgs = (0..DATAGRAMS)
                .map(|i| {
                    let recs: Vec<u8> = (0..per).flat_map(|_| record(rng, FIELDS)).collect();
                    v9(per as u16, i as u32, &[set(256, &recs)])
                })
                .collect();
            (Some(tpl), dgs)
        }
        _ => {
            let fields = ipfix_fields();
            let tpl = ipfix(0, &[set(2, &template(256, &fields))]);
            let dgs = (0..DATAGRAMS)
                .map(|i| {
                    let recs: Vec<u8> = (0..per).flat_map(|_| record(rng, &fields)).collect();
                    ipfix(i as u32, &[set(256, &recs)])
                })
                .collect();
            (Some(tpl), dgs)
        }
    }
}

/// Nanoseconds this thread has run on a CPU (Linux `schedstat`): on a shared, busy machine
/// rates per CPU second are steadier than rates per wall second. Falls back to wall time.
struct Timer {
    wall: Instant,
    cpu: Option<u64>,
}

fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

impl Timer {
    fn start() -> Timer {
        Timer {
            wall: Instant::now(),
            cpu: cpu_ns(),
        }
    }
    /// Seconds on CPU since `start` (wall seconds without schedstat).
    fn secs(&self) -> f64 {
        match (self.cpu, cpu_ns()) {
            (Some(a), Some(b)) if b > a => (b - a) as f64 / 1e9,
            _ => self.wall.elapsed().as_secs_f64(),
        }
    }
}

fn range(v: &[f64]) -> (f64, f64) {
    let min = v.iter().copied().fold(f64::INFINITY, f64::min);
    let max = v.iter().copied().fold(0.0, f64::max);
    (min, max)
}

fn bench_decoder(name: &str, version: u16, rounds: usize, events: bool) {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ u64::from(version));
    let (tpl, dgs) = datagrams(version, &mut rng);
    let exporter: IpAddr = "192.0.2.1".parse().unwrap();
    let received = chrono::DateTime::from_timestamp(i64::from(SECS), 0).unwrap();
    let mut decoder = Decoder::new(DecoderLimits::default());
    let mut out: Vec<Event> = Vec::with_capacity(64);
    if let Some(t) = &tpl {
        decoder.decode(exporter, t, received, &mut out).unwrap();
    }
    let bytes: usize = dgs.iter().map(Vec::len).sum();
    let (mut rps, mut mbps) = (Vec::new(), Vec::new());
    let mut records = 0;
    for _ in 0..rounds {
        records = 0;
        let start = Timer::start();
        for d in &dgs {
            if events {
                out.clear();
                let s = decoder.decode(exporter, d, received, &mut out).unwrap();
                records += s.flows;
                black_box(&out);
            } else {
                let mut sum = 0u64;
                let s = decoder
                    .decode_flows(exporter, d, received, &mut |r| sum += r.bytes.unwrap_or(0))
                    .unwrap();
                records += s.flows;
                black_box(sum);
            }
        }
        let secs = start.secs();
        rps.push(records as f64 / secs);
        mbps.push(bytes as f64 / secs / 1e6);
    }
    let (r0, r1) = range(&rps);
    let (m0, m1) = range(&mbps);
    println!(
        "{name:<24} {records:>7} records  {:>5.1}–{:<5.1} M records/s  {m0:>6.0}–{m1:<6.0} MB/s",
        r0 / 1e6,
        r1 / 1e6
    );
}

fn bench_nfdump(rounds: usize) {
    let mut rng = Rng(42);
    let mut text = String::from("ts,te,td,sa,da,sp,dp,pr,flg,fwd,stos,ipkt,ibyt,opkt,obyt,in,out,sas,das,smk,dmk,dtos,dir,nh,nhb,svln,dvln,ismc,odmc,idmc,osmc,mpls1,mpls2,mpls3,mpls4,mpls5,mpls6,mpls7,mpls8,mpls9,mpls10,cl,sl,al,ra,eng,exid,tr\n");
    let lines = 200_000;
    for i in 0..lines {
        let ip = |r: &mut Rng| {
            let n = r.next();
            format!(
                "{}.{}.{}.{}",
                1 + n % 223,
                (n >> 8) % 256,
                (n >> 16) % 256,
                1 + (n >> 24) % 254
            )
        };
        let (src, dst) = (ip(&mut rng), ip(&mut rng));
        let (m, s) = ((i / 60) % 60, i % 60);
        text.push_str(&format!(
            "2015-06-05 09:{m:02}:{s:02}.{:03},2015-06-05 09:{m:02}:{s:02}.999,0.{:03},{src},{dst},{},{},TCP,.AP.SF,0,0,{},{},0,0,2,3,0,0,24,0,0,0,0.0.0.0,0.0.0.0,0,0,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,00:00:00:00:00:00,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0-0-0,0.000,0.000,0.000,10.0.0.254,0/0,1,2015-06-05 09:{m:02}:{s:02}.999\n",
            rng.below(1000),
            rng.below(1000),
            1024 + rng.below(60000),
            [21, 22, 80, 443][rng.below(4) as usize],
            1 + rng.below(100),
            40 + rng.below(100_000),
        ));
    }
    let ctx = ParseContext::new(SourceTz::Utc);
    let (mut lps, mut mbps) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let mut p = LineParser::new(Format::NfdumpCsv, ctx.clone());
        let start = Timer::start();
        let mut n = 0;
        for line in text.as_bytes().split(|&b| b == b'\n') {
            if let Ok(Some(e)) = p.parse(line) {
                n += 1;
                black_box(e);
            }
        }
        assert_eq!(n, lines);
        let secs = start.secs();
        lps.push(n as f64 / secs);
        mbps.push(text.len() as f64 / secs / 1e6);
    }
    let (l0, l1) = range(&lps);
    let (m0, m1) = range(&mbps);
    println!(
        "{:<24} {lines:>7} lines    {:>5.2}–{:<5.2} M lines/s    {m0:>6.0}–{m1:<6.0} MB/s",
        "nfdump-csv",
        l0 / 1e6,
        l1 / 1e6
    );
}

fn main() {
    let only = std::env::var("NETFLOW_BENCH").unwrap_or_default();
    let rounds = std::env::var("NETFLOW_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    let cases: &[(&str, u16, bool)] = &[
        ("v5 events", 5, true),
        ("v9 events", 9, true),
        ("ipfix events", 10, true),
        ("v5 flow records", 5, false),
        ("v9 flow records", 9, false),
        ("ipfix flow records", 10, false),
    ];
    for &(name, version, events) in cases {
        if name.contains(only.as_str()) {
            bench_decoder(name, version, rounds, events);
        }
    }
    if "nfdump-csv".contains(only.as_str()) {
        bench_nfdump(rounds);
    }
}
