//! `claude-bottle logs`: a bottle's egress log, from its running sidecar or
//! from a saved pipelock log.

use std::io::Write as _;
use std::path::Path;

use crate::docker::sidecar;
use crate::egress::log::{LogLine, format_human, parse_line};
use crate::egress::propose::Proposal;
use crate::egress::tail;
use crate::egress::tally::DenialTally;
use crate::manifest::resolve::effective_allowlist;
use crate::manifest::source::ManifestSource;
use crate::settings::Settings;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogsOptions {
    /// Keep printing what comes until the sidecar stops.
    pub follow: bool,
    /// Only denials.
    pub denied: bool,
    pub form: Form,
}

/// What is printed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Form {
    /// One short line per event.
    #[default]
    Human,
    /// One JSON object per line.
    Json,
    /// Only the allowlist entries that would have let the denials through.
    Propose,
}

/// Where one rendered line goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Output {
    Stdout(String),
    Stderr(String),
}

/// One raw sidecar line as this command prints it, or nothing when the
/// options leave it out (pure).
///
/// JSON mode prints an event as pipelock wrote it (its fields, in its order,
/// nothing added) and a plain-text note as `{"note": "..."}`; human mode
/// prints an event with [`format_human`] and a note on stderr. Control
/// characters never reach the terminal in human mode.
pub fn render(raw: &str, options: LogsOptions) -> Option<Output> {
    match parse_line(raw) {
        LogLine::Event(event) => {
            if options.denied && !event.is_denial() {
                return None;
            }
            Some(Output::Stdout(if options.form == Form::Json {
                raw.trim().to_owned()
            } else {
                format_human(&event)
            }))
        }
        LogLine::Note(_) if options.denied => None,
        LogLine::Note(text) if options.form == Form::Json => Some(Output::Stdout(
            serde_json::json!({ "note": text }).to_string(),
        )),
        LogLine::Note(text) => Some(Output::Stderr(
            text.chars().filter(|c| !c.is_control()).collect(),
        )),
    }
}

/// `logs <agent>` (`file` is `None`) or `logs --file PATH` (`-` is stdin);
/// with `--propose`, an agent named beside `--file` only names the
/// allowlist to compare with.
pub async fn run(
    source: &ManifestSource,
    settings: &Settings,
    agent: Option<&str>,
    file: Option<&Path>,
    options: LogsOptions,
) -> anyhow::Result<i32> {
    if file.is_some() && agent.is_some() && options.form != Form::Propose {
        anyhow::bail!(
            "name an agent or give --file PATH, not both (an agent beside --file only names \
             the allowlist --propose compares with)"
        );
    }
    let mut printer = Printer::new(options);
    if let Some(path) = file {
        let reader: Box<dyn std::io::Read> = if path == Path::new("-") {
            Box::new(std::io::stdin().lock())
        } else {
            Box::new(
                std::fs::File::open(path)
                    .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?,
            )
        };
        tail::read_raw_lines(reader, |line| printer.print(line))?;
        printer.finish(source, agent);
        return Ok(0);
    }
    let Some(agent) = agent else {
        anyhow::bail!("name an agent, or give a saved log with --file PATH");
    };
    // The agent's bottles run on the engine its bottle names; every engine
    // the manifest names is asked, so an edited manifest still finds them.
    let mut sidecars = Vec::new();
    let mut engine = None;
    for one in super::engines::connect_all(source, settings).await? {
        let found = sidecar::running_for_agent(&one.engine, agent).await?;
        if !found.is_empty() {
            sidecars = found;
            engine = Some(one.engine);
            break;
        }
    }
    let (Some(engine), Some(newest)) = (engine, sidecars.first()) else {
        eprintln!(
            "claude-bottle: no running bottle of agent {agent:?} (its egress log goes with it); \
             `claude-bottle logs --file PATH` reads a saved one"
        );
        return Ok(1);
    };
    if sidecars.len() > 1 {
        eprintln!(
            "claude-bottle: {} bottles of {agent} are running; showing the newest (session {}, {})",
            sidecars.len(),
            newest.session,
            newest.container
        );
    }
    crate::docker::logs::raw_lines(&engine, &newest.container, options.follow, 0, |line| {
        printer.print(line)
    })
    .await?;
    printer.finish(source, agent.into());
    Ok(0)
}

