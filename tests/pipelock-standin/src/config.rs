//! The settings the stand-in honours, read from a pipelock YAML config, with
//! pipelock's defaults for what is left out and its error messages.

use std::path::Path;

use crate::cidr::{Cidr, DEFAULT_INTERNAL};
use crate::schema::{self, Problem};
use crate::yaml;

pub const DEFAULT_LISTEN: &str = "127.0.0.1:8888";

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// `strict`, `balanced` or `audit`; only strict enforces the allowlist.
    pub mode: String,
    pub allowlist: Vec<String>,
    pub listen: Option<String>,
    /// Shown as `agent` in log lines; pipelock says `anonymous` without one.
    pub identity: String,
    /// Start-up only: a reload cannot switch the forward proxy on.
    pub forward_enabled: bool,
    /// Host patterns exempt from the internal-address check (names only).
    pub trusted_domains: Vec<String>,
    /// CIDRs counted as internal; empty switches the resolving SSRF check off.
    pub internal: Vec<String>,
    /// CIDRs exempt from the internal-address check.
    pub ssrf_ip_allowlist: Vec<String>,
    // Read only to judge a reload the way pipelock does (reloadwarn.go);
    // the stand-in scans no content.
    pub dlp_scan_env: bool,
    pub dlp_include_defaults: bool,
    pub dlp_secrets_file: String,
    pub response_scanning: bool,
    pub request_body_scanning: bool,
    pub media_policy: bool,
    /// `tls_interception` when enabled: CONNECTs to other hosts are opened.
    pub tls: Option<TlsSettings>,
    /// `forward_proxy.max_tunnel_seconds` and `idle_timeout_seconds`.
    pub tunnel_max_seconds: u64,
    pub tunnel_idle_seconds: u64,
}

/// `tls_interception`, enabled.
#[derive(Debug, Clone, PartialEq)]
pub struct TlsSettings {
    pub ca_cert: String,
    pub ca_key: String,
    /// Hosts relayed unopened: exact, or `*.domain` for its subdomains only.
    pub passthrough: Vec<String>,
    pub max_response_bytes: u64,
}

impl TlsSettings {
    /// pipelock's `isPassthrough`: `*.example.com` matches subdomains at any
    /// depth, not `example.com` itself.
    pub fn passes_through(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        self.passthrough.iter().any(|pattern| {
            let pattern = pattern.to_ascii_lowercase();
            pattern == host
                || pattern
                    .strip_prefix('*')
                    .is_some_and(|suffix| suffix.starts_with('.') && host.ends_with(suffix))
        })
    }
}

impl Default for Config {
    /// What pipelock runs with when given no config file.
    fn default() -> Self {
        Self {
            mode: "balanced".to_string(),
            allowlist: Vec::new(),
            listen: None,
            identity: "anonymous".to_string(),
            forward_enabled: false,
            trusted_domains: Vec::new(),
            internal: DEFAULT_INTERNAL.iter().map(|s| s.to_string()).collect(),
            ssrf_ip_allowlist: Vec::new(),
            dlp_scan_env: true,
            dlp_include_defaults: true,
            dlp_secrets_file: String::new(),
            response_scanning: true,
            request_body_scanning: true,
            media_policy: true,
            tls: None,
            tunnel_max_seconds: 300,
            tunnel_idle_seconds: 120,
        }
    }
}

/// Why a config could not be used, worded as pipelock words it.
#[derive(Debug, PartialEq)]
pub enum LoadError {
    /// `reading config PATH: ...`
    Read(String),
    /// yaml.v3's message; shown as `parsing config PATH: yaml: ...`.
    Parse(String),
    /// `invalid config: ...`
    Invalid(String),
    /// A setting the stand-in cannot honour.
    Unsupported(String),
}

