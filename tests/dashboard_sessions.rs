//! Agents that outlive the dashboard, driven as a person would in tmux on
//! the real engine: keep them and quit, `ps`, `attach` and detach, a new
//! dashboard finding them, SIGKILL, two viewers contending, a restart of the
//! bottle's containers, `stop` and `gc`. The agent is `sh` (a scripted
//! agent: what it prints is typed into it).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a broken fixture should fail the test loudly

mod common;
mod probe;
mod tmux;

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use tmux::{AgentsGuard, BIN, LAUNCH, Tmux, container_of, image_env};

const SOON: Duration = Duration::from_secs(60);

/// Runs claude-bottle with `env` in `dir`; its stdout, and its exit code.
fn claude_bottle(dir: &Path, env: &[(String, String)], args: &[&str]) -> (String, i32) {
    let out = Command::new(BIN)
        .args(args)
        .current_dir(dir)
        .envs(env.iter().cloned())
        .output()
        .unwrap();
    (
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
        out.status.code().unwrap_or(-1),
    )
}

/// `ps --json`'s row of `agent`.
fn ps_row(dir: &Path, env: &[(String, String)], agent: &str) -> serde_json::Value {
    let (out, code) = claude_bottle(dir, env, &["ps", "--json"]);
    assert_eq!(code, 0, "{out}");
    let start = out.find('[').unwrap_or_else(|| panic!("no JSON in {out}"));
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out[start..]).unwrap();
    rows.into_iter()
        .find(|r| r["agent"] == agent)
        .unwrap_or_else(|| panic!("{agent} not in ps: {out}"))
}

/// The largest `tick-N` on the screen.
fn last_tick(screen: &str) -> u32 {
    screen
        .split("tick-")
        .skip(1)
        .filter_map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse()
                .ok()
        })
        .max()
        .unwrap_or(0)
}

/// A line with the shell's prompt alone (tmux drops its trailing blank).
fn has_prompt(screen: &str) -> bool {
    screen.lines().any(|l| l.trim_end() == "$")
}

/// Two agents of one manifest, in a scratch home.
struct Fleet {
    dir: tempfile::TempDir,
    env: Vec<(String, String)>,
    args: String,
    one: String,
    two: String,
}

impl Fleet {
    /// Agents named for `tag` and this test process: the tests of this file
    /// run side by side.
    fn new(tag: &str) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let suffix = std::process::id();
        let (one, two) = (format!("{tag}one{suffix}"), format!("{tag}two{suffix}"));
        let path = tmux::manifest(dir.path(), "", &[one.clone(), two.clone()]);
        let env = image_env(dir.path());
        Self {
            args: format!("--manifest '{path}'"),
            dir,
            env,
            one,
            two,
        }
    }

    fn dashboard(&self, tag: &str) -> Tmux {
        Tmux::start(tag, self.dir.path(), &self.env, &self.args)
    }

    fn attach(&self, tag: &str, args: &str) -> Tmux {
        Tmux::start(tag, self.dir.path(), &self.env, &format!("attach {args}"))
    }

    /// Launches both agents from `dashboard`, each to its shell's prompt;
    /// the second tab is shown.
    fn launch_both(&self, dashboard: &Tmux) {
        let (one, two) = (&self.one, &self.two);
        dashboard.wait_for(two);
        dashboard.launch_selected(one);
        dashboard.keys(&["j", "Enter"]);
        dashboard.wait_for("Launch?");
        dashboard.keys(&["y"]);
        dashboard.wait(&format!("{two} running"), LAUNCH, |s| {
            s.contains(&format!("{two} · plain · running")) && s.contains("$ ")
        });
    }

    fn run(&self, args: &[&str]) -> (String, i32) {
        claude_bottle(self.dir.path(), &self.env, args)
    }

    fn ps_row(&self, agent: &str) -> serde_json::Value {
        ps_row(self.dir.path(), &self.env, agent)
    }
}

#[test]
fn kept_agents_work_on_and_come_back_with_their_screens() {
    let fleet = Fleet::new("kept");
    let _cleanup = AgentsGuard(vec![fleet.one.clone(), fleet.two.clone()]);
    let before = launch_two_and_keep_them(&fleet);
    attach_shows_what_happened_and_detaches(&fleet, before);
    a_new_dashboard_finds_them_and_dies(&fleet);
    two_viewers_contend(&fleet);
    a_stopped_bottle_resumes(&fleet);
    stop_and_gc(&fleet);
}

