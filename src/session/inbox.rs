//! Output read from the PTY and not parsed yet, handed from the thread that
//! reads to the thread that parses.
//!
//! Why two threads: the kernel refills a PTY's read buffer (4 KiB) only
//! after a read empties it, on the CPU that read. A thread that reads and
//! then parses finds the buffer empty at every read and sleeps until the
//! refill runs; one that only reads keeps it flowing while the other parses
//! what came. But a hop between threads is one more wake-up on the way from
//! a keystroke to its echo, so a short read (less than [`SHORT_READ`]: the
//! program is not flooding) that finds nothing waiting and nobody parsing is
//! parsed by the reader itself ([`Put::ParseIt`]): one parser at a time, in
//! order, whichever thread it is.
//!
//! Bounded: at most [`INBOX_LIMIT`] bytes wait. When the parser falls that far
//! behind, the reader stops reading, the kernel's buffer fills and the
//! child's writes block, as with one thread.

use parking_lot::{Condvar, Mutex};

/// The most bytes read and not yet parsed.
pub const INBOX_LIMIT: usize = 64 * 1024;
/// A read shorter than this did not fill the kernel's buffer (4 KiB): the
/// program is not writing faster than it is read.
pub const SHORT_READ: usize = 2 * 1024;

#[derive(Debug, Default)]
struct State {
    bytes: Vec<u8>,
    /// A thread is parsing (the reader or the parser): the other waits.
    parsing: bool,
    /// The reader saw the end of the output: nothing more will come.
    ended: bool,
    /// The parser stopped: nothing more will be taken.
    abandoned: bool,
}

/// What the reader does with what it read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// It waits in the inbox for the parser.
    Queued,
    /// A short read, nothing waits and nobody parses: the reader parses it
    /// now, then calls [`Inbox::parsed`].
    ParseIt,
    /// The parser stopped: stop reading.
    Stop,
}

/// See the module.
#[derive(Debug, Default)]
pub struct Inbox {
    state: Mutex<State>,
    changed: Condvar,
}

impl Inbox {
    /// Hands over what was read, first waiting while the inbox is full.
    pub fn put(&self, bytes: &[u8]) -> Put {
        let mut state = self.state.lock();
        while state.bytes.len() >= INBOX_LIMIT && !state.abandoned {
            self.changed.wait(&mut state);
        }
        if state.abandoned {
            return Put::Stop;
        }
        if bytes.len() < SHORT_READ && state.bytes.is_empty() && !state.parsing {
            state.parsing = true;
            return Put::ParseIt;
        }
        let was_empty = state.bytes.is_empty();
        state.bytes.extend_from_slice(bytes);
        drop(state);
        if was_empty {
            self.changed.notify_all();
        }
        Put::Queued
    }

    /// The output has ended: the parser takes what is left and stops.
    pub fn end(&self) {
        self.state.lock().ended = true;
        self.changed.notify_all();
    }

    /// Swaps everything waiting into `batch` (cleared first), waiting until
    /// something is there and nobody parses; the caller parses it, then
    /// calls [`Inbox::parsed`]. False once the output has ended and all of
    /// it was parsed.
    pub fn take(&self, batch: &mut Vec<u8>) -> bool {
        batch.clear();
        let mut state = self.state.lock();
        while state.parsing || (state.bytes.is_empty() && !state.ended) {
            self.changed.wait(&mut state);
        }
        if state.bytes.is_empty() {
            return false;
        }
        state.parsing = true;
        let was_full = state.bytes.len() >= INBOX_LIMIT;
        std::mem::swap(&mut state.bytes, batch);
        drop(state);
        if was_full {
            self.changed.notify_all();
        }
        true
    }

    /// The thread that was parsing is done.
    pub fn parsed(&self) {
        self.state.lock().parsing = false;
        self.changed.notify_all();
    }

