//! The lines that scrolled off a session's screen, oldest first, capped at a
//! number of lines. Kept two ways: a line at a time in the compact form of
//! [`super::line_code`] (while lines scroll off now and then), or as the
//! output that scrolled them off (a [`RawSegment`], while output scrolls
//! fast), made into lines only when someone scrolls back to them.

use std::collections::VecDeque;

use super::raw_segment::RawSegment;

/// Segments whose lines were made last, kept made: a view of the screen's
/// height spans at most two.
const MADE_SEGMENTS: usize = 2;

#[derive(Debug)]
enum Block {
    Lines(VecDeque<Box<[u8]>>),
    Raw { id: u64, segment: RawSegment },
}

impl Block {
    fn len(&self) -> usize {
        match self {
            Self::Lines(lines) => lines.len(),
            Self::Raw { segment, .. } => segment.lines(),
        }
    }
}

#[derive(Debug)]
pub struct History {
    blocks: VecDeque<Block>,
    /// Lines the blocks hold, the hidden ones included.
    held: usize,
    /// Lines at the start of the first block beyond the cap, not shown: a
    /// segment is dropped whole, once all its lines are.
    hidden: usize,
    cap: usize,
    /// Lines ever added, dropped and cleared ones included: how far the
    /// text has moved up since any earlier reading of it.
    pushed: u64,
    /// The last block is a segment still growing.
    open: bool,
    next_id: u64,
    /// The lines of the segments read last, newest first.
    made: VecDeque<(u64, Vec<Box<[u8]>>)>,
}

impl History {
    pub fn new(cap: usize) -> Self {
        Self {
            blocks: VecDeque::new(),
            held: 0,
            hidden: 0,
            cap,
            pushed: 0,
            open: false,
            next_id: 0,
            made: VecDeque::new(),
        }
    }

    pub fn cap(&self) -> usize {
        self.cap
    }

    /// Adds the newest line (closing a growing segment first).
    pub fn push(&mut self, line: Vec<u8>) {
        self.pushed += 1;
        self.add_line(line.into_boxed_slice());
        self.drop_beyond_cap();
    }

    fn add_line(&mut self, line: Box<[u8]>) {
        if self.cap == 0 {
            return;
        }
        self.stop_growing();
        if let Some(Block::Lines(lines)) = self.blocks.back_mut() {
            lines.push_back(line);
        } else {
            self.blocks.push_back(Block::Lines(VecDeque::from([line])));
        }
        self.held += 1;
    }

    /// Starts keeping the lines that scroll off as the output that does it
    /// (see [`extend_segment`](Self::extend_segment)), until
    /// [`close_segment`](Self::close_segment).
    pub fn open_segment(&mut self, segment: RawSegment) {
        self.close_segment();
        if self.cap == 0 {
            return;
        }
        let id = self.next_id;
        self.next_id += 1;
        self.blocks.push_back(Block::Raw { id, segment });
        self.open = true;
    }

    /// The segment still growing, if any.
    pub fn open_segment_mut(&mut self) -> Option<&mut RawSegment> {
        if !self.open {
            return None;
        }
        match self.blocks.back_mut() {
            Some(Block::Raw { segment, .. }) => Some(segment),
            _ => None,
        }
    }

    /// Adds output parsed after the growing segment's, which scrolled
    /// `lines` lines off; whether there was a segment to add it to.
    pub fn extend_segment(&mut self, piece: &[u8], lines: usize) -> bool {
        let Some(segment) = self.open_segment_mut() else {
            return false;
        };
        segment.extend(piece, lines);
        self.held += lines;
        self.pushed += lines as u64;
        self.drop_beyond_cap();
        true
    }

    /// Cuts the growing segment back to its first `output_len` bytes and
    /// `lines` lines, closes it, and keeps the lines that followed as
    /// `tail` (the same lines, read another way).
    pub fn cut_segment(&mut self, output_len: usize, lines: usize, tail: Vec<Vec<u8>>) {
        let Some(segment) = self.open_segment_mut() else {
            return;
        };
        let cut = segment.lines() - lines;
        debug_assert_eq!(cut, tail.len());
        segment.truncate(output_len, lines);
        self.held -= cut;
        self.close_segment();
        for line in tail {
            self.add_line(line.into_boxed_slice());
        }
        self.drop_beyond_cap();
    }

    /// Stops growing the last segment: later lines go elsewhere.
    pub fn close_segment(&mut self) {
        self.stop_growing();
        self.drop_beyond_cap();
    }

