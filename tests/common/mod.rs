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
