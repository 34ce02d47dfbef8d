//! Summaries (median and spread) and the results table.

use std::fmt::Write as _;

/// Median, minimum and maximum of some samples.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub n: usize,
}

impl Summary {
    pub fn of(samples: &[f64]) -> Self {
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let median = match n {
            0 => f64::NAN,
            _ if n % 2 == 1 => s[n / 2],
            _ => f64::midpoint(s[n / 2 - 1], s[n / 2]),
        };
        Self {
            median,
            min: s.first().copied().unwrap_or(f64::NAN),
            max: s.last().copied().unwrap_or(f64::NAN),
            n,
        }
    }

    /// `median (min–max, n=N)` with `digits` decimals.
    pub fn show(&self, digits: usize) -> String {
        if self.n <= 1 {
            return format!("{:.digits$}", self.median);
        }
        format!(
            "{:.digits$} ({:.digits$}–{:.digits$}, n={})",
            self.median, self.min, self.max, self.n
        )
    }
}

/// A percentile (nearest rank) of some samples.
pub fn percentile(samples: &[f64], p: f64) -> f64 {
    let mut s = samples.to_vec();
    s.sort_by(f64::total_cmp);
    if s.is_empty() {
        return f64::NAN;
    }
    #[allow(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss
    )]
    let rank = ((p / 100.0) * s.len() as f64).ceil() as usize;
    s[rank.clamp(1, s.len()) - 1]
}

#[derive(Debug, Default)]
pub struct Table {
    rows: Vec<[String; 6]>,
}

impl Table {
    /// One result: what, ours, the baseline, the ratio, the goal, whether met
    /// (`None`: no goal, or a quick run, which judges nothing).
    pub fn row(
        &mut self,
        what: &str,
        ours: String,
        baseline: String,
        ratio: String,
        goal: &str,
        met: Option<bool>,
    ) {
        eprintln!("  {what}: {ours} | {baseline} | {ratio}");
        let met = match met {
            Some(true) => "yes",
            Some(false) => "**no**",
            None => "",
        };
        self.rows.push([
            what.to_owned(),
            ours,
            baseline,
            ratio,
            goal.to_owned(),
            met.to_owned(),
        ]);
    }

    pub fn render(&self) -> String {
        let mut out = String::from(
            "| measure | ours | baseline (same run) | ratio | goal | met |\n|---|---|---|---|---|---|\n",
        );
        for r in &self.rows {
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} |",
                r[0], r[1], r[2], r[3], r[4], r[5]
            );
        }
        out
    }
}

/// Cores, memory and load average, for the record.
pub fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, std::num::NonZero::get);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|m| {
            m.lines()
                .find(|l| l.starts_with("MemTotal:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        })
        .map_or_else(|| "?".to_owned(), |kb| format!("{} MiB", kb / 1024));
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let load: Vec<&str> = load.split_whitespace().take(3).collect();
    format!(
        "{cores} cores, {mem} memory, load average {}",
        load.join(" ")
    )
}
