//! Whole-dashboard snapshots of the states a person meets.

use std::fmt::Write as _;

use crossterm::event::KeyCode;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::style::{Color, Modifier};

use crate::app::fixtures::{app, blocked, ch, key, opened, output, resolved, running};
use crate::app::{App, EngineStatus, Event, ManifestProblem, update};
use crate::egress::log::{LogLine, parse_line};

fn render(app: &App) -> Terminal<TestBackend> {
    let mut terminal =
        Terminal::new(TestBackend::new(app.screen.width, app.screen.height)).unwrap();
    let screens = crate::app::fixtures::screens();
    terminal
        .draw(|frame| super::draw(frame, app, &screens))
        .unwrap();
    terminal
}

fn text(terminal: &Terminal<TestBackend>) -> String {
    terminal.backend().to_string()
}

#[test]
fn no_manifest_says_how_to_fix_it() {
    let mut a = App::new(vec![], Some(ManifestProblem::Missing), true);
    a.set_engine(
        "default",
        EngineStatus::Ready {
            version: "20.10.24".into(),
        },
    );
    let t = render(&a);
    assert!(text(&t).contains("claude-bottle init"));
    insta::assert_snapshot!(t.backend());
}

#[test]
fn invalid_manifest_lists_the_errors() {
    let mut a = App::new(
        vec![],
        Some(ManifestProblem::Invalid(
            "claude-bottle.json:4:17 agents.alpha.bottle: no bottle named `webb`".into(),
        )),
        true,
    );
    a.set_engine(
        "default",
        EngineStatus::Ready {
            version: "20.10.24".into(),
        },
    );
    insta::assert_snapshot!(render(&a).backend());
}

#[test]
fn entries_with_errors_are_left_out_and_said_while_the_rest_can_launch() {
    let mut a = app();
    let error = "claude-bottle.json:14:20: bottles.offline.runtime: unknown runtime `gvisor`; expected `runc` or `runsc`";
    a.agents[1].errors = Some(error.into());
    a.entry_errors = Some(error.into());
    let t = render(&a);
    let s = text(&t);
    assert!(s.contains("    manifest errors "), "{s}");
    assert!(s.contains("they are left out"), "{s}");
    insta::assert_snapshot!(t.backend());
}

#[test]
fn no_engine_and_no_token_say_what_to_do() {
    let mut a = app();
    a.token_present = false;
    a.set_engine("default", EngineStatus::Unavailable(
        "cannot reach the Docker engine (socket not found). Start it (e.g. `sudo systemctl start docker` or `dockerd`), or point DOCKER_HOST at a running engine".into(),
    ));
    let t = render(&a);
    let s = text(&t);
    assert!(s.contains("No Docker engine") && s.contains("claude setup-token"));
    insta::assert_snapshot!(t.backend());
}

#[test]
fn agents_list_with_states() {
    let mut a = app();
    update(&mut a, ch('j'));
    insta::assert_snapshot!(render(&a).backend());
}

#[test]
fn running_tabs_with_markers() {
    let mut a = app();
    let first = running(
        &mut a,
        "alpha",
        "\x1b[32magent@alpha\x1b[0m:~/work$ ls\r\nsrc  Cargo.toml\r\n$ ",
    );
    running(&mut a, "beta", "beta is thinking…");
    update(&mut a, output(first, true));
    let t = render(&a);
    let s = text(&t);
    assert!(s.contains(" 1 alpha !"), "{s}");
    assert!(s.contains("beta is thinking"));
    insta::assert_snapshot!(t.backend());
    // The shown tab's colours come from the child.
    update(&mut a, ch('1'));
    update(&mut a, ch('i'));
    let t = render(&a);
    let buf = t.backend().buffer();
    let area = a.areas().terminal;
    assert_eq!(buf[(area.x + 1, area.y + 1)].fg, Color::Indexed(2));
    insta::assert_snapshot!("terminal_focused", t.backend());
}

