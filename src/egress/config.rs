//! The per-bottle pipelock config: settings in, YAML text out (pure).
//!
//! Pipelock parses its config strictly (an unknown key is fatal), so only keys
//! documented for pipelock 2.3.0 appear here. The text is deterministic: a hot
//! reload in strict mode is rejected if anything but the allowlist changes, so
//! every other line must stay byte-identical between two renders.

use std::fmt::Write as _;

/// The port the sidecar listens on; pipelock's own healthcheck assumes it.
pub const PIPELOCK_PORT: u16 = 8888;
/// Where the per-bottle config directory is mounted inside the sidecar. A
/// directory, not a single file, so an atomic replace is seen by the watcher.
pub const CONFIG_DIR: &str = "/config";
/// The config file the sidecar reads, inside [`CONFIG_DIR`].
pub const CONFIG_FILE: &str = "/config/pipelock.yaml";
/// The bottle's inspection CA, certificate and key, inside [`CONFIG_DIR`].
pub const CA_CERT_FILE: &str = "/config/ca.pem";
pub const CA_KEY_FILE: &str = "/config/ca-key.pem";
/// Values the sidecar's DLP watches for, one a line (pipelock's `secrets_file`).
pub const SECRETS_FILE: &str = "/config/secrets";
/// The released sidecar image used when the manifest names none.
pub const DEFAULT_PIPELOCK_IMAGE: &str = "ghcr.io/luckypipewrench/pipelock:2.3.0";

/// Listen on every interface of the sidecar: the agent reaches it over the
/// bottle's internal network, never over loopback.
const LISTEN: &str = "0.0.0.0:8888";
/// How long tunnels may live, and how long either direction may be quiet.
///
/// Pipelock times each direction of a tunnel on its own: when the agent has
/// sent nothing for `idle_seconds` it half-closes the connection to the
/// server, even while the server is still streaming to the agent. A streamed
/// model response over HTTP/1.1, or an open event stream, is exactly that
/// (the client only listens), and many servers end a response when their
/// client closes its side. So the idle limit is the tunnel's own limit: no
/// tunnel is cut for quiet before it ends anyway.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TunnelLimits {
    pub max_seconds: u32,
    pub idle_seconds: u32,
}

impl Default for TunnelLimits {
    fn default() -> Self {
        // A working session keeps a connection open for a long time;
        // pipelock's default (300 s) would cut it.
        Self {
            max_seconds: 28_800,
            idle_seconds: 28_800,
        }
    }
}
/// Counted per base domain, CONNECTs included; it cannot be turned off, so it is high.
const MAX_REQUESTS_PER_MINUTE: u32 = 1200;
const MAX_URL_LENGTH: u32 = 4096;
/// Pipelock buffers a request body (to scan it) and an inspected response
/// whole, and refuses what is larger: big enough for a git push or a
/// package download, small enough for the sidecar's memory limit.
pub const MAX_SCANNED_BYTES: u64 = 128 * 1024 * 1024;
/// How long one plain-HTTP request may take, its response included.
const PLAIN_HTTP_TIMEOUT_SECONDS: u32 = 600;

/// What differs from one bottle's sidecar to the next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SidecarSettings {
    /// Shown as `agent` in every log line, e.g. `bottle-<agent>-<session>`.
    pub identity: String,
    /// Hosts or `*.domain` patterns, already validated and normalised.
    /// Pipelock refuses strict mode with an empty list.
    pub allowlist: Vec<String>,
    /// Exceptions to pipelock's SSRF guard, which otherwise refuses every
    /// destination that is or resolves to a private, loopback or CGN address.
    pub private: PrivateDestinations,
    pub inspection: Inspection,
    /// Whether [`SECRETS_FILE`] holds values granted to the agent (pipelock
    /// refuses to start when a named secrets file is missing).
    pub watches_secrets: bool,
    pub tunnels: TunnelLimits,
}

/// Whether the sidecar opens the agent's TLS to scan what it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Inspection {
    /// CONNECT tunnels are relayed unopened: host names only.
    Off,
    /// TLS to every host but these is opened with the bottle's CA
    /// ([`CA_CERT_FILE`]); requests' headers and bodies are scanned.
    On {
        /// Host patterns never opened (pipelock's `passthrough_domains`).
        passthrough: Vec<String>,
    },
}

