//! One bottle, start to finish: check the runtime, make the two networks,
//! start the sidecar and wait for it, start the agent with its grants; and
//! tear it all down again.

use std::net::Ipv4Addr;

use super::agent::{self, AgentPlacement};
use super::container;
use super::engine::{Engine, EngineError};
use super::grants::{self, GrantError};
use super::holder::{self, HolderError};
use super::labels::{Role, SessionLabels, WorkspaceOrigin, new_session_id};
use super::network::{self, NetworkError};
use super::reaper;
use super::sidecar::{self, SidecarError, SidecarPlacement, SidecarSecrets};
use super::subnet::Cidr;
use crate::egress::ca::{self, CaError};
use crate::egress::config::{
    Inspection, PIPELOCK_PORT, PrivateDestinations, SidecarSettings, TunnelLimits,
};
use crate::manifest::{DEFAULT_ALLOWLIST, ResolvedAgent};
use crate::workspace::Located;

/// The images a bottle is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaunchSettings {
    pub agent_image: String,
    pub sidecar_image: String,
    /// The block the bottle's two networks are carved from.
    pub subnet_pool: Cidr,
    /// The bottle outlives the process that launches it (the dashboard's
    /// do; `start` and `run` remove theirs).
    pub kept: bool,
}

/// Where a launch has got to, for progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaunchStep {
    CheckingRuntime,
    CreatingNetworks,
    StartingSidecar,
    CopyingWorkspace,
    StartingAgent,
    Ready,
}

