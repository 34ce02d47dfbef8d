//! Bottle networks: one `--internal` network (no route off the machine) and one
//! egress network for the sidecar, each on its own small subnet.

use std::collections::HashMap;

use bollard::models::{Ipam, IpamConfig, NetworkCreateRequest};
use bollard::query_parameters::ListNetworksOptions;
use std::sync::{Mutex, PoisonError};

use super::engine::{Engine, EngineError};
use super::subnet::{BOTTLE_PREFIX, Cidr, free_from};

/// Subnets this process chose and is creating networks on: launches in one
/// process skip them, so they never pick the same free block yet create
/// their networks at the same time. Other processes are handled by retrying.
static RESERVED: Mutex<Vec<Cidr>> = Mutex::new(Vec::new());

/// A subnet held in [`RESERVED`] until the network create has returned.
struct Reservation(Cidr);

impl Reservation {
    /// A block of `pool` that is neither `used` nor reserved: the first free
    /// one from a random place, so that launches in other processes, which
    /// cannot see this process's reservations, seldom pick the same block.
    fn pick(pool: Cidr, used: &[Cidr]) -> Option<Self> {
        let mut reserved = RESERVED.lock().unwrap_or_else(PoisonError::into_inner);
        let taken: Vec<Cidr> = used.iter().chain(reserved.iter()).copied().collect();
        let subnet = free_from(pool, BOTTLE_PREFIX, &taken, crate::random::u64())?;
        reserved.push(subnet);
        Some(Self(subnet))
    }
}

impl Drop for Reservation {
    fn drop(&mut self) {
        let mut reserved = RESERVED.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(at) = reserved.iter().position(|s| *s == self.0) {
            reserved.swap_remove(at);
        }
    }
}

/// How often a create is retried when another process took the subnet first.
const OVERLAP_RETRIES: usize = 16;

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error(transparent)]
    Engine(#[from] EngineError),
    #[error(
        "no free /{BOTTLE_PREFIX} subnet left in {pool}; remove unused networks \
         (`claude-bottle gc`) or set CLAUDE_BOTTLE_SUBNET_POOL to a larger free range"
    )]
    PoolExhausted { pool: String },
    #[error(
        "network {0} has no IPv4 subnet; the bottle cannot be found again (`claude-bottle stop` removes it)"
    )]
    NoSubnet(String),
}

impl From<bollard::errors::Error> for NetworkError {
    fn from(e: bollard::errors::Error) -> Self {
        Self::Engine(EngineError::Api(e))
    }
}

/// A network the bottle created.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BottleNetwork {
    pub id: String,
    pub name: String,
    pub subnet: Cidr,
}

/// Creates a labelled bridge network on a free subnet of `pool`.
/// `internal` networks have no gateway to the outside world.
pub async fn create(
    engine: &Engine,
    pool: Cidr,
    name: &str,
    internal: bool,
    labels: HashMap<String, String>,
) -> Result<BottleNetwork, NetworkError> {
    let mut last_error = None;
    // Blocks the engine refused as overlapping: taken by another process, or
    // still held by a network being removed though no longer listed. Skipped
    // on the next try, so that racing launches spread out instead of all
    // retrying the same block.
    let mut refused = Vec::new();
    for _ in 0..OVERLAP_RETRIES {
        let mut used = used_subnets(engine).await?;
        used.extend_from_slice(&refused);
        // Held until the create returns: by then the network is listed.
        let reservation =
            Reservation::pick(pool, &used).ok_or_else(|| NetworkError::PoolExhausted {
                pool: pool.to_string(),
            })?;
        let subnet = reservation.0;
        let request = NetworkCreateRequest {
            name: name.to_owned(),
            driver: Some("bridge".into()),
            internal: Some(internal),
            ipam: Some(Ipam {
                driver: Some("default".into()),
                config: Some(vec![IpamConfig {
                    subnet: Some(subnet.to_string()),
                    gateway: Some(subnet.gateway().to_string()),
                    ..Default::default()
                }]),
                options: None,
            }),
            labels: Some(labels.clone()),
            options: internal.then(|| {
                // No address on the host side of the bridge: an agent cannot
                // reach services listening on the host through the gateway.
                HashMap::from([(
                    "com.docker.network.bridge.inhibit_ipv4".to_owned(),
                    "true".to_owned(),
                )])
            }),
            ..Default::default()
        };
        match engine.docker.create_network(request).await {
            Ok(created) => {
                return Ok(BottleNetwork {
                    id: created.id,
                    name: name.to_owned(),
                    subnet,
                });
            }
            // Another process took this block between our look and our create.
            Err(e) if e.to_string().contains("overlap") => {
                refused.push(subnet);
                last_error = Some(e);
                // Racing processes would otherwise look again in lockstep.
                tokio::time::sleep(retry_pause()).await;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(last_error.map_or_else(
        || NetworkError::PoolExhausted {
            pool: pool.to_string(),
        },
        NetworkError::from,
    ))
}

/// 10 to 80 ms, different in each process and on each call.
fn retry_pause() -> std::time::Duration {
    std::time::Duration::from_millis(10 + crate::random::u64() % 70)
}

/// Removes a network by id (names can be ambiguous on API 1.41, which lets two
/// networks share one). A network that is already gone counts as removed.
pub async fn remove(engine: &Engine, id: &str) -> Result<(), NetworkError> {
    Ok(super::engine::ignore_gone(
        engine.docker.remove_network(id).await,
    )?)
}

/// Ids of the networks whose name is exactly `name` (the engine's name filter
/// matches substrings).
pub async fn find_by_name(engine: &Engine, name: &str) -> Result<Vec<String>, NetworkError> {
    let options = ListNetworksOptions {
        filters: Some(HashMap::from([("name".into(), vec![name.to_owned()])])),
    };
    let networks = engine.docker.list_networks(Some(options)).await?;
    Ok(networks
        .into_iter()
        .filter(|n| n.name.as_deref() == Some(name))
        .filter_map(|n| n.id)
        .collect())
}

/// The IPv4 subnet of the network named `name`.
pub async fn subnet_of(engine: &Engine, name: &str) -> Result<Cidr, NetworkError> {
    let network = engine
        .docker
        .inspect_network(
            name,
            None::<bollard::query_parameters::InspectNetworkOptions>,
        )
        .await?;
    network
        .ipam
        .and_then(|ipam| ipam.config)
        .into_iter()
        .flatten()
        .find_map(|c| Cidr::parse(c.subnet.as_deref()?))
        .ok_or_else(|| NetworkError::NoSubnet(name.to_owned()))
}

/// Every IPv4 subnet any network on the engine uses.
async fn used_subnets(engine: &Engine) -> Result<Vec<Cidr>, NetworkError> {
    let networks = engine.docker.list_networks(None).await?;
    Ok(networks
        .iter()
        .filter_map(|n| n.ipam.as_ref()?.config.as_ref())
        .flatten()
        .filter_map(|c| Cidr::parse(c.subnet.as_deref()?))
        .collect())
}
