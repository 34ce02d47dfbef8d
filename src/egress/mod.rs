//! Egress: the pipelock sidecar's config (pure) and its log lines (pure).
pub mod config;
pub mod log;
