//! pipelock's SSRF checks: refuse destinations that are, or resolve to,
//! internal addresses. Measured against real pipelock 2.3.0 on loopback
//! (python servers on 127.0.0.1, `curl -x`), CONNECT and plain HTTP alike:
//!
//! - With the default `internal` list, an allowlisted name resolving to
//!   127.0.0.1 is refused: 403, `blocked`, scanner `ssrf`, reason
//!   "SSRF blocked: localhost resolves to internal IP 127.0.0.1".
//! - An IP literal goes through the same check (scanner `ssrf`, reason
//!   "SSRF blocked: 127.0.0.1 resolves to internal IP 127.0.0.1"); `core_ssrf`
//!   ("core SSRF: 127.0.0.1 is a private/internal IP address") only appears
//!   when `internal: []` switches the name check off.
//! - `trusted_domains: [localhost]` alone lets `localhost` through, CONNECT
//!   and plain HTTP, the dial-time check included; other names resolving to
//!   127.0.0.1 stay refused. An IP literal in `trusted_domains` never
//!   matches: 127.0.0.1 stays refused.
//! - `ssrf.ip_allowlist: [127.0.0.0/8]` lets names and IP literals alike
//!   through.
//! - A configured `internal` list is added to the core ranges, never
//!   replaces them: `internal: [10.0.0.0/8]` still refuses 127.0.0.1.
//! - Hex, octal and integer IPv4 (`0x7f000001`) are rewritten to dotted form
//!   before any check; the reason then names `127.0.0.1`.
//! - A name that does not resolve is refused too (fail closed):
//!   "SSRF check failed: DNS resolution error for H: lookup H on NS:53: no such host".

use std::io;
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};

use crate::cidr::{self, CORE_INTERNAL};
use crate::config::Config;

#[derive(Debug, PartialEq)]
pub struct Refusal {
    pub scanner: &'static str,
    pub reason: String,
}

/// The host as pipelock's scanner sees it: lower case, alternative IPv4
/// notations rewritten to dotted decimal.
pub fn canonical_host(host: &str) -> String {
    let host = host.to_ascii_lowercase();
    cidr::parse_alternative_ip(&host).map_or(host, |ip| ip.to_string())
}

/// The scan-time checks, in pipelock's order: the core literal check (only
/// when `internal` is empty), then the resolving check.
pub fn check(config: &Config, host: &str) -> Result<(), Refusal> {
    check_with(config, host, resolve)
}

pub fn check_with(
    config: &Config,
    host: &str,
    resolve: impl Fn(&str) -> io::Result<Vec<IpAddr>>,
) -> Result<(), Refusal> {
    let allowlisted = cidr::parse_list(&config.ssrf_ip_allowlist);
    let internal = cidr::parse_list(&config.internal);
    if internal.is_empty() {
        // scanner.go checkCoreSSRFLiteral: a safety floor for IP literals.
        let core = cidr::parse_list(&strings(CORE_INTERNAL));
        let literal = host.split('%').next().unwrap_or(host).parse::<IpAddr>();
        if let Ok(ip) = literal
            && cidr::any_contains(&core, ip)
            && !cidr::any_contains(&allowlisted, ip)
        {
            return Err(Refusal {
                scanner: "core_ssrf",
                reason: format!("core SSRF: {host} is a private/internal IP address"),
            });
        }
        return Ok(());
    }
    // scanner.go checkSSRF: core ranges plus the configured ones.
    let mut ranges = cidr::parse_list(&strings(CORE_INTERNAL));
    ranges.extend(internal);
    let ips = resolve(host).map_err(|e| Refusal {
        scanner: "ssrf",
        reason: format!(
            "SSRF check failed: DNS resolution error for {host}: {}",
            lookup_error(host, &e)
        ),
    })?;
    if is_trusted(config, host) {
        return Ok(());
    }
    for ip in ips {
        if cidr::any_contains(&ranges, ip) && !cidr::any_contains(&allowlisted, ip) {
            return Err(Refusal {
                scanner: "ssrf",
                reason: format!("SSRF blocked: {host} resolves to internal IP {ip}"),
            });
        }
    }
    Ok(())
}

