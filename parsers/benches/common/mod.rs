//! Shared by the parser benches: a deterministic generator of synthetic values and the CPU
//! time of the running thread, so results on a shared, busy machine are not skewed by time
//! spent waiting for a core.

#![allow(dead_code)]

/// xorshift64*: deterministic, no dependency.
pub struct Rng(pub u64);

impl Rng {
    /// The next 64 random bits.
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    /// A number below `n`.
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }

    /// One of `items`.
    pub fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len() as u64) as usize]
    }

    /// A public-looking IPv4 address.
    pub fn ip(&mut self) -> String {
        let n = self.next();
        format!(
            "{}.{}.{}.{}",
            1 + n % 223,
            (n >> 8) % 256,
            (n >> 16) % 256,
            1 + (n >> 24) % 254
        )
    }
}

/// Nanoseconds this thread has run on a CPU (Linux `/proc/thread-self/schedstat`); `None`
/// elsewhere.
pub fn thread_cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split(' ').next()?.parse().ok()
}
