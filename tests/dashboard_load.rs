//! Load through the real binary: one dashboard in tmux launches 16 bottles
//! and kills them all, cycle after cycle. After each cycle nothing it made is
//! left (containers, networks, temporary files), its resident memory does not
//! grow from cycle to cycle, and it answers keys throughout.
//!
//! `CLAUDE_BOTTLE_LOAD_CYCLES` sets the number of cycles (default 2);
//! `scripts/test.sh` runs 20 when `CLAUDE_BOTTLE_HEAVY=1` (CI sets it).
#![allow(clippy::unwrap_used, clippy::expect_used)] // a broken fixture should fail the test loudly

mod common;
mod probe;
mod tmux;

use std::time::{Duration, Instant};

use tmux::{AgentsGuard, LAUNCH, Tmux, image_env, manifest};

const BOTTLES: usize = 16;
/// How long the dashboard may take to show help after `?`.
const ANSWER: Duration = Duration::from_secs(5);

fn cycles() -> usize {
    std::env::var("CLAUDE_BOTTLE_LOAD_CYCLES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2)
}

/// The agent list is the left column: count the agents showing `state`.
fn agents_showing(screen: &str, state: &str) -> usize {
    screen
        .lines()
        .filter(|l| l.chars().take(30).collect::<String>().contains(state))
        .count()
}

fn resident_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap()
}

/// `?` opens the help and it is drawn within [`ANSWER`]; Esc closes it.
fn answers_keys(tmux: &Tmux) {
    tmux.keys(&["?"]);
    tmux.wait("help drawn", ANSWER, |s| {
        s.contains("restart the tab's egress sidecar")
    });
    tmux.keys(&["Escape"]);
    tmux.wait("help closed", ANSWER, |s| {
        !s.contains("restart the tab's egress sidecar")
    });
}

#[test]
fn sixteen_bottles_launched_and_killed_cycle_after_cycle_leave_nothing_and_do_not_grow() {
    let dir = tempfile::tempdir().unwrap();
    let pid = std::process::id();
    let agents: Vec<String> = (0..BOTTLES).map(|i| format!("ld{i:02}x{pid}")).collect();
    let _guard = AgentsGuard(agents.clone());
    let tmp = dir.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let path = manifest(dir.path(), "", &agents);
    let mut env = image_env(dir.path());
    env.push(("TMPDIR".into(), tmp.display().to_string()));
    let tmux = Tmux::start("load", dir.path(), &env, &format!("--manifest '{path}'"));
    tmux.wait_for(&agents[BOTTLES - 1]);
    tmux.wait_for_engine();
    let dashboard = tmux.dashboard_pid();
    let owner = format!("claude-bottle.owner-pid={dashboard}");
    let mut rss = Vec::new();
    let started = Instant::now();

    for cycle in 1..=cycles() {
        let cycle_start = Instant::now();
        // To the top of the list, then launch each agent in turn.
        for _ in 0..BOTTLES {
            tmux.keys(&["k"]);
        }
        for (i, agent) in agents.iter().enumerate() {
            if i > 0 {
                tmux.keys(&["j"]);
            }
            tmux.wait(&format!("{agent} selected"), ANSWER, |s| {
                s.contains(&format!("▶ {agent}"))
            });
            tmux.keys(&["Enter"]);
            tmux.wait_for("Launch?");
            tmux.keys(&["y"]);
            tmux.wait("preflight closed", ANSWER, |s| !s.contains("Launch?"));
            if i % 4 == 3 {
                answers_keys(&tmux);
            }
        }
        tmux.wait("all running", LAUNCH, |s| {
            assert!(!s.contains("failed"), "cycle {cycle}:\n{s}");
            agents_showing(s, "running") == BOTTLES
        });
        answers_keys(&tmux);

        // Kill each: the current tab if it runs, else the next tab.
        let deadline = Instant::now() + LAUNCH;
        loop {
            let screen = tmux.screen();
            if screen.contains("no bottles yet") {
                break;
            }
            assert!(Instant::now() < deadline, "cycle {cycle} kill:\n{screen}");
            if screen.lines().any(|l| l.contains(" · plain · running ")) {
                tmux.keys(&["x"]);
                // A kill finishing in between may have changed the tab.
                let asked = tmux.wait("kill asked or refused", ANSWER, |s| {
                    s.contains("Kill bottle") || s.contains("already gone or going")
                });
                if asked.contains("Kill bottle") {
                    tmux.keys(&["y"]);
                    tmux.wait("kill confirmed", ANSWER, |s| !s.contains("Kill bottle"));
                }
            } else {
                tmux.keys(&["Tab"]);
                std::thread::sleep(Duration::from_millis(100));
            }
        }
        let (containers, networks) = probe::labelled(&owner);
        assert!(
            containers.is_empty() && networks.is_empty(),
            "cycle {cycle} left containers {containers:?} networks {networks:?}"
        );
        let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().collect();
        assert!(left.is_empty(), "cycle {cycle} left in TMPDIR: {left:?}");
        answers_keys(&tmux);
        rss.push(resident_kib(dashboard));
        eprintln!(
            "cycle {cycle}: {:.0?}, resident {} KiB",
            cycle_start.elapsed(),
            rss[cycle - 1]
        );
    }
    eprintln!("{} cycles in {:.0?}", rss.len(), started.elapsed());

    // Memory: warm cycles against the last. The allocator's per-thread
    // arenas take a few cycles of 16 launches to fill (measured: 42, 50,
    // 59, 59, 75 MB, then between 67 and 76 MB through cycle 20), so with
    // enough cycles the base is the highest of cycles 2 to 5; with few, the
    // second. A leak still shows: it grows on through the other 15.
    // Over 20 cycles they took up to ten in another run (51, 59, 59, 59,
    // 68, 77, 76, 68, 76, 85 MB, then between 77 and 85 through cycle 20):
    // there the base is the highest of cycles 6 to 10, and a leak still shows
    // growing through the last ten.
    let (first, warm) = match rss.len() {
        20.. => (6, 10),
        10.. => (2, 5),
        _ => (2, 2),
    };
    let base = rss[rss.len().min(first) - 1..rss.len().min(warm)]
        .iter()
        .copied()
        .max()
        .unwrap_or(0);
    let last = rss[rss.len() - 1];
    let tolerance = (base / 10).max(8 * 1024);
    assert!(
        last <= base + tolerance,
        "resident memory grew from {base} KiB to {last} KiB over {} cycles: {rss:?}",
        rss.len()
    );
    tmux.keys(&["q"]);
    assert!(tmux.wait_for("EXITED=").contains("EXITED=0"));
}
