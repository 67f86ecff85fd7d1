//! The pieces ASA messages are made of: endpoints (`outside:192.0.2.1/443`), protocol words,
//! TCP flag words, and the port names the ASA prints instead of numbers (`ssh`, `netbios-ns`).
//!
//! Every position here is an index into the message body; [`Body::err`] turns it into a byte
//! offset of the line.

use crate::event::{TcpFlags, Transport};
use crate::filterlog::parse_ip;
use crate::{ErrorKind, Format, ParseError};
use memchr::memchr;
use std::net::IpAddr;

/// How many words an interface name may span before its `:`. The ASA's own pseudo-interface
/// `NP Identity Ifc` has three; user-given names (`nameif`) have one.
const MAX_IFACE_WORDS: usize = 3;

/// A message body and where it starts in the line.
#[derive(Debug, Clone, Copy)]
pub(super) struct Body<'a> {
    /// The text after the message tag.
    pub(super) text: &'a str,
    /// Byte offset of `text` within the line.
    pub(super) base: usize,
}

impl<'a> Body<'a> {
    /// An error at index `at` of the body.
    pub(super) fn err(&self, kind: ErrorKind, at: usize, expected: &'static str) -> ParseError {
        ParseError::new(Format::Asa, kind, self.base + at, expected)
    }

    /// Index just past the first `needle` at or after `from`.
    pub(super) fn after(&self, from: usize, needle: &str) -> Option<usize> {
        self.find(from, needle).map(|i| i + needle.len())
    }

    /// Index of the first `needle` at or after `from`. Needles are short keywords and
    /// bodies a few hundred bytes: a `memchr` for one byte and a compare beats building a
    /// substring searcher per call. The byte is the needle's first that is not a space
    /// (`t` of `" to "`): spaces are everywhere, and each false hit costs a call.
    pub(super) fn find(&self, from: usize, needle: &str) -> Option<usize> {
        let hay = self.text.as_bytes().get(from..)?;
        let n = needle.as_bytes();
        let k = n.iter().position(|&c| c != b' ').unwrap_or(0);
        let anchor = *n.get(k)?;
        let mut at = k;
        while let Some(i) = memchr(anchor, hay.get(at..)?) {
            let start = at + i - k;
            if hay.get(start..start + n.len()) == Some(n) {
                return Some(from + start);
            }
            at += i + 1;
        }
        None
    }

    /// Like [`Body::after`], or a syntax error saying what was expected.
    pub(super) fn expect_after(
        &self,
        from: usize,
        needle: &str,
        expected: &'static str,
    ) -> Result<usize, ParseError> {
        self.after(from, needle)
            .ok_or_else(|| self.err(ErrorKind::Syntax, from, expected))
    }

    /// The word (up to a space) starting at the first non-space at or after `pos`, and the
    /// index where it starts. Empty at the end of the body.
    pub(super) fn word(&self, pos: usize) -> (&'a str, usize) {
        let b = self.text.as_bytes();
        let mut start = pos.min(b.len());
        while b.get(start) == Some(&b' ') {
            start += 1;
        }
        // Words are short: a plain loop beats a `memchr` call here.
        let mut end = start;
        while end < b.len() && b[end] != b' ' {
            end += 1;
        }
        (self.text.get(start..end).unwrap_or(""), start)
    }

    /// True when the word starting at the first non-space at or after `pos` is `w`.
    pub(super) fn word_is(&self, pos: usize, w: &str) -> bool {
        let b = self.text.as_bytes();
        let mut start = pos;
        while b.get(start) == Some(&b' ') {
            start += 1;
        }
        let end = start + w.len();
        b.get(start..end) == Some(w.as_bytes()) && matches!(b.get(end), None | Some(b' '))
    }

    /// The word that ends just before index `end` (spaces before `end` skipped).
    pub(super) fn word_before(&self, end: usize) -> &'a str {
        let head = self.text.get(..end.min(self.text.len())).unwrap_or("");
        let head = head.trim_end_matches(' ');
        let start = head.rfind(' ').map_or(0, |i| i + 1);
        &head[start..]
    }
}

/// One side of a connection or packet as the ASA prints it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(super) struct Endpoint<'a> {
    /// The interface name (`outside`, `NP Identity Ifc`).
    pub(super) iface: Option<&'a str>,
    /// `None` when the ASA printed a configured object name instead of an address.
    pub(super) ip: Option<IpAddr>,
    /// The port; `None` when absent or a service name this table does not know.
    pub(super) port: Option<u16>,
    /// A user name in parentheses after the address (`(LOCAL\alice)`).
    pub(super) user: Option<&'a str>,
}

