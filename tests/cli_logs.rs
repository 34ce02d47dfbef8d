//! `claude-bottle logs --file`: a saved pipelock log printed by the real
//! binary, every mode, exact output.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should stop the test where it happened

use std::io::Write as _;
use std::process::{Command, Output, Stdio};

const ALLOWED: &str = r#"{"level":"info","component":"pipelock","event":"tunnel_open","target":"api.anthropic.com:443","client_ip":"172.28.0.3","request_id":"req-12","agent":"bottle-alpha","time":"2026-04-28T15:04:09Z","message":"tunnel opened"}"#;
const BLOCKED: &str = r#"{"level":"warn","component":"pipelock","event":"blocked","method":"CONNECT","target":"evil.example.com:443","client_ip":"172.28.0.3","request_id":"req-13","scanner":"allowlist","reason":"domain not in allowlist: evil.example.com","agent":"bottle-alpha","mitre_technique":"T1071.001","time":"2026-04-28T15:05:20Z","message":"request blocked"}"#;
const RELOAD: &str = r#"{"level":"info","component":"pipelock","event":"config_reload","status":"success","detail":"mode=strict","config_hash":"9f2c","time":"2026-04-28T15:06:00Z","message":"configuration reloaded"}"#;
const NOTE: &str = "Pipelock v2.3.0 starting";

/// A `docker logs` capture: stdout and stderr interleaved, CRLF on one line.
fn saved_log() -> String {
    format!("{NOTE}\n{ALLOWED}\n\n{BLOCKED}\r\n{RELOAD}\n")
}

fn logs(args: &[&str], stdin: Option<&str>) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_claude-bottle"))
        .arg("logs")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut input = child.stdin.take().unwrap();
    input.write_all(stdin.unwrap_or("").as_bytes()).unwrap();
    drop(input);
    child.wait_with_output().unwrap()
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

fn saved() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sidecar.log");
    std::fs::write(&path, saved_log()).unwrap();
    let path = path.display().to_string();
    (dir, path)
}

#[test]
fn human_format_with_notes_on_stderr() {
    let (_dir, path) = saved();
    let out = logs(&["--file", &path], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(
        text(&out.stdout),
        "15:04:09 OPEN api.anthropic.com:443\n\
         15:05:20 BLOCKED CONNECT evil.example.com:443 allowlist: domain not in allowlist: evil.example.com\n\
         15:06:00 RELOAD mode=strict\n"
    );
    assert_eq!(text(&out.stderr), format!("{NOTE}\n"));
}

#[test]
fn denied_only() {
    let (_dir, path) = saved();
    let out = logs(&["--file", &path, "--denied"], None);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        "15:05:20 BLOCKED CONNECT evil.example.com:443 allowlist: domain not in allowlist: evil.example.com\n"
    );
    assert_eq!(text(&out.stderr), "");
}

#[test]
fn json_keeps_pipelocks_fields_and_wraps_notes() {
    let (_dir, path) = saved();
    let out = logs(&["--file", &path, "--json"], None);
    assert!(out.status.success());
    assert_eq!(
        text(&out.stdout),
        format!("{{\"note\":\"{NOTE}\"}}\n{ALLOWED}\n{BLOCKED}\n{RELOAD}\n")
    );
    assert_eq!(text(&out.stderr), "");
    let out = logs(&["--file", &path, "--json", "--denied"], None);
    assert_eq!(text(&out.stdout), format!("{BLOCKED}\n"));
}

#[test]
fn dash_reads_stdin() {
    let out = logs(&["--file", "-", "--denied", "--json"], Some(&saved_log()));
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), format!("{BLOCKED}\n"));
}

#[test]
fn a_missing_file_or_no_agent_is_an_error() {
    let out = logs(&["--file", "/nonexistent/sidecar.log"], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("cannot read /nonexistent/sidecar.log"),
        "{}",
        text(&out.stderr)
    );
    let out = logs(&[], None);
    assert_eq!(out.status.code(), Some(2), "clap usage error");
}

