//! `claude-bottle ps`: every bottle on the engine, with what its agent is
//! doing; and finding one bottle by agent or session for `attach` and `stop`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::docker::engine::Engine;
use crate::docker::holder::{self, HolderStatus};
use crate::docker::logs::raw_lines;
use crate::docker::reaper::{self, SessionResources};
use crate::egress::log::{LogLine, parse_line};
use crate::settings::Settings;

/// Claude wrote nothing for this long: it waits for the user (claude's
/// spinner writes several times a second while it works).
const WAITING_AFTER_MS: u64 = 5_000;

/// One bottle as `ps` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BottleRow {
    pub agent: String,
    pub session: String,
    pub bottle: String,
    pub age_secs: u64,
    /// `working`, `waiting`, `exited`, `exited N`, `stopped` or `no agent`.
    pub state: String,
    /// Who is attached and typing, if anyone.
    pub viewer: Option<String>,
    /// Requests its sidecar refused so far (since the sidecar started).
    pub denials: u32,
    /// Kept to outlive the process that launched it.
    pub kept: bool,
    /// The launching process still runs (a dashboard, `start`, `run`).
    pub owner_alive: bool,
    /// The repository its workspace was copied from, if it has one.
    pub workspace: Option<String>,
}

pub async fn run(settings: &Settings, json: bool) -> anyhow::Result<i32> {
    let engine = Engine::connect(&settings.engine).await?;
    let sessions = reaper::list_sessions(&engine).await?;
    let mut rows = Vec::new();
    for session in &sessions {
        rows.push(row(&engine, session).await);
    }
    rows.sort_by_key(|r| r.age_secs);
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if rows.is_empty() {
        println!("No bottles on the engine.");
    } else {
        print!("{}", table(&rows));
    }
    Ok(0)
}

async fn row(engine: &Engine, session: &SessionResources) -> BottleRow {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let running = |c: &Option<(String, String)>| c.as_ref().is_some_and(|(_, s)| s == "running");
    let status = match &session.agent_container {
        Some((name, _)) if running(&session.agent_container) => {
            holder::status(engine, name).await.ok().flatten()
        }
        _ => None,
    };
    let denials = match &session.sidecar_container {
        Some((name, _)) => count_denials(engine, name).await,
        None => 0,
    };
    BottleRow {
        agent: session.agent.clone(),
        session: session.session.clone(),
        bottle: session.bottle.clone(),
        age_secs: now.saturating_sub(session.created_unix),
        state: state(session, status.as_ref()),
        viewer: status
            .as_ref()
            .and_then(|s| s.live_viewer().map(str::to_owned)),
        denials,
        kept: session.kept,
        owner_alive: session.owner_is_alive(),
        workspace: session
            .workspace
            .as_ref()
            .map(|w| w.repo.display().to_string()),
    }
}

fn state(session: &SessionResources, status: Option<&HolderStatus>) -> String {
    match (&session.agent_container, status) {
        (None, _) => "no agent".into(),
        (Some((_, state)), _) if state != "running" => "stopped".into(),
        (_, None) => "exited".into(),
        (
            _,
            Some(HolderStatus {
                exited: Some(code), ..
            }),
        ) => format!("exited {code}"),
        (_, Some(s)) if s.idle_ms >= WAITING_AFTER_MS => "waiting".into(),
        (_, Some(_)) => "working".into(),
    }
}

async fn count_denials(engine: &Engine, sidecar: &str) -> u32 {
    let mut denials = 0;
    let _ = raw_lines(engine, sidecar, false, 0, |line| {
        if let LogLine::Event(event) = parse_line(line)
            && event.is_denial()
        {
            denials += 1;
        }
        true
    })
    .await;
    denials
}

fn age(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m", secs / 60),
        3600..86_400 => format!("{}h", secs / 3600),
        _ => format!("{}d", secs / 86_400),
    }
}

