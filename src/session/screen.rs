//! The screen a session draws into, shared between its reader thread (which
//! feeds it) and the loop (which draws it and encodes keys by its modes).
//!
//! vt100 keeps every line at full width, 32 bytes a cell: 10,000 lines of
//! scrollback at 200 columns would be 64 MB a session. So vt100 keeps only a
//! few lines, and each line that scrolls off the screen goes, as it goes,
//! into a [`History`] of compact lines (about a byte a character): read out
//! of vt100 (see [`super::line_code`]), or, while output scrolls fast, kept
//! as the output that scrolled it off (see [`super::keeping`]).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use parking_lot::{Mutex, MutexGuard};
use ratatui::text::Line;

use super::clusters::ClusterFilter;
use super::history::History;
use super::keeping::Keeper;
use super::keys::InputModes;
use super::line_code::{Decoder, row_line};
use super::scroll_off::VT100_SCROLLBACK;
use super::sync_update::SyncHold;

/// Lines kept above the screen; older ones are dropped, so memory is bounded.
pub const SCROLLBACK_LINES: usize = 10_000;

/// Collects what the child asked of the terminal that vt100 does not do
/// itself: answers to queries, and the bell.
#[derive(Debug, Default)]
pub struct Replies {
    /// Bytes to write back to the child, in order.
    pub answers: Vec<u8>,
    pub bell: bool,
    /// The child asked to erase the saved lines (`CSI 3 J`).
    pub clear_history: bool,
    /// The holder's viewer was taken over by this viewer (see
    /// [`HELD_ELSEWHERE_OSC`]).
    pub held_by: Option<String>,
}

/// The private OSC the holder's viewer writes when another viewer took the
/// session over (`ESC ] 5379 ; held-by ; WHO BEL`; the holder binary's
/// `HELD_ELSEWHERE_MARK`). A program in the bottle can write it too: the
/// worst it can do is make its tab say "held elsewhere", which `i` ends.
pub const HELD_ELSEWHERE_OSC: &[u8] = b"5379";

impl vt100::Callbacks for Replies {
    fn unhandled_osc(&mut self, _: &mut vt100::Screen, params: &[&[u8]]) {
        if let [HELD_ELSEWHERE_OSC, b"held-by", who @ ..] = params {
            let who: Vec<String> = who
                .iter()
                .map(|part| String::from_utf8_lossy(part).into_owned())
                .collect();
            self.held_by = Some(who.join(";"));
        }
    }

    fn audible_bell(&mut self, _: &mut vt100::Screen) {
        self.bell = true;
    }

    fn visual_bell(&mut self, _: &mut vt100::Screen) {
        self.bell = true;
    }

    fn unhandled_csi(
        &mut self,
        screen: &mut vt100::Screen,
        i1: Option<u8>,
        i2: Option<u8>,
        params: &[&[u16]],
        c: char,
    ) {
        match (i1, c, params) {
            // Cursor position report: programs that lay out inline (claude's
            // Ink renderer among them) wait for it.
            (None, 'n', [[6]]) => {
                let (row, col) = screen.cursor_position();
                let answer = format!("\x1b[{};{}R", row + 1, col + 1);
                self.answers.extend_from_slice(answer.as_bytes());
            }
            // Device status: "OK".
            (None, 'n', [[5]]) => self.answers.extend_from_slice(b"\x1b[0n"),
            // Primary device attributes: a VT220 with no options, as tmux says.
            (None, 'c', [] | [[0]]) => self.answers.extend_from_slice(b"\x1b[?62;22c"),
            // Erase saved lines, as `clear` asks: the history is ours to keep.
            (None, 'J', [[3]]) => self.clear_history = true,
            // Is synchronized output (mode 2026) supported? Yes, and reset
            // (2): updates are held by `sync_update`, not by vt100.
            (Some(b'?'), 'p', [[2026]]) if i2 == Some(b'$') => {
                self.answers.extend_from_slice(b"\x1b[?2026;2$y");
            }
            _ => {}
        }
    }
}

