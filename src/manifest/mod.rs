//! The manifest: find the files, merge home < project, validate, resolve an agent.
mod model;

pub use model::*;