/// True for an ASA object name (`OCSP_Server`, `x.y.z.a`): at least one letter, otherwise
/// letters, digits, `.`, `-`, `_`. A token without letters that is not an address
/// (`192.168.20`, `***`) is a malformed address, not a name.
fn is_object_name(s: &str) -> bool {
    s.bytes().any(|c| c.is_ascii_alphabetic())
        && s.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'.' | b'-' | b'_'))
}

// 192.0.2.1   →   Some(192.0.2.1)
// OCSP_Server →   None (an object name)
// ***         →   BadAddress
/// An address field: an IP address, or an object name (no address), or an error.
pub(super) fn parse_addr(b: &Body, s: &str, at: usize) -> Result<Option<IpAddr>, ParseError> {
    if let Some(ip) = parse_ip(s) {
        return Ok(Some(ip));
    }
    if is_object_name(s) {
        return Ok(None);
    }
    Err(b.err(ErrorKind::BadAddress, at, "an IP address or an object name"))
}

// 443 → Some(443); ssh → Some(22); tcp_flags → None; 70000 → BadNumber
/// A port field: a number, or a service name the ASA prints for well-known ports.
pub(super) fn parse_port(b: &Body, s: &str, at: usize) -> Result<Option<u16>, ParseError> {
    if s.bytes().next().is_some_and(|c| c.is_ascii_digit()) {
        let bad = || b.err(ErrorKind::BadNumber, at, "a port number 0..65535");
        let mut v: u32 = 0;
        for c in s.bytes() {
            if !c.is_ascii_digit() || v > 6553 {
                return Err(bad());
            }
            v = v * 10 + u32::from(c - b'0');
        }
        return u16::try_from(v).map(Some).map_err(|_| bad());
    }
    if s.is_empty() {
        return Err(b.err(ErrorKind::BadNumber, at, "a port number or service name"));
    }
    Ok(service_port(s))
}

/// True when `s` could be the first group of an IPv6 address (at most four hex digits).
fn is_ipv6_start(s: &str) -> bool {
    s.len() <= 4 && s.bytes().all(|c| c.is_ascii_hexdigit())
}

// outside:192.0.2.1/443            →   (outside, 192.0.2.1, 443)
// outside:10.1.1.2/80(LOCAL\bob)   →   (outside, 10.1.1.2, 80, LOCAL\bob)
// 192.0.2.1                        →   (-, 192.0.2.1, -)
// (0.0.0.0)                        →   (-, 0.0.0.0, -)
// outside:2001:db8::1/443          →   (outside, 2001:db8::1, 443)
/// Parses one endpoint token (no spaces) starting at body index `at`; `iface` is an interface
/// already read from words before it.
fn parse_endpoint_token<'a>(
    b: &Body<'a>,
    token: &'a str,
    at: usize,
    iface: Option<&'a str>,
) -> Result<Endpoint<'a>, ParseError> {
    // One pass over a short token with byte loops: this runs twice per line.
    let tb = token.as_bytes();
    let mut end = tb.len();
    while end > 0 && matches!(tb[end - 1], b',' | b';' | b':') {
        end -= 1; // what follows an endpoint in a sentence
    }
    if end > 0 && tb[end - 1] == b'.' {
        end -= 1;
    }
    let mut start = 0;
    let mut user = None;
    if end >= 2 && tb[end - 1] == b')' {
        if tb[0] == b'(' {
            (start, end) = (1, end - 1);
        } else if let Some(open) = tb[..end].iter().position(|&c| c == b'(') {
            user = token.get(open + 1..end - 1).filter(|u| !u.is_empty());
            end = open;
        }
    }
    let t = &tb[start..end];
    let slash = t.iter().rposition(|&c| c == b'/');
    let addr_end = slash.unwrap_or(t.len());
    let colon = t[..addr_end].iter().position(|&c| c == b':');
    let text = |from: usize, to: usize| token.get(start + from..start + to).unwrap_or("");
    let (iface, addr_from) = match (iface, colon) {
        (Some(i), _) => (Some(i), 0),
        (None, Some(c)) => {
            let head = text(0, c);
            // `iface:addr`, unless the colon belongs to an IPv6 address.
            if is_ipv6_start(head) && parse_ip(text(0, addr_end)).is_some() {
                (None, 0)
            } else {
                (Some(head).filter(|h| !h.is_empty()), c + 1)
            }
        }
        (None, None) => (None, 0),
    };
    let addr = text(addr_from, addr_end);
    let addr_at = at + start + addr_from;
    let ip = parse_addr(b, addr, addr_at)?;
    let port = match slash {
        Some(sl) => parse_port(b, text(sl + 1, t.len()), at + start + sl + 1)?,
        None => None,
    };
    Ok(Endpoint {
        iface,
        ip,
        port,
        user,
    })
}

