//! One line of the pipelock sidecar's output, parsed (pure).
//!
//! Pipelock prints one zerolog JSON object per line on stdout, and plain-text
//! banners, warnings and `pipelock: config reload failed: ...` on stderr. A line
//! that is not a JSON object is a [`LogLine::Note`]; nothing here fails or panics,
//! because the sidecar's output is not ours to trust.

mod host;
mod human;

pub use host::host_of;
pub use human::{format_human, is_inspection_note};

use serde_json::{Map, Value};

/// One line of the sidecar's output.
#[derive(Debug, Clone, PartialEq)]
pub enum LogLine {
    /// A JSON event.
    Event(Box<EgressEvent>),
    /// Anything else, kept as text (trailing line break removed).
    Note(String),
}

/// A zerolog level.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Level {
    Debug,
    Info,
    Warn,
    Error,
    Other(String),
}

/// The `event` field. Unknown names are kept, not rejected: pipelock has many
/// more event types than the ones a bottle acts on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind {
    TunnelOpen,
    TunnelClose,
    ForwardHttp,
    Allowed,
    Blocked,
    Anomaly,
    SniMismatch,
    Error,
    ConfigReload,
    Startup,
    Shutdown,
    KillSwitchDeny,
    /// A secret found in a plain-HTTP request's headers or body; a refusal
    /// when its `action` is `block`.
    HeaderDlp,
    BodyDlp,
    /// Any other event name; empty when the line had no string `event`.
    Other(String),
}

/// One JSON event. A field that is missing, or present with another type than
/// documented, is `None`; in the second case the raw value is in `extra`.
#[derive(Debug, Clone, PartialEq)]
pub struct EgressEvent {
    pub kind: EventKind,
    pub level: Option<Level>,
    pub time: Option<String>,
    /// What the request was for: `target` (CONNECT host:port), `url`,
    /// `resource` (a path, for config reloads) or `connect_host` (SNI mismatch),
    /// whichever came first in the line.
    pub target: Option<String>,
    /// The host named by `target`, lowercase, without port or trailing dot.
    pub host: Option<String>,
    pub method: Option<String>,
    pub scanner: Option<String>,
    pub reason: Option<String>,
    pub agent: Option<String>,
    pub client_ip: Option<String>,
    pub request_id: Option<String>,
    pub status_code: Option<u16>,
    /// Bytes relayed by a tunnel, both ways.
    pub total_bytes: Option<u64>,
    /// Response size of a forwarded or fetched request.
    pub size_bytes: Option<u64>,
    pub duration_ms: Option<f64>,
    pub detail: Option<String>,
    pub error: Option<String>,
    /// Every other field, in line order (`component`, `message`, `mitre_technique`, ...).
    pub extra: Map<String, Value>,
}

/// Where pipelock puts a content-scanned CONNECT target instead of the host.
const REDACTED_TARGET: &str = "[redacted-url]";
/// How pipelock ends a content-scanned URL.
const REDACTED_URL_SUFFIX: &str = "/[redacted]";

impl Level {
    fn from_name(name: &str) -> Self {
        match name {
            "debug" => Self::Debug,
            "info" => Self::Info,
            "warn" => Self::Warn,
            "error" => Self::Error,
            other => Self::Other(other.to_string()),
        }
    }
}

impl EventKind {
    /// Maps pipelock's `event` value.
    pub fn from_name(name: &str) -> Self {
        match name {
            "tunnel_open" => Self::TunnelOpen,
            "tunnel_close" => Self::TunnelClose,
            "forward_http" => Self::ForwardHttp,
            "allowed" => Self::Allowed,
            "blocked" => Self::Blocked,
            "anomaly" => Self::Anomaly,
            "sni_mismatch" => Self::SniMismatch,
            "error" => Self::Error,
            "config_reload" => Self::ConfigReload,
            "startup" => Self::Startup,
            "shutdown" => Self::Shutdown,
            "kill_switch_deny" => Self::KillSwitchDeny,
            "header_dlp" => Self::HeaderDlp,
            "body_dlp" => Self::BodyDlp,
            other => Self::Other(other.to_string()),
        }
    }

    /// Pipelock's name for the event.
    pub fn name(&self) -> &str {
        match self {
            Self::TunnelOpen => "tunnel_open",
            Self::TunnelClose => "tunnel_close",
            Self::ForwardHttp => "forward_http",
            Self::Allowed => "allowed",
            Self::Blocked => "blocked",
            Self::Anomaly => "anomaly",
            Self::SniMismatch => "sni_mismatch",
            Self::Error => "error",
            Self::ConfigReload => "config_reload",
            Self::Startup => "startup",
            Self::Shutdown => "shutdown",
            Self::KillSwitchDeny => "kill_switch_deny",
            Self::HeaderDlp => "header_dlp",
            Self::BodyDlp => "body_dlp",
            Self::Other(name) => name,
        }
    }
}

