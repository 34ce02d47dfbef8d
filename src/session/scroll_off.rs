//! Parsing output a piece at a time so that every line that scrolls off the
//! screen can be counted and read, although vt100 tells nobody when one does.
//!
//! vt100 keeps [`VT100_SCROLLBACK`] lines above the screen, and while its
//! view is scrolled back it moves the view up one line for each line that
//! scrolls off, to keep showing the same text. So the view is set one line
//! back before a piece, and how far it moved is how many lines left. A piece
//! is cut so that it cannot scroll more lines than vt100 keeps.

use super::line_code::encode_top_row;

/// Lines vt100 itself keeps above the screen: enough to count and read
/// every line that one piece (see [`piece_len`]) can scroll off. Each costs
/// 32 bytes a column (6.4 KB at 200 columns) in every session.
pub const VT100_SCROLLBACK: usize = 50;

pub const ESC: u8 = 0x1b;

/// A vt100 parser of this size that keeps what [`process_piece`] needs.
pub fn parser(rows: u16, cols: u16) -> vt100::Parser {
    vt100::Parser::new(rows, cols, VT100_SCROLLBACK)
}

/// How much of `bytes` to parse as the next piece. A piece holds at most one
/// escape, at its start, so a switch of screens or a reset happens before
/// anything in it scrolls; on the alternate screen it also ends after `l` or
/// `c` (what ends `CSI ? 1049 l` and a reset), so a switch back happens at
/// its end. And it cannot scroll more lines than vt100 keeps: a byte scrolls
/// at most one (a line feed, or a character that wraps), except the `S`
/// ending `CSI n S`, which scrolls up to a screenful. That `S` can only be
/// the final byte of the escape a piece starts with, or of one a read cut
/// in two that the piece goes on with (see [`escape_head`]). (A single
/// `CSI n S` of more than `VT100_SCROLLBACK` lines, on a screen that tall,
/// keeps only the last ones.)
pub fn piece_len(bytes: &[u8], rows: u16, alternate: bool) -> usize {
    let budget = VT100_SCROLLBACK - 1;
    if alternate {
        return alternate_piece_len(bytes, budget);
    }
    // Every byte costs one line, but a final `S` a screenful.
    let (head, scrolls_screen) = escape_head(bytes);
    let head_cost = if scrolls_screen {
        head - 1 + usize::from(rows).clamp(1, budget)
    } else {
        head
    };
    if head_cost >= budget {
        // The escape alone, then (it scrolls at most a screenful).
        return head.max(1).min(bytes.len());
    }
    let limit = bytes.len().min(head + budget - head_cost);
    let from = head.max(1).min(limit);
    memchr::memchr(ESC, &bytes[from..limit]).map_or(limit, |at| from + at)
}

/// How long the escape that `bytes` starts with is, up to and including
/// what could be its final byte, and whether that is the `S` of `CSI n S`.
/// A read may have cut an escape in two, so bytes that do not start with
/// `ESC` are read as if they might go on with one: an optional `[`,
/// parameters and intermediates, then a final byte (text is counted the
/// same way: it only ever costs more than it scrolls).
fn escape_head(bytes: &[u8]) -> (usize, bool) {
    let mut at = usize::from(bytes.first() == Some(&ESC));
    if bytes.get(at) == Some(&b'[') {
        at += 1;
    }
    while bytes.get(at).is_some_and(|b| (0x20..=0x3f).contains(b)) {
        at += 1;
    }
    match bytes.get(at) {
        // Another escape begins a new piece.
        Some(&ESC) | None => (at, false),
        Some(&final_byte) => (at + 1, final_byte == b'S'),
    }
}

/// [`piece_len`] on the alternate screen: also ending after `l` or `c`.
fn alternate_piece_len(bytes: &[u8], budget: usize) -> usize {
    for (at, &byte) in bytes.iter().enumerate() {
        if at > 0 && (byte == ESC || at >= budget) {
            return at;
        }
        if matches!(byte, b'l' | b'c') {
            return at + 1;
        }
    }
    bytes.len()
}

/// Calls `each` with every piece of `bytes`, cut as [`piece_len`] says for
/// the screen as it stands before that piece.
pub fn for_each_piece<CB: vt100::Callbacks>(
    parser: &mut vt100::Parser<CB>,
    mut bytes: &[u8],
    mut each: impl FnMut(&mut vt100::Parser<CB>, &[u8]),
) {
    while !bytes.is_empty() {
        let screen = parser.screen();
        let len = piece_len(bytes, screen.size().0, screen.alternate_screen());
        let (piece, rest) = bytes.split_at(len);
        each(parser, piece);
        bytes = rest;
    }
}

