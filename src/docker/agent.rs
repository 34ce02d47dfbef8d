//! The agent container: on the bottle's internal network only, non-root, no
//! capabilities, and nothing from the host but the files the manifest grants.

use std::net::Ipv4Addr;

use bollard::models::{ContainerCreateBody, HostConfig};

use super::container::{self, endpoint_at, hardened_host_config};
use super::engine::{Engine, EngineError};
use super::files::FileGrant;
use crate::manifest::{Resources, Runtime};

/// The image's unprivileged user (see assets/agent.Dockerfile).
pub const AGENT_UID: u64 = 1000;
pub const AGENT_USER: &str = "1000:1000";
pub const AGENT_HOME: &str = "/home/agent";
pub const AGENT_WORKDIR: &str = "/home/agent/work";

/// Where the bottle's inspection CA certificate is put in the agent.
pub const AGENT_CA_FILE: &str = "/etc/claude-bottle/inspection-ca.pem";
/// The system trust store of the agent image (Debian's bundle); the bottle's
/// CA is appended to it.
pub const SYSTEM_CA_BUNDLE: &str = "/etc/ssl/certs/ca-certificates.crt";
/// A trust store larger than this is not the agent image's.
const MAX_BUNDLE_BYTES: u64 = 4 * 1024 * 1024;

/// Limits applied when the manifest sets none.
pub const DEFAULT_MEMORY_BYTES: u64 = 4 * 1024 * 1024 * 1024;
pub const DEFAULT_PIDS: i64 = 1024;

/// Where and how the agent container runs.
#[derive(Debug, Clone)]
pub struct AgentPlacement<'a> {
    pub name: &'a str,
    pub hostname: &'a str,
    pub image: &'a str,
    pub runtime: Runtime,
    pub internal_network: &'a str,
    pub ip: Ipv4Addr,
    pub proxy_ip: Ipv4Addr,
    pub proxy_port: u16,
    pub resources: Resources,
    pub labels: std::collections::HashMap<String, String>,
}

/// The environment stored in the container's config: only the proxy settings,
/// which are no secret. Manifest env and the OAuth token are given to each
/// exec instead, so `docker inspect` never shows them.
pub fn container_env(proxy_ip: Ipv4Addr, proxy_port: u16) -> Vec<String> {
    let proxy = format!("http://{proxy_ip}:{proxy_port}");
    let mut env: Vec<String> = ["HTTPS_PROXY", "HTTP_PROXY", "https_proxy", "http_proxy"]
        .iter()
        .map(|name| format!("{name}={proxy}"))
        .collect();
    env.extend(
        [
            "NO_PROXY=localhost,127.0.0.1",
            "no_proxy=localhost,127.0.0.1",
            // Updates cannot be fetched through the allowlist; do not try.
            "DISABLE_AUTOUPDATER=1",
            "HOME=/home/agent",
        ]
        .map(str::to_owned),
    );
    env
}

/// The variables that make the agent's tools trust the bottle's CA: Node
/// (claude, npm) adds its own file to what it trusts; curl, git, Python's
/// requests and pip (which carry their own lists otherwise) and OpenSSL read
/// the system bundle with the CA in it. Not secret: the certificate only.
pub fn trust_env() -> Vec<String> {
    let mut env = vec![format!("NODE_EXTRA_CA_CERTS={AGENT_CA_FILE}")];
    env.extend(
        [
            "SSL_CERT_FILE",
            "CURL_CA_BUNDLE",
            "GIT_SSL_CAINFO",
            "REQUESTS_CA_BUNDLE",
            "PIP_CERT",
        ]
        .map(|name| format!("{name}={SYSTEM_CA_BUNDLE}")),
    );
    env
}

/// Grants that put `ca_cert` in the agent's trust: its own file, and the
/// image's system bundle (read from the created container) with it appended.
/// Root owns both, so the agent cannot take the CA out of the system store;
/// a tool that ignores it only fails to reach inspected hosts.
async fn trust_grants(
    engine: &Engine,
    container: &str,
    ca_cert: &str,
) -> Result<Vec<FileGrant>, EngineError> {
    let mut bundle = container::read_file(engine, container, SYSTEM_CA_BUNDLE, MAX_BUNDLE_BYTES)
        .await?
        .unwrap_or_default();
    if !bundle.is_empty() && !bundle.ends_with(b"\n") {
        bundle.push(b'\n');
    }
    bundle.extend_from_slice(ca_cert.as_bytes());
    let dir = AGENT_CA_FILE.rsplit_once('/').map_or("/etc", |(d, _)| d);
    Ok(vec![
        FileGrant::dir(dir, 0o755, (0, 0)),
        FileGrant::file(AGENT_CA_FILE, 0o644, (0, 0), ca_cert.as_bytes().to_vec()),
        FileGrant::file(SYSTEM_CA_BUNDLE, 0o644, (0, 0), bundle),
    ])
}

/// Creates the agent container and copies the granted files in; the caller
/// starts it once its sidecar is healthy. With `ca_cert` (the bottle inspects
/// TLS) the agent trusts that CA. Returns the container id.
pub async fn create(
    engine: &Engine,
    placement: AgentPlacement<'_>,
    grants: &[FileGrant],
    ca_cert: Option<&str>,
) -> Result<String, EngineError> {
    let limits = placement.resources;
    let memory = limits.memory_bytes.unwrap_or(DEFAULT_MEMORY_BYTES);
    let body = ContainerCreateBody {
        image: Some(placement.image.to_owned()),
        hostname: Some(placement.hostname.to_owned()),
        user: Some(AGENT_USER.into()),
        working_dir: Some(AGENT_WORKDIR.into()),
        env: Some({
            let mut env = container_env(placement.proxy_ip, placement.proxy_port);
            if ca_cert.is_some() {
                env.extend(trust_env());
            }
            env
        }),
        // claude runs through exec; the container itself only has to stay up.
        cmd: Some(vec!["sleep".into(), "infinity".into()]),
        entrypoint: Some(vec![]),
        labels: Some(placement.labels.clone()),
        networking_config: Some(endpoint_at(placement.internal_network, placement.ip)),
        host_config: Some(HostConfig {
            runtime: Some(placement.runtime.engine_name().into()),
            // Forwarded lookups go to the sidecar's address, where no resolver
            // listens: the agent resolves no names on any engine version, so
            // DNS cannot carry data out (CVE-2024-29018 needs a host-side
            // resolver).
            dns: Some(vec![placement.proxy_ip.to_string()]),
            memory: Some(i64::try_from(memory).unwrap_or(i64::MAX)),
            memory_swap: Some(i64::try_from(memory).unwrap_or(i64::MAX)),
            pids_limit: Some(limits.pids.unwrap_or(DEFAULT_PIDS)),
            nano_cpus: limits.cpus.map(cpus_to_nano),
            ..hardened_host_config(placement.internal_network)
        }),
        ..Default::default()
    };
    let id = container::create(engine, placement.name, body).await?;
    container::copy_in(engine, &id, grants).await?;
    if let Some(cert) = ca_cert {
        container::copy_in(engine, &id, &trust_grants(engine, &id, cert).await?).await?;
    }
    Ok(id)
}

#[allow(clippy::cast_possible_truncation)] // cpus is validated as a small positive number
fn cpus_to_nano(cpus: f64) -> i64 {
    (cpus * 1e9).round() as i64
}
