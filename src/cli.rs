//! The command line (clap derive). Parsing only; each subcommand runs in
//! `commands::<name>`.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// Run Claude Code agents in sealed bottles: one container, one internal network
/// and one egress proxy per agent.
#[derive(Debug, Parser)]
#[command(name = "claude-bottle", version, about, long_about = None)]
pub struct Cli {
    /// Read these manifest files instead of discovering `claude-bottle.json` in
    /// the project and in $HOME (repeat to merge several, later ones win).
    #[arg(long, global = true, value_name = "PATH")]
    pub manifest: Vec<PathBuf>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// List the manifest's agents with their bottle, runtime and source file.
    List {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show everything an agent's bottle grants, fully resolved (secrets masked).
    Show {
        agent: String,
        #[arg(long)]
        json: bool,
    },
    /// Check manifest files; exit 1 with every error found.
    Validate {
        /// Files to check (default: the discovered manifest files).
        files: Vec<PathBuf>,
    },
    /// Write a starter claude-bottle.json here (never overwrites).
    Init,
    /// Check the Docker engine, runtimes, token and manifest, with fixes.
    Doctor,
    /// Remove bottles whose owning claude-bottle process is gone (and, with
    /// --images, agent images that older inputs left). Bottles a dashboard
    /// kept working are left alone unless --kept says otherwise.
    Gc {
        /// Only list what would be removed.
        #[arg(long)]
        dry_run: bool,
        /// Also remove the bottles dashboards kept working after they quit.
        #[arg(long)]
        kept: bool,
        /// Also remove agent images built from older inputs (a changed
        /// Dockerfile, base image or Claude Code); one in use is kept.
        #[arg(long)]
        images: bool,
        /// Remove without asking.
        #[arg(long, short)]
        yes: bool,
    },
    /// List every bottle on the engine: agent, session, age, what its agent
    /// is doing, denials so far, who is attached.
    Ps {
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Show a bottle's claude full screen (an agent with one bottle, or a
    /// session); Ctrl-\ detaches and leaves it working.
    Attach {
        /// An agent name or a session id (`claude-bottle ps`).
        name: String,
        /// Take the session over from the viewer attached now.
        #[arg(long)]
        take: bool,
    },
    /// Remove one bottle (an agent with one bottle, or a session), kept or not.
    Stop {
        /// An agent name or a session id (`claude-bottle ps`).
        name: String,
        /// Remove without asking (uncollected work in a workspace is collected first).
        #[arg(long, short)]
        yes: bool,
        /// Drop the agent's uncollected work instead of collecting it.
        #[arg(long)]
        discard: bool,
    },
    /// Bring an agent's work (its commits, and its uncommitted changes as one
    /// more commit) into the repository its workspace came from, as the branch
    /// bottle/<agent>/<session>. Your working tree, index and current branch
    /// are never touched.
    Collect {
        /// An agent name or a session id (`claude-bottle ps`).
        name: String,
        /// The branch to make (or move forward) instead of bottle/<agent>/<session>.
        #[arg(long)]
        branch: Option<String>,
        /// Refuse a bundle larger than this (K, M, G).
        #[arg(long, default_value = "256M", value_parser = crate::workspace::parse_size)]
        max_size: u64,
    },
    /// Launch a bottle and run claude in it, full screen; tear down when it exits.
    Start {
        agent: String,
        /// Launch without asking.
        #[arg(long, short)]
        yes: bool,
    },
    /// Launch a bottle, run one command in it (default: claude), stream its
    /// output, exit with its code, tear down.
    Run {
        agent: String,
        /// Launch without asking.
        #[arg(long, short)]
        yes: bool,
        /// Collect the agent's work from its workspace at the end without asking.
        #[arg(long, conflicts_with = "discard")]
        collect: bool,
        /// Drop the agent's uncollected work at the end.
        #[arg(long)]
        discard: bool,
        /// The command and its arguments, after `--` (e.g. `-- claude -p "..."`).
        #[arg(last = true)]
        command: Vec<String>,
    },
    /// Print the egress log of an agent's running bottle (the newest, if it
    /// has several), or of a saved pipelock log with --file.
    Logs {
        /// The agent whose running bottle to read (with --file and --propose:
        /// whose bottle's allowlist to compare with).
        #[arg(required_unless_present = "file")]
        agent: Option<String>,
        /// Keep printing new lines until the bottle stops.
        #[arg(long, short, conflicts_with = "file")]
        follow: bool,
        /// Only requests the sidecar refused.
        #[arg(long)]
        denied: bool,
        /// One JSON object per line: each event as pipelock wrote it; other
        /// output as {"note": "..."}.
        #[arg(long)]
        json: bool,
        /// Read a saved pipelock log (e.g. `docker logs` output); `-` is stdin.
        #[arg(long, value_name = "PATH")]
        file: Option<PathBuf>,
        /// Instead of the log, print the egress.allowlist entries that would
        /// have let its allowlist denials through, one JSON string a line,
        /// leaving out hosts the agent's bottle already allows. Implies
        /// --denied; changes nothing.
        #[arg(long, conflicts_with_all = ["follow", "json"])]
        propose: bool,
    },
    /// Print shell completions.
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}