impl Inspection {
    /// Inspection with `extra` passed through beside `defaults` (the hosts
    /// whose traffic carries the user's own token: never opened). A
    /// `*.domain` also passes the domain itself, as the allowlist matches it.
    pub fn on<'a>(defaults: impl IntoIterator<Item = &'a str>, extra: &[String]) -> Self {
        let mut passthrough: Vec<String> = Vec::new();
        let all = defaults
            .into_iter()
            .map(str::to_owned)
            .chain(extra.iter().cloned());
        for host in all {
            let apex = host.strip_prefix("*.").map(str::to_owned);
            for h in std::iter::once(host).chain(apex) {
                if !passthrough.contains(&h) {
                    passthrough.push(h);
                }
            }
        }
        Self::On { passthrough }
    }
}

/// A bottle's `egress.private_hosts`, split the way pipelock takes them.
/// Strict mode refuses a reload that changes these, so they are fixed at launch.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PrivateDestinations {
    /// Host names or `*.domain` that may resolve to private addresses
    /// (pipelock's `trusted_domains`; it never matches an IP literal).
    pub names: Vec<String>,
    /// CIDR blocks, single addresses as `/32` (pipelock's `ssrf.ip_allowlist`).
    pub blocks: Vec<String>,
}

impl PrivateDestinations {
    pub fn from_manifest(entries: &[crate::manifest::PrivateHost]) -> Self {
        use crate::manifest::PrivateHost;
        let mut out = Self::default();
        for entry in entries {
            match entry {
                PrivateHost::Name(name) => out.names.push(name.clone()),
                PrivateHost::Address(ip) => out.blocks.push(format!("{ip}/32")),
                PrivateHost::Block(ip, bits) => out.blocks.push(format!("{ip}/{bits}")),
            }
        }
        out
    }
}

/// The sidecar's argv after the image's `/pipelock` entrypoint.
pub fn sidecar_command() -> Vec<String> {
    ["run", "--listen", LISTEN, "--config", CONFIG_FILE]
        .into_iter()
        .map(String::from)
        .collect()
}

/// Renders the pipelock YAML for one bottle.
pub fn pipelock_config(settings: &SidecarSettings) -> String {
    let mut out = String::new();
    // `mode: strict` is what makes pipelock enforce `api_allowlist` at all.
    out.push_str("version: 1\n");
    line(&mut out, 0, "mode", &quote("strict"));
    line(&mut out, 0, "enforce", "true");
    line(&mut out, 0, "explain_blocks", "false");
    line(
        &mut out,
        0,
        "default_agent_identity",
        &quote(&settings.identity),
    );
    line(&mut out, 0, "bind_default_agent_identity", "true");
    push_allowlist(&mut out, &settings.allowlist);
    push_list(&mut out, 0, "trusted_domains", &settings.private.names);
    out.push_str("ssrf:\n");
    push_list(&mut out, 1, "ip_allowlist", &settings.private.blocks);

    out.push_str("fetch_proxy:\n");
    line(&mut out, 1, "listen", &quote(LISTEN));
    // Plain-HTTP forwarding buffers each response; pipelock's own limits
    // (30 s a request, 10 MB) would cut ordinary downloads.
    line(
        &mut out,
        1,
        "timeout_seconds",
        &PLAIN_HTTP_TIMEOUT_SECONDS.to_string(),
    );
    line(
        &mut out,
        1,
        "max_response_mb",
        &(MAX_SCANNED_BYTES >> 20).to_string(),
    );
    out.push_str("  monitoring:\n");
    line(&mut out, 2, "max_url_length", &MAX_URL_LENGTH.to_string());
    line(&mut out, 2, "entropy_threshold", "5.0");
    line(&mut out, 2, "subdomain_entropy_threshold", "4.0");
    line(
        &mut out,
        2,
        "max_requests_per_minute",
        &MAX_REQUESTS_PER_MINUTE.to_string(),
    );
    line(&mut out, 2, "blocklist", "[]");

    // Forward proxying cannot be switched on by a hot reload: it must be here.
    out.push_str("forward_proxy:\n");
    line(&mut out, 1, "enabled", "true");
    line(
        &mut out,
        1,
        "max_tunnel_seconds",
        &settings.tunnels.max_seconds.to_string(),
    );
    line(
        &mut out,
        1,
        "idle_timeout_seconds",
        &settings.tunnels.idle_seconds.to_string(),
    );
    line(&mut out, 1, "sni_verification", "true");

    out.push_str("dlp:\n");
    // `scan_env` would watch the sidecar's own environment, which holds
    // nothing of the agent's; the agent's granted values are in the file.
    line(&mut out, 1, "scan_env", "false");
    if settings.watches_secrets {
        line(&mut out, 1, "secrets_file", &quote(SECRETS_FILE));
    }
    line(&mut out, 1, "include_defaults", "true");

    // Response scanning looks for prompt injection in what comes back: not
    // this boundary's job, and on by default it refuses compressed replies
    // and flags ordinary documentation. Media policy refuses audio and video.
    out.push_str("response_scanning:\n");
    line(&mut out, 1, "enabled", "false");
    out.push_str("media_policy:\n");
    line(&mut out, 1, "enabled", "false");

    push_inspection(&mut out, &settings.inspection);
    // Headers and bodies of plain-HTTP and inspected requests: a secret in
    // any header (not only Authorization and the like) or body is refused.
    out.push_str("request_body_scanning:\n");
    line(&mut out, 1, "enabled", "true");
    line(&mut out, 1, "action", &quote("block"));
    line(
        &mut out,
        1,
        "max_body_bytes",
        &MAX_SCANNED_BYTES.to_string(),
    );
    line(&mut out, 1, "scan_headers", "true");
    line(&mut out, 1, "header_mode", &quote("all"));

    out.push_str("logging:\n");
    line(&mut out, 1, "format", &quote("json"));
    line(&mut out, 1, "output", &quote("stdout"));
    line(&mut out, 1, "include_allowed", "true");
    line(&mut out, 1, "include_blocked", "true");

    // Pipelock's presets ship the maintainer's DSN; never report anywhere.
    out.push_str("sentry:\n");
    line(&mut out, 1, "enabled", "false");
    // `adaptive_enforcement` is left out on purpose: it is off by default, and
    // when on it can escalate a session to deny-all, Anthropic's API included.
    out
}

