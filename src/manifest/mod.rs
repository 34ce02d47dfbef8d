//! The manifest: find the files, merge home < project, validate, resolve an agent.
pub mod json;
mod model;

pub use model::*;
