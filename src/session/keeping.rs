//! How each line that scrolls off is kept: read out of vt100 as it goes
//! (cheap when lines scroll off now and then, as under claude's own
//! drawing), or, while output scrolls fast, kept as the output itself in a
//! [`RawSegment`] and read only if someone scrolls back. Reading a line out
//! costs about what parsing it did, so this halves the work of fast
//! scrolling; a segment is given up (its last lines read out after all) as
//! soon as the output stops scrolling, so that a screen redrawn in place for
//! hours never piles up bytes that hold few lines.

use super::history::History;
use super::raw_segment::{RawSegment, can_start_before};
use super::scroll_off::{for_each_piece, newest_lines, process_piece};

/// Output read while lines are read out, to judge whether it scrolls fast.
const JUDGE_BYTES: usize = 16 << 10;
/// Scrolling fast: at least this many lines in [`JUDGE_BYTES`] of output
/// (plain text at a full 200 columns is about 80).
const FAST_LINES: usize = 40;
/// While a segment grows, every block of this many lines must come within
/// [`BLOCK_BYTES`] of output; it stays below vt100's own scrollback, so the
/// lines of a block that does not can still be read out.
const BLOCK_LINES: usize = 32;
const BLOCK_BYTES: usize = 16 << 10;
const _: () = assert!(BLOCK_LINES < super::scroll_off::VT100_SCROLLBACK);
/// A segment is closed at this many lines (a new one follows): the history
/// drops segments whole, and a reader makes a whole one at a time.
const SEGMENT_LINES: usize = 1_000;

#[derive(Debug, Default)]
pub struct Keeper {
    /// Output and lines since judging began, while lines are read out.
    judged_bytes: usize,
    judged_lines: usize,
    /// The output scrolls fast: start a segment when one can start.
    fast: bool,
    /// Where the growing segment's current block began: its output length
    /// and lines then.
    block_start: (usize, usize),
    /// The last byte parsed, and whether the last piece scrolled a line off.
    previous_byte: Option<u8>,
    last_piece_scrolled: bool,
}

impl Keeper {
    /// Parses `bytes` a piece at a time (see [`super::scroll_off`]) and
    /// keeps every line they scroll off in `history`. `cleared` says
    /// whether the piece just parsed asked to erase the saved lines.
    pub fn feed<CB: vt100::Callbacks>(
        &mut self,
        parser: &mut vt100::Parser<CB>,
        history: &mut History,
        bytes: &[u8],
        mut cleared: impl FnMut(&mut CB) -> bool,
    ) {
        for_each_piece(parser, bytes, |parser, piece| {
            self.before_piece(piece, parser.screen(), history);
            let count = process_piece(parser, piece);
            if cleared(parser.callbacks_mut()) {
                // At the piece's start (see `piece_len`): what it scrolled
                // off after is kept.
                history.clear();
                self.interrupt(history);
            }
            self.after_piece(piece, count, parser.screen_mut(), history);
        });
    }

    /// Before `piece` is parsed on `screen`: starts a segment there when the
    /// output scrolls fast and one can start.
    fn before_piece(&mut self, piece: &[u8], screen: &vt100::Screen, history: &mut History) {
        let keeps = history.cap() > 0;
        let growing = history.open_segment_mut();
        if growing.is_none()
            && self.fast
            && keeps
            && can_start_before(piece, self.previous_byte, screen, self.last_piece_scrolled)
        {
            history.open_segment(RawSegment::starting_from(screen));
            self.block_start = (0, 0);
        } else if let Some(segment) = growing
            && piece.starts_with(b"\x1bc")
        {
            // A reset empties vt100's scrollback: a block must not span
            // one, or its lines could not be read out if it is cut.
            self.block_start = (segment.output_len(), segment.lines());
        }
    }

    /// After `piece` was parsed and scrolled `count` lines off `screen`.
    fn after_piece(
        &mut self,
        piece: &[u8],
        count: usize,
        screen: &mut vt100::Screen,
        history: &mut History,
    ) {
        self.previous_byte = piece.last().copied().or(self.previous_byte);
        self.last_piece_scrolled = count > 0;
        if history.extend_segment(piece, count) {
            self.judge_block(screen, history);
            return;
        }
        for line in newest_lines(screen, count) {
            history.push(line);
        }
        self.judged_bytes += piece.len();
        self.judged_lines += count;
        if self.judged_bytes >= JUDGE_BYTES {
            self.fast = self.judged_lines >= FAST_LINES;
            self.judged_bytes = 0;
            self.judged_lines = 0;
        }
    }

