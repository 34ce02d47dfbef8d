//! Finding, reading and merging manifest files.
//!
//! Discovery: the home file is `$HOME/claude-bottle.json`; the project file is
//! `claude-bottle.json` in the nearest ancestor of the working directory that has one,
//! searching no higher than the git root (a folder holding `.git`, file or folder) or,
//! outside git, than the home folder. `--manifest PATH...` replaces discovery.
//!
//! Merge: home first, project second; a `bottles.<name>` or `agents.<name>` in a later
//! file replaces the earlier one whole. Agents may use bottles from either file.
//!
//! [`load`] is strict: any error and nothing loads (`validate`). [`load_usable`] keeps
//! what is sound: an error in one entry leaves out that entry, and the agents that need
//! it, not the whole manifest (the dashboard, `start`, `run`), unless an error belongs to
//! no entry (a file that does not parse), when nothing can be trusted.

use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

use super::error::{Entry, ManifestError, ManifestErrors};
use super::json::{self, MAX_FILE_BYTES};
use super::keys;
use super::model::Manifest;
use super::validate::{AgentEntry, FileEntries, check_file, key_path};

/// At most this many names are listed in a hint.
const LISTED: usize = 20;
/// "Did you mean" looks for a close bottle name only among this many bottles.
const SUGGEST_AMONG: usize = 1000;

/// The manifest file name, in the home folder and in projects.
pub const MANIFEST_FILE: &str = "claude-bottle.json";

/// Where to look for manifests.
#[derive(Debug, Clone, Default)]
pub struct LoadOptions {
    /// Where the search for a project file starts.
    pub cwd: PathBuf,
    /// The user's home folder, for the home file and `~` in paths.
    pub home: Option<PathBuf>,
    /// `--manifest` paths; when not empty, discovery is skipped and these are read in order.
    pub explicit: Vec<PathBuf>,
}

/// The files to read, home first: discovered, or the explicit list.
pub fn discover(opts: &LoadOptions) -> Vec<PathBuf> {
    if !opts.explicit.is_empty() {
        return opts.explicit.clone();
    }
    let mut files = Vec::new();
    if let Some(home) = &opts.home {
        let f = home.join(MANIFEST_FILE);
        if f.is_file() {
            files.push(f);
        }
    }
    if let Some(project) = find_project_file(&opts.cwd, opts.home.as_deref()) {
        let same = files
            .first()
            .is_some_and(|h| std::fs::canonicalize(h).ok() == std::fs::canonicalize(&project).ok());
        if !same {
            files.push(project);
        }
    }
    files
}

/// The project manifest: nearest ancestor's `claude-bottle.json`, stopping at the git root.
pub fn find_project_file(cwd: &Path, home: Option<&Path>) -> Option<PathBuf> {
    let in_git = cwd.ancestors().any(|d| d.join(".git").exists());
    for dir in cwd.ancestors() {
        let f = dir.join(MANIFEST_FILE);
        if f.is_file() {
            return Some(f);
        }
        let at_root = if in_git {
            dir.join(".git").exists()
        } else {
            Some(dir) == home
        };
        if at_root {
            return None;
        }
    }
    None
}

/// Finds, reads, validates and merges the manifests. No file at all is an empty manifest.
pub fn load(opts: &LoadOptions) -> Result<Manifest, ManifestErrors> {
    load_files(&discover(opts), opts.home.as_deref())
}

/// Reads and merges these files, in order (later files win).
pub fn load_files(files: &[PathBuf], home: Option<&Path>) -> Result<Manifest, ManifestErrors> {
    let merged = load_with(files, |file| read_file(file, home));
    merged.errors.into_result(merged.manifest)
}

/// A manifest with its sound entries only, and why the others were left out.
#[derive(Debug, Clone, Default)]
pub struct Usable {
    /// The entries without errors, less the agents whose bottle has errors.
    pub manifest: Manifest,
    /// Every error found, each tied to its entry.
    pub errors: ManifestErrors,
    /// Agents left out, in name order.
    pub left_out: Vec<LeftOut>,
}

/// An agent that errors keep from launching.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftOut {
    pub agent: String,
    /// The bottle it names (which may be the broken entry, or not exist).
    pub bottle: String,
    /// Its own errors and its bottle's.
    pub errors: ManifestErrors,
}

