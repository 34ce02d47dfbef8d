//! A sidecar's output (stdout and stderr, or a saved log) split into lines;
//! `docker::logs` follows a running sidecar with it.

/// A line longer than this is cut: a sidecar must not grow our memory.
const MAX_LINE: usize = 64 * 1024;

/// Splits a byte stream that arrives in arbitrary chunks into lines.
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// The complete lines in `chunk` (with what came before), without `\n`.
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        let mut lines = Vec::new();
        for &b in chunk {
            if b == b'\n' {
                lines.push(String::from_utf8_lossy(&self.pending).into_owned());
                self.pending.clear();
            } else if self.pending.len() < MAX_LINE {
                self.pending.push(b);
            }
        }
        lines
    }

    /// Whatever is left when the stream ends.
    pub fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            return None;
        }
        let line = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        Some(line)
    }
}

/// The lines of a saved log (the output of `docker logs`, a file, stdin),
/// split as `docker::logs::raw_lines` splits a container's output.
pub fn read_raw_lines(
    mut reader: impl std::io::Read,
    mut on_line: impl FnMut(&str) -> bool,
) -> std::io::Result<()> {
    let mut splitter = LineSplitter::default();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if !deliver(splitter.push(&buf[..n]), &mut on_line) {
            return Ok(());
        }
    }
    deliver(splitter.finish(), &mut on_line);
    Ok(())
}

/// Hands over the non-blank lines; false once `on_line` asked to stop.
pub fn deliver(
    lines: impl IntoIterator<Item = String>,
    on_line: &mut impl FnMut(&str) -> bool,
) -> bool {
    lines
        .into_iter()
        .filter(|line| !line.trim().is_empty())
        .all(|line| on_line(&line))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_joined_across_chunks() {
        let mut s = LineSplitter::default();
        assert!(s.push(b"{\"a\":").is_empty());
        assert_eq!(s.push(b"1}\nnext"), vec!["{\"a\":1}".to_string()]);
        assert_eq!(
            s.push(b" line\n\n"),
            vec!["next line".to_string(), String::new()]
        );
        assert_eq!(s.push(b"tail"), Vec::<String>::new());
        assert_eq!(s.finish().as_deref(), Some("tail"));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn overlong_lines_are_cut() {
        let mut s = LineSplitter::default();
        s.push(&vec![b'x'; MAX_LINE * 2]);
        assert_eq!(s.push(b"\n")[0].len(), MAX_LINE);
    }

    #[test]
    fn a_saved_log_is_split_the_same_way_and_can_stop_early() {
        let text = b"one\n\n  \ntwo\r\nthree";
        let mut seen = Vec::new();
        read_raw_lines(&text[..], |l| {
            seen.push(l.to_owned());
            true
        })
        .unwrap();
        assert_eq!(seen, ["one", "two\r", "three"]);
        let mut first = Vec::new();
        read_raw_lines(&text[..], |l| {
            first.push(l.to_owned());
            false
        })
        .unwrap();
        assert_eq!(first, ["one"]);
    }
}
