//! Tests of discovery, merging and whole-file validation.
#![allow(clippy::unwrap_used)]

use std::fs;
use std::path::{Path, PathBuf};

use super::load::{discover, find_project_file};
use super::*;

fn write(path: &Path, text: &str) -> PathBuf {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, text).unwrap();
    path.to_path_buf()
}

fn opts(cwd: &Path, home: &Path) -> LoadOptions {
    LoadOptions {
        cwd: cwd.to_path_buf(),
        home: Some(home.to_path_buf()),
        explicit: Vec::new(),
    }
}

/// A home folder and a project folder (a git root) under `t`.
fn home_and_repo(t: &tempfile::TempDir) -> (PathBuf, PathBuf) {
    let repo = t.path().join("repo");
    fs::create_dir_all(repo.join(".git")).unwrap();
    (t.path().join("home"), repo)
}

/// Error lines with the temp folder replaced, for readable assertions.
fn messages(err: &ManifestErrors, root: &Path) -> Vec<String> {
    err.iter()
        .map(|e| e.to_string().replace(&root.display().to_string(), "T"))
        .collect()
}

#[test]
fn project_file_is_the_nearest_ancestors_up_to_the_git_root() {
    let t = tempfile::tempdir().unwrap();
    let repo = t.path().join("repo");
    fs::create_dir_all(repo.join(".git")).unwrap();
    let deep = repo.join("a/b");
    fs::create_dir_all(&deep).unwrap();
    // Above the git root: never used.
    write(&t.path().join(MANIFEST_FILE), "{}");
    assert_eq!(find_project_file(&deep, None), None);
    let at_root = write(&repo.join(MANIFEST_FILE), "{}");
    assert_eq!(find_project_file(&deep, None), Some(at_root));
    let nearer = write(&repo.join("a").join(MANIFEST_FILE), "{}");
    assert_eq!(find_project_file(&deep, None), Some(nearer));
}

#[test]
fn a_git_file_marks_the_root_too() {
    let t = tempfile::tempdir().unwrap();
    let wt = t.path().join("wt");
    write(&wt.join(".git"), "gitdir: /elsewhere");
    write(&t.path().join(MANIFEST_FILE), "{}");
    assert_eq!(find_project_file(&wt, None), None);
}

#[test]
fn outside_git_the_search_stops_at_home_and_home_is_read_once() {
    let t = tempfile::tempdir().unwrap();
    let home = t.path().join("home");
    let cwd = home.join("work/x");
    fs::create_dir_all(&cwd).unwrap();
    write(&t.path().join(MANIFEST_FILE), "{}");
    assert_eq!(discover(&opts(&cwd, &home)), Vec::<PathBuf>::new());
    let home_file = write(&home.join(MANIFEST_FILE), "{}");
    assert_eq!(discover(&opts(&cwd, &home)), vec![home_file]);
}

#[test]
fn home_first_then_project_and_explicit_replaces_discovery() {
    let t = tempfile::tempdir().unwrap();
    let (home, repo) = home_and_repo(&t);
    let h = write(&home.join(MANIFEST_FILE), "{}");
    let p = write(&repo.join(MANIFEST_FILE), "{}");
    assert_eq!(discover(&opts(&repo, &home)), vec![h, p.clone()]);
    let mut o = opts(&repo, &home);
    o.explicit = vec![PathBuf::from("/x.json"), p.clone()];
    assert_eq!(discover(&o), vec![PathBuf::from("/x.json"), p]);
}

#[test]
fn no_file_is_an_empty_manifest() {
    let t = tempfile::tempdir().unwrap();
    let m = load(&opts(t.path(), &t.path().join("nohome"))).unwrap();
    assert_eq!(m, Manifest::default());
}

