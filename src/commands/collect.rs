//! `claude-bottle collect <agent|session>`: the agent's commits and
//! uncommitted work into the user's repository as a branch; and the offer
//! made before any bottle with uncollected work is removed (`start`, `run`,
//! `stop`), so work is never lost without the user saying so.

use std::io::{BufRead as _, IsTerminal as _, Write as _};

use anyhow::bail;

use super::engines::find_anywhere;
use crate::docker::engine::Engine;
use crate::docker::labels::WorkspaceOrigin;
use crate::docker::workspace::{self, CollectError, CollectTarget, Collected};
use crate::manifest::source::ManifestSource;
use crate::settings::Settings;

/// A bottle whose work may be collected.
#[derive(Debug, Clone)]
pub struct WorkOf<'a> {
    pub agent: &'a str,
    pub session: &'a str,
    pub container: &'a str,
    pub origin: &'a WorkspaceOrigin,
}

impl WorkOf<'_> {
    fn target(&self, branch: Option<&str>, max_bytes: u64) -> CollectTarget {
        let mut target = CollectTarget::for_bottle(self.origin, self.agent, self.session);
        if let Some(branch) = branch {
            branch.clone_into(&mut target.branch);
        }
        target.max_bytes = max_bytes;
        target
    }
}

pub async fn run(
    source: &ManifestSource,
    settings: &Settings,
    name: &str,
    branch: Option<&str>,
    max_bytes: u64,
) -> anyhow::Result<i32> {
    let (reached, found) = find_anywhere(source, settings, name).await?;
    let engine = reached.engine;
    let Some(origin) = &found.workspace else {
        bail!(
            "the bottle of {} (session {}) has no workspace: nothing to collect",
            found.agent,
            found.session
        );
    };
    let Some((container, state)) = &found.agent_container else {
        bail!("the bottle of {} has no agent container", found.agent);
    };
    if state != "running" {
        crate::docker::container::start(&engine, container).await?;
    }
    let work = WorkOf {
        agent: &found.agent,
        session: &found.session,
        container,
        origin,
    };
    match workspace::collect(
        &engine,
        container,
        work.agent,
        &work.target(branch, max_bytes),
    )
    .await
    {
        Ok(collected) => {
            println!("{}", describe(&collected, origin));
            Ok(0)
        }
        Err(CollectError::Nothing(why)) => {
            println!("Nothing to collect from {}: {why}.", found.agent);
            Ok(0)
        }
        Err(e) => Err(e.into()),
    }
}

/// What was collected and where, for the user.
pub fn describe(collected: &Collected, origin: &WorkspaceOrigin) -> String {
    collected.describe(&origin.repo)
}

/// What to do with uncollected work before a bottle is removed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Before {
    /// Ask on the terminal; with none to ask on, collect.
    Ask,
    Collect,
    /// The user said to drop it.
    Discard,
}

/// Offers (or makes) a collect of the bottle's uncollected work. `Ok(true)`:
/// the bottle may go; `Ok(false)`: it must stay (a collect failed, so its
/// work would be lost), and the user has been told how to get it.
pub async fn before_teardown(engine: &Engine, work: &WorkOf<'_>, before: Before) -> bool {
    if before == Before::Discard {
        return true;
    }
    let state = match workspace::state(engine, work.container).await {
        Ok(Some(state)) => state,
        // No workspace (or a copy the agent removed): nothing to offer.
        Ok(None) => return true,
        Err(e) => {
            eprintln!(
                "claude-bottle: could not read the work in {}'s bottle ({e}); it stays. \
                 `claude-bottle collect {}` brings it back, `claude-bottle stop {} --discard` \
                 removes it.",
                work.agent, work.session, work.session
            );
            return false;
        }
    };
    if !state.has_uncollected_work() {
        return true;
    }
    let target = work.target(None, crate::workspace::DEFAULT_MAX_BUNDLE_BYTES);
    if before == Before::Ask && std::io::stdin().is_terminal() {
        let question = format!(
            "{}'s bottle holds {} not collected. Collect them as branch {} of {} before it \
             is removed? (n: they are lost)",
            work.agent,
            state.describe(),
            target.branch,
            work.origin.repo.display()
        );
        if !ask_yes_default(&question) {
            eprintln!("claude-bottle: the agent's work was not collected.");
            return true;
        }
    }
    match workspace::collect(engine, work.container, work.agent, &target).await {
        Ok(collected) => {
            eprintln!("claude-bottle: {}", describe(&collected, work.origin));
            true
        }
        Err(CollectError::Nothing(_)) => true,
        Err(e) => {
            eprintln!(
                "claude-bottle: could not collect {}'s work ({e}); the bottle stays so nothing \
                 is lost. `claude-bottle collect {} --branch NAME` retries, `claude-bottle stop \
                 {} --discard` removes it.",
                work.agent, work.session, work.session
            );
            false
        }
    }
}

/// [`before_teardown`] for a bottle found on the engine (`stop`, `gc`): its
/// agent container is started again if it stopped, so its work can be read.
pub async fn before_removing(
    engine: &Engine,
    session: &crate::docker::reaper::SessionResources,
    before: Before,
) -> anyhow::Result<bool> {
    let (Some(origin), Some((container, state))) = (&session.workspace, &session.agent_container)
    else {
        return Ok(true);
    };
    if before == Before::Discard {
        return Ok(true);
    }
    if state != "running" {
        crate::docker::container::start(engine, container).await?;
    }
    let work = WorkOf {
        agent: &session.agent,
        session: &session.session,
        container,
        origin,
    };
    Ok(before_teardown(engine, &work, before).await)
}

/// `question [Y/n]`: anything but `n`/`no` is a yes.
fn ask_yes_default(question: &str) -> bool {
    eprint!("{question} [Y/n] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    if std::io::stdin().lock().read_line(&mut answer).is_err() {
        return true;
    }
    !matches!(answer.trim().to_ascii_lowercase().as_str(), "n" | "no")
}
