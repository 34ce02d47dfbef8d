//! What the holder costs: the same workloads straight under the session's
//! PTY (as before the holder) and through `claude-bottle-hold` (serve and
//! attach, as in a bottle), on this machine. No engine: the relay alone,
//! measured in one run so only the ratio counts.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};
use claude_bottle::session::SessionSpec;

use crate::data::{self, WorkDir};
use crate::latency::{ECHO_SCRIPT, measure_with};
use crate::report::{Summary, Table, percentile};
use crate::throughput::{COLS, ROWS, cat_script, mb_per_s, session_path, sh_spec};

pub fn run(quick: bool, work: &WorkDir, table: &mut Table) -> anyhow::Result<()> {
    let holder = holder_binary()?;
    let size = if quick { 512 << 10 } else { 64 << 20 };
    let repeats = if quick { 1 } else { 3 };
    let path = work.file("holder.bin", &data::coloured_text(size))?;
    let (mut straight, mut held) = (Vec::new(), Vec::new());
    for round in 0..repeats {
        eprintln!("  scrolling text: round {}", round + 1);
        let (elapsed, _, _) = session_path(&sh_spec(&cat_script(&path)), None, true)?;
        straight.push(mb_per_s(size, elapsed));
        let script = format!("read _; {}", cat_script(&path));
        let served = Served::start(&holder, work.path(), &script)?;
        let (elapsed, _, _) = session_path(&served.attach_spec(), Some(b"\r"), true)?;
        served.finish()?;
        held.push(mb_per_s(size, elapsed));
    }
    let (straight, held) = (Summary::of(&straight), Summary::of(&held));
    let ratio = held.median / straight.median;
    #[allow(clippy::cast_precision_loss)]
    let mib = format!("{:.1}", size as f64 / f64::from(1 << 20));
    table.row(
        &format!("holder, scrolling text ({mib} MiB), MB/s: through the holder vs straight"),
        held.show(0),
        format!("straight {}", straight.show(0)),
        format!("{ratio:.2}x"),
        ">= 0.9x",
        (!quick).then_some(ratio >= 0.9),
    );

    let keystrokes = if quick { 40 } else { 300 };
    let text = work.file("holder-stream.bin", &data::coloured_text(1 << 20))?;
    let straight = measure_with(&sh_spec(ECHO_SCRIPT), keystrokes, 0, &text)?;
    let served = Served::start(&holder, work.path(), ECHO_SCRIPT)?;
    let through = measure_with(&served.attach_spec(), keystrokes, 0, &text)?;
    drop(served);
    for (name, p) in [("p50", 50.0), ("p99", 99.0)] {
        let (h, s) = (percentile(&through, p), percentile(&straight, p));
        table.row(
            &format!("holder, keystroke to echo, {name}, ms ({keystrokes} keys)"),
            format!("{h:.2}"),
            format!("straight {s:.2}"),
            format!("+{:.2} ms", h - s),
            "",
            None,
        );
    }
    Ok(())
}

/// The holder built beside this bench.
fn holder_binary() -> anyhow::Result<PathBuf> {
    let exe = std::env::current_exe()?;
    let path = exe.with_file_name("claude-bottle-hold");
    if !path.is_file() {
        bail!(
            "{} is missing: `cargo build --release --bins`",
            path.display()
        );
    }
    Ok(path)
}

/// `sh -c script` under a holder on a socket in a scratch directory.
struct Served {
    holder: PathBuf,
    socket: PathBuf,
    child: Child,
}

impl Served {
    fn start(holder: &Path, dir: &Path, script: &str) -> anyhow::Result<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let socket = dir.join(format!("hold-{}", NEXT.fetch_add(1, Ordering::Relaxed)));
        let child = Command::new(holder)
            .arg("--socket")
            .arg(&socket)
            .args(["serve", "--size", &format!("{ROWS}x{COLS}"), "--"])
            .args(["sh", "-c", script])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .context("start the holder")?;
        let deadline = Instant::now() + Duration::from_secs(10);
        while !socket.exists() {
            if Instant::now() > deadline {
                bail!("the holder did not listen");
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Ok(Self {
            holder: holder.to_path_buf(),
            socket,
            child,
        })
    }

    /// A viewer of it, as the dashboard opens one (no detach key).
    fn attach_spec(&self) -> SessionSpec {
        SessionSpec {
            program: self.holder.display().to_string(),
            args: vec![
                "--socket".into(),
                self.socket.display().to_string(),
                "attach".into(),
                "--detach-key".into(),
                "none".into(),
            ],
            env: vec![],
            rows: ROWS,
            cols: COLS,
        }
    }

    /// Waits for the holder to end (its program did).
    fn finish(mut self) -> anyhow::Result<()> {
        let status = self.child.wait()?;
        if !status.success() {
            bail!("the holder exited with {status}");
        }
        Ok(())
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
