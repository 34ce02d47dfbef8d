//! States for tests of the model and of the drawing.

use std::collections::HashMap;

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use ratatui::layout::Rect;

use super::event::{EngineStatus, Event};
use super::state::{AgentEntry, App};
use super::update::update;
use crate::egress::log::{LogLine, parse_line};
use crate::manifest::{
    Agent, AllowEntry, AllowOrigin, Bottle, EnvSource, ResolvedAgent, ResolvedEnv,
    ResolvedEnvValue, Resources, Runtime, Skill, SshHost,
};
use crate::session::TermView;

pub fn key(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

pub fn ch(c: char) -> Event {
    key(KeyCode::Char(c))
}

pub fn ctrl(c: char) -> Event {
    Event::Key(KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL))
}

pub fn shift(code: KeyCode) -> Event {
    Event::Key(KeyEvent::new(code, KeyModifiers::SHIFT))
}

/// Two agents, engine up, token set, 120x40.
pub fn app() -> App {
    let mut app = App::new(
        vec![
            AgentEntry {
                name: "alpha".into(),
                bottle: "web".into(),
                engine: "default".into(),
                errors: None,
            },
            AgentEntry {
                name: "beta".into(),
                bottle: "offline".into(),
                engine: "default".into(),
                errors: None,
            },
        ],
        None,
        true,
    );
    app.set_engine(
        "default",
        EngineStatus::Ready {
            version: "20.10.24".into(),
        },
    );
    app.screen = Rect::new(0, 0, 120, 40);
    app
}

pub fn resolved(agent: &str) -> Box<ResolvedAgent> {
    let allow = |host: &str, origins: &[AllowOrigin]| AllowEntry {
        host: host.into(),
        origins: origins.to_vec(),
    };
    Box::new(ResolvedAgent {
        agent: Agent {
            name: agent.into(),
            source: "/project/claude-bottle.json".into(),
            bottle: "web".into(),
            skills: vec![crate::manifest::SkillRef {
                name: "review".into(),
                pos: crate::manifest::json::Pos::default(),
            }],
            prompt: Some("fix the tests".into()),
            workspace: None,
        },
        bottle: Bottle {
            name: "web".into(),
            source: "/project/claude-bottle.json".into(),
            runtime: Runtime::Runsc,
            context: None,
            env: vec![],
            ssh: vec![SshHost {
                host: "gh".into(),
                hostname: "github.com".into(),
                user: Some("git".into()),
                port: None,
                identity_file: "/home/u/.ssh/id_ed25519".into(),
                known_host_key: "github.com ssh-ed25519 AAAA".into(),
            }],
            allowlist: vec!["docs.rs".into()],
            private_hosts: vec![],
            inspect: true,
            passthrough: vec![],
            resources: Resources::default(),
        },
        env: vec![
            ResolvedEnv {
                name: "RUST_LOG".into(),
                source: EnvSource::Literal("debug".into()),
                value: ResolvedEnvValue::Value("debug".into()),
            },
            ResolvedEnv {
                name: "GITHUB_TOKEN".into(),
                source: EnvSource::HostVar("GITHUB_TOKEN".into()),
                value: ResolvedEnvValue::Value("ghp_secret".into()),
            },
            ResolvedEnv {
                name: "DB_PASSWORD".into(),
                source: EnvSource::Prompt("Database password".into()),
                value: ResolvedEnvValue::Ask("Database password".into()),
            },
        ],
        skills: vec![Skill {
            name: "review".into(),
            dir: "/project/.claude/skills/review".into(),
        }],
        allowlist: vec![
            allow("api.anthropic.com", &[AllowOrigin::Default]),
            allow("docs.rs", &[AllowOrigin::Manifest]),
            allow("github.com", &[AllowOrigin::Ssh]),
        ],
    })
}

/// A resolved agent with nothing to ask.
pub fn resolved_without_questions(agent: &str) -> Box<ResolvedAgent> {
    let mut r = resolved(agent);
    r.env
        .retain(|e| !matches!(e.value, ResolvedEnvValue::Ask(_)));
    r
}

/// Launches `agent` through the real key path and marks it running with a
/// detached screen holding `text`. Returns the bottle id.
pub fn running(app: &mut App, agent: &str, text: &str) -> u64 {
    update(
        app,
        Event::Resolved {
            agent: agent.into(),
            result: Ok(resolved_without_questions(agent)),
        },
    );
    update(app, ch('y'));
    let id = app.tabs.last().map(|t| t.id).unwrap_or_default();
    let (rows, cols) = app.areas().pty_size();
    let view = TermView::new(rows, cols);
    view.feed(text.as_bytes());
    SCREENS.with(|screens| screens.borrow_mut().insert(id, view.clone()));
    update(app, Event::Launched { id });
    update(app, output(id, false));
    id
}

thread_local! {
    /// The screens of the tabs `running` made, as the runtime would hold
    /// them (each test runs on a thread of its own).
    static SCREENS: std::cell::RefCell<HashMap<u64, TermView>> = std::cell::RefCell::default();
}

/// The screens of this test's tabs, to draw them.
pub fn screens() -> HashMap<u64, TermView> {
    SCREENS.with(|screens| screens.borrow().clone())
}

/// The screen of one of this test's tabs.
pub fn screen(id: u64) -> TermView {
    SCREENS.with(|screens| screens.borrow()[&id].clone())
}

/// The output event the runtime sends for tab `id`: its screen's scrollback
/// now rides along.
pub fn output(id: u64, bell: bool) -> Event {
    let lines = SCREENS.with(|screens| {
        screens
            .borrow()
            .get(&id)
            .map(TermView::scroll_state)
            .unwrap_or_default()
    });
    Event::SessionOutput { id, bell, lines }
}

pub fn blocked(host: &str, time: &str) -> LogLine {
    parse_line(&format!(
        r#"{{"level":"warn","component":"pipelock","event":"blocked","method":"CONNECT","target":"{host}:443","client_ip":"10.0.0.3","request_id":"req-{host}-{time}","scanner":"allowlist","reason":"domain not in allowlist: {host}","agent":"cb-alpha","time":"{time}","message":"request blocked"}}"#
    ))
}

pub fn opened(host: &str, time: &str) -> LogLine {
    parse_line(&format!(
        r#"{{"level":"info","component":"pipelock","event":"tunnel_open","target":"{host}:443","client_ip":"10.0.0.3","request_id":"req-12","agent":"cb-alpha","time":"{time}","message":"tunnel opened"}}"#
    ))
}
