//! Idle cost: the real dashboard binary, in tmux, with real bottles running
//! `sh` (`CLAUDE_BOTTLE_AGENT_COMMAND`), doing nothing. CPU time and wake-ups
//! of every thread of the dashboard process, from /proc.

use std::fmt::Write as _;
use std::time::Duration;

use anyhow::{Context as _, bail};

use crate::data::WorkDir;
use crate::launch;
use crate::report::{Summary, Table};
use crate::tmux::Tmux;

/// Linux reports CPU time in ticks of 1/100 s (`USER_HZ`) on every architecture
/// this runs on.
const TICKS_PER_S: f64 = 100.0;
const SESSION: &str = "dash";

#[allow(clippy::too_many_lines)] // one scenario, step by step
pub fn run(quick: bool, work: &WorkDir, table: &mut Table) -> anyhow::Result<()> {
    let (n, window, windows) = if quick {
        (2, Duration::from_secs(3), 1)
    } else {
        (8, Duration::from_secs(10), 3)
    };
    tokio::runtime::Runtime::new()?.block_on(async {
        let engine = launch::connect().await?;
        launch::images(&engine).await.map(drop)
    })?;
    let agents: Vec<String> = (0..n)
        .map(|k| format!("idle{}x{k}", std::process::id()))
        .collect();
    let manifest = write_manifest(work, &agents)?;
    let home = work.path().join("home");
    std::fs::create_dir_all(&home)?;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let bin = std::env::current_exe()?.with_file_name("claude-bottle");
    if !bin.exists() {
        bail!(
            "{} is missing: build it first (cargo build --release --bins)",
            bin.display()
        );
    }
    let env = [
        (
            "CLAUDE_BOTTLE_PIPELOCK_IMAGE",
            launch::SIDECAR_TEST_IMAGE.to_owned(),
        ),
        (
            "CLAUDE_BOTTLE_BASE_IMAGE",
            launch::TEST_BASE_IMAGE.to_owned(),
        ),
        ("CLAUDE_BOTTLE_INSTALL_PACKAGES", "0".to_owned()),
        (
            "CLAUDE_BOTTLE_CLAUDE_BINARY",
            root.join("target/test-images/claude").display().to_string(),
        ),
        ("HOME", home.display().to_string()),
        ("CLAUDE_BOTTLE_AGENT_COMMAND", "sh".to_owned()),
        (
            "CLAUDE_BOTTLE_OAUTH_TOKEN",
            "bench-token-not-real".to_owned(),
        ),
    ];
    let mut exports = String::new();
    for (k, v) in &env {
        let _ = write!(exports, "export {k}='{v}'; ");
    }
    let script = format!(
        "cd '{}'; {exports}exec '{}' --manifest '{}'",
        work.path().display(),
        bin.display(),
        manifest.display()
    );
    let tmux = Tmux::new("idle");
    tmux.start(SESSION, 200, 50, &script)?;
    let last = agents.last().context("no agents")?.clone();
    tmux.wait(SESSION, "the agent list", Duration::from_secs(20), |s| {
        s.contains(&last) && s.contains("ready")
    })?;
    let pid = tmux.pane_pid(SESSION)?;
    std::thread::sleep(Duration::from_secs(1));
    let empty = measure(pid, window, windows)?;

    for _ in &agents {
        tmux.keys(SESSION, &["Enter"])?;
        tmux.wait(
            SESSION,
            "the launch question",
            Duration::from_secs(20),
            |s| s.contains("Launch?"),
        )?;
        tmux.keys(SESSION, &["y"])?;
        // The preflight opens when the agent is resolved, in the background:
        // until this one has closed, the screen could still show it when the
        // next agent's question is awaited, and that `y` would land too early.
        tmux.wait(
            SESSION,
            "the launch question to close",
            Duration::from_secs(20),
            |s| !s.contains("Launch?"),
        )?;
        tmux.keys(SESSION, &["j"])?;
    }
    tmux.wait(
        SESSION,
        "every bottle running",
        Duration::from_secs(300),
        |s| s.matches("│    running").count() >= n,
    )?;
    // Prompts printed, sidecar log tails started: now nothing happens.
    std::thread::sleep(Duration::from_secs(3));
    let busy = measure(pid, window, windows)?;

    tmux.keys(SESSION, &["q"])?;
    tmux.wait(SESSION, "the quit question", Duration::from_secs(20), |s| {
        s.contains("Tear down")
    })?;
    tmux.keys(SESSION, &["y"])?;
    for _ in 0..600 {
        if !std::path::Path::new(&format!("/proc/{pid}")).exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }

    let secs = window.as_secs_f64() * f64::from(windows);
    let cpu = Summary::of(&busy.iter().map(|m| m.cpu_pct).collect::<Vec<_>>());
    let cpu0 = Summary::of(&empty.iter().map(|m| m.cpu_pct).collect::<Vec<_>>());
    table.row(
        &format!("idle dashboard, {n} bottles running sh, % of one core ({secs:.0} s)"),
        cpu.show(3),
        format!("no bottles {}", cpu0.show(3)),
        format!("{:.2}x goal", cpu.median / 0.5),
        "< 0.5%",
        (!quick).then_some(cpu.median < 0.5),
    );
    let wake = Summary::of(&busy.iter().map(|m| m.wakeups_per_s).collect::<Vec<_>>());
    let wake0 = Summary::of(&empty.iter().map(|m| m.wakeups_per_s).collect::<Vec<_>>());
    table.row(
        &format!("idle dashboard, {n} bottles, wake-ups/s (all threads)"),
        wake.show(1),
        format!("no bottles {}", wake0.show(1)),
        format!("+{:.1}/s", wake.median - wake0.median),
        "",
        None,
    );
    let kids = Summary::of(&busy.iter().map(|m| m.children_cpu_pct).collect::<Vec<_>>());
    table.row(
        &format!("idle, the {n} `docker exec -it` clients the dashboard runs, % of one core"),
        kids.show(3),
        String::new(),
        String::new(),
        "(not ours)",
        None,
    );
    Ok(())
}

