//! Every setting the process takes from its environment, read once at
//! start-up (`main`), a bad value refused there with the fix. No other module
//! reads a `CLAUDE_BOTTLE_*` variable or `DOCKER_HOST`; they are handed the
//! values they need. (`${HOST_VAR}` values in a manifest are the manifest's
//! business: `manifest::resolve` reads those.)

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use crate::docker::engine::{EngineAddress, TLS_FILES};
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
/// The docker CLI context to use, when `DOCKER_HOST` is not set.
pub const DOCKER_CONTEXT_VAR: &str = "DOCKER_CONTEXT";

/// How the engine was chosen, as the docker CLI would choose it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineVia {
    /// Nothing chose one: the local socket.
    LocalSocket,
    /// `DOCKER_HOST`.
    DockerHost,
    /// A docker context: its name, and who named it.
    Context { name: String, from: String },
}

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
    /// The engine's address (`DOCKER_HOST`, or the docker context's; none:
    /// the local socket) and its TLS files.
    pub engine: EngineAddress,
    /// How that address was chosen.
    pub engine_via: EngineVia,
    /// The docker CLI's config folder (`DOCKER_CONFIG`, else `~/.docker`),
    /// where the contexts bottles name are read.
    pub docker_config: Option<PathBuf>,
}

/// An engine bottles run on: the one claude-bottle reaches by default, or
/// the one of a docker context a bottle names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineChoice {
    /// The context a bottle named; `None`: the default engine.
    pub context: Option<String>,
    pub address: EngineAddress,
}

impl EngineChoice {
    /// How people see it: the context's name, or `default`.
    pub fn label(&self) -> &str {
        engine_label(self.context.as_deref())
    }
}

/// The name an engine goes by: the context a bottle names, or `default`.
pub fn engine_label(context: Option<&str>) -> &str {
    context.unwrap_or(DEFAULT_ENGINE)
}

/// What the engine of bottles that name no context is called.
pub const DEFAULT_ENGINE: &str = "default";