/// Like [`load`], but an error in an entry only leaves that entry out (see the
/// module notes). `Err` when an error belongs to no entry.
pub fn load_usable(opts: &LoadOptions) -> Result<Usable, ManifestErrors> {
    let files = discover(opts);
    usable(load_with(&files, |file| {
        read_file(file, opts.home.as_deref())
    }))
}

fn usable(merged: Merged) -> Result<Usable, ManifestErrors> {
    let Merged {
        mut manifest,
        errors,
    } = merged;
    if errors.0.iter().any(|e| e.entry.is_none()) {
        return Err(errors);
    }
    // An entry is broken when an error names it in the file whose entry won
    // the merge: a broken project entry is not replaced by the home one.
    let broken: BTreeSet<(&Path, &Entry)> = errors
        .0
        .iter()
        .filter_map(|e| Some((e.file.as_path(), e.entry.as_deref()?)))
        .collect();
    let is_broken = |file: &Path, entry: Entry| broken.contains(&(file, &entry));
    let errors_of = |file: &Path, entry: &Entry| -> Vec<ManifestError> {
        errors
            .0
            .iter()
            .filter(|e| e.file == file && e.entry.as_deref() == Some(entry))
            .cloned()
            .collect()
    };
    let broken_bottles: BTreeSet<String> = manifest
        .bottles
        .values()
        .filter(|b| is_broken(&b.source, Entry::Bottle(b.name.clone())))
        .map(|b| b.name.clone())
        .collect();
    let mut left_out = Vec::new();
    manifest.agents.retain(|name, agent| {
        let own = errors_of(&agent.source, &Entry::Agent(name.clone()));
        let bottle = manifest
            .bottles
            .get(&agent.bottle)
            .filter(|b| broken_bottles.contains(&b.name))
            .map(|b| errors_of(&b.source, &Entry::Bottle(b.name.clone())))
            .unwrap_or_default();
        if own.is_empty() && bottle.is_empty() {
            return true;
        }
        left_out.push(LeftOut {
            agent: name.clone(),
            bottle: agent.bottle.clone(),
            errors: ManifestErrors([own, bottle].concat()),
        });
        false
    });
    manifest
        .bottles
        .retain(|name, _| !broken_bottles.contains(name));
    Ok(Usable {
        manifest,
        errors,
        left_out,
    })
}

/// Validates `bytes` as the content of the manifest `file` (which need not exist: relative
/// `IdentityFile` paths are still resolved against its folder), exactly as [`load_files`]
/// would for a one-file list. For tests and tools that hold the text already.
pub fn load_bytes(
    file: &Path,
    bytes: &[u8],
    home: Option<&Path>,
) -> Result<Manifest, ManifestErrors> {
    let merged = load_with(&[file.to_path_buf()], |file| check_bytes(file, bytes, home));
    merged.errors.into_result(merged.manifest)
}

type FileResult = Result<(FileEntries, Vec<ManifestError>), ManifestError>;

/// Every entry of the files merged, errors or not, and every error.
struct Merged {
    manifest: Manifest,
    errors: ManifestErrors,
}

fn load_with(files: &[PathBuf], mut read: impl FnMut(&Path) -> FileResult) -> Merged {
    let mut errors = Vec::new();
    let mut manifest = Manifest {
        files: files.to_vec(),
        ..Manifest::default()
    };
    let mut agents: Vec<AgentEntry> = Vec::new();
    let mut all_parsed = true;
    for file in files {
        match read(file) {
            Ok((entries, errs)) => {
                errors.extend(errs);
                merge(&mut manifest, &mut agents, entries);
            }
            Err(e) => {
                errors.push(e);
                all_parsed = false;
            }
        }
    }
    // A file that could not be read may define the bottles the others name.
    if all_parsed {
        check_bottle_refs(&manifest, &agents, &mut errors);
    }
    for entry in agents {
        manifest
            .agents
            .insert(entry.agent.name.clone(), entry.agent);
    }
    // Report in reading order: file by file, top to bottom.
    errors.sort_by_key(|e| (files.iter().position(|f| *f == e.file), e.line, e.col));
    Merged {
        manifest,
        errors: ManifestErrors(errors),
    }
}

