//! Modals drawn over the dashboard: preflight, hidden prompt, confirmations
//! and the help overlay generated from the keymap.

use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, Clear, Paragraph, Widget, Wrap};

use crate::app::inbox::InboxKind;
use crate::app::keymap::{Scope, bindings};
use crate::app::state::PendingLaunch;
use crate::app::{App, Modal};
use crate::egress::propose::Proposal;
use crate::manifest::EnvSource;

pub fn draw(app: &App, screen: Rect, buf: &mut Buffer) {
    let Some(modal) = &app.modal else { return };
    let (title, lines) = match modal {
        Modal::Preflight(pending) => (" Launch? ".to_owned(), preflight(app, pending)),
        Modal::Secret { pending, input } => {
            (" Hidden input ".to_owned(), secret(pending, input.len()))
        }
        Modal::ConfirmKill(id) => {
            let agent = app
                .tabs
                .iter()
                .find(|t| t.id == *id)
                .map_or("?", |t| t.agent.as_str());
            (
                " Kill bottle ".to_owned(),
                vec![
                    Line::raw(format!("Kill {agent}'s bottle?")),
                    Line::raw(
                        "Its terminal, agent container, egress sidecar and networks are removed.",
                    ),
                    Line::raw(""),
                    keys_line(&[("y", "kill"), ("n / Esc", "keep it")]),
                ],
            )
        }
        Modal::ConfirmQuit { bottles } => (
            " Quit ".to_owned(),
            vec![
                Line::raw(format!(
                    "{bottles} bottle{} still exist{}. Tear down running bottles?",
                    if *bottles == 1 { "" } else { "s" },
                    if *bottles == 1 { "s" } else { "" }
                )),
                Line::raw(""),
                keys_line(&[
                    ("y", "tear down and quit"),
                    ("k", "keep them working and quit"),
                    ("n / Esc", "stay"),
                ]),
                Line::styled(
                    "Kept agents work on: `claude-bottle ps` lists them, `attach` or a \
                     dashboard shows them again, `stop` removes one.",
                    super::dim(),
                ),
            ],
        ),
        Modal::SaveHost(save) => (
            " Save to the manifest? ".to_owned(),
            vec![
                Line::raw(format!("{} is allowed for this bottle now.", save.host)),
                Line::raw(format!(
                    "Add it to bottles.{}.egress.allowlist in {} too?",
                    save.bottle,
                    save.file.display()
                )),
                Line::styled(
                    "The rest of the file is kept as it is; later bottles get the host.",
                    super::dim(),
                ),
                Line::raw(""),
                keys_line(&[("y", "add it to the file"), ("n / Esc", "this bottle only")]),
            ],
        ),
        Modal::Help => (" Keys ".to_owned(), help(app)),
        Modal::Proposal { bottle, proposal } => (
            " Allowlist proposal ".to_owned(),
            proposal_lines(bottle, proposal),
        ),
        Modal::Leftovers(leftovers) => (" Left behind ".to_owned(), leftover_lines(leftovers)),
        Modal::Inbox { selected } => (
            format!(" Inbox: {} ", app.inbox.len()),
            inbox_lines(app, *selected, screen.height),
        ),
        Modal::Uncollected { then, items } => (
            " Uncollected work ".to_owned(),
            uncollected_lines(*then, items),
        ),
    };
    let width = screen.width.saturating_sub(4).min(90);
    let height = u16::try_from(wrapped_height(&lines, width.saturating_sub(2)) + 2)
        .unwrap_or(u16::MAX)
        .min(screen.height);
    let area = centered(screen, width, height);
    Clear.render(area, buf);
    let block = Block::bordered()
        .title(title)
        .border_style(Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD));
    Paragraph::new(lines)
        .wrap(Wrap { trim: false })
        .block(block)
        .render(area, buf);
}

/// Rows `lines` take at `width` when wrapped (at least; word wrap may take
/// one more for a long line, which the border then hides).
fn wrapped_height(lines: &[Line<'_>], width: u16) -> usize {
    let width = usize::from(width.max(1));
    lines
        .iter()
        .map(|line| line.width().div_ceil(width).max(1))
        .sum()
}

fn centered(screen: Rect, width: u16, height: u16) -> Rect {
    let [row] = Layout::vertical([Constraint::Length(height)])
        .flex(Flex::Center)
        .areas(screen);
    let [area] = Layout::horizontal([Constraint::Length(width)])
        .flex(Flex::Center)
        .areas(row);
    area
}

fn keys_line(keys: &[(&str, &str)]) -> Line<'static> {
    let mut spans = Vec::new();
    for (key, what) in keys {
        spans.push(Span::styled(
            (*key).to_owned(),
            Style::new().add_modifier(Modifier::BOLD),
        ));
        spans.push(Span::raw(format!(" {what}   ")));
    }
    Line::from(spans)
}

