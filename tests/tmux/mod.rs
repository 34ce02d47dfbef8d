//! The real dashboard in a detached tmux session, for the tests that drive
//! it as a person would: keys in, screen out, its process id for signals
//! and memory.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;
use std::time::Duration;

pub const BIN: &str = env!("CARGO_BIN_EXE_claude-bottle");

/// A tmux command on this test process's own server (`-L`), so the tests
/// never touch the user's tmux sessions or each other's.
pub fn tmux() -> Command {
    let mut cmd = Command::new("tmux");
    cmd.args([
        "-L",
        &format!("cb-tests-{}", std::process::id()),
        "-f",
        "/dev/null",
    ]);
    cmd
}

/// For a dashboard started with no extra environment.
pub const NO_ENV: &[(&str, &str)] = &[];

/// One detached tmux session running the dashboard; killed on drop.
pub struct Tmux {
    pub name: String,
    /// Holds the script that exports the environment: values never go on
    /// a command line (tmux's or sh's), where every process could read them.
    _env_dir: tempfile::TempDir,
}

impl Tmux {
    /// Starts the dashboard with `args` in a 200x50 window, in `dir`, with
    /// `env` exported. When it exits the script prints `EXITED=<code>` and
    /// whether the terminal is back in canonical (cooked) mode, `MODE=...`.
    pub fn start(
        tag: &str,
        dir: &Path,
        env: &[(impl AsRef<str>, impl AsRef<str>)],
        args: &str,
    ) -> Self {
        let name = format!("cb-{tag}-{}", std::process::id());
        let exports = env
            .iter()
            .map(|(k, v)| format!("export {}='{}'\n", k.as_ref(), v.as_ref()))
            .collect::<Vec<_>>()
            .concat();
        let env_dir = tempfile::tempdir().unwrap();
        let env_file = env_dir.path().join("env.sh");
        std::fs::write(&env_file, exports).unwrap();
        let script = format!(
            "cd '{}'; . '{}'; '{BIN}' {args}; echo EXITED=$?; \
             stty -a | grep -q -- '-icanon' && echo MODE=raw || echo MODE=cooked; sleep 600",
            dir.display(),
            env_file.display()
        );
        let _ = tmux().args(["kill-session", "-t", &name]).output();
        let status = tmux()
            .args([
                "new-session",
                "-d",
                "-s",
                &name,
                "-x",
                "200",
                "-y",
                "50",
                &script,
            ])
            .status()
            .expect("tmux is installed (apt-get install tmux)");
        assert!(status.success());
        Self {
            name,
            _env_dir: env_dir,
        }
    }

    pub fn keys(&self, keys: &[&str]) {
        for key in keys {
            let status = tmux()
                .args(["send-keys", "-t", &self.name, key])
                .status()
                .unwrap();
            assert!(status.success());
        }
    }

    /// Types text literally (no key names).
    pub fn type_text(&self, text: &str) {
        let status = tmux()
            .args(["send-keys", "-t", &self.name, "-l", text])
            .status()
            .unwrap();
        assert!(status.success());
    }

    /// The dashboard's process id: the pane's shell's child.
    pub fn dashboard_pid(&self) -> u32 {
        let out = tmux()
            .args(["list-panes", "-t", &self.name, "-F", "#{pane_pid}"])
            .output()
            .unwrap();
        let shell = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        let out = Command::new("pgrep").args(["-P", &shell]).output().unwrap();
        let pid = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        pid.parse()
            .unwrap_or_else(|_| panic!("children of {shell}: {pid:?}"))
    }

