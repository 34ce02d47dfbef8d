//! Workspaces in the real dashboard, in tmux, on the real engine: two agents
//! on copies of one repository change the same file (the agents list marks
//! it), the diff pane shows the changes and a file's diff, `c` collects a
//! tab's work as a branch, `x` and tear-down-and-quit offer to collect what
//! is not collected yet. The agents are `sh`, typed into.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a broken fixture should fail the test loudly

mod common;
mod probe;
mod tmux;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tmux::{AgentsGuard, LAUNCH, Tmux, image_env};

const SOON: Duration = Duration::from_secs(60);

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(["-c", "user.name=Host", "-c", "user.email=host@example.test"])
        .args(args)
        .output()
        .unwrap();
    assert!(out.status.success(), "git {args:?}: {out:?}");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Types a command into the shown tab's agent, waits for `done` in its
/// output (written so the typed line does not hold it) and leaves its terminal.
fn in_agent(dashboard: &Tmux, command: &str, done: &str) {
    dashboard.keys(&["i"]);
    dashboard.type_text(command);
    dashboard.keys(&["Enter"]);
    dashboard.wait_for(done);
    dashboard.keys(&["C-]"]);
}

#[test]
fn two_agents_on_one_repository_are_compared_collected_and_offered_back() {
    let home = tempfile::tempdir().unwrap();
    let repo = home.path().join("project");
    std::fs::create_dir(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    std::fs::write(repo.join("shared.txt"), "as it was\n").unwrap();
    git(&repo, &["add", "shared.txt"]);
    git(&repo, &["commit", "-q", "-m", "start"]);
    let suffix = std::process::id();
    let (one, two) = (format!("wsone{suffix}"), format!("wstwo{suffix}"));
    let _cleanup = AgentsGuard(vec![one.clone(), two.clone()]);
    let manifest = home.path().join("claude-bottle.json");
    let text = format!(
        r#"{{ "bottles": {{ "plain": {{}} }}, "agents": {{
            "{one}": {{ "bottle": "plain", "workspace": true }},
            "{two}": {{ "bottle": "plain", "workspace": true }} }} }}"#
    );
    std::fs::write(&manifest, text).unwrap();
    let env = image_env(home.path());
    let args = format!("--manifest '{}'", manifest.display());
    // Started in the repository: `"workspace": true` means this one.
    let dashboard = Tmux::start("ws", &repo, &env, &args);

    dashboard.wait_for(&two);
    dashboard.launch_selected(&one);
    in_agent(
        &dashboard,
        "echo by-one > shared.txt && echo solo > one.txt && echo ONE-$((40+2))",
        "ONE-42",
    );
    dashboard.keys(&["j", "Enter"]);
    dashboard.wait_for("Launch?");
    dashboard.keys(&["y"]);
    dashboard.wait(&format!("{two} running"), LAUNCH, |s| {
        s.contains(&format!("{two} · plain · running")) && s.contains("$ ")
    });
    in_agent(
        &dashboard,
        "git branch --show-current && echo by-two >> shared.txt && echo TWO-$((40+2))",
        "TWO-42",
    );
    let shown = dashboard.screen();
    assert!(shown.contains(&format!("bottle/{two}/")), "{shown}");

    // Both changed shared.txt: the list says so, for each of them.
    dashboard.wait("the overlap", SOON, |s| {
        s.matches("1 file also changed").count() == 2
            && s.contains(&format!("by {one}"))
            && s.contains(&format!("by {two}"))
    });

    // The diff pane: the files against the base, then one file's diff.
    dashboard.keys(&["w"]);
    // (The terminal shows `shared.txt` too: wait for the pane's own row.)
    let files = dashboard.wait("the changed files", SOON, |s| {
        s.contains("changes against the base") && s.contains(&format!("also changed by {one}"))
    });
    let row = files
        .lines()
        .find(|l| l.contains("also changed by"))
        .unwrap_or_default();
    assert!(row.contains("+1") && row.contains("shared.txt"), "{files}");
    dashboard.keys(&["Enter"]);
    dashboard.wait("the file's diff", SOON, |s| {
        s.contains("+by-two") && s.contains("@@")
    });
    dashboard.keys(&["Escape"]);
    dashboard.wait_for("Enter: a file's diff");
    dashboard.keys(&["Escape"]);
    // (An Escape followed at once by a key reads as Alt and that key.)
    dashboard.wait("the pane closed", SOON, |s| {
        !s.contains("changes against the base")
    });

    // `c`: the tab's work becomes a branch; the user's checkout is untouched.
    dashboard.keys(&["c"]);
    dashboard.wait("collected", SOON, |s| s.contains("Collected 1 commit"));
    let branches = git(&repo, &["branch", "--list", "bottle/*"]);
    assert!(branches.contains(&format!("bottle/{two}/")), "{branches}");
    assert_eq!(git(&repo, &["status", "--porcelain"]), "");
    assert_eq!(
        std::fs::read_to_string(repo.join("shared.txt")).unwrap(),
        "as it was\n"
    );

    // More work, then `x`: the offer comes first; `c` collects and removes.
    in_agent(
        &dashboard,
        "echo later > later.txt && echo LATER-$((40+2))",
        "LATER-42",
    );
    dashboard.keys(&["x"]);
    dashboard.wait_for("Uncollected work");
    dashboard.keys(&["c"]);
    dashboard.wait(&format!("{two} removed"), SOON, |s| {
        s.contains(&format!("{two} removed"))
    });
    let two_branch = git(&repo, &["branch", "--list", &format!("bottle/{two}/*")]);
    let files = git(&repo, &["ls-tree", "-r", "--name-only", two_branch.trim()]);
    assert!(files.contains("later.txt"), "{files}");

    // Tear down and quit: the first agent's work is offered too.
    dashboard.keys(&["q"]);
    dashboard.wait_for("Tear down running bottles?");
    dashboard.keys(&["y"]);
    dashboard.wait_for("Uncollected work");
    dashboard.keys(&["c"]);
    let after = dashboard.wait("exit", SOON, |s| s.contains("MODE="));
    assert!(after.contains("EXITED=0"), "{after}");
    let one_branch = git(&repo, &["branch", "--list", &format!("bottle/{one}/*")]);
    let shared = git(
        &repo,
        &["show", &format!("{}:shared.txt", one_branch.trim())],
    );
    assert_eq!(shared, "by-one\n");
    assert_eq!(
        git(&repo, &["rev-parse", "--abbrev-ref", "HEAD"]).trim(),
        "main"
    );
    probe::assert_nothing_labelled(&format!("claude-bottle.agent={one}"), "quit");
}
