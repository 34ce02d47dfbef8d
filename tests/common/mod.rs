//! Helpers shared by the tests that talk to the real Docker engine.
//!
//! These tests never skip: with no engine they fail, saying how to start one
//! (`scripts/test.sh` starts one itself when run as root).
#![allow(dead_code)]

use claude_bottle::docker::engine::Engine;

/// Connects to the engine or fails the test with the reason.
pub async fn engine() -> Engine {
    match Engine::connect().await {
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
        },
        bottle: Bottle {
            name: "test-bottle".into(),
            source: "test".into(),
            runtime: Runtime::Runc,
            env: vec![],
            ssh: vec![],
            allowlist: allow.iter().map(|s| (*s).to_owned()).collect(),
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
