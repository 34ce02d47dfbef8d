//! The real binary's manifest commands: exit codes, stdout and stderr.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should stop the test where it happened

use std::path::Path;
use std::process::{Command, Output};

/// A project folder (a git root) and a home folder for one test.
struct Sandbox {
    project: tempfile::TempDir,
    home: tempfile::TempDir,
}

impl Sandbox {
    fn new() -> Self {
        let project = tempfile::tempdir().unwrap();
        std::fs::create_dir(project.path().join(".git")).unwrap();
        let home = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(home.path().join(".ssh")).unwrap();
        std::fs::write(home.path().join(".ssh/id_ed25519"), "not a real key").unwrap();
        Self { project, home }
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(env!("CARGO_BIN_EXE_claude-bottle"))
            .args(args)
            .current_dir(self.project.path())
            .env("HOME", self.home.path())
            .env_remove("CLAUDE_BOTTLE_OAUTH_TOKEN")
            .output()
            .unwrap()
    }

    fn write_project(&self, text: &str) {
        std::fs::write(self.project.path().join("claude-bottle.json"), text).unwrap();
    }
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn init_writes_a_starter_once_that_validates_and_resolves_on_a_fresh_machine() {
    // A machine with nothing set up: no ssh key, no skills, no variables.
    let s = Sandbox::new();
    std::fs::remove_dir_all(s.home.path().join(".ssh")).unwrap();
    let first = s.run(&["init"]);
    assert_eq!(first.status.code(), Some(0), "{}", stderr(&first));
    assert!(
        stdout(&first).contains("claude-bottle start coder"),
        "{}",
        stdout(&first)
    );
    let written = std::fs::read_to_string(s.project.path().join("claude-bottle.json")).unwrap();
    assert!(
        !written.contains("$schema"),
        "the starter must not point into this repository"
    );

    let again = s.run(&["init"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("already exists"),
        "{}",
        stderr(&again)
    );
    let after = std::fs::read_to_string(s.project.path().join("claude-bottle.json")).unwrap();
    assert_eq!(written, after, "init must never overwrite");

    let valid = s.run(&["validate"]);
    assert_eq!(valid.status.code(), Some(0), "{}", stderr(&valid));
    assert!(
        stdout(&valid).starts_with("ok: 1 bottle(s), 1 agent(s)"),
        "{}",
        stdout(&valid)
    );
    let show = s.run(&["show", "coder"]);
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
    assert!(stdout(&show).contains("github.com"), "{}", stdout(&show));
}

#[test]
fn the_full_example_validates_where_its_key_and_skill_exist() {
    let s = Sandbox::new();
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("claude-bottle.example.json");
    s.write_project(&std::fs::read_to_string(example).unwrap());
    let missing = s.run(&["validate"]);
    assert_eq!(
        missing.status.code(),
        Some(1),
        "the deploy skill is not there yet"
    );
    assert!(
        stderr(&missing).contains("skill `deploy` not found"),
        "{}",
        stderr(&missing)
    );
    let skill = s.project.path().join(".claude/skills/deploy");
    std::fs::create_dir_all(&skill).unwrap();
    std::fs::write(skill.join("SKILL.md"), "# deploy\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_claude-bottle"))
        .arg("validate")
        .current_dir(s.project.path())
        .env("HOME", s.home.path())
        .env("GITHUB_TOKEN", "ghp_not_a_real_token")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).starts_with("ok: 2 bottle(s), 2 agent(s)"),
        "{}",
        stdout(&out)
    );
}

