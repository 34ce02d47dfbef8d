//! Validation of a bottle's `ssh` entries.

use std::collections::HashMap;
use std::os::unix::fs::FileTypeExt;
use std::path::{Path, PathBuf};

use super::fields::{self, Problem};
use super::hostkey;
use super::json::{Member, Node};
use super::keys::SSH_KEYS;
use super::model::SshHost;
use super::validate::{Checker, key_path};

/// Why each required key is needed, for the "missing" message.
const REQUIRED: &[(&str, &str)] = &[
    ("Host", "the alias the agent types after `ssh`"),
    ("Hostname", "the real host name to connect to"),
    ("IdentityFile", "the private key to give the agent"),
    (
        "KnownHostKey",
        "the server's key line, so the agent can verify it",
    ),
];

impl Checker<'_> {
    pub(super) fn ssh_list(&mut self, path: &str, node: &Node) -> Vec<SshHost> {
        let mut out: Vec<SshHost> = Vec::new();
        let mut seen: HashMap<String, usize> = HashMap::new();
        for (i, item) in self.list(path, node).unwrap_or_default().iter().enumerate() {
            let ipath = format!("{path}[{i}]");
            let Some(members) = self.object(&ipath, item, SSH_KEYS, "an ssh entry") else {
                continue;
            };
            if let Some(host) = self.ssh_entry(&ipath, item, members) {
                if let Some(first) = seen.get(&host.host) {
                    let at = members
                        .iter()
                        .find(|m| m.key == "Host")
                        .map_or(item.pos, |m| m.value.pos);
                    let p = Problem::new(format!(
                        "ssh alias `{}` is already used by {path}[{first}]",
                        host.host
                    ));
                    self.error(&key_path(&ipath, "Host"), at, p);
                } else {
                    seen.insert(host.host.clone(), i);
                    out.push(host);
                }
            }
        }
        out
    }

    fn ssh_entry(&mut self, path: &str, node: &Node, members: &[Member]) -> Option<SshHost> {
        let get = |key: &str| members.iter().find(|m| m.key == key).map(|m| &m.value);
        for (key, why) in REQUIRED {
            if get(key).is_none() {
                self.error(
                    path,
                    node.pos,
                    Problem::new(format!("missing `{key}`: {why}")),
                );
            }
        }
        let host = get("Host").and_then(|n| self.ssh_alias(&key_path(path, "Host"), n));
        let hostname = get("Hostname").and_then(|n| {
            let p = key_path(path, "Hostname");
            let s = self.string(&p, n)?;
            fields::check_ssh_hostname(s)
                .map_err(|e| self.error(&p, n.pos, e))
                .ok()?;
            Some(s.to_string())
        });
        let user = get("User").and_then(|n| {
            let p = key_path(path, "User");
            let s = self.string(&p, n)?;
            if s.is_empty() || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
                let shown = if s.is_empty() {
                    "an empty string".to_string()
                } else {
                    format!("`{}`", fields::shown(s))
                };
                let msg = format!(
                    "{shown} is not a user name: leave `User` out or write a name without spaces"
                );
                self.error(&p, n.pos, Problem::new(msg));
                return None;
            }
            Some(s.to_string())
        });
        // Outer `None`: no Port; inner `None`: a Port that was reported as wrong.
        let port = get("Port").map(|n| {
            self.integer(&key_path(path, "Port"), n, 1, 65535)
                .and_then(|p| u16::try_from(p).ok())
        });
        let port_ok = !matches!(port, Some(None));
        let port = port.flatten();
        let identity_file = get("IdentityFile")
            .and_then(|n| self.identity_file(&key_path(path, "IdentityFile"), n));
        let known = get("KnownHostKey").and_then(|n| {
            let p = key_path(path, "KnownHostKey");
            let line = self.string(&p, n)?;
            // Matching the host field needs a valid Hostname and Port; their own errors suffice.
            let name = hostname.as_deref()?;
            if !port_ok {
                return None;
            }
            hostkey::check_known_host_key(line, name, port)
                .map_err(|e| self.error(&p, n.pos, e))
                .ok()?;
            Some(line.to_string())
        });
        let user_ok = get("User").is_none() || user.is_some();
        match (host, hostname, identity_file, known) {
            (Some(host), Some(hostname), Some(identity_file), Some(known_host_key))
                if port_ok && user_ok =>
            {
                Some(SshHost {
                    host,
                    hostname,
                    user,
                    port,
                    identity_file,
                    known_host_key,
                })
            }
            _ => None,
        }
    }

    fn ssh_alias(&mut self, path: &str, node: &Node) -> Option<String> {
        let alias = self.string(path, node)?;
        let valid = !alias.is_empty()
            && alias
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c));
        if !valid {
            let p = Problem::new(format!(
                "`{}` is not an ssh alias: use one name of letters, digits, `_`, `.` and `-` (no spaces or wildcards)",
                fields::shown(alias)
            ));
            self.error(path, node.pos, p);
            return None;
        }
        Some(alias.to_string())
    }

    /// Expands `~`, resolves relative paths against the manifest's folder, and checks
    /// that the key is a readable regular file.
    fn identity_file(&mut self, path: &str, node: &Node) -> Option<PathBuf> {
        let raw = self.string(path, node)?;
        let expanded = match expand_tilde(raw, self.home) {
            Ok(p) => p,
            Err(p) => {
                self.error(path, node.pos, p);
                return None;
            }
        };
        let full = if expanded.is_absolute() {
            expanded
        } else {
            self.file.parent().unwrap_or(Path::new("")).join(expanded)
        };
        let problem = identity_file_problem(raw, &full);
        if let Some(message) = problem {
            let p = Problem::new(message)
                .hint("IdentityFile names a private key on this machine, e.g. `~/.ssh/id_ed25519`");
            self.error(path, node.pos, p);
            return None;
        }
        Some(full)
    }
}

