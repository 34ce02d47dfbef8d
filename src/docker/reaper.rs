//! Finding and removing what bottles leave on the engine.
//!
//! Teardown and `gc` share one mechanism: everything a bottle creates carries
//! its session label, so removing a session means removing whatever carries
//! that label, containers first (they hold the networks), then networks. Going
//! by label rather than by remembered ids makes it idempotent and crash-proof.

use std::collections::{BTreeMap, HashMap};

use bollard::query_parameters::{ListContainersOptions, RemoveContainerOptions};

use super::engine::{Engine, EngineError};
use super::labels::{self, Owner};

/// One session's resources on the engine.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SessionResources {
    pub session: String,
    pub agent: String,
    pub bottle: String,
    /// `None` when the owner labels are missing or unreadable.
    pub owner: Option<Owner>,
    /// (id, name)
    pub containers: Vec<(String, String)>,
    /// (id, name)
    pub networks: Vec<(String, String)>,
    /// Meant to outlive its owner (the dashboard's bottles): never garbage
    /// while it exists; removed by name, or by `gc --kept`.
    pub kept: bool,
    /// Unix seconds at creation (0 when unknown).
    pub created_unix: u64,
    /// The agent container's name and state (`running`, `exited`, …).
    pub agent_container: Option<(String, String)>,
    /// The sidecar container's name and state.
    pub sidecar_container: Option<(String, String)>,
    /// The repository its workspace came from, if it has one.
    pub workspace: Option<labels::WorkspaceOrigin>,
}

impl SessionResources {
    /// Left behind: its owner is gone (or unknown), so nobody will tear it
    /// down, and it was not meant to outlive its owner.
    pub fn is_orphaned(&self) -> bool {
        !self.kept && !self.owner_is_alive()
    }

    /// Kept on the engine by a dashboard that is gone: waiting for the user
    /// to come back to it (`attach`, a dashboard, or `stop`).
    pub fn is_kept_alone(&self) -> bool {
        self.kept && !self.owner_is_alive()
    }

    pub fn owner_is_alive(&self) -> bool {
        self.owner.as_ref().is_some_and(Owner::is_alive)
    }

    pub fn is_empty(&self) -> bool {
        self.containers.is_empty() && self.networks.is_empty()
    }
}

/// Every claude-bottle session on the engine, by session id.
pub async fn list_sessions(engine: &Engine) -> Result<Vec<SessionResources>, EngineError> {
    list_sessions_matching(engine, &format!("{}=true", labels::MANAGED)).await
}

/// Sessions whose owning process is gone and that were not kept.
pub async fn orphaned_sessions(engine: &Engine) -> Result<Vec<SessionResources>, EngineError> {
    Ok(list_sessions(engine)
        .await?
        .into_iter()
        .filter(SessionResources::is_orphaned)
        .collect())
}

/// Removes every container and network labelled with this session. Safe to
/// call any number of times; what is already gone is skipped.
pub async fn remove_session(engine: &Engine, session: &str) -> Result<(), EngineError> {
    let filter = format!("{}={session}", labels::SESSION);
    let Some(found) = list_sessions_matching(engine, &filter).await?.pop() else {
        return Ok(());
    };
    let force = RemoveContainerOptions {
        force: true,
        v: true,
        link: false,
    };
    for (id, _) in &found.containers {
        let removed = engine
            .docker
            .remove_container(id, Some(force.clone()))
            .await;
        super::engine::ignore_gone(removed)?;
    }
    for (id, _) in &found.networks {
        super::engine::ignore_gone(engine.docker.remove_network(id).await)?;
    }
    Ok(())
}

async fn list_sessions_matching(
    engine: &Engine,
    label_filter: &str,
) -> Result<Vec<SessionResources>, EngineError> {
    let filters = HashMap::from([("label".to_owned(), vec![label_filter.to_owned()])]);
    let containers = engine
        .docker
        .list_containers(Some(ListContainersOptions {
            all: true,
            filters: Some(filters.clone()),
            ..Default::default()
        }))
        .await?;
    let networks = engine
        .docker
        .list_networks(Some(bollard::query_parameters::ListNetworksOptions {
            filters: Some(filters),
        }))
        .await?;

    let mut sessions: BTreeMap<String, SessionResources> = BTreeMap::new();
    for c in containers {
        let labels = c.labels.unwrap_or_default();
        let name = c
            .names
            .and_then(|n| n.into_iter().next())
            .map(|n| n.trim_start_matches('/').to_owned())
            .unwrap_or_default();
        let state = c.state.map(|s| s.to_string()).unwrap_or_default();
        let role = labels.get(labels::ROLE).cloned().unwrap_or_default();
        if let (Some(s), Some(id)) = (session_entry(&mut sessions, &labels), c.id) {
            if role == labels::Role::Agent.as_str() {
                s.agent_container = Some((name.clone(), state));
            } else if role == labels::Role::Sidecar.as_str() {
                s.sidecar_container = Some((name.clone(), state));
            }
            s.containers.push((id, name));
        }
    }
    for n in networks {
        let labels = n.labels.unwrap_or_default();
        if let (Some(s), Some(id)) = (session_entry(&mut sessions, &labels), n.id) {
            s.networks.push((id, n.name.unwrap_or_default()));
        }
    }
    Ok(sessions.into_values().collect())
}

/// The session a resource's labels name, created on first sight.
fn session_entry<'a>(
    sessions: &'a mut BTreeMap<String, SessionResources>,
    labels: &HashMap<String, String>,
) -> Option<&'a mut SessionResources> {
    let session = labels.get(labels::SESSION)?.clone();
    Some(sessions.entry(session.clone()).or_insert_with(|| {
        SessionResources {
            session,
            agent: labels.get(labels::AGENT).cloned().unwrap_or_default(),
            bottle: labels.get(labels::BOTTLE).cloned().unwrap_or_default(),
            owner: Owner::from_labels(labels),
            kept: labels.get(labels::KEPT).is_some_and(|v| v == "true"),
            workspace: labels::WorkspaceOrigin::from_labels(labels),
            created_unix: labels
                .get(labels::CREATED)
                .and_then(|v| v.parse().ok())
                .unwrap_or(0),
            ..SessionResources::default()
        }
    }))
}
