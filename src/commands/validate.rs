//! `claude-bottle validate [FILE...]`: every error, or a one-line summary.

use std::path::PathBuf;

use super::list::display_files;
use crate::manifest::source::{ManifestSource, NO_MANIFEST};

pub fn run(source: &ManifestSource, files: &[PathBuf]) -> i32 {
    let mut source = source.clone();
    if !files.is_empty() {
        source.options.explicit = files.to_vec();
    }
    match source.load() {
        Ok(m) if m.files.is_empty() => {
            eprintln!("{NO_MANIFEST}");
            1
        }
        Ok(m) => {
            println!(
                "ok: {} bottle(s), {} agent(s) in {}",
                m.bottles.len(),
                m.agents.len(),
                display_files(&m.files)
            );
            0
        }
        Err(errors) => {
            eprintln!("{errors}");
            let n = errors.0.len();
            eprintln!("{n} error{} found", if n == 1 { "" } else { "s" });
            1
        }
    }
}
