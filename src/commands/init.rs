//! `claude-bottle init`: a starter manifest in the working directory.

use std::io::Write as _;

use crate::manifest::MANIFEST_FILE;

/// The example shipped with the project, the starting point for `init`.
pub const EXAMPLE: &str = include_str!("../../claude-bottle.example.json");

pub fn run() -> i32 {
    let path = std::path::Path::new(MANIFEST_FILE);
    // `create_new` refuses to replace a file, even one made a moment ago.
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path);
    let mut file = match file {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            eprintln!("claude-bottle: {MANIFEST_FILE} already exists here; nothing was changed");
            return 1;
        }
        Err(e) => {
            eprintln!("claude-bottle: cannot create {MANIFEST_FILE}: {e}");
            return 1;
        }
    };
    if let Err(e) = file.write_all(starter().as_bytes()) {
        eprintln!("claude-bottle: writing {MANIFEST_FILE}: {e}");
        return 1;
    }
    println!(
        "wrote {MANIFEST_FILE}; check it with `claude-bottle validate`, then `claude-bottle show coder`"
    );
    0
}

/// The example without its `$schema` line, which points into this repository.
pub fn starter() -> String {
    let mut out = String::with_capacity(EXAMPLE.len());
    for line in EXAMPLE
        .lines()
        .filter(|l| !l.trim_start().starts_with("\"$schema\""))
    {
        out.push_str(line);
        out.push('\n');
    }
    out
}