/// Denials of every kind; the allowlist ones are what `--propose` turns into
/// entries. `b.example.com` is denied twice, a redirect logs two lines for
/// one request.
fn denials_log() -> String {
    [
        r#"{"level":"warn","event":"anomaly","method":"STARTUP","reason":"listening on 0.0.0.0","time":"2026-04-28T15:04:04Z"}"#,
        r#"{"level":"warn","event":"blocked","method":"CONNECT","target":"b.example.com:443","request_id":"r1","scanner":"allowlist","reason":"domain not in allowlist: b.example.com","time":"2026-04-28T15:05:01Z"}"#,
        r#"{"level":"warn","event":"blocked","method":"GET","url":"http://pypi.org/simple/","request_id":"r2","scanner":"allowlist","reason":"domain not in allowlist: pypi.org","time":"2026-04-28T15:05:02Z"}"#,
        r#"{"level":"warn","event":"blocked","method":"CONNECT","target":"B.Example.com.:443","request_id":"r3","scanner":"allowlist","reason":"domain not in allowlist: b.example.com","time":"2026-04-28T15:05:03Z"}"#,
        r#"{"level":"warn","event":"blocked","method":"GET","url":"http://next.test/","request_id":"r4","scanner":"redirect","time":"2026-04-28T15:05:04Z"}"#,
        r#"{"level":"warn","event":"blocked","method":"GET","url":"http://start.test/","request_id":"r4","scanner":"redirect","time":"2026-04-28T15:05:04Z"}"#,
        r#"{"level":"warn","event":"blocked","method":"CONNECT","target":"db.internal:5432","request_id":"r5","scanner":"ssrf","reason":"SSRF blocked: db.internal resolves to internal IP 10.1.2.3","time":"2026-04-28T15:05:05Z"}"#,
        r#"{"level":"warn","event":"blocked","method":"CONNECT","target":"[redacted-url]","request_id":"r6","scanner":"dlp","reason":"DLP match: GitHub Token (critical)","time":"2026-04-28T15:05:06Z"}"#,
        r#"{"level":"warn","event":"kill_switch_deny","method":"GET","time":"2026-04-28T15:05:07Z"}"#,
        r#"{"level":"info","event":"shutdown","reason":"signal received","time":"2026-04-28T15:06:00Z"}"#,
    ]
    .join("\n")
}

fn saved_denials() -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sidecar.log");
    std::fs::write(&path, denials_log()).unwrap();
    let path = path.display().to_string();
    (dir, path)
}

#[test]
fn propose_prints_sorted_unique_entries_and_says_what_it_left_out() {
    let (_dir, path) = saved_denials();
    let out = logs(&["--file", &path, "--propose"], None);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "\"b.example.com\"\n\"pypi.org\"\n");
    let err = text(&out.stderr);
    assert!(err.contains("nothing was changed"), "{err}");
    assert!(
        err.contains("Not compared with the bottle's allowlist"),
        "{err}"
    );
    assert!(
        err.contains("4 other denials left out (1 private address, 1 secret or content, 1 kill switch, 1 other scanner)"),
        "{err}"
    );
    let same = logs(
        &["--file", "-", "--propose", "--denied"],
        Some(&denials_log()),
    );
    assert_eq!(same.stdout, out.stdout);
}

#[test]
fn propose_leaves_out_hosts_the_agents_bottle_already_allows() {
    let (dir, path) = saved_denials();
    let manifest = dir.path().join("claude-bottle.json");
    std::fs::write(
        &manifest,
        r#"{"bottles":{"dev":{"runtime":"runc","egress":{"allowlist":["*.example.com"]}}},"agents":{"coder":{"bottle":"dev"}}}"#,
    )
    .unwrap();
    let manifest = manifest.display().to_string();
    let out = logs(
        &[
            "coder",
            "--file",
            &path,
            "--propose",
            "--manifest",
            &manifest,
        ],
        None,
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout), "\"pypi.org\"\n");
    let err = text(&out.stderr);
    assert!(
        err.contains("b.example.com left out: covered by *.example.com now."),
        "{err}"
    );
    let out = logs(
        &[
            "nobody",
            "--file",
            &path,
            "--propose",
            "--manifest",
            &manifest,
        ],
        None,
    );
    assert!(out.status.success());
    assert_eq!(text(&out.stdout), "\"b.example.com\"\n\"pypi.org\"\n");
    assert!(
        text(&out.stderr).contains("The allowlist of nobody's bottle is unknown"),
        "{}",
        text(&out.stderr)
    );
}

#[test]
fn human_denials_read_sensibly_without_reason_or_target() {
    let (_dir, path) = saved_denials();
    let out = logs(&["--file", &path, "--denied"], None);
    assert!(out.status.success());
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("15:05:04 BLOCKED GET http://next.test/ redirect: no reason given\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("15:05:07 KILL-SWITCH GET kill switch on\n"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("ANOMALY") && !stdout.contains("STOP"),
        "{stdout}"
    );
}

#[test]
fn propose_refuses_what_it_cannot_mean() {
    let (_dir, path) = saved_denials();
    for extra in ["--json", "--follow"] {
        let out = logs(&["--file", &path, "--propose", extra], None);
        assert_eq!(out.status.code(), Some(2), "{extra}: clap usage error");
    }
    let out = logs(&["coder", "--file", &path], None);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out.stderr).contains("not both"),
        "{}",
        text(&out.stderr)
    );
}
