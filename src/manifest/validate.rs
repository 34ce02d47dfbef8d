//! Validation of one manifest file's tree: collects every error, not only the first.
//!
//! Checks that need the merged manifest (an agent's `bottle` naming a bottle defined in
//! the other file) happen in `load` after merging; this module records what they need.

use std::collections::HashSet;
use std::path::Path;

use super::env_value::parse_env_value;
use super::error::{Entry, ManifestError};
use super::fields::{self, Problem};
use super::json::{Member, Node, Pos, Value};
use super::keys::{
    self, AGENT_KEYS, BOTTLE_KEYS, EGRESS_KEYS, ENV_ENTRY_KEYS, RESOURCES_KEYS, RUNTIMES, TOP_KEYS,
};
use super::model::{Agent, Bottle, EnvVar, Resources, Runtime, SkillRef};

/// An agent and where its `bottle` reference is, for the check after merging.
#[derive(Debug, Clone)]
pub struct AgentEntry {
    pub agent: Agent,
    /// JSON path of the agent entry (`agents.<name>`).
    pub path: String,
    /// Where the agent entry's value starts.
    pub pos: Pos,
    /// Where its `bottle` value is; `None` when the key is missing.
    pub bottle_pos: Option<Pos>,
    /// Whether `bottle` was a string (anything else is already reported).
    pub bottle_named: bool,
}

/// What one file defines, in file order.
#[derive(Debug, Clone, Default)]
pub struct FileEntries {
    pub bottles: Vec<Bottle>,
    pub agents: Vec<AgentEntry>,
}

/// Walks one file's tree, building entries and collecting errors.
pub struct Checker<'a> {
    pub(super) file: &'a Path,
    pub(super) home: Option<&'a Path>,
    pub(super) errors: Vec<ManifestError>,
}

/// The JSON path of `key` inside `parent`: `a.b`, or `a["odd key"]` when needed.
pub fn key_path(parent: &str, key: &str) -> String {
    let plain = !key.is_empty()
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-$".contains(c));
    let seg = if plain {
        key.to_string()
    } else {
        // A JSON string, with hidden characters escaped as well.
        let quoted = key.replace('\\', "\\\\").replace('"', "\\\"");
        format!("[\"{}\"]", fields::shown(&quoted))
    };
    match (parent.is_empty(), plain) {
        (true, true) => seg,
        (false, true) => format!("{parent}.{seg}"),
        (_, false) => format!("{parent}{seg}"),
    }
}

/// Validates one parsed file.
pub fn check_file(
    file: &Path,
    home: Option<&Path>,
    root: &Node,
) -> (FileEntries, Vec<ManifestError>) {
    let mut c = Checker {
        file,
        home,
        errors: Vec::new(),
    };
    let mut entries = FileEntries::default();
    if let Some(members) = c.object("", root, TOP_KEYS, "the top level") {
        for m in members {
            match m.key.as_str() {
                "$schema" => {
                    c.string("$schema", &m.value);
                }
                "bottles" => entries.bottles = c.bottles(&m.value),
                "agents" => entries.agents = c.agents(&m.value),
                _ => {}
            }
        }
    }
    (entries, c.errors)
}