    /// The parser stops taking: a reader waiting for room gives up.
    pub fn abandon(&self) {
        self.state.lock().abandoned = true;
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn bytes_are_parsed_in_order_and_whole_by_whichever_thread() {
        let inbox = Arc::new(Inbox::default());
        let parsed = Arc::new(Mutex::new(Vec::new()));
        let sent: Vec<u8> = (0..2_000_000_u32)
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect();
        let reader = {
            let (inbox, parsed, sent) = (Arc::clone(&inbox), Arc::clone(&parsed), sent.clone());
            std::thread::spawn(move || {
                let mut by_reader = 0;
                // Long reads (a flood) and short ones (a pause) in turn.
                let mut rest = &sent[..];
                let mut i = 0;
                while !rest.is_empty() {
                    let len = if i % 20 < 10 { 4095 } else { 100 }.min(rest.len());
                    let (chunk, after) = rest.split_at(len);
                    rest = after;
                    i += 1;
                    match inbox.put(chunk) {
                        Put::ParseIt => {
                            parsed.lock().extend_from_slice(chunk);
                            by_reader += 1;
                            inbox.parsed();
                        }
                        Put::Queued => {}
                        Put::Stop => panic!("stopped"),
                    }
                    if i % 20 == 10 {
                        std::thread::sleep(Duration::from_millis(2));
                    }
                }
                inbox.end();
                by_reader
            })
        };
        let (mut batch, mut largest, mut by_parser) = (Vec::new(), 0, 0);
        while inbox.take(&mut batch) {
            largest = largest.max(batch.len());
            parsed.lock().extend_from_slice(&batch);
            by_parser += 1;
            if by_parser % 3 == 0 {
                std::thread::sleep(Duration::from_millis(1));
            }
            inbox.parsed();
        }
        let by_reader = reader.join().unwrap();
        assert!(
            *parsed.lock() == sent,
            "bytes lost, doubled or out of order"
        );
        assert!(
            by_reader > 0 && by_parser > 0,
            "reader {by_reader}, parser {by_parser}"
        );
        // Never more waits than the limit and one read.
        assert!(largest < INBOX_LIMIT + 4095, "a batch of {largest} bytes");
    }

    #[test]
    fn a_short_read_is_parsed_by_the_reader_and_a_long_one_queued() {
        let inbox = Inbox::default();
        assert_eq!(inbox.put(b"an echo"), Put::ParseIt);
        inbox.parsed();
        assert_eq!(inbox.put(&vec![b'a'; 4095]), Put::Queued);
        // Something waits: a short read goes behind it, never ahead.
        assert_eq!(inbox.put(b"an echo"), Put::Queued);
        let mut batch = Vec::new();
        assert!(inbox.take(&mut batch));
        assert_eq!(batch.len(), 4095 + 7);
    }

    #[test]
    fn the_parser_waits_while_the_reader_parses() {
        let inbox = Arc::new(Inbox::default());
        assert_eq!(inbox.put(b"first"), Put::ParseIt);
        let parser = {
            let inbox = Arc::clone(&inbox);
            std::thread::spawn(move || {
                let mut batch = Vec::new();
                assert!(inbox.take(&mut batch));
                batch
            })
        };
        assert_eq!(inbox.put(b"second"), Put::Queued);
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            !parser.is_finished(),
            "the parser started while the reader parsed"
        );
        inbox.parsed();
        assert_eq!(parser.join().unwrap(), b"second");
    }

    /// An inbox full while the reader parses, and a reader waiting to put
    /// `more` into it.
    fn a_reader_waiting_for_room() -> (Arc<Inbox>, std::thread::JoinHandle<Put>) {
        let inbox = Arc::new(Inbox::default());
        assert_eq!(inbox.put(b"x"), Put::ParseIt);
        assert_eq!(inbox.put(&vec![7; INBOX_LIMIT]), Put::Queued);
        let reader = {
            let inbox = Arc::clone(&inbox);
            std::thread::spawn(move || inbox.put(b"more"))
        };
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            !reader.is_finished(),
            "the reader went on past a full inbox"
        );
        (inbox, reader)
    }

    #[test]
    fn a_full_inbox_holds_the_reader_until_the_parser_takes() {
        let (inbox, reader) = a_reader_waiting_for_room();
        inbox.parsed();
        let mut batch = Vec::new();
        assert!(inbox.take(&mut batch));
        assert_eq!(batch.len(), INBOX_LIMIT);
        assert_eq!(reader.join().unwrap(), Put::Queued);
        inbox.parsed();
        assert!(inbox.take(&mut batch));
        assert_eq!(batch, b"more");
    }

    #[test]
    fn a_parser_that_stops_releases_a_waiting_reader() {
        let (inbox, reader) = a_reader_waiting_for_room();
        inbox.abandon();
        assert_eq!(reader.join().unwrap(), Put::Stop);
    }

    #[test]
    fn the_end_is_seen_only_after_what_came_before_it() {
        let inbox = Inbox::default();
        assert_eq!(inbox.put(b"x"), Put::ParseIt);
        assert_eq!(inbox.put(b"last words"), Put::Queued);
        inbox.end();
        inbox.parsed();
        let mut batch = Vec::new();
        assert!(inbox.take(&mut batch));
        assert_eq!(batch, b"last words");
        inbox.parsed();
        assert!(!inbox.take(&mut batch));
        assert!(batch.is_empty());
    }
}
