//! Checks of single manifest values (names, hosts, sizes): pure functions.

use std::fmt::Write as _;
use std::net::Ipv4Addr;

use super::model::PrivateHost;

/// Why a value is wrong, and what would be right.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    pub message: String,
    pub hint: Option<String>,
}

impl Problem {
    pub fn new(message: impl Into<String>) -> Self {
        Problem {
            message: message.into(),
            hint: None,
        }
    }

    #[must_use]
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

/// `text` with the characters a terminal would hide or reorder (control characters, bidi
/// overrides, zero-width and combining marks) written as JSON escapes, `\u202e`, so an
/// error message shows exactly what the manifest holds and cannot be garbled by it.
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let hidden = !matches!(c, '"' | '\'' | '\\' | ' ')
            && (c.is_control() || c.escape_debug().next() == Some('\\'));
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if hidden => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    // Writing to a String cannot fail.
                    let _ = write!(out, "\\u{u:04x}");
                }
            }
            c => out.push(c),
        }
    }
    out
}

/// Longest bottle or agent name: they become parts of container and network names.
pub const MAX_NAME_LEN: usize = 40;

/// Env names claude-bottle sets itself; a manifest must not override them.
pub const RESERVED_ENV: &[&str] = &[
    "CLAUDE_CODE_OAUTH_TOKEN",
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "http_proxy",
    "https_proxy",
    "NO_PROXY",
    "no_proxy",
];

/// Docker refuses memory limits below 6 MiB.
pub const MIN_MEMORY_BYTES: u64 = 6 * 1024 * 1024;

/// Bottle and agent names: `[a-z0-9][a-z0-9_.-]*`, at most 40 characters.
pub fn check_entry_name(kind: &str, name: &str) -> Result<(), Problem> {
    let first_ok = name.starts_with(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit());
    let rest_ok = name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_.-".contains(c));
    if !first_ok || !rest_ok {
        let suggestion = name.to_lowercase().replace(
            |c: char| !(c.is_ascii_alphanumeric() || "_.-".contains(c)),
            "-",
        );
        let name = shown(name);
        let problem = Problem::new(format!(
            "{kind} name `{name}` may use only lowercase letters, digits, `_`, `.` and `-`, starting with a letter or digit (it becomes part of a container name)"
        ));
        let valid_suggestion =
            suggestion.starts_with(|c: char| c.is_ascii_alphanumeric()) && suggestion != name;
        return Err(if valid_suggestion {
            problem.hint(format!("try `{suggestion}`"))
        } else {
            problem
        });
    }
    if name.chars().count() > MAX_NAME_LEN {
        return Err(Problem::new(format!(
            "{kind} name `{}` is longer than {MAX_NAME_LEN} characters (it becomes part of a container name)",
            shown(name)
        )));
    }
    Ok(())
}

/// Env var names: `[A-Za-z_][A-Za-z0-9_]*`, not one claude-bottle sets itself.
pub fn check_env_name(name: &str) -> Result<(), Problem> {
    let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if name.is_empty() {
        return Err(Problem::new("an empty env name"));
    }
    if !valid {
        return Err(Problem::new(format!(
            "`{}` is not a valid env name: use ASCII letters, digits and `_`, not starting with a digit",
            shown(name)
        )));
    }
    if RESERVED_ENV.contains(&name) {
        return Err(Problem::new(format!(
            "`{name}` is set by claude-bottle itself and cannot be set in the manifest"
        )));
    }
    Ok(())
}

/// Skill names: `[A-Za-z0-9][A-Za-z0-9_.-]*` (a directory under `.claude/skills/`).
pub fn check_skill_name(name: &str) -> Result<(), Problem> {
    let valid = name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
    if valid {
        Ok(())
    } else {
        Err(Problem::new(format!(
            "`{}` is not a skill name: use letters, digits, `_`, `.` and `-`, starting with a letter or digit (the name of a directory under `.claude/skills/`)",
            shown(name)
        )))
    }
}

/// A docker context name as the docker CLI accepts one
/// (`^[a-zA-Z0-9][a-zA-Z0-9_.+-]+$`); it also names a folder, so no `/`.
pub fn is_context_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphanumeric())
        && name.len() >= 2
        && name.len() <= 100
        && chars.all(|c| c.is_ascii_alphanumeric() || "_.+-".contains(c))
}

/// A DNS host name: dot-separated labels of letters, digits and inner `-`.
pub fn is_host_name(host: &str) -> bool {
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        })
}

/// Labels that are all digits are an attempt at an IPv4 address, not a host name.
fn looks_numeric(host: &str) -> bool {
    host.split('.')
        .all(|l| !l.is_empty() && l.chars().all(|c| c.is_ascii_digit()))
}

