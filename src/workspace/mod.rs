//! The user's repository and a bottle: a copy in, the agent's work out as a
//! branch. Everything here runs `git` on this machine (never in a bottle and
//! never the engine; `docker::workspace` moves the bytes).
//!
//! - [`copy`]: the repository copied for a bottle (no host config, no hooks).
//! - [`archive`]: that copy as a tar stream for the engine.
//! - [`in_bottle`]: the script run in the bottle's copy, and its answers.
//! - [`bundle`], [`import`]: the bottle's bundle checked and made a branch.
//! - [`git`]: how git is run here.

pub mod archive;
pub mod bundle;
pub mod copy;
pub mod git;
pub mod import;
pub mod in_bottle;

use std::path::PathBuf;

pub use copy::{Located, locate};
pub use git::GitError;
pub use import::{ImportRequest, Imported, import};
pub use in_bottle::{FileChange, WorkState};

/// In the bottle's copy: the commit it started from.
pub const BASE_REF: &str = "refs/claude-bottle/base";
/// In the bottle's copy: the agent's work as the last collect took it.
pub const COLLECTED_HEAD_REF: &str = "refs/claude-bottle/collected-head";
pub const COLLECTED_TREE_REF: &str = "refs/claude-bottle/collected-tree";
/// In the bottle's bundle: the one ref that is imported.
pub const OUT_REF: &str = "refs/claude-bottle/out";

/// The largest bundle a collect accepts unless told otherwise.
pub const DEFAULT_MAX_BUNDLE_BYTES: u64 = 256 * 1024 * 1024;

/// The branch an agent works on in its bottle, and the one its work is
/// collected as unless the user names another.
pub fn branch_name(agent: &str, session: &str) -> String {
    format!("bottle/{agent}/{session}")
}

/// Something about a workspace that stops a launch or a collect.
#[derive(Debug, thiserror::Error)]
pub enum WorkspaceError {
    #[error(
        "workspace: {} is not in a git repository ({why}); start claude-bottle inside the \
         repository, or name it in the agent's `workspace.repo`",
        path.display()
    )]
    NotARepo { path: PathBuf, why: String },
    #[error(
        "workspace: `{base}` is not a commit in {} (`workspace.base` takes a branch, a tag or \
         a commit)",
        repo.display()
    )]
    BadBase { base: String, repo: PathBuf },
    #[error(
        "workspace: `uncommitted` copies the changes on top of HEAD, but the base is `{base}`; \
         set `base` to HEAD or leave `uncommitted` out"
    )]
    UncommittedNeedsHead { base: String },
    #[error(
        "workspace: `{entry}` (in `workspace.include`) is not in {}; remove it from the list \
         or create it",
        repo.display()
    )]
    IncludeMissing { entry: String, repo: PathBuf },
    #[error(
        "workspace: `{entry}` (in `workspace.include`) is tracked by git, so it goes in with \
         the base already; `include` is for files git ignores"
    )]
    IncludeTracked { entry: String },
    #[error("cannot collect as branch `{branch}`: {why}")]
    BadBranch { branch: String, why: String },
    #[error("branch `{branch}` already holds all of the agent's work")]
    NothingNew { branch: String },
    #[error("refused the bottle's work: {0}")]
    Refused(String),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("workspace: {0}")]
    Io(#[from] std::io::Error),
}

/// A path relative to a repository's top that stays inside it.
pub fn check_relative_path(path: &str) -> Result<(), String> {
    crate::manifest::check_include(path).map_err(|p| p.message)
}
