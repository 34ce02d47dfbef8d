//! `update`: the one place the state changes. No I/O: anything to do outside
//! comes back as an [`Effect`] for the runtime.

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers, MouseEventKind};
use ratatui::layout::Rect;

use super::event::{Effect, EngineStatus, Event, Progress};
use super::inbox::InboxKind;
use super::keymap::{Action, Scope, lookup};
use super::state::{App, Focus, Modal, PendingLaunch, Tab, TabState};
use crate::egress::allow_match::covering_entry;
use crate::egress::denial::{DenialKind, advice};
use crate::egress::propose::Proposal;

/// Lines one wheel notch scrolls.
const WHEEL_LINES: usize = 3;

pub fn update(app: &mut App, event: Event) -> Vec<Effect> {
    match event {
        Event::Key(key) if key.kind == KeyEventKind::Release => Vec::new(),
        Event::Key(key) => on_key(app, &key),
        Event::Paste(text) => on_paste(app, &text),
        Event::Mouse(mouse) => {
            match mouse.kind {
                MouseEventKind::ScrollUp => scroll(app, WHEEL_LINES, true),
                MouseEventKind::ScrollDown => scroll(app, WHEEL_LINES, false),
                _ => {}
            }
            Vec::new()
        }
        Event::Resize { cols, rows } => {
            app.screen = Rect::new(0, 0, cols, rows);
            resize_sessions(app)
        }
        other => super::background::on_background(app, other),
    }
}

fn on_key(app: &mut App, key: &KeyEvent) -> Vec<Effect> {
    if app.modal.is_some() {
        return super::modal::on_modal_key(app, key);
    }
    if app.focus == Focus::Terminal {
        return on_terminal_key(app, key);
    }
    app.message = None;
    let scopes: &[Scope] = match app.focus {
        Focus::Egress => &[Scope::Egress, Scope::Dashboard],
        Focus::Diff => &[Scope::Diff, Scope::Dashboard],
        _ => &[Scope::Agents, Scope::Dashboard],
    };
    match lookup(scopes, key, app.escape_key) {
        Some(
            action @ (Action::SelectNext
            | Action::SelectPrev
            | Action::OpenFile
            | Action::DiffBack
            | Action::ScrollUp
            | Action::ScrollDown),
        ) if app.focus == Focus::Diff => super::work::on_diff_action(app, action),
        Some(action) => on_action(app, action, key),
        None => Vec::new(),
    }
}

fn on_terminal_key(app: &mut App, key: &KeyEvent) -> Vec<Effect> {
    match lookup(&[Scope::Terminal], key, app.escape_key) {
        Some(Action::LeaveTerminal) => {
            app.focus = if app.diff.is_some() {
                Focus::Diff
            } else if app.egress_open {
                Focus::Egress
            } else {
                Focus::Agents
            };
            Vec::new()
        }
        Some(Action::ScrollUp) => {
            scroll(app, page(app), true);
            Vec::new()
        }
        Some(Action::ScrollDown) => {
            scroll(app, page(app), false);
            Vec::new()
        }
        _ => {
            let Some(tab) = app.tab_mut() else {
                return Vec::new();
            };
            // Typing returns to the live screen, as in any terminal.
            tab.scroll_anchor = None;
            vec![Effect::Key {
                id: tab.id,
                key: *key,
            }]
        }
    }
}

fn on_paste(app: &mut App, text: &str) -> Vec<Effect> {
    if let Some(Modal::Secret { input, .. }) = &mut app.modal {
        text.chars()
            .filter(|c| !c.is_control())
            .for_each(|c| input.push(c));
        return Vec::new();
    }
    if app.focus != Focus::Terminal || app.modal.is_some() {
        return Vec::new();
    }
    let Some(tab) = app.tab_mut() else {
        return Vec::new();
    };
    tab.scroll_anchor = None;
    vec![Effect::Paste {
        id: tab.id,
        text: text.to_owned(),
    }]
}

