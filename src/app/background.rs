//! Events that come from the world rather than the keyboard: sessions,
//! launches, egress lines, the engine.

use crate::docker::holder;

use super::event::EngineStatus;
use super::event::{BottleId, Effect, Event, KeptBottle, Progress};
use super::inbox::{InboxItem, InboxKind};
use super::state::{App, Focus, Modal, PendingLaunch, SaveHost, Tab, TabState};

pub(super) fn on_background(app: &mut App, event: Event) -> Vec<Effect> {
    let current = app.tab().map(|t| t.id);
    let watching = |id| current == Some(id);
    let in_terminal = app.focus == Focus::Terminal;
    match event {
        Event::SessionOutput { id, bell, lines } => {
            on_output(app, id, bell, lines, watching(id), in_terminal);
        }
        Event::SessionExited { id, code } => on_exit(app, id, code),
        Event::HeldElsewhere { id, who } => {
            let watched = app.tab().is_some_and(|t| t.id == id);
            if let Some(tab) = app.tab_by_id(id) {
                tab.held_by = Some(who.clone());
            }
            if watched {
                if app.focus == Focus::Terminal {
                    app.focus = Focus::Agents;
                }
                app.info(format!(
                    "{who} took this agent over; the tab watches; i takes it back"
                ));
            }
        }
        Event::Resolved { agent, result } => match result {
            Ok(resolved) => {
                app.modal = Some(Modal::Preflight(PendingLaunch {
                    resolved,
                    answers: Vec::new(),
                }));
            }
            Err(reason) => app.error(format!("cannot launch {agent}: {reason}")),
        },
        Event::LaunchProgress { id, progress } => {
            if let Some(tab) = app.tab_by_id(id) {
                if matches!(tab.state, TabState::Launching(_)) {
                    tab.state = TabState::Launching(progress);
                }
            }
        }
        Event::Launched { id } => {
            if let Some(tab) = app.tab_by_id(id) {
                tab.state = TabState::Running;
                tab.terminal = true;
                tab.held_by = None;
            }
        }
        Event::LaunchFailed { id, reason } => {
            let agent = app.tab_by_id(id).map(|tab| {
                tab.state = TabState::Failed(reason.clone());
                tab.agent.clone()
            });
            app.error(format!(
                "{} failed to launch: {reason}",
                agent.unwrap_or_default()
            ));
        }
        Event::Egress { id, line } => on_egress(app, id, line),
        Event::EngineState(name, status) => on_engine_state(app, &name, status),
        Event::EgressDown { id, reason } => on_egress_down(app, id, &reason),
        Event::EgressUp { id } => {
            app.inbox
                .resolve(id, |k| matches!(k, InboxKind::EgressDown(_)));
            if let Some(tab) = app.tab_by_id(id) {
                let was_down = tab.egress_down.take().is_some();
                let agent = tab.agent.clone();
                if was_down {
                    app.info(format!("{agent}: egress sidecar running again"));
                }
            }
        }
        Event::KeptFound(kept) => return adopt_kept(app, kept),
        Event::Leftovers(leftovers) => match &mut app.modal {
            // Found on another engine while the first ones are asked about.
            Some(Modal::Leftovers(shown)) => shown.extend(leftovers),
            None | Some(Modal::Help) if !leftovers.is_empty() => {
                app.modal = Some(Modal::Leftovers(leftovers));
            }
            _ => {}
        },
        Event::LeftoversRemoved(result) => match result {
            Ok(n) => app.info(format!("{n} leftover bottle(s) removed")),
            Err(reason) => app.error(format!(
                "could not remove the leftover bottles: {reason} (`claude-bottle gc` retries)"
            )),
        },
        Event::AllowDone { id, host, result } => on_allow_done(app, id, &host, result),
        Event::SaveDone { host, file, result } => match result {
            Ok(()) => app.info(format!("{host} added to {}", file.display())),
            Err(reason) => app.error(format!("{host} was not saved: {reason}")),
        },
        Event::KillDone { id, result } => return on_kill_done(app, id, result),
        event @ (Event::Workspace { .. }
        | Event::WorkChecked { .. }
        | Event::CollectDone { .. }
        | Event::Changes { .. }
        | Event::FileDiff { .. }) => return super::work::on_work_event(app, event),
        Event::Failure(text) => app.error(text),
        // Input events are handled by `update` itself.
        Event::Key(_) | Event::Paste(_) | Event::Mouse(_) | Event::Resize { .. } => {}
    }
    Vec::new()
}

