//! Source time zones and the timestamp shapes log lines use.
//!
//! Stamps are parsed by hand from bytes (no chrono format strings on the hot path) into a
//! [`Stamp`], which [`Stamp::resolve`] turns into a UTC instant using the source's [`SourceTz`]
//! and, for year-less syslog stamps, the year rule of [`SourceTz::resolve_year`].

use chrono::{
    DateTime, Datelike, FixedOffset, Local, LocalResult, NaiveDate, NaiveDateTime, NaiveTime,
    Offset, TimeDelta, TimeZone, Utc,
};
use chrono_tz::Tz;
use std::cell::Cell;
use std::fmt;
use std::str::FromStr;

/// Longest gap between two leap years (1896 → 1904): how far back the year rule looks for a
/// year in which a year-less `Feb 29` exists.
const MAX_YEARS_BACK: i32 = 8;

/// How far in the future a year-less stamp may lie (clock skew between hosts, DST confusion).
const FUTURE_ALLOWANCE: TimeDelta = TimeDelta::days(1);

/// The time zone of a source's timestamps that carry no UTC offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceTz {
    /// Stamps are UTC.
    Utc,
    /// Stamps are in the zone of the machine portcullis runs on.
    Local,
    /// Stamps are in a named IANA zone (`Europe/Berlin`).
    Named(Tz),
}

/// A time zone name that is neither `UTC`, `local` nor an IANA zone name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown time zone {0:?} (expected UTC, local or an IANA name like Europe/Berlin)")]
pub struct UnknownTimeZone(pub String);

impl FromStr for SourceTz {
    type Err = UnknownTimeZone;

    /// `UTC` (or `Z`), `local`, or an IANA zone name; case-insensitive for the first two.
    fn from_str(s: &str) -> Result<SourceTz, UnknownTimeZone> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("utc") || s == "Z" {
            Ok(SourceTz::Utc)
        } else if s.eq_ignore_ascii_case("local") {
            Ok(SourceTz::Local)
        } else {
            s.parse::<Tz>()
                .map(SourceTz::Named)
                .map_err(|_| UnknownTimeZone(s.to_string()))
        }
    }
}

impl fmt::Display for SourceTz {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SourceTz::Utc => f.write_str("UTC"),
            SourceTz::Local => f.write_str("local"),
            SourceTz::Named(tz) => f.write_str(tz.name()),
        }
    }
}

thread_local! {
    /// Last (zone, local hour, offset) whose offset holds for the whole hour: most lines of a
    /// log fall into the hour of the line before, so most conversions skip the zone lookup.
    static HOUR_OFFSET: Cell<Option<(SourceTz, i64, i32)>> = const { Cell::new(None) };
    /// Last (zone, reference instant, local year of reference + 1 day) for the year rule.
    static REF_YEAR: Cell<Option<(SourceTz, i64, i32)>> = const { Cell::new(None) };
}

impl SourceTz {
    /// Converts a wall-clock time of this zone to UTC. Never panics: a time repeated by a DST
    /// change gets the earlier instant; a time skipped by one is read with the offset in force
    /// before the change (02:30 in a spring-forward gap becomes 03:30 of the new offset).
    pub fn to_utc(self, local: NaiveDateTime) -> DateTime<Utc> {
        let offset = match self {
            SourceTz::Utc => return local.and_utc(),
            _ => self.cached_offset(local),
        };
        local
            .checked_sub_signed(TimeDelta::seconds(i64::from(offset)))
            .unwrap_or(local)
            .and_utc()
    }

