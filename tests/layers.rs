//! The rules of ARCHITECTURE.md's "Rules that carry the weight", read off
//! the source so they cannot rot: which layer may name which. Offline.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a broken fixture should fail the test loudly

use std::path::{Path, PathBuf};

/// Every `.rs` file under `src/`, with its path from `src/` and its code
/// lines (comments dropped: a comment may name what the code may not).
fn sources() -> Vec<(String, Vec<String>)> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(&path, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    walk(&src, &mut files);
    files.sort();
    assert!(files.len() > 50, "found only {} source files", files.len());
    files
        .into_iter()
        .map(|path| {
            let name = path.strip_prefix(&src).unwrap().display().to_string();
            let code = std::fs::read_to_string(&path)
                .unwrap()
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .map(str::to_owned)
                .collect();
            (name, code)
        })
        .collect()
}

/// The lines of files matching `which` that contain `needle`.
fn offenders(which: impl Fn(&str) -> bool, needle: &str) -> Vec<String> {
    sources()
        .into_iter()
        .filter(|(name, _)| which(name))
        .flat_map(|(name, code)| {
            code.into_iter()
                .filter(|line| line.contains(needle))
                .map(move |line| format!("{name}: {}", line.trim()))
        })
        .collect()
}

#[test]
fn only_the_docker_layer_talks_to_the_engine() {
    let found = offenders(|name| !name.starts_with("docker/"), "bollard");
    assert!(
        found.is_empty(),
        "bollard outside src/docker/:\n{}",
        found.join("\n")
    );
}

#[test]
fn nothing_below_the_commands_reaches_up_into_them() {
    let below = |name: &str| !name.starts_with("commands/") && name != "main.rs";
    let found = offenders(below, "commands::");
    assert!(
        found.is_empty(),
        "a lower layer names commands:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_manifest_and_egress_layers_stay_pure() {
    let pure = |name: &str| name.starts_with("manifest/") || name.starts_with("egress/");
    for needle in [
        "crate::docker",
        "crate::runtime",
        "crate::app",
        "crate::ui",
        "crate::session",
        "tokio",
    ] {
        let found = offenders(pure, needle);
        assert!(
            found.is_empty(),
            "{needle} in a pure layer:\n{}",
            found.join("\n")
        );
    }
}

#[test]
fn settings_are_read_from_the_environment_in_one_place() {
    // The manifest reads $HOME and the host variables its `${VAR}` values
    // name; every setting of claude-bottle's own comes from `settings`. The
    // engines bench reads PATH to put its own `ssh` first in its child's.
    let allowed = [
        "settings.rs",
        "manifest/resolve.rs",
        "manifest/source.rs",
        "bin/claude-bottle-bench/engines.rs",
    ];
    for needle in ["env::var", "var_os("] {
        let found = offenders(|name| !allowed.contains(&name), needle);
        assert!(
            found.is_empty(),
            "the environment read outside settings:\n{}",
            found.join("\n")
        );
    }
    let found = offenders(|name| name.starts_with("manifest/"), "CLAUDE_BOTTLE_");
    assert!(found.is_empty(), "{}", found.join("\n"));
}

#[test]
fn the_workspace_layer_runs_git_and_never_the_engine() {
    // `workspace` runs git on this machine; moving bytes to and from a bottle
    // is `docker::workspace`'s, and the model and UI are above it.
    let workspace = |name: &str| name.starts_with("workspace/");
    for needle in [
        "bollard",
        "crate::docker",
        "crate::runtime",
        "crate::app",
        "crate::ui",
    ] {
        let found = offenders(workspace, needle);
        assert!(
            found.is_empty(),
            "{needle} in workspace/:\n{}",
            found.join("\n")
        );
    }
}