impl std::fmt::Debug for Settings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Settings")
            .field("token", &self.token.as_ref().map(|_| "(set)"))
            .field("pipelock_image", &self.pipelock_image)
            .field("agent_image", &self.agent_image)
            .field("subnet_pool", &self.subnet_pool)
            .field("engine", &self.engine)
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
        "{DOCKER_HOST_VAR}={host:?} is not an engine address claude-bottle can reach ({why}); \
         use unix:///path/to/docker.sock, tcp://host:port (with DOCKER_TLS_VERIFY=1 for TLS) or \
         ssh://[user@]host[:port], or unset it for the local socket"
    )]
    DockerHost { host: String, why: String },
    #[error(
        "{what} reaches its engine over TLS, but {} lacks {}: the engine's CA as ca.pem and this \
         client's certificate and key as cert.pem and key.pem (set DOCKER_CERT_PATH to the folder \
         that holds them)",
        dir.display(),
        missing.join(", ")
    )]
    TlsFiles {
        what: String,
        dir: PathBuf,
        missing: Vec<&'static str>,
    },
    #[error(
        "DOCKER_TLS is set without DOCKER_TLS_VERIFY: the engine's certificate would not be \
         checked, which claude-bottle does not do; set DOCKER_TLS_VERIFY=1 and DOCKER_CERT_PATH \
         to a folder with ca.pem, cert.pem and key.pem"
    )]
    TlsUnverified,
    #[error(
        "{what} reaches the engine at {host} over TCP without TLS: the OAuth token and the \
         agent's values go to the engine through its API and would cross the network unencrypted, \
         which claude-bottle does not do; use TLS (DOCKER_TLS_VERIFY=1 with DOCKER_CERT_PATH, or a \
         context with certificates) or ssh://user@host"
    )]
    Cleartext { what: String, host: String },
    #[error(transparent)]
    Context(#[from] crate::docker_context::ContextError),
    #[error(
        "docker context {name:?} points at {host:?}, an engine address claude-bottle cannot \
         reach ({why}; unix://, tcp:// with TLS or without, and ssh://[user@]host[:port] are \
         supported); `docker context use default` or DOCKER_HOST picks another"
    )]
    ContextHost {
        name: String,
        host: String,
        why: String,
    },
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
        let docker_config = crate::docker_context::config_dir(
            text("DOCKER_CONFIG").as_deref(),
            text("HOME").as_deref(),
        );
        let (engine, engine_via) = choose_engine(&text, docker_config.as_deref())?;
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
            engine,
            engine_via,
            docker_config,
        })
    }

    /// The engine claude-bottle reaches when a bottle names no context.
    pub fn default_engine(&self) -> EngineChoice {
        EngineChoice {
            context: None,
            address: self.engine.clone(),
        }
    }

    /// The engine of a bottle that names `context` (`None`, or the context
    /// `default`: the default engine).
    pub fn engine_for(&self, context: Option<&str>) -> Result<EngineChoice, SettingsError> {
        let Some(name) = context.filter(|name| *name != DEFAULT_ENGINE) else {
            return Ok(self.default_engine());
        };
        let dir = (self.docker_config.clone()).unwrap_or_else(|| PathBuf::from("~/.docker"));
        let address = context_engine(&dir, name, "named by a bottle in the manifest")?
            .unwrap_or_else(|| self.engine.clone());
        Ok(EngineChoice {
            context: Some(name.to_owned()),
            address,
        })
    }

    /// The default engine and those of `contexts`, each engine once (a
    /// context at the default's address is the default), and why the
    /// contexts that cannot be used cannot.
    pub fn engines_for<'a>(
        &self,
        contexts: impl IntoIterator<Item = &'a str>,
    ) -> (Vec<EngineChoice>, Vec<SettingsError>) {
        let mut engines = vec![self.default_engine()];
        let mut problems = Vec::new();
        for name in contexts {
            match self.engine_for(Some(name)) {
                Ok(choice) if engines.iter().all(|e| e.address != choice.address) => {
                    engines.push(choice);
                }
                Ok(_) => {}
                Err(e) => problems.push(e),
            }
        }
        (engines, problems)
    }

    /// How the engine is reached, for `doctor` and messages.
    pub fn engine_description(&self) -> String {
        let host = self.engine.host.as_deref().unwrap_or("");
        let tls = match &self.engine.tls {
            Some(dir) => format!(" over TLS (certificates in {})", dir.display()),
            None if host.starts_with("ssh://") => {
                " over ssh (`docker system dial-stdio` there)".to_owned()
            }
            None => String::new(),
        };
        match &self.engine_via {
            EngineVia::LocalSocket => "the local socket /var/run/docker.sock".to_owned(),
            EngineVia::DockerHost => format!("DOCKER_HOST={host}{tls}"),
            EngineVia::Context { name, from } => {
                format!("docker context {name} ({from}) at {host}{tls}")
            }
        }
    }

    /// The token, or an error that says how to make one.
    pub fn require_token(&self) -> Result<&str, MissingToken> {
        self.token.as_deref().ok_or(MissingToken)
    }
}

/// A TCP engine off this machine without TLS: the token and the agent's
/// values, which go to the engine through its API, would cross the network
/// as they are. Loopback never leaves the machine.
fn refuse_cleartext(what: &str, host: &str, tls: bool) -> Result<(), SettingsError> {
    let Some(rest) = ["tcp://", "http://"]
        .iter()
        .find_map(|s| host.strip_prefix(s))
    else {
        return Ok(());
    };
    let authority = rest.split('/').next().unwrap_or_default();
    let name = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority
            .rsplit_once(':')
            .map_or(authority, |(name, _)| name),
    };
    let loopback = name == "localhost"
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if tls || loopback {
        Ok(())
    } else {
        Err(SettingsError::Cleartext {
            what: what.to_owned(),
            host: host.to_owned(),
        })
    }
}

/// Addresses claude-bottle reaches an engine at.
const REACHABLE: [&str; 4] = ["unix://", "tcp://", "http://", "ssh://"];

