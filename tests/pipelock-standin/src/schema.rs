//! Which keys a config may have. pipelock decodes with yaml.v3's
//! `KnownFields(true)`: a key its schema (`internal/config/schema.go`, 2.3.0)
//! does not have is fatal. The stand-in refuses those the same way, and also
//! refuses real keys it does not implement, so no test passes against it by
//! a setting it silently ignores.

use crate::yaml::Doc;

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Bool,
    Int,
    Float,
    Str,
    List,
}

/// The sections the stand-in knows: dotted path, Go type, every field of it
/// in pipelock's schema (supported or not).
const SECTIONS: &[(&str, &str, &[&str])] = &[
    (
        "",
        "Config",
        &[
            "version",
            "mode",
            "enforce",
            "explain_blocks",
            "api_allowlist",
            "suppress",
            "fetch_proxy",
            "forward_proxy",
            "websocket_proxy",
            "dlp",
            "canary_tokens",
            "response_scanning",
            "mcp_input_scanning",
            "mcp_tool_scanning",
            "mcp_tool_policy",
            "git_protection",
            "logging",
            "session_profiling",
            "adaptive_enforcement",
            "mcp_session_binding",
            "request_body_scanning",
            "kill_switch",
            "sentry",
            "metrics_listen",
            "emit",
            "tool_chain_detection",
            "mcp_ws_listener",
            "tls_interception",
            "cross_request_detection",
            "reverse_proxy",
            "scan_api",
            "address_protection",
            "seed_phrase_detection",
            "rules",
            "file_sentry",
            "sandbox",
            "flight_recorder",
            "mcp_binary_integrity",
            "mcp_tool_provenance",
            "behavioral_baseline",
            "airlock",
            "browser_shield",
            "media_policy",
            "a2a_scanning",
            "taint",
            "mediation_envelope",
            "redaction",
            "agents",
            "default_agent_identity",
            "bind_default_agent_identity",
            "license_key",
            "license_file",
            "license_public_key",
            "internal",
            "trusted_domains",
            "ssrf",
        ],
    ),
    (
        "fetch_proxy",
        "FetchProxy",
        &[
            "listen",
            "timeout_seconds",
            "max_response_mb",
            "user_agent",
            "monitoring",
        ],
    ),
    (
        "fetch_proxy.monitoring",
        "Monitoring",
        &[
            "max_url_length",
            "entropy_threshold",
            "subdomain_entropy_threshold",
            "max_requests_per_minute",
            "max_data_per_minute",
            "blocklist",
            "subdomain_entropy_exclusions",
        ],
    ),
    (
        "forward_proxy",
        "ForwardProxy",
        &[
            "enabled",
            "max_tunnel_seconds",
            "idle_timeout_seconds",
            "sni_verification",
            "redirect_websocket_hosts",
        ],
    ),
    (
        "dlp",
        "DLP",
        &[
            "scan_env",
            "secrets_file",
            "min_env_secret_length",
            "include_defaults",
            "patterns",
            "action",
        ],
    ),
    (
        "response_scanning",
        "ResponseScanning",
        &[
            "enabled",
            "action",
            "ask_timeout_seconds",
            "include_defaults",
            "patterns",
            "exempt_domains",
            "sse_streaming",
        ],
    ),
    (
        "logging",
        "LoggingConfig",
        &[
            "format",
            "output",
            "file",
            "include_allowed",
            "include_blocked",
        ],
    ),
    (
        "request_body_scanning",
        "RequestBodyScanning",
        &[
            "enabled",
            "action",
            "max_body_bytes",
            "scan_headers",
            "header_mode",
            "sensitive_headers",
            "ignore_headers",
        ],
    ),
    (
        "sentry",
        "SentryConfig",
        &["enabled", "dsn", "environment", "sample_rate", "debug"],
    ),
    (
        "tls_interception",
        "TLSInterception",
        &[
            "enabled",
            "ca_cert",
            "ca_key",
            "passthrough_domains",
            "cert_ttl",
            "cert_cache_size",
            "max_response_bytes",
        ],
    ),
    (
        "media_policy",
        "MediaPolicy",
        &[
            "enabled",
            "strip_images",
            "strip_audio",
            "strip_video",
            "allowed_image_types",
            "strip_image_metadata",
            "max_image_bytes",
            "log_media_exposure",
        ],
    ),
    ("ssrf", "SSRF", &["ip_allowlist"]),
];

