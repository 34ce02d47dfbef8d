//! What the dashboard starts from: the manifest, the token, the images and
//! the command run in each bottle.

use std::path::PathBuf;

use crate::app::keymap::EscapeKey;
use crate::app::{AgentEntry, App, EngineStatus, ManifestProblem};
use crate::docker::bottle::LaunchSettings;
use crate::docker::engine::EngineAddress;
use crate::manifest::source::ManifestSource;
use crate::manifest::{LeftOut, Manifest, ManifestErrors, ResolveContext};
use crate::settings::{DEFAULT_ENGINE, Settings, engine_label};

#[derive(Debug, Clone)]
pub struct DashboardContext {
    pub source: ManifestSource,
    /// The loaded manifest, or what is wrong with it.
    pub manifest: Result<Manifest, ManifestProblem>,
    /// Agents that errors in their entries leave out of `manifest`.
    pub left_out: Vec<LeftOut>,
    /// Every error in an entry (those that left out bottles no agent uses
    /// too); empty when all loaded.
    pub entry_errors: ManifestErrors,
    /// What the environment set (the token, images, subnet pool, colours).
    pub settings: Settings,
    /// The images; `None` finds (or builds) the agent image at each launch.
    pub images: Option<LaunchSettings>,
    pub agent_command: Vec<String>,
    /// Whether the agent's prompt follows the command (only for claude).
    pub append_prompt: bool,
    /// The chord that leaves a terminal, and what was wrong with the
    /// configured one, if anything (the default is used then).
    pub escape_key: (EscapeKey, Option<String>),
}

impl DashboardContext {
    /// From the `--manifest` paths and the settings read at start-up.
    pub fn from_process(explicit: &[PathBuf], settings: &Settings) -> Self {
        let source = ManifestSource::from_cli(explicit);
        let (manifest, left_out, entry_errors) = match source.load_usable() {
            Ok(u) if u.manifest.files.is_empty() => (
                Err(ManifestProblem::Missing),
                Vec::new(),
                ManifestErrors::default(),
            ),
            Ok(u) => (Ok(u.manifest), u.left_out, u.errors),
            Err(errors) => (
                Err(ManifestProblem::Invalid(errors.to_string())),
                Vec::new(),
                ManifestErrors::default(),
            ),
        };
        let custom = settings.agent_command.clone().filter(|c| !c.is_empty());
        Self {
            source,
            manifest,
            left_out,
            entry_errors,
            escape_key: escape_key_from(settings.escape_key.as_deref()),
            settings: settings.clone(),
            images: None,
            append_prompt: custom.is_none(),
            agent_command: custom.unwrap_or_else(|| vec!["claude".to_owned()]),
        }
    }

    /// The engines the dashboard connects to, by name: the default one,
    /// then each docker context the manifest's bottles name (or why that
    /// context cannot be used).
    pub fn engines(&self) -> Vec<(String, Result<EngineAddress, String>)> {
        let mut engines = vec![(DEFAULT_ENGINE.to_owned(), Ok(self.settings.engine.clone()))];
        let Ok(manifest) = &self.manifest else {
            return engines;
        };
        for context in manifest
            .bottles
            .values()
            .filter_map(|b| b.context.as_deref())
        {
            if engines.iter().any(|(name, _)| name == context) {
                continue;
            }
            let address = self.settings.engine_for(Some(context));
            let address = address.map(|c| c.address).map_err(|e| e.to_string());
            engines.push((context.to_owned(), address));
        }
        engines
    }

    /// The engine an agent's bottles run on, by name.
    pub fn engine_of_agent(&self, agent: &str) -> String {
        let Ok(manifest) = &self.manifest else {
            return DEFAULT_ENGINE.to_owned();
        };
        let context = (manifest.agents.get(agent))
            .and_then(|a| manifest.bottles.get(&a.bottle))
            .and_then(|b| b.context.as_deref());
        engine_label(context).to_owned()
    }

    /// The model's starting state.
    pub fn initial_app(&self) -> App {
        let (mut agents, problem) = match &self.manifest {
            Ok(m) => (agent_entries(m, &self.left_out), None),
            Err(problem) => (Vec::new(), Some(problem.clone())),
        };
        for agent in &mut agents {
            agent.engine = self.engine_of_agent(&agent.name);
        }
        let engines = self.engines().into_iter().map(|(name, address)| {
            let status = match address {
                Ok(_) => EngineStatus::Connecting,
                Err(why) => EngineStatus::Unavailable(why),
            };
            (name, status)
        });
        let mut app = App::new(agents, problem, self.settings.token.is_some());
        app.engines = engines.collect();
        if !self.entry_errors.0.is_empty() {
            app.entry_errors = Some(self.entry_errors.to_string());
        }
        app.escape_key = self.escape_key.0;
        if let Some(problem) = &self.escape_key.1 {
            app.error(problem.clone());
        }
        app
    }