fn write_manifest(work: &WorkDir, agents: &[String]) -> anyhow::Result<std::path::PathBuf> {
    let agents: Vec<String> = agents
        .iter()
        .map(|a| format!(r#""{a}": {{ "bottle": "plain" }}"#))
        .collect();
    let text = format!(
        r#"{{ "bottles": {{ "plain": {{}} }}, "agents": {{ {} }} }}"#,
        agents.join(", ")
    );
    Ok(work.file("claude-bottle.json", text.as_bytes())?)
}

#[derive(Debug, Clone, Copy)]
struct Window {
    cpu_pct: f64,
    wakeups_per_s: f64,
    children_cpu_pct: f64,
}

fn measure(pid: u32, window: Duration, windows: u32) -> anyhow::Result<Vec<Window>> {
    let mut out = Vec::new();
    for _ in 0..windows {
        let (t0, s0, c0) = (cpu_ticks(pid)?, switches(pid)?, children_ticks(pid));
        std::thread::sleep(window);
        let (t1, s1, c1) = (cpu_ticks(pid)?, switches(pid)?, children_ticks(pid));
        let secs = window.as_secs_f64();
        #[allow(clippy::cast_precision_loss)]
        out.push(Window {
            cpu_pct: (t1 - t0) as f64 / TICKS_PER_S / secs * 100.0,
            wakeups_per_s: (s1 - s0) as f64 / secs,
            children_cpu_pct: c1.saturating_sub(c0) as f64 / TICKS_PER_S / secs * 100.0,
        });
    }
    Ok(out)
}

/// utime + stime of a process (all its threads), in ticks.
fn cpu_ticks(pid: u32) -> anyhow::Result<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .with_context(|| format!("the dashboard (pid {pid}) is gone"))?;
    let after = stat.rsplit_once(')').map(|(_, r)| r).context("stat")?;
    let fields: Vec<&str> = after.split_whitespace().collect();
    let utime: u64 = fields.get(11).context("utime")?.parse()?;
    let stime: u64 = fields.get(12).context("stime")?.parse()?;
    Ok(utime + stime)
}

/// Voluntary and involuntary context switches of every thread.
fn switches(pid: u32) -> anyhow::Result<u64> {
    let mut total = 0;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let status = std::fs::read_to_string(task?.path().join("status")).unwrap_or_default();
        total += status
            .lines()
            .filter(|l| l.contains("ctxt_switches"))
            .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .sum::<u64>();
    }
    Ok(total)
}

/// CPU ticks of the process's direct children (the docker CLI clients).
fn children_ticks(pid: u32) -> u64 {
    let Ok(tasks) = std::fs::read_dir(format!("/proc/{pid}/task")) else {
        return 0;
    };
    tasks
        .filter_map(Result::ok)
        .filter_map(|t| std::fs::read_to_string(t.path().join("children")).ok())
        .flat_map(|c| {
            c.split_whitespace()
                .filter_map(|p| p.parse::<u32>().ok())
                .collect::<Vec<_>>()
        })
        .filter_map(|p| cpu_ticks(p).ok())
        .sum()
}
