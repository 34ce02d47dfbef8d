//! The dashboard's model: state, the events that change it, and the effects
//! it asks for. No I/O happens here, so every key and every state change is
//! tested without Docker or a terminal.
//!
//! - [`state`]: `App` and what it holds.
//! - [`event`]: `Event` (what happened) and `Effect` (what to do).
//! - [`keymap`]: what each key means, per focus, as data.
//! - [`update()`]: the transition function.
//! - [`layout`]: where things go on screen (shared with the UI).
//! - [`work`]: collecting the agents' work, the diff pane, overlaps.
mod background;
pub mod egress_log;
pub mod event;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod inbox;
pub mod keymap;
pub mod layout;
mod modal;
pub mod state;
mod update;
#[cfg(test)]
mod update_tests;
pub mod work;

pub use event::{
    AfterCheck, BottleId, Effect, EngineStatus, Event, KeptBottle, Leftover, Progress, Secret,
};
pub use state::{
    AgentEntry, AgentStatus, App, Focus, ManifestProblem, Modal, SaveHost, Tab, TabState,
};
pub use update::update;
