//! The holder, run on the host (no engine): asking a holder whose claude
//! ended to leave always succeeds, so `i` on an ended tab starts claude
//! again; asking one whose claude still runs is refused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

const HOLD: &str = env!("CARGO_BIN_EXE_claude-bottle-hold");

fn hold(socket: &Path, args: &[&str]) -> Output {
    Command::new(HOLD)
        .arg("--socket")
        .arg(socket)
        .args(args)
        .output()
        .unwrap()
}

fn serve(socket: &Path, script: &str) -> Child {
    Command::new(HOLD)
        .arg("--socket")
        .arg(socket)
        .args(["serve", "--", "sh", "-c", script])
        .spawn()
        .unwrap()
}

/// Waits until the holder at `socket` answers `status` with `wanted` in it.
fn wait_for_status(socket: &Path, wanted: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let out = hold(socket, &["status"]);
        let status = String::from_utf8_lossy(&out.stdout);
        if status.contains(wanted) {
            return;
        }
        assert!(Instant::now() < deadline, "no {wanted} in {status}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

#[test]
fn a_holder_whose_claude_ended_always_leaves_when_asked() {
    let dir = tempfile::tempdir().unwrap();
    // The holder's answer raced its own end: about one ask in fifteen was
    // cut off and read as "claude still runs". Many rounds make that show.
    for round in 0..150 {
        let socket = dir.path().join(format!("{round}/socket"));
        let mut holder = serve(&socket, "exit 3");
        wait_for_status(&socket, "\"exited\":3");
        let left = hold(&socket, &["leave"]);
        assert!(
            left.status.success(),
            "round {round}: {}",
            String::from_utf8_lossy(&left.stderr)
        );
        assert!(!socket.exists(), "round {round}: the socket stayed");
        assert_eq!(holder.wait().unwrap().code(), Some(3), "round {round}");
    }
}

#[test]
fn a_holder_whose_claude_runs_stays_and_a_new_one_follows_one_that_left() {
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("socket");
    let mut first = serve(&socket, "read line; exit 4");
    wait_for_status(&socket, "\"exited\":null");
    let refused = hold(&socket, &["leave"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("claude still runs in this bottle"),
        "{refused:?}"
    );
    // A second holder on the same socket is refused while the first serves.
    let second = Command::new(HOLD)
        .arg("--socket")
        .arg(&socket)
        .args(["serve", "--", "true"])
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&second.stderr).contains("a holder already serves"));

    first.kill().unwrap();
    first.wait().unwrap();
    // A killed holder leaves its socket behind: asking it to leave is
    // answered by nobody, which is as good as gone, and a new one starts.
    assert!(hold(&socket, &["leave"]).status.success());
    let mut third = serve(&socket, "exit 5");
    wait_for_status(&socket, "\"exited\":5");
    assert!(hold(&socket, &["leave"]).status.success());
    assert_eq!(third.wait().unwrap().code(), Some(5));
}
