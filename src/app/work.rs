//! The agents' work on their workspaces, in the model: collecting it, the
//! offer before a bottle holding uncollected work is removed, the diff pane,
//! and the files two bottles on one repository both changed.

use std::collections::BTreeSet;

use crossterm::event::{KeyCode, KeyEvent};

use super::event::{AfterCheck, BottleId, Effect, Event};
use super::keymap::Action;
use super::state::{App, DiffView, FileView, Focus, Modal, TabState};
use super::update::{resize_sessions, typed_char};

/// `c`: collect the tab's work.
pub(super) fn collect(app: &mut App) -> Vec<Effect> {
    match app.tab() {
        Some(tab) if tab.workspace.is_none() => {
            app.info("this bottle has no workspace: nothing to collect");
            Vec::new()
        }
        Some(tab) if tab.state.holds_containers() && tab.state != TabState::Stopping => {
            let id = tab.id;
            app.info(format!("collecting {}'s work…", tab.agent));
            vec![Effect::Collect { id }]
        }
        Some(_) => {
            app.info("this bottle is gone or going");
            Vec::new()
        }
        None => {
            app.info("no bottle selected");
            Vec::new()
        }
    }
}

/// `x` on a tab with a workspace: first find whether it holds work not
/// collected. `None`: no workspace, the plain confirmation applies.
pub(super) fn check_before_kill(app: &mut App, id: BottleId) -> Option<Vec<Effect>> {
    let tab = app.tabs.iter().find(|t| t.id == id)?;
    tab.workspace.as_ref()?;
    app.info(format!("looking for {}'s uncollected work…", tab.agent));
    Some(vec![Effect::CheckWork {
        ids: vec![id],
        then: AfterCheck::Kill(id),
    }])
}

/// Tear down and quit: the bottles with a workspace are looked at first.
pub(super) fn quit_with_teardown(app: &mut App) -> Vec<Effect> {
    let ids: Vec<BottleId> = app
        .tabs
        .iter()
        .filter(|t| t.workspace.is_some() && t.state.holds_containers())
        .map(|t| t.id)
        .collect();
    if ids.is_empty() {
        app.quitting = true;
        return vec![Effect::Quit {
            teardown: true,
            collect: false,
        }];
    }
    app.info("looking for uncollected work before tearing down…");
    vec![Effect::CheckWork {
        ids,
        then: AfterCheck::Quit,
    }]
}

/// What was found; the offer when there is work, else what was waiting.
fn on_checked(
    app: &mut App,
    then: AfterCheck,
    pending: Vec<(BottleId, String)>,
    unreadable: Vec<(BottleId, String)>,
) -> Vec<Effect> {
    let agent = |app: &App, id: BottleId| {
        app.tabs
            .iter()
            .find(|t| t.id == id)
            .map_or_else(|| format!("bottle {id}"), |t| t.agent.clone())
    };
    let mut items: Vec<(BottleId, String, String)> = pending
        .into_iter()
        .map(|(id, what)| (id, agent(app, id), what))
        .collect();
    items.extend(unreadable.into_iter().map(|(id, why)| {
        let what = format!("work that could not be read ({why})");
        (id, agent(app, id), what)
    }));
    if !items.is_empty() {
        app.message = None;
        app.modal = Some(Modal::Uncollected { then, items });
        return Vec::new();
    }
    match then {
        AfterCheck::Kill(id) => {
            app.message = None;
            app.modal = Some(Modal::ConfirmKill(id));
            Vec::new()
        }
        AfterCheck::Quit => {
            app.quitting = true;
            vec![Effect::Quit {
                teardown: true,
                collect: false,
            }]
        }
    }
}

