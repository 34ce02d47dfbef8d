//! `claude-bottle-hold serve`: claude under a PTY of the holder's own, its
//! output kept for replay and relayed to the one viewer attached.
//!
//! Threads, each with one job: the PTY reader (keeps and relays output), the
//! listener (takes viewers), one per viewer (its keys and resizes to the PTY),
//! and the waiter (claude's end ends the holder). Output is written to the
//! viewer under the state lock, so a replay and the live output after it
//! never interleave; a viewer that stops reading for [`VIEWER_STALL`] is
//! dropped rather than stalling claude.

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt as _;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use portable_pty::{CommandBuilder, MasterPty, PtySize, native_pty_system};
use serde::{Deserialize, Serialize};

use super::protocol::{Frame, OUTPUT_CHUNK, read_frame, write_frame, write_output};
use super::replay::{REPLAY_BYTES, Replay};

/// How long a viewer may leave output unread before it is dropped.
const VIEWER_STALL: Duration = Duration::from_secs(5);
/// How long a new connection has to say what it wants.
const HELLO_WAIT: Duration = Duration::from_secs(5);
/// How long the holder stays after claude ended, for a viewer to come and
/// see its last screen and exit code.
const LINGER: Duration = Duration::from_secs(60);

/// What `claude-bottle-hold status` prints, for `ps`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Status {
    /// Who is attached and typing, if anyone.
    pub viewer: Option<String>,
    /// The process behind that viewer, as it said (`pid:start:host`).
    pub viewer_owner: Option<String>,
    /// Milliseconds since claude last wrote anything.
    pub idle_ms: u64,
    /// Bytes of output kept for the next viewer.
    pub kept_bytes: usize,
    /// The PTY's size.
    pub rows: u16,
    pub cols: u16,
    /// Claude's exit code once it ended (the holder lingers a while to show
    /// it).
    pub exited: Option<i32>,
}

struct Viewer {
    id: u64,
    who: String,
    owner: String,
    stream: UnixStream,
}

struct State {
    replay: Replay,
    /// The viewer that types, if any.
    viewer: Option<Viewer>,
    /// Viewers that were taken over: they still see the output, their keys
    /// go nowhere.
    watchers: Vec<Viewer>,
    last_output: Instant,
    size: PtySize,
    next_id: u64,
    exited: Option<i32>,
}

struct Holder {
    state: Mutex<State>,
    /// Told when, after claude ended, a viewer saw the end (`false`) or the
    /// holder was asked to leave and gave up its socket (`true`).
    done: Mutex<std::sync::mpsc::Sender<bool>>,
    socket: PathBuf,
    master: Mutex<Box<dyn MasterPty + Send>>,
    input: Mutex<Box<dyn Write + Send>>,
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Runs `command` under a PTY of `(rows, cols)` and serves viewers on
/// `socket` until it ends; returns its exit code.
pub fn serve(socket: &Path, command: &[String], (rows, cols): (u16, u16)) -> anyhow::Result<i32> {
    let (program, args) = command
        .split_first()
        .ok_or_else(|| anyhow::anyhow!("serve needs a command after --"))?;
    let listener = listen(socket)?;
    let size = PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    };
    let pair = native_pty_system().openpty(size)?;
    let mut builder = CommandBuilder::new(program);
    builder.args(args);
    builder.cwd(std::env::current_dir()?);
    let mut child = pair.slave.spawn_command(builder)?;
    // Only the child holds the terminal's other end: its exit ends our reads.
    drop(pair.slave);
    let reader = pair.master.try_clone_reader()?;
    let input = pair.master.take_writer()?;
    let (done, done_rx) = std::sync::mpsc::channel();
    let holder = Arc::new(Holder {
        done: Mutex::new(done),
        socket: socket.to_path_buf(),
        state: Mutex::new(State {
            replay: Replay::new(REPLAY_BYTES),
            viewer: None,
            watchers: Vec::new(),
            last_output: Instant::now(),
            size,
            next_id: 0,
            exited: None,
        }),
        master: Mutex::new(pair.master),
        input: Mutex::new(input),
    });

