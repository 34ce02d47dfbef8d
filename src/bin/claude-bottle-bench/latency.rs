//! Input latency: a keystroke written through the session's input queue
//! until its echo is in the vt100 screen, while other sessions stream.

use std::time::{Duration, Instant};

use anyhow::bail;
use claude_bottle::session::{Session, SessionNotice, SessionSpec};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use crate::data::{self, WorkDir};
use crate::report::{Table, percentile};
use crate::throughput::{draw, pane_terminal, sh_spec};

const TARGET: u64 = 0;
/// Time between keystrokes (a fast typist).
const GAP: Duration = Duration::from_millis(10);

pub fn run(quick: bool, work: &WorkDir, table: &mut Table) -> anyhow::Result<()> {
    let keystrokes = if quick { 40 } else { 500 };
    let streams = if quick { 2 } else { 16 };
    let text = work.file("stream.bin", &data::coloured_text(4 << 20))?;
    let quiet = measure(keystrokes, 0, &text)?;
    let busy = measure(keystrokes, streams, &text)?;
    for (name, p) in [("p50", 50.0), ("p99", 99.0)] {
        let (b, q) = (percentile(&busy, p), percentile(&quiet, p));
        let goal = if name == "p99" { "< 16 ms" } else { "" };
        let met = (name == "p99" && !quick).then_some(b < 16.0);
        table.row(
            &format!("keystroke to echo in vt100, {name}, {streams} sessions streaming, ms ({keystrokes} keys)"),
            format!("{b:.2}"),
            format!("nothing streaming {q:.2}"),
            format!("{:.1}x", b / q),
            goal,
            met,
        );
    }
    Ok(())
}

/// Latencies in milliseconds of `keystrokes` keys typed into `cat` in raw
/// mode (the program echoes, as claude does), with `streams` other sessions
/// printing `text` in a loop.
fn measure(keystrokes: usize, streams: u64, text: &std::path::Path) -> anyhow::Result<Vec<f64>> {
    measure_with(&sh_spec(ECHO_SCRIPT), keystrokes, streams, text)
}

/// The program the keys are typed into: it echoes each, as claude does.
pub const ECHO_SCRIPT: &str = "stty raw -echo; echo READY; exec cat";

/// [`measure`] with the keys typed into the session `target` runs (which
/// must print READY, then echo what it reads).
pub fn measure_with(
    target: &SessionSpec,
    keystrokes: usize,
    streams: u64,
    text: &std::path::Path,
) -> anyhow::Result<Vec<f64>> {
    let (tx, mut notices) = unbounded_channel();
    let spec = |script: String| sh_spec(&script);
    let target = Session::spawn(TARGET, target, tx.clone())?;
    let mut others = Vec::new();
    for id in 1..=streams {
        let script = format!("stty -opost; while :; do cat '{}'; done", text.display());
        others.push(Session::spawn(id, &spec(script), tx.clone())?);
    }
    let view = target.view();
    let mut terminal = pane_terminal()?;
    let deadline = Instant::now() + Duration::from_secs(10);
    while !view.contents().contains("READY") {
        if Instant::now() > deadline {
            bail!("the echoing session did not start");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    // Let the streams get going.
    std::thread::sleep(Duration::from_millis(300));
    view.take_dirty();
    drain(&mut notices, &others);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .build()?;
    let mut latencies = Vec::with_capacity(keystrokes);
    for i in 0..keystrokes {
        let before = view.with_screen(vt100::Screen::cursor_position);
        let key: &[u8] = if i % 100 == 99 { b"\r\n" } else { b"x" };
        let start = Instant::now();
        target.write(key.to_vec())?;
        loop {
            let notice = rt.block_on(async {
                tokio::time::timeout(Duration::from_secs(5), notices.recv()).await
            });
            let Ok(notice) = notice else {
                bail!("no echo within 5 s");
            };
            match notice {
                Some(SessionNotice::Output(TARGET)) => {
                    // Take the mark before looking, so that output landing
                    // meanwhile sends a fresh notice.
                    view.take_dirty();
                    let moved = view.with_screen(vt100::Screen::cursor_position) != before;
                    if moved {
                        latencies.push(start.elapsed().as_secs_f64() * 1e3);
                        // The dashboard draws the shown tab; hidden ones
                        // only have their marks taken at a frame.
                        take_all(&others);
                        draw(&mut terminal, &view)?;
                        break;
                    }
                }
                Some(SessionNotice::Exited(id, code)) => {
                    bail!("session {id} exited ({code:?}) during the latency bench");
                }
                Some(_) => {}
                None => bail!("the notices stopped"),
            }
        }
        std::thread::sleep(GAP);
    }
    drop(others);
    drop(target);
    Ok(latencies)
}

fn take_all(others: &[Session]) {
    for s in others {
        s.view().take_dirty();
    }
}

fn drain(notices: &mut UnboundedReceiver<SessionNotice>, others: &[Session]) {
    while notices.try_recv().is_ok() {}
    for s in others {
        s.view().take_dirty();
    }
}
