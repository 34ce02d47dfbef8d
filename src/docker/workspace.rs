//! A bottle's workspace on the engine's side: the copy sent in through the
//! archive API (never a bind mount), the in-bottle script run as the agent,
//! and the agent's bundle brought out with a size cap for `workspace::import`.

use std::path::PathBuf;

use super::agent::{AGENT_UID, AGENT_USER, AGENT_WORKDIR};
use super::container::{self, ExecRequest, OutputStream};
use super::engine::{Engine, EngineError};
use super::labels::WorkspaceOrigin;
use crate::workspace::{self, FileChange, Imported, Located, WorkState, WorkspaceError};

/// Most files the diff pane lists.
pub const MAX_LISTED_CHANGES: usize = 2000;
/// Longest the in-bottle script may take (a bundle of a large history).
const SCRIPT_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(600);
/// Most bytes of one file's diff shown.
pub const MAX_DIFF_BYTES: usize = 2 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum CollectError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Workspace(#[from] WorkspaceError),
    #[error("the bottle's copy could not be read: {0}")]
    InBottle(String),
    #[error("this bottle was launched without a workspace: there is nothing to collect")]
    NoWorkspace,
    #[error("nothing to collect: {0}")]
    Nothing(&'static str),
}

/// Makes the copy on this machine and sends it into the created agent
/// container as the agent's working folder. `branch`: the agent's branch.
pub async fn copy_in(
    engine: &Engine,
    container: &str,
    located: &Located,
    agent: &str,
    branch: &str,
) -> Result<(), CollectError> {
    let scratch = workspace::scratch_dir()?;
    let (located, agent, branch, dir) = (
        located.clone(),
        agent.to_owned(),
        branch.to_owned(),
        scratch.path().to_path_buf(),
    );
    let work =
        tokio::task::spawn_blocking(move || workspace::copy::make(&located, &agent, &branch, &dir))
            .await
            .map_err(|e| WorkspaceError::Io(std::io::Error::other(e)))??;
    let prefix = AGENT_WORKDIR.trim_start_matches('/').to_owned();
    let chunks = workspace::archive::stream(work, prefix, (AGENT_UID, AGENT_UID));
    container::copy_stream_in(engine, container, chunks).await?;
    // The scratch copy goes once the engine has it all.
    drop(scratch);
    Ok(())
}

/// Runs the in-bottle script as the agent; its standard output.
async fn run_script(
    engine: &Engine,
    container: &str,
    args: &[&str],
    max_output: usize,
) -> Result<Vec<u8>, CollectError> {
    let mut cmd = vec![
        "sh".to_owned(),
        "-c".to_owned(),
        workspace::in_bottle::SCRIPT.to_owned(),
        "sh".to_owned(),
    ];
    cmd.extend(args.iter().map(|a| (*a).to_owned()));
    let request = ExecRequest {
        cmd,
        env: vec!["LC_ALL=C.UTF-8".to_owned()],
        user: Some(AGENT_USER),
        workdir: Some(AGENT_WORKDIR),
    };
    let mut stdout = Vec::new();
    let mut stderr = Vec::new();
    let run = container::exec_streaming(engine, container, request, |stream, bytes| {
        let out = match stream {
            OutputStream::Stdout => &mut stdout,
            OutputStream::Stderr => &mut stderr,
        };
        // What the bottle prints is capped: it is not ours to trust.
        let room = max_output.saturating_sub(out.len());
        out.extend_from_slice(&bytes[..bytes.len().min(room)]);
    });
    // Nor is its pace: a bottle that never answers is given up on.
    let code = tokio::time::timeout(SCRIPT_TIMEOUT, run)
        .await
        .map_err(|_| {
            CollectError::InBottle(format!("no answer within {} s", SCRIPT_TIMEOUT.as_secs()))
        })??;
    if code != 0 {
        let why = String::from_utf8_lossy(&stderr);
        return Err(CollectError::InBottle(format!(
            "exit code {code}: {}",
            why.trim().chars().take(400).collect::<String>()
        )));
    }
    Ok(stdout)
}

/// Where the bottle's work stands; `None` when it has no workspace.
pub async fn state(engine: &Engine, container: &str) -> Result<Option<WorkState>, CollectError> {
    let out = run_script(engine, container, &["state", AGENT_WORKDIR], 64 * 1024).await?;
    Ok(WorkState::parse(&String::from_utf8_lossy(&out)))
}

/// The files changed against the base.
pub async fn changes(engine: &Engine, container: &str) -> Result<Vec<FileChange>, CollectError> {
    let out = run_script(engine, container, &["changes", AGENT_WORKDIR], 1024 * 1024).await?;
    Ok(workspace::in_bottle::parse_changes(
        &out,
        MAX_LISTED_CHANGES,
    ))
}

/// One file's diff against the base, cut at [`MAX_DIFF_BYTES`].
pub async fn file_diff(
    engine: &Engine,
    container: &str,
    path: &str,
) -> Result<String, CollectError> {
    let out = run_script(
        engine,
        container,
        &["diff", AGENT_WORKDIR, path],
        MAX_DIFF_BYTES,
    )
    .await?;
    Ok(String::from_utf8_lossy(&out).into_owned())
}

/// Where collected work goes.
#[derive(Debug, Clone)]
pub struct CollectTarget {
    pub repo: PathBuf,
    pub base: String,
    pub branch: String,
    pub max_bytes: u64,
}

impl CollectTarget {
    /// The default: the bottle's repository and base, the branch
    /// `bottle/<agent>/<session>`, the default cap.
    pub fn for_bottle(origin: &WorkspaceOrigin, agent: &str, session: &str) -> Self {
        Self {
            repo: origin.repo.clone(),
            base: origin.base.clone(),
            branch: workspace::branch_name(agent, session),
            max_bytes: workspace::DEFAULT_MAX_BUNDLE_BYTES,
        }
    }
}

/// What a collect brought in.
#[derive(Debug, Clone)]
pub struct Collected {
    pub imported: Imported,
    /// The state it was taken from (says whether uncommitted work came too).
    pub state: WorkState,
}

impl Collected {
    /// What was collected and where, for the user.
    pub fn describe(&self, repo: &std::path::Path) -> String {
        let imported = &self.imported;
        let commits = match imported.commits {
            1 => "1 commit".to_owned(),
            n => format!("{n} commits"),
        };
        let uncommitted = if self.state.has_uncommitted_changes() {
            " (the last holds the agent's uncommitted changes, committed on collecting)"
        } else {
            ""
        };
        let verb = if imported.moved { "moved" } else { "made" };
        format!(
            "Collected {commits}{uncommitted}: {verb} branch {} in {} (at {}). Your working \
             tree, index and current branch are untouched; `git log -p {}` shows the work.",
            imported.branch,
            repo.display(),
            &imported.tip[..imported.tip.len().min(12)],
            imported.branch,
        )
    }
}

/// Collects the agent's work as a branch of the user's repository: the
/// bottle bundles it, the bundle comes out capped, is checked and imported,
/// and the bottle then counts it as collected.
pub async fn collect(
    engine: &Engine,
    container: &str,
    agent: &str,
    target: &CollectTarget,
) -> Result<Collected, CollectError> {
    let message = format!(
        "Uncommitted work in {agent}'s bottle\n\nCollected by claude-bottle: the files as the \
         agent left them, not committed by the agent."
    );
    let out = run_script(
        engine,
        container,
        &["bundle", AGENT_WORKDIR, &message],
        64 * 1024,
    )
    .await?;
    let state =
        WorkState::parse(&String::from_utf8_lossy(&out)).ok_or(CollectError::NoWorkspace)?;
    let Some(bundle_path) = state.bundle.clone() else {
        mark_collected(engine, container, &state).await?;
        return Err(CollectError::Nothing(
            "the agent's files are as they were at launch",
        ));
    };
    if !bundle_path.starts_with("/tmp/claude-bottle-collect.") {
        return Err(WorkspaceError::Refused(format!(
            "the bottle named {bundle_path:?} as its bundle"
        ))
        .into());
    }
    let scratch = workspace::scratch_dir()?;
    let local = scratch.path().join("work.bundle");
    let found = container::download_file(engine, container, &bundle_path, target.max_bytes, &local)
        .await
        .map_err(|e| match e {
            EngineError::TooLarge { limit, .. } => WorkspaceError::Refused(format!(
                "its bundle is larger than the cap of {} MiB (`--max-size` raises it)",
                limit / (1024 * 1024)
            ))
            .into(),
            other => CollectError::Engine(other),
        })?;
    if !found {
        return Err(WorkspaceError::Refused("the bottle wrote no bundle".into()).into());
    }
    let (repo, base, branch) = (
        target.repo.clone(),
        target.base.clone(),
        target.branch.clone(),
    );
    let imported = tokio::task::spawn_blocking(move || {
        workspace::import(workspace::ImportRequest {
            repo: &repo,
            base: &base,
            branch: &branch,
            bundle: &local,
        })
    })
    .await
    .map_err(|e| WorkspaceError::Io(std::io::Error::other(e)))?;
    let imported = match imported {
        Err(WorkspaceError::NothingNew { .. }) => {
            mark_collected(engine, container, &state).await?;
            return Err(CollectError::Nothing(
                "the branch already holds all of the agent's work",
            ));
        }
        other => other?,
    };
    mark_collected(engine, container, &state).await?;
    Ok(Collected { imported, state })
}

/// Collects the work of a bottle found on the engine (a leftover): its
/// agent container started again if it stopped. `Ok(None)`: no workspace, or
/// nothing to collect.
pub async fn collect_session(
    engine: &Engine,
    session: &super::reaper::SessionResources,
) -> Result<Option<Collected>, CollectError> {
    let (Some(origin), Some((container, state))) = (&session.workspace, &session.agent_container)
    else {
        return Ok(None);
    };
    if state != "running" {
        container::start(engine, container).await?;
    }
    let target = CollectTarget::for_bottle(origin, &session.agent, &session.session);
    match collect(engine, container, &session.agent, &target).await {
        Ok(collected) => Ok(Some(collected)),
        Err(CollectError::Nothing(_)) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn mark_collected(
    engine: &Engine,
    container: &str,
    state: &WorkState,
) -> Result<(), CollectError> {
    run_script(
        engine,
        container,
        &[
            "mark",
            AGENT_WORKDIR,
            &state.head,
            &state.tree,
            state.tip.as_deref().unwrap_or(&state.head),
        ],
        4096,
    )
    .await?;
    Ok(())
}
