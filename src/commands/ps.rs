//! `claude-bottle ps`: every bottle on the engines (the default one and
//! those the manifest's bottles name), with what its agent is doing; and
//! picking one bottle by agent or session for `attach`, `stop`, `collect`.

use std::fmt::Write as _;

use serde::Serialize;

use crate::docker::engine::Engine;
use crate::docker::holder::{self, HolderStatus};
use crate::docker::logs::raw_lines;
use crate::docker::reaper::{self, SessionResources};
use crate::egress::log::{LogLine, parse_line};
use crate::manifest::source::ManifestSource;
use crate::settings::Settings;

/// Claude wrote nothing for this long: it waits for the user (claude's
/// spinner writes several times a second while it works).
const WAITING_AFTER_MS: u64 = 5_000;

/// One bottle as `ps` shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BottleRow {
    /// The engine it runs on: `default`, or the docker context its bottle names.
    pub engine: String,
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

pub async fn run(source: &ManifestSource, settings: &Settings, json: bool) -> anyhow::Result<i32> {
    let reached = super::engines::connect_all(source, settings).await?;
    let mut rows = Vec::new();
    for one in &reached {
        for session in &reaper::list_sessions(&one.engine).await? {
            rows.push(row(&one.engine, one.choice.label(), session).await);
        }
    }
    rows.sort_by_key(|r| r.age_secs);
    if json {
        println!("{}", serde_json::to_string_pretty(&rows)?);
    } else if rows.is_empty() {
        let on = if reached.len() > 1 {
            "engines"
        } else {
            "engine"
        };
        println!("No bottles on the {on}.");
    } else {
        print!("{}", table(&rows));
    }
    Ok(0)
}

async fn row(engine: &Engine, label: &str, session: &SessionResources) -> BottleRow {
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
        engine: label.to_owned(),
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
    // The engine column only when a bottle runs elsewhere than the default.
    let engine_w = if rows.iter().all(|r| r.engine == "default") {
        0
    } else {
        rows.iter()
            .map(|r| r.engine.len())
            .max()
            .unwrap_or(0)
            .max(6)
            + 1
    };
    let engine = |text: &str| format!("{text:<engine_w$}");
    let mut out = format!(
        "{}{:<16} {:<9} {:>4}  {:<9} {:>7}  {:<10} {}\n",
        engine(if engine_w > 0 { "ENGINE" } else { "" }),
        "AGENT",
        "SESSION",
        "AGE",
        "STATE",
        "DENIALS",
        "KEPT",
        "VIEWER"
    );
    for r in rows {
        let kept = match (r.kept, r.owner_alive) {
            (_, true) => "owner runs",
            (true, false) => "kept",
            (false, false) => "left over",
        };
        let _ = writeln!(
            out,
            "{}{:<16} {:<9} {:>4}  {:<9} {:>7}  {:<10} {}",
            engine(if engine_w > 0 { &r.engine } else { "" }),
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

/// The one bottle `name` picks among `sessions` (each with the engine it
/// is on): a session id, or an agent with exactly one bottle; `engines`
/// names where was looked, for the message.
pub fn pick_from<T>(
    sessions: Vec<(T, SessionResources)>,
    name: &str,
    engines: &[&str],
) -> anyhow::Result<(T, SessionResources)> {
    let (by_session, others): (Vec<_>, Vec<_>) =
        sessions.into_iter().partition(|(_, s)| s.session == name);
    if let Some(found) = by_session.into_iter().next() {
        return Ok(found);
    }
    let mut of_agent: Vec<_> = others
        .into_iter()
        .filter(|(_, s)| s.agent == name)
        .collect();
    let on = match engines {
        [] | [_] => "the engine".to_owned(),
        several => format!("the engines {}", several.join(", ")),
    };
    match of_agent.len() {
        0 => anyhow::bail!(
            "no bottle of agent or session {name:?} is on {on}; `claude-bottle ps` lists them"
        ),
        1 => Ok(of_agent.remove(0)),
        n => {
            let ids: Vec<&str> = of_agent.iter().map(|(_, s)| s.session.as_str()).collect();
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
                ("default", session("aa11", "coder", Some("running"))),
                ("default", session("bb22", "coder", Some("running"))),
                ("big-box", session("cc33", "docs", Some("running"))),
            ]
        };
        let on = |engine: &'static str, s: SessionResources| (engine, s);
        let pick = |name: &str| pick_from(all(), name, &["default", "big-box"]);
        assert_eq!(pick("bb22").unwrap().1.session, "bb22");
        assert_eq!(
            pick("docs").unwrap(),
            on("big-box", session("cc33", "docs", Some("running")))
        );
        let two = pick("coder").unwrap_err().to_string();
        assert!(
            two.contains("aa11, bb22") && two.contains("name the session"),
            "{two}"
        );
        let none = pick("nobody").unwrap_err().to_string();
        assert!(
            none.contains("claude-bottle ps") && none.contains("engines default, big-box"),
            "{none}"
        );
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
