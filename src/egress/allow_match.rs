//! Whether an allowlist entry lets a host through, by pipelock's own rules
//! (pure), so the dashboard and `logs --propose` agree with the sidecar.
//!
//! Pipelock compares case-insensitively and ignores a trailing dot; an entry
//! is an exact host, or `*.example.com`, which matches `example.com` itself
//! and its subdomains at any depth. An IP address matches only itself.

use std::net::IpAddr;

/// Whether `entry` (`host` or `*.domain`) lets `host` through.
pub fn entry_covers(entry: &str, host: &str) -> bool {
    let entry = normalise(entry);
    let host = normalise(host);
    if entry == host {
        return true;
    }
    // A wildcard never reaches an address: `*.0.1` is no domain of 10.0.0.1.
    if host.parse::<IpAddr>().is_ok() {
        return false;
    }
    entry.strip_prefix("*.").is_some_and(|domain| {
        host == domain
            || host
                .strip_suffix(domain)
                .is_some_and(|label| label.ends_with('.') && label.len() > 1)
    })
}

/// The first of `entries` that lets `host` through.
pub fn covering_entry<'a>(
    entries: impl IntoIterator<Item = &'a str>,
    host: &str,
) -> Option<&'a str> {
    entries.into_iter().find(|entry| entry_covers(entry, host))
}

fn normalise(name: &str) -> String {
    let name = name.trim();
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_hosts_ignore_case_and_a_trailing_dot() {
        assert!(entry_covers("docs.rs", "docs.rs"));
        assert!(entry_covers("Docs.RS", "docs.rs."));
        assert!(entry_covers("docs.rs.", "DOCS.rs"));
        assert!(!entry_covers("docs.rs", "www.docs.rs"));
        assert!(!entry_covers("docs.rs", "xdocs.rs"));
    }

    #[test]
    fn a_wildcard_covers_the_apex_and_every_depth() {
        let entry = "*.example.com";
        for host in ["example.com", "a.example.com", "a.b.c.Example.COM."] {
            assert!(entry_covers(entry, host), "{host}");
        }
        for host in ["badexample.com", "example.com.evil", "com", ".example.com"] {
            assert!(!entry_covers(entry, host), "{host}");
        }
    }

    #[test]
    fn addresses_match_only_themselves() {
        assert!(entry_covers("10.0.0.1", "10.0.0.1"));
        assert!(!entry_covers("10.0.0.1", "10.0.0.10"));
        assert!(!entry_covers("*.0.0.1", "10.0.0.1"));
        assert!(entry_covers("2001:DB8::1", "2001:db8::1"));
    }

    #[test]
    fn the_first_covering_entry_is_named() {
        let entries = ["api.anthropic.com", "*.github.com", "github.com"];
        assert_eq!(
            covering_entry(entries, "api.github.com"),
            Some("*.github.com")
        );
        assert_eq!(covering_entry(entries, "github.com"), Some("*.github.com"));
        assert_eq!(covering_entry(entries, "gitlab.com"), None);
    }
}
