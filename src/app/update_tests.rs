//! Every key in every focus, and the background events, through `update`.

use crossterm::event::{KeyCode, MouseEvent, MouseEventKind};

use super::event::Leftover;
use super::fixtures::{
    app, blocked, ch, ctrl, key, opened, output, resolved, running, screen, shift,
};
use super::*;

#[test]
fn agent_list_keys_move_the_selection_within_bounds() {
    let mut a = app();
    assert!(update(&mut a, ch('j')).is_empty());
    assert_eq!(a.selected_agent, 1);
    update(&mut a, key(KeyCode::Down));
    assert_eq!(a.selected_agent, 1, "stops at the last agent");
    update(&mut a, ch('k'));
    assert_eq!(a.selected_agent, 0);
    update(&mut a, key(KeyCode::Up));
    assert_eq!(a.selected_agent, 0, "stops at the first agent");
}

#[test]
fn enter_and_l_ask_to_resolve_the_selected_agent() {
    let mut a = app();
    assert_eq!(
        update(&mut a, key(KeyCode::Enter)),
        vec![Effect::Resolve {
            agent: "alpha".into()
        }]
    );
    update(&mut a, ch('j'));
    assert_eq!(
        update(&mut a, ch('l')),
        vec![Effect::Resolve {
            agent: "beta".into()
        }]
    );
}

#[test]
fn launch_is_refused_with_the_fix_when_something_is_missing() {
    let mut a = app();
    a.set_engine(
        "default",
        EngineStatus::Unavailable("cannot reach the Docker engine".into()),
    );
    assert!(update(&mut a, key(KeyCode::Enter)).is_empty());
    assert!(
        a.message
            .as_ref()
            .unwrap()
            .text
            .contains("cannot reach the Docker engine")
    );
    a.set_engine("default", EngineStatus::Connecting);
    assert!(update(&mut a, key(KeyCode::Enter)).is_empty());
    assert!(
        a.message
            .as_ref()
            .unwrap()
            .text
            .contains("still connecting")
    );

    let mut a = App::new(vec![], Some(ManifestProblem::Missing), true);
    assert!(update(&mut a, key(KeyCode::Enter)).is_empty());
    assert!(
        a.message
            .as_ref()
            .unwrap()
            .text
            .contains("claude-bottle init")
    );
}

#[test]
fn preflight_then_hidden_prompt_then_launch() {
    let mut a = app();
    update(
        &mut a,
        Event::Resolved {
            agent: "alpha".into(),
            result: Ok(resolved("alpha")),
        },
    );
    assert!(matches!(a.modal, Some(Modal::Preflight(_))));
    // Unrelated keys keep the preflight open.
    assert!(update(&mut a, ch('z')).is_empty());
    assert!(matches!(a.modal, Some(Modal::Preflight(_))));
    assert!(update(&mut a, ch('y')).is_empty());
    assert!(matches!(a.modal, Some(Modal::Secret { .. })));
    for c in "hunter2x".chars() {
        update(&mut a, ch(c));
    }
    update(&mut a, key(KeyCode::Backspace));
    update(&mut a, Event::Paste("!".into()));
    let Some(Modal::Secret { input, .. }) = &a.modal else {
        panic!("secret prompt closed")
    };
    assert_eq!(input.expose(), "hunter2!");
    assert!(
        !format!("{:?}", a.modal).contains("hunter2"),
        "the answer never shows in Debug"
    );
    let effects = update(&mut a, key(KeyCode::Enter));
    let [
        Effect::Launch {
            id,
            resolved,
            answers,
            ..
        },
    ] = effects.as_slice()
    else {
        panic!("expected a launch, got {effects:?}")
    };
    assert_eq!(resolved.agent.name, "alpha");
    assert_eq!(answers.len(), 1);
    assert_eq!(answers[0].0, "DB_PASSWORD");
    assert_eq!(answers[0].1.expose(), "hunter2!");
    assert_eq!(a.tabs.len(), 1);
    assert_eq!(a.tabs[0].id, *id);
    assert!(a.modal.is_none());
    assert_eq!(
        a.agent_status("alpha"),
        AgentStatus::Starting("checking the runtime")
    );
}

#[test]
fn preflight_and_prompt_can_be_declined() {
    let mut a = app();
    for no in [ch('n'), key(KeyCode::Esc), ch('N')] {
        update(
            &mut a,
            Event::Resolved {
                agent: "alpha".into(),
                result: Ok(resolved("alpha")),
            },
        );
        assert!(update(&mut a, no).is_empty());
        assert!(a.modal.is_none());
    }
    update(
        &mut a,
        Event::Resolved {
            agent: "alpha".into(),
            result: Ok(resolved("alpha")),
        },
    );
    update(&mut a, ch('y'));
    update(&mut a, ch('s'));
    update(&mut a, ctrl('u'));
    let Some(Modal::Secret { input, .. }) = &a.modal else {
        panic!()
    };
    assert!(input.is_empty());
    assert!(update(&mut a, key(KeyCode::Esc)).is_empty());
    assert!(a.modal.is_none());
    assert!(a.tabs.is_empty());
}

