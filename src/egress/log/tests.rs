use super::*;
use serde_json::json;

// The example lines of pipelock.md section 4, verbatim.
const STARTUP: &str = r#"{"level":"info","component":"pipelock","event":"startup","listen":"0.0.0.0:8888","mode":"strict","version":"2.3.0","config_hash":"9f2c…(64 hex)","time":"2026-04-28T15:04:05Z","message":"pipelock started"}"#;
const TUNNEL_OPEN: &str = r#"{"level":"info","component":"pipelock","event":"tunnel_open","target":"api.anthropic.com:443","client_ip":"172.28.0.3","request_id":"req-12","agent":"bottle-alpha","time":"2026-04-28T15:04:09Z","message":"tunnel opened"}"#;
const TUNNEL_CLOSE: &str = r#"{"level":"info","component":"pipelock","event":"tunnel_close","target":"api.anthropic.com:443","client_ip":"172.28.0.3","request_id":"req-12","agent":"bottle-alpha","total_bytes":184233,"duration_ms":63012.481,"time":"2026-04-28T15:05:12Z","message":"tunnel closed"}"#;
const BLOCKED_CONNECT: &str = r#"{"level":"warn","component":"pipelock","event":"blocked","method":"CONNECT","target":"evil.example.com:443","client_ip":"172.28.0.3","request_id":"req-13","scanner":"allowlist","reason":"domain not in allowlist: evil.example.com","agent":"bottle-alpha","mitre_technique":"T1071.001","time":"2026-04-28T15:05:20Z","message":"request blocked"}"#;
const BLOCKED_GET: &str = r#"{"level":"warn","component":"pipelock","event":"blocked","method":"GET","url":"http://example.org/pkg.tgz","client_ip":"172.28.0.3","request_id":"req-14","scanner":"allowlist","reason":"domain not in allowlist: example.org","agent":"bottle-alpha","mitre_technique":"T1071.001","time":"2026-04-28T15:05:21Z","message":"request blocked"}"#;
const RELOAD_ERROR: &str = r#"{"level":"error","component":"pipelock","event":"error","method":"CONFIG_RELOAD","resource":"/config/pipelock.yaml","error":"rejected: security downgrade from strict mode","time":"2026-04-28T15:06:00Z","message":"request error"}"#;

fn event(line: &str) -> EgressEvent {
    match parse_line(line) {
        LogLine::Event(e) => *e,
        LogLine::Note(n) => panic!("expected an event, got note {n:?}"),
    }
}

fn note(line: &str) -> String {
    match parse_line(line) {
        LogLine::Note(n) => n,
        LogLine::Event(e) => panic!("expected a note, got {e:?}"),
    }
}

#[test]
fn startup_line() {
    let e = event(STARTUP);
    assert_eq!(e.kind, EventKind::Startup);
    assert_eq!(e.level, Some(Level::Info));
    assert_eq!(e.time.as_deref(), Some("2026-04-28T15:04:05Z"));
    assert_eq!(e.target, None);
    assert_eq!(e.host, None);
    let keys: Vec<&str> = e.extra.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "component",
            "listen",
            "mode",
            "version",
            "config_hash",
            "message"
        ]
    );
    assert!(!e.is_denial());
    assert_eq!(
        format_human(&e),
        "15:04:05 START listen=0.0.0.0:8888 mode=strict version=2.3.0"
    );
}

#[test]
fn tunnel_open_line() {
    let e = event(TUNNEL_OPEN);
    assert_eq!(e.kind, EventKind::TunnelOpen);
    assert_eq!(e.target.as_deref(), Some("api.anthropic.com:443"));
    assert_eq!(e.host.as_deref(), Some("api.anthropic.com"));
    assert_eq!(e.client_ip.as_deref(), Some("172.28.0.3"));
    assert_eq!(e.request_id.as_deref(), Some("req-12"));
    assert_eq!(e.agent.as_deref(), Some("bottle-alpha"));
    assert!(!e.is_denial());
    assert_eq!(format_human(&e), "15:04:09 OPEN api.anthropic.com:443");
}

#[test]
fn tunnel_close_line() {
    let e = event(TUNNEL_CLOSE);
    assert_eq!(e.kind, EventKind::TunnelClose);
    assert_eq!(e.total_bytes, Some(184_233));
    assert_eq!(e.duration_ms, Some(63_012.481));
    assert_eq!(
        format_human(&e),
        "15:05:12 CLOSE api.anthropic.com:443 179.9 KiB 63.0 s"
    );
}

#[test]
fn blocked_connect_line() {
    let e = event(BLOCKED_CONNECT);
    assert_eq!(e.kind, EventKind::Blocked);
    assert_eq!(e.level, Some(Level::Warn));
    assert_eq!(e.method.as_deref(), Some("CONNECT"));
    assert_eq!(e.host.as_deref(), Some("evil.example.com"));
    assert_eq!(e.scanner.as_deref(), Some("allowlist"));
    assert_eq!(
        e.reason.as_deref(),
        Some("domain not in allowlist: evil.example.com")
    );
    assert_eq!(e.extra.get("mitre_technique"), Some(&json!("T1071.001")));
    assert!(e.is_denial());
    assert!(!e.is_redacted());
    assert_eq!(
        format_human(&e),
        "15:05:20 BLOCKED CONNECT evil.example.com:443 allowlist: domain not in allowlist: evil.example.com"
    );
}

