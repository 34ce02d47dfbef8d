//! The engines a command looks at: the default one (`DOCKER_HOST`,
//! `DOCKER_CONTEXT`, the docker CLI's current context) and the engine of
//! every docker context the manifest's bottles name, each once. An engine
//! that does not answer is said so on stderr and the others are used.

use crate::docker::engine::Engine;
use crate::docker::reaper::SessionResources;
use crate::manifest::source::ManifestSource;
use crate::settings::{EngineChoice, Settings};

/// An engine that answered, and which one it is.
#[derive(Debug, Clone)]
pub struct Reached {
    pub choice: EngineChoice,
    pub engine: Engine,
}

/// The engines bottles of this manifest run on (the default one only when
/// there is no usable manifest); contexts that cannot be used are said so.
pub fn named(source: &ManifestSource, settings: &Settings) -> Vec<EngineChoice> {
    let contexts: Vec<String> = source
        .load()
        .map(|manifest| {
            manifest
                .bottles
                .values()
                .filter_map(|b| b.context.clone())
                .collect()
        })
        .unwrap_or_default();
    let (engines, problems) = settings.engines_for(contexts.iter().map(String::as_str));
    for problem in problems {
        eprintln!("claude-bottle: not looking there: {problem}");
    }
    engines
}

/// Connects to every engine of [`named`]; fails only when none answers.
pub async fn connect_all(
    source: &ManifestSource,
    settings: &Settings,
) -> anyhow::Result<Vec<Reached>> {
    let choices = named(source, settings);
    let several = choices.len() > 1;
    let mut reached = Vec::new();
    let mut first_error = None;
    for choice in choices {
        match Engine::connect(&choice.address).await {
            Ok(engine) => reached.push(Reached { choice, engine }),
            Err(e) if several => {
                eprintln!(
                    "claude-bottle: engine {} does not answer, its bottles are not shown: {e}",
                    choice.label()
                );
                first_error.get_or_insert(e);
            }
            Err(e) => return Err(e.into()),
        }
    }
    match (reached.is_empty(), first_error) {
        (true, Some(e)) => Err(e.into()),
        _ => Ok(reached),
    }
}

/// The bottle of agent or session `name` on whichever engine holds it.
pub async fn find_anywhere(
    source: &ManifestSource,
    settings: &Settings,
    name: &str,
) -> anyhow::Result<(Reached, SessionResources)> {
    let reached = connect_all(source, settings).await?;
    let mut sessions = Vec::new();
    for one in &reached {
        for session in crate::docker::reaper::list_sessions(&one.engine).await? {
            sessions.push((one, session));
        }
    }
    let labels: Vec<&str> = reached.iter().map(|r| r.choice.label()).collect();
    let found = super::ps::pick_from(sessions, name, &labels)?;
    Ok((found.0.clone(), found.1))
}
