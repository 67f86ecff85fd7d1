//! What comes before an ASA message's text: an optional `<PRI>`, the timestamp the ASA or a
//! relay wrote (`Apr 15 2013 09:36:50`, `Sep  7 06:25:17`, `2021-04-01T10:06:26Z`, sometimes
//! with a zone name: `09:34:34 EDT:`), an optional host name (`INT-FW01 :`, `<IP>:`), an
//! optional program tag (`CiscoASA[999]:`) and the message tag `%ASA-<sev>-<id>:` (also
//! `%PIX-`, `%FTD-`, `%FWSM-`, `%%ASA-`, `%ASA-session-5-106100`, and without the final `:`).

use super::fields::Body;
use crate::syslog::{parse_syslog_header, MAX_PRIORITY};
use crate::time::{parse_iso_datetime, parse_month, Stamp};
use crate::{ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, TimeZone, Utc};

/// Words between the timestamp and the message tag: a host, a program tag, a lone `:`.
const MAX_HEADER_WORDS: usize = 3;

const EXPECTED_STAMP: &str =
    "a timestamp like `Apr 15 2013 09:36:50` before the message tag (a line without one has no event time)";

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(Format::Asa, kind, offset, expected)
}

/// The parsed header of one ASA line.
#[derive(Debug, Clone, Copy)]
pub(super) struct Header<'a> {
    /// When the line says it happened, in UTC.
    pub(super) timestamp: DateTime<Utc>,
    /// The host field (the firewall's name or address), when present.
    pub(super) host: Option<&'a str>,
    /// The message tag.
    pub(super) tag: Tag,
    /// The message text after the tag.
    pub(super) body: Body<'a>,
}

/// A message tag: `%ASA-6-302013:` → severity 6, id 302013.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Tag {
    /// Syslog severity 0..7.
    pub(super) severity: u8,
    /// The six-digit message id.
    pub(super) id: u32,
}

/// Zone names seen after ASA timestamps, with their UTC offsets in hours. The ASA prints the
/// name configured with `clock timezone`, which is free text; only names whose meaning is not
/// in doubt are read, any other word there is taken for the host name.
const ZONES: &[(&str, i32)] = &[
    ("UTC", 0),
    ("GMT", 0),
    ("EST", -5),
    ("EDT", -4),
    ("CST", -6),
    ("CDT", -5),
    ("MST", -7),
    ("MDT", -6),
    ("PST", -8),
    ("PDT", -7),
    ("CET", 1),
    ("CEST", 2),
    ("EET", 2),
    ("EEST", 3),
];

// %ASA-6-302013: Built …   →   (Tag { 6, 302013 }, index of `Built`)
// %%ASA-session-5-106100: …
// %PIX-7-710005 UDP …      (no colon)
/// Parses a message tag at the start of `s`. `None` when `s` does not start with one of the
/// ASA family's tags (a router's `%SEC-6-IPACCESSLOGP:` is not one).
pub(super) fn parse_tag(s: &str) -> Option<(Tag, usize)> {
    let b = s.as_bytes();
    let mut i = 0;
    while i < 2 && b.get(i) == Some(&b'%') {
        i += 1;
    }
    if i == 0 {
        return None;
    }
    if let Some(quick) = quick_tag(b, i) {
        return Some(quick);
    }
    let vendor = [&b"ASA-"[..], b"PIX-", b"FTD-", b"FWSM-"]
        .into_iter()
        .find(|v| b[i..].starts_with(v))?;
    i += vendor.len();
    let mut end = i;
    while end < b.len() && b[end] != b':' && b[end] != b' ' {
        end += 1;
    }
    // `[class-]sev-id`: six digits last, one severity digit before them.
    let part = &b[i..end];
    let n = part.len();
    if n < 8 || part[n - 7] != b'-' || !part[n - 6..].iter().all(u8::is_ascii_digit) {
        return None;
    }
    let severity = match part[n - 8] {
        d @ b'0'..=b'7' => d - b'0',
        _ => return None,
    };
    if n > 8 {
        let class = &part[..n - 8];
        let ok = class.len() >= 2
            && class[class.len() - 1] == b'-'
            && class[..class.len() - 1]
                .iter()
                .all(u8::is_ascii_alphanumeric);
        if !ok {
            return None;
        }
    }
    let id = part[n - 6..]
        .iter()
        .fold(0u32, |v, &c| v * 10 + u32::from(c - b'0'));
    let mut next = end;
    if b.get(next) == Some(&b':') {
        next += 1;
    }
    while b.get(next) == Some(&b' ') {
        next += 1;
    }
    Some((Tag { severity, id }, next))
}

