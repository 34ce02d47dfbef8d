//! Egress: the pipelock sidecar's config and the bottle's inspection CA, its
//! log lines and what its denials and reloads mean (all pure), and following
//! its output (`tail`).
pub mod allow_match;
pub mod ca;
pub mod config;
pub mod denial;
pub mod log;
pub mod propose;
pub mod reload;
pub mod tail;
pub mod tally;