/// The agent's bottle's effective allowlist, as the manifest has it now.
fn bottle_allowlist(source: &ManifestSource, agent: &str) -> Result<Vec<String>, String> {
    let manifest = source
        .load_for(agent)
        .map_err(|errors| errors.to_string())?;
    let bottle = manifest
        .agents
        .get(agent)
        .and_then(|a| manifest.bottles.get(&a.bottle))
        .ok_or_else(|| format!("no agent named {agent:?} in the manifest"))?;
    Ok(effective_allowlist(bottle)
        .into_iter()
        .map(|e| e.host)
        .collect())
}

/// The proposal as `--propose` prints it: what it is on stderr, the
/// entries on stdout.
pub fn proposal_output(
    tally: &DenialTally,
    agent: Option<&str>,
    allowlist: Result<&[&str], &str>,
) -> (Vec<String>, Vec<String>) {
    let proposal = Proposal::new(tally, allowlist.ok());
    let mut header = proposal.explanation();
    match (agent, allowlist) {
        (Some(agent), Err(why)) => {
            header.push(format!(
                "The allowlist of {agent}'s bottle is unknown: {why}"
            ));
        }
        (None, _) => header.push(
            "Name the agent beside --file to leave out the hosts its bottle allows.".to_owned(),
        ),
        (Some(_), Ok(_)) => {}
    }
    (header, proposal.entry_lines())
}

/// Prints rendered lines, or tallies them for `--propose`; stops (returns
/// false) once stdout is closed.
struct Printer {
    options: LogsOptions,
    tally: DenialTally,
}

impl Printer {
    fn new(options: LogsOptions) -> Self {
        Self {
            options,
            tally: DenialTally::default(),
        }
    }

    fn print(&mut self, raw: &str) -> bool {
        if self.options.form == Form::Propose {
            if let LogLine::Event(e) = parse_line(raw) {
                self.tally.record(&e);
            }
            return true;
        }
        match render(raw, self.options) {
            None => true,
            Some(Output::Stdout(text)) => {
                let mut out = std::io::stdout().lock();
                writeln!(out, "{text}").and_then(|()| out.flush()).is_ok()
            }
            Some(Output::Stderr(text)) => {
                eprintln!("{text}");
                true
            }
        }
    }

    /// With `--propose`, prints the proposal once every line is read.
    fn finish(&self, source: &ManifestSource, agent: Option<&str>) {
        if self.options.form != Form::Propose {
            return;
        }
        let allowlist = agent.map(|agent| bottle_allowlist(source, agent));
        let entries: Vec<&str>;
        let compared = match &allowlist {
            Some(Ok(hosts)) => {
                entries = hosts.iter().map(String::as_str).collect();
                Ok(entries.as_slice())
            }
            Some(Err(why)) => Err(why.as_str()),
            None => Err(""),
        };
        let (header, lines) = proposal_output(&self.tally, agent, compared);
        for line in header {
            eprintln!("claude-bottle: {line}");
        }
        let mut out = std::io::stdout().lock();
        for line in lines {
            if writeln!(out, "{line}").is_err() {
                return;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BLOCKED: &str = r#"{"level":"warn","component":"pipelock","event":"blocked","method":"GET","url":"http://example.org/x","scanner":"allowlist","reason":"domain not in allowlist: example.org","time":"2026-04-28T15:05:21Z","message":"request blocked"}"#;
    const OPEN: &str = r#"{"level":"info","event":"tunnel_open","target":"api.anthropic.com:443","time":"2026-04-28T15:04:09Z"}"#;

    fn opts(denied: bool, json: bool) -> LogsOptions {
        LogsOptions {
            follow: false,
            denied,
            form: if json { Form::Json } else { Form::Human },
        }
    }

    #[test]
    fn each_mode_renders_events_and_notes() {
        assert_eq!(
            render(OPEN, opts(false, false)),
            Some(Output::Stdout("15:04:09 OPEN api.anthropic.com:443".into()))
        );
        assert_eq!(render(OPEN, opts(true, false)), None);
        assert_eq!(
            render(&format!("  {BLOCKED} \r"), opts(true, true)),
            Some(Output::Stdout(BLOCKED.into()))
        );
        assert_eq!(
            render("WARNING: \x1b[31mred\x1b[0m", opts(false, false)),
            Some(Output::Stderr("WARNING: [31mred[0m".into()))
        );
        assert_eq!(
            render("say \"hi\"", opts(false, true)),
            Some(Output::Stdout(r#"{"note":"say \"hi\""}"#.into()))
        );
        assert_eq!(render("a note", opts(true, true)), None);
    }
}