#[test]
fn validate_reports_what_resolving_an_agent_would_refuse() {
    let s = Sandbox::new();
    s.write_project(
        r#"{
  "bottles": { "b": { "env": { "TOKEN": "${CB_TEST_SURELY_UNSET}" } } },
  "agents": { "a": { "bottle": "b", "skills": ["nowhere"] } }
}"#,
    );
    let out = s.run(&["validate"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let text = stderr(&out);
    assert!(text.contains("claude-bottle.json:2:"), "{text}");
    assert!(text.contains("CB_TEST_SURELY_UNSET"), "{text}");
    assert!(text.contains("skill `nowhere` not found"), "{text}");
    assert!(text.contains("2 errors found"), "{text}");
    // show refuses the same agent for the same reasons.
    let show = s.run(&["show", "a"]);
    assert_eq!(show.status.code(), Some(1));
    assert!(
        stderr(&show).contains("skill `nowhere` not found"),
        "{}",
        stderr(&show)
    );
}

#[test]
fn validate_reports_every_error_with_file_line_and_col() {
    let s = Sandbox::new();
    let fixture = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/manifest/invalid/several-errors.json");
    let out = s.run(&["validate", fixture.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    let located = err
        .lines()
        .filter(|l| l.starts_with(fixture.to_str().unwrap()))
        .count();
    assert!(located >= 3, "expected several located errors, got:\n{err}");
    assert!(err.trim_end().ends_with("errors found"), "{err}");
}

#[test]
fn no_manifest_says_how_to_make_one() {
    let s = Sandbox::new();
    let out = s.run(&["list"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("claude-bottle init"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn list_and_show_print_no_secret_values() {
    let s = Sandbox::new();
    s.write_project(
        r#"{"bottles":{"b":{"env":{"API_KEY":"literal-secret-value","FROM_HOST":"${HOME}","ASKED":"?the key"},
            "egress":{"allowlist":["Example.COM."]}}},
            "agents":{"a":{"bottle":"b","prompt":"hello"}}}"#,
    );
    let list = s.run(&["list", "--json"]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    let rows: serde_json::Value = serde_json::from_slice(&list.stdout).unwrap();
    assert_eq!(rows[0]["agent"], "a");
    assert_eq!(rows[0]["runtime"], "runc");

    let show = s.run(&["show", "a"]);
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
    let text = stdout(&show);
    assert!(!text.contains("literal-secret-value"), "{text}");
    // `${HOME}` resolves to the sandbox home: its value must not be shown either.
    assert!(!text.contains(s.home.path().to_str().unwrap()), "{text}");
    assert!(text.contains("API_KEY"), "{text}");
    let example_row = text
        .lines()
        .map(|l| l.split_whitespace().collect::<Vec<_>>())
        .find(|w| w.first() == Some(&"example.com"));
    assert_eq!(
        example_row,
        Some(vec!["example.com", "manifest"]),
        "normalised host with its origin:
{text}"
    );
    assert!(
        text.contains("api.anthropic.com"),
        "defaults listed:\n{text}"
    );

    let json = s.run(&["show", "a", "--json"]);
    let value: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert!(!json_text(&value).contains("literal-secret-value"));
    let mut kinds: Vec<&str> = value["env"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["kind"].as_str().unwrap())
        .collect();
    kinds.sort_unstable();
    assert_eq!(kinds, ["host var", "literal", "prompt"]);
}

fn json_text(v: &serde_json::Value) -> String {
    v.to_string()
}

#[test]
fn show_of_an_unknown_agent_suggests_the_close_one() {
    let s = Sandbox::new();
    s.write_project(r#"{"bottles":{"b":{}},"agents":{"coder":{"bottle":"b"}}}"#);
    let out = s.run(&["show", "codr"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("coder"), "{}", stderr(&out));
}

#[test]
fn run_without_a_token_says_how_to_make_one() {
    let s = Sandbox::new();
    s.write_project(r#"{"bottles":{"b":{}},"agents":{"coder":{"bottle":"b"}}}"#);
    let out = s.run(&["run", "coder", "--yes", "--", "true"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("CLAUDE_BOTTLE_OAUTH_TOKEN") && err.contains("claude setup-token"),
        "{err}"
    );
}

#[test]
fn completions_are_printed_for_bash() {
    let s = Sandbox::new();
    let out = s.run(&["completions", "bash"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(stdout(&out).contains("claude-bottle"));
}

#[test]
fn an_entry_with_errors_leaves_out_only_itself_and_its_agents() {
    let s = Sandbox::new();
    s.write_project(
        r#"{
  "bottles": {"good": {}, "bad": {"runtime": "gvisor"}},
  "agents": {"ok": {"bottle": "good"}, "broken": {"bottle": "bad"}}
}"#,
    );
    let note = "1 manifest error (in bottles.bad); agents that cannot launch: broken \
                (`claude-bottle validate` lists them)";

    let show = s.run(&["show", "ok"]);
    assert_eq!(show.status.code(), Some(0), "{}", stderr(&show));
    assert!(stdout(&show).contains("bottle   good"), "{}", stdout(&show));
    assert!(stderr(&show).contains(note), "{}", stderr(&show));

    let broken = s.run(&["show", "broken"]);
    assert_eq!(broken.status.code(), Some(1));
    assert!(
        stderr(&broken)
            .contains("claude-bottle.json:2:46: bottles.bad.runtime: unknown runtime `gvisor`"),
        "{}",
        stderr(&broken)
    );
    assert_eq!(stdout(&broken), "");

    let list = s.run(&["list"]);
    assert_eq!(list.status.code(), Some(0), "{}", stderr(&list));
    assert!(stdout(&list).contains("ok "), "{}", stdout(&list));
    assert!(!stdout(&list).contains("broken"), "{}", stdout(&list));
    assert!(stderr(&list).contains(note), "{}", stderr(&list));

    // validate stays strict.
    let validate = s.run(&["validate"]);
    assert_eq!(validate.status.code(), Some(1));
    assert!(stderr(&validate).contains("bottles.bad.runtime"));
}

#[test]
fn a_file_that_does_not_parse_leaves_nothing_to_launch() {
    let s = Sandbox::new();
    s.write_project(r#"{"bottles": {"good": {}}, "agents": {"ok": {"bottle": "good"},}}"#);
    let show = s.run(&["show", "ok"]);
    assert_eq!(show.status.code(), Some(1));
    assert!(
        stderr(&show).contains("1:63: agents: expected a key in double quotes"),
        "{}",
        stderr(&show)
    );
}

#[test]
fn a_bad_setting_stops_every_command_at_once_with_the_fix() {
    let s = Sandbox::new();
    for (name, value, fix) in [
        ("CLAUDE_BOTTLE_SUBNET_POOL", "ten", "e.g. 10.213.0.0/16"),
        (
            "DOCKER_HOST",
            "/var/run/docker.sock",
            "unix:///path/to/docker.sock",
        ),
    ] {
        for command in [&["list"][..], &["doctor"], &["gc", "--dry-run"]] {
            let out = Command::new(env!("CARGO_BIN_EXE_claude-bottle"))
                .args(command)
                .current_dir(s.project.path())
                .env("HOME", s.home.path())
                .env(name, value)
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(2),
                "{command:?} with {name}={value}"
            );
            let text = stderr(&out);
            assert!(text.contains(name) && text.contains(fix), "{text}");
            assert!(stdout(&out).is_empty(), "nothing ran: {}", stdout(&out));
        }
    }
}
