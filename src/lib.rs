//! claude-bottle runs Claude Code agents in sealed bottles: one container, one
//! `--internal` network and one egress proxy sidecar per agent.
//!
//! Modules, in the order a newcomer should read them:
//! - [`manifest`]: find, merge, validate and resolve `claude-bottle.json`.
//! - [`egress`]: the pipelock sidecar's config and log lines (pure).
//! - [`docker`]: every call to the Docker engine.
//! - [`cli`]: the command line.
pub mod app;
pub mod cli;
pub mod commands;
pub mod docker;
pub mod egress;
pub mod manifest;
pub mod runtime;
pub mod session;
pub mod terminal;
pub mod ui;