impl EgressEvent {
    /// Whether the request was refused. `anomaly` is not: with `enforce: true`
    /// it only reports (e.g. the start-up warning about listening on 0.0.0.0).
    pub fn is_denial(&self) -> bool {
        match self.kind {
            EventKind::Blocked | EventKind::KillSwitchDeny | EventKind::SniMismatch => true,
            // Only a report with action `warn`; the request went out.
            EventKind::HeaderDlp | EventKind::BodyDlp => {
                self.extra.get("action").and_then(|v| v.as_str()) == Some("block")
            }
            _ => false,
        }
    }

    /// The secret patterns a `header_dlp`/`body_dlp` event names.
    pub fn dlp_patterns(&self) -> Vec<&str> {
        self.extra
            .get("patterns")
            .and_then(|v| v.as_array())
            .map(|a| a.iter().filter_map(|p| p.as_str()).collect())
            .unwrap_or_default()
    }

    /// Whether pipelock hid the target because a content scanner (DLP...) fired.
    pub fn is_redacted(&self) -> bool {
        self.target
            .as_deref()
            .is_some_and(|t| t == REDACTED_TARGET || t.ends_with(REDACTED_URL_SUFFIX))
    }
}

/// Parses one line of sidecar output; never fails.
pub fn parse_line(line: &str) -> LogLine {
    let line = line.trim_end_matches(['\n', '\r']);
    match serde_json::from_str::<Value>(line) {
        Ok(Value::Object(fields)) => LogLine::Event(Box::new(event_from(fields))),
        _ => LogLine::Note(line.to_string()),
    }
}

fn event_from(fields: Map<String, Value>) -> EgressEvent {
    let mut e = EgressEvent {
        kind: EventKind::Other(String::new()),
        level: None,
        time: None,
        target: None,
        host: None,
        method: None,
        scanner: None,
        reason: None,
        agent: None,
        client_ip: None,
        request_id: None,
        status_code: None,
        total_bytes: None,
        size_bytes: None,
        duration_ms: None,
        detail: None,
        error: None,
        extra: Map::new(),
    };
    let mut kind = None;
    let mut level = None;
    for (key, value) in fields {
        let leftover = match key.as_str() {
            "event" => set_string(&mut kind, value),
            "level" => set_string(&mut level, value),
            "time" => set_string(&mut e.time, value),
            "target" | "url" | "resource" | "connect_host" => set_string(&mut e.target, value),
            "method" => set_string(&mut e.method, value),
            "scanner" => set_string(&mut e.scanner, value),
            "reason" => set_string(&mut e.reason, value),
            "agent" => set_string(&mut e.agent, value),
            "client_ip" => set_string(&mut e.client_ip, value),
            "request_id" => set_string(&mut e.request_id, value),
            "detail" => set_string(&mut e.detail, value),
            "error" => set_string(&mut e.error, value),
            "status_code" => set_number(&mut e.status_code, value, |n| {
                n.as_u64().and_then(|n| u16::try_from(n).ok())
            }),
            "total_bytes" => set_number(&mut e.total_bytes, value, serde_json::Number::as_u64),
            "size_bytes" => set_number(&mut e.size_bytes, value, serde_json::Number::as_u64),
            "duration_ms" => set_number(&mut e.duration_ms, value, serde_json::Number::as_f64),
            _ => Some(value),
        };
        if let Some(value) = leftover {
            e.extra.insert(key, value);
        }
    }
    e.kind = kind.map_or(EventKind::Other(String::new()), |k| {
        EventKind::from_name(&k)
    });
    e.level = level.map(|l| Level::from_name(&l));
    e.host = e.target.as_deref().and_then(host_of);
    e
}

/// Fills an empty slot with a string; hands back anything else for `extra`.
fn set_string(slot: &mut Option<String>, value: Value) -> Option<Value> {
    match value {
        Value::String(s) if slot.is_none() => {
            *slot = Some(s);
            None
        }
        other => Some(other),
    }
}

/// Fills an empty slot with a number that fits; hands back anything else.
fn set_number<T>(
    slot: &mut Option<T>,
    value: Value,
    convert: impl Fn(&serde_json::Number) -> Option<T>,
) -> Option<Value> {
    let converted = match &value {
        Value::Number(n) if slot.is_none() => convert(n),
        _ => None,
    };
    match converted {
        Some(converted) => {
            *slot = Some(converted);
            None
        }
        None => Some(value),
    }
}

#[cfg(test)]
mod tests;
