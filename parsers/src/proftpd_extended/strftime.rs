//! The `strftime(3)` subset of ProFTPD's `%{format}t`: compiled once per source, then used to
//! read stamps back. Supported: `%Y %y %m %d %e %H %M %S %z %b %h %B %a %A %s %T %F %D %R %n
//! %t %%`. Not supported (compile errors): the day of year `%j`, locale forms (`%c %x %X %p`)
//! and anything else that cannot be read back into a date.

use crate::time::{parse_month, parse_weekday, Cursor, Stamp};
use chrono::{DateTime, NaiveDate, NaiveTime};

/// Longest `%{...}t` format accepted, in parts (a real one has about a dozen).
pub(super) const MAX_TIME_PARTS: usize = 32;

/// One piece of a compiled `strftime` format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum TimePart {
    /// Bytes written as they are.
    Lit(u8),
    /// `%Y`: four-digit year.
    Year,
    /// `%y`: two-digit year (69–99 → 19xx, 00–68 → 20xx, as POSIX `strptime` reads it).
    Year2,
    /// `%m`.
    Month,
    /// `%b` / `%h`: English abbreviated month name.
    MonthName,
    /// `%B`: English full month name.
    MonthFull,
    /// `%d` / `%e`: day of month, zero- or space-padded.
    Day,
    /// `%H`.
    Hour,
    /// `%M`.
    Minute,
    /// `%S`.
    Second,
    /// `%z`: `+hhmm` / `-hhmm`.
    Offset,
    /// `%a`: English abbreviated weekday name (read, not checked against the date).
    Weekday,
    /// `%A`: English full weekday name (read, not checked).
    WeekdayFull,
    /// `%s`: seconds since the epoch (UTC).
    Epoch,
}

/// A `strftime` conversion portcullis cannot read back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct UnsupportedConversion;

// %Y-%m-%d %H:%M:%S %z   →   [Year, Lit('-'), Month, Lit('-'), Day, Lit(' '), Hour, ...]
/// Compiles a `strftime` format into parts; composite conversions are expanded.
pub(super) fn compile(fmt: &str) -> Result<Vec<TimePart>, UnsupportedConversion> {
    use TimePart::*;
    let mut parts = Vec::new();
    let mut bytes = fmt.bytes();
    while let Some(b) = bytes.next() {
        if b != b'%' {
            parts.push(Lit(b));
            continue;
        }
        let expanded: &[TimePart] = match bytes.next().ok_or(UnsupportedConversion)? {
            b'%' => &[Lit(b'%')],
            b'Y' => &[Year],
            b'y' => &[Year2],
            b'm' => &[Month],
            b'b' | b'h' => &[MonthName],
            b'B' => &[MonthFull],
            b'd' | b'e' => &[Day],
            b'H' => &[Hour],
            b'M' => &[Minute],
            b'S' => &[Second],
            b'z' => &[Offset],
            b'a' => &[Weekday],
            b'A' => &[WeekdayFull],
            b's' => &[Epoch],
            b'T' => &[Hour, Lit(b':'), Minute, Lit(b':'), Second],
            b'R' => &[Hour, Lit(b':'), Minute],
            b'F' => &[Year, Lit(b'-'), Month, Lit(b'-'), Day],
            b'D' => &[Month, Lit(b'/'), Day, Lit(b'/'), Year2],
            b'n' | b't' => &[Lit(b' ')],
            _ => return Err(UnsupportedConversion),
        };
        parts.extend_from_slice(expanded);
        if parts.len() > MAX_TIME_PARTS {
            return Err(UnsupportedConversion);
        }
    }
    Ok(parts)
}

/// English month names, for `%B`.
const MONTHS: [&str; 12] = [
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
];

/// English weekday names, for `%A`.
const WEEKDAYS: [&str; 7] = [
    "monday",
    "tuesday",
    "wednesday",
    "thursday",
    "friday",
    "saturday",
    "sunday",
];

/// The index of the name in `names` that `c` starts with (any case), consuming it.
fn full_name(c: &mut Cursor<'_>, names: &[&str]) -> Option<usize> {
    let rest = c.b.get(c.i..)?;
    let found = names.iter().position(|n| {
        rest.get(..n.len())
            .is_some_and(|r| r.eq_ignore_ascii_case(n.as_bytes()))
    })?;
    c.i += names[found].len();
    Some(found)
}

