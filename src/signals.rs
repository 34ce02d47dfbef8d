//! Every way a session can be told to end: Ctrl-C, SIGTERM and SIGHUP (the
//! terminal closing). `start` tears down on each; the dashboard keeps its
//! bottles, their claude running, when its terminal closes.

use tokio::signal::unix::{SignalKind, signal};

/// The code [`stop_requested`] gives for SIGHUP: the terminal closed.
pub const HANGUP_CODE: i32 = 129;

/// Resolves when the process is told to stop, with the conventional exit
/// code (128 + signal number).
pub async fn stop_requested() -> i32 {
    let (Ok(mut int), Ok(mut term), Ok(mut hup)) = (
        signal(SignalKind::interrupt()),
        signal(SignalKind::terminate()),
        signal(SignalKind::hangup()),
    ) else {
        // Without handlers the default action (exit) applies; wait forever here.
        std::future::pending::<()>().await;
        return 1;
    };
    tokio::select! {
        _ = int.recv() => 130,
        _ = term.recv() => 143,
        _ = hup.recv() => HANGUP_CODE,
    }
}