/// Parses one piece (see [`piece_len`]) and returns how many lines it
/// scrolled off the main screen. They are the newest lines of vt100's own
/// scrollback until the next piece: [`newest_lines`] reads them.
pub fn process_piece<CB: vt100::Callbacks>(parser: &mut vt100::Parser<CB>, piece: &[u8]) -> usize {
    let screen = parser.screen_mut();
    let started_alternate = screen.alternate_screen();
    if !started_alternate {
        // Clamped to 0 while vt100 has no scrollback yet.
        screen.set_scrollback(1);
    }
    parser.process(piece);
    let screen = parser.screen_mut();
    if screen.alternate_screen() {
        // The alternate screen keeps no scrollback, and a piece that
        // switches to it does so at its start: nothing scrolled off.
        return 0;
    }
    let moved = screen.scrollback();
    let scrolled_off = if started_alternate {
        // Back from the alternate screen at the piece's very end.
        0
    } else if moved > 0 {
        moved - 1
    } else {
        // The mark did not take (no scrollback before, or a reset at the
        // piece's start): all vt100 now holds is new.
        screen.set_scrollback(usize::MAX);
        screen.scrollback()
    };
    screen.set_scrollback(0);
    scrolled_off
}

/// The newest `count` lines of vt100's scrollback, oldest first, encoded
/// (see [`super::line_code`]).
pub fn newest_lines(screen: &mut vt100::Screen, count: usize) -> Vec<Vec<u8>> {
    // Scrolled back `offset` lines, the screen's top row is the `offset`-th
    // newest line.
    let lines = (1..=count)
        .rev()
        .map(|offset| {
            screen.set_scrollback(offset);
            encode_top_row(screen)
        })
        .collect();
    screen.set_scrollback(0);
    lines
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pieces(mut bytes: &[u8], rows: u16, alternate: bool) -> Vec<&[u8]> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let (piece, rest) = bytes.split_at(piece_len(bytes, rows, alternate));
            out.push(piece);
            bytes = rest;
        }
        out
    }

    #[test]
    fn pieces_hold_one_escape_at_their_start_and_a_bounded_scroll() {
        assert_eq!(
            pieces(b"ab\x1b[Scd\x1b[2Je", 20, false),
            [&b"ab"[..], b"\x1b[Scd", b"\x1b[2Je"]
        );
        // Only the final byte of an escape scrolls a screenful; it may be
        // the first byte of a read that cut the escape in two. Of 49
        // lines' worth, a 30-line screen takes 30 and each other byte one.
        for start in [&b"S"[..], b"5S", b"[5S", b"\x1b[5S"] {
            let bytes = [start, &[b'x'; 60][..]].concat();
            assert_eq!(pieces(&bytes, 30, false)[0].len(), 20, "{start:?}");
        }
        let text = b"An SOS: Some Short Sentences";
        assert_eq!(pieces(text, 30, false), [&text[..]]);
        assert_eq!(
            pieces(b"\x1b[?1049lsh\x1bcok", 50, true),
            [&b"\x1b[?1049l"[..], b"sh", b"\x1bc", b"ok"]
        );
        let long = vec![b'x'; 1_000];
        let cut = pieces(&long, 50, false);
        assert!(cut.iter().all(|piece| piece.len() < VT100_SCROLLBACK));
        assert_eq!(cut.iter().map(|p| p.len()).sum::<usize>(), 1_000);
    }

    #[test]
    fn a_piece_reports_the_lines_it_scrolled_off_and_they_can_be_read() {
        let mut parser = parser(3, 10);
        assert_eq!(process_piece(&mut parser, b"1\r\n2\r\n"), 0);
        assert_eq!(process_piece(&mut parser, b"3\r\n4\r\n5"), 2);
        let lines = newest_lines(parser.screen_mut(), 2);
        assert_eq!(lines, [b"1".to_vec(), b"2".to_vec()]);
        assert_eq!(parser.screen().scrollback(), 0, "the view is back");
        assert_eq!(process_piece(&mut parser, b"\x1b[?1049hx\r\n\r\n\r\n"), 0);
    }
}