/// The only section that may change between two renders for the same bottle.
fn push_allowlist(out: &mut String, allowlist: &[String]) {
    if allowlist.is_empty() {
        line(out, 0, "api_allowlist", "[]");
        return;
    }
    out.push_str("api_allowlist:\n");
    for host in allowlist {
        let _ = writeln!(out, "  - {}", quote(host));
    }
}

/// `tls_interception`: off, or on with the bottle's CA and the hosts let through.
fn push_inspection(out: &mut String, inspection: &Inspection) {
    out.push_str("tls_interception:\n");
    match inspection {
        Inspection::Off => line(out, 1, "enabled", "false"),
        Inspection::On { passthrough } => {
            line(out, 1, "enabled", "true");
            line(out, 1, "ca_cert", &quote(CA_CERT_FILE));
            line(out, 1, "ca_key", &quote(CA_KEY_FILE));
            push_list(out, 1, "passthrough_domains", passthrough);
            line(out, 1, "max_response_bytes", &MAX_SCANNED_BYTES.to_string());
        }
    }
}

/// `key: []`, or `key:` and one quoted item a line.
fn push_list(out: &mut String, depth: usize, key: &str, items: &[String]) {
    if items.is_empty() {
        line(out, depth, key, "[]");
        return;
    }
    let _ = writeln!(out, "{:indent$}{key}:", "", indent = depth * 2);
    for item in items {
        let _ = writeln!(out, "{:indent$}  - {}", "", quote(item), indent = depth * 2);
    }
}

fn line(out: &mut String, depth: usize, key: &str, value: &str) {
    let _ = writeln!(out, "{:indent$}{key}: {value}", "", indent = depth * 2);
}

