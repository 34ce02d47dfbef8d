//! Agent terminals: the `docker exec` that opens one in a bottle
//! (`exec_plan`), a child under a PTY (`pty`, its output handed from reader
//! to parser through `inbox`), its screen (`screen`, with
//! the lines that scrolled off kept compact in `history`, by `keeping`:
//! read out (`line_code`) or kept as output (`raw_segment`); pieces and
//! counting in `scroll_off`), and
//! key events turned into the bytes the child expects (`keys`, pure).
mod clusters;
pub mod exec_plan;
mod history;
mod inbox;
mod keeping;
pub mod keys;
mod line_code;
pub mod pty;
mod raw_segment;
pub mod screen;
mod scroll_off;
mod sync_update;

pub use pty::{Session, SessionError, SessionId, SessionNotice, SessionSpec};
pub use screen::{Fed, SCROLLBACK_LINES, ScrollState, TermView};
