//! The holder in each agent container (`src/bin/claude-bottle-hold`): copied
//! in at launch, started detached with claude under it, asked how it is.
//!
//! The agent's variables (manifest values, answers, the token) go to the
//! holder's exec only: the exec that shows the terminal (`attach`) carries
//! none, and neither argv does.

use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::Duration;

use bollard::exec::{CreateExecOptions, StartExecOptions};
use bytes::Bytes;
use serde::Deserialize;

use super::agent::{AGENT_USER, AGENT_WORKDIR};
use super::container::{ExecOutput, exec_collect};
use super::engine::{Engine, EngineError};
use super::files::{FileGrant, tar_archive};
use super::labels::Owner;

/// Where the holder is put in the agent container (root's, not the agent's to
/// replace).
pub const HOLDER_PATH: &str = "/usr/local/bin/claude-bottle-hold";
/// The holder's file name, beside the `claude-bottle` executable.
const HOLDER_FILE: &str = "claude-bottle-hold";
/// The viewer's exit code when another viewer holds the session (the
/// holder binary's `EXIT_HELD`).
pub const EXIT_HELD: i32 = 75;
/// The viewer's exit code when another viewer took the session over.
pub const EXIT_TAKEN_OVER: i32 = 76;
/// How long a fresh holder may take to answer.
const SERVE_WAIT: Duration = Duration::from_secs(10);

#[derive(Debug, thiserror::Error)]
pub enum HolderError {
    #[error(
        "the session holder {path} could not be read ({why}); it is built and installed \
         beside claude-bottle (`cargo install` installs both)"
    )]
    Missing { path: String, why: String },
    #[error(
        "claude's holder did not start in the bottle: {0}. It is built on this machine: the \
         agent image needs the same CPU architecture and a C library at least as new \
         (glibc 2.34 for a build on Debian 12)"
    )]
    DidNotStart(String),
    #[error(transparent)]
    Engine(#[from] EngineError),
}

/// What the holder says of itself (`claude-bottle-hold status`).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct HolderStatus {
    /// Who is attached and typing, if anyone.
    pub viewer: Option<String>,
    /// The process behind that viewer (`pid:start:host`).
    #[serde(default)]
    pub viewer_owner: Option<String>,
    /// Milliseconds since claude last wrote anything.
    pub idle_ms: u64,
    /// Claude's exit code, once it ended (the holder lingers a while).
    #[serde(default)]
    pub exited: Option<i32>,
}

/// The holder binary: beside this executable, or (test binaries live in
/// `target/*/deps`) one directory up.
fn holder_path() -> Result<PathBuf, HolderError> {
    let exe = std::env::current_exe().map_err(|e| HolderError::Missing {
        path: HOLDER_FILE.into(),
        why: e.to_string(),
    })?;
    let dir = exe
        .parent()
        .map(std::path::Path::to_path_buf)
        .unwrap_or_default();
    let beside = dir.join(HOLDER_FILE);
    if beside.is_file() || dir.file_name().is_none_or(|n| n != "deps") {
        return Ok(beside);
    }
    Ok(dir.parent().map_or(beside, |up| up.join(HOLDER_FILE)))
}

impl HolderStatus {
    /// The attached viewer, unless the process behind it is gone. A viewer
    /// outlives its process inside the bottle (the engine keeps an exec
    /// running when its client dies), so the holder still counts it; its
    /// owner, checked here, says whether anyone is really there.
    pub fn live_viewer(&self) -> Option<&str> {
        let viewer = self.viewer.as_deref()?;
        let gone = self
            .viewer_owner
            .as_deref()
            .and_then(Owner::from_token)
            .is_some_and(|owner| !owner.is_alive());
        (!gone).then_some(viewer)
    }
}

/// The holder as an archive for the agent container's `/`, made once per
/// process: every launch sends the same bytes (a launch of 16 bottles would
/// otherwise copy the binary 16 times at once).
pub fn archive() -> Result<Bytes, HolderError> {
    static ARCHIVE: OnceLock<Result<Bytes, (String, String)>> = OnceLock::new();
    let made = ARCHIVE.get_or_init(|| {
        let path = holder_path().map_err(|e| (HOLDER_FILE.to_owned(), e.to_string()))?;
        let shown = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| (shown.clone(), e.to_string()))?;
        let file = FileGrant::file(HOLDER_PATH.trim_start_matches('/'), 0o755, (0, 0), bytes);
        tar_archive(&[file])
            .map(Bytes::from)
            .map_err(|e| (shown, e.to_string()))
    });
    match made {
        Ok(archive) => Ok(archive.clone()),
        Err((path, why)) => Err(HolderError::Missing {
            path: path.clone(),
            why: why.clone(),
        }),
    }
}

