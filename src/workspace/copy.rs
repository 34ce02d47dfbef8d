//! The copy of the user's repository that goes into a bottle: a repository
//! of its own made from the base commit (no remote, no hooks, no config of
//! the host's but the agent's name), the uncommitted changes and the listed
//! ignored files on top, on a branch named for the agent and session.

use std::ffi::OsStr;
use std::fs;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use super::git::{Git, GitError};
use super::{COLLECTED_HEAD_REF, COLLECTED_TREE_REF, WorkspaceError};
use crate::manifest::WorkspaceSpec;

/// The repository and commit a launch copies, checked before anything is made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Located {
    /// The repository's top folder.
    pub repo: PathBuf,
    /// The base commit, in full.
    pub base: String,
    /// The base as the manifest wrote it (`HEAD`), for messages.
    pub base_name: String,
    pub uncommitted: bool,
    pub include: Vec<String>,
}

/// Finds the repository and the base commit. `cwd`: where claude-bottle was
/// started, for a spec that names no repository.
pub fn locate(spec: &WorkspaceSpec, cwd: &Path) -> Result<Located, WorkspaceError> {
    let start = spec.repo.clone().unwrap_or_else(|| cwd.to_path_buf());
    if !start.is_dir() {
        return Err(WorkspaceError::NotARepo {
            path: start,
            why: "no such folder".into(),
        });
    }
    let top = Git::user(&start)
        .line(&["rev-parse", "--show-toplevel"])
        .map_err(|e| WorkspaceError::NotARepo {
            path: start.clone(),
            why: git_reason(&e),
        })?;
    let repo = PathBuf::from(top);
    let git = Git::user(&repo);
    let base = git
        .line(&[
            "rev-parse",
            "--verify",
            "--end-of-options",
            &format!("{}^{{commit}}", spec.base),
        ])
        .map_err(|_| WorkspaceError::BadBase {
            base: spec.base.clone(),
            repo: repo.clone(),
        })?;
    if spec.uncommitted {
        let head = git.line(&["rev-parse", "--verify", "HEAD^{commit}"]).ok();
        if head.as_deref() != Some(base.as_str()) {
            return Err(WorkspaceError::UncommittedNeedsHead {
                base: spec.base.clone(),
            });
        }
    }
    for entry in &spec.include {
        check_included(&git, &repo, entry)?;
    }
    Ok(Located {
        repo,
        base,
        base_name: spec.base.clone(),
        uncommitted: spec.uncommitted,
        include: spec.include.clone(),
    })
}

/// An included entry exists and git does not track it (a tracked file goes
/// in with its commit already).
fn check_included(git: &Git, repo: &Path, entry: &str) -> Result<(), WorkspaceError> {
    if fs::symlink_metadata(repo.join(entry)).is_err() {
        return Err(WorkspaceError::IncludeMissing {
            entry: entry.to_owned(),
            repo: repo.to_path_buf(),
        });
    }
    let tracked = git.output(&["ls-files", "--", entry])?;
    if !tracked.is_empty() {
        return Err(WorkspaceError::IncludeTracked {
            entry: entry.to_owned(),
        });
    }
    Ok(())
}

fn git_reason(e: &GitError) -> String {
    match e {
        GitError::Failed { stderr, .. } => stderr.clone(),
        GitError::Spawn(_) => e.to_string(),
    }
}

/// The name and address the agent's commits carry.
pub fn agent_identity(agent: &str) -> (String, String) {
    (
        format!("{agent} (claude-bottle)"),
        format!("{agent}@claude-bottle.invalid"),
    )
}

/// Makes the copy in `scratch/work` and returns that folder. `branch`: the
/// branch the agent works on.
pub fn make(
    located: &Located,
    agent: &str,
    branch: &str,
    scratch: &Path,
) -> Result<PathBuf, WorkspaceError> {
    let work = scratch.join("work");
    Git::scratch(scratch).output(&[
        OsStr::new("init"),
        OsStr::new("-q"),
        // No template: no sample hooks, no description, nothing of the host's.
        OsStr::new("--template="),
        OsStr::new("-b"),
        OsStr::new(branch),
        work.as_os_str(),
    ])?;
    let git = Git::scratch(&work);
    copy_history(located, &git)?;
    git.output(&["update-ref", super::BASE_REF, &located.base])?;
    git.output(&["checkout", "-q", "-B", branch, super::BASE_REF])?;
    let (name, email) = agent_identity(agent);
    git.output(&["config", "user.name", &name])?;
    git.output(&["config", "user.email", &email])?;
    if located.uncommitted {
        copy_uncommitted(located, &work)?;
    }
    for entry in &located.include {
        copy_tree(&located.repo.join(entry), &work.join(entry))?;
        keep_ignored(&git, &work, entry)?;
    }
    // What the bottle starts with counts as collected: only the agent's own
    // work is offered back.
    let tree = snapshot_tree(&git, scratch)?;
    git.output(&["update-ref", COLLECTED_HEAD_REF, &located.base])?;
    git.output(&["update-ref", COLLECTED_TREE_REF, &tree])?;
    Ok(work)
}