/// proxy.go ssrfSafeDialContext: resolve again at dial time and refuse an
/// internal address unless the name is trusted or the address allowlisted.
/// Only the configured `internal` list counts here, not the core ranges.
/// Connects to the first address, as pipelock does.
pub fn dial_addr(config: &Config, host: &str, port: u16) -> io::Result<SocketAddr> {
    let internal = cidr::parse_list(&config.internal);
    let allowlisted = cidr::parse_list(&config.ssrf_ip_allowlist);
    let blocked = |msg: String| io::Error::new(io::ErrorKind::PermissionDenied, msg);
    if let Ok(ip) = host.parse::<IpAddr>() {
        let ip = cidr::canonical(ip);
        if cidr::any_contains(&internal, ip) && !cidr::any_contains(&allowlisted, ip) {
            return Err(blocked(format!(
                "SSRF blocked: connection to internal IP {host}"
            )));
        }
        return Ok(SocketAddr::new(ip, port));
    }
    let ips = resolve(host).map_err(|e| {
        io::Error::new(
            e.kind(),
            format!(
                "ssrfSafeDialContext: DNS lookup {host:?}: {}",
                lookup_error(host, &e)
            ),
        )
    })?;
    let trusted = is_trusted(config, host);
    for ip in &ips {
        let ip = cidr::canonical(*ip);
        if cidr::any_contains(&internal, ip) && !(trusted || cidr::any_contains(&allowlisted, ip)) {
            return Err(blocked(format!(
                "SSRF blocked: {host} resolves to internal IP {ip}"
            )));
        }
    }
    let first = ips.first().ok_or_else(|| {
        blocked(format!(
            "SSRF blocked: DNS returned no addresses for {host}"
        ))
    })?;
    Ok(SocketAddr::new(*first, port))
}

/// scanner.go IsTrustedDomain: allowlist matching, host names only.
fn is_trusted(config: &Config, host: &str) -> bool {
    host.parse::<IpAddr>().is_err() && crate::allowlist::matches_any(&config.trusted_domains, host)
}

/// The addresses of a name, in resolver order, without repeats.
pub fn resolve(host: &str) -> io::Result<Vec<IpAddr>> {
    let mut ips: Vec<IpAddr> = Vec::new();
    for addr in (host, 0).to_socket_addrs()? {
        if !ips.contains(&addr.ip()) {
            ips.push(addr.ip());
        }
    }
    if ips.is_empty() {
        return Err(io::Error::new(io::ErrorKind::NotFound, "no such host"));
    }
    Ok(ips)
}

/// Go's resolver error text: `lookup H on NS:53: no such host`.
fn lookup_error(host: &str, error: &io::Error) -> String {
    let text = error.to_string();
    let not_found = [
        "not known",
        "does not resolve",
        "no such host",
        "No address",
    ]
    .iter()
    .any(|s| text.contains(s));
    match (not_found, first_nameserver()) {
        (true, Some(ns)) => format!("lookup {host} on {ns}:53: no such host"),
        (true, None) => format!("lookup {host}: no such host"),
        (false, _) => format!("lookup {host}: {text}"),
    }
}