#[test]
fn resolve_errors_are_shown() {
    let mut a = app();
    update(
        &mut a,
        Event::Resolved {
            agent: "alpha".into(),
            result: Err("GITHUB_TOKEN is not set".into()),
        },
    );
    let m = a.message.unwrap();
    assert!(m.is_error && m.text.contains("GITHUB_TOKEN is not set"));
}

#[test]
fn tabs_switch_with_tab_backtab_and_digits_and_clear_markers() {
    let mut a = app();
    let first = running(&mut a, "alpha", "one");
    let second = running(&mut a, "beta", "two");
    assert_eq!(a.current_tab, 1);
    update(&mut a, output(first, true));
    assert!(a.tabs[0].unseen_output && a.tabs[0].needs_attention);
    assert_eq!(a.agent_status("alpha"), AgentStatus::NeedsAttention);
    update(&mut a, output(second, false));
    assert!(!a.tabs[1].unseen_output, "the shown tab is being watched");
    update(&mut a, key(KeyCode::Tab));
    assert_eq!(a.current_tab, 0);
    assert!(!a.tabs[0].unseen_output && !a.tabs[0].needs_attention);
    update(&mut a, key(KeyCode::BackTab));
    assert_eq!(a.current_tab, 1);
    update(&mut a, ch('1'));
    assert_eq!(a.current_tab, 0);
    update(&mut a, ch('2'));
    assert_eq!(a.current_tab, 1);
    update(&mut a, ch('9'));
    assert_eq!(a.current_tab, 1, "no ninth tab");
}

#[test]
fn i_enters_the_terminal_and_the_chord_leaves_it() {
    let mut a = app();
    assert!(update(&mut a, ch('i')).is_empty());
    assert_eq!(a.focus, Focus::Agents, "no tab yet");
    let id = running(&mut a, "alpha", "$ ");
    update(&mut a, ch('i'));
    assert_eq!(a.focus, Focus::Terminal);
    // Dashboard keys are the agent's now.
    for typed in [ch('q'), ctrl('c'), key(KeyCode::Up)] {
        let Event::Key(pressed) = typed else {
            panic!("{typed:?}")
        };
        assert_eq!(
            update(&mut a, typed),
            vec![Effect::Key { id, key: pressed }]
        );
    }
    assert!(update(&mut a, ctrl(']')).is_empty());
    assert_eq!(a.focus, Focus::Agents);
    update(&mut a, ch('i'));
    update(&mut a, ctrl('5'));
    assert_eq!(a.focus, Focus::Agents, "Ctrl-] as terminals send it (0x1d)");
}

#[test]
fn pasted_text_goes_to_the_terminal_as_text() {
    // Its bytes (bracketed or not) are the runtime's to make, by the
    // child's modes: `session::keys` tests them.
    let mut a = app();
    let id = running(&mut a, "alpha", "$ ");
    update(&mut a, ch('i'));
    assert_eq!(
        update(&mut a, Event::Paste("ls\n".into())),
        vec![Effect::Paste {
            id,
            text: "ls\n".into()
        }]
    );
}

#[test]
fn scrolling_in_the_terminal_and_on_the_dashboard() {
    let mut a = app();
    let lines = (0..200)
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join("\r\n");
    let id = running(&mut a, "alpha", &lines);
    update(&mut a, shift(KeyCode::PageUp));
    let page = usize::from(a.areas().pty_size().0 / 2);
    assert_eq!(a.tabs[0].scroll_now(), page);
    update(&mut a, shift(KeyCode::PageDown));
    assert_eq!(a.tabs[0].scroll_now(), 0);
    let wheel = |kind| {
        Event::Mouse(MouseEvent {
            kind,
            column: 50,
            row: 10,
            modifiers: crossterm::event::KeyModifiers::NONE,
        })
    };
    update(&mut a, wheel(MouseEventKind::ScrollUp));
    assert_eq!(a.tabs[0].scroll_now(), 3);
    update(&mut a, ch('i'));
    assert_eq!(
        a.tabs[0].scroll_now(),
        0,
        "entering the terminal shows the live screen"
    );
    update(&mut a, shift(KeyCode::PageUp));
    update(&mut a, shift(KeyCode::PageUp));
    assert_eq!(a.tabs[0].scroll_now(), 2 * page);
    update(&mut a, ch('x'));
    assert_eq!(
        a.tabs[0].scroll_now(),
        0,
        "typing returns to the live screen"
    );
    for _ in 0..100 {
        update(&mut a, wheel(MouseEventKind::ScrollUp));
    }
    let available = screen(id).scrollback_available();
    assert_eq!(
        a.tabs[0].scroll_now(),
        available,
        "never past the oldest line"
    );
    update(&mut a, wheel(MouseEventKind::ScrollDown));
    assert_eq!(a.tabs[0].scroll_now(), available - 3);
}

