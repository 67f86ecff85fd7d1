//! Throughput of the firewall parsers (pf tcpdump text, pfSense/OPNsense filterlog, Cisco ASA,
//! and nftables lines through the iptables parser) on synthetic but realistic lines built in
//! memory. Run: `cargo bench -p portcullis-parsers --bench firewalls`. Prints MB/s and
//! lines/s per format as the range over the rounds, per second of CPU time of the benchmark
//! thread (other load on a shared machine does not count; wall time where
//! `/proc/thread-self/schedstat` is missing). `FIREWALL_BENCH=<part of a name>` selects benches,
//! `FIREWALL_BENCH_ROUNDS=n` sets the rounds.

mod common;

use common::Rng;
use portcullis_parsers::{Format, LineParser, ParseContext, SourceTz};
use std::hint::black_box;
use std::time::Instant;

const LINES: usize = 200_000;
const ROUNDS: usize = 5;

impl Rng {
    fn port(&mut self) -> u16 {
        1024 + self.below(64_000) as u16
    }
}

const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];
const SERVICES: [u16; 8] = [21, 22, 23, 25, 80, 443, 445, 3389];

/// `(month, day, hh, mm, ss)` of line `i`, three lines a second from March 1st.
fn clock(i: usize) -> (&'static str, u64, u64, u64, u64) {
    let t = i as u64 / 3;
    let day = 1 + (t / 86_400) % 28;
    (MONTHS[2], day, (t / 3600) % 24, (t / 60) % 60, t % 60)
}

fn pf_lines(rng: &mut Rng) -> Vec<String> {
    (0..LINES)
        .map(|i| {
            let (mon, day, h, m, s) = clock(i);
            let (src, dst) = (rng.ip(), rng.ip());
            let (sp, dp) = (rng.port(), SERVICES[rng.below(8) as usize]);
            let act = if rng.below(3) == 0 { "pass" } else { "block" };
            let head = format!(
                "{mon} {day:2} {h:02}:{m:02}:{s:02} gate pf: {mon} {day:2} {h:02}:{m:02}:{s:02}.{:06} rule {}/(match) {act} in on em0: ",
                rng.below(1_000_000),
                rng.below(40)
            );
            match rng.below(4) {
                0 => format!("{head}{src}.{sp} > {dst}.{dp}: S {0}:{0}(0) win 64240 <mss 1460,sackOK,timestamp 1 0,nop,wscale 7> (DF)", rng.below(4_000_000_000)),
                1 => format!("{head}{src}.{sp} > {dst}.{dp}: . ack {} win 501 <nop,nop,timestamp 2 3> (DF) [tos 0x10]", rng.below(4_000_000_000)),
                2 => format!("{head}{src}.{sp} > {dst}.53:  udp {}", 20 + rng.below(400)),
                _ => format!("{head}{src} > {dst}: icmp: echo request"),
            }
        })
        .collect()
}

fn filterlog_lines(rng: &mut Rng) -> Vec<String> {
    (0..LINES)
        .map(|i| {
            let (mon, day, h, m, s) = clock(i);
            let (src, dst) = (rng.ip(), rng.ip());
            let (sp, dp) = (rng.port(), SERVICES[rng.below(8) as usize]);
            let act = if rng.below(3) == 0 { "pass" } else { "block" };
            let head = format!(
                "<134>{mon} {day:2} {h:02}:{m:02}:{s:02} filterlog[72237]: {},,,1000000{},igb1.12,match,{act},in,",
                rng.below(200),
                100 + rng.below(20)
            );
            match rng.below(8) {
                0..=4 => format!("{head}4,0x0,,63,{},0,DF,6,tcp,60,{src},{dst},{sp},{dp},0,S,{},,64240,,mss;sackOK;TS;nop;wscale", rng.below(65_536), rng.below(4_000_000_000)),
                5 | 6 => format!("{head}4,0x0,,64,{},0,none,17,udp,76,{src},{dst},{sp},53,56", rng.below(65_536)),
                _ => format!("{head}6,0x00,0x00000,64,TCP,6,40,2001:db8:{:x}::{:x},2001:db8::1,{sp},{dp},0,S,1,,65535,,mss", rng.below(65_536), rng.below(65_536)),
            }
        })
        .collect()
}