/// Why `full` cannot be the key file, if it cannot. A symlink is followed (as ssh does);
/// the message names where it points when that is the problem. A named pipe or device is
/// refused without being opened, since opening a pipe would wait for a writer.
fn identity_file_problem(raw: &str, full: &Path) -> Option<String> {
    if raw.contains('\0') {
        return Some(
            "the path contains a NUL character (U+0000), which no file name can hold".to_string(),
        );
    }
    let shown = full.display();
    let link = std::fs::symlink_metadata(full)
        .is_ok_and(|m| m.file_type().is_symlink())
        .then(|| std::fs::read_link(full).ok())
        .flatten();
    let via = link
        .as_ref()
        .map(|target| format!("{shown} is a symlink to {}", target.display()));
    match std::fs::metadata(full) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Some(match via {
            Some(via) => format!("{via}, which does not exist"),
            None => format!("no such file: {shown}"),
        }),
        Err(e) => Some(format!("cannot read {shown}: {e}")),
        Ok(m) if !m.is_file() => {
            let t = m.file_type();
            let kind = if t.is_dir() {
                "a directory"
            } else if t.is_fifo() {
                "a named pipe"
            } else if t.is_socket() {
                "a socket"
            } else if t.is_block_device() || t.is_char_device() {
                "a device"
            } else {
                "not a regular file"
            };
            Some(match via {
                Some(via) => format!("{via}, {kind}, not a key file"),
                None => format!("{shown} is {kind}, not a key file"),
            })
        }
        Ok(_) => std::fs::File::open(full)
            .err()
            .map(|e| format!("cannot read {shown}: {e}")),
    }
}

/// `~` and `~/x` are the home folder; `~user` forms are not supported.
pub fn expand_tilde(raw: &str, home: Option<&Path>) -> Result<PathBuf, Problem> {
    let Some(rest) = raw.strip_prefix('~') else {
        return Ok(PathBuf::from(raw));
    };
    if !(rest.is_empty() || rest.starts_with('/')) {
        return Err(
            Problem::new(format!("`{raw}`: only `~/` is expanded, not `~user`"))
                .hint("write the full path"),
        );
    }
    let Some(home) = home else {
        return Err(Problem::new(format!(
            "`{raw}` starts with `~` but the home folder is not known (HOME is unset)"
        )));
    };
    Ok(home.join(rest.trim_start_matches('/')))
}