#[test]
fn blocked_get_line() {
    let e = event(BLOCKED_GET);
    assert_eq!(e.kind, EventKind::Blocked);
    assert_eq!(e.method.as_deref(), Some("GET"));
    assert_eq!(e.target.as_deref(), Some("http://example.org/pkg.tgz"));
    assert_eq!(e.host.as_deref(), Some("example.org"));
    assert!(e.is_denial());
}

#[test]
fn config_reload_rejection_line() {
    let e = event(RELOAD_ERROR);
    assert_eq!(e.kind, EventKind::Error);
    assert_eq!(e.level, Some(Level::Error));
    assert_eq!(e.method.as_deref(), Some("CONFIG_RELOAD"));
    assert_eq!(e.target.as_deref(), Some("/config/pipelock.yaml"));
    assert_eq!(e.host, None);
    assert_eq!(
        e.error.as_deref(),
        Some("rejected: security downgrade from strict mode")
    );
    assert!(!e.is_denial());
    assert_eq!(
        format_human(&e),
        "15:06:00 ERROR CONFIG_RELOAD /config/pipelock.yaml rejected: security downgrade from strict mode"
    );
}

#[test]
fn forward_http_and_config_reload_lines() {
    let e = event(
        r#"{"level":"info","component":"pipelock","event":"forward_http","method":"GET","url":"http://allowed.test/file","client_ip":"10.0.0.2","request_id":"req-3","agent":"a","status_code":200,"size_bytes":12,"duration_ms":3.2,"time":"2026-04-28T15:04:09Z","message":"forward proxy request"}"#,
    );
    assert_eq!(e.kind, EventKind::ForwardHttp);
    assert_eq!((e.status_code, e.size_bytes), (Some(200), Some(12)));
    assert_eq!(e.host.as_deref(), Some("allowed.test"));
    assert_eq!(
        format_human(&e),
        "15:04:09 HTTP GET http://allowed.test/file 200 12 B 3 ms"
    );

    let e = event(
        r#"{"level":"info","component":"pipelock","event":"config_reload","status":"success","detail":"mode=strict","config_hash":"ab","time":"2026-04-28T15:04:09Z","message":"configuration reloaded"}"#,
    );
    assert_eq!(e.kind, EventKind::ConfigReload);
    assert_eq!(e.detail.as_deref(), Some("mode=strict"));
    assert_eq!(e.extra.get("status"), Some(&json!("success")));
}

#[test]
fn sni_mismatch_takes_the_host_from_connect_host() {
    let e = event(
        r#"{"level":"warn","component":"pipelock","event":"sni_mismatch","connect_host":"Allowed.Example","sni_host":"evil.example","client_ip":"10.0.0.2","request_id":"req-5","agent":"a","category":"x","mitre_technique":"T1090","time":"2026-04-28T15:04:09Z","message":"sni mismatch"}"#,
    );
    assert_eq!(e.kind, EventKind::SniMismatch);
    assert_eq!(e.host.as_deref(), Some("allowed.example"));
    assert_eq!(e.extra.get("sni_host"), Some(&json!("evil.example")));
    assert!(e.is_denial());
    assert_eq!(
        format_human(&e),
        "15:04:09 SNI-MISMATCH Allowed.Example sni=evil.example"
    );
}

