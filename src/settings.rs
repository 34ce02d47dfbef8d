//! Every setting the process takes from its environment, read once at
//! start-up (`main`), a bad value refused there with the fix. No other module
//! reads a `CLAUDE_BOTTLE_*` variable or `DOCKER_HOST`; they are handed the
//! values they need. (`${HOST_VAR}` values in a manifest are the manifest's
//! business: `manifest::resolve` reads those.)

use std::ffi::OsString;

use crate::docker::image::{AgentImageSource, ImageError};
use crate::docker::subnet::{Cidr, DEFAULT_POOL};
use crate::egress::config::DEFAULT_PIPELOCK_IMAGE;
use crate::session::exec_plan::ColourDepth;

/// The host variable holding the user's long-lived Claude OAuth token.
pub const TOKEN_VAR: &str = "CLAUDE_BOTTLE_OAUTH_TOKEN";
/// The name claude reads it under, inside the bottle.
pub const CLAUDE_TOKEN_VAR: &str = "CLAUDE_CODE_OAUTH_TOKEN";
/// The sidecar image, instead of the pinned pipelock release.
pub const PIPELOCK_IMAGE_VAR: &str = "CLAUDE_BOTTLE_PIPELOCK_IMAGE";
/// The address block bottle networks are carved from.
pub const SUBNET_POOL_VAR: &str = "CLAUDE_BOTTLE_SUBNET_POOL";
/// The chord that leaves a dashboard terminal.
pub const ESCAPE_KEY_VAR: &str = "CLAUDE_BOTTLE_ESCAPE_KEY";
/// Overrides the command run in each dashboard terminal (default `claude`),
/// split on spaces; tests run `sh` instead. When set, the agent's prompt is
/// not appended.
pub const AGENT_COMMAND_VAR: &str = "CLAUDE_BOTTLE_AGENT_COMMAND";
/// The engine to use, as the docker CLI reads it.
pub const DOCKER_HOST_VAR: &str = "DOCKER_HOST";

/// What the environment set, checked.
#[derive(Clone)]
pub struct Settings {
    /// The OAuth token (trimmed), when set and not blank. Never printed.
    pub token: Option<String>,
    pub pipelock_image: String,
    pub agent_image: AgentImageSource,
    pub subnet_pool: Cidr,
    /// The escape chord as written; the dashboard parses it and shows what
    /// is wrong with a refused one (it keeps the default then).
    pub escape_key: Option<String>,
    pub agent_command: Option<Vec<String>>,
    /// What the user's terminal says it draws (`COLORTERM`).
    pub colours: ColourDepth,
    /// `DOCKER_HOST`, when set: the engine's address.
    pub docker_host: Option<String>,
}

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .field("pipelock_image", &self.pipelock_image)
            .field("agent_image", &self.agent_image)
            .field("subnet_pool", &self.subnet_pool)
            .field("docker_host", &self.docker_host)
            .finish_non_exhaustive()
    }
}

/// A variable whose value cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum SettingsError {
    #[error(
        "{SUBNET_POOL_VAR}={0:?} is not an IPv4 block (a.b.c.d/n); unset it for {DEFAULT_POOL}, \
         or give a private block of /24 or larger, e.g. 10.213.0.0/16"
    )]
    SubnetPool(String),
    #[error(
        "{DOCKER_HOST_VAR}={0:?} is not an engine address claude-bottle can reach; use \
         unix:///path/to/docker.sock or tcp://host:port (TLS and ssh:// are not supported), or \
         unset it for the local socket"
    )]
    DockerHost(String),
    #[error(transparent)]
    AgentImage(#[from] ImageError),
}

impl Settings {
    /// From this process's environment.
    pub fn from_env() -> Result<Self, SettingsError> {
        Self::from_lookup(|name| std::env::var_os(name))
    }

