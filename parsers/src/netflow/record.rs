//! One decoded flow: from the fields a record gave to a [`FlowRecord`] (times resolved,
//! sampling applied, directions added up) and on to an [`Event`].

use super::fields::{ntp_to_unix_ms, FlowAcc};
use super::templates::Domain;
use super::Header;
use crate::event::{Action, Dataset, Event, TcpFlags, Transport};
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
use compact_str::ToCompactString;
use std::net::IpAddr;

/// A decoded flow record, with what the Event has no field for (sampling, domain).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlowRecord {
    /// Flow start (see the module notes for how each version gives it).
    pub start: DateTime<Utc>,
    /// Flow end, when the record says.
    pub end: Option<DateTime<Utc>>,
    /// Address the datagram came from.
    pub exporter: IpAddr,
    /// NetFlow version (10 = IPFIX).
    pub version: u16,
    /// v9 source ID / IPFIX observation domain (v5: engine type << 8 | engine id).
    pub domain: u32,
    /// Source address.
    pub src: IpAddr,
    /// Source port (not for ICMP).
    pub src_port: Option<u16>,
    /// Destination address.
    pub dst: IpAddr,
    /// Destination port (not for ICMP).
    pub dst_port: Option<u16>,
    /// IP protocol number.
    pub protocol: Option<u8>,
    /// TCP flags seen in the flow (both directions of a biflow).
    pub tcp_flags: Option<u8>,
    /// Bytes, both directions, multiplied by `sampling`.
    pub bytes: Option<u64>,
    /// Packets, both directions, multiplied by `sampling`.
    pub packets: Option<u64>,
    /// The sampling rate applied (1 in N; 1 = not sampled).
    pub sampling: u32,
    /// Ingress interface index (SNMP ifIndex), when not 0.
    pub input: Option<u32>,
    /// Egress interface index, when not 0.
    pub output: Option<u32>,
}

impl FlowRecord {
    /// The flow as an event (`event.action = flow`, dataset `netflow`).
    pub fn to_event(&self) -> Event {
        let mut e = Event::new(self.start, Dataset::Netflow, Action::Flow);
        e.source_ip = Some(self.src);
        e.source_port = self.src_port;
        e.destination_ip = Some(self.dst);
        e.destination_port = self.dst_port;
        e.transport = self.protocol.map(Transport::from_number);
        e.tcp_flags = self
            .tcp_flags
            .filter(|_| self.protocol == Some(6))
            .map(TcpFlags);
        e.bytes = self.bytes;
        e.packets = self.packets;
        e.observer_ip = Some(self.exporter);
        e.interface_in = self.input.map(|i| i.to_compact_string());
        e.interface_out = self.output.map(|i| i.to_compact_string());
        if let Some(end) = self.end {
            e.set_end(end);
        }
        e
    }
}

/// Unix ms to UTC, remembering the last day's date: the records of a datagram fall on one or
/// two days, and the calendar arithmetic is the costly part of the conversion.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    day: Option<(i64, NaiveDate)>,
}

impl Clock {
    fn time(&mut self, ms: i64) -> Option<DateTime<Utc>> {
        const DAY_MS: i64 = 86_400_000;
        let (day, in_day) = (ms.div_euclid(DAY_MS), ms.rem_euclid(DAY_MS));
        let date = match self.day {
            Some((d, date)) if d == day => date,
            _ => {
                let date = DateTime::from_timestamp(day.checked_mul(86_400)?, 0)?.date_naive();
                self.day = Some((day, date));
                date
            }
        };
        let time = NaiveTime::from_num_seconds_from_midnight_opt(
            (in_day / 1000) as u32,
            (in_day % 1000) as u32 * 1_000_000,
        )?;
        Some(NaiveDateTime::new(date, time).and_utc())
    }
}

/// Unix ms of an uptime stamp: relative to the header's uptime (v5, v9) or to the boot time
/// (IPFIX).
fn sysup_ms(up: u32, h: &Header, sys_init_ms: Option<i64>) -> Option<i64> {
    match h.sys_uptime_ms {
        // Signed difference: uptime wraps after 49.7 days, and a stamp slightly after the
        // header's uptime is clock jitter.
        Some(now_up) => Some(h.export_ms - i64::from(now_up.wrapping_sub(up) as i32)),
        None => sys_init_ms.map(|init| init + i64::from(up)),
    }
}

fn nonzero(v: Option<u64>) -> Option<i64> {
    v.filter(|&v| v > 0).and_then(|v| i64::try_from(v).ok())
}

