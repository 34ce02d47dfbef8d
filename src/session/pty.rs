//! One child program under a pseudo-terminal: spawn, read, write, resize, exit.
//!
//! Threads: one OS thread reads the PTY master into the session's
//! [`Inbox`], one parses what is there into its [`TermView`] (the reader
//! parses itself what finds nothing waiting), one writes queued input.
//! Blocking reads and writes stay on those threads, never on the async loop.
//!
//! Backpressure: the parser hands the loop only the session id, and only
//! when the screen goes from clean to dirty, so notifications coalesce
//! however fast the child writes. Output waits in the inbox, at most
//! [`INBOX_LIMIT`](super::inbox::INBOX_LIMIT) bytes: if parsing falls further
//! behind, the reader waits, the kernel's PTY buffer fills and the child's
//! writes block. Input goes through a bounded queue; when it is full a write
//! is refused (reported to the user) instead of blocking the loop.

use std::io::{Read, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{SyncSender, TrySendError, sync_channel};
use std::time::Instant;

use parking_lot::Mutex;
use portable_pty::{ChildKiller, CommandBuilder, MasterPty, PtySize, native_pty_system};
use tokio::sync::mpsc::UnboundedSender;

use super::inbox::{Inbox, Put};
use super::screen::{TermView, at_least_min};

/// Identifies a session to the loop (the dashboard uses its bottle id).
pub type SessionId = u64;

/// What a session's threads tell the loop.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionNotice {
    /// The screen changed since the loop last took the dirty mark.
    Output(SessionId),
    /// The child rang the bell (sent every time, dirty or not: it is rare
    /// and it is how an agent asks for the user).
    Bell(SessionId),
    /// The child ended; its exit code when it had one.
    Exited(SessionId, Option<i32>),
    /// Another viewer took the bottle's claude over (who): this terminal
    /// only watches now.
    HeldElsewhere(SessionId, String),
    /// A synchronized update is held until it ends; should it not end by
    /// this instant, the loop shows it ([`TermView::expire_sync`]).
    Held(SessionId, std::time::Instant),
}

/// Chunks of input waiting for the writer thread.
const INPUT_QUEUE: usize = 256;
const READ_BUFFER: usize = 64 * 1024;
/// The most output parsed under the screen's lock at once, so a frame never
/// waits long for it (about 0.2 ms here).
const FEED_PIECE: usize = 16 * 1024;

/// What to run and with which environment.
#[derive(Debug, Clone, Default)]
pub struct SessionSpec {
    pub program: String,
    pub args: Vec<String>,
    /// Added to the inherited environment of the spawned process only.
    pub env: Vec<(String, String)>,
    pub rows: u16,
    pub cols: u16,
}

#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    #[error("cannot open a pseudo-terminal: {0}")]
    Open(String),
    #[error("cannot start {program}: {detail}")]
    Spawn { program: String, detail: String },
    #[error("the session's input queue is full; the program is not reading its input")]
    InputFull,
    #[error("the session has ended")]
    Closed,
    #[error("cannot resize the terminal: {0}")]
    Resize(String),
}