    fn cached_offset(self, local: NaiveDateTime) -> i32 {
        let secs = local.and_utc().timestamp();
        let hour = secs.div_euclid(3600);
        if let Some((tz, h, off)) = HOUR_OFFSET.with(Cell::get) {
            if tz == self && h == hour {
                return off;
            }
        }
        let off = self.offset_at(local);
        // Cache only when the whole hour has that one unambiguous offset.
        let start = local.checked_sub_signed(TimeDelta::seconds(secs.rem_euclid(3600)));
        let end = start.and_then(|s| s.checked_add_signed(TimeDelta::seconds(3599)));
        if let (Some(start), Some(end)) = (start, end) {
            if self.single_offset(start) == Some(off) && self.single_offset(end) == Some(off) {
                HOUR_OFFSET.with(|c| c.set(Some((self, hour, off))));
            }
        }
        off
    }

    /// The UTC offset in seconds for a wall-clock time, by the rules of [`SourceTz::to_utc`].
    fn offset_at(self, local: NaiveDateTime) -> i32 {
        match self.offsets(local) {
            LocalResult::Single(o) => o,
            // The earlier instant of a repeated time is the one with the larger offset.
            LocalResult::Ambiguous(a, b) => a.max(b),
            LocalResult::None => {
                // In a gap: use the offset in force shortly before it.
                for back in 1..=48 {
                    let Some(t) = local.checked_sub_signed(TimeDelta::minutes(30 * back)) else {
                        break;
                    };
                    if let LocalResult::Single(o) = self.offsets(t) {
                        return o;
                    }
                }
                0
            }
        }
    }

    fn single_offset(self, local: NaiveDateTime) -> Option<i32> {
        match self.offsets(local) {
            LocalResult::Single(o) => Some(o),
            _ => None,
        }
    }

    fn offsets(self, local: NaiveDateTime) -> LocalResult<i32> {
        fn secs<O: Offset>(r: LocalResult<O>) -> LocalResult<i32> {
            r.map(|o| o.fix().local_minus_utc())
        }
        match self {
            SourceTz::Utc => LocalResult::Single(0),
            SourceTz::Local => secs(Local.offset_from_local_datetime(&local)),
            SourceTz::Named(tz) => secs(tz.offset_from_local_datetime(&local)),
        }
    }

    /// The calendar year, in this zone, of `now` plus the future allowance.
    fn reference_year(self, now: DateTime<Utc>) -> i32 {
        let key = now.timestamp();
        if let Some((tz, k, year)) = REF_YEAR.with(Cell::get) {
            if tz == self && k == key {
                return year;
            }
        }
        let limit = now.checked_add_signed(FUTURE_ALLOWANCE).unwrap_or(now);
        let year = match self {
            SourceTz::Utc => limit.year(),
            SourceTz::Local => limit.with_timezone(&Local).year(),
            SourceTz::Named(tz) => limit.with_timezone(&tz).year(),
        };
        REF_YEAR.with(|c| c.set(Some((self, key, year))));
        year
    }

    /// The year rule for stamps without a year (`Oct 11 01:06:47`): the instant, in the year
    /// that puts it closest to `now` without being more than one day after `now`. `Feb 29`
    /// goes to the latest leap year that fits. `None` when the day exists in no year (`Feb 30`).
    pub fn resolve_year(
        self,
        month: u32,
        day: u32,
        time: NaiveTime,
        now: DateTime<Utc>,
    ) -> Option<DateTime<Utc>> {
        let limit = now.checked_add_signed(FUTURE_ALLOWANCE).unwrap_or(now);
        let start = self.reference_year(now);
        (start - MAX_YEARS_BACK..=start).rev().find_map(|year| {
            let date = NaiveDate::from_ymd_opt(year, month, day)?;
            let t = self.to_utc(date.and_time(time));
            (t <= limit).then_some(t)
        })
    }
}

/// A timestamp as written in a line, before the source's zone is applied.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stamp {
    /// Month, day and time of day, no year (RFC 3164 `Oct 11 01:06:47`).
    YearLess {
        /// 1–12.
        month: u32,
        /// 1–31 (checked against the month when the year is known).
        day: u32,
        /// Time of day.
        time: NaiveTime,
    },
    /// A full wall-clock date and time without a UTC offset: in the source's zone.
    Local(NaiveDateTime),
    /// An instant with an explicit offset (`...Z`, `...+02:00`).
    Absolute(DateTime<Utc>),
}

