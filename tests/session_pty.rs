//! Real pseudo-terminals: a child's output lands on the screen, typed input
//! is echoed, resizes reach the child, and exits are reported.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a broken fixture should fail the test loudly

mod common;

use std::time::{Duration, Instant};

use claude_bottle::session::{Session, SessionNotice, SessionSpec};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

fn sh(script: &str, rows: u16, cols: u16) -> SessionSpec {
    SessionSpec {
        program: "sh".into(),
        args: vec!["-c".into(), script.into()],
        env: vec![("GREETING".into(), "from-the-env".into())],
        rows,
        cols,
    }
}

/// Waits until the screen holds `needle`, failing with what it does hold.
fn wait_for_text(session: &Session, needle: &str) {
    let what = format!("{needle:?} on the screen");
    common::wait::until(
        &what,
        Duration::from_secs(10),
        Duration::from_millis(20),
        || {
            let text = session.view().contents();
            if text.contains(needle) {
                Ok(())
            } else {
                Err(text)
            }
        },
    );
}

fn wait_for_exit(rx: &mut UnboundedReceiver<SessionNotice>) -> Option<i32> {
    common::wait::until(
        "the child's exit",
        Duration::from_secs(10),
        Duration::from_millis(20),
        || {
            loop {
                match rx.try_recv() {
                    Ok(SessionNotice::Exited(_, code)) => return Ok(code),
                    Ok(_) => {}
                    Err(e) => return Err(e),
                }
            }
        },
    )
}

#[test]
fn output_lands_on_the_screen_with_colours_and_env() {
    let (tx, mut rx) = unbounded_channel();
    let session = Session::spawn(
        1,
        &sh(
            r#"printf '\033[31mred\033[0m %s\n' "$GREETING"; exit 3"#,
            24,
            80,
        ),
        tx,
    )
    .unwrap();
    assert_eq!(wait_for_exit(&mut rx), Some(3));
    wait_for_text(&session, "red from-the-env");
    session.view().with_screen(|screen| {
        let cell = screen.cell(0, 0).unwrap();
        assert_eq!(cell.contents(), "r");
        assert_eq!(cell.fgcolor(), vt100::Color::Idx(1));
    });
}

#[test]
fn output_notifies_once_until_the_loop_takes_it() {
    let (tx, mut rx) = unbounded_channel();
    let session = Session::spawn(
        2,
        &sh("for i in 1 2 3 4 5; do echo $i; done; sleep 0.3", 24, 80),
        tx,
    )
    .unwrap();
    wait_for_text(&session, "5");
    // However many reads it took, one notice until the dirty mark is taken.
    assert_eq!(rx.try_recv(), Ok(SessionNotice::Output(2)));
    assert!(rx.try_recv().is_err());
    assert!(session.view().take_dirty());
    assert_eq!(wait_for_exit(&mut rx), Some(0));
}

#[test]
fn typed_input_is_echoed_by_cat() {
    let (tx, _rx) = unbounded_channel();
    let session = Session::spawn(3, &sh("exec cat", 24, 80), tx).unwrap();
    session.write(b"hello pty\r".to_vec()).unwrap();
    // Once from the terminal's echo, once from cat.
    let deadline = Instant::now() + Duration::from_secs(10);
    while session.view().contents().matches("hello pty").count() < 2 {
        assert!(Instant::now() < deadline, "{}", session.view().contents());
        std::thread::sleep(Duration::from_millis(20));
    }
}

#[test]
fn resize_reaches_the_child() {
    let (tx, _rx) = unbounded_channel();
    let session = Session::spawn(
        4,
        &sh("stty size; read line; stty size; sleep 5", 24, 80),
        tx,
    )
    .unwrap();
    wait_for_text(&session, "24 80");
    session.resize(30, 100).unwrap();
    assert_eq!(session.view().size(), (30, 100));
    session.write(b"\r".to_vec()).unwrap();
    wait_for_text(&session, "30 100");
}

#[test]
fn kill_ends_the_child_and_reports_the_exit() {
    let (tx, mut rx) = unbounded_channel();
    let mut session = Session::spawn(5, &sh("echo started; sleep 60", 24, 80), tx).unwrap();
    wait_for_text(&session, "started");
    session.kill();
    let started = Instant::now();
    wait_for_exit(&mut rx);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn a_missing_program_is_an_error() {
    let (tx, _rx) = unbounded_channel();
    let spec = SessionSpec {
        program: "/nonexistent/program".into(),
        rows: 24,
        cols: 80,
        ..SessionSpec::default()
    };
    let err = Session::spawn(6, &spec, tx).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/program"), "{err}");
}

#[test]
fn the_bell_is_reported_even_when_the_screen_is_already_dirty() {
    let (tx, mut rx) = unbounded_channel();
    let session = Session::spawn(
        7,
        &sh(
            r"printf 'working'; sleep 0.3; printf '\a'; sleep 0.3; printf 'x\a'",
            24,
            80,
        ),
        tx,
    )
    .unwrap();
    let mut bells = 0;
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        match rx.try_recv() {
            Ok(SessionNotice::Bell(7)) => bells += 1,
            Ok(SessionNotice::Exited(..)) => break,
            Ok(_) => {}
            Err(_) => {
                assert!(Instant::now() < deadline);
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    // Nobody took the dirty mark, yet both bells arrived.
    assert_eq!(bells, 2);
    assert!(session.view().contents().contains("workingx"));
}

/// While a child floods its terminal, the thread drawing the screen still
/// gets it at frame rate: the parser hands the screen's lock over rather
/// than taking it straight back for its next piece.
#[test]
fn a_flood_of_output_never_keeps_the_screen_from_being_drawn() {
    let (tx, mut rx) = unbounded_channel();
    // Full-screen redraws, 4 MiB of them, written again and again for 3 to 4 s.
    let frames = std::env::temp_dir().join(format!("cb-flood-{}", std::process::id()));
    let mut redraws = Vec::new();
    while redraws.len() < 4 << 20 {
        for row in 1..=50 {
            redraws.extend_from_slice(format!("\x1b[{row};1H\x1b[2K\x1b[3{}m", row % 8).as_bytes());
            redraws.extend_from_slice(&[b'x'; 190]);
        }
    }
    std::fs::write(&frames, &redraws).unwrap();
    let script = format!(
        "stty -opost; end=$(($(date +%s) + 4)); while [ $(date +%s) -lt $end ]; do cat '{}'; done",
        frames.display()
    );
    let session = Session::spawn(11, &sh(&script, 50, 200), tx).unwrap();
    let view = session.view();
    // Let the flood start, then take snapshots as the dashboard does, as
    // often as we can, for 1.5 s.
    std::thread::sleep(Duration::from_millis(500));
    let began = Instant::now();
    let (mut snapshots, mut longest) = (0, Duration::ZERO);
    while began.elapsed() < Duration::from_millis(1500) {
        let asked = Instant::now();
        std::hint::black_box(view.snapshot());
        longest = longest.max(asked.elapsed());
        snapshots += 1;
    }
    let code = wait_for_exit(&mut rx);
    std::fs::remove_file(&frames).unwrap();
    assert_eq!(code, Some(0));
    // Frame rate (60 a second) is 90 in 1.5 s. Here about 600 are taken,
    // the longest wait a few ms; with a lock the parser took straight back,
    // 2, one of them after 1.8 s.
    assert!(
        snapshots >= 90,
        "only {snapshots} snapshots in 1.5 s of flood (the longest wait {longest:?})"
    );
}
