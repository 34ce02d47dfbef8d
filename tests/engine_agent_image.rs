//! The agent image against a real Docker engine: built offline from the test base,
//! reused by tag, and run with the bottle's hardening flags. Never skips: with no
//! engine it fails (scripts/test.sh starts one when run as root).
// A failed step should stop the test where it happened.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use claude_bottle::docker::engine::Engine;
use claude_bottle::docker::image::{
    AgentImageSource, BuildProgress, ImageError, ensure_agent_image, image_exists,
};

const TEST_BASE: &str = "claude-bottle-test/debian-base:bookworm";

fn repo_root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Builds the offline base image and fetches the claude binary (skipped when present).
fn prepare_test_base() -> PathBuf {
    let status = Command::new("bash")
        .arg(repo_root().join("scripts/build-agent-test-base.sh"))
        .status()
        .expect("run scripts/build-agent-test-base.sh");
    assert!(
        status.success(),
        "build-agent-test-base.sh failed: {status}"
    );
    repo_root().join("target/test-images/claude")
}

async fn engine() -> Engine {
    let settings = claude_bottle::settings::Settings::from_env().expect("the test settings");
    Engine::connect(&settings.engine)
        .await
        .expect("a Docker engine must be running for this test")
}

fn docker(args: &[&str]) -> std::process::Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("run the docker CLI")
}

/// A running container from the image, removed when dropped.
struct Container {
    name: String,
}

impl Container {
    fn start(image: &str) -> Self {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let name = format!("cb-test-agent-image-{}-{nanos}", std::process::id());
        let container = Self { name };
        let run = docker(&[
            "run",
            "-d",
            "--name",
            &container.name,
            "--label",
            "claude-bottle.test=1",
            "--cap-drop",
            "ALL",
            "--security-opt",
            "no-new-privileges",
            "--init",
            // The default bridge may be broken on a test machine; nothing here needs a network.
            "--network",
            "none",
            image,
        ]);
        assert!(
            run.status.success(),
            "docker run: {}",
            String::from_utf8_lossy(&run.stderr)
        );
        container
    }

    /// Runs a shell command as the image's user; returns stdout and stderr together.
    fn exec(&self, command: &str) -> String {
        let out = docker(&["exec", &self.name, "sh", "-c", command]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        assert!(out.status.success(), "`{command}` failed: {text}");
        text.trim().to_owned()
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = docker(&["rm", "-f", &self.name]);
    }
}

#[tokio::test]
async fn the_agent_image_builds_once_and_runs_hardened() {
    let claude = prepare_test_base();
    let engine = engine().await;
    let source = AgentImageSource {
        base_image: TEST_BASE.to_owned(),
        install_packages: false,
        claude_binary: Some(claude),
    };
    // Start from no image so that the build itself is exercised every time.
    let tag = source
        .image_tag(claude_bottle::docker::image::agent_dockerfile())
        .unwrap();
    let _ = docker(&["rmi", "-f", &tag]);

    let mut progress = Vec::new();
    let started = Instant::now();
    let built = ensure_agent_image(&engine, &source, &mut |p| progress.push(p.clone()))
        .await
        .unwrap();
    eprintln!("first ensure_agent_image (build): {:?}", started.elapsed());
    assert_eq!(built, tag);
    assert_eq!(
        progress.first(),
        Some(&BuildProgress::Started { tag: tag.clone() })
    );
    assert!(
        progress
            .iter()
            .any(|p| matches!(p, BuildProgress::Output(line) if line.contains("COPY bin/"))),
        "the build's steps reach the callback: {progress:?}"
    );
    assert!(image_exists(&engine, &tag).await.unwrap());
    let label = docker(&[
        "image",
        "inspect",
        "-f",
        "{{index .Config.Labels \"claude-bottle.managed\"}}",
        &tag,
    ]);
    assert_eq!(String::from_utf8_lossy(&label.stdout).trim(), "true");

    let mut again = Vec::new();
    let started = Instant::now();
    let reused = ensure_agent_image(&engine, &source, &mut |p| again.push(p.clone()))
        .await
        .unwrap();
    let reuse_time = started.elapsed();
    eprintln!("second ensure_agent_image (reuse): {reuse_time:?}");
    assert_eq!(reused, tag);
    assert!(
        again.is_empty(),
        "an existing image is not rebuilt: {again:?}"
    );
    assert!(
        reuse_time < Duration::from_secs(2),
        "reuse took {reuse_time:?}"
    );

    let agent = Container::start(&tag);
    assert_eq!(agent.exec("id -u"), "1000");
    assert_eq!(agent.exec("id -un"), "agent");
    assert_eq!(agent.exec("pwd"), "/home/agent/work");
    assert_eq!(
        agent.exec("stat -c '%a %U' /home/agent/.claude /home/agent/.ssh"),
        "700 agent\n700 agent"
    );
    let version = agent.exec("claude --version");
    assert!(version.contains("(Claude Code)"), "{version}");
    assert!(agent.exec("git --version").starts_with("git version"));
    assert!(agent.exec("ssh -V").starts_with("OpenSSH_"));
    assert!(agent.exec("nc -h").contains("OpenBSD netcat"));
    assert!(agent.exec("rg --version").starts_with("ripgrep"));
    assert!(agent.exec("curl --version").starts_with("curl"));
    // A check of the image's files, not of the runtime: root with all capabilities
    // can search every directory, the agent's 0700 ones included.
    let find = docker(&[
        "run",
        "--rm",
        "--user",
        "0",
        "--network",
        "none",
        "--label",
        "claude-bottle.test=1",
        &tag,
        "find",
        "/",
        "-xdev",
        "-perm",
        "/6000",
        "-type",
        "f",
    ]);
    assert!(
        find.status.success(),
        "{}",
        String::from_utf8_lossy(&find.stderr)
    );
    let setuid = String::from_utf8_lossy(&find.stdout);
    assert_eq!(setuid.trim(), "", "setuid/setgid files left in the image");
}

#[tokio::test]
async fn a_missing_base_image_fails_naming_it_and_the_fix() {
    let engine = engine().await;
    let base = "claude-bottle-test/no-such-base:never";
    let source = AgentImageSource {
        base_image: base.to_owned(),
        install_packages: false,
        claude_binary: None,
    };
    let mut progress = Vec::new();
    let error = ensure_agent_image(&engine, &source, &mut |p| progress.push(p.clone()))
        .await
        .unwrap_err();
    let ImageError::BuildFailed { log_tail, hint, .. } = &error else {
        panic!("expected BuildFailed, got {error:?}");
    };
    // The classic builder echoes the step unexpanded (`FROM ${BASE_IMAGE}`), and its
    // error names the registry, not the image: the hint is what names the base.
    assert!(
        log_tail.contains(": FROM "),
        "the failing step is shown: {log_tail}"
    );
    assert!(
        progress
            .iter()
            .any(|p| matches!(p, BuildProgress::Output(line) if line.contains(": FROM "))),
        "{progress:?}"
    );
    let hint = hint.as_deref().unwrap_or_default();
    assert!(hint.contains(base), "{hint}");
    assert!(hint.contains("CLAUDE_BOTTLE_BASE_IMAGE"), "{hint}");
    let message = error.to_string();
    assert!(message.contains(base), "{message}");
    assert!(message.contains("CLAUDE_BOTTLE_BASE_IMAGE"), "{message}");
    eprintln!("{message}");
}