/// An ssh `Hostname`: a host name or an IPv4 address.
pub fn check_ssh_hostname(host: &str) -> Result<(), Problem> {
    if looks_numeric(host) {
        return match host.parse::<Ipv4Addr>() {
            Ok(_) => Ok(()),
            Err(_) => Err(Problem::new(format!(
                "`{}` is not a valid IPv4 address",
                shown(host)
            ))),
        };
    }
    if is_host_name(host) {
        Ok(())
    } else {
        Err(Problem::new(format!(
            "`{}` is not a host name: use letters, digits, `-` and `.` (like `git.example.com`)",
            shown(host)
        )))
    }
}

/// An egress allowlist entry, lowercased and without a trailing dot.
///
/// The sidecar matches a host exactly, or `*.domain` as the domain and all its
/// subdomains, or an IPv4 address exactly; ports and paths are never part of a match.
pub fn normalise_allow_host(raw: &str) -> Result<String, Problem> {
    let shown_raw = shown(raw);
    let host = raw.to_lowercase();
    let host = host.strip_suffix('.').unwrap_or(&host);
    if host.is_empty() {
        return Err(Problem::new("an empty host name"));
    }
    if let Some((_, rest)) = host.split_once("://") {
        let bare = rest.split(['/', ':', '?', '#']).next().unwrap_or_default();
        return Err(Problem::new(format!(
            "`{shown_raw}` is a URL; write the host only: `{bare}`"
        )));
    }
    let trimmed = raw.trim();
    if trimmed != raw && !trimmed.is_empty() && !trimmed.contains(char::is_whitespace) {
        return Err(Problem::new(format!(
            "`{shown_raw}` has spaces around it; write `{}`",
            shown(trimmed)
        )));
    }
    if host.chars().any(char::is_whitespace) {
        return Err(Problem::new(format!(
            "`{shown_raw}` contains a space; write one host per entry"
        )));
    }
    if host == "*" {
        return Err(Problem::new(
            "a bare `*` would let the agent reach every host; list the hosts it needs",
        ));
    }
    if let Some((bare, _)) = host.split_once('/') {
        return Err(Problem::new(format!(
            "`{shown_raw}` has a path; paths are not restricted, write the host only: `{bare}`"
        )));
    }
    if host.matches(':').count() > 1 || host.starts_with('[') {
        return Err(Problem::new(format!(
            "`{shown_raw}` looks like an IPv6 address; only host names and IPv4 addresses are supported"
        )));
    }
    if let Some((bare, _)) = host.split_once(':') {
        return Err(Problem::new(format!(
            "`{shown_raw}` has a port; ports are not restricted, write `{bare}`"
        )));
    }
    if let Some(domain) = host.strip_prefix("*.") {
        if !domain.contains('*') && is_host_name(domain) && !looks_numeric(domain) {
            if !domain.contains('.') {
                return Err(Problem::new(format!(
                    "`{shown_raw}` would allow a whole top-level domain; name a domain like `*.example.{domain}`"
                )));
            }
            return Ok(host.to_string());
        }
    }
    if host.contains('*') {
        return Err(Problem::new(format!(
            "`{shown_raw}`: the only wildcard is a leading `*.` as in `*.example.com` (the domain and all its subdomains)"
        )));
    }
    if looks_numeric(host) {
        return match host.parse::<Ipv4Addr>() {
            Ok(_) => Ok(host.to_string()),
            Err(_) => Err(Problem::new(format!(
                "`{shown_raw}` is not a valid IPv4 address"
            ))),
        };
    }
    if is_host_name(host) {
        Ok(host.to_string())
    } else {
        Err(Problem::new(format!(
            "`{shown_raw}` is not a host name: use letters, digits, `-` and `.` (like `example.com`), or `*.example.com`"
        )))
    }
}

