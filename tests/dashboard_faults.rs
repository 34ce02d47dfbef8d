//! Faults on the real engine, the real binary in tmux: a sidecar killed
//! mid-session, the engine going away and coming back, a dashboard killed
//! with `SIGKILL`, agents that exit or lose their terminal, a missing TMPDIR, and
//! where secrets must never appear. Nothing here skips; every test removes
//! its own bottles (by its own agents' labels) on the way out, panics
//! included.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a broken fixture should fail the test loudly

mod common;
mod probe;
mod tmux;

use std::io::{Read as _, Write as _};
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use probe::{assert_nothing_labelled, docker_ok};
use tmux::{AgentsGuard, BIN, LAUNCH, Tmux, container_of, image_env, manifest};

/// `curl` in the agent container; returns the HTTP code (`000`: no answer).
fn curl(container: &str, url: &str, through_proxy: bool) -> String {
    let mut args = vec![
        "exec",
        container,
        "curl",
        "-s",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        "--max-time",
        "5",
    ];
    if !through_proxy {
        args.extend(["--noproxy", "*"]);
    }
    args.push(url);
    let out = probe::docker(&args);
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn quit_tearing_down(tmux: &Tmux) {
    tmux.keys(&["q"]);
    tmux.wait_for("Tear down running bottles?");
    tmux.keys(&["y"]);
    let after = tmux.wait("exit", Duration::from_secs(120), |s| s.contains("EXITED="));
    assert!(after.contains("EXITED=0"), "{after}");
}

fn session_of(container: &str) -> String {
    docker_ok(&[
        "inspect",
        "-f",
        "{{index .Config.Labels \"claude-bottle.session\"}}",
        container,
    ])
}

#[test]
fn a_killed_sidecar_shows_egress_down_fails_closed_and_r_restarts_it() {
    let dir = tempfile::tempdir().unwrap();
    let agent = format!("side{}", std::process::id());
    let _guard = AgentsGuard(vec![agent.clone()]);
    let path = manifest(dir.path(), "", std::slice::from_ref(&agent));
    let env = image_env(dir.path());
    let tmux = Tmux::start("side", dir.path(), &env, &format!("--manifest '{path}'"));
    tmux.wait_for(&agent);
    tmux.launch_selected(&agent);
    let agent_c = container_of(&agent, "agent");
    let sidecar = container_of(&agent, "sidecar");

    // Up: the proxy answers (403 for a host not on the allowlist) and logs it.
    assert_eq!(curl(&agent_c, "http://before-kill.example/", true), "403");
    tmux.keys(&["e"]);
    tmux.wait_for("before-kill.example");

    docker_ok(&["kill", &sidecar]);
    let screen = tmux.wait("egress down", Duration::from_secs(30), |s| {
        s.contains("egress down")
    });
    assert!(screen.contains("r restarts"), "{screen}");
    // Fails closed: no answer through the proxy, and no other way out.
    assert_eq!(curl(&agent_c, "http://while-down.example/", true), "000");
    let gateway = probe::network_gateway(&format!("{}-egress", agent_c.trim_end_matches("-agent")));
    for url in [
        "http://1.1.1.1/".to_owned(),
        format!("http://{gateway}/"),
        "http://while-down.example/".to_owned(),
    ] {
        assert_eq!(curl(&agent_c, &url, false), "000", "direct {url}");
    }
    // The dashboard is still there and answers keys.
    tmux.keys(&["?"]);
    tmux.wait_for("restart the tab's egress sidecar");
    tmux.keys(&["Escape"]);

    tmux.keys(&["r"]);
    tmux.wait("sidecar back", Duration::from_secs(60), |s| {
        s.contains("egress sidecar running again")
    });
    assert!(!tmux.screen().contains("egress down"));
    assert_eq!(curl(&agent_c, "http://after-restart.example/", true), "403");
    tmux.wait_for("after-restart.example");
    assert_eq!(
        container_of(&agent, "sidecar"),
        sidecar,
        "the same container"
    );

    quit_tearing_down(&tmux);
    assert_nothing_labelled(&format!("claude-bottle.agent={agent}"), "after quit");
}

/// A Unix socket that forwards to the real engine, which a test can take
/// away (every connection cut, the socket gone) and bring back.
struct Forwarder {
    path: PathBuf,
    stop: Arc<AtomicBool>,
    conns: Arc<Mutex<Vec<UnixStream>>>,
    accept: Option<std::thread::JoinHandle<()>>,
}

fn engine_socket() -> String {
    std::env::var("DOCKER_HOST")
        .ok()
        .and_then(|h| h.strip_prefix("unix://").map(str::to_owned))
        .unwrap_or_else(|| "/var/run/docker.sock".into())
}

impl Forwarder {
    fn start(path: &Path) -> Self {
        let _ = std::fs::remove_file(path);
        let listener = UnixListener::bind(path).unwrap();
        let stop = Arc::new(AtomicBool::new(false));
        let conns: Arc<Mutex<Vec<UnixStream>>> = Arc::default();
        let upstream_path = engine_socket();
        let (stop2, conns2) = (Arc::clone(&stop), Arc::clone(&conns));
        let accept = std::thread::spawn(move || {
            for client in listener.incoming() {
                if stop2.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let Ok(upstream) = UnixStream::connect(&upstream_path) else {
                    continue;
                };
                {
                    let mut held = conns2.lock().unwrap();
                    held.push(client.try_clone().unwrap());
                    held.push(upstream.try_clone().unwrap());
                }
                for (mut from, mut to) in [
                    (client.try_clone().unwrap(), upstream.try_clone().unwrap()),
                    (upstream, client),
                ] {
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16 * 1024];
                        loop {
                            match from.read(&mut buf) {
                                Ok(0) | Err(_) => break,
                                Ok(n) => {
                                    if to.write_all(&buf[..n]).is_err() {
                                        break;
                                    }
                                }
                            }
                        }
                        let _ = to.shutdown(std::net::Shutdown::Write);
                    });
                }
            }
        });
        Self {
            path: path.to_owned(),
            stop,
            conns,
            accept: Some(accept),
        }
    }

    /// The engine is gone: no new connection, every open one cut.
    fn stop(&mut self) {
        let Some(accept) = self.accept.take() else {
            return;
        };
        self.stop.store(true, Ordering::SeqCst);
        let _ = UnixStream::connect(&self.path);
        let _ = accept.join();
        let _ = std::fs::remove_file(&self.path);
        for conn in self.conns.lock().unwrap().drain(..) {
            let _ = conn.shutdown(std::net::Shutdown::Both);
        }
    }
}

