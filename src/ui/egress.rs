//! The egress pane: the bottle's allowlist with where each host came from,
//! denials per host, and the log (newest at the bottom, denials red).

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use crate::app::egress_log::EgressRow;
use crate::app::{App, Focus, Tab};
use crate::egress::denial;
use crate::egress::log::{EgressEvent, EventKind, LogLine};
use crate::manifest::AllowOrigin;

const SIDE_WIDTH: u16 = 34;

pub fn draw(app: &App, area: Rect, buf: &mut Buffer) {
    let focused = app.focus == Focus::Egress && app.modal.is_none();
    let Some(tab) = app.tab() else {
        let block = Block::bordered()
            .title(" Egress ")
            .border_style(super::focused_border(focused));
        Paragraph::new("No bottle yet: the egress log of a launched bottle shows here.")
            .block(block)
            .render(area, buf);
        return;
    };
    let [side, log] = Layout::horizontal([
        Constraint::Length(SIDE_WIDTH.min(area.width / 3)),
        Constraint::Fill(1),
    ])
    .areas(area);
    draw_side(tab, side, buf);
    draw_log(tab, focused, log, buf);
}

fn draw_side(tab: &Tab, area: Rect, buf: &mut Buffer) {
    let mut lines = Vec::new();
    for entry in &tab.allowlist {
        let marks: String = entry.origins.iter().map(|o| origin_mark(*o)).collect();
        lines.push(Line::from(vec![
            Span::styled(format!("{marks:<3}"), super::dim()),
            Span::raw(entry.host.clone()),
        ]));
    }
    for host in &tab.allowed_here {
        lines.push(Line::from(vec![
            Span::styled("+  ", Style::new().fg(Color::Green)),
            Span::raw(host.clone()),
        ]));
    }
    lines.push(Line::styled(
        "D default M manifest S ssh +new",
        super::dim(),
    ));
    let counts = tab.egress.denials.busiest();
    if !counts.is_empty() {
        lines.push(Line::styled(
            "Denials",
            Style::new().add_modifier(Modifier::BOLD),
        ));
        for (host, n) in counts {
            lines.push(Line::from(vec![
                Span::styled(format!("{n:>4} "), super::error_style()),
                Span::raw(host.to_owned()),
            ]));
        }
    }
    let block = Block::bordered()
        .title(" Allowlist ")
        .border_style(super::dim());
    Paragraph::new(lines).block(block).render(area, buf);
}

fn origin_mark(origin: AllowOrigin) -> char {
    match origin {
        AllowOrigin::Default => 'D',
        AllowOrigin::Manifest => 'M',
        AllowOrigin::Ssh => 'S',
        AllowOrigin::Private => 'P',
    }
}

fn draw_log(tab: &Tab, focused: bool, area: Rect, buf: &mut Buffer) {
    let filter = if tab.egress.denials_only {
        " · denials only"
    } else {
        ""
    };
    let title = format!(
        " Egress · {} · {} denials{filter} ",
        tab.agent,
        tab.egress.total_denials()
    );
    let hint = if focused {
        " j/k select · a allow host · p propose · d filter "
    } else {
        ""
    };
    let block = Block::bordered()
        .title(title)
        .title_bottom(Line::from(hint).right_aligned())
        .border_style(super::focused_border(focused));
    let mut inner = block.inner(area);
    block.render(area, buf);
    // What would change the selected denial's outcome, under the rows.
    let advice = focused
        .then(|| tab.egress.selected_row().and_then(EgressRow::denial))
        .flatten()
        .and_then(denial::advice);
    if let Some(advice) = advice.filter(|_| inner.height > 4) {
        let advice = format!("→ {}", clean(&advice));
        // Up to three rows; word wrap may need one more than the width says.
        let width = usize::from(inner.width.max(1));
        let height = (advice.chars().count().div_ceil(width) + 1).min(3);
        let [rows, below] = Layout::vertical([
            Constraint::Fill(1),
            Constraint::Length(u16::try_from(height).unwrap_or(3)),
        ])
        .areas(inner);
        Paragraph::new(Line::styled(advice, Style::new().fg(Color::Yellow)))
            .wrap(Wrap { trim: true })
            .render(below, buf);
        inner = rows;
    }
    let rows: Vec<&EgressRow> = tab.egress.visible().collect();
    if rows.is_empty() {
        let text = if tab.egress.denials_only {
            "No denials."
        } else {
            "No requests yet."
        };
        Paragraph::new(Line::styled(text, super::dim())).render(inner, buf);
        return;
    }
    let selected = tab.egress.selected_row().map(|r| r.seq);
    let selected_index = rows
        .iter()
        .position(|r| Some(r.seq) == selected)
        .unwrap_or(rows.len() - 1);
    let height = usize::from(inner.height);
    let start = (selected_index + 1).saturating_sub(height);
    let lines: Vec<Line<'_>> = rows
        .iter()
        .skip(start)
        .take(height)
        .map(|row| {
            let line = row_line(row);
            if focused && Some(row.seq) == selected {
                line.patch_style(Style::new().add_modifier(Modifier::REVERSED))
            } else {
                line
            }
        })
        .collect();
    Paragraph::new(lines).render(inner, buf);
}