// %ASA-6-302013: Built   →   the common tag read at fixed places (`i` is past the `%`)
/// `ASA-<sev>-<id>` followed by `:`, a space or the end: what [`parse_tag`] reads, without its
/// search for the vendor and the tag's end. `None` for every other tag.
fn quick_tag(b: &[u8], i: usize) -> Option<(Tag, usize)> {
    let t = b.get(i..i + 12)?;
    let severity = match t[4] {
        d @ b'0'..=b'7' => d - b'0',
        _ => return None,
    };
    if &t[..4] != b"ASA-" || t[5] != b'-' || !matches!(b.get(i + 12), None | Some(b':' | b' ')) {
        return None;
    }
    let mut id = 0u32;
    for &c in &t[6..] {
        if !c.is_ascii_digit() {
            return None;
        }
        id = id * 10 + u32::from(c - b'0');
    }
    let mut next = i + 12;
    if b.get(next) == Some(&b':') {
        next += 1;
    }
    while b.get(next) == Some(&b' ') {
        next += 1;
    }
    Some((Tag { severity, id }, next))
}

/// A wall-clock stamp as the ASA writes it, before a zone is applied.
struct AsaStamp {
    stamp: Stamp,
    len: usize,
}

// Apr 15 2013 09:36:50   Sep  7 06:25:17   Jul 05 2004 00:58:00.123
/// `Mmm dd [yyyy] hh:mm:ss[.fff]` at the start of `b`.
fn parse_cisco_stamp(b: &[u8]) -> Option<AsaStamp> {
    let month = parse_month(b.get(..3)?)?;
    let mut i = 3;
    let spaces = b[i..].iter().take_while(|&&c| c == b' ').count();
    if spaces == 0 {
        return None;
    }
    i += spaces;
    let (day, n) = digits(&b[i..], 2)?;
    i += n;
    if b.get(i) != Some(&b' ') {
        return None;
    }
    i += 1;
    let mut year = None;
    if b.get(i + 4) == Some(&b' ') {
        let (y, n) = digits(&b[i..], 4)?;
        if n != 4 {
            return None;
        }
        year = Some(y);
        i += 5;
    }
    let (time, n) = time_of_day(&b[i..])?;
    i += n;
    let stamp = match year {
        Some(y) => Stamp::Local(NaiveDate::from_ymd_opt(y as i32, month, day)?.and_time(time)),
        None if (1..=31).contains(&day) => Stamp::YearLess { month, day, time },
        None => return None,
    };
    Some(AsaStamp { stamp, len: i })
}

/// Up to `max` leading ASCII digits of `b` as a number, and how many there were (at least 1).
fn digits(b: &[u8], max: usize) -> Option<(u32, usize)> {
    let (mut v, mut n) = (0u32, 0);
    while n < max && n < b.len() && b[n].is_ascii_digit() {
        v = v * 10 + u32::from(b[n] - b'0');
        n += 1;
    }
    (n > 0).then_some((v, n))
}

/// `hh:mm:ss` with an optional `.fraction` (milliseconds when `logging timestamp` asks).
fn time_of_day(b: &[u8]) -> Option<(NaiveTime, usize)> {
    let two = |at: usize| match (b.get(at), b.get(at + 1)) {
        (Some(a @ b'0'..=b'9'), Some(c @ b'0'..=b'9')) => {
            Some(u32::from((a - b'0') * 10 + (c - b'0')))
        }
        _ => None,
    };
    let (h, m, s) = (two(0)?, two(3)?, two(6)?);
    if b.get(2) != Some(&b':') || b.get(5) != Some(&b':') {
        return None;
    }
    let mut i = 8;
    let mut nanos = 0;
    if b.get(i) == Some(&b'.') && b.get(i + 1).is_some_and(u8::is_ascii_digit) {
        let (v, n) = digits(&b[i + 1..], 9)?;
        nanos = v * 10u32.pow(9 - n as u32);
        i += 1 + n;
        i += b[i..].iter().take_while(|c| c.is_ascii_digit()).count();
    }
    let s = s.min(59); // a leap second reads as :59
    Some((NaiveTime::from_hms_nano_opt(h, m, s, nanos)?, i))
}

/// The zone name right after the stamp (` EDT`), its offset, and its length with the space.
fn zone_at(s: &str, pos: usize) -> Option<(FixedOffset, usize)> {
    let rest = s.get(pos..)?.strip_prefix(' ')?;
    let end = rest
        .bytes()
        .position(|c| !c.is_ascii_uppercase())
        .unwrap_or(rest.len());
    let name = &rest[..end];
    if !matches!(rest.as_bytes().get(end), None | Some(b' ' | b':')) {
        return None;
    }
    let hours = ZONES.iter().find(|(n, _)| *n == name)?.1;
    Some((FixedOffset::east_opt(hours * 3600)?, 1 + end))
}

