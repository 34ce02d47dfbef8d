//! claude-bottle runs Claude Code agents in sealed bottles: one container, one
//! `--internal` network and one egress proxy sidecar per agent.
//!
//! Modules, in the order a newcomer should read them:
//! - [`manifest`]: find, merge, validate and resolve `claude-bottle.json`.
//! - [`egress`]: the pipelock sidecar's config and log lines (pure).
//! - [`docker`]: every call to the Docker engine.
//! - [`workspace`]: the user's repository copied into a bottle, the agent's work back as a branch.
//! - [`session`]: agent terminals: a PTY per bottle feeding a vt100 screen.
//! - [`app`]: the dashboard's model: state, events, effects, keymap (no I/O).
//! - [`ui`]: draws the model (ratatui, tui-term).
//! - [`runtime`]: the dashboard's loop; [`terminal`]: host terminal setup.
//! - [`cli`], [`commands`]: the command line and its subcommands.
pub mod app;
pub mod cli;
pub mod commands;
pub mod docker;
pub mod docker_context;
pub mod egress;
pub mod manifest;
pub mod random;
pub mod runtime;
pub mod session;
pub mod settings;
pub mod signals;
pub mod terminal;
pub mod ui;
pub mod workspace;