#[test]
fn x_asks_before_killing_and_kill_done_removes_the_tab() {
    let mut a = app();
    update(&mut a, ch('x'));
    assert!(a.modal.is_none());
    let id = running(&mut a, "alpha", "");
    update(&mut a, ch('x'));
    assert_eq!(a.modal, Some(Modal::ConfirmKill(id)));
    assert!(update(&mut a, ch('n')).is_empty());
    assert!(a.modal.is_none());
    update(&mut a, ch('x'));
    assert_eq!(
        update(&mut a, ch('y')),
        vec![Effect::Kill { id, collect: false }]
    );
    assert_eq!(a.tabs[0].state, TabState::Stopping);
    assert_eq!(a.agent_status("alpha"), AgentStatus::Stopping);
    update(&mut a, Event::KillDone { id, result: Ok(()) });
    assert!(a.tabs.is_empty());
    assert_eq!(a.agent_status("alpha"), AgentStatus::Idle);
}

#[test]
fn kill_failures_are_shown_and_keep_the_tab() {
    let mut a = app();
    let id = running(&mut a, "alpha", "");
    update(
        &mut a,
        Event::KillDone {
            id,
            result: Err("engine gone".into()),
        },
    );
    assert!(matches!(&a.tabs[0].state, TabState::Failed(r) if r.contains("engine gone")));
    assert!(a.message.unwrap().text.contains("claude-bottle gc"));
}

#[test]
fn e_toggles_the_egress_pane_and_resizes_sessions() {
    let mut a = app();
    let closed = a.areas().pty_size();
    let effects = update(&mut a, ch('e'));
    assert!(a.egress_open);
    assert_eq!(a.focus, Focus::Egress);
    let (rows, cols) = a.areas().pty_size();
    assert!(rows < closed.0);
    assert_eq!(effects, vec![Effect::ResizeSessions { rows, cols }]);
    update(&mut a, key(KeyCode::Esc));
    assert!(!a.egress_open);
    update(&mut a, ch('e'));
    update(&mut a, ch('e'));
    assert!(!a.egress_open);
    assert_eq!(a.focus, Focus::Agents);
}

#[test]
fn egress_keys_select_filter_and_allow() {
    let mut a = app();
    let id = running(&mut a, "alpha", "");
    update(
        &mut a,
        Event::Egress {
            id,
            line: blocked("evil.example", "2026-04-28T15:05:20Z"),
        },
    );
    update(
        &mut a,
        Event::Egress {
            id,
            line: opened("api.anthropic.com", "2026-04-28T15:05:21Z"),
        },
    );
    update(
        &mut a,
        Event::Egress {
            id,
            line: blocked("docs.rs", "2026-04-28T15:05:22Z"),
        },
    );
    update(&mut a, ch('e'));
    // The newest row is a denial of a host already on the list.
    assert!(update(&mut a, ch('a')).is_empty());
    assert!(a.message.as_ref().unwrap().text.contains("already allowed"));
    update(&mut a, ch('k'));
    assert!(update(&mut a, ch('a')).is_empty(), "not a denial");
    update(&mut a, key(KeyCode::Up));
    assert_eq!(
        update(&mut a, ch('a')),
        vec![Effect::AllowHost {
            id,
            host: "evil.example".into()
        }]
    );
    update(
        &mut a,
        Event::AllowDone {
            id,
            host: "evil.example".into(),
            result: Ok(()),
        },
    );
    assert_eq!(a.tabs[0].allowed_here, vec!["evil.example".to_string()]);
    assert!(matches!(a.modal, Some(Modal::SaveHost(_))));
    assert!(update(&mut a, ch('n')).is_empty());
    assert!(update(&mut a, ch('a')).is_empty(), "now allowed");
    update(&mut a, ch('j'));
    update(&mut a, key(KeyCode::Down));
    assert_eq!(a.tabs[0].egress.selected, None, "follows the newest again");
    update(&mut a, ch('d'));
    assert!(a.tabs[0].egress.denials_only);
    assert_eq!(a.tabs[0].egress.visible().count(), 2);
    update(
        &mut a,
        Event::AllowDone {
            id,
            host: "x.example".into(),
            result: Err("sidecar gone".into()),
        },
    );
    assert!(a.message.as_ref().unwrap().is_error);
}

#[test]
fn help_opens_and_any_key_closes_it() {
    let mut a = app();
    update(&mut a, ch('?'));
    assert_eq!(a.modal, Some(Modal::Help));
    assert!(
        update(&mut a, ch('q')).is_empty(),
        "q closes help, does not quit"
    );
    assert!(a.modal.is_none());
}

