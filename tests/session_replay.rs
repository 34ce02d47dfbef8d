//! A recorded terminal stream (claude's start-up screen inside an agent image
//! with no network, 100x30) replayed through the session screen and drawn
//! with tui-term, as the terminal pane draws it.

use claude_bottle::session::TermView;
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use tui_term::widget::PseudoTerminal;

const RECORDING: &[u8] = include_bytes!("fixtures/terminal/claude-welcome-100x30.bin");

#[test]
fn recorded_claude_screen_replays_and_renders() {
    let view = TermView::new(30, 100);
    let answers = view.feed(RECORDING).answers;
    // claude asks for device attributes three times and waits for them.
    assert_eq!(answers.windows(3).filter(|w| w == b"62;").count(), 3);
    let mut terminal = Terminal::new(TestBackend::new(100, 30)).unwrap();
    terminal
        .draw(|frame| {
            view.with_screen(|screen| {
                frame.render_widget(PseudoTerminal::new(screen), frame.area());
            });
        })
        .unwrap();
    let text = view.contents();
    assert!(text.contains("Welcome to Claude Code"), "{text}");
    assert!(text.contains("Unable to connect to Anthropic services"));
    // Colours survive the trip: the greeting is claude's salmon (xterm 174).
    let cell = &terminal.backend().buffer()[(0, 0)];
    assert_eq!(cell.symbol(), "W");
    assert_eq!(cell.fg, ratatui::style::Color::Indexed(174));
    insta::assert_snapshot!(terminal.backend());
}
