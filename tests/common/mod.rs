//! Helpers shared by the tests that talk to the real Docker engine.
#![allow(clippy::unwrap_used, clippy::expect_used)]
//!
//! These tests never skip: with no engine they fail, saying how to start one
//! (`scripts/test.sh` starts one itself when run as root).
#![allow(dead_code)]

pub mod second_engine;
pub mod wait;

use claude_bottle::docker::engine::Engine;

/// Connects to the engine or fails the test with the reason.
pub async fn engine() -> Engine {
    let settings = claude_bottle::settings::Settings::from_env().expect("the test settings");
    match Engine::connect(&settings.engine).await {
        Ok(engine) => engine,
        Err(e) => {
            panic!("these tests need a Docker engine; run scripts/test.sh, which starts one: {e}")
        }
    }
}

/// A resolved agent with no grants but the given allowlist, as the manifest
/// would produce it.
pub fn resolved_agent(name: &str, allow: &[&str]) -> claude_bottle::manifest::ResolvedAgent {
    use claude_bottle::manifest::{
        Agent, AllowEntry, AllowOrigin, Bottle, ResolvedAgent, Resources, Runtime,
    };
    ResolvedAgent {
        agent: Agent {
            name: name.into(),
            source: "test".into(),
            bottle: "test-bottle".into(),
            skills: vec![],
            prompt: None,
            workspace: None,
        },
        bottle: Bottle {
            name: "test-bottle".into(),
            source: "test".into(),
            runtime: Runtime::Runc,
            context: None,
            env: vec![],
            ssh: vec![],
            allowlist: allow.iter().map(|s| (*s).to_owned()).collect(),
            private_hosts: vec![],
            inspect: true,
            passthrough: vec![],
            resources: Resources::default(),
        },
        env: vec![],
        skills: vec![],
        allowlist: allow
            .iter()
            .map(|h| AllowEntry {
                host: (*h).to_owned(),
                origins: vec![AllowOrigin::Manifest],
            })
            .collect(),
    }
}

/// A resolved agent that may reach the tests' outside servers: they sit on
/// private Docker subnets, which the sidecar's SSRF guard refuses unless the
/// bottle lists them in `egress.private_hosts`, as a user would for a LAN host.
pub fn outside_agent(name: &str, hosts: &[&str]) -> claude_bottle::manifest::ResolvedAgent {
    use claude_bottle::manifest::{AllowOrigin, PrivateHost};
    let mut resolved = resolved_agent(name, hosts);
    resolved.bottle.private_hosts = hosts
        .iter()
        .map(|h| PrivateHost::Name((*h).to_owned()))
        .collect();
    for entry in &mut resolved.allowlist {
        entry.origins.push(AllowOrigin::Private);
    }
    resolved
}

/// [`outside_agent`] for outside servers that speak plain HTTP, tunnelled
/// through CONNECT too: an inspecting sidecar would take those tunnels for
/// TLS and fail them, so they pass through uninspected, as a user lists a
/// service that is not TLS in `egress.passthrough`. Hosts the allowlist
/// refuses are refused before any of this.
pub fn plain_outside_agent(name: &str, hosts: &[&str]) -> claude_bottle::manifest::ResolvedAgent {
    let mut resolved = outside_agent(name, hosts);
    resolved.bottle.passthrough = hosts.iter().map(|h| (*h).to_owned()).collect();
    resolved
}

/// Builds every test image once per test process (the script skips what is
/// up to date) and returns the images a bottle is made of in tests: the agent
/// image from the offline Debian base with the real claude binary, and the
/// pipelock stand-in.
pub async fn launch_settings() -> claude_bottle::docker::bottle::LaunchSettings {
    use claude_bottle::docker::image::{AgentImageSource, ensure_agent_image};
    static BUILT: tokio::sync::OnceCell<claude_bottle::docker::bottle::LaunchSettings> =
        tokio::sync::OnceCell::const_new();
    BUILT
        .get_or_init(|| async {
            let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
            let status = std::process::Command::new("bash")
                .arg(root.join("scripts/build-test-images.sh"))
                .stdout(std::process::Stdio::null())
                .status()
                .expect("run scripts/build-test-images.sh");
            assert!(
                status.success(),
                "scripts/build-test-images.sh failed: {status}"
            );
            let source = AgentImageSource {
                base_image: TEST_BASE_IMAGE.into(),
                install_packages: false,
                claude_binary: Some(root.join("target/test-images/claude")),
            };
            let agent_image = ensure_agent_image(&engine().await, &source, &mut |_| {})
                .await
                .expect("build the agent image");
            claude_bottle::docker::bottle::LaunchSettings {
                agent_image,
                sidecar_image: SIDECAR_TEST_IMAGE.into(),
                subnet_pool: subnet_pool(),
                kept: false,
            }
        })
        .await
        .clone()
}

/// The subnet pool the settings give (`CLAUDE_BOTTLE_SUBNET_POOL`, or the default).
pub fn subnet_pool() -> claude_bottle::docker::subnet::Cidr {
    claude_bottle::settings::Settings::from_env()
        .expect("the test settings")
        .subnet_pool
}

pub const TEST_BASE_IMAGE: &str = "claude-bottle-test/debian-base:bookworm";
pub const SIDECAR_TEST_IMAGE: &str = "claude-bottle-test/pipelock:latest";

/// The environment that makes the real binary use the test images.
pub fn test_image_env() -> Vec<(&'static str, String)> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    vec![
        ("CLAUDE_BOTTLE_PIPELOCK_IMAGE", SIDECAR_TEST_IMAGE.into()),
        ("CLAUDE_BOTTLE_BASE_IMAGE", TEST_BASE_IMAGE.into()),
        ("CLAUDE_BOTTLE_INSTALL_PACKAGES", "0".into()),
        (
            "CLAUDE_BOTTLE_CLAUDE_BINARY",
            root.join("target/test-images/claude").display().to_string(),
        ),
    ]
}

/// `run AGENT --yes -- bash -c SCRIPT`: a bottle that runs one script.
pub fn run_args<'a>(agent: &'a str, script: &'a str) -> [&'a str; 7] {
    ["run", agent, "--yes", "--", "bash", "-c", script]
}

/// A docker context named `name` at `host` in the CLI config folder
/// `config`, as `docker context create NAME --docker host=HOST` writes it;
/// returns the folder its TLS files would go in.
pub fn write_context(config: &std::path::Path, name: &str, host: &str) -> std::path::PathBuf {
    use sha2::Digest as _;
    let id = format!("{:x}", sha2::Sha256::digest(name.as_bytes()));
    let meta = config.join("contexts/meta").join(&id);
    std::fs::create_dir_all(&meta).unwrap();
    let json = format!(
        r#"{{"Name":"{name}","Metadata":{{}},"Endpoints":{{"docker":{{"Host":"{host}","SkipTLSVerify":false}}}}}}"#
    );
    std::fs::write(meta.join("meta.json"), json).unwrap();
    config.join("contexts/tls").join(&id).join("docker")
}
