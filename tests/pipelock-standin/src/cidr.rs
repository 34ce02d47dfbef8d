//! CIDR blocks and IP literals the way pipelock (Go's `net`) reads them.

use std::net::{IpAddr, Ipv4Addr};

/// The ranges pipelock's scanner always treats as internal once SSRF checks
/// are on (`internal/scanner/core.go` coreInternalCIDRDefs); they are added
/// to whatever `internal` lists.
pub const CORE_INTERNAL: &[&str] = &[
    "0.0.0.0/8",
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
];

/// `internal` when the config does not say (`internal/config/normalize.go`):
/// the core ranges plus IPv4 and IPv6 multicast.
pub const DEFAULT_INTERNAL: &[&str] = &[
    "0.0.0.0/8",
    "127.0.0.0/8",
    "10.0.0.0/8",
    "172.16.0.0/12",
    "192.168.0.0/16",
    "169.254.0.0/16",
    "100.64.0.0/10",
    "::1/128",
    "fc00::/7",
    "fe80::/10",
    "224.0.0.0/4",
    "ff00::/8",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    /// The address as written (host bits may be set).
    pub addr: IpAddr,
    pub bits: u8,
}

impl Cidr {
    /// `addr/bits`; errors read like Go's `net.ParseCIDR`.
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = || format!("invalid CIDR address: {text}");
        let (addr, bits) = text.split_once('/').ok_or_else(bad)?;
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let bits = bits
            .parse::<u8>()
            .ok()
            .filter(|b| *b <= max && !bits.starts_with('+'))
            .ok_or_else(bad)?;
        Ok(Self { addr, bits })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                masked(u128::from(u32::from(net)), self.bits, 32)
                    == masked(u128::from(u32::from(ip)), self.bits, 32)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                masked(u128::from(net), self.bits, 128) == masked(u128::from(ip), self.bits, 128)
            }
            _ => false,
        }
    }

    /// The network address, host bits cleared.
    pub fn network(&self) -> IpAddr {
        match self.addr {
            IpAddr::V4(a) => {
                IpAddr::V4(Ipv4Addr::from(
                    masked(u128::from(u32::from(a)), self.bits, 32) as u32,
                ))
            }
            IpAddr::V6(a) => IpAddr::V6(masked(u128::from(a), self.bits, 128).into()),
        }
    }

    /// Whether `other` lies inside this block and is no wider.
    pub fn covers(&self, other: &Cidr) -> bool {
        self.addr.is_ipv4() == other.addr.is_ipv4()
            && self.contains(other.network())
            && self.bits <= other.bits
    }
}

/// `value` (an address `width` bits wide) with its host bits cleared.
fn masked(value: u128, bits: u8, width: u8) -> u128 {
    let host_bits = u32::from(width.saturating_sub(bits));
    if host_bits >= 128 {
        0
    } else {
        value >> host_bits << host_bits
    }
}

/// IPv4-mapped IPv6 (`::ffff:a.b.c.d`) as IPv4, as Go's `To4` does.
pub fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

pub fn parse_list(items: &[String]) -> Vec<Cidr> {
    items.iter().filter_map(|c| Cidr::parse(c).ok()).collect()
}

pub fn any_contains(blocks: &[Cidr], ip: IpAddr) -> bool {
    blocks.iter().any(|b| b.contains(ip))
}

/// IPv4 written in hex, octal or as one integer (`0x7f000001`, `0177.0.0.1`,
/// `2130706433`), which pipelock decodes before any check
/// (`internal/scanner/scanner.go` parseAlternativeIP). Plain dotted decimal
/// is not "alternative" and gives None.
pub fn parse_alternative_ip(host: &str) -> Option<Ipv4Addr> {
    let host = host.trim();
    if host.is_empty() {
        return None;
    }
    if host.contains('.') {
        let parts: Vec<&str> = host.split('.').collect();
        if parts.len() != 4 {
            return None;
        }
        let mut octets = [0u8; 4];
        for (octet, part) in octets.iter_mut().zip(&parts) {
            *octet = u8::try_from(go_parse_uint(part)?).ok()?;
        }
        let non_standard = parts.iter().any(|p| {
            p.starts_with("0x") || p.starts_with("0X") || (p.len() > 1 && p.starts_with('0'))
        });
        return non_standard.then(|| Ipv4Addr::from(octets));
    }
    let value = u32::try_from(go_parse_uint(host)?).ok()?;
    Some(Ipv4Addr::from(value))
}

/// Go's `strconv.ParseUint(s, 0, ...)` prefixes: 0x hex, 0o or 0 octal, 0b binary.
fn go_parse_uint(s: &str) -> Option<u64> {
    let lower = s.to_ascii_lowercase();
    let (digits, radix) = if let Some(d) = lower.strip_prefix("0x") {
        (d, 16)
    } else if let Some(d) = lower.strip_prefix("0o") {
        (d, 8)
    } else if let Some(d) = lower.strip_prefix("0b") {
        (d, 2)
    } else if lower.len() > 1 && lower.starts_with('0') {
        (&lower[1..], 8)
    } else {
        (lower.as_str(), 10)
    };
    let digits = digits.replace('_', "");
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
        return None;
    }
    u64::from_str_radix(&digits, radix).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn parse_and_contain() {
        let lo = Cidr::parse("127.0.0.0/8").unwrap();
        assert!(lo.contains(ip("127.9.9.9")) && !lo.contains(ip("128.0.0.1")));
        assert!(lo.contains(ip("::ffff:127.0.0.1")));
        let ula = Cidr::parse("fc00::/7").unwrap();
        assert!(ula.contains(ip("fd12::1")) && !ula.contains(ip("fe80::1")));
        assert!(!ula.contains(ip("10.0.0.1")));
        assert!(Cidr::parse("10.0.0.5/32").unwrap().contains(ip("10.0.0.5")));
        for bad in ["10.0.0.0", "10.0.0.0/33", "x/8", "10.0.0.0/-1", "::/129"] {
            assert_eq!(
                Cidr::parse(bad).unwrap_err(),
                format!("invalid CIDR address: {bad}")
            );
        }
    }

    #[test]
    fn network_and_cover() {
        let c = Cidr::parse("10.0.0.5/24").unwrap();
        assert_eq!(c.network(), ip("10.0.0.0"));
        let wide = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(wide.covers(&Cidr::parse("10.1.0.0/16").unwrap()));
        assert!(!Cidr::parse("10.1.0.0/16").unwrap().covers(&wide));
        assert_eq!(Cidr::parse("::/0").unwrap().bits, 0);
    }

    #[test]
    fn alternative_notations() {
        let lo = Some(Ipv4Addr::new(127, 0, 0, 1));
        assert_eq!(parse_alternative_ip("0x7f000001"), lo);
        assert_eq!(parse_alternative_ip("2130706433"), lo);
        assert_eq!(parse_alternative_ip("0177.0.0.1"), lo);
        assert_eq!(parse_alternative_ip("0x7f.0.0.1"), lo);
        assert_eq!(parse_alternative_ip("127.0.0.1"), None);
        assert_eq!(parse_alternative_ip("example.com"), None);
        assert_eq!(parse_alternative_ip("1.2.3"), None);
        assert_eq!(parse_alternative_ip("0x1ffffffff"), None);
    }
}