fn asa_lines(rng: &mut Rng) -> Vec<String> {
    let mut open: Vec<(u64, String, u16, String, u16)> = Vec::new();
    (0..LINES)
        .map(|i| {
            let (mon, day, h, m, s) = clock(i);
            let head = format!("<166>{mon} {day:02} 2024 {h:02}:{m:02}:{s:02} fw-edge : ");
            let (src, dst) = (rng.ip(), rng.ip());
            let (sp, dp) = (rng.port(), SERVICES[rng.below(8) as usize]);
            match rng.below(10) {
                0..=2 => format!("{head}%ASA-4-106023: Deny tcp src outside:{src}/{sp} dst dmz:{dst}/{dp} by access-group \"outside_access_in\" [0x0, 0x0]"),
                3 => format!("{head}%ASA-6-106100: access-list outside_access_in denied tcp outside/{src}({sp}) -> dmz/{dst}({dp}) hit-cnt 1 first hit [0x5e2b1c3d, 0x0]"),
                4..=6 => {
                    let id = i as u64;
                    open.push((id, src.clone(), sp, dst.clone(), dp));
                    format!("{head}%ASA-6-302013: Built inbound TCP connection {id} for outside:{src}/{sp} ({src}/{sp}) to dmz:{dst}/{dp} ({dst}/{dp})")
                }
                7 | 8 if !open.is_empty() => {
                    let k = rng.below(open.len() as u64) as usize;
                    let (id, src, sp, dst, dp) = open.swap_remove(k);
                    format!("{head}%ASA-6-302014: Teardown TCP connection {id} for outside:{src}/{sp} to dmz:{dst}/{dp} duration 0:00:{:02} bytes {} TCP FINs", rng.below(60), rng.below(100_000))
                }
                _ => format!("{head}%ASA-7-710005: UDP request discarded from {src}/{sp} to outside:{dst}/netbios-ns"),
            }
        })
        .collect()
}

fn nftables_lines(rng: &mut Rng) -> Vec<String> {
    (0..LINES)
        .map(|i| {
            let (mon, day, h, m, s) = clock(i);
            let (src, dst) = (rng.ip(), rng.ip());
            let (sp, dp) = (rng.port(), SERVICES[rng.below(8) as usize]);
            format!(
                "{mon} {day:2} {h:02}:{m:02}:{s:02} gw kernel: [{}.{:06}] nft drop in: IN=eth0 OUT= MAC=52:54:00:12:34:56:52:54:00:ab:cd:ef:08:00 SRC={src} DST={dst} LEN=60 TOS=0x00 PREC=0x00 TTL=51 ID={} DF PROTO=TCP SPT={sp} DPT={dp} WINDOW=64240 RES=0x00 SYN URGP=0 ",
                8000 + i / 10,
                rng.below(1_000_000),
                rng.below(65_536)
            )
        })
        .collect()
}

/// CPU time of this thread in nanoseconds (wall time where the kernel does not say).
fn cpu_ns(wall: Instant) -> u128 {
    std::fs::read_to_string("/proc/thread-self/schedstat")
        .ok()
        .and_then(|s| s.split(' ').next()?.parse().ok())
        .unwrap_or_else(|| wall.elapsed().as_nanos())
}

fn bench(name: &str, format: Format, lines: &[String], rounds: usize) {
    let mut ctx = ParseContext::new(SourceTz::Utc);
    ctx.now = "2024-12-31T00:00:00Z".parse().unwrap();
    let bytes: usize = lines.iter().map(|l| l.len() + 1).sum();
    let (mut mbs, mut lps) = (Vec::new(), Vec::new());
    let mut events = 0;
    for _ in 0..rounds {
        let mut parser = LineParser::new(format, ctx.clone());
        let wall = Instant::now();
        let start = cpu_ns(wall);
        events = 0;
        for l in lines {
            if let Ok(Some(e)) = black_box(parser.parse(l.as_bytes())) {
                events += 1;
                black_box(e);
            }
        }
        let secs = (cpu_ns(wall) - start) as f64 / 1e9;
        mbs.push(bytes as f64 / secs / 1e6);
        lps.push(lines.len() as f64 / secs);
    }
    let range = |v: &[f64]| {
        let lo = v.iter().copied().fold(f64::INFINITY, f64::min);
        let hi = v.iter().copied().fold(0.0, f64::max);
        (lo, hi)
    };
    let ((mlo, mhi), (llo, lhi)) = (range(&mbs), range(&lps));
    println!(
        "{name:<10} {:>6.0}–{:<6.0} MB/s  {:>5.2}–{:<5.2} M lines/s  ({} lines, {:.0} B/line, {events} events)",
        mlo,
        mhi,
        llo / 1e6,
        lhi / 1e6,
        lines.len(),
        bytes as f64 / lines.len() as f64
    );
}

fn main() {
    let only = std::env::var("FIREWALL_BENCH").ok();
    let rounds = std::env::var("FIREWALL_BENCH_ROUNDS")
        .ok()
        .and_then(|r| r.parse().ok())
        .unwrap_or(ROUNDS);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    type Make = fn(&mut Rng) -> Vec<String>;
    let benches: [(&str, Format, Make); 4] = [
        ("pf", Format::Pf, pf_lines),
        ("filterlog", Format::Filterlog, filterlog_lines),
        ("asa", Format::Asa, asa_lines),
        ("nftables", Format::Iptables, nftables_lines),
    ];
    for (name, format, make) in benches {
        if only.as_deref().is_some_and(|o| !name.contains(o)) {
            continue;
        }
        let lines = make(&mut rng);
        bench(name, format, &lines, rounds);
    }
}
