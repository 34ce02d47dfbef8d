//! Small subnets for bottle networks.
//!
//! Docker's default address pools hand out a /16 or /20 per network and run out
//! near 30 networks; a bottle needs two. Each bottle network gets a /29 (a
//! gateway and up to five containers) from a pool, 8192 of them in a /16.

use std::net::Ipv4Addr;

/// The pool bottle subnets come from unless `CLAUDE_BOTTLE_SUBNET_POOL` says otherwise.
pub const DEFAULT_POOL: &str = "10.213.0.0/16";
/// Prefix length of one bottle network.
pub const BOTTLE_PREFIX: u8 = 29;

/// An IPv4 CIDR block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub base: Ipv4Addr,
    pub prefix: u8,
}

impl Cidr {
    /// Parses `a.b.c.d/n`; host bits are cleared.
    pub fn parse(text: &str) -> Option<Self> {
        let (addr, prefix) = text.trim().split_once('/')?;
        let base: Ipv4Addr = addr.parse().ok()?;
        let prefix: u8 = prefix.parse().ok()?;
        if prefix > 32 {
            return None;
        }
        let cidr = Self { base, prefix };
        Some(Self {
            base: Ipv4Addr::from(cidr.first()),
            prefix,
        })
    }

    fn mask(self) -> u32 {
        if self.prefix == 0 {
            0
        } else {
            u32::MAX << (32 - self.prefix)
        }
    }

    fn first(self) -> u32 {
        u32::from(self.base) & self.mask()
    }

    fn last(self) -> u32 {
        self.first() | !self.mask()
    }

    pub fn overlaps(self, other: Cidr) -> bool {
        self.first() <= other.last() && other.first() <= self.last()
    }

    /// The first usable address, which Docker makes the gateway.
    pub fn gateway(self) -> Ipv4Addr {
        self.host(1)
    }

    /// The `n`th address of the block (`0` is the network address).
    pub fn host(self, n: u32) -> Ipv4Addr {
        Ipv4Addr::from(self.first() + n)
    }
}

impl std::fmt::Display for Cidr {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.base, self.prefix)
    }
}

/// The first `/prefix` block of `pool` that overlaps none of `used`.
pub fn first_free(pool: Cidr, prefix: u8, used: &[Cidr]) -> Option<Cidr> {
    free_from(pool, prefix, used, 0)
}

/// The first free `/prefix` block of `pool` at or after block number
/// `start` (taken modulo the number of blocks), wrapping round to the
/// pool's start. Launches in separate processes start at different blocks so
/// they rarely race for the same one.
pub fn free_from(pool: Cidr, prefix: u8, used: &[Cidr], start: u64) -> Option<Cidr> {
    if prefix < pool.prefix || prefix > 30 {
        return None;
    }
    let step = 1u64 << (32 - prefix);
    let first = u64::from(pool.first());
    let end = u64::from(pool.last());
    let blocks = (end - first + 1) / step;
    let middle = first + (start % blocks) * step;
    scan(middle, end, prefix, used).or_else(|| scan(first, middle.saturating_sub(1), prefix, used))
}

/// The first `/prefix` block in `[from, to]` (addresses, `from` aligned)
/// that overlaps none of `used`.
fn scan(from: u64, to: u64, prefix: u8, used: &[Cidr]) -> Option<Cidr> {
    let step = 1u64 << (32 - prefix);
    let mut start = from;
    while start + step - 1 <= to {
        let candidate = Cidr {
            base: Ipv4Addr::from(u32::try_from(start).ok()?),
            prefix,
        };
        match used.iter().find(|u| u.overlaps(candidate)) {
            // Jump past the whole used block, not just one step.
            Some(u) => {
                start = (u64::from(u.last()) + 1)
                    .max(start + step)
                    .next_multiple_of(step);
            }
            None => return Some(candidate),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cidr(s: &str) -> Cidr {
        Cidr::parse(s).unwrap()
    }

    #[test]
    fn parses_and_normalises() {
        assert_eq!(cidr("10.213.0.5/29").to_string(), "10.213.0.0/29");
        assert_eq!(
            cidr("10.213.0.0/29").gateway(),
            Ipv4Addr::new(10, 213, 0, 1)
        );
        assert_eq!(Cidr::parse("10.0.0.0/33"), None);
        assert_eq!(Cidr::parse("nonsense"), None);
        assert_eq!(Cidr::parse("fd00::/64"), None);
    }

    #[test]
    fn allocates_past_used_blocks() {
        let pool = cidr("10.213.0.0/16");
        assert_eq!(first_free(pool, 29, &[]), Some(cidr("10.213.0.0/29")));
        let used = [cidr("10.213.0.0/29"), cidr("10.213.0.8/29")];
        assert_eq!(first_free(pool, 29, &used), Some(cidr("10.213.0.16/29")));
        // A big foreign network inside the pool is skipped in one jump.
        let used = [cidr("10.213.0.0/20")];
        assert_eq!(first_free(pool, 29, &used), Some(cidr("10.213.16.0/29")));
        // A network that covers the whole pool leaves nothing.
        assert_eq!(first_free(pool, 29, &[cidr("10.0.0.0/8")]), None);
    }

    #[test]
    fn a_full_pool_is_none() {
        let pool = cidr("10.213.0.0/28");
        let used = [cidr("10.213.0.0/29")];
        assert_eq!(first_free(pool, 29, &used), Some(cidr("10.213.0.8/29")));
        let used = [cidr("10.213.0.0/29"), cidr("10.213.0.8/29")];
        assert_eq!(first_free(pool, 29, &used), None);
    }

    #[test]
    fn a_later_start_wraps_round_the_pool() {
        let pool = cidr("10.213.0.0/27"); // four /29 blocks
        assert_eq!(free_from(pool, 29, &[], 2), Some(cidr("10.213.0.16/29")));
        // The start is taken modulo the number of blocks.
        assert_eq!(free_from(pool, 29, &[], 7), Some(cidr("10.213.0.24/29")));
        let used = [cidr("10.213.0.16/28")];
        assert_eq!(free_from(pool, 29, &used, 2), Some(cidr("10.213.0.0/29")));
        let used = [cidr("10.213.0.0/28"), cidr("10.213.0.16/29")];
        assert_eq!(free_from(pool, 29, &used, 3), Some(cidr("10.213.0.24/29")));
        assert_eq!(free_from(pool, 29, &used, 1), Some(cidr("10.213.0.24/29")));
        let full = [cidr("10.213.0.0/27")];
        assert_eq!(free_from(pool, 29, &full, 3), None);
    }

    #[test]
    fn every_start_finds_the_one_free_block() {
        let pool = cidr("10.213.0.0/24");
        let used = [
            cidr("10.213.0.0/25"),
            cidr("10.213.0.136/29"),
            cidr("10.213.0.144/28"),
            cidr("10.213.0.160/27"),
            cidr("10.213.0.192/26"),
        ];
        for start in 0..40 {
            assert_eq!(
                free_from(pool, 29, &used, start),
                Some(cidr("10.213.0.128/29")),
                "start {start}"
            );
        }
    }

    #[test]
    fn sixty_four_networks_fit_without_overlap() {
        let pool = cidr(DEFAULT_POOL);
        let mut used = Vec::new();
        for _ in 0..64 {
            let next = first_free(pool, BOTTLE_PREFIX, &used).unwrap();
            assert!(used.iter().all(|u: &Cidr| !u.overlaps(next)));
            used.push(next);
        }
        assert_eq!(used.len(), 64);
    }
}