fn on_action(app: &mut App, action: Action, key: &KeyEvent) -> Vec<Effect> {
    match action {
        Action::SelectNext | Action::SelectPrev => {
            select(app, action == Action::SelectNext);
            Vec::new()
        }
        Action::Launch => request_launch(app),
        Action::Kill => {
            match app.tab() {
                Some(tab) if tab.state.holds_containers() && tab.state != TabState::Stopping => {
                    let id = tab.id;
                    if let Some(check) = super::work::check_before_kill(app, id) {
                        return check;
                    }
                    app.modal = Some(Modal::ConfirmKill(id));
                }
                Some(_) => app.info("this bottle is already gone or going"),
                None => app.info("no bottle to kill: launch one with Enter"),
            }
            Vec::new()
        }
        Action::NextTab | Action::PrevTab => {
            let n = app.tabs.len();
            if n > 0 {
                let step = if action == Action::NextTab { 1 } else { n - 1 };
                return show_tab(app, (app.current_tab + step) % n);
            }
            Vec::new()
        }
        Action::JumpTab => {
            if let KeyCode::Char(c) = key.code {
                let index = c.to_digit(10).map_or(0, |d| d as usize).saturating_sub(1);
                if index < app.tabs.len() {
                    return show_tab(app, index);
                }
            }
            Vec::new()
        }
        Action::ToggleEgress if app.diff.is_some() => {
            // The egress log takes the diff pane's place.
            let effects = super::work::toggle_diff(app);
            app.egress_open = true;
            app.focus = Focus::Egress;
            effects.into_iter().chain(resize_sessions(app)).collect()
        }
        Action::ToggleEgress => {
            app.egress_open = !app.egress_open;
            app.focus = if app.egress_open {
                Focus::Egress
            } else {
                Focus::Agents
            };
            resize_sessions(app)
        }
        Action::DenialsOnly => {
            if let Some(tab) = app.tab_mut() {
                tab.egress.toggle_denials_only();
            }
            Vec::new()
        }
        Action::AllowHost => allow_selected_host(app),
        Action::ProposeAllowlist => {
            propose_allowlist(app);
            Vec::new()
        }
        Action::RestartSidecar => restart_sidecar(app),
        Action::EnterTerminal => enter_terminal(app),
        Action::ScrollUp | Action::ScrollDown => {
            scroll(app, page(app), action == Action::ScrollUp);
            Vec::new()
        }
        Action::Inbox => {
            if app.inbox.is_empty() {
                app.info("nothing needs you: no agent waits, no new denial");
            } else {
                app.modal = Some(Modal::Inbox { selected: 0 });
            }
            Vec::new()
        }
        Action::Help => {
            app.modal = Some(Modal::Help);
            Vec::new()
        }
        Action::Quit => {
            let bottles = app.live_bottles();
            if bottles > 0 {
                app.modal = Some(Modal::ConfirmQuit { bottles });
                Vec::new()
            } else {
                app.quitting = true;
                vec![Effect::Quit {
                    teardown: true,
                    collect: false,
                }]
            }
        }
        Action::Collect => super::work::collect(app),
        Action::ToggleDiff => super::work::toggle_diff(app),
        // Only bound in the terminal, or the diff pane.
        Action::LeaveTerminal | Action::OpenFile | Action::DiffBack => Vec::new(),
    }
}

fn restart_sidecar(app: &mut App) -> Vec<Effect> {
    match app.tab() {
        Some(tab) if tab.egress_down.is_some() && tab.state.holds_containers() => {
            let id = tab.id;
            app.info("restarting the egress sidecar…");
            vec![Effect::RestartSidecar { id }]
        }
        Some(_) => {
            app.info("this bottle's egress sidecar is not down");
            Vec::new()
        }
        None => {
            app.info("no bottle selected");
            Vec::new()
        }
    }
}