#[test]
fn project_entries_replace_home_entries_whole_and_refs_cross_files() {
    let t = tempfile::tempdir().unwrap();
    let (home, repo) = home_and_repo(&t);
    let h = write(
        &home.join(MANIFEST_FILE),
        r#"{"bottles": {"dev": {"runtime": "runsc", "egress": {"allowlist": ["a.com"]}}, "home-only": {}},
            "agents": {"writer": {"bottle": "proj-only", "skills": ["s"]}, "coder": {"bottle": "dev"}}}"#,
    );
    let p = write(
        &repo.join(MANIFEST_FILE),
        r#"{"bottles": {"dev": {"env": {"A": "1"}}, "proj-only": {}},
            "agents": {"coder": {"bottle": "home-only", "prompt": "hi"}}}"#,
    );
    let m = load(&opts(&repo, &home)).unwrap();
    assert_eq!(m.files, vec![h.clone(), p.clone()]);
    let dev = &m.bottles["dev"];
    // Replaced whole: nothing of the home `dev` survives.
    assert_eq!(dev.runtime, Runtime::Runc);
    assert!(dev.allowlist.is_empty());
    assert_eq!(dev.env[0].name, "A");
    assert_eq!(dev.source, p);
    assert_eq!(m.bottles["home-only"].source, h);
    assert_eq!(m.agents["writer"].bottle, "proj-only");
    assert_eq!(m.agents["writer"].source, h);
    assert_eq!(m.agents["coder"].bottle, "home-only");
    assert_eq!(m.agents["coder"].prompt.as_deref(), Some("hi"));
    assert_eq!(m.agents["coder"].source, p);
}

#[test]
fn a_replaced_agent_is_not_checked_and_a_missing_bottle_names_the_choices() {
    let t = tempfile::tempdir().unwrap();
    let a = write(
        &t.path().join("a.json"),
        r#"{"agents": {"x": {"bottle": "gone"}, "y": {}}}"#,
    );
    let b = write(
        &t.path().join("b.json"),
        r#"{"bottles": {"dev": {}, "ops": {}}, "agents": {"x": {"bottle": "dev"}, "z": {"bottle": "dve"}}}"#,
    );
    let err = load::load_files(&[a, b], None).unwrap_err();
    assert_eq!(
        messages(&err, t.path()),
        [
            "T/a.json:1:43: agents.y: missing `bottle`: every agent runs in a bottle\n  hint: the bottles are `dev`, `ops`",
            "T/b.json:1:88: agents.z.bottle: no bottle named `dve`\n  hint: did you mean `dev`?",
        ]
    );
}

#[test]
fn every_error_is_collected() {
    let t = tempfile::tempdir().unwrap();
    let f = write(
        &t.path().join("m.json"),
        r#"{
  "bottles": {
    "Dev": {"runtime": "gvisor", "env": {"1X": "a", "HTTP_PROXY": "b", "OK": 3}},
    "b": {"egress": {"allowlist": ["https://x.com/", "*", "h:80", "ok.com"]}, "resorces": {}}
  },
  "agents": {"a": {"bottle": "b", "skills": ["s", "s"], "prompt": 1}},
  "extra": true
}"#,
    );
    let err = load::load_files(&[f], None).unwrap_err();
    assert_eq!(
        messages(&err, t.path()),
        [
            "T/m.json:3:5: bottles.Dev: bottle name `Dev` may use only lowercase letters, digits, `_`, `.` and `-`, starting with a letter or digit (it becomes part of a container name)\n  hint: try `dev`",
            "T/m.json:3:24: bottles.Dev.runtime: unknown runtime `gvisor`; expected `runc` or `runsc`\n  hint: `runc` is Docker's default; `runsc` is gVisor",
            "T/m.json:3:42: bottles.Dev.env.1X: `1X` is not a valid env name: use ASCII letters, digits and `_`, not starting with a digit",
            "T/m.json:3:53: bottles.Dev.env.HTTP_PROXY: `HTTP_PROXY` is set by claude-bottle itself and cannot be set in the manifest",
            "T/m.json:3:78: bottles.Dev.env.OK: expected a string (write numbers and booleans in quotes), or { \"value\": ..., \"hosts\": [...] }, found a number",
            "T/m.json:4:36: bottles.b.egress.allowlist[0]: `https://x.com/` is a URL; write the host only: `x.com`",
            "T/m.json:4:54: bottles.b.egress.allowlist[1]: a bare `*` would let the agent reach every host; list the hosts it needs",
            "T/m.json:4:59: bottles.b.egress.allowlist[2]: `h:80` has a port; ports are not restricted, write `h`",
            "T/m.json:4:79: bottles.b.resorces: unknown key `resorces` in a bottle\n  hint: did you mean `resources`?",
            "T/m.json:6:51: agents.a.skills[1]: skill `s` is listed twice",
            "T/m.json:6:67: agents.a.prompt: expected a string, found a number",
            "T/m.json:7:3: extra: unknown key `extra` in the top level\n  hint: the keys allowed here are `$schema`, `bottles`, `agents`",
        ]
    );
}