impl LoadError {
    pub fn describe(&self, path: &Path) -> String {
        let path = path.display();
        match self {
            Self::Read(e) => format!("reading config {path}: {e}"),
            Self::Parse(e) => format!("parsing config {path}: {e}"),
            Self::Invalid(e) => format!("invalid config: {e}"),
            Self::Unsupported(e) => format!("pipelock-standin: {e}"),
        }
    }
}

impl Config {
    /// The file's config and the sha256 of its bytes.
    pub fn load(path: &Path) -> Result<(Self, String), String> {
        let bytes =
            std::fs::read(path).map_err(|e| LoadError::Read(e.to_string()).describe(path))?;
        let config = Self::parse(&String::from_utf8_lossy(&bytes)).map_err(|e| e.describe(path))?;
        Ok((config, crate::reload::sha256_hex(&bytes)))
    }

    pub fn parse(text: &str) -> Result<Self, LoadError> {
        let doc = yaml::parse(text).map_err(LoadError::Parse)?;
        schema::check(&doc).map_err(|p| match p {
            Problem::Unknown(e) => LoadError::Parse(e),
            Problem::Unsupported(e) => LoadError::Unsupported(e),
        })?;
        let d = Self::default();
        let flag = |path: &str, default: bool| doc.scalar(path).map_or(default, |v| v == "true");
        let list = |path: &str| doc.lists.get(path).cloned();
        let number = |path: &str, default: u64| {
            doc.scalar(path)
                .and_then(|v| v.parse::<u64>().ok())
                .filter(|n| *n > 0)
                .unwrap_or(default)
        };
        let tls = flag("tls_interception.enabled", false).then(|| TlsSettings {
            ca_cert: doc
                .scalar("tls_interception.ca_cert")
                .unwrap_or("")
                .to_string(),
            ca_key: doc
                .scalar("tls_interception.ca_key")
                .unwrap_or("")
                .to_string(),
            passthrough: list("tls_interception.passthrough_domains").unwrap_or_default(),
            max_response_bytes: number("tls_interception.max_response_bytes", 5 << 20),
        });
        if !flag("enforce", true) {
            return Err(LoadError::Unsupported(
                "enforce: false (detect-only) is not implemented by the stand-in".to_string(),
            ));
        }
        if list("fetch_proxy.monitoring.blocklist").is_some_and(|l| !l.is_empty()) {
            return Err(LoadError::Unsupported(
                "a non-empty fetch_proxy.monitoring.blocklist is not implemented by the stand-in"
                    .to_string(),
            ));
        }
        let mut config = Self {
            mode: doc.scalar("mode").map_or(d.mode, String::from),
            allowlist: list("api_allowlist").unwrap_or_default(),
            listen: doc.scalar("fetch_proxy.listen").map(String::from),
            identity: doc
                .scalar("default_agent_identity")
                .map_or(d.identity, String::from),
            forward_enabled: flag("forward_proxy.enabled", false),
            trusted_domains: list("trusted_domains").unwrap_or_default(),
            internal: list("internal").unwrap_or(d.internal),
            ssrf_ip_allowlist: list("ssrf.ip_allowlist").unwrap_or_default(),
            dlp_scan_env: flag("dlp.scan_env", d.dlp_scan_env),
            dlp_include_defaults: flag("dlp.include_defaults", true),
            dlp_secrets_file: doc.scalar("dlp.secrets_file").unwrap_or("").to_string(),
            response_scanning: flag("response_scanning.enabled", true),
            request_body_scanning: flag("request_body_scanning.enabled", true),
            media_policy: flag("media_policy.enabled", true),
            tls,
            tunnel_max_seconds: number("forward_proxy.max_tunnel_seconds", d.tunnel_max_seconds),
            tunnel_idle_seconds: number(
                "forward_proxy.idle_timeout_seconds",
                d.tunnel_idle_seconds,
            ),
        };
        config.validate().map_err(LoadError::Invalid)?;
        normalise_domains(&mut config.trusted_domains);
        Ok(config)
    }

