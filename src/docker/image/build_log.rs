//! The builder's output as lines: what the progress callback sees, and the tail
//! that a failed build reports.

use std::collections::VecDeque;

/// How many of the last lines a failed build reports.
pub const TAIL_LINES: usize = 25;

/// Splits the engine's `stream` chunks (which need not end at line ends) into
/// lines, and remembers the last few and the step that ran last.
#[derive(Debug, Default)]
pub struct BuildLog {
    partial: String,
    tail: VecDeque<String>,
    last_step: Option<String>,
}

impl BuildLog {
    /// Takes one chunk of output; returns the lines it completed.
    pub fn push_chunk(&mut self, chunk: &str) -> Vec<String> {
        self.partial.push_str(chunk);
        let Some(end) = self.partial.rfind('\n') else {
            return Vec::new();
        };
        let complete: String = self.partial.drain(..=end).collect();
        complete
            .lines()
            .filter_map(|line| self.record(line))
            .collect()
    }

    /// Records an error the engine reported, completing any partial line first.
    pub fn push_error(&mut self, message: &str) -> Vec<String> {
        let mut lines = self.flush();
        lines.extend(message.lines().filter_map(|line| self.record(line)));
        lines
    }

    /// Returns the last line if the output did not end with a newline.
    pub fn flush(&mut self) -> Vec<String> {
        let rest = std::mem::take(&mut self.partial);
        self.record(&rest).into_iter().collect()
    }

    /// The last lines, oldest first, one per line.
    pub fn tail(&self) -> String {
        self.tail
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>()
            .join("\n")
    }

    /// Whether the build stopped at its `FROM` step, i.e. the base image is missing.
    pub fn failed_at_from(&self) -> bool {
        self.last_step
            .as_deref()
            .is_some_and(|step| step.to_ascii_uppercase().contains(" : FROM "))
    }

    fn record(&mut self, line: &str) -> Option<String> {
        let line = line.trim_end();
        if line.trim().is_empty() {
            return None;
        }
        if line.starts_with("Step ") {
            self.last_step = Some(line.to_owned());
        }
        if self.tail.len() == TAIL_LINES {
            self.tail.pop_front();
        }
        self.tail.push_back(line.to_owned());
        Some(line.to_owned())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_split_across_chunks_are_joined() {
        let mut log = BuildLog::default();
        assert!(log.push_chunk("Step 1/2 : FR").is_empty());
        assert_eq!(
            log.push_chunk("OM x\n ---> abc\n\n"),
            ["Step 1/2 : FROM x", " ---> abc"]
        );
        assert_eq!(log.push_chunk("no newline"), Vec::<String>::new());
        assert_eq!(log.flush(), ["no newline"]);
        assert_eq!(log.tail(), "Step 1/2 : FROM x\n ---> abc\nno newline");
    }

    #[test]
    fn the_tail_keeps_only_the_last_lines() {
        let mut log = BuildLog::default();
        for i in 0..100 {
            log.push_chunk(&format!("line {i}\n"));
        }
        let tail = log.tail();
        assert_eq!(tail.lines().count(), TAIL_LINES);
        assert!(tail.ends_with("line 99"));
        assert!(!tail.contains("line 74\n"));
    }

    #[test]
    fn an_error_at_the_from_step_is_recognised() {
        let mut log = BuildLog::default();
        log.push_chunk("Step 1/15 : FROM nope:missing\n");
        log.push_error("pull access denied for nope");
        assert!(log.failed_at_from());
        assert!(log.tail().ends_with("pull access denied for nope"));

        let mut later = BuildLog::default();
        later.push_chunk("Step 1/15 : FROM ok\n ---> 123\nStep 2/15 : RUN false\n");
        later.push_error("The command '/bin/sh -c false' returned a non-zero code: 1");
        assert!(!later.failed_at_from());
    }
}
