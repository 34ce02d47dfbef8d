//! What kind of refusal a denial is, and what would change the outcome, for
//! people (pure).
//!
//! Pipelock names the scanner that refused a request in `scanner`; the kinds
//! here group scanners by what a person can do about them.

use super::log::{EgressEvent, EventKind};

/// Why the sidecar refused a request, by what would change the outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DenialKind {
    /// The host is not on the allowlist (`allowlist`).
    Allowlist,
    /// The host resolves to a private, loopback or CGN address (`ssrf`, `core_ssrf`).
    PrivateAddress,
    /// Too many requests to one domain (`ratelimit`).
    RateLimit,
    /// A secret pattern or flagged content (`dlp`, `body_dlp`, `header_dlp`,
    /// `core_dlp`, `response_scan`).
    Content,
    /// The TLS name differed from the CONNECT host (`sni_mismatch`).
    SniMismatch,
    /// The agent's TLS to an inspecting sidecar failed (`tls_handshake_error`):
    /// a client that does not trust the bottle's CA, or a protocol that is not TLS.
    Tls,
    /// The sidecar's kill switch refuses everything (`kill_switch_deny`).
    KillSwitch,
    /// Any other scanner (blocklist, entropy, redirect, budget...).
    Other,
}

/// Scanners that look for secrets in what goes out.
const SECRET_SCANNERS: &[&str] = &["dlp", "body_dlp", "header_dlp", "core_dlp"];
/// Scanners that look at content rather than at the host.
const CONTENT_SCANNERS: &[&str] = &["response_scan"];

/// Pipelock's reason for refusing a response it cannot scan.
const COMPRESSED: &str = "compressed response cannot be scanned";

/// Bucket of a kill-switch refusal, which names no request.
pub const KILL_SWITCH_BUCKET: &str = "(kill switch)";
/// Bucket of a denial whose target pipelock hid (a content scanner fired).
pub const REDACTED_BUCKET: &str = "(redacted)";
/// Bucket of a denial that names no host for another reason.
pub const NO_HOST_BUCKET: &str = "(no host)";

impl DenialKind {
    /// The kind of `e`; `None` when `e` is no denial.
    pub fn of(e: &EgressEvent) -> Option<Self> {
        match e.kind {
            EventKind::KillSwitchDeny => Some(Self::KillSwitch),
            EventKind::HeaderDlp | EventKind::BodyDlp if e.is_denial() => Some(Self::Content),
            EventKind::SniMismatch => Some(Self::SniMismatch),
            EventKind::Blocked => Some(match e.scanner.as_deref().unwrap_or_default() {
                "allowlist" => Self::Allowlist,
                "ssrf" | "core_ssrf" => Self::PrivateAddress,
                "ratelimit" => Self::RateLimit,
                "tls_handshake_error" => Self::Tls,
                s if SECRET_SCANNERS.contains(&s) || CONTENT_SCANNERS.contains(&s) => Self::Content,
                _ => Self::Other,
            }),
            _ => None,
        }
    }

    /// A few words for counts ("2 private address").
    pub fn label(self) -> &'static str {
        match self {
            Self::Allowlist => "allowlist",
            Self::PrivateAddress => "private address",
            Self::RateLimit => "rate limit",
            Self::Content => "secret or content",
            Self::SniMismatch => "SNI mismatch",
            Self::Tls => "TLS handshake",
            Self::KillSwitch => "kill switch",
            Self::Other => "other scanner",
        }
    }
}

/// What the denial counts under: its host, or a readable bucket when it
/// names none.
pub fn bucket(e: &EgressEvent) -> String {
    match (&e.host, &e.kind) {
        (Some(host), _) => host.clone(),
        (None, _) if e.is_redacted() => REDACTED_BUCKET.to_owned(),
        (None, EventKind::KillSwitchDeny) => KILL_SWITCH_BUCKET.to_owned(),
        (None, _) => NO_HOST_BUCKET.to_owned(),
    }
}

/// Why it was refused, in one short phrase: `scanner: reason`, or what is
/// known when pipelock gave no reason (`header_dlp`, `body_dlp`, `redirect`
/// and `kill_switch_deny` may come without one).
pub fn why(e: &EgressEvent) -> String {
    match (e.scanner.as_deref(), e.reason.as_deref(), &e.kind) {
        (Some(scanner), Some(reason), _) => format!("{scanner}: {reason}"),
        (None, Some(reason), _) => reason.to_owned(),
        (_, None, EventKind::KillSwitchDeny) => "kill switch on".to_owned(),
        (_, None, EventKind::HeaderDlp | EventKind::BodyDlp) => {
            let place = match e.extra.get("header").and_then(|v| v.as_str()) {
                Some(header) => format!("header {header}"),
                None if e.kind == EventKind::HeaderDlp => "a header".to_owned(),
                None => "the body".to_owned(),
            };
            format!(
                "{}: {place} holds {}",
                e.kind.name(),
                e.dlp_patterns().join(", ")
            )
        }
        (Some(scanner), None, _) => format!("{scanner}: no reason given"),
        (None, None, EventKind::SniMismatch) => {
            match e.extra.get("sni_host").and_then(|v| v.as_str()) {
                Some(sni) => format!("TLS name {sni} differs from the CONNECT host"),
                None => "no TLS name matching the CONNECT host".to_owned(),
            }
        }
        (None, None, _) => "no reason given".to_owned(),
    }
}

