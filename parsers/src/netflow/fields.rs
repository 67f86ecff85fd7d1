//! Information elements: which NetFlow v9 field types and IPFIX information elements a flow
//! event is made of, and how their bytes are read.
//!
//! NetFlow v9 field types 1–127 are the IPFIX information elements of the same number (RFC 5102
//! took them over), and exporters that speak v9 use IPFIX numbers above 127 too (Cisco ASA NSEL:
//! 152, 231, 232, 323), so one table serves both. Everything not listed here is skipped by its
//! length. A field whose length does not fit its element (an IPv4 address of 6 bytes) is
//! skipped too rather than misread. Unsigned counters may use reduced-size encoding (RFC 7011
//! §6.2): any length from 1 to 8 bytes.
//!
//! Enterprise-specific elements are skipped, except the RFC 5103 reverse-direction elements
//! (enterprise 29305): their byte and packet counters and TCP flags belong to the same biflow;
//! and YAF's TCP flags (CERT, enterprise 6871), which it sends instead of tcpControlBits.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Length in a template that announces a variable-length field (RFC 7011 §7).
pub(crate) const VARLEN: u16 = 65535;

/// Private enterprise number of the RFC 5103 reverse information elements.
pub(crate) const REVERSE_PEN: u32 = 29305;

/// Private enterprise number of CERT (YAF): initialTCPFlags 14 and unionTCPFlags 15, and their
/// reverse forms with bit 14 set (16398, 16399).
pub(crate) const CERT_PEN: u32 = 6871;

/// Seconds from the NTP epoch (1900) to the Unix epoch (1970).
const NTP_UNIX_OFFSET: i64 = 2_208_988_800;

/// What a field of a template means to a flow event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ie {
    /// Not used: skipped by its length.
    Skip,
    /// 8 sourceIPv4Address.
    SrcV4,
    /// 12 destinationIPv4Address.
    DstV4,
    /// 27 sourceIPv6Address.
    SrcV6,
    /// 28 destinationIPv6Address.
    DstV6,
    /// 7 sourceTransportPort.
    SrcPort,
    /// 11 destinationTransportPort.
    DstPort,
    /// 180 udpSourcePort, 182 tcpSourcePort: used when 7 is absent.
    AltSrcPort,
    /// 181 udpDestinationPort, 183 tcpDestinationPort: used when 11 is absent.
    AltDstPort,
    /// 4 protocolIdentifier.
    Proto,
    /// 6 tcpControlBits (1 byte in v9, 2 in IPFIX: the low byte holds FIN..CWR); YAF's
    /// 6871/14 initialTCPFlags and 6871/15 unionTCPFlags.
    TcpFlags,
    /// 29305/6: reverse tcpControlBits; YAF's 6871/16398, 6871/16399.
    RevTcpFlags,
    /// 1 octetDeltaCount.
    OctetDelta,
    /// 85 octetTotalCount.
    OctetTotal,
    /// 231 initiatorOctets (ASA NSEL forward bytes).
    InitiatorOctets,
    /// 232 responderOctets (ASA NSEL reverse bytes).
    ResponderOctets,
    /// 29305/1, 29305/85: reverse octet counters.
    RevOctets,
    /// 2 packetDeltaCount.
    PacketDelta,
    /// 86 packetTotalCount.
    PacketTotal,
    /// 298 initiatorPackets.
    InitiatorPackets,
    /// 299 responderPackets.
    ResponderPackets,
    /// 29305/2, 29305/86: reverse packet counters.
    RevPackets,
    /// 10 ingressInterface.
    InIf,
    /// 14 egressInterface.
    OutIf,
    /// 22 flowStartSysUpTime (ms since the exporter booted).
    StartSysUp,
    /// 21 flowEndSysUpTime.
    EndSysUp,
    /// 150 flowStartSeconds.
    StartSec,
    /// 151 flowEndSeconds.
    EndSec,
    /// 152 flowStartMilliseconds.
    StartMs,
    /// 153 flowEndMilliseconds.
    EndMs,
    /// 154 flowStartMicroseconds, 156 flowStartNanoseconds (both NTP timestamps).
    StartNtp,
    /// 155 flowEndMicroseconds, 157 flowEndNanoseconds.
    EndNtp,
    /// 158 flowStartDeltaMicroseconds (before the export time).
    StartDeltaUs,
    /// 159 flowEndDeltaMicroseconds.
    EndDeltaUs,
    /// 322 observationTimeSeconds.
    ObsSec,
    /// 323 observationTimeMilliseconds (ASA NSEL event time).
    ObsMs,
    /// 324 observationTimeMicroseconds, 325 observationTimeNanoseconds.
    ObsNtp,
    /// 160 systemInitTimeMilliseconds: when the exporter booted (base of 21/22 in IPFIX).
    SysInitMs,
    /// 34 samplingInterval, 50 samplerRandomInterval: one packet in N was sampled.
    SamplingInterval,
    /// 305 samplingPacketInterval: packets selected in a row.
    PacketInterval,
    /// 306 samplingPacketSpace: packets skipped after them.
    PacketSpace,
    /// 48 samplerId (v9 FLOW_SAMPLER_ID), 302 selectorId.
    SamplerId,
}

