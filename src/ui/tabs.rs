//! The tab bar: `1 alpha ●  2 beta !`, the current tab reversed.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::app::{App, TabState};

/// Marks: new output since the tab was last shown, and a request for the user.
pub const UNSEEN_MARK: &str = "●";
pub const ATTENTION_MARK: &str = "!";

pub fn draw(app: &App, area: Rect, buf: &mut Buffer) {
    let mut spans = vec![Span::styled(
        " claude-bottle ",
        Style::new().add_modifier(Modifier::BOLD),
    )];
    if app.tabs.is_empty() {
        spans.push(Span::styled(" no bottles yet", super::dim()));
    }
    for (i, tab) in app.tabs.iter().enumerate() {
        let mut style = match tab.state {
            TabState::Failed(_) => Style::new().fg(Color::Red),
            TabState::Exited(_) | TabState::Stopping => Style::new().fg(Color::DarkGray),
            _ => Style::new(),
        };
        if i == app.current_tab {
            style = style.add_modifier(Modifier::REVERSED | Modifier::BOLD);
        }
        spans.push(Span::raw(" "));
        if app.several_engines() {
            // A tab whose engine does not answer is marked; the others go on.
            let away = app.engine_unreachable(&tab.engine);
            if away {
                style = style.fg(Color::Red);
            }
            let mark = if away { " ✗" } else { "" };
            let label = format!(" {} {}@{}{mark} ", i + 1, tab.agent, tab.engine);
            spans.push(Span::styled(label, style));
        } else {
            spans.push(Span::styled(format!(" {} {} ", i + 1, tab.agent), style));
        }
        if tab.needs_attention {
            spans.push(Span::styled(
                ATTENTION_MARK,
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ));
        } else if tab.unseen_output {
            spans.push(Span::styled(UNSEEN_MARK, Style::new().fg(Color::Green)));
        }
    }
    Line::from(spans).render(area, buf);
}