pub type Parser = vt100::Parser<Replies>;

/// The emulator and the lines that scrolled off it.
struct Emulator {
    parser: Parser,
    history: History,
    /// Decides how each line that scrolls off is kept.
    keeper: Keeper,
    /// Emoji sequences made as wide as the program counted them.
    clusters: ClusterFilter,
    /// The filter's output buffer, kept between reads.
    filtered: Vec<u8>,
    /// A synchronized update held until it is whole.
    sync: SyncHold,
}

impl Emulator {
    /// Parses output, a piece at a time (see [`super::scroll_off`]), holding a
    /// synchronized update until it is whole. Returns whether anything was
    /// parsed, and when a held update must be shown.
    fn feed(&mut self, bytes: &[u8], now: Instant) -> (bool, Option<Instant>) {
        let mut filtered = std::mem::take(&mut self.filtered);
        let text = self.clusters.filter(bytes, &mut filtered);
        let mut sync = std::mem::take(&mut self.sync);
        let mut parsed = false;
        let deadline = sync.feed(&text, now, |piece| {
            parsed |= !piece.is_empty();
            self.feed_pieces(piece);
        });
        self.sync = sync;
        drop(text);
        self.filtered = filtered;
        (parsed, deadline)
    }

    /// Shows a held update whose time is up; whether there was one.
    fn expire_sync(&mut self, now: Instant) -> bool {
        let mut sync = std::mem::take(&mut self.sync);
        let shown = sync.expire(now, |piece| self.feed_pieces(piece));
        self.sync = sync;
        shown
    }

    fn feed_pieces(&mut self, bytes: &[u8]) {
        self.keeper
            .feed(&mut self.parser, &mut self.history, bytes, |replies| {
                std::mem::take(&mut replies.clear_history)
            });
    }
}

struct Shared {
    emulator: Mutex<Emulator>,
    /// Set by the reader when it feeds bytes, cleared by the loop when it
    /// takes the notification: one pending notice per session at most.
    dirty: AtomicBool,
}

/// What one call to [`TermView::feed`] found.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Fed {
    /// Bytes to write back to the child (answers to its queries).
    pub answers: Vec<u8>,
    /// The screen was clean before: the loop should hear about it.
    pub became_dirty: bool,
    /// The child rang the bell.
    pub bell: bool,
    /// Another viewer took the session over: who (this one only watches).
    pub held_by: Option<String>,
    /// A synchronized update is held until it ends, or until this instant
    /// ([`TermView::expire_sync`] then shows it).
    pub hold_until: Option<Instant>,
}

/// See [`TermView::scroll_state`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ScrollState {
    /// Lines of scrollback above the screen.
    pub available: usize,
    /// Lines that ever scrolled off the screen.
    pub scrolled_off: u64,
}

/// A handle on one session's terminal screen. Cheap to clone.
#[derive(Clone)]
pub struct TermView {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for TermView {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TermView")
            .field("size", &self.size())
            .finish_non_exhaustive()
    }
}

/// The smallest screen (rows, columns). vt100 0.16 panics on smaller ones
/// with some output (a wide character on one column, a wrap after a scroll
/// region on one row), which would stop the session's reader.
pub const MIN_SIZE: (u16, u16) = (2, 2);

/// `rows` x `cols`, at least [`MIN_SIZE`].
pub fn at_least_min(rows: u16, cols: u16) -> (u16, u16) {
    (rows.max(MIN_SIZE.0), cols.max(MIN_SIZE.1))
}

