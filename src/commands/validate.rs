//! `claude-bottle validate [FILE...]`: every error (in the files, and what
//! resolving each agent on this machine finds), or a one-line summary.

use std::path::PathBuf;

use super::list::display_files;
use crate::manifest::source::{ManifestSource, NO_MANIFEST};
use crate::manifest::{self, Manifest, ManifestErrors};

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
            let errors = launch_errors(&source, &m);
            if !errors.is_empty() {
                return report(&errors);
            }
            println!(
                "ok: {} bottle(s), {} agent(s) in {}",
                m.bottles.len(),
                m.agents.len(),
                display_files(&m.files)
            );
            0
        }
        Err(errors) => report(&errors),
    }
}

/// What resolving each agent finds that the file alone does not: a skill
/// that is not there, a host variable that is not set. `show`, `start`,
/// `run` and the dashboard refuse an agent for these, so `validate` says so
/// first.
fn launch_errors(source: &ManifestSource, loaded: &Manifest) -> ManifestErrors {
    let context = source.resolve_context(loaded);
    let mut errors = Vec::new();
    for agent in loaded.agents.keys() {
        if let Err(found) = manifest::resolve(loaded, agent, &context) {
            for error in found.0 {
                if !errors.contains(&error) {
                    errors.push(error);
                }
            }
        }
    }
    ManifestErrors(errors)
}

fn report(errors: &ManifestErrors) -> i32 {
    eprintln!("{errors}");
    let n = errors.0.len();
    eprintln!("{n} error{} found", if n == 1 { "" } else { "s" });
    1
}
