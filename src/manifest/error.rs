//! Manifest errors: each names the file, the JSON path, `line:col` and what would be right.

use std::fmt;
use std::path::{Path, PathBuf};

use super::json::{JsonError, PathSeg, Pos};

/// One problem in a manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ManifestError {
    /// The manifest file; empty when the problem belongs to no file (an unknown agent name).
    pub file: PathBuf,
    /// JSON path such as `bottles.gitea-dev.ssh[0].Port`; empty for the whole file.
    pub path: String,
    /// 1-based; 0 when the place is not known (errors found after loading).
    pub line: usize,
    /// 1-based, counted in characters; 0 when the place is not known.
    pub col: usize,
    pub message: String,
    /// What to do about it, shown on the next line.
    pub hint: Option<String>,
    /// The bottle or agent entry the problem is in; `None` when it is in
    /// the file as a whole (it does not parse, its top level is wrong).
    /// (Boxed: errors travel in `Result`s and should stay small.)
    pub entry: Option<Box<Entry>>,
}

/// A named entry of a manifest file.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Entry {
    Bottle(String),
    Agent(String),
}

impl Entry {
    /// Its JSON path: `bottles.<name>` or `agents.<name>`.
    pub fn path(&self) -> String {
        match self {
            Entry::Bottle(name) => super::validate::key_path("bottles", name),
            Entry::Agent(name) => super::validate::key_path("agents", name),
        }
    }
}

impl ManifestError {
    pub fn new(
        file: &Path,
        path: impl Into<String>,
        pos: Option<Pos>,
        message: impl Into<String>,
    ) -> Self {
        let pos = pos.unwrap_or_default();
        ManifestError {
            file: file.to_path_buf(),
            path: path.into(),
            line: pos.line,
            col: pos.col,
            message: message.into(),
            hint: None,
            entry: None,
        }
    }

    #[must_use]
    pub fn with_hint(mut self, hint: Option<String>) -> Self {
        self.hint = hint;
        self
    }

    #[must_use]
    pub fn in_entry(mut self, entry: Entry) -> Self {
        self.entry = Some(Box::new(entry));
        self
    }

    /// A file that is not readable JSON.
    pub fn from_json(file: &Path, err: &JsonError) -> Self {
        // A manifest's own paths are a few steps long; past that (nesting
        // that is itself the error) the rest says nothing new.
        const SHOWN_STEPS: usize = 8;
        let steps = err.path();
        let mut path =
            steps
                .iter()
                .take(SHOWN_STEPS)
                .fold(String::new(), |parent, seg| match seg {
                    PathSeg::Key(key) => super::validate::key_path(&parent, key),
                    PathSeg::Index(index) => format!("{parent}[{index}]"),
                });
        if steps.len() > SHOWN_STEPS {
            path.push('…');
        }
        ManifestError::new(file, path, err.pos(), err.to_string())
    }
}

impl fmt::Display for ManifestError {
    /// `FILE:LINE:COL: PATH: MESSAGE`, leaving out the parts that are not known.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut sep = "";
        if !self.file.as_os_str().is_empty() {
            write!(f, "{}", self.file.display())?;
            if self.line > 0 {
                write!(f, ":{}:{}", self.line, self.col)?;
            }
            sep = ": ";
        }
        if !self.path.is_empty() {
            write!(f, "{sep}{}", self.path)?;
            sep = ": ";
        }
        write!(f, "{sep}{}", self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}

/// Every problem found, in file order; never empty when returned as an error.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ManifestErrors(pub Vec<ManifestError>);

impl ManifestErrors {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn iter(&self) -> std::slice::Iter<'_, ManifestError> {
        self.0.iter()
    }

    /// `Ok(value)` when nothing was collected.
    pub fn into_result<T>(self, value: T) -> Result<T, ManifestErrors> {
        if self.0.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }
}

impl<'a> IntoIterator for &'a ManifestErrors {
    type Item = &'a ManifestError;
    type IntoIter = std::slice::Iter<'a, ManifestError>;
    fn into_iter(self) -> Self::IntoIter {
        self.0.iter()
    }
}

impl From<ManifestError> for ManifestErrors {
    fn from(e: ManifestError) -> Self {
        ManifestErrors(vec![e])
    }
}

impl fmt::Display for ManifestErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for ManifestErrors {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_leaves_out_unknown_parts() {
        let at = Some(Pos { line: 3, col: 7 });
        let full = ManifestError::new(Path::new("m.json"), "bottles.a.runtime", at, "bad")
            .with_hint(Some("did you mean `runc`?".into()));
        assert_eq!(
            full.to_string(),
            "m.json:3:7: bottles.a.runtime: bad\n  hint: did you mean `runc`?"
        );
        let no_pos = ManifestError::new(Path::new("m.json"), "agents.x", None, "bad");
        assert_eq!(no_pos.to_string(), "m.json: agents.x: bad");
        let bare = ManifestError::new(Path::new(""), "", None, "no agent `x`");
        assert_eq!(bare.to_string(), "no agent `x`");
        let errs = ManifestErrors(vec![no_pos, bare]);
        assert_eq!(errs.to_string(), "m.json: agents.x: bad\nno agent `x`");
    }
}
