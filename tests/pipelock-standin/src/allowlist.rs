//! pipelock's host matching: case-insensitive, trailing dot ignored; a pattern
//! is an exact host, or `*.domain` matching the apex and subdomains at any
//! depth; IP addresses match exactly only; ports are not part of a pattern.

use std::net::IpAddr;

pub fn matches_any(patterns: &[String], host: &str) -> bool {
    patterns.iter().any(|p| matches(p, host))
}

fn matches(pattern: &str, host: &str) -> bool {
    let host = normalise(host);
    let pattern = normalise(pattern);
    if host.is_empty() {
        return false;
    }
    if host.parse::<IpAddr>().is_ok() {
        return pattern == host;
    }
    match pattern.strip_prefix("*.") {
        Some(apex) => host == apex || host.ends_with(&format!(".{apex}")),
        None => pattern == host,
    }
}

fn normalise(name: &str) -> String {
    let name = name.trim();
    name.strip_suffix('.').unwrap_or(name).to_ascii_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(p: &[&str]) -> Vec<String> {
        p.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn exact_and_wildcard() {
        let l = list(&["github.com", "*.Anthropic.com", "10.0.0.1"]);
        for ok in [
            "github.com",
            "GitHub.com.",
            "anthropic.com",
            "api.anthropic.com",
            "a.b.anthropic.com",
            "10.0.0.1",
        ] {
            assert!(matches_any(&l, ok), "{ok}");
        }
        for no in [
            "api.github.com",
            "xanthropic.com",
            "anthropic.com.evil",
            "10.0.0.2",
            "",
            "com",
        ] {
            assert!(!matches_any(&l, no), "{no}");
        }
    }

    #[test]
    fn wildcards_never_match_ips() {
        assert!(!matches_any(&list(&["*.0.0.1"]), "10.0.0.1"));
    }
}
