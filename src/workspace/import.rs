//! A bottle's work into the user's repository, as one new branch. The
//! bundle is hostile input: its header is read by us, its objects are
//! checked strictly in a scratch repository that borrows the user's objects
//! read-only, only the agent's one ref is taken, and the user's repository
//! then fetches that ref with no hook, no maintenance and no checkout. Its
//! working tree, index, HEAD and other refs are never written.

use std::ffi::OsStr;
use std::fs;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::Path;

use super::bundle;
use super::git::Git;
use super::{OUT_REF, WorkspaceError};

/// What to bring in, and where.
#[derive(Debug, Clone, Copy)]
pub struct ImportRequest<'a> {
    pub repo: &'a Path,
    /// The commit the bottle's copy started from.
    pub base: &'a str,
    /// The branch to make (or move forward), without `refs/heads/`.
    pub branch: &'a str,
    /// The bundle the bottle wrote, already on this machine and size-checked.
    pub bundle: &'a Path,
}

/// What was brought in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Imported {
    pub branch: String,
    pub tip: String,
    /// Commits on the branch that the base does not have.
    pub commits: u64,
    /// The branch existed (from an earlier collect) and moved forward.
    pub moved: bool,
}

/// Settings for every git run against the user's repository here: no hook
/// (the reference-transaction hook runs on a fetch), no background
/// maintenance, no submodule fetches.
const QUIET_FETCH: &[&str] = &[
    "core.hooksPath=/dev/null",
    "gc.auto=0",
    "maintenance.auto=false",
    "fetch.writeCommitGraph=false",
    "fetch.recurseSubmodules=false",
    "fetch.prune=false",
];

/// Brings the bundle's agent ref in as `branch`.
pub fn import(request: ImportRequest<'_>) -> Result<Imported, WorkspaceError> {
    let refused = |why: String| WorkspaceError::Refused(why);
    let mut file = fs::File::open(request.bundle)?;
    let mut head = Vec::new();
    file.by_ref().take(64 * 1024).read_to_end(&mut head)?;
    let header = bundle::parse(&head).map_err(refused)?;
    let tip = header
        .refs
        .iter()
        .find(|(_, name)| name == OUT_REF)
        .map(|(object, _)| object.clone())
        .ok_or_else(|| refused(format!("the bundle holds no `{OUT_REF}`, the agent's work")))?;

    let user = Git::user(request.repo);
    check_branch(&user, request.branch)?;
    let scratch = super::scratch_dir()?;
    let quarantine = scratch.path().join("checked.git");
    Git::scratch(scratch.path()).output(&[
        OsStr::new("init"),
        OsStr::new("-q"),
        OsStr::new("--bare"),
        OsStr::new("--template="),
        quarantine.as_os_str(),
    ])?;
    let objects = user.line(&["rev-parse", "--path-format=absolute", "--git-common-dir"])?;
    fs::write(
        quarantine.join("objects/info/alternates"),
        format!("{objects}/objects\n"),
    )?;
    let checker = Git::scratch(&quarantine);
    file.seek(SeekFrom::Start(header.pack_offset as u64))?;
    checker
        .output_with(
            &["index-pack", "--stdin", "--fix-thin", "--strict"],
            &[],
            Some(&mut file),
        )
        .map_err(|e| refused(format!("its objects failed git's strict checks: {e}")))?;
    let kind = checker.line(&["cat-file", "-t", &tip]).unwrap_or_default();
    if kind != "commit" {
        return Err(refused(format!(
            "the agent's ref names a {kind:?}, not a commit"
        )));
    }
    checker
        .output(&[
            "rev-list",
            "--objects",
            "--quiet",
            &tip,
            "--not",
            request.base,
        ])
        .map_err(|e| refused(format!("the agent's history is incomplete: {e}")))?;
    checker.output(&["update-ref", "refs/out", &tip])?;

    let full = format!("refs/heads/{}", request.branch);
    let old = user.line(&["rev-parse", "-q", "--verify", &full]).ok();
    if let Some(old) = &old {
        if old == &tip {
            return Err(WorkspaceError::NothingNew {
                branch: request.branch.to_owned(),
            });
        }
        if !checker.succeeds(&["merge-base", "--is-ancestor", old, &tip])? {
            return Err(refused(format!(
                "branch `{}` exists and the agent's work does not build on it; \
                 collect under another name (`--branch NAME`)",
                request.branch
            )));
        }
    }
    user.clone().with_config(QUIET_FETCH).output(&[
        OsStr::new("fetch"),
        OsStr::new("-q"),
        OsStr::new("--no-tags"),
        OsStr::new("--no-write-fetch-head"),
        OsStr::new("--no-auto-maintenance"),
        OsStr::new("--no-recurse-submodules"),
        quarantine.as_os_str(),
        OsStr::new(&format!("refs/out:{full}")),
    ])?;
    let commits = checker
        .line(&["rev-list", "--count", &tip, "--not", request.base])?
        .parse()
        .unwrap_or(0);
    Ok(Imported {
        branch: request.branch.to_owned(),
        tip,
        commits,
        moved: old.is_some(),
    })
}

/// A branch name git accepts, that is not the one checked out.
fn check_branch(user: &Git, branch: &str) -> Result<(), WorkspaceError> {
    let bad = |why: &str| WorkspaceError::BadBranch {
        branch: branch.to_owned(),
        why: why.to_owned(),
    };
    if branch.starts_with('-') || branch.contains(['\0', '\n']) {
        return Err(bad("it is not a branch name"));
    }
    if !user.succeeds(&["check-ref-format", &format!("refs/heads/{branch}")])? {
        return Err(bad("git does not accept it as a branch name"));
    }
    let current = user.line(&["symbolic-ref", "-q", "--short", "HEAD"]).ok();
    if current.as_deref() == Some(branch) {
        return Err(bad(
            "it is the branch checked out here, which collecting never touches",
        ));
    }
    Ok(())
}