/// Keys of the offer: c collects then goes on, d drops the work and goes
/// on, Esc or n keeps everything.
pub(super) fn on_uncollected_key(
    app: &mut App,
    key: &KeyEvent,
    then: AfterCheck,
    items: Vec<(BottleId, String, String)>,
) -> Vec<Effect> {
    let collect = match typed_char(key) {
        Some('c' | 'C' | 'y' | 'Y') => true,
        Some('d' | 'D') => false,
        Some('n' | 'N') => {
            app.info("kept: nothing was removed");
            return Vec::new();
        }
        _ if key.code == KeyCode::Esc => {
            app.info("kept: nothing was removed");
            return Vec::new();
        }
        _ => {
            app.modal = Some(Modal::Uncollected { then, items });
            return Vec::new();
        }
    };
    match then {
        AfterCheck::Kill(id) => {
            if let Some(tab) = app.tab_by_id(id) {
                tab.state = TabState::Stopping;
            }
            vec![Effect::Kill { id, collect }]
        }
        AfterCheck::Quit => {
            app.quitting = true;
            vec![Effect::Quit {
                teardown: true,
                collect,
            }]
        }
    }
}

/// `w`: the diff pane for the tab, or closed.
pub(super) fn toggle_diff(app: &mut App) -> Vec<Effect> {
    if app.diff.take().is_some() {
        app.focus = if app.egress_open {
            Focus::Egress
        } else {
            Focus::Agents
        };
        return vec![Effect::WatchWork {
            id: None,
            file: None,
        }];
    }
    let Some(tab) = app.tab() else {
        app.info("no bottle selected");
        return Vec::new();
    };
    if tab.workspace.is_none() {
        app.info("this bottle has no workspace: no changes to show");
        return Vec::new();
    }
    let id = tab.id;
    app.diff = Some(DiffView {
        id,
        files: None,
        selected: 0,
        file: None,
    });
    app.focus = Focus::Diff;
    let mut effects = vec![Effect::WatchWork {
        id: Some(id),
        file: None,
    }];
    if !app.egress_open {
        app.egress_open = true;
        effects.extend(resize_sessions(app));
    }
    effects
}

/// Keys of the diff pane (the dashboard's own keys are looked up after).
pub(super) fn on_diff_action(app: &mut App, action: Action) -> Vec<Effect> {
    let page = app.areas().egress.map_or(10, |a| usize::from(a.height));
    let Some(diff) = app.diff.as_mut() else {
        return Vec::new();
    };
    let count = diff
        .files
        .as_ref()
        .and_then(|f| f.as_ref().ok())
        .map_or(0, Vec::len);
    match (action, diff.file.as_mut()) {
        (Action::SelectNext, Some(file)) => file.scroll += 1,
        (Action::SelectPrev, Some(file)) => file.scroll = file.scroll.saturating_sub(1),
        (Action::ScrollDown, Some(file)) => file.scroll += page,
        (Action::ScrollUp, Some(file)) => file.scroll = file.scroll.saturating_sub(page),
        (Action::SelectNext, None) => {
            diff.selected = (diff.selected + 1).min(count.saturating_sub(1));
        }
        (Action::SelectPrev, None) => diff.selected = diff.selected.saturating_sub(1),
        (Action::OpenFile, None) => {
            let path = diff
                .files
                .as_ref()
                .and_then(|f| f.as_ref().ok())
                .and_then(|f| f.get(diff.selected))
                .map(|f| f.path.clone());
            if let Some(path) = path {
                diff.file = Some(FileView {
                    path: path.clone(),
                    text: None,
                    scroll: 0,
                });
                return vec![Effect::WatchWork {
                    id: Some(diff.id),
                    file: Some(path),
                }];
            }
        }
        (Action::DiffBack, Some(_)) => {
            diff.file = None;
            return vec![Effect::WatchWork {
                id: Some(diff.id),
                file: None,
            }];
        }
        (Action::DiffBack, None) => return toggle_diff(app),
        _ => {}
    }
    Vec::new()
}

