//! Source time zones and the timestamp shapes log lines use.
//!
//! Stamps are parsed by hand from bytes (no chrono format strings on the hot path) into a
//! [`Stamp`], which [`Stamp::resolve`] turns into a UTC instant using the source's [`SourceTz`]
//! and, for year-less syslog stamps, the year rule of [`SourceTz::resolve_year`]. The stamp
//! parsers themselves live in the `stamps` submodule and are re-exported here.

use chrono::{
    DateTime, Datelike, Local, LocalResult, NaiveDate, NaiveDateTime, NaiveTime, Offset, TimeDelta,
    TimeZone, Utc,
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

/// A cached year-rule reference: zone, reference instant, instant + allowance, its year.
type Reference = (SourceTz, DateTime<Utc>, DateTime<Utc>, i32);
/// A cached year decision: zone, reference instant, month, day, year.
type DayYear = (SourceTz, DateTime<Utc>, u32, u32, i32);

thread_local! {
    /// Last (zone, local hour, offset) whose offset holds for the whole hour: most lines of a
    /// log fall into the hour of the line before, so most conversions skip the zone lookup.
    static HOUR_OFFSET: Cell<Option<(SourceTz, i64, i32)>> = const { Cell::new(None) };
    /// Last (zone, reference instant, reference + allowance, local year of the latter) for
    /// the year rule: a log's lines all share one reference instant.
    static REF_YEAR: Cell<Option<Reference>> = const { Cell::new(None) };
    /// Last (zone, reference instant, month, day) → year the rule chose, kept only when that
    /// year holds for every time of the day: consecutive lines mostly share their day.
    static DAY_YEAR: Cell<Option<DayYear>> = const { Cell::new(None) };
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

    /// `now` plus the future allowance, and its calendar year in this zone.
    fn reference(self, now: DateTime<Utc>) -> (DateTime<Utc>, i32) {
        if let Some((tz, n, limit, year)) = REF_YEAR.with(Cell::get) {
            if tz == self && n == now {
                return (limit, year);
            }
        }
        let limit = now.checked_add_signed(FUTURE_ALLOWANCE).unwrap_or(now);
        let year = match self {
            SourceTz::Utc => limit.year(),
            SourceTz::Local => limit.with_timezone(&Local).year(),
            SourceTz::Named(tz) => limit.with_timezone(&tz).year(),
        };
        REF_YEAR.with(|c| c.set(Some((self, now, limit, year))));
        (limit, year)
    }

    /// The instant of a wall-clock date and time in this zone; `None` when the date does not
    /// exist (`Feb 29` of a common year).
    fn instant(self, year: i32, month: u32, day: u32, time: NaiveTime) -> Option<DateTime<Utc>> {
        NaiveDate::from_ymd_opt(year, month, day).map(|d| self.to_utc(d.and_time(time)))
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
        let (limit, start) = self.reference(now);
        if let Some((tz, n, m, d, year)) = DAY_YEAR.with(Cell::get) {
            if (tz, n, m, d) == (self, now, month, day) {
                let t = self.instant(year, month, day, time);
                if let Some(t) = t.filter(|t| *t <= limit) {
                    return Some(t);
                }
            }
        }
        let (year, t) = (start - MAX_YEARS_BACK..=start).rev().find_map(|year| {
            let t = self.instant(year, month, day, time)?;
            (t <= limit).then_some((year, t))
        })?;
        // Remember the year only when no later year could fit at another time of that day:
        // each later date lies past the limit by more than any UTC offset (26 h).
        let clear = limit
            .date_naive()
            .checked_add_signed(TimeDelta::days(2))
            .is_some_and(|past| {
                (year + 1..=start)
                    .all(|y| NaiveDate::from_ymd_opt(y, month, day).is_none_or(|d| d > past))
            });
        if clear {
            DAY_YEAR.with(|c| c.set(Some((self, now, month, day, year))));
        }
        Some(t)
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

mod stamps;
pub use stamps::*;

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
    fn year_rule_cache_gives_the_same_answers() {
        let now = utc(NOW); // limit: 2005-08-15T10:00:00Z
        let at = |d: u32, h: u32| {
            let time = NaiveTime::from_hms_opt(h, 0, 0).unwrap();
            SourceTz::Utc
                .resolve_year(8, d, time, now)
                .map(|t| t.to_rfc3339())
        };
        // The same day on both sides of the limit, in turns: the cache must not carry the
        // year of one time of day over to another.
        let cases = [
            (15, 1, "2005-08-15T01:00:00+00:00"),
            (15, 23, "2004-08-15T23:00:00+00:00"),
            (15, 9, "2005-08-15T09:00:00+00:00"),
            (15, 11, "2004-08-15T11:00:00+00:00"),
            (14, 23, "2005-08-14T23:00:00+00:00"),
            (16, 0, "2004-08-16T00:00:00+00:00"),
            (16, 23, "2004-08-16T23:00:00+00:00"),
            (15, 10, "2005-08-15T10:00:00+00:00"),
        ];
        for (d, h, want) in cases {
            assert_eq!(at(d, h).as_deref(), Some(want), "Aug {d} {h}:00");
        }
        // Another reference instant: the cached decisions do not apply.
        let later = utc("2006-01-01T00:00:00Z");
        let t = NaiveTime::from_hms_opt(1, 0, 0).unwrap();
        assert_eq!(
            SourceTz::Utc.resolve_year(8, 15, t, later),
            Some(utc("2005-08-15T01:00:00Z"))
        );
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
    fn leap_second_is_accepted() {
        let (stamp, _) = parse_rfc3164_stamp(b"Dec 31 23:59:60 h").unwrap();
        let t = stamp
            .resolve(SourceTz::Utc, utc("2017-01-01T10:00:00Z"))
            .unwrap();
        assert_eq!(t.timestamp(), utc("2016-12-31T23:59:59Z").timestamp());
    }
}