/// What the stand-in accepts: the keys claude-bottle renders, and a few more
/// whose absence of effect cannot make a test pass wrongly.
const ACCEPTED: &[(&str, Kind)] = &[
    ("version", Kind::Int),
    ("mode", Kind::Str),
    ("enforce", Kind::Bool),
    ("explain_blocks", Kind::Bool),
    ("default_agent_identity", Kind::Str),
    ("bind_default_agent_identity", Kind::Bool),
    ("api_allowlist", Kind::List),
    ("internal", Kind::List),
    ("trusted_domains", Kind::List),
    ("ssrf.ip_allowlist", Kind::List),
    ("fetch_proxy.listen", Kind::Str),
    ("fetch_proxy.timeout_seconds", Kind::Int),
    ("fetch_proxy.max_response_mb", Kind::Int),
    ("fetch_proxy.monitoring.max_url_length", Kind::Int),
    ("fetch_proxy.monitoring.entropy_threshold", Kind::Float),
    (
        "fetch_proxy.monitoring.subdomain_entropy_threshold",
        Kind::Float,
    ),
    ("fetch_proxy.monitoring.max_requests_per_minute", Kind::Int),
    ("fetch_proxy.monitoring.blocklist", Kind::List),
    ("forward_proxy.enabled", Kind::Bool),
    ("forward_proxy.max_tunnel_seconds", Kind::Int),
    ("forward_proxy.idle_timeout_seconds", Kind::Int),
    ("forward_proxy.sni_verification", Kind::Bool),
    ("dlp.scan_env", Kind::Bool),
    ("dlp.secrets_file", Kind::Str),
    ("dlp.include_defaults", Kind::Bool),
    ("dlp.min_env_secret_length", Kind::Int),
    ("response_scanning.enabled", Kind::Bool),
    ("media_policy.enabled", Kind::Bool),
    ("tls_interception.enabled", Kind::Bool),
    ("tls_interception.ca_cert", Kind::Str),
    ("tls_interception.ca_key", Kind::Str),
    ("tls_interception.passthrough_domains", Kind::List),
    ("tls_interception.max_response_bytes", Kind::Int),
    ("request_body_scanning.enabled", Kind::Bool),
    ("request_body_scanning.action", Kind::Str),
    ("request_body_scanning.max_body_bytes", Kind::Int),
    ("request_body_scanning.scan_headers", Kind::Bool),
    ("request_body_scanning.header_mode", Kind::Str),
    ("logging.format", Kind::Str),
    ("logging.output", Kind::Str),
    ("logging.include_allowed", Kind::Bool),
    ("logging.include_blocked", Kind::Bool),
    ("sentry.enabled", Kind::Bool),
];

pub enum Problem {
    /// What pipelock itself would refuse, worded as yaml.v3 does.
    Unknown(String),
    /// A pipelock setting the stand-in does not implement.
    Unsupported(String),
}

pub fn check(doc: &Doc) -> Result<(), Problem> {
    let mut unknown = Vec::new();
    let mut unsupported = None;
    for (path, line) in &doc.keys {
        let (parent, field) = path.rsplit_once('.').unwrap_or(("", path));
        let Some((_, go_type, fields)) = SECTIONS.iter().find(|(p, ..)| *p == parent) else {
            continue; // inside a section already reported as unsupported
        };
        if !fields.contains(&field) {
            unknown.push(format!(
                "\n  line {line}: field {field} not found in type config.{go_type}"
            ));
            continue;
        }
        let is_section = SECTIONS.iter().any(|(p, ..)| p == path);
        match ACCEPTED.iter().find(|(p, _)| p == path) {
            Some((_, kind)) => {
                if let Some(e) = type_error(doc, path, *line, *kind) {
                    unknown.push(e);
                }
            }
            None if is_section => {}
            None => {
                unsupported.get_or_insert_with(|| {
                    format!("`{path}` (line {line}) is a pipelock setting the stand-in does not implement")
                });
            }
        }
    }
    if !unknown.is_empty() {
        return Err(Problem::Unknown(format!(
            "yaml: unmarshal errors:{}",
            unknown.concat()
        )));
    }
    unsupported.map_or(Ok(()), |e| Err(Problem::Unsupported(e)))
}

