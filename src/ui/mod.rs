//! Draws `&App`. Nothing here changes state or talks to Docker; the one lock
//! taken is on a session's screen, to read it.
//!
//! - `tabs`: the tab bar, one tab per bottle, with markers.
//! - `agents`: the agent list with states, or what is wrong with the manifest.
//! - `terminal`: the current tab's screen (tui-term), or setup advice.
//! - `egress`: the allowlist, denial counts and the log.
//! - `diff`: the tab's changes against its workspace's base, or one file's diff.
//! - `status`: engine, bottle count, message or keys.
//! - `modal`: preflight, hidden prompt, confirmations, help.
mod agents;
pub mod colours;
mod diff;
mod egress;
mod modal;
#[cfg(test)]
mod snapshot_tests;
mod status;
mod tabs;
mod terminal;

use std::collections::HashMap;

use crate::app::BottleId;
use crate::session::TermView;
use ratatui::Frame;
use ratatui::style::{Color, Modifier, Style};

use crate::app::App;

/// Draws the whole dashboard.
/// The live screens of the bottles' terminals, by bottle: the runtime holds
/// them, and hands them to the drawing beside the model (which holds no
/// live state).
pub trait Screens {
    fn screen(&self, id: BottleId) -> Option<TermView>;
}

impl Screens for HashMap<BottleId, TermView> {
    fn screen(&self, id: BottleId) -> Option<TermView> {
        self.get(&id).cloned()
    }
}

pub fn draw(frame: &mut Frame<'_>, app: &App, screens: &impl Screens) {
    let areas = app.areas();
    let buf = frame.buffer_mut();
    tabs::draw(app, areas.tabs, buf);
    agents::draw(app, areas.agents, buf);
    terminal::draw(app, screens, areas.terminal, buf);
    if let Some(area) = areas.egress {
        match &app.diff {
            Some(diff) => diff::draw(app, diff, area, buf),
            None => egress::draw(app, area, buf),
        }
    }
    status::draw(app, areas.status, buf);
    modal::draw(app, frame.area(), frame.buffer_mut());
}

fn focused_border(focused: bool) -> Style {
    if focused {
        Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD)
    } else {
        Style::new().fg(Color::DarkGray)
    }
}

fn error_style() -> Style {
    Style::new().fg(Color::Red).add_modifier(Modifier::BOLD)
}

fn dim() -> Style {
    Style::new().fg(Color::DarkGray)
}