/// A running child under a PTY.
pub struct Session {
    id: SessionId,
    view: TermView,
    input: SyncSender<Vec<u8>>,
    killer: Box<dyn ChildKiller + Send + Sync>,
    /// Set when the end is no news (see [`Session::end_quietly`]).
    quiet: Arc<AtomicBool>,
    // Dropped last: closing the master ends the reader and writer threads.
    master: Box<dyn MasterPty + Send>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl Session {
    /// Starts `spec` under a new PTY of its size. Notices go to `notify`.
    pub fn spawn(
        id: SessionId,
        spec: &SessionSpec,
        notify: UnboundedSender<SessionNotice>,
    ) -> Result<Self, SessionError> {
        let (rows, cols) = at_least_min(spec.rows, spec.cols);
        let size = PtySize {
            rows,
            cols,
            pixel_width: 0,
            pixel_height: 0,
        };
        let pair = native_pty_system()
            .openpty(size)
            .map_err(|e| SessionError::Open(e.to_string()))?;
        let mut cmd = CommandBuilder::new(&spec.program);
        cmd.args(&spec.args);
        cmd.env("TERM", "xterm-256color");
        for (name, value) in &spec.env {
            cmd.env(name, value);
        }
        let spawn_error = |e: &dyn std::fmt::Display| SessionError::Spawn {
            program: spec.program.clone(),
            detail: e.to_string(),
        };
        let mut child = pair.slave.spawn_command(cmd).map_err(|e| spawn_error(&e))?;
        // The child holds its own copy of the slave; ours must close, or the
        // master never sees end-of-file when the child exits.
        drop(pair.slave);
        let killer = child.clone_killer();
        let reader = pair
            .master
            .try_clone_reader()
            .map_err(|e| spawn_error(&e))?;
        let writer = pair.master.take_writer().map_err(|e| spawn_error(&e))?;

        let view = TermView::new(size.rows, size.cols);
        let (input, queue) = sync_channel::<Vec<u8>>(INPUT_QUEUE);
        std::thread::Builder::new()
            .name(format!("pty-writer-{id}"))
            .spawn(move || write_loop(writer, &queue))
            .map_err(|e| spawn_error(&e))?;
        let inbox = Arc::new(Inbox::default());
        let feeder = Arc::new(Feeder {
            view: view.clone(),
            answer: input.clone(),
            notify: notify.clone(),
            id,
            told_hold: Mutex::new(None),
        });
        let (reader_inbox, reader_feeder) = (Arc::clone(&inbox), Arc::clone(&feeder));
        std::thread::Builder::new()
            .name(format!("pty-reader-{id}"))
            .spawn(move || read_loop(reader, &reader_inbox, &reader_feeder))
            .map_err(|e| spawn_error(&e))?;
        let quiet = Arc::new(AtomicBool::new(false));
        let quiet_parser = Arc::clone(&quiet);
        std::thread::Builder::new()
            .name(format!("pty-parser-{id}"))
            .spawn(move || {
                parse_loop(&inbox, &feeder);
                // A reader waiting for room must not wait for ever.
                inbox.abandon();
                let code = child
                    .wait()
                    .ok()
                    .map(|status| i32::try_from(status.exit_code()).unwrap_or(i32::MAX));
                if !quiet_parser.load(Ordering::Acquire) {
                    let _ = notify.send(SessionNotice::Exited(id, code));
                }
            })
            .map_err(|e| spawn_error(&e))?;

        Ok(Self {
            id,
            view,
            input,
            killer,
            master: pair.master,
            quiet,
        })
    }

    pub fn id(&self) -> SessionId {
        self.id
    }

    /// The session's screen.
    pub fn view(&self) -> TermView {
        self.view.clone()
    }

    /// Queues input for the child without blocking.
    pub fn write(&self, bytes: Vec<u8>) -> Result<(), SessionError> {
        self.input.try_send(bytes).map_err(|e| match e {
            TrySendError::Full(_) => SessionError::InputFull,
            TrySendError::Disconnected(_) => SessionError::Closed,
        })
    }

    /// Resizes the PTY (the child gets SIGWINCH) and the screen with it.
    pub fn resize(&self, rows: u16, cols: u16) -> Result<(), SessionError> {
        let (rows, cols) = at_least_min(rows, cols);
        if self.view.size() == (rows, cols) {
            return Ok(());
        }
        self.view.set_size(rows, cols);
        self.master
            .resize(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .map_err(|e| SessionError::Resize(e.to_string()))
    }

    /// Ends the child (SIGHUP, as closing a terminal does). The reader then
    /// reports the exit.
    pub fn kill(&mut self) {
        let _ = self.killer.kill();
    }

    /// Ends the child without reporting its exit: for a terminal replaced
    /// by a new one of the same id, whose end is no news.
    pub fn end_quietly(&mut self) {
        self.quiet.store(true, Ordering::Release);
        self.kill();
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Reads the PTY until the output ends (or nobody parses): into `inbox`,
/// or, when nothing waits there and nobody parses, straight to the screen.
fn read_loop(mut reader: Box<dyn Read + Send>, inbox: &Inbox, feeder: &Feeder) {
    let mut buf = vec![0; READ_BUFFER];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            // EIO: every slave descriptor is closed, the child is gone.
            Err(_) => break,
        };
        match inbox.put(&buf[..n]) {
            Put::Queued => {}
            Put::ParseIt => {
                let loop_there = feeder.feed(&buf[..n]);
                inbox.parsed();
                if !loop_there {
                    break;
                }
            }
            Put::Stop => return,
        }
    }
    inbox.end();
}

/// Parses what waits in `inbox` until the output has ended and all of it
/// is parsed (or the loop is gone).
fn parse_loop(inbox: &Inbox, feeder: &Feeder) {
    let mut batch = Vec::new();
    while inbox.take(&mut batch) {
        let loop_there = feeder.feed(&batch);
        inbox.parsed();
        if !loop_there {
            return;
        }
        // A flood keeps this thread runnable: let the others (another
        // session's echo) have the core between batches.
        std::thread::yield_now();
    }
}

/// Parses output into the screen, answers the child's queries and tells
/// the loop what changed. Used by one thread at a time (see [`Inbox`]).
struct Feeder {
    view: TermView,
    answer: SyncSender<Vec<u8>>,
    notify: UnboundedSender<SessionNotice>,
    id: SessionId,
    /// The held update the loop was told of last.
    told_hold: Mutex<Option<Instant>>,
}

impl Feeder {
    /// Feeds `bytes` a piece at a time; false when the loop is gone.
    fn feed(&self, bytes: &[u8]) -> bool {
        bytes.chunks(FEED_PIECE).all(|piece| self.feed_piece(piece))
    }

    fn feed_piece(&self, piece: &[u8]) -> bool {
        let fed = self.view.feed(piece);
        if !fed.answers.is_empty() {
            // Never block the parser on input: a child that asks and does
            // not read its input would otherwise stall its own output.
            let _ = self.answer.try_send(fed.answers);
        }
        // Each held update is told once, by its deadline.
        let held = {
            let mut told = self.told_hold.lock();
            let held = fed.hold_until.filter(|d| Some(*d) != *told);
            *told = fed.hold_until;
            held
        };
        let id = self.id;
        let notices = [
            fed.became_dirty.then_some(SessionNotice::Output(id)),
            fed.bell.then_some(SessionNotice::Bell(id)),
            held.map(|deadline| SessionNotice::Held(id, deadline)),
            fed.held_by.map(|who| SessionNotice::HeldElsewhere(id, who)),
        ];
        notices
            .into_iter()
            .flatten()
            .all(|notice| self.notify.send(notice).is_ok())
    }
}

fn write_loop(mut writer: Box<dyn Write + Send>, queue: &std::sync::mpsc::Receiver<Vec<u8>>) {
    for bytes in queue {
        if writer
            .write_all(&bytes)
            .and_then(|()| writer.flush())
            .is_err()
        {
            return;
        }
    }
}
