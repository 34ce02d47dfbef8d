//! The status line: engine, bottles, then the message or the keys that work here.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::Widget;

use crate::app::keymap::{Scope, bindings};
use crate::app::{App, EngineStatus, Focus};

/// One engine as the status line says it: `engine 20.10.24` alone, or
/// `default 20.10.24` beside others.
fn engine_span(name: Option<&str>, status: &EngineStatus) -> Span<'static> {
    let (text, style) = match (name, status) {
        (None, EngineStatus::Connecting) => ("engine: connecting".to_owned(), super::dim()),
        (None, EngineStatus::Ready { version }) => {
            (format!("engine {version}"), Style::new().fg(Color::Green))
        }
        (None, EngineStatus::Unavailable(_)) => {
            ("engine: unreachable".to_owned(), super::error_style())
        }
        (Some(name), EngineStatus::Connecting) => (format!("{name}: connecting"), super::dim()),
        (Some(name), EngineStatus::Ready { version }) => {
            (format!("{name} {version}"), Style::new().fg(Color::Green))
        }
        (Some(name), EngineStatus::Unavailable(_)) => {
            (format!("{name}: unreachable"), super::error_style())
        }
    };
    Span::styled(format!(" {text} "), style)
}

pub fn draw(app: &App, area: Rect, buf: &mut Buffer) {
    let mut spans: Vec<Span<'static>> = if app.several_engines() {
        (app.engines.iter())
            .map(|(name, status)| engine_span(Some(name), status))
            .collect()
    } else {
        (app.engines.iter())
            .map(|(_, status)| engine_span(None, status))
            .collect()
    };
    let bottles = app.live_bottles();
    spans.extend([
        Span::raw("│ "),
        Span::raw(format!(
            "{bottles} bottle{} ",
            if bottles == 1 { "" } else { "s" }
        )),
        Span::raw("│ "),
    ]);
    if !app.inbox.is_empty() {
        let style = Style::new().fg(Color::Yellow);
        spans.push(Span::styled("n", style.add_modifier(Modifier::BOLD)));
        spans.push(Span::styled(format!(" inbox {} ", app.inbox.len()), style));
        spans.push(Span::raw("│ "));
    }
    if let Some(message) = &app.message {
        let style = if message.is_error {
            super::error_style()
        } else {
            Style::new().fg(Color::Yellow)
        };
        spans.push(Span::styled(message.text.replace('\n', " "), style));
    } else {
        spans.extend(keys(app));
    }
    Line::from(spans).render(area, buf);
}

fn keys(app: &App) -> Vec<Span<'static>> {
    let scopes: &[Scope] = match app.focus {
        Focus::Agents => &[Scope::Agents, Scope::Dashboard],
        Focus::Egress => &[Scope::Egress, Scope::Dashboard],
        Focus::Diff => &[Scope::Diff, Scope::Dashboard],
        Focus::Terminal => &[Scope::Terminal],
    };
    let mut spans = Vec::new();
    if app.focus == Focus::Terminal {
        spans.push(Span::styled(
            "typing into the agent · ",
            Style::new().fg(Color::Cyan),
        ));
    }
    for scope in scopes {
        for b in bindings(*scope).filter(|b| !b.status.is_empty()) {
            spans.push(Span::styled(
                b.keys_label(app.escape_key),
                Style::new().add_modifier(Modifier::BOLD),
            ));
            spans.push(Span::raw(format!(" {}  ", b.status)));
        }
    }
    spans
}