/// yaml.v3's `cannot unmarshal !!str `x` into bool`, for the kinds it checks.
fn type_error(doc: &Doc, path: &str, line: usize, kind: Kind) -> Option<String> {
    let into = match kind {
        Kind::Bool => "bool",
        Kind::Int => "int",
        Kind::Float => "float64",
        Kind::Str => "string",
        Kind::List => "[]string",
    };
    let fail = |what: &str| {
        Some(format!(
            "\n  line {line}: cannot unmarshal {what} into {into}"
        ))
    };
    match (kind, doc.scalar(path)) {
        (Kind::List, Some(v)) => fail(&format!("!!str `{v}`")),
        (Kind::List, None) => None,
        (_, None) if doc.lists.contains_key(path) => fail("!!seq"),
        (_, None) => None,
        (Kind::Bool, Some(v)) if !matches!(v, "true" | "false") => fail(&format!("!!str `{v}`")),
        (Kind::Int, Some(v)) if v.parse::<i64>().is_err() => fail(&format!("!!str `{v}`")),
        (Kind::Float, Some(v)) if v.parse::<f64>().is_err() => fail(&format!("!!str `{v}`")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::yaml::parse;

    fn problem(text: &str) -> Option<String> {
        match check(&parse(text).unwrap()) {
            Ok(()) => None,
            Err(Problem::Unknown(e)) => Some(format!("unknown: {e}")),
            Err(Problem::Unsupported(e)) => Some(format!("unsupported: {e}")),
        }
    }

    #[test]
    fn unknown_keys_read_like_pipelock() {
        assert_eq!(
            problem("mode: strict\nbogus_key: 1\n").unwrap(),
            "unknown: yaml: unmarshal errors:\n  line 2: field bogus_key not found in type config.Config"
        );
        assert_eq!(
            problem("forward_proxy:\n  enabled: true\n  bogus: 1\n").unwrap(),
            "unknown: yaml: unmarshal errors:\n  line 3: field bogus not found in type config.ForwardProxy"
        );
    }

    #[test]
    fn the_rendered_keys_are_accepted() {
        let text = "version: 1\nmode: \"strict\"\nenforce: true\napi_allowlist:\n  - \"a.test\"\n\
            trusted_domains: []\nssrf:\n  ip_allowlist: []\ninternal: []\n\
            fetch_proxy:\n  listen: \"0.0.0.0:8888\"\n  timeout_seconds: 600\n  max_response_mb: 128\n\
            \x20 monitoring:\n    entropy_threshold: 5.0\n    blocklist: []\n\
            forward_proxy:\n  enabled: true\n  idle_timeout_seconds: 28800\n\
            dlp:\n  scan_env: false\n  secrets_file: \"/config/secrets\"\n  include_defaults: true\n\
            response_scanning:\n  enabled: false\nmedia_policy:\n  enabled: false\n\
            tls_interception:\n  enabled: false\n  ca_cert: \"/c\"\n  ca_key: \"/k\"\n  passthrough_domains:\n    - \"a\"\n\
            request_body_scanning:\n  enabled: true\n  action: \"block\"\n  scan_headers: true\n  header_mode: \"all\"\n\
            logging:\n  format: \"json\"\nsentry:\n  enabled: false\n";
        assert_eq!(problem(text), None);
    }

    #[test]
    fn real_keys_the_stand_in_lacks_are_refused() {
        let e = problem("dlp:\n  patterns:\n    - x\n").unwrap();
        assert!(e.starts_with("unsupported: `dlp.patterns` (line 2)"), "{e}");
        assert!(
            problem("kill_switch:\n  enabled: true\n")
                .unwrap()
                .contains("`kill_switch`")
        );
    }

    #[test]
    fn wrong_types_are_refused() {
        assert_eq!(
            problem("forward_proxy:\n  enabled: yes\n").unwrap(),
            "unknown: yaml: unmarshal errors:\n  line 2: cannot unmarshal !!str `yes` into bool"
        );
        assert!(problem("trusted_domains: a.test\n").is_some());
    }
}
