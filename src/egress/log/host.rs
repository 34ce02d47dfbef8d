//! The host named by a log line's target: `host:port`, `[v6]:port`, a bare
//! host, or an absolute URL.

use std::net::Ipv6Addr;

/// The host in `target`, lowercase, without port, brackets or trailing dot;
/// `None` for a path, a redacted target or anything unparsable.
pub fn host_of(target: &str) -> Option<String> {
    let authority = match target.split_once("://") {
        Some((_, rest)) => {
            let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            let authority = &rest[..end];
            authority
                .rsplit_once('@')
                .map_or(authority, |(_, host)| host)
        }
        None => target,
    };
    let host = host_without_port(authority)?;
    let host = host.strip_suffix('.').unwrap_or(host);
    // Empty labels (`a..b`, `x..`, `.x`) make no host name.
    let plausible = !host.is_empty()
        && !host.starts_with('.')
        && !host.ends_with('.')
        && !host.contains("..")
        && host
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | ':' | '*'));
    plausible.then(|| host.to_ascii_lowercase())
}

fn host_without_port(authority: &str) -> Option<&str> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        // `[redacted-url]` is bracketed too, but is no address.
        let (inside, after) = bracketed.split_once(']')?;
        inside.parse::<Ipv6Addr>().ok()?;
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        return port_ok.then_some(inside);
    }
    match authority.matches(':').count() {
        0 => Some(authority),
        1 => {
            let (host, port) = authority.split_once(':')?;
            is_port(port).then_some(host)
        }
        // Several colons without brackets: only a bare IPv6 address fits.
        _ => authority.parse::<Ipv6Addr>().is_ok().then_some(authority),
    }
}

fn is_port(text: &str) -> bool {
    !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::host_of;

    #[test]
    fn host_port_targets() {
        assert_eq!(
            host_of("API.Anthropic.com:443").as_deref(),
            Some("api.anthropic.com")
        );
        assert_eq!(host_of("example.com.:80").as_deref(), Some("example.com"));
        assert_eq!(host_of("10.0.0.1:8080").as_deref(), Some("10.0.0.1"));
        assert_eq!(host_of("bare.example").as_deref(), Some("bare.example"));
    }

    #[test]
    fn ipv6_targets() {
        assert_eq!(host_of("[2001:DB8::1]:443").as_deref(), Some("2001:db8::1"));
        assert_eq!(host_of("[::1]").as_deref(), Some("::1"));
        assert_eq!(host_of("::1").as_deref(), Some("::1"));
        assert_eq!(host_of("http://[::1]:8080/x").as_deref(), Some("::1"));
    }

    #[test]
    fn urls() {
        assert_eq!(
            host_of("http://example.org/pkg.tgz").as_deref(),
            Some("example.org")
        );
        assert_eq!(
            host_of("https://u:p@Host.io:8443?q=1").as_deref(),
            Some("host.io")
        );
        assert_eq!(
            host_of("http://example.org/[redacted]").as_deref(),
            Some("example.org")
        );
    }

    #[test]
    fn no_host() {
        for target in [
            "[redacted-url]",
            "/config/pipelock.yaml",
            "",
            "host:port",
            "host:",
            "a b:443",
            "[::1]x",
            "http://",
            // Found by tests/fuzz_inputs.rs: `x..` used to give `x.`.
            "x..",
            "x..:443",
            "a..b",
            ".a",
        ] {
            assert_eq!(host_of(target), None, "{target:?}");
        }
    }
}