/// Launches both, the second printing a tick every half second, and quits
/// keeping them; the last tick seen.
fn launch_two_and_keep_them(fleet: &Fleet) -> u32 {
    let Fleet { one, two, .. } = fleet;
    let dashboard = fleet.dashboard("keep");
    fleet.launch_both(&dashboard);
    dashboard.keys(&["i"]);
    dashboard.type_text("i=0; while :; do i=$((i+1)); echo tick-$i; sleep 0.5; done");
    dashboard.keys(&["Enter"]);
    dashboard.wait("ticks", SOON, |s| last_tick(s) >= 3);
    dashboard.keys(&["C-]"]);
    let before = last_tick(&dashboard.screen());

    // Keep them and quit: both bottles stay, the ticks go on.
    dashboard.keys(&["q"]);
    dashboard.wait_for("Tear down running bottles?");
    dashboard.keys(&["k"]);
    let after = dashboard.wait("exit", SOON, |s| s.contains("MODE="));
    assert!(after.contains("EXITED=0"), "{after}");
    let row = fleet.ps_row(two);
    assert_eq!(row["state"], "working", "{row}");
    assert_eq!(row["kept"], true, "{row}");
    assert_eq!(row["owner_alive"], false, "{row}");
    assert!(row["viewer"].is_null(), "nobody watches: {row}");
    assert_eq!(fleet.ps_row(one)["kept"], true);
    before
}

/// `attach`: the ticks printed while nobody watched are there, typing
/// reaches the agent, Ctrl-\ detaches.
fn attach_shows_what_happened_and_detaches(fleet: &Fleet, before: u32) {
    let viewer = fleet.attach("attach", &fleet.two);
    viewer.wait("later ticks", SOON, |s| last_tick(s) > before + 2);
    let row = fleet.ps_row(&fleet.two);
    let who = row["viewer"].as_str().unwrap_or_default();
    assert!(who.contains("claude-bottle attach"), "{row}");
    viewer.keys(&["C-c"]);
    viewer.type_text("echo back-$((20+22))");
    viewer.keys(&["Enter"]);
    viewer.wait_for("back-42");
    viewer.keys(&["C-\\"]);
    let detached = viewer.wait("detach", SOON, |s| s.contains("MODE="));
    assert!(
        detached.contains("detached; the agent keeps running"),
        "{detached}"
    );
    assert!(detached.contains("EXITED=0"), "{detached}");
}

/// A new dashboard finds both as tabs, with their screens and history, and
/// typing reaches the agent; killed (SIGKILL), it leaves them working.
fn a_new_dashboard_finds_them_and_dies(fleet: &Fleet) {
    let two = &fleet.two;
    let dashboard = fleet.dashboard("again");
    dashboard.wait("kept bottles found", LAUNCH, |s| {
        s.contains("2 kept bottle(s) found")
    });
    for tab in ["1", "2"] {
        dashboard.keys(&[tab]);
        let shown = dashboard.wait("a tab", SOON, |s| s.contains("· plain · running"));
        if shown.contains(&format!("{two} · plain · running")) {
            break;
        }
    }
    let shown = dashboard.wait("the history", SOON, |s| {
        s.contains("back-42") && s.contains(&format!("{two} · plain · running"))
    });
    assert!(shown.contains("tick-"), "{shown}");
    dashboard.keys(&["i"]);
    dashboard.type_text("echo again-$((1+1))");
    dashboard.keys(&["Enter"]);
    dashboard.wait_for("again-2");
    dashboard.keys(&["C-]"]);

    // attach --take displaces the tab, which watches on: what is typed at
    // the attach shows in it, and the title says who holds the agent.
    let taker = fleet.attach("take-tab", &format!("--take {two}"));
    taker.wait_for("again-2");
    let held = dashboard.wait("the tab watching", SOON, |s| {
        s.contains("held by claude-bottle attach")
    });
    assert!(held.contains("watching (i takes it back)"), "{held}");
    taker.type_text("echo seen-$((3*3))");
    taker.keys(&["Enter"]);
    dashboard.wait("the watcher sees it", SOON, |s| s.contains("seen-9"));
    // i takes it back; the attach says so and ends.
    dashboard.keys(&["i"]);
    let displaced = taker.wait("displaced", SOON, |s| s.contains("MODE="));
    assert!(
        displaced.contains("taken over by a dashboard"),
        "{displaced}"
    );
    let title = format!("{two} · plain · ");
    dashboard.wait("its terminal open again", SOON, |s| {
        s.lines().any(|l| {
            l.contains(&title)
                && !l.contains("held by")
                && (l.contains("· running") || l.contains("· needs attention"))
        })
    });
    dashboard.keys(&["i"]);
    dashboard.type_text("echo mine-$((4*4))");
    dashboard.keys(&["Enter"]);
    dashboard.wait_for("mine-16");
    dashboard.keys(&["C-]"]);

    let pid = dashboard.dashboard_pid().to_string();
    assert!(
        Command::new("kill")
            .args(["-KILL", &pid])
            .status()
            .unwrap()
            .success()
    );
    dashboard.wait("killed", SOON, |s| s.contains("EXITED=137"));
    let row = fleet.ps_row(two);
    assert_eq!(row["owner_alive"], false, "{row}");
    assert!(
        row["viewer"].is_null(),
        "a killed dashboard watches nothing: {row}"
    );
}