#[test]
fn egress_pane_with_denials() {
    let mut a = app();
    let id = running(&mut a, "alpha", "$ ");
    let lines: Vec<LogLine> = vec![
        parse_line(
            r#"{"level":"info","component":"pipelock","event":"startup","listen":"0.0.0.0:8888","mode":"strict","version":"2.3.0","time":"2026-04-28T15:04:05Z","message":"pipelock started"}"#,
        ),
        opened("api.anthropic.com", "2026-04-28T15:04:09Z"),
        blocked("evil.example.com", "2026-04-28T15:05:20Z"),
        parse_line(
            r#"{"level":"warn","component":"pipelock","event":"blocked","method":"GET","url":"http://example.org/pkg.tgz","client_ip":"10.0.0.3","request_id":"req-14","scanner":"allowlist","reason":"domain not in allowlist: example.org","time":"2026-04-28T15:05:21Z","message":"request blocked"}"#,
        ),
        blocked("evil.example.com", "2026-04-28T15:05:22Z"),
        LogLine::Note("WARNING: listening on all interfaces".into()),
    ];
    for line in lines {
        update(&mut a, Event::Egress { id, line });
    }
    update(&mut a, ch('e'));
    update(&mut a, ch('k'));
    let t = render(&a);
    let s = text(&t);
    assert!(s.contains("3 denials") && s.contains("BLOCKED"));
    // Denials are red and bold.
    let buf = t.backend().buffer();
    let egress = a.areas().egress.unwrap();
    let blocked_cell = (egress.x..egress.right())
        .flat_map(|x| (egress.y..egress.bottom()).map(move |y| (x, y)))
        .find(|&(x, y)| buf[(x, y)].symbol() == "B" && buf[(x + 1, y)].symbol() == "L")
        .unwrap();
    assert_eq!(buf[blocked_cell].fg, Color::Red);
    assert!(buf[blocked_cell].modifier.contains(Modifier::BOLD));
    insta::assert_snapshot!(t.backend());
    update(&mut a, ch('d'));
    insta::assert_snapshot!("egress_denials_only", render(&a).backend());
}

/// Denials of every kind read sensibly: no reason, no target, redacted; a
/// redirect's two lines count once; the selected denial says what would
/// change its outcome.
#[test]
fn egress_pane_reads_every_kind_of_denial() {
    let mut a = app();
    let id = running(&mut a, "alpha", "$ ");
    let lines = [
        r#"{"level":"warn","component":"pipelock","event":"anomaly","method":"STARTUP","reason":"listening on 0.0.0.0 exposes the proxy","time":"2026-04-28T15:04:04Z","message":"anomaly"}"#,
        r#"{"level":"warn","component":"pipelock","event":"blocked","method":"GET","url":"http://b.example/next","request_id":"r1","scanner":"redirect","time":"2026-04-28T15:05:01Z","message":"request blocked"}"#,
        r#"{"level":"warn","component":"pipelock","event":"blocked","method":"GET","url":"http://a.example/start","request_id":"r1","scanner":"redirect","time":"2026-04-28T15:05:01Z","message":"request blocked"}"#,
        r#"{"level":"warn","component":"pipelock","event":"blocked","method":"CONNECT","target":"db.internal:5432","request_id":"r2","scanner":"ssrf","reason":"SSRF blocked: db.internal resolves to internal IP 10.1.2.3","time":"2026-04-28T15:05:02Z","message":"request blocked"}"#,
        r#"{"level":"warn","component":"pipelock","event":"blocked","method":"CONNECT","target":"[redacted-url]","request_id":"r3","scanner":"header_dlp","time":"2026-04-28T15:05:03Z","message":"request blocked"}"#,
        r#"{"level":"warn","component":"pipelock","event":"kill_switch_deny","method":"GET","request_id":"r4","time":"2026-04-28T15:05:04Z","message":"kill switch"}"#,
        r#"{"level":"warn","component":"pipelock","event":"blocked","method":"POST","url":"https://paste.example/[redacted]","request_id":"r5","scanner":"dlp","reason":"DLP match: GitHub Token (critical)","time":"2026-04-28T15:05:05Z","message":"request blocked"}"#,
        r#"{"level":"info","component":"pipelock","event":"shutdown","reason":"signal received","time":"2026-04-28T15:06:00Z","message":"shutting down"}"#,
    ];
    for line in lines {
        update(
            &mut a,
            Event::Egress {
                id,
                line: parse_line(line),
            },
        );
    }
    update(&mut a, ch('e'));
    update(&mut a, ch('k'));
    let t = render(&a);
    let s = text(&t);
    assert!(s.contains("5 denials"), "{s}");
    assert!(
        s.contains("(kill switch)") && s.contains("(redacted)"),
        "{s}"
    );
    assert!(s.contains("a GitHub Token secret"), "{s}");
    insta::assert_snapshot!(t.backend());
}

