//! The interactive terminal in a bottle, built once for `start` and the
//! dashboard: `docker exec -it -w DIR -e NAME... <container> <command>`, with
//! every value in the docker CLI's own environment (the CLI copies each
//! `-e NAME` from it), so no value is ever on an argv.

use super::SessionSpec;
use crate::docker::agent::AGENT_WORKDIR;
use crate::manifest::{ResolvedAgent, ResolvedEnvValue};
use crate::settings::CLAUDE_TOKEN_VAR;

/// The terminal type declared inside the bottle. The agent image has its
/// terminfo (Debian's ncurses-base), and claude picks its 256-colour palette
/// from it; with nothing set, `docker exec -it` says `xterm` and claude falls
/// back to 16 colours.
pub const BOTTLE_TERM: &str = "xterm-256color";

/// What the terminal that shows the bottle can draw, as the user's terminal
/// says of itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct ColourDepth {
    /// 24-bit colour (`COLORTERM=truecolor` or `24bit`).
    pub truecolor: bool,
}

impl ColourDepth {
    /// From the value of the user's `COLORTERM`, the variable terminals set
    /// to say they draw 24-bit colour.
    pub fn from_colorterm(value: Option<&str>) -> Self {
        let truecolor = value.is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("truecolor") || v.eq_ignore_ascii_case("24bit")
        });
        Self { truecolor }
    }

    /// The variables that declare this depth to programs in the bottle.
    fn declared(self) -> Vec<(String, String)> {
        let mut env = vec![("TERM".to_owned(), BOTTLE_TERM.to_owned())];
        if self.truecolor {
            env.push(("COLORTERM".to_owned(), "truecolor".to_owned()));
        }
        env
    }
}

/// The agent's variables for its processes, for `start`, `run` and the
/// dashboard alike: each manifest value as resolved, in the manifest's order,
/// then the answers to its `?` values, then the token under the name claude
/// reads. The values go to a process's environment only.
pub fn agent_env(
    resolved: &ResolvedAgent,
    answers: &[(String, String)],
    token: Option<&str>,
) -> Vec<(String, String)> {
    let mut env: Vec<(String, String)> = resolved
        .env
        .iter()
        .filter_map(|e| match &e.value {
            ResolvedEnvValue::Value(v) => Some((e.name.clone(), v.clone())),
            ResolvedEnvValue::Ask(_) => None,
        })
        .collect();
    env.extend(answers.iter().cloned());
    if let Some(token) = token {
        env.push((CLAUDE_TOKEN_VAR.to_owned(), token.to_owned()));
    }
    env
}

/// A terminal to open in a bottle.
#[derive(Debug, Clone)]
pub struct ExecPlan {
    /// The agent's variables, names and values (manifest env, answers, the
    /// token); the terminal's own variables are added by [`Self::env`].
    pub agent_env: Vec<(String, String)>,
    /// The command inside the bottle.
    pub command: Vec<String>,
    /// What the terminal showing it can draw.
    pub colours: ColourDepth,
}

impl ExecPlan {
    /// Every variable the exec sets: the terminal's, then the agent's (which
    /// may not override the terminal's).
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = self.colours.declared();
        env.extend(
            self.agent_env
                .iter()
                .filter(|(name, _)| name != "TERM" && name != "COLORTERM")
                .cloned(),
        );
        env
    }

    /// The docker CLI's arguments: names only, never values.
    pub fn docker_args(&self, container: &str) -> Vec<String> {
        let mut args: Vec<String> = ["exec", "-it", "-w", AGENT_WORKDIR]
            .map(String::from)
            .to_vec();
        for (name, _) in self.env() {
            args.push("-e".into());
            args.push(name);
        }
        args.push(container.to_owned());
        args.extend(self.command.iter().cloned());
        args
    }

    /// The terminal under a PTY of `rows` x `cols`, for the dashboard.
    pub fn pty_spec(&self, container: &str, rows: u16, cols: u16) -> SessionSpec {
        SessionSpec {
            program: "docker".into(),
            args: self.docker_args(container),
            env: self.env(),
            rows,
            cols,
        }
    }

    /// The terminal in this process's own terminal, for `start`.
    pub fn command(&self, container: &str) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("docker");
        cmd.args(self.docker_args(container));
        cmd.envs(self.env());
        cmd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plan(colours: ColourDepth) -> ExecPlan {
        ExecPlan {
            agent_env: vec![
                ("GITHUB_TOKEN".into(), "ghp_secret".into()),
                ("TERM".into(), "vt52".into()),
            ],
            command: vec!["claude".into(), "fix the tests".into()],
            colours,
        }
    }

    #[test]
    fn colorterm_says_truecolor_only_for_its_two_words() {
        for (value, truecolor) in [
            (Some("truecolor"), true),
            (Some("24bit"), true),
            (Some(" TrueColor "), true),
            (Some("256"), false),
            (Some(""), false),
            (None, false),
        ] {
            assert_eq!(
                ColourDepth::from_colorterm(value).truecolor,
                truecolor,
                "{value:?}"
            );
        }
    }

    #[test]
    fn the_terminal_declares_256_colours_and_truecolor_when_the_user_has_it() {
        let with = plan(ColourDepth { truecolor: true });
        let spec = with.pty_spec("cb-a-agent", 30, 100);
        assert_eq!(
            spec.args.join(" "),
            "exec -it -w /home/agent/work -e TERM -e COLORTERM -e GITHUB_TOKEN cb-a-agent \
             claude fix the tests"
        );
        assert!(spec.env.contains(&("TERM".into(), "xterm-256color".into())));
        assert!(spec.env.contains(&("COLORTERM".into(), "truecolor".into())));
        // The agent's own TERM cannot undo the declaration.
        assert!(!spec.env.iter().any(|(_, v)| v == "vt52"));
        assert!(!spec.args.iter().any(|a| a.contains("ghp_secret")));
        assert_eq!((spec.rows, spec.cols), (30, 100));

        let without = plan(ColourDepth::default()).env();
        assert!(without.contains(&("TERM".into(), "xterm-256color".into())));
        assert!(!without.iter().any(|(n, _)| n == "COLORTERM"));
    }
}