impl Stamp {
    /// The UTC instant, applying `tz` and (for year-less stamps) the year rule against `now`.
    /// `None` when the date exists in no candidate year.
    pub fn resolve(self, tz: SourceTz, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        match self {
            Stamp::YearLess { month, day, time } => tz.resolve_year(month, day, time, now),
            Stamp::Local(naive) => Some(tz.to_utc(naive)),
            Stamp::Absolute(t) => Some(t),
        }
    }
}

/// Month number (1–12) of an English three-letter month name, any case (`Jan`, `OCT`).
pub fn parse_month(name: &[u8]) -> Option<u32> {
    let [a, b, c] = name else { return None };
    let m = match [a | 0x20, b | 0x20, c | 0x20] {
        [b'j', b'a', b'n'] => 1,
        [b'f', b'e', b'b'] => 2,
        [b'm', b'a', b'r'] => 3,
        [b'a', b'p', b'r'] => 4,
        [b'm', b'a', b'y'] => 5,
        [b'j', b'u', b'n'] => 6,
        [b'j', b'u', b'l'] => 7,
        [b'a', b'u', b'g'] => 8,
        [b's', b'e', b'p'] => 9,
        [b'o', b'c', b't'] => 10,
        [b'n', b'o', b'v'] => 11,
        [b'd', b'e', b'c'] => 12,
        _ => return None,
    };
    Some(m)
}

/// Day of week (Monday = 0) of an English three-letter weekday name, any case (`Fri`).
pub fn parse_weekday(name: &[u8]) -> Option<u32> {
    let [a, b, c] = name else { return None };
    let d = match [a | 0x20, b | 0x20, c | 0x20] {
        [b'm', b'o', b'n'] => 0,
        [b't', b'u', b'e'] => 1,
        [b'w', b'e', b'd'] => 2,
        [b't', b'h', b'u'] => 3,
        [b'f', b'r', b'i'] => 4,
        [b's', b'a', b't'] => 5,
        [b's', b'u', b'n'] => 6,
        _ => return None,
    };
    Some(d)
}

/// A read position over a byte slice; every accessor is bounds-checked.
struct Cursor<'a> {
    b: &'a [u8],
    i: usize,
}

impl<'a> Cursor<'a> {
    fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    fn byte(&mut self, want: u8) -> Option<()> {
        (self.peek()? == want).then(|| self.i += 1)
    }

    fn spaces(&mut self) -> Option<()> {
        let start = self.i;
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        (self.i > start).then_some(())
    }

    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.i..self.i.checked_add(n)?)?;
        self.i += n;
        Some(s)
    }

    /// Between `min` and `max` ASCII digits as a number.
    fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
        let mut v: u32 = 0;
        let mut n = 0;
        while n < max {
            match self.peek() {
                Some(c @ b'0'..=b'9') => {
                    v = v * 10 + u32::from(c - b'0');
                    self.i += 1;
                    n += 1;
                }
                _ => break,
            }
        }
        (n >= min).then_some(v)
    }

    /// `hh:mm:ss` with an optional `.fraction`; second 60 (a leap second) is accepted.
    fn time_of_day(&mut self) -> Option<NaiveTime> {
        let h = self.digits(2, 2)?;
        self.byte(b':')?;
        let m = self.digits(2, 2)?;
        self.byte(b':')?;
        let s = self.digits(2, 2)?;
        let mut nanos = 0;
        if self.peek() == Some(b'.') && matches!(self.b.get(self.i + 1), Some(b'0'..=b'9')) {
            self.i += 1;
            let start = self.i;
            let v = self.digits(1, 9)?;
            let scale = 10u32.pow(9 - (self.i - start) as u32);
            nanos = v * scale;
            while matches!(self.peek(), Some(b'0'..=b'9')) {
                self.i += 1; // digits past nanoseconds are dropped
            }
        }
        if s == 60 {
            NaiveTime::from_hms_nano_opt(h, m, 59, 1_000_000_000 + nanos)
        } else {
            NaiveTime::from_hms_nano_opt(h, m, s, nanos)
        }
    }
}

