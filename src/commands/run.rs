//! `claude-bottle run <agent> [-- CMD ARGS...]`: a fresh bottle, one command,
//! its output streamed, its exit code returned, the bottle torn down.

use futures_util::StreamExt as _;
use tokio::io::AsyncWriteExt as _;

use super::context::ManifestSource;
use super::prepare::{Prepared, prepare};
use super::signals::stop_requested;
use crate::docker::agent::AGENT_WORKDIR;
use crate::docker::engine::Engine;

pub async fn run(
    source: &ManifestSource,
    agent: &str,
    yes: bool,
    command: &[String],
) -> anyhow::Result<i32> {
    let prepared = prepare(source, agent, yes).await?;
    let command: Vec<String> = if command.is_empty() {
        vec!["claude".into()]
    } else {
        command.to_vec()
    };
    let outcome = tokio::select! {
        code = exec_streaming(&prepared, &command) => code,
        code = stop_requested() => Ok(code),
    };
    // Teardown runs whatever happened above, and its failure is reported too.
    let teardown = prepared.bottle.teardown(&prepared.engine).await;
    let code = outcome?;
    teardown?;
    Ok(code)
}

/// Runs the command in the agent container with the session's env, copying
/// its output to ours. Returns its exit code.
async fn exec_streaming(prepared: &Prepared, command: &[String]) -> anyhow::Result<i32> {
    let Prepared {
        engine,
        bottle,
        exec_env,
        ..
    } = prepared;
    let exec = create_exec(engine, &bottle.agent_container, command, exec_env).await?;
    let started = engine.docker.start_exec(&exec, None).await?;
    if let bollard::exec::StartExecResults::Attached { mut output, .. } = started {
        let mut stdout = tokio::io::stdout();
        let mut stderr = tokio::io::stderr();
        while let Some(chunk) = output.next().await {
            match chunk? {
                bollard::container::LogOutput::StdErr { message } => {
                    stderr.write_all(&message).await?;
                    stderr.flush().await?;
                }
                other => {
                    stdout.write_all(&other.into_bytes()).await?;
                    stdout.flush().await?;
                }
            }
        }
    }
    let code = engine
        .docker
        .inspect_exec(&exec)
        .await?
        .exit_code
        .unwrap_or(-1);
    Ok(i32::try_from(code).unwrap_or(1))
}

async fn create_exec(
    engine: &Engine,
    container: &str,
    command: &[String],
    env: &[(String, String)],
) -> anyhow::Result<String> {
    let config = bollard::models::ExecConfig {
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        cmd: Some(command.to_vec()),
        env: Some(env.iter().map(|(k, v)| format!("{k}={v}")).collect()),
        working_dir: Some(AGENT_WORKDIR.into()),
        ..Default::default()
    };
    Ok(engine.docker.create_exec(container, config).await?.id)
}