fn first_nameserver() -> Option<String> {
    let conf = std::fs::read_to_string("/etc/resolv.conf").ok()?;
    conf.lines()
        .find_map(|l| l.trim().strip_prefix("nameserver"))
        .map(|ns| ns.trim().to_string())
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(extra: &str) -> Config {
        Config::parse(&format!(
            "mode: strict\napi_allowlist:\n  - \"*.test\"\n{extra}"
        ))
        .unwrap()
    }

    /// A resolver: `*.lan` names are 10.0.0.5, `gone.test` fails, others public.
    fn fake(host: &str) -> io::Result<Vec<IpAddr>> {
        if let Ok(ip) = host.parse() {
            return Ok(vec![ip]);
        }
        match host {
            "gone.test" => Err(io::Error::other("Name or service not known")),
            h if h.ends_with(".lan") || h == "localhost" => Ok(vec!["10.0.0.5".parse().unwrap()]),
            _ => Ok(vec!["93.184.216.34".parse().unwrap()]),
        }
    }

    fn verdict(c: &Config, host: &str) -> Result<(), (&'static str, String)> {
        check_with(c, host, fake).map_err(|r| (r.scanner, r.reason))
    }

    #[test]
    fn internal_names_and_literals_are_refused_by_default() {
        let c = config("");
        assert_eq!(verdict(&c, "public.test"), Ok(()));
        assert_eq!(
            verdict(&c, "db.lan"),
            Err((
                "ssrf",
                "SSRF blocked: db.lan resolves to internal IP 10.0.0.5".into()
            ))
        );
        assert_eq!(
            verdict(&c, "127.0.0.1"),
            Err((
                "ssrf",
                "SSRF blocked: 127.0.0.1 resolves to internal IP 127.0.0.1".into()
            ))
        );
        for ip in [
            "100.64.1.1",
            "169.254.169.254",
            "172.16.0.1",
            "192.168.1.1",
            "::1",
            "fd00::1",
            "224.0.0.1",
        ] {
            assert!(verdict(&c, ip).is_err(), "{ip}");
        }
        let (scanner, reason) = verdict(&c, "gone.test").unwrap_err();
        assert_eq!(scanner, "ssrf");
        assert!(reason.starts_with(
            "SSRF check failed: DNS resolution error for gone.test: lookup gone.test"
        ));
    }

    #[test]
    fn trusted_domains_match_names_only() {
        let c = config("trusted_domains:\n  - \"*.corp.lan\"\n  - \"10.0.0.5\"\n");
        assert_eq!(verdict(&c, "db.corp.lan"), Ok(()));
        assert_eq!(verdict(&c, "DB.Corp.Lan."), Ok(()));
        assert!(verdict(&c, "db.lan").is_err());
        assert!(verdict(&c, "10.0.0.5").is_err());
    }

    #[test]
    fn ip_allowlist_lets_names_and_literals_through() {
        let c = config("ssrf:\n  ip_allowlist:\n    - \"10.0.0.0/24\"\n");
        assert_eq!(verdict(&c, "db.lan"), Ok(()));
        assert_eq!(verdict(&c, "10.0.0.9"), Ok(()));
        assert!(verdict(&c, "10.0.1.1").is_err());
    }

    #[test]
    fn configured_internal_adds_to_the_core_ranges() {
        let c = config("internal:\n  - \"93.184.216.0/24\"\n");
        assert!(verdict(&c, "public.test").is_err());
        assert!(verdict(&c, "127.0.0.1").is_err());
    }

    #[test]
    fn empty_internal_leaves_only_the_core_literal_check() {
        let c = config("internal: []\n");
        assert_eq!(verdict(&c, "db.lan"), Ok(()));
        assert_eq!(
            verdict(&c, "127.0.0.1"),
            Err((
                "core_ssrf",
                "core SSRF: 127.0.0.1 is a private/internal IP address".into()
            ))
        );
        assert_eq!(verdict(&c, "224.0.0.1"), Ok(()));
        let allowed = config("internal: []\nssrf:\n  ip_allowlist:\n    - \"127.0.0.0/8\"\n");
        assert_eq!(verdict(&allowed, "127.0.0.1"), Ok(()));
    }

    #[test]
    fn dial_time_check() {
        let trusted = config("trusted_domains:\n  - \"localhost\"\n");
        assert_eq!(dial_addr(&trusted, "localhost", 81).unwrap().port(), 81);
        let plain = config("");
        let e = dial_addr(&plain, "127.0.0.1", 80).unwrap_err();
        assert_eq!(
            e.to_string(),
            "SSRF blocked: connection to internal IP 127.0.0.1"
        );
        let e = dial_addr(&plain, "localhost", 80).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("SSRF blocked: localhost resolves to internal IP 127.0.0.1")
        );
        let open = config("internal: []\n");
        assert!(dial_addr(&open, "127.0.0.1", 80).is_ok());
    }

    #[test]
    fn alternative_ipv4_is_rewritten() {
        assert_eq!(canonical_host("0x7F000001"), "127.0.0.1");
        assert_eq!(canonical_host("Example.COM"), "example.com");
    }
}
