//! `claude-bottle attach <agent|session>`: a kept bottle's claude full screen
//! in this terminal, as `start` shows it; Ctrl-\ detaches and leaves it
//! working. A bottle stopped by a restart of the engine or the machine is
//! started again first, claude continuing its conversation.

use super::engines::find_anywhere;
use super::prepare::ask_answers;
use crate::docker::bottle;
use crate::docker::engine::Engine;
use crate::docker::holder::{self, HolderStatus};
use crate::manifest;
use crate::manifest::source::ManifestSource;
use crate::session::exec_plan::{ExecPlan, Viewer, agent_env};
use crate::settings::Settings;

pub async fn run(
    source: &ManifestSource,
    settings: &Settings,
    name: &str,
    take_over: bool,
) -> anyhow::Result<i32> {
    let (reached, session) = find_anywhere(source, settings, name).await?;
    let engine = reached.engine;
    let Some((container, state)) = &session.agent_container else {
        anyhow::bail!(
            "session {} has no agent container; `claude-bottle stop {}` removes what is left",
            session.session,
            session.session
        );
    };
    let status = if state == "running" {
        holder::status(&engine, container).await?
    } else {
        None
    };
    // A viewer whose process is gone (a crashed dashboard) holds nothing.
    let take_over = take_over
        || status
            .as_ref()
            .is_some_and(|s| s.viewer.is_some() && s.live_viewer().is_none());
    match status {
        Some(HolderStatus {
            exited: Some(code), ..
        }) => eprintln!("claude ended in this bottle (exit code {code}); here is its last screen."),
        Some(_) => eprintln!(
            "Attaching to {} (session {}). Ctrl-\\ detaches; the agent keeps working.",
            session.agent, session.session
        ),
        None => {
            eprintln!(
                "claude is not running in the bottle of {} (session {}, {state}): starting it \
                 again, the conversation continued.",
                session.agent, session.session
            );
            resume(source, settings, &engine, &session.agent, &session.session).await?;
        }
    }
    let viewer = Viewer {
        container: container.clone(),
        who: holder::viewer_name("claude-bottle attach"),
        take_over,
        detach_key: true,
        context: reached.choice.context.clone(),
    };
    let status = viewer.command().status().await?;
    Ok(status.code().unwrap_or(1))
}

/// Starts a kept bottle again (its containers, if the engine or the machine
/// restarted) and claude in it with `--continue`; the token and the agent's
/// values come from this process, as at launch.
async fn resume(
    source: &ManifestSource,
    settings: &Settings,
    engine: &Engine,
    agent: &str,
    session: &str,
) -> anyhow::Result<()> {
    let loaded = source.load_for(agent).map_err(|e| anyhow::anyhow!("{e}"))?;
    let resolved = manifest::resolve(&loaded, agent, &source.resolve_context(&loaded))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let token = settings.require_token()?.to_owned();
    let env = agent_env(&resolved, &ask_answers(&resolved)?, Some(&token));
    let plan = ExecPlan {
        command: settings
            .agent_command
            .clone()
            .unwrap_or_else(|| vec!["claude".into(), "--continue".into()]),
        colours: settings.colours,
        agent_env: env,
    };
    let watches = !resolved.granted_values(&plan.agent_env).is_empty();
    let bottle = bottle::reattach(engine, &resolved, session, watches).await?;
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    let size = (rows, cols);
    holder::serve_again(
        engine,
        &bottle.agent_container,
        &plan.command,
        plan.serve_env(),
        size,
    )
    .await?;
    Ok(())
}
