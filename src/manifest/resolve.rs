//! Resolving one agent: its bottle, env values, skills and effective allowlist.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use super::env_value::expand;
use super::error::{ManifestError, ManifestErrors};
use super::keys;
use super::model::{
    AllowEntry, AllowOrigin, EnvSource, Manifest, ResolvedAgent, ResolvedEnv, ResolvedEnvValue,
    Skill,
};
use super::validate::key_path;

/// Hosts every bottle may reach: what Claude Code needs with an OAuth token.
///
/// Left out on purpose: `sentry.io` (error reports; claude works without them and they
/// carry stack traces and paths out of the bottle) and `mcp-proxy.anthropic.com` (claude.ai
/// MCP connectors: a bottle lists the services it may use itself).
pub const DEFAULT_ALLOWLIST: &[(&str, &str)] = &[
    ("api.anthropic.com", "the Messages API: every model request"),
    ("claude.ai", "OAuth login and subscription checks"),
    ("console.anthropic.com", "OAuth login and token refresh"),
    ("platform.claude.com", "OAuth login and token refresh"),
    (
        "statsig.anthropic.com",
        "feature flags; claude waits on them at start",
    ),
];

/// What resolution needs from outside the manifest.
#[derive(Debug, Clone, Default)]
pub struct ResolveContext {
    /// The project folder, searched first for `.claude/skills/<name>/SKILL.md`.
    pub project_dir: Option<PathBuf>,
    /// The home folder, searched second for skills.
    pub home: Option<PathBuf>,
    /// The host environment `${VAR}` values come from.
    pub host_env: BTreeMap<String, String>,
}

impl ResolveContext {
    /// The real process environment and home folder.
    pub fn from_process(project_dir: Option<PathBuf>) -> Self {
        ResolveContext {
            project_dir,
            home: std::env::var_os("HOME").map(PathBuf::from),
            host_env: std::env::vars().collect(),
        }
    }
}

/// Everything needed to launch `agent`, or every reason it cannot be.
pub fn resolve(
    manifest: &Manifest,
    agent: &str,
    ctx: &ResolveContext,
) -> Result<ResolvedAgent, ManifestErrors> {
    let Some(a) = manifest.agents.get(agent) else {
        return Err(unknown_agent(manifest, agent).into());
    };
    let Some(bottle) = manifest.bottles.get(&a.bottle) else {
        // `load` checks every reference; this only guards hand-built manifests.
        let path = key_path(&key_path("agents", agent), "bottle");
        return Err(ManifestError::new(
            &a.source,
            path,
            None,
            format!("no bottle named `{}`", a.bottle),
        )
        .into());
    };
    let mut errors = Vec::new();
    let env_path = key_path(&key_path("bottles", &bottle.name), "env");
    let mut env = Vec::new();
    for var in &bottle.env {
        let value = match &var.source {
            EnvSource::Literal(v) => Ok(ResolvedEnvValue::Value(v.clone())),
            EnvSource::Prompt(text) => Ok(ResolvedEnvValue::Ask(text.clone())),
            EnvSource::HostVar(name) => {
                expand(&format!("${{{name}}}"), &ctx.host_env).map(ResolvedEnvValue::Value)
            }
            EnvSource::Template(raw) => expand(raw, &ctx.host_env).map(ResolvedEnvValue::Value),
        };
        match value {
            Ok(value) => env.push(ResolvedEnv {
                name: var.name.clone(),
                source: var.source.clone(),
                value,
            }),
            Err(missing) => {
                let names = keys::list(missing.iter().map(String::as_str));
                let (noun, verb, them) = if missing.len() == 1 {
                    ("variable", "it is", "it")
                } else {
                    ("variables", "they are", "them")
                };
                let message = format!(
                    "agent `{agent}` needs host {noun} {names} for env `{}`, but {verb} not set",
                    var.name
                );
                let hint = format!(
                    "export {them} before starting claude-bottle, or make the value \
                     `?question` to be asked at launch"
                );
                let path = key_path(&env_path, &var.name);
                let e = ManifestError::new(&bottle.source, path, Some(var.pos), message)
                    .with_hint(Some(hint));
                errors.push(e);
            }
        }
    }
    let mut skills = Vec::new();
    for (i, skill) in a.skills.iter().enumerate() {
        let name = &skill.name;
        match find_skill(name, ctx) {
            Ok(dir) => skills.push(Skill {
                name: name.clone(),
                dir,
            }),
            Err(looked) => {
                let places: Vec<String> = looked.iter().map(|p| p.display().to_string()).collect();
                let path = format!("{}[{i}]", key_path(&key_path("agents", agent), "skills"));
                let message = format!(
                    "skill `{name}` not found; looked for {}",
                    places.join(" and ")
                );
                errors.push(ManifestError::new(
                    &a.source,
                    path,
                    Some(skill.pos),
                    message,
                ));
            }
        }
    }
    ManifestErrors(errors).into_result(ResolvedAgent {
        agent: a.clone(),
        bottle: bottle.clone(),
        env,
        skills,
        allowlist: effective_allowlist(bottle),
    })
}

fn unknown_agent(manifest: &Manifest, agent: &str) -> ManifestError {
    let names = || manifest.agents.keys().map(String::as_str);
    let hint = if manifest.agents.is_empty() {
        "no agents are defined; add one under `agents`".to_string()
    } else {
        let all = format!("the agents are {}", keys::list_some(names(), 20));
        match keys::did_you_mean(agent, names()) {
            Some(dym) => format!("{dym} ({all})"),
            None => all,
        }
    };
    ManifestError::new(Path::new(""), "", None, format!("no agent named `{agent}`"))
        .with_hint(Some(hint))
}

/// `<project>/.claude/skills/<name>` first, then `<home>/.claude/skills/<name>`; the
/// folder must hold `SKILL.md`. `Err` lists the files looked for.
fn find_skill(name: &str, ctx: &ResolveContext) -> Result<PathBuf, Vec<PathBuf>> {
    let mut looked = Vec::new();
    for base in [&ctx.project_dir, &ctx.home].into_iter().flatten() {
        let dir = base.join(".claude").join("skills").join(name);
        let file = dir.join("SKILL.md");
        if file.is_file() {
            return Ok(dir);
        }
        looked.push(file);
    }
    Err(looked)
}

/// Defaults, the bottle's allowlist, its ssh host names and its private hosts: sorted, each host once with
/// every reason it is there.
pub fn effective_allowlist(bottle: &super::model::Bottle) -> Vec<AllowEntry> {
    let mut hosts: BTreeMap<String, BTreeSet<AllowOrigin>> = BTreeMap::new();
    let defaults = DEFAULT_ALLOWLIST
        .iter()
        .map(|(h, _)| ((*h).to_string(), AllowOrigin::Default));
    let listed = bottle
        .allowlist
        .iter()
        .map(|h| (h.clone(), AllowOrigin::Manifest));
    let ssh = bottle
        .ssh
        .iter()
        .map(|s| (s.hostname.to_lowercase(), AllowOrigin::Ssh));
    let private = bottle
        .private_hosts
        .iter()
        .filter_map(super::model::PrivateHost::allow_entry)
        .map(|h| (h, AllowOrigin::Private));
    for (host, origin) in defaults.chain(listed).chain(ssh).chain(private) {
        hosts.entry(host).or_default().insert(origin);
    }
    hosts
        .into_iter()
        .map(|(host, origins)| AllowEntry {
            host,
            origins: origins.into_iter().collect(),
        })
        .collect()
}
