//! Claude in a bottle, planned once for `start`, `attach` and the dashboard:
//! claude's process with its variables ([`ExecPlan`], run under the bottle's
//! holder), and the terminals that show it ([`Viewer`]: `docker exec -it` of
//! the holder's `attach`, with no value of the agent's anywhere).

use super::SessionSpec;
use crate::docker::holder;
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

/// Claude's process in a bottle: what runs, with which variables.
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

    /// The holder's environment (`NAME=value`): claude's. It reaches the
    /// holder's exec through the engine's API only, never an argv.
    pub fn serve_env(&self) -> Vec<String> {
        self.env()
            .into_iter()
            .map(|(name, value)| format!("{name}={value}"))
            .collect()
    }
}

/// A terminal showing a bottle's claude: `docker exec -it` of the holder's
/// `attach`, which carries no variable of the agent's at all.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub container: String,
    /// Who it is, as others are told (see `holder::viewer_name`).
    pub who: String,
    /// Displaces a viewer attached now, instead of being refused.
    pub take_over: bool,
    /// The detach key works (`attach`); in `start` and the dashboard every
    /// key is claude's.
    pub detach_key: bool,
    /// The docker context of the bottle's engine, when its bottle names one
    /// (`docker --context NAME`); `None`: the CLI's own choice, which is
    /// claude-bottle's default engine (both read the same variables).
    pub context: Option<String>,
}

impl Viewer {
    /// The docker CLI's arguments.
    pub fn docker_args(&self) -> Vec<String> {
        let on = match &self.context {
            Some(name) => vec!["--context".to_owned(), name.clone()],
            None => Vec::new(),
        };
        let attach =
            holder::attach_args(&self.container, &self.who, self.take_over, self.detach_key);
        on.into_iter().chain(attach).collect()
    }

    /// The viewer under a PTY of `rows` x `cols`, for the dashboard.
    pub fn pty_spec(&self, rows: u16, cols: u16) -> SessionSpec {
        SessionSpec {
            program: "docker".into(),
            args: self.docker_args(),
            env: Vec::new(),
            rows,
            cols,
        }
    }

    /// The viewer in this process's own terminal, for `start` and `attach`.
    pub fn command(&self) -> tokio::process::Command {
        let mut cmd = tokio::process::Command::new("docker");
        cmd.args(self.docker_args());
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
    fn claude_declares_256_colours_and_truecolor_when_the_user_has_it() {
        let with = plan(ColourDepth { truecolor: true }).serve_env();
        assert_eq!(with[0], "TERM=xterm-256color");
        assert_eq!(with[1], "COLORTERM=truecolor");
        assert!(with.contains(&"GITHUB_TOKEN=ghp_secret".to_owned()));
        // The agent's own TERM cannot undo the declaration.
        assert!(!with.iter().any(|v| v.contains("vt52")));

        let without = plan(ColourDepth::default()).env();
        assert!(without.contains(&("TERM".into(), "xterm-256color".into())));
        assert!(!without.iter().any(|(n, _)| n == "COLORTERM"));
    }

    #[test]
    fn the_viewer_carries_no_value_of_the_agent() {
        let viewer = Viewer {
            container: "cb-a-agent".into(),
            who: "dashboard".into(),
            take_over: false,
            detach_key: false,
            context: None,
        };
        let spec = viewer.pty_spec(30, 100);
        assert!(spec.env.is_empty());
        assert!(
            !spec
                .args
                .iter()
                .any(|a| a.contains("ghp_secret") || a == "-e")
        );
        assert_eq!((spec.rows, spec.cols), (30, 100));
    }
}
