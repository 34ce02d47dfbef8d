//! Connecting to the Docker engine and asking what it is.

use bollard::Docker;

use super::ssh_relay::{SshRelay, SshTarget};

/// What went wrong talking to the engine, with the fix where there is one.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error(
        "cannot reach the Docker engine ({detail}). Start it (e.g. `sudo systemctl start docker` \
         or `dockerd`), or point DOCKER_HOST at a running engine"
    )]
    Unreachable { detail: String },
    #[error(
        "cannot reach the Docker engine at {address} over ssh: {detail}. Check that \
         `{try_command}` works without asking anything (claude-bottle runs ssh with \
         BatchMode=yes: the key in ssh-agent or named in ~/.ssh/config, the host in \
         known_hosts) and that the docker CLI is installed there"
    )]
    Ssh {
        address: String,
        try_command: String,
        detail: String,
    },
    #[error("{0} is not an ssh address claude-bottle can use: {1}")]
    SshAddress(String, String),
    #[error("the Docker engine answered with an error: {0}")]
    Api(#[from] bollard::errors::Error),
    #[error("preparing files for a container: {0}")]
    Pack(#[from] std::io::Error),
    #[error("{what} is larger than {limit} bytes")]
    TooLarge { what: String, limit: u64 },
}

/// Where the engine is and how it is reached (chosen by `settings` as the
/// docker CLI chooses).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EngineAddress {
    /// `unix://...`, `tcp://...` or `ssh://...`; `None`: the local socket.
    pub host: Option<String>,
    /// Over TLS, verified both ways: the folder holding `ca.pem` (the CA
    /// the engine's certificate must chain to), `cert.pem` and `key.pem`
    /// (this client's), as `DOCKER_CERT_PATH` and TLS contexts hold them.
    pub tls: Option<std::path::PathBuf>,
}

/// The files of a TLS folder, in the order bollard takes them.
pub const TLS_FILES: [&str; 3] = ["key.pem", "cert.pem", "ca.pem"];

/// The engine's socket when `DOCKER_HOST` is not set.
const DEFAULT_SOCKET: &str = "unix:///var/run/docker.sock";
/// bollard's own default: an image build through the API can take this long.
const REQUEST_TIMEOUT_SECONDS: u64 = 120;

/// A connected engine, with the API version both sides agreed on.
#[derive(Debug, Clone)]
pub struct Engine {
    pub docker: Docker,
    /// For an `ssh://` engine: the relay bollard's connections go through,
    /// stopped when the last clone of this engine is dropped.
    _relay: Option<std::sync::Arc<SshRelay>>,
}

/// What the engine says about itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineInfo {
    pub version: String,
    pub api_version: String,
    /// Names of the OCI runtimes registered with the engine (`runc`, `runsc`, ...).
    pub runtimes: Vec<String>,
}

impl Engine {
    /// Connects to the engine at `address` (see `settings`) and negotiates the API
    /// version, so that an older engine (API 1.41) is spoken to in its own version.
    pub async fn connect(address: &EngineAddress) -> Result<Self, EngineError> {
        let unreachable = |e: bollard::errors::Error| EngineError::Unreachable {
            detail: e.to_string(),
        };
        if let Some(host) = address.host.as_deref().filter(|h| h.starts_with("ssh://")) {
            return Self::connect_over_ssh(host).await;
        }
        let docker = match (&address.host, &address.tls) {
            (Some(host), Some(dir)) => {
                let [key, cert, ca] = TLS_FILES.map(|file| dir.join(file));
                Docker::connect_with_ssl(
                    host,
                    &key,
                    &cert,
                    &ca,
                    REQUEST_TIMEOUT_SECONDS,
                    bollard::API_DEFAULT_VERSION,
                )
            }
            (Some(host), None) => Docker::connect_with_host(host),
            (None, _) => Docker::connect_with_unix(
                DEFAULT_SOCKET,
                REQUEST_TIMEOUT_SECONDS,
                bollard::API_DEFAULT_VERSION,
            ),
        }
        .map_err(unreachable)?;
        let docker = docker.negotiate_version().await.map_err(unreachable)?;
        Ok(Self {
            docker,
            _relay: None,
        })
    }