impl Drop for Forwarder {
    fn drop(&mut self) {
        self.stop();
    }
}

#[test]
fn the_engine_going_away_and_coming_back_is_survived() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (
        format!("enga{}", std::process::id()),
        format!("engb{}", std::process::id()),
    );
    let _guard = AgentsGuard(vec![one.clone(), two.clone()]);
    let path = manifest(dir.path(), "", &[one.clone(), two.clone()]);
    let socket = dir.path().join("engine.sock");
    let mut env = image_env(dir.path());
    env.push(("DOCKER_HOST".into(), format!("unix://{}", socket.display())));
    let mut forwarder = Forwarder::start(&socket);
    let tmux = Tmux::start("engine", dir.path(), &env, &format!("--manifest '{path}'"));
    tmux.wait_for("is ready");
    tmux.launch_selected(&one);
    tmux.keys(&["i"]);
    tmux.type_text("echo before-$((1+1))");
    tmux.keys(&["Enter"]);
    tmux.wait_for("before-2");
    tmux.keys(&["C-]"]);

    forwarder.stop();
    tmux.wait("engine unreachable", Duration::from_secs(30), |s| {
        s.contains("engine: unreachable")
    });
    // Still answering keys; a launch is refused with the reason.
    tmux.keys(&["?"]);
    tmux.wait_for("restart the tab's egress sidecar");
    tmux.keys(&["Escape"]);
    tmux.keys(&["j", "Enter"]);
    tmux.wait_for("cannot launch");
    // The bottle itself is untouched.
    let agent_c = container_of(&one, "agent");
    assert_eq!(
        docker_ok(&["inspect", "-f", "{{.State.Running}}", &agent_c]),
        "true"
    );

    forwarder = Forwarder::start(&socket);
    tmux.wait("engine back", Duration::from_secs(30), |s| {
        !s.contains("engine: unreachable") && s.contains(" engine ")
    });
    // The first tab: its terminal went with the connection (a docker exec
    // cannot be re-attached); `i` opens a new one in the same bottle.
    tmux.keys(&["1"]);
    let one_line = |s: &str| {
        s.lines()
            .find(|l| l.contains(&format!("{one} · plain")))
            .unwrap_or_default()
            .to_owned()
    };
    tmux.wait(
        "tab one shows its ended terminal",
        Duration::from_secs(30),
        |s| one_line(s).contains("exited ("),
    );
    tmux.keys(&["i"]);
    tmux.wait("reopened", LAUNCH, |s| one_line(s).contains("running"));
    tmux.keys(&["i"]);
    tmux.type_text("echo after-$((2+2)) $(hostname)");
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("after-4 {one}"));
    tmux.keys(&["C-]"]);
    // Its egress log is followed again.
    tmux.keys(&["e"]);
    assert_eq!(curl(&agent_c, "http://after-outage.example/", true), "403");
    tmux.wait_for("after-outage.example");
    tmux.keys(&["Escape"]);
    // A new launch works.
    tmux.keys(&["j"]);
    tmux.launch_selected(&two);

    quit_tearing_down(&tmux);
    drop(forwarder);
    for agent in [&one, &two] {
        assert_nothing_labelled(&format!("claude-bottle.agent={agent}"), "after quit");
    }
}

