//! The manifest's data model after loading, merging and validation.
//!
//! These types are the contract between the manifest loader and everything that
//! launches bottles: once a `Manifest` exists, every field in it has been checked.

use std::collections::BTreeMap;
use std::path::PathBuf;

use super::json::Pos;

/// The container runtime a bottle runs under.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Runtime {
    /// The engine's default OCI runtime.
    #[default]
    Runc,
    /// gVisor: a user-space kernel between the agent and the host kernel.
    Runsc,
}

impl Runtime {
    /// The name the Docker engine registers this runtime under.
    pub fn engine_name(self) -> &'static str {
        match self {
            Runtime::Runc => "runc",
            Runtime::Runsc => "runsc",
        }
    }
}

/// How an env var's value is obtained.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum EnvSource {
    /// A literal value written in the manifest.
    Literal(String),
    /// `${VAR}`: copied from the host environment at launch.
    HostVar(String),
    /// `?text`: asked from the user at launch, input hidden; `text` is shown.
    Prompt(String),
    /// Text with `${VAR}` references inside, such as `Bearer ${TOKEN}`: the raw manifest
    /// value, expanded from the host environment at launch (see `manifest::env_value`).
    Template(String),
}

/// One `env` entry of a bottle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EnvVar {
    pub name: String,
    pub source: EnvSource,
    /// The hosts this value is meant for (`"hosts"` of the object form): their
    /// TLS passes the sidecar unopened, so DLP does not refuse the value on
    /// its way there. Empty: the value is for no host.
    pub hosts: Vec<String>,
    /// Where the value stands in its manifest file, for errors found at launch.
    pub pos: Pos,
}

/// One `ssh` entry of a bottle (field names follow `ssh_config`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshHost {
    /// The alias the agent uses (`ssh <Host>`).
    pub host: String,
    /// The real host name; it joins the egress allowlist.
    pub hostname: String,
    pub user: Option<String>,
    pub port: Option<u16>,
    /// Absolute path on the host, `~` already expanded.
    pub identity_file: PathBuf,
    /// `host keytype base64`, as in a `known_hosts` line.
    pub known_host_key: String,
}

/// Optional resource limits for the agent container.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Resources {
    /// CPU cores (fractions allowed).
    pub cpus: Option<f64>,
    /// Memory limit in bytes.
    pub memory_bytes: Option<u64>,
    /// Maximum number of processes.
    pub pids: Option<i64>,
}

/// A validated `bottles.<name>` entry.
#[derive(Debug, Clone, PartialEq)]
pub struct Bottle {
    pub name: String,
    /// The manifest file this entry came from.
    pub source: PathBuf,
    pub runtime: Runtime,
    /// `context`: the docker context whose engine runs this bottle; `None`:
    /// the engine claude-bottle reaches by default (`DOCKER_HOST`,
    /// `DOCKER_CONTEXT`, the docker CLI's current context).
    pub context: Option<String>,
    pub env: Vec<EnvVar>,
    pub ssh: Vec<SshHost>,
    /// Host patterns exactly as normalised from the manifest (no defaults added).
    pub allowlist: Vec<String>,
    /// `egress.private_hosts`: destinations on private addresses this bottle may reach.
    pub private_hosts: Vec<PrivateHost>,
    /// `egress.inspect`: the sidecar opens TLS (with a CA made for the bottle)
    /// to scan requests for secrets. On unless the manifest says `false`.
    pub inspect: bool,
    /// `egress.passthrough`: hosts whose TLS is never opened, beyond the
    /// defaults (Anthropic's). Host patterns as in the allowlist.
    pub passthrough: Vec<String>,
    pub resources: Resources,
}

/// One `egress.private_hosts` entry: a destination the sidecar's SSRF guard
/// would refuse because it is, or resolves to, a private or CGN address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum PrivateHost {
    /// A host name or `*.domain`: it joins the allowlist and may resolve to any
    /// private address.
    Name(String),
    /// An IPv4 address: it joins the allowlist.
    Address(std::net::Ipv4Addr),
    /// An IPv4 block (`10.1.0.0/16`): allowlisted names may resolve into it.
    /// It allows no host by itself.
    Block(std::net::Ipv4Addr, u8),
}

impl PrivateHost {
    /// As written in the manifest (normalised).
    pub fn text(&self) -> String {
        match self {
            Self::Name(name) => name.clone(),
            Self::Address(ip) => ip.to_string(),
            Self::Block(ip, bits) => format!("{ip}/{bits}"),
        }
    }

    /// The allowlist entry it adds, if any.
    pub fn allow_entry(&self) -> Option<String> {
        match self {
            Self::Name(name) => Some(name.clone()),
            Self::Address(ip) => Some(ip.to_string()),
            Self::Block(..) => None,
        }
    }
}

impl Bottle {
    /// The hosts whose TLS the sidecar lets through unopened, beside
    /// Anthropic's: `egress.passthrough`, the ssh hosts (ssh is not TLS), and
    /// the hosts a secret is meant for (DLP would refuse it there).
    pub fn passthrough_hosts(&self) -> Vec<String> {
        let ssh = self.ssh.iter().map(|h| h.hostname.to_lowercase());
        let secrets = self.env.iter().flat_map(|e| e.hosts.iter().cloned());
        let mut hosts: Vec<String> = Vec::new();
        for host in self.passthrough.iter().cloned().chain(ssh).chain(secrets) {
            if !hosts.contains(&host) {
                hosts.push(host);
            }
        }
        hosts
    }
}