fn enter_terminal(app: &mut App) -> Vec<Effect> {
    if let Some(tab) = app.tab_mut()
        && tab.terminal
        && let Some(who) = tab.held_by.take()
    {
        // Watching only: take the agent back from whoever holds it.
        let id = tab.id;
        tab.state = TabState::Launching(Progress::Step(
            crate::docker::bottle::LaunchStep::StartingAgent,
        ));
        let (rows, cols) = app.areas().pty_size();
        app.info(format!("taking the agent back from {who}…"));
        return vec![Effect::Reopen { id, rows, cols }];
    }
    match app.tab_mut() {
        Some(tab) if tab.terminal && tab.state == TabState::Running => {
            tab.needs_attention = false;
            let id = tab.id;
            app.inbox.resolve(id, |k| *k == InboxKind::Waiting);
            let Some(tab) = app.tab_mut() else {
                return Vec::new();
            };
            tab.scroll_anchor = None;
            app.focus = Focus::Terminal;
        }
        Some(tab) if matches!(tab.state, TabState::Exited(_)) => {
            // The bottle outlived its terminal (the agent exited, or the
            // engine connection was cut): open a new one in it.
            let id = tab.id;
            tab.state = TabState::Launching(Progress::Step(
                crate::docker::bottle::LaunchStep::StartingAgent,
            ));
            tab.needs_attention = false;
            app.inbox.resolve(id, |k| matches!(k, InboxKind::Exited(_)));
            let (rows, cols) = app.areas().pty_size();
            app.info("opening a new terminal in the bottle…");
            return vec![Effect::Reopen { id, rows, cols }];
        }
        Some(_) => app.info("this tab has no running terminal"),
        None => app.info("no bottle yet: select an agent and press Enter"),
    }
    Vec::new()
}

fn select(app: &mut App, next: bool) {
    if app.focus == Focus::Egress {
        if let Some(tab) = app.tab_mut() {
            if next {
                tab.egress.select_newer();
            } else {
                tab.egress.select_older();
            }
        }
        return;
    }
    let n = app.agents.len();
    if n == 0 {
        return;
    }
    app.selected_agent = if next {
        (app.selected_agent + 1).min(n - 1)
    } else {
        app.selected_agent.saturating_sub(1)
    };
}

fn request_launch(app: &mut App) -> Vec<Effect> {
    if let Some(problem) = &app.manifest_problem {
        let text = match problem {
            super::state::ManifestProblem::Missing => {
                "no manifest: run `claude-bottle init` to write one"
            }
            super::state::ManifestProblem::Invalid(_) => {
                "the manifest has errors: fix them (`claude-bottle validate`)"
            }
        };
        app.error(text);
        return Vec::new();
    }
    let engine = app
        .agents
        .get(app.selected_agent)
        .map_or(crate::settings::DEFAULT_ENGINE, |a| a.engine.as_str());
    let on = if app.several_engines() {
        format!(" {engine}")
    } else {
        String::new()
    };
    match app.engine_status(engine) {
        EngineStatus::Unavailable(why) => {
            let text = format!("cannot launch on engine{on}: {why}");
            app.error(text);
            return Vec::new();
        }
        EngineStatus::Connecting => {
            app.info(format!(
                "still connecting to the Docker engine{on}; launch again in a moment"
            ));
            return Vec::new();
        }
        EngineStatus::Ready { .. } => {}
    }
    match app.agents.get(app.selected_agent) {
        Some(agent) => match &agent.errors {
            Some(errors) => {
                let first = errors.lines().next().unwrap_or_default();
                let text = format!(
                    "{} cannot launch: {first} (`claude-bottle validate` lists every error)",
                    agent.name
                );
                app.error(text);
                Vec::new()
            }
            None => vec![Effect::Resolve {
                agent: agent.name.clone(),
            }],
        },
        None => Vec::new(),
    }
}

/// Starts a launch whose preflight was accepted and every question answered.
pub(super) fn start_launch(app: &mut App, pending: PendingLaunch) -> Vec<Effect> {
    let id = app.next_id;
    app.next_id += 1;
    app.tabs.push(Tab::new(
        id,
        &pending.resolved,
        TabState::Launching(Progress::Step(
            crate::docker::bottle::LaunchStep::CheckingRuntime,
        )),
    ));
    app.current_tab = app.tabs.len() - 1;
    let (rows, cols) = app.areas().pty_size();
    vec![Effect::Launch {
        id,
        resolved: pending.resolved,
        answers: pending.answers,
        rows,
        cols,
    }]
}