/// The second viewer is told who holds the agent; `--take` displaces the
/// first, which says so.
fn two_viewers_contend(fleet: &Fleet) {
    let one = &fleet.one;
    let first = fleet.attach("first", one);
    first.wait("a prompt", SOON, has_prompt);
    let second = fleet.attach("second", one);
    let refused = second.wait("refusal", SOON, |s| s.contains("MODE="));
    assert!(
        refused.contains("held by claude-bottle attach"),
        "{refused}"
    );
    assert!(refused.contains("EXITED=75"), "{refused}");
    let taker = fleet.attach("taker", &format!("--take {one}"));
    let displaced = first.wait("displaced", SOON, |s| s.contains("MODE="));
    assert!(
        displaced.contains("taken over by claude-bottle attach"),
        "{displaced}"
    );
    assert!(displaced.contains("EXITED=76"), "{displaced}");
    taker.type_text("echo kept-$((5*5)) > note.txt; cat note.txt");
    taker.keys(&["Enter"]);
    taker.wait_for("kept-25");
    taker.keys(&["C-\\"]);
    taker.wait("detach", SOON, |s| s.contains("EXITED=0"));
}

/// A restart of the engine stops the containers: attach starts the bottle
/// again (its sidecar too), and the file the agent wrote is still there.
fn a_stopped_bottle_resumes(fleet: &Fleet) {
    let one = &fleet.one;
    let (agent, sidecar) = (container_of(one, "agent"), container_of(one, "sidecar"));
    probe::docker_ok(&["stop", "-t", "1", &agent, &sidecar]);
    assert_eq!(fleet.ps_row(one)["state"], "stopped");
    let resumed = fleet.attach("resumed", one);
    resumed.wait("a prompt after the restart", LAUNCH, |s| {
        s.contains("starting it again") && has_prompt(s)
    });
    resumed.type_text("cat note.txt; echo proxy=$HTTPS_PROXY");
    resumed.keys(&["Enter"]);
    let screen = resumed.wait_for("proxy=http://");
    assert!(screen.contains("kept-25"), "{screen}");
    resumed.keys(&["C-\\"]);
    resumed.wait("detach", SOON, |s| s.contains("EXITED=0"));
    let row = fleet.ps_row(one);
    assert!(
        ["working", "waiting"].contains(&row["state"].as_str().unwrap_or_default()),
        "{row}"
    );
}

/// `stop` removes one by name; plain `gc` leaves a kept one; `--kept`
/// removes it.
fn stop_and_gc(fleet: &Fleet) {
    let (one, two) = (&fleet.one, &fleet.two);
    let (out, code) = fleet.run(&["stop", "--yes", two]);
    assert_eq!(code, 0, "{out}");
    probe::assert_nothing_labelled(&format!("claude-bottle.agent={two}"), "stop");
    let (out, code) = fleet.run(&["gc", "--yes"]);
    assert_eq!(code, 0, "{out}");
    assert!(
        out.contains("kept working by a dashboard are left alone"),
        "{out}"
    );
    assert!(
        !probe::labelled(&format!("claude-bottle.agent={one}"))
            .0
            .is_empty()
    );
    let (out, code) = fleet.run(&["gc", "--kept", "--yes"]);
    assert_eq!(code, 0, "{out}");
    probe::assert_nothing_labelled(&format!("claude-bottle.agent={one}"), "gc --kept");
}

