//! Synchronized output (DEC private mode 2026, which claude uses): between
//! `CSI ? 2026 h` and `CSI ? 2026 l` a program redraws, and a terminal shows
//! the screen only once the redraw is whole. Here the bytes of an update are
//! held, not parsed, until its end arrives, so the emulator (and every frame
//! drawn from it) goes from one whole screen to the next. A program that
//! begins an update and never ends it cannot freeze the pane: after
//! [`HOLD_LIMIT`], or [`HOLD_BYTES`] held, what came is shown as it stands,
//! as terminals that support the mode do.

use std::time::{Duration, Instant};

/// The longest an update is held.
pub const HOLD_LIMIT: Duration = Duration::from_millis(200);
/// The most bytes an update may hold before it is shown anyway.
pub const HOLD_BYTES: usize = 4 << 20;

const BEGIN: &[u8] = b"\x1b[?2026h";
const END: &[u8] = b"\x1b[?2026l";

/// Splits output into what to parse now and what to hold.
#[derive(Debug, Default)]
pub struct SyncHold {
    /// The update under way: its bytes so far, and when it must be shown.
    held: Option<(Vec<u8>, Instant)>,
    /// The end of the last read when it could be the start of a begin
    /// marker (a read may cut one in two).
    carry: Vec<u8>,
}

impl SyncHold {
    /// Takes `input`; calls `parse` with each run of bytes to parse now, in
    /// order. Returns when the held update must be shown, if one is held.
    pub fn feed(
        &mut self,
        input: &[u8],
        now: Instant,
        mut parse: impl FnMut(&[u8]),
    ) -> Option<Instant> {
        let mut owned;
        let mut rest: &[u8] = if self.carry.is_empty() {
            input
        } else {
            owned = std::mem::take(&mut self.carry);
            owned.extend_from_slice(input);
            &owned
        };
        loop {
            if let Some((held, deadline)) = &mut self.held {
                // The end marker may straddle what was held and what came.
                let from = held.len().saturating_sub(END.len() - 1);
                held.extend_from_slice(rest);
                if let Some(at) = find(&held[from..], END) {
                    let end = from + at + END.len();
                    let held = std::mem::take(held);
                    self.held = None;
                    parse(&held[..end]);
                    owned = held[end..].to_vec();
                    rest = &owned;
                    continue;
                }
                if held.len() > HOLD_BYTES || now >= *deadline {
                    let held = std::mem::take(held);
                    self.held = None;
                    parse(&held);
                    return None;
                }
                return Some(*deadline);
            }
            if let Some(at) = find(rest, BEGIN) {
                let begin = at + BEGIN.len();
                parse(&rest[..begin]);
                self.held = Some((Vec::new(), now + HOLD_LIMIT));
                rest = &rest[begin..];
                continue;
            }
            let keep = partial_marker_len(rest);
            parse(&rest[..rest.len() - keep]);
            self.carry = rest[rest.len() - keep..].to_vec();
            return None;
        }
    }

    /// Shows a held update whose time is up; whether there was one.
    pub fn expire(&mut self, now: Instant, mut parse: impl FnMut(&[u8])) -> bool {
        match self.held.take() {
            Some((held, deadline)) if now >= deadline => {
                parse(&held);
                true
            }
            still_held => {
                self.held = still_held;
                false
            }
        }
    }
}

/// Where `needle` first occurs. A vectorised substring search: output full
/// of escapes (a redraw has one every few bytes) costs one pass too.
fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    memchr::memmem::find(haystack, needle)
}

/// How many bytes at the end of `bytes` are a proper start of [`BEGIN`].
fn partial_marker_len(bytes: &[u8]) -> usize {
    (1..BEGIN.len())
        .rev()
        .find(|&n| bytes.len() >= n && bytes[bytes.len() - n..] == BEGIN[..n])
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(hold: &mut SyncHold, input: &[u8], now: Instant) -> (Vec<u8>, Option<Instant>) {
        let mut parsed = Vec::new();
        let deadline = hold.feed(input, now, |b| parsed.extend_from_slice(b));
        (parsed, deadline)
    }

    #[test]
    fn an_update_is_parsed_only_once_it_ends() {
        let now = Instant::now();
        let mut hold = SyncHold::default();
        let (parsed, deadline) = run(&mut hold, b"before\x1b[?2026hhalf", now);
        assert_eq!(parsed, b"before\x1b[?2026h");
        assert_eq!(deadline, Some(now + HOLD_LIMIT));
        let (parsed, deadline) = run(&mut hold, b" whole\x1b[?2026l after", now);
        assert_eq!(parsed, b"half whole\x1b[?2026l after");
        assert_eq!(deadline, None);
    }

    #[test]
    fn markers_cut_across_reads_are_found() {
        let text = b"a\x1b[?2026hb\x1b[?2026lc\x1b[?2026hd";
        for cut in 0..=text.len() {
            let mut hold = SyncHold::default();
            let now = Instant::now();
            let (mut parsed, _) = run(&mut hold, &text[..cut], now);
            let (more, deadline) = run(&mut hold, &text[cut..], now);
            parsed.extend(more);
            assert_eq!(parsed, &text[..text.len() - 1], "cut at {cut}");
            assert!(deadline.is_some(), "cut at {cut}: the last update is held");
        }
    }

    #[test]
    fn an_update_that_never_ends_is_shown_after_the_limit() {
        let now = Instant::now();
        let mut hold = SyncHold::default();
        run(&mut hold, b"\x1b[?2026hstuck", now);
        let mut parsed = Vec::new();
        assert!(!hold.expire(now, |b| parsed.extend_from_slice(b)));
        assert!(parsed.is_empty());
        assert!(hold.expire(now + HOLD_LIMIT, |b| parsed.extend_from_slice(b)));
        assert_eq!(parsed, b"stuck");
        assert!(hold.held.is_none());
        // More output after the limit is shown as it comes.
        let (parsed, deadline) = run(&mut hold, b"more", now + HOLD_LIMIT);
        assert_eq!((parsed.as_slice(), deadline), (&b"more"[..], None));
    }

    #[test]
    fn an_update_too_large_to_hold_is_shown() {
        let now = Instant::now();
        let mut hold = SyncHold::default();
        run(&mut hold, b"\x1b[?2026h", now);
        let big = vec![b'x'; HOLD_BYTES + 1];
        let (parsed, deadline) = run(&mut hold, &big, now);
        assert_eq!((parsed.len(), deadline), (big.len(), None));
    }
}
