//! The command line with a bottle on another engine: a second dockerd in
//! its own network namespace (`common::second_engine`), named by a docker
//! context the manifest's bottle names. `run` launches there (the images
//! copied from the default engine), `doctor` checks that engine too, `ps`
//! lists it under that engine,
//! `logs` reads its sidecar there, and after the `run` is killed `gc`
//! finds what it left there and removes it. A sidecar image that can be
//! neither copied nor pulled there is refused with the fix.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should stop the test where it happened

mod common;

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::second_engine::SecondEngine;

const BIN: &str = env!("CARGO_BIN_EXE_claude-bottle");

/// What `pipe` says until `marker` (or its end).
fn read_until(mut pipe: impl std::io::Read, marker: &str) -> String {
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while let Ok(n) = pipe.read(&mut buf) {
        if n == 0 {
            break;
        }
        seen.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&seen).contains(marker) {
            break;
        }
    }
    String::from_utf8_lossy(&seen).into_owned()
}

#[test]
fn a_bottle_on_a_named_context_is_run_listed_logged_and_collected_there() {
    let second = SecondEngine::start("cli");
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("docker-config");
    common::write_context(&config, "far-box", &second.host());
    let agent = format!("ctx{}", std::process::id());
    let manifest = dir.path().join("claude-bottle.json");
    let text = serde_json::json!({
        "bottles": { "far": { "context": "far-box", "egress": { "allowlist": ["allowed.test"] } } },
        "agents": { &agent: { "bottle": "far" } }
    });
    std::fs::write(&manifest, text.to_string()).unwrap();
    let manifest = manifest.display().to_string();
    let command = |args: &[&str]| {
        let mut cmd = Command::new(BIN);
        cmd.args(["--manifest", &manifest])
            .args(args)
            .envs(common::test_image_env())
            .env("DOCKER_CONFIG", &config)
            .env("CLAUDE_BOTTLE_OAUTH_TOKEN", "sk-ant-oat01-context-test")
            .stdin(Stdio::null());
        cmd
    };
    let output = |args: &[&str]| {
        let out = command(args).output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };

    let script = "curl -s -o /dev/null http://denied.test/; echo REQUESTED; sleep 300";
    let mut run = command(&common::run_args(&agent, script))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let seen = read_until(run.stdout.take().unwrap(), "REQUESTED");
    assert!(seen.contains("REQUESTED"), "the run ended first: {seen}");

    // Its containers are on the second engine.
    let label = format!("label=claude-bottle.agent={agent}");
    let there = second.docker(&["ps", "-q", "--filter", &label]);
    assert_eq!(
        there.lines().count(),
        2,
        "agent and sidecar on the second engine"
    );

    let (_, doctor) = output(&["doctor"]);
    assert!(
        doctor.lines().any(|l| l.starts_with("ok")
            && l.contains(&format!(
                "docker context far-box (named by a bottle) at {}",
                second.host()
            ))),
        "doctor checks the second engine too:\n{doctor}"
    );
    let (code, ps) = output(&["ps"]);
    assert_eq!(code, Some(0), "{ps}");
    assert!(
        ps.lines()
            .any(|l| l.starts_with("far-box") && l.contains(&agent)),
        "ps names the engine:\n{ps}"
    );
    let wanted = "BLOCKED GET http://denied.test/";
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let (code, logs) = output(&["logs", &agent, "--denied"]);
        if code == Some(0) && logs.contains(wanted) {
            break;
        }
        assert!(Instant::now() < deadline, "no denial in logs: {logs}");
        std::thread::sleep(Duration::from_millis(300));
    }

    // Killed, the run leaves its bottle there; gc finds it there.
    run.kill().unwrap();
    run.wait().unwrap();
    let (code, gc) = output(&["gc", "--yes"]);
    assert_eq!(code, Some(0), "{gc}");
    assert!(gc.contains("On engine far-box:"), "{gc}");
    assert!(gc.contains("removed session"), "{gc}");
    let left = second.docker(&["ps", "-aq", "--filter", &label]);
    assert!(left.is_empty(), "left on the second engine: {left}");
    let networks = second.docker(&["network", "ls", "-q", "--filter", &label]);
    assert!(networks.is_empty(), "networks left: {networks}");

    // A sidecar image neither engine has, which the second cannot pull
    // (its namespace has no route out): refused before anything is made,
    // saying how to get it there.
    let missing = "claude-bottle-test/no-such-sidecar:1";
    let mut cmd = command(&["run", &agent, "--yes", "--", "true"]);
    let out = cmd
        .env("CLAUDE_BOTTLE_PIPELOCK_IMAGE", missing)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!(
            "the sidecar image {missing} is not on engine far-box"
        )) && stderr.contains(&format!("docker --context far-box pull {missing}"))
            && stderr.contains("docker save"),
        "{stderr}"
    );
    let made = second.docker(&["ps", "-aq", "--filter", &label]);
    assert!(made.is_empty(), "nothing was made: {made}");
}