impl Ie {
    /// The meaning of field `id` of `enterprise` (0: none) with `len` bytes per record.
    pub(crate) fn of(enterprise: u32, id: u16, len: u16) -> Ie {
        let ie = match enterprise {
            0 => Self::standard(id),
            REVERSE_PEN => match id {
                1 | 85 => Ie::RevOctets,
                2 | 86 => Ie::RevPackets,
                6 => Ie::RevTcpFlags,
                _ => Ie::Skip,
            },
            CERT_PEN => match id {
                14 | 15 => Ie::TcpFlags,
                16398 | 16399 => Ie::RevTcpFlags,
                _ => Ie::Skip,
            },
            _ => Ie::Skip,
        };
        if ie.fits(len) {
            ie
        } else {
            Ie::Skip
        }
    }

    fn standard(id: u16) -> Ie {
        match id {
            1 => Ie::OctetDelta,
            2 => Ie::PacketDelta,
            4 => Ie::Proto,
            6 => Ie::TcpFlags,
            7 => Ie::SrcPort,
            8 => Ie::SrcV4,
            10 => Ie::InIf,
            11 => Ie::DstPort,
            12 => Ie::DstV4,
            14 => Ie::OutIf,
            21 => Ie::EndSysUp,
            22 => Ie::StartSysUp,
            27 => Ie::SrcV6,
            28 => Ie::DstV6,
            34 | 50 => Ie::SamplingInterval,
            48 | 302 => Ie::SamplerId,
            85 => Ie::OctetTotal,
            86 => Ie::PacketTotal,
            150 => Ie::StartSec,
            151 => Ie::EndSec,
            152 => Ie::StartMs,
            153 => Ie::EndMs,
            154 | 156 => Ie::StartNtp,
            155 | 157 => Ie::EndNtp,
            158 => Ie::StartDeltaUs,
            159 => Ie::EndDeltaUs,
            160 => Ie::SysInitMs,
            180 | 182 => Ie::AltSrcPort,
            181 | 183 => Ie::AltDstPort,
            231 => Ie::InitiatorOctets,
            232 => Ie::ResponderOctets,
            298 => Ie::InitiatorPackets,
            299 => Ie::ResponderPackets,
            305 => Ie::PacketInterval,
            306 => Ie::PacketSpace,
            322 => Ie::ObsSec,
            323 => Ie::ObsMs,
            324 | 325 => Ie::ObsNtp,
            _ => Ie::Skip,
        }
    }

    /// Whether `len` bytes can hold this element.
    fn fits(self, len: u16) -> bool {
        match self {
            Ie::Skip => true,
            Ie::SrcV4 | Ie::DstV4 => len == 4,
            Ie::SrcV6 | Ie::DstV6 => len == 16,
            Ie::Proto => len == 1,
            Ie::SrcPort | Ie::DstPort | Ie::AltSrcPort | Ie::AltDstPort => (1..=2).contains(&len),
            Ie::TcpFlags | Ie::RevTcpFlags => (1..=2).contains(&len),
            Ie::InIf | Ie::OutIf | Ie::StartSysUp | Ie::EndSysUp => (1..=4).contains(&len),
            Ie::StartNtp | Ie::EndNtp | Ie::ObsNtp => len == 8,
            // Counters, seconds, milliseconds, deltas, sampling values: unsigned, 1..=8 bytes.
            _ => (1..=8).contains(&len),
        }
    }
}

/// Big-endian unsigned integer of 0..=8 bytes (longer input: its last 8 bytes).
#[inline]
pub(crate) fn be_uint(v: &[u8]) -> u64 {
    v.iter().fold(0u64, |acc, &b| (acc << 8) | u64::from(b))
}

/// Milliseconds since the Unix epoch of a 64-bit NTP timestamp (RFC 7011 §6.1.8–9).
pub(crate) fn ntp_to_unix_ms(v: u64) -> i64 {
    let secs = (v >> 32) as i64 - NTP_UNIX_OFFSET;
    let frac_ms = ((v & 0xffff_ffff) * 1000) >> 32;
    secs * 1000 + frac_ms as i64
}

