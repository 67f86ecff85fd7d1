//! Arbitrary bytes as NetFlow/IPFIX datagrams (or a capture file) into a decoder that already
//! holds a few templates: must never panic, a rejected datagram must change nothing, and every
//! flow must become an event that serializes.
//!
//! Input: a sequence of datagrams, each prefixed by its length (2 bytes, big endian); what is
//! left when a prefix runs past the end is one more datagram. An input that is a pcap/pcapng
//! file is also read as a capture and its UDP payloads decoded.
#![no_main]

use chrono::DateTime;
use libfuzzer_sys::fuzz_target;
use portcullis_parsers::netflow::{pcap, Decoder, DecoderLimits};
use std::net::IpAddr;
use std::time::Duration;

fn set(id: u16, body: &[u8]) -> Vec<u8> {
    [
        &id.to_be_bytes()[..],
        &(body.len() as u16 + 4).to_be_bytes(),
        body,
    ]
    .concat()
}

/// Templates a real exporter would have sent: v9 template 256 (IPv4 flow with uptime times),
/// v9 options template 257 (sampling interval), IPFIX template 256 (IPv6, ms times, a
/// variable-length string, an enterprise field, reverse counters) and options template 258
/// (selector id + samplingPacketInterval/Space, boot time).
fn seed_templates(d: &mut Decoder, exporter: IpAddr) {
    let t = DateTime::from_timestamp(1_709_294_400, 0).unwrap();
    let v9_fields: &[u16] = &[
        8, 4, 12, 4, 7, 2, 11, 2, 4, 1, 6, 1, 1, 4, 2, 4, 22, 4, 21, 4, 10, 2, 14, 2, 48, 1,
    ];
    let mut tpl = vec![1, 0, 0, (v9_fields.len() / 2) as u8];
    tpl.extend(v9_fields.iter().flat_map(|v| v.to_be_bytes()));
    let opt = [
        1u8, 1, 0, 4, 0, 12, 0, 1, 0, 4, 0, 48, 0, 1, 0, 34, 0, 4, 0, 35, 0, 1, 0, 0,
    ];
    let v9 = [
        &[0u8, 9, 0, 2, 0, 1, 0, 0][..],
        &1_709_294_400u32.to_be_bytes(),
        &[0, 0, 0, 1, 0, 0, 0, 0],
        &set(0, &tpl),
        &set(1, &opt),
    ]
    .concat();
    let ipfix_tpl: Vec<u8> = [
        &[1u8, 0, 0, 9][..],
        &[
            0, 27, 0, 16, 0, 28, 0, 16, 0, 7, 0, 2, 0, 11, 0, 2, 0, 4, 0, 1,
        ],
        &[
            0, 152, 0, 8, 0, 82, 255, 255, 0x80, 1, 0, 4, 0, 0, 0x72, 0x79, 0x80, 85, 0, 8, 0, 0,
            0x72, 0x79,
        ],
    ]
    .concat();
    let ipfix_opt = [
        1u8, 2, 0, 4, 0, 1, 1, 46, 0, 8, 1, 49, 0, 4, 1, 50, 0, 4, 0, 160, 0, 8,
    ];
    let sets = [set(2, &ipfix_tpl), set(3, &ipfix_opt)].concat();
    let ipfix = [
        &[0u8, 10][..],
        &(16 + sets.len() as u16).to_be_bytes(),
        &1_709_294_400u32.to_be_bytes(),
        &[0, 0, 0, 1, 0, 0, 0, 0],
        &sets,
    ]
    .concat();
    d.decode(exporter, &v9, t, &mut Vec::new())
        .expect("v9 templates");
    d.decode(exporter, &ipfix, t, &mut Vec::new())
        .expect("IPFIX templates");
}

fn check(d: &mut Decoder, exporter: IpAddr, datagram: &[u8], when: DateTime<chrono::Utc>) {
    let mut out = Vec::new();
    let before = d.template_count();
    match d.decode(exporter, datagram, when, &mut out) {
        Ok(stats) => {
            assert_eq!(stats.flows, out.len());
            for e in &out {
                let json = serde_json::to_string(e).expect("an event always serializes");
                assert!(json.starts_with('{'));
            }
        }
        Err(e) => {
            assert!(out.is_empty(), "a rejected datagram produced events: {e}");
            assert_eq!(
                d.template_count(),
                before,
                "a rejected datagram changed templates: {e}"
            );
            assert!(e.offset <= datagram.len());
        }
    }
    assert!(d.template_count() <= 64);
}

fuzz_target!(|data: &[u8]| {
    let limits = DecoderLimits {
        template_timeout: Duration::from_secs(600),
        max_exporters: 4,
        max_templates_per_exporter: 16,
        max_templates: 64,
        pending_sets_per_exporter: 4,
        max_pending_bytes: 64 << 10,
    };
    let exporter: IpAddr = "192.0.2.7".parse().unwrap();
    let mut d = Decoder::new(limits);
    seed_templates(&mut d, exporter);
    let mut when = DateTime::from_timestamp(1_709_294_401, 0).unwrap();
    let mut rest = data;
    while !rest.is_empty() {
        let dg = match rest {
            [a, b, tail @ ..] if usize::from(u16::from_be_bytes([*a, *b])) <= tail.len() => {
                let n = usize::from(u16::from_be_bytes([*a, *b]));
                rest = &tail[n..];
                &tail[..n]
            }
            _ => std::mem::take(&mut rest),
        };
        check(&mut d, exporter, dg, when);
        when += chrono::TimeDelta::seconds(7);
    }
    if let Ok(packets) = pcap::udp_packets(data) {
        for p in packets {
            check(&mut d, p.src, p.payload, p.timestamp);
        }
    }
});
