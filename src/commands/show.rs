//! `claude-bottle show <agent>`: what the agent's bottle grants, resolved.
//! No value of an env var is ever printed: only its name and kind.

use std::fmt::Write as _;

use serde_json::json;

use crate::manifest::source::ManifestSource;
use crate::manifest::{self, AllowOrigin, EnvSource, ResolvedAgent, ssh};

pub fn run(source: &ManifestSource, agent: &str, as_json: bool) -> i32 {
    let loaded = match source.load_for(agent) {
        Ok(m) => m,
        Err(errors) => {
            eprintln!("{errors}");
            return 1;
        }
    };
    match manifest::resolve(&loaded, agent, &source.resolve_context(&loaded)) {
        Ok(resolved) if as_json => {
            println!("{}", to_json(&resolved));
            0
        }
        Ok(resolved) => {
            print!("{}", to_text(&resolved));
            0
        }
        Err(errors) => {
            eprintln!("{errors}");
            1
        }
    }
}

/// How an env var's value is obtained, never the value.
pub fn env_kind(source: &EnvSource) -> (&'static str, String) {
    match source {
        EnvSource::Literal(_) => ("literal", "value hidden".into()),
        EnvSource::HostVar(var) => ("host var", format!("from ${{{var}}}")),
        EnvSource::Template(_) => ("template", "host vars in text; value hidden".into()),
        EnvSource::Prompt(text) => ("prompt", format!("asked at launch: {text:?}")),
    }
}

pub fn origin_names(origins: &[AllowOrigin]) -> String {
    origins
        .iter()
        .map(|o| o.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn ssh_target(h: &manifest::SshHost) -> String {
    let user = h
        .user
        .as_deref()
        .map(|u| format!("{u}@"))
        .unwrap_or_default();
    let port = h.port.map(|p| format!(":{p}")).unwrap_or_default();
    format!("{} -> {user}{}{port}", h.host, h.hostname)
}

/// The hosts the bottle's env entry `name` is meant for.
fn env_hosts<'r>(r: &'r ResolvedAgent, name: &str) -> &'r [String] {
    r.bottle
        .env
        .iter()
        .find(|v| v.name == name)
        .map_or(&[], |v| v.hosts.as_slice())
}

pub fn to_text(r: &ResolvedAgent) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "agent    {}  ({})",
        r.agent.name,
        r.agent.source.display()
    );
    let _ = writeln!(
        out,
        "bottle   {}  ({})",
        r.bottle.name,
        r.bottle.source.display()
    );
    let _ = writeln!(out, "runtime  {}", r.bottle.runtime.engine_name());
    if let Some(context) = &r.bottle.context {
        let _ = writeln!(out, "engine   docker context {context}");
    }
    if let Some(prompt) = &r.agent.prompt {
        let _ = writeln!(out, "prompt   {prompt}");
    }
    if let Some(w) = &r.agent.workspace {
        let _ = writeln!(out, "workspace {}", w.describe());
    }
    let _ = writeln!(out, "\nenv ({})", r.env.len());
    let name_w = r.env.iter().map(|e| e.name.len()).max().unwrap_or(0);
    for e in &r.env {
        let (kind, detail) = env_kind(&e.source);
        let hosts = env_hosts(r, &e.name);
        let meant_for = if hosts.is_empty() {
            String::new()
        } else {
            format!("; meant for {} (not inspected there)", hosts.join(", "))
        };
        let _ = writeln!(out, "  {:name_w$}  {kind:8}  {detail}{meant_for}", e.name);
    }
    let _ = writeln!(out, "\nssh ({})", r.bottle.ssh.len());
    for h in &r.bottle.ssh {
        let _ = writeln!(
            out,
            "  {}  key {} (copied in as ~/.ssh/{})",
            ssh_target(h),
            h.identity_file.display(),
            ssh::identity_file_name(h)
        );
    }
    let _ = writeln!(out, "\nskills ({})", r.skills.len());
    for s in &r.skills {
        let _ = writeln!(out, "  {}  {}", s.name, s.dir.display());
    }
    let _ = writeln!(out, "\negress allowlist ({})", r.allowlist.len());
    let host_w = r.allowlist.iter().map(|e| e.host.len()).max().unwrap_or(0);
    for e in &r.allowlist {
        let _ = writeln!(out, "  {:host_w$}  {}", e.host, origin_names(&e.origins));
    }
    if r.bottle.inspect {
        let mut through = vec!["Anthropic's hosts".to_owned()];
        through.extend(r.bottle.passthrough_hosts());
        let _ = writeln!(
            out,
            "\nTLS inspection: on (request headers and bodies scanned for secrets); passed through unopened: {}",
            through.join(", ")
        );
    } else {
        let _ = writeln!(
            out,
            "\nTLS inspection: off (egress.inspect is false): the sidecar sees host names only"
        );
    }
    if !r.bottle.private_hosts.is_empty() {
        let _ = writeln!(
            out,
            "\nprivate hosts ({}): reachable although on private addresses, which the sidecar refuses by default",
            r.bottle.private_hosts.len()
        );
        for p in &r.bottle.private_hosts {
            let what = match p {
                manifest::PrivateHost::Block(..) => "allowed hosts may resolve into this block",
                _ => "allowed, and may resolve to a private address",
            };
            let _ = writeln!(out, "  {}  {what}", p.text());
        }
    }
    out
}

pub fn to_json(r: &ResolvedAgent) -> serde_json::Value {
    json!({
        "agent": r.agent.name,
        "agent_source": r.agent.source,
        "bottle": r.bottle.name,
        "bottle_source": r.bottle.source,
        "runtime": r.bottle.runtime.engine_name(),
        "context": r.bottle.context,
        "prompt": r.agent.prompt,
        "env": r.env.iter().map(|e| {
            let (kind, detail) = env_kind(&e.source);
            json!({"name": e.name, "kind": kind, "detail": detail, "hosts": env_hosts(r, &e.name)})
        }).collect::<Vec<_>>(),
        "ssh": r.bottle.ssh.iter().map(|h| json!({
            "host": h.host, "hostname": h.hostname, "user": h.user, "port": h.port,
            "identity_file": h.identity_file,
        })).collect::<Vec<_>>(),
        "skills": r.skills,
        "allowlist": r.allowlist,
        "private_hosts": r.bottle.private_hosts.iter().map(manifest::PrivateHost::text).collect::<Vec<_>>(),
        "inspect": r.bottle.inspect,
        "passthrough": r.bottle.passthrough,
        "workspace": r.agent.workspace.as_ref().map(|w| json!({
            "repo": w.repo, "base": w.base, "uncommitted": w.uncommitted, "include": w.include,
        })),
    })
}