// [Year, Lit('-'), Month, ...] over "2024-03-04 10:20:30 +0100 ..."   →   2024-03-04T09:20:30Z
/// Reads a stamp laid out by `parts` at the start of `b`; returns it and the bytes used.
/// Without a year the stamp is year-less (the year rule applies); a date and an hour and
/// minute are required.
pub(super) fn read(parts: &[TimePart], b: &[u8]) -> Option<(Stamp, usize)> {
    let mut c = Cursor::new(b);
    let (mut year, mut month, mut day) = (None, None, None);
    let (mut hour, mut minute, mut second) = (None, None, 0);
    let mut offset = None;
    let mut epoch = None;
    for part in parts {
        match part {
            TimePart::Lit(l) => c.byte(*l)?,
            TimePart::Year => year = Some(c.digits(4, 4)? as i32),
            TimePart::Year2 => {
                let y = c.digits(2, 2)? as i32;
                year = Some(if y >= 69 { 1900 + y } else { 2000 + y });
            }
            TimePart::Month => month = Some(c.digits(1, 2)?),
            TimePart::MonthName => month = Some(parse_month(c.take(3)?)?),
            TimePart::MonthFull => month = Some(full_name(&mut c, &MONTHS)? as u32 + 1),
            TimePart::Day => {
                if c.peek() == Some(b' ') {
                    c.i += 1;
                }
                day = Some(c.digits(1, 2)?);
            }
            TimePart::Hour => hour = Some(c.digits(1, 2)?),
            TimePart::Minute => minute = Some(c.digits(2, 2)?),
            TimePart::Second => second = c.digits(2, 2)?,
            TimePart::Offset => offset = Some(c.offset()??),
            TimePart::Weekday => {
                parse_weekday(c.take(3)?)?;
            }
            TimePart::WeekdayFull => {
                full_name(&mut c, &WEEKDAYS)?;
            }
            TimePart::Epoch => {
                let start = c.i;
                while matches!(c.peek(), Some(b'0'..=b'9')) && c.i - start < 12 {
                    c.i += 1;
                }
                let digits = std::str::from_utf8(c.b.get(start..c.i)?).ok()?;
                epoch = Some(digits.parse::<i64>().ok()?);
            }
        }
    }
    if let Some(secs) = epoch {
        return Some((Stamp::Absolute(DateTime::from_timestamp(secs, 0)?), c.i));
    }
    let time = if second == 60 {
        NaiveTime::from_hms_nano_opt(hour?, minute?, 59, 1_000_000_000)?
    } else {
        NaiveTime::from_hms_opt(hour?, minute?, second)?
    };
    let (month, day) = (month?, day?);
    let Some(year) = year else {
        if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
            return None;
        }
        return Some((Stamp::YearLess { month, day, time }, c.i));
    };
    let naive = NaiveDate::from_ymd_opt(year, month, day)?.and_time(time);
    let stamp = match offset {
        Some(off) => Stamp::Absolute(
            chrono::TimeZone::from_local_datetime(&off, &naive)
                .single()?
                .with_timezone(&chrono::Utc),
        ),
        None => Stamp::Local(naive),
    };
    Some((stamp, c.i))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{NaiveDateTime, Utc};

    fn local(s: &str) -> Stamp {
        Stamp::Local(s.parse::<NaiveDateTime>().unwrap())
    }

    fn abs(s: &str) -> Stamp {
        Stamp::Absolute(s.parse::<DateTime<Utc>>().unwrap())
    }

    #[test]
    fn reads_what_it_compiles() {
        let t = |h, m, s| NaiveTime::from_hms_opt(h, m, s).unwrap();
        type Case<'a> = (&'a str, &'a str, Option<(Stamp, usize)>);
        let cases: &[Case] = &[
            (
                "%Y-%m-%d %H:%M:%S",
                "2024-03-04 10:20:30 x",
                Some((local("2024-03-04T10:20:30"), 19)),
            ),
            (
                "%d/%b/%Y:%H:%M:%S %z",
                "04/Mar/2024:10:20:30 -0100]",
                Some((abs("2024-03-04T11:20:30Z"), 26)),
            ),
            (
                "%a %b %e %T %Y",
                "Mon Mar  4 10:20:30 2024",
                Some((local("2024-03-04T10:20:30"), 24)),
            ),
            (
                "%A, %B %d %R",
                "monday, March 04 10:20",
                Some((
                    Stamp::YearLess {
                        month: 3,
                        day: 4,
                        time: t(10, 20, 0),
                    },
                    22,
                )),
            ),
            (
                "%F %T",
                "2024-03-04 10:20:30",
                Some((local("2024-03-04T10:20:30"), 19)),
            ),
            (
                "%D %T",
                "03/04/24 10:20:30",
                Some((local("2024-03-04T10:20:30"), 17)),
            ),
            (
                "%s",
                "1709547630 rest",
                Some((abs("2024-03-04T10:20:30Z"), 10)),
            ),
            ("%Y-%m-%d %H:%M:%S", "2024-02-30 10:20:30", None),
            ("%Y-%m-%d %H:%M:%S", "2024-03-04 10:20", None),
            ("%b %d", "Mar 04", None),
            ("%d/%b/%Y:%H:%M:%S %z", "04/Mar/2024:10:20:30 0100", None),
        ];
        for (fmt, input, want) in cases {
            let parts = compile(fmt).unwrap();
            assert_eq!(read(&parts, input.as_bytes()), *want, "{fmt} / {input}");
        }
    }

    #[test]
    fn refuses_what_it_cannot_read_back() {
        for fmt in ["%c", "%x %X", "%Y %p", "%j", "%", "%Y%"] {
            assert_eq!(compile(fmt), Err(UnsupportedConversion), "{fmt}");
        }
        let long = "%Y".repeat(MAX_TIME_PARTS + 1);
        assert_eq!(compile(&long), Err(UnsupportedConversion));
    }
}