#[test]
fn q_quits_at_once_with_no_bottles_and_asks_otherwise() {
    let mut a = app();
    assert_eq!(
        update(&mut a, ch('q')),
        vec![Effect::Quit {
            teardown: true,
            collect: false
        }]
    );
    assert!(a.quitting);

    let mut a = app();
    running(&mut a, "alpha", "");
    assert!(update(&mut a, ch('q')).is_empty());
    assert_eq!(a.modal, Some(Modal::ConfirmQuit { bottles: 1 }));
    update(&mut a, ch('z'));
    assert_eq!(a.modal, Some(Modal::ConfirmQuit { bottles: 1 }));
    update(&mut a, key(KeyCode::Esc));
    assert!(a.modal.is_none() && !a.quitting);
    update(&mut a, ch('q'));
    assert_eq!(
        update(&mut a, ch('k')),
        vec![Effect::Quit {
            teardown: false,
            collect: false
        }]
    );
    let mut b = app();
    running(&mut b, "alpha", "");
    update(&mut b, ch('q'));
    assert_eq!(
        update(&mut b, ch('y')),
        vec![Effect::Quit {
            teardown: true,
            collect: false
        }]
    );
}

#[test]
fn unbound_keys_do_nothing() {
    let mut a = app();
    for event in [ch('z'), key(KeyCode::F(5)), ctrl('x')] {
        assert!(update(&mut a, event).is_empty());
    }
    assert!(a.modal.is_none());
}

#[test]
fn launch_progress_failure_and_exit_show_in_states() {
    let mut a = app();
    update(
        &mut a,
        Event::Resolved {
            agent: "alpha".into(),
            result: Ok(super::fixtures::resolved_without_questions("alpha")),
        },
    );
    update(&mut a, ch('y'));
    let id = a.tabs[0].id;
    update(
        &mut a,
        Event::LaunchProgress {
            id,
            progress: Progress::BuildingImage("Step 3/9".into()),
        },
    );
    assert_eq!(
        a.agent_status("alpha"),
        AgentStatus::BuildingImage("Step 3/9".into())
    );
    update(
        &mut a,
        Event::LaunchFailed {
            id,
            reason: "no such image".into(),
        },
    );
    assert_eq!(
        a.agent_status("alpha"),
        AgentStatus::Failed("no such image".into())
    );
    assert!(a.message.as_ref().unwrap().is_error);
    assert_eq!(a.live_bottles(), 0);

    let id = running(&mut a, "beta", "");
    update(&mut a, ch('i'));
    update(&mut a, Event::SessionExited { id, code: Some(0) });
    assert_eq!(a.agent_status("beta"), AgentStatus::Exited(Some(0)));
    assert_eq!(a.focus, Focus::Agents, "the terminal is gone");
}

#[test]
fn resize_resizes_sessions_to_the_terminal_pane() {
    let mut a = app();
    let effects = update(
        &mut a,
        Event::Resize {
            cols: 200,
            rows: 50,
        },
    );
    assert_eq!(
        effects,
        vec![Effect::ResizeSessions {
            rows: 46,
            cols: 168
        }]
    );
}

#[test]
fn engine_state_and_failures_are_recorded() {
    let mut a = app();
    update(
        &mut a,
        Event::EngineState("default".into(), EngineStatus::Unavailable("down".into())),
    );
    assert_eq!(
        a.engine_status("default"),
        &EngineStatus::Unavailable("down".into())
    );
    update(&mut a, Event::Failure("tail ended".into()));
    assert!(a.message.as_ref().unwrap().is_error);
    update(&mut a, ch('j'));
    assert!(a.message.is_none(), "a key clears the message");
}

/// A running bottle whose log has one denial of `host`, allowed with `a`.
fn allowed_from_a_denial(host: &str) -> (App, u64) {
    let mut a = app();
    let id = running(&mut a, "alpha", "");
    update(
        &mut a,
        Event::Egress {
            id,
            line: blocked(host, "2026-04-28T15:05:20Z"),
        },
    );
    update(&mut a, ch('e'));
    assert_eq!(
        update(&mut a, ch('a')),
        vec![Effect::AllowHost {
            id,
            host: host.into()
        }]
    );
    assert_eq!(
        a.modal, None,
        "nothing is offered before the sidecar reloaded"
    );
    update(
        &mut a,
        Event::AllowDone {
            id,
            host: host.into(),
            result: Ok(()),
        },
    );
    (a, id)
}

fn offer(host: &str) -> Modal {
    Modal::SaveHost(SaveHost {
        host: host.into(),
        bottle: "web".into(),
        file: "/project/claude-bottle.json".into(),
    })
}