impl Checker<'_> {
    pub(super) fn error(&mut self, path: &str, pos: Pos, problem: Problem) {
        self.errors.push(
            ManifestError::new(self.file, path, Some(pos), problem.message).with_hint(problem.hint),
        );
    }

    pub(super) fn type_error(&mut self, path: &str, node: &Node, expected: &str) {
        let p = Problem::new(format!("expected {expected}, found {}", node.value.kind()));
        self.error(path, node.pos, p);
    }

    /// The object's members if it is an object; unknown keys are reported.
    /// The members if the node is an object, any keys accepted.
    pub(super) fn members<'n>(&mut self, path: &str, node: &'n Node) -> Option<&'n [Member]> {
        if let Value::Object(members) = &node.value {
            Some(members)
        } else {
            self.type_error(path, node, "an object");
            None
        }
    }

    pub(super) fn object<'n>(
        &mut self,
        path: &str,
        node: &'n Node,
        allowed: &[&str],
        what: &str,
    ) -> Option<&'n [Member]> {
        let members = self.members(path, node)?;
        for m in members {
            if !allowed.contains(&m.key.as_str()) {
                let hint =
                    keys::did_you_mean(&m.key, allowed.iter().copied()).unwrap_or_else(|| {
                        format!(
                            "the keys allowed here are {}",
                            keys::list(allowed.iter().copied())
                        )
                    });
                let p = Problem::new(format!("unknown key `{}` in {what}", fields::shown(&m.key)))
                    .hint(hint);
                self.error(&key_path(path, &m.key), m.key_pos, p);
            }
        }
        Some(members)
    }

    pub(super) fn string<'n>(&mut self, path: &str, node: &'n Node) -> Option<&'n str> {
        if let Value::String(s) = &node.value {
            Some(s)
        } else {
            self.type_error(path, node, "a string");
            None
        }
    }

    pub(super) fn list<'n>(&mut self, path: &str, node: &'n Node) -> Option<&'n [Node]> {
        if let Value::Array(items) = &node.value {
            Some(items)
        } else {
            self.type_error(path, node, "a list");
            None
        }
    }

    /// A whole number in `min..=max`.
    pub(super) fn integer(&mut self, path: &str, node: &Node, min: i64, max: i64) -> Option<i64> {
        let Value::Number(raw) = &node.value else {
            self.type_error(path, node, "a whole number");
            return None;
        };
        if raw.contains(['.', 'e', 'E']) {
            self.error(
                path,
                node.pos,
                Problem::new(format!("expected a whole number, found {raw}")),
            );
            return None;
        }
        match raw.parse::<i64>() {
            Ok(n) if (min..=max).contains(&n) => Some(n),
            _ => {
                let range = if max == i64::MAX {
                    format!("at least {min}")
                } else {
                    format!("{min} to {max}")
                };
                let p = Problem::new(format!("{raw} is out of range; expected {range}"));
                self.error(path, node.pos, p);
                None
            }
        }
    }

    fn entry_name(&mut self, kind: &str, path: &str, m: &Member) {
        if let Err(p) = fields::check_entry_name(kind, &m.key) {
            self.error(path, m.key_pos, p);
        }
    }

    fn bottles(&mut self, node: &Node) -> Vec<Bottle> {
        self.entries("bottles", node, Entry::Bottle, Self::bottle)
    }

    /// Checks each member of `bottles` or `agents`, tying the errors found
    /// in it to its entry.
    fn entries<T>(
        &mut self,
        kind: &str,
        node: &Node,
        entry: fn(String) -> Entry,
        mut check: impl FnMut(&mut Self, &Member) -> T,
    ) -> Vec<T> {
        let Some(members) = self.members(kind, node) else {
            return Vec::new();
        };
        members
            .iter()
            .map(|m| {
                let first_error = self.errors.len();
                let checked = check(self, m);
                let entry = Box::new(entry(m.key.clone()));
                for error in &mut self.errors[first_error..] {
                    error.entry = Some(entry.clone());
                }
                checked
            })
            .collect()
    }

    fn bottle(&mut self, m: &Member) -> Bottle {
        let path = key_path("bottles", &m.key);
        self.entry_name("bottle", &path, m);
        let mut bottle = Bottle {
            name: m.key.clone(),
            source: self.file.to_path_buf(),
            runtime: Runtime::default(),
            context: None,
            env: Vec::new(),
            ssh: Vec::new(),
            allowlist: Vec::new(),
            private_hosts: Vec::new(),
            inspect: true,
            passthrough: Vec::new(),
            resources: Resources::default(),
        };
        let Some(fields) = self.object(&path, &m.value, BOTTLE_KEYS, "a bottle") else {
            return bottle;
        };
        for f in fields {
            let fpath = key_path(&path, &f.key);
            match f.key.as_str() {
                "runtime" => bottle.runtime = self.runtime(&fpath, &f.value).unwrap_or_default(),
                "context" => bottle.context = self.context(&fpath, &f.value),
                "env" => bottle.env = self.env(&fpath, &f.value),
                "ssh" => bottle.ssh = self.ssh_list(&fpath, &f.value),
                "egress" => self.egress(&fpath, &f.value, &mut bottle),
                "resources" => bottle.resources = self.resources(&fpath, &f.value),
                _ => {}
            }
        }
        bottle
    }

    fn runtime(&mut self, path: &str, node: &Node) -> Option<Runtime> {
        match self.string(path, node)? {
            "runc" => Some(Runtime::Runc),
            "runsc" => Some(Runtime::Runsc),
            other => {
                let hint = keys::did_you_mean(other, RUNTIMES.iter().copied())
                    .unwrap_or_else(|| "`runc` is Docker's default; `runsc` is gVisor".to_string());
                let p = Problem::new(format!(
                    "unknown runtime `{}`; expected `runc` or `runsc`",
                    fields::shown(other)
                ))
                .hint(hint);
                self.error(path, node.pos, p);
                None
            }
        }
    }

    /// A docker context's name, as `docker context create` accepts one.
    fn context(&mut self, path: &str, node: &Node) -> Option<String> {
        let name = self.string(path, node)?;
        if fields::is_context_name(name) {
            return Some(name.to_owned());
        }
        let p = Problem::new(format!(
            "`{}` is not a docker context name",
            fields::shown(name)
        ))
        .hint(
            "name a context `docker context ls` lists (letters, digits, `_`, `.`, `+`, `-`; \
             at least two characters), or leave `context` out for the default engine",
        );
        self.error(path, node.pos, p);
        None
    }

    fn env(&mut self, path: &str, node: &Node) -> Vec<EnvVar> {
        let Value::Object(members) = &node.value else {
            self.type_error(path, node, "an object of NAME: value");
            return Vec::new();
        };
        let mut out = Vec::new();
        for m in members {
            let vpath = key_path(path, &m.key);
            if let Err(p) = fields::check_env_name(&m.key) {
                self.error(&vpath, m.key_pos, p);
            }
            let (raw, raw_pos, hosts) = match &m.value.value {
                Value::String(raw) => (raw.as_str(), m.value.pos, Vec::new()),
                Value::Object(_) => match self.env_entry(&vpath, &m.value) {
                    Some(entry) => entry,
                    None => continue,
                },
                _ => {
                    self.type_error(
                        &vpath,
                        &m.value,
                        "a string (write numbers and booleans in quotes), or { \"value\": ..., \"hosts\": [...] }",
                    );
                    continue;
                }
            };
            match parse_env_value(raw) {
                Ok(source) => out.push(EnvVar {
                    name: m.key.clone(),
                    source,
                    hosts,
                    pos: raw_pos,
                }),
                Err(message) => self.error(&vpath, raw_pos, Problem::new(message)),
            }
        }
        out
    }

    /// `{ "value": "...", "hosts": [...] }`: the value's text, where it
    /// stands, and the hosts it is meant for.
    fn env_entry<'n>(&mut self, path: &str, node: &'n Node) -> Option<(&'n str, Pos, Vec<String>)> {
        let fields = self.object(path, node, ENV_ENTRY_KEYS, "an env entry")?;
        let mut value = None;
        let mut hosts = Vec::new();
        let has_value = fields.iter().any(|f| f.key == "value");
        for f in fields {
            let fpath = key_path(path, &f.key);
            match (f.key.as_str(), &f.value.value) {
                ("value", Value::String(raw)) => value = Some((raw.as_str(), f.value.pos)),
                ("value", _) => self.type_error(&fpath, &f.value, "a string"),
                ("hosts", _) => {
                    hosts = self.host_list(&fpath, &f.value, fields::normalise_allow_host);
                }
                _ => {}
            }
        }
        match value {
            Some((raw, pos)) => Some((raw, pos, hosts)),
            // A `value` of the wrong type has had its error.
            None if has_value => None,
            None => {
                self.error(
                    path,
                    node.pos,
                    Problem::new("this env entry has no `value`")
                        .hint("write `{ \"value\": \"${TOKEN}\", \"hosts\": [\"example.com\"] }`"),
                );
                None
            }
        }
    }

    fn egress(&mut self, path: &str, node: &Node, bottle: &mut Bottle) {
        let Some(fields) = self.object(path, node, EGRESS_KEYS, "`egress`") else {
            return;
        };
        for f in fields {
            let fpath = key_path(path, &f.key);
            match f.key.as_str() {
                "allowlist" => {
                    bottle.allowlist =
                        self.host_list(&fpath, &f.value, fields::normalise_allow_host);
                }
                "private_hosts" => {
                    bottle.private_hosts =
                        self.host_list(&fpath, &f.value, fields::normalise_private_host);
                }
                "passthrough" => {
                    bottle.passthrough =
                        self.host_list(&fpath, &f.value, fields::normalise_allow_host);
                }
                "inspect" => match &f.value.value {
                    Value::Bool(on) => bottle.inspect = *on,
                    _ => self.error(
                        &fpath,
                        f.value.pos,
                        Problem::new("expected `true` or `false`")
                            .hint("`false` lets TLS through unopened: the sidecar then sees host names only"),
                    ),
                },
                _ => {}
            }
        }
    }

    /// A list of host entries, each checked by `normalise`; repeats are dropped.
    fn host_list<T: Clone + Eq + std::hash::Hash>(
        &mut self,
        path: &str,
        node: &Node,
        normalise: fn(&str) -> Result<T, Problem>,
    ) -> Vec<T> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let Some(items) = self.list(path, node) else {
            return out;
        };
        for (i, item) in items.iter().enumerate() {
            let ipath = format!("{path}[{i}]");
            let Some(raw) = self.string(&ipath, item) else {
                continue;
            };
            match normalise(raw) {
                Ok(entry) if seen.insert(entry.clone()) => out.push(entry),
                Ok(_) => {}
                Err(p) => self.error(&ipath, item.pos, p),
            }
        }
        out
    }

    fn resources(&mut self, path: &str, node: &Node) -> Resources {
        let mut r = Resources::default();
        let Some(fields) = self.object(path, node, RESOURCES_KEYS, "`resources`") else {
            return r;
        };
        for f in fields {
            let fpath = key_path(path, &f.key);
            match (f.key.as_str(), &f.value.value) {
                ("cpus", Value::Number(raw)) => match raw.parse::<f64>() {
                    Ok(n) if n > 0.0 && n.is_finite() => r.cpus = Some(n),
                    _ => self.error(
                        &fpath,
                        f.value.pos,
                        Problem::new(format!("expected a positive number of CPUs, found {raw}"))
                            .hint("fractions are fine: `1.5`"),
                    ),
                },
                ("cpus", _) => self.type_error(&fpath, &f.value, "a number"),
                ("memory", Value::String(s)) => match fields::parse_memory(s) {
                    Ok(n) => r.memory_bytes = Some(n),
                    Err(p) => self.error(&fpath, f.value.pos, p),
                },
                ("memory", Value::Number(_)) => {
                    let bytes = self.integer(&fpath, &f.value, 1, i64::MAX);
                    // `integer` accepted only positive values, so the cast cannot wrap.
                    match bytes.map(|b| fields::check_memory_bytes(b.unsigned_abs())) {
                        Some(Ok(n)) => r.memory_bytes = Some(n),
                        Some(Err(p)) => self.error(&fpath, f.value.pos, p),
                        None => {}
                    }
                }
                ("memory", _) => {
                    self.type_error(&fpath, &f.value, "a size like \"2g\" or a number of bytes");
                }
                ("pids", _) => r.pids = self.integer(&fpath, &f.value, 1, i64::MAX),
                _ => {}
            }
        }
        r
    }

    fn agents(&mut self, node: &Node) -> Vec<AgentEntry> {
        self.entries("agents", node, Entry::Agent, Self::agent)
    }

    fn agent(&mut self, m: &Member) -> AgentEntry {
        let path = key_path("agents", &m.key);
        self.entry_name("agent", &path, m);
        let mut entry = AgentEntry {
            agent: Agent {
                name: m.key.clone(),
                source: self.file.to_path_buf(),
                bottle: String::new(),
                skills: Vec::new(),
                prompt: None,
                workspace: None,
            },
            path: path.clone(),
            pos: m.value.pos,
            bottle_pos: None,
            bottle_named: false,
        };
        let Some(fields) = self.object(&path, &m.value, AGENT_KEYS, "an agent") else {
            // Not an object: the type error is enough, skip the missing-bottle check.
            entry.bottle_pos = Some(m.value.pos);
            return entry;
        };
        for f in fields {
            let fpath = key_path(&path, &f.key);
            match f.key.as_str() {
                "bottle" => {
                    entry.bottle_pos = Some(f.value.pos);
                    if let Some(b) = self.string(&fpath, &f.value) {
                        entry.agent.bottle = b.to_string();
                        entry.bottle_named = true;
                    }
                }
                "skills" => entry.agent.skills = self.skills(&fpath, &f.value),
                "prompt" => match self.string(&fpath, &f.value) {
                    Some(p) if p.contains('\0') => self.error(
                        &fpath,
                        f.value.pos,
                        Problem::new("the prompt cannot contain a NUL character (U+0000): it is passed to claude as an argument"),
                    ),
                    p => entry.agent.prompt = p.map(str::to_string),
                },
                "workspace" => entry.agent.workspace = self.workspace(&fpath, &f.value),
                _ => {}
            }
        }
        entry
    }

    fn skills(&mut self, path: &str, node: &Node) -> Vec<SkillRef> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        for (i, item) in self.list(path, node).unwrap_or_default().iter().enumerate() {
            let ipath = format!("{path}[{i}]");
            let Some(name) = self.string(&ipath, item) else {
                continue;
            };
            if let Err(p) = fields::check_skill_name(name) {
                self.error(&ipath, item.pos, p);
            } else if !seen.insert(name) {
                self.error(
                    &ipath,
                    item.pos,
                    Problem::new(format!("skill `{name}` is listed twice")),
                );
            } else {
                out.push(SkillRef {
                    name: name.to_string(),
                    pos: item.pos,
                });
            }
        }
        out
    }
}
