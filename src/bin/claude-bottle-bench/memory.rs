//! Resident memory with N sessions each holding a full scrollback. Each
//! count runs in a fresh child process (this binary, `__mem-child N`), so
//! one measurement does not inherit another's heap.

use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use claude_bottle::session::{SCROLLBACK_LINES, Session, SessionNotice, SessionSpec};
use tokio::sync::mpsc::unbounded_channel;

use crate::data::{self, WorkDir};
use crate::report::Table;
use crate::throughput::{COLS, ROWS, cat_script};

pub const CHILD_FLAG: &str = "__mem-child";

pub fn run(quick: bool, work: &WorkDir, table: &mut Table) -> anyhow::Result<()> {
    let lines = if quick {
        1_000
    } else {
        SCROLLBACK_LINES + usize::from(ROWS)
    };
    let text = work.file("scrollback.bin", &data::full_lines(lines, COLS))?;
    let counts: &[usize] = if quick { &[1] } else { &[1, 8, 32] };
    let empty = rss_of(0, &text)?;
    for &n in counts {
        let rss = rss_of(n, &text)?;
        #[allow(clippy::cast_precision_loss)]
        let per = (rss - empty) / n as f64;
        #[allow(clippy::cast_precision_loss)]
        let goal = 40.0 + 4.0 * n as f64;
        table.row(
            &format!(
                "resident MB, {n} session(s) x {} lines of scrollback at {COLS} columns",
                lines.saturating_sub(usize::from(ROWS))
            ),
            format!("{rss:.1} ({per:.1} per session)"),
            format!("no sessions {empty:.1}"),
            format!("{:.2}x goal", rss / goal),
            &format!("<= {goal:.0}"),
            (!quick).then_some(rss <= goal),
        );
    }
    Ok(())
}

/// Resident megabytes of a child holding `n` sessions fed `text`.
fn rss_of(n: usize, text: &std::path::Path) -> anyhow::Result<f64> {
    let exe = std::env::current_exe()?;
    let out = std::process::Command::new(exe)
        .arg(CHILD_FLAG)
        .arg(n.to_string())
        .arg(text)
        .output()
        .context("run the memory child")?;
    if !out.status.success() {
        bail!(
            "the memory child failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let kb: f64 = String::from_utf8_lossy(&out.stdout)
        .trim()
        .parse()
        .context("read the child's resident size")?;
    Ok(kb / 1024.0)
}

/// In the child: spawn the sessions, wait until each has printed all and
/// exited, check the scrollback is there, print `VmRSS` in kB.
pub fn child(args: &[String]) -> anyhow::Result<()> {
    let n: u64 = args.first().context("count")?.parse()?;
    let text = std::path::PathBuf::from(args.get(1).context("file")?);
    let (tx, mut notices) = unbounded_channel();
    let spec = SessionSpec {
        program: "sh".into(),
        args: vec!["-c".into(), cat_script(&text)],
        env: vec![],
        rows: ROWS,
        cols: COLS,
    };
    let mut sessions = Vec::new();
    for id in 0..n {
        sessions.push(Session::spawn(id, &spec, tx.clone())?);
    }
    let deadline = Instant::now() + Duration::from_secs(300);
    let mut exited = 0;
    while exited < n {
        match notices.blocking_recv() {
            Some(SessionNotice::Exited(..)) => exited += 1,
            Some(_) => {}
            None => bail!("notices stopped"),
        }
        if Instant::now() > deadline {
            bail!("the sessions did not finish");
        }
    }
    #[allow(clippy::naive_bytecount)] // once, on a few MB
    let expected = std::fs::read(&text)?
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        .saturating_sub(usize::from(ROWS) - 1)
        .min(SCROLLBACK_LINES);
    for s in &sessions {
        let have = s.view().scrollback_available();
        if have + 1 < expected {
            bail!("a session holds {have} lines of scrollback, not {expected}");
        }
    }
    let status = std::fs::read_to_string("/proc/self/status")?;
    let kb = status
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1))
        .context("VmRSS")?;
    println!("{kb}");
    drop(sessions);
    Ok(())
}
