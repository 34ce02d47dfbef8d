//! `claude-bottle gc`: remove bottles whose owning process is gone; with
//! `--images`, also agent images that older inputs left (only named
//! otherwise: an image is not a leftover of a crash, and may be wanted).

use std::fmt::Write as _;

use crate::docker::engine::Engine;
use crate::docker::image::{
    AgentImageSource, Removal, StaleImage, agent_dockerfile, reclaimable_bytes, remove_stale_image,
    stale_agent_images,
};
use crate::docker::reaper::{self, SessionResources};
use crate::manifest::source::ManifestSource;
use crate::settings::Settings;

use super::confirm::ask_yes_no;

/// What `gc` was asked to do: four independent switches of the command line.
#[derive(Debug, Clone, Copy, Default)]
#[allow(clippy::struct_excessive_bools)]
pub struct GcOptions {
    /// Only list what would be removed.
    pub dry_run: bool,
    /// Remove without asking.
    pub yes: bool,
    /// Also agent images of older inputs.
    pub images: bool,
    /// Also bottles that dashboards kept working.
    pub kept: bool,
}

/// Cleans up on every engine the manifest names, one after the other.
pub async fn run(
    source: &ManifestSource,
    settings: &Settings,
    options: GcOptions,
) -> anyhow::Result<i32> {
    let reached = super::engines::connect_all(source, settings).await?;
    let several = reached.len() > 1;
    let mut code = 0;
    for one in reached {
        if several {
            println!("On engine {}:", one.choice.label());
        }
        code = code.max(on_engine(&one.engine, settings, options).await?);
    }
    Ok(code)
}

async fn on_engine(
    engine: &Engine,
    settings: &Settings,
    options: GcOptions,
) -> anyhow::Result<i32> {
    let GcOptions {
        dry_run,
        yes,
        images: with_images,
        kept: with_kept,
    } = options;
    let sessions = reaper::list_sessions(engine).await?;
    let kept: Vec<SessionResources> = sessions
        .iter()
        .filter(|s| s.is_kept_alone())
        .cloned()
        .collect();
    let mut orphans: Vec<SessionResources> = sessions
        .into_iter()
        .filter(SessionResources::is_orphaned)
        .collect();
    if with_kept {
        orphans.extend(kept);
    } else if !kept.is_empty() {
        println!(
            "{} bottle(s) kept working by a dashboard are left alone (`claude-bottle ps` lists \
             them; `claude-bottle stop NAME` or `gc --kept` removes them).",
            kept.len()
        );
    }
    let stale = match current_agent_tag(&settings.agent_image) {
        Ok(current) => stale_agent_images(engine, &current).await?,
        Err(why) => {
            println!("Not looking at agent images: {why}");
            Vec::new()
        }
    };
    let images = if with_images {
        stale
    } else {
        if !stale.is_empty() {
            println!(
                "{} agent image tag(s) of older inputs (up to {} MB) could go: \
                 `claude-bottle gc --images` removes them.",
                stale.len(),
                reclaimable_bytes(&stale) / 1_000_000
            );
        }
        Vec::new()
    };
    if orphans.is_empty() && images.is_empty() {
        let images_too = if with_images {
            ", and no agent image of older inputs is kept"
        } else {
            ""
        };
        println!("Nothing to clean up: no bottle was left behind{images_too}.");
        return Ok(0);
    }
    if !orphans.is_empty() {
        print!("{}", describe(&orphans));
    }
    if !images.is_empty() {
        print!("{}", describe_images(&images));
    }
    if dry_run {
        println!("(dry run: nothing removed)");
        return Ok(0);
    }
    if !yes && !ask_yes_no("Remove them?")? {
        println!("Kept.");
        return Ok(0);
    }
    for session in &orphans {
        // A crashed `start` or `run` may have left an agent's work: it is
        // collected as a branch before its bottle goes.
        if !super::collect::before_removing(engine, session, super::collect::Before::Collect)
            .await?
        {
            println!(
                "kept session {}: its work could not be collected",
                session.session
            );
            continue;
        }
        reaper::remove_session(engine, &session.session).await?;
        println!("removed session {}", session.session);
    }
    for image in &images {
        match remove_stale_image(engine, &image.tag).await? {
            Removal::Removed => println!("removed image {}", image.tag),
            Removal::InUse => println!("kept image {}: a container still uses it", image.tag),
        }
    }
    Ok(0)
}

/// The tag a launch with this environment's settings would use: the one
/// image to keep.
fn current_agent_tag(source: &AgentImageSource) -> anyhow::Result<String> {
    Ok(source.image_tag(agent_dockerfile())?)
}

fn describe_images(images: &[StaleImage]) -> String {
    let mut out = format!(
        "Found {} agent image tag(s) of older inputs (a launch now uses another tag; up to {} MB):\n",
        images.len(),
        reclaimable_bytes(images) / 1_000_000
    );
    for image in images {
        let id = image.image_id.trim_start_matches("sha256:");
        let _ = writeln!(
            out,
            "  {}  image {}  {} MB",
            image.tag,
            id.get(..12).unwrap_or(id),
            image.size_bytes / 1_000_000
        );
    }
    out
}

/// A human summary of leftover sessions, shared with the commands that warn
/// about leftovers when they start.
pub fn describe(orphans: &[SessionResources]) -> String {
    let mut out = format!(
        "Found {} bottle session(s) left behind (their claude-bottle process is gone):\n",
        orphans.len()
    );
    for s in orphans {
        let owner = s.owner.as_ref().map_or_else(
            || "unknown owner".to_owned(),
            |o| format!("owner pid {} (gone)", o.pid),
        );
        let _ = writeln!(
            out,
            "  session {}  agent {}  bottle {}  {owner}",
            s.session, s.agent, s.bottle
        );
        let names = |items: &[(String, String)]| {
            items
                .iter()
                .map(|(_, n)| n.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if !s.containers.is_empty() {
            let _ = writeln!(out, "    containers: {}", names(&s.containers));
        }
        if !s.networks.is_empty() {
            let _ = writeln!(out, "    networks:   {}", names(&s.networks));
        }
    }
    out
}