// from outside:192.0.2.1/443 to ...          (at = index of `outside`)
// to NP Identity Ifc: 10.0.0.2/22 (10.0.0.2/22)
// src outside: 204.16.208.49/58940 dst ...
/// Parses the endpoint that starts at body index `pos` (spaces skipped). Returns it and the
/// index just past it.
pub(super) fn endpoint_at<'a>(
    b: &Body<'a>,
    pos: usize,
) -> Result<(Endpoint<'a>, usize), ParseError> {
    match quick_endpoint(b, pos) {
        Some(quick) => Ok(quick),
        None => endpoint_general(b, pos),
    }
}

/// [`endpoint_at`] for every shape: interfaces of several words, `iface: addr`, object
/// names, IPv6, users in parentheses, service names, trailing punctuation.
fn endpoint_general<'a>(b: &Body<'a>, pos: usize) -> Result<(Endpoint<'a>, usize), ParseError> {
    let (first, start) = b.word(pos);
    if first.is_empty() {
        return Err(b.err(ErrorKind::Syntax, start, "an address"));
    }
    // `iface: addr` with a space, or an interface name of several words (`NP Identity Ifc`)
    // followed by `:` and the address, with or without a space.
    let mut scan = start;
    for _ in 0..MAX_IFACE_WORDS {
        let (w, ws) = b.word(scan);
        let Some(colon) = w.find(':') else {
            if w.is_empty() || w.contains(['/', '(']) || w.starts_with(|c: char| c.is_ascii_digit())
            {
                break;
            }
            scan = ws + w.len();
            continue;
        };
        let (stem, after) = (&w[..colon], &w[colon + 1..]);
        let is_iface = (ws != start || after.is_empty())
            && !stem.is_empty()
            && !stem.contains(['/', '('])
            && parse_ip(stem).is_none();
        if !is_iface {
            break;
        }
        let iface = &b.text[start..ws + colon];
        let (token, at) = if after.is_empty() {
            b.word(ws + w.len())
        } else {
            (after, ws + colon + 1)
        };
        if token.is_empty() {
            return Err(b.err(ErrorKind::Syntax, at, "an address after the interface"));
        }
        let ep = parse_endpoint_token(b, token, at, Some(iface))?;
        return Ok((ep, at + token.len()));
    }
    let ep = parse_endpoint_token(b, first, start, None)?;
    Ok((ep, start + first.len()))
}

// outside:192.0.2.1/443 (192.0.2.1/443)   →   (outside, 192.0.2.1, 443), index of the space
/// The common endpoint, `[iface:]a.b.c.d[/port]` up to a space or the end of the body, in one
/// pass over its bytes (two of them per line make this the parser's hottest path). `None` for
/// every other shape: the general path reads those, and gives this shape the same result.
fn quick_endpoint<'a>(b: &Body<'a>, pos: usize) -> Option<(Endpoint<'a>, usize)> {
    let t = b.text.as_bytes();
    let mut i = pos;
    while t.get(i) == Some(&b' ') {
        i += 1;
    }
    let mut iface = None;
    if !t.get(i)?.is_ascii_digit() {
        let len = t[i..]
            .iter()
            .position(|&c| matches!(c, b':' | b' ' | b'/' | b'(' | b')'))?;
        if len == 0 || t[i + len] != b':' {
            return None;
        }
        iface = b.text.get(i..i + len);
        i += len + 1;
    }
    let (ip, n) = crate::scan::ipv4_prefix(&t[i..])?;
    i += n;
    let mut port = None;
    if t.get(i) == Some(&b'/') {
        let (p, n) = crate::scan::port_prefix(&t[i + 1..])?;
        port = Some(p);
        i += 1 + n;
    }
    if !matches!(t.get(i), None | Some(b' ')) {
        return None;
    }
    let ep = Endpoint {
        iface,
        ip: Some(IpAddr::V4(ip)),
        port,
        user: None,
    };
    Some((ep, i))
}