/// The sidecar reloaded with `host` allowed: offer to keep it in the manifest.
fn on_allow_done(app: &mut App, id: BottleId, host: &str, result: Result<(), String>) {
    match result {
        Ok(()) => {
            let offer = app.tab_by_id(id).map(|tab| {
                tab.allowed_here.push(host.to_owned());
                SaveHost {
                    host: host.to_owned(),
                    bottle: tab.bottle.clone(),
                    file: tab.manifest_file.clone(),
                }
            });
            app.info(format!("{host} allowed; the sidecar reloaded its config"));
            // Offer to keep it, unless something else is being asked.
            if app.modal.is_none() {
                app.modal = offer.map(Modal::SaveHost);
            }
        }
        Err(reason) => app.error(format!("could not allow {host}: {reason}")),
    }
}

fn on_egress_down(app: &mut App, id: BottleId, reason: &str) {
    if let Some(tab) = app.tab_by_id(id) {
        if tab.state.holds_containers() && tab.state != TabState::Stopping {
            let agent = tab.agent.clone();
            tab.egress_down = Some(reason.to_owned());
            app.inbox.push(InboxItem {
                id,
                agent: agent.clone(),
                kind: InboxKind::EgressDown(reason.to_owned()),
            });
            app.error(format!(
                "{agent}: egress down ({reason}); nothing leaves the bottle. \
                 r restarts the sidecar"
            ));
        }
    }
}

/// New output: marks for a tab not watched; a bell where nobody types is an
/// agent waiting for the user.
fn on_output(
    app: &mut App,
    id: BottleId,
    bell: bool,
    lines: crate::session::ScrollState,
    watching: bool,
    in_terminal: bool,
) {
    let mut waiting = None;
    if let Some(tab) = app.tab_by_id(id) {
        tab.lines = lines;
        if !watching {
            tab.unseen_output = true;
        }
        if bell && !(watching && in_terminal) {
            tab.needs_attention = true;
            waiting = Some(tab.agent.clone());
        }
    }
    if let Some(agent) = waiting {
        app.inbox.push(InboxItem {
            id,
            agent,
            kind: InboxKind::Waiting,
        });
    }
}

/// A sidecar log line: kept in the tab's log; a denial goes to the inbox.
fn on_egress(app: &mut App, id: BottleId, line: crate::egress::log::LogLine) {
    let mut denied = None;
    if let Some(tab) = app.tab_by_id(id) {
        tab.egress.push(line);
        if let Some(row) = tab.egress.newest()
            && let Some(denial) = row.denial()
        {
            let host = denial.host.clone().unwrap_or_else(|| "a request".into());
            denied = Some((tab.agent.clone(), host, row.seq));
        }
    }
    if let Some((agent, host, seq)) = denied {
        app.inbox.push(InboxItem {
            id,
            agent,
            kind: InboxKind::Denial { host, seq },
        });
    }
}

/// A tab for each kept bottle not shown yet, each found again by the
/// runtime.
fn adopt_kept(app: &mut App, kept: Vec<KeptBottle>) -> Vec<Effect> {
    let mut effects = Vec::new();
    for bottle in kept {
        let shown = app
            .tabs
            .iter()
            .any(|t| t.session.as_deref() == Some(bottle.session.as_str()));
        if shown {
            continue;
        }
        let id = app.next_id;
        app.next_id += 1;
        let mut tab = Tab::new(
            id,
            &bottle.resolved,
            TabState::Launching(Progress::Reattaching),
        );
        tab.session = Some(bottle.session.clone());
        app.tabs.push(tab);
        let (rows, cols) = app.areas().pty_size();
        effects.push(Effect::Adopt {
            id,
            session: bottle.session,
            resolved: bottle.resolved,
            rows,
            cols,
        });
    }
    if !effects.is_empty() {
        app.info(format!(
            "{} kept bottle(s) found; their agents kept working",
            effects.len()
        ));
    }
    effects
}

