//! The real `claude-bottle run` binary on the real engine: where the OAuth
//! token goes (only into the command's own environment), how every way a run
//! can end tears its bottle down, how `gc` finds what a killed run left, that
//! a runtime the engine lacks is refused before anything is made, and that the
//! real claude binary runs in a bottle.
#![allow(clippy::expect_used)] // a broken fixture should fail the test loudly

mod common;
mod probe;

use std::io::{BufRead as _, BufReader, Read as _};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use claude_bottle::docker::container::exec_collect;
use claude_bottle::docker::labels;
use probe::{Findings, docker, docker_ok};

const BIN: &str = env!("CARGO_BIN_EXE_claude-bottle");
/// How long a launch may take on a busy 2-core machine.
const LAUNCH_TIMEOUT: Duration = Duration::from_secs(90);

/// A manifest with one agent, in a temp dir.
struct Setup {
    _dir: tempfile::TempDir,
    manifest: PathBuf,
    agent: String,
}

impl Setup {
    fn new(prefix: &str, runtime: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let agent = probe::unique(prefix);
        let manifest = dir.path().join("claude-bottle.json");
        let text = serde_json::json!({
            "bottles": { "b": {
                "runtime": runtime,
                "env": { "MANIFEST_VAR": "from-the-manifest" },
                "egress": { "allowlist": ["allowed.test"], "private_hosts": ["allowed.test"] }
            }},
            "agents": { &agent: { "bottle": "b" } }
        });
        std::fs::write(&manifest, text.to_string()).expect("write manifest");
        Self {
            _dir: dir,
            manifest,
            agent,
        }
    }

    /// `claude-bottle --manifest M <args>` with the test images and `token`.
    fn command(&self, token: &str, args: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.arg("--manifest").arg(&self.manifest).args(args);
        cmd.envs(common::test_image_env())
            .env("CLAUDE_BOTTLE_OAUTH_TOKEN", token)
            .env_remove("CLAUDE_CODE_OAUTH_TOKEN")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    }

    /// `run <agent> --yes -- bash -c SCRIPT`, started.
    fn run(&self, token: &str, script: &str) -> Running {
        Running::start(self.command(
            token,
            &["run", &self.agent, "--yes", "--", "bash", "-c", script],
        ))
    }

    fn agent_label(&self) -> String {
        format!("{}={}", labels::AGENT, self.agent)
    }

    /// Removes whatever this agent's runs leave, when the test ends.
    fn cleanup(&self) -> probe::Cleanup {
        let mut cleanup = probe::Cleanup::default();
        cleanup.label(&self.agent_label());
        cleanup
    }
}

/// A running `claude-bottle` whose output is collected as it comes.
struct Running {
    child: Child,
    stdout: Arc<Mutex<String>>,
    stderr: Arc<Mutex<String>>,
    readers: Vec<std::thread::JoinHandle<()>>,
}

impl Running {
    fn start(mut cmd: Command) -> Self {
        let mut child = cmd.spawn().expect("start claude-bottle");
        let stdout = Arc::new(Mutex::new(String::new()));
        let stderr = Arc::new(Mutex::new(String::new()));
        let out_pipe = child.stdout.take().expect("stdout");
        let err_pipe = child.stderr.take().expect("stderr");
        let readers = vec![collect(out_pipe, &stdout), collect(err_pipe, &stderr)];
        Self {
            child,
            stdout,
            stderr,
            readers,
        }
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }

    fn stdout(&self) -> String {
        self.stdout.lock().expect("stdout").clone()
    }

    fn stderr(&self) -> String {
        self.stderr.lock().expect("stderr").clone()
    }