    /// pipelock's checks (`internal/config/validate.go`) for what the
    /// stand-in reads, with its messages.
    pub fn validate(&self) -> Result<(), String> {
        if !matches!(self.mode.as_str(), "strict" | "balanced" | "audit") {
            return Err(format!(
                "invalid mode {:?}: must be strict, balanced, or audit",
                self.mode
            ));
        }
        if self.mode == "strict" && self.allowlist.is_empty() {
            return Err("strict mode requires at least one domain in api_allowlist".to_string());
        }
        for cidr in &self.internal {
            Cidr::parse(cidr).map_err(|e| format!("invalid internal CIDR {cidr:?}: {e}"))?;
        }
        for cidr in &self.ssrf_ip_allowlist {
            let block = Cidr::parse(cidr)
                .map_err(|e| format!("invalid ssrf.ip_allowlist CIDR {cidr:?}: {e}"))?;
            if block.bits == 0 {
                return Err(format!(
                    "ssrf.ip_allowlist CIDR {cidr:?} is a catch-all (/0) and would disable SSRF protection"
                ));
            }
            if block.network() != block.addr {
                let meant = format!("{}/{}", block.network(), block.bits);
                return Err(format!(
                    "ssrf.ip_allowlist CIDR {cidr:?} has host bits set (did you mean {meant:?}?)"
                ));
            }
        }
        validate_trusted_domains(&self.trusted_domains)
    }

    /// Whether a request to `host` may leave. Outside strict mode the allowlist
    /// is not enforced, as in pipelock.
    pub fn allows(&self, host: &str) -> bool {
        self.mode != "strict" || crate::allowlist::matches_any(&self.allowlist, host)
    }
}

/// validate.go ValidateTrustedDomains.
fn validate_trusted_domains(domains: &[String]) -> Result<(), String> {
    for (i, raw) in domains.iter().enumerate() {
        let d = normalise_domain(raw);
        let label = "trusted_domains";
        if d.is_empty() {
            return Err(format!("{label}[{i}] is empty"));
        }
        if d.contains("://") || d.contains('/') || d.contains(':') {
            return Err(format!(
                "{label}[{i}] {raw:?}: use a hostname pattern, not a URL or host:port"
            ));
        }
        if d == "*" {
            return Err(format!(
                "{label}[{i}]: bare wildcard disables all SSRF protection"
            ));
        }
        match d.strip_prefix("*.") {
            Some(apex) if !apex.contains('.') => {
                return Err(format!(
                    "{label}[{i}] {raw:?}: wildcard must target a concrete domain like *.example.com"
                ));
            }
            None if d.contains(['*', '?', '[', ']']) => {
                return Err(format!(
                    "{label}[{i}] {raw:?}: only exact hosts and *.example.com wildcards are supported"
                ));
            }
            _ => {}
        }
    }
    Ok(())
}

fn normalise_domain(raw: &str) -> String {
    let d = raw.trim().to_lowercase();
    d.strip_suffix('.').unwrap_or(&d).to_string()
}

