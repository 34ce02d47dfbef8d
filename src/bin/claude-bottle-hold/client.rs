//! `claude-bottle-hold attach`: the viewer's end, run by `docker exec -it`.
//! It puts its terminal in raw mode and copies bytes: keys to the holder,
//! claude's output to the terminal, and the terminal's size on every change.

use std::io::{BufReader, Read, Write};
use std::os::fd::AsFd as _;
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use super::protocol::{Frame, OUTPUT_CHUNK, read_frame, whole_frame_in, write_frame};

#[derive(Debug, Clone)]
pub struct AttachOptions<'a> {
    pub socket: &'a Path,
    /// Shown to a viewer this one displaces, and by `ps`.
    pub who: String,
    /// The process behind this viewer (`pid:start:host`), for others to
    /// tell whether it still lives.
    pub owner: String,
    pub take_over: bool,
    /// The byte that detaches, if any (`start` and the dashboard have none:
    /// every key is claude's).
    pub detach_byte: Option<u8>,
}

/// How an attachment ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ended {
    /// Claude exited with this code.
    Exited(i32),
    /// The viewer pressed the detach key; claude runs on.
    Detached,
    /// Another viewer holds the session.
    Held(String),
    /// Another viewer took the session over.
    TakenOver(String),
    /// The holder went away without saying why.
    Lost,
}

/// Attaches this process's terminal to the holder at `options.socket`.
pub fn attach(options: &AttachOptions<'_>) -> anyhow::Result<Ended> {
    let mut stream = UnixStream::connect(options.socket).map_err(|e| {
        anyhow::anyhow!(
            "no claude is running in this bottle ({}: {e})",
            options.socket.display()
        )
    })?;
    let (cols, rows) = crossterm::terminal::size().unwrap_or((80, 24));
    write_frame(
        &mut stream,
        &Frame::Hello {
            rows,
            cols,
            take_over: options.take_over,
            who: options.who.clone(),
            owner: options.owner.clone(),
        },
    )?;
    // Not a terminal (a test's pipe): bytes pass through all the same.
    let raw = crossterm::terminal::enable_raw_mode().is_ok();
    let ended = relay(&mut stream, options.detach_byte);
    if raw {
        let _ = crossterm::terminal::disable_raw_mode();
    }
    ended
}

fn relay(stream: &mut UnixStream, detach_byte: Option<u8>) -> anyhow::Result<Ended> {
    let writer = Arc::new(Mutex::new(stream.try_clone()?));
    let (done_tx, done_rx) = std::sync::mpsc::channel::<Ended>();
    {
        let writer = Arc::clone(&writer);
        let done = done_tx.clone();
        std::thread::spawn(move || forward_keys(&writer, detach_byte, &done));
    }
    {
        let writer = Arc::clone(&writer);
        std::thread::spawn(move || forward_resizes(&writer));
    }
    {
        let reader = stream.try_clone()?;
        // Taken over, a viewer with a detach key (a person at `attach`)
        // leaves and says why; one without (a dashboard tab) watches on.
        let watch_on = detach_byte.is_none();
        std::thread::spawn(move || {
            let _ = done_tx.send(show_output(reader, watch_on));
        });
    }
    Ok(done_rx.recv().unwrap_or(Ended::Lost))
}

/// The mark a watching viewer writes when it was taken over: a private OSC
/// (terminals ignore it) that the dashboard's screen reads, so the tab can
/// say who holds the agent now. Followed by the name and BEL.
pub const HELD_ELSEWHERE_MARK: &[u8] = b"\x1b]5379;held-by;";

fn show_output(stream: UnixStream, watch_on: bool) -> Ended {
    // Frames are read ahead, so output that arrived in several frames is
    // written in one go. The terminal is written unbuffered, through a
    // copy of stdout's descriptor: std's line buffering would split each
    // write in two.
    let mut reader = BufReader::with_capacity(OUTPUT_CHUNK, stream);
    let Ok(mut terminal) = std::io::stdout()
        .as_fd()
        .try_clone_to_owned()
        .map(std::fs::File::from)
    else {
        return Ended::Lost;
    };
    let mut shown = Vec::with_capacity(OUTPUT_CHUNK);
    loop {
        let frame = read_frame(&mut reader);
        if let Ok(Some(Frame::Output(bytes))) = &frame {
            shown.extend_from_slice(bytes);
            if shown.len() < OUTPUT_CHUNK && whole_frame_in(reader.buffer()) {
                continue;
            }
        }
        if !shown.is_empty() {
            if terminal.write_all(&shown).is_err() {
                return Ended::Lost;
            }
            shown.clear();
        }
        match frame {
            Ok(Some(Frame::Exited(code))) => return Ended::Exited(code),
            Ok(Some(Frame::Held(who))) => return Ended::Held(who),
            Ok(Some(Frame::TakenOver(who))) if watch_on => {
                let mut mark = HELD_ELSEWHERE_MARK.to_vec();
                mark.extend(who.bytes().filter(|b| *b >= 0x20 && *b != 0x7f));
                mark.push(0x07);
                if terminal.write_all(&mark).is_err() {
                    return Ended::Lost;
                }
            }
            Ok(Some(Frame::TakenOver(who))) => return Ended::TakenOver(who),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => return Ended::Lost,
        }
    }
}

fn forward_keys(
    writer: &Mutex<UnixStream>,
    detach_byte: Option<u8>,
    done: &std::sync::mpsc::Sender<Ended>,
) {
    let mut stdin = std::io::stdin().lock();
    let mut buf = [0u8; 4096];
    loop {
        let n = match stdin.read(&mut buf) {
            Ok(0) | Err(_) => {
                // The terminal closed: leave claude running.
                let _ = done.send(Ended::Detached);
                return;
            }
            Ok(n) => n,
        };
        let keys = &buf[..n];
        let (keys, detach) = match detach_byte.and_then(|d| keys.iter().position(|b| *b == d)) {
            Some(at) => (&keys[..at], true),
            None => (keys, false),
        };
        if !keys.is_empty() {
            let mut stream = writer.lock().unwrap_or_else(PoisonError::into_inner);
            if write_frame(&mut *stream, &Frame::Input(keys.to_vec())).is_err() {
                return;
            }
        }
        if detach {
            let _ = done.send(Ended::Detached);
            return;
        }
    }
}

fn forward_resizes(writer: &Mutex<UnixStream>) {
    let Ok(mut signals) = signal_hook::iterator::Signals::new([signal_hook::consts::SIGWINCH])
    else {
        return;
    };
    for _ in signals.forever() {
        let Ok((cols, rows)) = crossterm::terminal::size() else {
            continue;
        };
        let mut stream = writer.lock().unwrap_or_else(PoisonError::into_inner);
        if write_frame(&mut *stream, &Frame::Resize { rows, cols }).is_err() {
            return;
        }
    }
}
