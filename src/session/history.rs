//! The lines that scrolled off a session's screen, oldest first, each in the
//! compact form of [`super::line_code`], capped at a number of lines.

use std::collections::VecDeque;

#[derive(Debug)]
pub struct History {
    lines: VecDeque<Box<[u8]>>,
    cap: usize,
    /// Lines ever pushed, dropped and cleared ones included: how far the
    /// text has moved up since any earlier reading of it.
    pushed: u64,
}

impl History {
    pub fn new(cap: usize) -> Self {
        Self {
            lines: VecDeque::new(),
            cap,
            pushed: 0,
        }
    }

    /// Adds the newest line, dropping the oldest beyond the cap.
    pub fn push(&mut self, line: Vec<u8>) {
        self.pushed += 1;
        if self.cap == 0 {
            return;
        }
        if self.lines.len() == self.cap {
            self.lines.pop_front();
        }
        self.lines.push_back(line.into_boxed_slice());
    }

    pub fn pushed(&self) -> u64 {
        self.pushed
    }

    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// Line `index`, counting from the oldest kept.
    pub fn get(&self, index: usize) -> Option<&[u8]> {
        self.lines.get(index).map(AsRef::as_ref)
    }

    pub fn clear(&mut self) {
        self.lines.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn a_zero_cap_keeps_nothing() {
        let mut history = History::new(0);
        history.push(b"x".to_vec());
        assert_eq!(history.len(), 0);
    }
}