/// The objects reachable from the base, out of the user's repository and
/// into the copy's: a pack made by the user's git (reusing what is packed
/// already, no delta search, light compression of the rest: a fetch spends
/// most of its time compressing and searching), indexed by the copy's.
fn copy_history(located: &Located, copy: &Git) -> Result<(), WorkspaceError> {
    let pack = [
        "-c",
        "pack.compression=1",
        "pack-objects",
        "--revs",
        "--stdout",
        "--window=0",
        "-q",
    ];
    let user = Git::user(&located.repo);
    let mut packing = user.spawn_reading(&pack, format!("{}\n", located.base).as_bytes())?;
    let mut stream = packing
        .stdout
        .take()
        .ok_or_else(|| WorkspaceError::Io(std::io::Error::other("no pack stream")))?;
    let indexed = copy.output_with(&["index-pack", "--stdin"], &[], Some(&mut stream));
    drop(stream);
    user.finish(&pack, packing)?;
    indexed?;
    Ok(())
}

/// The tree of the working folder as it is (tracked and untracked files git
/// does not ignore), made with an index of its own so the copy's is untouched.
fn snapshot_tree(git: &Git, scratch: &Path) -> Result<String, WorkspaceError> {
    let index = scratch.join("snapshot-index");
    fs::copy(git.dir().join(".git/index"), &index)?;
    let env = [("GIT_INDEX_FILE", index.as_os_str())];
    git.output_with(&["add", "-A"], &env, None)?;
    let tree = git.output_with(&["write-tree"], &env, None)?;
    fs::remove_file(&index)?;
    Ok(String::from_utf8_lossy(&tree).trim().to_owned())
}

/// Puts the host's uncommitted changes (as `git status` lists them, untracked
/// files git does not ignore included) over the copy.
fn copy_uncommitted(located: &Located, work: &Path) -> Result<(), WorkspaceError> {
    let status = Git::user(&located.repo).output(&[
        "status",
        "--porcelain=v1",
        "-z",
        "--no-renames",
        "--untracked-files=all",
        "--ignore-submodules=all",
    ])?;
    for record in status.split(|b| *b == 0).filter(|r| r.len() > 3) {
        let path = String::from_utf8_lossy(&record[3..]).into_owned();
        if super::check_relative_path(&path).is_err() {
            continue;
        }
        let from = located.repo.join(&path);
        let to = work.join(&path);
        if fs::symlink_metadata(&from).is_ok() {
            copy_tree(&from, &to)?;
        } else if fs::symlink_metadata(&to).is_ok() {
            fs::remove_file(&to)?;
        }
    }
    Ok(())
}

/// Copies a file, a symlink (as a link) or a folder (without any `.git` in it).
fn copy_tree(from: &Path, to: &Path) -> Result<(), WorkspaceError> {
    let meta = fs::symlink_metadata(from)?;
    if let Some(parent) = to.parent() {
        fs::create_dir_all(parent)?;
    }
    if fs::symlink_metadata(to).is_ok_and(|m| !m.is_dir()) {
        fs::remove_file(to)?;
    }
    if meta.file_type().is_symlink() {
        std::os::unix::fs::symlink(fs::read_link(from)?, to)?;
    } else if meta.is_dir() {
        fs::create_dir_all(to)?;
        for entry in fs::read_dir(from)? {
            let entry = entry?;
            if entry.file_name().eq_ignore_ascii_case(".git") {
                continue;
            }
            copy_tree(&entry.path(), &to.join(entry.file_name()))?;
        }
    } else if meta.is_file() {
        fs::copy(from, to)?;
    }
    Ok(())
}

/// An included file stays out of the agent's commits and of what is
/// collected, even when only the user's global excludes ignored it.
fn keep_ignored(git: &Git, work: &Path, entry: &str) -> Result<(), WorkspaceError> {
    if git.succeeds(&["check-ignore", "-q", "--", entry])? {
        return Ok(());
    }
    let exclude = work.join(".git/info/exclude");
    fs::create_dir_all(work.join(".git/info"))?;
    let mut file = fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(exclude)?;
    writeln!(file, "/{}", escape_pattern(entry))?;
    Ok(())
}

/// `entry` as a gitignore pattern matching only itself.
fn escape_pattern(entry: &str) -> String {
    let mut out = String::with_capacity(entry.len());
    for c in entry.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '\\' | '!' | '#' | ' ') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_only_the_entry() {
        assert_eq!(escape_pattern(".env"), ".env");
        assert_eq!(escape_pattern("a b/[x]*"), "a\\ b/\\[x\\]\\*");
        assert_eq!(escape_pattern("#notes"), "\\#notes");
    }
}