/// The inbox, newest first, the selected item highlighted; as many items as
/// fit, scrolled to keep the selected one shown.
fn inbox_lines(app: &App, selected: usize, screen_rows: u16) -> Vec<Line<'static>> {
    let room = usize::from(screen_rows.saturating_sub(8)).max(1);
    let first = selected.saturating_sub(room - 1);
    let mut lines: Vec<Line<'static>> = app
        .inbox
        .items()
        .enumerate()
        .skip(first)
        .take(room)
        .map(|(index, item)| {
            let style = match &item.kind {
                InboxKind::Denial { .. } | InboxKind::EgressDown(_) => super::error_style(),
                _ => Style::new().fg(Color::Yellow),
            };
            let (marker, style) = if index == selected {
                ("▶ ", style.add_modifier(Modifier::REVERSED))
            } else {
                ("  ", style)
            };
            Line::styled(format!("{marker}{}", item.describe()), style)
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(keys_line(&[
        ("j/k", "move"),
        ("Enter", "go to it"),
        ("Esc", "close"),
    ]));
    lines
}

fn heading(text: &str) -> Line<'static> {
    Line::styled(text.to_owned(), Style::new().add_modifier(Modifier::BOLD))
}

fn preflight(app: &App, pending: &PendingLaunch) -> Vec<Line<'static>> {
    let r = &pending.resolved;
    let mut lines = vec![
        Line::raw(format!(
            "Agent {}  in bottle {}",
            r.agent.name, r.bottle.name
        )),
        Line::raw(format!("Runtime: {}", r.bottle.runtime.engine_name())),
    ];
    if let Some(context) = &r.bottle.context {
        lines.push(Line::raw(format!("Engine: docker context {context}")));
    }
    if let Some(prompt) = &r.agent.prompt {
        lines.push(Line::raw(format!("Prompt: {prompt}")));
    }
    if let Some(workspace) = &r.agent.workspace {
        lines.push(Line::raw(format!("Workspace: {}", workspace.describe())));
    }
    lines.push(heading("Env (values not shown)"));
    if r.env.is_empty() {
        lines.push(Line::styled("  none", super::dim()));
    }
    for e in &r.env {
        let kind = match &e.source {
            EnvSource::Literal(_) => "literal".to_owned(),
            EnvSource::HostVar(var) => format!("from host ${var}"),
            EnvSource::Template(_) => "template from host vars".to_owned(),
            EnvSource::Prompt(q) => format!("asked now: {q}"),
        };
        lines.push(Line::raw(format!("  {:<20} {kind}", e.name)));
    }
    lines.push(heading("SSH"));
    if r.bottle.ssh.is_empty() {
        lines.push(Line::styled("  none", super::dim()));
    }
    for s in &r.bottle.ssh {
        let user = s
            .user
            .as_deref()
            .map(|u| format!("{u}@"))
            .unwrap_or_default();
        lines.push(Line::raw(format!("  {} → {user}{}", s.host, s.hostname)));
    }
    let skills: Vec<&str> = r.skills.iter().map(|s| s.name.as_str()).collect();
    lines.push(Line::raw(format!(
        "Skills: {}",
        if skills.is_empty() {
            "none".to_owned()
        } else {
            skills.join(", ")
        }
    )));
    lines.push(heading("Egress allowlist"));
    for entry in &r.allowlist {
        let origins: Vec<&str> = entry.origins.iter().map(|o| o.name()).collect();
        lines.push(Line::raw(format!(
            "  {:<32} {}",
            entry.host,
            origins.join(", ")
        )));
    }
    let blocks: Vec<String> = r
        .bottle
        .private_hosts
        .iter()
        .filter(|p| p.allow_entry().is_none())
        .map(crate::manifest::PrivateHost::text)
        .collect();
    if !blocks.is_empty() {
        lines.push(Line::raw(format!(
            "Private blocks allowed names may resolve into: {}",
            blocks.join(", ")
        )));
    }
    lines.push(Line::raw(if r.bottle.inspect {
        let mut through = vec!["Anthropic's hosts".to_owned()];
        through.extend(r.bottle.passthrough_hosts());
        format!(
            "TLS inspection: on, secrets in requests refused; not opened: {}",
            through.join(", ")
        )
    } else {
        "TLS inspection: off, the sidecar sees host names only".to_owned()
    }));
    if !app.token_present {
        lines.push(Line::styled(
            "CLAUDE_BOTTLE_OAUTH_TOKEN is not set: claude will not be logged in.",
            Style::new().fg(Color::Yellow),
        ));
    }
    lines.push(Line::raw(""));
    lines.push(keys_line(&[("y", "launch"), ("n / Esc", "cancel")]));
    lines
}

