//! `git` run on this machine, the one way: a fixed working folder, nothing
//! read from our own environment that could point it elsewhere, and for the
//! scratch repositories claude-bottle makes, none of the user's config.

use std::ffi::OsStr;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A git command that did not do what was asked.
#[derive(Debug, thiserror::Error)]
pub enum GitError {
    #[error("could not run git ({0}); is git installed and on PATH?")]
    Spawn(std::io::Error),
    #[error("`git {args}` in {dir} failed: {stderr}")]
    Failed {
        args: String,
        dir: PathBuf,
        stderr: String,
    },
}

/// Where git runs and with whose config.
#[derive(Debug, Clone)]
pub struct Git {
    dir: PathBuf,
    /// A scratch repository of ours: no global or system config (no filters,
    /// hooks, helpers or `includeIf` of the user's reach it).
    hermetic: bool,
    /// `-c key=value` given before the verb.
    config: Vec<String>,
}

impl Git {
    /// git in the user's repository, with the user's own config.
    pub fn user(dir: &Path) -> Self {
        Self {
            dir: dir.to_path_buf(),
            hermetic: false,
            config: Vec::new(),
        }
    }

    /// git in a repository claude-bottle made, reading no config but its own.
    pub fn scratch(dir: &Path) -> Self {
        Self {
            hermetic: true,
            ..Self::user(dir)
        }
    }

    /// The same, with `-c key=value` settings added.
    #[must_use]
    pub fn with_config(mut self, settings: &[&str]) -> Self {
        self.config.extend(settings.iter().map(|s| (*s).to_owned()));
        self
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn command<S: AsRef<OsStr>>(&self, args: &[S]) -> Command {
        let mut cmd = Command::new("git");
        cmd.arg("-C").arg(&self.dir);
        for setting in &self.config {
            cmd.arg("-c").arg(setting);
        }
        cmd.args(args);
        // Our own environment must not send git to another repository.
        for var in [
            "GIT_DIR",
            "GIT_WORK_TREE",
            "GIT_INDEX_FILE",
            "GIT_OBJECT_DIRECTORY",
            "GIT_ALTERNATE_OBJECT_DIRECTORIES",
            "GIT_COMMON_DIR",
            "GIT_NAMESPACE",
            "GIT_CONFIG",
            "GIT_CONFIG_PARAMETERS",
            "GIT_CONFIG_COUNT",
        ] {
            cmd.env_remove(var);
        }
        cmd.env("GIT_TERMINAL_PROMPT", "0");
        if self.hermetic {
            cmd.env("GIT_CONFIG_GLOBAL", "/dev/null")
                .env("GIT_CONFIG_NOSYSTEM", "1");
        }
        cmd
    }

    /// Runs git; its standard output, or why it failed.
    pub fn output<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<Vec<u8>, GitError> {
        self.output_with(args, &[], None)
    }

    /// Runs git with extra variables and, when given, bytes on its standard input.
    pub fn output_with<S: AsRef<OsStr>>(
        &self,
        args: &[S],
        env: &[(&str, &OsStr)],
        stdin: Option<&mut dyn std::io::Read>,
    ) -> Result<Vec<u8>, GitError> {
        let mut cmd = self.command(args);
        for (name, value) in env {
            cmd.env(name, value);
        }
        cmd.stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().map_err(GitError::Spawn)?;
        if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
            // A git that stops reading early reports why on stderr below.
            let _ = std::io::copy(input, &mut pipe).and_then(|_| pipe.flush());
        }
        let out = child.wait_with_output().map_err(GitError::Spawn)?;
        if out.status.success() {
            Ok(out.stdout)
        } else {
            Err(self.failed(args, &out.stderr))
        }
    }

    /// Starts git with `input` on its standard input and its standard output
    /// to read as it comes (the caller waits for it with [`Self::finish`]).
    pub fn spawn_reading<S: AsRef<OsStr>>(
        &self,
        args: &[S],
        input: &[u8],
    ) -> Result<std::process::Child, GitError> {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(GitError::Spawn)?;
        if let Some(mut pipe) = child.stdin.take() {
            // Small (a line of revisions): it fits the pipe's buffer.
            let _ = pipe.write_all(input);
        }
        Ok(child)
    }

    /// Waits for a git started by [`Self::spawn_reading`]; why it failed.
    pub fn finish<S: AsRef<OsStr>>(
        &self,
        args: &[S],
        child: std::process::Child,
    ) -> Result<(), GitError> {
        let out = child.wait_with_output().map_err(GitError::Spawn)?;
        if out.status.success() {
            Ok(())
        } else {
            Err(self.failed(args, &out.stderr))
        }
    }

    /// Runs git and returns its output as one trimmed line of text.
    pub fn line<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<String, GitError> {
        let out = self.output(args)?;
        Ok(String::from_utf8_lossy(&out).trim().to_owned())
    }

    /// Whether git succeeds (for yes/no questions such as `merge-base --is-ancestor`).
    pub fn succeeds<S: AsRef<OsStr>>(&self, args: &[S]) -> Result<bool, GitError> {
        let status = self
            .command(args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(GitError::Spawn)?;
        Ok(status.success())
    }

    fn failed<S: AsRef<OsStr>>(&self, args: &[S], stderr: &[u8]) -> GitError {
        let args: Vec<String> = args
            .iter()
            .map(|a| a.as_ref().to_string_lossy().into_owned())
            .collect();
        let stderr = String::from_utf8_lossy(stderr);
        GitError::Failed {
            args: args.join(" "),
            dir: self.dir.clone(),
            stderr: stderr.trim().chars().take(600).collect(),
        }
    }
}