#[test]
fn files_that_do_not_parse_are_reported_and_skip_the_bottle_check() {
    let t = tempfile::tempdir().unwrap();
    let a = write(&t.path().join("a.json"), "  \n");
    let b = write(
        &t.path().join("b.json"),
        r#"{"agents": {"x": {"bottle": "in-a"}}}"#,
    );
    let err = load::load_files(&[a, b], None).unwrap_err();
    assert_eq!(
        messages(&err, t.path()),
        [
            "T/a.json: the file is empty; the smallest valid manifest is {\"bottles\":{},\"agents\":{}}"
        ]
    );
    let missing = load::load_files(&[t.path().join("none.json")], None).unwrap_err();
    assert!(messages(&missing, t.path())[0].starts_with("T/none.json: cannot read the manifest: "));
}

#[test]
fn an_empty_bottle_name_is_an_error_not_a_loaded_agent() {
    // Found by tests/fuzz_inputs.rs: `"bottle": ""` used to load.
    let text = "{\"bottles\": {\"dev\": {}},\n \"agents\": {\"a\": {\"bottle\": \"\"}}}";
    let err = load::load_bytes(Path::new("m.json"), text.as_bytes(), None).unwrap_err();
    assert_eq!(
        messages(&err, Path::new("/")),
        [
            "m.json:2:29: agents.a.bottle: `bottle` is empty; name the bottle this agent runs in\n  hint: the bottles are `dev`"
        ]
    );
}

#[test]
fn usable_leaves_out_broken_entries_and_the_agents_that_need_them() {
    let t = tempfile::tempdir().unwrap();
    let (home, project) = home_and_repo(&t);
    write(
        &home.join(MANIFEST_FILE),
        r#"{
  "bottles": {"shared": {}, "shadowed": {}},
  "agents": {"from-home": {"bottle": "shadowed"}}
}"#,
    );
    write(
        &project.join(MANIFEST_FILE),
        r#"{
  "bottles": {
    "good": {"egress": {"allowlist": ["example.com"]}},
    "bad": {"runtime": "gvisor"},
    "shadowed": {"envv": {}}
  },
  "agents": {
    "ok": {"bottle": "good"},
    "on-home-bottle": {"bottle": "shared"},
    "on-bad": {"bottle": "bad"},
    "typo": {"bottle": "god"},
    "wrong-key": {"bottle": "good", "promt": "x"}
  }
}"#,
    );
    let usable = load_usable(&opts(&project, &home)).unwrap();
    let agents: Vec<&str> = usable.manifest.agents.keys().map(String::as_str).collect();
    assert_eq!(agents, ["ok", "on-home-bottle"]);
    let bottles: Vec<&str> = usable.manifest.bottles.keys().map(String::as_str).collect();
    // The project's broken `shadowed` replaces the home one; it does not fall back.
    assert_eq!(bottles, ["good", "shared"]);
    let left_out: Vec<(&str, usize)> = usable
        .left_out
        .iter()
        .map(|l| (l.agent.as_str(), l.errors.0.len()))
        .collect();
    assert_eq!(
        left_out,
        [
            ("from-home", 1),
            ("on-bad", 1),
            ("typo", 1),
            ("wrong-key", 1)
        ]
    );
    let why = |name: &str| {
        let left_out = usable.left_out.iter().find(|l| l.agent == name).unwrap();
        messages(&left_out.errors, t.path()).join("\n")
    };
    assert!(
        why("on-bad").contains("bottles.bad.runtime: unknown runtime"),
        "{}",
        why("on-bad")
    );
    assert!(
        why("from-home").contains("bottles.shadowed.envv"),
        "{}",
        why("from-home")
    );
    assert!(why("typo").contains("agents.typo.bottle: no bottle named `god`"));
    assert!(why("wrong-key").contains("agents.wrong-key.promt"));
    // The strict load refuses the same files, with the same errors.
    let strict = load(&opts(&project, &home)).unwrap_err();
    assert_eq!(strict, usable.errors);
}

