//! The output the holder keeps for the next viewer: the newest bytes claude
//! wrote, up to a cap, replayed through the viewer's own emulator so it
//! rebuilds the screen and the lines that scrolled (no emulator runs here).

use std::collections::VecDeque;

/// Bytes kept: at claude's usual 60 to 200 bytes a line, well over the
/// dashboard's 10,000 lines of history.
pub const REPLAY_BYTES: usize = 4 * 1024 * 1024;

#[derive(Debug)]
pub struct Replay {
    bytes: VecDeque<u8>,
    cap: usize,
}

impl Replay {
    pub fn new(cap: usize) -> Self {
        Self {
            bytes: VecDeque::new(),
            cap,
        }
    }

    /// Keeps `output`, dropping the oldest bytes beyond the cap. What is
    /// dropped ends at a line end where one is near, so a replay starts at
    /// the start of a line rather than inside an escape sequence.
    pub fn push(&mut self, output: &[u8]) {
        self.bytes.extend(output);
        if self.bytes.len() <= self.cap {
            return;
        }
        // Drop an eighth more than needed, so trimming is rare.
        let excess = self.bytes.len() - self.cap + self.cap / 8;
        let excess = excess.min(self.bytes.len());
        let cut = self
            .bytes
            .range(excess..)
            .take(4096)
            .position(|b| *b == b'\n')
            .map_or(excess, |at| excess + at + 1);
        self.bytes.drain(..cut);
    }

    pub fn len(&self) -> usize {
        self.bytes.len()
    }

    /// What to send a viewer that attaches: the kept output with the
    /// program's questions to its terminal taken out (a viewer would answer
    /// them again, and the answers would reach claude as typed keys).
    pub fn for_viewer(&self) -> Vec<u8> {
        let (a, b) = self.bytes.as_slices();
        let mut all = Vec::with_capacity(self.bytes.len());
        all.extend_from_slice(a);
        all.extend_from_slice(b);
        without_queries(&all)
    }
}

/// `bytes` without the sequences that ask the terminal something: device
/// status and cursor position (`CSI … n`), device attributes (`CSI … c`),
/// mode queries (`CSI … $ p`), window reports (`CSI … t`) and colour queries
/// (`OSC … ; ? BEL/ST`).
pub fn without_queries(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut at = 0;
    while at < bytes.len() {
        let Some(esc) = bytes[at..].iter().position(|b| *b == 0x1b) else {
            out.extend_from_slice(&bytes[at..]);
            break;
        };
        out.extend_from_slice(&bytes[at..at + esc]);
        at += esc;
        let sequence = &bytes[at..];
        let (len, is_query) = match sequence.get(1) {
            Some(b'[') => csi_len(sequence),
            Some(b']') => osc_len(sequence),
            _ => (1, false),
        };
        if !is_query {
            out.extend_from_slice(&sequence[..len]);
        }
        at += len;
    }
    out
}

/// Length of the CSI sequence at the start of `seq`, and whether it is a
/// query. An unfinished one runs to the end and is kept.
fn csi_len(seq: &[u8]) -> (usize, bool) {
    let Some(end) = seq[2..].iter().position(|b| (0x40..=0x7e).contains(b)) else {
        return (seq.len(), false);
    };
    let len = 2 + end + 1;
    let body = &seq[2..len - 1];
    let is_query = match seq[len - 1] {
        b'n' | b'c' | b't' => true,
        b'p' => body.ends_with(b"$"),
        _ => false,
    };
    (len, is_query)
}

/// Length of the OSC sequence at the start of `seq` (ended by BEL or ST),
/// and whether it asks for a value (`;?`).
fn osc_len(seq: &[u8]) -> (usize, bool) {
    let mut at = 2;
    while at < seq.len() {
        match seq[at] {
            0x07 => break,
            0x1b if seq.get(at + 1) == Some(&b'\\') => {
                at += 1;
                break;
            }
            _ => at += 1,
        }
    }
    let len = (at + 1).min(seq.len());
    let is_query = seq[2..len].windows(2).any(|w| w == b";?");
    (len, is_query)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_newest_bytes_from_a_line_start() {
        let mut replay = Replay::new(64);
        for n in 0..100 {
            replay.push(format!("line {n:03}\r\n").as_bytes());
        }
        assert!(replay.len() <= 64, "{}", replay.len());
        let text = String::from_utf8(replay.for_viewer()).unwrap();
        assert!(text.starts_with("line "), "{text:?}");
        assert!(text.ends_with("line 099\r\n"), "{text:?}");
    }

    #[test]
    fn a_line_longer_than_the_search_is_cut_where_the_cap_says() {
        let mut replay = Replay::new(16);
        replay.push(&[b'x'; 10_000]);
        assert!(replay.len() <= 16);
        assert!(replay.len() > 0);
    }

    #[test]
    fn questions_to_the_terminal_are_not_replayed() {
        let output =
            b"a\x1b[6nb\x1b[cc\x1b[>0cd\x1b[?2026$pe\x1b[18tf\x1b]11;?\x07g\x1b]10;?\x1b\\h";
        assert_eq!(without_queries(output), b"abcdefgh");
    }

    #[test]
    fn everything_else_is_replayed_as_it_was() {
        let output =
            "\x1b[1;31mred\x1b[m \x1b[?1049h\x1b[2J\x1b]0;title\x07\x1b(B é ✓\x1b[?2004h\x1b[";
        assert_eq!(without_queries(output.as_bytes()), output.as_bytes());
    }
}