/// `run` and `start` remove their bottle when they end: one killed leaves
/// it behind (a dashboard's bottles are kept on purpose instead; see
/// `tests/dashboard_sessions.rs`).
#[test]
fn after_a_sigkill_the_next_dashboard_offers_to_remove_or_keep_what_was_left() {
    let dir = tempfile::tempdir().unwrap();
    let agent = format!("left{}", std::process::id());
    let _guard = AgentsGuard(vec![agent.clone()]);
    let path = manifest(dir.path(), "", std::slice::from_ref(&agent));
    let env = image_env(dir.path());
    let args = format!("--manifest '{path}'");
    let mut run = Command::new(BIN)
        .args([
            "--manifest",
            &path,
            "run",
            "--yes",
            &agent,
            "--",
            "sleep",
            "600",
        ])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let agent_container = common::wait::until(
        "run's bottle",
        Duration::from_secs(240),
        Duration::from_millis(200),
        || {
            let running = docker_ok(&[
                "ps",
                "--filter",
                &format!("label=claude-bottle.agent={agent}"),
                "--filter",
                "label=claude-bottle.role=agent",
                "--format",
                "{{.Names}}",
            ]);
            if running.is_empty() {
                Err("not yet")
            } else {
                Ok(running)
            }
        },
    );
    let session = session_of(&agent_container);
    let label = format!("claude-bottle.session={session}");
    run.kill().unwrap();
    run.wait().unwrap();
    let (containers, networks) = probe::labelled(&label);
    assert_eq!((containers.len(), networks.len()), (2, 2), "left behind");

    // `run` (and `start`, the same code) names them before asking anything.
    let out = Command::new(BIN)
        .args(["--manifest", &path, "run", &agent])
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("left behind") && stderr.contains(&session),
        "{stderr}"
    );

    // The next dashboard lists them; k keeps them.
    let second = Tmux::start("left2", dir.path(), &env, &args);
    // A capture may catch a frame half written: wait for the whole notice.
    let notice = second.wait("the whole notice", Duration::from_secs(30), |s| {
        s.contains("Left behind") && s.contains(&session)
    });
    assert!(notice.contains(&agent), "{notice}");
    second.keys(&["k"]);
    second.wait_for("leftover bottles kept");
    let (containers, networks) = probe::labelled(&label);
    assert_eq!((containers.len(), networks.len()), (2, 2), "kept");
    second.keys(&["q"]);
    assert!(second.wait_for("EXITED=").contains("EXITED=0"));
    drop(second);

    // And the one after: y removes them, every container and network.
    let third = Tmux::start("left3", dir.path(), &env, &args);
    third.wait_for("Left behind");
    third.keys(&["y"]);
    third.wait("removed", Duration::from_secs(60), |s| {
        s.contains("1 leftover bottle(s) removed")
    });
    assert_nothing_labelled(&label, "after choosing remove");
    third.keys(&["q"]);
    assert!(third.wait_for("EXITED=").contains("EXITED=0"));
}

