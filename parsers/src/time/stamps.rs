//! The timestamp shapes of log lines, parsed by hand from bytes: RFC 3164, ISO 8601 / RFC 3339
//! (with `T` or a space, `.` or `,` before the fraction), C `ctime`, and the Common Log Format
//! stamp. Each parser returns what it read and how many bytes it used.

use super::Stamp;
use chrono::{FixedOffset, NaiveDate, NaiveDateTime, NaiveTime, TimeZone, Utc};
use std::cell::Cell;

/// Bytes of a date as the fixed-layout readers key it: `10/Oct/2000` (CLF) or `2024-03-04`
/// and a zero byte (ISO); the two layouts cannot be mistaken for each other.
type DayKey = [u8; 11];

thread_local! {
    /// The last date read by a fixed-layout reader: consecutive lines of a log share their
    /// day, so most lines skip the month name and calendar checks.
    static LAST_DAY: Cell<Option<(DayKey, NaiveDate)>> = const { Cell::new(None) };
}

/// The date named by `key`, from [`LAST_DAY`] or else read by `read` (and then remembered).
fn cached_day(key: DayKey, read: impl FnOnce() -> Option<NaiveDate>) -> Option<NaiveDate> {
    if let Some((k, date)) = LAST_DAY.with(Cell::get) {
        if k == key {
            return Some(date);
        }
    }
    let date = read()?;
    LAST_DAY.with(|c| c.set(Some((key, date))));
    Some(date)
}

/// The two ASCII digits at `b[i]`, `b[i + 1]` as a number.
fn two_digits(b: &[u8], i: usize) -> Option<u32> {
    let (h, l) = (*b.get(i)?, *b.get(i + 1)?);
    (h.is_ascii_digit() && l.is_ascii_digit())
        .then(|| u32::from(h - b'0') * 10 + u32::from(l - b'0'))
}

/// `hh:mm:ss` at `b[i..i + 8]` as hours, minutes, seconds; `None` for a leap second (the
/// general readers take it) or anything else.
fn fixed_clock(b: &[u8], i: usize) -> Option<(u32, u32, u32)> {
    if b.get(i + 2) != Some(&b':') || b.get(i + 5) != Some(&b':') {
        return None;
    }
    let (h, m, s) = (
        two_digits(b, i)?,
        two_digits(b, i + 3)?,
        two_digits(b, i + 6)?,
    );
    (s < 60).then_some((h, m, s))
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

/// A read position over a byte slice; every accessor is bounds-checked. Shared with the
/// configurable-layout parsers (ProFTPD `%{format}t`) so they read fields the same way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Cursor<'a> {
    /// The bytes being read.
    pub(crate) b: &'a [u8],
    /// The read position.
    pub(crate) i: usize,
}

impl<'a> Cursor<'a> {
    /// A cursor at the start of `b`.
    pub(crate) fn new(b: &'a [u8]) -> Cursor<'a> {
        Cursor { b, i: 0 }
    }

    pub(crate) fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    pub(crate) fn byte(&mut self, want: u8) -> Option<()> {
        (self.peek()? == want).then(|| self.i += 1)
    }

    pub(crate) fn spaces(&mut self) -> Option<()> {
        let start = self.i;
        while self.peek() == Some(b' ') {
            self.i += 1;
        }
        (self.i > start).then_some(())
    }

    pub(crate) fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let s = self.b.get(self.i..self.i.checked_add(n)?)?;
        self.i += n;
        Some(s)
    }

