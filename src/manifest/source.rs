//! Loading the manifest the way every command does: `--manifest` paths, or
//! discovery from the working directory and `$HOME`.

use std::path::PathBuf;

use crate::manifest::{self, Entry, LoadOptions, Manifest, ManifestErrors, ResolveContext, Usable};

/// Where the manifest comes from for this invocation.
#[derive(Debug, Clone)]
pub struct ManifestSource {
    pub options: LoadOptions,
}

impl ManifestSource {
    /// From the command line's `--manifest` list and the process's cwd and home.
    pub fn from_cli(explicit: &[PathBuf]) -> Self {
        Self {
            options: LoadOptions {
                cwd: std::env::current_dir().unwrap_or_else(|_| PathBuf::from(".")),
                home: std::env::var_os("HOME").map(PathBuf::from),
                explicit: explicit.to_vec(),
            },
        }
    }

    /// Every entry, or every error (`validate`).
    pub fn load(&self) -> Result<Manifest, ManifestErrors> {
        manifest::load(&self.options)
    }

    /// The sound entries; those with errors are left out (see
    /// [`manifest::load_usable`]).
    pub fn load_usable(&self) -> Result<Usable, ManifestErrors> {
        manifest::load_usable(&self.options)
    }

    /// For a command about one agent: the sound entries when the agent is
    /// among them (errors elsewhere are one line on stderr), else the errors
    /// that keep it out.
    pub fn load_for(&self, agent: &str) -> Result<Manifest, ManifestErrors> {
        let usable = self.load_usable()?;
        if let Some(left_out) = usable.left_out.iter().find(|l| l.agent == agent) {
            return Err(left_out.errors.clone());
        }
        if let Some(note) = left_out_note(&usable) {
            eprintln!("claude-bottle: {note}");
        }
        Ok(usable.manifest)
    }

    /// The project folder that skills are looked up in first: where the
    /// project's manifest is, or the working directory.
    pub fn project_dir(&self, loaded: &Manifest) -> PathBuf {
        let home_file = self
            .options
            .home
            .as_ref()
            .map(|h| h.join(manifest::MANIFEST_FILE));
        loaded
            .files
            .iter()
            .rev()
            .find(|f| Some(*f) != home_file.as_ref())
            .and_then(|f| f.parent().map(PathBuf::from))
            .unwrap_or_else(|| self.options.cwd.clone())
    }

    pub fn resolve_context(&self, loaded: &Manifest) -> ResolveContext {
        ResolveContext::from_process(Some(self.project_dir(loaded)))
    }
}

/// One line naming the entries with errors and the agents they keep from
/// launching, if any.
pub fn left_out_note(usable: &Usable) -> Option<String> {
    let mut entries: Vec<String> = usable
        .errors
        .iter()
        .filter_map(|e| e.entry.as_deref().map(Entry::path))
        .collect();
    let mut seen = std::collections::HashSet::new();
    entries.retain(|entry| seen.insert(entry.clone()));
    if entries.is_empty() {
        return None;
    }
    let count = usable.errors.0.len();
    let errors = if count == 1 { "error" } else { "errors" };
    let agents: Vec<&str> = usable.left_out.iter().map(|l| l.agent.as_str()).collect();
    let agents = if agents.is_empty() {
        String::new()
    } else {
        format!("; agents that cannot launch: {}", agents.join(", "))
    };
    Some(format!(
        "{count} manifest {errors} (in {}){agents} (`claude-bottle validate` lists them)",
        entries.join(", ")
    ))
}

/// The message for an empty result: no file was found at all.
pub const NO_MANIFEST: &str = "no claude-bottle.json found here (up to the git root) or in $HOME; \
     run `claude-bottle init` to write a starter one";
