//! Deterministic workloads and a scratch directory.

use claude_bottle::random::Seeded;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// A scratch directory under the system's temp dir, removed on drop.
#[derive(Debug)]
pub struct WorkDir {
    path: PathBuf,
}

impl WorkDir {
    pub fn new() -> std::io::Result<Self> {
        let path = std::env::temp_dir().join(format!("claude-bottle-bench-{}", std::process::id()));
        std::fs::create_dir_all(&path)?;
        Ok(Self { path })
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `bytes` to a file of this directory and returns its path.
    pub fn file(&self, name: &str, bytes: &[u8]) -> std::io::Result<PathBuf> {
        let path = self.path.join(name);
        std::fs::write(&path, bytes)?;
        Ok(path)
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// The same bytes on every run: the library's repeatable sequence.
struct Rng(Seeded);

impl Rng {
    fn new(seed: u64) -> Self {
        Self(Seeded::new(seed))
    }

    fn next(&mut self) -> u32 {
        u32::try_from(self.0.next_u64() >> 40).unwrap_or(0)
    }

    fn below(&mut self, n: u32) -> u32 {
        self.next() % n
    }
}

/// Words of printable ASCII separated by spaces, `width` columns in all.
fn words(rng: &mut Rng, width: usize, out: &mut String) {
    let mut col = 0;
    while col < width {
        let len = (2 + rng.below(9) as usize).min(width - col);
        for _ in 0..len {
            out.push(char::from(b'a' + u8::try_from(rng.below(26)).unwrap_or(0)));
        }
        col += len;
        if col < width {
            out.push(' ');
            col += 1;
        }
    }
}

/// Scrolling coloured text: lines of 40 to 190 columns, each word in one of
/// 256 colours, some bold, ended by CR LF. Stops at `size` bytes or more.
pub fn coloured_text(size: usize) -> Vec<u8> {
    let mut rng = Rng::new(0x00c0_ffee);
    let mut out = String::with_capacity(size + 256);
    while out.len() < size {
        let width = 40 + rng.below(151) as usize;
        let mut col = 0;
        while col < width {
            let colour = rng.below(256);
            let bold = if rng.below(4) == 0 { "1;" } else { "" };
            let _ = write!(out, "\x1b[{bold}38;5;{colour}m");
            let len = (3 + rng.below(20) as usize).min(width - col);
            words(&mut rng, len, &mut out);
            col += len;
        }
        out.push_str("\x1b[0m\r\n");
    }
    out.into_bytes()
}

/// Full-screen redraws the way Ink-based TUIs draw: per frame, hide the
/// cursor, then for every row move there, clear the line and write a
/// coloured line; show the cursor at a prompt. Stops at `size` bytes or more.
pub fn redraw_frames(size: usize, rows: u16, cols: u16) -> Vec<u8> {
    let mut rng = Rng::new(0x0bad_cafe);
    let mut out = String::with_capacity(size + 4096);
    let cols = usize::from(cols);
    while out.len() < size {
        out.push_str("\x1b[?25l");
        for row in 1..=rows {
            let colour = rng.below(256);
            let _ = write!(out, "\x1b[{row};1H\x1b[2K\x1b[38;5;{colour}m");
            let width = cols / 2 + rng.below(u32::try_from(cols / 2).unwrap_or(1)) as usize;
            let split = width / 3;
            words(&mut rng, split, &mut out);
            let _ = write!(out, "\x1b[1;3{}m", rng.below(8));
            words(&mut rng, width - split, &mut out);
            out.push_str("\x1b[0m");
        }
        let _ = write!(out, "\x1b[{rows};3H\x1b[?25h");
    }
    out.into_bytes()
}

/// Exactly `lines` lines of `cols` coloured columns each (for scrollback).
pub fn full_lines(lines: usize, cols: u16) -> Vec<u8> {
    let mut rng = Rng::new(0x5eed);
    let mut out = String::new();
    for _ in 0..lines {
        let _ = write!(out, "\x1b[38;5;{}m", rng.below(256));
        words(&mut rng, usize::from(cols), &mut out);
        out.push_str("\x1b[0m\r\n");
    }
    out.into_bytes()
}
