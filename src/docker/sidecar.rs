//! The egress sidecar: pipelock between the bottle's internal network and its
//! egress network, with a generated config copied in through the engine.

use std::net::Ipv4Addr;
use std::time::{Duration, Instant};

use bollard::models::{ContainerCreateBody, HostConfig, NetworkConnectRequest};

use super::container::{self, endpoint_at, fixed_ip_endpoint, hardened_host_config};
use super::engine::{Engine, EngineError};
use super::files::FileGrant;
use crate::egress::ca::BottleCa;
use crate::egress::config::{
    CA_CERT_FILE, CA_KEY_FILE, CONFIG_FILE, PIPELOCK_PORT, SECRETS_FILE, SidecarSettings,
    pipelock_config, sidecar_command,
};
use crate::egress::reload::{ReloadVerdict, config_hash, reload_verdict};

/// Sidecars run as unprivileged uids from this range, one per bottle (see
/// [`sidecar_uid`]).
const SIDECAR_UID_BASE: u32 = 200_000;
const SIDECAR_UID_SPAN: u32 = 100_000;
/// How long a reload may take to show its outcome in the sidecar's output
/// (pipelock waits 100 ms for the file to settle, then loads it).
const RELOAD_TIMEOUT: Duration = Duration::from_secs(5);
/// How long pipelock may take to answer `/health` after it starts.
const HEALTH_TIMEOUT: Duration = Duration::from_secs(30);
/// Health polls start this far apart and double up to [`HEALTH_POLL_MAX`]:
/// a sidecar is usually up within a few polls, and each poll is an exec the
/// engine runs, so with many bottles starting at once they must not be too
/// frequent either.
pub const HEALTH_POLL_FIRST: Duration = Duration::from_millis(20);
pub const HEALTH_POLL_MAX: Duration = Duration::from_millis(200);

#[derive(Debug, thiserror::Error)]
pub enum SidecarError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(
        "the egress sidecar ({image}) did not answer /health within {}s; its last output:\n{log_tail}",
        HEALTH_TIMEOUT.as_secs()
    )]
    Unhealthy { image: String, log_tail: String },
    #[error("the sidecar refused the new config and keeps the old one: {0}")]
    ReloadRejected(String),
    #[error("the sidecar could not load the new config and keeps the old one: {0}")]
    ReloadFailed(String),
    #[error(
        "the sidecar did not report loading the new config within {}s; it may not be watching \
         its config directory (its log says why)",
        RELOAD_TIMEOUT.as_secs()
    )]
    ReloadUnconfirmed,
}

/// The uid a bottle's sidecar runs as: one of a range of unprivileged uids,
/// picked by the bottle's session. Pipelock watches its config with inotify,
/// and the kernel limits inotify instances per uid (128 by default): sidecars
/// sharing one uid (as `nobody`) would run out with many bottles, and a
/// pipelock whose watcher failed to start never reloads.
pub fn sidecar_uid(session: &str) -> u32 {
    // FNV-1a: stable across runs and versions, unlike std's hasher.
    let hash = session.bytes().fold(0x811c_9dc5_u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    });
    SIDECAR_UID_BASE + hash % SIDECAR_UID_SPAN
}

impl From<bollard::errors::Error> for SidecarError {
    fn from(e: bollard::errors::Error) -> Self {
        Self::Engine(EngineError::Api(e))
    }
}

/// Where the sidecar sits.
#[derive(Debug, Clone)]
pub struct SidecarPlacement<'a> {
    pub name: &'a str,
    pub image: &'a str,
    pub egress_network: &'a str,
    pub egress_ip: Ipv4Addr,
    pub internal_network: &'a str,
    pub internal_ip: Ipv4Addr,
    /// The uid pipelock runs as ([`sidecar_uid`]).
    pub uid: u32,
    pub labels: std::collections::HashMap<String, String>,
}

/// The bottle's inspection CA as grants: the certificate world-readable, the
/// key readable by the sidecar's uid only (pipelock refuses nothing less
/// private, and no other process of the container needs it).
pub fn ca_grants(ca: &BottleCa, uid: u32) -> Vec<FileGrant> {
    vec![
        FileGrant::file(
            CA_CERT_FILE,
            0o644,
            (0, 0),
            ca.cert_pem.clone().into_bytes(),
        ),
        FileGrant::file(
            CA_KEY_FILE,
            0o400,
            (u64::from(uid), u64::from(uid)),
            ca.key_pem.clone().into_bytes(),
        ),
    ]
}