/// An `egress.private_hosts` entry: a host name, `*.domain`, an IPv4 address
/// or an IPv4 block. Loopback, `0.0.0.0/8` and link-local are refused: inside a
/// bottle loopback is the sidecar itself, and link-local holds cloud metadata
/// services.
pub fn normalise_private_host(raw: &str) -> Result<PrivateHost, Problem> {
    if let Some((addr, bits)) = raw.split_once('/').filter(|(addr, _)| looks_numeric(addr)) {
        let shown_raw = shown(raw);
        let (Ok(ip), Ok(bits)) = (addr.parse::<Ipv4Addr>(), bits.parse::<u8>()) else {
            return Err(Problem::new(format!(
                "`{shown_raw}` is not an IPv4 block; write it as `10.1.0.0/16`"
            )));
        };
        if bits > 32 {
            return Err(Problem::new(format!(
                "`{shown_raw}`: a block's prefix is at most 32 bits"
            )));
        }
        if bits < 8 {
            return Err(Problem::new(format!(
                "`{shown_raw}` is wider than a /8; name the network the hosts are on"
            )));
        }
        let mask = u32::MAX.checked_shl(32 - u32::from(bits)).unwrap_or(0);
        let network = Ipv4Addr::from(u32::from(ip) & mask);
        if network != ip {
            // The sidecar refuses such a block at start-up.
            return Err(Problem::new(format!("`{shown_raw}` has host bits set"))
                .hint(format!("did you mean `{network}/{bits}`?")));
        }
        check_private_range(raw, ip, bits)?;
        return Ok(PrivateHost::Block(ip, bits));
    }
    let host = normalise_allow_host(raw)?;
    match host.parse::<Ipv4Addr>() {
        Ok(ip) => {
            check_private_range(raw, ip, 32)?;
            Ok(PrivateHost::Address(ip))
        }
        Err(_) => Ok(PrivateHost::Name(host)),
    }
}

/// Refuses blocks that overlap loopback, `0.0.0.0/8` or link-local.
fn check_private_range(raw: &str, ip: Ipv4Addr, bits: u8) -> Result<(), Problem> {
    const REFUSED: [(Ipv4Addr, u8, &str); 3] = [
        (
            Ipv4Addr::new(127, 0, 0, 0),
            8,
            "loopback, which inside a bottle is the sidecar itself",
        ),
        (
            Ipv4Addr::UNSPECIFIED,
            8,
            "`0.0.0.0/8`, which no host is reached at",
        ),
        (
            Ipv4Addr::new(169, 254, 0, 0),
            16,
            "link-local, where cloud metadata services answer",
        ),
    ];
    let mask = |b: u8| u32::MAX.checked_shl(32 - u32::from(b)).unwrap_or(0);
    for (net, net_bits, what) in REFUSED {
        let common = mask(bits.min(net_bits));
        if u32::from(ip) & common == u32::from(net) & common {
            return Err(Problem::new(format!(
                "`{}` overlaps {what}; a bottle may not be given it",
                shown(raw)
            )));
        }
    }
    Ok(())
}

/// A memory size: `"512m"`, `"2g"`, `"1024k"`, `"1048576b"` (units k/m/g/t, an optional `b`,
/// any case) in whole numbers; at least 6 MiB.
pub fn parse_memory(text: &str) -> Result<u64, Problem> {
    let lower = text.trim().to_lowercase();
    let digits_end = lower
        .find(|c: char| !c.is_ascii_digit())
        .unwrap_or(lower.len());
    let (digits, unit) = lower.split_at(digits_end);
    let shift = match unit {
        "" | "b" => Some(0),
        "k" | "kb" => Some(10),
        "m" | "mb" => Some(20),
        "g" | "gb" => Some(30),
        "t" | "tb" => Some(40),
        _ => None,
    };
    let bad = || {
        Problem::new(format!("`{text}` is not a memory size"))
            .hint("write a whole number with a unit: `512m`, `2g`, `1536m`")
    };
    let (Some(shift), Ok(n)) = (shift, digits.parse::<u64>()) else {
        return Err(bad());
    };
    let bytes = n.checked_mul(1u64 << shift).ok_or_else(bad)?;
    check_memory_bytes(bytes)
}

