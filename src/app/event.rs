//! The vocabulary between the loop and the model: what happened ([`Event`])
//! and what to do about it ([`Effect`]).

use crossterm::event::{KeyEvent, MouseEvent};

use crate::docker::bottle::LaunchStep;
use crate::egress::log::LogLine;
use crate::manifest::ResolvedAgent;
use crate::session::ScrollState;

/// Identifies one launched bottle for the lifetime of the dashboard; its
/// terminal session has the same id.
pub type BottleId = u64;

/// A value typed at a hidden prompt. Its `Debug` never shows it.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Self {
        Self(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn push(&mut self, c: char) {
        self.0.push(c);
    }

    pub fn pop(&mut self) {
        self.0.pop();
    }

    /// Characters typed, for the masked field.
    pub fn len(&self) -> usize {
        self.0.chars().count()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(<hidden>)")
    }
}

/// Whether the Docker engine answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineStatus {
    Connecting,
    Ready {
        version: String,
    },
    /// Why not, with the fix.
    Unavailable(String),
}

/// A bottle whose claude-bottle process is gone (a crash, a SIGKILL),
/// found when the dashboard connects to the engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    pub session: String,
    pub agent: String,
    pub containers: Vec<String>,
    pub networks: usize,
}

/// A bottle a dashboard kept working, of an agent of this manifest, found
/// when the dashboard connects to the engine.
#[derive(Debug, Clone, PartialEq)]
pub struct KeptBottle {
    pub session: String,
    pub resolved: Box<ResolvedAgent>,
}

/// What waits on a look at the bottles' uncollected work.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterCheck {
    /// Removing this bottle (`x`).
    Kill(BottleId),
    /// Quitting with every bottle torn down.
    Quit,
}

/// How far a launch has got.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Progress {
    /// Building the agent image; the latest line of build output.
    BuildingImage(String),
    Step(LaunchStep),
    /// Finding a kept bottle again (starting it again after a restart).
    Reattaching,
}

#[derive(Debug)]
pub enum Event {
    Key(KeyEvent),
    Paste(String),
    Mouse(MouseEvent),
    Resize {
        cols: u16,
        rows: u16,
    },
    /// A session's screen changed; `bell` when the child rang since last
    /// time; `lines`, its scrollback now.
    SessionOutput {
        id: BottleId,
        bell: bool,
        lines: ScrollState,
    },
    SessionExited {
        id: BottleId,
        code: Option<i32>,
    },
    /// Another viewer took the tab's claude over; the tab only watches.
    HeldElsewhere {
        id: BottleId,
        who: String,
    },
    /// The answer to [`Effect::Resolve`].
    Resolved {
        agent: String,
        result: Result<Box<ResolvedAgent>, String>,
    },
    LaunchProgress {
        id: BottleId,
        progress: Progress,
    },
    /// The bottle runs and its terminal session started.
    Launched {
        id: BottleId,
    },
    LaunchFailed {
        id: BottleId,
        reason: String,
    },
    /// One line of the bottle's sidecar output.
    Egress {
        id: BottleId,
        line: LogLine,
    },
    /// The engine called `.0` answers now, or no longer.
    EngineState(String, EngineStatus),
    /// The bottle's egress sidecar stopped (or its log could not be
    /// followed): the agent has no way out until it is restarted.
    EgressDown {
        id: BottleId,
        reason: String,
    },
    /// The sidecar runs again and its log is followed.
    EgressUp {
        id: BottleId,
    },
    /// Bottles of this manifest's agents that a gone process left behind.
    Leftovers(Vec<Leftover>),
    /// Bottles of this manifest's agents kept working by a gone dashboard.
    KeptFound(Vec<KeptBottle>),
    /// The answer to [`Effect::RemoveLeftovers`]: how many were removed.
    LeftoversRemoved(Result<usize, String>),
    AllowDone {
        id: BottleId,
        host: String,
        result: Result<(), String>,
    },
    KillDone {
        id: BottleId,
        result: Result<(), String>,
    },
    /// The answer to [`Effect::SaveAllowHost`].
    SaveDone {
        host: String,
        file: std::path::PathBuf,
        result: Result<(), String>,
    },
    /// The bottle works on a copy of this repository (its workspace).
    Workspace {
        id: BottleId,
        repo: std::path::PathBuf,
    },
    /// The answer to [`Effect::CheckWork`]: the bottles holding work not
    /// collected (with what it is), and those whose work could not be read.
    WorkChecked {
        then: AfterCheck,
        pending: Vec<(BottleId, String)>,
        unreadable: Vec<(BottleId, String)>,
    },
    /// The answer to [`Effect::Collect`]: what was collected, or why not.
    CollectDone {
        id: BottleId,
        result: Result<String, String>,
    },
    /// The files a bottle's agent changed against its base, as of now.
    Changes {
        id: BottleId,
        files: Result<Vec<crate::workspace::FileChange>, String>,
    },
    /// One changed file's diff against the base, as of now.
    FileDiff {
        id: BottleId,
        path: String,
        text: Result<String, String>,
    },
    /// Something failed that belongs to no bottle.
    Failure(String),
}

