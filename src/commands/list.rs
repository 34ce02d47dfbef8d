//! `claude-bottle list`: agents with their bottle, runtime and source file.

use crate::manifest::source::{ManifestSource, NO_MANIFEST};

pub fn run(source: &ManifestSource, json: bool) -> i32 {
    let usable = match source.load_usable() {
        Ok(usable) => usable,
        Err(errors) => {
            eprintln!("{errors}");
            return 1;
        }
    };
    if let Some(note) = crate::manifest::source::left_out_note(&usable) {
        eprintln!("claude-bottle: {note}");
    }
    let manifest = usable.manifest;
    if json {
        let rows: Vec<_> = manifest
            .agents
            .values()
            .map(|a| {
                let runtime = manifest
                    .bottles
                    .get(&a.bottle)
                    .map(|b| b.runtime.engine_name());
                serde_json::json!({
                    "agent": a.name,
                    "bottle": a.bottle,
                    "runtime": runtime,
                    "source": a.source,
                })
            })
            .collect();
        println!("{}", serde_json::Value::Array(rows));
        return 0;
    }
    if manifest.files.is_empty() {
        eprintln!("{NO_MANIFEST}");
        return 1;
    }
    if manifest.agents.is_empty() {
        println!("No agents in {}.", display_files(&manifest.files));
        return 0;
    }
    let width = |f: &dyn Fn(&crate::manifest::Agent) -> usize, title: &str| {
        manifest
            .agents
            .values()
            .map(f)
            .max()
            .unwrap_or(0)
            .max(title.len())
    };
    let agent_w = width(&|a| a.name.len(), "AGENT");
    let bottle_w = width(&|a| a.bottle.len(), "BOTTLE");
    println!(
        "{:agent_w$}  {:bottle_w$}  {:7}  SOURCE",
        "AGENT", "BOTTLE", "RUNTIME"
    );
    for a in manifest.agents.values() {
        let runtime = manifest
            .bottles
            .get(&a.bottle)
            .map_or("?", |b| b.runtime.engine_name());
        println!(
            "{:agent_w$}  {:bottle_w$}  {runtime:7}  {}",
            a.name,
            a.bottle,
            a.source.display()
        );
    }
    0
}

pub fn display_files(files: &[std::path::PathBuf]) -> String {
    files
        .iter()
        .map(|f| f.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
