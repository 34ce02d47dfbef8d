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
