//! Tests of the capture reader on captures built byte by byte.

use super::*;

const PAYLOAD: &[u8] = b"\x00\x05flow";

fn udp(sport: u16, dport: u16, payload: &[u8]) -> Vec<u8> {
    let mut u = Vec::new();
    u.extend_from_slice(&sport.to_be_bytes());
    u.extend_from_slice(&dport.to_be_bytes());
    u.extend_from_slice(&(8 + payload.len() as u16).to_be_bytes());
    u.extend_from_slice(&[0, 0]);
    u.extend_from_slice(payload);
    u
}

fn ipv4(proto: u8, frag: u16, body: &[u8]) -> Vec<u8> {
    let mut h = vec![0x45, 0];
    h.extend_from_slice(&(20 + body.len() as u16).to_be_bytes());
    h.extend_from_slice(&[0, 1]);
    h.extend_from_slice(&frag.to_be_bytes());
    h.extend_from_slice(&[64, proto, 0, 0, 192, 0, 2, 1, 198, 51, 100, 7]);
    h.extend_from_slice(body);
    h
}

fn ipv6(next: u8, body: &[u8]) -> Vec<u8> {
    let mut h = vec![0x60, 0, 0, 0];
    h.extend_from_slice(&(body.len() as u16).to_be_bytes());
    h.extend_from_slice(&[next, 64]);
    h.extend_from_slice(&"2001:db8::1".parse::<Ipv6Addr>().unwrap().octets());
    h.extend_from_slice(&"2001:db8::2".parse::<Ipv6Addr>().unwrap().octets());
    h.extend_from_slice(body);
    h
}

fn ether(ethertype: u16, vlan: bool, ip: &[u8]) -> Vec<u8> {
    let mut f = vec![0u8; 12];
    if vlan {
        f.extend_from_slice(&[0x81, 0x00, 0x00, 0x0a]);
    }
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(ip);
    f
}

