//! `claude-bottle stop <agent|session>`: removes one bottle, kept or not,
//! after asking.

use super::collect::{self, Before};
use super::confirm::ask_yes_no;
use super::engines::find_anywhere;
use crate::docker::reaper;
use crate::manifest::source::ManifestSource;
use crate::settings::Settings;

pub async fn run(
    source: &ManifestSource,
    settings: &Settings,
    name: &str,
    yes: bool,
    discard: bool,
) -> anyhow::Result<i32> {
    let (reached, session) = find_anywhere(source, settings, name).await?;
    let engine = reached.engine;
    let before = match (discard, yes) {
        (true, _) => Before::Discard,
        (false, true) => Before::Collect,
        (false, false) => Before::Ask,
    };
    if !collect::before_removing(&engine, &session, before).await? {
        return Ok(1);
    }
    let question = format!(
        "Remove the bottle of {} (session {}, {} container(s), {} network(s))? What the agent \
         made inside it and did not collect is lost.",
        session.agent,
        session.session,
        session.containers.len(),
        session.networks.len()
    );
    if !yes && !ask_yes_no(&question)? {
        println!("Kept.");
        return Ok(0);
    }
    reaper::remove_session(&engine, &session.session).await?;
    println!("removed session {} of {}", session.session, session.agent);
    Ok(0)
}
