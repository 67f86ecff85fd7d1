//! Byte scanners for the hot paths of the line parsers: a dotted-quad address and a decimal
//! number read in place, each returning where it stopped, so a field is parsed without first
//! finding its end. Each accepts exactly what the general parsers accept for that shape; a
//! caller falls back to them for anything else.

use std::net::Ipv4Addr;

/// The ASCII digit at `b[i]` as a number.
fn digit(b: &[u8], i: usize) -> Option<u8> {
    match b.get(i) {
        Some(c @ b'0'..=b'9') => Some(c - b'0'),
        _ => None,
    }
}

// 192.0.2.1/443   →   (192.0.2.1, 9)
/// The dotted-quad IPv4 address at the start of `b` and its length: four octets of one to
/// three digits, each 0..=255 and without a leading zero (what `str::parse` accepts). The
/// caller checks that the byte after it ends the field (a digit there means it was not one).
pub(crate) fn ipv4_prefix(b: &[u8]) -> Option<(Ipv4Addr, usize)> {
    let mut octets = [0u8; 4];
    let mut i = 0;
    for (n, octet) in octets.iter_mut().enumerate() {
        if n > 0 {
            if b.get(i) != Some(&b'.') {
                return None;
            }
            i += 1;
        }
        let first = digit(b, i)?;
        let mut v = u32::from(first);
        i += 1;
        // After a leading `0` the octet ends: `01` is not an octet, and the caller sees the
        // digit where a `.` or the field's end should be.
        if first != 0 {
            for _ in 0..2 {
                let Some(d) = digit(b, i) else { break };
                v = v * 10 + u32::from(d);
                i += 1;
            }
        }
        *octet = u8::try_from(v).ok()?;
    }
    Some((Ipv4Addr::from(octets), i))
}

// 443 (   →   (443, 3)
/// The decimal port (one to five digits, at most 65535) at the start of `b` and its length.
/// Leading zeros are allowed, as `str::parse` allows them. The caller checks the byte after.
pub(crate) fn port_prefix(b: &[u8]) -> Option<(u16, usize)> {
    let mut v = u32::from(digit(b, 0)?);
    let mut i = 1;
    while let Some(d) = digit(b, i) {
        if i == 5 {
            return None;
        }
        v = v * 10 + u32::from(d);
        i += 1;
    }
    Some((u16::try_from(v).ok()?, i))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ipv4_prefix_agrees_with_str_parse() {
        let cases = [
            "0.0.0.0",
            "192.0.2.1",
            "255.255.255.255",
            "256.1.1.1",
            "01.2.3.4",
            "1.2.3.04",
            "1.2.3",
            "1..2.3",
            "1.2.3.4.",
            "10.0.0.100",
            "1000.1.1.1",
            "",
            "a.b.c.d",
        ];
        for s in cases {
            let ours = ipv4_prefix(s.as_bytes()).and_then(|(ip, n)| (n == s.len()).then_some(ip));
            assert_eq!(ours, s.parse().ok(), "{s}");
        }
        assert_eq!(
            ipv4_prefix(b"192.0.2.1/443"),
            Some((Ipv4Addr::new(192, 0, 2, 1), 9))
        );
        // A fifth digit group or a longer octet stops the prefix where the caller sees it.
        assert_eq!(
            ipv4_prefix(b"1.2.3.1234"),
            Some((Ipv4Addr::new(1, 2, 3, 123), 9))
        );
    }

    #[test]
    fn port_prefix_agrees_with_str_parse() {
        for s in ["0", "21", "65535", "65536", "00080", "123456", "", "x"] {
            let ours = port_prefix(s.as_bytes()).and_then(|(p, n)| (n == s.len()).then_some(p));
            assert_eq!(ours, s.parse::<u16>().ok().filter(|_| s.len() <= 5), "{s}");
        }
        assert_eq!(port_prefix(b"443 to"), Some((443, 3)));
    }
}
