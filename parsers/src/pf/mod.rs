//! OpenBSD pf packet logs as `tcpdump -n -e -ttt -i pflog0` prints them, usually piped to
//! syslog (`| logger -t pf`), or as bare tcpdump output.
//!
//! Shape: `[syslog header with program pf] <stamp> rule <n>/(<reason>) <action> <in|out> on
//! <if>: <src>.<sport> > <dst>.<dport>: <protocol text>`. The inner stamp is the packet's time
//! (the syslog stamp is when the line was relayed); it is `Mmm dd hh:mm:ss.frac` (`-ttt`),
//! `YYYY-MM-DD hh:mm:ss.frac`, epoch seconds (`-tt`), or the time of day alone (the date then
//! comes from the syslog stamp). A year-less inner stamp takes the year that puts it closest
//! before the syslog stamp. The rule part also takes tcpdump.org's forms (`rule 0/match:`,
//! `rule 102/0(match):`) and the `[uid, pid]` / `[rewritten: ...]` blocks of `-v`.
//!
//! Mapping: `block` (and `synproxy-drop`) → `firewall.deny` (failure), `pass` →
//! `firewall.allow` (success), any other action (`match`, `scrub`, `nat`, `rdr`, `binat`) →
//! `firewall.log`. `in` / `out` put the interface in `interface.in` / `interface.out`;
//! `rule.name` is the rule number as printed (`2`, `def`, `0.anchor.3`). Addresses carry the
//! port as a last dotted component (`192.0.2.1.443`, `2001:db8::1.443`). TCP is recognised by
//! its flags (old style `S`, `.`, `FP` plus the `ack` word; new style `Flags [S.]`); `udp N`
//! is UDP, `icmp:` ICMP, `icmp6:` ICMPv6. A packet with ports whose text is an application
//! decode (DNS, NTP) rather than TCP flags is taken as UDP, since tcpdump prints TCP flags
//! before any decode. The IP length is read when `-v` printed it (`len 60`, `length 60`).
//!
//! Lines of other programs, tcpdump's own banner (`tcpdump: listening on pflog0`) and
//! pflogd's messages are `Ok(None)`. Host names instead of addresses (tcpdump without `-n`)
//! are rejected as `BadAddress`.

mod packet;

use crate::event::{Action, Dataset, Event, Outcome};
use crate::syslog::parse_syslog_header;
use crate::time::{parse_iso_datetime, parse_rfc3164_stamp, SourceTz, Stamp};
use crate::{line_text, ErrorKind, Format, ParseContext, ParseError};
use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, TimeDelta, Utc};
use compact_str::CompactString;
use memchr::memchr;
use packet::parse_packet;

const FORMAT: Format = Format::Pf;

/// Longest bracketed or parenthesised block skipped (`[uid 0, pid 1234]`, tcpdump.org's `-v`
/// IP header in parentheses): a bound on the work a hostile line can cause.
const MAX_BLOCK: usize = 256;

/// How far an inner stamp may lie after the syslog stamp it was relayed with (clock skew).
const RELAY_SKEW: TimeDelta = TimeDelta::hours(1);

fn err(kind: ErrorKind, offset: usize, expected: &'static str) -> ParseError {
    ParseError::new(FORMAT, kind, offset, expected)
}

/// A read position in the line.
struct Cur<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Cur<'a> {
    fn rest(&self) -> &'a str {
        self.s.get(self.i..).unwrap_or("")
    }

    fn spaces(&mut self) {
        while self.s.as_bytes().get(self.i) == Some(&b' ') {
            self.i += 1;
        }
    }

    /// The next word (up to a space); empty at the end.
    fn word(&mut self) -> (&'a str, usize) {
        self.spaces();
        let rest = self.rest();
        // Words are short: a plain loop beats a `memchr` call here.
        let len = rest.bytes().position(|c| c == b' ').unwrap_or(rest.len());
        let at = self.i;
        self.i += len;
        (&rest[..len], at)
    }

    /// Skips a `[...]` or `(...)` block at the position (nesting counted, bounded).
    fn skip_block(&mut self, open: u8, close: u8) -> bool {
        let b = self.rest().as_bytes();
        if b.first() != Some(&open) {
            return false;
        }
        let mut depth = 0usize;
        for (n, &c) in b.iter().enumerate().take(MAX_BLOCK) {
            if c == open {
                depth += 1;
            } else if c == close {
                depth -= 1;
                if depth == 0 {
                    self.i += n + 1;
                    return true;
                }
            }
        }
        false
    }
}

/// The local date of `t` in the source's zone.
fn local_date(tz: SourceTz, t: DateTime<Utc>) -> NaiveDate {
    match tz {
        SourceTz::Utc => t.date_naive(),
        SourceTz::Local => t.with_timezone(&chrono::Local).date_naive(),
        SourceTz::Named(z) => t.with_timezone(&z).date_naive(),
    }
}

