//! One dashboard, bottles on two engines: the default one and a second
//! dockerd in a network namespace of its own (`common::second_engine`),
//! named by a docker context a bottle names. The images the second engine
//! lacks are copied to it from the default one at launch; each tab's
//! terminal runs on its own engine; stopping the second engine marks only
//! its agent and tab, the other goes on working; started again, it is back
//! and its bottle's terminal opens again; `ps` lists both; quitting removes
//! the bottles on both.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a broken fixture should fail the test loudly

mod common;
mod probe;
mod tmux;

use std::process::Command;
use std::time::Duration;

use common::second_engine::SecondEngine;
use probe::assert_nothing_labelled;
use tmux::{AgentsGuard, BIN, LAUNCH, Tmux, image_env};

/// Types `command` into the shown tab's terminal, waits for `expect`, and
/// leaves the terminal.
fn type_and_see(tmux: &Tmux, command: &str, expect: &str) {
    tmux.keys(&["i"]);
    tmux.type_text(command);
    tmux.keys(&["Enter"]);
    tmux.wait_for(expect);
    tmux.keys(&["C-]"]);
}

/// `claude-bottle ps` with the dashboard's environment lists each agent on
/// its engine.
fn ps_lists(manifest: &std::path::Path, env: &[(String, String)], rows: &[(&str, &str)]) {
    let ps = Command::new(BIN)
        .args(["--manifest", &manifest.display().to_string(), "ps"])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .output()
        .unwrap();
    let ps = String::from_utf8_lossy(&ps.stdout);
    assert!(ps.starts_with("ENGINE"), "{ps}");
    for (engine, agent) in rows {
        assert!(
            ps.lines()
                .any(|l| l.starts_with(engine) && l.contains(agent)),
            "{engine} {agent}:\n{ps}"
        );
    }
}

/// A docker context `far-box` for the second engine (as `docker context
/// create` makes it), a manifest whose `far` bottle names it, and the
/// dashboard's environment.
fn setup(
    dir: &std::path::Path,
    second: &str,
    near: &str,
    far: &str,
) -> (std::path::PathBuf, Vec<(String, String)>) {
    let config = dir.join("docker-config");
    common::write_context(&config, "far-box", second);
    let manifest = dir.join("claude-bottle.json");
    let text = serde_json::json!({
        "bottles": {
            "near": {},
            "far": { "context": "far-box" }
        },
        "agents": { near: { "bottle": "near" }, far: { "bottle": "far" } }
    });
    std::fs::write(&manifest, text.to_string()).unwrap();
    let mut env = image_env(dir);
    env.push(("DOCKER_CONFIG".into(), config.display().to_string()));
    (manifest, env)
}

/// The line of the tabs bar (the first line of the screen).
fn tabs_line(screen: &str) -> String {
    screen.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn one_dashboard_runs_bottles_on_two_engines_and_survives_one_going_away() {
    let dir = tempfile::tempdir().unwrap();
    let pid = std::process::id();
    let (near, far) = (format!("near{pid}"), format!("far{pid}"));
    let _guard = AgentsGuard(vec![near.clone(), far.clone()]);
    let mut second = SecondEngine::start("dash");

    let (manifest, env) = setup(dir.path(), &second.host(), &near, &far);

    let tmux = Tmux::start(
        "engines",
        dir.path(),
        &env,
        &format!("--manifest '{}'", manifest.display()),
    );
    // The status line names each engine with its version once it answers.
    let both_ready = |s: &str| {
        let status = s.lines().last().unwrap_or_default();
        status.contains(" default 2") && status.contains(" far-box 2")
    };
    tmux.wait("both engines ready", Duration::from_secs(60), both_ready);
    let screen = tmux.screen();
    assert!(screen.contains(&format!("{far}  far @far-box")), "{screen}");

    // The agents are listed by name: `far…` first, then `near…`.
    let launch = |agent: &str, bottle: &str| {
        tmux.keys(&["Enter"]);
        tmux.wait_for("Launch?");
        tmux.keys(&["y"]);
        tmux.wait(&format!("{agent} running"), LAUNCH, |s| {
            assert!(!s.contains("failed to launch"), "{s}");
            s.contains(&format!("{agent} · {bottle} · running"))
        });
    };
    launch(&far, "far");
    type_and_see(&tmux, "echo far-$((20+22)) $(hostname)", "far-42 ");
    tmux.keys(&["j"]);
    launch(&near, "near");
    type_and_see(&tmux, "echo near-$((1+1))", "near-2");
    let tabs = tabs_line(&tmux.screen());
    assert!(
        tabs.contains(&format!("1 {far}@far-box")) && tabs.contains(&format!("2 {near}@default")),
        "{tabs}"
    );

    // Each bottle is on its own engine, and only there.
    let far_label = format!("label=claude-bottle.agent={far}");
    let on_second = second.docker(&["ps", "-q", "--filter", &far_label]);
    assert_eq!(
        on_second.lines().count(),
        2,
        "the far agent and its sidecar"
    );
    let near_label = format!("label=claude-bottle.agent={near}");
    let on_second = second.docker(&["ps", "-aq", "--filter", &near_label]);
    assert!(on_second.is_empty(), "nothing of near on the second engine");
    assert_nothing_labelled(
        &format!("claude-bottle.agent={far}"),
        "on the default engine",
    );

    // `ps` looks on both engines.
    ps_lists(&manifest, &env, &[("far-box", &far), ("default", &near)]);

    // The second engine stops answering: only its agent and tab are marked.
    second.stop();
    tmux.wait("far-box unreachable", Duration::from_secs(30), |s| {
        s.contains("far-box: unreachable")
    });
    let screen = tmux.screen();
    let tabs = tabs_line(&screen);
    assert!(tabs.contains(&format!("1 {far}@far-box ✗")), "{tabs}");
    assert!(tabs.contains(&format!("2 {near}@default")), "{tabs}");
    assert!(!tabs.contains(&format!("{near}@default ✗")), "{tabs}");
    assert!(screen.contains("engine unreachable"), "{screen}");
    // The default engine's bottle goes on working.
    tmux.keys(&["2"]);
    type_and_see(&tmux, "echo still-$((3+3))", "still-6");

    // Back: the mark goes, and the far bottle's terminal opens again.
    second.start_again();
    tmux.wait("far-box back", Duration::from_secs(60), |s| {
        both_ready(s) && !tabs_line(s).contains('✗')
    });
    tmux.keys(&["1"]);
    let far_line = |s: &str| {
        s.lines()
            .find(|l| l.contains(&format!("{far} · far")))
            .unwrap_or_default()
            .to_owned()
    };
    tmux.wait("far's terminal ended", Duration::from_secs(30), |s| {
        far_line(s).contains("exited (")
    });
    tmux.keys(&["i"]);
    tmux.wait("far reopened", LAUNCH, |s| far_line(s).contains("running"));
    type_and_see(&tmux, "echo again-$((5+5))", "again-10");

    // Quitting removes the bottles on both engines.
    tmux.keys(&["q"]);
    tmux.wait_for("Tear down running bottles?");
    tmux.keys(&["y"]);
    let after = tmux.wait("exit", Duration::from_secs(120), |s| s.contains("EXITED="));
    assert!(after.contains("EXITED=0"), "{after}");
    assert_nothing_labelled(&format!("claude-bottle.agent={near}"), "after quit");
    let left = second.docker(&["ps", "-aq", "--filter", &far_label]);
    assert!(left.is_empty(), "left on the second engine: {left}");
}