#[test]
fn the_allowlist_proposal_lists_entries_to_paste() {
    let mut a = app();
    let id = running(&mut a, "alpha", "$ ");
    let lines = [
        blocked("pypi.org", "2026-04-28T15:05:20Z"),
        blocked("files.pythonhosted.org", "2026-04-28T15:05:21Z"),
        blocked("pypi.org", "2026-04-28T15:05:22Z"),
        // Allowed since: covered now, not proposed.
        blocked("docs.rs", "2026-04-28T15:05:23Z"),
        parse_line(
            r#"{"level":"warn","event":"blocked","method":"CONNECT","target":"db.internal:5432","request_id":"r2","scanner":"ssrf","reason":"SSRF blocked: db.internal resolves to internal IP 10.1.2.3","time":"2026-04-28T15:05:24Z"}"#,
        ),
    ];
    for line in lines {
        update(&mut a, Event::Egress { id, line });
    }
    update(&mut a, ch('e'));
    assert!(update(&mut a, ch('p')).is_empty(), "nothing is changed");
    let t = render(&a);
    let s = text(&t);
    assert!(
        s.contains(r#""files.pythonhosted.org""#) && s.contains(r#""pypi.org""#),
        "{s}"
    );
    insta::assert_snapshot!(t.backend());
}

#[test]
fn the_preflight_names_the_workspace() {
    let mut a = app();
    let mut agent = resolved("alpha");
    agent.agent.workspace = Some(crate::manifest::WorkspaceSpec {
        repo: None,
        base: "main".into(),
        uncommitted: true,
        include: vec![".env".into()],
        pos: crate::manifest::json::Pos::default(),
    });
    update(
        &mut a,
        Event::Resolved {
            agent: "alpha".into(),
            result: Ok(agent),
        },
    );
    let shown = text(&render(&a));
    assert!(
        shown.contains(
            "Workspace: the repository claude-bottle is started in at main, with uncommitted"
        ),
        "{shown}"
    );
}

#[test]
fn preflight_modal() {
    let mut a = app();
    a.token_present = false;
    update(
        &mut a,
        Event::Resolved {
            agent: "alpha".into(),
            result: Ok(resolved("alpha")),
        },
    );
    let t = render(&a);
    assert!(!text(&t).contains("ghp_secret"), "values are never shown");
    insta::assert_snapshot!(t.backend());
}

#[test]
fn secret_prompt_never_shows_the_value() {
    let mut a = app();
    update(
        &mut a,
        Event::Resolved {
            agent: "alpha".into(),
            result: Ok(resolved("alpha")),
        },
    );
    update(&mut a, ch('y'));
    for c in "s3cr3t".chars() {
        update(&mut a, ch(c));
    }
    let t = render(&a);
    assert!(!text(&t).contains("s3cr3t"));
    assert!(text(&t).contains("••••••"));
    insta::assert_snapshot!(t.backend());
}

#[test]
fn confirm_kill_and_quit_modals() {
    let mut a = app();
    running(&mut a, "alpha", "$ ");
    update(&mut a, ch('x'));
    insta::assert_snapshot!("confirm_kill", render(&a).backend());
    update(&mut a, key(KeyCode::Esc));
    update(&mut a, ch('q'));
    insta::assert_snapshot!("confirm_quit", render(&a).backend());
}

#[test]
fn save_to_manifest_modal_names_the_file() {
    let mut a = app();
    let id = running(&mut a, "alpha", "$ ");
    let host = "evil.example".to_owned();
    update(
        &mut a,
        Event::AllowDone {
            id,
            host,
            result: Ok(()),
        },
    );
    let t = render(&a);
    assert!(text(&t).contains("/project/claude-bottle.json"));
    insta::assert_snapshot!(t.backend());
}

#[test]
fn help_overlay_lists_every_binding() {
    let mut a = app();
    update(&mut a, ch('?'));
    let t = render(&a);
    let s = text(&t);
    for b in crate::app::keymap::KEYMAP {
        assert!(s.contains(b.help), "help lacks {:?}", b.help);
    }
    insta::assert_snapshot!(t.backend());
}

#[test]
fn launch_failure_shows_in_the_pane() {
    let mut a = app();
    update(
        &mut a,
        Event::Resolved {
            agent: "beta".into(),
            result: Ok(crate::app::fixtures::resolved_without_questions("beta")),
        },
    );
    update(&mut a, ch('y'));
    let id = a.tabs[0].id;
    update(
        &mut a,
        Event::LaunchFailed {
            id,
            reason: "bottle \"web\" uses runtime \"runsc\", which is not registered".into(),
        },
    );
    insta::assert_snapshot!(render(&a).backend());
}

#[test]
fn no_token_alone_says_how_to_make_one() {
    let mut a = app();
    a.token_present = false;
    let t = render(&a);
    let s = text(&t);
    assert!(s.contains("claude setup-token") && !s.contains("No Docker engine"));
    insta::assert_snapshot!(t.backend());
}

#[test]
fn launching_states_show_in_the_list_and_the_pane() {
    use crate::app::Progress;
    use crate::docker::bottle::LaunchStep;
    let mut a = app();
    for agent in ["alpha", "beta"] {
        update(
            &mut a,
            Event::Resolved {
                agent: agent.into(),
                result: Ok(crate::app::fixtures::resolved_without_questions(agent)),
            },
        );
        update(&mut a, ch('y'));
    }
    let (first, second) = (a.tabs[0].id, a.tabs[1].id);
    update(
        &mut a,
        Event::LaunchProgress {
            id: first,
            progress: Progress::BuildingImage(
                "Step 4/9 : COPY claude /usr/local/bin/claude".into(),
            ),
        },
    );
    update(
        &mut a,
        Event::LaunchProgress {
            id: second,
            progress: Progress::Step(LaunchStep::StartingSidecar),
        },
    );
    let t = render(&a);
    let s = text(&t);
    assert!(
        s.contains("image: Step 4/9") && s.contains("starting the egress sidecar"),
        "{s}"
    );
    insta::assert_snapshot!(t.backend());
}

#[test]
fn scrolled_back_the_pane_shows_kept_lines_above_the_screen_in_colour() {
    let mut a = app();
    let mut output = String::new();
    for i in 0..200 {
        let _ = write!(output, "\x1b[3{}mline {i}\x1b[0m\r\n", i % 8);
    }
    running(&mut a, "alpha", &output);
    a.tabs[0].set_scroll(5);
    let t = render(&a);
    let s = text(&t);
    assert!(s.contains("5 lines back"), "{s}");
    // The pane's rows: the five newest lines that scrolled off, then the
    // live screen from its top.
    let rows = usize::from(a.areas().pty_size().0);
    let first_kept = 200 - (rows - 1) - 5;
    let row_of = |needle: &str| s.lines().position(|l| l.contains(needle));
    let top = row_of(&format!("line {first_kept} ")).expect("the oldest shown line");
    assert_eq!(
        row_of(&format!("line {} ", first_kept + 5)),
        Some(top + 5),
        "{s}"
    );
    let buffer = t.backend().buffer();
    let pane = a.areas().terminal;
    let cell = &buffer[(pane.x + 1, u16::try_from(top).unwrap())];
    assert_eq!(
        cell.fg,
        Color::Indexed(u8::try_from(first_kept % 8).unwrap())
    );
    insta::assert_snapshot!(t.backend());
}

#[test]
fn the_inbox_lists_what_needs_the_user_newest_first() {
    let mut a = app();
    let alpha = running(&mut a, "alpha", "$ ");
    let beta = running(&mut a, "beta", "$ ");
    update(
        &mut a,
        Event::Egress {
            id: alpha,
            line: blocked("evil.example.com", "2026-04-28T15:05:20Z"),
        },
    );
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
            id: beta,
            code: Some(0),
        },
    );
    update(&mut a, crate::app::fixtures::output(alpha, true));
    update(&mut a, ch('n'));
    update(&mut a, ch('j'));
    let t = render(&a);
    let s = text(&t);
    assert!(s.contains("Inbox: 4") && s.contains("n inbox 4"), "{s}");
    insta::assert_snapshot!(s);
}

