//! What each key means, as data grouped by where the focus is. The help
//! overlay and the status line are generated from this table.

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
    RestartSidecar,
    EnterTerminal,
    LeaveTerminal,
    ScrollUp,
    ScrollDown,
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
}

/// The key that leaves the terminal: Ctrl-] as in telnet and `docker attach`.
/// Terminals send it as byte 0x1d, which crossterm reports as Ctrl-5.
pub const ESCAPE_CHORD: &[Key] = &[Key::Ctrl(']'), Key::Ctrl('5')];

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
use Scope::{Agents, Dashboard, Egress, Terminal};

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
        "allow the selected denial's host",
        "allow host",
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
    bind(Dashboard, &[Char('?')], Action::Help, "help", "help"),
    bind(Dashboard, &[Char('q')], Action::Quit, "quit", "quit"),
    bind(
        Terminal,
        ESCAPE_CHORD,
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
    fn matches(self, event: &KeyEvent) -> bool {
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
        }
    }

    /// How the help screen writes the key.
    pub fn label(self) -> String {
        match self {
            Key::Char(c) => c.to_string(),
            Key::Code(code) => code_label(code),
            Key::Ctrl(c) => format!("Ctrl-{c}"),
            Key::Shift(code) => format!("Shift-{}", code_label(code)),
            Key::Digit => "1-9".into(),
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
    /// The binding's keys as the help screen shows them (`j / ↓`). The
    /// escape chord's second spelling is the same key, so it is not listed.
    pub fn keys_label(&self) -> String {
        let keys = if self.keys == ESCAPE_CHORD {
            &self.keys[..1]
        } else {
            self.keys
        };
        keys.iter()
            .map(|k| k.label())
            .collect::<Vec<_>>()
            .join(" / ")
    }
}

/// The action bound to `event` in `scopes` (searched in order).
pub fn lookup(scopes: &[Scope], event: &KeyEvent) -> Option<Action> {
    if event.kind == KeyEventKind::Release {
        return None;
    }
    scopes.iter().find_map(|scope| {
        KEYMAP
            .iter()
            .filter(|b| b.scope == *scope)
            .find(|b| b.keys.iter().any(|k| k.matches(event)))
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
        assert_eq!(lookup(&[Agents, Dashboard], &j), Some(Action::SelectNext));
        assert_eq!(lookup(&[Terminal], &j), None);
        let ctrl_j = key(KeyCode::Char('j'), KeyModifiers::CONTROL);
        assert_eq!(lookup(&[Agents, Dashboard], &ctrl_j), None);
        let question = key(KeyCode::Char('?'), KeyModifiers::SHIFT);
        assert_eq!(lookup(&[Agents, Dashboard], &question), Some(Action::Help));
        let chord = key(KeyCode::Char(']'), KeyModifiers::CONTROL);
        assert_eq!(lookup(&[Terminal], &chord), Some(Action::LeaveTerminal));
        let chord_as_5 = key(KeyCode::Char('5'), KeyModifiers::CONTROL);
        assert_eq!(
            lookup(&[Terminal], &chord_as_5),
            Some(Action::LeaveTerminal)
        );
        let up = key(KeyCode::Up, KeyModifiers::SHIFT);
        assert_eq!(lookup(&[Agents], &up), None);
    }

    #[test]
    fn every_binding_has_help_and_a_label() {
        for b in KEYMAP {
            assert!(!b.help.is_empty());
            assert!(!b.keys_label().is_empty());
        }
        assert_eq!(
            KEYMAP
                .iter()
                .find(|b| b.action == Action::LeaveTerminal)
                .unwrap()
                .keys_label(),
            "Ctrl-]"
        );
    }
}
