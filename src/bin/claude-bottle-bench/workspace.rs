//! Workspaces: time to a ready bottle with a repository of 10 MB and of
//! 500 MB copied in, against the same launch without one in the same run;
//! and a collect of one commit out of the large copy.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context as _, bail};
use claude_bottle::docker::bottle::{self, LaunchSettings};
use claude_bottle::docker::container::exec_collect;
use claude_bottle::docker::engine::Engine;
use claude_bottle::docker::workspace::{self, CollectTarget};
use claude_bottle::manifest::WorkspaceSpec;
use claude_bottle::random::Seeded;
use claude_bottle::workspace::{Located, locate};

use crate::data::WorkDir;
use crate::launch::{connect, images, resolved_agent};
use crate::report::{Summary, Table};

pub fn run(quick: bool, work: &WorkDir, table: &mut Table) -> anyhow::Result<()> {
    let rt = tokio::runtime::Runtime::new()?;
    rt.block_on(run_async(quick, work, table))
}

async fn run_async(quick: bool, work: &WorkDir, table: &mut Table) -> anyhow::Result<()> {
    let engine = connect().await?;
    let settings = images(&engine).await?;
    let (sizes, repeats): (&[usize], usize) = if quick { (&[1], 1) } else { (&[10, 500], 3) };
    let mut counter = 0;
    let mut bare = Vec::new();
    let mut with: Vec<(usize, Vec<f64>, Located)> = Vec::new();
    for &mb in sizes {
        eprintln!("  workspace: making a {mb} MB repository");
        let repo = make_repository(work.path(), mb)?;
        let located = locate(&spec(), &repo)?;
        with.push((mb, Vec::new(), located));
    }
    for round in 0..repeats {
        eprintln!("  workspace: round {}", round + 1);
        bare.push(
            timed_launch(&engine, &settings, None, &mut counter, false)
                .await?
                .0,
        );
        for (_, times, located) in &mut with {
            times.push(
                timed_launch(&engine, &settings, Some(located), &mut counter, false)
                    .await?
                    .0,
            );
        }
    }
    let bare_s = Summary::of(&bare);
    for (mb, times, _) in &with {
        let t = Summary::of(times);
        table.row(
            &format!("launch with a {mb} MB workspace (random files, packed) to ready, s"),
            t.show(2),
            format!("no workspace {}", bare_s.show(2)),
            format!("{:.2}x", t.median / bare_s.median),
            "",
            None,
        );
    }
    // A collect of one small commit out of the largest copy.
    if let Some((mb, _, located)) = with.last() {
        let (_, collect_s) =
            timed_launch(&engine, &settings, Some(located), &mut counter, true).await?;
        table.row(
            &format!("collect one commit out of a {mb} MB workspace, s"),
            format!("{collect_s:.2}"),
            format!("launch without a workspace {:.2}", bare_s.median),
            format!("{:.2}x", collect_s / bare_s.median),
            "",
            None,
        );
    }
    Ok(())
}

fn spec() -> WorkspaceSpec {
    WorkspaceSpec {
        repo: None,
        base: "HEAD".into(),
        uncommitted: false,
        include: Vec::new(),
        pos: claude_bottle::manifest::json::Pos::default(),
    }
}

/// A repository of `mb` MB of incompressible files (nothing shrinks on the
/// way), one commit, packed as a clone or a repository after `git gc` is.
fn make_repository(root: &Path, mb: usize) -> anyhow::Result<PathBuf> {
    let repo = root.join(format!("repo-{mb}mb"));
    std::fs::create_dir_all(&repo)?;
    git(&repo, &["init", "-q"])?;
    let mut random = Seeded::new(mb as u64);
    let file_size = 1 << 20;
    for i in 0..mb {
        let bytes: Vec<u8> = (0..file_size / 8)
            .flat_map(|_| random.next_u64().to_le_bytes())
            .collect();
        std::fs::write(repo.join(format!("blob-{i:04}.bin")), bytes)?;
    }
    git(&repo, &["add", "-A"])?;
    git(&repo, &["commit", "-q", "-m", "data"])?;
    git(&repo, &["gc", "-q"])?;
    Ok(repo)
}

fn git(dir: &Path, args: &[&str]) -> anyhow::Result<()> {
    let status = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args([
            "-c",
            "user.name=bench",
            "-c",
            "user.email=bench@example.invalid",
        ])
        .args(args)
        .status()
        .context("run git")?;
    if !status.success() {
        bail!("git {args:?} failed");
    }
    Ok(())
}

/// Seconds to a ready bottle; with `collect`, also the seconds a collect of
/// one commit takes. The bottle is removed (not timed).
async fn timed_launch(
    engine: &Engine,
    settings: &LaunchSettings,
    located: Option<&Located>,
    counter: &mut usize,
    collect: bool,
) -> anyhow::Result<(f64, f64)> {
    *counter += 1;
    let agent = resolved_agent(&format!("benchws{}x{counter}", std::process::id()), true);
    let start = Instant::now();
    let b =
        bottle::launch_with_workspace(engine, &agent, &[], settings, located, &mut |_| {}).await?;
    let launch_s = start.elapsed().as_secs_f64();
    let mut collect_s = 0.0;
    if let (true, Some(located), Some(origin)) = (collect, located, &b.workspace) {
        let script = "echo change > change.txt && git add change.txt && git commit -qm change";
        let done = exec_collect(
            engine,
            &b.agent_container,
            Some("1000:1000"),
            &["sh", "-c", script],
            vec![],
        )
        .await?;
        if done.exit_code != 0 {
            bail!("the commit in the bottle failed: {done:?}");
        }
        let mut target = CollectTarget::for_bottle(origin, &b.agent, &b.session);
        target.repo.clone_from(&located.repo);
        let start = Instant::now();
        workspace::collect(engine, &b.agent_container, &b.agent, &target).await?;
        collect_s = start.elapsed().as_secs_f64();
    }
    b.teardown(engine).await?;
    Ok((launch_s, collect_s))
}