/// The workspace events from the runtime.
pub(super) fn on_work_event(app: &mut App, event: Event) -> Vec<Effect> {
    match event {
        Event::Workspace { id, repo } => {
            if let Some(tab) = app.tab_by_id(id) {
                tab.workspace = Some(repo);
            }
        }
        Event::WorkChecked {
            then,
            pending,
            unreadable,
        } => return on_checked(app, then, pending, unreadable),
        Event::CollectDone { id, result } => {
            let agent = app.tab_by_id(id).map_or_else(String::new, |tab| {
                // A collect before a kill failed: the bottle stays.
                if result.is_err() && tab.state == TabState::Stopping {
                    tab.state = if tab.terminal {
                        TabState::Running
                    } else {
                        TabState::Exited(None)
                    };
                }
                tab.agent.clone()
            });
            match result {
                Ok(text) => app.info(format!("{agent}: {text}")),
                Err(why) => app.error(format!("{agent}: {why}")),
            }
        }
        Event::Changes { id, files } => {
            if let (Some(tab), Ok(list)) = (app.tab_by_id(id), &files) {
                tab.changes.clone_from(list);
            }
            if let Some(diff) = app.diff.as_mut().filter(|d| d.id == id) {
                let count = files.as_ref().map_or(0, Vec::len);
                diff.selected = diff.selected.min(count.saturating_sub(1));
                diff.files = Some(files);
            }
        }
        Event::FileDiff { id, path, text } => {
            let open = app.diff.as_mut().filter(|d| d.id == id);
            if let Some(file) = open
                .and_then(|d| d.file.as_mut())
                .filter(|f| f.path == path)
            {
                file.text = Some(text);
            }
        }
        _ => {}
    }
    Vec::new()
}

/// The files this tab's agent changed that an agent in another live bottle
/// on the same repository changed too, and those agents.
pub fn overlap(app: &App, id: BottleId) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut files = BTreeSet::new();
    let mut agents = BTreeSet::new();
    let Some(tab) = app.tabs.iter().find(|t| t.id == id) else {
        return (files, agents);
    };
    let Some(repo) = &tab.workspace else {
        return (files, agents);
    };
    let mine: BTreeSet<&str> = tab.changes.iter().map(|c| c.path.as_str()).collect();
    let others = app
        .tabs
        .iter()
        .filter(|t| t.id != id && t.workspace.as_ref() == Some(repo) && t.state.holds_containers());
    for other in others {
        for change in &other.changes {
            if mine.contains(change.path.as_str()) {
                files.insert(change.path.clone());
                agents.insert(other.agent.clone());
            }
        }
    }
    (files, agents)
}