#[test]
fn usable_trusts_nothing_when_a_file_does_not_parse() {
    let t = tempfile::tempdir().unwrap();
    let (home, project) = home_and_repo(&t);
    write(
        &home.join(MANIFEST_FILE),
        r#"{"bottles": {"b": {}}, "agents": {"a": {"bottle": "b"}}}"#,
    );
    // The project may define `a` again, narrower: unknown until it parses.
    write(&project.join(MANIFEST_FILE), r#"{"agents": {"a": }"#);
    let errors = load_usable(&opts(&project, &home)).unwrap_err();
    assert_eq!(errors.0.len(), 1);
    assert_eq!(errors.0[0].entry, None);
    write(
        &project.join(MANIFEST_FILE),
        r#"{"agents": [], "extra": 1}"#,
    );
    assert!(load_usable(&opts(&project, &home)).is_err());
}

#[test]
fn workspaces_read_true_or_an_object_and_bad_ones_say_where() {
    let t = tempfile::tempdir().unwrap();
    let (home, repo) = home_and_repo(&t);
    write(
        &repo.join(MANIFEST_FILE),
        r#"{ "bottles": { "b": {} }, "agents": {
            "here": { "bottle": "b", "workspace": true },
            "none": { "bottle": "b", "workspace": false },
            "full": { "bottle": "b", "workspace": {
                "repo": "~/code/app", "base": "main", "uncommitted": true, "include": [".env", "conf/"] } } } }"#,
    );
    let m = load(&opts(&repo, &home)).unwrap();
    let here = m.agents["here"].workspace.as_ref().unwrap();
    assert_eq!((here.repo.as_ref(), here.base.as_str()), (None, "HEAD"));
    assert!(m.agents["none"].workspace.is_none());
    let full = m.agents["full"].workspace.as_ref().unwrap();
    assert_eq!(full.repo, Some(home.join("code/app")));
    assert_eq!(full.base, "main");
    assert!(full.uncommitted);
    assert_eq!(full.include, [".env", "conf"]);

    write(
        &repo.join(MANIFEST_FILE),
        r#"{ "bottles": { "b": {} }, "agents": { "a": { "bottle": "b", "workspace": {
            "base": "--upload-pack=x", "uncommitted": "yes", "include": ["../up", ".git/config", ".env", ".env"], "branch": "x" } } } }"#,
    );
    let errors = messages(&load(&opts(&repo, &home)).unwrap_err(), t.path());
    let all = errors.join("\n");
    for expected in [
        "agents.a.workspace.base",
        "is not a revision",
        "agents.a.workspace.uncommitted",
        "agents.a.workspace.include[0]",
        "leaves the repository",
        "agents.a.workspace.include[1]",
        "inside `.git`",
        "agents.a.workspace.include[3]",
        "listed twice",
        "unknown key `branch` in a workspace",
    ] {
        assert!(all.contains(expected), "{expected:?} not in:\n{all}");
    }
}

#[test]
fn a_bottle_names_the_docker_context_it_runs_on() {
    let t = tempfile::tempdir().unwrap();
    let f = write(
        &t.path().join("m.json"),
        r#"{"bottles": {"far": {"context": "big-box"}, "near": {}},
            "agents": {"a": {"bottle": "far"}}}"#,
    );
    let m = load::load_files(&[f], None).unwrap();
    assert_eq!(m.bottles["far"].context.as_deref(), Some("big-box"));
    assert_eq!(m.bottles["near"].context, None);
    for (bad, col) in [
        (r#""-H ssh://x""#, 33),
        (r#""a/b""#, 33),
        ("3", 33),
        (r#""x""#, 33),
    ] {
        let f = write(
            &t.path().join("bad.json"),
            &format!(r#"{{"bottles": {{"far": {{"context": {bad}}}}}, "agents": {{}}}}"#),
        );
        let err = load::load_files(&[f], None).unwrap_err();
        let text = messages(&err, t.path()).join("\n");
        assert!(
            text.starts_with(&format!("T/bad.json:1:{col}: bottles.far.context: ")),
            "{bad}: {text}"
        );
        if bad != "3" {
            assert!(text.contains("docker context ls"), "{text}");
        }
    }
}
