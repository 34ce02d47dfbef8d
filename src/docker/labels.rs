//! Labels on every container and network claude-bottle creates, and the owning
//! process they name, so that what a crash left behind can be found and removed.

use std::collections::HashMap;
use std::fmt::Write as _;

/// Present (`true`) on everything claude-bottle creates.
pub const MANAGED: &str = "claude-bottle.managed";
pub const BOTTLE: &str = "claude-bottle.bottle";
pub const AGENT: &str = "claude-bottle.agent";
pub const SESSION: &str = "claude-bottle.session";
/// `agent`, `sidecar`, `internal-net` or `egress-net`.
pub const ROLE: &str = "claude-bottle.role";
pub const OWNER_PID: &str = "claude-bottle.owner-pid";
/// The owner's start time in clock ticks since boot: a reused pid does not match it.
pub const OWNER_START: &str = "claude-bottle.owner-start";
pub const OWNER_HOST: &str = "claude-bottle.owner-host";
/// Seconds since the Unix epoch.
pub const CREATED: &str = "claude-bottle.created";
/// `true` on a session meant to outlive the process that launched it (the
/// dashboard's): its owner's end does not make it garbage. Decided at
/// creation, as labels cannot change later.
pub const KEPT: &str = "claude-bottle.kept";
/// The host repository a bottle's workspace was copied from (its top folder).
pub const WORKSPACE_REPO: &str = "claude-bottle.workspace.repo";
/// The commit that copy started from.
pub const WORKSPACE_BASE: &str = "claude-bottle.workspace.base";

/// What a labelled resource is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Agent,
    Sidecar,
    InternalNet,
    EgressNet,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Sidecar => "sidecar",
            Role::InternalNet => "internal-net",
            Role::EgressNet => "egress-net",
        }
    }
}

/// The process that owns a bottle: while it lives, its bottles are not garbage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub pid: u32,
    pub start_ticks: u64,
    pub host: String,
}

impl Owner {
    /// This process.
    pub fn current() -> Self {
        let pid = std::process::id();
        Self {
            pid,
            // 0: this system cannot tell (see `is_alive`).
            start_ticks: process_start(pid).ok().flatten().unwrap_or(0),
            host: hostname(),
        }
    }

    /// The owner as one token (`pid:start:host`), for the holder to keep
    /// beside a viewer's name.
    pub fn to_token(&self) -> String {
        format!("{}:{}:{}", self.pid, self.start_ticks, self.host)
    }

    /// Reads a [`Self::to_token`] back; `None` when it is not one.
    pub fn from_token(token: &str) -> Option<Self> {
        let mut parts = token.splitn(3, ':');
        Some(Self {
            pid: parts.next()?.parse().ok()?,
            start_ticks: parts.next()?.parse().ok()?,
            host: parts.next()?.to_owned(),
        })
    }

    /// Reads the owner back from a resource's labels; `None` if they are missing.
    pub fn from_labels(labels: &HashMap<String, String>) -> Option<Self> {
        Some(Self {
            pid: labels.get(OWNER_PID)?.parse().ok()?,
            start_ticks: labels.get(OWNER_START)?.parse().ok()?,
            host: labels.get(OWNER_HOST)?.clone(),
        })
    }

    /// Whether the owning process still runs. An owner that cannot be checked
    /// from here (another host, or a system where a process's start cannot be
    /// read) counts as alive, so `gc` never removes a bottle it cannot prove
    /// abandoned.
    pub fn is_alive(&self) -> bool {
        if self.host != hostname() {
            return true;
        }
        match process_start(self.pid) {
            Err(CannotTell) => true,
            Ok(None) => false,
            // Started when the owner did: the same process, not a reused pid.
            Ok(Some(start)) => self.start_ticks == 0 || start == self.start_ticks,
        }
    }
}

/// The labels shared by every resource of one bottle session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionLabels {
    pub bottle: String,
    pub agent: String,
    pub session: String,
    pub owner: Owner,
    pub created_unix: u64,
    /// Outlives its owner (see [`KEPT`]).
    pub kept: bool,
    /// The repository and base its workspace came from.
    pub workspace: Option<WorkspaceOrigin>,
}

/// Where a bottle's workspace came from: what `collect` brings its work back to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceOrigin {
    pub repo: std::path::PathBuf,
    pub base: String,
}

impl WorkspaceOrigin {
    pub fn from_labels(labels: &HashMap<String, String>) -> Option<Self> {
        Some(Self {
            repo: labels.get(WORKSPACE_REPO)?.into(),
            base: labels.get(WORKSPACE_BASE)?.clone(),
        })
    }
}