/// Starts `command` under a new holder in `container`, detached, with `env`
/// (`NAME=value`) in its environment only, on a terminal of `size` (the
/// viewer's: claude draws its first screen for it); returns once it answers.
pub async fn serve(
    engine: &Engine,
    container: &str,
    command: &[String],
    env: Vec<String>,
    size: (u16, u16),
) -> Result<(), HolderError> {
    let mut cmd = vec![
        HOLDER_PATH.to_owned(),
        "serve".into(),
        "--size".into(),
        format!("{}x{}", size.0, size.1),
        "--".into(),
    ];
    cmd.extend(command.iter().cloned());
    let exec = engine
        .docker
        .create_exec(
            container,
            CreateExecOptions {
                cmd: Some(cmd),
                env: Some(env),
                user: Some(AGENT_USER.to_owned()),
                working_dir: Some(AGENT_WORKDIR.to_owned()),
                ..Default::default()
            },
        )
        .await
        .map_err(EngineError::from)?;
    engine
        .docker
        .start_exec(
            &exec.id,
            Some(StartExecOptions {
                detach: true,
                ..Default::default()
            }),
        )
        .await
        .map_err(EngineError::from)?;
    let deadline = tokio::time::Instant::now() + SERVE_WAIT;
    loop {
        if status(engine, container).await?.is_some() {
            return Ok(());
        }
        // Ended already: say what it said, if the engine kept it.
        let inspect = engine
            .docker
            .inspect_exec(&exec.id)
            .await
            .map_err(EngineError::from)?;
        if inspect.running == Some(false) {
            return Err(HolderError::DidNotStart(format!(
                "it exited with code {}",
                inspect.exit_code.unwrap_or(-1)
            )));
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(HolderError::DidNotStart("it did not answer in time".into()));
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The holder's status; `None` when no holder runs (claude ended, or the
/// container is stopped).
pub async fn status(engine: &Engine, container: &str) -> Result<Option<HolderStatus>, EngineError> {
    let output = holder_verb(engine, container, "status").await?;
    if output.exit_code != 0 {
        return Ok(None);
    }
    Ok(serde_json::from_str(output.stdout.trim()).unwrap_or(None))
}

/// Runs `claude-bottle-hold VERB` in the bottle as the agent, to the end.
async fn holder_verb(
    engine: &Engine,
    container: &str,
    verb: &str,
) -> Result<ExecOutput, EngineError> {
    exec_collect(
        engine,
        container,
        Some(AGENT_USER),
        &[HOLDER_PATH, verb],
        Vec::new(),
    )
    .await
}

/// Starts `command` again under a new holder unless claude runs now: a
/// holder whose claude ended is asked to leave first.
pub async fn serve_again(
    engine: &Engine,
    container: &str,
    command: &[String],
    env: Vec<String>,
    size: (u16, u16),
) -> Result<(), HolderError> {
    match status(engine, container).await? {
        Some(status) if status.exited.is_none() => return Ok(()),
        Some(_) => {
            let left = holder_verb(engine, container, "leave").await?;
            if left.exit_code != 0 {
                return Err(HolderError::DidNotStart(left.stderr.trim().to_owned()));
            }
        }
        None => {}
    }
    serve(engine, container, command, env, size).await
}

/// The arguments of the viewer's `docker exec -it` (after `docker`); the
/// viewer's process is this one.
pub fn attach_args(container: &str, who: &str, take_over: bool, detach: bool) -> Vec<String> {
    let mut args: Vec<String> = [
        "exec",
        "-it",
        "-u",
        AGENT_USER,
        "-w",
        AGENT_WORKDIR,
        container,
    ]
    .map(String::from)
    .to_vec();
    args.extend([
        HOLDER_PATH.to_owned(),
        "attach".into(),
        "--who".into(),
        who.to_owned(),
        "--owner".into(),
        Owner::current().to_token(),
    ]);
    if take_over {
        args.push("--take".into());
    }
    if !detach {
        args.extend(["--detach-key".to_owned(), "none".to_owned()]);
    }
    args
}

/// Who a viewer is, as others are told: what it is, its pid and host.
pub fn viewer_name(what: &str) -> String {
    format!(
        "{what} (pid {} on {})",
        std::process::id(),
        super::labels::hostname()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_viewer_exec_carries_no_variables_and_names_who() {
        let args = attach_args("cb-a-agent", "dashboard (pid 1 on h)", false, false);
        let me = Owner::current().to_token();
        assert_eq!(
            args.join(" "),
            format!(
                "exec -it -u 1000:1000 -w /home/agent/work cb-a-agent \
                 /usr/local/bin/claude-bottle-hold attach --who dashboard (pid 1 on h) \
                 --owner {me} --detach-key none"
            )
        );
        assert!(!args.iter().any(|a| a == "-e"));
        let args = attach_args("c", "x", true, true);
        assert!(args.contains(&"--take".to_owned()));
        assert!(!args.contains(&"--detach-key".to_owned()));
    }

    #[test]
    fn a_status_line_reads_as_the_holder_writes_it() {
        let line =
            r#"{"viewer":"attach (pid 3 on h)","idle_ms":12,"kept_bytes":9,"rows":2,"cols":3}"#;
        let status: Option<HolderStatus> = serde_json::from_str(line).unwrap();
        assert_eq!(
            status.unwrap().viewer.as_deref(),
            Some("attach (pid 3 on h)")
        );
        let none: Option<HolderStatus> = serde_json::from_str("null").unwrap();
        assert!(none.is_none());
    }

    #[test]
    fn a_viewer_whose_process_is_gone_is_nobody() {
        let mut gone = Owner::current();
        gone.start_ticks += 1;
        let status = |owner: Option<String>| HolderStatus {
            viewer: Some("a dashboard".into()),
            viewer_owner: owner,
            idle_ms: 0,
            exited: None,
        };
        assert_eq!(
            status(Some(Owner::current().to_token())).live_viewer(),
            Some("a dashboard")
        );
        assert_eq!(status(Some(gone.to_token())).live_viewer(), None);
        // An owner it cannot read is trusted to be there.
        assert_eq!(status(None).live_viewer(), Some("a dashboard"));
    }
}