/// What one data record says, field by field, before the header's clock is applied.
#[derive(Debug, Default, Clone)]
pub(crate) struct FlowAcc {
    pub src: Option<IpAddr>,
    pub dst: Option<IpAddr>,
    pub src_port: Option<u16>,
    pub dst_port: Option<u16>,
    pub alt_src_port: Option<u16>,
    pub alt_dst_port: Option<u16>,
    pub proto: Option<u8>,
    pub flags: Option<u8>,
    pub rev_flags: Option<u8>,
    pub octet_delta: Option<u64>,
    pub octet_total: Option<u64>,
    pub initiator_octets: Option<u64>,
    pub responder_octets: Option<u64>,
    pub rev_octets: Option<u64>,
    pub packet_delta: Option<u64>,
    pub packet_total: Option<u64>,
    pub initiator_packets: Option<u64>,
    pub responder_packets: Option<u64>,
    pub rev_packets: Option<u64>,
    pub in_if: Option<u32>,
    pub out_if: Option<u32>,
    pub start_sysup: Option<u32>,
    pub end_sysup: Option<u32>,
    pub start_sec: Option<u64>,
    pub end_sec: Option<u64>,
    pub start_ms: Option<u64>,
    pub end_ms: Option<u64>,
    pub start_ntp: Option<u64>,
    pub end_ntp: Option<u64>,
    pub start_delta_us: Option<u64>,
    pub end_delta_us: Option<u64>,
    pub obs_ms: Option<i64>,
    pub sys_init_ms: Option<u64>,
    pub sampling_interval: Option<u64>,
    pub packet_interval: Option<u64>,
    pub packet_space: Option<u64>,
    pub sampler_id: Option<u64>,
}

impl FlowAcc {
    /// Takes in one field's bytes. `v` has a length that [`Ie::of`] accepted for `ie`, except
    /// for variable-length fields, whose length is checked here.
    #[inline]
    pub(crate) fn apply(&mut self, ie: Ie, v: &[u8]) {
        match ie {
            Ie::Skip => {}
            Ie::SrcV4 => self.src = v4(v).or(self.src),
            Ie::DstV4 => self.dst = v4(v).or(self.dst),
            Ie::SrcV6 => self.src = v6(v).or(self.src),
            Ie::DstV6 => self.dst = v6(v).or(self.dst),
            Ie::SrcPort => self.src_port = Some(be_uint(v) as u16),
            Ie::DstPort => self.dst_port = Some(be_uint(v) as u16),
            Ie::AltSrcPort => self.alt_src_port = Some(be_uint(v) as u16),
            Ie::AltDstPort => self.alt_dst_port = Some(be_uint(v) as u16),
            Ie::Proto => self.proto = v.first().copied(),
            // tcpControlBits is 16 bits in IPFIX (RFC 7125); FIN..CWR are its low byte.
            Ie::TcpFlags => self.flags = Some(self.flags.unwrap_or(0) | be_uint(v) as u8),
            Ie::RevTcpFlags => {
                self.rev_flags = Some(self.rev_flags.unwrap_or(0) | be_uint(v) as u8)
            }
            Ie::OctetDelta => self.octet_delta = Some(be_uint(v)),
            Ie::OctetTotal => self.octet_total = Some(be_uint(v)),
            Ie::InitiatorOctets => self.initiator_octets = Some(be_uint(v)),
            Ie::ResponderOctets => self.responder_octets = Some(be_uint(v)),
            Ie::RevOctets => self.rev_octets = Some(be_uint(v)),
            Ie::PacketDelta => self.packet_delta = Some(be_uint(v)),
            Ie::PacketTotal => self.packet_total = Some(be_uint(v)),
            Ie::InitiatorPackets => self.initiator_packets = Some(be_uint(v)),
            Ie::ResponderPackets => self.responder_packets = Some(be_uint(v)),
            Ie::RevPackets => self.rev_packets = Some(be_uint(v)),
            Ie::InIf => self.in_if = Some(be_uint(v) as u32),
            Ie::OutIf => self.out_if = Some(be_uint(v) as u32),
            Ie::StartSysUp => self.start_sysup = Some(be_uint(v) as u32),
            Ie::EndSysUp => self.end_sysup = Some(be_uint(v) as u32),
            Ie::StartSec => self.start_sec = Some(be_uint(v)),
            Ie::EndSec => self.end_sec = Some(be_uint(v)),
            Ie::StartMs => self.start_ms = Some(be_uint(v)),
            Ie::EndMs => self.end_ms = Some(be_uint(v)),
            Ie::StartNtp => self.start_ntp = (v.len() == 8).then(|| be_uint(v)),
            Ie::EndNtp => self.end_ntp = (v.len() == 8).then(|| be_uint(v)),
            Ie::StartDeltaUs => self.start_delta_us = Some(be_uint(v)),
            Ie::EndDeltaUs => self.end_delta_us = Some(be_uint(v)),
            Ie::ObsSec => self.obs_ms = Some((be_uint(v) as i64).saturating_mul(1000)),
            Ie::ObsMs => self.obs_ms = Some(be_uint(v) as i64),
            Ie::ObsNtp if v.len() == 8 => self.obs_ms = Some(ntp_to_unix_ms(be_uint(v))),
            Ie::ObsNtp => {}
            Ie::SysInitMs => self.sys_init_ms = Some(be_uint(v)),
            Ie::SamplingInterval => self.sampling_interval = Some(be_uint(v)),
            Ie::PacketInterval => self.packet_interval = Some(be_uint(v)),
            Ie::PacketSpace => self.packet_space = Some(be_uint(v)),
            Ie::SamplerId => self.sampler_id = Some(be_uint(v)),
        }
    }