#[derive(Debug, PartialEq)]
pub enum Effect {
    /// Resolve an agent against the manifest and the host environment.
    Resolve { agent: String },
    /// Launch a bottle and start its terminal at this PTY size.
    Launch {
        id: BottleId,
        resolved: Box<ResolvedAgent>,
        /// Answers to the `?` env prompts; they go to the terminal's
        /// process environment only.
        answers: Vec<(String, Secret)>,
        /// The terminal's size: claude starts at it.
        rows: u16,
        cols: u16,
    },
    /// Find a kept bottle again (starting it if it stopped) and show its
    /// claude in the tab `id`, unless another viewer holds it.
    Adopt {
        id: BottleId,
        session: String,
        resolved: Box<ResolvedAgent>,
        /// The terminal's size, should claude start again.
        rows: u16,
        cols: u16,
    },
    /// End the terminal session and remove the bottle; with `collect`, its
    /// uncollected work is collected first (and the bottle stays if that fails).
    Kill { id: BottleId, collect: bool },
    /// Collect the agent's work into its repository as a branch.
    Collect { id: BottleId },
    /// Find which of these bottles hold uncollected work, before `then`.
    CheckWork {
        ids: Vec<BottleId>,
        then: AfterCheck,
    },
    /// Follow this bottle's changes (and this file's diff) while the diff
    /// pane shows them; `None`: follow nothing.
    WatchWork {
        id: Option<BottleId>,
        file: Option<String>,
    },
    /// A key typed into the tab's terminal; the runtime turns it into the
    /// bytes the child expects, by the modes its screen is in.
    Key { id: BottleId, key: KeyEvent },
    /// Text pasted into the tab's terminal (bracketed when the child asked).
    Paste { id: BottleId, text: String },
    /// Resize every terminal session (PTY and screen).
    ResizeSessions { rows: u16, cols: u16 },
    /// Add `host` to the bottle's allowlist and reload its sidecar.
    AllowHost { id: BottleId, host: String },
    /// Add `host` to `bottles.<bottle>.egress.allowlist` in the manifest
    /// `file`, keeping the rest of the file as it is.
    SaveAllowHost {
        file: std::path::PathBuf,
        bottle: String,
        host: String,
    },
    /// Start the bottle's stopped egress sidecar again (same config, same
    /// addresses) and follow its log.
    RestartSidecar { id: BottleId },
    /// Open a new terminal in a bottle whose terminal ended.
    Reopen { id: BottleId, rows: u16, cols: u16 },
    /// Remove these leftover sessions.
    RemoveLeftovers { sessions: Vec<String> },
    /// Leave; remove the bottles first when `teardown` (collecting their
    /// uncollected work first when `collect`).
    Quit { teardown: bool, collect: bool },
}