fn on_exit(app: &mut App, id: BottleId, code: Option<i32>) {
    let watched = app.tab().is_some_and(|t| t.id == id) && app.focus == Focus::Terminal;
    let mut ended = None;
    if let Some(tab) = app.tab_by_id(id) {
        // A reopened terminal that ended at once is still launching.
        let reopening = tab.terminal && matches!(tab.state, TabState::Launching(_));
        if tab.state == TabState::Running || reopening {
            tab.state = TabState::Exited(code);
            tab.needs_attention = !watched;
            ended = (!watched).then(|| tab.agent.clone());
        }
    }
    if let Some(agent) = ended {
        app.inbox.resolve(id, |k| *k == InboxKind::Waiting);
        app.inbox.push(InboxItem {
            id,
            agent,
            kind: InboxKind::Exited(code),
        });
    }
    if watched {
        app.focus = if app.egress_open {
            Focus::Egress
        } else {
            Focus::Agents
        };
        let text = match code {
            Some(holder::EXIT_HELD) => {
                "another viewer holds this agent (its pane says who); i takes it over".to_owned()
            }
            Some(holder::EXIT_TAKEN_OVER) => {
                "another viewer took this agent over; it keeps working; i takes it back".to_owned()
            }
            _ => {
                let code = code.map_or_else(|| "unknown".into(), |c| c.to_string());
                format!(
                    "the agent's terminal ended (exit code {code}); i opens a new one, x removes \
                     the bottle"
                )
            }
        };
        app.info(text);
    }
}

fn on_kill_done(app: &mut App, id: BottleId, result: Result<(), String>) -> Vec<Effect> {
    match result {
        Ok(()) => {
            let agent = app
                .tabs
                .iter()
                .find(|t| t.id == id)
                .map(|t| t.agent.clone());
            // Keep showing the tab that was shown: removing a tab to its
            // left must not move the user to another bottle.
            let shown = app.tab().map(|t| t.id).filter(|&t| t != id);
            app.tabs.retain(|t| t.id != id);
            app.inbox.resolve(id, |_| true);
            app.current_tab = shown
                .and_then(|s| app.tabs.iter().position(|t| t.id == s))
                .unwrap_or_else(|| app.current_tab.min(app.tabs.len().saturating_sub(1)));
            if app.focus == Focus::Terminal && app.tab().is_none_or(|t| !t.terminal) {
                app.focus = Focus::Agents;
            }
            app.info(format!("{} removed", agent.unwrap_or_default()));
            return super::work::forget_tab(app, id);
        }
        Err(reason) => {
            if let Some(tab) = app.tab_by_id(id) {
                tab.state = TabState::Failed(format!("teardown failed: {reason}"));
            }
            app.error(format!(
                "could not remove the bottle: {reason} (`claude-bottle gc` retries)"
            ));
        }
    }
    Vec::new()
}

/// An engine answers again or stops answering: say so when bottles run on
/// it (its own bottles only; the others go on).
fn on_engine_state(app: &mut App, name: &str, status: EngineStatus) {
    let has_bottles = app.tabs.iter().any(|t| t.engine == name);
    let was_ready = matches!(app.engine_status(name), EngineStatus::Ready { .. });
    if has_bottles && app.several_engines() {
        match &status {
            EngineStatus::Unavailable(why) if was_ready => {
                app.error(format!("engine {name} stopped answering: {why}"));
            }
            EngineStatus::Ready { .. } if !was_ready => {
                app.info(format!("engine {name} answers again"));
            }
            _ => {}
        }
    }
    app.set_engine(name, status);
}
