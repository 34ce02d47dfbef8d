//! The terminal pane: the current tab's screen, or what to do next.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Style};
use ratatui::text::Line;
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};
use tui_term::widget::{Cursor, PseudoTerminal};

use super::Screens;
use crate::app::keymap::EscapeKey;
use crate::app::{App, EngineStatus, Focus, Tab};
use crate::session::TermView;

pub fn draw(app: &App, screens: &impl Screens, area: Rect, buf: &mut Buffer) {
    let focused = app.focus == Focus::Terminal && app.modal.is_none();
    match app.tab() {
        Some(tab) => {
            let view = screens.screen(tab.id).filter(|_| tab.terminal);
            draw_tab(
                tab,
                view.as_ref(),
                focused.then_some(app.escape_key),
                area,
                buf,
            );
        }
        None => draw_setup(app, area, buf),
    }
}

/// `typing`: the terminal has the focus, and this chord leaves it.
fn draw_tab(
    tab: &Tab,
    view: Option<&TermView>,
    typing: Option<EscapeKey>,
    area: Rect,
    buf: &mut Buffer,
) {
    let focused = typing.is_some();
    let (state, _) = super::agents::describe(&tab.status());
    // Counted on the screen as it is now: output since the model last heard
    // moves the view back with its text.
    let scroll = view.map_or(0, |v| tab.lines_back(v.scroll_state()));
    let scrolled = if scroll > 0 {
        format!("· {scroll} lines back ")
    } else {
        String::new()
    };
    let egress = if tab.egress_down.is_some() {
        "· egress down (r restarts) "
    } else {
        ""
    };
    let held = tab.held_by.as_ref().map_or_else(String::new, |who| {
        format!("· held by {who}, watching (i takes it back) ")
    });
    let title = format!(
        " {} · {} · {state} {held}{egress}{scrolled}",
        tab.agent, tab.bottle
    );
    let hint = typing.map_or_else(
        || " i to type ".to_owned(),
        |escape| format!(" {} leaves ", escape.label()),
    );
    let block = Block::bordered()
        .title(title)
        .title_bottom(Line::from(hint).right_aligned())
        .border_style(super::focused_border(focused));
    let Some(view) = view else {
        let text = match &tab.status() {
            crate::app::AgentStatus::Failed(reason) => {
                format!("The launch failed:\n\n{reason}\n\nx removes what is left of the bottle.")
            }
            _ => format!("{state}…"),
        };
        Paragraph::new(text)
            .wrap(Wrap { trim: false })
            .block(block)
            .render(area, buf);
        return;
    };
    if scroll > 0 {
        // Scrolled back: lines kept in the history, then the screen's top.
        Paragraph::new(view.scrolled_lines(scroll))
            .block(block)
            .render(area, buf);
        return;
    }
    // Drawn from a copy: the session's reader goes on parsing meanwhile.
    let screen = view.snapshot();
    // The agent's own cursor only matters while typing into it.
    let cursor = Cursor::default().visibility(focused);
    PseudoTerminal::new(&screen)
        .block(block)
        .cursor(cursor)
        .render(area, buf);
}

fn draw_setup(app: &App, area: Rect, buf: &mut Buffer) {
    let mut lines = Vec::new();
    for (name, status) in &app.engines {
        // Named only beside others: most people have one engine.
        let engine = if app.several_engines() {
            format!("Docker engine {name}")
        } else {
            "Docker engine".to_owned()
        };
        match status {
            EngineStatus::Connecting => lines.push(Line::styled(
                format!("Connecting to the {engine}…"),
                super::dim(),
            )),
            EngineStatus::Ready { version } => lines.push(Line::styled(
                format!("{engine} {version} is ready."),
                Style::new().fg(Color::Green),
            )),
            EngineStatus::Unavailable(why) => {
                let no = if app.several_engines() {
                    format!("{engine} does not answer.")
                } else {
                    "No Docker engine.".to_owned()
                };
                lines.push(Line::styled(no, super::error_style()));
                lines.push(Line::raw(why.clone()));
            }
        }
    }
    lines.push(Line::raw(""));
    if !app.token_present {
        lines.push(Line::styled("No Claude token.", super::error_style()));
        lines.push(Line::raw(
            "CLAUDE_BOTTLE_OAUTH_TOKEN is not set, so claude in a bottle cannot log in. Fix: run \
             `claude setup-token` on this machine, then `export CLAUDE_BOTTLE_OAUTH_TOKEN=<token>` \
             and restart.",
        ));
        lines.push(Line::raw(""));
    }
    match &app.manifest_problem {
        Some(crate::app::ManifestProblem::Missing) => {
            lines.push(Line::styled("No manifest.", super::error_style()));
            lines.push(Line::raw(
                "No claude-bottle.json was found here (up to the git root) or in $HOME. Fix: run \
                 `claude-bottle init` to write a starter one, or start with --manifest PATH.",
            ));
        }
        Some(crate::app::ManifestProblem::Invalid(_)) => {
            lines.push(Line::styled(
                "The manifest has errors (listed on the left).",
                super::error_style(),
            ));
            lines.push(Line::raw(
                "Fix them and restart; `claude-bottle validate` checks them.",
            ));
        }
        None => {}
    }
    if let Some(errors) = &app.entry_errors {
        lines.push(Line::styled(
            "Some manifest entries have errors; they are left out, the rest can launch:",
            super::error_style(),
        ));
        lines.extend(errors.lines().map(|l| Line::raw(l.to_owned())));
        lines.push(Line::raw(
            "Fix them and restart; `claude-bottle validate` checks them.",
        ));
        lines.push(Line::raw(""));
    }
    if app.manifest_problem.is_none() && !app.agents.is_empty() {
        lines.push(Line::raw(
            "Select an agent (j/k) and press Enter to launch its bottle.",
        ));
        lines.push(Line::raw("Press ? for every key."));
    }
    let block = Block::bordered()
        .title(" Terminal ")
        .border_style(super::dim());
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(block)
        .render(area, buf);
}