impl LaunchStep {
    pub fn describe(self) -> &'static str {
        match self {
            LaunchStep::CheckingRuntime => "checking the runtime",
            LaunchStep::CreatingNetworks => "creating the bottle's networks",
            LaunchStep::StartingSidecar => "starting the egress sidecar",
            LaunchStep::CopyingWorkspace => {
                "starting the egress sidecar and copying the workspace in"
            }
            LaunchStep::StartingAgent => "starting the agent",
            LaunchStep::Ready => "ready",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum LaunchError {
    #[error(
        "bottle {bottle:?} uses runtime {runtime:?}, which is not registered with the Docker \
         engine (it has: {available}). {fix}"
    )]
    RuntimeMissing {
        bottle: String,
        runtime: String,
        available: String,
        fix: String,
    },
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(transparent)]
    Network(#[from] NetworkError),
    #[error(transparent)]
    Sidecar(#[from] SidecarError),
    #[error(transparent)]
    Grant(#[from] GrantError),
    #[error(transparent)]
    Ca(#[from] CaError),
    #[error(transparent)]
    Holder(#[from] HolderError),
    #[error(transparent)]
    Workspace(#[from] super::workspace::CollectError),
}

/// The names of a bottle's resources, readable in `docker ps`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BottleNames {
    pub internal_network: String,
    pub egress_network: String,
    pub sidecar: String,
    pub agent: String,
}

impl BottleNames {
    pub fn new(agent: &str, session: &str) -> Self {
        let base = format!("cb-{agent}-{session}");
        Self {
            internal_network: format!("{base}-int"),
            egress_network: format!("{base}-egress"),
            sidecar: format!("{base}-sidecar"),
            agent: format!("{base}-agent"),
        }
    }
}

/// A running bottle.
#[derive(Debug, Clone)]
pub struct Bottle {
    pub session: String,
    pub agent: String,
    pub names: BottleNames,
    pub agent_container: String,
    pub sidecar_container: String,
    /// The sidecar's address on the internal network: the agent's proxy.
    pub proxy_ip: Ipv4Addr,
    pub agent_ip: Ipv4Addr,
    /// What the sidecar enforces now (the allowlist can grow at run time).
    pub sidecar_settings: SidecarSettings,
    /// The repository its workspace came from, if it has one.
    pub workspace: Option<WorkspaceOrigin>,
}

impl Bottle {
    /// `ip:port` of the agent's proxy.
    pub fn proxy_addr(&self) -> String {
        format!("{}:{PIPELOCK_PORT}", self.proxy_ip)
    }

    /// Removes the agent, the sidecar and both networks. Idempotent.
    pub async fn teardown(&self, engine: &Engine) -> Result<(), EngineError> {
        reaper::remove_session(engine, &self.session).await
    }
}

/// Launches a bottle for a resolved agent. `watched` are the values granted
/// to the agent that its sidecar refuses to let out (see
/// [`ResolvedAgent::granted_values`]). On any failure, whatever was already
/// created is removed before the error is returned.
pub async fn launch(
    engine: &Engine,
    resolved: &ResolvedAgent,
    watched: &[String],
    settings: &LaunchSettings,
    on_step: &mut (dyn FnMut(LaunchStep) + Send),
) -> Result<Bottle, LaunchError> {
    launch_with_workspace(engine, resolved, watched, settings, None, on_step).await
}

/// [`launch`], with the repository `workspace` copied in as the agent's
/// working folder (on the branch `bottle/<agent>/<session>`).
pub async fn launch_with_workspace(
    engine: &Engine,
    resolved: &ResolvedAgent,
    watched: &[String],
    settings: &LaunchSettings,
    workspace: Option<&Located>,
    on_step: &mut (dyn FnMut(LaunchStep) + Send),
) -> Result<Bottle, LaunchError> {
    on_step(LaunchStep::CheckingRuntime);
    check_runtime(engine, resolved).await?;
    let session = new_session_id();
    let result = launch_session(
        engine, resolved, watched, settings, workspace, &session, on_step,
    )
    .await;
    if result.is_err() {
        // Best effort: the launch error is the one worth reporting; `gc`
        // catches anything this misses.
        let _ = reaper::remove_session(engine, &session).await;
    }
    result
}

async fn check_runtime(engine: &Engine, resolved: &ResolvedAgent) -> Result<(), LaunchError> {
    let runtime = resolved.bottle.runtime.engine_name();
    let info = engine.info().await?;
    if info.runtimes.iter().any(|r| r == runtime) {
        return Ok(());
    }
    Err(LaunchError::RuntimeMissing {
        bottle: resolved.bottle.name.clone(),
        runtime: runtime.to_owned(),
        available: info.runtimes.join(", "),
        fix: super::engine::runtime_fix(runtime),
    })
}

/// What the bottle's sidecar enforces. With inspection on, the bottle's own
/// CA is made at launch (the key to the sidecar only, the certificate to the
/// agent's trust store).
fn sidecar_settings(
    resolved: &ResolvedAgent,
    names: &BottleNames,
    watches_secrets: bool,
) -> SidecarSettings {
    let inspection = if resolved.bottle.inspect {
        let extra = resolved.bottle.passthrough_hosts();
        let defaults = DEFAULT_ALLOWLIST.iter().map(|(host, _)| *host);
        Inspection::on(defaults, &extra)
    } else {
        Inspection::Off
    };
    SidecarSettings {
        identity: names.agent.clone(),
        allowlist: resolved.allowlist.iter().map(|e| e.host.clone()).collect(),
        private: PrivateDestinations::from_manifest(&resolved.bottle.private_hosts),
        inspection,
        watches_secrets,
        tunnels: TunnelLimits::default(),
    }
}

/// A kept bottle of `session` found again (a dashboard that opens, `attach`):
/// its containers started again if the engine or the machine restarted
/// (sidecar first, healthy, then the agent, each with its files as they
/// were). What its sidecar enforces is taken as the manifest says now.
/// `watches_secrets`: the agent was granted values its sidecar watches for.
pub async fn reattach(
    engine: &Engine,
    resolved: &ResolvedAgent,
    session: &str,
    watches_secrets: bool,
) -> Result<Bottle, LaunchError> {
    let agent_name = &resolved.agent.name;
    let names = BottleNames::new(agent_name, session);
    let internal = network::subnet_of(engine, &names.internal_network).await?;
    if !sidecar::is_running(engine, &names.sidecar).await? {
        sidecar::restart(engine, &names.sidecar).await?;
    }
    let inspected = engine
        .docker
        .inspect_container(&names.agent, None)
        .await
        .map_err(EngineError::from)?;
    let workspace = inspected
        .config
        .and_then(|c| c.labels)
        .and_then(|labels| WorkspaceOrigin::from_labels(&labels));
    let agent_running = inspected.state.and_then(|s| s.running).unwrap_or(false);
    if !agent_running {
        engine
            .docker
            .start_container(&names.agent, None)
            .await
            .map_err(EngineError::from)?;
    }
    Ok(Bottle {
        session: session.to_owned(),
        agent: agent_name.clone(),
        agent_container: names.agent.clone(),
        sidecar_container: names.sidecar.clone(),
        proxy_ip: internal.host(2),
        agent_ip: internal.host(3),
        sidecar_settings: sidecar_settings(resolved, &names, watches_secrets),
        names,
        workspace,
    })
}

/// The bottle's internal and egress networks, made side by side.
async fn create_networks(
    engine: &Engine,
    settings: &LaunchSettings,
    names: &BottleNames,
    labels: &SessionLabels,
) -> Result<(network::BottleNetwork, network::BottleNetwork), NetworkError> {
    tokio::try_join!(
        network::create(
            engine,
            settings.subnet_pool,
            &names.internal_network,
            true,
            labels.for_role(Role::InternalNet),
        ),
        network::create(
            engine,
            settings.subnet_pool,
            &names.egress_network,
            false,
            labels.for_role(Role::EgressNet),
        ),
    )
}

async fn launch_session(
    engine: &Engine,
    resolved: &ResolvedAgent,
    watched: &[String],
    settings: &LaunchSettings,
    workspace: Option<&Located>,
    session: &str,
    on_step: &mut (dyn FnMut(LaunchStep) + Send),
) -> Result<Bottle, LaunchError> {
    let agent_name = &resolved.agent.name;
    let names = BottleNames::new(agent_name, session);
    let labels = SessionLabels {
        kept: settings.kept,
        workspace: workspace.map(|w| WorkspaceOrigin {
            repo: w.repo.clone(),
            base: w.base.clone(),
        }),
        ..SessionLabels::new(&resolved.bottle.name, agent_name, session)
    };

    on_step(LaunchStep::CreatingNetworks);
    let (internal, egress) = create_networks(engine, settings, &names, &labels).await?;
    // Fixed addresses: .1 is the gateway, the sidecar is .2 on both networks
    // and the agent .3, so the proxy address is known before anything starts.
    let proxy_ip = internal.subnet.host(2);
    let agent_ip = internal.subnet.host(3);

    on_step(if workspace.is_some() {
        LaunchStep::CopyingWorkspace
    } else {
        LaunchStep::StartingSidecar
    });
    let sidecar_settings = sidecar_settings(resolved, &names, !watched.is_empty());
    let ca = if resolved.bottle.inspect {
        Some(ca::generate(&names.agent)?)
    } else {
        None
    };
    let proxy = format!("{proxy_ip}:{PIPELOCK_PORT}");
    let grants = grants::agent_files(resolved, &proxy)?;
    let holder_archive = holder::archive()?;
    // The agent container is made while the sidecar comes up; it starts
    // only once the sidecar is healthy.
    let (sidecar_container, agent_container) = tokio::try_join!(
        async {
            sidecar::start(
                engine,
                SidecarPlacement {
                    name: &names.sidecar,
                    image: &settings.sidecar_image,
                    egress_network: &names.egress_network,
                    egress_ip: egress.subnet.host(2),
                    internal_network: &names.internal_network,
                    internal_ip: proxy_ip,
                    uid: sidecar::sidecar_uid(session),
                    labels: labels.for_role(Role::Sidecar),
                },
                &sidecar_settings,
                SidecarSecrets {
                    ca: ca.as_ref(),
                    watched,
                },
            )
            .await
            .map_err(LaunchError::from)
        },
        async {
            let id = agent::create(
                engine,
                AgentPlacement {
                    name: &names.agent,
                    hostname: agent_name,
                    image: &settings.agent_image,
                    runtime: resolved.bottle.runtime,
                    internal_network: &names.internal_network,
                    ip: agent_ip,
                    proxy_ip,
                    proxy_port: PIPELOCK_PORT,
                    resources: resolved.bottle.resources,
                    labels: labels.for_role(Role::Agent),
                },
                &grants,
                ca.as_ref().map(|ca| ca.cert_pem.as_str()),
            )
            .await?;
            // The copy goes in while the sidecar comes up.
            if let Some(located) = workspace {
                let branch = crate::workspace::branch_name(agent_name, session);
                super::workspace::copy_in(engine, &id, located, agent_name, &branch).await?;
            }
            Ok::<_, LaunchError>(id)
        },
    )?;

    on_step(LaunchStep::StartingAgent);
    container::copy_archive_in(engine, &agent_container, holder_archive).await?;
    engine
        .docker
        .start_container(&agent_container, None)
        .await
        .map_err(EngineError::from)?;

    on_step(LaunchStep::Ready);
    Ok(Bottle {
        session: session.to_owned(),
        agent: agent_name.clone(),
        names,
        agent_container,
        sidecar_container,
        proxy_ip,
        agent_ip,
        sidecar_settings,
        workspace: labels.workspace,
    })
}