#[test]
fn allowing_a_host_offers_to_save_it_and_no_writes_nothing() {
    let (mut a, _) = allowed_from_a_denial("evil.example");
    assert_eq!(a.modal, Some(offer("evil.example")));
    assert!(update(&mut a, ch('x')).is_empty(), "other keys keep asking");
    assert!(update(&mut a, key(KeyCode::Enter)).is_empty());
    assert_eq!(a.modal, Some(offer("evil.example")));
    assert!(update(&mut a, ch('n')).is_empty());
    assert_eq!(a.modal, None);
    let text = &a.message.as_ref().unwrap().text;
    assert!(
        text.contains("evil.example allowed for this bottle only")
            && text.contains("/project/claude-bottle.json unchanged"),
        "{text}"
    );
    let (mut a, _) = allowed_from_a_denial("evil.example");
    assert!(update(&mut a, key(KeyCode::Esc)).is_empty());
    assert_eq!(a.modal, None);
}

#[test]
fn yes_saves_the_host_to_the_bottles_file_and_says_how_it_went() {
    let (mut a, _) = allowed_from_a_denial("evil.example");
    assert_eq!(
        update(&mut a, ch('y')),
        vec![Effect::SaveAllowHost {
            file: "/project/claude-bottle.json".into(),
            bottle: "web".into(),
            host: "evil.example".into(),
        }]
    );
    assert_eq!(a.modal, None);
    update(
        &mut a,
        Event::SaveDone {
            host: "evil.example".into(),
            file: "/project/claude-bottle.json".into(),
            result: Ok(()),
        },
    );
    let message = a.message.clone().unwrap();
    assert!(!message.is_error);
    assert_eq!(
        message.text,
        "evil.example added to /project/claude-bottle.json"
    );
    update(
        &mut a,
        Event::SaveDone {
            host: "evil.example".into(),
            file: "/project/claude-bottle.json".into(),
            result: Err("/project/claude-bottle.json: permission denied".into()),
        },
    );
    let message = a.message.clone().unwrap();
    assert!(
        message.is_error && message.text.contains("not saved: "),
        "{message:?}"
    );
}

#[test]
fn no_offer_when_the_allow_failed_or_another_question_is_open() {
    let mut a = app();
    let id = running(&mut a, "alpha", "");
    update(
        &mut a,
        Event::AllowDone {
            id,
            host: "x.example".into(),
            result: Err("sidecar gone".into()),
        },
    );
    assert_eq!(a.modal, None);
    update(&mut a, ch('x'));
    assert_eq!(a.modal, Some(Modal::ConfirmKill(id)));
    update(
        &mut a,
        Event::AllowDone {
            id,
            host: "x.example".into(),
            result: Ok(()),
        },
    );
    assert_eq!(a.modal, Some(Modal::ConfirmKill(id)), "not replaced");
}

#[test]
fn a_configured_escape_key_leaves_and_ctrl_bracket_then_reaches_the_agent() {
    let mut a = app();
    a.escape_key = keymap::EscapeKey::parse("ctrl-b").unwrap();
    let id = running(&mut a, "alpha", "$ ");
    update(&mut a, ch('i'));
    assert_eq!(a.focus, Focus::Terminal);
    let Event::Key(pressed) = ctrl(']') else {
        unreachable!()
    };
    assert_eq!(
        update(&mut a, ctrl(']')),
        vec![Effect::Key { id, key: pressed }]
    );
    assert_eq!(a.focus, Focus::Terminal);
    assert!(update(&mut a, ctrl('b')).is_empty());
    assert_eq!(a.focus, Focus::Agents);
}

#[test]
fn a_stopped_sidecar_marks_egress_down_and_r_restarts_it() {
    let mut a = app();
    let id = running(&mut a, "alpha", "");
    assert!(
        update(&mut a, ch('r')).is_empty(),
        "not down: nothing to do"
    );
    update(
        &mut a,
        Event::EgressDown {
            id,
            reason: "the egress sidecar stopped".into(),
        },
    );
    assert!(a.tabs[0].egress_down.is_some());
    let msg = a.message.clone().unwrap();
    assert!(msg.is_error && msg.text.contains("egress down"), "{msg:?}");
    assert_eq!(update(&mut a, ch('r')), vec![Effect::RestartSidecar { id }]);
    update(&mut a, Event::EgressUp { id });
    assert!(a.tabs[0].egress_down.is_none());
    assert!(a.message.unwrap().text.contains("running again"));
}

#[test]
fn an_exited_terminal_can_be_reopened_in_the_same_bottle() {
    let mut a = app();
    let id = running(&mut a, "alpha", "");
    update(&mut a, Event::SessionExited { id, code: Some(7) });
    assert_eq!(a.tabs[0].state, TabState::Exited(Some(7)));
    let effects = update(&mut a, ch('i'));
    assert!(
        matches!(effects.as_slice(), [Effect::Reopen { id: r, .. }] if *r == id),
        "{effects:?}"
    );
    // A reopened terminal that ends at once shows as exited again.
    update(&mut a, Event::SessionExited { id, code: None });
    assert_eq!(a.tabs[0].state, TabState::Exited(None));
}

