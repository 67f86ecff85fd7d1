//! Replay of NetFlow/IPFIX: raw datagram files from the shared corpus, and a pcap capture
//! built here of v5 exports that carry a port scan.

mod common;

use common::*;
use std::path::PathBuf;

/// One v5 flow: (src, dst, sport, dport, tcp flags, first-ms).
type Flow = ([u8; 4], [u8; 4], u16, u16, u8, u32);

/// A NetFlow v5 datagram.
fn v5_datagram(unix_secs: u32, uptime_ms: u32, flows: &[Flow]) -> Vec<u8> {
    let mut d = Vec::new();
    d.extend(5u16.to_be_bytes());
    d.extend((flows.len() as u16).to_be_bytes());
    d.extend(uptime_ms.to_be_bytes());
    d.extend(unix_secs.to_be_bytes());
    d.extend(0u32.to_be_bytes()); // nsecs
    d.extend(1u32.to_be_bytes()); // sequence
    d.extend([0, 0, 0, 0]); // engine type, id, sampling
    for (src, dst, sport, dport, flags, first) in flows {
        d.extend(src);
        d.extend(dst);
        d.extend([0; 4]); // next hop
        d.extend([0; 4]); // input, output
        d.extend(1u32.to_be_bytes()); // packets
        d.extend(44u32.to_be_bytes()); // octets
        d.extend(first.to_be_bytes());
        d.extend(first.to_be_bytes()); // last
        d.extend(sport.to_be_bytes());
        d.extend(dport.to_be_bytes());
        d.extend([0, *flags, 6, 0]); // pad, flags, proto, tos
        d.extend([0; 8]); // AS numbers, masks, pad
    }
    d
}

/// A classic pcap file (Ethernet, IPv4, UDP to 2055) holding the datagrams.
fn pcap(datagrams: &[Vec<u8>], exporter: [u8; 4]) -> Vec<u8> {
    let mut f = Vec::new();
    f.extend(0xa1b2_c3d4u32.to_le_bytes());
    f.extend(2u16.to_le_bytes());
    f.extend(4u16.to_le_bytes());
    f.extend([0; 8]);
    f.extend(65535u32.to_le_bytes());
    f.extend(1u32.to_le_bytes()); // Ethernet
    for (i, d) in datagrams.iter().enumerate() {
        let mut pkt = vec![0u8; 12];
        pkt.extend([0x08, 0x00]);
        let total = (20 + 8 + d.len()) as u16;
        pkt.extend([0x45, 0]);
        pkt.extend(total.to_be_bytes());
        pkt.extend([0, 0, 0, 0, 64, 17, 0, 0]);
        pkt.extend(exporter);
        pkt.extend([192, 0, 2, 250]);
        pkt.extend(2055u16.to_be_bytes());
        pkt.extend(2055u16.to_be_bytes());
        pkt.extend(((8 + d.len()) as u16).to_be_bytes());
        pkt.extend([0, 0]);
        pkt.extend(d);
        f.extend((1_772_438_400u32 + i as u32).to_le_bytes());
        f.extend(0u32.to_le_bytes());
        f.extend((pkt.len() as u32).to_le_bytes());
        f.extend((pkt.len() as u32).to_le_bytes());
        f.extend(pkt);
    }
    f
}

#[test]
fn a_port_scan_in_netflow_v5_exports_from_a_pcap_is_found() {
    let tmp = tempfile::tempdir().unwrap();
    // 20 SYN-only flows from one scanner to 20 ports of one host, 2 s apart, in 2 datagrams.
    let flows: Vec<_> = (0..20u16)
        .map(|i| {
            (
                [192, 0, 2, 66],
                [203, 0, 113, 10],
                40000 + i,
                1000 + i,
                0x02,
                100_000 + u32::from(i) * 2000,
            )
        })
        .collect();
    let unix = 1_772_438_400; // 2026-03-02T08:00:00Z
    let d1 = v5_datagram(unix, 200_000, &flows[..10]);
    let d2 = v5_datagram(unix + 20, 220_000, &flows[10..]);
    let cap = tmp.path().join("exports.pcap");
    std::fs::write(&cap, pcap(&[d1, d2], [192, 0, 2, 1])).unwrap();
    let db = tmp.path().join("p.db");
    let out = portcullis_ok(
        &[
            "replay",
            "--db",
            db.to_str().unwrap(),
            cap.to_str().unwrap(),
        ],
        0,
    );
    assert!(
        out.contains("(netflow): 2 lines, 20 events, 0 skipped, 0 rejected"),
        "{out}"
    );
    let got = incidents(&db);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0]["rule"], "firewall.port_scan");
    assert_eq!(got[0]["group"]["source.ip"], "192.0.2.66");
    assert_eq!(got[0]["distinct"], 20);
    // Flows start 100 s into the exporter's uptime of 200 s at 08:00:00.
    assert_eq!(got[0]["first_seen"], "2026-03-02T07:58:20.000000Z");
}

#[test]
fn corpus_datagrams_replay_after_their_templates_and_bad_ones_are_counted() {
    let dir = repo().join("../shared/corpus/netflow/logstash-codec-netflow");
    if !dir.is_dir() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "corpus missing under CI=true"
        );
        eprintln!("SKIPPED: corpus not found at {}", dir.display());
        return;
    }
    let files: Vec<PathBuf> = [
        "netflow5.dat",
        "netflow9_test_cisco_asa_1_tpl.dat",
        "netflow9_test_cisco_asa_1_data.dat",
        "ipfix_test_openbsd_pflow_tpl.dat",
        "ipfix_test_openbsd_pflow_data.dat",
        "netflow5_test_invalid01.dat",
    ]
    .iter()
    .map(|f| dir.join(f))
    .collect();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("p.db");
    let mut args = vec!["replay", "--db", db.to_str().unwrap()];
    args.extend(files.iter().map(|f| f.to_str().unwrap()));
    let out = portcullis_ok(&args, 1);
    assert!(
        out.contains("netflow9_test_cisco_asa_1_data.dat (netflow): 1 lines, 14 events"),
        "{out}"
    );
    assert!(
        out.contains("ipfix_test_openbsd_pflow_data.dat (netflow): 1 lines, 26 events"),
        "{out}"
    );
    assert!(
        out.contains(
            "netflow5_test_invalid01.dat (netflow): 1 lines, 0 events, 0 skipped, 1 rejected"
        ),
        "{out}"
    );
    assert!(out.contains("BadCount at byte 2"), "{out}");
    assert!(out.contains("42 events correlated"), "{out}");
}