fn table(rows: &[BottleRow]) -> String {
    let mut out = format!(
        "{:<16} {:<9} {:>4}  {:<9} {:>7}  {:<10} {}\n",
        "AGENT", "SESSION", "AGE", "STATE", "DENIALS", "KEPT", "VIEWER"
    );
    for r in rows {
        let kept = match (r.kept, r.owner_alive) {
            (_, true) => "owner runs",
            (true, false) => "kept",
            (false, false) => "left over",
        };
        let _ = writeln!(
            out,
            "{:<16} {:<9} {:>4}  {:<9} {:>7}  {:<10} {}",
            r.agent,
            r.session,
            age(r.age_secs),
            r.state,
            r.denials,
            kept,
            r.viewer.as_deref().unwrap_or("-")
        );
    }
    out
}

/// The one bottle `name` picks: a session id, or an agent with exactly one
/// bottle on the engine.
pub async fn find(engine: &Engine, name: &str) -> anyhow::Result<SessionResources> {
    let sessions = reaper::list_sessions(engine).await?;
    pick(sessions, name)
}

fn pick(sessions: Vec<SessionResources>, name: &str) -> anyhow::Result<SessionResources> {
    let (by_session, others): (Vec<_>, Vec<_>) =
        sessions.into_iter().partition(|s| s.session == name);
    if let Some(found) = by_session.into_iter().next() {
        return Ok(found);
    }
    let mut of_agent: Vec<SessionResources> =
        others.into_iter().filter(|s| s.agent == name).collect();
    match of_agent.len() {
        0 => anyhow::bail!(
            "no bottle of agent or session {name:?} is on the engine; `claude-bottle ps` lists them"
        ),
        1 => Ok(of_agent.remove(0)),
        n => {
            let ids: Vec<&str> = of_agent.iter().map(|s| s.session.as_str()).collect();
            anyhow::bail!(
                "agent {name:?} has {n} bottles (sessions {}); name the session",
                ids.join(", ")
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn session(id: &str, agent: &str, agent_state: Option<&str>) -> SessionResources {
        SessionResources {
            session: id.into(),
            agent: agent.into(),
            agent_container: agent_state.map(|s| (format!("cb-{agent}-{id}-agent"), s.into())),
            ..SessionResources::default()
        }
    }

    #[test]
    fn a_bottle_is_found_by_session_or_by_an_agent_with_one() {
        let all = || {
            vec![
                session("aa11", "coder", Some("running")),
                session("bb22", "coder", Some("running")),
                session("cc33", "docs", Some("running")),
            ]
        };
        assert_eq!(pick(all(), "bb22").unwrap().session, "bb22");
        assert_eq!(pick(all(), "docs").unwrap().session, "cc33");
        let two = pick(all(), "coder").unwrap_err().to_string();
        assert!(
            two.contains("aa11, bb22") && two.contains("name the session"),
            "{two}"
        );
        let none = pick(all(), "nobody").unwrap_err().to_string();
        assert!(none.contains("claude-bottle ps"), "{none}");
    }

    #[test]
    fn the_state_says_what_the_agent_does() {
        let status = |idle_ms, exited| HolderStatus {
            viewer: None,
            viewer_owner: None,
            idle_ms,
            exited,
        };
        let up = session("a", "x", Some("running"));
        assert_eq!(state(&up, Some(&status(10, None))), "working");
        assert_eq!(state(&up, Some(&status(60_000, None))), "waiting");
        assert_eq!(state(&up, Some(&status(10, Some(3)))), "exited 3");
        assert_eq!(state(&up, None), "exited");
        let down = session("a", "x", Some("exited"));
        assert_eq!(state(&down, None), "stopped");
        assert_eq!(state(&session("a", "x", None), None), "no agent");
    }

    #[test]
    fn ages_read_in_the_largest_unit() {
        assert_eq!(age(5), "5s");
        assert_eq!(age(125), "2m");
        assert_eq!(age(7300), "2h");
        assert_eq!(age(200_000), "2d");
    }
}
