//! One event as one short line for people: time, verdict, what, why.

use super::{EgressEvent, EventKind};

/// E.g. `15:05:20 BLOCKED CONNECT evil.example.com:443 allowlist: domain not in allowlist: evil.example.com`.
/// Control characters are dropped: the line goes to a terminal.
pub fn format_human(e: &EgressEvent) -> String {
    // An inspecting sidecar notes each tunnel it opens as an anomaly; it is
    // the normal case for a bottle, shown as what it is.
    if is_inspection_note(e) {
        let mut parts = vec![clock(e.time.as_deref()), "INSPECT".to_owned()];
        parts.extend(e.method.clone());
        parts.extend(e.target.clone());
        return parts
            .join(" ")
            .chars()
            .filter(|c| !c.is_control())
            .collect();
    }
    let mut parts: Vec<String> = vec![clock(e.time.as_deref()), label(&e.kind)];
    parts.extend(e.method.clone());
    parts.extend(e.target.as_deref().map(|t| shown_target(e, t)));
    if let Some(sni) = e.extra.get("sni_host").and_then(|v| v.as_str()) {
        parts.push(format!("sni={sni}"));
    }
    parts.extend(e.status_code.map(|s| s.to_string()));
    parts.extend(e.total_bytes.or(e.size_bytes).map(bytes));
    parts.extend(e.duration_ms.map(duration));
    let sni_said = e.kind == EventKind::SniMismatch && e.reason.is_none();
    if e.is_denial() && !sni_said {
        // A denial always says why, even when pipelock gave no reason (an
        // SNI mismatch says it with its label and `sni=`).
        parts.push(crate::egress::denial::why(e));
    } else {
        match (&e.scanner, &e.reason) {
            (Some(scanner), Some(reason)) => parts.push(format!("{scanner}: {reason}")),
            (scanner, reason) => parts.extend(reason.clone().or_else(|| scanner.clone())),
        }
    }
    parts.extend(e.error.clone());
    parts.extend(e.detail.clone());
    if e.kind == EventKind::Startup {
        for key in ["listen", "mode", "version"] {
            if let Some(value) = e.extra.get(key).and_then(|v| v.as_str()) {
                parts.push(format!("{key}={value}"));
            }
        }
    }
    if parts.len() == 2 {
        parts.extend(
            e.extra
                .get("message")
                .and_then(|v| v.as_str())
                .map(String::from),
        );
    }
    parts
        .join(" ")
        .chars()
        .filter(|c| !c.is_control())
        .collect()
}

/// The target as shown. Pipelock redacts a URL whose secret its content
/// scanners found, except for `core_dlp`, whose line carries the URL (and
/// so the secret) as it was: shown here without its query and fragment.
fn shown_target(e: &EgressEvent, target: &str) -> String {
    if e.scanner.as_deref() == Some("core_dlp") {
        if let Some(cut) = target.find(['?', '#']) {
            return format!("{}?[redacted]", &target[..cut]);
        }
    }
    target.to_owned()
}

/// Pipelock's `anomaly` for a CONNECT it opens with the bottle's CA.
pub fn is_inspection_note(e: &EgressEvent) -> bool {
    e.kind == EventKind::Anomaly && e.scanner.as_deref() == Some("tls_intercept")
}

/// `HH:MM:SS` out of pipelock's RFC 3339 UTC time.
fn clock(time: Option<&str>) -> String {
    time.and_then(|t| t.split_once('T'))
        .and_then(|(_, rest)| rest.get(..8))
        .map_or_else(|| "--:--:--".to_string(), String::from)
}

fn label(kind: &EventKind) -> String {
    match kind {
        EventKind::TunnelOpen => "OPEN".to_string(),
        EventKind::TunnelClose => "CLOSE".to_string(),
        EventKind::ForwardHttp => "HTTP".to_string(),
        EventKind::Allowed => "ALLOWED".to_string(),
        EventKind::Blocked => "BLOCKED".to_string(),
        EventKind::Anomaly => "ANOMALY".to_string(),
        EventKind::SniMismatch => "SNI-MISMATCH".to_string(),
        EventKind::Error => "ERROR".to_string(),
        EventKind::ConfigReload => "RELOAD".to_string(),
        EventKind::Startup => "START".to_string(),
        EventKind::Shutdown => "STOP".to_string(),
        EventKind::KillSwitchDeny => "KILL-SWITCH".to_string(),
        EventKind::HeaderDlp | EventKind::BodyDlp => "DLP".to_string(),
        EventKind::Other(name) if name.is_empty() => "EVENT".to_string(),
        EventKind::Other(name) => name.to_ascii_uppercase(),
    }
}

#[allow(clippy::cast_precision_loss)] // a display rounded to one decimal
fn bytes(n: u64) -> String {
    const KIB: u64 = 1024;
    match n {
        n if n < KIB => format!("{n} B"),
        n if n < KIB * KIB => format!("{:.1} KiB", n as f64 / KIB as f64),
        n => format!("{:.1} MiB", n as f64 / (KIB * KIB) as f64),
    }
}

fn duration(ms: f64) -> String {
    if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.1} s", ms / 1000.0)
    }
}
