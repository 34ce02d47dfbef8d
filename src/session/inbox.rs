//! Output read from the PTY and not parsed yet, handed from the thread that
//! reads to the thread that parses.
//!
//! Why two threads: the kernel refills a PTY's read buffer (4 KiB) only
//! after a read empties it, on the CPU that read. A thread that reads and
//! then parses finds the buffer empty at every read and sleeps until the
//! refill runs; one that only reads keeps it flowing while the other parses
//! what came (on 2 cores, 64 MiB of redraws went from 67 to 79 MB/s).
//!
//! Bounded: at most [`INBOX_LIMIT`] bytes wait. When the parser falls that far
//! behind, the reader stops reading, the kernel's buffer fills and the
//! child's writes block, as with one thread.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

/// The most bytes read and not yet parsed.
pub const INBOX_LIMIT: usize = 64 * 1024;

#[derive(Debug, Default)]
struct State {
    bytes: Vec<u8>,
    /// The reader saw the end of the output: nothing more will come.
    ended: bool,
    /// The parser stopped: nothing more will be taken.
    abandoned: bool,
}

/// See the module.
#[derive(Debug, Default)]
pub struct Inbox {
    state: Mutex<State>,
    changed: Condvar,
}

impl Inbox {
    fn lock(&self) -> MutexGuard<'_, State> {
        // The state stays consistent at every step: a panic elsewhere
        // holding the lock leaves it usable.
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn wait<'a>(&self, guard: MutexGuard<'a, State>) -> MutexGuard<'a, State> {
        self.changed
            .wait(guard)
            .unwrap_or_else(PoisonError::into_inner)
    }

    /// Adds what was read, first waiting while the inbox is full. False when
    /// the parser has stopped (the reader should stop too).
    pub fn put(&self, bytes: &[u8]) -> bool {
        let mut state = self.lock();
        while state.bytes.len() >= INBOX_LIMIT && !state.abandoned {
            state = self.wait(state);
        }
        if state.abandoned {
            return false;
        }
        let was_empty = state.bytes.is_empty();
        state.bytes.extend_from_slice(bytes);
        drop(state);
        if was_empty {
            self.changed.notify_all();
        }
        true
    }

    /// The output has ended: the parser takes what is left and stops.
    pub fn end(&self) {
        self.lock().ended = true;
        self.changed.notify_all();
    }

    /// Swaps everything waiting into `batch` (cleared first), waiting until
    /// something is there. False once the output has ended and all of it
    /// was taken.
    pub fn take(&self, batch: &mut Vec<u8>) -> bool {
        batch.clear();
        let mut state = self.lock();
        while state.bytes.is_empty() && !state.ended {
            state = self.wait(state);
        }
        if state.bytes.is_empty() {
            return false;
        }
        let was_full = state.bytes.len() >= INBOX_LIMIT;
        std::mem::swap(&mut state.bytes, batch);
        drop(state);
        if was_full {
            self.changed.notify_all();
        }
        true
    }

    /// The parser stops taking: a reader waiting for room gives up.
    pub fn abandon(&self) {
        self.lock().abandoned = true;
        self.changed.notify_all();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Duration;

    #[test]
    fn bytes_arrive_in_order_and_whole_whatever_the_pace() {
        let inbox = Arc::new(Inbox::default());
        let sent: Vec<u8> = (0..2_000_000_u32)
            .map(|i| u8::try_from(i % 251).unwrap())
            .collect();
        let reader = {
            let (inbox, sent) = (Arc::clone(&inbox), sent.clone());
            std::thread::spawn(move || {
                for chunk in sent.chunks(4095) {
                    assert!(inbox.put(chunk));
                }
                inbox.end();
            })
        };
        let mut received = Vec::new();
        let mut batch = Vec::new();
        let mut largest = 0;
        while inbox.take(&mut batch) {
            largest = largest.max(batch.len());
            received.extend_from_slice(&batch);
        }
        reader.join().unwrap();
        assert_eq!(received, sent);
        // Never more waits than the limit and one read.
        assert!(largest < INBOX_LIMIT + 4095, "a batch of {largest} bytes");
    }

    #[test]
    fn a_full_inbox_holds_the_reader_until_the_parser_takes() {
        let inbox = Arc::new(Inbox::default());
        assert!(inbox.put(&vec![7; INBOX_LIMIT]));
        let reader = {
            let inbox = Arc::clone(&inbox);
            std::thread::spawn(move || inbox.put(b"more"))
        };
        std::thread::sleep(Duration::from_millis(100));
        assert!(
            !reader.is_finished(),
            "the reader went on past a full inbox"
        );
        let mut batch = Vec::new();
        assert!(inbox.take(&mut batch));
        assert_eq!(batch.len(), INBOX_LIMIT);
        assert!(reader.join().unwrap());
        assert!(inbox.take(&mut batch));
        assert_eq!(batch, b"more");
    }

    #[test]
    fn a_parser_that_stops_releases_a_waiting_reader() {
        let inbox = Arc::new(Inbox::default());
        assert!(inbox.put(&vec![7; INBOX_LIMIT]));
        let reader = {
            let inbox = Arc::clone(&inbox);
            std::thread::spawn(move || inbox.put(b"more"))
        };
        std::thread::sleep(Duration::from_millis(50));
        inbox.abandon();
        assert!(!reader.join().unwrap(), "the reader was not told to stop");
    }

    #[test]
    fn the_end_is_seen_only_after_what_came_before_it() {
        let inbox = Inbox::default();
        assert!(inbox.put(b"last words"));
        inbox.end();
        let mut batch = Vec::new();
        assert!(inbox.take(&mut batch));
        assert_eq!(batch, b"last words");
        assert!(!inbox.take(&mut batch));
        assert!(batch.is_empty());
    }
}