/// A classic pcap file (little endian unless `be`).
fn pcap(be: bool, nanos: bool, link: u32, frames: &[Vec<u8>]) -> Vec<u8> {
    let w32 = |v: u32| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let w16 = |v: u16| if be { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut f = Vec::new();
    f.extend_from_slice(&w32(if nanos { PCAP_NS } else { PCAP_US }));
    f.extend_from_slice(&w16(2));
    f.extend_from_slice(&w16(4));
    f.extend_from_slice(&w32(0));
    f.extend_from_slice(&w32(0));
    f.extend_from_slice(&w32(65535));
    f.extend_from_slice(&w32(link));
    for (i, frame) in frames.iter().enumerate() {
        f.extend_from_slice(&w32(1_700_000_000 + i as u32));
        f.extend_from_slice(&w32(if nanos { 5 } else { 250_000 }));
        f.extend_from_slice(&w32(frame.len() as u32));
        f.extend_from_slice(&w32(frame.len() as u32));
        f.extend_from_slice(frame);
    }
    f
}

fn t(s: &str) -> DateTime<Utc> {
    s.parse().unwrap()
}

#[test]
fn classic_pcap_ethernet_ipv4_ipv6_udp() {
    let hop_by_hop = [&[17u8, 0, 0, 0, 0, 0, 0, 0][..], &udp(7, 8, b"hbh")].concat();
    let frames = vec![
        ether(0x0800, false, &ipv4(17, 0, &udp(40000, 2055, PAYLOAD))),
        ether(0x0800, true, &ipv4(17, 0, &udp(40001, 4739, b"x"))),
        ether(0x0806, false, &[0u8; 28]),              // ARP
        ether(0x0800, false, &ipv4(6, 0, &[0u8; 20])), // TCP
        ether(0x0800, false, &ipv4(17, 0x2000, &udp(1, 2, b"y"))), // first fragment
        ether(0x86dd, false, &ipv6(17, &udp(5, 6, b"v6"))),
        ether(0x86dd, false, &ipv6(0, &hop_by_hop)),
        ether(0x86dd, false, &ipv6(44, &[0u8; 16])), // IPv6 fragment
    ];
    for be in [false, true] {
        let file = pcap(be, false, 1, &frames);
        let mut it = udp_packets(&file).unwrap();
        let got: Vec<_> = it.by_ref().collect();
        assert_eq!(got.len(), 4);
        assert_eq!(got[0].timestamp, t("2023-11-14T22:13:20.250Z"));
        assert_eq!(got[0].src, "192.0.2.1".parse::<IpAddr>().unwrap());
        assert_eq!(got[0].dst, "198.51.100.7".parse::<IpAddr>().unwrap());
        assert_eq!(
            (got[0].src_port, got[0].dst_port, got[0].payload),
            (40000, 2055, PAYLOAD)
        );
        assert_eq!(got[0].offset, 24);
        assert_eq!((got[1].dst_port, got[1].payload), (4739, &b"x"[..]));
        assert_eq!(got[2].src, "2001:db8::1".parse::<IpAddr>().unwrap());
        assert_eq!(got[2].payload, b"v6");
        assert_eq!(got[3].payload, b"hbh");
        let want = PcapStats {
            packets: 8,
            udp: 4,
            not_udp: 2,
            fragments: 2,
            truncated: 0,
            unsupported: 0,
        };
        assert_eq!(it.stats(), want);
    }
}

#[test]
fn other_link_types_and_nanoseconds() {
    let ip = ipv4(17, 0, &udp(1, 2055, PAYLOAD));
    let mut sll = vec![0u8; 14];
    sll.extend_from_slice(&[0x08, 0x00]);
    sll.extend_from_slice(&ip);
    let mut sll2 = vec![0x08, 0x00];
    sll2.extend_from_slice(&[0u8; 18]);
    sll2.extend_from_slice(&ip);
    let mut null = 2u32.to_le_bytes().to_vec();
    null.extend_from_slice(&ip);
    let cases: &[(u32, Vec<u8>)] = &[(113, sll), (276, sll2), (101, ip.clone()), (0, null)];
    for (link, frame) in cases {
        let file = pcap(false, true, *link, std::slice::from_ref(frame));
        let got: Vec<_> = udp_packets(&file).unwrap().collect();
        assert_eq!(got.len(), 1, "link {link}");
        assert_eq!(got[0].payload, PAYLOAD);
        assert_eq!(got[0].timestamp, t("2023-11-14T22:13:20.000000005Z"));
    }
    let file = pcap(false, false, 147, &[ip]);
    let mut it = udp_packets(&file).unwrap();
    assert_eq!(it.next(), None);
    assert_eq!(it.stats().unsupported, 1);
}

#[test]
fn truncated_and_malformed_captures() {
    assert_eq!(udp_packets(b"").unwrap_err(), PcapError::Truncated);
    assert_eq!(
        udp_packets(b"\xd4\xc3\xb2\xa1").unwrap_err(),
        PcapError::Truncated
    );
    assert_eq!(
        udp_packets(b"GIF89a..").unwrap_err(),
        PcapError::BadMagic(0x4749_4638)
    );
    // The snap length cut the second packet 3 bytes into its UDP payload.
    let frame = ether(0x0800, false, &ipv4(17, 0, &udp(1, 2055, PAYLOAD)));
    let mut file = pcap(false, false, 1, &[frame.clone(), frame.clone()]);
    let rec2 = 24 + 16 + frame.len();
    let incl = (frame.len() - 3) as u32;
    file[rec2 + 8..rec2 + 12].copy_from_slice(&incl.to_le_bytes());
    file.truncate(file.len() - 3);
    let mut it = udp_packets(&file).unwrap();
    assert_eq!(it.by_ref().count(), 1);
    assert_eq!(it.stats().truncated, 1);
    // A record that claims more bytes than the file has ends the walk.
    let mut file = pcap(false, false, 1, &[frame]);
    file[24 + 8..24 + 12].copy_from_slice(&1_000_000u32.to_le_bytes());
    let mut it = udp_packets(&file).unwrap();
    assert_eq!(it.next(), None);
    assert_eq!(it.stats().truncated, 1);
}

fn block(kind: u32, body: &[u8]) -> Vec<u8> {
    let mut body = body.to_vec();
    while body.len() % 4 != 0 {
        body.push(0);
    }
    let len = (12 + body.len()) as u32;
    [
        &kind.to_le_bytes()[..],
        &len.to_le_bytes(),
        &body,
        &len.to_le_bytes(),
    ]
    .concat()
}

#[test]
fn pcapng_sections_interfaces_and_resolution() {
    let frame = ether(0x0800, false, &ipv4(17, 0, &udp(3, 2055, PAYLOAD)));
    let shb_body = [&PCAPNG_BOM.to_le_bytes()[..], &[1, 0, 0, 0], &[0xff; 8]].concat();
    let shb = block(PCAPNG_SHB, &shb_body);
    // Interface 0: Ethernet, microseconds. Interface 1: Ethernet, nanoseconds (if_tsresol 9).
    let idb0 = block(
        1,
        &[&1u16.to_le_bytes()[..], &[0, 0], &[0, 0, 1, 0]].concat(),
    );
    let idb1_body = [
        &1u16.to_le_bytes()[..],
        &[0, 0],
        &[0, 0, 1, 0],
        &[9, 0, 1, 0, 9, 0, 0, 0],
        &[0, 0, 0, 0],
    ]
    .concat();
    let idb1 = block(1, &idb1_body);
    let epb = |iface: u32, ticks: u64| {
        let body = [
            &iface.to_le_bytes()[..],
            &((ticks >> 32) as u32).to_le_bytes(),
            &(ticks as u32).to_le_bytes(),
            &(frame.len() as u32).to_le_bytes(),
            &(frame.len() as u32).to_le_bytes(),
            &frame,
        ]
        .concat();
        block(6, &body)
    };
    let spb = block(
        3,
        &[&(frame.len() as u32).to_le_bytes()[..], &frame].concat(),
    );
    let file = [
        shb,
        idb0,
        idb1,
        epb(0, 1_700_000_000_250_000),
        epb(1, 1_700_000_000_000_000_007),
        spb,
        epb(5, 0),
    ]
    .concat();
    let mut it = udp_packets(&file).unwrap();
    let got: Vec<_> = it.by_ref().collect();
    assert_eq!(got.len(), 2);
    assert_eq!(got[0].timestamp, t("2023-11-14T22:13:20.250Z"));
    assert_eq!(got[1].timestamp, t("2023-11-14T22:13:20.000000007Z"));
    assert_eq!(got[1].payload, PAYLOAD);
    assert_eq!(it.stats().unsupported, 2);
    // A block whose length runs past the end of the file ends the walk.
    let mut cut = file.clone();
    cut.truncate(file.len() - 10);
    let mut it = udp_packets(&cut).unwrap();
    assert_eq!(it.by_ref().count(), 2);
    assert_eq!(it.stats().truncated, 1);
}

#[test]
fn hostile_bytes_never_panic() {
    let frame = ether(0x86dd, true, &ipv6(0, &[0u8; 64]));
    let base = pcap(false, false, 1, &[frame]);
    for i in 0..base.len() {
        for v in [0u8, 1, 0x3f, 0x80, 0xff] {
            let mut f = base.clone();
            f[i] = v;
            if let Ok(it) = udp_packets(&f) {
                let _ = it.count();
            }
        }
    }
}
