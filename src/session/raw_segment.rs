//! Lines kept as the output that scrolled them off, read only when wanted.
//!
//! Reading a line out of vt100 costs about as much as parsing it did, and
//! while output scrolls fast almost none of those lines are ever looked at.
//! So while it does, the output itself is kept: from a point where the screen
//! can be rebuilt (the screen's state written as escapes, see [`start_state`]),
//! every byte that follows, and how many lines they scrolled off. Someone who
//! scrolls back to those lines has them made by parsing the output again
//! from that state ([`RawSegment::replay`]), a few milliseconds a segment.

use super::scroll_off::{self, ESC};

/// How much a segment's buffer grows at a time.
const GROWTH_STEP: usize = 16 << 10;

/// Output from a rebuilt screen on, and the lines it scrolled off.
#[derive(Debug)]
pub struct RawSegment {
    /// Escapes that make a new vt100 of this size the screen the output
    /// was parsed on (see [`start_state`]).
    start: Box<[u8]>,
    rows: u16,
    cols: u16,
    output: Vec<u8>,
    lines: usize,
}

impl RawSegment {
    /// A segment starting from `screen` as it is now, which must be the
    /// main screen with no scroll region and vte between sequences (see
    /// [`can_start_before`]).
    pub fn starting_from(screen: &vt100::Screen) -> Self {
        let (rows, cols) = screen.size();
        Self {
            start: start_state(screen).into_boxed_slice(),
            rows,
            cols,
            output: Vec::new(),
            lines: 0,
        }
    }

    /// Adds output parsed after what the segment holds, which scrolled
    /// `lines` lines off.
    pub fn extend(&mut self, piece: &[u8], lines: usize) {
        if self.output.capacity() - self.output.len() < piece.len() {
            // Grown a step at a time, not doubled: a session holds a growing
            // segment all the time, and doubling would keep up to as much
            // again in reserve.
            self.output.reserve_exact(piece.len().max(GROWTH_STEP));
        }
        self.output.extend_from_slice(piece);
        self.lines += lines;
    }

    pub fn lines(&self) -> usize {
        self.lines
    }

    pub fn output_len(&self) -> usize {
        self.output.len()
    }

    /// Keeps only the first `output_len` bytes, which scrolled off the
    /// first `lines` lines (an earlier [`output_len`](Self::output_len) and
    /// [`lines`](Self::lines)).
    pub fn truncate(&mut self, output_len: usize, lines: usize) {
        self.output.truncate(output_len);
        self.lines = lines;
    }

    /// Returns the memory a growing buffer kept in reserve.
    pub fn shrink(&mut self) {
        self.output.shrink_to_fit();
    }

    /// The segment's lines, oldest first, encoded as
    /// [`super::line_code`] encodes them: exactly [`lines`](Self::lines).
    pub fn replay(&self) -> Vec<Box<[u8]>> {
        let mut parser = scroll_off::parser(self.rows, self.cols);
        parser.process(&self.start);
        let mut lines = Vec::with_capacity(self.lines);
        scroll_off::for_each_piece(&mut parser, &self.output, |parser, piece| {
            let count = scroll_off::process_piece(parser, piece);
            lines.extend(
                scroll_off::newest_lines(parser.screen_mut(), count)
                    .into_iter()
                    .map(Vec::into_boxed_slice),
            );
        });
        // The same bytes from the same screen scroll off the same lines;
        // should they not, the count stays right and the text shows it.
        debug_assert_eq!(lines.len(), self.lines, "a replay differs");
        lines.resize_with(self.lines, || Box::from(&b"?"[..]));
        lines
    }
}

/// Whether a segment may start before `piece` on `screen`: the piece
/// begins an escape (which ends whatever sequence vte was in), the byte
/// before it ended a character, the main screen is shown, and the last
/// piece scrolled a line off (which vt100 does only with no scroll region:
/// the region is not part of the state [`start_state`] can write).
pub fn can_start_before(
    piece: &[u8],
    previous_byte: Option<u8>,
    screen: &vt100::Screen,
    last_piece_scrolled: bool,
) -> bool {
    piece.first() == Some(&ESC)
        && previous_byte.is_some_and(|byte| byte.is_ascii())
        && !screen.alternate_screen()
        && last_piece_scrolled
}

