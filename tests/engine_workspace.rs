//! Workspaces on the real engine: the user's repository goes into a bottle
//! as a copy without any of the host's git config, and the agent's work comes
//! back as one branch, the user's working tree, index, HEAD and other refs
//! byte for byte as they were. Hostile bottles (crafted paths, extra refs, a
//! huge bundle, a branch named to overwrite one of the user's) are refused
//! with the reason, and leave the repository as it was.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should stop the test where it happened

mod common;
mod probe;

use std::path::{Path, PathBuf};
use std::process::Command;

use claude_bottle::docker::bottle::{self, Bottle};
use claude_bottle::docker::container::exec_collect;
use claude_bottle::docker::labels;
use claude_bottle::docker::workspace::{self, CollectError, CollectTarget};
use claude_bottle::manifest::WorkspaceSpec;
use claude_bottle::workspace::{Located, WorkspaceError, locate};

/// git on the host, in `dir`, with the test's fixed identity; its output.
fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=Host User",
            "-c",
            "user.email=host@example.test",
        ])
        .args(args)
        .output()
        .expect("run git");
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A repository with history, uncommitted changes, an ignored `.env`, and
/// config and hooks that must never reach a bottle or be run by a collect.
fn host_repository(root: &Path) -> PathBuf {
    let repo = root.join("project");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    for (file, text) in [
        ("a.txt", "one\n"),
        ("b.txt", "two\n"),
        ("gone.txt", "to be deleted\n"),
    ] {
        std::fs::write(repo.join(file), text).unwrap();
        git(&repo, &["add", file]);
        git(&repo, &["commit", "-q", "-m", &format!("add {file}")]);
    }
    std::fs::write(repo.join(".gitignore"), ".env\n").unwrap();
    git(&repo, &["add", ".gitignore"]);
    git(&repo, &["commit", "-q", "-m", "ignore .env"]);
    git(&repo, &["tag", "v1"]);
    // Uncommitted: a change, a new file, a deletion; and the ignored secret.
    std::fs::write(repo.join("a.txt"), "one, changed on the host\n").unwrap();
    std::fs::write(repo.join("new.txt"), "new on the host\n").unwrap();
    std::fs::remove_file(repo.join("gone.txt")).unwrap();
    std::fs::write(repo.join(".env"), "API_KEY=from-the-host-env-file\n").unwrap();
    // What must stay on the host: credentials, a token in a remote URL, an
    // include, a filter and hooks that leave a mark when run.
    let marks = root.join("marks");
    std::fs::create_dir(&marks).unwrap();
    for (key, value) in [
        ("credential.helper", "store --file=/tmp/host-credentials"),
        (
            "remote.origin.url",
            "https://host-user:host-secret-token@git.example.test/p.git",
        ),
        ("includeIf.gitdir:/.path", "/etc/host-only.gitconfig"),
        (
            "filter.evil.smudge",
            &format!("touch {}/filter; cat", marks.display()),
        ),
        (
            "filter.evil.clean",
            &format!("touch {}/filter; cat", marks.display()),
        ),
    ] {
        git(&repo, &["config", key, value]);
    }
    for hook in [
        "reference-transaction",
        "post-checkout",
        "post-merge",
        "pre-auto-gc",
    ] {
        let path = repo.join(".git/hooks").join(hook);
        std::fs::write(
            &path,
            format!("#!/bin/sh\ntouch {}/{hook}\n", marks.display()),
        )
        .unwrap();
        Command::new("chmod")
            .arg("755")
            .arg(&path)
            .status()
            .unwrap();
    }
    repo
}

/// Everything of the host repository a collect must leave alone, but `except`.
fn fingerprint(repo: &Path, except: &str) -> String {
    let refs: String = git(repo, &["for-each-ref", "--format=%(refname) %(objectname)"])
        .lines()
        .filter(|l| !l.starts_with(&format!("refs/heads/{except} ")))
        .fold(String::new(), |acc, l| acc + l + "\n");
    let read = |p: &str| std::fs::read(repo.join(".git").join(p)).unwrap_or_default();
    format!(
        "status:\n{}\nrefs:\n{refs}\nHEAD: {:?}\nindex: {} bytes, {:x?}\nstash: {}",
        git(repo, &["status", "--porcelain=v1", "-uall"]),
        String::from_utf8_lossy(&read("HEAD")),
        read("index").len(),
        sha(&read("index")),
        git(repo, &["stash", "list"]),
    )
}

fn sha(bytes: &[u8]) -> String {
    use sha2::Digest as _;
    format!("{:x}", sha2::Sha256::digest(bytes))
}