/// Why claude-bottle cannot reach the engine at `host`, if it cannot.
fn unreachable_because(host: &str) -> Option<String> {
    if !REACHABLE.iter().any(|scheme| host.starts_with(scheme)) {
        return Some("an unknown scheme".to_owned());
    }
    if host.starts_with("ssh://") {
        return crate::docker::ssh_relay::SshTarget::parse(host).err();
    }
    None
}

/// The engine as the docker CLI chooses it: `DOCKER_HOST` (over TLS with
/// `DOCKER_TLS_VERIFY`, the files in `DOCKER_CERT_PATH` or the CLI's config
/// folder), else the context `DOCKER_CONTEXT` names, else the CLI config's
/// current context, else the local socket.
/// `config`: the docker CLI's config folder.
fn choose_engine(
    text: &impl Fn(&str) -> Option<String>,
    config: Option<&Path>,
) -> Result<(EngineAddress, EngineVia), SettingsError> {
    if let Some(address) = docker_host_engine(text, config)? {
        return Ok((address, EngineVia::DockerHost));
    }
    let Some(dir) = config else {
        return Ok((EngineAddress::default(), EngineVia::LocalSocket));
    };
    let (name, from) = match text(DOCKER_CONTEXT_VAR) {
        Some(name) => (name, DOCKER_CONTEXT_VAR.to_owned()),
        None => match crate::docker_context::current_context(dir)? {
            Some(name) => (name, "the docker CLI's current context".to_owned()),
            None => return Ok((EngineAddress::default(), EngineVia::LocalSocket)),
        },
    };
    match context_engine(dir, &name, &from)? {
        Some(address) => Ok((address, EngineVia::Context { name, from })),
        None => Ok((EngineAddress::default(), EngineVia::LocalSocket)),
    }
}

/// The engine `DOCKER_HOST` names (with its TLS files, found in
/// `DOCKER_CERT_PATH` or the CLI's `config` folder), if it is set.
fn docker_host_engine(
    text: &impl Fn(&str) -> Option<String>,
    config: Option<&Path>,
) -> Result<Option<EngineAddress>, SettingsError> {
    if let Some(host) = text(DOCKER_HOST_VAR) {
        if let Some(why) = unreachable_because(&host) {
            return Err(SettingsError::DockerHost { host, why });
        }
        let tls = if !host.starts_with("tcp://") {
            None
        } else if text("DOCKER_TLS_VERIFY").is_some() {
            let dir = text("DOCKER_CERT_PATH")
                .map(PathBuf::from)
                .or_else(|| config.map(Path::to_path_buf))
                .unwrap_or_default();
            Some(tls_files(format!("{DOCKER_HOST_VAR}={host}"), dir)?)
        } else if text("DOCKER_TLS").is_some() {
            return Err(SettingsError::TlsUnverified);
        } else {
            None
        };
        refuse_cleartext(DOCKER_HOST_VAR, &host, tls.is_some())?;
        return Ok(Some(EngineAddress {
            host: Some(host),
            tls,
        }));
    }
    Ok(None)
}

/// The engine of the docker context `name` in the config folder `dir`
/// (`from` named it); `None`: the context is `default`.
fn context_engine(
    dir: &Path,
    name: &str,
    from: &str,
) -> Result<Option<EngineAddress>, SettingsError> {
    let Some(endpoint) = crate::docker_context::endpoint(dir, name, from)? else {
        return Ok(None);
    };
    let name = name.to_owned();
    let host = endpoint.host;
    if let Some(why) = unreachable_because(&host) {
        return Err(SettingsError::ContextHost { name, host, why });
    }
    let tls = match endpoint.tls {
        Some(tls) => Some(tls_files(format!("docker context {name:?}"), tls)?),
        None => None,
    };
    refuse_cleartext(&format!("docker context {name:?}"), &host, tls.is_some())?;
    Ok(Some(EngineAddress {
        host: Some(host),
        tls,
    }))
}

