//! IPFIX (RFC 7011): message headers, sets, template and options template sets.
//!
//! Message header: version(2)=10 length(2, whole message) export_time(4, s) sequence(4)
//! observation_domain(4). Set: id(2) length(2, including these 4 bytes); id 2 = templates
//! (template_id(2) field_count(2) {ie(2) length(2) [enterprise(4) when ie has bit 15]}...),
//! id 3 = options templates (template_id(2) field_count(2) scope_field_count(2) fields...),
//! id ≥ 256 = data. Field length 65535 = variable length.
//!
//! A buffer may hold several messages back to back (IPFIX over TCP or from a file; one corpus
//! capture does): each is read in turn. Sets must fill their message exactly. A template record
//! with field count 0 withdraws that template; template ID 2 (or 3) with count 0 withdraws all
//! data (or options) templates of the domain. Zero bytes at the end of a template set are
//! padding.

use super::fields::Ie;
use super::sets::{Def, SetSpan};
use super::templates::{Field, Template, MAX_TEMPLATE_FIELDS};
use super::{ErrorKind, Header, NetflowError};

const HEADER_LEN: usize = 16;

fn be16(b: &[u8], at: usize) -> u16 {
    b.get(at..at + 2)
        .map_or(0, |s| u16::from_be_bytes([s[0], s[1]]))
}

fn be32(b: &[u8], at: usize) -> u32 {
    b.get(at..at + 4)
        .map_or(0, |s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
}

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> NetflowError {
    NetflowError::new(10, kind, offset, expected)
}

// 000a 007c 5790ce7c 00000000 0000002a | 0002 006c 0100 000c ...
/// Reads the message headers and set boundaries of an IPFIX datagram into `spans`.
pub(crate) fn split(d: &[u8], spans: &mut Vec<SetSpan>) -> Result<(), NetflowError> {
    let mut off = 0;
    loop {
        let rest = d.get(off..).unwrap_or(&[]);
        if rest.len() < HEADER_LEN {
            return Err(err(
                ErrorKind::Truncated,
                d.len(),
                "a 16-byte IPFIX message header",
            ));
        }
        if be16(rest, 0) != 10 {
            return Err(err(
                ErrorKind::UnsupportedVersion,
                off,
                "another IPFIX message (version 10) after the first",
            ));
        }
        let len = usize::from(be16(rest, 2));
        if len < HEADER_LEN {
            return Err(err(
                ErrorKind::BadLength,
                off + 2,
                "a message length of at least 16",
            ));
        }
        if len > rest.len() {
            return Err(err(
                ErrorKind::Truncated,
                d.len(),
                "as many bytes as the message length says",
            ));
        }
        let header = Header {
            version: 10,
            domain: be32(rest, 12),
            export_ms: i64::from(be32(rest, 4)) * 1000,
            sys_uptime_ms: None,
        };
        let end = off + len;
        let mut pos = off + HEADER_LEN;
        while pos < end {
            if end - pos < 4 {
                return Err(err(
                    ErrorKind::BadLength,
                    pos,
                    "sets that fill the message exactly",
                ));
            }
            let (id, set_len) = (be16(d, pos), usize::from(be16(d, pos + 2)));
            if set_len == 0 {
                return Err(err(
                    ErrorKind::ZeroLength,
                    pos + 2,
                    "a set length of at least 4",
                ));
            }
            if set_len < 4 {
                return Err(err(
                    ErrorKind::BadLength,
                    pos + 2,
                    "a set length of at least 4 (its own header)",
                ));
            }
            if set_len > end - pos {
                return Err(err(
                    ErrorKind::BadLength,
                    pos + 2,
                    "a set length that ends within its message",
                ));
            }
            spans.push(SetSpan {
                id,
                at: pos + 4,
                len: set_len - 4,
                header,
            });
            pos += set_len;
        }
        off = end;
        if off == d.len() {
            return Ok(());
        }
    }
}

// 0100 000c | 0008 0004 000c 0004 ...                    template 256, 12 fields
// 0200 000b 0001 | 0090 0004 | 0129 0002 ...              options template 512, 1 scope field
// 8101 0008 0000 1eef                                     enterprise field: id 257 of PEN 7919
/// Reads a template set (id 2) or options template set (id 3).
pub(crate) fn parse_templates(
    s: &SetSpan,
    b: &[u8],
    defs: &mut Vec<Def>,
) -> Result<(), NetflowError> {
    let options = s.id == 3;
    let domain = s.header.domain;
    let mut pos = 0;
    while b.len() - pos >= 4 {
        let at = s.at + pos;
        let (id, count) = (be16(b, pos), usize::from(be16(b, pos + 2)));
        if count == 0 && id == s.id {
            defs.push(Def::WithdrawAll(domain, options));
            pos += 4;
            continue;
        }
        if id < 256 {
            if b.get(pos..).unwrap_or(&[]).iter().all(|&x| x == 0) {
                break;
            }
            return Err(err(
                ErrorKind::BadTemplate,
                at,
                "a template ID of 256 or more",
            ));
        }
        pos += 4;
        if count == 0 {
            defs.push(Def::Withdraw((domain, id)));
            continue;
        }
        // Scope fields are ordinary information elements in IPFIX: only their count is read.
        if options {
            if b.len() - pos < 2 || usize::from(be16(b, pos)) > count {
                return Err(err(
                    ErrorKind::BadTemplate,
                    at + 4,
                    "a scope field count within the field count",
                ));
            }
            pos += 2;
        }
        if count > MAX_TEMPLATE_FIELDS {
            return Err(err(
                ErrorKind::BadTemplate,
                at + 2,
                "at most 512 fields in a template",
            ));
        }
        let mut fields = Vec::with_capacity(count);
        for _ in 0..count {
            if b.len() - pos < 4 {
                return Err(err(
                    ErrorKind::BadTemplate,
                    s.at + pos,
                    "a field specifier within the set",
                ));
            }
            let (raw, len) = (be16(b, pos), be16(b, pos + 2));
            pos += 4;
            let enterprise = if raw & 0x8000 != 0 {
                if b.len() - pos < 4 {
                    return Err(err(
                        ErrorKind::BadTemplate,
                        s.at + pos,
                        "an enterprise number within the set",
                    ));
                }
                pos += 4;
                be32(b, pos - 4)
            } else {
                0
            };
            fields.push(Field {
                ie: Ie::of(enterprise, raw & 0x7fff, len),
                len,
            });
        }
        defs.push(Def::Define((domain, id), Template::new(fields, options)));
    }
    Ok(())
}