/// Docker's lower bound for a memory limit.
pub fn check_memory_bytes(bytes: u64) -> Result<u64, Problem> {
    if bytes < MIN_MEMORY_BYTES {
        return Err(Problem::new(format!(
            "{bytes} bytes is below the smallest memory limit Docker accepts (6 MiB); write at least `6m`"
        )));
    }
    Ok(bytes)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn entry_names_become_container_names() {
        assert!(check_entry_name("bottle", "gitea-dev").is_ok());
        assert!(check_entry_name("bottle", "a1_.x").is_ok());
        let e = check_entry_name("bottle", "Dev Box").unwrap_err();
        assert_eq!(e.hint.as_deref(), Some("try `dev-box`"));
        assert!(check_entry_name("agent", "-x").is_err());
        assert!(check_entry_name("agent", &"a".repeat(41)).is_err());
        assert!(check_entry_name("agent", &"a".repeat(40)).is_ok());
    }

    #[test]
    fn hidden_characters_are_shown_as_escapes() {
        assert_eq!(shown("dev"), "dev");
        assert_eq!(shown("dév 😀 \"x\""), "dév 😀 \"x\"");
        assert_eq!(
            shown("a\u{202e}b\u{200b}c\u{301}"),
            "a\\u202eb\\u200bc\\u0301"
        );
        assert_eq!(shown("\0\n\t\u{1b}"), "\\u0000\\n\\t\\u001b");
    }

    #[test]
    fn env_names_and_reserved_ones() {
        assert!(check_env_name("GITHUB_TOKEN").is_ok());
        assert!(check_env_name("_x1").is_ok());
        assert!(check_env_name("1X").is_err());
        assert!(check_env_name("A-B").is_err());
        let e = check_env_name("https_proxy").unwrap_err();
        assert!(e.message.contains("set by claude-bottle"));
    }

    #[test]
    fn private_hosts_are_names_addresses_or_blocks() {
        use std::net::Ipv4Addr;
        assert_eq!(
            normalise_private_host("Gitea.LAN.").unwrap(),
            PrivateHost::Name("gitea.lan".into())
        );
        assert_eq!(
            normalise_private_host("*.corp.example").unwrap(),
            PrivateHost::Name("*.corp.example".into())
        );
        assert_eq!(
            normalise_private_host("10.0.0.5").unwrap(),
            PrivateHost::Address(Ipv4Addr::new(10, 0, 0, 5))
        );
        assert_eq!(
            normalise_private_host("192.168.1.0/24").unwrap(),
            PrivateHost::Block(Ipv4Addr::new(192, 168, 1, 0), 24)
        );
        assert_eq!(
            normalise_private_host("192.168.1.0/24").unwrap().text(),
            "192.168.1.0/24"
        );
        assert_eq!(
            normalise_private_host("192.168.1.0/24")
                .unwrap()
                .allow_entry(),
            None
        );
    }

    #[test]
    fn private_hosts_refuse_loopback_link_local_and_nonsense() {
        for (raw, says) in [
            ("127.0.0.1", "loopback"),
            ("127.1.2.0/24", "loopback"),
            ("100.0.0.0/7", "wider than a /8"),
            ("0.0.0.0/8", "0.0.0.0/8"),
            ("169.254.169.254", "link-local"),
            ("169.254.0.0/20", "link-local"),
            ("10.0.0.0/33", "at most 32"),
            ("10.0.0/8", "not an IPv4 block"),
            ("10.0.0.0/x", "not an IPv4 block"),
            ("192.168.1.5/24", "host bits set"),
            ("gitea.lan/24", "has a path"),
            ("http://gitea.lan", "is a URL"),
            ("*", "bare `*`"),
        ] {
            let err = normalise_private_host(raw).unwrap_err();
            assert!(err.message.contains(says), "{raw}: {}", err.message);
        }
        assert!(normalise_private_host("126.255.0.0/16").is_ok());
    }

    #[test]
    fn allowlist_entries_are_normalised() {
        assert_eq!(normalise_allow_host("GitHub.com.").unwrap(), "github.com");
        assert_eq!(
            normalise_allow_host("*.GitHubUserContent.com").unwrap(),
            "*.githubusercontent.com"
        );
        assert_eq!(normalise_allow_host("10.0.0.5").unwrap(), "10.0.0.5");
        assert_eq!(normalise_allow_host("localhost").unwrap(), "localhost");
    }

    #[test]
    fn allowlist_rejects_what_the_sidecar_cannot_match() {
        let msg = |s: &str| normalise_allow_host(s).unwrap_err().message;
        assert_eq!(
            msg("https://example.com/x"),
            "`https://example.com/x` is a URL; write the host only: `example.com`"
        );
        assert_eq!(
            msg("example.com:443"),
            "`example.com:443` has a port; ports are not restricted, write `example.com`"
        );
        assert!(msg("*").contains("every host"));
        assert!(msg("*.com").contains("top-level domain"));
        assert!(msg("*foo.com").contains("only wildcard"));
        assert!(msg("a.*.b").contains("only wildcard"));
        assert!(msg("a b").contains("space"));
        assert!(msg("example.com/path").contains("paths are not restricted"));
        assert!(msg("300.1.1.1").contains("IPv4"));
        assert!(msg("::1").contains("IPv6"));
        assert!(msg("under_score.com").contains("not a host name"));
        assert!(msg("").contains("empty"));
    }

    #[test]
    fn memory_sizes() {
        assert_eq!(parse_memory("2g").unwrap(), 2 << 30);
        assert_eq!(parse_memory("512M").unwrap(), 512 << 20);
        assert_eq!(parse_memory("10240k").unwrap(), 10 << 20);
        assert_eq!(parse_memory("7340032").unwrap(), 7 << 20);
        assert!(parse_memory("1.5g").is_err());
        assert!(parse_memory("lots").is_err());
        assert!(parse_memory("5m").unwrap_err().message.contains("6 MiB"));
        assert!(parse_memory("99999999999999t").is_err());
    }
}
