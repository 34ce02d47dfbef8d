//! Loading the manifest the way every command does: `--manifest` paths, or
//! discovery from the working directory and `$HOME`.

use std::path::PathBuf;

use crate::manifest::{self, LoadOptions, Manifest, ManifestErrors, ResolveContext};

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

    pub fn load(&self) -> Result<Manifest, ManifestErrors> {
        manifest::load(&self.options)
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

/// The message for an empty result: no file was found at all.
pub const NO_MANIFEST: &str = "no claude-bottle.json found here (up to the git root) or in $HOME; \
     run `claude-bottle init` to write a starter one";
