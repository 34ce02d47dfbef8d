//! A container's output (a sidecar's egress log) followed as lines.

use bollard::container::LogOutput;
use bollard::query_parameters::LogsOptions;
use futures_util::StreamExt as _;

use super::engine::{Engine, EngineError};
use crate::egress::log::{LogLine, parse_line};
use crate::egress::tail::{LineSplitter, deliver};

/// Follows `container`'s parsed log lines from `since` (Unix seconds; 0 is
/// its start) until it stops, calling `on_line` for each; stops early when
/// `on_line` returns false. Following again after a restart or an engine
/// outage from the time it came back does not repeat what was shown.
pub async fn follow_since(
    engine: &Engine,
    container: &str,
    since: i32,
    mut on_line: impl FnMut(LogLine) -> bool,
) -> Result<(), EngineError> {
    raw_lines(engine, container, true, since, |line| {
        on_line(parse_line(line))
    })
    .await
}

/// `container`'s output from `since` (Unix seconds; 0 is its start), one line
/// at a time as written (blank lines skipped): what is there now, and with
/// `follow` everything after it until the container stops. Stops early when
/// `on_line` returns false.
pub async fn raw_lines(
    engine: &Engine,
    container: &str,
    follow: bool,
    since: i32,
    mut on_line: impl FnMut(&str) -> bool,
) -> Result<(), EngineError> {
    let options = LogsOptions {
        follow,
        stdout: true,
        stderr: true,
        since,
        ..Default::default()
    };
    let mut stream = engine.docker.logs(container, Some(options));
    // stdout carries the JSON events, stderr the plain-text notes; each has
    // its own partial line.
    let (mut out, mut err) = (LineSplitter::default(), LineSplitter::default());
    while let Some(chunk) = stream.next().await {
        let lines = match chunk? {
            LogOutput::StdOut { message } | LogOutput::Console { message } => out.push(&message),
            LogOutput::StdErr { message } => err.push(&message),
            LogOutput::StdIn { .. } => Vec::new(),
        };
        if !deliver(lines, &mut on_line) {
            return Ok(());
        }
    }
    deliver(out.finish().into_iter().chain(err.finish()), &mut on_line);
    Ok(())
}
