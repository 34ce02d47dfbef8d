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

/// How much of `bytes` to parse as the next piece, on a screen of `rows` x
/// `cols`. Two rules. A piece never scrolls more lines than vt100 keeps,
/// counted from above: a line feed or any other control, and any escape,
/// at most one line each (an escape or a control can move the cursor to the
/// edge, where the next character wraps); text a line per half a row of
/// bytes, and one more; the `S` of `CSI n S` a screenful. And an escape
/// that changes how lines scroll off (a screen switch or any other `CSI ?`
/// mode, a reset, a scroll region, an erase, `CSI n S`) starts a piece: so
/// it happens before anything in the piece scrolls, and it is the only one.
/// On the alternate screen, where nothing scrolls off, a piece also ends
/// after `l` or `c` (what ends `CSI ? 1049 l` and a reset), so a switch back
/// happens at its end. A piece that must be cut for length is cut before an
/// escape where it can be (a segment of the history can start only there).
/// (A single `CSI n S` of more than `VT100_SCROLLBACK` lines, on a screen
/// that tall, keeps only the last ones.)
pub fn piece_len(bytes: &[u8], rows: u16, cols: u16, alternate: bool) -> usize {
    let budget = VT100_SCROLLBACK - 1;
    if alternate {
        return alternate_piece_len(bytes, budget);
    }
    let wrap_every = usize::from(cols.saturating_sub(3) / 2).max(1);
    // The escape the piece starts with, or the rest of one a read cut in two.
    let (head, final_byte) = escape_head(bytes);
    let mut lines = if final_byte == Some(b'S') {
        usize::from(rows).clamp(1, budget)
    } else {
        usize::from(head > 0)
    };
    if lines >= budget {
        return head.max(1);
    }
    let mut text = 0;
    let mut last_escape = None;
    let mut at = head;
    loop {
        // The text up to the next escape (or the end), then that escape.
        let escape = memchr::memchr(ESC, &bytes[at..]).map(|offset| at + offset);
        let run = &bytes[at..escape.unwrap_or(bytes.len())];
        let controls = count_controls(run);
        if lines + controls + 1 + (text + run.len() - controls) / wrap_every > budget {
            return last_escape
                .unwrap_or_else(|| (at + fitting(run, lines, text, wrap_every, budget)).max(1));
        }
        lines += controls;
        text += run.len() - controls;
        let Some(escape) = escape else {
            return bytes.len();
        };
        let (len, final_byte) = escape_head(&bytes[escape..]);
        // Cut off by the read, a reset, an erase, a scroll region, a scroll,
        // or any `CSI ?` mode (the screen switches among them).
        let changes_scrolling = matches!(final_byte, None | Some(b'J' | b'r' | b'S'))
            || match bytes.get(escape + 1) {
                Some(b'c') => true,
                Some(b'[') => bytes.get(escape + 2) == Some(&b'?'),
                _ => false,
            };
        if changes_scrolling || lines + 2 + text / wrap_every > budget {
            return escape;
        }
        lines += 1;
        last_escape = Some(escape);
        at = escape + len;
    }
}

/// Bytes below space (line feeds, carriage returns, tabs...).
fn count_controls(run: &[u8]) -> usize {
    run.iter().filter(|&&byte| byte < 0x20).count()
}

/// How much of `run` (escape-free) fits in the budget, given the lines
/// and text counted before it.
fn fitting(
    run: &[u8],
    mut lines: usize,
    mut text: usize,
    wrap_every: usize,
    budget: usize,
) -> usize {
    for (at, &byte) in run.iter().enumerate() {
        if byte < 0x20 {
            lines += 1;
        } else {
            text += 1;
        }
        if lines + 1 + text / wrap_every > budget {
            return at;
        }
    }
    run.len()
}

