//! `claude-bottle init`: a starter manifest in the working directory.

use std::io::Write as _;

use crate::manifest::MANIFEST_FILE;

/// What `init` writes: one bottle and one agent, nothing that needs more
/// than a Docker engine and the token (no ssh key, no gVisor, no skill, no
/// host variable), so it validates and launches on a fresh machine. Every
/// other field is in `claude-bottle.example.json` and the README.
pub const STARTER: &str = r#"{
  "bottles": {
    "dev": {
      "runtime": "runc",
      "egress": {
        "allowlist": ["github.com", "*.githubusercontent.com", "registry.npmjs.org"]
      }
    }
  },
  "agents": {
    "coder": {
      "bottle": "dev",
      "prompt": "Read README.md, then fix the failing tests."
    }
  }
}
"#;

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
    if let Err(e) = file.write_all(STARTER.as_bytes()) {
        eprintln!("claude-bottle: writing {MANIFEST_FILE}: {e}");
        return 1;
    }
    println!(
        "wrote {MANIFEST_FILE}: one bottle (dev) and one agent (coder). Check it with \
         `claude-bottle validate`, see what it grants with `claude-bottle show coder`, launch it \
         with `claude-bottle start coder`. Every other field (env, ssh, skills, gVisor, private \
         hosts) is in the README's manifest section."
    );
    0
}