    let relay = {
        let holder = Arc::clone(&holder);
        std::thread::spawn(move || relay_output(&holder, reader))
    };
    {
        let holder = Arc::clone(&holder);
        std::thread::spawn(move || accept_viewers(&holder, &listener));
    }
    let code = child.wait().map_or(1, |status| exit_code(&status));
    // Everything claude wrote reaches the viewer before its exit does.
    let _ = relay.join();
    {
        let mut state = lock(&holder.state);
        state.exited = Some(code);
        for mut viewer in state
            .viewer
            .take()
            .into_iter()
            .chain(state.watchers.drain(..))
        {
            let _ = write_frame(&mut viewer.stream, &Frame::Exited(code));
        }
    }
    // The viewer told may be nobody: the engine keeps a viewer's exec
    // running after its client died. So the holder stays a while for the
    // next viewer to see the last screen and the code, unless asked to
    // leave for a new holder.
    let left = done_rx.recv_timeout(LINGER).unwrap_or(false);
    if !left {
        let _ = std::fs::remove_file(socket);
    }
    Ok(code)
}

/// The code a shell would report: the exit code, or 128 plus the number of
/// the signal that ended it (portable-pty names the signal, as strsignal
/// does).
fn exit_code(status: &portable_pty::ExitStatus) -> i32 {
    const NAMES: [&str; 15] = [
        "Hangup",
        "Interrupt",
        "Quit",
        "Illegal instruction",
        "Trace/breakpoint trap",
        "Aborted",
        "Bus error",
        "Floating point exception",
        "Killed",
        "User defined signal 1",
        "Segmentation fault",
        "User defined signal 2",
        "Broken pipe",
        "Alarm clock",
        "Terminated",
    ];
    let Some(name) = status.signal() else {
        return i32::try_from(status.exit_code()).unwrap_or(1);
    };
    let number = NAMES
        .iter()
        .position(|n| *n == name)
        .and_then(|at| i32::try_from(at + 1).ok())
        .or_else(|| name.strip_prefix("Signal ")?.parse().ok());
    number.map_or(1, |n| 128 + n)
}

/// Binds the socket in a directory only this user can enter. A socket left
/// by a holder that died is replaced; a live one is not.
fn listen(socket: &Path) -> anyhow::Result<UnixListener> {
    let dir = socket
        .parent()
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    std::fs::create_dir_all(&dir)?;
    std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700))?;
    if socket.exists() {
        if UnixStream::connect(socket).is_ok() {
            anyhow::bail!("a holder already serves {}", socket.display());
        }
        std::fs::remove_file(socket)?;
    }
    Ok(UnixListener::bind(socket)?)
}