    fn stop_growing(&mut self) {
        if !std::mem::take(&mut self.open) {
            return;
        }
        if let Some(Block::Raw { segment, .. }) = self.blocks.back_mut() {
            segment.shrink();
            if segment.lines() == 0 {
                self.blocks.pop_back();
            }
        }
    }

    /// Drops (or, in a segment, hides) the oldest lines beyond the cap. A
    /// segment still growing is never hidden into, so cutting it back
    /// cannot leave hidden lines it no longer has: with a cap below a
    /// segment's length, the history runs over it until the segment closes.
    fn drop_beyond_cap(&mut self) {
        while self.held - self.hidden > self.cap {
            if self.open && self.blocks.len() == 1 {
                return;
            }
            match self.blocks.front_mut() {
                Some(Block::Lines(lines)) => {
                    lines.pop_front();
                    self.held -= 1;
                    if lines.is_empty() {
                        self.blocks.pop_front();
                    }
                }
                Some(Block::Raw { segment, .. }) => {
                    self.hidden += 1;
                    if self.hidden == segment.lines() {
                        self.held -= self.hidden;
                        self.hidden = 0;
                        self.blocks.pop_front();
                    }
                }
                None => return,
            }
        }
    }

    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    pub fn len(&self) -> usize {
        self.held - self.hidden
    }

    /// Line `index`, counting from the oldest kept. A line of a segment is
    /// made with the rest of its segment (which stops growing: what a
    /// reader looks at stays put).
    pub fn get(&mut self, index: usize) -> Option<&[u8]> {
        let mut at = index.checked_add(self.hidden)?;
        if index >= self.len() {
            return None;
        }
        let block = self.blocks.iter().position(|block| {
            let len = block.len();
            if at < len {
                true
            } else {
                at -= len;
                false
            }
        })?;
        if self.open && block + 1 == self.blocks.len() {
            // Not dropping anything here: `block` and `at` stay right.
            self.stop_growing();
        }
        match self.blocks.get(block)? {
            Block::Lines(lines) => lines.get(at).map(AsRef::as_ref),
            Block::Raw { id, segment } => {
                let id = *id;
                if let Some(made) = self.made.iter().position(|(made, _)| *made == id) {
                    let entry = self.made.remove(made)?;
                    self.made.push_front(entry);
                } else {
                    let lines = segment.replay();
                    self.made.push_front((id, lines));
                    self.made.truncate(MADE_SEGMENTS);
                }
                self.made.front()?.1.get(at).map(AsRef::as_ref)
            }
        }
    }

    /// How many blocks are segments, and how many hold lines read out.
    #[cfg(test)]
    pub fn block_kinds(&self) -> (usize, usize) {
        let segments = self
            .blocks
            .iter()
            .filter(|block| matches!(block, Block::Raw { .. }))
            .count();
        (segments, self.blocks.len() - segments)
    }

    /// Drops the lines made of segments for someone scrolled back (up to
    /// [`MADE_SEGMENTS`] segments' worth): nobody is, now.
    pub fn forget_made(&mut self) {
        if !self.made.is_empty() {
            self.made = VecDeque::new();
        }
    }

    /// How many segments are kept made.
    #[cfg(test)]
    pub fn made_segments(&self) -> usize {
        self.made.len()
    }

