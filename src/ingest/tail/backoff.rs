//! Retrying a compressed file that cannot be decompressed (yet), less and less often.
//!
//! A compressor writes its output progressively: a `.gz` being written decompresses up to
//! some point and then ends without its trailer, exactly like a truncated or corrupt one.
//! Neither is taken as finished; both are tried again, first soon (the compressor is
//! likely still at work), then at growing intervals (it is likely broken).

use std::time::{Duration, Instant};

/// First wait after a failure: gzip writes tens of MB/s, so a rotated log being compressed
/// is usually whole within a few seconds.
pub const RETRY_FIRST: Duration = Duration::from_secs(1);

/// Longest wait: a corrupt file costs at most one decompression attempt per five minutes,
/// and a file that becomes whole (copied in again, say) is read within five minutes.
pub const RETRY_MAX: Duration = Duration::from_secs(300);

/// When a failing file may be tried again.
#[derive(Debug, Clone, Default)]
pub(super) struct Backoff {
    /// Failures in a row.
    pub failures: u32,
    next: Option<Instant>,
    delay: Duration,
}

impl Backoff {
    /// Whether it may be tried now.
    pub fn ready(&self) -> bool {
        self.next.is_none_or(|t| Instant::now() >= t)
    }

    /// It failed again: waits `first` (from [`super::TailOptions`]), then twice as long
    /// each time, up to [`RETRY_MAX`].
    pub fn failed(&mut self, first: Duration) {
        self.delay = match self.failures {
            0 => first,
            _ => (self.delay * 2).min(RETRY_MAX.max(first)),
        };
        self.failures += 1;
        self.next = Some(Instant::now() + self.delay);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waits_double_up_to_the_cap() {
        let mut b = Backoff::default();
        assert!(b.ready());
        b.failed(Duration::from_secs(1));
        assert!(!b.ready());
        let mut delays = vec![b.delay];
        for _ in 0..12 {
            b.failed(Duration::from_secs(1));
            delays.push(b.delay);
        }
        assert_eq!(delays[..4], [1, 2, 4, 8].map(Duration::from_secs));
        assert_eq!(*delays.last().unwrap(), RETRY_MAX);
        assert_eq!(b.failures, 13);
        let mut now = Backoff::default();
        now.failed(Duration::ZERO);
        assert!(now.ready(), "no wait when the first wait is zero");
    }
}