fn normalise_domains(domains: &mut [String]) {
    for d in domains {
        *d = normalise_domain(d);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_keys_it_needs() {
        let c = Config::parse(
            "mode: \"strict\"\ndefault_agent_identity: \"bottle-a\"\napi_allowlist:\n  - \"a.test\"\n\
             trusted_domains:\n  - \"Gitea.LAN.\"\nssrf:\n  ip_allowlist:\n    - \"10.0.0.5/32\"\n\
             fetch_proxy:\n  listen: \"0.0.0.0:8888\"\nforward_proxy:\n  enabled: true\n",
        )
        .unwrap();
        assert_eq!(c.mode, "strict");
        assert_eq!(c.identity, "bottle-a");
        assert_eq!(c.allowlist, ["a.test"]);
        assert_eq!(c.listen.as_deref(), Some("0.0.0.0:8888"));
        assert!(c.forward_enabled);
        assert_eq!(c.trusted_domains, ["gitea.lan"]);
        assert_eq!(c.ssrf_ip_allowlist, ["10.0.0.5/32"]);
        assert_eq!(c.internal.len(), DEFAULT_INTERNAL.len());
        assert!(c.dlp_scan_env && c.response_scanning && c.media_policy);
        assert!(c.allows("A.test.") && !c.allows("b.test"));
        let open = Config::parse("mode: audit\ninternal: []\n").unwrap();
        assert!(open.internal.is_empty());
    }

    fn invalid(text: &str) -> String {
        match Config::parse(text) {
            Err(LoadError::Invalid(e)) => e,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn validation_reads_like_pipelock() {
        assert_eq!(
            invalid("mode: strict\n"),
            "strict mode requires at least one domain in api_allowlist"
        );
        assert_eq!(
            invalid("mode: loose\n"),
            "invalid mode \"loose\": must be strict, balanced, or audit"
        );
        assert_eq!(
            invalid("ssrf:\n  ip_allowlist:\n    - \"10.0.0.5/24\"\n"),
            "ssrf.ip_allowlist CIDR \"10.0.0.5/24\" has host bits set (did you mean \"10.0.0.0/24\"?)"
        );
        assert_eq!(
            invalid("ssrf:\n  ip_allowlist:\n    - \"0.0.0.0/0\"\n"),
            "ssrf.ip_allowlist CIDR \"0.0.0.0/0\" is a catch-all (/0) and would disable SSRF protection"
        );
        assert_eq!(
            invalid("internal:\n  - \"10.0.0.0\"\n"),
            "invalid internal CIDR \"10.0.0.0\": invalid CIDR address: 10.0.0.0"
        );
        assert_eq!(
            invalid("trusted_domains:\n  - \"*.com\"\n"),
            "trusted_domains[0] \"*.com\": wildcard must target a concrete domain like *.example.com"
        );
        assert_eq!(
            invalid("trusted_domains:\n  - \"a.test:80\"\n"),
            "trusted_domains[0] \"a.test:80\": use a hostname pattern, not a URL or host:port"
        );
        assert_eq!(
            invalid("trusted_domains:\n  - \"*\"\n"),
            "trusted_domains[0]: bare wildcard disables all SSRF protection"
        );
    }

    #[test]
    fn what_the_stand_in_cannot_do_is_refused() {
        for text in [
            "enforce: false\n",
            "fetch_proxy:\n  monitoring:\n    blocklist:\n      - \"x.test\"\n",
        ] {
            assert!(
                matches!(Config::parse(text), Err(LoadError::Unsupported(_))),
                "{text}"
            );
        }
    }

    #[test]
    fn tls_interception_and_tunnel_limits_are_read() {
        let c = Config::parse(
            "tls_interception:\n  enabled: true\n  ca_cert: \"/c/ca.pem\"\n  ca_key: \"/c/k.pem\"\n  \
             passthrough_domains:\n    - \"api.a.test\"\n    - \"*.b.test\"\n  max_response_bytes: 99\n\
             forward_proxy:\n  max_tunnel_seconds: 20\n  idle_timeout_seconds: 2\n",
        )
        .unwrap();
        let tls = c.tls.unwrap();
        assert_eq!(
            (tls.ca_cert.as_str(), tls.max_response_bytes),
            ("/c/ca.pem", 99)
        );
        assert!(tls.passes_through("API.a.test") && tls.passes_through("x.y.b.test"));
        assert!(!tls.passes_through("b.test") && !tls.passes_through("a.test"));
        assert_eq!((c.tunnel_max_seconds, c.tunnel_idle_seconds), (20, 2));
        assert_eq!(Config::parse("mode: audit\n").unwrap().tls, None);
    }

    #[test]
    fn load_errors_name_the_file() {
        let e = Config::parse("bogus: 1\n").unwrap_err();
        assert_eq!(
            e.describe(Path::new("/c/p.yaml")),
            "parsing config /c/p.yaml: yaml: unmarshal errors:\n  line 1: field bogus not found in type config.Config"
        );
    }
}
