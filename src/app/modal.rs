//! Keys while a modal is open: preflight, hidden prompts, confirmations, help.

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::event::{Effect, Secret};
use super::inbox::{InboxItem, InboxKind};
use super::state::{App, Focus, Modal, PendingLaunch, SaveHost, TabState};
use super::update::{resize_sessions, start_launch, typed_char};

pub(super) fn on_modal_key(app: &mut App, key: &KeyEvent) -> Vec<Effect> {
    let Some(modal) = app.modal.take() else {
        return Vec::new();
    };
    match modal {
        Modal::Help | Modal::Proposal { .. } => Vec::new(),
        Modal::Inbox { selected } => on_inbox_key(app, key, selected),
        Modal::Leftovers(leftovers) => match typed_char(key) {
            Some('y' | 'Y' | 'r' | 'R') => {
                app.info(format!("removing {} leftover bottle(s)…", leftovers.len()));
                vec![Effect::RemoveLeftovers {
                    sessions: leftovers.into_iter().map(|l| l.session).collect(),
                }]
            }
            Some('k' | 'K' | 'n' | 'N') => {
                app.info("leftover bottles kept; `claude-bottle gc` removes them later");
                Vec::new()
            }
            _ if key.code == KeyCode::Esc => {
                app.info("leftover bottles kept; `claude-bottle gc` removes them later");
                Vec::new()
            }
            _ => {
                app.modal = Some(Modal::Leftovers(leftovers));
                Vec::new()
            }
        },
        Modal::Preflight(pending) => match typed_char(key) {
            Some('y' | 'Y') => proceed(app, pending),
            Some('n' | 'N' | 'q') => Vec::new(),
            _ if key.code == KeyCode::Esc => Vec::new(),
            _ => {
                app.modal = Some(Modal::Preflight(pending));
                Vec::new()
            }
        },
        Modal::Secret { pending, input } => on_secret_key(app, key, pending, input),
        Modal::ConfirmKill(id) => {
            if matches!(typed_char(key), Some('y' | 'Y')) {
                if let Some(tab) = app.tab_by_id(id) {
                    tab.state = TabState::Stopping;
                }
                return vec![Effect::Kill { id, collect: false }];
            }
            Vec::new()
        }
        Modal::Uncollected { then, items } => {
            super::work::on_uncollected_key(app, key, then, items)
        }
        Modal::SaveHost(save) => match typed_char(key) {
            Some('y' | 'Y') => {
                app.info(format!("adding {} to {}…", save.host, save.file.display()));
                vec![Effect::SaveAllowHost {
                    file: save.file,
                    bottle: save.bottle,
                    host: save.host,
                }]
            }
            Some('n' | 'N') => not_saved(app, &save),
            _ if key.code == KeyCode::Esc => not_saved(app, &save),
            _ => {
                app.modal = Some(Modal::SaveHost(save));
                Vec::new()
            }
        },
        Modal::ConfirmQuit { bottles } => match typed_char(key) {
            Some('y' | 'Y') => super::work::quit_with_teardown(app),
            Some('k' | 'K') => quit(app, false),
            Some('n' | 'N') => Vec::new(),
            _ if key.code == KeyCode::Esc => Vec::new(),
            _ => {
                app.modal = Some(Modal::ConfirmQuit { bottles });
                Vec::new()
            }
        },
    }
}

/// j/k move, Enter goes to the item (and takes it off), Esc closes.
fn on_inbox_key(app: &mut App, key: &KeyEvent, selected: usize) -> Vec<Effect> {
    let last = app.inbox.len().saturating_sub(1);
    let keep_open = |app: &mut App, selected: usize| {
        app.modal = Some(Modal::Inbox {
            selected: selected.min(last),
        });
        Vec::new()
    };
    match (typed_char(key), key.code) {
        (Some('j'), _) | (_, KeyCode::Down) => keep_open(app, selected + 1),
        (Some('k'), _) | (_, KeyCode::Up) => keep_open(app, selected.saturating_sub(1)),
        (_, KeyCode::Enter) => match app.inbox.take(selected) {
            Some(item) => go_to(app, item),
            None => Vec::new(),
        },
        (Some('q' | 'n'), _) | (_, KeyCode::Esc) => Vec::new(),
        _ => keep_open(app, selected),
    }
}

/// Shows the tab an inbox item is about, and for a denial its log row,
/// selected, so `a` allows it.
fn go_to(app: &mut App, item: InboxItem) -> Vec<Effect> {
    let Some(index) = app.tabs.iter().position(|t| t.id == item.id) else {
        app.info(format!("{}'s bottle is gone", item.agent));
        return Vec::new();
    };
    let pane_was_open = app.egress_open;
    app.current_tab = index;
    let agent = item.agent;
    match item.kind {
        InboxKind::Denial { host, seq } => {
            app.egress_open = true;
            app.focus = Focus::Egress;
            let Some(tab) = app.tab_mut() else {
                return Vec::new();
            };
            tab.egress.denials_only = false;
            if tab.egress.visible().any(|r| r.seq == seq) {
                tab.egress.selected = Some(seq);
                app.info(format!("{agent}: {host} denied; a allows it"));
            } else {
                app.info(format!(
                    "{agent}: that denial of {host} has scrolled out of the log"
                ));
            }
        }
        InboxKind::Waiting => {
            app.focus = Focus::Agents;
            app.info(format!("{agent} waits for you; i types into it"));
        }
        InboxKind::Exited(_) => {
            app.focus = Focus::Agents;
            app.info(format!(
                "{agent}'s terminal ended; i opens a new one, x removes the bottle"
            ));
        }
        InboxKind::EgressDown(reason) => {
            app.focus = Focus::Agents;
            app.info(format!(
                "{agent}: egress down ({reason}); r restarts the sidecar"
            ));
        }
    }
    // The pane takes rows from the terminals.
    if app.egress_open == pane_was_open {
        Vec::new()
    } else {
        resize_sessions(app)
    }
}

fn not_saved(app: &mut App, save: &SaveHost) -> Vec<Effect> {
    app.info(format!(
        "{} allowed for this bottle only; {} unchanged",
        save.host,
        save.file.display()
    ));
    Vec::new()
}

fn quit(app: &mut App, teardown: bool) -> Vec<Effect> {
    app.quitting = true;
    vec![Effect::Quit {
        teardown,
        collect: false,
    }]
}

/// After the preflight or an answer: ask the next question, or launch.
fn proceed(app: &mut App, pending: PendingLaunch) -> Vec<Effect> {
    if pending.next_question().is_some() {
        app.modal = Some(Modal::Secret {
            pending,
            input: Secret::default(),
        });
        return Vec::new();
    }
    start_launch(app, pending)
}

fn on_secret_key(
    app: &mut App,
    key: &KeyEvent,
    mut pending: PendingLaunch,
    mut input: Secret,
) -> Vec<Effect> {
    match key.code {
        KeyCode::Esc => {
            app.info("launch cancelled");
            return Vec::new();
        }
        KeyCode::Enter => {
            if let Some((name, _)) = pending.next_question() {
                let name = name.to_owned();
                pending.answers.push((name, input));
            }
            return proceed(app, pending);
        }
        KeyCode::Backspace => input.pop(),
        KeyCode::Char('u') if key.modifiers.contains(KeyModifiers::CONTROL) => {
            input = Secret::default();
        }
        _ => {
            if let Some(c) = typed_char(key) {
                input.push(c);
            }
        }
    }
    app.modal = Some(Modal::Secret { pending, input });
    Vec::new()
}
