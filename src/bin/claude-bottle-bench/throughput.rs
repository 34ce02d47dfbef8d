//! Terminal throughput: the same bytes through raw vt100, through the
//! dashboard's session path, and through tmux.

use std::io::Sink;
use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use claude_bottle::session::{SCROLLBACK_LINES, Session, SessionNotice, SessionSpec, TermView};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::widgets::Block;
use ratatui::{TerminalOptions, Viewport};
use tokio::sync::mpsc::unbounded_channel;
use tokio::time::Instant as TokioInstant;
use tui_term::widget::PseudoTerminal;

use crate::data::{self, WorkDir};
use crate::report::{Summary, Table};
use crate::tmux::Tmux;

pub const ROWS: u16 = 50;
pub const COLS: u16 = 200;
/// The dashboard's frame interval (`runtime::FRAME`).
const FRAME: Duration = Duration::from_millis(16);
/// What the session's reader reads at once.
const CHUNK: usize = 64 * 1024;

pub fn run(quick: bool, work: &WorkDir, table: &mut Table) -> anyhow::Result<()> {
    let size = if quick { 512 << 10 } else { 64 << 20 };
    let repeats = if quick { 1 } else { 3 };
    // Each with its goals: times tmux, share of raw vt100.
    let workloads = [
        ("scrolling text", data::coloured_text(size), 2.0, 0.6),
        (
            "full-screen redraws",
            data::redraw_frames(size, ROWS, COLS),
            2.5,
            0.7,
        ),
    ];
    for (name, bytes, tmux_goal, raw_goal) in workloads {
        let path = work.file("throughput.bin", &bytes)?;
        let (mut raw, mut ours, mut tmux) = (Vec::new(), Vec::new(), Vec::new());
        let (mut undrawn, mut draw_ms, mut draw_share) = (Vec::new(), Vec::new(), Vec::new());
        let mut frames = Vec::new();
        for round in 0..repeats {
            eprintln!("  {name}: round {}", round + 1);
            raw.push(mb_per_s(bytes.len(), raw_vt100(&bytes)));
            let (elapsed, drawn, drawing) = dashboard_path(&path, true)?;
            ours.push(mb_per_s(bytes.len(), elapsed));
            #[allow(clippy::cast_precision_loss)]
            draw_ms.push(drawing.as_secs_f64() * 1e3 / drawn.max(1) as f64);
            draw_share.push(drawing.as_secs_f64() / elapsed.as_secs_f64() * 100.0);
            let (elapsed, _, _) = dashboard_path(&path, false)?;
            undrawn.push(mb_per_s(bytes.len(), elapsed));
            #[allow(clippy::cast_precision_loss)]
            frames.push(drawn as f64);
            tmux.push(mb_per_s(bytes.len(), through_tmux(&path)?));
        }
        let (raw, ours_s, tmux) = (Summary::of(&raw), Summary::of(&ours), Summary::of(&tmux));
        let mib = format!(
            "{:.1}",
            f64::from(u32::try_from(size >> 10).unwrap_or(u32::MAX)) / 1024.0
        );
        let judge = |ok: bool| (!quick).then_some(ok);
        let vs_tmux = ours_s.median / tmux.median;
        table.row(
            &format!("throughput, {name} ({mib} MiB, {COLS}x{ROWS}), MB/s: vs tmux"),
            ours_s.show(0),
            format!("tmux {}", tmux.show(0)),
            format!("{vs_tmux:.2}x"),
            &format!(">= {tmux_goal}x"),
            judge(vs_tmux >= tmux_goal),
        );
        let vs_raw = ours_s.median / raw.median;
        table.row(
            &format!(
                "throughput, {name}: vs raw vt100 (frames drawn: {})",
                Summary::of(&frames).show(0)
            ),
            ours_s.show(0),
            format!("raw vt100 {}", raw.show(0)),
            format!("{:.0}%", vs_raw * 100.0),
            &format!(">= {:.0}%", raw_goal * 100.0),
            judge(vs_raw >= raw_goal),
        );
        let undrawn = Summary::of(&undrawn);
        table.row(
            &format!(
                "throughput, {name}: session path drawing no frames (a frame took {} ms, {}% of the time)",
                Summary::of(&draw_ms).show(2),
                Summary::of(&draw_share).show(0)
            ),
            undrawn.show(0),
            format!("raw vt100 {}", raw.show(0)),
            format!("{:.0}%", undrawn.median / raw.median * 100.0),
            "",
            None,
        );
    }
    Ok(())
}

#[allow(clippy::cast_precision_loss)]
pub fn mb_per_s(bytes: usize, elapsed: Duration) -> f64 {
    bytes as f64 / elapsed.as_secs_f64() / 1e6
}

/// vt100 alone, in this process, fed as the reader feeds it.
fn raw_vt100(bytes: &[u8]) -> Duration {
    let mut parser = vt100::Parser::new(ROWS, COLS, SCROLLBACK_LINES);
    let start = Instant::now();
    for chunk in bytes.chunks(CHUNK) {
        parser.process(chunk);
    }
    std::hint::black_box(parser.screen().cursor_position());
    start.elapsed()
}

