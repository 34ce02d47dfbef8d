//! Randomness, in one place: the operating system's (`getrandom`) for what
//! must differ between processes and runs (session ids, where a launch
//! starts looking for a free subnet), and [`Seeded`] for what must be the
//! same on every run (test inputs, fuzzing, the bench's data).

/// `N` bytes from the operating system; should it refuse, bytes made from
/// the time and the process id (enough to tell runs apart: nothing here is
/// a secret).
pub fn bytes<const N: usize>() -> [u8; N] {
    let mut out = [0u8; N];
    if getrandom::getrandom(&mut out).is_err() {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos());
        let mixed = (nanos ^ u128::from(std::process::id()) << 64).to_le_bytes();
        for (i, b) in out.iter_mut().enumerate() {
            *b = mixed[i % mixed.len()];
        }
    }
    out
}

/// A random `u64`.
pub fn u64() -> u64 {
    u64::from_le_bytes(bytes())
}

/// A repeatable sequence from a seed (splitmix64): the same numbers on
/// every run and machine. Not for anything that must be unpredictable.
#[derive(Debug, Clone)]
pub struct Seeded(u64);

impl Seeded {
    pub fn new(seed: u64) -> Self {
        Self(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` of 0 gives 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64().checked_rem(n).unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn draws_differ() {
        let draws: std::collections::HashSet<u64> = (0..100).map(|_| super::u64()).collect();
        assert_eq!(draws.len(), 100);
        assert_ne!(super::bytes::<16>(), [0; 16]);
    }

    #[test]
    fn a_seeded_sequence_repeats() {
        let mut a = super::Seeded::new(7);
        let mut b = super::Seeded::new(7);
        let first: Vec<u64> = (0..5).map(|_| a.next_u64()).collect();
        assert_eq!(first, (0..5).map(|_| b.next_u64()).collect::<Vec<_>>());
        // splitmix64's published first output for seed 0.
        assert_eq!(super::Seeded::new(0).next_u64(), 0xE220_A839_7B1D_CDAF);
        assert!((0..100).all(|_| a.below(10) < 10));
    }
}
