//! The agent list with each agent's state, or what is wrong with the manifest.

use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Paragraph, Widget, Wrap};

use crate::app::{AgentStatus, App, Focus, ManifestProblem};

pub fn draw(app: &App, area: Rect, buf: &mut Buffer) {
    let block = Block::bordered()
        .title(" Agents ")
        .border_style(super::focused_border(
            app.focus == Focus::Agents && app.modal.is_none(),
        ));
    if let Some(problem) = &app.manifest_problem {
        let lines = match problem {
            ManifestProblem::Missing => vec![
                Line::styled("No manifest found.", super::error_style()),
                Line::raw(""),
                Line::raw("No claude-bottle.json here (up to the git root) or in $HOME."),
                Line::raw(""),
                Line::raw(
                    "Fix: run `claude-bottle init` to write a starter one, or pass --manifest PATH.",
                ),
            ],
            ManifestProblem::Invalid(errors) => {
                let mut lines = vec![
                    Line::styled("The manifest has errors:", super::error_style()),
                    Line::raw(""),
                ];
                lines.extend(errors.lines().map(|l| Line::raw(l.to_owned())));
                lines.push(Line::raw(""));
                lines.push(Line::raw(
                    "Fix them, then restart (`claude-bottle validate` checks).",
                ));
                lines
            }
        };
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .block(block)
            .render(area, buf);
        return;
    }
    let inner = block.inner(area);
    block.render(area, buf);
    let mut lines = Vec::new();
    for (i, agent) in app.agents.iter().enumerate() {
        lines.extend(agent_lines(app, i, agent));
    }
    if app.agents.is_empty() {
        lines.push(Line::styled(
            "The manifest defines no agents.",
            super::dim(),
        ));
    }
    Paragraph::new(lines).render(inner, buf);
}

/// The lines of one agent: name, bottle (and engine beside others), what
/// it does, and the files another agent changed too.
fn agent_lines(app: &App, i: usize, agent: &crate::app::AgentEntry) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    let selected = i == app.selected_agent;
    let marker = if selected { "▶ " } else { "  " };
    let name_style = if selected {
        Style::new().add_modifier(Modifier::BOLD | Modifier::REVERSED)
    } else {
        Style::new().add_modifier(Modifier::BOLD)
    };
    let mut head = vec![
        Span::raw(marker),
        Span::styled(agent.name.clone(), name_style),
        Span::styled(format!("  {}", agent.bottle), super::dim()),
    ];
    // Beside other engines, each agent says which it runs on, and an
    // engine that does not answer marks only its own agents.
    let engine_away = app.engine_unreachable(&agent.engine);
    if app.several_engines() {
        let style = if engine_away {
            super::error_style()
        } else {
            super::dim()
        };
        head.push(Span::styled(format!(" @{}", agent.engine), style));
    }
    lines.push(Line::from(head));
    let (text, style) = if engine_away && app.several_engines() {
        ("engine unreachable".to_owned(), super::error_style())
    } else {
        describe(&app.agent_status(&agent.name))
    };
    lines.push(Line::from(vec![
        Span::raw("    "),
        Span::styled(text, style),
    ]));
    if let Some(tab) = app.latest_tab_of(&agent.name) {
        let (files, others) = crate::app::work::overlap(app, tab.id);
        if !files.is_empty() {
            let others: Vec<&str> = others.iter().map(String::as_str).collect();
            let warn = Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD);
            lines.push(Line::styled(
                format!(
                    "    ⚠ {} file{} also changed",
                    files.len(),
                    if files.len() == 1 { "" } else { "s" },
                ),
                warn,
            ));
            lines.push(Line::styled(
                format!("      by {}", others.join(", ")),
                warn,
            ));
        }
    }
    lines
}

/// An agent's state in a few words, coloured by how much it needs the user.
pub fn describe(status: &AgentStatus) -> (String, Style) {
    match status {
        AgentStatus::Idle => ("idle".into(), super::dim()),
        AgentStatus::BuildingImage(line) => {
            (format!("image: {line}"), Style::new().fg(Color::Blue))
        }
        AgentStatus::Starting(step) => (format!("starting: {step}"), Style::new().fg(Color::Blue)),
        AgentStatus::Running => ("running".into(), Style::new().fg(Color::Green)),
        AgentStatus::NeedsAttention => (
            "needs attention".into(),
            Style::new().fg(Color::Yellow).add_modifier(Modifier::BOLD),
        ),
        AgentStatus::Stopping => ("stopping".into(), super::dim()),
        AgentStatus::Exited(code) => (
            format!(
                "exited ({})",
                code.map_or_else(|| "no code".into(), |c| c.to_string())
            ),
            super::dim(),
        ),
        AgentStatus::Failed(reason) => (format!("failed: {reason}"), Style::new().fg(Color::Red)),
        AgentStatus::Invalid => ("manifest errors".into(), Style::new().fg(Color::Red)),
    }
}
