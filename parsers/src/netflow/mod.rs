//! NetFlow v5, NetFlow v9 (RFC 3954) and IPFIX (RFC 7011) datagrams in, flow events out.
//!
//! A [`Decoder`] is kept per collector (one per listening socket or replayed capture): it holds
//! the templates v9 and IPFIX exporters announce, keyed by (exporter address, source ID /
//! observation domain, template ID), and decodes each datagram the caller received. No I/O:
//! the caller passes the UDP payload, the exporter's address and the time it was received
//! (receive times drive template expiry, so replays behave like live collection). [`pcap`]
//! reads UDP payloads out of capture files for replays.
//!
//! Each flow record becomes an `Event` with `event.action = flow` and dataset `netflow`:
//! source/destination address and port, `network.transport` from the protocol number, TCP
//! flags (cumulative OR over the flow; only for TCP), bytes and packets (both directions of a
//! biflow added up; multiplied by the sampling rate, see below), the ingress/egress interface
//! index as `interface.in`/`interface.out` (when not 0), and `observer.ip` = the exporter.
//! `@timestamp` is the flow's **start**; its end is in [`FlowRecord::end`] (from
//! [`Decoder::decode_flows`]) since the Event has no end field. ICMP flows carry no ports (v5
//! and v9 put the ICMP type and code in the destination port). Records without both a source
//! and a destination address (options data, NAT-only or application-info templates) are not
//! flows: counted in [`DecodeStats::non_flow_records`].
//!
//! Times. v5: `unix_secs.unix_nsecs − (sys_uptime − First)` in ms, the uptime difference read
//! as a signed 32-bit value (uptime wraps after 49.7 days; a First slightly after the header's
//! uptime is clock jitter, not a flow 49 days old). v9: the same with the header's sysUptime
//! and unix_secs for fields 22/21; absolute fields (152 flowStartMilliseconds, as Cisco ASA
//! sends) win when present. IPFIX: flowStart{Milli,Micro,Nano}seconds, then flowStartSeconds,
//! then flowStartSysUpTime (22) plus the exporter's boot time (160 systemInitTimeMilliseconds,
//! from the record or from options data; without it 22 is unusable), then
//! flowStartDeltaMicroseconds, then the observation time (322–325), then the export time.
//!
//! Sampling (nfdump#237): the rate a record states (34 samplingInterval, 50
//! samplerRandomInterval, 305/306 samplingPacketInterval/Space), else the rate of its sampler
//! id (48 / 302) from options data, else the rate options data gave for the whole domain, else
//! (v5) the header's sampling interval (low 14 bits, any mode: Juniper sends mode 0 with a
//! real interval). Bytes and packets are multiplied by it; [`FlowRecord::sampling`] keeps it.
//!
//! Data sets that arrive before their template are buffered (bounded, see [`DecoderLimits`])
//! and decoded when the template arrives; their events then come out of that later call,
//! counted in [`DecodeStats::replayed_flows`]. A datagram is checked whole before anything in
//! it takes effect: when `decode` returns an error, no template was learned and no event was
//! produced from it.

mod fields;
mod ipfix;
pub mod pcap;
mod record;
mod sets;
mod templates;
mod v5;
mod v9;

pub use record::FlowRecord;

use crate::Event;
use chrono::{DateTime, Utc};
use sets::SetSpan;
use std::fmt;
use std::net::IpAddr;
use std::time::Duration;
use templates::Cache;

/// Bounds on what a [`Decoder`] remembers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecoderLimits {
    /// A template not re-sent for this long is forgotten (exporters resend every few minutes;
    /// RFC 7011 suggests 30 min as the collector's timeout). Default 30 min.
    pub template_timeout: Duration,
    /// Most exporters with templates at once. Default 1024.
    pub max_exporters: usize,
    /// Most templates (data and options) per exporter. Default 512: a big router exports a
    /// few dozen.
    pub max_templates_per_exporter: usize,
    /// Most templates in all. Default 16384 (a few MB at most).
    pub max_templates: usize,
    /// Data sets kept per exporter while their template is unknown; 0 turns buffering off.
    /// Default 64 (a few seconds of a busy exporter's datagrams).
    pub pending_sets_per_exporter: usize,
    /// Bytes of buffered data sets in all. Default 4 MiB.
    pub max_pending_bytes: usize,
}

impl Default for DecoderLimits {
    fn default() -> DecoderLimits {
        DecoderLimits {
            template_timeout: Duration::from_secs(30 * 60),
            max_exporters: 1024,
            max_templates_per_exporter: 512,
            max_templates: 16_384,
            pending_sets_per_exporter: 64,
            max_pending_bytes: 4 << 20,
        }
    }
}

/// What one [`Decoder::decode`] call did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct DecodeStats {
    /// NetFlow version of the datagram (5, 9, 10 = IPFIX).
    pub version: u16,
    /// Flow events produced (including replayed ones).
    pub flows: usize,
    /// Of those, flows from data sets buffered earlier whose template this datagram brought.
    pub replayed_flows: usize,
    /// Data records that are not flows (no source or no destination address).
    pub non_flow_records: usize,
    /// Options data records read (sampling rates, boot times).
    pub options_records: usize,
    /// Templates and options templates learned or refreshed.
    pub templates: usize,
    /// Templates withdrawn (IPFIX).
    pub templates_withdrawn: usize,
    /// Templates refused because a cap was full.
    pub templates_dropped: usize,
    /// Data sets whose template is not known yet, buffered for later.
    pub waiting_for_template: usize,
    /// Data sets dropped: no template and no room to buffer them (or buffering off), evicted
    /// from a full buffer, expired, or unreadable once their template arrived.
    pub dropped_sets: usize,
}