    /// Connects through an [`SshRelay`]; a failure says what ssh said.
    async fn connect_over_ssh(address: &str) -> Result<Self, EngineError> {
        let target = SshTarget::parse(address)
            .map_err(|why| EngineError::SshAddress(address.to_owned(), why))?;
        let failed = |detail: String| EngineError::Ssh {
            address: address.to_owned(),
            try_command: target.try_command(),
            detail,
        };
        let relay = SshRelay::start(target.clone())
            .await
            .map_err(|e| failed(format!("cannot make its local socket: {e}")))?;
        let socket = format!("unix://{}", relay.socket().display());
        let docker = Docker::connect_with_unix(
            &socket,
            REQUEST_TIMEOUT_SECONDS,
            bollard::API_DEFAULT_VERSION,
        )
        .map_err(|e| failed(e.to_string()))?;
        match docker.negotiate_version().await {
            Ok(docker) => Ok(Self {
                docker,
                _relay: Some(std::sync::Arc::new(relay)),
            }),
            Err(e) => {
                let detail = relay.last_failure().unwrap_or_else(|| e.to_string());
                Err(failed(detail.trim_end_matches('.').to_owned()))
            }
        }
    }

    /// Waits until the engine stops answering, and says how it went. Follows
    /// the engine's event stream for this process's own bottles: a stream
    /// that sits idle costs nothing, and it breaks the moment the engine (or
    /// the connection to it) goes away.
    pub async fn wait_until_lost(&self) -> String {
        use futures_util::StreamExt as _;
        let filters = std::collections::HashMap::from([(
            "label".to_owned(),
            vec![format!(
                "{}={}",
                super::labels::OWNER_PID,
                std::process::id()
            )],
        )]);
        let mut events = self
            .docker
            .events(Some(bollard::query_parameters::EventsOptions {
                filters: Some(filters),
                ..Default::default()
            }));
        loop {
            match events.next().await {
                Some(Ok(_)) => {}
                Some(Err(e)) => return e.to_string(),
                None => return "the connection closed".to_owned(),
            }
        }
    }

    /// Version, API version and registered runtimes.
    pub async fn info(&self) -> Result<EngineInfo, EngineError> {
        let version = self.docker.version().await?;
        let info = self.docker.info().await?;
        let mut runtimes: Vec<String> = info.runtimes.unwrap_or_default().into_keys().collect();
        runtimes.sort();
        Ok(EngineInfo {
            version: version.version.unwrap_or_default(),
            api_version: version.api_version.unwrap_or_default(),
            runtimes,
        })
    }
}

/// Treats "no such object" (404) and "removal already in progress" (409, a
/// concurrent teardown) as done.
pub fn ignore_gone(result: Result<(), bollard::errors::Error>) -> Result<(), EngineError> {
    match result {
        Err(bollard::errors::Error::DockerResponseServerError {
            status_code: 404 | 409,
            ..
        }) => Ok(()),
        other => Ok(other?),
    }
}

/// Compares dotted versions numerically (`20.10.24` < `25.0.5`); missing or
/// non-numeric parts count as zero.
pub fn version_at_least(version: &str, minimum: &str) -> bool {
    let parse = |v: &str| -> Vec<u64> {
        v.split(['.', '-', '+'])
            .take(3)
            .map(|p| p.parse().unwrap_or(0))
            .collect()
    };
    let (mut a, mut b) = (parse(version), parse(minimum));
    a.resize(3, 0);
    b.resize(3, 0);
    a >= b
}

/// How to register a runtime with the engine.
pub fn runtime_fix(runtime: &str) -> String {
    if runtime == "runsc" {
        "install gVisor (Debian: apt-get install runsc), then `runsc install` (adds it to \
         /etc/docker/daemon.json) and restart dockerd; or start dockerd with \
         --add-runtime runsc=/usr/bin/runsc"
            .to_owned()
    } else {
        format!(
            "register {runtime} in /etc/docker/daemon.json under \"runtimes\" and restart dockerd"
        )
    }
}

#[cfg(test)]
mod tests {
    use super::version_at_least;

    #[test]
    fn versions_compare_numerically() {
        assert!(!version_at_least("20.10.24", "25.0.5"));
        assert!(version_at_least("25.0.5", "25.0.5"));
        assert!(version_at_least("26.1.0", "25.0.5"));
        assert!(!version_at_least("25.0.4", "25.0.5"));
        assert!(version_at_least("28.2.2", "25.0.5"));
        assert!(!version_at_least("", "25.0.5"));
    }
}
