//! Performance benchmarks of the dashboard's terminals and of bottle launches.
//!
//! `claude-bottle-bench [--quick] [throughput|idle|latency|holder|launch|engines|workspace|memory]...`
//! prints one Markdown table. Every figure comes with a baseline measured in
//! the same run (tmux, raw vt100, an idle dashboard, the plain docker CLI...),
//! because the machines this runs on are shared and loaded: only ratios travel.
//! `--quick` is a smoke run (tiny sizes, one repeat) that checks the bench
//! still works; it never judges a number. See BENCHMARKS.md.

mod data;
mod engines;
mod holder;
mod idle;
mod latency;
mod launch;
mod memory;
mod report;
mod throughput;
mod tmux;
mod workspace;

use anyhow::{Context as _, bail};

use crate::report::Table;

const SECTIONS: [&str; 8] = [
    "throughput",
    "idle",
    "latency",
    "holder",
    "launch",
    "engines",
    "workspace",
    "memory",
];

fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some(memory::CHILD_FLAG) {
        return memory::child(&args[1..]);
    }
    let mut quick = false;
    let mut chosen = Vec::new();
    for arg in &args {
        match arg.as_str() {
            "--quick" => quick = true,
            "-h" | "--help" => {
                println!(
                    "usage: claude-bottle-bench [--quick] [{}]...",
                    SECTIONS.join("|")
                );
                return Ok(());
            }
            s if SECTIONS.contains(&s) => chosen.push(s.to_owned()),
            other => bail!("unknown argument {other:?} (try --help)"),
        }
    }
    if chosen.is_empty() {
        chosen = SECTIONS.map(str::to_owned).to_vec();
    }
    let work = data::WorkDir::new().context("make a scratch directory")?;
    let mut table = Table::default();
    eprintln!("machine: {}", report::machine());
    for section in &chosen {
        eprintln!("== {section}");
        let result = match section.as_str() {
            "throughput" => throughput::run(quick, &work, &mut table),
            "idle" => idle::run(quick, &work, &mut table),
            "latency" => latency::run(quick, &work, &mut table),
            "holder" => holder::run(quick, &work, &mut table),
            "launch" => launch::run(quick, &mut table),
            "engines" => engines::run(quick, &work, &mut table),
            "workspace" => workspace::run(quick, &work, &mut table),
            "memory" => memory::run(quick, &work, &mut table),
            _ => Ok(()),
        };
        result.with_context(|| format!("the {section} bench failed"))?;
    }
    println!("machine: {}", report::machine());
    println!("{}", table.render());
    Ok(())
}