    pub fn clear(&mut self) {
        self.blocks.clear();
        self.made.clear();
        self.held = 0;
        self.hidden = 0;
        self.open = false;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::scroll_off;

    #[test]
    fn keeps_the_newest_lines_up_to_the_cap() {
        let mut history = History::new(3);
        for line in ["a", "bb", "ccc", "dddd"] {
            history.push(line.as_bytes().to_vec());
        }
        assert_eq!(history.len(), 3);
        assert_eq!(history.get(0), Some(&b"bb"[..]));
        assert_eq!(history.get(2), Some(&b"dddd"[..]));
        assert_eq!(history.get(3), None);
        history.clear();
        assert_eq!(history.len(), 0);
        assert_eq!(history.pushed(), 4, "dropped and cleared lines count");
    }

    #[test]
    fn segments_made_for_a_reader_are_forgotten_when_asked() {
        let mut history = History::new(100);
        let mut parser = scroll_off::parser(2, 10);
        parser.process(b"x\r\n");
        history.open_segment(RawSegment::starting_from(parser.screen()));
        let output = b"1\r\n2\r\n3\r\n";
        let count = scroll_off::process_piece(&mut parser, output);
        history.extend_segment(output, count);
        assert_eq!(history.made_segments(), 0, "nothing made before a read");
        assert_eq!(history.get(1), Some(&b"1"[..]));
        assert_eq!(history.made_segments(), 1);
        history.forget_made();
        assert_eq!(history.made_segments(), 0);
        assert_eq!(
            history.get(1),
            Some(&b"1"[..]),
            "made again when read again"
        );
    }

    #[test]
    fn a_zero_cap_keeps_nothing() {
        let mut history = History::new(0);
        history.push(b"x".to_vec());
        let parser = scroll_off::parser(3, 10);
        history.open_segment(RawSegment::starting_from(parser.screen()));
        assert!(!history.extend_segment(b"1\r\n2\r\n3\r\n4", 2));
        assert_eq!(history.len(), 0);
    }

    fn all(history: &mut History) -> Vec<String> {
        (0..history.len())
            .map(|i| String::from_utf8_lossy(history.get(i).unwrap()).into_owned())
            .collect()
    }

    #[test]
    fn lines_and_segments_read_as_one_history_and_the_cap_drops_segments_whole() {
        let mut history = History::new(6);
        history.push(b"a".to_vec());
        // A 2-row screen: each line fed scrolls the one two above it off.
        let mut parser = scroll_off::parser(2, 10);
        parser.process(b"x\r\ny");
        history.open_segment(RawSegment::starting_from(parser.screen()));
        let output = b"\r\n0\r\n1\r\n2";
        let count = scroll_off::process_piece(&mut parser, output);
        assert!(history.extend_segment(output, count));
        assert_eq!(all(&mut history), ["a", "x", "y", "0"]);
        assert!(history.open_segment_mut().is_none(), "reading closed it");
        history.push(b"b".to_vec());
        assert_eq!(history.len(), 5);
        // Three more: "a" goes, then the segment is hidden line by line
        // and dropped once all of it is.
        for line in ["c", "d", "e"] {
            history.push(line.as_bytes().to_vec());
        }
        assert_eq!(all(&mut history), ["y", "0", "b", "c", "d", "e"]);
        for line in ["f", "g"] {
            history.push(line.as_bytes().to_vec());
        }
        assert_eq!(all(&mut history), ["b", "c", "d", "e", "f", "g"]);
        assert_eq!(history.blocks.len(), 1);
        assert_eq!(history.pushed(), 10);
    }

    /// A cap smaller than a segment: the segment runs over it while it
    /// grows (nothing of it hidden, so cutting it back is safe), and is
    /// hidden into and dropped once closed.
    #[test]
    fn a_growing_segment_longer_than_the_cap_is_capped_once_closed() {
        let mut history = History::new(2);
        let mut parser = scroll_off::parser(2, 10);
        parser.process(b"x\r\n");
        history.open_segment(RawSegment::starting_from(parser.screen()));
        let output = b"1\r\n2\r\n3\r\n4\r\n";
        let count = scroll_off::process_piece(&mut parser, output);
        assert_eq!(count, 4);
        history.extend_segment(output, count);
        assert_eq!(history.len(), 4, "over the cap while it grows");
        history.cut_segment(0, 0, scroll_off::newest_lines(parser.screen_mut(), 4));
        assert_eq!(all(&mut history), ["2", "3"]);
        history.open_segment(RawSegment::starting_from(parser.screen()));
        let output = b"5\r\n6\r\n7\r\n";
        let count = scroll_off::process_piece(&mut parser, output);
        history.extend_segment(output, count);
        // The lines before it went; reading it stops it growing.
        assert_eq!(all(&mut history), ["4", "5", "6"]);
        history.push(b"8".to_vec());
        assert_eq!(all(&mut history), ["6", "8"]);
    }

    #[test]
    fn a_cut_segment_keeps_its_tail_as_lines() {
        let mut history = History::new(100);
        let mut parser = scroll_off::parser(2, 10);
        parser.process(b"x\r\n");
        history.open_segment(RawSegment::starting_from(parser.screen()));
        let first = b"y\r\nz\r\n";
        let count = scroll_off::process_piece(&mut parser, first);
        history.extend_segment(first, count);
        let (output_len, lines) = (first.len(), count);
        let second = b"1\r\n2\r\n";
        let count = scroll_off::process_piece(&mut parser, second);
        history.extend_segment(second, count);
        let tail = scroll_off::newest_lines(parser.screen_mut(), count);
        history.cut_segment(output_len, lines, tail);
        assert_eq!(all(&mut history), ["x", "y", "z", "1"]);
        assert_eq!(history.pushed(), 4);
    }
}