impl TermView {
    /// An empty screen of this size (at least [`MIN_SIZE`]).
    pub fn new(rows: u16, cols: u16) -> Self {
        let (rows, cols) = at_least_min(rows, cols);
        let parser =
            vt100::Parser::new_with_callbacks(rows, cols, VT100_SCROLLBACK, Replies::default());
        Self {
            shared: Arc::new(Shared {
                emulator: Mutex::new(Emulator {
                    parser,
                    history: History::new(SCROLLBACK_LINES),
                    keeper: Keeper::default(),
                    clusters: ClusterFilter::default(),
                    filtered: Vec::new(),
                    sync: SyncHold::default(),
                }),
                dirty: AtomicBool::new(false),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Emulator> {
        // No poisoning: a panic while holding the lock leaves a screen that
        // is still drawable; the others keep going.
        self.shared.emulator.lock()
    }

    /// Feeds child output and marks the view dirty when it changed.
    pub fn feed(&self, bytes: &[u8]) -> Fed {
        let (answers, bell, held_by, parsed, hold_until) = {
            let mut emulator = self.lock();
            let (parsed, hold_until) = emulator.feed(bytes, Instant::now());
            let replies = emulator.parser.callbacks_mut();
            let fed = (
                std::mem::take(&mut replies.answers),
                std::mem::take(&mut replies.bell),
                replies.held_by.take(),
                parsed,
                hold_until,
            );
            // A frame waiting for the screen gets it now: the parser would
            // otherwise take the lock straight back for its next feed.
            MutexGuard::unlock_fair(emulator);
            fed
        };
        let became_dirty = parsed && !self.shared.dirty.swap(true, Ordering::AcqRel);
        Fed {
            answers,
            became_dirty,
            bell,
            held_by,
            hold_until,
        }
    }

    /// Shows a synchronized update held past its time (the program never
    /// ended it); whether the screen became dirty.
    pub fn expire_sync(&self, now: Instant) -> bool {
        let shown = self.lock().expire_sync(now);
        shown && !self.shared.dirty.swap(true, Ordering::AcqRel)
    }

    /// Clears the dirty mark; whether it was set.
    pub fn take_dirty(&self) -> bool {
        self.shared.dirty.swap(false, Ordering::AcqRel)
    }

    /// The child's input modes, for key encoding.
    pub fn modes(&self) -> InputModes {
        InputModes::of(self.lock().parser.screen())
    }

    pub fn size(&self) -> (u16, u16) {
        self.lock().parser.screen().size()
    }

    /// Resizes the screen (to at least [`MIN_SIZE`]).
    pub fn set_size(&self, rows: u16, cols: u16) {
        let (rows, cols) = at_least_min(rows, cols);
        let mut emulator = self.lock();
        let Emulator {
            parser,
            history,
            keeper,
            ..
        } = &mut *emulator;
        // A segment replays at one size: the one it grew at ends here.
        keeper.interrupt(history);
        parser.screen_mut().set_size(rows, cols);
    }

    /// How many lines of scrollback there are above the screen (none while
    /// a full-screen program has the alternate screen, as in other
    /// terminals).
    pub fn scrollback_available(&self) -> usize {
        self.scroll_state().available
    }

    /// How many lines of scrollback there are, and how many lines have ever
    /// scrolled off (to keep a scrolled-back view on the same text).
    pub fn scroll_state(&self) -> ScrollState {
        let emulator = self.lock();
        let available = if emulator.parser.screen().alternate_screen() {
            0
        } else {
            emulator.history.len()
        };
        ScrollState {
            available,
            scrolled_off: emulator.history.pushed(),
        }
    }

    /// A copy of the live screen, to draw without holding up the reader
    /// (a frame takes over a millisecond; the copy a tenth of that). The
    /// live screen is drawn: nobody is scrolled back, so the lines made
    /// for scrolling back are let go.
    pub fn snapshot(&self) -> vt100::Screen {
        let mut emulator = self.lock();
        emulator.history.forget_made();
        emulator.parser.screen().clone()
    }

    /// Runs `f` on the live screen.
    pub fn with_screen<R>(&self, f: impl FnOnce(&vt100::Screen) -> R) -> R {
        f(self.lock().parser.screen())
    }

    /// The screen's rows as they look scrolled `offset` lines back (clamped
    /// to what exists): the newest `offset` lines of scrollback, then the top
    /// of the live screen.
    pub fn scrolled_lines(&self, offset: usize) -> Vec<Line<'static>> {
        let mut emulator = self.lock();
        let Emulator {
            parser, history, ..
        } = &mut *emulator;
        let screen = parser.screen();
        let offset = offset.min(history.len());
        let first = history.len() - offset;
        let (rows, cols) = screen.size();
        let mut decoder = Decoder::new();
        (0..usize::from(rows))
            .map(|row| {
                if let Some(kept) = history.get(first + row) {
                    decoder.line(kept, cols)
                } else {
                    let live = u16::try_from(first + row - history.len()).unwrap_or(u16::MAX);
                    row_line(screen, live, cols)
                }
            })
            .collect()
    }

    /// The visible text, for tests and logs.
    pub fn contents(&self) -> String {
        self.lock().parser.screen().contents()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Lines made for a pane scrolled back into kept output are let go
    /// once the pane shows the live screen again.
    #[test]
    fn scrolling_back_makes_lines_and_the_live_screen_lets_them_go() {
        use std::fmt::Write as _;
        let view = TermView::new(5, 40);
        let mut output = String::new();
        for n in 0..3000 {
            let _ = write!(output, "\x1b[32mline {n}\x1b[0m\r\n");
        }
        view.feed(output.as_bytes());
        let (segments, _) = view.lock().history.block_kinds();
        assert!(segments > 0, "fast scrolling is kept as output");
        let back = view.scrolled_lines(2000);
        assert!(back.iter().any(|line| line.to_string().contains("line ")));
        assert_eq!(view.lock().history.made_segments(), 1);
        let _ = view.snapshot();
        assert_eq!(view.lock().history.made_segments(), 0);
    }

    #[test]
    fn a_screen_is_never_too_small_for_vt100() {
        // Each of these panics vt100 0.16 on a 1x1 (or 1-row) screen.
        let wide_on_one_column = "a中b中".as_bytes();
        let wrap_on_one_row = "\x1b[r\x1bD\x1bM中😀中😀\x1b[1;5HXSalc\"\\5l40gL#95RSF6".as_bytes();
        let view = TermView::new(1, 1);
        assert_eq!(view.size(), MIN_SIZE);
        view.feed(wide_on_one_column);
        view.feed(wrap_on_one_row);
        let view = TermView::new(40, 17);
        view.set_size(0, 17);
        assert_eq!(view.size(), (2, 17));
        view.feed(wrap_on_one_row);
        view.set_size(5, 1);
        view.feed(wide_on_one_column);
        assert_eq!(view.size(), (5, 2));
    }

    #[test]
    fn cursor_position_queries_are_answered() {
        let view = TermView::new(24, 80);
        let fed = view.feed(b"\x1b[3;7Hx\x1b[6n");
        assert_eq!(fed.answers, b"\x1b[3;8R");
        let fed = view.feed(b"\x1b[c\x1b[5n");
        assert_eq!(fed.answers, b"\x1b[?62;22c\x1b[0n");
    }

    /// Rows drawn as claude draws them: each emoji sequence counted as two
    /// columns, the right border written after the text (no absolute move).
    #[test]
    fn a_row_with_an_emoji_sequence_keeps_its_border_in_line() {
        let view = TermView::new(8, 20);
        for text in ["plain  ", "👍🏽 yes ", "👩‍💻 dev ", "❤️ love", "1️⃣ one "]
        {
            view.feed(format!("│ {text} │\r\n").as_bytes());
        }
        view.with_screen(|screen| {
            for row in 0..5 {
                let border: Vec<u16> = (0..20)
                    .filter(|&col| screen.cell(row, col).is_some_and(|c| c.contents() == "│"))
                    .collect();
                assert_eq!(
                    border,
                    [0, 10],
                    "row {row}: {:?}",
                    screen.rows(0, 20).nth(row.into())
                );
            }
            // The sequence is drawn as its base emoji in one wide cell.
            let first = screen.cell(1, 2).unwrap();
            assert_eq!((first.contents(), first.is_wide()), ("👍", true));
            assert!(screen.cell(1, 3).unwrap().is_wide_continuation());
        });
    }

    /// Claude's way of drawing: each frame a synchronized update that clears
    /// and redraws every row. Cut into reads of every size, no screen the
    /// pane could draw (after any read) is ever half one frame, half another.
    #[test]
    fn a_synchronized_redraw_cut_across_reads_only_ever_shows_whole_frames() {
        use std::fmt::Write as _;
        let rows = 8;
        let mut stream = String::new();
        for frame in 0..40 {
            stream.push_str("\x1b[?2026h\x1b[H\x1b[2J");
            for row in 0..rows {
                let _ = write!(stream, "\x1b[{};1Hframe {frame:02} row {row}", row + 1);
            }
            stream.push_str("\x1b[?2026l");
        }
        let view = TermView::new(rows, 30);
        let mut random = crate::random::Seeded::new(0x2026);
        let mut rest = stream.as_bytes();
        let mut whole_frames = std::collections::BTreeSet::new();
        while !rest.is_empty() {
            let len = usize::try_from(1 + random.below(48))
                .unwrap()
                .min(rest.len());
            let (read, after) = rest.split_at(len);
            rest = after;
            view.feed(read);
            let text = view.contents();
            let frames: std::collections::BTreeSet<&str> =
                text.lines().filter_map(|l| l.get(6..8)).collect();
            let drawn: Vec<&str> = text.lines().filter(|l| !l.is_empty()).collect();
            assert!(
                drawn.is_empty() || (drawn.len() == usize::from(rows) && frames.len() == 1),
                "a torn frame after a read of {len}:\n{text}"
            );
            whole_frames.extend(frames.iter().map(|f| (*f).to_owned()));
        }
        assert!(whole_frames.len() > 20, "only {whole_frames:?} were shown");
        assert!(view.contents().contains("frame 39 row 7"));
    }

    #[test]
    fn synchronized_output_is_reported_supported_and_a_stuck_update_shows_in_time() {
        let view = TermView::new(4, 20);
        assert_eq!(view.feed(b"\x1b[?2026$p").answers, b"\x1b[?2026;2$y");
        view.feed(b"old");
        let fed = view.feed(b"\x1b[?2026h\x1b[2J\x1b[Hnew");
        assert!(fed.hold_until.is_some());
        assert!(
            view.contents().contains("old"),
            "held while the update runs"
        );
        let deadline = fed.hold_until.unwrap();
        let before = deadline
            .checked_sub(std::time::Duration::from_millis(1))
            .unwrap();
        assert!(!view.expire_sync(before));
        view.take_dirty();
        assert!(view.expire_sync(deadline), "shown once its time is up");
        assert_eq!(view.contents().trim(), "new");
    }

    #[test]
    fn dirty_is_reported_once_until_taken() {
        let view = TermView::new(24, 80);
        assert!(view.feed(b"a").became_dirty);
        assert!(!view.feed(b"b").became_dirty);
        assert!(view.take_dirty());
        assert!(!view.take_dirty());
        assert!(view.feed(b"c").became_dirty);
    }

    #[test]
    fn a_viewer_taken_over_is_reported_with_who_took_it() {
        let view = TermView::new(4, 20);
        let fed = view.feed(b"x\x1b]5379;held-by;claude-bottle attach (pid 7; on h)\x07y");
        assert_eq!(
            fed.held_by.as_deref(),
            Some("claude-bottle attach (pid 7; on h)")
        );
        assert!(view.contents().starts_with("xy"));
        assert_eq!(view.feed(b"z").held_by, None);
        // Other OSCs are no such report.
        assert_eq!(view.feed(b"\x1b]0;title\x07").held_by, None);
    }

    #[test]
    fn bell_is_reported_per_feed() {
        let view = TermView::new(24, 80);
        assert!(view.feed(b"ding\x07").bell);
        assert!(!view.feed(b"dong").bell);
    }

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn scrollback_is_capped_and_viewable() {
        let view = TermView::new(5, 20);
        let mut lines = String::new();
        for i in 0..SCROLLBACK_LINES + 50 {
            lines.push_str("line ");
            lines.push_str(&i.to_string());
            lines.push_str("\r\n");
        }
        view.feed(lines.as_bytes());
        assert_eq!(view.scrollback_available(), SCROLLBACK_LINES);
        // The screen holds the newest four lines and the empty last one;
        // three lines back, three kept lines sit above its top two.
        let shown: Vec<String> = view.scrolled_lines(3).iter().map(text).collect();
        let newest = SCROLLBACK_LINES + 49;
        let expected: Vec<String> = (newest - 6..=newest - 2)
            .map(|i| format!("line {i}"))
            .collect();
        assert_eq!(shown, expected);
        let oldest = view.scrolled_lines(usize::MAX);
        assert_eq!(text(&oldest[0]), "line 46");
        assert!(view.contents().ends_with(&format!("line {newest}")));
    }

    /// Every line a reference vt100 with a long scrollback holds, as text.
    fn reference_scrollback(reference: &mut vt100::Parser) -> Vec<String> {
        let screen = reference.screen_mut();
        let (rows, cols) = screen.size();
        screen.set_scrollback(usize::MAX);
        let len = screen.scrollback();
        let mut out = Vec::new();
        let mut offset = len;
        while offset > 0 {
            screen.set_scrollback(offset);
            let take = offset.min(usize::from(rows));
            out.extend(
                screen
                    .rows(0, cols)
                    .take(take)
                    .map(|row| row.trim_end().to_owned()),
            );
            offset -= take;
        }
        screen.set_scrollback(0);
        out
    }

    fn kept_scrollback(view: &TermView) -> Vec<String> {
        let mut emulator = view.lock();
        let mut decoder = Decoder::new();
        (0..emulator.history.len())
            .map(|i| {
                let line = decoder.line(emulator.history.get(i).unwrap(), 1024);
                text(&line).trim_end().to_owned()
            })
            .collect()
    }

    /// Output that scrolls every way vt100 knows (line feeds, wrapping,
    /// `CSI n S`, index, next line), switches to the alternate screen and
    /// back, in colour; cut into reads at arbitrary places, even inside
    /// escapes. What is kept must be exactly what vt100 itself would keep.
    #[test]
    fn every_line_that_scrolls_off_is_kept_whatever_the_reads() {
        let mut random = crate::random::Seeded::new(0x1234_5678);
        let mut next = move |n: u64| random.below(n);
        let mut output = Vec::new();
        for i in 0..3_500 {
            match next(12) {
                0 => output.extend_from_slice(format!("\x1b[{}S", 1 + next(30)).as_bytes()),
                1 => output.extend_from_slice(b"\x1bD\x1bE"),
                2 => output.extend_from_slice(
                    format!("\x1b[?1049hfull screen {i}\r\n\n\n\x1b[?1049l").as_bytes(),
                ),
                3 => {
                    // A long line that wraps several times.
                    for _ in 0..next(200) {
                        output.extend_from_slice(b"wrap ");
                    }
                    output.extend_from_slice(b"\r\n");
                }
                4 => output
                    .extend_from_slice(format!("\x1b[38;5;{}mcolour\x1b[0m", next(256)).as_bytes()),
                5 => output.extend_from_slice(format!("Scroll {i}\x1b[5;1H").as_bytes()),
                _ => output.extend_from_slice(format!("line {i} \u{6f22}\r\n").as_bytes()),
            }
        }
        let view = TermView::new(24, 80);
        let mut reference = vt100::Parser::new(24, 80, 1_000_000);
        let mut rest = &output[..];
        while !rest.is_empty() {
            let take = usize::try_from(1 + next(700)).unwrap().min(rest.len());
            view.feed(&rest[..take]);
            reference.process(&rest[..take]);
            rest = &rest[take..];
        }
        let expected = reference_scrollback(&mut reference);
        assert!(expected.len() > 5_000, "{}", expected.len());
        assert_eq!(kept_scrollback(&view), expected);
        assert_eq!(view.contents(), reference.screen().contents());
    }

    /// Every line a reference vt100 with a long scrollback holds, in the
    /// form the history keeps (text and colours).
    fn reference_formatted(reference: &mut vt100::Parser) -> Vec<Vec<u8>> {
        let screen = reference.screen_mut();
        screen.set_scrollback(usize::MAX);
        let len = screen.scrollback();
        super::super::scroll_off::newest_lines(screen, len)
    }

    /// One piece of [`lines_kept_as_output_or_read_out_are_exactly_what_vt100_keeps`]'s
    /// output, or `None` for a resize.
    fn busy_agent_output(
        next: &mut impl FnMut(u64) -> u64,
        line: &mut u64,
        rows: u16,
        cols: u16,
    ) -> Option<String> {
        use std::fmt::Write as _;
        let mut output = String::new();
        match next(11) {
            0..=2 => {
                for _ in 0..100 + next(400) {
                    *line += 1;
                    let _ = write!(output, "\x1b[38;5;{}mline {line}", next(256));
                    for _ in 0..next(12) {
                        let _ = write!(output, " \x1b[{}mword", 30 + next(8));
                    }
                    output.push_str("\x1b[m\r\n");
                }
            }
            3 => {
                for frame in 0..300 + next(600) {
                    let _ = write!(output, "\x1b[H\x1b[2K\x1b[1mframe {frame}\x1b[m");
                }
                output.push_str("\x1b[24;1H\r\n");
            }
            4 => {
                let _ = write!(
                    output,
                    "\x1b[{};{}H\x1b[3{}m\x1b7\x1b[m\x1b[{};1H",
                    1 + next(u64::from(rows)),
                    1 + next(u64::from(cols)),
                    next(8),
                    rows
                );
            }
            5 => output.push_str("\x1b8restored\x1b[m\r\n"),
            6 => output.push_str(if next(2) == 0 { "\x1b[?6h" } else { "\x1b[?6l" }),
            7 => {
                let _ = write!(output, "\x1b[2;{}r\x1b[1;1Hin region", rows - 1);
                for i in 0..next(40) {
                    let _ = write!(output, "\r\nregion {i}");
                }
                let _ = write!(output, "\x1b[r\x1b[{rows};1H\r\n");
            }
            8 => {
                let (enter, leave) = if next(2) == 0 {
                    ("\x1b[?1049h", "\x1b[?1049l")
                } else {
                    ("\x1b[?47h", "\x1b[?47l")
                };
                let _ = write!(output, "{enter}\x1b7full\r\n\n\n\x1b8{leave}after\r\n");
            }
            9 => {
                output.push_str(
                    ["\x1b[5S", "\u{6f22}\u{5b57} wide\r\n"][usize::try_from(next(2)).unwrap()],
                );
                for _ in 0..next(300) {
                    output.push_str("wrap ");
                }
                output.push_str("\r\n");
            }
            _ => return None,
        }
        Some(output)
    }

    /// Output as a busy agent's terminal sees it: fast coloured scrolling
    /// (kept as output), screens redrawn in place (which give that up),
    /// and between them what a screen can be rebuilt from wrongly: a cursor
    /// saved with `ESC 7` long before its `ESC 8`, origin mode, scroll
    /// regions, both alternate screens, `CSI n S`, wide characters,
    /// wrapping, and resizes (wider only: a narrower vt100 cuts its own old
    /// lines). Cut into reads at arbitrary places. Every line kept must be
    /// exactly, colours included, what vt100 itself would keep.
    #[test]
    fn lines_kept_as_output_or_read_out_are_exactly_what_vt100_keeps() {
        let mut random = crate::random::Seeded::new(0x5eed_0013);
        let mut next = move |n: u64| random.below(n);
        let (mut rows, mut cols) = (24_u16, 80_u16);
        let view = TermView::new(rows, cols);
        let mut reference = vt100::Parser::new(rows, cols, 1_000_000);
        let mut line = 0;
        for _ in 0..120 {
            let Some(output) = busy_agent_output(&mut next, &mut line, rows, cols) else {
                rows = 10 + u16::try_from(next(30)).unwrap();
                cols = (cols + u16::try_from(next(20)).unwrap()).min(300);
                view.set_size(rows, cols);
                reference.screen_mut().set_size(rows, cols);
                continue;
            };
            let mut rest = output.as_bytes();
            while !rest.is_empty() {
                let take = usize::try_from(1 + next(4_000)).unwrap().min(rest.len());
                view.feed(&rest[..take]);
                reference.process(&rest[..take]);
                rest = &rest[take..];
            }
        }
        let expected = reference_formatted(&mut reference);
        assert!(
            expected.len() > 5_000 && expected.len() < SCROLLBACK_LINES,
            "{}",
            expected.len()
        );
        let mut emulator = view.lock();
        let (segments, read_out) = emulator.history.block_kinds();
        assert!(
            segments > 3 && read_out > 3,
            "{segments} segments, {read_out} read out"
        );
        let kept: Vec<Vec<u8>> = (0..emulator.history.len())
            .map(|i| emulator.history.get(i).unwrap().to_vec())
            .collect();
        assert_eq!(kept.len(), expected.len());
        for (i, (kept, expected)) in kept.iter().zip(&expected).enumerate() {
            assert_eq!(
                String::from_utf8_lossy(kept),
                String::from_utf8_lossy(expected),
                "line {i} of {}",
                expected.len()
            );
        }
        drop(emulator);
        assert_eq!(view.contents(), reference.screen().contents());
    }

    /// `CSI n S` scrolls a screenful in one byte; a read may cut it
    /// anywhere, and text may follow it at once.
    #[test]
    fn a_screenful_scrolled_by_an_escape_cut_anywhere_is_kept() {
        let mut output = Vec::new();
        for i in 0..60 {
            output.extend_from_slice(format!("line {i}\r\n").as_bytes());
        }
        let scroll = b"\x1b[48S";
        let start = output.len();
        output.extend_from_slice(scroll);
        // Short lines: many lines in few bytes.
        for i in 0..40 {
            output.extend_from_slice(format!("{}\r\n", i % 10).as_bytes());
        }
        for cut in start..=start + scroll.len() {
            let view = TermView::new(48, 20);
            let mut reference = vt100::Parser::new(48, 20, 1_000);
            for part in [&output[..cut], &output[cut..]] {
                view.feed(part);
                reference.process(part);
            }
            assert_eq!(
                kept_scrollback(&view),
                reference_scrollback(&mut reference),
                "cut at {}",
                cut - start
            );
        }
    }

    #[test]
    fn erase_saved_lines_clears_the_scrollback_and_later_lines_are_kept() {
        let view = TermView::new(3, 20);
        view.feed(b"1\r\n2\r\n3\r\n4\r\n");
        assert_eq!(view.scrollback_available(), 2);
        view.feed(b"\x1b[2J\x1b[3J\x1b[Ha\r\nb\r\nc\r\nd");
        assert_eq!(kept_scrollback(&view), ["a"]);
    }

    #[test]
    fn a_reset_does_not_lose_what_was_kept_or_what_follows() {
        let view = TermView::new(3, 20);
        view.feed(b"1\r\n2\r\n3\r\n4\r\n");
        view.feed(b"\x1bcx\r\ny\r\nz\r\nw");
        assert_eq!(kept_scrollback(&view), ["1", "2", "x"]);
    }

    #[test]
    fn the_alternate_screen_has_no_scrollback() {
        let view = TermView::new(3, 20);
        view.feed(b"1\r\n2\r\n3\r\n4\r\n\x1b[?1049h");
        assert_eq!(view.scrollback_available(), 0);
        view.feed(b"\x1b[?1049l");
        assert_eq!(view.scrollback_available(), 2);
    }
}