/// The stamp in UTC: an explicit zone wins over the source's zone.
fn resolve(stamp: Stamp, zone: Option<FixedOffset>, ctx: &ParseContext) -> Option<DateTime<Utc>> {
    let Some(off) = zone else {
        return stamp.resolve(ctx.timezone, ctx.now);
    };
    match stamp {
        Stamp::Absolute(t) => Some(t),
        Stamp::Local(naive) => Some(
            off.from_local_datetime(&naive)
                .single()?
                .with_timezone(&Utc),
        ),
        Stamp::YearLess { .. } => {
            let as_utc = stamp.resolve(crate::SourceTz::Utc, ctx.now)?;
            as_utc.checked_sub_signed(chrono::TimeDelta::seconds(off.local_minus_utc().into()))
        }
    }
}

/// What the header says about the line.
pub(super) enum Parsed<'a> {
    /// An ASA message.
    Asa(Header<'a>),
    /// A well-formed syslog line of another program or device (no ASA tag after the header).
    Other,
}

// <166>Apr 29 2013 12:59:50: %ASA-6-302013: Built outbound TCP connection …
// Apr 24 2013 16:00:28 INT-FW01 : %ASA-6-106100: access-list inside denied …
// Sep  7 06:25:17 PIXName %PIX-7-710005: UDP request discarded …
// Apr 15 2014 09:34:34 EDT: %ASA-session-5-106100: access-list acl_in permitted …
// 2021-04-01T10:06:26Z 10.126.11.254 : %ASA-6-302013: Built inbound …
// <166>1 2021-04-01T10:06:26Z fw01 - - - - %ASA-6-302013: Built inbound …   (RFC 5424 relay)
/// Parses the header of `s`.
pub(super) fn parse_header<'a>(s: &'a str, ctx: &ParseContext) -> Result<Parsed<'a>, ParseError> {
    let b = s.as_bytes();
    let mut pos = 0;
    if b.first() == Some(&b'<') {
        // `<` and one to three digits, read by hand: every relayed line has one.
        let close = b.iter().take(5).position(|&c| c == b'>');
        let pri = close.and_then(|close| digits(&b[1..close], 3).filter(|&(_, n)| n == close - 1));
        match (close, pri) {
            (Some(close), Some((p, _))) if p <= u32::from(MAX_PRIORITY) => pos = close + 1,
            _ => return Err(err(ErrorKind::Syntax, 0, "<PRI> of 0..191")),
        }
    }
    let rest = &s[pos..];
    if rest.starts_with('%') {
        return Err(match parse_tag(rest) {
            Some(_) => err(ErrorKind::BadTimestamp, pos, EXPECTED_STAMP),
            None => err(ErrorKind::Syntax, pos, "a timestamp or an ASA message tag"),
        });
    }
    if rest.starts_with("1 ") {
        return parse_rfc5424(s, ctx);
    }
    let (stamp, used) = if rest.as_bytes().first().is_some_and(u8::is_ascii_digit) {
        parse_iso_datetime(rest.as_bytes())
            .ok_or_else(|| err(ErrorKind::BadTimestamp, pos, EXPECTED_STAMP))?
    } else {
        let st = parse_cisco_stamp(rest.as_bytes())
            .ok_or_else(|| err(ErrorKind::BadTimestamp, pos, EXPECTED_STAMP))?;
        (st.stamp, st.len)
    };
    let stamp_pos = pos;
    pos += used;
    let zone = zone_at(s, pos).map(|(off, len)| {
        pos += len;
        off
    });
    let timestamp = resolve(stamp, zone, ctx)
        .ok_or_else(|| err(ErrorKind::BadTimestamp, stamp_pos, EXPECTED_STAMP))?;
    if b.get(pos) == Some(&b':') {
        pos += 1;
    }
    if !matches!(b.get(pos), Some(b' ')) {
        return Err(err(ErrorKind::Syntax, pos, "a space after the timestamp"));
    }
    let mut host = None;
    let mut program_seen = false;
    for _ in 0..MAX_HEADER_WORDS {
        while b.get(pos) == Some(&b' ') {
            pos += 1;
        }
        let rest = &s[pos..];
        if rest.starts_with('%') {
            break;
        }
        // Header words are short: a plain loop beats a `memchr` call.
        let len = rest.bytes().position(|c| c == b' ').unwrap_or(rest.len());
        let word = &rest[..len];
        if word.is_empty() {
            break; // the end of the line: no tag follows
        }
        if word != ":" {
            if host.is_none() && !program_seen {
                host = Some(word.strip_suffix(':').unwrap_or(word)).filter(|h| !h.is_empty());
            } else if !program_seen && word.ends_with(':') {
                program_seen = true;
            } else {
                return Ok(Parsed::Other);
            }
        }
        pos += len;
    }
    tagged(s, pos, timestamp, host)
}