#[test]
fn the_inbox_lists_a_waiting_agent_and_a_denial_and_goes_to_each() {
    let fleet = Fleet::new("inbox");
    let _cleanup = AgentsGuard(vec![fleet.one.clone(), fleet.two.clone()]);
    let two = &fleet.two;
    let dashboard = fleet.dashboard("inbox");
    fleet.launch_both(&dashboard);
    // The second agent rings its bell (claude's "I wait for you"), then asks
    // for a host its allowlist lacks, while the user looks at the first.
    dashboard.keys(&["i"]);
    dashboard.type_text(
        "(sleep 2; printf '\\a'; sleep 1; curl -s -o /dev/null http://inbox-denied.test/) &",
    );
    dashboard.keys(&["Enter", "C-]", "1"]);
    dashboard.wait("both in the inbox", SOON, |s| s.contains("n inbox 2"));

    dashboard.keys(&["n"]);
    let list = dashboard.wait("the inbox", SOON, |s| s.contains("Inbox: 2"));
    let denial = list.find(&format!("{two}  denied inbox-denied.test"));
    let waiting = list.find(&format!("{two}  waiting for you"));
    assert!(
        denial.is_some() && waiting.is_some() && denial < waiting,
        "newest first:\n{list}"
    );
    dashboard.keys(&["Enter"]);
    let shown = dashboard.wait("the denial, selected", SOON, |s| {
        s.contains("inbox-denied.test denied; a allows it")
    });
    assert!(shown.contains(&format!("Egress · {two}")), "{shown}");
    assert!(
        shown.contains("BLOCKED http://inbox-denied.test/"),
        "{shown}"
    );

    // Alone: an Escape followed at once by a key reads as Alt and that key.
    dashboard.keys(&["Escape"]);
    dashboard.wait("the pane closed", SOON, |s| !s.contains("Egress · "));
    dashboard.keys(&["1", "n"]);
    dashboard.wait("the inbox again", SOON, |s| s.contains("Inbox: 1"));
    dashboard.keys(&["Enter"]);
    let shown = dashboard.wait("the waiting agent", SOON, |s| {
        s.contains(&format!("{two} waits for you; i types into it"))
    });
    assert!(shown.contains(&format!("{two} · plain ·")), "{shown}");
    assert!(!shown.contains("n inbox"), "{shown}");

    dashboard.keys(&["q"]);
    dashboard.wait_for("Tear down running bottles?");
    dashboard.keys(&["y"]);
    let after = dashboard.wait("exit", SOON, |s| s.contains("MODE="));
    assert!(after.contains("EXITED=0"), "{after}");
}

#[test]
fn the_real_claude_detaches_and_comes_back_as_it_was() {
    let mut fleet = Fleet::new("claude");
    let _cleanup = AgentsGuard(vec![fleet.one.clone(), fleet.two.clone()]);
    fleet.env = fleet
        .env
        .into_iter()
        .filter(|(k, _)| k != "CLAUDE_BOTTLE_AGENT_COMMAND")
        .chain([("COLORTERM".to_owned(), "truecolor".to_owned())])
        .collect();
    let one = fleet.one.clone();
    let dashboard = fleet.dashboard("claude");
    dashboard.wait_for(&one);
    dashboard.wait_for_engine();
    dashboard.keys(&["Enter"]);
    dashboard.wait_for("Launch?");
    dashboard.keys(&["y"]);
    let before = dashboard.wait("claude's welcome", LAUNCH, |s| {
        s.contains("Welcome to Claude Code")
    });
    let claude_lines = |screen: &str| -> Vec<String> {
        screen
            .lines()
            .filter(|l| l.contains("Claude Code") || l.contains("Welcome"))
            .map(|l| {
                l.trim_matches(|c: char| c == '│' || c.is_whitespace())
                    .to_owned()
            })
            .collect()
    };
    assert!(!claude_lines(&before).is_empty(), "{before}");
    dashboard.keys(&["q"]);
    dashboard.wait_for("Tear down running bottles?");
    dashboard.keys(&["k"]);
    dashboard.wait("exit", SOON, |s| s.contains("EXITED=0"));
    assert_eq!(fleet.ps_row(&one)["kept"], true);

    // attach: claude's screen is there, in its own colours, at once. (With
    // a fake token and no way out, claude gives up after a while: then its
    // last screen is what comes back, with its exit code.)
    let viewer = fleet.attach("claude-attach", &one);
    let after = viewer.wait("claude's welcome again", SOON, |s| {
        s.contains("Welcome to Claude Code")
    });
    let parsed = viewer.coloured_screen();
    let screen = parsed.screen();
    let (rows, cols) = screen.size();
    let (row, col) = (0..rows)
        .find_map(|r| {
            let text = screen.contents_between(r, 0, r, cols);
            text.find("Welcome")
                .map(|at| (r, u16::try_from(text[..at].chars().count()).unwrap()))
        })
        .unwrap_or_else(|| panic!("{after}"));
    let w = screen.cell(row, col).unwrap();
    assert_eq!(
        (w.contents(), w.fgcolor()),
        ("W", vt100::Color::Rgb(215, 119, 87)),
        "{after}"
    );
    assert!(!after.contains("starting it again"), "{after}");
    if after.contains("claude ended in this bottle") {
        viewer.wait("the exit", SOON, |s| s.contains("MODE="));
    } else {
        viewer.keys(&["C-\\\\"]);
        let detached = viewer.wait("detach", SOON, |s| s.contains("MODE="));
        assert!(
            detached.contains("detached; the agent keeps running"),
            "{detached}"
        );
    }
    let (out, code) = fleet.run(&["stop", "--yes", &one]);
    assert_eq!(code, 0, "{out}");
}