/// Escapes that make a new vt100 of the same size into `screen`, as far as
/// anything later scrolled off can tell: the cursor saved by `ESC 7` (its
/// place, colours and origin mode, which a later `ESC 8` brings back), the
/// origin mode, then vt100's own account of the cells, the cursor and the
/// colours. Not written: the scroll region (there must be none), the
/// alternate screen's cells (they never scroll off), input modes.
fn start_state(screen: &vt100::Screen) -> Vec<u8> {
    let (rows, _) = screen.size();
    // What ESC 7 saved and the origin mode cannot be read; a copy of the
    // screen is asked instead: with a scroll region from row 2, `CSI H`
    // goes to row 2 only in origin mode.
    let mut probe = vt100::Parser::new(1, 1, 0);
    *probe.screen_mut() = screen.clone();
    let origin_probe = b"\x1b[2;3r\x1b[H";
    let origin_mode = |probe: &mut vt100::Parser| {
        probe.process(origin_probe);
        rows >= 3 && probe.screen().cursor_position().0 == 1
    };
    let origin = origin_mode(&mut probe);
    probe.process(b"\x1b8");
    let (saved_row, saved_col) = probe.screen().cursor_position();
    let saved_attributes = probe.screen().attributes_formatted();
    let saved_origin = origin_mode(&mut probe);

    let mut state = Vec::new();
    if saved_origin {
        state.extend_from_slice(b"\x1b[?6h");
    }
    state.extend_from_slice(format!("\x1b[{};{}H", saved_row + 1, saved_col + 1).as_bytes());
    state.extend_from_slice(&saved_attributes);
    state.extend_from_slice(b"\x1b7\x1b[?6l\x1b[m");
    if origin {
        // With no scroll region, origin mode moves nothing until one is set.
        state.extend_from_slice(b"\x1b[?6h");
    }
    state.extend_from_slice(&screen.contents_formatted());
    state
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lines a segment started on `parser` and fed `output` replays,
    /// and the lines the same parser scrolled off, as text.
    fn replayed_and_live(
        parser: &mut vt100::Parser,
        output: &[u8],
    ) -> (Vec<Vec<u8>>, Vec<Vec<u8>>) {
        let mut segment = RawSegment::starting_from(parser.screen());
        let mut live = Vec::new();
        scroll_off::for_each_piece(parser, output, |parser, piece| {
            let count = scroll_off::process_piece(parser, piece);
            segment.extend(piece, count);
            live.extend(scroll_off::newest_lines(parser.screen_mut(), count));
        });
        let replayed = segment.replay().into_iter().map(Vec::from).collect();
        (replayed, live)
    }

    #[test]
    fn a_segment_replays_the_lines_it_scrolled_off_in_colour() {
        let mut parser = scroll_off::parser(4, 12);
        parser.process(b"\x1b[31mred\r\nhalf-writ");
        let (replayed, live) = replayed_and_live(
            &mut parser,
            b"ten\r\n\x1b[1;44mbold blue\x1b[m\r\n\xe6\xbc\xa2 wide\r\nwraps past the edge\r\nmore\r\nlast",
        );
        assert_eq!(live.len(), 4);
        assert_eq!(replayed, live);
        assert!(String::from_utf8_lossy(&live[1]).contains("half-written"));
    }

    #[test]
    fn the_saved_cursor_and_origin_mode_carry_into_the_replay() {
        let mut parser = scroll_off::parser(5, 20);
        // Saved at row 3, col 11, in green; origin mode on since.
        parser.process(b"a\r\nb\x1b[3;11H\x1b[32m\x1b7\x1b[m\x1b[?6h\x1b[5;1H\r\n");
        let (replayed, live) = replayed_and_live(
            &mut parser,
            b"\x1b[2;4r\x1b[1;1Horigin\x1b[r\x1b8saved\x1b[5;1H\r\n\r\n\r\n\r\n\r\n\r\n",
        );
        assert!(live.len() >= 5, "{live:?}");
        assert_eq!(replayed, live);
        let text: Vec<String> = live
            .iter()
            .map(|l| String::from_utf8_lossy(l).into_owned())
            .collect();
        assert!(text.iter().any(|l| l.contains("saved")), "{text:?}");
        assert!(text.iter().any(|l| l.starts_with("origin")), "{text:?}");
    }

    #[test]
    fn a_segment_may_start_only_before_an_escape_on_the_main_screen_after_a_scroll() {
        let parser = scroll_off::parser(4, 12);
        let screen = parser.screen();
        assert!(can_start_before(b"\x1b[m", Some(b'\n'), screen, true));
        assert!(!can_start_before(b"text", Some(b'\n'), screen, true));
        assert!(!can_start_before(b"\x1b[m", Some(0xe6), screen, true));
        assert!(!can_start_before(b"\x1b[m", Some(b'\n'), screen, false));
        assert!(!can_start_before(b"\x1b[m", None, screen, true));
        let mut alternate = scroll_off::parser(4, 12);
        alternate.process(b"\x1b[?1049h");
        assert!(!can_start_before(
            b"\x1b[m",
            Some(b'\n'),
            alternate.screen(),
            true
        ));
    }
}