/// The host an allowlist denial refused: the one its reason names (`domain
/// not in allowlist: H`), which for the second line of a blocked redirect is
/// the redirect's target, not the allowed host the line's URL names.
pub fn refused_host(e: &EgressEvent) -> Option<String> {
    const SAYS: &str = "domain not in allowlist: ";
    e.reason
        .as_deref()
        .and_then(|r| r.rsplit_once(SAYS))
        .map(|(_, host)| host.trim().trim_end_matches('.').to_ascii_lowercase())
        .filter(|host| !host.is_empty())
        .or_else(|| e.host.clone())
}

/// What would change the outcome, as a sentence; `None` when `e` is no denial.
pub fn advice(e: &EgressEvent) -> Option<String> {
    let kind = DenialKind::of(e)?;
    let refused = refused_host(e);
    let host = match kind {
        DenialKind::Allowlist => refused.as_deref().unwrap_or("the host"),
        _ => e.host.as_deref().unwrap_or("the host"),
    };
    Some(match kind {
        DenialKind::Allowlist => format!(
            "{host} is not on this bottle's allowlist: press a to allow it here, \
             or add it to egress.allowlist in the manifest"
        ),
        DenialKind::PrivateAddress => format!(
            "{host} is on a private, loopback or CGN address: list it in the bottle's \
             egress.private_hosts in the manifest and relaunch"
        ),
        DenialKind::RateLimit => format!(
            "pipelock allows 1200 requests a minute per domain and {host} went over: \
             wait a minute before retrying"
        ),
        DenialKind::Content => content_advice(e, host),
        DenialKind::SniMismatch => {
            let sni = e
                .extra
                .get("sni_host")
                .and_then(|v| v.as_str())
                .filter(|s| !s.is_empty())
                .map_or_else(String::new, |s| format!(" ({s})"));
            format!(
                "the TLS name{sni} differed from the CONNECT host {host}, or the client sent \
                 no TLS ClientHello within 5 s"
            )
        }
        DenialKind::Tls => format!(
            "the agent's TLS to the inspecting sidecar failed ({}): the client does not trust \
             the bottle's CA, or the service behind {host} is not TLS (list it in \
             egress.passthrough)",
            e.reason.as_deref().unwrap_or("no reason given")
        ),
        DenialKind::KillSwitch => {
            "the sidecar's kill switch is on: it refuses every request until it is turned off"
                .to_owned()
        }
        DenialKind::Other => format!(
            "refused by pipelock's {} ({}); the allowlist does not change this",
            e.scanner.as_deref().unwrap_or("scanner"),
            e.reason.as_deref().unwrap_or("no reason given")
        ),
    })
}

fn content_advice(e: &EgressEvent, host: &str) -> String {
    let scanner = e.scanner.as_deref().unwrap_or_default();
    if e.reason.as_deref() == Some(COMPRESSED) {
        return format!(
            "{host} sent a compressed response, which the sidecar cannot scan and refuses: \
             fetch it over https, or without asking for compression"
        );
    }
    let dlp_event = matches!(e.kind, EventKind::HeaderDlp | EventKind::BodyDlp);
    if !SECRET_SCANNERS.contains(&scanner) && !dlp_event {
        return format!(
            "pipelock's {scanner} flagged the content ({}); the allowlist does not change this",
            e.reason.as_deref().unwrap_or("no reason given")
        );
    }
    let named = e.dlp_patterns().first().copied();
    let pattern = named
        .or_else(|| e.reason.as_deref().and_then(secret_pattern))
        .map_or_else(
            || "a secret pattern".to_owned(),
            |p| format!("a {p} secret"),
        );
    format!(
        "{pattern} was found in the request: if it is meant for {host}, list that host in the \
         secret's env entry `hosts` in the manifest; otherwise the agent tried to send a secret out"
    )
}

/// `NAME` out of pipelock's `DLP match: NAME (severity)` (URLs) or
/// `request body contains secret: NAME` (inspected bodies).
fn secret_pattern(reason: &str) -> Option<&str> {
    let (_, rest) = reason
        .split_once("DLP match: ")
        .or_else(|| reason.split_once("contains secret: "))?;
    let name = rest.rsplit_once(" (").map_or(rest, |(name, _)| name).trim();
    (!name.is_empty()).then_some(name)
}

#[cfg(test)]
mod tests;