#[test]
fn exits_crashes_and_lost_terminals_show_on_the_tab_and_tmpdir_is_not_needed() {
    let dir = tempfile::tempdir().unwrap();
    let (one, two) = (
        format!("exa{}", std::process::id()),
        format!("exb{}", std::process::id()),
    );
    let _guard = AgentsGuard(vec![one.clone(), two.clone()]);
    let path = manifest(dir.path(), "", &[one.clone(), two.clone()]);
    let mut env = image_env(dir.path());
    // claude-bottle writes no temporary files: a missing TMPDIR changes nothing.
    env.push(("TMPDIR".into(), "/nonexistent/claude-bottle-tmp".into()));
    let tmux = Tmux::start("exit", dir.path(), &env, &format!("--manifest '{path}'"));
    tmux.wait_for(&one);
    let line = |s: &str, agent: &str| {
        s.lines()
            .find(|l| l.contains(&format!("{agent} · plain")))
            .unwrap_or_default()
            .to_owned()
    };

    // The agent's command exits non-zero.
    tmux.launch_selected(&one);
    tmux.keys(&["i"]);
    tmux.type_text("exit 7");
    tmux.keys(&["Enter"]);
    tmux.wait("exited (7)", Duration::from_secs(30), |s| {
        line(s, &one).contains("exited (7)")
    });
    tmux.keys(&["?"]);
    tmux.wait_for("restart the tab's egress sidecar");
    tmux.keys(&["Escape"]);

    // The agent is killed by a signal.
    tmux.keys(&["j"]);
    tmux.launch_selected(&two);
    tmux.keys(&["i"]);
    tmux.type_text("kill -9 $$");
    tmux.keys(&["Enter"]);
    tmux.wait("killed agent shows", Duration::from_secs(30), |s| {
        line(s, &two).contains("exited (137)")
    });
    // The terminal's client (`docker exec`) is killed: the PTY closes.
    tmux.keys(&["i"]);
    tmux.wait("reopened", LAUNCH, |s| line(s, &two).contains("running"));
    let dashboard = tmux.dashboard_pid();
    let agent_id = docker_ok(&["inspect", "-f", "{{.Id}}", &container_of(&two, "agent")]);
    let out = Command::new("pgrep")
        .args(["-P", &dashboard.to_string(), "-f", &agent_id])
        .output()
        .unwrap();
    let client = String::from_utf8_lossy(&out.stdout).trim().to_owned();
    assert!(!client.is_empty() && !client.contains('\n'), "{client:?}");
    assert!(
        Command::new("kill")
            .args(["-KILL", &client])
            .status()
            .unwrap()
            .success()
    );
    tmux.wait("closed terminal shows", Duration::from_secs(30), |s| {
        line(s, &two).contains("exited (")
    });
    // Still alive and answering.
    tmux.keys(&["?"]);
    tmux.wait_for("restart the tab's egress sidecar");
    tmux.keys(&["Escape"]);

    quit_tearing_down(&tmux);
    for agent in [&one, &two] {
        assert_nothing_labelled(&format!("claude-bottle.agent={agent}"), "after quit");
    }
}

