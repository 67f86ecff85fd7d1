//! Hand-written pseudo-random numbers: SplitMix64 for seeding, xoshiro256** for the streams.
//!
//! Both algorithms are fixed here (not taken from a crate) so a seed produces the same logs
//! forever, whatever crate versions the workspace resolves. Only integer arithmetic is used:
//! no floating point, no platform math library.

/// SplitMix64 (Steele, Lea, Flood 2014): used to expand one `u64` seed into generator states.
#[derive(Debug, Clone)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A SplitMix64 starting at `seed`.
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    /// The next 64-bit output.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

/// xoshiro256** 1.0 (Blackman, Vigna 2018), the generator behind every random choice.
#[derive(Debug, Clone)]
pub struct Rng {
    s: [u64; 4],
}

impl Rng {
    /// A generator for `seed`; `stream` separates independent uses of the same seed (world,
    /// background, scenarios) so adding a draw to one never shifts the others.
    pub fn new(seed: u64, stream: u64) -> Self {
        let mut sm = SplitMix64::new(seed ^ stream.wrapping_mul(0xD1B5_4A32_D192_ED03));
        let s = [sm.next_u64(), sm.next_u64(), sm.next_u64(), sm.next_u64()];
        // SplitMix64 never yields four zero words in a row, but stay safe for any future change.
        if s == [0; 4] {
            return Self { s: [1, 2, 3, 4] };
        }
        Self { s }
    }

    /// The next 64-bit output.
    pub fn next_u64(&mut self) -> u64 {
        let result = self.s[1].wrapping_mul(5).rotate_left(7).wrapping_mul(9);
        let t = self.s[1] << 17;
        self.s[2] ^= self.s[0];
        self.s[3] ^= self.s[1];
        self.s[1] ^= self.s[2];
        self.s[0] ^= self.s[3];
        self.s[2] ^= t;
        self.s[3] = self.s[3].rotate_left(45);
        result
    }

    /// Uniform in `0..n` (Lemire's multiply-shift; the tiny bias is irrelevant here and the
    /// method never loops, which keeps the draw count fixed). `n` must be non-zero.
    pub fn below(&mut self, n: u64) -> u64 {
        debug_assert!(n > 0, "below(0)");
        ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        debug_assert!(lo <= hi, "range({lo}, {hi})");
        lo + self.below(hi - lo + 1)
    }

    /// Uniform in `lo..=hi` for signed values (microsecond offsets).
    pub fn range_i(&mut self, lo: i64, hi: i64) -> i64 {
        debug_assert!(lo <= hi, "range_i({lo}, {hi})");
        lo + self.below((hi - lo) as u64 + 1) as i64
    }

    /// True with probability `per_mille / 1000`.
    pub fn chance(&mut self, per_mille: u64) -> bool {
        self.below(1000) < per_mille
    }

    /// One element of a non-empty slice.
    pub fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len() as u64) as usize]
    }

    /// Index drawn with the given integer weights (not all zero).
    pub fn weighted(&mut self, weights: &[u32]) -> usize {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        let mut x = self.below(total);
        for (i, &w) in weights.iter().enumerate() {
            if x < u64::from(w) {
                return i;
            }
            x -= u64::from(w);
        }
        weights.len() - 1
    }

    /// Skewed value in `0..=3 * mean` with mean `mean`: `3 * mean * u^2` for uniform `u`.
    /// A cheap, integer-only stand-in for an exponential gap: many short, a few long.
    pub fn skewed(&mut self, mean: u64) -> u64 {
        let u = self.below(1 << 16);
        ((u128::from(mean) * 3 * u128::from(u * u)) >> 32) as u64
    }

    /// A log-uniform-ish size in `lo..=hi`: picks a power-of-two band uniformly, then a value
    /// in it, so small and large files both occur often.
    pub fn log_uniform(&mut self, lo: u64, hi: u64) -> u64 {
        let lo_bits = 64 - lo.max(1).leading_zeros() as u64;
        let hi_bits = 64 - hi.leading_zeros() as u64;
        let bits = self.range(lo_bits, hi_bits);
        let band_lo = (1u64 << (bits - 1)).max(lo);
        let band_hi = ((1u64 << bits) - 1).min(hi);
        self.range(band_lo.min(band_hi), band_hi)
    }

    /// Fisher-Yates shuffle.
    pub fn shuffle<T>(&mut self, items: &mut [T]) {
        for i in (1..items.len()).rev() {
            let j = self.below(i as u64 + 1) as usize;
            items.swap(i, j);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix64_matches_reference_vector() {
        // Reference outputs for seed 1234567 (the widely published SplitMix64 test vector).
        let mut sm = SplitMix64::new(1_234_567);
        let got: Vec<u64> = (0..5).map(|_| sm.next_u64()).collect();
        assert_eq!(
            got,
            [
                6_457_827_717_110_365_317,
                3_203_168_211_198_807_973,
                9_817_491_932_198_370_423,
                4_593_380_528_125_082_431,
                16_408_922_859_458_223_821
            ]
        );
    }

    #[test]
    fn xoshiro_matches_reference_from_fixed_state() {
        // State {1, 2, 3, 4}: outputs from the reference C implementation.
        let mut r = Rng { s: [1, 2, 3, 4] };
        let got: Vec<u64> = (0..4).map(|_| r.next_u64()).collect();
        assert_eq!(got, XOSHIRO_1234);
    }

    /// xoshiro256** from state {1, 2, 3, 4}; the first value is (2*5 rotl 7)*9 = 11520.
    const XOSHIRO_1234: [u64; 4] = [11_520, 0, 1_509_978_240, 1_215_971_899_390_074_240];

    #[test]
    fn streams_are_stable_and_distinct() {
        let a: Vec<u64> = {
            let mut r = Rng::new(1, 1);
            (0..3).map(|_| r.next_u64()).collect()
        };
        let b: Vec<u64> = {
            let mut r = Rng::new(1, 2);
            (0..3).map(|_| r.next_u64()).collect()
        };
        assert_ne!(a, b);
        let mut r = Rng::new(1, 1);
        assert_eq!(r.next_u64(), a[0]);
    }

    #[test]
    fn helpers_stay_in_bounds() {
        let mut r = Rng::new(7, 0);
        for _ in 0..10_000 {
            assert!(r.range(5, 9) >= 5 && r.range(5, 9) <= 9);
            assert!((-3..=3).contains(&r.range_i(-3, 3)));
            assert!(r.skewed(100) <= 300);
            let v = r.log_uniform(1_000, 5_000_000);
            assert!((1_000..=5_000_000).contains(&v), "{v}");
            assert_eq!(r.weighted(&[0, 5, 0]), 1);
        }
        let mean: u64 = (0..100_000).map(|_| r.skewed(1000)).sum::<u64>() / 100_000;
        assert!((950..=1050).contains(&mean), "skewed mean {mean}");
    }
}
