//! `claude-bottle start <agent>`: one bottle, claude full screen in this
//! terminal, teardown when claude exits.
//!
//! Claude runs under the bottle's holder, its variables given to the holder's
//! exec through the engine's API; this terminal shows it through `docker exec
//! -it` of the holder's `attach` (the docker CLI does raw mode, resizes and
//! every key), which carries no value of the agent's.

use super::collect::Before;
use super::prepare::{Prepared, prepare};
use crate::docker::holder;
use crate::manifest::source::ManifestSource;
use crate::session::exec_plan::{ColourDepth, ExecPlan, Viewer};
use crate::settings::Settings;
use crate::signals::stop_requested;

pub async fn run(
    source: &ManifestSource,
    settings: &Settings,
    agent: &str,
    yes: bool,
) -> anyhow::Result<i32> {
    let prepared = prepare(source, settings, agent, yes).await?;
    let (outcome, signalled) = tokio::select! {
        code = attach_claude(&prepared, settings.colours) => (code, false),
        code = stop_requested() => (Ok(code), true),
    };
    // A signal leaves nobody to ask: the work is collected.
    let before = if signalled {
        Before::Collect
    } else {
        Before::Ask
    };
    if !prepared.collect_before_teardown(before).await {
        return outcome;
    }
    let teardown = prepared.bottle.teardown(&prepared.engine).await;
    let code = outcome?;
    teardown?;
    Ok(code)
}

/// Claude's process in the bottle: the same plan the dashboard's tabs use.
pub fn claude_plan(prepared: &Prepared, colours: ColourDepth) -> ExecPlan {
    ExecPlan {
        agent_env: prepared.exec_env.clone(),
        // The agent's prompt is claude's first message of the session.
        command: std::iter::once("claude".to_owned())
            .chain(prepared.resolved.agent.prompt.clone())
            .collect(),
        colours,
    }
}

/// Starts claude under the bottle's holder and shows it in this terminal
/// until it exits; its exit code.
async fn attach_claude(prepared: &Prepared, colours: ColourDepth) -> anyhow::Result<i32> {
    let plan = claude_plan(prepared, colours);
    let container = &prepared.bottle.agent_container;
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    let size = (rows, cols);
    holder::serve(
        &prepared.engine,
        container,
        &plan.command,
        plan.serve_env(),
        size,
    )
    .await?;
    let viewer = Viewer {
        container: container.clone(),
        who: holder::viewer_name("claude-bottle start"),
        take_over: true,
        detach_key: false,
        context: prepared.engine_choice.context.clone(),
    };
    let mut cmd = viewer.command();
    // A signal to us ends the session: the viewer must not outlive it.
    cmd.kill_on_drop(true);
    let status = cmd.status().await?;
    Ok(status.code().unwrap_or(1))
}
