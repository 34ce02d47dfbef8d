//! `claude-bottle doctor`: is everything a bottle needs in place? Each line is
//! ok, warning or error, with the fix.

use std::fmt;

use crate::docker::engine::{Engine, version_at_least};
use crate::manifest::source::ManifestSource;
use crate::settings::{Settings, TOKEN_VAR};

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
    let (runtimes, line) = match source.load_usable() {
        Ok(u) if u.manifest.files.is_empty() => (
            vec![],
            Check::warning(
                "no manifest found",
                "run `claude-bottle init` to write a starter one",
            ),
        ),
        Ok(u) => {
            // Entries with errors aside, the sound bottles' runtimes are
            // still worth checking.
            let mut runtimes: Vec<&str> = u
                .manifest
                .bottles
                .values()
                .map(|b| b.runtime.engine_name())
                .collect();
            runtimes.sort_unstable();
            runtimes.dedup();
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
            (runtimes, manifest_line(outcome))
        }
        Err(errors) => (vec![], manifest_line(Err(errors.to_string()))),
    };
    run(settings, &runtimes, line).await
}

/// Runs every check; exit 1 if any is an error.
pub async fn run(settings: &Settings, runtimes_needed: &[&str], manifest_check: Check) -> i32 {
    let mut checks = vec![docker_cli()];
    checks.extend(engine_checks(settings, runtimes_needed).await);
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

async fn engine_checks(settings: &Settings, runtimes_needed: &[&str]) -> Vec<Check> {
    let reached = settings.engine_description();
    let engine = match Engine::connect(&settings.engine).await {
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
