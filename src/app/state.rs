//! The dashboard's state. Only `update` changes it; the UI only reads it.

use ratatui::layout::Rect;

use super::egress_log::EgressLog;
use super::event::{BottleId, EngineStatus, Leftover, Progress, Secret};
use super::keymap::EscapeKey;
use super::layout::Areas;
use crate::manifest::{AllowEntry, ResolvedAgent};
use crate::session::ScrollState;

/// One agent of the manifest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AgentEntry {
    pub name: String,
    pub bottle: String,
    /// The engine its bottles run on: `default`, or the docker context its
    /// bottle names.
    pub engine: String,
    /// The manifest errors that keep it from launching (its own and its
    /// bottle's), one per line; `None` when it can launch.
    pub errors: Option<String>,
}

/// Why there are no agents to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ManifestProblem {
    /// No `claude-bottle.json` was found.
    Missing,
    /// The files have errors (the loader's text, every error).
    Invalid(String),
}

/// Where keys go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Agents,
    Egress,
    /// The diff pane (the tab's changes against its workspace's base).
    Diff,
    Terminal,
}

/// A bottle's life, as its tab shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TabState {
    Launching(Progress),
    Running,
    /// The agent's terminal ended; the bottle still exists until killed.
    Exited(Option<i32>),
    Failed(String),
    Stopping,
}

impl TabState {
    /// Whether the bottle's containers may exist.
    pub fn holds_containers(&self) -> bool {
        !matches!(self, TabState::Failed(_))
    }
}

/// One launched bottle.
#[derive(Debug, Clone)]
pub struct Tab {
    pub id: BottleId,
    pub agent: String,
    pub bottle: String,
    /// The engine it runs on (as [`AgentEntry::engine`]).
    pub engine: String,
    /// The bottle's session, once known (a kept bottle found again).
    pub session: Option<String>,
    pub state: TabState,
    /// Its terminal session runs (the screen itself is the runtime's: the
    /// model holds no live state).
    pub terminal: bool,
    /// The child wrote something while another tab was shown.
    pub unseen_output: bool,
    /// The child rang the bell (or ended) while not being watched.
    /// Claude rings the bell when it waits for the user (its terminal-bell
    /// notification channel), which is the one signal that does not guess.
    pub needs_attention: bool,
    /// Scrolled back: the line (counted among all that ever scrolled off)
    /// at the top of the pane; `None` shows the live screen.
    pub scroll_anchor: Option<u64>,
    /// The screen's scrollback, as of its last output event.
    pub lines: ScrollState,
    pub egress: EgressLog,
    /// The effective allowlist at launch, with origins.
    pub allowlist: Vec<AllowEntry>,
    /// Hosts allowed from the dashboard since.
    pub allowed_here: Vec<String>,
    /// The manifest file the bottle's entry came from.
    pub manifest_file: std::path::PathBuf,
    /// Why the egress sidecar is down; `None` while it runs.
    pub egress_down: Option<String>,
    /// Who took the bottle's claude over: the tab only watches until `i`
    /// takes it back.
    pub held_by: Option<String>,
    /// The repository its workspace is a copy of; `None`: no workspace.
    pub workspace: Option<std::path::PathBuf>,
    /// The files its agent changed against the base, as last heard.
    pub changes: Vec<crate::workspace::FileChange>,
}

impl Tab {
    /// A new tab for a bottle of `resolved`, in `state`.
    pub fn new(id: BottleId, resolved: &ResolvedAgent, state: TabState) -> Self {
        Self {
            id,
            agent: resolved.agent.name.clone(),
            bottle: resolved.bottle.name.clone(),
            engine: crate::settings::engine_label(resolved.bottle.context.as_deref()).to_owned(),
            session: None,
            state,
            terminal: false,
            unseen_output: false,
            needs_attention: false,
            scroll_anchor: None,
            lines: crate::session::ScrollState::default(),
            egress: super::egress_log::EgressLog::default(),
            allowlist: resolved.allowlist.clone(),
            allowed_here: Vec::new(),
            manifest_file: resolved.bottle.source.clone(),
            egress_down: None,
            held_by: None,
            workspace: None,
            changes: Vec::new(),
        }
    }

    /// Every entry the sidecar enforces now: the allowlist at launch and the
    /// hosts allowed here since.
    pub fn allow_entries(&self) -> Vec<&str> {
        self.allowlist
            .iter()
            .map(|e| e.host.as_str())
            .chain(self.allowed_here.iter().map(String::as_str))
            .collect()
    }