#[test]
fn denials_and_non_denials() {
    let kinds = |name: &str| event(&format!(r#"{{"event":"{name}"}}"#));
    assert!(kinds("kill_switch_deny").is_denial());
    assert_eq!(kinds("kill_switch_deny").kind, EventKind::KillSwitchDeny);
    for name in ["anomaly", "allowed", "shutdown", "tunnel_close", "x"] {
        assert!(!kinds(name).is_denial(), "{name}");
    }
}

#[test]
fn redacted_targets() {
    let connect = event(
        r#"{"event":"blocked","method":"CONNECT","target":"[redacted-url]","scanner":"dlp"}"#,
    );
    assert!(connect.is_redacted());
    assert_eq!(connect.host, None);
    let get = event(
        r#"{"event":"blocked","method":"GET","url":"https://paste.example/[redacted]","scanner":"dlp"}"#,
    );
    assert!(get.is_redacted());
    assert_eq!(get.host.as_deref(), Some("paste.example"));
}

#[test]
fn unknown_events_and_extra_fields_are_kept() {
    let e = event(r#"{"level":"notice","event":"ws_open","target":"h:1","zzz":[1,2],"n":null}"#);
    assert_eq!(e.kind, EventKind::Other("ws_open".to_string()));
    assert_eq!(e.kind.name(), "ws_open");
    assert_eq!(e.level, Some(Level::Other("notice".to_string())));
    assert_eq!(e.extra.get("zzz"), Some(&json!([1, 2])));
    assert_eq!(e.extra.get("n"), Some(&json!(null)));
    assert_eq!(format_human(&e), "--:--:-- WS_OPEN h:1");
}

#[test]
fn wrong_typed_fields_go_to_extra() {
    let e = event(
        r#"{"event":7,"status_code":"200","total_bytes":-1,"duration_ms":"fast","method":5,"size_bytes":1.5,"time":false}"#,
    );
    assert_eq!(e.kind, EventKind::Other(String::new()));
    assert_eq!(
        (e.status_code, e.total_bytes, e.size_bytes),
        (None, None, None)
    );
    assert_eq!(
        (e.duration_ms, e.method.as_deref(), e.time.as_deref()),
        (None, None, None)
    );
    assert_eq!(
        serde_json::Value::Object(e.extra),
        json!({"event":7,"status_code":"200","total_bytes":-1,"duration_ms":"fast","method":5,"size_bytes":1.5,"time":false})
    );
    let big = event(r#"{"event":"forward_http","status_code":70000}"#);
    assert_eq!(big.status_code, None);
    assert_eq!(big.extra.get("status_code"), Some(&json!(70000)));
}

#[test]
fn a_second_target_like_field_is_kept_in_extra() {
    let e = event(r#"{"event":"blocked","url":"http://a.test/","target":"b.test:443"}"#);
    assert_eq!(e.target.as_deref(), Some("http://a.test/"));
    assert_eq!(e.extra.get("target"), Some(&json!("b.test:443")));
}

#[test]
fn non_json_lines_are_notes() {
    assert_eq!(
        note("Pipelock v2.3.0 starting\n"),
        "Pipelock v2.3.0 starting"
    );
    assert_eq!(
        note("pipelock: config reload failed: yaml: unknown field \"x\"\r\n"),
        "pipelock: config reload failed: yaml: unknown field \"x\""
    );
    assert_eq!(note(""), "");
    assert_eq!(note(&TUNNEL_OPEN[..40]), &TUNNEL_OPEN[..40]);
    for not_an_object in ["[1,2]", "\"text\"", "42", "null", "true"] {
        assert_eq!(note(not_an_object), not_an_object);
    }
}

#[test]
fn human_lines_drop_control_characters() {
    let e = event(r#"{"event":"blocked","target":"a\u001b[31m.test:443","reason":"x\ny"}"#);
    assert_eq!(format_human(&e), "--:--:-- BLOCKED a[31m.test:443 xy");
}

/// Arbitrary input never panics: random bytes, and random splices of real lines.
#[test]
fn arbitrary_input_never_panics() {
    let mut random = crate::random::Seeded::new(0x5eed);
    let mut next = move || random.next_u64() >> 33;
    let samples = [
        STARTUP,
        TUNNEL_OPEN,
        TUNNEL_CLOSE,
        BLOCKED_CONNECT,
        BLOCKED_GET,
        RELOAD_ERROR,
    ];
    for i in 0..10_000 {
        let len = usize::try_from(next() % 200).unwrap_or(0);
        let bytes: Vec<u8> = if i % 2 == 0 {
            (0..len).map(|_| (next() & 0xff) as u8).collect()
        } else {
            // Mutate a real line so the parser gets past the first byte.
            let mut line = samples[i % samples.len()].as_bytes().to_vec();
            for _ in 0..=len % 8 {
                let at = usize::try_from(next()).unwrap_or(0) % line.len();
                line[at] = (next() & 0xff) as u8;
            }
            line
        };
        let text = String::from_utf8_lossy(&bytes);
        if let LogLine::Event(e) = parse_line(&text) {
            let _ = (format_human(&e), e.is_denial(), e.is_redacted());
        }
    }
}

#[test]
fn denials_without_reason_or_target_read_sensibly() {
    let e = event(
        r#"{"level":"warn","event":"kill_switch_deny","method":"GET","time":"2026-04-28T15:04:09Z"}"#,
    );
    assert_eq!(format_human(&e), "15:04:09 KILL-SWITCH GET kill switch on");
    let e = event(
        r#"{"event":"blocked","method":"POST","url":"https://p.test/[redacted]","scanner":"body_dlp","time":"2026-04-28T15:04:09Z"}"#,
    );
    assert_eq!(
        format_human(&e),
        "15:04:09 BLOCKED POST https://p.test/[redacted] body_dlp: no reason given"
    );
    // Not a denial: a report, printed as before.
    let e = event(
        r#"{"event":"anomaly","method":"STARTUP","reason":"listening on all interfaces","time":"2026-04-28T15:04:09Z"}"#,
    );
    assert_eq!(
        format_human(&e),
        "15:04:09 ANOMALY STARTUP listening on all interfaces"
    );
}
