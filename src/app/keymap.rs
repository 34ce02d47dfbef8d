//! What each key means, as data grouped by where the focus is. The help
//! overlay and the status line are generated from this table.

use crate::settings::ESCAPE_KEY_VAR;
use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// Where keys are looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Anywhere on the dashboard (agent list or egress pane), not the terminal.
    Dashboard,
    /// The agent list has the focus.
    Agents,
    /// The egress pane has the focus.
    Egress,
    /// The diff pane has the focus.
    Diff,
    /// The terminal has the focus: only these keys are kept; every other key
    /// goes to the agent.
    Terminal,
}

impl Scope {
    pub fn title(self) -> &'static str {
        match self {
            Scope::Dashboard => "Dashboard",
            Scope::Agents => "Agent list",
            Scope::Egress => "Egress pane",
            Scope::Diff => "Diff pane",
            Scope::Terminal => "Terminal",
        }
    }
}

/// What a key means.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    SelectNext,
    SelectPrev,
    Launch,
    Kill,
    NextTab,
    PrevTab,
    /// Jump to the tab named by the digit pressed.
    JumpTab,
    ToggleEgress,
    DenialsOnly,
    AllowHost,
    ProposeAllowlist,
    RestartSidecar,
    EnterTerminal,
    LeaveTerminal,
    ScrollUp,
    ScrollDown,
    /// The fleet inbox: what needs the user, across every bottle.
    Inbox,
    /// Collect the tab's work (workspace) as a branch.
    Collect,
    /// Open or close the diff pane.
    ToggleDiff,
    /// Show the selected file's diff.
    OpenFile,
    /// Back from a file to the list; from the list, close the pane.
    DiffBack,
    Help,
    Quit,
}

/// A key as written in the table.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Key {
    Char(char),
    Code(KeyCode),
    Ctrl(char),
    Shift(KeyCode),
    /// 1 to 9.
    Digit,
    /// The configured escape chord ([`EscapeKey`]).
    Escape,
}

/// The chord that leaves the terminal: a Ctrl key, Ctrl-] by default as in
/// telnet and `docker attach`. Holds the character pressed with Ctrl
/// (lowercase).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EscapeKey(char);

impl Default for EscapeKey {
    fn default() -> Self {
        Self(']')
    }
}

impl EscapeKey {
    /// `ctrl-]`, `ctrl-b`, `Ctrl+G`, `C-g`...: Ctrl with a letter or one of
    /// `] \ ^ _`. Ctrl-C (the agent's interrupt) and the Ctrl keys terminals
    /// send as Tab, Enter and Esc (`i`, `m`, `[`) are refused.
    pub fn parse(text: &str) -> Result<Self, String> {
        let lower = text.trim().to_ascii_lowercase();
        let key = ["ctrl-", "ctrl+", "c-"]
            .iter()
            .find_map(|prefix| lower.strip_prefix(prefix));
        let bad = |why: &str| {
            format!(
                "{ESCAPE_KEY_VAR}={text:?} {why}; using Ctrl-] (write it like ctrl-] or ctrl-b)"
            )
        };
        let mut chars = key.ok_or_else(|| bad("is not a Ctrl key"))?.chars();
        let (Some(c), None) = (chars.next(), chars.next()) else {
            return Err(bad("is not a Ctrl key"));
        };
        match c {
            'c' => Err(bad("would take Ctrl-C away from the agent")),
            'i' | 'm' | '[' => Err(bad("is sent by terminals as Tab, Enter or Esc")),
            'a'..='z' | ']' | '\\' | '^' | '_' => Ok(Self(c)),
            _ => Err(bad("is not a Ctrl key a terminal can send")),
        }
    }

    /// Whether `event` is this chord. Terminals send Ctrl-] `\` `^` `_` as
    /// bytes 0x1d, 0x1c, 0x1e, 0x1f, which crossterm reports as Ctrl-5, 4, 6, 7.
    pub fn matches(self, event: &KeyEvent) -> bool {
        let as_digit = match self.0 {
            '\\' => Some('4'),
            ']' => Some('5'),
            '^' => Some('6'),
            '_' => Some('7'),
            _ => None,
        };
        event.modifiers.contains(KeyModifiers::CONTROL)
            && matches!(event.code, KeyCode::Char(k)
                if k.eq_ignore_ascii_case(&self.0) || Some(k) == as_digit)
    }

