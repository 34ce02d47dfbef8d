//! Validation of an agent's `workspace`: `true`, or an object naming the
//! repository, the base, whether uncommitted changes go in, and ignored files.

use std::collections::HashSet;
use std::path::{Component, Path};

use super::fields::Problem;
use super::json::{Node, Value};
use super::keys::WORKSPACE_KEYS;
use super::model::{DEFAULT_WORKSPACE_BASE, WorkspaceSpec};
use super::validate::{Checker, key_path};
use super::validate_ssh::expand_tilde;

impl Checker<'_> {
    pub(super) fn workspace(&mut self, path: &str, node: &Node) -> Option<WorkspaceSpec> {
        let mut spec = WorkspaceSpec {
            repo: None,
            base: DEFAULT_WORKSPACE_BASE.to_owned(),
            uncommitted: false,
            include: Vec::new(),
            pos: node.pos,
        };
        match &node.value {
            Value::Bool(true) => return Some(spec),
            Value::Bool(false) => return None,
            Value::Object(_) => {}
            _ => {
                self.type_error(path, node, "`true` or an object");
                return None;
            }
        }
        let fields = self.object(path, node, WORKSPACE_KEYS, "a workspace")?;
        let mut ok = true;
        for f in fields {
            let fpath = key_path(path, &f.key);
            match f.key.as_str() {
                "repo" => match self.string(&fpath, &f.value).map(|raw| self.repo_path(raw)) {
                    Some(Ok(repo)) => spec.repo = Some(repo),
                    Some(Err(p)) => {
                        self.error(&fpath, f.value.pos, p);
                        ok = false;
                    }
                    None => ok = false,
                },
                "base" => match self.string(&fpath, &f.value).map(check_base) {
                    Some(Ok(())) => {
                        if let Value::String(base) = &f.value.value {
                            spec.base.clone_from(base);
                        }
                    }
                    Some(Err(p)) => {
                        self.error(&fpath, f.value.pos, p);
                        ok = false;
                    }
                    None => ok = false,
                },
                "uncommitted" => {
                    if let Value::Bool(on) = &f.value.value {
                        spec.uncommitted = *on;
                    } else {
                        self.type_error(&fpath, &f.value, "`true` or `false`");
                        ok = false;
                    }
                }
                "include" => match self.include_list(&fpath, &f.value) {
                    Some(include) => spec.include = include,
                    None => ok = false,
                },
                _ => {}
            }
        }
        ok.then_some(spec)
    }

    fn repo_path(&self, raw: &str) -> Result<std::path::PathBuf, Problem> {
        if raw.is_empty() || raw.contains('\0') {
            return Err(Problem::new("the repository path is empty or holds a NUL")
                .hint("leave `repo` out for the repository claude-bottle is started in"));
        }
        let expanded = expand_tilde(raw, self.home)?;
        Ok(if expanded.is_absolute() {
            expanded
        } else {
            self.file.parent().unwrap_or(Path::new("")).join(expanded)
        })
    }

    /// Each entry once, each a plain path inside the repository.
    fn include_list(&mut self, path: &str, node: &Node) -> Option<Vec<String>> {
        let mut out = Vec::new();
        let mut seen = HashSet::new();
        let mut ok = true;
        for (i, item) in self.list(path, node)?.iter().enumerate() {
            let ipath = format!("{path}[{i}]");
            let Some(entry) = self.string(&ipath, item) else {
                ok = false;
                continue;
            };
            let entry = entry.trim_end_matches('/');
            if let Err(p) = check_include(entry) {
                self.error(&ipath, item.pos, p);
                ok = false;
            } else if !seen.insert(entry.to_owned()) {
                let p = Problem::new(format!("`{entry}` is listed twice"));
                self.error(&ipath, item.pos, p);
                ok = false;
            } else {
                out.push(entry.to_owned());
            }
        }
        ok.then_some(out)
    }
}

/// A revision git can read, and never an option: it reaches git's command line.
pub fn check_base(base: &str) -> Result<(), Problem> {
    let hint = "a branch, a tag or a commit, such as `HEAD` (the default) or `main`";
    if base.is_empty() || base.starts_with('-') {
        return Err(Problem::new(format!("`{base}` is not a revision")).hint(hint));
    }
    if base
        .chars()
        .any(|c| c.is_control() || c.is_whitespace() || c == '\0')
    {
        return Err(Problem::new(
            "the base holds a space or a control character, which no revision has",
        )
        .hint(hint));
    }
    Ok(())
}

/// A path relative to the repository's top that stays inside it and is not git's own.
pub fn check_include(entry: &str) -> Result<(), Problem> {
    let hint = "a file or folder inside the repository, relative to its top, such as `.env`";
    if entry.is_empty() || entry.contains('\0') || entry.starts_with('-') {
        return Err(Problem::new(format!("`{entry}` is not a path")).hint(hint));
    }
    let path = Path::new(entry);
    for component in path.components() {
        match component {
            Component::Normal(part) if part.eq_ignore_ascii_case(".git") => {
                return Err(Problem::new(format!(
                    "`{entry}` is inside `.git`, which never goes in"
                ))
                .hint("the copy gets a repository of its own, without the host's config"));
            }
            Component::Normal(_) | Component::CurDir => {}
            _ => {
                return Err(Problem::new(format!("`{entry}` leaves the repository")).hint(hint));
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn includes_stay_inside_the_repository() {
        assert!(check_include(".env").is_ok());
        assert!(check_include("config/local.toml").is_ok());
        assert!(check_include("../secrets").is_err());
        assert!(check_include("/etc/passwd").is_err());
        assert!(check_include("a/../../b").is_err());
        assert!(check_include(".git/config").is_err());
        assert!(check_include("sub/.GIT").is_err());
        assert!(check_include("-rf").is_err());
    }

    #[test]
    fn a_base_is_never_an_option() {
        assert!(check_base("HEAD").is_ok());
        assert!(check_base("origin/main~2").is_ok());
        assert!(check_base("--upload-pack=evil").is_err());
        assert!(check_base("main two").is_err());
        assert!(check_base("").is_err());
    }
}
