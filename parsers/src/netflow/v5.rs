//! NetFlow v5: a fixed 24-byte header and up to 30 fixed 48-byte records. No templates.
//!
//! Header: version(2) count(2) sys_uptime(4) unix_secs(4) unix_nsecs(4) flow_sequence(4)
//! engine_type(1) engine_id(1) sampling_interval(2: 2-bit mode, 14-bit interval).
//! Record: srcaddr dstaddr nexthop(4 each) input output(2 each) dPkts dOctets First Last
//! (4 each) srcport dstport(2 each) pad1 tcp_flags prot tos(1 each) src_as dst_as(2 each)
//! src_mask dst_mask(1 each) pad2(2).

use super::fields::FlowAcc;
use super::record::{finish, Clock, FlowRecord};
use super::{DecodeStats, ErrorKind, Header, NetflowError};
use std::net::{IpAddr, Ipv4Addr};

const HEADER_LEN: usize = 24;
const RECORD_LEN: usize = 48;
/// Most records a v5 datagram holds (Cisco's format definition: 1–30).
const MAX_RECORDS: usize = 30;

fn u16_at(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_be_bytes([s[0], s[1]]))
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

// 0005 0002 00000d35 55451990 10b57740 00000000 00 00 0000      header: 2 records
// 0a000202 0a00020f 00000000 0000 0000 00000005 000000e6 ffffffff 00000a11 d4a3 0016 00 10 06 00 ...
/// Decodes a v5 datagram, handing each record to `sink`.
pub(crate) fn decode(
    d: &[u8],
    exporter: IpAddr,
    sink: &mut dyn FnMut(&FlowRecord),
    stats: &mut DecodeStats,
) -> Result<(), NetflowError> {
    if d.len() < HEADER_LEN {
        return Err(NetflowError::new(
            5,
            ErrorKind::Truncated,
            d.len(),
            "a 24-byte NetFlow v5 header",
        ));
    }
    let count = usize::from(u16_at(d, 2));
    if count > MAX_RECORDS {
        return Err(NetflowError::new(
            5,
            ErrorKind::BadCount,
            2,
            "a record count of at most 30",
        ));
    }
    if d.len() < HEADER_LEN + count * RECORD_LEN {
        return Err(NetflowError::new(
            5,
            ErrorKind::Truncated,
            d.len(),
            "as many 48-byte records as the header's count",
        ));
    }
    let unix_ms = i64::from(u32_at(d, 8)) * 1000 + i64::from(u32_at(d, 12) / 1_000_000);
    let header = Header {
        version: 5,
        domain: u32::from(u16_at(d, 20)),
        export_ms: unix_ms,
        sys_uptime_ms: Some(u32_at(d, 4)),
    };
    let rate = u32::from(u16_at(d, 22) & 0x3fff).max(1);
    let records = d
        .get(HEADER_LEN..HEADER_LEN + count * RECORD_LEN)
        .unwrap_or(&[]);
    let mut clock = Clock::default();
    for r in records.chunks_exact(RECORD_LEN) {
        let byte = |i: usize| r.get(i).copied().unwrap_or(0);
        let acc = FlowAcc {
            src: Some(IpAddr::V4(Ipv4Addr::from(u32_at(r, 0)))),
            dst: Some(IpAddr::V4(Ipv4Addr::from(u32_at(r, 4)))),
            in_if: Some(u32::from(u16_at(r, 12))),
            out_if: Some(u32::from(u16_at(r, 14))),
            packet_delta: Some(u64::from(u32_at(r, 16))),
            octet_delta: Some(u64::from(u32_at(r, 20))),
            start_sysup: Some(u32_at(r, 24)),
            end_sysup: Some(u32_at(r, 28)),
            src_port: Some(u16_at(r, 32)),
            dst_port: Some(u16_at(r, 34)),
            flags: Some(byte(37)),
            proto: Some(byte(38)),
            ..FlowAcc::default()
        };
        if let Some(flow) = finish(&acc, &header, exporter, None, Some(rate), &mut clock) {
            stats.flows += 1;
            sink(&flow);
        }
    }
    Ok(())
}