/// The message at `pos` when it starts with an ASA tag; [`Parsed::Other`] otherwise.
fn tagged<'a>(
    s: &'a str,
    pos: usize,
    timestamp: DateTime<Utc>,
    host: Option<&'a str>,
) -> Result<Parsed<'a>, ParseError> {
    let rest = s.get(pos..).unwrap_or("");
    let Some((tag, used)) = parse_tag(rest) else {
        return Ok(Parsed::Other);
    };
    let base = pos + used;
    Ok(Parsed::Asa(Header {
        timestamp,
        host,
        tag,
        body: Body {
            text: s.get(base..).unwrap_or(""),
            base,
        },
    }))
}

/// An RFC 5424 line relayed by a syslog server: the tag must open the message.
fn parse_rfc5424<'a>(s: &'a str, ctx: &ParseContext) -> Result<Parsed<'a>, ParseError> {
    let h = parse_syslog_header(s, ctx).map_err(|e| e.in_format(Format::Asa))?;
    tagged(s, h.message_offset, h.timestamp, h.host)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SourceTz;

    fn ctx() -> ParseContext {
        let mut c = ParseContext::new(SourceTz::Utc);
        c.now = "2019-06-01T00:00:00Z".parse().unwrap();
        c
    }

    /// (line, timestamp, host, severity, id, body)
    type Want<'a> = (&'a str, &'a str, Option<&'a str>, u8, u32, &'a str);

    #[test]
    fn headers() {
        let cases: &[Want] = &[
            (
                "Apr 15 2013 09:36:50: %ASA-4-106023: Deny tcp",
                "2013-04-15T09:36:50Z",
                None,
                4,
                106023,
                "Deny tcp",
            ),
            (
                "Apr 15 2014 09:34:34 EDT: %ASA-session-5-106100: access-list",
                "2014-04-15T13:34:34Z",
                None,
                5,
                106100,
                "access-list",
            ),
            (
                "Apr 24 2013 16:00:28 INT-FW01 : %ASA-6-106100: access-list",
                "2013-04-24T16:00:28Z",
                Some("INT-FW01"),
                6,
                106100,
                "access-list",
            ),
            (
                "Dec 11 2018 08:01:24 <IP>: %ASA-6-302015: Built",
                "2018-12-11T08:01:24Z",
                Some("<IP>"),
                6,
                302015,
                "Built",
            ),
            (
                "Aug 15 2012 23:30:09 : %ASA-6-302016 Teardown UDP",
                "2012-08-15T23:30:09Z",
                None,
                6,
                302016,
                "Teardown UDP",
            ),
            (
                "Sep  7 06:25:17 PIXName %PIX-7-710005: UDP request",
                "2018-09-07T06:25:17Z",
                Some("PIXName"),
                7,
                710005,
                "UDP request",
            ),
            (
                "<0>Jul 05 2004 00:58:00: %PIX-4-400011: IDS:2001",
                "2004-07-05T00:58:00Z",
                None,
                4,
                400011,
                "IDS:2001",
            ),
            (
                "<164>Jul 05 2004 00:58:00: %PIX-4-400011: IDS:2001",
                "2004-07-05T00:58:00Z",
                None,
                4,
                400011,
                "IDS:2001",
            ),
            (
                "2021-04-01T10:06:26Z 10.126.11.254 : %ASA-6-302013: Built",
                "2021-04-01T10:06:26Z",
                Some("10.126.11.254"),
                6,
                302013,
                "Built",
            ),
            (
                "Oct 10 2018 12:34:56 localhost CiscoASA[999]: %ASA-6-305011: Built",
                "2018-10-10T12:34:56Z",
                Some("localhost"),
                6,
                305011,
                "Built",
            ),
            (
                "<166>1 2021-04-01T10:06:26+02:00 fw01 - - - - %FTD-6-302013: Built",
                "2021-04-01T08:06:26Z",
                Some("fw01"),
                6,
                302013,
                "Built",
            ),
            (
                "Mar  3 2020 10:00:00.250 fw %%ASA-1-106021: Deny",
                "2020-03-03T10:00:00.250Z",
                Some("fw"),
                1,
                106021,
                "Deny",
            ),
            (
                "Mar  3 2020 10:00:00 UTC: %ASA-7-609001: Built",
                "2020-03-03T10:00:00Z",
                None,
                7,
                609001,
                "Built",
            ),
        ];
        for (line, ts, host, sev, id, body) in cases {
            let Parsed::Asa(h) =
                parse_header(line, &ctx()).unwrap_or_else(|e| panic!("{line}: {e}"))
            else {
                panic!("{line}: not ASA");
            };
            let want_ts: DateTime<Utc> = ts.parse().unwrap();
            assert_eq!(
                (h.timestamp, h.host, h.tag.severity, h.tag.id, h.body.text),
                (want_ts, *host, *sev, *id, *body),
                "{line}"
            );
            assert_eq!(&line[h.body.base..], h.body.text, "{line}");
        }
    }

    #[test]
    fn other_programs_and_errors() {
        let other = [
            "Jan  8 03:37:09 h kernel: DROP IN=eth0 OUT= SRC=1.2.3.4",
            "Jan  8 03:37:09 router %SEC-6-IPACCESSLOGP: list 101 denied",
            "Jan  8 03:37:09 h sshd[1]: Invalid user %ASA-1-106001: x",
            "Jan  8 2019 03:37:09 fw",
            "Apr 15 2013 09:36:50  ",
        ];
        for line in other {
            assert!(
                matches!(parse_header(line, &ctx()), Ok(Parsed::Other)),
                "{line}"
            );
        }
        let errors: &[(&str, ErrorKind, usize)] = &[
            (
                "%PIX-7-710001: TCP access requested",
                ErrorKind::BadTimestamp,
                0,
            ),
            ("<164>%ASA-4-106023: Deny", ErrorKind::BadTimestamp, 5),
            ("%SEC-6-IPACCESSLOGP: list", ErrorKind::Syntax, 0),
            ("garbage", ErrorKind::BadTimestamp, 0),
            (
                "<999>Apr 15 2013 09:36:50: %ASA-4-106023:",
                ErrorKind::Syntax,
                0,
            ),
            (
                "<192>Apr 15 2013 09:36:50: %ASA-4-106023:",
                ErrorKind::Syntax,
                0,
            ),
            (
                "<>Apr 15 2013 09:36:50: %ASA-4-106023:",
                ErrorKind::Syntax,
                0,
            ),
            (
                "<1x>Apr 15 2013 09:36:50: %ASA-4-106023:",
                ErrorKind::Syntax,
                0,
            ),
            (
                "<+5>Apr 15 2013 09:36:50: %ASA-4-106023:",
                ErrorKind::Syntax,
                0,
            ),
            (
                "<1234>Apr 15 2013 09:36:50: %ASA-4-106023:",
                ErrorKind::Syntax,
                0,
            ),
            ("<16", ErrorKind::Syntax, 0),
            (
                "Feb 30 2013 09:36:50: %ASA-4-106023: x",
                ErrorKind::BadTimestamp,
                0,
            ),
            (
                "Apr 15 2013 09:36:50x %ASA-4-106023: x",
                ErrorKind::Syntax,
                20,
            ),
        ];
        for (line, kind, offset) in errors {
            let e = parse_header(line, &ctx())
                .err()
                .unwrap_or_else(|| panic!("{line}"));
            assert_eq!((e.kind, e.offset), (*kind, *offset), "{line}: {e}");
        }
    }

    #[test]
    fn tags() {
        assert_eq!(
            parse_tag("%ASA-6-302013: B"),
            Some((
                Tag {
                    severity: 6,
                    id: 302013
                },
                15
            ))
        );
        assert_eq!(
            parse_tag("%ASA-4-401004 Shunned"),
            Some((
                Tag {
                    severity: 4,
                    id: 401004
                },
                14
            ))
        );
        assert_eq!(
            parse_tag("%ASA-session-5-106100:"),
            Some((
                Tag {
                    severity: 5,
                    id: 106100
                },
                22
            ))
        );
        assert_eq!(
            parse_tag("%ASA-7-710005"),
            Some((
                Tag {
                    severity: 7,
                    id: 710005
                },
                13
            ))
        );
        assert_eq!(parse_tag("%ASA-6-3020134:"), None);
        assert_eq!(parse_tag("%ASA-6-30201x:"), None);
        assert_eq!(parse_tag("%ASA-9-302013:"), None);
        assert_eq!(parse_tag("%ASA-6-30201:"), None);
        assert_eq!(parse_tag("%ASA-a-b-6-302013:"), None);
        assert_eq!(parse_tag("%ASA-"), None);
        assert_eq!(parse_tag("ASA-6-302013:"), None);
    }
}
