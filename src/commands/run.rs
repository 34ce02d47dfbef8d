//! `claude-bottle run <agent> [-- CMD ARGS...]`: a fresh bottle, one command,
//! its output streamed, its exit code returned, the bottle torn down.

use super::collect::Before;
use super::prepare::{Prepared, prepare};
use crate::docker::agent::AGENT_WORKDIR;
use crate::docker::container::{self, ExecRequest, OutputStream};
use crate::manifest::source::ManifestSource;
use crate::settings::Settings;
use crate::signals::stop_requested;

pub async fn run(
    source: &ManifestSource,
    settings: &Settings,
    agent: &str,
    yes: bool,
    command: &[String],
    before: Before,
) -> anyhow::Result<i32> {
    let prepared = prepare(source, settings, agent, yes).await?;
    let command: Vec<String> = if command.is_empty() {
        vec!["claude".into()]
    } else {
        command.to_vec()
    };
    let outcome = tokio::select! {
        code = exec_streaming(&prepared, &command) => code,
        code = stop_requested() => Ok(code),
    };
    if !prepared.collect_before_teardown(before).await {
        return outcome;
    }
    // Teardown runs whatever happened above, and its failure is reported too.
    let teardown = prepared.bottle.teardown(&prepared.engine).await;
    let code = outcome?;
    teardown?;
    Ok(code)
}

/// Runs the command in the agent container with the session's env, copying
/// its output to ours. Returns its exit code.
async fn exec_streaming(prepared: &Prepared, command: &[String]) -> anyhow::Result<i32> {
    use std::io::Write as _;
    let request = ExecRequest {
        cmd: command.to_vec(),
        env: prepared
            .exec_env
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect(),
        user: None,
        workdir: Some(AGENT_WORKDIR),
    };
    // A closed stdout (`| head`) must not stop the command: the first
    // failure is kept and reported once it has ended.
    let mut write_error = None;
    let code = container::exec_streaming(
        &prepared.engine,
        &prepared.bottle.agent_container,
        request,
        |stream, bytes| {
            let written = match stream {
                OutputStream::Stdout => {
                    let mut out = std::io::stdout().lock();
                    out.write_all(bytes).and_then(|()| out.flush())
                }
                OutputStream::Stderr => std::io::stderr().lock().write_all(bytes),
            };
            if let Err(e) = written {
                write_error.get_or_insert(e);
            }
        },
    )
    .await?;
    if let Some(e) = write_error {
        eprintln!("claude-bottle: writing the command's output: {e}");
    }
    Ok(i32::try_from(code).unwrap_or(1))
}