    /// Between `min` and `max` ASCII digits as a number.
    pub(crate) fn digits(&mut self, min: usize, max: usize) -> Option<u32> {
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
    pub(crate) fn time_of_day(&mut self) -> Option<NaiveTime> {
        self.time_of_day_with(b".")
    }

    /// `hh:mm:ss` with an optional fraction after one of `seps` (`.`, or `,` as Python's and
    /// log4j's loggers write it); second 60 (a leap second) is accepted.
    pub(crate) fn time_of_day_with(&mut self, seps: &[u8]) -> Option<NaiveTime> {
        let h = self.digits(2, 2)?;
        self.byte(b':')?;
        let m = self.digits(2, 2)?;
        self.byte(b':')?;
        let s = self.digits(2, 2)?;
        let nanos = self.fraction(seps)?;
        if s == 60 {
            NaiveTime::from_hms_nano_opt(h, m, 59, 1_000_000_000 + nanos)
        } else {
            NaiveTime::from_hms_nano_opt(h, m, s, nanos)
        }
    }

    /// An optional fraction of a second after one of `seps`, as nanoseconds (0 when absent).
    pub(crate) fn fraction(&mut self, seps: &[u8]) -> Option<u32> {
        let starts = self.peek().is_some_and(|c| seps.contains(&c))
            && matches!(self.b.get(self.i + 1), Some(b'0'..=b'9'));
        if !starts {
            return Some(0);
        }
        self.i += 1;
        let start = self.i;
        let v = self.digits(1, 9)?;
        let scale = 10u32.pow(9 - (self.i - start) as u32);
        while matches!(self.peek(), Some(b'0'..=b'9')) {
            self.i += 1; // digits past nanoseconds are dropped
        }
        Some(v * scale)
    }

    /// An optional UTC offset: `Z`, `±hh:mm`, `±hhmm` or `±hh`. `Some(None)` when there is none;
    /// `None` when one starts but is malformed.
    pub(crate) fn offset(&mut self) -> Option<Option<FixedOffset>> {
        match self.peek() {
            Some(b'Z' | b'z') => {
                self.i += 1;
                Some(FixedOffset::east_opt(0))
            }
            Some(sign @ (b'+' | b'-')) => {
                self.i += 1;
                let h = self.digits(2, 2)?;
                let m = if self.byte(b':').is_some() {
                    self.digits(2, 2)?
                } else {
                    self.digits(2, 2).unwrap_or(0)
                };
                if h > 23 || m > 59 {
                    return None;
                }
                let secs = (h * 3600 + m * 60) as i32;
                Some(Some(FixedOffset::east_opt(if sign == b'-' {
                    -secs
                } else {
                    secs
                })?))
            }
            _ => Some(None),
        }
    }
}

/// The stamp for a wall-clock time with an optional offset: absolute with one, local without.
fn with_offset(naive: NaiveDateTime, offset: Option<FixedOffset>) -> Option<Stamp> {
    Some(match offset {
        Some(off) => Stamp::Absolute(
            off.from_local_datetime(&naive)
                .single()?
                .with_timezone(&Utc),
        ),
        None => Stamp::Local(naive),
    })
}

// Oct 11 01:06:47
// Feb  6 12:02:29
// Feb 6 12:02:29
/// Parses an RFC 3164 stamp at the start of `b`: month name, day (space-padded or not), time
/// of day with an optional fraction. Returns the stamp and the number of bytes it used.
pub fn parse_rfc3164_stamp(b: &[u8]) -> Option<(Stamp, usize)> {
    parse_rfc3164_fixed(b).or_else(|| parse_rfc3164_general(b))
}

/// Length of `Mmm dd hh:mm:ss`, the layout RFC 3164 prescribes (day padded with a space).
const RFC3164_LEN: usize = 15;

// Feb  6 12:02:29.250
/// The RFC 3164 layout read at fixed positions, with an optional fraction: what syslog daemons
/// write, so the general reader is only needed for unpadded days and leap seconds. `None`
/// sends the stamp to the general reader, which gives the same result for this layout.
fn parse_rfc3164_fixed(b: &[u8]) -> Option<(Stamp, usize)> {
    let f: &[u8; RFC3164_LEN] = b.get(..RFC3164_LEN)?.try_into().ok()?;
    if [f[3], f[6], f[9], f[12]] != *b"  ::" {
        return None;
    }
    let digit = |i: usize| f[i].is_ascii_digit().then(|| u32::from(f[i] - b'0'));
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    let month = parse_month(&f[..3])?;
    let day = if f[4] == b' ' { digit(5)? } else { two(4)? };
    let (h, m, s) = (two(7)?, two(10)?, two(13)?);
    if !(1..=31).contains(&day) || s >= 60 {
        return None;
    }
    let mut c = Cursor { b, i: RFC3164_LEN };
    let nanos = c.fraction(b".")?;
    let time = NaiveTime::from_hms_nano_opt(h, m, s, nanos)?;
    Some((Stamp::YearLess { month, day, time }, c.i))
}

/// [`parse_rfc3164_stamp`] for any spacing and leap seconds.
fn parse_rfc3164_general(b: &[u8]) -> Option<(Stamp, usize)> {
    let mut c = Cursor::new(b);
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
    parse_iso_with(b, b"Tt", b".")
}

// 2013-11-16 21:59:30,121      (ProFTPD SystemLog on Debian, ProFTPD `%{iso8601}`)
// 2025-03-04T01:06:36.645577
// 2019-01-08 03:37:09+01:00
/// Like [`parse_iso8601_stamp`], but the date and time may also be separated by a space and the
/// fraction may also follow a `,`: the forms loggers write that RFC 3339 does not allow.
pub fn parse_iso_datetime(b: &[u8]) -> Option<(Stamp, usize)> {
    parse_iso_with(b, b"Tt ", b".,")
}

fn parse_iso_with(b: &[u8], date_time_seps: &[u8], fraction_seps: &[u8]) -> Option<(Stamp, usize)> {
    parse_iso_fixed(b, date_time_seps, fraction_seps)
        .or_else(|| parse_iso_general(b, date_time_seps, fraction_seps))
}

/// Length of `yyyy-mm-dd hh:mm:ss`, the layout loggers write.
const ISO_LEN: usize = 19;

// 2024-03-04 10:20:30,123
/// The ISO layout with a zero-padded date and time read at fixed positions (the date through
/// [`LAST_DAY`]), then the optional fraction and offset as the general reader reads them.
/// `None` sends the stamp to the general reader, which gives the same result for this layout.
fn parse_iso_fixed(
    b: &[u8],
    date_time_seps: &[u8],
    fraction_seps: &[u8],
) -> Option<(Stamp, usize)> {
    let f = b.get(..ISO_LEN)?;
    if f[4] != b'-' || f[7] != b'-' || !date_time_seps.contains(&f[10]) {
        return None;
    }
    let mut key = [0; 11];
    key[..10].copy_from_slice(&f[..10]);
    let date = cached_day(key, || {
        let year = two_digits(f, 0)? * 100 + two_digits(f, 2)?;
        NaiveDate::from_ymd_opt(year as i32, two_digits(f, 5)?, two_digits(f, 8)?)
    })?;
    let (h, m, s) = fixed_clock(f, 11)?;
    let mut c = Cursor { b, i: ISO_LEN };
    let nanos = c.fraction(fraction_seps)?;
    let time = NaiveTime::from_hms_nano_opt(h, m, s, nanos)?;
    let offset = c.offset()?;
    Some((with_offset(date.and_time(time), offset)?, c.i))
}

/// [`parse_iso_with`] for any layout it accepts.
fn parse_iso_general(
    b: &[u8],
    date_time_seps: &[u8],
    fraction_seps: &[u8],
) -> Option<(Stamp, usize)> {
    let mut c = Cursor::new(b);
    let year = c.digits(4, 4)?;
    c.byte(b'-')?;
    let month = c.digits(2, 2)?;
    c.byte(b'-')?;
    let day = c.digits(2, 2)?;
    if !date_time_seps.contains(&c.peek()?) {
        return None;
    }
    c.i += 1;
    let time = c.time_of_day_with(fraction_seps)?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let offset = c.offset()?;
    Some((with_offset(date.and_time(time), offset)?, c.i))
}

// 10/Oct/2000:13:55:36 -0700
/// Parses a Common Log Format stamp (`%d/%b/%Y:%H:%M:%S %z`, without the brackets) at the start
/// of `b`, as Apache and ProFTPD's ExtendedLog `%t` write it. The offset may be left out (then
/// the stamp is [`Stamp::Local`]). Returns the stamp and the number of bytes it used.
pub fn parse_clf_stamp(b: &[u8]) -> Option<(Stamp, usize)> {
    parse_clf_fixed(b).or_else(|| parse_clf_general(b))
}

/// Length of `dd/Mon/yyyy:hh:mm:ss +hhmm`, the layout Apache and ProFTPD write.
const CLF_LEN: usize = 26;

// 10/Oct/2000:13:55:36 -0700
/// The CLF layout with its offset read at fixed positions (the date through [`LAST_DAY`]).
/// `None` sends the stamp to the general reader, which gives the same result for this layout.
fn parse_clf_fixed(b: &[u8]) -> Option<(Stamp, usize)> {
    let f = b.get(..CLF_LEN)?;
    if f[2] != b'/' || f[6] != b'/' || f[11] != b':' || f[20] != b' ' {
        return None;
    }
    let key: DayKey = f[..11].try_into().ok()?;
    let date = cached_day(key, || {
        let year = two_digits(f, 7)? * 100 + two_digits(f, 9)?;
        NaiveDate::from_ymd_opt(year as i32, parse_month(&f[3..6])?, two_digits(f, 0)?)
    })?;
    let (h, m, s) = fixed_clock(f, 12)?;
    let sign = match f[21] {
        b'+' => 1,
        b'-' => -1,
        _ => return None,
    };
    let (oh, om) = (two_digits(f, 22)?, two_digits(f, 24)?);
    if oh > 23 || om > 59 {
        return None;
    }
    let offset = FixedOffset::east_opt(sign * (oh * 3600 + om * 60) as i32)?;
    let time = NaiveTime::from_hms_opt(h, m, s)?;
    Some((with_offset(date.and_time(time), Some(offset))?, CLF_LEN))
}

/// [`parse_clf_stamp`] for any layout it accepts.
fn parse_clf_general(b: &[u8]) -> Option<(Stamp, usize)> {
    let mut c = Cursor::new(b);
    let day = c.digits(1, 2)?;
    c.byte(b'/')?;
    let month = parse_month(c.take(3)?)?;
    c.byte(b'/')?;
    let year = c.digits(4, 4)?;
    c.byte(b':')?;
    let time = c.time_of_day()?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    let mut offset = None;
    if c.peek() == Some(b' ') && matches!(c.b.get(c.i + 1), Some(b'+' | b'-')) {
        c.i += 1;
        offset = c.offset()?;
    }
    Some((with_offset(date.and_time(time), offset)?, c.i))
}

// Fri Jan 19 12:20:33 2007
// Thu Sep  8 00:39:49 2016
/// Parses a C `ctime`-style stamp (`%a %b %e %H:%M:%S %Y`, as vsftpd writes it) at the start
/// of `b`. The weekday must be a weekday name but is not checked against the date. Returns the
/// wall-clock time and the number of bytes used.
pub fn parse_ctime_stamp(b: &[u8]) -> Option<(NaiveDateTime, usize)> {
    parse_ctime_fixed(b).or_else(|| parse_ctime_general(b))
}

/// [`parse_ctime_stamp`] for any spacing, a fraction of a second, a leap second.
fn parse_ctime_general(b: &[u8]) -> Option<(NaiveDateTime, usize)> {
    let mut c = Cursor::new(b);
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

/// Length of a `ctime` stamp as C's `ctime`/`asctime` write it (`Fri Jan 19 12:20:33 2007`).
const CTIME_LEN: usize = 24;

// Thu Sep  8 00:39:49 2016
/// The exact `asctime` layout, read at fixed positions: what vsftpd and xferlog always write,
/// so the general reader is only needed for odd spacing, fractions and leap seconds.
/// `None` sends the line to the general reader, which gives the same result for this layout.
fn parse_ctime_fixed(b: &[u8]) -> Option<(NaiveDateTime, usize)> {
    let b: &[u8; CTIME_LEN] = b.get(..CTIME_LEN)?.try_into().ok()?;
    if [b[3], b[7], b[10], b[13], b[16], b[19]] != *b"   :: " {
        return None;
    }
    let digit = |i: usize| b[i].is_ascii_digit().then(|| u32::from(b[i] - b'0'));
    let two = |i: usize| Some(digit(i)? * 10 + digit(i + 1)?);
    parse_weekday(&b[..3])?;
    let month = parse_month(&b[4..7])?;
    let day = if b[8] == b' ' { digit(9)? } else { two(8)? };
    let (h, m, s) = (two(11)?, two(14)?, two(17)?);
    let year = two(20)? * 100 + two(22)?;
    let time = NaiveTime::from_hms_opt(h, m, s)?;
    let date = NaiveDate::from_ymd_opt(year as i32, month, day)?;
    Some((date.and_time(time), CTIME_LEN))
}

/// True when `b` starts like a `ctime` stamp: a weekday name followed by a space.
pub fn looks_like_ctime(b: &[u8]) -> bool {
    b.get(3) == Some(&b' ') && b.get(..3).and_then(parse_weekday).is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    fn utc(s: &str) -> DateTime<Utc> {
        s.parse().unwrap()
    }

    fn naive(s: &str) -> NaiveDateTime {
        s.parse().unwrap()
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
    }

    #[test]
    fn fixed_rfc3164_layout_reads_as_the_general_reader() {
        let cases = [
            "Oct 11 01:06:47 host",
            "feb  6 12:02:29 x",
            "Jan  8 03:37:09.250 x",
            "Jan  8 03:37:09.1234567891 x",
            "Jan  8 03:37:09. x",
            "Jan 08 03:37:09 x",
            "Jan  0 03:37:09 x",
            "Jan 32 03:37:09 x",
            "Jun 30 23:59:60 x",
            "Jun 30 24:00:00 x",
            "Jun 3x 23:59:59 x",
            "Jun  3 23:59:5",
        ];
        for input in cases {
            let fixed = parse_rfc3164_fixed(input.as_bytes());
            let general = parse_rfc3164_general(input.as_bytes());
            if fixed.is_some() {
                assert_eq!(fixed, general, "{input}");
            }
            assert_eq!(parse_rfc3164_stamp(input.as_bytes()), general, "{input}");
        }
        assert!(parse_rfc3164_fixed(b"Jan  8 03:37:09.250 x").is_some());
    }

    #[test]
    fn fixed_ctime_layout_reads_as_the_general_reader() {
        let cases = [
            "Fri Jan 19 12:20:33 2007 [pid 1]",
            "thu SEP 08 00:39:49 2016",
            "Thu Sep  8 23:59:60 2016",
            "Thu Sep  0 00:39:49 2016",
            "Thu Sep  8 24:00:00 2016",
            "Thu Sep  8 00:39:49 20167",
            "Thu Sep 8  00:39:49 2016",
            "Mon Feb 29 00:00:00 2024",
            "Mon Feb 29 00:00:00 2023",
        ];
        for input in cases {
            let fixed = parse_ctime_fixed(input.as_bytes());
            let general = parse_ctime_general(input.as_bytes());
            if fixed.is_some() {
                assert_eq!(fixed, general, "{input}");
            }
            assert_eq!(parse_ctime_stamp(input.as_bytes()), general, "{input}");
        }
        assert!(parse_ctime_fixed(b"Fri Jan 19 12:20:33 2007").is_some());
        assert!(!looks_like_ctime(b"Jan  8"));
    }

    #[test]
    fn fixed_clf_and_iso_layouts_read_as_the_general_readers() {
        let clf = [
            "10/Oct/2000:13:55:36 -0700]",
            "10/oct/2000:13:55:36 +0000",
            "10/Oct/2000:13:55:36 +01:00",
            "10/Oct/2000:13:55:36 -07]",
            "10/Oct/2000:13:55:60 +0000",
            "10/Oct/2000:24:00:00 +0000",
            "10/Oct/2000:13:55:36 +2400",
            "29/Feb/2023:13:55:36 +0000",
            "10/Okt/2000:13:55:36 +0000",
            "1x/Oct/2000:13:55:36 +0000",
        ];
        for input in clf {
            let fixed = parse_clf_fixed(input.as_bytes());
            let general = parse_clf_general(input.as_bytes());
            if fixed.is_some() {
                assert_eq!(fixed, general, "{input}");
            }
            assert_eq!(parse_clf_stamp(input.as_bytes()), general, "{input}");
        }
        assert!(parse_clf_fixed(b"10/Oct/2000:13:55:36 -0700]").is_some());
        let iso = [
            "2024-03-04 10:20:30,123 x",
            "2024-03-04T10:20:30.5Z",
            "2024-03-04 10:20:30+01:00",
            "2024-03-04 10:20:60",
            "2024-03-04 24:20:30",
            "2023-02-29 10:20:30",
            "2024-03-04_10:20:30",
            "2024-3-04 10:20:30",
        ];
        for input in iso {
            let (b, d, f) = (input.as_bytes(), b"Tt ", b".,");
            let fixed = parse_iso_fixed(b, d, f);
            let general = parse_iso_general(b, d, f);
            if fixed.is_some() {
                assert_eq!(fixed, general, "{input}");
            }
            assert_eq!(parse_iso_datetime(b), general, "{input}");
        }
        assert!(parse_iso_fixed(b"2024-03-04 10:20:30,123", b"Tt ", b".,").is_some());
    }

    #[test]
    fn loose_iso_stamps() {
        let local = |s: &str| Some(Stamp::Local(naive(s)));
        let abs = |s: &str| Some(Stamp::Absolute(utc(s)));
        let cases: &[(&str, Option<Stamp>, usize)] = &[
            (
                "2013-11-16 21:59:30,121 novo",
                local("2013-11-16T21:59:30.121"),
                23,
            ),
            ("2013-11-16T21:59:30 h", local("2013-11-16T21:59:30"), 19),
            ("2013-11-16 21:59:30.5Z", abs("2013-11-16T21:59:30.5Z"), 22),
            ("2013-11-16 21:59:30-06:00", abs("2013-11-17T03:59:30Z"), 25),
            ("2013-11-16 21:59:30, x", local("2013-11-16T21:59:30"), 19),
            ("2013-11-16_21:59:30", None, 0),
            ("2013-11-16 21:59", None, 0),
            ("2013-02-30 21:59:30", None, 0),
            ("2013-11-16 21:59:30+25:00", None, 0),
        ];
        for (input, want, n) in cases {
            let got = parse_iso_datetime(input.as_bytes());
            assert_eq!(got, want.map(|s| (s, *n)), "{input}");
        }
        // The strict form still refuses what only the loose one reads.
        assert_eq!(parse_iso8601_stamp(b"2013-11-16 21:59:30"), None);
        assert_eq!(
            parse_iso8601_stamp(b"2013-11-16T21:59:30,121"),
            Some((Stamp::Local(naive("2013-11-16T21:59:30")), 19))
        );
    }

    #[test]
    fn clf_stamps() {
        let cases: &[(&str, Option<Stamp>, usize)] = &[
            (
                "10/Oct/2000:13:55:36 -0700]",
                Some(Stamp::Absolute(utc("2000-10-10T20:55:36Z"))),
                26,
            ),
            (
                "1/Feb/2024:00:00:00 +0100",
                Some(Stamp::Absolute(utc("2024-01-31T23:00:00Z"))),
                25,
            ),
            (
                "10/Oct/2000:13:55:36]",
                Some(Stamp::Local(naive("2000-10-10T13:55:36"))),
                20,
            ),
            (
                "10/Oct/2000:13:55:36 -07",
                Some(Stamp::Absolute(utc("2000-10-10T20:55:36Z"))),
                24,
            ),
            ("10/Oct/2000:13:55:36 -", None, 0),
            ("31/Feb/2000:13:55:36 +0000", None, 0),
            ("10/Okt/2000:13:55:36 +0000", None, 0),
            ("10-Oct-2000 13:55:36", None, 0),
        ];
        for (input, want, n) in cases {
            let got = parse_clf_stamp(input.as_bytes());
            assert_eq!(got, want.map(|s| (s, *n)), "{input}");
        }
    }
}