/// A validated `agents.<name>` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub name: String,
    /// The manifest file this entry came from.
    pub source: PathBuf,
    /// Name of a bottle that exists in the merged manifest.
    pub bottle: String,
    pub skills: Vec<SkillRef>,
    pub prompt: Option<String>,
    /// The git repository the agent works on, copied into its bottle.
    pub workspace: Option<WorkspaceSpec>,
}

/// An agent's `workspace`: which repository goes into the bottle and how.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkspaceSpec {
    /// The repository (any folder in it), `~` expanded and relative paths
    /// taken from the manifest's folder; `None`: the git repository
    /// claude-bottle is started in.
    pub repo: Option<PathBuf>,
    /// The commit the copy starts from, as git reads a revision.
    pub base: String,
    /// Also copy the changes not committed yet (tracked and untracked files
    /// git does not ignore).
    pub uncommitted: bool,
    /// Files or folders git ignores that go in too (a `.env`), relative to
    /// the repository's top.
    pub include: Vec<String>,
    /// Where the entry stands in its manifest file, for errors at launch.
    pub pos: Pos,
}

impl WorkspaceSpec {
    /// One line: which repository goes in, from which commit, with what.
    pub fn describe(&self) -> String {
        let repo = self.repo.as_ref().map_or_else(
            || "the repository claude-bottle is started in".to_owned(),
            |p| p.display().to_string(),
        );
        let mut extra = Vec::new();
        if self.uncommitted {
            extra.push("with uncommitted changes".to_owned());
        }
        if !self.include.is_empty() {
            extra.push(format!("plus ignored {}", self.include.join(", ")));
        }
        let extra = if extra.is_empty() {
            String::new()
        } else {
            format!(", {}", extra.join(", "))
        };
        format!(
            "{repo} at {}{extra}: a copy (no git credentials), its work back as a branch",
            self.base
        )
    }
}

/// The base a workspace starts from when the manifest names none.
pub const DEFAULT_WORKSPACE_BASE: &str = "HEAD";

/// A skill an agent names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkillRef {
    pub name: String,
    /// Where the name stands in its manifest file, for errors found at launch.
    pub pos: Pos,
}

/// The merged, validated manifest.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Manifest {
    pub bottles: BTreeMap<String, Bottle>,
    pub agents: BTreeMap<String, Agent>,
    /// The files that were read, home first, project last.
    pub files: Vec<PathBuf>,
}

/// Why a host is on a bottle's effective allowlist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AllowOrigin {
    /// Baked in: Claude Code needs it to log in and work.
    Default,
    /// Listed in the bottle's `egress.allowlist`.
    Manifest,
    /// The `Hostname` of one of the bottle's ssh entries.
    Ssh,
    /// Listed in the bottle's `egress.private_hosts`.
    Private,
}

impl AllowOrigin {
    /// As `show` and the launch preview write it.
    pub fn name(self) -> &'static str {
        match self {
            Self::Default => "default",
            Self::Manifest => "manifest",
            Self::Ssh => "ssh",
            Self::Private => "private",
        }
    }
}

/// One entry of the effective allowlist.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AllowEntry {
    /// A host name or `*.domain`, lowercase, no trailing dot.
    pub host: String,
    /// Every reason it is there (an entry can be both default and manifest).
    pub origins: Vec<AllowOrigin>,
}

/// A skill resolved to a directory holding `SKILL.md`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Skill {
    pub name: String,
    pub dir: PathBuf,
}

/// An env var after resolution against the host environment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResolvedEnvValue {
    /// The value is known (literal or copied from the host).
    Value(String),
    /// The user must be asked; the text is the question to show.
    Ask(String),
}

/// One env var ready for the bottle (or waiting for the user's answer).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResolvedEnv {
    pub name: String,
    pub source: EnvSource,
    pub value: ResolvedEnvValue,
}

impl ResolvedAgent {
    /// Of `env` (`NAME`, value pairs for the agent), the values that came from
    /// the host or from the user rather than from the manifest's text: the
    /// sidecar watches for them going out.
    pub fn granted_values(&self, env: &[(String, String)]) -> Vec<String> {
        let granted: Vec<&str> = self
            .env
            .iter()
            .filter(|e| !matches!(e.source, EnvSource::Literal(_)))
            .map(|e| e.name.as_str())
            .collect();
        env.iter()
            .filter(|(name, _)| granted.contains(&name.as_str()))
            .map(|(_, value)| value.clone())
            .collect()
    }
}

/// Everything needed to launch one agent's bottle.
#[derive(Debug, Clone, PartialEq)]
pub struct ResolvedAgent {
    pub agent: Agent,
    pub bottle: Bottle,
    pub env: Vec<ResolvedEnv>,
    pub skills: Vec<Skill>,
    /// Sorted by host, deduplicated.
    pub allowlist: Vec<AllowEntry>,
}
