//! The screen a session draws into, shared between its reader thread (which
//! feeds it) and the loop (which draws it and encodes keys by its modes).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use super::keys::InputModes;

/// Lines kept above the screen; older ones are dropped, so memory is bounded.
pub const SCROLLBACK_LINES: usize = 10_000;

/// Collects what the child asked of the terminal that vt100 does not do
/// itself: answers to queries, and the bell.
#[derive(Debug, Default)]
pub struct Replies {
    /// Bytes to write back to the child, in order.
    pub answers: Vec<u8>,
    pub bell: bool,
}

impl vt100::Callbacks for Replies {
    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.bell = true;
    }

    fn visual_bell(&mut self, _: &mut vt100::Screen) {
        self.bell = true;
    }

    fn unhandled_csi(
        &mut self,
        screen: &mut vt100::Screen,
        i1: Option<u8>,
        _i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        match (i1, c, params) {
            // Cursor position report: programs that lay out inline (claude's
            // Ink renderer among them) wait for it.
            (None, 'n', [[6]]) => {
                let (row, col) = screen.cursor_position();
                let answer = format!("\x1b[{};{}R", row + 1, col + 1);
                self.answers.extend_from_slice(answer.as_bytes());
            }
            // Device status: "OK".
            (None, 'n', [[5]]) => self.answers.extend_from_slice(b"\x1b[0n"),
            // Primary device attributes: a VT220 with no options, as tmux says.
            (None, 'c', [] | [[0]]) => self.answers.extend_from_slice(b"\x1b[?62;22c"),
            _ => {}
        }
    }
}

pub type Parser = vt100::Parser<Replies>;

struct Shared {
    parser: Mutex<Parser>,
    /// Set by the reader when it feeds bytes, cleared by the loop when it
    /// takes the notification: one pending notice per session at most.
    dirty: AtomicBool,
}

/// What one call to [`TermView::feed`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fed {
    /// Bytes to write back to the child (answers to its queries).
    pub answers: Vec<u8>,
    /// The screen was clean before: the loop should hear about it.
    pub became_dirty: bool,
    /// The child rang the bell.
    pub bell: bool,
}

/// A handle on one session's terminal screen. Cheap to clone.
#[derive(Clone)]
pub struct TermView {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for TermView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TermView")
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

impl TermView {
    /// An empty screen of this size.
    pub fn new(rows: u16, cols: u16) -> Self {
        let parser =
            vt100::Parser::new_with_callbacks(rows, cols, SCROLLBACK_LINES, Replies::default());
        Self {
            shared: Arc::new(Shared {
                parser: Mutex::new(parser),
                dirty: AtomicBool::new(false),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Parser> {
        // A panic while holding the lock leaves a screen that is still
        // drawable; keep going rather than spread the panic.
        self.shared
            .parser
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Feeds child output and marks the view dirty.
    pub fn feed(&self, bytes: &[u8]) -> Fed {
        let (answers, bell) = {
            let mut parser = self.lock();
            parser.process(bytes);
            let replies = parser.callbacks_mut();
            (
                std::mem::take(&mut replies.answers),
                std::mem::take(&mut replies.bell),
            )
        };
        let was_dirty = self.shared.dirty.swap(true, Ordering::AcqRel);
        Fed {
            answers,
            became_dirty: !was_dirty,
            bell,
        }
    }

    /// Clears the dirty mark; whether it was set.
    pub fn take_dirty(&self) -> bool {
        self.shared.dirty.swap(false, Ordering::AcqRel)
    }

    /// The child's input modes, for key encoding.
    pub fn modes(&self) -> InputModes {
        InputModes::of(self.lock().screen())
    }

    pub fn size(&self) -> (u16, u16) {
        self.lock().screen().size()
    }

    pub fn set_size(&self, rows: u16, cols: u16) {
        self.lock().screen_mut().set_size(rows, cols);
    }

    /// How many lines of scrollback there are above the screen.
    pub fn scrollback_available(&self) -> usize {
        let mut parser = self.lock();
        let screen = parser.screen_mut();
        screen.set_scrollback(usize::MAX);
        let available = screen.scrollback();
        screen.set_scrollback(0);
        available
    }

    /// Runs `f` on the screen scrolled `offset` lines back (clamped to what
    /// exists). The offset is a view setting, put back to the live screen
    /// before the lock is released, so the reader always parses at the bottom.
    pub fn with_screen<R>(&self, offset: usize, f: impl FnOnce(&vt100::Screen) -> R) -> R {
        let mut parser = self.lock();
        let screen = parser.screen_mut();
        screen.set_scrollback(offset);
        let result = f(screen);
        screen.set_scrollback(0);
        result
    }

    /// The visible text, for tests and logs.
    pub fn contents(&self) -> String {
        self.lock().screen().contents()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursor_position_queries_are_answered() {
        let view = TermView::new(24, 80);
        let fed = view.feed(b"\x1b[3;7Hx\x1b[6n");
        assert_eq!(fed.answers, b"\x1b[3;8R");
        let fed = view.feed(b"\x1b[c\x1b[5n");
        assert_eq!(fed.answers, b"\x1b[?62;22c\x1b[0n");
    }

    #[test]
    fn dirty_is_reported_once_until_taken() {
        let view = TermView::new(24, 80);
        assert!(view.feed(b"a").became_dirty);
        assert!(!view.feed(b"b").became_dirty);
        assert!(view.take_dirty());
        assert!(!view.take_dirty());
        assert!(view.feed(b"c").became_dirty);
    }

    #[test]
    fn bell_is_reported_per_feed() {
        let view = TermView::new(24, 80);
        assert!(view.feed(b"ding\x07").bell);
        assert!(!view.feed(b"dong").bell);
    }

    #[test]
    fn scrollback_is_capped_and_viewable() {
        let view = TermView::new(5, 20);
        let mut lines = String::new();
        for i in 0..SCROLLBACK_LINES + 50 {
            lines.push_str("line ");
            lines.push_str(&i.to_string());
            lines.push_str("\r\n");
        }
        view.feed(lines.as_bytes());
        assert_eq!(view.scrollback_available(), SCROLLBACK_LINES);
        let top = view.with_screen(3, vt100::Screen::contents);
        assert!(
            top.starts_with(&format!("line {}", SCROLLBACK_LINES + 50 - 4 - 3)),
            "{top}"
        );
        assert!(
            view.contents()
                .ends_with(&format!("line {}", SCROLLBACK_LINES + 49))
        );
    }
}