    /// Waits until stdout has `marker`; fails with the output so far if it
    /// does not come, or the process ends first.
    fn wait_for(&mut self, marker: &str) {
        let deadline = Instant::now() + LAUNCH_TIMEOUT;
        while !self.stdout().contains(marker) {
            let ended = self.child.try_wait().expect("poll claude-bottle");
            assert!(
                ended.is_none() && Instant::now() < deadline,
                "claude-bottle never printed {marker:?} (ended: {ended:?})\nstdout:\n{}\nstderr:\n{}",
                self.stdout(),
                self.stderr()
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Waits for the process to end; returns its exit code (None: killed by a signal).
    fn finish(mut self) -> (Option<i32>, String, String) {
        let status = self.child.wait().expect("wait for claude-bottle");
        for reader in self.readers.drain(..) {
            let _ = reader.join();
        }
        (status.code(), self.stdout(), self.stderr())
    }

    /// The session of this process's bottle, read from its labels.
    fn session(&self) -> String {
        let filter = format!("label={}={}", labels::OWNER_PID, self.pid());
        let what = format!("a bottle that carries owner pid {}", self.pid());
        common::wait::until(&what, LAUNCH_TIMEOUT, Duration::from_millis(100), || {
            let format = format!("{{{{.Label \"{}\"}}}}", labels::SESSION);
            let found = docker_ok(&["ps", "-a", "--filter", &filter, "--format", &format]);
            found
                .lines()
                .find(|l| !l.is_empty())
                .map(str::to_owned)
                .ok_or("none yet")
        })
    }
}

fn collect(
    mut pipe: impl std::io::Read + Send + 'static,
    into: &Arc<Mutex<String>>,
) -> std::thread::JoinHandle<()> {
    let into = Arc::clone(into);
    std::thread::spawn(move || {
        let mut reader = BufReader::new(&mut pipe);
        let mut line = String::new();
        while reader.read_line(&mut line).is_ok_and(|n| n > 0) {
            into.lock().expect("output").push_str(&line);
            line.clear();
        }
        let mut rest = String::new();
        let _ = reader.read_to_string(&mut rest);
        into.lock().expect("output").push_str(&rest);
    })
}

/// The id of the container with `role` in `session`.
fn container_of(session: &str, role: &str) -> String {
    let session_filter = format!("label={}={session}", labels::SESSION);
    let role_filter = format!("label={}={role}", labels::ROLE);
    let id = docker_ok(&[
        "ps",
        "-aq",
        "--no-trunc",
        "--filter",
        &session_filter,
        "--filter",
        &role_filter,
    ]);
    assert!(!id.is_empty(), "session {session} has no {role} container");
    id
}

fn session_label(session: &str) -> String {
    format!("{}={session}", labels::SESSION)
}

fn fake_token() -> String {
    probe::unique("sk-ant-oat01-TESTTOKEN-")
}

/// Host processes whose command line holds `needle`.
fn host_cmdlines_with(needle: &str) -> Vec<String> {
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("read /proc").flatten() {
        let Ok(cmdline) = std::fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        let cmdline = String::from_utf8_lossy(&cmdline).replace('\0', " ");
        if cmdline.contains(needle) {
            found.push(format!(
                "{}: {cmdline}",
                entry.file_name().to_string_lossy()
            ));
        }
    }
    found
}

#[tokio::test]
async fn the_token_is_only_in_the_commands_environment() {
    common::launch_settings().await;
    let engine = common::engine().await;
    let setup = Setup::new("tok", "runc");
    let token = fake_token();
    let mut run = setup.run(
        &token,
        "echo pid=$$; \
         if [ -n \"$CLAUDE_CODE_OAUTH_TOKEN\" ]; then echo token-set len=${#CLAUDE_CODE_OAUTH_TOKEN}; fi; \
         echo manifest-var=$MANIFEST_VAR; \
         echo STARTED; \
         for i in $(seq 1200); do [ -e /tmp/finish ] && break; sleep 0.1; done; echo DONE",
    );
    run.wait_for("STARTED");
    let session = run.session();
    let mut cleanup = probe::Cleanup::default();
    cleanup.session(&session);
    let agent = container_of(&session, "agent");
    let sidecar = container_of(&session, "sidecar");
    let pid = run
        .stdout()
        .lines()
        .find_map(|l| l.strip_prefix("pid=").map(str::to_owned))
        .expect("the command printed its pid");
    let mut findings = Findings::default();

    engine_view(&engine, &session, &agent, &sidecar, &token, &mut findings).await;
    // The host's view: no command line carries it.
    let cmdlines = host_cmdlines_with(&token);
    findings.check(cmdlines.is_empty(), || {
        format!("host processes have the token on their command line: {cmdlines:?}")
    });

    inside_view(&engine, &agent, &pid, &token, &mut findings).await;

    // Let the command end.
    exec_collect(&engine, &agent, None, &["touch", "/tmp/finish"], vec![])
        .await
        .expect("touch /tmp/finish");
    let (code, stdout, stderr) = run.finish();
    findings.check(code == Some(0), || {
        format!("run exited with {code:?}: {stderr}")
    });
    findings.check(
        stdout.contains(&format!("token-set len={}", token.len())),
        || format!("the command did not see CLAUDE_CODE_OAUTH_TOKEN: {stdout}"),
    );
    findings.check(stdout.contains("manifest-var=from-the-manifest"), || {
        format!("the command did not get the manifest's env: {stdout}")
    });
    findings.check(stdout.contains("DONE"), || {
        format!("the command's output was cut short: {stdout}")
    });
    findings.check(!stdout.contains(&token) && !stderr.contains(&token), || {
        "`claude-bottle run` printed the token".into()
    });
    findings.assert_none("the OAuth token");
    probe::assert_nothing_labelled(&session_label(&session), "after the run");
}

#[tokio::test]
async fn a_runtime_the_engine_lacks_is_refused_before_anything_is_made() {
    common::launch_settings().await;
    let runtimes = docker_ok(&[
        "info",
        "-f",
        "{{range $name, $_ := .Runtimes}}{{$name}} {{end}}",
    ]);
    assert!(
        !runtimes.split_whitespace().any(|r| r == "runsc"),
        "this test needs an engine without runsc registered; it has: {runtimes}"
    );
    let setup = Setup::new("gv", "runsc");
    let _cleanup = setup.cleanup();
    let (code, stdout, stderr) = setup.run(&fake_token(), "echo ran").finish();
    assert_ne!(code, Some(0), "a runsc bottle launched: {stdout}{stderr}");
    assert!(!stdout.contains("ran"), "the command ran: {stdout}");
    assert!(
        stderr.contains("runsc") && stderr.contains("--add-runtime runsc="),
        "the refusal does not say how to register runsc:\n{stderr}"
    );
    probe::assert_nothing_labelled(&setup.agent_label(), "after a refused runsc launch");
}

/// `doctor` on the real engine: the runtimes of sound bottles are checked
/// even when another entry has errors, and both problems fail it.
#[tokio::test]
async fn doctor_checks_the_sound_bottles_runtimes_and_reports_broken_entries() {
    common::launch_settings().await;
    let dir = tempfile::tempdir().unwrap();
    let manifest = dir.path().join("claude-bottle.json");
    let token = fake_token();
    let doctor = |text: &str| {
        std::fs::write(&manifest, text).unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_claude-bottle"))
            .arg("--manifest")
            .arg(&manifest)
            .arg("doctor")
            .env("CLAUDE_BOTTLE_OAUTH_TOKEN", &token)
            .output()
            .unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    };
    let (code, report) = doctor(r#"{"bottles": {"b": {}}, "agents": {"a": {"bottle": "b"}}}"#);
    assert_eq!(code, Some(0), "{report}");
    assert!(
        report.contains("ok       runtime runc registered"),
        "{report}"
    );
    assert!(
        report.contains("ok       manifest valid: 1 bottle(s), 1 agent(s)"),
        "{report}"
    );

    let (code, report) = doctor(
        r#"{"bottles": {"g": {"runtime": "runsc"}, "bad": {"runtime": "gvisor"}},
            "agents": {"a": {"bottle": "g"}}}"#,
    );
    assert_eq!(code, Some(1), "{report}");
    assert!(
        report.contains("error    runtime runsc is used by a bottle but not registered"),
        "{report}"
    );
    assert!(report.contains("error    manifest has errors:"), "{report}");
    assert!(
        report.contains("bottles.bad.runtime: unknown runtime `gvisor`"),
        "{report}"
    );
    assert!(
        !report.contains(&fake_token()),
        "the token leaked: {report}"
    );
}

/// The engine is chosen as the docker CLI chooses it: a docker context
/// (`DOCKER_CONTEXT`, or the CLI config's current one) names the real
/// engine's socket, `doctor` says so and `ps` reaches it; a context that
/// does not exist stops every command with the fix.
#[test]
fn a_docker_context_chooses_the_engine() {
    use sha2::Digest as _;
    let config = tempfile::tempdir().unwrap();
    let id = format!("{:x}", sha2::Sha256::digest(b"here"));
    let meta = config.path().join("contexts/meta").join(id);
    std::fs::create_dir_all(&meta).unwrap();
    let socket =
        std::env::var("DOCKER_HOST").unwrap_or_else(|_| "unix:///var/run/docker.sock".into());
    let json = format!(r#"{{"Name":"here","Endpoints":{{"docker":{{"Host":"{socket}"}}}}}}"#);
    std::fs::write(meta.join("meta.json"), json).unwrap();
    let run = |context: Option<&str>, args: &[&str]| {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_claude-bottle"));
        cmd.args(args)
            .env_remove("DOCKER_HOST")
            .env_remove("DOCKER_CONTEXT")
            .env("DOCKER_CONFIG", config.path())
            .env("CLAUDE_BOTTLE_OAUTH_TOKEN", fake_token());
        if let Some(name) = context {
            cmd.env("DOCKER_CONTEXT", name);
        }
        let out = cmd.output().unwrap();
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned()
                + &String::from_utf8_lossy(&out.stderr),
        )
    };
    let (_, report) = run(Some("here"), &["doctor"]);
    assert!(
        report.contains(&format!(
            "reached through docker context here (DOCKER_CONTEXT) at {socket}"
        )),
        "{report}"
    );
    std::fs::write(
        config.path().join("config.json"),
        r#"{"currentContext":"here"}"#,
    )
    .unwrap();
    let (code, listed) = run(None, &["ps"]);
    assert_eq!(code, Some(0), "{listed}");
    let (_, report) = run(None, &["doctor"]);
    assert!(
        report.contains("docker context here (the docker CLI's current context)"),
        "{report}"
    );
    let (code, refused) = run(Some("nowhere"), &["ps"]);
    assert_eq!(code, Some(2), "{refused}");
    assert!(
        refused.contains("docker context \"nowhere\" (DOCKER_CONTEXT) is not in"),
        "{refused}"
    );
}

#[tokio::test]
async fn run_passes_the_exit_code_and_tears_down() {
    common::launch_settings().await;
    let ok = Setup::new("ok", "runc");
    let failing = Setup::new("fail", "runc");
    let _cleanup = (ok.cleanup(), failing.cleanup());
    // Both at once: they are independent.
    let ok_run = ok.run(&fake_token(), "echo in-bottle=$(hostname)");
    let failing_run = failing.run(&fake_token(), "echo failing; exit 7");
    let (ok_code, ok_out, ok_err) = ok_run.finish();
    let (fail_code, fail_out, fail_err) = failing_run.finish();
    assert_eq!(
        ok_code,
        Some(0),
        "a successful command:\n{ok_out}\n{ok_err}"
    );
    assert!(
        ok_out.contains(&format!("in-bottle={}", ok.agent)),
        "the command did not run in the agent's container: {ok_out}"
    );
    assert_eq!(
        fail_code,
        Some(7),
        "`exit 7` in the bottle:\n{fail_out}\n{fail_err}"
    );
    assert!(fail_out.contains("failing"), "{fail_out}");
    probe::assert_nothing_labelled(&ok.agent_label(), "after a successful run");
    probe::assert_nothing_labelled(&failing.agent_label(), "after a failing run");
}

#[tokio::test]
async fn sigterm_tears_down_and_exits_143() {
    common::launch_settings().await;
    let setup = Setup::new("term", "runc");
    let _cleanup = setup.cleanup();
    let mut run = setup.run(&fake_token(), "echo STARTED; sleep 120");
    run.wait_for("STARTED");
    let session = run.session();
    let started = Instant::now();
    docker_ok(&["ps", "-q"]); // the engine answers; the bottle is up
    let killed = Command::new("kill")
        .args(["-TERM", &run.pid().to_string()])
        .status()
        .expect("kill -TERM");
    assert!(killed.success());
    let (code, stdout, stderr) = run.finish();
    assert_eq!(code, Some(143), "after SIGTERM:\n{stdout}\n{stderr}");
    assert!(
        started.elapsed() < Duration::from_secs(60),
        "teardown after SIGTERM took {:?}",
        started.elapsed()
    );
    probe::assert_nothing_labelled(&session_label(&session), "after SIGTERM");
}

#[tokio::test]
async fn gc_removes_what_a_killed_run_left() {
    common::launch_settings().await;
    let setup = Setup::new("kill", "runc");
    let mut run = setup.run(&fake_token(), "echo STARTED; sleep 120");
    run.wait_for("STARTED");
    let session = run.session();
    let mut cleanup = probe::Cleanup::default();
    cleanup.session(&session);
    run.child.kill().expect("SIGKILL claude-bottle");
    let (code, _, _) = run.finish();
    assert_eq!(code, None, "claude-bottle should have died of SIGKILL");

    let label = session_label(&session);
    let left = probe::labelled(&label);
    assert_eq!(
        (left.0.len(), left.1.len()),
        (2, 2),
        "a SIGKILLed run should leave its 2 containers and 2 networks: {left:?}"
    );
    let gc = |args: &[&str]| {
        let out = setup.command("unused", args).output().expect("run gc");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, stdout, stderr) = gc(&["gc", "--dry-run"]);
    assert_eq!(code, Some(0), "gc --dry-run:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("session {session}")) && stdout.contains("dry run"),
        "gc --dry-run does not list session {session}:\n{stdout}"
    );
    assert_eq!(
        probe::labelled(&label),
        left,
        "gc --dry-run removed something"
    );
    let (code, stdout, stderr) = gc(&["gc", "--yes"]);
    assert_eq!(code, Some(0), "gc --yes:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains(&format!("removed session {session}")),
        "gc --yes did not report removing {session}:\n{stdout}"
    );
    probe::assert_nothing_labelled(&label, "after gc --yes");
}

#[tokio::test]
async fn the_real_claude_runs_in_a_bottle() {
    common::launch_settings().await;
    let setup = Setup::new("claude", "runc");
    let _cleanup = setup.cleanup();
    let run = Running::start(setup.command(
        &fake_token(),
        &["run", &setup.agent, "--yes", "--", "claude", "--version"],
    ));
    let (code, stdout, stderr) = run.finish();
    assert_eq!(code, Some(0), "claude --version:\n{stdout}\n{stderr}");
    assert!(
        stdout.contains("(Claude Code)"),
        "claude --version printed no version:\n{stdout}\n{stderr}"
    );
    probe::assert_nothing_labelled(&setup.agent_label(), "after claude --version");
}

/// What the engine shows of a running bottle: container and network configs,
/// the execs, the containers' logs.
async fn engine_view(
    engine: &claude_bottle::docker::engine::Engine,
    session: &str,
    agent: &str,
    sidecar: &str,
    token: &str,
    findings: &mut Findings,
) {
    // The engine's view: container configs, networks, execs, logs.
    let (containers, networks) = probe::labelled(&session_label(session));
    let mut inspect = vec!["inspect"];
    inspect.extend(containers.iter().map(String::as_str));
    let container_json = docker_ok(&inspect);
    findings.check(!container_json.contains(token), || {
        "`docker inspect` of the bottle's containers shows the token".into()
    });
    findings.check(container_json.contains("HTTPS_PROXY"), || {
        "`docker inspect` output does not look like the containers' config".into()
    });
    let mut inspect = vec!["network", "inspect"];
    inspect.extend(networks.iter().map(String::as_str));
    findings.check(!docker_ok(&inspect).contains(token), || {
        "`docker network inspect` shows the token".into()
    });
    let exec_ids = docker_ok(&["inspect", "-f", "{{range .ExecIDs}}{{.}} {{end}}", agent]);
    findings.check(!exec_ids.trim().is_empty(), || {
        "the agent container lists no exec".into()
    });
    for id in exec_ids.split_whitespace() {
        let exec = engine.docker.inspect_exec(id).await.expect("inspect exec");
        let json = serde_json::to_string(&exec).expect("exec as JSON");
        findings.check(!json.contains(token), || {
            format!("the engine's inspect of exec {id} shows the token")
        });
    }
    for container in [agent, sidecar] {
        let logs = docker(&["logs", container]);
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&logs.stdout),
            String::from_utf8_lossy(&logs.stderr)
        );
        findings.check(!text.contains(token), || {
            format!("`docker logs {container}` shows the token")
        });
    }
}

/// What is inside the agent container: files, and other processes.
async fn inside_view(
    engine: &claude_bottle::docker::engine::Engine,
    agent: &str,
    pid: &str,
    token: &str,
    findings: &mut Findings,
) {
    // Inside: no file holds it. The token to look for is given in the probe's
    // environment, so the probe itself does not put it on a command line.
    // grep exits 2 when some files cannot be read (0600 files of another
    // uid; even root has no CAP_DAC_OVERRIDE here): only printed paths count.
    // The control looks for a line of /etc/passwd the same way.
    let grep = "grep -rlsF -e \"$NEEDLE\" / --exclude-dir=proc --exclude-dir=sys; true";
    let search = |user: &'static str, needle: String| async move {
        exec_collect(
            engine,
            agent,
            Some(user),
            &["bash", "-c", grep],
            vec![format!("NEEDLE={needle}")],
        )
        .await
        .expect("grep in the agent")
    };
    let control = search("1000", "agent:x:1000:1000".into()).await;
    assert!(
        control.stdout.lines().any(|l| l == "/etc/passwd"),
        "control: the file search does not find /etc/passwd's agent line: {}",
        probe::show(&control)
    );
    for user in ["1000", "0"] {
        let out = search(user, token.to_owned()).await;
        findings.check(out.stdout.trim().is_empty(), || {
            format!(
                "as uid {user}, files in the agent hold the token: {}",
                probe::show(&out)
            )
        });
    }
    let export = Command::new("bash")
        .args([
            "-c",
            "docker export \"$1\" | grep -caF -f <(printf '%s\\n' \"$NEEDLE\")",
            "export",
            agent,
        ])
        .env("NEEDLE", token)
        .output()
        .expect("docker export | grep");
    let export_hits = String::from_utf8_lossy(&export.stdout).trim().to_owned();
    findings.check(export_hits == "0", || {
        format!(
            "the agent container's file system (docker export) holds the token: {export_hits} \
             match(es); {}",
            String::from_utf8_lossy(&export.stderr)
        )
    });