// Oct 11 01:06:47
// Feb  6 12:02:29
// Feb 6 12:02:29
/// Parses an RFC 3164 stamp at the start of `b`: month name, day (space-padded or not), time
/// of day with an optional fraction. Returns the stamp and the number of bytes it used.
pub fn parse_rfc3164_stamp(b: &[u8]) -> Option<(Stamp, usize)> {
    let mut c = Cursor { b, i: 0 };
    let month = parse_month(c.take(3)?)?;
    c.spaces()?;
    let day = c.digits(1, 2)?;
    c.byte(b' ')?;
    let time = c.time_of_day()?;
    if !(1..=31).contains(&day) {
        return None;
    }
    Some((Stamp::YearLess { month, day, time }, c.i))
}

// 2025-03-04T01:06:36.645577
// 2019-01-08T03:37:09Z
// 2019-01-08T03:37:09.123+01:00
/// Parses an ISO 8601 / RFC 3339 stamp at the start of `b`: date, `T`, time with optional
/// fraction, optional `Z` or `±hh:mm` / `±hhmm` / `±hh`. Without an offset the stamp is
/// [`Stamp::Local`]. Returns the stamp and the number of bytes it used.
pub fn parse_iso8601_stamp(b: &[u8]) -> Option<(Stamp, usize)> {
    let mut c = Cursor { b, i: 0 };
    let year = c.digits(4, 4)?;
    c.byte(b'-')?;
    let month = c.digits(2, 2)?;
    c.byte(b'-')?;
    let day = c.digits(2, 2)?;
    match c.peek()? {
        b'T' | b't' => c.i += 1,
        _ => return None,
    }
    let time = c.time_of_day()?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let naive = date.and_time(time);
    let stamp = match c.peek() {
        Some(b'Z' | b'z') => {
            c.i += 1;
            Stamp::Absolute(naive.and_utc())
        }
        Some(sign @ (b'+' | b'-')) => {
            c.i += 1;
            let h = c.digits(2, 2)?;
            let had_colon = c.byte(b':').is_some();
            let m = if had_colon {
                c.digits(2, 2)?
            } else {
                c.digits(2, 2).unwrap_or(0)
            };
            let secs = (h * 3600 + m * 60) as i32;
            let off = FixedOffset::east_opt(if sign == b'-' { -secs } else { secs })?;
            let t = off.from_local_datetime(&naive).single()?;
            Stamp::Absolute(t.with_timezone(&Utc))
        }
        _ => Stamp::Local(naive),
    };
    Some((stamp, c.i))
}

// Fri Jan 19 12:20:33 2007
// Thu Sep  8 00:39:49 2016
/// Parses a C `ctime`-style stamp (`%a %b %e %H:%M:%S %Y`, as vsftpd writes it) at the start
/// of `b`. The weekday must be a weekday name but is not checked against the date. Returns the
/// wall-clock time and the number of bytes used.
pub fn parse_ctime_stamp(b: &[u8]) -> Option<(NaiveDateTime, usize)> {
    let mut c = Cursor { b, i: 0 };
    parse_weekday(c.take(3)?)?;
    c.spaces()?;
    let month = parse_month(c.take(3)?)?;
    c.spaces()?;
    let day = c.digits(1, 2)?;
    c.byte(b' ')?;
    let time = c.time_of_day()?;
    c.byte(b' ')?;
    let year = c.digits(4, 4)?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    Some((date.and_time(time), c.i))
}