    /// Ends a block of the growing segment that reached its lines, closes
    /// a segment that is long enough, and gives one up whose block took too
    /// much output.
    fn judge_block(&mut self, screen: &mut vt100::Screen, history: &mut History) {
        let Some(segment) = history.open_segment_mut() else {
            return;
        };
        let (block_bytes, block_lines) = self.block_start;
        let lines = segment.lines() - block_lines;
        if lines >= BLOCK_LINES {
            self.block_start = (segment.output_len(), segment.lines());
            if segment.lines() >= SEGMENT_LINES {
                history.close_segment();
            }
        } else if segment.output_len() - block_bytes > BLOCK_BYTES {
            history.cut_segment(block_bytes, block_lines, newest_lines(screen, lines));
            self.fast = false;
        }
    }

    /// The history was cleared or the screen resized: a growing segment
    /// ends there.
    pub fn interrupt(&mut self, history: &mut History) {
        history.close_segment();
        self.last_piece_scrolled = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::scroll_off;

    struct Fixture {
        parser: vt100::Parser,
        history: History,
        keeper: Keeper,
    }

    impl Fixture {
        fn new(rows: u16, cols: u16) -> Self {
            Self {
                parser: scroll_off::parser(rows, cols),
                history: History::new(100_000),
                keeper: Keeper::default(),
            }
        }

        fn feed(&mut self, bytes: &[u8]) {
            self.keeper
                .feed(&mut self.parser, &mut self.history, bytes, |()| false);
        }

        fn growing_segment(&mut self) -> bool {
            self.history.open_segment_mut().is_some()
        }
    }

    /// A reset empties vt100's own scrollback; a segment given up just
    /// after one must still have every line, before the reset and after.
    #[test]
    fn a_segment_given_up_after_a_reset_keeps_every_line() {
        let mut fixture = Fixture::new(5, 40);
        let mut output = Vec::new();
        for i in 0..2_000 {
            output.extend_from_slice(format!("\x1b[3{}mline {i}\r\n", i % 8).as_bytes());
        }
        output.extend_from_slice(b"\x1bc");
        for i in 2_000..2_020 {
            output.extend_from_slice(format!("\x1b[32mline {i}\r\n").as_bytes());
        }
        for frame in 0..3_000 {
            output.extend_from_slice(format!("\x1b[H\x1b[2Kframe {frame}").as_bytes());
        }
        fixture.feed(&output);
        assert!(!fixture.growing_segment(), "given up");
        let (segments, _) = fixture.history.block_kinds();
        assert!(segments > 0);
        // Before the reset the last 4 lines were on the screen it cleared.
        let expected: Vec<String> = (0..1_996)
            .chain(2_000..2_016)
            .map(|i| format!("line {i}"))
            .collect();
        let kept: Vec<String> = (0..fixture.history.len())
            .map(|i| {
                let line = fixture.history.get(i).unwrap();
                let text = String::from_utf8_lossy(line);
                text.trim_start_matches(|c: char| c != 'l').to_owned()
            })
            .collect();
        assert_eq!(kept, expected);
    }

    #[test]
    fn fast_scrolling_is_kept_as_output_and_slow_scrolling_line_by_line() {
        let mut fixture = Fixture::new(10, 40);
        let mut fast = Vec::new();
        for i in 0..3_000 {
            fast.extend_from_slice(format!("\x1b[3{}mline {i}\r\n", i % 8).as_bytes());
        }
        fixture.feed(&fast);
        assert!(fixture.growing_segment(), "fast output grows a segment");
        // A screen redrawn in place: no line scrolls off; the segment is
        // given up and later output is read out line by line.
        let mut redraw = Vec::new();
        for i in 0..2_000 {
            redraw.extend_from_slice(format!("\x1b[H\x1b[2Kframe {i}").as_bytes());
        }
        fixture.feed(&redraw);
        assert!(!fixture.growing_segment());
        // Every line that scrolled off is there, in order.
        assert_eq!(fixture.history.len(), 3_000 - 9);
        for i in 0..fixture.history.len() {
            let line = String::from_utf8_lossy(fixture.history.get(i).unwrap()).into_owned();
            assert!(line.ends_with(&format!("line {i}")), "{i}: {line:?}");
        }
    }
}