    /// Lines back the pane shows, by what the model last heard of the
    /// screen (the drawing uses the screen's own count, [`Self::lines_back`]).
    pub fn scroll_now(&self) -> usize {
        self.lines_back(self.lines)
    }

    /// Lines back from the live screen, given the screen's scrollback now:
    /// the anchored line stays at the top while output scrolls more lines
    /// off (as in tmux's copy mode), and never beyond what is kept.
    pub fn lines_back(&self, lines: ScrollState) -> usize {
        let Some(anchor) = self.scroll_anchor else {
            return 0;
        };
        let back = usize::try_from(lines.scrolled_off.saturating_sub(anchor)).unwrap_or(usize::MAX);
        back.min(lines.available)
    }

    /// Shows the pane `lines` back from the live screen (0: the live
    /// screen), from now on.
    pub fn set_scroll(&mut self, lines: usize) {
        self.scroll_anchor = (lines > 0).then(|| {
            self.lines
                .scrolled_off
                .saturating_sub(u64::try_from(lines).unwrap_or(u64::MAX))
        });
    }
}

/// The preflight summary before a launch, and what comes after it.
#[derive(Debug, Clone, PartialEq)]
pub struct PendingLaunch {
    pub resolved: Box<ResolvedAgent>,
    pub answers: Vec<(String, Secret)>,
}

impl PendingLaunch {
    /// The next `?` env value still to be asked: (name, question).
    pub fn next_question(&self) -> Option<(&str, &str)> {
        self.resolved.env.iter().find_map(|e| match &e.value {
            crate::manifest::ResolvedEnvValue::Ask(q)
                if !self.answers.iter().any(|(n, _)| *n == e.name) =>
            {
                Some((e.name.as_str(), q.as_str()))
            }
            _ => None,
        })
    }
}

#[derive(Debug, Clone, PartialEq)]
pub enum Modal {
    Preflight(PendingLaunch),
    /// A hidden prompt for one `?` env value.
    Secret {
        pending: PendingLaunch,
        input: Secret,
    },
    ConfirmKill(BottleId),
    ConfirmQuit {
        bottles: usize,
    },
    /// A host was just allowed for a running bottle: add it to the manifest
    /// file too? Nothing is written unless the answer is yes.
    SaveHost(SaveHost),
    Help,
    /// The allowlist entries that would have let a bottle's allowlist
    /// denials through, to read; closes on any key, changes nothing.
    Proposal {
        bottle: String,
        proposal: crate::egress::propose::Proposal,
    },
    /// Bottles a gone claude-bottle process left: remove or keep them.
    Leftovers(Vec<Leftover>),
    /// The fleet inbox, item `selected` highlighted.
    Inbox {
        selected: usize,
    },
    /// Bottles about to be removed hold work not collected (agent, what):
    /// collect it first, drop it, or keep the bottles.
    Uncollected {
        then: super::event::AfterCheck,
        items: Vec<(BottleId, String, String)>,
    },
}

/// The diff pane: a tab's changed files, and one file's diff when opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiffView {
    pub id: BottleId,
    /// `None` until the first answer.
    pub files: Option<Result<Vec<crate::workspace::FileChange>, String>>,
    pub selected: usize,
    pub file: Option<FileView>,
}

/// One file's diff in the diff pane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileView {
    pub path: String,
    /// `None` until the first answer.
    pub text: Option<Result<String, String>>,
    /// Lines scrolled down.
    pub scroll: usize,
}

/// Where an allowed host would be saved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SaveHost {
    pub host: String,
    /// `bottles.<bottle>` in `file`.
    pub bottle: String,
    pub file: std::path::PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub text: String,
    pub is_error: bool,
}

#[derive(Debug, Clone)]
pub struct App {
    pub agents: Vec<AgentEntry>,
    pub manifest_problem: Option<ManifestProblem>,
    /// Errors in some entries, which left them out (the others load), one
    /// per line.
    pub entry_errors: Option<String>,
    pub token_present: bool,
    /// Each engine bottles run on, by name, the default one first, and
    /// whether it answers.
    pub engines: Vec<(String, EngineStatus)>,
    pub selected_agent: usize,
    pub tabs: Vec<Tab>,
    /// Index into `tabs`.
    pub current_tab: usize,
    pub focus: Focus,
    pub egress_open: bool,
    pub modal: Option<Modal>,
    pub message: Option<Message>,
    pub screen: Rect,
    pub next_id: BottleId,
    pub quitting: bool,
    /// The chord that leaves the terminal.
    pub escape_key: EscapeKey,
    /// What needs the user across every bottle.
    pub inbox: super::inbox::Inbox,
    /// The diff pane, when open (it shows in the egress pane's place).
    pub diff: Option<DiffView>,
}