/// The shell command that copies a file to the terminal unchanged (no
/// LF -> CR LF translation, so every path parses the same bytes).
pub fn cat_script(path: &Path) -> String {
    format!("stty -opost; exec cat '{}'", path.display())
}

/// The real session path: `cat` under a PTY, the reader thread feeding the
/// shared vt100 screen, and a loop shaped like the dashboard's drawing the
/// screen through tui-term at most every 16 ms into a buffer of the pane's
/// size (rendered to escape codes and thrown away). Until the child exits
/// and every byte is parsed.
/// With `frames` false, only the last frame is drawn (to isolate drawing).
/// Returns the time, the frames drawn and the time spent drawing them.
fn dashboard_path(path: &Path, frames_on: bool) -> anyhow::Result<(Duration, u64, Duration)> {
    session_path(&sh_spec(&cat_script(path)), None, frames_on)
}

/// `sh -c script` in a session of the bench's size.
pub fn sh_spec(script: &str) -> SessionSpec {
    SessionSpec {
        program: "sh".into(),
        args: vec!["-c".into(), script.to_owned()],
        env: vec![],
        rows: ROWS,
        cols: COLS,
    }
}

/// [`dashboard_path`] for any session: `spec` under a PTY until it exits
/// with 0, timed from its spawn, or from writing `start` to it (a program
/// that waits for a line before it prints).
pub fn session_path(
    spec: &SessionSpec,
    start: Option<&[u8]>,
    frames_on: bool,
) -> anyhow::Result<(Duration, u64, Duration)> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    rt.block_on(async {
        let (tx, mut notices) = unbounded_channel();
        let mut began = Instant::now();
        let session = Session::spawn(1, spec, tx)?;
        if let Some(line) = start {
            // Let it connect and settle; its first output is not the workload.
            tokio::time::sleep(Duration::from_millis(300)).await;
            while notices.try_recv().is_ok() {}
            began = Instant::now();
            session.write(line.to_vec())?;
        }
        let view = session.view();
        let mut terminal = pane_terminal()?;
        let mut frames = 0;
        let mut drawing = Duration::ZERO;
        let mut dirty = false;
        let mut next_frame = TokioInstant::now();
        loop {
            if frames_on && dirty && TokioInstant::now() >= next_frame {
                view.take_dirty();
                let t = Instant::now();
                draw(&mut terminal, &view)?;
                drawing += t.elapsed();
                frames += 1;
                dirty = false;
                next_frame = TokioInstant::now() + FRAME;
            }
            tokio::select! {
                notice = notices.recv() => match notice {
                    Some(SessionNotice::Output(_) | SessionNotice::Bell(_)) => dirty = true,
                    // The workload has no synchronized updates to hold, and
                    // nobody takes it over.
                    Some(SessionNotice::Held(..) | SessionNotice::HeldElsewhere(..)) => {}
                    Some(SessionNotice::Exited(_, code)) => {
                        if code != Some(0) {
                            bail!("{} exited with {code:?}", spec.program);
                        }
                        break;
                    }
                    None => bail!("the session's notices stopped"),
                },
                () = tokio::time::sleep_until(next_frame), if dirty && frames_on => {}
            }
        }
        draw(&mut terminal, &view)?;
        frames += 1;
        Ok((began.elapsed(), frames, drawing))
    })
}

/// A ratatui terminal of the pane's size (the PTY plus a border) that
/// renders to nowhere, with a fixed viewport (no terminal to ask).
pub fn pane_terminal() -> anyhow::Result<Terminal<CrosstermBackend<Sink>>> {
    Ok(Terminal::with_options(
        CrosstermBackend::new(std::io::sink()),
        TerminalOptions {
            viewport: Viewport::Fixed(Rect::new(0, 0, COLS + 2, ROWS + 2)),
        },
    )?)
}

/// Draws a session's screen as `ui::terminal` does.
pub fn draw(
    terminal: &mut Terminal<CrosstermBackend<Sink>>,
    view: &TermView,
) -> anyhow::Result<()> {
    let screen = view.snapshot();
    terminal.draw(|frame| {
        frame.render_widget(
            PseudoTerminal::new(&screen).block(Block::bordered()),
            frame.area(),
        );
    })?;
    Ok(())
}

/// tmux, on its own server, a detached session of the same size running the
/// same command; until the command signals it is done. Includes the tmux
/// server's start (a few milliseconds).
fn through_tmux(path: &Path) -> anyhow::Result<Duration> {
    let tmux = Tmux::new("tp");
    let script = format!(
        "{}; tmux -L {} wait-for -S done",
        cat_script(path).replace("exec ", ""),
        tmux.socket()
    );
    let start = Instant::now();
    tmux.start("tp", COLS, ROWS, &script)
        .context("start tmux")?;
    tmux.run(&["wait-for", "done"])?;
    Ok(start.elapsed())
}