struct Launched {
    engine: claude_bottle::docker::engine::Engine,
    bottle: Bottle,
    located: Located,
    _cleanup: probe::Cleanup,
}

impl Launched {
    async fn new(name: &str, repo: &Path, spec: &WorkspaceSpec) -> Self {
        let engine = common::engine().await;
        let settings = common::launch_settings().await;
        let agent = probe::unique(name);
        let mut cleanup = probe::Cleanup::default();
        cleanup.label(&format!("{}={agent}", labels::AGENT));
        let located = locate(spec, repo).unwrap();
        let resolved = common::resolved_agent(&agent, &["api.anthropic.com"]);
        let bottle = bottle::launch_with_workspace(
            &engine,
            &resolved,
            &[],
            &settings,
            Some(&located),
            &mut |_| {},
        )
        .await
        .unwrap();
        Self {
            engine,
            bottle,
            located,
            _cleanup: cleanup,
        }
    }

    /// A shell script run in the bottle as the agent, in its working folder.
    async fn agent(&self, script: &str) -> String {
        let out = exec_collect(
            &self.engine,
            &self.bottle.agent_container,
            Some("1000:1000"),
            &["bash", "-c", script],
            vec![],
        )
        .await
        .unwrap();
        assert_eq!(out.exit_code, 0, "{script}: {out:?}");
        out.stdout
    }

    fn branch(&self) -> String {
        claude_bottle::workspace::branch_name(&self.bottle.agent, &self.bottle.session)
    }

    async fn collect(
        &self,
        branch: &str,
        max_bytes: u64,
    ) -> Result<workspace::Collected, CollectError> {
        let target = CollectTarget {
            repo: self.located.repo.clone(),
            base: self.located.base.clone(),
            branch: branch.to_owned(),
            max_bytes,
        };
        workspace::collect(
            &self.engine,
            &self.bottle.agent_container,
            &self.bottle.agent,
            &target,
        )
        .await
    }
}