#[test]
fn leftovers_are_offered_for_removal_or_kept() {
    let leftover = |s: &str| Leftover {
        session: s.into(),
        agent: "alpha".into(),
        containers: vec![format!("cb-alpha-{s}-agent")],
        networks: 2,
    };
    let mut a = app();
    update(
        &mut a,
        Event::Leftovers(vec![leftover("s1"), leftover("s2")]),
    );
    assert!(matches!(a.modal, Some(Modal::Leftovers(ref l)) if l.len() == 2));
    assert!(
        update(&mut a, ch('x')).is_empty(),
        "other keys keep it open"
    );
    assert_eq!(
        update(&mut a, ch('y')),
        vec![Effect::RemoveLeftovers {
            sessions: vec!["s1".into(), "s2".into()]
        }]
    );
    update(&mut a, Event::LeftoversRemoved(Ok(2)));
    assert!(a.message.clone().unwrap().text.contains("2 leftover"));

    let mut a = app();
    update(&mut a, Event::Leftovers(vec![leftover("s1")]));
    assert!(update(&mut a, ch('k')).is_empty());
    assert!(a.modal.is_none());
    assert!(a.message.unwrap().text.contains("kept"));
}

#[test]
fn removing_a_tab_to_the_left_keeps_the_shown_tab_shown() {
    let mut a = app();
    let first = running(&mut a, "alpha", "");
    let second = running(&mut a, "beta", "");
    let third = running(&mut a, "gamma", "");
    update(&mut a, ch('2'));
    assert_eq!(a.tab().unwrap().id, second);
    update(
        &mut a,
        Event::KillDone {
            id: first,
            result: Ok(()),
        },
    );
    assert_eq!(a.tab().unwrap().id, second, "not moved to {third}");
    update(
        &mut a,
        Event::KillDone {
            id: second,
            result: Ok(()),
        },
    );
    assert_eq!(a.tab().unwrap().id, third);
}

#[test]
fn a_scrolled_back_pane_stays_on_its_text_while_output_arrives() {
    let mut a = app();
    let numbered = |from: usize, to: usize| {
        (from..to).fold(String::new(), |text, i| text + &format!("line {i}\r\n"))
    };
    // Enough fast output that the history keeps it as output, read back
    // only when scrolled to.
    let id = running(&mut a, "alpha", &numbered(0, 5_000));
    update(&mut a, shift(KeyCode::PageUp));
    // As the pane draws it: back by the screen's count now.
    let first_row = |a: &App| {
        let view = screen(id);
        let back = a.tabs[0].lines_back(view.scroll_state());
        view.scrolled_lines(back)[0].to_string()
    };
    let before = first_row(&a);
    let back = a.tabs[0].scroll_now();
    let page = usize::from(a.areas().pty_size().0 / 2);
    let rows = usize::from(screen(id).size().0);
    // The screen holds the last rows - 1 lines and an empty one.
    assert_eq!(before, format!("line {}", 5_000 - (rows - 1) - page));

    screen(id).feed(numbered(5_000, 5_050).as_bytes());
    assert_eq!(first_row(&a), before, "drawn before the notice is handled");
    update(&mut a, output(id, false));
    assert_eq!(first_row(&a), before, "after the notice");
    assert_eq!(a.tabs[0].scroll_now(), back + 50);

    // Scrolling on from there moves from where the text is now.
    update(&mut a, shift(KeyCode::PageDown));
    assert_eq!(a.tabs[0].scroll_now(), back + 50 - page);

    // Back at the live screen, output moves the view as usual.
    update(&mut a, ch('i'));
    screen(id).feed(numbered(5_050, 5_060).as_bytes());
    update(&mut a, output(id, false));
    assert_eq!(a.tabs[0].scroll_now(), 0);
}

#[test]
fn an_agent_with_manifest_errors_does_not_launch_and_says_why() {
    let mut a = app();
    a.agents[1].errors = Some(
        "claude-bottle.json:3:20: bottles.offline.runtime: unknown runtime `gvisor`\nmore".into(),
    );
    assert_eq!(a.agent_status("beta"), AgentStatus::Invalid);
    update(&mut a, key(KeyCode::Down));
    assert!(update(&mut a, key(KeyCode::Enter)).is_empty());
    let message = format!("{:?}", a.message);
    assert!(
        message.contains("beta cannot launch: claude-bottle.json:3:20: bottles.offline.runtime"),
        "{message}"
    );
    assert!(a.modal.is_none() && a.tabs.is_empty());
    // The other agent still launches.
    update(&mut a, key(KeyCode::Up));
    assert_eq!(
        update(&mut a, key(KeyCode::Enter)),
        vec![Effect::Resolve {
            agent: "alpha".into()
        }]
    );
}

