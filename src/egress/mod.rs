//! Egress: the pipelock sidecar's config (pure), its log lines (pure), what
//! its denials mean (pure), and following its output (`tail`).
pub mod allow_match;
pub mod config;
pub mod denial;
pub mod log;
pub mod propose;
pub mod tail;
pub mod tally;
