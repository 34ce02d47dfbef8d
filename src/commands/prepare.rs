//! What `start` and `run` do before the agent's command runs: resolve the
//! agent, show what its bottle grants, ask for `?` values and the go-ahead,
//! make sure the images exist, and launch the bottle.

use std::io::{IsTerminal as _, Write as _};

use anyhow::{Context as _, bail};

use super::collect::{self, Before, WorkOf};
use super::confirm::ask_yes_no;
use super::{gc, show};
use crate::docker::bottle::{self, Bottle, LaunchSettings};
use crate::docker::engine::Engine;
use crate::docker::image::BuildProgress;
use crate::docker::image_ready::{CopySource, images_ready};
use crate::docker::reaper;
use crate::manifest::source::ManifestSource;
use crate::manifest::{self, ResolvedAgent, ResolvedEnvValue};
use crate::session::exec_plan::agent_env;
use crate::settings::{DEFAULT_ENGINE, EngineChoice, Settings};
use crate::workspace::Located;

/// A launched bottle and the environment for the processes run in it.
#[derive(Debug)]
pub struct Prepared {
    pub engine: Engine,
    /// Which engine that is: the default, or the context the bottle names.
    pub engine_choice: EngineChoice,
    pub resolved: ResolvedAgent,
    pub bottle: Bottle,
    /// `NAME=value` pairs for the exec: manifest env, answers, and the token.
    /// Never printed, never stored in the container's config.
    pub exec_env: Vec<(String, String)>,
}

impl Prepared {
    /// The offer of the agent's uncollected work before the bottle goes;
    /// `false`: the bottle must stay (see [`collect::before_teardown`]).
    pub async fn collect_before_teardown(&self, before: Before) -> bool {
        let Some(origin) = &self.bottle.workspace else {
            return true;
        };
        let work = WorkOf {
            agent: &self.bottle.agent,
            session: &self.bottle.session,
            container: &self.bottle.agent_container,
            origin,
        };
        collect::before_teardown(&self.engine, &work, before).await
    }
}

/// Resolves, confirms, asks, builds and launches. `yes` skips the y/N.
pub async fn prepare(
    source: &ManifestSource,
    settings: &Settings,
    agent: &str,
    yes: bool,
) -> anyhow::Result<Prepared> {
    let loaded = source.load_for(agent).map_err(|e| anyhow::anyhow!("{e}"))?;
    let resolved = manifest::resolve(&loaded, agent, &source.resolve_context(&loaded))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let token = settings.require_token()?.to_owned();
    let engine_choice = settings.engine_for(resolved.bottle.context.as_deref())?;
    let engine = Engine::connect(&engine_choice.address).await?;
    warn_about_leftovers(&engine).await;

    let workspace = locate_workspace(&resolved)?;
    eprint!("{}", show::to_text(&resolved));
    if let Some(w) = &workspace {
        eprintln!(
            "\nworkspace: {} at {} ({}) goes in as a copy; the agent works on branch {}",
            w.repo.display(),
            &w.base[..12],
            w.base_name,
            crate::workspace::branch_name(agent, "<session>")
        );
    }
    if !yes && !ask_yes_no(&format!("\nLaunch a bottle for {agent}?"))? {
        bail!("not launched");
    }
    let exec_env = agent_env(&resolved, &ask_answers(&resolved)?, Some(&token));
    // Never the token: it is no manifest value, so it is never written
    // anywhere, the sidecar's secrets file included.
    let watched = resolved.granted_values(&exec_env);

    let images = launch_settings((&engine, &engine_choice), settings).await?;
    let bottle = bottle::launch_with_workspace(
        &engine,
        &resolved,
        &watched,
        &images,
        workspace.as_ref(),
        &mut |step| {
            eprintln!("claude-bottle: {}", step.describe());
        },
    )
    .await?;
    Ok(Prepared {
        engine,
        engine_choice,
        resolved,
        bottle,
        exec_env,
    })
}

/// The repository the agent's workspace names, found and checked before
/// anything is created; `None` when the agent has no workspace.
pub fn locate_workspace(resolved: &ResolvedAgent) -> anyhow::Result<Option<Located>> {
    let Some(spec) = &resolved.agent.workspace else {
        return Ok(None);
    };
    let cwd = std::env::current_dir().context("reading the current folder")?;
    crate::workspace::locate(spec, &cwd)
        .map(Some)
        .with_context(|| {
            format!(
                "{}:{}: agents.{}",
                resolved.agent.source.display(),
                spec.pos,
                resolved.agent.name,
            )
        })
}

/// The images for a launch on `engine`: the agent image copied from the
/// default engine or built if it is missing, the sidecar image pulled or
/// copied.
pub async fn launch_settings(
    (engine, choice): (&Engine, &EngineChoice),
    settings: &Settings,
) -> anyhow::Result<LaunchSettings> {
    let mut on_progress = |p: &BuildProgress| match p {
        BuildProgress::Started { tag } => {
            eprintln!("claude-bottle: building the agent image {tag}");
        }
        BuildProgress::Output(line) | BuildProgress::Status(line) => {
            eprintln!("  {}", line.trim_end());
        }
    };
    // Only a bottle on another engine copies from the default one.
    let default = match &choice.context {
        Some(_) => Engine::connect(&settings.engine).await.ok(),
        None => None,
    };
    let from = default.as_ref().map(|engine| CopySource {
        name: DEFAULT_ENGINE,
        engine,
    });
    let images = (&settings.agent_image, settings.pipelock_image.as_str());
    let agent_image = images_ready(engine, choice.label(), images, from, &mut on_progress)
        .await
        .map_err(anyhow::Error::msg)?;
    Ok(LaunchSettings {
        agent_image,
        sidecar_image: settings.pipelock_image.clone(),
        subnet_pool: settings.subnet_pool,
        kept: false,
    })
}

/// An answer for each `?` value, asked with hidden input.
pub fn ask_answers(resolved: &ResolvedAgent) -> anyhow::Result<Vec<(String, String)>> {
    resolved
        .env
        .iter()
        .filter_map(|e| match &e.value {
            ResolvedEnvValue::Ask(question) => Some((&e.name, question)),
            ResolvedEnvValue::Value(_) => None,
        })
        .map(|(name, question)| Ok((name.clone(), ask_hidden(name, question)?)))
        .collect()
}

fn ask_hidden(name: &str, question: &str) -> anyhow::Result<String> {
    if !std::io::stdin().is_terminal() {
        bail!(
            "env {name} must be asked ({question:?}) but stdin is not a terminal; run \
             interactively, or give the bottle a literal or ${{HOST_VAR}} value for it"
        );
    }
    std::io::stderr().flush().ok();
    rpassword::prompt_password(format!("{name} ({question}): "))
        .with_context(|| format!("reading the value for {name}"))
}

/// Tells the user about bottles a crashed run left behind.
async fn warn_about_leftovers(engine: &Engine) {
    if let Ok(orphans) = reaper::orphaned_sessions(engine).await {
        if !orphans.is_empty() {
            eprint!("{}", gc::describe(&orphans));
            eprintln!("Run `claude-bottle gc` to remove them.\n");
        }
    }
}