fn relay_output(holder: &Holder, mut reader: Box<dyn Read + Send>) {
    let mut buf = vec![0u8; OUTPUT_CHUNK];
    loop {
        let n = match reader.read(&mut buf) {
            // EIO: the child and everything it started closed the terminal.
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        let mut state = lock(&holder.state);
        state.replay.push(&buf[..n]);
        state.last_output = Instant::now();
        let output = &buf[..n];
        if let Some(viewer) = state.viewer.as_mut()
            && write_output(&mut viewer.stream, output).is_err()
        {
            // Gone or stalled: it can attach again.
            state.viewer = None;
        }
        state
            .watchers
            .retain_mut(|w| write_output(&mut w.stream, output).is_ok());
    }
}

fn accept_viewers(holder: &Arc<Holder>, listener: &UnixListener) {
    for stream in listener.incoming().flatten() {
        let holder = Arc::clone(holder);
        std::thread::spawn(move || {
            let _ = serve_connection(&holder, stream);
        });
    }
}

fn serve_connection(holder: &Holder, mut stream: UnixStream) -> std::io::Result<()> {
    stream.set_read_timeout(Some(HELLO_WAIT))?;
    stream.set_write_timeout(Some(VIEWER_STALL))?;
    let Some(first) = read_frame(&mut stream)? else {
        return Ok(());
    };
    let (rows, cols, take_over, who, owner) = match first {
        Frame::StatusRequest => {
            let json = serde_json::to_string(&status(holder)).unwrap_or_default();
            return write_frame(&mut stream, &Frame::Status(json));
        }
        Frame::Leave => {
            if lock(&holder.state).exited.is_none() {
                return Ok(());
            }
            // The socket is free for a new holder before the answer, and
            // the answer is out before the holder ends (its end would cut
            // the answer off, and the asker would think claude still runs).
            let _ = std::fs::remove_file(&holder.socket);
            let answered = write_frame(&mut stream, &Frame::Leaving);
            let _ = lock(&holder.done).send(true);
            return answered;
        }
        Frame::Hello {
            rows,
            cols,
            take_over,
            who,
            owner,
        } => (rows, cols, take_over, who, owner),
        _ => return Ok(()),
    };
    let id = {
        let mut state = lock(&holder.state);
        if let Some(current) = state.viewer.as_mut()
            && !take_over
        {
            return write_frame(&mut stream, &Frame::Held(current.who.clone()));
        }
        if let Some(mut displaced) = state.viewer.take() {
            // It may watch on, read-only, or leave (its choice).
            if write_frame(&mut displaced.stream, &Frame::TakenOver(who.clone())).is_ok() {
                state.watchers.push(displaced);
            }
        }
        for chunk in state.replay.for_viewer().chunks(OUTPUT_CHUNK) {
            write_output(&mut stream, chunk)?;
        }
        if let Some(code) = state.exited {
            // Claude ended while nobody watched: its last screen, its code.
            write_frame(&mut stream, &Frame::Exited(code))?;
            let _ = lock(&holder.done).send(false);
            return Ok(());
        }
        state.next_id += 1;
        let id = state.next_id;
        state.viewer = Some(Viewer {
            id,
            who,
            owner,
            stream: stream.try_clone()?,
        });
        id
    };
    resize(holder, rows, cols);
    stream.set_read_timeout(None)?;
    // This viewer's keys and resizes, while it is the one that types; a
    // watcher's go nowhere.
    while let Ok(Some(frame)) = read_frame(&mut stream) {
        let current = lock(&holder.state).viewer.as_ref().map(|v| v.id) == Some(id);
        if !current {
            continue;
        }
        match frame {
            Frame::Input(bytes) => {
                let mut input = lock(&holder.input);
                if input
                    .write_all(&bytes)
                    .and_then(|()| input.flush())
                    .is_err()
                {
                    break;
                }
            }
            Frame::Resize { rows, cols } => resize(holder, rows, cols),
            _ => {}
        }
    }
    let mut state = lock(&holder.state);
    if state.viewer.as_ref().map(|v| v.id) == Some(id) {
        state.viewer = None;
    }
    state.watchers.retain(|w| w.id != id);
    Ok(())
}

fn resize(holder: &Holder, rows: u16, cols: u16) {
    if rows == 0 || cols == 0 {
        return;
    }
    let size = PtySize {
        rows,
        cols,
        pixel_width: 0,
        pixel_height: 0,
    };
    lock(&holder.state).size = size;
    let _ = lock(&holder.master).resize(size);
}

fn status(holder: &Holder) -> Status {
    let state = lock(&holder.state);
    Status {
        viewer: state.viewer.as_ref().map(|v| v.who.clone()),
        viewer_owner: state.viewer.as_ref().map(|v| v.owner.clone()),
        idle_ms: u64::try_from(state.last_output.elapsed().as_millis()).unwrap_or(u64::MAX),
        kept_bytes: state.replay.len(),
        rows: state.size.rows,
        cols: state.size.cols,
        exited: state.exited,
    }
}

/// Asks a holder whose claude ended to leave, so a new one can start;
/// whether the socket is free now.
pub fn ask_to_leave(socket: &Path) -> bool {
    let Ok(mut stream) = UnixStream::connect(socket) else {
        return true;
    };
    let _ = stream.set_read_timeout(Some(HELLO_WAIT));
    let left = write_frame(&mut stream, &Frame::Leave).is_ok()
        && matches!(read_frame(&mut stream), Ok(Some(Frame::Leaving)));
    // No answer may also mean the holder ended meanwhile (its minute after
    // claude ended ran out): then nothing listens any more.
    left || UnixStream::connect(socket).is_err()
}

/// Asks the holder at `socket` for its status; `None` when none answers
/// (claude ended, or never started).
pub fn query_status(socket: &Path) -> Option<Status> {
    let mut stream = UnixStream::connect(socket).ok()?;
    stream.set_read_timeout(Some(HELLO_WAIT)).ok()?;
    write_frame(&mut stream, &Frame::StatusRequest).ok()?;
    match read_frame(&mut stream).ok()?? {
        Frame::Status(json) => serde_json::from_str(&json).ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signal_reads_as_a_shell_reports_it() {
        let code = |status| exit_code(&status);
        assert_eq!(code(portable_pty::ExitStatus::with_exit_code(7)), 7);
        assert_eq!(code(portable_pty::ExitStatus::with_signal("Killed")), 137);
        assert_eq!(
            code(portable_pty::ExitStatus::with_signal("Terminated")),
            143
        );
        assert_eq!(
            code(portable_pty::ExitStatus::with_signal("Signal 40")),
            168
        );
        assert_eq!(code(portable_pty::ExitStatus::with_signal("Odd")), 1);
    }
}
