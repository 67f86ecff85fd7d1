//! Flow files for replay: packet captures (pcap, pcapng) of NetFlow/IPFIX exports, and raw
//! datagram files (one datagram per file, as exporters' test fixtures ship them).
//!
//! All flow files of a replay go through one decoder, in the order given, so a template
//! file named before its data files teaches the decoder their layout, as on the wire.

use super::source::{SourceError, SourceSpec, SourceStats};
use crate::record::{RawLine, Record};
use chrono::{DateTime, Utc};
use crossbeam_channel::Sender;
use portcullis_parsers::netflow::pcap::udp_packets;
use portcullis_parsers::netflow::{Decoder, DecoderLimits};
use std::net::{IpAddr, Ipv4Addr};

/// True when a file's first bytes are a pcap/pcapng capture or a NetFlow v5/v9/IPFIX header:
/// no text log starts with a NUL byte or these magic numbers.
pub fn looks_like_flows(head: &[u8]) -> bool {
    const MAGICS: [[u8; 4]; 5] = [
        [0xd4, 0xc3, 0xb2, 0xa1],
        [0xa1, 0xb2, 0xc3, 0xd4],
        [0x4d, 0x3c, 0xb2, 0xa1],
        [0xa1, 0xb2, 0x3c, 0x4d],
        [0x0a, 0x0d, 0x0d, 0x0a],
    ];
    if head.len() >= 4 && MAGICS.iter().any(|m| head[..4] == m[..]) {
        return true;
    }
    matches!(head, [0, 5 | 9 | 10, ..])
}

/// Reads flow files in order through one decoder, sending their flows as records. Each
/// flow's raw text (its evidence) is its event as JSON.
pub fn read_flow_files(
    specs: &[(u32, SourceSpec)],
    tx: &Sender<Vec<Record>>,
) -> Result<Vec<SourceStats>, SourceError> {
    let mut decoder = Decoder::new(DecoderLimits::default());
    let mut all = Vec::new();
    for (index, spec) in specs {
        let bytes = std::fs::read(&spec.path).map_err(|err| SourceError::Io {
            path: spec.path.display().to_string(),
            err,
        })?;
        let received: DateTime<Utc> = std::fs::metadata(&spec.path)
            .and_then(|m| m.modified())
            .map(Into::into)
            .unwrap_or_else(|_| Utc::now());
        let mut stats = SourceStats::default();
        let mut records = Vec::new();
        let mut decode = |exporter: IpAddr,
                          datagram: &[u8],
                          at: DateTime<Utc>,
                          offset: u64,
                          stats: &mut SourceStats| {
            stats.lines += 1;
            let mut events = Vec::new();
            match decoder.decode(exporter, datagram, at, &mut events) {
                Ok(d) if events.is_empty() && d.flows == 0 => stats.skipped += 1,
                Ok(_) => {}
                Err(e) => stats.reject(offset, e),
            }
            for mut e in events {
                stats.events += 1;
                e.origin.source = *index;
                e.origin.offset = offset;
                let text = serde_json::to_string(&e).unwrap_or_default();
                records.push(Record {
                    event: e,
                    raw: RawLine::from_text(&text),
                });
            }
        };
        match udp_packets(&bytes) {
            Ok(packets) => {
                for p in packets {
                    decode(p.src, p.payload, p.timestamp, p.offset as u64, &mut stats);
                }
            }
            Err(_) => {
                let exporter = spec.host.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                decode(exporter, &bytes, received, 0, &mut stats);
            }
        }
        records.sort_by_key(|r| r.event.timestamp);
        if !records.is_empty() && tx.send(records).is_err() {
            break;
        }
        all.push(stats);
    }
    Ok(all)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recognises_captures_and_datagrams_but_not_text() {
        assert!(looks_like_flows(&[0xd4, 0xc3, 0xb2, 0xa1, 2, 0]));
        assert!(looks_like_flows(&[0x0a, 0x0d, 0x0d, 0x0a]));
        assert!(looks_like_flows(&[0, 9, 0, 3]));
        assert!(looks_like_flows(&[0, 10, 0, 200]));
        assert!(!looks_like_flows(
            b"Mon Mar  2 08:00:00 2026 [pid 1] CONNECT"
        ));
        assert!(!looks_like_flows(&[0, 7]));
        assert!(!looks_like_flows(b""));
    }
}