/// Why a datagram was rejected.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NetflowErrorKind {
    /// Shorter than its header, its records or its length field say.
    Truncated,
    /// Not NetFlow v5, v9 or IPFIX.
    UnsupportedVersion,
    /// The header's record count does not fit the datagram (v5: over 30; v9: more flowsets
    /// than records).
    BadCount,
    /// A message or set length that cannot be right (shorter than its header, past the end).
    BadLength,
    /// A set of length 0: the datagram cannot be walked past it.
    ZeroLength,
    /// A template or options template that cannot be right (ID under 256, fields past its set,
    /// too many fields).
    BadTemplate,
    /// A data record that overruns its set (variable-length fields).
    BadRecord,
}

/// A rejected datagram: which version, at which byte, what was expected there. Same shape as
/// [`crate::ParseError`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("netflow v{version}: {kind:?} at byte {offset}: expected {expected}")]
pub struct NetflowError {
    /// NetFlow version from the header (10 = IPFIX; 0 when too short to have one).
    pub version: u16,
    /// What went wrong.
    pub kind: NetflowErrorKind,
    /// Byte offset within the datagram.
    pub offset: usize,
    /// What the decoder expected at that offset.
    pub expected: &'static str,
}

pub(crate) use NetflowErrorKind as ErrorKind;

impl NetflowError {
    /// Builds an error at `offset` of the datagram.
    pub fn new(
        version: u16,
        kind: NetflowErrorKind,
        offset: usize,
        expected: &'static str,
    ) -> NetflowError {
        NetflowError {
            version,
            kind,
            offset,
            expected,
        }
    }
}

/// The clock and scope of one v9 or IPFIX message, needed to read its records.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Header {
    pub version: u16,
    /// v9 source ID or IPFIX observation domain ID.
    pub domain: u32,
    /// Export time, Unix ms.
    pub export_ms: i64,
    /// v9: the exporter's uptime at export, ms (base of fields 21/22).
    pub sys_uptime_ms: Option<u32>,
}

/// Decodes NetFlow v5/v9 and IPFIX datagrams, remembering templates between them.
#[derive(Debug)]
pub struct Decoder {
    cache: Cache,
    spans: Vec<SetSpan>,
    defs: Vec<sets::Def>,
}

impl Default for Decoder {
    fn default() -> Decoder {
        Decoder::new(DecoderLimits::default())
    }
}

impl Decoder {
    /// A decoder with no templates yet.
    pub fn new(limits: DecoderLimits) -> Decoder {
        Decoder {
            cache: Cache::new(limits),
            spans: Vec::new(),
            defs: Vec::new(),
        }
    }

    /// Decodes one datagram from `exporter`, received at `received`; pushes one event per
    /// flow record to `out`. On error nothing was pushed and no template was learned.
    pub fn decode(
        &mut self,
        exporter: IpAddr,
        datagram: &[u8],
        received: DateTime<Utc>,
        out: &mut Vec<Event>,
    ) -> Result<DecodeStats, NetflowError> {
        self.decode_flows(exporter, datagram, received, &mut |r| {
            out.push(r.to_event())
        })
    }

    /// Like [`Decoder::decode`], but hands each flow to `sink` as a [`FlowRecord`], which also
    /// has the flow's end time, the sampling rate applied and the observation domain.
    pub fn decode_flows(
        &mut self,
        exporter: IpAddr,
        datagram: &[u8],
        received: DateTime<Utc>,
        sink: &mut dyn FnMut(&FlowRecord),
    ) -> Result<DecodeStats, NetflowError> {
        let version = match datagram {
            [a, b, ..] => u16::from_be_bytes([*a, *b]),
            _ => {
                return Err(NetflowError::new(
                    0,
                    ErrorKind::Truncated,
                    datagram.len(),
                    "a NetFlow or IPFIX header (2-byte version first)",
                ))
            }
        };
        let mut stats = DecodeStats {
            version,
            ..DecodeStats::default()
        };
        let now_ms = received.timestamp_millis();
        match version {
            5 => v5::decode(datagram, exporter, sink, &mut stats)?,
            9 | 10 => {
                self.spans.clear();
                if version == 9 {
                    v9::split(datagram, &mut self.spans)?;
                } else {
                    ipfix::split(datagram, &mut self.spans)?;
                }
                let job = sets::Job {
                    exporter,
                    datagram,
                    now_ms,
                    version,
                };
                sets::process(
                    &mut self.cache,
                    &self.spans,
                    &mut self.defs,
                    &job,
                    sink,
                    &mut stats,
                )?;
            }
            _ => {
                return Err(NetflowError::new(
                    version,
                    ErrorKind::UnsupportedVersion,
                    0,
                    "NetFlow version 5 or 9, or IPFIX (10)",
                ))
            }
        }
        Ok(stats)
    }

    /// Number of templates held (data and options).
    pub fn template_count(&self) -> usize {
        self.cache.template_count()
    }

    /// Number of exporters the decoder holds templates or buffered data sets for.
    pub fn exporter_count(&self) -> usize {
        self.cache.exporter_count()
    }

    /// Data sets buffered while waiting for their templates, and their size in bytes.
    pub fn pending(&self) -> (usize, usize) {
        self.cache.pending()
    }
}

impl fmt::Display for DecodeStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "v{}: {} flows ({} replayed), {} non-flow, {} options records, {} templates \
             (+{} withdrawn, {} dropped), {} sets waiting, {} sets dropped",
            self.version,
            self.flows,
            self.replayed_flows,
            self.non_flow_records,
            self.options_records,
            self.templates,
            self.templates_withdrawn,
            self.templates_dropped,
            self.waiting_for_template,
            self.dropped_sets
        )
    }
}

#[cfg(test)]
mod tests;