/// The values the sidecar's DLP watches for, as a grant readable by the
/// sidecar's uid only (pipelock refuses a file others may read). One a
/// line, as pipelock reads it: a value with line breaks is watched line by
/// line. Pipelock skips lines shorter than 16 characters.
pub fn secrets_grant(values: &[String], uid: u32) -> FileGrant {
    let mut text = String::new();
    for line in values.iter().flat_map(|v| v.lines()) {
        let line = line.trim();
        if !line.is_empty() && !line.starts_with('#') {
            text.push_str(line);
            text.push('\n');
        }
    }
    FileGrant::file(
        SECRETS_FILE,
        0o400,
        (u64::from(uid), u64::from(uid)),
        text.into_bytes(),
    )
}

/// The config file as a grant: `/config` is pipelock's watched directory.
pub fn config_grant(settings: &SidecarSettings) -> Vec<FileGrant> {
    let owner = (0, 0);
    let dir = CONFIG_FILE.rsplit_once('/').map_or("config", |(d, _)| d);
    vec![
        FileGrant::dir(dir, 0o755, owner),
        FileGrant::file(
            CONFIG_FILE,
            0o644,
            owner,
            pipelock_config(settings).into_bytes(),
        ),
    ]
}

/// What a sidecar holds besides its config: never in its stored config,
/// never on an argv; files in its own file system, gone with it.
#[derive(Debug, Clone, Copy, Default)]
pub struct SidecarSecrets<'a> {
    /// The bottle's inspection CA, when the settings turn inspection on.
    pub ca: Option<&'a BottleCa>,
    /// Values granted to the agent, watched for by DLP (when the settings
    /// say it watches secrets).
    pub watched: &'a [String],
}

/// Creates, configures and starts the sidecar, then waits until it is healthy.
/// Returns the container id.
pub async fn start(
    engine: &Engine,
    placement: SidecarPlacement<'_>,
    settings: &SidecarSettings,
    secrets: SidecarSecrets<'_>,
) -> Result<String, SidecarError> {
    let body = ContainerCreateBody {
        image: Some(placement.image.to_owned()),
        cmd: Some(sidecar_command()),
        user: Some(format!("{uid}:{uid}", uid = placement.uid)),
        labels: Some(placement.labels.clone()),
        networking_config: Some(endpoint_at(placement.egress_network, placement.egress_ip)),
        host_config: Some(HostConfig {
            pids_limit: Some(256),
            // Room for a few scanned bodies of MAX_SCANNED_BYTES at once.
            memory: Some(1024 * 1024 * 1024),
            // Trusted code on a networked runtime: gVisor is for the agent.
            runtime: Some("runc".into()),
            ..hardened_host_config(placement.egress_network)
        }),
        ..Default::default()
    };
    let id = container::create(engine, placement.name, body).await?;
    // API 1.41 attaches one network at creation; the second is connected here.
    engine
        .docker
        .connect_network(
            placement.internal_network,
            NetworkConnectRequest {
                container: id.clone(),
                endpoint_config: Some(fixed_ip_endpoint(placement.internal_ip)),
            },
        )
        .await?;
    let mut files = config_grant(settings);
    files.extend(
        secrets
            .ca
            .map(|ca| ca_grants(ca, placement.uid))
            .unwrap_or_default(),
    );
    if settings.watches_secrets {
        files.push(secrets_grant(secrets.watched, placement.uid));
    }
    container::copy_in(engine, &id, &files).await?;
    engine.docker.start_container(&id, None).await?;
    wait_healthy(engine, &id, placement.image).await?;
    Ok(id)
}

/// Starts a sidecar that stopped (killed, crashed) again: the same
/// container, so the same config file and the same fixed addresses on both
/// networks; then waits until it is healthy. Starting one that runs is a no-op.
pub async fn restart(engine: &Engine, container: &str) -> Result<(), SidecarError> {
    engine.docker.start_container(container, None).await?;
    let image = engine
        .docker
        .inspect_container(container, None)
        .await?
        .config
        .and_then(|c| c.image)
        .unwrap_or_default();
    wait_healthy(engine, container, &image).await
}

/// Whether the container is running now.
pub async fn is_running(engine: &Engine, container: &str) -> Result<bool, SidecarError> {
    Ok(engine
        .docker
        .inspect_container(container, None)
        .await?
        .state
        .and_then(|s| s.running)
        .unwrap_or(false))
}