impl App {
    /// Whether the engine called `name` answers (an engine not heard of is
    /// still being connected to).
    pub fn engine_status(&self, name: &str) -> &EngineStatus {
        self.engines
            .iter()
            .find(|(n, _)| n == name)
            .map_or(&EngineStatus::Connecting, |(_, status)| status)
    }

    /// The engine called `name` does not answer (as last heard).
    pub fn engine_unreachable(&self, name: &str) -> bool {
        matches!(self.engine_status(name), EngineStatus::Unavailable(_))
    }

    /// Records whether the engine called `name` answers.
    pub fn set_engine(&mut self, name: &str, status: EngineStatus) {
        match self.engines.iter_mut().find(|(n, _)| n == name) {
            Some((_, old)) => *old = status,
            None => self.engines.push((name.to_owned(), status)),
        }
    }

    /// Whether bottles run on more than the default engine, so each says
    /// which.
    pub fn several_engines(&self) -> bool {
        self.engines.len() > 1
    }

    pub fn new(
        agents: Vec<AgentEntry>,
        manifest_problem: Option<ManifestProblem>,
        token_present: bool,
    ) -> Self {
        Self {
            agents,
            manifest_problem,
            entry_errors: None,
            token_present,
            engines: vec![(
                crate::settings::DEFAULT_ENGINE.to_owned(),
                EngineStatus::Connecting,
            )],
            selected_agent: 0,
            tabs: Vec::new(),
            current_tab: 0,
            focus: Focus::Agents,
            egress_open: false,
            modal: None,
            message: None,
            screen: Rect::new(0, 0, 80, 24),
            next_id: 1,
            quitting: false,
            escape_key: EscapeKey::default(),
            inbox: super::inbox::Inbox::default(),
            diff: None,
        }
    }

    pub fn areas(&self) -> Areas {
        Areas::new(self.screen, self.egress_open)
    }

    pub fn tab(&self) -> Option<&Tab> {
        self.tabs.get(self.current_tab)
    }

    pub fn tab_mut(&mut self) -> Option<&mut Tab> {
        self.tabs.get_mut(self.current_tab)
    }

    pub fn tab_by_id(&mut self, id: BottleId) -> Option<&mut Tab> {
        self.tabs.iter_mut().find(|t| t.id == id)
    }

    /// The latest tab of an agent, for its state in the list.
    pub fn latest_tab_of(&self, agent: &str) -> Option<&Tab> {
        self.tabs.iter().rev().find(|t| t.agent == agent)
    }

    /// Bottles whose containers may exist.
    pub fn live_bottles(&self) -> usize {
        self.tabs
            .iter()
            .filter(|t| t.state.holds_containers())
            .count()
    }

    pub fn info(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            is_error: false,
        });
    }

    pub fn error(&mut self, text: impl Into<String>) {
        self.message = Some(Message {
            text: text.into(),
            is_error: true,
        });
    }
}

/// An agent's state as the list shows it: from its latest bottle.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentStatus {
    Idle,
    BuildingImage(String),
    Starting(&'static str),
    Running,
    NeedsAttention,
    Stopping,
    Exited(Option<i32>),
    Failed(String),
    /// Manifest errors keep it from launching.
    Invalid,
}

impl Tab {
    pub fn status(&self) -> AgentStatus {
        match &self.state {
            TabState::Launching(Progress::BuildingImage(line)) => {
                AgentStatus::BuildingImage(line.clone())
            }
            TabState::Launching(Progress::Step(step)) => AgentStatus::Starting(step.describe()),
            TabState::Launching(Progress::Reattaching) => {
                AgentStatus::Starting("finding the kept bottle")
            }
            TabState::Running if self.needs_attention => AgentStatus::NeedsAttention,
            TabState::Running => AgentStatus::Running,
            TabState::Exited(code) => AgentStatus::Exited(*code),
            TabState::Failed(reason) => AgentStatus::Failed(reason.clone()),
            TabState::Stopping => AgentStatus::Stopping,
        }
    }
}

impl App {
    pub fn agent_status(&self, agent: &str) -> AgentStatus {
        let invalid = self
            .agents
            .iter()
            .any(|a| a.name == agent && a.errors.is_some());
        match self.latest_tab_of(agent) {
            Some(tab) => tab.status(),
            None if invalid => AgentStatus::Invalid,
            None => AgentStatus::Idle,
        }
    }
}
