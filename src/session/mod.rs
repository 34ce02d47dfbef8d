//! Agent terminals: a child under a PTY (`pty`), its screen (`screen`), and
//! key events turned into the bytes the child expects (`keys`, pure).
pub mod keys;
pub mod pty;
pub mod screen;

pub use pty::{Session, SessionError, SessionId, SessionNotice, SessionSpec};
pub use screen::{Fed, SCROLLBACK_LINES, TermView};