/// When a tab goes, the diff pane showing it goes too.
pub(super) fn forget_tab(app: &mut App, id: BottleId) -> Vec<Effect> {
    if app.diff.as_ref().is_some_and(|d| d.id == id) {
        return toggle_diff(app);
    }
    Vec::new()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::fixtures::{app, ch, key, running};
    use crate::app::update;
    use crate::workspace::FileChange;

    fn with_workspace(app: &mut App, agent: &str) -> BottleId {
        let id = running(app, agent, "");
        update(
            app,
            Event::Workspace {
                id,
                repo: "/home/u/project".into(),
            },
        );
        id
    }

    fn change(path: &str) -> FileChange {
        FileChange {
            path: path.into(),
            added: Some(2),
            removed: Some(1),
        }
    }

    #[test]
    fn killing_a_bottle_with_uncollected_work_offers_to_collect_it_first() {
        let mut a = app();
        let id = with_workspace(&mut a, "alpha");
        let then = AfterCheck::Kill(id);
        assert_eq!(
            update(&mut a, ch('x')),
            vec![Effect::CheckWork {
                ids: vec![id],
                then
            }]
        );
        let checked = |pending: Vec<(BottleId, String)>| Event::WorkChecked {
            then,
            pending,
            unreadable: Vec::new(),
        };
        update(&mut a, checked(vec![(id, "1 commit".into())]));
        assert!(matches!(a.modal, Some(Modal::Uncollected { .. })));
        assert_eq!(update(&mut a, key(KeyCode::Esc)), vec![]);
        assert!(a.modal.is_none() && a.tabs[0].state == TabState::Running);
        update(&mut a, checked(vec![(id, "1 commit".into())]));
        assert_eq!(
            update(&mut a, ch('c')),
            vec![Effect::Kill { id, collect: true }]
        );
        // A collect that fails leaves the bottle, said so.
        update(
            &mut a,
            Event::CollectDone {
                id,
                result: Err("refused".into()),
            },
        );
        assert_eq!(a.tabs[0].state, TabState::Running);
        assert!(a.message.as_ref().is_some_and(|m| m.is_error));
        // Nothing pending: the plain confirmation.
        update(&mut a, checked(Vec::new()));
        assert_eq!(a.modal, Some(Modal::ConfirmKill(id)));
    }

    #[test]
    fn quitting_with_teardown_looks_at_the_work_first() {
        let mut a = app();
        let id = with_workspace(&mut a, "alpha");
        running(&mut a, "beta", "");
        update(&mut a, ch('q'));
        assert_eq!(
            update(&mut a, ch('y')),
            vec![Effect::CheckWork {
                ids: vec![id],
                then: AfterCheck::Quit
            }]
        );
        update(
            &mut a,
            Event::WorkChecked {
                then: AfterCheck::Quit,
                pending: vec![(id, "uncommitted changes".into())],
                unreadable: Vec::new(),
            },
        );
        assert_eq!(
            update(&mut a, ch('d')),
            vec![Effect::Quit {
                teardown: true,
                collect: false
            }]
        );
    }

    #[test]
    fn the_diff_pane_lists_files_opens_one_and_closes() {
        let mut a = app();
        let id = with_workspace(&mut a, "alpha");
        let effects = update(&mut a, ch('w'));
        assert!(effects.contains(&Effect::WatchWork {
            id: Some(id),
            file: None
        }));
        assert_eq!(a.focus, Focus::Diff);
        let files = vec![change("a.rs"), change("b.rs")];
        update(
            &mut a,
            Event::Changes {
                id,
                files: Ok(files),
            },
        );
        update(&mut a, ch('j'));
        assert_eq!(
            update(&mut a, key(KeyCode::Enter)),
            vec![Effect::WatchWork {
                id: Some(id),
                file: Some("b.rs".into())
            }]
        );
        update(
            &mut a,
            Event::FileDiff {
                id,
                path: "b.rs".into(),
                text: Ok("+x\n".into()),
            },
        );
        let file = a.diff.as_ref().and_then(|d| d.file.clone()).unwrap();
        assert_eq!(file.text, Some(Ok("+x\n".into())));
        update(&mut a, key(KeyCode::Esc));
        assert!(a.diff.as_ref().is_some_and(|d| d.file.is_none()));
        assert_eq!(
            update(&mut a, key(KeyCode::Esc)),
            vec![Effect::WatchWork {
                id: None,
                file: None
            }]
        );
        assert!(a.diff.is_none());
        // A tab without a workspace has no diff to show.
        running(&mut a, "beta", "");
        update(&mut a, ch('w'));
        assert!(a.diff.is_none());
    }

    #[test]
    fn files_two_bottles_on_one_repository_changed_are_marked() {
        let mut a = app();
        let one = with_workspace(&mut a, "alpha");
        let two = with_workspace(&mut a, "beta");
        let other_repo = running(&mut a, "gamma", "");
        update(
            &mut a,
            Event::Workspace {
                id: other_repo,
                repo: "/elsewhere".into(),
            },
        );
        for (id, files) in [
            (one, vec![change("src/lib.rs"), change("README.md")]),
            (two, vec![change("src/lib.rs"), change("Cargo.toml")]),
            (other_repo, vec![change("README.md")]),
        ] {
            update(
                &mut a,
                Event::Changes {
                    id,
                    files: Ok(files),
                },
            );
        }
        let (files, agents) = overlap(&a, one);
        assert_eq!(files.into_iter().collect::<Vec<_>>(), ["src/lib.rs"]);
        assert_eq!(agents.into_iter().collect::<Vec<_>>(), ["beta"]);
        assert!(overlap(&a, other_repo).0.is_empty());
    }
}