/// True when `b` starts like a `ctime` stamp: a weekday name followed by a space.
pub fn looks_like_ctime(b: &[u8]) -> bool {
    b.get(3) == Some(&b' ') && b.get(..3).and_then(parse_weekday).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn naive(s: &str) -> NaiveDateTime {
        s.parse().unwrap()
    }

    const NOW: &str = "2005-08-14T10:00:00Z";

    #[test]
    fn source_tz_from_str() {
        let cases: &[(&str, Option<SourceTz>)] = &[
            ("UTC", Some(SourceTz::Utc)),
            ("utc", Some(SourceTz::Utc)),
            ("local", Some(SourceTz::Local)),
            ("Local", Some(SourceTz::Local)),
            (
                "Europe/Berlin",
                Some(SourceTz::Named(chrono_tz::Europe::Berlin)),
            ),
            ("Mars/Olympus", None),
            ("", None),
        ];
        for (input, want) in cases {
            assert_eq!(input.parse::<SourceTz>().ok(), *want, "{input}");
        }
        assert_eq!(
            SourceTz::Named(chrono_tz::Europe::Berlin).to_string(),
            "Europe/Berlin"
        );
    }

    #[test]
    fn year_rule_matches_fail2ban() {
        let now = utc(NOW);
        let t = |m, d| NaiveTime::from_hms_opt(1, 2, 3).map(|t| (m, d, t)).unwrap();
        let cases = [
            (t(10, 11), "2004-10-11T01:02:03Z"), // in the future this year → last year
            (t(2, 6), "2005-02-06T01:02:03Z"),
            (t(8, 15), "2005-08-15T01:02:03Z"), // less than a day ahead: this year
            (t(8, 16), "2004-08-16T01:02:03Z"), // more than a day ahead: last year
            (t(2, 29), "2004-02-29T01:02:03Z"), // leap day: latest leap year
        ];
        for ((m, d, time), want) in cases {
            let got = SourceTz::Utc.resolve_year(m, d, time, now);
            assert_eq!(got, Some(utc(want)), "{m}-{d}");
        }
        assert_eq!(SourceTz::Utc.resolve_year(2, 30, t(1, 1).2, now), None);
        // Feb 29 with a reference just after a non-leap new year goes back to the last leap year.
        let got = SourceTz::Utc.resolve_year(2, 29, t(1, 1).2, utc("2101-01-05T00:00:00Z"));
        assert_eq!(got, Some(utc("2096-02-29T01:02:03Z")));
    }

    #[test]
    fn named_zone_dst_edges_never_panic() {
        let berlin = SourceTz::Named(chrono_tz::Europe::Berlin);
        // Normal winter and summer times.
        assert_eq!(
            berlin.to_utc(naive("2024-01-10T12:00:00")),
            utc("2024-01-10T11:00:00Z")
        );
        assert_eq!(
            berlin.to_utc(naive("2024-07-10T12:00:00")),
            utc("2024-07-10T10:00:00Z")
        );
        // Spring forward: 02:30 does not exist; read with the old offset (+1) → 01:30 UTC.
        assert_eq!(
            berlin.to_utc(naive("2024-03-31T02:30:00")),
            utc("2024-03-31T01:30:00Z")
        );
        // Fall back: 02:30 happens twice; the earlier one (+2) is 00:30 UTC.
        assert_eq!(
            berlin.to_utc(naive("2024-10-27T02:30:00")),
            utc("2024-10-27T00:30:00Z")
        );
        // Same hour again (cache hit) gives the same answer.
        assert_eq!(
            berlin.to_utc(naive("2024-10-27T02:45:00")),
            utc("2024-10-27T00:45:00Z")
        );
        // Extreme values do not panic.
        let _ = berlin.to_utc(NaiveDateTime::MIN);
        let _ = berlin.to_utc(NaiveDateTime::MAX);
        let _ = SourceTz::Local.to_utc(NaiveDateTime::MAX);
        let _ = berlin.resolve_year(1, 1, NaiveTime::MIN, DateTime::<Utc>::MAX_UTC);
        let _ = berlin.resolve_year(1, 1, NaiveTime::MIN, DateTime::<Utc>::MIN_UTC);
    }

    #[test]
    fn rfc3164_stamps() {
        type Want<'a> = Option<(u32, u32, &'a str, usize)>;
        let cases: &[(&str, Want)] = &[
            ("Oct 11 01:06:47 host", Some((10, 11, "01:06:47", 15))),
            ("Feb  6 12:02:29 x", Some((2, 6, "12:02:29", 15))),
            ("Feb 6 12:02:29 x", Some((2, 6, "12:02:29", 14))),
            ("Jan  8 03:37:09.250 x", Some((1, 8, "03:37:09.250", 19))),
            ("Foo 11 01:06:47", None),
            ("Oct 32 01:06:47", None),
            ("Oct 11 24:06:47", None),
            ("Oct 11 01:06", None),
            ("Oct", None),
            ("", None),
        ];
        for (input, want) in cases {
            let got = parse_rfc3164_stamp(input.as_bytes());
            let want = want.map(|(month, day, t, n)| {
                let time = t.parse().unwrap();
                (Stamp::YearLess { month, day, time }, n)
            });
            assert_eq!(got, want, "{input}");
        }
    }

    #[test]
    fn iso8601_stamps() {
        let local = |s: &str| Some(Stamp::Local(naive(s)));
        let abs = |s: &str| Some(Stamp::Absolute(utc(s)));
        let cases: &[(&str, Option<Stamp>, usize)] = &[
            (
                "2025-03-04T01:06:36.645577 h",
                local("2025-03-04T01:06:36.645577"),
                26,
            ),
            ("2025-03-04T01:06:36 h", local("2025-03-04T01:06:36"), 19),
            ("2019-01-08T03:37:09Z h", abs("2019-01-08T03:37:09Z"), 20),
            ("2019-01-08T03:37:09+01:00", abs("2019-01-08T02:37:09Z"), 25),
            ("2019-01-08T03:37:09-0130", abs("2019-01-08T05:07:09Z"), 24),
            (
                "2019-01-08T03:37:09.1234567891Z",
                abs("2019-01-08T03:37:09.123456789Z"),
                31,
            ),
            ("2019-02-30T03:37:09", None, 0),
            ("2019-01-08 03:37:09", None, 0),
            ("2019-01-08T03:37", None, 0),
            ("2019-01-08T03:37:09+", None, 0),
        ];
        for (input, want, n) in cases {
            let got = parse_iso8601_stamp(input.as_bytes());
            assert_eq!(got, want.map(|s| (s, *n)), "{input}");
        }
    }

    #[test]
    fn ctime_stamps() {
        let cases: &[(&str, Option<(&str, usize)>)] = &[
            (
                "Fri Jan 19 12:20:33 2007 [pid 1]",
                Some(("2007-01-19T12:20:33", 24)),
            ),
            (
                "Thu Sep  8 00:39:49 2016 [pid",
                Some(("2016-09-08T00:39:49", 24)),
            ),
            ("Thu Sep 8 00:39:49 2016", Some(("2016-09-08T00:39:49", 23))),
            ("Thu Feb 30 00:39:49 2016", None),
            ("Xyz Sep  8 00:39:49 2016", None),
            ("Thu Sep  8 00:39:49 16", None),
            ("Thu", None),
        ];
        for (input, want) in cases {
            let got = parse_ctime_stamp(input.as_bytes());
            assert_eq!(got, want.map(|(s, n)| (naive(s), n)), "{input}");
        }
        assert!(looks_like_ctime(b"Fri Jan"));
        assert!(!looks_like_ctime(b"Jan  8"));
    }

    #[test]
    fn leap_second_is_accepted() {
        let (stamp, _) = parse_rfc3164_stamp(b"Dec 31 23:59:60 h").unwrap();
        let t = stamp
            .resolve(SourceTz::Utc, utc("2017-01-01T10:00:00Z"))
            .unwrap();
        assert_eq!(t.timestamp(), utc("2016-12-31T23:59:59Z").timestamp());
    }
}