/// A YAML double-quoted scalar. Everything outside printable ASCII is escaped,
/// so no input can end the string, start a new line or smuggle in a key.
fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            ' '..='~' => out.push(c),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if u32::from(c) <= 0xFFFF => {
                let _ = write!(out, "\\u{:04X}", u32::from(c));
            }
            c => {
                let _ = write!(out, "\\U{:08X}", u32::from(c));
            }
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(allowlist: &[&str]) -> SidecarSettings {
        SidecarSettings {
            identity: "bottle-alpha-1".to_string(),
            allowlist: allowlist.iter().map(|h| (*h).to_string()).collect(),
            private: PrivateDestinations::default(),
            inspection: Inspection::on(["api.anthropic.com", "claude.ai"], &[]),
            watches_secrets: true,
            tunnels: TunnelLimits::default(),
        }
    }

    #[test]
    fn renders_the_documented_config() {
        let yaml = pipelock_config(&settings(&[
            "*.anthropic.com",
            "claude.ai",
            "*.claude.ai",
            "github.com",
        ]));
        insta::assert_snapshot!(yaml);
    }

    #[test]
    fn only_allowlist_lines_differ_between_two_allowlists() {
        let before = pipelock_config(&settings(&["*.anthropic.com"]));
        let after = pipelock_config(&settings(&["*.anthropic.com", "pypi.org", "crates.io"]));
        let strip = |text: &str| -> Vec<String> {
            text.lines()
                .filter(|l| !l.starts_with("  - "))
                .map(String::from)
                .collect()
        };
        assert_eq!(strip(&before), strip(&after));
        assert!(after.contains("  - \"pypi.org\"\n  - \"crates.io\"\n"));
        assert!(!before.contains("pypi.org"));
    }

    #[test]
    fn private_hosts_render_as_trusted_domains_and_ip_allowlist() {
        use crate::manifest::PrivateHost;
        use std::net::Ipv4Addr;
        let mut s = settings(&["gitea.lan"]);
        s.private = PrivateDestinations::from_manifest(&[
            PrivateHost::Name("gitea.lan".into()),
            PrivateHost::Address(Ipv4Addr::new(10, 0, 0, 5)),
            PrivateHost::Block(Ipv4Addr::new(192, 168, 1, 0), 24),
        ]);
        let yaml = pipelock_config(&s);
        assert!(
            yaml.contains(
                "trusted_domains:\n  - \"gitea.lan\"\nssrf:\n  ip_allowlist:\n    - \"10.0.0.5/32\"\n    - \"192.168.1.0/24\"\n"
            ),
            "{yaml}"
        );
        let none = pipelock_config(&settings(&["gitea.lan"]));
        assert!(
            none.contains("trusted_domains: []\nssrf:\n  ip_allowlist: []\n"),
            "{none}"
        );
    }

    #[test]
    fn passthrough_wildcards_also_pass_their_domain() {
        let on = Inspection::on(
            ["api.anthropic.com"],
            &["*.corp.example".into(), "api.anthropic.com".into()],
        );
        assert_eq!(
            on,
            Inspection::On {
                passthrough: vec![
                    "api.anthropic.com".into(),
                    "*.corp.example".into(),
                    "corp.example".into()
                ]
            }
        );
    }

    #[test]
    fn inspection_off_renders_one_line_and_keeps_body_scanning() {
        let mut s = settings(&["github.com"]);
        s.inspection = Inspection::Off;
        let yaml = pipelock_config(&s);
        assert!(yaml.contains("tls_interception:\n  enabled: false\nrequest_body_scanning:\n  enabled: true\n  action: \"block\"\n"), "{yaml}");
        assert!(!yaml.contains("ca_key"));
    }

    #[test]
    fn an_empty_allowlist_is_an_empty_flow_list() {
        let yaml = pipelock_config(&settings(&[]));
        assert!(yaml.contains("\napi_allowlist: []\ntrusted_domains: []\n"));
    }

    #[test]
    fn hostile_strings_stay_inside_their_quotes() {
        let hostile = "evil.com\"\nmode: audit\n  - \"x\\";
        let yaml = pipelock_config(&SidecarSettings {
            identity: hostile.to_string(),
            allowlist: vec![hostile.to_string()],
            private: PrivateDestinations::default(),
            inspection: Inspection::on([], &[hostile.to_string()]),
            watches_secrets: false,
            tunnels: TunnelLimits::default(),
        });
        assert_eq!(
            quote(hostile),
            r#""evil.com\"\nmode: audit\n  - \"x\\""#,
            "quotes, backslashes and newlines are escaped"
        );
        assert_eq!(yaml.matches("\nmode:").count(), 1);
        assert_eq!(yaml.lines().filter(|l| l.contains("evil.com")).count(), 3);
    }

    #[test]
    fn quote_escapes_control_and_non_ascii_characters() {
        assert_eq!(quote("a\tb\r\u{7}"), r#""a\tb\r\u0007""#);
        assert_eq!(quote("é\u{2028}"), r#""\u00E9\u2028""#);
        assert_eq!(quote("🦀"), r#""\U0001F980""#);
        assert_eq!(quote(""), r#""""#);
    }

    #[test]
    fn sidecar_command_reads_the_mounted_config() {
        assert_eq!(
            sidecar_command(),
            [
                "run",
                "--listen",
                "0.0.0.0:8888",
                "--config",
                "/config/pipelock.yaml"
            ]
        );
        assert_eq!(format!("{CONFIG_DIR}/pipelock.yaml"), CONFIG_FILE);
        assert!(LISTEN.ends_with(&format!(":{PIPELOCK_PORT}")));
    }
}