    pub fn screen(&self) -> String {
        let out = tmux()
            .args(["capture-pane", "-p", "-t", &self.name])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// The screen with its colours (`capture-pane -e`), read back into an
    /// emulator of the window's size (200x50).
    pub fn coloured_screen(&self) -> vt100::Parser {
        let out = tmux()
            .args(["capture-pane", "-p", "-e", "-t", &self.name])
            .output()
            .unwrap();
        parse_capture(&out.stdout, 50, 200)
    }

    /// Waits until the screen satisfies `ok`, failing with the screen.
    pub fn wait(&self, what: &str, timeout: Duration, ok: impl Fn(&str) -> bool) -> String {
        crate::common::wait::until(what, timeout, Duration::from_millis(100), || {
            let screen = self.screen();
            assert!(
                ok(&screen) || !screen.contains("failed to launch"),
                "waited for {what}; the screen:\n{screen}"
            );
            if ok(&screen) { Ok(screen) } else { Err(screen) }
        })
    }

    pub fn wait_for(&self, needle: &str) -> String {
        self.wait(needle, Duration::from_secs(30), |s| s.contains(needle))
    }

    /// Waits until the dashboard has connected to the engine: before that, a
    /// launch is refused ("still connecting").
    pub fn wait_for_engine(&self) {
        self.wait("the engine", Duration::from_secs(30), |s| {
            s.contains(" engine ") && !s.contains("engine: ")
        });
    }

    /// Launches the selected agent (preflight `y`) and waits for its shell.
    pub fn launch_selected(&self, agent: &str) {
        self.wait_for_engine();
        self.keys(&["Enter"]);
        self.wait_for("Launch?");
        self.keys(&["y"]);
        self.wait(&format!("{agent} running"), LAUNCH, |s| {
            assert!(!s.contains("failed to launch"), "{s}");
            s.contains(&format!("{agent} · plain · running"))
        });
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = tmux().args(["kill-session", "-t", &self.name]).status();
    }
}

/// How long one launch may take on a loaded machine.
pub const LAUNCH: Duration = Duration::from_secs(240);

/// Writes a manifest with one `plain` bottle (its `env` as given, JSON) and
/// these agents; returns its path.
pub fn manifest(dir: &Path, env: &str, agents: &[String]) -> String {
    let agents: Vec<String> = agents
        .iter()
        .map(|a| format!(r#""{a}": {{ "bottle": "plain" }}"#))
        .collect();
    let text = format!(
        r#"{{ "bottles": {{ "plain": {{ "env": {{ {env} }} }} }}, "agents": {{ {} }} }}"#,
        agents.join(", ")
    );
    let path = dir.join("claude-bottle.json");
    std::fs::write(&path, text).unwrap();
    path.display().to_string()
}

/// The environment that makes the dashboard use the test images (built
/// once here first) and run `sh` in each bottle.
pub fn image_env(home: &Path) -> Vec<(String, String)> {
    static BUILT: std::sync::OnceLock<()> = std::sync::OnceLock::new();
    BUILT.get_or_init(|| {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(crate::common::launch_settings());
    });
    let mut env: Vec<(String, String)> = crate::common::test_image_env()
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v))
        .collect();
    env.extend([
        ("HOME".into(), home.display().to_string()),
        ("CLAUDE_BOTTLE_AGENT_COMMAND".into(), "sh".into()),
        (
            "CLAUDE_BOTTLE_OAUTH_TOKEN".into(),
            "test-token-not-real".into(),
        ),
    ]);
    env
}

/// The container of `role` (`agent`, `sidecar`) of the agent's bottle.
pub fn container_of(agent: &str, role: &str) -> String {
    let out = crate::probe::docker_ok(&[
        "ps",
        "-a",
        "--filter",
        &format!("label=claude-bottle.agent={agent}"),
        "--filter",
        &format!("label=claude-bottle.role={role}"),
        "--format",
        "{{.Names}}",
    ]);
    assert!(
        !out.is_empty() && !out.contains('\n'),
        "{role} of {agent}: {out:?}"
    );
    out
}

/// Removes every bottle of these agents on drop (panics included).
pub struct AgentsGuard(pub Vec<String>);

impl Drop for AgentsGuard {
    fn drop(&mut self) {
        for agent in &self.0 {
            crate::probe::remove_by_label(&format!("claude-bottle.agent={agent}"));
        }
    }
}

/// A `capture-pane -e` of `rows` x `cols` read back into an emulator.
pub fn parse_capture(capture: &[u8], rows: u16, cols: u16) -> vt100::Parser {
    let mut parser = vt100::Parser::new(rows, cols, 0);
    // One line a row; a newline after the last would scroll the first off.
    let text = String::from_utf8_lossy(capture)
        .trim_end_matches('\n')
        .replace('\n', "\r\n");
    parser.process(text.as_bytes());
    parser
}