fn merge(manifest: &mut Manifest, agents: &mut Vec<AgentEntry>, entries: FileEntries) {
    for bottle in entries.bottles {
        manifest.bottles.insert(bottle.name.clone(), bottle);
    }
    // Names are unique within a file (JSON refuses duplicate keys); a later file's agent
    // replaces an earlier file's of the same name.
    let names: HashSet<&str> = entries
        .agents
        .iter()
        .map(|e| e.agent.name.as_str())
        .collect();
    agents.retain(|a| !names.contains(a.agent.name.as_str()));
    agents.extend(entries.agents);
}

fn read_file(file: &Path, home: Option<&Path>) -> FileResult {
    let fail = |message: String| ManifestError::new(file, "", None, message);
    let meta =
        std::fs::metadata(file).map_err(|e| fail(format!("cannot read the manifest: {e}")))?;
    if meta.len() > MAX_FILE_BYTES as u64 {
        let err = json::JsonError::TooLarge {
            size: usize::try_from(meta.len()).unwrap_or(usize::MAX),
            limit: MAX_FILE_BYTES,
        };
        return Err(ManifestError::from_json(file, &err));
    }
    let bytes = std::fs::read(file).map_err(|e| fail(format!("cannot read the manifest: {e}")))?;
    check_bytes(file, &bytes, home)
}

fn check_bytes(file: &Path, bytes: &[u8], home: Option<&Path>) -> FileResult {
    let text = std::str::from_utf8(bytes).map_err(|e| not_utf8(file, bytes, &e))?;
    let root = json::parse(text).map_err(|e| ManifestError::from_json(file, &e))?;
    Ok(check_file(file, home, &root))
}

/// Where the first byte that is not UTF-8 is, and which byte it is.
fn not_utf8(file: &Path, bytes: &[u8], e: &std::str::Utf8Error) -> ManifestError {
    let valid = &bytes[..e.valid_up_to()];
    // The prefix is valid UTF-8 by definition; columns count characters, as the parser does.
    let prefix = std::str::from_utf8(valid).unwrap_or_default();
    let prefix = prefix.strip_prefix('\u{feff}').unwrap_or(prefix);
    let line_start = prefix.rfind('\n').map_or(0, |i| i + 1);
    let pos = json::Pos {
        line: prefix.matches('\n').count() + 1,
        col: prefix[line_start..].chars().count() + 1,
    };
    let byte = bytes.get(e.valid_up_to()).copied().unwrap_or_default();
    ManifestError::new(
        file,
        "",
        Some(pos),
        format!("the file is not UTF-8 text: byte 0x{byte:02X} cannot start or continue a character here"),
    )
    .with_hint(Some("save the file as UTF-8".to_string()))
}

fn check_bottle_refs(manifest: &Manifest, agents: &[AgentEntry], errors: &mut Vec<ManifestError>) {
    let names = || manifest.bottles.keys().map(String::as_str);
    let available = if manifest.bottles.is_empty() {
        "no bottles are defined; add one under `bottles`".to_string()
    } else {
        format!("the bottles are {}", keys::list_some(names(), LISTED))
    };
    for entry in agents {
        let file = &entry.agent.source;
        let bottle = &entry.agent.bottle;
        match entry.bottle_pos {
            None => {
                let e = ManifestError::new(
                    file,
                    &entry.path,
                    Some(entry.pos),
                    "missing `bottle`: every agent runs in a bottle",
                )
                .with_hint(Some(available.clone()))
                .in_entry(Entry::Agent(entry.agent.name.clone()));
                errors.push(e);
            }
            // `bottle` that is not a string is already reported.
            Some(pos) if entry.bottle_named && !manifest.bottles.contains_key(bottle) => {
                // Suggestions compare with every bottle: skipped when there are very many.
                let hint = (manifest.bottles.len() <= SUGGEST_AMONG)
                    .then(|| keys::did_you_mean(bottle, names()))
                    .flatten()
                    .unwrap_or_else(|| available.clone());
                let message = if bottle.is_empty() {
                    "`bottle` is empty; name the bottle this agent runs in".to_string()
                } else {
                    format!("no bottle named `{bottle}`")
                };
                let e =
                    ManifestError::new(file, key_path(&entry.path, "bottle"), Some(pos), message)
                        .with_hint(Some(hint))
                        .in_entry(Entry::Agent(entry.agent.name.clone()));
                errors.push(e);
            }
            Some(_) => {}
        }
    }
}