/// A packet stamp as written, before a zone and a year are applied.
#[derive(Debug, Clone, Copy)]
enum RawStamp {
    /// `Mar 30 15:53:25.793256` (`-ttt`).
    YearLess(u32, u32, NaiveTime),
    /// `2004-03-30 15:53:25.793256`.
    Full(Stamp),
    /// `15:53:25.793256` (tcpdump's default).
    TimeOnly(NaiveTime),
    /// `1080661805.793256` (`-tt`).
    Epoch(DateTime<Utc>),
}

// Mar 30 15:53:25.793256 rule …        2004-03-30 15:53:25.793256 rule …
// 1080661805.793256 rule …             15:53:25.793256 rule …
/// The packet's stamp at the start of `text`, and its length.
fn raw_stamp(text: &str) -> Option<(RawStamp, usize)> {
    let b = text.as_bytes();
    let first = *b.first()?;
    if first.is_ascii_alphabetic() {
        let (stamp, used) = parse_rfc3164_stamp(b)?;
        let Stamp::YearLess { month, day, time } = stamp else {
            return None;
        };
        return Some((RawStamp::YearLess(month, day, time), used));
    }
    if b.get(4) == Some(&b'-') {
        let (stamp, used) = parse_iso_datetime(b)?;
        return Some((RawStamp::Full(stamp), used));
    }
    let end = memchr(b' ', b).unwrap_or(b.len());
    let word = &text[..end];
    if b.get(2) == Some(&b':') {
        return Some((RawStamp::TimeOnly(word.parse().ok()?), end));
    }
    let (secs, frac) = word.split_once('.').unwrap_or((word, ""));
    if secs.is_empty() || !secs.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    let nanos = if frac.is_empty() {
        0
    } else {
        let digits = frac.get(..frac.len().min(9))?;
        let v: u32 = digits.parse().ok()?;
        v * 10u32.pow(9 - digits.len() as u32)
    };
    Some((
        RawStamp::Epoch(DateTime::from_timestamp(secs.parse().ok()?, nanos)?),
        end,
    ))
}

/// The UTC instant of a packet stamp. `relayed` is the syslog stamp the line came with: a
/// year-less stamp takes the latest year that puts it no more than [`RELAY_SKEW`] after it
/// (or, without one, the year rule against `ctx.now`); a time of day takes its date.
fn resolve_stamp(
    raw: RawStamp,
    ctx: &ParseContext,
    relayed: Option<DateTime<Utc>>,
) -> Option<DateTime<Utc>> {
    let tz = ctx.timezone;
    match raw {
        RawStamp::Epoch(t) => Some(t),
        RawStamp::Full(stamp) => stamp.resolve(tz, ctx.now),
        RawStamp::TimeOnly(time) => {
            let relayed = relayed?;
            let t = tz.to_utc(local_date(tz, relayed).and_time(time));
            Some(if t > relayed + RELAY_SKEW {
                t - TimeDelta::days(1)
            } else {
                t
            })
        }
        RawStamp::YearLess(month, day, time) => {
            let Some(relayed) = relayed else {
                return tz.resolve_year(month, day, time, ctx.now);
            };
            // Decided on dates (one zone conversion, not one per candidate year).
            let limit = local_date(tz, relayed + RELAY_SKEW);
            let year = limit.year();
            let date = [year, year - 1]
                .into_iter()
                .filter_map(|y| NaiveDate::from_ymd_opt(y, month, day))
                .find(|d| *d <= limit);
            match date {
                Some(d) => Some(tz.to_utc(d.and_time(time))),
                None => tz.resolve_year(month, day, time, relayed + RELAY_SKEW),
            }
        }
    }
}

/// What the rule part of the line says.
struct Rule<'a> {
    name: &'a str,
    action: &'a str,
    dir: &'a str,
    iface: &'a str,
}

