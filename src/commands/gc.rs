//! `claude-bottle gc`: remove bottles whose owning process is gone.

use std::fmt::Write as _;

use crate::docker::engine::Engine;
use crate::docker::reaper::{self, SessionResources};

use super::confirm::ask_yes_no;

pub async fn run(dry_run: bool, yes: bool) -> anyhow::Result<i32> {
    let engine = Engine::connect().await?;
    let orphans = reaper::orphaned_sessions(&engine).await?;
    if orphans.is_empty() {
        println!("Nothing to clean up: no bottle was left behind.");
        return Ok(0);
    }
    print!("{}", describe(&orphans));
    if dry_run {
        println!("(dry run: nothing removed)");
        return Ok(0);
    }
    if !yes && !ask_yes_no("Remove them?")? {
        println!("Kept.");
        return Ok(0);
    }
    for session in &orphans {
        reaper::remove_session(&engine, &session.session).await?;
        println!("removed session {}", session.session);
    }
    Ok(0)
}

/// A human summary of leftover sessions, shared with the commands that warn
/// about leftovers when they start.
pub fn describe(orphans: &[SessionResources]) -> String {
    let mut out = format!(
        "Found {} bottle session(s) left behind (their claude-bottle process is gone):\n",
        orphans.len()
    );
    for s in orphans {
        let owner = s.owner.as_ref().map_or_else(
            || "unknown owner".to_owned(),
            |o| format!("owner pid {} (gone)", o.pid),
        );
        let _ = writeln!(
            out,
            "  session {}  agent {}  bottle {}  {owner}",
            s.session, s.agent, s.bottle
        );
        let names = |items: &[(String, String)]| {
            items
                .iter()
                .map(|(_, n)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !s.containers.is_empty() {
            let _ = writeln!(out, "    containers: {}", names(&s.containers));
        }
        if !s.networks.is_empty() {
            let _ = writeln!(out, "    networks:   {}", names(&s.networks));
        }
    }
    out
}
