//! The real binary in tmux, driven as a person would: keys in, screen out.
//!
//! tmux must be installed; the launch test also needs the Docker engine and
//! builds its images locally first (`scripts/build-test-images.sh`,
//! `scripts/build-agent-test-base.sh`). Nothing here skips. Every test that
//! launches removes its agents' bottles when it ends, even when it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a broken fixture should fail the test loudly

mod common;
mod probe;
mod tmux;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tmux::{LAUNCH, NO_ENV, Tmux, image_env};

/// Context switches of every thread of a process so far.
fn context_switches(pid: &str) -> u64 {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task")).unwrap() {
        let status =
            std::fs::read_to_string(task.unwrap().path().join("status")).unwrap_or_default();
        total += status
            .lines()
            .filter(|l| l.contains("ctxt_switches"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    total
}

fn manifest(dir: &Path, agents: &[&str]) -> String {
    let agents: Vec<String> = agents
        .iter()
        .map(|a| format!(r#""{a}": {{ "bottle": "plain" }}"#))
        .collect();
    let text = format!(
        r#"{{ "bottles": {{ "plain": {{}} }}, "agents": {{ {} }} }}"#,
        agents.join(", ")
    );
    let path = dir.join("claude-bottle.json");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

#[test]
fn opens_lists_agents_shows_help_and_quits_restoring_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let path = manifest(dir.path(), &["alpha", "beta"]);
    let tmux = Tmux::start("help", dir.path(), NO_ENV, &format!("--manifest '{path}'"));
    let screen = tmux.wait_for("beta");
    assert!(
        screen.contains("alpha") && screen.contains("idle"),
        "{screen}"
    );
    // Idle means asleep: no timer redraws, no polling.
    std::thread::sleep(Duration::from_millis(500));
    let pid = tmux.dashboard_pid().to_string();
    let before = context_switches(&pid);
    std::thread::sleep(Duration::from_secs(3));
    let woke = context_switches(&pid) - before;
    assert!(woke <= 3, "the idle dashboard woke {woke} times in 3 s");
    tmux.keys(&["j"]);
    tmux.wait("beta selected", Duration::from_secs(5), |s| {
        s.contains("▶ beta")
    });
    tmux.keys(&["?"]);
    let help = tmux.wait_for("allow the selected denial's host");
    assert!(
        help.contains("Ctrl-]") && help.contains("back to the dashboard"),
        "{help}"
    );
    tmux.keys(&["Escape"]);
    tmux.wait("help closed", Duration::from_secs(5), |s| {
        !s.contains("back to the dashboard")
    });
    tmux.keys(&["q"]);
    let after = tmux.wait_for("MODE=");
    assert!(after.contains("EXITED=0"), "{after}");
    assert!(after.contains("MODE=cooked"), "raw mode left on:\n{after}");
    assert!(
        !after.contains("Agents"),
        "the alternate screen was left:\n{after}"
    );
}

#[test]
fn with_nothing_set_up_it_opens_and_says_how_to_fix_each_thing() {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().display().to_string();
    let env = [
        ("HOME", home.as_str()),
        ("DOCKER_HOST", "unix:///nonexistent/docker.sock"),
        ("CLAUDE_BOTTLE_OAUTH_TOKEN", ""),
    ];
    let tmux = Tmux::start("empty", dir.path(), &env, "");
    let screen = tmux.wait_for("No Docker engine");
    assert!(screen.contains("claude-bottle init"), "{screen}");
    assert!(screen.contains("claude setup-token"), "{screen}");
    assert!(screen.contains("DOCKER_HOST"), "{screen}");
    tmux.keys(&["Enter"]);
    tmux.wait_for("no manifest: run `claude-bottle init`");
    tmux.keys(&["q"]);
    assert!(tmux.wait_for("MODE=").contains("EXITED=0"));
}

#[test]
fn the_escape_key_setting_shows_in_help_and_a_refused_one_in_the_status_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = manifest(dir.path(), &["alpha"]);
    let args = format!("--manifest '{path}'");
    let tmux = Tmux::start(
        "esc",
        dir.path(),
        &[("CLAUDE_BOTTLE_ESCAPE_KEY", "ctrl-g")],
        &args,
    );
    tmux.wait_for("alpha");
    tmux.keys(&["?"]);
    let help = tmux.wait_for("back to the dashboard");
    assert!(
        help.contains("Ctrl-G") && !help.contains("Ctrl-]"),
        "{help}"
    );
    drop(tmux);
    let tmux = Tmux::start(
        "badesc",
        dir.path(),
        &[("CLAUDE_BOTTLE_ESCAPE_KEY", "ctrl-c")],
        &args,
    );
    tmux.wait_for("CLAUDE_BOTTLE_ESCAPE_KEY=\"ctrl-c\" would take Ctrl-C away");
    tmux.keys(&["?"]);
    assert!(tmux.wait_for("back to the dashboard").contains("Ctrl-]"));
}

/// Removes the bottles of these agents when the test ends, failed or not
/// (declare it before the `Tmux`, so the dashboard is gone first).
fn remove_bottles_of(agents: &[&str]) -> probe::Cleanup {
    let mut cleanup = probe::Cleanup::default();
    for agent in agents {
        cleanup.label(&format!("claude-bottle.agent={agent}"));
    }
    cleanup
}

/// How long anything else on screen may take.
const SOON: Duration = Duration::from_secs(60);

impl Tmux {
    /// Selects the agent list's `nth` agent (from the top), launches it and
    /// waits for its shell prompt.
    fn launch(&self, nth: usize, agent: &str) {
        self.keys(&["Escape"]);
        for _ in 0..5 {
            self.keys(&["k"]);
        }
        for _ in 0..nth {
            self.keys(&["j"]);
        }
        self.keys(&["Enter"]);
        self.wait("the preflight", SOON, |s| s.contains("Launch?"));
        self.keys(&["y"]);
        self.wait(&format!("{agent} running"), LAUNCH, |s| {
            s.contains(&format!("{agent} · plain · running")) && s.contains("$ ")
        });
    }

    /// Types a command into the current tab's shell and comes back.
    fn run_in_terminal(&self, command: &str, done: &str) {
        self.keys(&["i"]);
        self.type_text(command);
        self.keys(&["Enter"]);
        self.wait(done, SOON, |s| s.contains(done));
        self.keys(&["C-]"]);
    }
}

#[test]
fn a_denial_shows_in_its_bottles_pane_is_allowed_and_saved_only_on_yes() {
    let dir = tempfile::tempdir().unwrap();
    let suffix = std::process::id();
    let (calm, curious) = (format!("calm{suffix}"), format!("curious{suffix}"));
    let path = manifest(dir.path(), &[&calm, &curious]);
    let original = std::fs::read_to_string(&path).unwrap();
    let env = image_env(dir.path());
    let _cleanup = remove_bottles_of(&[&calm, &curious]);
    let tmux = Tmux::start("deny", dir.path(), &env, &format!("--manifest '{path}'"));
    tmux.wait_for(&curious);
    tmux.wait_for_engine();
    tmux.launch(0, &calm);
    tmux.launch(1, &curious);

    // The second bottle asks for a host its allowlist lacks.
    tmux.run_in_terminal(
        "curl -s -o /dev/null -w 'code=%{http_code}\\n' http://denied.test/",
        "code=403",
    );
    tmux.keys(&["e"]);
    let blocked = "BLOCKED http://denied.test/";
    let screen = tmux.wait("the denial in the egress pane", SOON, |s| {
        s.contains(blocked)
    });
    assert!(
        screen.contains("domain not in allowlist: denied.test"),
        "{screen}"
    );
    // Not in the other bottle's pane.
    tmux.keys(&["1"]);
    let other = tmux.wait(&format!("tab {calm} shown"), SOON, |s| {
        s.contains(&format!("{calm} · plain · running")) && s.contains(" START ")
    });
    assert!(!other.contains("denied.test"), "{other}");
    tmux.keys(&["2"]);
    tmux.wait("back on the second tab", SOON, |s| s.contains(blocked));

    // Allow it: the newest row is the denial.
    tmux.keys(&["a"]);
    let offer = tmux.wait("the sidecar reloaded and the offer", SOON, |s| {
        s.contains(" RELOAD ") && s.contains("Save to the manifest?")
    });
    assert!(offer.contains("claude-bottle.json"), "{offer}");
    tmux.keys(&["n"]);
    tmux.wait("declined", SOON, |s| {
        s.contains("denied.test allowed for this bottle only")
    });
    assert_eq!(std::fs::read_to_string(&path).unwrap(), original);

    // Another denial, this time saved.
    tmux.run_in_terminal(
        "curl -s -o /dev/null -w 'again=%{http_code}\\n' http://denied2.test/",
        "again=403",
    );
    tmux.wait("the second denial", SOON, |s| {
        s.contains("BLOCKED http://denied2.test/")
    });
    tmux.keys(&["a"]);
    tmux.wait("the second offer", SOON, |s| {
        s.contains("Save to the manifest?") && s.contains("denied2.test is allowed")
    });
    tmux.keys(&["y"]);
    tmux.wait("saved", SOON, |s| s.contains("denied2.test added to"));
    let saved: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert_eq!(
        saved["bottles"]["plain"]["egress"]["allowlist"],
        serde_json::json!(["denied2.test"])
    );
    assert_eq!(
        saved["agents"],
        serde_json::from_str::<serde_json::Value>(&original).unwrap()["agents"]
    );

    tmux.keys(&["q"]);
    tmux.wait_for("Tear down running bottles?");
    tmux.keys(&["y"]);
    let after = tmux.wait("exit", Duration::from_secs(90), |s| s.contains("MODE="));
    assert!(after.contains("EXITED=0"), "{after}");
}

#[test]
fn the_real_claude_starts_in_a_bottle_and_its_connections_show_in_the_egress_pane() {
    let dir = tempfile::tempdir().unwrap();
    let agent = format!("claude{}", std::process::id());
    let path = manifest(dir.path(), &[&agent]);
    let env: Vec<(String, String)> = image_env(dir.path())
        .into_iter()
        .filter(|(k, _)| k != "CLAUDE_BOTTLE_AGENT_COMMAND")
        .chain([
            (
                "CLAUDE_BOTTLE_OAUTH_TOKEN".to_owned(),
                "sk-ant-oat01-not-a-real-token".to_owned(),
            ),
            // The user's terminal draws 24-bit colour.
            ("COLORTERM".to_owned(), "truecolor".to_owned()),
        ])
        .collect();
    let _cleanup = remove_bottles_of(&[&agent]);
    let tmux = Tmux::start("claude", dir.path(), &env, &format!("--manifest '{path}'"));
    tmux.wait_for(&agent);
    tmux.wait_for_engine();
    tmux.keys(&["Enter"]);
    tmux.wait("the preflight", SOON, |s| s.contains("Launch?"));
    tmux.keys(&["y"]);
    // Claude's first screen, drawn in the bottle's terminal pane.
    tmux.wait("claude's welcome", LAUNCH, |s| {
        s.contains("Welcome to Claude Code")
    });
    claude_looks_as_it_does_straight_in_tmux(&tmux, &agent);
    // Its requests went through the sidecar: with a fake token and no way
    // out they fail, and each shows in the egress pane.
    tmux.keys(&["e"]);
    let screen = tmux.wait("claude's requests in the egress pane", SOON, |s| {
        s.contains("Egress · ") && s.contains("api.anthropic.com:443")
    });
    assert!(screen.contains(&format!("Egress · {agent}")), "{screen}");
    tmux.keys(&["q"]);
    tmux.wait_for("Tear down running bottles?");
    tmux.keys(&["y"]);
    let after = tmux.wait("exit", Duration::from_secs(90), |s| s.contains("MODE="));
    assert!(after.contains("EXITED=0"), "{after}");
}

/// The pane's inner area (top row, left column, rows, columns), found by
/// the border whose title names the agent's tab.
fn pane_area(screen: &vt100::Screen, agent: &str) -> (u16, u16, u16, u16) {
    let (rows, cols) = screen.size();
    let symbol = |r: u16, c: u16| screen.cell(r, c).map_or("", vt100::Cell::contents);
    let title = format!("{agent} · plain");
    let top = (0..rows)
        .find(|&r| screen.contents_between(r, 0, r, cols).contains(&title))
        .unwrap_or_else(|| panic!("no pane titled {title}:\n{}", screen.contents()));
    let line = screen.contents_between(top, 0, top, cols);
    let title_col = line[..line.find(&title).unwrap()].chars().count();
    let left = (0..u16::try_from(title_col).unwrap())
        .rev()
        .find(|&c| symbol(top, c) == "┌")
        .unwrap();
    let right = (left + 1..cols).find(|&c| symbol(top, c) == "┐").unwrap();
    let bottom = (top + 1..rows).find(|&r| symbol(r, left) == "└").unwrap();
    (top + 1, left + 1, bottom - top - 1, right - left - 1)
}

/// The same claude binary started straight in a tmux window of `rows` x
/// `cols`, once its welcome shows.
fn claude_straight_in_tmux(rows: u16, cols: u16) -> vt100::Parser {
    let home = tempfile::tempdir().unwrap();
    let claude = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/test-images/claude");
    let socket = format!("cb-claude-ref-{}", std::process::id());
    let reference = |args: &[&str]| {
        Command::new("tmux")
            .args(["-L", &socket, "-f", "/dev/null"])
            .args(args)
            .output()
            .unwrap()
    };
    let script = format!(
        "env -i PATH=/usr/bin:/bin HOME='{}' TERM=xterm-256color COLORTERM=truecolor \
         LANG=C.UTF-8 DISABLE_AUTOUPDATER=1 CLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat01-not-a-real-token \
         '{}'; sleep 600",
        home.path().display(),
        claude.display()
    );
    let (r, c) = (rows.to_string(), cols.to_string());
    let started = reference(&[
        "new-session",
        "-d",
        "-s",
        "ref",
        "-x",
        &c,
        "-y",
        &r,
        &script,
    ]);
    assert!(started.status.success(), "{started:?}");
    let straight = common::wait::until(
        "claude started straight in tmux",
        SOON,
        Duration::from_millis(200),
        || {
            let out = reference(&["capture-pane", "-p", "-e", "-t", "ref"]);
            let parser = tmux::parse_capture(&out.stdout, rows, cols);
            let text = parser.screen().contents();
            if text.contains("Welcome to Claude Code") {
                Ok(parser)
            } else {
                Err(text)
            }
        },
    );
    let _ = reference(&["kill-server"]);
    straight
}

/// The same claude binary run straight in a tmux window of the pane's size,
/// with the `TERM` and `COLORTERM` the bottle's terminal has: every row
/// that reads the same in both must show the same colours cell by cell.
fn claude_looks_as_it_does_straight_in_tmux(tmux: &Tmux, agent: &str) {
    let dashboard = tmux.coloured_screen();
    let (top, left, rows, cols) = pane_area(dashboard.screen(), agent);
    let straight = claude_straight_in_tmux(rows, cols);
    let (ours, theirs) = (dashboard.screen(), straight.screen());
    let mut compared_rows = 0;
    let mut coloured = 0;
    for row in 0..rows {
        let text = theirs.contents_between(row, 0, row, cols);
        if text.trim().is_empty()
            || text.trim_end()
                != ours
                    .contents_between(top + row, left, top + row, left + cols)
                    .trim_end()
        {
            continue;
        }
        compared_rows += 1;
        for col in 0..cols {
            let (reference, cell) = (
                theirs.cell(row, col).unwrap(),
                ours.cell(top + row, left + col).unwrap(),
            );
            if reference.contents().trim().is_empty() {
                continue;
            }
            assert_eq!(
                (reference.fgcolor(), reference.bgcolor(), reference.bold()),
                (cell.fgcolor(), cell.bgcolor(), cell.bold()),
                "row {row} col {col} ({:?}): straight in tmux vs the pane\n{}",
                reference.contents(),
                ours.contents()
            );
            if reference.fgcolor() != vt100::Color::Default {
                coloured += 1;
            }
        }
    }
    assert!(
        compared_rows >= 5 && coloured >= 20,
        "{compared_rows} rows and {coloured} coloured cells compared:\n{}\n---\n{}",
        theirs.contents(),
        ours.contents()
    );
    // Claude's own orange, not the basic red it drew under TERM=xterm.
    let greeting = (0..rows)
        .find(|&r| {
            ours.contents_between(top + r, left, top + r, left + cols)
                .contains("Welcome")
        })
        .unwrap();
    let w = ours.cell(top + greeting, left).unwrap();
    assert_eq!(
        (w.contents(), w.fgcolor()),
        ("W", vt100::Color::Rgb(215, 119, 87))
    );
}

#[test]
fn non_ascii_text_shows_as_text_in_a_bottle() {
    let dir = tempfile::tempdir().unwrap();
    let agent = format!("utf{}", std::process::id());
    let path = manifest(dir.path(), &[&agent]);
    let env = image_env(dir.path());
    let _cleanup = remove_bottles_of(&[&agent]);
    let tmux = Tmux::start("utf8", dir.path(), &env, &format!("--manifest '{path}'"));
    tmux.wait_for(&agent);
    tmux.wait_for_engine();
    tmux.launch(0, &agent);
    tmux.keys(&["i"]);
    // bash's line editor echoes what is typed by the locale's rules.
    tmux.type_text("exec bash");
    tmux.keys(&["Enter"]);
    tmux.type_text("locale charmap; touch é.txt; git init -q; git status --short");
    tmux.keys(&["Enter"]);
    tmux.type_text("echo \"héllo wörld ✓ $((6*7))\"");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait("the output", SOON, |s| s.contains("héllo wörld ✓ 42"));
    assert!(screen.contains("UTF-8"), "{screen}");
    assert!(screen.contains("?? é.txt"), "{screen}");
    // The typed line itself reads as typed, never as octal escapes.
    assert!(
        screen.contains("$ echo \"héllo wörld ✓ $((6*7))\""),
        "{screen}"
    );
    assert!(!screen.contains("\\303"), "{screen}");
    tmux.keys(&["C-]", "q"]);
    tmux.wait_for("Tear down running bottles?");
    tmux.keys(&["y"]);
    let after = tmux.wait("exit", Duration::from_secs(90), |s| s.contains("MODE="));
    assert!(after.contains("EXITED=0"), "{after}");
}

fn labelled_containers() -> String {
    let out = Command::new("docker")
        .args([
            "ps",
            "-a",
            "--filter",
            "label=claude-bottle.managed=true",
            "--format",
            "{{.Names}}",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the Docker engine must run for this test"
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn two_bottles_typed_separately_one_killed_none_left_after_quit() {
    let dir = tempfile::tempdir().unwrap();
    let suffix = std::process::id();
    let (one, two) = (format!("one{suffix}"), format!("two{suffix}"));
    let path = manifest(dir.path(), &[&one, &two]);
    let env = image_env(dir.path());
    let _cleanup = remove_bottles_of(&[&one, &two]);
    let tmux = Tmux::start("two", dir.path(), &env, &format!("--manifest '{path}'"));
    tmux.wait_for(&two);
    tmux.wait_for_engine();

    // First bottle: preflight, launch, wait for the shell prompt.
    tmux.keys(&["Enter"]);
    tmux.wait_for("Launch?");
    tmux.keys(&["y"]);
    tmux.wait(&format!("{one} running"), LAUNCH, |s| {
        s.contains("· running") && s.contains("$ ")
    });
    // Second bottle.
    tmux.keys(&["j", "Enter"]);
    tmux.wait_for("Launch?");
    tmux.keys(&["y"]);
    tmux.wait("both running", LAUNCH, |s| {
        s.contains(&format!("{two} · plain · running")) && s.contains("$ ")
    });
    let names = labelled_containers();
    assert_eq!(
        names
            .lines()
            .filter(|n| n.contains(&one) || n.contains(&two))
            .count(),
        4,
        "{names}"
    );

    // Type into the second bottle only.
    tmux.keys(&["i"]);
    tmux.type_text("echo typed-$((40+2)) in $(hostname)");
    tmux.keys(&["Enter"]);
    let screen = tmux.wait_for("typed-42 in");
    assert!(screen.contains(&format!("typed-42 in {two}")), "{screen}");
    tmux.keys(&["C-]"]);
    // The first tab does not have it.
    tmux.keys(&["1"]);
    let first = tmux.wait(&format!("tab {one} shown"), Duration::from_secs(5), |s| {
        s.contains(&format!("{one} · plain · running"))
    });
    assert!(!first.contains("typed-42"), "{first}");

    // Kill the first bottle.
    tmux.keys(&["x"]);
    tmux.wait_for("Kill bottle");
    tmux.keys(&["y"]);
    tmux.wait("first bottle removed", Duration::from_secs(60), |s| {
        s.contains(&format!("{one} removed"))
    });
    let names = labelled_containers();
    assert!(!names.contains(&one), "{names}");
    assert!(names.contains(&two), "{names}");

    // Quit, tearing down what is left.
    tmux.keys(&["q"]);
    tmux.wait_for("Tear down running bottles?");
    tmux.keys(&["y"]);
    let after = tmux.wait("exit", Duration::from_secs(90), |s| s.contains("MODE="));
    assert!(
        after.contains("EXITED=0") && after.contains("MODE=cooked"),
        "{after}"
    );
    let names = labelled_containers();
    assert!(
        !names.contains(&one) && !names.contains(&two),
        "left behind:\n{names}"
    );
}

#[test]
fn sigterm_tears_the_bottles_down_and_restores_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let agent = format!("term{}", std::process::id());
    let path = manifest(dir.path(), &[&agent]);
    let env = image_env(dir.path());
    let _cleanup = remove_bottles_of(&[&agent]);
    let tmux = Tmux::start("term", dir.path(), &env, &format!("--manifest '{path}'"));
    tmux.wait_for(&agent);
    tmux.launch_selected(&agent);
    assert!(labelled_containers().contains(&agent));
    let pid = tmux.dashboard_pid().to_string();
    let status = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(status.success());
    let after = tmux.wait("exit", Duration::from_secs(90), |s| s.contains("MODE="));
    assert!(
        after.contains("EXITED=143") && after.contains("MODE=cooked"),
        "{after}"
    );
    assert!(!labelled_containers().contains(&agent));
}

#[test]
fn closing_the_terminal_keeps_the_bottles_working() {
    let dir = tempfile::tempdir().unwrap();
    let agent = format!("hup{}", std::process::id());
    let path = manifest(dir.path(), &[&agent]);
    let env = image_env(dir.path());
    let _cleanup = remove_bottles_of(&[&agent]);
    let tmux = Tmux::start("hup", dir.path(), &env, &format!("--manifest '{path}'"));
    tmux.wait_for(&agent);
    tmux.launch_selected(&agent);
    let pid = tmux.dashboard_pid();
    drop(tmux);
    // The dashboard leaves on SIGHUP; its bottle stays, claude (here sh)
    // still running under the bottle's holder.
    common::wait::until(
        "the dashboard to leave",
        Duration::from_secs(60),
        Duration::from_millis(200),
        || {
            let gone = !Path::new(&format!("/proc/{pid}")).exists();
            if gone { Ok(()) } else { Err(pid) }
        },
    );
    assert!(labelled_containers().contains(&agent));
    let agent_container = tmux::container_of(&agent, "agent");
    let status = probe::docker_ok(&[
        "exec",
        &agent_container,
        "/usr/local/bin/claude-bottle-hold",
        "status",
    ]);
    assert!(status.contains("\"exited\":null"), "{status}");
}
