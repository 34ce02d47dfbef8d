use super::*;
use crate::egress::log::{LogLine, parse_line};

fn event(line: &str) -> EgressEvent {
    match parse_line(line) {
        LogLine::Event(e) => *e,
        LogLine::Note(n) => panic!("not an event: {n}"),
    }
}

fn blocked(scanner: &str, target: &str, reason: &str) -> EgressEvent {
    event(&format!(
        r#"{{"level":"warn","event":"blocked","method":"CONNECT","target":"{target}","scanner":"{scanner}","reason":"{reason}"}}"#
    ))
}

#[test]
fn scanners_map_to_kinds() {
    let kind = |scanner: &str| DenialKind::of(&blocked(scanner, "h.test:443", "r"));
    assert_eq!(kind("allowlist"), Some(DenialKind::Allowlist));
    assert_eq!(kind("ssrf"), Some(DenialKind::PrivateAddress));
    assert_eq!(kind("core_ssrf"), Some(DenialKind::PrivateAddress));
    assert_eq!(kind("ratelimit"), Some(DenialKind::RateLimit));
    for s in ["dlp", "body_dlp", "header_dlp", "core_dlp", "response_scan"] {
        assert_eq!(kind(s), Some(DenialKind::Content), "{s}");
    }
    for s in ["blocklist", "subdomain_entropy", "redirect", "budget", ""] {
        assert_eq!(kind(s), Some(DenialKind::Other), "{s}");
    }
    let of = |line: &str| DenialKind::of(&event(line));
    assert_eq!(
        of(r#"{"event":"kill_switch_deny"}"#),
        Some(DenialKind::KillSwitch)
    );
    assert_eq!(
        of(r#"{"event":"sni_mismatch","connect_host":"a.test"}"#),
        Some(DenialKind::SniMismatch)
    );
    assert_eq!(of(r#"{"event":"blocked"}"#), Some(DenialKind::Other));
    for name in ["anomaly", "error", "startup", "shutdown", "tunnel_open"] {
        assert_eq!(of(&format!(r#"{{"event":"{name}"}}"#)), None, "{name}");
    }
}

#[test]
fn advice_says_what_would_change_the_outcome() {
    let advice_for = |e: &EgressEvent| advice(e).unwrap_or_default();
    let text = advice_for(&blocked(
        "allowlist",
        "evil.test:443",
        "domain not in allowlist: evil.test",
    ));
    assert!(
        text.contains("evil.test") && text.contains("press a") && text.contains("egress.allowlist"),
        "{text}"
    );
    let text = advice_for(&blocked(
        "ssrf",
        "db.corp:5432",
        "SSRF blocked: db.corp resolves to internal IP 10.1.2.3",
    ));
    assert!(
        text.contains("db.corp")
            && text.contains("egress.private_hosts")
            && text.contains("relaunch"),
        "{text}"
    );
    let text = advice_for(&blocked(
        "ratelimit",
        "a.test:443",
        "rate limit exceeded for a.test",
    ));
    assert!(
        text.contains("1200 requests a minute") && text.contains("wait"),
        "{text}"
    );
    let text = advice_for(&event(
        r#"{"event":"blocked","method":"POST","url":"https://paste.test/[redacted]","scanner":"dlp","reason":"DLP match: GitHub Token (critical)"}"#,
    ));
    assert_eq!(
        text,
        "a GitHub Token secret was found in the request: if it is meant for paste.test, list \
         that host in the secret's env entry `hosts` in the manifest; otherwise the agent tried \
         to send a secret out"
    );
    let text = advice_for(&event(
        r#"{"event":"blocked","method":"CONNECT","target":"[redacted-url]","scanner":"header_dlp"}"#,
    ));
    assert!(
        text.starts_with("a secret pattern was found") && text.contains("the host"),
        "{text}"
    );
    let text = advice_for(&blocked("response_scan", "a.test:443", "prompt injection"));
    assert!(
        text.contains("response_scan flagged the content (prompt injection)"),
        "{text}"
    );
    let text = advice_for(&event(
        r#"{"event":"sni_mismatch","connect_host":"a.test","sni_host":"b.test","category":"mismatch"}"#,
    ));
    assert!(
        text.contains("(b.test)") && text.contains("a.test") && text.contains("5 s"),
        "{text}"
    );
    let text = advice_for(&event(r#"{"event":"kill_switch_deny","method":"GET"}"#));
    assert!(text.contains("kill switch is on"), "{text}");
    let text = advice_for(&blocked("blocklist", "bad.test:443", "domain blocked"));
    assert!(text.contains("blocklist (domain blocked)"), "{text}");
    assert_eq!(advice(&event(r#"{"event":"anomaly"}"#)), None);
}

#[test]
fn why_reads_sensibly_without_a_reason() {
    let why_of = |line: &str| why(&event(line));
    assert_eq!(
        why_of(
            r#"{"event":"blocked","scanner":"allowlist","reason":"domain not in allowlist: a"}"#
        ),
        "allowlist: domain not in allowlist: a"
    );
    assert_eq!(
        why_of(r#"{"event":"blocked","scanner":"body_dlp"}"#),
        "body_dlp: no reason given"
    );
    assert_eq!(why_of(r#"{"event":"kill_switch_deny"}"#), "kill switch on");
    assert_eq!(why_of(r#"{"event":"blocked","reason":"x"}"#), "x");
    assert_eq!(why_of(r#"{"event":"blocked"}"#), "no reason given");
}

#[test]
fn buckets() {
    let bucket_of = |line: &str| bucket(&event(line));
    assert_eq!(
        bucket_of(r#"{"event":"blocked","target":"A.test:443"}"#),
        "a.test"
    );
    assert_eq!(
        bucket_of(r#"{"event":"blocked","target":"[redacted-url]"}"#),
        REDACTED_BUCKET
    );
    assert_eq!(
        bucket_of(r#"{"event":"kill_switch_deny"}"#),
        KILL_SWITCH_BUCKET
    );
    assert_eq!(bucket_of(r#"{"event":"blocked"}"#), NO_HOST_BUCKET);
}

#[test]
fn secret_pattern_names() {
    assert_eq!(
        secret_pattern("DLP match: AWS Access Key (high)"),
        Some("AWS Access Key")
    );
    assert_eq!(secret_pattern("DLP match: Bare"), Some("Bare"));
    assert_eq!(secret_pattern("DLP match:  (high)"), None);
    assert_eq!(secret_pattern("something else"), None);
}

#[test]
fn an_sni_mismatch_says_which_name() {
    let e = event(r#"{"event":"sni_mismatch","connect_host":"a.test","sni_host":"b.test"}"#);
    assert_eq!(why(&e), "TLS name b.test differs from the CONNECT host");
    let e = event(r#"{"event":"sni_mismatch","connect_host":"a.test"}"#);
    assert_eq!(why(&e), "no TLS name matching the CONNECT host");
}

/// Lines the real pipelock 2.3.0 wrote with TLS inspection on.
const INSPECTION_LOG: &str = include_str!("../../../tests/fixtures/pipelock/inspection-2.3.0.log");

fn real_events() -> Vec<crate::egress::log::EgressEvent> {
    INSPECTION_LOG
        .lines()
        .filter_map(|l| match crate::egress::log::parse_line(l) {
            crate::egress::log::LogLine::Event(e) => Some(*e),
            crate::egress::log::LogLine::Note(_) => None,
        })
        .collect()
}

#[test]
fn real_inspection_lines_are_told_apart() {
    let events = real_events();
    let kinds: Vec<(Option<&str>, Option<DenialKind>)> = events
        .iter()
        .filter(|e| DenialKind::of(e).is_some())
        .map(|e| (e.scanner.as_deref(), DenialKind::of(e)))
        .collect();
    assert!(
        kinds.contains(&(Some("body_dlp"), Some(DenialKind::Content))),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(Some("header_dlp"), Some(DenialKind::Content))),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(Some("tls_handshake_error"), Some(DenialKind::Tls))),
        "{kinds:?}"
    );
    assert!(
        kinds.contains(&(Some("allowlist"), Some(DenialKind::Allowlist))),
        "{kinds:?}"
    );
    // The note for every inspected tunnel is no denial.
    let notes = events
        .iter()
        .filter(|e| crate::egress::log::is_inspection_note(e));
    assert!(notes.clone().count() >= 4);
    assert!(notes.clone().all(|e| DenialKind::of(e).is_none()));
    assert!(
        crate::egress::log::format_human(notes.clone().next().unwrap())
            .contains("INSPECT CONNECT localhost:18443")
    );
}

#[test]
fn a_real_body_dlp_denial_names_its_rule() {
    let events = real_events();
    let body = events
        .iter()
        .find(|e| e.scanner.as_deref() == Some("body_dlp"))
        .unwrap();
    let said = advice(body).unwrap();
    assert!(said.contains("AWS Access ID"), "{said}");
    assert_eq!(bucket(body), "localhost");
    let tls = events
        .iter()
        .find(|e| e.scanner.as_deref() == Some("tls_handshake_error"))
        .unwrap();
    assert!(advice(tls).unwrap().contains("egress.passthrough"));
}

#[test]
fn a_compressed_plain_http_response_says_what_to_do() {
    // A line real pipelock 2.3.0 wrote.
    let e = event(
        r#"{"level":"warn","component":"pipelock","event":"blocked","method":"GET","url":"http://localhost:18081/[redacted]","client_ip":"127.0.0.1","request_id":"req-1","scanner":"response_scan","reason":"compressed response cannot be scanned","agent":"bottle-alpha-1","time":"2026-12-03T10:27:17Z","message":"request blocked"}"#,
    );
    assert_eq!(DenialKind::of(&e), Some(DenialKind::Content));
    assert!(advice(&e).unwrap().contains("over https"));
}

#[test]
fn plain_http_dlp_events_are_denials_naming_their_pattern() {
    let events = real_events();
    let header = events
        .iter()
        .find(|e| e.kind == EventKind::HeaderDlp)
        .unwrap();
    assert!(header.is_denial());
    assert_eq!(DenialKind::of(header), Some(DenialKind::Content));
    assert_eq!(
        why(header),
        "header_dlp: header X-N holds Known Secret Leak"
    );
    assert!(
        advice(header)
            .unwrap()
            .contains("a Known Secret Leak secret")
    );
    let body = events
        .iter()
        .find(|e| e.kind == EventKind::BodyDlp)
        .unwrap();
    assert_eq!(why(body), "body_dlp: the body holds AWS Access ID");
    assert_eq!(bucket(body), "localhost");
    // With action warn the request went out: no denial.
    let warned = event(
        r#"{"event":"body_dlp","url":"http://a.test/x","action":"warn","patterns":["AWS Access ID"]}"#,
    );
    assert!(!warned.is_denial());
    assert_eq!(DenialKind::of(&warned), None);
}

#[test]
fn a_core_dlp_url_is_shown_without_its_secret() {
    let events = real_events();
    let core = events
        .iter()
        .find(|e| e.scanner.as_deref() == Some("core_dlp"))
        .unwrap();
    // Pipelock itself wrote the key into the line.
    assert!(
        core.target
            .as_deref()
            .unwrap()
            .contains("AKIAIOSFODNN7EXAMPLE")
    );
    let shown = crate::egress::log::format_human(core);
    assert!(!shown.contains("AKIAIOSFODNN7EXAMPLE"), "{shown}");
    assert!(shown.contains("/index.html?[redacted]"), "{shown}");
}

/// Lines real pipelock 2.3.0 wrote for other scanners: a blocked redirect,
/// the rate limit, subdomain entropy, the kill switch, SNI checks.
const SCANNERS_LOG: &str = include_str!("../../../tests/fixtures/pipelock/scanners-2.3.0.log");

fn scanner_events() -> Vec<crate::egress::log::EgressEvent> {
    SCANNERS_LOG
        .lines()
        .filter_map(|l| match crate::egress::log::parse_line(l) {
            crate::egress::log::LogLine::Event(e) => Some(*e),
            crate::egress::log::LogLine::Note(_) => None,
        })
        .collect()
}

#[test]
fn real_scanner_lines_count_once_per_request_under_the_right_host() {
    let mut tally = crate::egress::tally::DenialTally::default();
    for e in scanner_events() {
        tally.record(&e);
    }
    // The redirect's two lines (target, then original URL) count once, under
    // the host that was refused, never under the allowed one.
    assert_eq!(tally.by_bucket.get("denied.test"), Some(&1));
    assert!(tally.allowlist_hosts.contains("denied.test"));
    assert!(!tally.allowlist_hosts.contains("localhost"));
    assert_eq!(tally.by_kind.get(&DenialKind::RateLimit), Some(&4));
    assert_eq!(
        tally.by_kind.get(&DenialKind::Other),
        Some(&1),
        "subdomain entropy"
    );
    assert_eq!(tally.by_kind.get(&DenialKind::KillSwitch), Some(&1));
    assert_eq!(tally.by_kind.get(&DenialKind::SniMismatch), Some(&2));
    assert_eq!(tally.by_bucket.get(KILL_SWITCH_BUCKET), Some(&1));
}

#[test]
fn real_scanner_lines_say_what_would_change_the_outcome() {
    let events = scanner_events();
    let find = |scanner: &str| {
        events
            .iter()
            .find(|e| e.scanner.as_deref() == Some(scanner))
            .unwrap()
    };
    assert!(
        advice(find("ratelimit"))
            .unwrap()
            .contains("1200 requests a minute")
    );
    assert!(
        advice(find("subdomain_entropy"))
            .unwrap()
            .contains("subdomain_entropy")
    );
    let kill = events
        .iter()
        .find(|e| e.kind == EventKind::KillSwitchDeny)
        .unwrap();
    assert_eq!(why(kill), "kill switch on");
    let timeout = events
        .iter()
        .find(|e| {
            e.kind == EventKind::SniMismatch
                && e.extra.get("category").and_then(|v| v.as_str()) == Some("timeout")
        })
        .unwrap();
    assert!(
        advice(timeout)
            .unwrap()
            .contains("no TLS ClientHello within 5 s")
    );
    // The redirect notice itself is no denial.
    let redirect = events.iter().find(|e| e.kind.name() == "redirect").unwrap();
    assert_eq!(DenialKind::of(redirect), None);
}

#[test]
fn both_lines_of_a_blocked_redirect_name_the_refused_host() {
    let events = scanner_events();
    let pair: Vec<_> = events
        .iter()
        .filter(|e| e.kind == EventKind::Blocked && e.request_id.as_deref() == Some("req-1"))
        .collect();
    assert_eq!(pair.len(), 2);
    assert_eq!(
        pair[1].host.as_deref(),
        Some("localhost"),
        "the URL is the allowed host's"
    );
    for e in pair {
        assert_eq!(refused_host(e).as_deref(), Some("denied.test"));
        assert!(advice(e).unwrap().starts_with("denied.test is not on"));
    }
}
