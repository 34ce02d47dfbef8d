//! Egress: the pipelock sidecar's config (pure), its log lines (pure), and
//! following its output (`tail`).
pub mod ca;
pub mod config;
pub mod log;
pub mod reload;
pub mod tail;