/// `dir`, when it holds every TLS file (`what` reaches its engine through
/// them).
fn tls_files(what: String, dir: PathBuf) -> Result<PathBuf, SettingsError> {
    let missing: Vec<&'static str> = TLS_FILES
        .into_iter()
        .filter(|file| !dir.join(file).is_file())
        .collect();
    if missing.is_empty() {
        Ok(dir)
    } else {
        Err(SettingsError::TlsFiles { what, dir, missing })
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

    /// Docker contexts `name` at `host` in the CLI config folder `dir`.
    fn write_contexts(dir: &Path, contexts: &[(&str, &str)]) {
        use sha2::Digest as _;
        for (name, host) in contexts {
            let id = format!("{:x}", sha2::Sha256::digest(name.as_bytes()));
            let meta = dir.join("contexts/meta").join(id);
            std::fs::create_dir_all(&meta).unwrap();
            let json =
                format!(r#"{{"Name":"{name}","Endpoints":{{"docker":{{"Host":"{host}"}}}}}}"#);
            std::fs::write(meta.join("meta.json"), json).unwrap();
        }
    }

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
            (s.escape_key, s.agent_command, s.engine.host),
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
        for host in [
            "/var/run/docker.sock",
            "ssh://me:pw@box",
            "ssh://-oProxyCommand=x",
        ] {
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

    #[test]
    fn the_engine_is_chosen_as_the_docker_cli_chooses_it() {
        let dir = tempfile::tempdir().unwrap();
        let config = dir.path().display().to_string();
        write_contexts(
            dir.path(),
            &[
                ("box", "tcp://127.0.0.1:2375"),
                ("open", "tcp://10.1.2.3:2375"),
                ("far", "ssh://me@far:2200"),
                ("odd", "ssh://far/path"),
            ],
        );
        let via = |vars: &[(&str, &str)]| {
            let s = settings(vars).unwrap();
            (s.engine.host.clone(), s.engine_description())
        };
        // No config: the local socket.
        assert_eq!(via(&[("DOCKER_CONFIG", &config)]).0, None);
        // DOCKER_CONTEXT names one.
        let (host, said) = via(&[("DOCKER_CONFIG", &config), (DOCKER_CONTEXT_VAR, "box")]);
        assert_eq!(host.as_deref(), Some("tcp://127.0.0.1:2375"));
        assert_eq!(
            said,
            "docker context box (DOCKER_CONTEXT) at tcp://127.0.0.1:2375"
        );
        // The CLI's current context, unless DOCKER_CONTEXT or DOCKER_HOST says otherwise.
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"currentContext":"box"}"#,
        )
        .unwrap();
        let (_, said) = via(&[("DOCKER_CONFIG", &config)]);
        assert!(said.contains("the docker CLI's current context"), "{said}");
        let (host, _) = via(&[("DOCKER_CONFIG", &config), (DOCKER_CONTEXT_VAR, "default")]);
        assert_eq!(host, None);
        let (host, said) = via(&[
            ("DOCKER_CONFIG", &config),
            (DOCKER_HOST_VAR, "unix:///run/other.sock"),
        ]);
        assert_eq!(host.as_deref(), Some("unix:///run/other.sock"));
        assert_eq!(said, "DOCKER_HOST=unix:///run/other.sock");
        // ssh, as the CLI reaches it.
        let (host, said) = via(&[("DOCKER_CONFIG", &config), (DOCKER_CONTEXT_VAR, "far")]);
        assert_eq!(host.as_deref(), Some("ssh://me@far:2200"));
        assert_eq!(
            said,
            "docker context far (DOCKER_CONTEXT) at ssh://me@far:2200 over ssh \
             (`docker system dial-stdio` there)"
        );
        // What cannot be reached, or does not exist, is refused with the fix.
        let odd = settings(&[("DOCKER_CONFIG", &config), (DOCKER_CONTEXT_VAR, "odd")]).unwrap_err();
        assert!(odd.to_string().contains("no path"), "{odd}");
        let open =
            settings(&[("DOCKER_CONFIG", &config), (DOCKER_CONTEXT_VAR, "open")]).unwrap_err();
        assert!(open.to_string().contains("without TLS"), "{open}");
        let gone =
            settings(&[("DOCKER_CONFIG", &config), (DOCKER_CONTEXT_VAR, "gone")]).unwrap_err();
        assert!(gone.to_string().contains("docker context ls"), "{gone}");
    }

    #[test]
    fn tcp_with_tls_verify_uses_the_certificate_folder_and_says_what_is_missing() {
        let certs = tempfile::tempdir().unwrap();
        let path = certs.path().display().to_string();
        let tcp = [
            (DOCKER_HOST_VAR, "tcp://10.1.2.3:2376"),
            ("DOCKER_TLS_VERIFY", "1"),
            ("DOCKER_CERT_PATH", path.as_str()),
        ];
        let missing = settings(&tcp).unwrap_err().to_string();
        assert!(
            missing.contains("lacks key.pem, cert.pem, ca.pem") && missing.contains(&path),
            "{missing}"
        );
        for file in TLS_FILES {
            std::fs::write(certs.path().join(file), "pem").unwrap();
        }
        let s = settings(&tcp).unwrap();
        assert_eq!(s.engine.tls.as_deref(), Some(certs.path()));
        assert_eq!(
            s.engine_description(),
            format!("DOCKER_HOST=tcp://10.1.2.3:2376 over TLS (certificates in {path})")
        );
        // Without DOCKER_CERT_PATH: the docker CLI's config folder.
        let s = settings(&[tcp[0], tcp[1], ("DOCKER_CONFIG", path.as_str())]).unwrap();
        assert_eq!(s.engine.tls.as_deref(), Some(certs.path()));
        // Plain tcp only on loopback (the token would cross the network as
        // it is), and a unix socket whatever DOCKER_TLS_VERIFY says.
        let open = settings(&[tcp[0]]).unwrap_err().to_string();
        assert!(
            open.contains("without TLS") && open.contains("ssh://"),
            "{open}"
        );
        for local in [
            "tcp://127.0.0.1:2375",
            "tcp://localhost:2375",
            "tcp://[::1]:2375",
        ] {
            let s = settings(&[(DOCKER_HOST_VAR, local)]).unwrap();
            assert_eq!(s.engine.tls, None, "{local}");
        }
        let unix = settings(&[(DOCKER_HOST_VAR, "unix:///run/d.sock"), tcp[1]]).unwrap();
        assert_eq!(unix.engine.tls, None);
        // TLS that checks nothing is refused.
        let lax = settings(&[tcp[0], ("DOCKER_TLS", "1")]).unwrap_err();
        assert!(lax.to_string().contains("DOCKER_TLS_VERIFY=1"), "{lax}");
    }

    #[test]
    fn a_bottle_s_context_picks_its_engine_and_each_engine_is_looked_at_once() {
        let dir = tempfile::tempdir().unwrap();
        write_contexts(
            dir.path(),
            &[
                ("big-box", "ssh://ops@big-box"),
                ("same-as-default", "unix:///run/first.sock"),
            ],
        );
        let config = dir.path().display().to_string();
        let s = settings(&[
            ("DOCKER_CONFIG", &config),
            (DOCKER_HOST_VAR, "unix:///run/first.sock"),
        ])
        .unwrap();
        assert_eq!(s.engine_for(None).unwrap(), s.default_engine());
        let far = s.engine_for(Some("big-box")).unwrap();
        assert_eq!(far.label(), "big-box");
        assert_eq!(far.address.host.as_deref(), Some("ssh://ops@big-box"));
        // `default` is the default engine (here DOCKER_HOST's).
        let default = s.engine_for(Some("default")).unwrap();
        assert_eq!(default, s.default_engine());
        let missing = s.engine_for(Some("gone")).unwrap_err().to_string();
        assert!(missing.contains("docker context ls"), "{missing}");
        let (engines, problems) = s.engines_for(["big-box", "same-as-default", "big-box", "gone"]);
        let labels: Vec<&str> = engines.iter().map(EngineChoice::label).collect();
        assert_eq!(labels, ["default", "big-box"], "each engine once");
        assert_eq!(problems.len(), 1);
    }
}