/// Rewrites the config in place and waits for pipelock to report the outcome.
///
/// No SIGHUP: pipelock only handles it once its file watcher has started, and
/// otherwise the signal ends it. The watcher sees the archive extraction
/// replace the file, and the outcome is read from the sidecar's own output.
pub async fn reload(
    engine: &Engine,
    container: &str,
    settings: &SidecarSettings,
) -> Result<(), SidecarError> {
    let hash = config_hash(&pipelock_config(settings));
    // The engine's `since` is in whole seconds: lines from the start of this
    // second are read too, and one about another file's hash is ignored.
    let since = i32::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs()),
    )
    .unwrap_or(i32::MAX);
    container::copy_in(engine, container, &config_grant(settings)).await?;
    let mut verdict = None;
    let watch = super::logs::follow_since(engine, container, since, |line| {
        verdict = reload_verdict(&line, &hash);
        verdict.is_none()
    });
    // A timeout leaves `verdict` empty: unconfirmed.
    if let Ok(Err(e)) = tokio::time::timeout(RELOAD_TIMEOUT, watch).await {
        return Err(e.into());
    }
    match verdict {
        Some(ReloadVerdict::Applied) => Ok(()),
        Some(ReloadVerdict::Rejected(why)) => Err(SidecarError::ReloadRejected(why)),
        Some(ReloadVerdict::Failed(why)) => Err(SidecarError::ReloadFailed(why)),
        None => Err(SidecarError::ReloadUnconfirmed),
    }
}

/// Polls pipelock's own health check (`GET /health` from inside the sidecar),
/// which works the same on a remote engine.
async fn wait_healthy(engine: &Engine, id: &str, image: &str) -> Result<(), SidecarError> {
    let deadline = Instant::now() + HEALTH_TIMEOUT;
    let addr = format!("127.0.0.1:{PIPELOCK_PORT}");
    let mut pause = HEALTH_POLL_FIRST;
    loop {
        let probe = container::exec_collect(
            engine,
            id,
            None,
            &["/pipelock", "healthcheck", "--addr", &addr],
            vec![],
        )
        .await;
        if matches!(probe, Ok(ref out) if out.exit_code == 0) {
            return Ok(());
        }
        if !is_running(engine, id).await? || Instant::now() >= deadline {
            return Err(SidecarError::Unhealthy {
                image: image.to_owned(),
                log_tail: log_tail(engine, id).await,
            });
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(HEALTH_POLL_MAX);
    }
}

/// The sidecar's last log lines, for error messages.
pub async fn log_tail(engine: &Engine, id: &str) -> String {
    use futures_util::StreamExt as _;
    let options = bollard::query_parameters::LogsOptions {
        stdout: true,
        stderr: true,
        tail: "20".into(),
        ..Default::default()
    };
    let mut out = String::new();
    let mut stream = engine.docker.logs(id, Some(options));
    while let Some(Ok(chunk)) = stream.next().await {
        out.push_str(&String::from_utf8_lossy(&chunk.into_bytes()));
    }
    out
}

/// A running sidecar found by its labels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunningSidecar {
    /// The container's name.
    pub container: String,
    pub session: String,
    /// Seconds since the Unix epoch.
    pub created: i64,
}

/// The running sidecars of `agent`'s bottles (every owner), newest first.
pub async fn running_for_agent(
    engine: &Engine,
    agent: &str,
) -> Result<Vec<RunningSidecar>, EngineError> {
    use super::labels;
    let filters = std::collections::HashMap::from([
        (
            "label".to_owned(),
            vec![
                format!("{}={agent}", labels::AGENT),
                format!("{}={}", labels::ROLE, labels::Role::Sidecar.as_str()),
            ],
        ),
        ("status".to_owned(), vec!["running".to_owned()]),
    ]);
    let found = engine
        .docker
        .list_containers(Some(bollard::query_parameters::ListContainersOptions {
            all: false,
            filters: Some(filters),
            ..Default::default()
        }))
        .await?;
    let mut sidecars: Vec<RunningSidecar> = found
        .into_iter()
        .filter_map(|c| {
            let name = c.names?.into_iter().next()?;
            Some(RunningSidecar {
                container: name.trim_start_matches('/').to_owned(),
                session: c
                    .labels
                    .and_then(|l| l.get(labels::SESSION).cloned())
                    .unwrap_or_default(),
                created: c.created.unwrap_or(0),
            })
        })
        .collect();
    sidecars.sort_by_key(|s| std::cmp::Reverse(s.created));
    Ok(sidecars)
}
