//! The one source of randomness: the operating system's (`getrandom`), for
//! what must differ between processes and runs (session ids, where a
//! launch starts looking for a free subnet). Tests that need repeatable
//! inputs seed their own generators instead.

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

#[cfg(test)]
mod tests {
    #[test]
    fn draws_differ() {
        let draws: std::collections::HashSet<u64> = (0..100).map(|_| super::u64()).collect();
        assert_eq!(draws.len(), 100);
        assert_ne!(super::bytes::<16>(), [0; 16]);
    }
}
