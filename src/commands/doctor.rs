//! `claude-bottle doctor`: is everything a bottle needs in place? Each line is
//! ok, warning or error, with the fix.

use std::fmt;

use crate::docker::engine::{Engine, version_at_least};
use crate::manifest::source::ManifestSource;
use crate::settings::{EngineChoice, Settings, TOKEN_VAR};

/// The first engine release with the fix for CVE-2024-29018 (DNS from
/// `--internal` networks). Bottles close that hole by design on any engine.
const DNS_FIX_VERSION: &str = "25.0.5";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    Ok,
    Warning,
    Error,
}

/// One line of the report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub status: Status,
    pub what: String,
    /// What to do about it (empty when ok).
    pub fix: String,
}

impl Check {
    fn ok(what: impl Into<String>) -> Self {
        Self {
            status: Status::Ok,
            what: what.into(),
            fix: String::new(),
        }
    }
    fn warning(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            status: Status::Warning,
            what: what.into(),
            fix: fix.into(),
        }
    }
    fn error(what: impl Into<String>, fix: impl Into<String>) -> Self {
        Self {
            status: Status::Error,
            what: what.into(),
            fix: fix.into(),
        }
    }
}

impl fmt::Display for Check {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = match self.status {
            Status::Ok => "ok     ",
            Status::Warning => "warning",
            Status::Error => "error  ",
        };
        write!(f, "{tag}  {}", self.what)?;
        if !self.fix.is_empty() {
            write!(f, "\n         fix: {}", self.fix)?;
        }
        Ok(())
    }
}

/// Runs every check for this invocation's manifest.
pub async fn run_for(source: &ManifestSource, settings: &Settings) -> i32 {
    let (needs, line) = match source.load_usable() {
        Ok(u) if u.manifest.files.is_empty() => (
            EngineNeeds::new(),
            Check::warning(
                "no manifest found",
                "run `claude-bottle init` to write a starter one",
            ),
        ),
        Ok(u) => {
            // Entries with errors aside, the sound bottles' engines and
            // runtimes are still worth checking.
            let mut needs = EngineNeeds::new();
            for bottle in u.manifest.bottles.values() {
                let runtimes = needs.entry(bottle.context.clone()).or_default();
                runtimes.insert(bottle.runtime.engine_name());
            }
            let outcome = if u.errors.is_empty() {
                Ok(format!(
                    "manifest valid: {} bottle(s), {} agent(s) in {}",
                    u.manifest.bottles.len(),
                    u.manifest.agents.len(),
                    super::list::display_files(&u.manifest.files)
                ))
            } else {
                Err(u.errors.to_string())
            };
            (needs, manifest_line(outcome))
        }
        Err(errors) => (EngineNeeds::new(), manifest_line(Err(errors.to_string()))),
    };
    run(settings, &needs, line).await
}

/// The runtimes the bottles need, by the docker context whose engine runs
/// them (`None`: the default engine).
type EngineNeeds =
    std::collections::BTreeMap<Option<String>, std::collections::BTreeSet<&'static str>>;

/// Runs every check; exit 1 if any is an error.
async fn run(settings: &Settings, needs: &EngineNeeds, manifest_check: Check) -> i32 {
    let mut checks = vec![docker_cli()];
    let none = std::collections::BTreeSet::new();
    let default_needs: Vec<&str> = needs.get(&None).unwrap_or(&none).iter().copied().collect();
    let reached = settings.engine_description();
    checks.extend(engine_checks(&settings.default_engine(), &reached, &default_needs).await);
    for (context, runtimes) in needs {
        let Some(name) = context else { continue };
        let runtimes: Vec<&str> = runtimes.iter().copied().collect();
        match settings.engine_for(Some(name)) {
            Ok(choice) => {
                let host = choice.address.host.as_deref().unwrap_or("the local socket");
                let reached = format!("docker context {name} (named by a bottle) at {host}");
                checks.extend(engine_checks(&choice, &reached, &runtimes).await);
            }
            Err(e) => checks.push(Check::error(
                format!("engine of docker context {name}: {e}"),
                "create the context (`docker context create`) or correct the bottle's `context`",
            )),
        }
    }
    checks.push(token(settings));
    checks.push(manifest_check);
    for check in &checks {
        println!("{check}");
    }
    i32::from(checks.iter().any(|c| c.status == Status::Error))
}

/// The manifest line of the report, from the loader's outcome.
pub fn manifest_line(outcome: Result<String, String>) -> Check {
    match outcome {
        Ok(summary) => Check::ok(summary),
        Err(errors) => Check::error(
            format!("manifest has errors:\n{errors}"),
            "correct the entries above (`claude-bottle validate` lists them again)",
        ),
    }
}

fn docker_cli() -> Check {
    match std::process::Command::new("docker")
        .arg("--version")
        .output()
    {
        Ok(out) if out.status.success() => Check::ok(format!(
            "docker CLI: {}",
            String::from_utf8_lossy(&out.stdout).trim()
        )),
        _ => Check::error(
            "docker CLI not found (`start` runs `docker exec -it` for the terminal)",
            "install the Docker CLI (Debian: apt-get install docker.io)",
        ),
    }
}

async fn engine_checks(
    choice: &EngineChoice,
    reached: &str,
    runtimes_needed: &[&str],
) -> Vec<Check> {
    let engine = match Engine::connect(&choice.address).await {
        Ok(engine) => engine,
        Err(e) => {
            return vec![Check::error(
                format!("Docker engine at {reached}: {e}"),
                "start the engine, or set DOCKER_HOST (or DOCKER_CONTEXT) to one that runs",
            )];
        }
    };
    let info = match engine.info().await {
        Ok(info) => info,
        Err(e) => {
            return vec![Check::error(
                format!("Docker engine: {e}"),
                "check the engine's log",
            )];
        }
    };
    let mut checks = vec![Check::ok(format!(
        "Docker engine {} (API {}), reached through {reached}",
        info.version, info.api_version
    ))];
    if !version_at_least(&info.version, DNS_FIX_VERSION) {
        checks.push(Check::warning(
            format!(
                "engine {} is older than {DNS_FIX_VERSION} (CVE-2024-29018: DNS answers leak from \
                 internal networks); bottles are not affected because agents use no DNS",
                info.version
            ),
            "upgrade the engine when you can",
        ));
    }
    for runtime in runtimes_needed {
        if info.runtimes.iter().any(|r| r == runtime) {
            checks.push(Check::ok(format!("runtime {runtime} registered")));
        } else {
            checks.push(Check::error(
                format!("runtime {runtime} is used by a bottle but not registered with the engine"),
                crate::docker::engine::runtime_fix(runtime),
            ));
        }
    }
    checks
}

fn token(settings: &Settings) -> Check {
    if settings.token.is_some() {
        Check::ok(format!("{TOKEN_VAR} is set (value not shown)"))
    } else {
        Check::error(
            format!("{TOKEN_VAR} is not set"),
            format!("run `claude setup-token` on the host and export its token as {TOKEN_VAR}"),
        )
    }
}