    /// `Ctrl-]`, `Ctrl-B`.
    pub fn label(self) -> String {
        format!("Ctrl-{}", self.0.to_ascii_uppercase())
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Binding {
    pub scope: Scope,
    pub keys: &'static [Key],
    pub action: Action,
    pub help: &'static str,
    /// The word or two the status line shows for it; empty: not shown.
    pub status: &'static str,
}

const fn bind(
    scope: Scope,
    keys: &'static [Key],
    action: Action,
    help: &'static str,
    status: &'static str,
) -> Binding {
    Binding {
        scope,
        keys,
        action,
        help,
        status,
    }
}

use Key::{Char, Code, Digit, Shift};
use Scope::{Agents, Dashboard, Diff, Egress, Terminal};

pub const KEYMAP: &[Binding] = &[
    bind(
        Agents,
        &[Char('j'), Code(KeyCode::Down)],
        Action::SelectNext,
        "next agent",
        "",
    ),
    bind(
        Agents,
        &[Char('k'), Code(KeyCode::Up)],
        Action::SelectPrev,
        "previous agent",
        "",
    ),
    bind(
        Agents,
        &[Code(KeyCode::Enter), Char('l')],
        Action::Launch,
        "launch the selected agent",
        "launch",
    ),
    bind(
        Egress,
        &[Char('j'), Code(KeyCode::Down)],
        Action::SelectNext,
        "next log row",
        "",
    ),
    bind(
        Egress,
        &[Char('k'), Code(KeyCode::Up)],
        Action::SelectPrev,
        "previous log row",
        "",
    ),
    bind(
        Egress,
        &[Char('d')],
        Action::DenialsOnly,
        "show denials only / everything",
        "denials only",
    ),
    bind(
        Egress,
        &[Char('a')],
        Action::AllowHost,
        "allow the selected denial's host (allowlist denials only)",
        "allow host",
    ),
    bind(
        Egress,
        &[Char('p')],
        Action::ProposeAllowlist,
        "allowlist entries that would have let the denials through",
        "",
    ),
    bind(
        Egress,
        &[Code(KeyCode::Esc)],
        Action::ToggleEgress,
        "close the egress pane",
        "",
    ),
    bind(
        Dashboard,
        &[Char('i')],
        Action::EnterTerminal,
        "type into the tab's terminal",
        "type",
    ),
    bind(
        Dashboard,
        &[Code(KeyCode::Tab)],
        Action::NextTab,
        "next tab",
        "next tab",
    ),
    bind(
        Dashboard,
        &[Code(KeyCode::BackTab)],
        Action::PrevTab,
        "previous tab",
        "",
    ),
    bind(Dashboard, &[Digit], Action::JumpTab, "go to tab 1-9", ""),
    bind(
        Dashboard,
        &[Char('e')],
        Action::ToggleEgress,
        "egress pane",
        "egress",
    ),
    bind(
        Dashboard,
        &[Char('x')],
        Action::Kill,
        "kill the tab's bottle",
        "kill",
    ),
    bind(
        Dashboard,
        &[Char('r')],
        Action::RestartSidecar,
        "restart the tab's egress sidecar when it is down",
        "",
    ),
    bind(
        Dashboard,
        &[Shift(KeyCode::PageUp)],
        Action::ScrollUp,
        "scroll the terminal back",
        "",
    ),
    bind(
        Dashboard,
        &[Shift(KeyCode::PageDown)],
        Action::ScrollDown,
        "scroll the terminal forward",
        "",
    ),
    bind(
        Dashboard,
        &[Char('n')],
        Action::Inbox,
        "the inbox: what needs you across every bottle (Enter goes to it)",
        // Shown with its count in the status line instead.
        "",
    ),
    bind(
        Dashboard,
        &[Char('c')],
        Action::Collect,
        "collect the agent's work (workspace) as a branch of your repository",
        "",
    ),
    bind(
        Dashboard,
        &[Char('w')],
        Action::ToggleDiff,
        "the agent's changes against its workspace's base",
        "",
    ),
    bind(
        Diff,
        &[Char('j'), Code(KeyCode::Down)],
        Action::SelectNext,
        "next file / scroll the diff down",
        "",
    ),
    bind(
        Diff,
        &[Char('k'), Code(KeyCode::Up)],
        Action::SelectPrev,
        "previous file / scroll the diff up",
        "",
    ),
    bind(
        Diff,
        &[Code(KeyCode::Enter)],
        Action::OpenFile,
        "show the selected file's diff",
        "diff",
    ),
    bind(
        Diff,
        &[Code(KeyCode::Esc)],
        Action::DiffBack,
        "back to the files; close the pane",
        "back",
    ),
    bind(Dashboard, &[Char('?')], Action::Help, "help", "help"),
    bind(Dashboard, &[Char('q')], Action::Quit, "quit", "quit"),
    bind(
        Terminal,
        &[Key::Escape],
        Action::LeaveTerminal,
        "back to the dashboard",
        "dashboard",
    ),
    bind(
        Terminal,
        &[Shift(KeyCode::PageUp)],
        Action::ScrollUp,
        "scroll back",
        "scroll back",
    ),
    bind(
        Terminal,
        &[Shift(KeyCode::PageDown)],
        Action::ScrollDown,
        "scroll forward",
        "scroll fwd",
    ),
];

impl Key {
    fn matches(self, event: &KeyEvent, escape: EscapeKey) -> bool {
        let mods = event.modifiers;
        let plain = !mods.intersects(KeyModifiers::CONTROL | KeyModifiers::ALT);
        match self {
            // Shifted characters arrive as the character itself, SHIFT or not.
            Key::Char(c) => plain && event.code == KeyCode::Char(c),
            Key::Code(KeyCode::BackTab) => event.code == KeyCode::BackTab,
            Key::Code(code) => plain && !mods.contains(KeyModifiers::SHIFT) && event.code == code,
            Key::Ctrl(c) => {
                mods.contains(KeyModifiers::CONTROL)
                    && matches!(event.code, KeyCode::Char(k) if k.eq_ignore_ascii_case(&c))
            }
            Key::Shift(code) => mods.contains(KeyModifiers::SHIFT) && event.code == code,
            Key::Digit => plain && matches!(event.code, KeyCode::Char('1'..='9')),
            Key::Escape => escape.matches(event),
        }
    }

    /// How the help screen writes the key.
    pub fn label(self, escape: EscapeKey) -> String {
        match self {
            Key::Char(c) => c.to_string(),
            Key::Code(code) => code_label(code),
            Key::Ctrl(c) => format!("Ctrl-{c}"),
            Key::Shift(code) => format!("Shift-{}", code_label(code)),
            Key::Digit => "1-9".into(),
            Key::Escape => escape.label(),
        }
    }
}

fn code_label(code: KeyCode) -> String {
    match code {
        KeyCode::Up => "↑".into(),
        KeyCode::Down => "↓".into(),
        KeyCode::Enter => "Enter".into(),
        KeyCode::Tab => "Tab".into(),
        KeyCode::BackTab => "Shift-Tab".into(),
        KeyCode::Esc => "Esc".into(),
        KeyCode::PageUp => "PgUp".into(),
        KeyCode::PageDown => "PgDn".into(),
        other => format!("{other}"),
    }
}

impl Binding {
    /// The binding's keys as the help screen shows them (`j / ↓`).
    pub fn keys_label(&self, escape: EscapeKey) -> String {
        self.keys
            .iter()
            .map(|k| k.label(escape))
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

/// The action bound to `event` in `scopes` (searched in order).
pub fn lookup(scopes: &[Scope], event: &KeyEvent, escape: EscapeKey) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    scopes.iter().find_map(|scope| {
        KEYMAP
            .iter()
            .filter(|b| b.scope == *scope)
            .find(|b| b.keys.iter().any(|k| k.matches(event, escape)))
            .map(|b| b.action)
    })
}

/// The bindings of one scope, in table order.
pub fn bindings(scope: Scope) -> impl Iterator<Item = &'static Binding> {
    KEYMAP.iter().filter(move |b| b.scope == scope)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    #[test]
    fn lookup_respects_scope_and_modifiers() {
        let j = key(KeyCode::Char('j'), KeyModifiers::NONE);
        assert_eq!(
            lookup(&[Agents, Dashboard], &j, EscapeKey::default()),
            Some(Action::SelectNext)
        );
        assert_eq!(lookup(&[Terminal], &j, EscapeKey::default()), None);
        let ctrl_j = key(KeyCode::Char('j'), KeyModifiers::CONTROL);
        assert_eq!(
            lookup(&[Agents, Dashboard], &ctrl_j, EscapeKey::default()),
            None
        );
        let question = key(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(
            lookup(&[Agents, Dashboard], &question, EscapeKey::default()),
            Some(Action::Help)
        );
        let chord = key(KeyCode::Char(']'), KeyModifiers::CONTROL);
        assert_eq!(
            lookup(&[Terminal], &chord, EscapeKey::default()),
            Some(Action::LeaveTerminal)
        );
        let chord_as_5 = key(KeyCode::Char('5'), KeyModifiers::CONTROL);
        assert_eq!(
            lookup(&[Terminal], &chord_as_5, EscapeKey::default()),
            Some(Action::LeaveTerminal)
        );
        let up = key(KeyCode::Up, KeyModifiers::SHIFT);
        assert_eq!(lookup(&[Agents], &up, EscapeKey::default()), None);
    }

    #[test]
    fn every_binding_has_help_and_a_label() {
        for b in KEYMAP {
            assert!(!b.help.is_empty());
            assert!(!b.keys_label(EscapeKey::default()).is_empty());
        }
        assert_eq!(
            KEYMAP
                .iter()
                .find(|b| b.action == Action::LeaveTerminal)
                .unwrap()
                .keys_label(EscapeKey::default()),
            "Ctrl-]"
        );
    }

    #[test]
    fn escape_key_values() {
        let ok = |text: &str, label: &str| {
            let key = EscapeKey::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"));
            assert_eq!(key.label(), label, "{text}");
        };
        ok("ctrl-]", "Ctrl-]");
        ok("ctrl-b", "Ctrl-B");
        ok("Ctrl-G", "Ctrl-G");
        ok(" ctrl+g ", "Ctrl-G");
        ok("C-a", "Ctrl-A");
        ok("ctrl-\\", "Ctrl-\\");
        ok("ctrl-^", "Ctrl-^");
        ok("ctrl-_", "Ctrl-_");
        let refused = |text: &str, why: &str| {
            let e = EscapeKey::parse(text).unwrap_err();
            assert!(e.contains(why) && e.contains(ESCAPE_KEY_VAR), "{text}: {e}");
            assert!(e.contains("using Ctrl-]"), "{e}");
        };
        refused("", "not a Ctrl key");
        refused("b", "not a Ctrl key");
        refused("alt-b", "not a Ctrl key");
        refused("ctrl-", "not a Ctrl key");
        refused("ctrl-bb", "not a Ctrl key");
        refused("ctrl-c", "Ctrl-C");
        refused("ctrl-i", "Tab, Enter or Esc");
        refused("ctrl-m", "Tab, Enter or Esc");
        refused("ctrl-[", "Tab, Enter or Esc");
        refused("ctrl-1", "a terminal can send");
        refused("ctrl-é", "a terminal can send");
        assert_eq!(EscapeKey::default(), EscapeKey::parse("ctrl-]").unwrap());
    }

    #[test]
    fn escape_key_matches_what_terminals_send() {
        let ctrl = |c| key(KeyCode::Char(c), KeyModifiers::CONTROL);
        let b = EscapeKey::parse("ctrl-b").unwrap();
        assert_eq!(
            lookup(&[Terminal], &ctrl('b'), b),
            Some(Action::LeaveTerminal)
        );
        assert_eq!(lookup(&[Terminal], &ctrl(']'), b), None);
        assert_eq!(lookup(&[Terminal], &ctrl('5'), b), None);
        assert_eq!(
            lookup(&[Terminal], &key(KeyCode::Char('b'), KeyModifiers::NONE), b),
            None
        );
        // The byte a terminal sends, as crossterm reports it.
        for (text, sent) in [
            ("ctrl-\\", '4'),
            ("ctrl-]", '5'),
            ("ctrl-^", '6'),
            ("ctrl-_", '7'),
        ] {
            let k = EscapeKey::parse(text).unwrap();
            assert!(k.matches(&ctrl(sent)), "{text}");
            assert!(!k.matches(&ctrl('8')), "{text}");
        }
        assert!(EscapeKey::default().matches(&ctrl(']')));
    }
}
