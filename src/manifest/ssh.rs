//! The agent's `~/.ssh/config` and `~/.ssh/known_hosts`, as text (pure).
//!
//! The agent has no route off its network, so every connection goes through the egress
//! sidecar's HTTP CONNECT proxy: `nc -X connect` from netcat-openbsd, which the agent
//! image installs.

use std::fmt::Write as _;

use super::model::SshHost;

/// The key file's name inside the agent's `~/.ssh/` (`id_<alias>`).
pub fn identity_file_name(host: &SshHost) -> String {
    format!("id_{}", host.host)
}

/// An `ssh_config` with one block per host; `proxy` is the sidecar's `IP:PORT`.
pub fn ssh_config(hosts: &[SshHost], proxy: &str) -> String {
    let mut out =
        String::from("# Written by claude-bottle: each host goes through the egress proxy.\n");
    for h in hosts {
        // Writing to a String cannot fail.
        let _ = writeln!(out, "\nHost {}", h.host);
        let _ = writeln!(out, "  HostName {}", h.hostname);
        if let Some(user) = &h.user {
            let _ = writeln!(out, "  User {user}");
        }
        if let Some(port) = h.port {
            let _ = writeln!(out, "  Port {port}");
        }
        let _ = writeln!(out, "  IdentityFile ~/.ssh/{}", identity_file_name(h));
        out.push_str("  IdentitiesOnly yes\n");
        out.push_str("  StrictHostKeyChecking yes\n");
        out.push_str("  UserKnownHostsFile ~/.ssh/known_hosts\n");
        let _ = writeln!(out, "  ProxyCommand nc -X connect -x {proxy} %h %p");
    }
    out
}

/// One `known_hosts` line per host, as written in the manifest.
pub fn known_hosts(hosts: &[SshHost]) -> String {
    let mut out = String::new();
    for h in hosts {
        out.push_str(&h.known_host_key);
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn hosts() -> Vec<SshHost> {
        vec![
            SshHost {
                host: "gitea".into(),
                hostname: "git.example.com".into(),
                user: Some("git".into()),
                port: Some(2222),
                identity_file: PathBuf::from("/home/me/.ssh/id_ed25519"),
                known_host_key: "[git.example.com]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFt5NmYWJAkKdKD/BslmhuYtKK8ir0DMLTGv2cdHR93k".into(),
            },
            SshHost {
                host: "box".into(),
                hostname: "10.0.0.5".into(),
                user: None,
                port: None,
                identity_file: PathBuf::from("/home/me/.ssh/box"),
                known_host_key: "10.0.0.5 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIFt5NmYWJAkKdKD/BslmhuYtKK8ir0DMLTGv2cdHR93k".into(),
            },
        ]
    }

    #[test]
    fn config_has_one_block_per_host_through_the_proxy() {
        insta::assert_snapshot!(ssh_config(&hosts(), "172.28.0.2:8888"));
    }

    #[test]
    fn known_hosts_has_one_line_per_host() {
        insta::assert_snapshot!(known_hosts(&hosts()));
    }

    #[test]
    fn identity_files_are_named_after_the_alias() {
        assert_eq!(identity_file_name(&hosts()[0]), "id_gitea");
    }

    #[test]
    fn no_hosts_give_only_the_header() {
        assert_eq!(known_hosts(&[]), "");
        assert_eq!(ssh_config(&[], "1.2.3.4:1").lines().count(), 1);
    }
}