    // Other processes in the container. A second exec does not get the token.
    let other = exec_collect(
        engine,
        agent,
        None,
        &[
            "bash",
            "-c",
            "env | grep -c '^CLAUDE_CODE_OAUTH_TOKEN=' ; true",
        ],
        vec![],
    )
    .await
    .expect("second exec");
    findings.check(other.stdout.trim() == "0", || {
        format!("a second exec inherits the token: {}", probe::show(&other))
    });
    // The same uid can read the first process's environment: the token is the
    // agent's by design, and everything in the bottle runs as the agent. This
    // documents the boundary; it is the same uid, not a leak across one.
    let read_environ = format!(
        "tr '\\0' '\\n' < /proc/{pid}/environ 2>/dev/null | grep -c '^CLAUDE_CODE_OAUTH_TOKEN='; true"
    );
    let same_uid = exec_collect(
        engine,
        agent,
        Some("1000"),
        &["bash", "-c", &read_environ],
        vec![],
    )
    .await
    .expect("read environ as 1000");
    findings.check(same_uid.stdout.trim() == "1", || {
        format!(
            "expected the agent user to see its own command's environment (documented \
             behaviour), got {}",
            probe::show(&same_uid)
        )
    });
    let other_uid = exec_collect(
        engine,
        agent,
        Some("65534"),
        &["bash", "-c", &read_environ],
        vec![],
    )
    .await
    .expect("read environ as 65534");
    findings.check(other_uid.stdout.trim() == "0", || {
        format!(
            "another uid in the container can read the token from /proc/{pid}/environ: {}",
            probe::show(&other_uid)
        )
    });
}