/// The endpoint after the first `keyword` at or after `from` (`"from "`, `" to "`).
pub(super) fn endpoint_after<'a>(
    b: &Body<'a>,
    from: usize,
    keyword: &str,
    expected: &'static str,
) -> Result<(Endpoint<'a>, usize), ParseError> {
    let at = b.expect_after(from, keyword, expected)?;
    endpoint_at(b, at)
}

/// A protocol as ASA messages name it (`TCP`, `udp`, `icmp`, `gre`, `47`); `None` for `IP`,
/// the template word `protocol`, and names not in the table. Names are matched in one pass
/// over a lower-cased copy: this runs for several words of most lines.
pub(super) fn transport_word(w: &str) -> Option<Transport> {
    let b = w.as_bytes();
    let mut lower = [0u8; 9]; // `ipv6-icmp`, the longest name
    if !b.first()?.is_ascii_alphabetic() {
        return Transport::from_name(w); // a protocol number
    }
    let lower = lower.get_mut(..b.len())?;
    for (l, c) in lower.iter_mut().zip(b) {
        *l = c.to_ascii_lowercase();
    }
    let number = match &*lower {
        b"tcp" => return Some(Transport::Tcp),
        b"udp" => return Some(Transport::Udp),
        b"icmp" => return Some(Transport::Icmp),
        b"icmpv6" | b"ipv6-icmp" => return Some(Transport::Icmpv6),
        b"icmp6" => 58,
        b"igmp" => 2,
        b"ipinip" => 4,
        b"gre" => 47,
        b"esp" => 50,
        b"ah" => 51,
        b"eigrp" => 88,
        b"ospf" => 89,
        b"pim" => 103,
        b"sctp" => 132,
        _ => return None,
    };
    Some(Transport::from_number(number))
}

// flags SYN ACK  on interface outside   →   SYN|ACK (words from `pos` up to `on`)
/// TCP flag words from `pos` up to the word `on` (or a word ending in `,`); `None` when no
/// word names a flag (`INVALID`, the template word `tcp_flags`).
pub(super) fn flag_words(b: &Body, pos: usize) -> Option<TcpFlags> {
    let mut bits = 0u8;
    let mut seen = false;
    let mut at = pos;
    for _ in 0..8 {
        let (w, ws) = b.word(at);
        if w.is_empty() || w == "on" {
            break;
        }
        let name = w.trim_end_matches(',');
        if let Some(bit) = TcpFlags::bit_for_name(name) {
            bits |= bit;
            seen = true;
        }
        at = ws + w.len();
        if name.len() != w.len() {
            break;
        }
    }
    seen.then_some(TcpFlags(bits))
}

/// Well-known ports by the names the ASA prints in place of numbers (its "TCP and UDP ports"
/// literal table; `kerberos` 750, `radius` 1645, `sqlnet` 1521 are the ASA's own values).
const SERVICES: &[(&str, u16)] = &[
    ("aol", 5190),
    ("bgp", 179),
    ("biff", 512),
    ("bootpc", 68),
    ("bootps", 67),
    ("chargen", 19),
    ("cifs", 3020),
    ("citrix-ica", 1494),
    ("cmd", 514),
    ("ctiqbe", 2748),
    ("daytime", 13),
    ("discard", 9),
    ("dnsix", 195),
    ("domain", 53),
    ("echo", 7),
    ("exec", 512),
    ("finger", 79),
    ("ftp", 21),
    ("ftp-data", 20),
    ("gopher", 70),
    ("h323", 1720),
    ("hostname", 101),
    ("http", 80),
    ("https", 443),
    ("ident", 113),
    ("imap4", 143),
    ("irc", 194),
    ("isakmp", 500),
    ("kerberos", 750),
    ("klogin", 543),
    ("kshell", 544),
    ("ldap", 389),
    ("ldaps", 636),
    ("login", 513),
    ("lotusnotes", 1352),
    ("lpd", 515),
    ("mobile-ip", 434),
    ("nameserver", 42),
    ("netbios-dgm", 138),
    ("netbios-ns", 137),
    ("netbios-ssn", 139),
    ("nfs", 2049),
    ("nntp", 119),
    ("ntp", 123),
    ("pcanywhere-data", 5631),
    ("pcanywhere-status", 5632),
    ("pim-auto-rp", 496),
    ("pop2", 109),
    ("pop3", 110),
    ("pptp", 1723),
    ("radius", 1645),
    ("radius-acct", 1646),
    ("rip", 520),
    ("rsh", 514),
    ("rtsp", 554),
    ("secureid-udp", 5510),
    ("sip", 5060),
    ("smtp", 25),
    ("snmp", 161),
    ("snmptrap", 162),
    ("sqlnet", 1521),
    ("ssh", 22),
    ("sunrpc", 111),
    ("syslog", 514),
    ("tacacs", 49),
    ("talk", 517),
    ("telnet", 23),
    ("tftp", 69),
    ("time", 37),
    ("uucp", 540),
    ("vxlan", 4789),
    ("who", 513),
    ("whois", 43),
    ("www", 80),
    ("xdmcp", 177),
];

