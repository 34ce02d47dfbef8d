//! Every fixture under `tests/fixtures/manifest/`: valid ones load, invalid ones give
//! exactly the snapshotted errors.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use claude_bottle::manifest::{self, LoadOptions, Manifest, ManifestErrors};

const FIXTURES: &str = "tests/fixtures/manifest";

/// A home folder holding `~/.ssh/id_ed25519`, which the fixtures name.
fn fake_home() -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    fs::create_dir_all(home.path().join(".ssh")).unwrap();
    fs::write(home.path().join(".ssh/id_ed25519"), "not a real key").unwrap();
    home
}

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = fs::read_dir(Path::new(FIXTURES).join(kind))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no fixtures in {kind}");
    files
}

fn load(file: &Path, home: &Path) -> Result<Manifest, ManifestErrors> {
    manifest::load(&LoadOptions {
        cwd: home.to_path_buf(),
        home: Some(home.to_path_buf()),
        explicit: vec![file.to_path_buf()],
    })
}

fn name(file: &Path) -> String {
    file.file_stem().unwrap().to_string_lossy().into_owned()
}

#[test]
fn valid_fixtures_load() {
    let home = fake_home();
    for file in fixtures("valid") {
        let m = load(&file, home.path()).unwrap_or_else(|e| panic!("{}:\n{e}", file.display()));
        let summary = format!("{m:#?}").replace(&home.path().display().to_string(), "$HOME");
        insta::assert_snapshot!(format!("valid_{}", name(&file)), summary);
    }
}

#[test]
fn invalid_fixtures_give_the_expected_errors() {
    let home = fake_home();
    for file in fixtures("invalid") {
        let Err(errors) = load(&file, home.path()) else {
            panic!("{} loaded without errors", file.display());
        };
        let text = errors
            .to_string()
            .replace(&home.path().display().to_string(), "$HOME");
        insta::assert_snapshot!(format!("invalid_{}", name(&file)), text);
    }
}

#[test]
fn a_file_over_the_size_limit_is_refused_before_reading() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.json");
    let f = fs::File::create(&big).unwrap();
    f.set_len(5 * 1024 * 1024).unwrap();
    let err = load(&big, dir.path()).unwrap_err().to_string();
    assert!(
        err.ends_with(
            "big.json: the file is 5242880 bytes; a manifest may be at most 4194304 bytes"
        ),
        "{err}"
    );
}

#[test]
fn a_file_that_is_not_utf8_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.json");
    fs::write(&bad, b"{\"bottles\": \"\xff\"}").unwrap();
    let err = load(&bad, dir.path()).unwrap_err().to_string();
    assert!(
        err.ends_with(
            "bad.json:1:14: the file is not UTF-8 text: byte 0xFF cannot start or continue a character here\n  hint: save the file as UTF-8"
        ),
        "{err}"
    );
}