    pub fn resolve_context(&self) -> Option<ResolveContext> {
        self.manifest
            .as_ref()
            .ok()
            .map(|m| self.source.resolve_context(m))
    }
}

/// The agent list: those that can launch and those errors leave out, by name.
fn agent_entries(manifest: &Manifest, left_out: &[LeftOut]) -> Vec<AgentEntry> {
    let mut agents: Vec<AgentEntry> = manifest
        .agents
        .values()
        .map(|a| AgentEntry {
            name: a.name.clone(),
            bottle: a.bottle.clone(),
            engine: DEFAULT_ENGINE.to_owned(),
            errors: None,
        })
        .chain(left_out.iter().map(|l| AgentEntry {
            name: l.agent.clone(),
            bottle: l.bottle.clone(),
            engine: DEFAULT_ENGINE.to_owned(),
            errors: Some(l.errors.to_string()),
        }))
        .collect();
    agents.sort_by(|a, b| a.name.cmp(&b.name));
    agents
}

/// The escape chord from `CLAUDE_BOTTLE_ESCAPE_KEY` (unset or empty: the
/// default), with the problem when the value is refused.
pub fn escape_key_from(value: Option<&str>) -> (EscapeKey, Option<String>) {
    match value {
        Some(text) if !text.trim().is_empty() => match EscapeKey::parse(text) {
            Ok(key) => (key, None),
            Err(problem) => (EscapeKey::default(), Some(problem)),
        },
        _ => (EscapeKey::default(), None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn context(escape: Option<&str>) -> DashboardContext {
        DashboardContext {
            source: ManifestSource::from_cli(&[]),
            manifest: Err(ManifestProblem::Missing),
            left_out: Vec::new(),
            entry_errors: ManifestErrors::default(),
            settings: Settings::from_lookup(|_| None).unwrap(),
            images: None,
            agent_command: vec!["sh".into()],
            append_prompt: false,
            escape_key: escape_key_from(escape),
        }
    }

    #[test]
    fn the_escape_key_comes_from_the_setting_and_a_bad_one_is_said() {
        let app = context(None).initial_app();
        assert_eq!(app.escape_key, EscapeKey::default());
        assert_eq!(app.message, None);
        assert_eq!(context(Some("  ")).initial_app().message, None);
        let app = context(Some("ctrl-g")).initial_app();
        assert_eq!(app.escape_key.label(), "Ctrl-G");
        assert_eq!(app.message, None);
        let app = context(Some("ctrl-c")).initial_app();
        assert_eq!(app.escape_key, EscapeKey::default());
        let message = app.message.unwrap();
        assert!(message.is_error, "{message:?}");
        assert!(
            message.text.contains("CLAUDE_BOTTLE_ESCAPE_KEY=\"ctrl-c\""),
            "{message:?}"
        );
    }

    #[test]
    fn agents_with_manifest_errors_are_listed_as_such_and_the_rest_can_launch() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("claude-bottle.json");
        std::fs::write(
            &file,
            r#"{"bottles": {"good": {}, "bad": {"runtime": "gvisor"}},
                "agents": {"ok": {"bottle": "good"}, "broken": {"bottle": "bad"}}}"#,
        )
        .unwrap();
        let ctx =
            DashboardContext::from_process(&[file], &Settings::from_lookup(|_| None).unwrap());
        assert!(ctx.manifest.as_ref().unwrap().agents.contains_key("ok"));
        let app = ctx.initial_app();
        assert_eq!(app.manifest_problem, None);
        let listed: Vec<(&str, bool)> = app
            .agents
            .iter()
            .map(|a| (a.name.as_str(), a.errors.is_some()))
            .collect();
        assert_eq!(listed, [("broken", true), ("ok", false)]);
        assert_eq!(app.agent_status("broken"), crate::app::AgentStatus::Invalid);
        assert_eq!(app.agent_status("ok"), crate::app::AgentStatus::Idle);
        let errors = app.entry_errors.unwrap();
        assert!(
            errors.contains("bottles.bad.runtime: unknown runtime `gvisor`"),
            "{errors}"
        );
    }
}