fn spec(uncommitted: bool, include: &[&str]) -> WorkspaceSpec {
    WorkspaceSpec {
        repo: None,
        base: "HEAD".into(),
        uncommitted,
        include: include.iter().map(|s| (*s).to_owned()).collect(),
        pos: claude_bottle::manifest::json::Pos::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[allow(clippy::too_many_lines)] // one story: in, work, out, again
async fn the_repository_goes_in_bare_of_host_config_and_the_work_comes_back_as_a_branch() {
    let root = tempfile::tempdir().unwrap();
    let repo = host_repository(root.path());
    let b = Launched::new("ws", &repo, &spec(true, &[".env"])).await;
    let branch = b.branch();

    // In the bottle: the copy is claude's working folder, on the agent's
    // branch, with the history, the uncommitted changes and the .env.
    let seen = b
        .agent(
            "pwd; git rev-parse --abbrev-ref HEAD; git log --format=%s | tr '\\n' '|'; echo; \
             cat a.txt .env; test -e gone.txt && echo gone-is-there; git status --porcelain; \
             stat -c '%u %a' a.txt .git/config",
        )
        .await;
    for expected in [
        "/home/agent/work\n",
        &format!("{branch}\n"),
        "ignore .env|add gone.txt|add b.txt|add a.txt|",
        "one, changed on the host\n",
        "API_KEY=from-the-host-env-file\n",
        " M a.txt\n",
        " D gone.txt\n",
        "?? new.txt\n",
        "1000 644\n",
    ] {
        assert!(seen.contains(expected), "{expected:?} not in:\n{seen}");
    }
    assert!(
        !seen.contains("gone-is-there") && !seen.contains(".env\n"),
        "{seen}"
    );
    // Nothing of the host's git config, remote, hooks or tags.
    let config = b
        .agent("git config --list --show-origin; git remote -v; ls -A .git/hooks 2>&1; git tag; find .git -type f -perm -u+x")
        .await;
    for secret in [
        "credential",
        "host-secret-token",
        "example.test",
        "includeif",
        "filter.evil",
        "reference-transaction",
        "v1",
    ] {
        assert!(
            !config.to_lowercase().contains(secret),
            "{secret:?} reached the bottle:\n{config}"
        );
    }
    assert!(
        config.contains("user.name=") && config.contains("(claude-bottle)"),
        "{config}"
    );

    // The agent commits one change and leaves another uncommitted (with a
    // filter attribute the host repository defines: collecting runs none).
    b.agent(
        "echo 'two, by the agent' > b.txt && git commit -qam 'agent: b.txt' && \
         echo 'work in progress' > wip.txt && printf '* filter=evil\\n' > .gitattributes",
    )
    .await;
    let before = fingerprint(&repo, &branch);
    let collected = b.collect(&branch, 64 << 20).await.unwrap();
    assert_eq!(
        fingerprint(&repo, &branch),
        before,
        "the host repository changed"
    );
    assert_eq!(collected.imported.commits, 2);
    assert!(!collected.imported.moved);
    let log = git(
        &repo,
        &[
            "log",
            "--format=%s",
            &format!("{}..{branch}", b.located.base),
        ],
    );
    assert!(
        log.starts_with("Uncommitted work in") && log.contains("agent: b.txt"),
        "{log}"
    );
    let files = git(&repo, &["ls-tree", "-r", "--name-only", &branch]);
    for (file, present) in [
        ("wip.txt", true),
        ("new.txt", true),
        (".gitattributes", true),
        ("gone.txt", false),
        (".env", false),
    ] {
        assert_eq!(
            files.lines().any(|l| l == file),
            present,
            "{file} in {files}"
        );
    }
    assert_eq!(
        git(&repo, &["show", &format!("{branch}:b.txt")]),
        "two, by the agent\n"
    );
    let marks: Vec<_> = std::fs::read_dir(root.path().join("marks"))
        .unwrap()
        .collect();
    assert!(
        marks.is_empty(),
        "a hook or filter of the host ran: {marks:?}"
    );

    // Collected work is not offered again; new work moves the branch on.
    let state = workspace::state(&b.engine, &b.bottle.agent_container)
        .await
        .unwrap()
        .unwrap();
    assert!(!state.has_uncollected_work(), "{state:?}");
    assert!(matches!(
        b.collect(&branch, 64 << 20).await,
        Err(CollectError::Nothing(_))
    ));
    b.agent("echo more >> wip.txt").await;
    let again = b.collect(&branch, 64 << 20).await.unwrap();
    assert!(again.imported.moved);
    assert_eq!(fingerprint(&repo, &branch), before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_bottles_are_refused_and_the_repository_stays_as_it_was() {
    let root = tempfile::tempdir().unwrap();
    let repo = host_repository(root.path());
    let b = Launched::new("wsx", &repo, &spec(false, &[])).await;
    let branch = b.branch();
    let before = fingerprint(&repo, "");
    let no_branch =
        |repo: &Path, name: &str| git(repo, &["branch", "--list", name]).trim().is_empty();

    // Crafted paths: a tree entry `..` and one `.git`, made with git's own
    // plumbing as HEAD of the agent's branch.
    for name in ["..", ".git", ".GIT"] {
        b.agent(&format!(
            "blob=$(echo x | git hash-object -w --stdin) && \
             tree=$(printf '100644 blob %s\\t{name}\\n' $blob | git mktree) && \
             git reset -q --soft $(git commit-tree -p HEAD -m crafted $tree)"
        ))
        .await;
        let refused = b.collect(&branch, 64 << 20).await.unwrap_err().to_string();
        assert!(refused.contains("strict checks"), "{name}: {refused}");
        assert!(no_branch(&repo, &branch), "{name}: the branch was made");
        assert_eq!(fingerprint(&repo, ""), before, "{name}");
        b.agent("git reset -q --hard refs/claude-bottle/base").await;
    }

    // Refs the bottle adds (a `main` of its own, a tag, others) are not taken:
    // only the agent's work, under the name this side chooses.
    b.agent(
        "echo agent > c.txt && git add c.txt && git commit -qm 'agent: c' && \
         git update-ref refs/heads/main HEAD && git tag -f v1 HEAD && git tag v9 HEAD && \
         git update-ref refs/remotes/origin/main HEAD",
    )
    .await;
    // A name that would overwrite the user's checked-out branch, or is no name.
    for bad in ["main", "../main", "-f", "a..b"] {
        let refused = b.collect(bad, 64 << 20).await.unwrap_err();
        assert!(
            matches!(
                refused,
                CollectError::Workspace(WorkspaceError::BadBranch { .. })
            ),
            "{bad}: {refused}"
        );
    }
    assert_eq!(fingerprint(&repo, ""), before);
    // An existing branch the work does not build on is not moved.
    let theirs = git(
        &repo,
        &["commit-tree", "-p", "HEAD", "-m", "theirs", "HEAD^{tree}"],
    );
    git(&repo, &["branch", "theirs", theirs.trim()]);
    let refused = b.collect("theirs", 64 << 20).await.unwrap_err().to_string();
    assert!(refused.contains("does not build on it"), "{refused}");
    git(&repo, &["branch", "-D", "theirs"]);
    let collected = b.collect(&branch, 64 << 20).await.unwrap();
    assert_eq!(collected.imported.commits, 1);
    assert_eq!(
        fingerprint(&repo, &branch),
        before,
        "main, tags or others moved"
    );
    assert!(git(&repo, &["tag"]).trim() == "v1");

    // A bundle over the cap is refused before it is read.
    b.agent("head -c 3000000 /dev/urandom > big.bin && git add big.bin && git commit -qm big")
        .await;
    let refused = b
        .collect("bottle/big", 1 << 20)
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.contains("larger than the cap of 1 MiB"),
        "{refused}"
    );
    assert!(no_branch(&repo, "bottle/big"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_launch_with_a_bad_workspace_says_what_to_fix_and_makes_nothing() {
    let root = tempfile::tempdir().unwrap();
    let repo = host_repository(root.path());
    let not_repo = root.path().join("plain");
    std::fs::create_dir(&not_repo).unwrap();
    let err = locate(&spec(false, &[]), &not_repo)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("is not in a git repository") && err.contains("workspace.repo"),
        "{err}"
    );
    let mut bad_base = spec(false, &[]);
    bad_base.base = "no-such-branch".into();
    let err = locate(&bad_base, &repo).unwrap_err().to_string();
    assert!(err.contains("`no-such-branch` is not a commit"), "{err}");
    let mut old_base = spec(true, &[]);
    old_base.base = "HEAD~1".into();
    let err = locate(&old_base, &repo).unwrap_err().to_string();
    assert!(err.contains("set `base` to HEAD"), "{err}");
    let err = locate(&spec(false, &["missing.env"]), &repo)
        .unwrap_err()
        .to_string();
    assert!(
        err.contains("`missing.env`") && err.contains("is not in"),
        "{err}"
    );
    let err = locate(&spec(false, &["a.txt"]), &repo)
        .unwrap_err()
        .to_string();
    assert!(err.contains("is tracked by git"), "{err}");
}

/// `claude-bottle` with the test images, in `dir`, stdin from `input`.
fn cli(dir: &Path, manifest: &Path, args: &[&str]) -> (String, i32) {
    let out = Command::new(env!("CARGO_BIN_EXE_claude-bottle"))
        .arg("--manifest")
        .arg(manifest)
        .args(args)
        .current_dir(dir)
        .envs(common::test_image_env())
        .env("CLAUDE_BOTTLE_OAUTH_TOKEN", "test-token-not-real")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run claude-bottle");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (text, out.status.code().unwrap_or(-1))
}

#[test]
fn run_takes_the_workspace_and_gives_a_branch_back() {
    let root = tempfile::tempdir().unwrap();
    let repo = host_repository(root.path());
    let agent = probe::unique("wsrun");
    let _cleanup = {
        let mut c = probe::Cleanup::default();
        c.label(&format!("{}={agent}", labels::AGENT));
        c
    };
    let manifest = root.path().join("claude-bottle.json");
    let write = |repo_value: &str| {
        let text = serde_json::json!({
            "bottles": { "b": {} },
            "agents": { &agent: { "bottle": "b", "workspace": {
                "repo": repo_value, "uncommitted": true, "include": [".env"]
            } } }
        });
        std::fs::write(&manifest, serde_json::to_string_pretty(&text).unwrap()).unwrap();
    };
    write("project");
    let (shown, code) = cli(root.path(), &manifest, &["show", &agent]);
    assert_eq!(code, 0, "{shown}");
    assert!(
        shown.contains("workspace") && shown.contains("with uncommitted changes"),
        "{shown}"
    );

    // --collect: the branch, without a question.
    let commit = "echo by-the-agent > agent.txt && git add agent.txt && git commit -qm agent";
    let (out, code) = cli(
        root.path(),
        &manifest,
        &[
            "run",
            &agent,
            "--yes",
            "--collect",
            "--",
            "bash",
            "-c",
            commit,
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("Collected 2 commits") && out.contains("made branch bottle/"),
        "{out}"
    );
    let branches = || git(&repo, &["branch", "--list", &format!("bottle/{agent}/*")]);
    assert_eq!(branches().lines().count(), 1);

    // No terminal to ask on: the work is collected rather than lost.
    let (out, code) = cli(
        root.path(),
        &manifest,
        &[
            "run",
            &agent,
            "--yes",
            "--",
            "bash",
            "-c",
            "echo more > more.txt",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Collected 1 commit"), "{out}");
    assert_eq!(branches().lines().count(), 2);
    // --discard drops it, said by the flag; nothing new.
    let (out, code) = cli(
        root.path(),
        &manifest,
        &[
            "run",
            &agent,
            "--yes",
            "--discard",
            "--",
            "bash",
            "-c",
            "echo x > x.txt",
        ],
    );
    assert_eq!(code, 0, "{out}");
    assert_eq!(branches().lines().count(), 2, "{out}");

    // On a terminal it asks; "n" drops the work.
    let script = format!(
        "'{}' --manifest '{}' run {agent} --yes -- bash -c 'echo y > y.txt'",
        env!("CARGO_BIN_EXE_claude-bottle"),
        manifest.display()
    );
    let mut asked = Command::new("script")
        .args(["-qec", &script, "/dev/null"])
        .current_dir(root.path())
        .envs(common::test_image_env())
        .env("CLAUDE_BOTTLE_OAUTH_TOKEN", "test-token-not-real")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = asked.stdin.take().unwrap();
    let mut stdout = asked.stdout.take().unwrap();
    let seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let reader = {
        let seen = std::sync::Arc::clone(&seen);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = std::io::Read::read(&mut stdout, &mut buf) {
                if n == 0 {
                    break;
                }
                seen.lock()
                    .unwrap()
                    .push_str(&String::from_utf8_lossy(&buf[..n]));
            }
        })
    };
    common::wait::until(
        "the question",
        std::time::Duration::from_secs(120),
        std::time::Duration::from_millis(200),
        || {
            let text = seen.lock().unwrap().clone();
            if text.contains("[Y/n]") {
                Ok(())
            } else {
                Err(text)
            }
        },
    );
    std::io::Write::write_all(&mut stdin, b"n\n").unwrap();
    drop(stdin);
    assert!(asked.wait().unwrap().success());
    reader.join().unwrap();
    let text = seen.lock().unwrap().clone();
    assert!(
        text.contains("not collected. Collect them as branch"),
        "{text}"
    );
    assert!(
        text.contains("the agent's work was not collected"),
        "{text}"
    );
    assert_eq!(branches().lines().count(), 2);
    probe::assert_nothing_labelled(&format!("{}={agent}", labels::AGENT), "the runs");

    // A workspace that is no repository: where, what and the fix; nothing made.
    std::fs::create_dir(root.path().join("plain")).unwrap();
    write("plain");
    let (out, code) = cli(
        root.path(),
        &manifest,
        &["run", &agent, "--yes", "--", "true"],
    );
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("claude-bottle.json:8:20: ")
            && out.contains(&format!("agents.{agent}: workspace: ")),
        "{out}"
    );
    assert!(out.contains("is not in a git repository"), "{out}");
    probe::assert_nothing_labelled(&format!("{}={agent}", labels::AGENT), "a refused launch");
}

#[test]
fn gc_collects_the_work_a_killed_run_left_before_removing_its_bottle() {
    let root = tempfile::tempdir().unwrap();
    let repo = host_repository(root.path());
    let agent = probe::unique("wsgc");
    let label = format!("{}={agent}", labels::AGENT);
    let _cleanup = {
        let mut c = probe::Cleanup::default();
        c.label(&label);
        c
    };
    let manifest = root.path().join("claude-bottle.json");
    let text = serde_json::json!({
        "bottles": { "b": {} },
        "agents": { &agent: { "bottle": "b", "workspace": { "repo": "project" } } }
    });
    std::fs::write(&manifest, text.to_string()).unwrap();
    let mut run = Command::new(env!("CARGO_BIN_EXE_claude-bottle"))
        .arg("--manifest")
        .arg(&manifest)
        .args(["run", &agent, "--yes", "--", "bash", "-c"])
        .arg("echo unsaved > unsaved.txt && sleep 600")
        .current_dir(root.path())
        .envs(common::test_image_env())
        .env("CLAUDE_BOTTLE_OAUTH_TOKEN", "test-token-not-real")
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    common::wait::until(
        "the agent's file",
        std::time::Duration::from_secs(120),
        std::time::Duration::from_millis(200),
        || {
            let agents = probe::labelled(&label).0;
            let written = agents.iter().any(|c| {
                probe::docker(&["exec", c, "test", "-f", "/home/agent/work/unsaved.txt"])
                    .status
                    .success()
            });
            if written {
                Ok(())
            } else {
                Err(agents.join(", "))
            }
        },
    );
    run.kill().unwrap();
    run.wait().unwrap();
    let (out, code) = cli(root.path(), &manifest, &["gc", "--yes"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("Collected 1 commit"), "{out}");
    let branch = git(&repo, &["branch", "--list", &format!("bottle/{agent}/*")]);
    let files = git(&repo, &["ls-tree", "-r", "--name-only", branch.trim()]);
    assert!(files.lines().any(|f| f == "unsaved.txt"), "{files}");
    probe::assert_nothing_labelled(&label, "gc");
}