fn start_ms(a: &FlowAcc, h: &Header, sys_init_ms: Option<i64>) -> Option<i64> {
    nonzero(a.start_ms)
        .or_else(|| a.start_ntp.filter(|&v| v > 0).map(ntp_to_unix_ms))
        .or_else(|| nonzero(a.start_sec).map(|s| s.saturating_mul(1000)))
        .or_else(|| a.start_sysup.and_then(|u| sysup_ms(u, h, sys_init_ms)))
        .or_else(|| a.start_delta_us.map(|d| h.export_ms - (d / 1000) as i64))
        .or(a.obs_ms.filter(|&v| v > 0))
}

fn end_ms(a: &FlowAcc, h: &Header, sys_init_ms: Option<i64>) -> Option<i64> {
    nonzero(a.end_ms)
        .or_else(|| a.end_ntp.filter(|&v| v > 0).map(ntp_to_unix_ms))
        .or_else(|| nonzero(a.end_sec).map(|s| s.saturating_mul(1000)))
        .or_else(|| a.end_sysup.and_then(|u| sysup_ms(u, h, sys_init_ms)))
        .or_else(|| a.end_delta_us.map(|d| h.export_ms - (d / 1000) as i64))
}

fn add(a: Option<u64>, b: Option<u64>) -> Option<u64> {
    match (a, b) {
        (None, None) => None,
        (a, b) => Some(a.unwrap_or(0).saturating_add(b.unwrap_or(0))),
    }
}

/// The flow a data record describes, or `None` when it names no source or no destination.
/// `header_rate` is the v5 header's sampling interval.
pub(crate) fn finish(
    a: &FlowAcc,
    h: &Header,
    exporter: IpAddr,
    domain: Option<&Domain>,
    header_rate: Option<u32>,
    clock: &mut Clock,
) -> Option<FlowRecord> {
    let (src, dst) = (a.src?, a.dst?);
    let icmp = matches!(a.proto, Some(1 | 58));
    let (src_port, dst_port) = if icmp {
        (None, None)
    } else {
        (a.src_port.or(a.alt_src_port), a.dst_port.or(a.alt_dst_port))
    };
    let sampling = a
        .own_sampling()
        .or_else(|| domain.zip(a.sampler_id).and_then(|(d, id)| d.sampler(id)))
        .or_else(|| domain.and_then(|d| d.sampling))
        .or(header_rate)
        .unwrap_or(1)
        .max(1);
    let scale = |v: Option<u64>| v.map(|v| v.saturating_mul(u64::from(sampling)));
    let fwd_bytes = a.octet_delta.or(a.initiator_octets).or(a.octet_total);
    let fwd_packets = a.packet_delta.or(a.initiator_packets).or(a.packet_total);
    let bytes = scale(add(fwd_bytes, a.responder_octets.or(a.rev_octets)));
    let packets = scale(add(fwd_packets, a.responder_packets.or(a.rev_packets)));
    let tcp_flags = match (a.flags, a.rev_flags) {
        (None, None) => None,
        (f, r) => Some(f.unwrap_or(0) | r.unwrap_or(0)),
    };
    let sys_init = nonzero(a.sys_init_ms).or_else(|| domain.and_then(|d| d.sys_init_ms));
    let start = start_ms(a, h, sys_init)
        .and_then(|ms| clock.time(ms))
        .or_else(|| clock.time(h.export_ms))
        .unwrap_or_default();
    let end = end_ms(a, h, sys_init).and_then(|ms| clock.time(ms));
    Some(FlowRecord {
        start,
        end,
        exporter,
        version: h.version,
        domain: h.domain,
        src,
        src_port,
        dst,
        dst_port,
        protocol: a.proto,
        tcp_flags,
        bytes,
        packets,
        sampling,
        input: a.in_if.filter(|&i| i != 0),
        output: a.out_if.filter(|&i| i != 0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_matches_chrono() {
        let mut c = Clock::default();
        for ms in [
            0i64,
            1,
            -1,
            86_399_999,
            86_400_000,
            1_709_294_400_123,
            1_709_294_399_999,
            -86_400_001,
            253_402_300_799_999,
        ] {
            assert_eq!(c.time(ms), DateTime::from_timestamp_millis(ms), "{ms}");
        }
        assert_eq!(c.time(i64::MAX), None);
        assert_eq!(c.time(i64::MIN), None);
    }
}
