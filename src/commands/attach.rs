//! `claude-bottle attach <agent|session>`: a kept bottle's claude full screen
//! in this terminal, as `start` shows it; Ctrl-\ detaches and leaves it
//! working.

use super::ps::find;
use crate::docker::engine::Engine;
use crate::docker::holder;
use crate::session::exec_plan::Viewer;
use crate::settings::Settings;

pub async fn run(settings: &Settings, name: &str, take_over: bool) -> anyhow::Result<i32> {
    let engine = Engine::connect(settings.docker_host.as_deref()).await?;
    let session = find(&engine, name).await?;
    let Some((container, state)) = &session.agent_container else {
        anyhow::bail!(
            "session {} has no agent container; `claude-bottle stop {}` removes what is left",
            session.session,
            session.session
        );
    };
    if state != "running" {
        anyhow::bail!(
            "the bottle of {} (session {}) is {state}; `claude-bottle stop {}` removes it",
            session.agent,
            session.session,
            session.session
        );
    }
    let Some(status) = holder::status(&engine, container).await? else {
        anyhow::bail!(
            "claude is not running in the bottle of {} (session {}); `claude-bottle stop {}` \
             removes it",
            session.agent,
            session.session,
            session.session
        );
    };
    if let Some(code) = status.exited {
        eprintln!("claude ended in this bottle (exit code {code}); here is its last screen.");
    } else {
        eprintln!(
            "Attaching to {} (session {}). Ctrl-\\ detaches; the agent keeps working.",
            session.agent, session.session
        );
    }
    let viewer = Viewer {
        container: container.clone(),
        who: holder::viewer_name("claude-bottle attach"),
        take_over,
        detach_key: true,
    };
    let status = viewer.command().status().await?;
    Ok(status.code().unwrap_or(1))
}