    /// From any variable lookup, so it can be tested without touching the
    /// process environment. Unset and empty variables keep their defaults.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<OsString>) -> Result<Self, SettingsError> {
        let text = |name: &str| {
            lookup(name)
                .map(|v| v.to_string_lossy().trim().to_owned())
                .filter(|v| !v.is_empty())
        };
        let pool_text = text(SUBNET_POOL_VAR).unwrap_or_else(|| DEFAULT_POOL.to_owned());
        let subnet_pool = Cidr::parse(&pool_text)
            .filter(|c| c.prefix <= 24)
            .ok_or(SettingsError::SubnetPool(pool_text))?;
        let docker_host = text(DOCKER_HOST_VAR);
        if let Some(host) = &docker_host {
            let known = ["unix://", "tcp://", "http://"];
            if !known.iter().any(|scheme| host.starts_with(scheme)) {
                return Err(SettingsError::DockerHost(host.clone()));
            }
        }
        Ok(Self {
            token: text(TOKEN_VAR),
            pipelock_image: text(PIPELOCK_IMAGE_VAR)
                .unwrap_or_else(|| DEFAULT_PIPELOCK_IMAGE.to_owned()),
            agent_image: AgentImageSource::from_lookup(&lookup)?,
            subnet_pool,
            escape_key: text(ESCAPE_KEY_VAR),
            agent_command: text(AGENT_COMMAND_VAR)
                .map(|c| c.split_whitespace().map(str::to_owned).collect()),
            colours: ColourDepth::from_colorterm(text("COLORTERM").as_deref()),
            docker_host,
        })
    }

    /// The token, or an error that says how to make one.
    pub fn require_token(&self) -> Result<&str, MissingToken> {
        self.token.as_deref().ok_or(MissingToken)
    }
}

/// `CLAUDE_BOTTLE_OAUTH_TOKEN` is not set.
#[derive(Debug, thiserror::Error)]
#[error(
    "{TOKEN_VAR} is not set. Run `claude setup-token` on this machine (it prints a long-lived \
     token for your Claude subscription), then `export {TOKEN_VAR}=<token>`"
)]
pub struct MissingToken;

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(vars: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let vars: Vec<(String, OsString)> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), OsString::from(v)))
            .collect();
        Settings::from_lookup(|name| vars.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone()))
    }

    #[test]
    fn nothing_set_gives_the_defaults() {
        let s = settings(&[]).unwrap();
        assert_eq!(s.token, None);
        assert_eq!(s.pipelock_image, DEFAULT_PIPELOCK_IMAGE);
        assert_eq!(s.subnet_pool, Cidr::parse(DEFAULT_POOL).unwrap());
        assert_eq!(s.agent_image, AgentImageSource::default());
        assert!(
            s.require_token()
                .unwrap_err()
                .to_string()
                .contains("claude setup-token")
        );
        assert_eq!(
            (s.escape_key, s.agent_command, s.docker_host),
            (None, None, None)
        );
        assert!(!s.colours.truecolor);
    }

    #[test]
    fn values_are_trimmed_and_blank_ones_are_unset() {
        let s = settings(&[
            (TOKEN_VAR, "  sk-ant-oat01-x \n"),
            (PIPELOCK_IMAGE_VAR, " "),
            (AGENT_COMMAND_VAR, "sh -l"),
            ("COLORTERM", "truecolor"),
            (DOCKER_HOST_VAR, "unix:///run/docker.sock"),
        ])
        .unwrap();
        assert_eq!(s.require_token().unwrap(), "sk-ant-oat01-x");
        assert_eq!(s.pipelock_image, DEFAULT_PIPELOCK_IMAGE);
        assert_eq!(s.agent_command, Some(vec!["sh".into(), "-l".into()]));
        assert!(s.colours.truecolor);
        assert!(
            !format!("{s:?}").contains("sk-ant"),
            "the token never shows"
        );
    }

    #[test]
    fn bad_values_are_refused_with_the_fix() {
        let pool = settings(&[(SUBNET_POOL_VAR, "10.0.0.0/30")]).unwrap_err();
        assert!(pool.to_string().contains("e.g. 10.213.0.0/16"), "{pool}");
        assert!(settings(&[(SUBNET_POOL_VAR, "ten")]).is_err());
        for host in ["/var/run/docker.sock", "ssh://me@box"] {
            let error = settings(&[(DOCKER_HOST_VAR, host)]).unwrap_err();
            assert!(
                error.to_string().contains("unix:///path/to/docker.sock"),
                "{error}"
            );
        }
        let packages = settings(&[("CLAUDE_BOTTLE_INSTALL_PACKAGES", "maybe")]).unwrap_err();
        assert!(
            packages
                .to_string()
                .contains("CLAUDE_BOTTLE_INSTALL_PACKAGES"),
            "{packages}"
        );
    }
}
