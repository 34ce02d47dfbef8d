//! tmux on a private server socket (so other users' tmux sessions are never
//! touched); the server is killed on drop.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

#[derive(Debug)]
pub struct Tmux {
    socket: String,
}

impl Tmux {
    pub fn new(tag: &str) -> Self {
        Self {
            socket: format!("cb-bench-{tag}-{}", std::process::id()),
        }
    }

    pub fn socket(&self) -> &str {
        &self.socket
    }

    fn command(&self) -> Command {
        let mut cmd = Command::new("tmux");
        cmd.args(["-L", &self.socket, "-f", "/dev/null"]);
        cmd.stdin(Stdio::null()).stdout(Stdio::null());
        cmd
    }

    /// Runs one tmux command; fails if tmux does.
    pub fn run(&self, args: &[&str]) -> anyhow::Result<()> {
        let status = self
            .command()
            .args(args)
            .status()
            .context("run tmux (apt-get install tmux)")?;
        if !status.success() {
            bail!("tmux {args:?} failed: {status}");
        }
        Ok(())
    }

    /// A detached session of `cols`x`rows` running `script` under sh.
    pub fn start(&self, name: &str, cols: u16, rows: u16, script: &str) -> anyhow::Result<()> {
        let (cols, rows) = (cols.to_string(), rows.to_string());
        self.run(&[
            "new-session",
            "-d",
            "-s",
            name,
            "-x",
            &cols,
            "-y",
            &rows,
            script,
        ])
    }

    pub fn keys(&self, name: &str, keys: &[&str]) -> anyhow::Result<()> {
        for key in keys {
            self.run(&["send-keys", "-t", name, key])?;
        }
        Ok(())
    }

    pub fn screen(&self, name: &str) -> anyhow::Result<String> {
        let out = self
            .command()
            .stdout(Stdio::piped())
            .args(["capture-pane", "-p", "-t", name])
            .output()?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Waits until the pane's text satisfies `ok`.
    pub fn wait(
        &self,
        name: &str,
        what: &str,
        timeout: Duration,
        ok: impl Fn(&str) -> bool,
    ) -> anyhow::Result<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let screen = self.screen(name)?;
            if ok(&screen) {
                return Ok(screen);
            }
            if Instant::now() >= deadline || screen.contains("failed to launch") {
                bail!("waited for {what}; the screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// The process id of the program a session's pane runs.
    pub fn pane_pid(&self, name: &str) -> anyhow::Result<u32> {
        let out = self
            .command()
            .stdout(Stdio::piped())
            .args(["list-panes", "-t", name, "-F", "#{pane_pid}"])
            .output()?;
        String::from_utf8_lossy(&out.stdout)
            .trim()
            .parse()
            .context("read the pane's pid")
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self
            .command()
            .stderr(Stdio::null())
            .arg("kill-server")
            .status();
    }
}