/// A running bottle with `lines` in its egress log and the egress pane focused.
fn egress_with(lines: &[&str]) -> (App, u64) {
    let mut a = app();
    let id = running(&mut a, "alpha", "");
    for line in lines {
        update(
            &mut a,
            Event::Egress {
                id,
                line: crate::egress::log::parse_line(line),
            },
        );
    }
    update(&mut a, ch('e'));
    (a, id)
}

#[test]
fn a_on_another_kind_of_denial_says_what_would_change_it_and_allows_nothing() {
    let (mut a, _) = egress_with(&[
        r#"{"event":"blocked","method":"CONNECT","target":"db.internal:5432","scanner":"ssrf","reason":"SSRF blocked: db.internal resolves to internal IP 10.1.2.3","request_id":"r1"}"#,
    ]);
    assert!(update(&mut a, ch('a')).is_empty());
    let text = &a.message.as_ref().unwrap().text;
    assert!(
        text.starts_with("not an allowlist denial") && text.contains("egress.private_hosts"),
        "{text}"
    );
    let (mut a, _) = egress_with(&[r#"{"event":"kill_switch_deny","method":"GET"}"#]);
    assert!(update(&mut a, ch('a')).is_empty());
    assert!(
        a.message
            .as_ref()
            .unwrap()
            .text
            .contains("kill switch is on")
    );
    let (mut a, _) = egress_with(&[r#"{"event":"anomaly","method":"STARTUP"}"#]);
    assert!(update(&mut a, ch('a')).is_empty());
    assert!(a.message.as_ref().unwrap().text.contains("select a denial"));
}

#[test]
fn a_knows_a_host_a_wildcard_entry_already_covers() {
    let (mut a, id) = egress_with(&[
        r#"{"event":"blocked","method":"CONNECT","target":"API.Example.net.:443","scanner":"allowlist","reason":"domain not in allowlist: api.example.net","request_id":"r1"}"#,
    ]);
    a.tabs[0].allowlist.push(crate::manifest::AllowEntry {
        host: "*.example.net".into(),
        origins: vec![crate::manifest::AllowOrigin::Manifest],
    });
    assert!(update(&mut a, ch('a')).is_empty());
    assert_eq!(
        a.message.as_ref().unwrap().text,
        "api.example.net is already allowed for this bottle (by *.example.net)"
    );
    a.tabs[0].allowlist.pop();
    assert_eq!(
        update(&mut a, ch('a')),
        vec![Effect::AllowHost {
            id,
            host: "api.example.net".into()
        }]
    );
}

#[test]
fn p_shows_the_allowlist_proposal_and_changes_nothing() {
    let (mut a, _) = egress_with(&[
        r#"{"event":"blocked","target":"pypi.org:443","scanner":"allowlist","request_id":"r1"}"#,
        r#"{"event":"blocked","target":"docs.rs:443","scanner":"allowlist","request_id":"r2"}"#,
        r#"{"event":"blocked","target":"[redacted-url]","scanner":"dlp","request_id":"r3"}"#,
    ]);
    assert!(update(&mut a, ch('p')).is_empty());
    let Some(Modal::Proposal { bottle, proposal }) = &a.modal else {
        panic!("no proposal: {:?}", a.modal)
    };
    assert_eq!(bottle, "web");
    assert_eq!(proposal.hosts, ["pypi.org"], "docs.rs is on the allowlist");
    assert_eq!(proposal.left_out.values().sum::<u32>(), 1);
    assert!(update(&mut a, ch('y')).is_empty(), "any key closes it");
    assert_eq!(a.modal, None);
    assert!(a.tabs[0].allowed_here.is_empty());

    let (mut a, _) = egress_with(&[
        r#"{"event":"blocked","target":"10.0.0.9:443","scanner":"core_ssrf","request_id":"r1"}"#,
    ]);
    assert!(update(&mut a, ch('p')).is_empty());
    assert_eq!(a.modal, None);
    let text = &a.message.as_ref().unwrap().text;
    assert!(
        text.starts_with("No allowlist entries to propose") && text.contains("1 private address"),
        "{text}"
    );
}

/// The model holds no live state: two copies given the same events make
/// the same effects and end the same, however the screens behind them move.
#[test]
fn update_is_a_function_of_the_model_and_the_event() {
    let mut a = app();
    let id = running(&mut a, "alpha", "$ ");
    let mut b = a.clone();
    // What the runtime's screen does now reaches neither copy.
    screen(id).feed(b"\x1b[?1h more output\r\n".repeat(100).as_slice());
    let events = || {
        vec![
            shift(KeyCode::PageUp),
            ch('i'),
            key(KeyCode::Up),
            Event::Paste("ls".into()),
            ctrl(']'),
            ch('e'),
            Event::Egress {
                id,
                line: blocked("evil.example", "2026-04-28T15:05:20Z"),
            },
        ]
    };
    let (mut from_a, mut from_b) = (Vec::new(), Vec::new());
    for (event_a, event_b) in events().into_iter().zip(events()) {
        from_a.push(update(&mut a, event_a));
        from_b.push(update(&mut b, event_b));
    }
    assert_eq!(from_a, from_b);
    assert_eq!(format!("{a:?}"), format!("{b:?}"));
    assert!(
        from_a
            .iter()
            .flatten()
            .any(|e| matches!(e, Effect::Key { .. }))
    );
}

#[test]
fn the_inbox_gathers_what_needs_the_user_and_goes_to_each() {
    use crate::app::fixtures::{blocked, output};
    use crate::app::inbox::InboxKind;
    let mut a = app();
    let alpha = running(&mut a, "alpha", "$ ");
    let beta = running(&mut a, "beta", "$ ");
    // beta is shown; alpha rings its bell unseen, and its sidecar denies.
    update(&mut a, output(alpha, true));
    update(
        &mut a,
        Event::Egress {
            id: alpha,
            line: blocked("evil.example.com", "2026-04-28T15:05:20Z"),
        },
    );
    // beta's bell counts too: it is shown, but nobody types into it.
    update(&mut a, output(beta, true));
    let items: Vec<(u64, &InboxKind)> = a.inbox.items().map(|i| (i.id, &i.kind)).collect();
    assert!(
        matches!(items.as_slice(), [(b, InboxKind::Waiting), (a1, InboxKind::Denial { host, .. }), (a2, InboxKind::Waiting)]
            if *b == beta && *a1 == alpha && *a2 == alpha && host == "evil.example.com"),
        "newest first: {items:?}"
    );

    // n opens it; Enter on the denial shows alpha's egress pane with that row.
    update(&mut a, ch('n'));
    assert!(matches!(a.modal, Some(Modal::Inbox { selected: 0 })));
    update(&mut a, ch('j'));
    update(&mut a, key(KeyCode::Enter));
    assert_eq!(a.tab().unwrap().id, alpha);
    assert!(a.egress_open && a.focus == Focus::Egress);
    let row = a.tab().unwrap().egress.selected_row().unwrap();
    assert!(row.is_denial());
    assert!(a.message.as_ref().unwrap().text.contains("a allows it"));
    assert_eq!(a.inbox.len(), 2);

    // Typing into alpha answers its waiting; beta's stays.
    update(&mut a, key(KeyCode::Esc));
    update(&mut a, ch('i'));
    assert_eq!(a.focus, Focus::Terminal);
    let left: Vec<u64> = a.inbox.items().map(|i| i.id).collect();
    assert_eq!(left, [beta]);
}

#[test]
fn an_ended_terminal_and_a_downed_sidecar_wait_in_the_inbox_until_dealt_with() {
    use crate::app::inbox::InboxKind;
    let mut a = app();
    let alpha = running(&mut a, "alpha", "$ ");
    let _beta = running(&mut a, "beta", "$ ");
    update(
        &mut a,
        Event::EgressDown {
            id: alpha,
            reason: "the egress sidecar stopped".into(),
        },
    );
    update(
        &mut a,
        Event::SessionExited {
            id: alpha,
            code: Some(3),
        },
    );
    let kinds: Vec<&InboxKind> = a.inbox.items().map(|i| &i.kind).collect();
    assert_eq!(
        kinds,
        [
            &InboxKind::Exited(Some(3)),
            &InboxKind::EgressDown("the egress sidecar stopped".into())
        ]
    );
    update(&mut a, Event::EgressUp { id: alpha });
    assert_eq!(a.inbox.len(), 1);
    update(&mut a, ch('n'));
    update(&mut a, key(KeyCode::Enter));
    assert_eq!(a.tab().unwrap().id, alpha);
    assert!(a.inbox.is_empty());
    assert!(
        a.message
            .as_ref()
            .unwrap()
            .text
            .contains("i opens a new one")
    );
    // Nothing left: n says so rather than opening an empty list.
    update(&mut a, ch('n'));
    assert!(a.modal.is_none());
}

#[test]
fn a_tab_taken_over_elsewhere_watches_and_i_takes_it_back() {
    let mut a = app();
    let id = running(&mut a, "alpha", "$ ");
    update(&mut a, ch('i'));
    assert_eq!(a.focus, Focus::Terminal);
    update(
        &mut a,
        Event::HeldElsewhere {
            id,
            who: "claude-bottle attach (pid 7 on h)".into(),
        },
    );
    assert_eq!(
        a.focus,
        Focus::Agents,
        "no typing into a tab that only watches"
    );
    assert!(a.message.as_ref().unwrap().text.contains("i takes it back"));
    let effects = update(&mut a, ch('i'));
    assert!(
        matches!(effects.as_slice(), [Effect::Reopen { id: reopened, .. }] if *reopened == id),
        "{effects:?}"
    );
    assert_eq!(a.tab().unwrap().held_by, None);
    update(&mut a, Event::Launched { id });
    assert_eq!(a.tab().unwrap().state, TabState::Running);
}
