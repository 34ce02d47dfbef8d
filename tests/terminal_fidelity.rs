//! The pane draws claude as the user's own terminal does: claude's recorded
//! start-up screens (256-colour and truecolor) are replayed in tmux, the
//! reference terminal, and in the session screen drawn by tui-term as the
//! pane draws it; every cell must show the same character in the same
//! colours. Needs tmux only (no engine).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a broken fixture should fail the test loudly

mod common;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use claude_bottle::session::TermView;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::Color;
use tui_term::widget::{Cursor, PseudoTerminal};

const ROWS: u16 = 30;
const COLS: u16 = 100;

/// A tmux server of this test's own (`-L`), killed on drop.
struct Reference {
    socket: String,
}

impl Reference {
    fn tmux(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &self.socket, "-f", "/dev/null"]);
        cmd
    }

    /// `recording` written raw to a fresh 100x30 tmux pane (the pane's tty
    /// echoes nothing, so tmux's answers to claude's queries do not show).
    fn replay(name: &str, recording: &Path) -> Self {
        let reference = Self {
            socket: format!("cb-fidelity-{name}-{}", std::process::id()),
        };
        let script = format!(
            "stty raw -echo; cat '{}'; echo; sleep 600",
            recording.display()
        );
        let status = reference
            .tmux()
            .args(["new-session", "-d", "-s", "replay", "-x", "100", "-y", "30"])
            .arg(&script)
            .status()
            .expect("tmux is installed (apt-get install tmux)");
        assert!(status.success());
        reference
    }

    /// The pane's screen with its colours, read back into an emulator.
    fn screen(&self) -> vt100::Parser {
        let out = self
            .tmux()
            .args(["capture-pane", "-p", "-e", "-t", "replay"])
            .output()
            .unwrap();
        assert!(out.status.success());
        let mut parser = vt100::Parser::new(ROWS, COLS, 0);
        // One line a row; a newline after the last would scroll the first off.
        let text = String::from_utf8_lossy(&out.stdout)
            .trim_end_matches('\n')
            .replace('\n', "\r\n");
        parser.process(text.as_bytes());
        parser
    }
}

impl Drop for Reference {
    fn drop(&mut self) {
        let _ = self.tmux().arg("kill-server").status();
    }
}

/// The recording as the dashboard's pane draws it.
fn pane(recording: &[u8]) -> Buffer {
    let view = TermView::new(ROWS, COLS);
    view.feed(recording);
    let mut terminal = Terminal::new(TestBackend::new(COLS, ROWS)).unwrap();
    terminal
        .draw(|frame| {
            view.with_screen(|screen| {
                // As an unfocused pane draws it: the agent's cursor hidden.
                let cursor = Cursor::default().visibility(false);
                frame.render_widget(PseudoTerminal::new(screen).cursor(cursor), frame.area());
            });
        })
        .unwrap();
    terminal.backend().buffer().clone()
}

fn colour(c: vt100::Color) -> Color {
    match c {
        vt100::Color::Default => Color::Reset,
        vt100::Color::Idx(i) => Color::Indexed(i),
        vt100::Color::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}

/// Compares every cell; returns how many cells carried a colour.
fn same_cells(name: &str, recording: &str) -> usize {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/terminal")
        .join(recording);
    let bytes = std::fs::read(&path).unwrap();
    let ours = pane(&bytes);
    let reference = Reference::replay(name, &path);
    let theirs = common::wait::until(
        "tmux to show the recording",
        Duration::from_secs(20),
        Duration::from_millis(100),
        || {
            let parser = reference.screen();
            let text = parser.screen().contents();
            if text.contains("Welcome to Claude Code") {
                Ok(parser)
            } else {
                Err(text)
            }
        },
    );
    let theirs = theirs.screen();
    let mut coloured = 0;
    let mut differences = Vec::new();
    for row in 0..ROWS {
        for col in 0..COLS {
            let reference = theirs.cell(row, col).unwrap();
            let cell = &ours[(col, row)];
            let symbol = if reference.contents().is_empty() {
                " "
            } else {
                reference.contents()
            };
            if reference.is_wide_continuation() {
                continue;
            }
            let fg = colour(reference.fgcolor());
            let bg = colour(reference.bgcolor());
            // A blank's foreground colour cannot be seen.
            let fg_matters = symbol != " ";
            if cell.symbol() != symbol || (fg_matters && cell.fg != fg) || cell.bg != bg {
                differences.push(format!(
                    "({row},{col}): tmux {symbol:?} {fg:?}/{bg:?}, pane {:?} {:?}/{:?}",
                    cell.symbol(),
                    cell.fg,
                    cell.bg
                ));
            }
            if fg_matters && fg != Color::Reset {
                coloured += 1;
            }
        }
    }
    assert!(
        differences.is_empty(),
        "{recording}: {} cells differ from tmux:\n{}",
        differences.len(),
        differences[..differences.len().min(20)].join("\n")
    );
    coloured
}

#[test]
fn claudes_256_colour_screen_looks_as_it_does_in_tmux() {
    let coloured = same_cells("256", "claude-welcome-100x30.bin");
    assert!(coloured >= 20, "only {coloured} coloured cells compared");
}

#[test]
fn claudes_truecolor_screen_looks_as_it_does_in_tmux() {
    let coloured = same_cells("truecolor", "claude-welcome-truecolor-100x30.bin");
    assert!(coloured >= 20, "only {coloured} coloured cells compared");
    // The greeting is claude's own orange, not a palette colour.
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures/terminal/claude-welcome-truecolor-100x30.bin");
    let ours = pane(&std::fs::read(path).unwrap());
    assert_eq!(ours[(0, 0)].symbol(), "W");
    assert_eq!(ours[(0, 0)].fg, Color::Rgb(215, 119, 87));
}