/// The port of a service name the ASA prints (`ssh` → 22), any case.
pub(super) fn service_port(name: &str) -> Option<u16> {
    SERVICES
        .iter()
        .find(|(n, _)| n.eq_ignore_ascii_case(name))
        .map(|(_, p)| *p)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(text: &str) -> Body<'_> {
        Body { text, base: 100 }
    }

    type Want<'a> = (
        Option<&'a str>,
        Option<&'a str>,
        Option<u16>,
        Option<&'a str>,
        &'a str,
    );

    #[test]
    fn endpoints() {
        let cases: &[(&str, Want)] = &[
            (
                "outside:192.0.2.1/443 x",
                (Some("outside"), Some("192.0.2.1"), Some(443), None, " x"),
            ),
            (
                "192.0.2.1/53",
                (None, Some("192.0.2.1"), Some(53), None, ""),
            ),
            ("192.0.2.1 on", (None, Some("192.0.2.1"), None, None, " on")),
            ("(0.0.0.0) to", (None, Some("0.0.0.0"), None, None, " to")),
            (
                "dmz:OCSP_Server/5678 (",
                (Some("dmz"), None, Some(5678), None, " ("),
            ),
            (
                "outside:192.168.2.14/ssh",
                (Some("outside"), Some("192.168.2.14"), Some(22), None, ""),
            ),
            (
                "inside:192.168.1.255/netbios-ns",
                (Some("inside"), Some("192.168.1.255"), Some(137), None, ""),
            ),
            (
                "outside:10.1.1.2/80(LOCAL\\bob) dst",
                (
                    Some("outside"),
                    Some("10.1.1.2"),
                    Some(80),
                    Some("LOCAL\\bob"),
                    " dst",
                ),
            ),
            (
                "NP Identity Ifc: 10.0.0.2/22 (10.0.0.2/22)",
                (
                    Some("NP Identity Ifc"),
                    Some("10.0.0.2"),
                    Some(22),
                    None,
                    " (10.0.0.2/22)",
                ),
            ),
            (
                "NP Identity Ifc:10.0.0.2/22 to",
                (
                    Some("NP Identity Ifc"),
                    Some("10.0.0.2"),
                    Some(22),
                    None,
                    " to",
                ),
            ),
            (
                "172.16.1.10: no matching",
                (None, Some("172.16.1.10"), None, None, " no matching"),
            ),
            (
                "outside: 204.16.208.49/58940 dst",
                (
                    Some("outside"),
                    Some("204.16.208.49"),
                    Some(58940),
                    None,
                    " dst",
                ),
            ),
            (
                "outside:2001:db8::1/443",
                (Some("outside"), Some("2001:db8::1"), Some(443), None, ""),
            ),
            (
                "2001:db8::1/443",
                (None, Some("2001:db8::1"), Some(443), None, ""),
            ),
            (
                "DMZ-SSLVPN:143.35.126.146/53; label",
                (
                    Some("DMZ-SSLVPN"),
                    Some("143.35.126.146"),
                    Some(53),
                    None,
                    " label",
                ),
            ),
            ("interfacename.", (None, None, None, None, "")),
            (
                "outside:192.168.2.14/tcp_flags",
                (Some("outside"), Some("192.168.2.14"), None, None, ""),
            ),
        ];
        for (text, want) in cases {
            let b = body(text);
            let (ep, end) = endpoint_at(&b, 0).unwrap_or_else(|e| panic!("{text}: {e}"));
            let ip = ep.ip.map(|i| i.to_string());
            let got = (ep.iface, ip.as_deref(), ep.port, ep.user, &text[end..]);
            assert_eq!(&got, want, "{text}");
        }
    }

    #[test]
    fn find_keywords() {
        let b = body("to x into to  to y");
        assert_eq!(b.find(0, " to "), Some(9));
        assert_eq!(b.find(10, " to "), Some(13));
        assert_eq!(b.find(14, " to "), None);
        assert_eq!(b.find(0, "to"), Some(0));
        assert_eq!(b.find(0, "  "), Some(12));
        assert_eq!(b.find(0, ""), None);
        assert_eq!(b.find(99, "to"), None);
        assert_eq!(b.after(0, "into "), Some(10));
    }

    #[test]
    fn quick_endpoint_agrees_with_the_general_path() {
        let cases = [
            "outside:192.0.2.1/443 (192.0.2.1/443) to",
            "192.0.2.1/53",
            "  10.0.0.1 on",
            "dmz:10.1.2.30/63016 dst",
            "abcd:10.1.2.30/1",
            "1inside:10.1.2.30/1",
            "outside:1.2.3.4/070000",
            "outside:1.2.3.4/65535",
            "outside:1.2.3.4/65536",
            "outside:1.2.3.4/00080 x",
            "outside:01.2.3.4/80",
            "outside:1.2.3.256/80",
            "outside:1.2.3.4/80,",
            "outside:1.2.3.4:80",
            "1.2.3.4:80",
            "outside:1.2.3.4/",
            "in/side:1.2.3.4/80",
            "outside:1.2.3.4/80(bob)",
            "outside:1.2.3.45x",
            ":1.2.3.4/80",
        ];
        for text in cases {
            let b = body(text);
            let general = endpoint_general(&b, 0);
            if let Some(quick) = quick_endpoint(&b, 0) {
                assert_eq!(Ok(quick), general, "{text}");
            }
        }
        // The common shapes do take the quick path.
        assert!(quick_endpoint(&body("outside:192.0.2.1/443 (x"), 0).is_some());
        assert!(quick_endpoint(&body("192.0.2.1"), 0).is_some());
    }

    #[test]
    fn endpoint_errors() {
        let cases: &[(&str, ErrorKind, usize)] = &[
            ("***/54481 to", ErrorKind::BadAddress, 100),
            ("192.168.20/65 on", ErrorKind::BadAddress, 100),
            ("outside:1.2.3.4/70000", ErrorKind::BadNumber, 116),
            ("outside:1.2.3.4/", ErrorKind::BadNumber, 116),
            ("", ErrorKind::Syntax, 100),
            ("outside: ", ErrorKind::Syntax, 109),
        ];
        for (text, kind, offset) in cases {
            let e = endpoint_at(&body(text), 0).unwrap_err();
            assert_eq!((e.kind, e.offset), (*kind, *offset), "{text}: {e}");
        }
    }

    #[test]
    fn flags_transports_services() {
        let b = body("flags SYN ACK  on interface outside");
        assert_eq!(
            flag_words(&b, 5),
            Some(TcpFlags(TcpFlags::SYN | TcpFlags::ACK))
        );
        let b = body("flags tcp_flags on interface x");
        assert_eq!(flag_words(&b, 5), None);
        let b = body("flags: INVALID, on interface outside");
        assert_eq!(flag_words(&b, 6), None);
        assert_eq!(transport_word("TCP"), Some(Transport::Tcp));
        assert_eq!(transport_word("gre"), Some(Transport::Other(47)));
        assert_eq!(transport_word("4"), Some(Transport::Other(4)));
        assert_eq!(transport_word("IP"), None);
        assert_eq!(transport_word("ICMP6"), Some(Transport::Icmpv6));
        assert_eq!(transport_word("IPv6-ICMP"), Some(Transport::Icmpv6));
        assert_eq!(transport_word("Udp"), Some(Transport::Udp));
        assert_eq!(transport_word("connection"), None);
        assert_eq!(transport_word(""), None);
        assert_eq!(transport_word("300"), None);
        assert_eq!(service_port("SSH"), Some(22));
        assert_eq!(service_port("bootps"), Some(67));
        assert_eq!(service_port("nope"), None);
        let b = body("Deny inbound protocol 47 src");
        assert_eq!(b.word_before(24), "47");
        assert_eq!(b.word(4), ("inbound", 5));
    }
}
