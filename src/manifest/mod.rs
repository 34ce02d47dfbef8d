//! The manifest: find the files, merge home < project, validate, resolve an agent.
//!
//! - [`json`]: a strict JSON reader that keeps `line:col`.
//! - [`load`]: discovery, reading, merging.
//! - `validate`, `validate_ssh`, `validate_workspace`, [`fields`], [`hostkey`]: checks that collect every error.
//! - [`env_value`]: literal / `${VAR}` / `?prompt` values and their escapes.
//! - [`keys`]: the keys each object accepts (shared with the JSON Schema test).
pub mod edit;
pub mod env_value;
mod error;
pub mod fields;
pub mod hostkey;
pub mod json;
pub mod keys;
pub mod load;
#[cfg(test)]
mod load_tests;
mod model;
pub mod resolve;
#[cfg(test)]
mod resolve_tests;
pub mod source;
pub mod ssh;
mod validate;
mod validate_ssh;
mod validate_workspace;

pub use error::{Entry, ManifestError, ManifestErrors};
pub use load::{LeftOut, LoadOptions, MANIFEST_FILE, Usable, load, load_usable};
pub use model::*;
pub use resolve::{DEFAULT_ALLOWLIST, ResolveContext, resolve};
pub use validate_workspace::{check_base, check_include};