#[test]
fn an_engine_that_does_not_answer_marks_only_its_own_agents_and_tabs() {
    let mut a = app();
    a.agents[1].engine = "big-box".into();
    a.set_engine(
        "big-box",
        EngineStatus::Ready {
            version: "27.1.0".into(),
        },
    );
    running(&mut a, "alpha", "alpha works");
    running(&mut a, "beta", "beta works");
    a.tabs[1].engine = "big-box".into();
    let s = text(&render(&a));
    assert!(
        s.contains("default 20.10.24") && s.contains("big-box 27.1.0"),
        "{s}"
    );
    assert!(
        s.contains(" 1 alpha@default ") && s.contains(" 2 beta@big-box "),
        "{s}"
    );
    assert!(
        s.contains("offline @big-box"),
        "the agent says its engine:\n{s}"
    );

    update(
        &mut a,
        Event::EngineState("big-box".into(), EngineStatus::Unavailable("gone".into())),
    );
    let t = render(&a);
    let s = text(&t);
    assert!(
        s.contains("big-box: unreachable") && s.contains("default 20.10.24"),
        "{s}"
    );
    assert!(s.contains(" 2 beta@big-box ✗ "), "its tab is marked:\n{s}");
    assert!(
        s.contains(" 1 alpha@default "),
        "the other tab is not:\n{s}"
    );
    assert!(
        s.contains("offline @big-box") && s.contains("engine unreachable"),
        "{s}"
    );
    assert!(
        a.message
            .as_ref()
            .is_some_and(|m| m.is_error && m.text.contains("big-box")),
        "{:?}",
        a.message
    );
    insta::assert_snapshot!(t.backend());

    // Launching on it is refused, naming it; the other engine's agents launch.
    update(
        &mut a,
        Event::Key(crossterm::event::KeyEvent::from(KeyCode::Esc)),
    );
    a.focus = crate::app::Focus::Agents;
    a.selected_agent = 1;
    assert!(update(&mut a, key(KeyCode::Enter)).is_empty());
    let refused = &a.message.as_ref().unwrap().text;
    assert!(
        refused.contains("cannot launch on engine big-box: gone"),
        "{refused}"
    );
    a.selected_agent = 0;
    assert!(
        !update(&mut a, key(KeyCode::Enter)).is_empty(),
        "alpha launches"
    );

    update(
        &mut a,
        Event::EngineState(
            "big-box".into(),
            EngineStatus::Ready {
                version: "27.1.0".into(),
            },
        ),
    );
    let s = text(&render(&a));
    assert!(
        s.contains(" 2 beta@big-box ") && !s.contains('✗'),
        "back:\n{s}"
    );
}