/// Whether `needle` occurs in a container's exported filesystem. grep
/// reads the pattern from a file, so it is on no command line.
/// Where the secrets are in the containers' files (their whole file systems,
/// as exported). The answer is also a value the sidecar's DLP watches for:
/// in its secrets file only (mode 0400, its own uid, removed with it); the
/// token nowhere.
fn leaks_in_files(agent_c: &str, sidecar: &str, secrets: &[(&str, &str)]) -> Vec<String> {
    let mut leaks = Vec::new();
    assert!(!container_files_with(agent_c, "agent:x:1000").is_empty());
    for container in [agent_c, sidecar] {
        for &(what, secret) in secrets {
            let found = container_files_with(container, secret);
            let expected: Vec<&str> = if container == sidecar && what == "answer" {
                vec!["config/secrets"]
            } else {
                vec![]
            };
            let places: Vec<&str> = found.iter().map(|(p, _, _)| p.as_str()).collect();
            if places != expected {
                leaks.push(format!("the {what} is in {container}'s files {places:?}"));
            }
            for (path, mode, uid) in &found {
                if *mode != 0o400 || *uid == 0 {
                    leaks.push(format!("{container}:{path} is mode {mode:o}, uid {uid}"));
                }
            }
        }
    }
    leaks
}

/// The regular files of `container` (its whole file system, as exported)
/// that contain `needle`: path, permission bits, owner uid.
fn container_files_with(container: &str, needle: &str) -> Vec<(String, u32, u64)> {
    use std::io::Read as _;
    let out = Command::new("docker")
        .args(["export", container])
        .output()
        .unwrap();
    assert!(out.status.success(), "docker export {container} failed");
    let mut found = Vec::new();
    let mut archive = tar::Archive::new(out.stdout.as_slice());
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        if entry.header().entry_type() != tar::EntryType::Regular {
            continue;
        }
        let mut bytes = Vec::new();
        entry.read_to_end(&mut bytes).unwrap();
        if bytes.windows(needle.len()).any(|w| w == needle.as_bytes()) {
            let path = entry.path().unwrap().display().to_string();
            let mode = entry.header().mode().unwrap() & 0o7777;
            let uid = entry.header().uid().unwrap();
            found.push((path, mode, uid));
        }
    }
    found
}

/// Every regular file under `dir`.
fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap().flatten() {
        let path = entry.path();
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            files.extend(files_under(&path));
        } else if kind.is_file() {
            files.push(path);
        }
    }
    files
}

/// Every process's command line on the host.
fn host_cmdlines() -> Vec<(String, Vec<u8>)> {
    std::fs::read_dir("/proc")
        .unwrap()
        .flatten()
        .filter_map(|entry| {
            let path = entry.path().join("cmdline");
            let text = std::fs::read(&path).ok()?;
            Some((path.display().to_string(), text))
        })
        .collect()
}

/// What `list` and `show` print (text and JSON), stdout and stderr.
fn list_and_show(
    manifest: &str,
    env: &[(String, String)],
    dir: &Path,
    agent: &str,
) -> Vec<(String, Vec<u8>)> {
    let mut outputs = Vec::new();
    for args in [
        vec!["list"],
        vec!["list", "--json"],
        vec!["show", agent],
        vec!["show", agent, "--json"],
    ] {
        let out = Command::new(BIN)
            .args(["--manifest", manifest])
            .args(&args)
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}");
        outputs.push((format!("{args:?} stdout"), out.stdout));
        outputs.push((format!("{args:?} stderr"), out.stderr));
    }
    outputs
}