fn secret(pending: &PendingLaunch, typed: usize) -> Vec<Line<'static>> {
    let (name, question) = pending.next_question().unwrap_or(("?", "?"));
    vec![
        Line::raw(format!("{name}: {question}")),
        Line::styled(
            "Typed characters are not shown. The value goes to the agent's process only.",
            super::dim(),
        ),
        Line::raw(""),
        Line::from(vec![
            Span::raw("> "),
            Span::styled("•".repeat(typed.min(40)), Style::new().fg(Color::Cyan)),
            Span::styled("▏", Style::new().add_modifier(Modifier::SLOW_BLINK)),
        ]),
        Line::raw(""),
        keys_line(&[
            ("Enter", "done"),
            ("Ctrl-U", "clear"),
            ("Esc", "cancel the launch"),
        ]),
    ]
}

fn uncollected_lines(
    then: crate::app::AfterCheck,
    items: &[(crate::app::BottleId, String, String)],
) -> Vec<Line<'static>> {
    let mut lines = vec![Line::raw(match then {
        crate::app::AfterCheck::Kill(_) => "This bottle holds work not collected yet:",
        crate::app::AfterCheck::Quit => "These bottles hold work not collected yet:",
    })];
    for (_, agent, what) in items {
        lines.push(Line::raw(format!("  {agent}: {what}")));
    }
    lines.push(Line::styled(
        "Collecting makes the branch bottle/<agent>/<session> in its repository; your \
         working tree, index and current branch are not touched.",
        super::dim(),
    ));
    lines.push(Line::raw(""));
    lines.push(keys_line(&[
        ("c", "collect, then remove"),
        ("d", "discard it and remove"),
        ("n / Esc", "keep the bottles"),
    ]));
    lines
}

fn leftover_lines(leftovers: &[crate::app::Leftover]) -> Vec<Line<'static>> {
    let mut lines = vec![Line::raw(format!(
        "{} bottle{} of this manifest's agents {} left behind by a claude-bottle that is gone:",
        leftovers.len(),
        if leftovers.len() == 1 { "" } else { "s" },
        if leftovers.len() == 1 { "was" } else { "were" },
    ))];
    for l in leftovers {
        lines.push(Line::raw(format!(
            "  {}  session {}  {} container(s), {} network(s)",
            l.agent,
            l.session,
            l.containers.len(),
            l.networks
        )));
    }
    lines.push(Line::raw(""));
    lines.push(keys_line(&[("y", "remove them"), ("k / Esc", "keep them")]));
    lines.push(Line::styled(
        "Kept bottles are removed later by `claude-bottle gc`.",
        super::dim(),
    ));
    lines
}

fn proposal_lines(bottle: &str, proposal: &Proposal) -> Vec<Line<'static>> {
    let mut explanation = proposal.explanation().into_iter();
    let mut lines: Vec<Line<'static>> = explanation.next().map(Line::raw).into_iter().collect();
    lines.extend(
        proposal
            .entry_lines()
            .into_iter()
            .map(|entry| Line::styled(format!("  {entry}"), Style::new().fg(Color::Cyan))),
    );
    lines.extend(explanation.map(|text| Line::styled(text, super::dim())));
    lines.push(Line::raw(""));
    lines.push(Line::raw(format!(
        "To keep them, add them to bottles.{bottle}.egress.allowlist in the manifest; \
         `claude-bottle logs AGENT --propose` prints the same lines."
    )));
    lines.push(Line::styled("Any key closes this.", super::dim()));
    lines
}

fn help(app: &App) -> Vec<Line<'static>> {
    let mut lines = Vec::new();
    for scope in [
        Scope::Agents,
        Scope::Egress,
        Scope::Diff,
        Scope::Dashboard,
        Scope::Terminal,
    ] {
        lines.push(heading(scope.title()));
        for b in bindings(scope) {
            lines.push(Line::from(vec![
                Span::styled(
                    format!("  {:<18}", b.keys_label(app.escape_key)),
                    Style::new().fg(Color::Cyan),
                ),
                Span::raw(b.help),
            ]));
        }
    }
    lines.push(Line::styled(
        "In the terminal every other key goes to the agent. Mouse wheel scrolls. Any key closes this.",
        super::dim(),
    ));
    lines
}
