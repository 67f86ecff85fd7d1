//! Event time inside the engine: integer nanoseconds since the Unix epoch. Comparing and
//! subtracting them is one instruction where chrono's date arithmetic is dozens, and
//! nanoseconds are chrono's own resolution, so no comparison changes. Converted at the
//! edges (records in, incidents out).

use chrono::{DateTime, Utc};

/// Nanoseconds since the epoch; saturates outside 1677..2262 (no log line is there).
pub fn nanos(t: DateTime<Utc>) -> i64 {
    t.timestamp_nanos_opt().unwrap_or(if t.timestamp() < 0 {
        i64::MIN
    } else {
        i64::MAX
    })
}

/// A duration in nanoseconds, saturated (an hour-long `within` is far from it).
pub fn span(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_nanos()).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_and_spans_convert_exactly_and_saturate() {
        let t = DateTime::from_timestamp(1_800_000_000, 123_456_789).unwrap();
        assert_eq!(nanos(t), 1_800_000_000_123_456_789);
        assert_eq!(nanos(DateTime::<Utc>::MAX_UTC), i64::MAX);
        assert_eq!(nanos(DateTime::<Utc>::MIN_UTC), i64::MIN);
        assert_eq!(span(std::time::Duration::from_millis(1500)), 1_500_000_000);
        assert_eq!(span(std::time::Duration::MAX), i64::MAX);
    }
}