    /// The sampling rate (one in N) this record itself states, if any: 34/50 directly, or
    /// 305/306 as (interval + space) / interval.
    pub(crate) fn own_sampling(&self) -> Option<u32> {
        if let Some(n) = self.sampling_interval.filter(|&n| n > 0) {
            return Some(clamp_rate(n));
        }
        let interval = self.packet_interval.filter(|&n| n > 0)?;
        match self.packet_space {
            Some(space) => Some(clamp_rate(interval.saturating_add(space) / interval)),
            // 305 alone: exporters that send it this way mean "1 in N".
            None => Some(clamp_rate(interval)),
        }
    }
}

/// A sampling rate as a multiplier of at least 1.
fn clamp_rate(n: u64) -> u32 {
    n.clamp(1, u64::from(u32::MAX)) as u32
}

fn v4(v: &[u8]) -> Option<IpAddr> {
    let b: [u8; 4] = v.try_into().ok()?;
    Some(IpAddr::V4(Ipv4Addr::from(b)))
}

fn v6(v: &[u8]) -> Option<IpAddr> {
    let b: [u8; 16] = v.try_into().ok()?;
    Some(IpAddr::V6(Ipv6Addr::from(b)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn element_table_checks_lengths() {
        let cases: &[(u32, u16, u16, Ie)] = &[
            (0, 8, 4, Ie::SrcV4),
            (0, 8, 6, Ie::Skip),
            (0, 27, 16, Ie::SrcV6),
            (0, 27, 4, Ie::Skip),
            (0, 1, 4, Ie::OctetDelta),
            (0, 1, 8, Ie::OctetDelta),
            (0, 1, 9, Ie::Skip),
            (0, 1, VARLEN, Ie::Skip),
            (0, 6, 2, Ie::TcpFlags),
            (0, 7, 2, Ie::SrcPort),
            (0, 7, 3, Ie::Skip),
            (0, 154, 8, Ie::StartNtp),
            (0, 154, 4, Ie::Skip),
            (0, 9999, 4, Ie::Skip),
            (REVERSE_PEN, 1, 8, Ie::RevOctets),
            (REVERSE_PEN, 8, 4, Ie::Skip),
            (CERT_PEN, 1, 8, Ie::Skip),
            (CERT_PEN, 15, 1, Ie::TcpFlags),
            (CERT_PEN, 16399, 1, Ie::RevTcpFlags),
        ];
        for &(pen, id, len, want) in cases {
            assert_eq!(Ie::of(pen, id, len), want, "{pen}/{id} len {len}");
        }
    }

    #[test]
    fn numbers_and_times() {
        assert_eq!(be_uint(&[]), 0);
        assert_eq!(be_uint(&[1, 2]), 0x0102);
        assert_eq!(be_uint(&[0xff; 8]), u64::MAX);
        // 2016-07-21T13:50:35.5Z as NTP: seconds since 1900 and a half-second fraction.
        let ntp = ((1_469_109_035u64 + 2_208_988_800) << 32) | 0x8000_0000;
        assert_eq!(ntp_to_unix_ms(ntp), 1_469_109_035_500);
    }

    #[test]
    fn sampling_rates() {
        let mut a = FlowAcc::default();
        assert_eq!(a.own_sampling(), None);
        a.packet_interval = Some(1);
        a.packet_space = Some(99);
        assert_eq!(a.own_sampling(), Some(100));
        a.sampling_interval = Some(0);
        assert_eq!(a.own_sampling(), Some(100));
        a.sampling_interval = Some(512);
        assert_eq!(a.own_sampling(), Some(512));
    }
}
