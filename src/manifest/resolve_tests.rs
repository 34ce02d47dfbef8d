//! Tests of resolving an agent against a loaded manifest.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeMap;
use std::fs;
use std::path::Path;

use super::hostkey::tests::ED25519;
use super::resolve::{DEFAULT_ALLOWLIST, ResolveContext, resolve};
use super::*;

fn manifest(dir: &Path, text: &str) -> Manifest {
    let f = dir.join("m.json");
    fs::write(&f, text).unwrap();
    load::load_files(&[f], Some(dir)).unwrap()
}

fn ctx(project: &Path, home: &Path, env: &[(&str, &str)]) -> ResolveContext {
    ResolveContext {
        project_dir: Some(project.to_path_buf()),
        home: Some(home.to_path_buf()),
        host_env: env
            .iter()
            .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
            .collect::<BTreeMap<_, _>>(),
    }
}

fn skill(base: &Path, name: &str) {
    let d = base.join(".claude/skills").join(name);
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join("SKILL.md"), "# skill").unwrap();
}

const ENV_MANIFEST: &str = r#"{"bottles": {"dev": {"env": {
    "LIT": "plain", "GH": "${GH_TOKEN}", "ASK": "?Gitea token", "AUTH": "Bearer ${GH_TOKEN} ${OTHER}", "Q": "??x"
}}}, "agents": {"coder": {"bottle": "dev"}}}"#;

#[test]
fn env_values_resolve_from_literal_host_and_prompt() {
    let t = tempfile::tempdir().unwrap();
    let m = manifest(t.path(), ENV_MANIFEST);
    let r = resolve(
        &m,
        "coder",
        &ctx(t.path(), t.path(), &[("GH_TOKEN", "ghp"), ("OTHER", "o")]),
    )
    .unwrap();
    let got: Vec<(&str, &ResolvedEnvValue)> =
        r.env.iter().map(|e| (e.name.as_str(), &e.value)).collect();
    let v = |s: &str| ResolvedEnvValue::Value(s.to_string());
    assert_eq!(
        got,
        [
            ("LIT", &v("plain")),
            ("GH", &v("ghp")),
            ("ASK", &ResolvedEnvValue::Ask("Gitea token".into())),
            ("AUTH", &v("Bearer ghp o")),
            ("Q", &v("?x")),
        ]
    );
    assert_eq!(r.env[1].source, EnvSource::HostVar("GH_TOKEN".into()));
}

#[test]
fn a_missing_host_variable_names_the_variable_the_entry_and_the_agent() {
    let t = tempfile::tempdir().unwrap();
    let m = manifest(t.path(), ENV_MANIFEST);
    let err = resolve(&m, "coder", &ctx(t.path(), t.path(), &[])).unwrap_err();
    let text = err
        .to_string()
        .replace(&t.path().display().to_string(), "T");
    assert_eq!(
        text,
        "T/m.json:2:27: bottles.dev.env.GH: agent `coder` needs host variable `GH_TOKEN` for env `GH`, but it is not set\n  \
         hint: export it before starting claude-bottle, or make the value `?question` to be asked at launch\n\
         T/m.json:2:73: bottles.dev.env.AUTH: agent `coder` needs host variables `GH_TOKEN`, `OTHER` for env `AUTH`, but they are not set\n  \
         hint: export them before starting claude-bottle, or make the value `?question` to be asked at launch"
    );
}

#[test]
fn skills_are_found_in_the_project_first_then_home() {
    let t = tempfile::tempdir().unwrap();
    let (project, home) = (t.path().join("p"), t.path().join("h"));
    skill(&project, "both");
    skill(&home, "both");
    skill(&home, "home-only");
    let m = manifest(
        t.path(),
        r#"{"bottles": {"b": {}}, "agents": {"a": {"bottle": "b", "skills": ["both", "home-only"]}}}"#,
    );
    let r = resolve(&m, "a", &ctx(&project, &home, &[])).unwrap();
    assert_eq!(
        r.skills,
        [
            Skill {
                name: "both".into(),
                dir: project.join(".claude/skills/both")
            },
            Skill {
                name: "home-only".into(),
                dir: home.join(".claude/skills/home-only")
            },
        ]
    );
}

#[test]
fn a_missing_skill_says_both_places_it_looked() {
    let t = tempfile::tempdir().unwrap();
    let m = manifest(
        t.path(),
        r#"{"bottles": {"b": {}}, "agents": {"a": {"bottle": "b", "skills": ["nope"]}}}"#,
    );
    let err = resolve(&m, "a", &ctx(&t.path().join("p"), &t.path().join("h"), &[])).unwrap_err();
    assert_eq!(
        err.to_string()
            .replace(&t.path().display().to_string(), "T"),
        "T/m.json:1:67: agents.a.skills[0]: skill `nope` not found; looked for T/p/.claude/skills/nope/SKILL.md and T/h/.claude/skills/nope/SKILL.md"
    );
}

#[test]
fn an_unknown_agent_suggests_and_lists_the_agents() {
    let t = tempfile::tempdir().unwrap();
    let m = manifest(
        t.path(),
        r#"{"bottles": {"b": {}}, "agents": {"coder": {"bottle": "b"}, "ops": {"bottle": "b"}}}"#,
    );
    let c = ctx(t.path(), t.path(), &[]);
    assert_eq!(
        resolve(&m, "codr", &c).unwrap_err().to_string(),
        "no agent named `codr`\n  hint: did you mean `coder`? (the agents are `coder`, `ops`)"
    );
    assert_eq!(
        resolve(&m, "zzz", &c).unwrap_err().to_string(),
        "no agent named `zzz`\n  hint: the agents are `coder`, `ops`"
    );
}

#[test]
fn the_allowlist_is_the_sorted_union_with_every_origin() {
    use AllowOrigin::{Default as D, Manifest as M, Ssh as S};
    let t = tempfile::tempdir().unwrap();
    fs::write(t.path().join("key"), "k").unwrap();
    let text = format!(
        r#"{{"bottles": {{"b": {{
            "egress": {{"allowlist": ["github.com", "API.anthropic.com", "Git.Example.com."]}},
            "ssh": [{{"Host": "g", "Hostname": "git.example.com", "IdentityFile": "key",
                      "KnownHostKey": "git.example.com ssh-ed25519 {ED25519}"}}]
        }}}}, "agents": {{"a": {{"bottle": "b"}}}}}}"#
    );
    let m = manifest(t.path(), &text);
    let r = resolve(&m, "a", &ctx(t.path(), t.path(), &[])).unwrap();
    let got: Vec<(&str, &[AllowOrigin])> = r
        .allowlist
        .iter()
        .map(|e| (e.host.as_str(), e.origins.as_slice()))
        .collect();
    assert_eq!(
        got,
        [
            ("api.anthropic.com", &[D, M][..]),
            ("claude.ai", &[D][..]),
            ("console.anthropic.com", &[D][..]),
            ("git.example.com", &[M, S][..]),
            ("github.com", &[M][..]),
            ("platform.claude.com", &[D][..]),
            ("statsig.anthropic.com", &[D][..]),
        ]
    );
    assert_eq!(DEFAULT_ALLOWLIST.len(), 5);
}