fn row_line(row: &EgressRow) -> Line<'static> {
    match &row.line {
        LogLine::Note(text) => Line::styled(format!("         {}", clean(text)), super::dim()),
        LogLine::Event(event) => event_line(event),
    }
}

fn event_line(e: &EgressEvent) -> Line<'static> {
    let denial = e.is_denial();
    let (verdict, verdict_style) = if denial {
        ("BLOCKED".to_owned(), super::error_style())
    } else {
        match e.kind {
            EventKind::TunnelOpen | EventKind::ForwardHttp | EventKind::Allowed => {
                ("ALLOWED".to_owned(), Style::new().fg(Color::Green))
            }
            EventKind::Error => ("ERROR".to_owned(), Style::new().fg(Color::Red)),
            ref other => (short_kind(other), super::dim()),
        }
    };
    let target = match &e.target {
        Some(target) => target.clone(),
        // A denial without a target (the kill switch) shows its bucket.
        None if denial => denial::bucket(e),
        None => String::new(),
    };
    let method = e.method.clone().unwrap_or_default();
    let why = if denial {
        denial::why(e)
    } else {
        match (&e.scanner, &e.reason, &e.error, &e.detail) {
            (Some(scanner), Some(reason), _, _) => format!("{scanner}: {reason}"),
            (None, Some(reason), _, _) => reason.clone(),
            (_, _, Some(error), _) => error.clone(),
            (_, _, _, Some(detail)) => detail.clone(),
            _ => String::new(),
        }
    };
    let text_style = if denial {
        super::error_style()
    } else {
        Style::new()
    };
    Line::from(vec![
        Span::styled(format!("{} ", clock(e.time.as_deref())), super::dim()),
        Span::styled(format!("{verdict:<8}"), verdict_style),
        Span::styled(format!("{:<32} ", clean(&target)), text_style),
        Span::styled(format!("{:<8}", clean(&method)), super::dim()),
        Span::styled(clean(&why), text_style),
    ])
}

fn short_kind(kind: &EventKind) -> String {
    match kind {
        EventKind::TunnelClose => "CLOSED".into(),
        EventKind::ConfigReload => "RELOAD".into(),
        EventKind::Startup => "START".into(),
        EventKind::Shutdown => "STOP".into(),
        other => other.name().to_ascii_uppercase(),
    }
}

/// `HH:MM:SS` out of pipelock's RFC 3339 time.
fn clock(time: Option<&str>) -> String {
    time.and_then(|t| t.split_once('T'))
        .and_then(|(_, rest)| rest.get(..8))
        .map_or_else(|| "--:--:--".to_owned(), str::to_owned)
}

/// The sidecar's text goes to our screen: no control characters.
fn clean(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).collect()
}