/// How long the escape that `bytes` starts with is, up to and including
/// what could be its final byte, and that byte (none if `bytes` ends
/// first). A read may have cut an escape in two, so bytes that do not
/// start with `ESC` are read as if they might go on with one: an optional
/// `[`, parameters and intermediates, then a final byte; text that does
/// not look like that is no escape (length 0).
fn escape_head(bytes: &[u8]) -> (usize, Option<u8>) {
    let began = bytes.first() == Some(&ESC);
    let mut at = usize::from(began);
    if bytes.get(at) == Some(&b'[') {
        at += 1;
    }
    while bytes.get(at).is_some_and(|b| (0x20..=0x3f).contains(b)) {
        at += 1;
    }
    match bytes.get(at) {
        // Another escape begins there.
        Some(&ESC) => (at, Some(ESC)),
        Some(&final_byte) if began || at > 0 || final_byte == b'S' => (at + 1, Some(final_byte)),
        Some(_) => (0, Some(0)),
        None => (at, None),
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
        let (rows, cols) = screen.size();
        let len = piece_len(bytes, rows, cols, screen.alternate_screen());
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

    fn pieces(mut bytes: &[u8], rows: u16, cols: u16, alternate: bool) -> Vec<&[u8]> {
        let mut out = Vec::new();
        while !bytes.is_empty() {
            let (piece, rest) = bytes.split_at(piece_len(bytes, rows, cols, alternate));
            out.push(piece);
            bytes = rest;
        }
        out
    }

    #[test]
    fn escapes_that_change_scrolling_start_a_piece_and_others_do_not() {
        assert_eq!(
            pieces(
                b"ab\x1b[31mc\x1b[Sd\x1b[2Je\x1b[1;5rf\x1b[?25lg\x1bch",
                20,
                80,
                false
            ),
            [
                &b"ab\x1b[31mc"[..],
                b"\x1b[Sd",
                b"\x1b[2Je",
                b"\x1b[1;5rf",
                b"\x1b[?25lg",
                b"\x1bch"
            ]
        );
        assert_eq!(
            pieces(b"\x1b[?1049lsh\x1bcok", 50, 80, true),
            [&b"\x1b[?1049l"[..], b"sh", b"\x1bc", b"ok"]
        );
        // An escape a read cut off is left for the next piece.
        assert_eq!(pieces(b"ab\x1b[3", 20, 80, false), [&b"ab"[..], b"\x1b[3"]);
    }

    /// Random output of everything that moves the cursor or scrolls, on
    /// screens of every size, cut into pieces: no piece scrolls more lines
    /// than vt100 keeps, and escapes that change scrolling start pieces.
    #[test]
    fn no_piece_scrolls_more_than_vt100_keeps() {
        let mut random = crate::random::Seeded::new(0x0bad_5c01);
        let mut next = move |n: usize| usize::try_from(random.below(n as u64)).unwrap();
        let vocabulary: [&[u8]; 16] = [
            b"\n",
            b"\r\n",
            b"\x0b",
            b"\x0c",
            b"\t",
            b"word ",
            b"\xe6\xbc\xa2",
            b"\x1b[99C",
            b"\x1b[3S",
            b"\x1b[20S",
            b"\x1bD",
            b"\x1bE",
            b"\x1b[31m",
            b"\x08",
            b"\x1b[1;1H",
            b"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
        ];
        for _ in 0..300 {
            let (rows, cols) = (
                2 + u16::try_from(next(60)).unwrap(),
                2 + u16::try_from(next(199)).unwrap(),
            );
            let mut output = Vec::new();
            // Runs of one kind, of every length: a run scrolls fastest.
            while output.len() < next(20_000) {
                let item = vocabulary[next(vocabulary.len())];
                for _ in 0..=next(100) {
                    output.extend_from_slice(item);
                }
            }
            let mut vt = vt100::Parser::new(rows, cols, 1_000_000);
            let mut rest = &output[..];
            // Reads cut anywhere, escapes included.
            while !rest.is_empty() {
                let read = &rest[..(1 + next(4_000)).min(rest.len())];
                rest = &rest[read.len()..];
                for piece in pieces(read, rows, cols, false) {
                    let screen = vt.screen_mut();
                    screen.set_scrollback(usize::MAX);
                    let before = screen.scrollback();
                    screen.set_scrollback(0);
                    vt.process(piece);
                    let screen = vt.screen_mut();
                    screen.set_scrollback(usize::MAX);
                    let scrolled = screen.scrollback() - before;
                    screen.set_scrollback(0);
                    let clamped_scroll = piece.starts_with(b"\x1b[20S") && rows > 49;
                    assert!(
                        scrolled < VT100_SCROLLBACK || clamped_scroll,
                        "{rows}x{cols}: {scrolled} lines from {:?}",
                        String::from_utf8_lossy(piece)
                    );
                    let later = piece.get(1..).unwrap_or_default();
                    assert!(
                        !later.windows(4).any(|w| w == b"\x1b[3S")
                            && !later.windows(5).any(|w| w == b"\x1b[20S"),
                        "{:?}",
                        String::from_utf8_lossy(piece)
                    );
                }
            }
        }
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