#[test]
fn the_token_and_a_hidden_answer_appear_nowhere_but_the_agents_environment() {
    let dir = tempfile::tempdir().unwrap();
    let pid = std::process::id();
    let agent = format!("sec{pid}");
    let token = format!("sk-ant-oat01-tok{pid}zq");
    let answer = format!("hunter{pid}qx");
    let _guard = AgentsGuard(vec![agent.clone()]);
    let (home, work, tmp) = (
        dir.path().join("home"),
        dir.path().join("work"),
        dir.path().join("tmp"),
    );
    for d in [&home, &work, &tmp] {
        std::fs::create_dir(d).unwrap();
    }
    let path = manifest(
        &work,
        r#""DB_PASS": "?db password""#,
        std::slice::from_ref(&agent),
    );
    let mut env = image_env(&home);
    env.retain(|(k, _)| k != "CLAUDE_BOTTLE_OAUTH_TOKEN");
    env.push(("CLAUDE_BOTTLE_OAUTH_TOKEN".into(), token.clone()));
    env.push(("TMPDIR".into(), tmp.display().to_string()));
    let tmux = Tmux::start("secret", &work, &env, &format!("--manifest '{path}'"));
    tmux.wait_for(&agent);
    tmux.wait_for_engine();
    tmux.keys(&["Enter"]);
    tmux.wait_for("Launch?");
    tmux.keys(&["y"]);
    tmux.wait_for("db password");
    tmux.type_text(&answer);
    let typed = tmux.wait("masked input", Duration::from_secs(10), |s| {
        s.contains(&"•".repeat(answer.len()))
    });
    assert!(!typed.contains(&answer), "{typed}");
    tmux.keys(&["Enter"]);
    tmux.wait(&format!("{agent} running"), LAUNCH, |s| {
        s.contains(&format!("{agent} · plain · running"))
    });
    // Both reached the agent's shell.
    tmux.keys(&["i"]);
    tmux.type_text("echo len=${#DB_PASS} tok=${#CLAUDE_CODE_OAUTH_TOKEN}");
    tmux.keys(&["Enter"]);
    tmux.wait_for(&format!("len={} tok={}", answer.len(), token.len()));
    tmux.keys(&["C-]"]);

    let mut leaks = Vec::new();
    let secrets = [("token", token.as_str()), ("answer", answer.as_str())];
    let mut check = |place: &str, text: &[u8]| {
        for (what, secret) in secrets {
            if text.windows(secret.len()).any(|w| w == secret.as_bytes()) {
                leaks.push(format!("the {what} is in {place}"));
            }
        }
    };
    check("the screen", tmux.screen().as_bytes());
    for (place, text) in host_cmdlines() {
        check(&place, &text);
    }
    let agent_c = container_of(&agent, "agent");
    let sidecar = container_of(&agent, "sidecar");
    for container in [&agent_c, &sidecar] {
        check(
            &format!("docker inspect {container}"),
            docker_ok(&["inspect", container]).as_bytes(),
        );
    }
    for (place, text) in list_and_show(&path, &env, &work, &agent) {
        check(&place, &text);
    }
    leaks.extend(leaks_in_files(&agent_c, &sidecar, &secrets));

    quit_tearing_down(&tmux);
    // No log file, no other file: HOME, the working directory and TMPDIR
    // hold only the manifest.
    let mut written = Vec::new();
    for d in [&home, &work, &tmp] {
        written.extend(files_under(d));
    }
    assert_eq!(
        written,
        vec![PathBuf::from(&path)],
        "files the dashboard wrote"
    );
    assert!(leaks.is_empty(), "{leaks:#?}");
    assert_nothing_labelled(&format!("claude-bottle.agent={agent}"), "after quit");
}
