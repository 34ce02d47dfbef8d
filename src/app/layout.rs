//! Where each part of the dashboard goes (pure geometry, shared by the model,
//! which sizes the PTYs, and the UI, which draws into the same rectangles).

use ratatui::layout::Rect;

/// Width of the agent list column.
const AGENT_COLUMN: u16 = 30;
/// Rows the egress pane takes when open, at least.
const EGRESS_MIN_ROWS: u16 = 8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Areas {
    pub tabs: Rect,
    pub agents: Rect,
    /// The terminal pane including its border.
    pub terminal: Rect,
    pub egress: Option<Rect>,
    pub status: Rect,
}

impl Areas {
    pub fn new(screen: Rect, egress_open: bool) -> Self {
        let tabs = Rect {
            height: screen.height.min(1),
            ..screen
        };
        let status = Rect {
            y: screen.bottom().saturating_sub(1),
            height: screen.height.min(1),
            ..screen
        };
        let body_height = screen.height.saturating_sub(2);
        let agents_width = AGENT_COLUMN.min(screen.width / 3);
        let body_y = screen.y + tabs.height;
        // The egress pane spans the full width under the rest: log rows are long.
        let egress_rows = if egress_open {
            (body_height * 2 / 5).max(EGRESS_MIN_ROWS).min(body_height)
        } else {
            0
        };
        let top_height = body_height - egress_rows;
        let agents = Rect::new(screen.x, body_y, agents_width, top_height);
        let terminal = Rect::new(
            screen.x + agents_width,
            body_y,
            screen.width - agents_width,
            top_height,
        );
        let egress = egress_open
            .then(|| Rect::new(screen.x, body_y + top_height, screen.width, egress_rows));
        Self {
            tabs,
            agents,
            terminal,
            egress,
            status,
        }
    }

    /// The PTY size (rows, cols): the terminal pane inside its border.
    pub fn pty_size(&self) -> (u16, u16) {
        (
            self.terminal.height.saturating_sub(2).max(1),
            self.terminal.width.saturating_sub(2).max(1),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn areas_tile_the_screen() {
        let a = Areas::new(Rect::new(0, 0, 200, 50), false);
        assert_eq!(a.tabs, Rect::new(0, 0, 200, 1));
        assert_eq!(a.status, Rect::new(0, 49, 200, 1));
        assert_eq!(a.agents, Rect::new(0, 1, 30, 48));
        assert_eq!(a.terminal, Rect::new(30, 1, 170, 48));
        assert_eq!(a.pty_size(), (46, 168));
        let b = Areas::new(Rect::new(0, 0, 200, 50), true);
        let egress = b.egress.unwrap();
        assert_eq!(b.terminal.height + egress.height, 48);
        assert_eq!(b.agents.height, b.terminal.height);
        assert_eq!(egress.bottom(), 49);
        assert_eq!(egress.width, 200);
    }

    #[test]
    fn tiny_screens_do_not_underflow() {
        let a = Areas::new(Rect::new(0, 0, 3, 2), true);
        assert_eq!(a.pty_size(), (1, 1));
    }
}
