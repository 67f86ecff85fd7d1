//! Decoder tests on datagrams built byte by byte.

use super::*;
use crate::{Action, Dataset, TcpFlags, Transport};

const EXPORTER: &str = "192.0.2.9";

fn exporter() -> IpAddr {
    EXPORTER.parse().unwrap()
}

fn at(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

/// 2024-03-01T12:00:00Z, the export time of the built datagrams.
const SECS: u32 = 1_709_294_400;

fn now() -> DateTime<Utc> {
    at("2024-03-01T12:00:01Z")
}

fn set(id: u16, body: &[u8]) -> Vec<u8> {
    [
        &id.to_be_bytes()[..],
        &(body.len() as u16 + 4).to_be_bytes(),
        body,
    ]
    .concat()
}

/// A template record: id, count, (type, length)...
fn tpl(id: u16, fields: &[(u16, u16)]) -> Vec<u8> {
    let mut b = [id.to_be_bytes(), (fields.len() as u16).to_be_bytes()].concat();
    for (t, l) in fields {
        b.extend_from_slice(&t.to_be_bytes());
        b.extend_from_slice(&l.to_be_bytes());
    }
    b
}

fn v9(count: u16, uptime: u32, sets: &[Vec<u8>]) -> Vec<u8> {
    let mut d = [
        &9u16.to_be_bytes()[..],
        &count.to_be_bytes(),
        &uptime.to_be_bytes(),
        &SECS.to_be_bytes(),
        &1u32.to_be_bytes(),
        &7u32.to_be_bytes(),
    ]
    .concat();
    for s in sets {
        d.extend_from_slice(s);
    }
    d
}

fn ipfix(domain: u32, sets: &[Vec<u8>]) -> Vec<u8> {
    let body: Vec<u8> = sets.concat();
    [
        &10u16.to_be_bytes()[..],
        &(16 + body.len() as u16).to_be_bytes(),
        &SECS.to_be_bytes(),
        &1u32.to_be_bytes(),
        &domain.to_be_bytes(),
        &body,
    ]
    .concat()
}

/// Template 256: src, dst, sport, dport, proto, flags, bytes(4), packets(4), first, last, in.
const FLOW_FIELDS: &[(u16, u16)] = &[
    (8, 4),
    (12, 4),
    (7, 2),
    (11, 2),
    (4, 1),
    (6, 1),
    (1, 4),
    (2, 4),
    (22, 4),
    (21, 4),
    (10, 2),
];

fn flow_record(src: [u8; 4], dst: [u8; 4], proto: u8, bytes: u32, first: u32) -> Vec<u8> {
    [
        &src[..],
        &dst,
        &40000u16.to_be_bytes(),
        &21u16.to_be_bytes(),
        &[proto, 0x12],
        &bytes.to_be_bytes(),
        &3u32.to_be_bytes(),
        &first.to_be_bytes(),
        &(first + 500).to_be_bytes(),
        &5u16.to_be_bytes(),
    ]
    .concat()
}

fn decode(
    d: &mut Decoder,
    dg: &[u8],
    when: DateTime<Utc>,
) -> Result<(DecodeStats, Vec<Event>), NetflowError> {
    let mut out = Vec::new();
    let s = d.decode(exporter(), dg, when, &mut out)?;
    Ok((s, out))
}

#[test]
fn v9_template_and_data_make_flow_events() {
    let rec = flow_record([10, 0, 0, 1], [192, 0, 2, 20], 6, 1200, 9_000);
    let icmp = flow_record([10, 0, 0, 2], [192, 0, 2, 20], 1, 84, 9_500);
    let dg = v9(
        3,
        10_000,
        &[
            set(0, &tpl(256, FLOW_FIELDS)),
            set(256, &[rec, icmp, vec![0, 0]].concat()),
        ],
    );
    let mut d = Decoder::default();
    let (s, out) = decode(&mut d, &dg, now()).unwrap();
    assert_eq!((s.version, s.flows, s.templates), (9, 2, 1));
    let e = &out[0];
    assert_eq!(e.timestamp, at("2024-03-01T11:59:59Z")); // export − (10000 − 9000) ms
    assert_eq!((e.dataset, e.action), (Dataset::Netflow, Action::Flow));
    assert_eq!(e.source_ip, Some("10.0.0.1".parse().unwrap()));
    assert_eq!((e.source_port, e.destination_port), (Some(40000), Some(21)));
    assert_eq!(e.transport, Some(Transport::Tcp));
    assert_eq!(e.tcp_flags, Some(TcpFlags(TcpFlags::SYN | TcpFlags::ACK)));
    assert_eq!((e.bytes, e.packets), (Some(1200), Some(3)));
    assert_eq!(e.observer_ip, Some(exporter()));
    assert_eq!(e.interface_in.as_deref(), Some("5"));
    // Last switched 9500 ms of uptime: 500 ms after the first.
    assert_eq!(e.end, Some(at("2024-03-01T11:59:59.500Z")));
    assert_eq!(e.duration_ns, Some(500_000_000));
    assert_eq!(
        serde_json::to_string(&out[1]).unwrap(),
        r#"{"@timestamp":"2024-03-01T11:59:59.500Z","event.dataset":"netflow","event.action":"flow","event.outcome":"unknown","source.ip":"10.0.0.2","destination.ip":"192.0.2.20","network.transport":"icmp","network.bytes":84,"network.packets":3,"observer.ip":"192.0.2.9","interface.in":"5","event.end":"2024-03-01T12:00:00Z","event.duration":500000000,"log.offset":0}"#
    );
    // The template stays: a data-only datagram decodes, and the flow end is kept.
    let dg = v9(
        1,
        10_000,
        &[set(256, &flow_record([1, 1, 1, 1], [2, 2, 2, 2], 17, 1, 0))],
    );
    let mut ends = Vec::new();
    d.decode_flows(exporter(), &dg, now(), &mut |r| ends.push(r.end))
        .unwrap();
    assert_eq!(ends, vec![Some(at("2024-03-01T11:59:50.500Z"))]);
}

#[test]
fn malformed_datagrams_are_rejected_precisely() {
    let t = set(0, &tpl(256, FLOW_FIELDS));
    let long_tpl: Vec<(u16, u16)> = (0..513).map(|_| (1u16, 4u16)).collect();
    let var_tpl = set(2, &tpl(300, &[(8, 4), (82, 65535)]));
    use NetflowErrorKind::*;
    let cases: Vec<(&str, Vec<u8>, u16, NetflowErrorKind, usize)> = vec![
        ("empty", vec![], 0, Truncated, 0),
        ("one byte", vec![0], 0, Truncated, 1),
        (
            "garbage",
            b"GET / HTTP/1.1\r\n".to_vec(),
            0x4745,
            UnsupportedVersion,
            0,
        ),
        ("v7", vec![0, 7, 0, 0], 7, UnsupportedVersion, 0),
        ("v5 short header", vec![0, 5, 0, 1, 0, 0], 5, Truncated, 6),
        (
            "v5 missing record",
            [&[0u8, 5, 0, 1][..], &[0; 20]].concat(),
            5,
            Truncated,
            24,
        ),
        ("v9 short header", vec![0, 9, 0, 1], 9, Truncated, 4),
        (
            "v9 zero-length set",
            v9(2, 0, &[t.clone(), vec![1, 0, 0, 0, 1]]),
            9,
            ZeroLength,
            74,
        ),
        (
            "v9 set length 2",
            v9(2, 0, &[vec![1, 0, 0, 2, 0, 0]]),
            9,
            BadLength,
            22,
        ),
        (
            "v9 set overruns",
            v9(2, 0, &[vec![1, 0, 0, 40, 0, 0]]),
            9,
            BadLength,
            22,
        ),
        (
            "v9 more sets than count",
            v9(1, 0, &[t.clone(), t.clone()]),
            9,
            BadCount,
            72,
        ),
        (
            "v9 template id 5",
            v9(1, 0, &[set(0, &tpl(5, &[(8, 4)]))]),
            9,
            BadTemplate,
            24,
        ),
        (
            "v9 fields past the set",
            v9(1, 0, &[set(0, &tpl(256, &[(8, 4)])[..6])]),
            9,
            BadTemplate,
            26,
        ),
        (
            "v9 513 fields",
            v9(1, 0, &[set(0, &tpl(256, &long_tpl))]),
            9,
            BadTemplate,
            26,
        ),
        (
            "v9 options lengths not multiples of 4",
            v9(1, 0, &[set(1, &[1, 0, 0, 4, 0, 3, 0, 1, 0, 4, 0, 34, 0])]),
            9,
            BadTemplate,
            26,
        ),
        ("ipfix short header", vec![0, 10, 0, 16], 10, Truncated, 4),
        (
            "ipfix length 8",
            [&[0u8, 10, 0, 8][..], &[0; 12]].concat(),
            10,
            BadLength,
            2,
        ),
        (
            "ipfix length past the end",
            [&[0u8, 10, 0, 40][..], &[0; 12]].concat(),
            10,
            Truncated,
            16,
        ),
        (
            "ipfix zero-length set",
            ipfix(1, &[vec![1, 0, 0, 0]]),
            10,
            ZeroLength,
            18,
        ),
        (
            "ipfix set overruns",
            ipfix(1, &[vec![1, 0, 0, 9, 0, 0, 0, 0]]),
            10,
            BadLength,
            18,
        ),
        (
            "ipfix stray bytes",
            ipfix(1, &[vec![1, 0]]),
            10,
            BadLength,
            16,
        ),
        (
            "ipfix scope count above field count",
            ipfix(1, &[set(3, &[1, 0, 0, 1, 0, 2, 0, 8, 0, 4])]),
            10,
            BadTemplate,
            24,
        ),
        (
            "ipfix enterprise number cut off",
            ipfix(1, &[set(2, &[1, 0, 0, 1, 0x80, 1, 0, 4, 0, 0])]),
            10,
            BadTemplate,
            28,
        ),
        (
            "ipfix variable-length field overruns",
            ipfix(1, &[var_tpl.clone(), set(300, &[1, 2, 3, 4, 9, b'a'])]),
            10,
            BadRecord,
            41,
        ),
        (
            "ipfix 3-byte length cut off",
            ipfix(1, &[var_tpl, set(300, &[1, 2, 3, 4, 255, 0])]),
            10,
            BadRecord,
            41,
        ),
        (
            "second message not IPFIX",
            [ipfix(1, &[]), vec![0, 9, 0, 16], vec![0; 12]].concat(),
            10,
            UnsupportedVersion,
            16,
        ),
    ];
    for (name, dg, version, kind, offset) in cases {
        let mut d = Decoder::default();
        let e = decode(&mut d, &dg, now()).unwrap_err();
        assert_eq!(
            (e.version, e.kind, e.offset),
            (version, kind, offset),
            "{name}: {e}"
        );
        assert_eq!(
            d.template_count(),
            0,
            "{name}: nothing learned from a rejected datagram"
        );
    }
}

#[test]
fn a_rejected_datagram_changes_nothing() {
    let good = set(0, &tpl(256, FLOW_FIELDS));
    let dg = v9(3, 0, &[good, vec![1, 0, 0, 0, 1, 1]]);
    let mut d = Decoder::default();
    let mut out = Vec::new();
    assert!(d.decode(exporter(), &dg, now(), &mut out).is_err());
    assert_eq!((d.template_count(), out.len()), (0, 0));
}

/// Fuzz regression (netflow target): the time-based sweep ran before the datagram was
/// checked, so a rejected datagram could still drop expired templates.
#[test]
fn a_rejected_datagram_does_not_even_sweep() {
    let limits = DecoderLimits {
        template_timeout: Duration::from_secs(60),
        ..DecoderLimits::default()
    };
    let mut d = Decoder::new(limits);
    let tpl_dg = v9(1, 0, &[set(0, &tpl(256, FLOW_FIELDS))]);
    decode(&mut d, &tpl_dg, at("2024-03-01T12:00:00Z")).unwrap();
    let bad = v9(1, 0, &[set(0, &tpl(5, FLOW_FIELDS))]);
    let later = at("2024-03-01T12:05:00Z");
    assert!(decode(&mut d, &bad, later).is_err());
    assert_eq!(d.template_count(), 1);
    decode(&mut d, &ipfix(1, &[]), later).unwrap();
    assert_eq!(d.template_count(), 0);
}

#[test]
fn zero_padding_and_zero_length_records_end_cleanly() {
    // Palo Alto style: one flowset, then zeros up to a large datagram.
    let mut d = Decoder::default();
    let dg = v9(2, 10_000, &[set(0, &tpl(256, FLOW_FIELDS))]);
    decode(&mut d, &dg, now()).unwrap();
    let mut dg = v9(
        1,
        10_000,
        &[set(256, &flow_record([1, 1, 1, 1], [2, 2, 2, 2], 17, 1, 0))],
    );
    dg.extend_from_slice(&[0; 1000]);
    assert_eq!(decode(&mut d, &dg, now()).unwrap().0.flows, 1);
    // A template whose fields are all zero bytes long reads no records from its sets.
    let dg = v9(
        2,
        0,
        &[set(0, &tpl(257, &[(8, 0), (12, 0)])), set(257, &[0; 40])],
    );
    let (s, out) = decode(&mut d, &dg, now()).unwrap();
    assert_eq!((s.flows, s.non_flow_records, out.len()), (0, 0, 0));
}

#[test]
fn templates_expire_unless_refreshed() {
    let limits = DecoderLimits {
        template_timeout: Duration::from_secs(60),
        ..DecoderLimits::default()
    };
    let mut d = Decoder::new(limits);
    let tpl_dg = v9(1, 0, &[set(0, &tpl(256, FLOW_FIELDS))]);
    let data = v9(
        1,
        0,
        &[set(256, &flow_record([1, 1, 1, 1], [2, 2, 2, 2], 17, 1, 0))],
    );
    decode(&mut d, &tpl_dg, at("2024-03-01T12:00:00Z")).unwrap();
    assert_eq!(
        decode(&mut d, &data, at("2024-03-01T12:00:59Z"))
            .unwrap()
            .0
            .flows,
        1
    );
    decode(&mut d, &tpl_dg, at("2024-03-01T12:00:59Z")).unwrap(); // refreshed
    assert_eq!(
        decode(&mut d, &data, at("2024-03-01T12:01:58Z"))
            .unwrap()
            .0
            .flows,
        1
    );
    let (s, _) = decode(&mut d, &data, at("2024-03-01T12:02:00Z")).unwrap();
    assert_eq!((s.flows, s.waiting_for_template), (0, 1));
    // The sweep forgets the template and, later, the data set that waited in vain.
    decode(&mut d, &[0, 5, 0, 0], at("2024-03-01T12:10:00Z")).ok();
    decode(&mut d, &ipfix(1, &[]), at("2024-03-01T12:10:00Z")).unwrap();
    assert_eq!(
        (d.template_count(), d.exporter_count(), d.pending().0),
        (0, 0, 0)
    );
}

#[test]
fn caps_bound_templates_exporters_and_pending_sets() {
    let limits = DecoderLimits {
        max_exporters: 1,
        max_templates_per_exporter: 2,
        pending_sets_per_exporter: 2,
        ..DecoderLimits::default()
    };
    let mut d = Decoder::new(limits);
    let tpls = v9(
        3,
        0,
        &[set(
            0,
            &[
                tpl(256, FLOW_FIELDS),
                tpl(257, FLOW_FIELDS),
                tpl(258, FLOW_FIELDS),
            ]
            .concat(),
        )],
    );
    let (s, _) = decode(&mut d, &tpls, now()).unwrap();
    assert_eq!(
        (s.templates, s.templates_dropped, d.template_count()),
        (2, 1, 2)
    );
    // Refreshing a known template is always allowed.
    assert_eq!(decode(&mut d, &tpls, now()).unwrap().0.templates, 2);
    let other: IpAddr = "198.51.100.1".parse().unwrap();
    let s = d.decode(other, &tpls, now(), &mut Vec::new()).unwrap();
    assert_eq!((s.templates, s.templates_dropped), (0, 3));
    // Two pending sets per exporter: the third evicts the oldest.
    let data = |id| {
        v9(
            1,
            0,
            &[set(id, &flow_record([1, 1, 1, 1], [2, 2, 2, 2], 6, 1, 0))],
        )
    };
    for (i, id) in [300u16, 301, 302].into_iter().enumerate() {
        let (s, _) = decode(&mut d, &data(id), now()).unwrap();
        assert_eq!(
            (s.waiting_for_template, s.dropped_sets),
            (1, usize::from(i == 2))
        );
    }
    assert_eq!(d.pending().0, 2);
    let no_buffer = DecoderLimits {
        pending_sets_per_exporter: 0,
        ..DecoderLimits::default()
    };
    let mut d = Decoder::new(no_buffer);
    let (s, _) = decode(&mut d, &data(300), now()).unwrap();
    assert_eq!((s.waiting_for_template, s.dropped_sets), (0, 1));
}

#[test]
fn sampling_from_options_data_scales_counters() {
    // v9 options template 400: scope System(4), SAMPLING_INTERVAL(4), SAMPLING_ALGORITHM(1).
    let opt_tpl = set(
        1,
        &[
            1, 144, 0, 4, 0, 8, 0, 1, 0, 4, 0, 34, 0, 4, 0, 35, 0, 1, 0, 0,
        ],
    );
    let opt_data = set(400, &[0, 0, 0, 0, 0, 0, 0, 100, 2, 0, 0, 0]);
    let flow = set(256, &flow_record([1, 1, 1, 1], [2, 2, 2, 2], 6, 1500, 0));
    let dg = v9(
        4,
        0,
        &[set(0, &tpl(256, FLOW_FIELDS)), opt_tpl, opt_data, flow],
    );
    let mut flows = Vec::new();
    let mut d = Decoder::default();
    let s = d
        .decode_flows(exporter(), &dg, now(), &mut |r| flows.push(r.clone()))
        .unwrap();
    assert_eq!((s.options_records, s.flows), (1, 1));
    assert_eq!(
        (flows[0].bytes, flows[0].packets, flows[0].sampling),
        (Some(150_000), Some(300), 100)
    );
    // A sampler id in the record picks its own rate (IPFIX: selectorId 302 + 305/306).
    let opt_tpl = set(
        3,
        &[1, 144, 0, 3, 0, 1, 1, 46, 0, 8, 1, 49, 0, 4, 1, 50, 0, 4],
    );
    let opt_data = set(400, &[0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1, 0, 0, 0, 9]);
    let mut fields = FLOW_FIELDS.to_vec();
    fields.push((302, 8));
    let mut rec = flow_record([1, 1, 1, 1], [2, 2, 2, 2], 17, 10, 0);
    rec.extend_from_slice(&9u64.to_be_bytes());
    let dg = ipfix(
        7,
        &[
            set(2, &tpl(256, &fields)),
            opt_tpl,
            opt_data,
            set(256, &rec),
        ],
    );
    flows.clear();
    d.decode_flows(exporter(), &dg, now(), &mut |r| flows.push(r.clone()))
        .unwrap();
    assert_eq!((flows[0].bytes, flows[0].sampling), (Some(100), 10));
    // v5: the header's interval (mode bits ignored).
    let mut v5 = vec![0, 5, 0, 1, 0, 0, 0x27, 0x10];
    v5.extend_from_slice(&SECS.to_be_bytes());
    v5.extend_from_slice(&[0; 10]);
    v5.extend_from_slice(&(0x4000u16 | 64).to_be_bytes());
    let mut r = vec![0u8; 48];
    r[..8].copy_from_slice(&[10, 0, 0, 1, 10, 0, 0, 2]);
    r[16..24].copy_from_slice(&[0, 0, 0, 2, 0, 0, 0, 100]);
    r[38] = 17;
    v5.extend_from_slice(&r);
    flows.clear();
    d.decode_flows(exporter(), &v5, now(), &mut |r| flows.push(r.clone()))
        .unwrap();
    assert_eq!(
        (flows[0].bytes, flows[0].packets, flows[0].sampling),
        (Some(6400), Some(128), 64)
    );
}

#[test]
fn ipfix_variable_length_enterprise_fields_and_withdrawal() {
    // srcV4, variable string, enterprise 9/1 (4 bytes), dstV4, flowStartSeconds, octets(8).
    let t = set(
        2,
        &[
            1, 44, 0, 6, 0, 8, 0, 4, 0, 82, 255, 255, 0x80, 1, 0, 4, 0, 0, 0, 9, 0, 12, 0, 4, 0,
            150, 0, 4, 0, 1, 0, 8,
        ],
    );
    let rec = |name: &[u8]| {
        let mut r = vec![10, 1, 1, 1];
        if name.len() < 255 {
            r.push(name.len() as u8);
        } else {
            r.push(255);
            r.extend_from_slice(&(name.len() as u16).to_be_bytes());
        }
        r.extend_from_slice(name);
        r.extend_from_slice(&[0xde, 0xad, 0xbe, 0xef, 10, 2, 2, 2]);
        r.extend_from_slice(&(SECS - 60).to_be_bytes());
        r.extend_from_slice(&4242u64.to_be_bytes());
        r
    };
    let long = vec![b'x'; 300];
    let dg = ipfix(
        1,
        &[t, set(300, &[rec(b"eth0"), rec(b""), rec(&long)].concat())],
    );
    let mut d = Decoder::default();
    let (s, out) = decode(&mut d, &dg, now()).unwrap();
    assert_eq!(s.flows, 3);
    for e in &out {
        assert_eq!(e.destination_ip, Some("10.2.2.2".parse().unwrap()));
        assert_eq!(
            (e.bytes, e.timestamp),
            (Some(4242), at("2024-03-01T11:59:00Z"))
        );
    }
    // Withdraw template 300, then withdraw all (id 2, count 0): data waits again.
    let data = ipfix(1, &[set(300, &rec(b"a"))]);
    decode(&mut d, &ipfix(1, &[set(2, &[1, 44, 0, 0])]), now()).unwrap();
    assert_eq!(
        decode(&mut d, &data, now()).unwrap().0.waiting_for_template,
        1
    );
    assert_eq!(d.template_count(), 0);
    let s = decode(&mut d, &ipfix(1, &[set(2, &[0, 2, 0, 0])]), now())
        .unwrap()
        .0;
    assert_eq!(s.templates_withdrawn, 1);
}

#[test]
fn ipfix_uptime_times_use_the_boot_time_from_options_data() {
    // Options template 500: scope observationDomainId(4), systemInitTimeMilliseconds(8).
    let opt_tpl = set(3, &[1, 244, 0, 2, 0, 1, 0, 149, 0, 4, 0, 160, 0, 8]);
    let boot_ms = u64::from(SECS - 3600) * 1000;
    let opt_data = set(500, &[&[0, 0, 0, 1][..], &boot_ms.to_be_bytes()].concat());
    let rec = flow_record([1, 1, 1, 1], [2, 2, 2, 2], 6, 1, 1_000);
    let data = set(256, &rec);
    let mut d = Decoder::default();
    // Without the boot time: the export time.
    let dg = ipfix(1, &[set(2, &tpl(256, FLOW_FIELDS)), data.clone()]);
    assert_eq!(
        decode(&mut d, &dg, now()).unwrap().1[0].timestamp,
        at("2024-03-01T12:00:00Z")
    );
    let dg = ipfix(1, &[opt_tpl, opt_data, data]);
    let (s, out) = decode(&mut d, &dg, now()).unwrap();
    assert_eq!(s.options_records, 1);
    assert_eq!(out[0].timestamp, at("2024-03-01T11:00:01Z"));
    assert_eq!(out[0].end, Some(at("2024-03-01T11:00:01.500Z")));
    assert_eq!(out[0].duration_ns, Some(500_000_000));
}

#[test]
fn v5_times_wrap_and_records_are_exact() {
    let mut dg = vec![0, 5, 0, 1];
    dg.extend_from_slice(&500u32.to_be_bytes()); // uptime 500 ms
    dg.extend_from_slice(&SECS.to_be_bytes());
    dg.extend_from_slice(&250_000_000u32.to_be_bytes());
    dg.extend_from_slice(&[0; 8]);
    let mut r = vec![0u8; 48];
    r[..8].copy_from_slice(&[203, 0, 113, 5, 192, 0, 2, 1]);
    r[12..16].copy_from_slice(&[0, 3, 0, 0]);
    r[16..24].copy_from_slice(&[0, 0, 0, 1, 0, 0, 0, 60]);
    r[24..28].copy_from_slice(&u32::MAX.to_be_bytes()); // First: 1 ms before boot (wrapped)
    r[28..32].copy_from_slice(&400u32.to_be_bytes());
    r[32..36].copy_from_slice(&[0xc3, 0x50, 0, 22]);
    r[37] = 0x02;
    r[38] = 6;
    dg.extend_from_slice(&r);
    let mut d = Decoder::default();
    let (s, out) = decode(&mut d, &dg, now()).unwrap();
    assert_eq!((s.version, s.flows), (5, 1));
    let e = &out[0];
    assert_eq!(e.timestamp, at("2024-03-01T11:59:59.749Z"));
    // Last: uptime 400 ms, 100 ms before the header's 500; 401 ms after the wrapped first.
    assert_eq!(e.end, Some(at("2024-03-01T12:00:00.150Z")));
    assert_eq!(e.duration_ns, Some(401_000_000));
    assert_eq!(e.source_ip, Some("203.0.113.5".parse().unwrap()));
    assert_eq!((e.source_port, e.destination_port), (Some(50000), Some(22)));
    assert_eq!(e.tcp_flags, Some(TcpFlags(TcpFlags::SYN)));
    assert_eq!(
        (e.interface_in.as_deref(), e.interface_out.as_deref()),
        (Some("3"), None)
    );
}

#[test]
fn decoder_can_move_to_a_worker_thread() {
    fn send<T: Send>() {}
    send::<Decoder>();
    send::<FlowRecord>();
}

#[test]
fn mutated_datagrams_never_panic() {
    let var = set(2, &[1, 44, 0, 2, 0, 8, 0, 4, 0, 82, 255, 255]);
    let seeds = vec![
        v9(
            3,
            10_000,
            &[
                set(0, &tpl(256, FLOW_FIELDS)),
                set(
                    1,
                    &[
                        1, 144, 0, 4, 0, 8, 0, 1, 0, 4, 0, 34, 0, 4, 0, 35, 0, 1, 0, 0,
                    ],
                ),
                set(256, &flow_record([1, 1, 1, 1], [2, 2, 2, 2], 6, 1, 0)),
            ],
        ),
        ipfix(
            1,
            &[
                var,
                set(
                    300,
                    &[1, 2, 3, 4, 3, b'a', b'b', b'c', 5, 6, 7, 8, 255, 0, 1, 0],
                ),
            ],
        ),
    ];
    for seed in seeds {
        let mut d = Decoder::default();
        for i in 0..seed.len() {
            for v in [0u8, 1, 3, 4, 0x7f, 0x80, 0xff] {
                let mut dg = seed.clone();
                dg[i] = v;
                let _ = d.decode(exporter(), &dg, now(), &mut Vec::new());
                let _ = d.decode(exporter(), &dg[..i], now(), &mut Vec::new());
            }
        }
    }
}
