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
    #[error(
        "workspace: cannot make a scratch folder in {} ({why}); set TMPDIR to a writable folder",
        dir.display()
    )]
    Scratch { dir: PathBuf, why: String },
    #[error("refused the bottle's work: {0}")]
    Refused(String),
    #[error(transparent)]
    Git(#[from] GitError),
    #[error("workspace: {0}")]
    Io(#[from] std::io::Error),
}

/// A scratch folder for a copy or a bundle, removed when dropped; the
/// error names the folder it was to be made in (`TMPDIR`).
pub fn scratch_dir() -> Result<tempfile::TempDir, WorkspaceError> {
    tempfile::tempdir().map_err(|e| WorkspaceError::Scratch {
        dir: std::env::temp_dir(),
        why: e.to_string(),
    })
}

/// A path relative to a repository's top that stays inside it.
pub fn check_relative_path(path: &str) -> Result<(), String> {
    crate::manifest::check_include(path).map_err(|p| p.message)
}

/// Reads `--max-size`: bytes, or with a K, M or G suffix (powers of 1024).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let text = text.trim();
    let (digits, unit) = match text.char_indices().find(|(_, c)| !c.is_ascii_digit()) {
        Some((i, _)) => text.split_at(i),
        None => (text, ""),
    };
    let n: u64 = digits
        .parse()
        .map_err(|_| format!("`{text}` is not a size (e.g. 512M, 2G)"))?;
    let scale = match unit.to_ascii_uppercase().trim_end_matches(['B', 'I']) {
        "" => 1,
        "K" => 1 << 10,
        "M" => 1 << 20,
        "G" => 1 << 30,
        _ => return Err(format!("`{text}`: the unit is K, M or G")),
    };
    n.checked_mul(scale)
        .filter(|n| *n > 0)
        .ok_or_else(|| format!("`{text}` is out of range"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_read_with_units() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("1K"), Ok(1024));
        assert_eq!(parse_size("256M"), Ok(256 << 20));
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert!(parse_size("0").is_err());
        assert!(parse_size("12T").is_err());
        assert!(parse_size("big").is_err());
    }
}
