//! `claude-bottle start <agent>`: one bottle, claude full screen in this
//! terminal, teardown when claude exits.
//!
//! The terminal is `docker exec -it`: the docker CLI already does raw mode,
//! resize forwarding and every key. The secrets reach it as `-e NAME` with the
//! value in the CLI's own environment, so no value is ever on an argv.

use super::prepare::{Prepared, prepare};
use crate::manifest::source::ManifestSource;
use crate::session::exec_plan::{ColourDepth, ExecPlan};
use crate::settings::Settings;
use crate::signals::stop_requested;

pub async fn run(
    source: &ManifestSource,
    settings: &Settings,
    agent: &str,
    yes: bool,
) -> anyhow::Result<i32> {
    let prepared = prepare(source, settings, agent, yes).await?;
    let outcome = tokio::select! {
        code = attach_claude(&prepared, settings.colours) => code,
        code = stop_requested() => Ok(code),
    };
    let teardown = prepared.bottle.teardown(&prepared.engine).await;
    let code = outcome?;
    teardown?;
    Ok(code)
}

/// The docker CLI invocation for claude in the bottle, and the env it needs:
/// the same plan the dashboard's tabs use, shown in this terminal.
pub fn claude_exec_command(prepared: &Prepared, colours: ColourDepth) -> tokio::process::Command {
    let plan = ExecPlan {
        agent_env: prepared.exec_env.clone(),
        // The agent's prompt is claude's first message of the session.
        command: std::iter::once("claude".to_owned())
            .chain(prepared.resolved.agent.prompt.clone())
            .collect(),
        colours,
    };
    let mut cmd = plan.command(&prepared.bottle.agent_container);
    // A signal to us ends the session: the child must not outlive it.
    cmd.kill_on_drop(true);
    cmd
}

async fn attach_claude(prepared: &Prepared, colours: ColourDepth) -> anyhow::Result<i32> {
    let status = claude_exec_command(prepared, colours).status().await?;
    Ok(status.code().unwrap_or(1))
}