/// Separate processes cannot see each other's subnet reservations: they race
/// for subnets, and every one of them must still launch. (Sixteen: when each
/// took the first free block, half of them ran out of retries.)
#[tokio::test]
async fn sixteen_runs_in_separate_processes_all_launch() {
    common::launch_settings().await;
    let setup = Setup::new("race", "runc");
    let _cleanup = setup.cleanup();
    let runs: Vec<Running> = (0..16)
        .map(|i| setup.run(&fake_token(), &format!("echo launched-{i}")))
        .collect();
    let mut failures = Vec::new();
    for (i, run) in runs.into_iter().enumerate() {
        let (code, stdout, stderr) = run.finish();
        if code != Some(0) || !stdout.contains(&format!("launched-{i}")) {
            failures.push(format!("run {i} exited {code:?}:\n{stdout}\n{stderr}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} of 16 concurrent runs failed:\n{}",
        failures.len(),
        failures.join("\n---\n")
    );
    probe::assert_nothing_labelled(&setup.agent_label(), "after 16 concurrent runs");
}

/// `logs <agent> --denied` while a `run` of that agent is going: the request
/// its command made and the sidecar refused, and nothing else.
#[tokio::test]
async fn logs_shows_a_running_bottles_denials() {
    common::launch_settings().await;
    let setup = Setup::new("logs", "runc");
    let _cleanup = setup.cleanup();
    let logs = |args: &[&str]| {
        let mut full = vec!["logs", setup.agent.as_str()];
        full.extend_from_slice(args);
        let out = setup
            .command("unused", &full)
            .output()
            .expect("run claude-bottle logs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, _, stderr) = logs(&["--denied"]);
    assert_eq!(code, Some(1), "{stderr}");
    assert!(stderr.contains("no running bottle"), "{stderr}");

    let mut run = setup.run(
        "unused",
        "curl -s -o /dev/null -w 'status=%{http_code}\\n' http://denied.test/; \
         echo REQUESTED; sleep 300",
    );
    run.wait_for("REQUESTED");
    let wanted = "BLOCKED GET http://denied.test/ allowlist: domain not in allowlist: denied.test";
    let denied = common::wait::until(
        "the denial in logs",
        LAUNCH_TIMEOUT,
        Duration::from_millis(200),
        || {
            let (code, stdout, stderr) = logs(&["--denied"]);
            assert_eq!(code, Some(0), "{stderr}");
            if stdout.contains(wanted) {
                Ok(stdout)
            } else {
                Err(format!("{stdout}\n{}", run.stdout()))
            }
        },
    );
    assert_eq!(denied.lines().count(), 1, "only the denial:\n{denied}");
    let (_, everything, _) = logs(&[]);
    assert!(everything.contains(" START "), "{everything}");
    let (_, json, _) = logs(&["--denied", "--json"]);
    let event: serde_json::Value = serde_json::from_str(json.trim()).expect("one JSON line");
    assert_eq!(event["event"], "blocked");
    assert_eq!(event["url"], "http://denied.test/");
    // `logs` leaves the bottle alone.
    assert!(run.child.try_wait().expect("poll run").is_none());
    let status = Command::new("kill")
        .args(["-TERM", &run.pid().to_string()])
        .status()
        .expect("kill");
    assert!(status.success());
    let (code, _, _) = run.finish();
    assert_eq!(code, Some(143));
}