impl SessionLabels {
    pub fn new(bottle: &str, agent: &str, session: &str) -> Self {
        let created_unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        Self {
            bottle: bottle.to_owned(),
            agent: agent.to_owned(),
            session: session.to_owned(),
            owner: Owner::current(),
            created_unix,
            kept: false,
            workspace: None,
        }
    }

    /// The full label set for one resource of this session.
    pub fn for_role(&self, role: Role) -> HashMap<String, String> {
        [
            (MANAGED, "true".to_owned()),
            (BOTTLE, self.bottle.clone()),
            (AGENT, self.agent.clone()),
            (SESSION, self.session.clone()),
            (ROLE, role.as_str().to_owned()),
            (OWNER_PID, self.owner.pid.to_string()),
            (OWNER_START, self.owner.start_ticks.to_string()),
            (OWNER_HOST, self.owner.host.clone()),
            (CREATED, self.created_unix.to_string()),
            (KEPT, self.kept.to_string()),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .chain(self.workspace.iter().flat_map(|w| {
            [
                (WORKSPACE_REPO.to_owned(), w.repo.display().to_string()),
                (WORKSPACE_BASE.to_owned(), w.base.clone()),
            ]
        }))
        .collect()
    }
}

/// A fresh session id: 8 random hex digits, short enough for readable
/// container names.
pub fn new_session_id() -> String {
    crate::random::bytes::<4>()
        .iter()
        .fold(String::new(), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}

/// This system offers no way to read when a process started.
#[derive(Debug)]
struct CannotTell;

/// A number naming one run of process `pid` (when it started), `None` when
/// no such process runs.
#[cfg(target_os = "linux")]
fn process_start(pid: u32) -> Result<Option<u64>, CannotTell> {
    if !std::path::Path::new("/proc/self/stat").exists() {
        return Err(CannotTell);
    }
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return Ok(None);
    };
    // The command name (field 2) may hold spaces and parentheses: skip past
    // its last ')'. The start time is field 22, the 20th after the name.
    let ticks = stat
        .rfind(')')
        .and_then(|end| stat[end + 1..].split_whitespace().nth(19)?.parse().ok());
    ticks.map(Some).ok_or(CannotTell)
}

/// A number naming one run of process `pid`: a hash of its start time as
/// `ps` prints it (macOS and the BSDs have no `/proc`).
#[cfg(not(target_os = "linux"))]
fn process_start(pid: u32) -> Result<Option<u64>, CannotTell> {
    use sha2::{Digest, Sha256};
    let out = std::process::Command::new("ps")
        .args(["-o", "lstart=", "-p", &pid.to_string()])
        .output()
        .map_err(|_| CannotTell)?;
    let started = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    if !out.status.success() || started.is_empty() {
        return Ok(None);
    }
    let digest = Sha256::digest(started.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    // Never 0, which means "unknown".
    Ok(Some(u64::from_le_bytes(first).max(1)))
}

/// This machine's name, as the kernel has it.
pub fn hostname() -> String {
    #[cfg(target_os = "linux")]
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname").ok();
    #[cfg(not(target_os = "linux"))]
    let name = std::process::Command::new("uname")
        .arg("-n")
        .output()
        .ok()
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned());
    name.map(|s| s.trim().to_owned()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_is_alive_and_a_dead_pid_is_not() {
        let me = Owner::current();
        assert!(me.start_ticks > 0);
        assert!(me.is_alive());
        let reused_pid = Owner {
            start_ticks: me.start_ticks + 1,
            ..me.clone()
        };
        assert!(!reused_pid.is_alive(), "same pid, other start time");
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        child.wait().unwrap();
        let gone = Owner {
            pid,
            start_ticks: 1,
            host: me.host.clone(),
        };
        assert!(!gone.is_alive());
        let elsewhere = Owner {
            host: "another-host".into(),
            ..gone
        };
        assert!(
            elsewhere.is_alive(),
            "owners on other hosts are never judged"
        );
    }

    #[test]
    fn an_owner_token_reads_back() {
        let me = Owner::current();
        assert_eq!(Owner::from_token(&me.to_token()), Some(me));
        assert_eq!(
            Owner::from_token("12:34:host:with:colons").unwrap().host,
            "host:with:colons"
        );
        assert_eq!(Owner::from_token("x:1:h"), None);
        assert_eq!(Owner::from_token("1:2"), None);
    }

    #[test]
    fn labels_round_trip_the_owner() {
        let labels = SessionLabels::new("dev", "coder", "0a1b2c3d").for_role(Role::Sidecar);
        assert_eq!(labels[ROLE], "sidecar");
        assert_eq!(labels[MANAGED], "true");
        assert_eq!(Owner::from_labels(&labels), Some(Owner::current()));
    }

    #[test]
    fn session_ids_are_short_hex_and_differ() {
        let a = new_session_id();
        let b = new_session_id();
        assert_eq!(a.len(), 8);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