// rule 2/(match) pass in on xl0:                 (OpenBSD)
// rule 0.anchor.3/(match) [uid 0, pid 1] block out on em0:
// rule 102/0(match): block in on em0:            (older tcpdump.org)
// rule 5/match: block in on em0:                 (tcpdump.org)
/// The `rule ...` part, the cursor at `rule`.
fn parse_rule<'a>(c: &mut Cur<'a>) -> Result<Rule<'a>, ParseError> {
    let (w, at) = c.word();
    if w != "rule" {
        return Err(err(ErrorKind::Syntax, at, "`rule` and the rule number"));
    }
    c.spaces();
    let rest = c.rest();
    let slash = memchr(b'/', rest.as_bytes())
        .filter(|&n| n > 0 && !rest[..n].contains(' '))
        .ok_or_else(|| err(ErrorKind::Syntax, c.i, "the rule number and `/`"))?;
    let name = &rest[..slash];
    c.i += slash + 1;
    // Sub-rule number (old tcpdump.org), then the reason in parentheses or as a word.
    while c.rest().as_bytes().first().is_some_and(u8::is_ascii_digit) {
        c.i += 1;
    }
    if !c.skip_block(b'(', b')') {
        let r = c.rest();
        let end = r.find([':', ' ']).unwrap_or(r.len());
        if end == 0 {
            return Err(err(ErrorKind::Syntax, c.i, "the reason, like `(match)`"));
        }
        c.i += end;
    }
    for _ in 0..2 {
        if c.rest().starts_with(':') {
            c.i += 1;
        }
        c.spaces();
        c.skip_block(b'[', b']');
    }
    let (action, _) = c.word();
    let (dir, dir_at) = c.word();
    let (on, on_at) = c.word();
    if action.is_empty() || dir.is_empty() {
        return Err(err(
            ErrorKind::Syntax,
            dir_at,
            "the action and the direction",
        ));
    }
    if on != "on" {
        return Err(err(ErrorKind::Syntax, on_at, "`on` and the interface"));
    }
    let (iface, if_at) = c.word();
    let iface = iface
        .strip_suffix(':')
        .ok_or_else(|| err(ErrorKind::Syntax, if_at, "the interface followed by `:`"))?;
    Ok(Rule {
        name,
        action,
        dir,
        iface,
    })
}

// 205.174.165.231.50425   →   (205.174.165.231, 50425)
// 2001:db8::1.443         →   (2001:db8::1, 443)
// 127.0.0.1               →   (127.0.0.1, -)
/// The event of a pflog record at the cursor (the inner stamp), relayed at `relayed` by
/// `host`; built in the caller's result type (a `Result<Event>` was copied twice more).
fn parse_record(
    c: &mut Cur,
    ctx: &ParseContext,
    relayed: Option<DateTime<Utc>>,
    host: Option<&str>,
) -> Result<Option<Event>, ParseError> {
    let bad = || {
        err(
            ErrorKind::BadTimestamp,
            c.i,
            "the packet's timestamp like `Mar 30 15:53:25.793256`",
        )
    };
    let (raw, used) = raw_stamp(c.rest()).ok_or_else(bad)?;
    let t = resolve_stamp(raw, ctx, relayed).ok_or_else(bad)?;
    c.i += used;
    let rule = parse_rule(c)?;
    let (action, outcome) = match rule.action {
        "pass" => (Action::FirewallAllow, Outcome::Success),
        "block" | "synproxy-drop" => (Action::FirewallDeny, Outcome::Failure),
        _ => (Action::FirewallLog, Outcome::Unknown),
    };
    let mut e = Event::new(t, Dataset::Pf, action);
    e.outcome = outcome;
    e.rule_name = Some(CompactString::from(rule.name));
    let iface = Some(CompactString::from(rule.iface));
    match rule.dir {
        "in" => e.interface_in = iface,
        "out" => e.interface_out = iface,
        _ => {}
    }
    e.packets = Some(1);
    e.host_name = host.map(CompactString::from);
    parse_packet(c, &mut e)?;
    Ok(Some(e))
}

/// True when `text` starts with a stamp followed by ` rule `: a pflog record.
fn looks_like_record(text: &str) -> bool {
    raw_stamp(text).is_some_and(|(_, used)| text[used..].starts_with(" rule "))
}

// Mar 30 15:55:20 enigma pf: Mar 30 15:53:25.793256 rule 2/(match) pass in on xl0:
//   205.174.165.231.50425 > 192.168.2.10.22: . ack 2450721 win 73 <nop,nop,…> (DF) [tos 0x10]
// Mar 30 15:53:25.793256 rule 3/(match) block out on xl0: 192.168.2.10.1514 > 192.168.2.26.3875:  udp 57
/// Parses one pf log line. `Ok(None)` for other programs' lines and tcpdump's banner.
pub fn parse_pf_line(line: &[u8], ctx: &ParseContext) -> Result<Option<Event>, ParseError> {
    let s = line_text(FORMAT, line)?;
    let mut c = Cur { s, i: 0 };
    let h = match parse_syslog_header(s, ctx) {
        // Bare tcpdump output reads as a syslog header whose host is `rule`.
        Ok(h) if h.host == Some("rule") && h.program.is_none() => {
            return parse_record(&mut c, ctx, None, None);
        }
        Ok(h) => h,
        Err(_) if looks_like_record(s) => return parse_record(&mut c, ctx, None, None),
        Err(e) => return Err(e.in_format(FORMAT)),
    };
    c.i = h.message_offset;
    let ours = h
        .program
        .is_some_and(|p| p == "pf" || (p.starts_with("pflog") && p != "pflogd"));
    if h.message.starts_with("tcpdump: ") || !(ours || h.program.is_none()) {
        return Ok(None);
    }
    if !ours && !looks_like_record(h.message) {
        return Ok(None);
    }
    parse_record(&mut c, ctx, Some(h.timestamp), h.host)
}

#[cfg(test)]
mod tests;
