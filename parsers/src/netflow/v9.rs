//! NetFlow v9 (RFC 3954): the 20-byte header, the flowsets, and template / options template
//! flowsets.
//!
//! Header: version(2)=9 count(2) sysUptime(4, ms) unix_secs(4) sequence(4) source_id(4).
//! FlowSet: id(2) length(2, including these 4 bytes), then: id 0 = templates
//! (template_id(2) field_count(2) {type(2) length(2)}...), id 1 = options templates
//! (template_id(2) scope_length(2) option_length(2) {type(2) length(2)}...), id ≥ 256 = data.
//!
//! Checks: a flowset of length 0 ends the walk only when everything after it is zero (Palo
//! Alto pads datagrams with zeros); otherwise it, a length under 4 or one past the end is an
//! error. The header's count is the number of records (template, options and data); each
//! flowset holds at least one, so a datagram with more flowsets than `count` contradicts its
//! header and is rejected. Field length 65535 is read as variable length, as in IPFIX (H3C
//! sends it in v9). Options scope fields (System, Interface, ...) have their own type numbers
//! and are skipped.

use super::fields::Ie;
use super::sets::{Def, SetSpan};
use super::templates::{Field, Template, MAX_TEMPLATE_FIELDS};
use super::{ErrorKind, Header, NetflowError};

const HEADER_LEN: usize = 20;

fn be16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_be_bytes([s[0], s[1]]))
}

fn be32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> NetflowError {
    NetflowError::new(9, kind, offset, expected)
}

fn all_zero(b: &[u8]) -> bool {
    b.iter().all(|&x| x == 0)
}

// 0009 0001 00552cb0 5a5dc99c 000012a1 00040000 | 0000 004c 010a 0011 ...
/// Reads the header and the flowset boundaries of a v9 datagram into `spans`.
pub(crate) fn split(d: &[u8], spans: &mut Vec<SetSpan>) -> Result<Header, NetflowError> {
    if d.len() < HEADER_LEN {
        return Err(err(
            ErrorKind::Truncated,
            d.len(),
            "a 20-byte NetFlow v9 header",
        ));
    }
    let count = usize::from(be16(d, 2));
    let header = Header {
        version: 9,
        domain: be32(d, 16),
        export_ms: i64::from(be32(d, 8)) * 1000,
        sys_uptime_ms: Some(be32(d, 4)),
    };
    let mut off = HEADER_LEN;
    let mut sets = 0usize;
    while d.len() - off >= 4 {
        let (id, len) = (be16(d, off), usize::from(be16(d, off + 2)));
        if len == 0 {
            if all_zero(d.get(off..).unwrap_or(&[])) {
                break;
            }
            return Err(err(
                ErrorKind::ZeroLength,
                off + 2,
                "a flowset length of at least 4",
            ));
        }
        if len < 4 {
            return Err(err(
                ErrorKind::BadLength,
                off + 2,
                "a flowset length of at least 4 (its own header)",
            ));
        }
        if len > d.len() - off {
            return Err(err(
                ErrorKind::BadLength,
                off + 2,
                "a flowset length that ends within the datagram",
            ));
        }
        sets += 1;
        if sets > count {
            return Err(err(
                ErrorKind::BadCount,
                off,
                "no more flowsets than the header's record count",
            ));
        }
        spans.push(SetSpan {
            id,
            at: off + 4,
            len: len - 4,
            header,
        });
        off += len;
    }
    Ok(header)
}

// 0100 0015 | 0008 0004 000c 0004 000a 0002 ...      template 256 with 21 fields
// 0100 0004 0008 | 0001 0000 | 0023 0001 0022 0004   options template 256: scope, 2 options
/// Reads a template flowset (id 0) or options template flowset (id 1).
pub(crate) fn parse_templates(
    s: &SetSpan,
    b: &[u8],
    defs: &mut Vec<Def>,
) -> Result<(), NetflowError> {
    let options = s.id == 1;
    let head = if options { 6 } else { 4 };
    let mut pos = 0;
    while b.len() - pos >= head {
        let at = s.at + pos;
        let id = be16(b, pos);
        if id < 256 {
            if all_zero(b.get(pos..).unwrap_or(&[])) {
                break;
            }
            return Err(err(
                ErrorKind::BadTemplate,
                at,
                "a template ID of 256 or more",
            ));
        }
        let (scope_n, total_n) = if options {
            let (scope, opts) = (usize::from(be16(b, pos + 2)), usize::from(be16(b, pos + 4)));
            if scope % 4 != 0 || opts % 4 != 0 {
                return Err(err(
                    ErrorKind::BadTemplate,
                    at + 2,
                    "scope and option lengths that are multiples of 4",
                ));
            }
            (scope / 4, (scope + opts) / 4)
        } else {
            (0, usize::from(be16(b, pos + 2)))
        };
        pos += head;
        if total_n > MAX_TEMPLATE_FIELDS {
            return Err(err(
                ErrorKind::BadTemplate,
                at + 2,
                "at most 512 fields in a template",
            ));
        }
        let specs = b.get(pos..pos + total_n * 4).ok_or_else(|| {
            err(
                ErrorKind::BadTemplate,
                at + 2,
                "a field count whose field specifiers fit in the flowset",
            )
        })?;
        pos += total_n * 4;
        if total_n == 0 {
            continue; // an empty template defines nothing
        }
        let fields = specs
            .chunks_exact(4)
            .enumerate()
            .map(|(i, f)| {
                let (ty, len) = (be16(f, 0), be16(f, 2));
                let ie = if i < scope_n {
                    Ie::Skip
                } else {
                    Ie::of(0, ty, len)
                };
                Field { ie, len }
            })
            .collect();
        defs.push(Def::Define(
            (s.header.domain, id),
            Template::new(fields, options),
        ));
    }
    Ok(())
}
