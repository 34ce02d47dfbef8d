//! The diff pane: the tab's changed files against its workspace's base (with
//! added and removed lines, and the files another bottle on the same
//! repository changed too), or one file's diff, coloured. Everything shown
//! came from the bottle: control characters are dropped before drawing.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget};

use crate::app::state::{DiffView, FileView};
use crate::app::{App, Focus};

pub fn draw(app: &App, diff: &DiffView, area: Rect, buf: &mut Buffer) {
    let focused = app.focus == Focus::Diff && app.modal.is_none();
    let agent = app
        .tabs
        .iter()
        .find(|t| t.id == diff.id)
        .map_or("", |t| t.agent.as_str());
    let title = match &diff.file {
        Some(file) => format!(" {agent}: {} (Esc: the files) ", clean(&file.path)),
        None => format!(" {agent}: changes against the base (Enter: a file's diff) "),
    };
    let block = Block::bordered()
        .title(title)
        .border_style(super::focused_border(focused));
    let inner = block.inner(area);
    block.render(area, buf);
    let rows = usize::from(inner.height);
    let lines = match &diff.file {
        Some(file) => file_lines(file, rows),
        None => list_lines(app, diff, rows),
    };
    Paragraph::new(lines).render(inner, buf);
}

fn list_lines(app: &App, diff: &DiffView, rows: usize) -> Vec<Line<'static>> {
    let files = match &diff.files {
        None => return vec![Line::styled("reading the bottle's changes…", super::dim())],
        Some(Err(why)) => {
            return vec![Line::styled(
                format!("could not read the changes: {}", clean(why)),
                super::error_style(),
            )];
        }
        Some(Ok(files)) if files.is_empty() => {
            return vec![Line::styled(
                "no changes against the base yet",
                super::dim(),
            )];
        }
        Some(Ok(files)) => files,
    };
    let (overlap, others) = crate::app::work::overlap(app, diff.id);
    let first = diff.selected.saturating_sub(rows.saturating_sub(1));
    let mut lines = Vec::new();
    for (i, change) in files.iter().enumerate().skip(first).take(rows) {
        let count = |n: Option<u64>, sign: char| {
            n.map_or_else(|| "bin".to_owned(), |n| format!("{sign}{n}"))
        };
        let mut spans = vec![
            Span::raw(if i == diff.selected { "▶ " } else { "  " }),
            Span::styled(
                format!("{:>6} ", count(change.added, '+')),
                Style::new().fg(Color::Green),
            ),
            Span::styled(
                format!("{:>6}  ", count(change.removed, '-')),
                Style::new().fg(Color::Red),
            ),
            Span::styled(
                clean(&change.path),
                if i == diff.selected {
                    Style::new().add_modifier(Modifier::REVERSED)
                } else {
                    Style::new()
                },
            ),
        ];
        if overlap.contains(&change.path) {
            spans.push(Span::styled(
                format!("  also changed by {}", join(&others)),
                Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
            ));
        }
        lines.push(Line::from(spans));
    }
    lines
}

fn file_lines(file: &FileView, rows: usize) -> Vec<Line<'static>> {
    let text = match &file.text {
        None => return vec![Line::styled("reading the diff…", super::dim())],
        Some(Err(why)) => {
            return vec![Line::styled(
                format!("could not read the diff: {}", clean(why)),
                super::error_style(),
            )];
        }
        Some(Ok(text)) if text.is_empty() => {
            return vec![Line::styled("no difference against the base", super::dim())];
        }
        Some(Ok(text)) => text,
    };
    text.lines()
        .skip(file.scroll)
        .take(rows)
        .map(|line| {
            let style = if line.starts_with("+++") || line.starts_with("---") {
                Style::new().add_modifier(Modifier::BOLD)
            } else if line.starts_with('+') {
                Style::new().fg(Color::Green)
            } else if line.starts_with('-') {
                Style::new().fg(Color::Red)
            } else if line.starts_with("@@") {
                Style::new().fg(Color::Cyan)
            } else {
                Style::new()
            };
            Line::styled(clean(line), style)
        })
        .collect()
}

/// What a bottle wrote, without characters that would steer the terminal.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| if c == '\t' { ' ' } else { c })
        .filter(|c| !c.is_control())
        .collect()
}

fn join(names: &std::collections::BTreeSet<String>) -> String {
    names.iter().cloned().collect::<Vec<_>>().join(", ")
}
