//! What the manifest grants an agent, as files for its container: ssh config,
//! `known_hosts` and identities, and skills. Read from the host at launch and
//! copied in; the host's own `~/.ssh` is never mounted.

use super::agent::AGENT_UID;
use super::files::{FileGrant, tree_grants};
use crate::manifest::{ResolvedAgent, ssh};

const OWNER: (u64, u64) = (AGENT_UID, AGENT_UID);

#[derive(Debug, thiserror::Error)]
pub enum GrantError {
    #[error("reading {what} {path}: {source}")]
    Read {
        what: &'static str,
        path: String,
        source: std::io::Error,
    },
}

/// The files for one agent. `proxy` is the sidecar's `ip:port`, which ssh's
/// `ProxyCommand` tunnels through.
pub fn agent_files(resolved: &ResolvedAgent, proxy: &str) -> Result<Vec<FileGrant>, GrantError> {
    let mut grants = Vec::new();
    let hosts = &resolved.bottle.ssh;
    if !hosts.is_empty() {
        grants.push(FileGrant::dir("home/agent/.ssh", 0o700, OWNER));
        grants.push(FileGrant::file(
            "home/agent/.ssh/config",
            0o600,
            OWNER,
            ssh::ssh_config(hosts, proxy).into_bytes(),
        ));
        grants.push(FileGrant::file(
            "home/agent/.ssh/known_hosts",
            0o644,
            OWNER,
            ssh::known_hosts(hosts).into_bytes(),
        ));
        for host in hosts {
            let key = std::fs::read(&host.identity_file).map_err(|source| GrantError::Read {
                what: "ssh identity",
                path: host.identity_file.display().to_string(),
                source,
            })?;
            grants.push(FileGrant::file(
                format!("home/agent/.ssh/{}", ssh::identity_file_name(host)),
                0o600,
                OWNER,
                key,
            ));
        }
    }
    if !resolved.skills.is_empty() {
        grants.push(FileGrant::dir("home/agent/.claude", 0o755, OWNER));
        grants.push(FileGrant::dir("home/agent/.claude/skills", 0o755, OWNER));
        for skill in &resolved.skills {
            let dest = format!("home/agent/.claude/skills/{}", skill.name);
            grants.extend(tree_grants(&skill.dir, &dest, OWNER).map_err(|source| {
                GrantError::Read {
                    what: "skill",
                    path: skill.dir.display().to_string(),
                    source,
                }
            })?);
        }
    }
    Ok(grants)
}