/// `a`: allows the selected denial's host, when an allowlist entry is what
/// refused it; any other denial gets what would change its outcome instead.
fn allow_selected_host(app: &mut App) -> Vec<Effect> {
    let Some(tab) = app.tab() else {
        app.info("no bottle selected");
        return Vec::new();
    };
    let Some(row) = tab.egress.selected_row() else {
        app.info("no log row selected");
        return Vec::new();
    };
    let Some(denial) = row.denial() else {
        app.info("select a denial (j/k), then press a");
        return Vec::new();
    };
    if DenialKind::of(denial) != Some(DenialKind::Allowlist) {
        let advice = advice(denial).unwrap_or_default();
        app.info(format!("not an allowlist denial: {advice}"));
        return Vec::new();
    }
    let Some(host) = crate::egress::denial::refused_host(denial) else {
        app.info("this denial names no host to allow");
        return Vec::new();
    };
    match covering_entry(tab.allow_entries(), &host) {
        Some(entry) if entry == host => {
            app.info(format!("{host} is already allowed for this bottle"));
        }
        Some(entry) => {
            app.info(format!(
                "{host} is already allowed for this bottle (by {entry})"
            ));
        }
        None => {
            let id = tab.id;
            app.info(format!("allowing {host} for this bottle…"));
            return vec![Effect::AllowHost { id, host }];
        }
    }
    Vec::new()
}

/// `p`: the allowlist entries that would have let this bottle's allowlist
/// denials through, to read and paste; nothing is changed.
fn propose_allowlist(app: &mut App) {
    let Some(tab) = app.tab() else {
        app.info("no bottle selected");
        return;
    };
    let entries = tab.allow_entries();
    let proposal = Proposal::new(&tab.egress.denials, Some(&entries));
    if proposal.hosts.is_empty() {
        let text = proposal.explanation().join(" ");
        app.info(text);
        return;
    }
    let bottle = tab.bottle.clone();
    app.modal = Some(Modal::Proposal { bottle, proposal });
}

fn show_tab(app: &mut App, index: usize) -> Vec<Effect> {
    app.current_tab = index;
    if let Some(tab) = app.tab_mut() {
        tab.unseen_output = false;
        tab.needs_attention = false;
    }
    // The diff pane follows the tab shown, or closes.
    let Some(diff_id) = app.diff.as_ref().map(|d| d.id) else {
        return Vec::new();
    };
    if app.tab().is_some_and(|t| t.id == diff_id) {
        return Vec::new();
    }
    let mut effects = super::work::toggle_diff(app);
    if app.tab().is_some_and(|t| t.workspace.is_some()) {
        effects = super::work::toggle_diff(app);
    }
    effects
}

/// Half the terminal pane, the usual Shift-PgUp step.
fn page(app: &App) -> usize {
    usize::from(app.areas().pty_size().0 / 2).max(1)
}

fn scroll(app: &mut App, lines: usize, back: bool) {
    let Some(tab) = app.tab_mut() else { return };
    let available = tab.lines.available;
    let now = tab.scroll_now();
    tab.set_scroll(if back {
        (now + lines).min(available)
    } else {
        now.saturating_sub(lines)
    });
}

pub(super) fn resize_sessions(app: &App) -> Vec<Effect> {
    let (rows, cols) = app.areas().pty_size();
    vec![Effect::ResizeSessions { rows, cols }]
}

/// Whether `key` is a plain character (for text fields).
pub(super) fn typed_char(key: &KeyEvent) -> Option<char> {
    match key.code {
        KeyCode::Char(c)
            if !key
                .modifiers
                .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
        {
            Some(c)
        }
        _ => None,
    }
}
