//! Key events to the bytes a terminal program expects (pure).
//!
//! The encoding follows xterm, which is what `TERM=xterm-256color` programs
//! (claude included) expect. Two child-chosen modes change it, and vt100
//! tracks both: application cursor keys (`ESC O A` instead of `ESC [ A`) and
//! bracketed paste (pasted text wrapped in `ESC[200~ ... ESC[201~`).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// The child's input modes that change what a key sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct InputModes {
    pub application_cursor: bool,
    pub bracketed_paste: bool,
}

impl InputModes {
    /// The modes a vt100 screen says the child asked for.
    pub fn of(screen: &vt100::Screen) -> Self {
        Self {
            application_cursor: screen.application_cursor(),
            bracketed_paste: screen.bracketed_paste(),
        }
    }
}

const ESC: u8 = 0x1b;

/// The bytes for one key press, or `None` for keys a terminal cannot send
/// (releases, media keys, lone modifiers).
pub fn encode_key(key: &KeyEvent, modes: InputModes) -> Option<Vec<u8>> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let held = key.modifiers;
    let alt = held.contains(KeyModifiers::ALT);
    let ctrl = held.contains(KeyModifiers::CONTROL);
    let mut out = Vec::new();
    match key.code {
        KeyCode::Char(c) => {
            if alt {
                out.push(ESC);
            }
            if ctrl {
                out.push(control_byte(c)?);
            } else {
                let mut buf = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
            }
        }
        KeyCode::Enter => prefixed(&mut out, alt, b"\r"),
        KeyCode::Tab => prefixed(&mut out, alt, b"\t"),
        KeyCode::BackTab => out.extend_from_slice(b"\x1b[Z"),
        KeyCode::Backspace => prefixed(&mut out, alt, if ctrl { b"\x08" } else { b"\x7f" }),
        KeyCode::Esc => prefixed(&mut out, alt, b"\x1b"),
        KeyCode::Up => cursor_key(&mut out, b'A', held, modes),
        KeyCode::Down => cursor_key(&mut out, b'B', held, modes),
        KeyCode::Right => cursor_key(&mut out, b'C', held, modes),
        KeyCode::Left => cursor_key(&mut out, b'D', held, modes),
        KeyCode::Home => cursor_key(&mut out, b'H', held, modes),
        KeyCode::End => cursor_key(&mut out, b'F', held, modes),
        KeyCode::Insert => tilde_key(&mut out, 2, held),
        KeyCode::Delete => tilde_key(&mut out, 3, held),
        KeyCode::PageUp => tilde_key(&mut out, 5, held),
        KeyCode::PageDown => tilde_key(&mut out, 6, held),
        KeyCode::F(n @ 1..=4) => {
            let letter = b"PQRS"[usize::from(n - 1)];
            match modifier_param(held) {
                Some(m) => {
                    out.extend_from_slice(format!("\x1b[1;{m}{}", letter as char).as_bytes());
                }
                None => out.extend_from_slice(&[ESC, b'O', letter]),
            }
        }
        KeyCode::F(n @ 5..=12) => {
            let code = [15, 17, 18, 19, 20, 21, 23, 24][usize::from(n - 5)];
            tilde_key(&mut out, code, held);
        }
        _ => return None,
    }
    Some(out)
}

/// Pasted text, wrapped only if the child enabled bracketed paste. Line
/// breaks become CR, as a terminal sends them.
pub fn encode_paste(text: &str, modes: InputModes) -> Vec<u8> {
    let body = text.replace("\r\n", "\r").replace('\n', "\r");
    if !modes.bracketed_paste {
        return body.into_bytes();
    }
    // A paste that contains the end marker could end the bracket early and
    // have the rest typed as keys; drop any markers inside.
    let body = body.replace("\x1b[201~", "").replace("\x1b[200~", "");
    let mut out = b"\x1b[200~".to_vec();
    out.extend_from_slice(body.as_bytes());
    out.extend_from_slice(b"\x1b[201~");
    out
}

fn prefixed(out: &mut Vec<u8>, alt: bool, bytes: &[u8]) {
    if alt {
        out.push(ESC);
    }
    out.extend_from_slice(bytes);
}

/// Ctrl with a character: the C0 control it names. crossterm reports the
/// bytes 0x1c-0x1f as Ctrl-4..Ctrl-7, so the digit forms are accepted too.
fn control_byte(c: char) -> Option<u8> {
    let c = c.to_ascii_lowercase();
    Some(match c {
        'a'..='z' => (c as u8) - b'a' + 1,
        ' ' | '@' | '2' => 0,
        '[' | '3' => ESC,
        '\\' | '4' => 0x1c,
        ']' | '5' => 0x1d,
        '^' | '6' => 0x1e,
        '_' | '7' | '/' => 0x1f,
        '?' | '8' => 0x7f,
        _ => return None,
    })
}

/// xterm's modifier parameter: 1 + shift + 2*alt + 4*ctrl, or `None` when
/// no modifier is held.
fn modifier_param(mods: KeyModifiers) -> Option<u8> {
    let mut m = 0;
    if mods.contains(KeyModifiers::SHIFT) {
        m += 1;
    }
    if mods.contains(KeyModifiers::ALT) {
        m += 2;
    }
    if mods.contains(KeyModifiers::CONTROL) {
        m += 4;
    }
    (m > 0).then_some(m + 1)
}

fn cursor_key(out: &mut Vec<u8>, letter: u8, held: KeyModifiers, modes: InputModes) {
    match modifier_param(held) {
        Some(m) => out.extend_from_slice(format!("\x1b[1;{m}{}", letter as char).as_bytes()),
        None if modes.application_cursor => out.extend_from_slice(&[ESC, b'O', letter]),
        None => out.extend_from_slice(&[ESC, b'[', letter]),
    }
}

fn tilde_key(out: &mut Vec<u8>, code: u8, mods: KeyModifiers) {
    match modifier_param(mods) {
        Some(m) => out.extend_from_slice(format!("\x1b[{code};{m}~").as_bytes()),
        None => out.extend_from_slice(format!("\x1b[{code}~").as_bytes()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(code: KeyCode, mods: KeyModifiers) -> KeyEvent {
        KeyEvent::new(code, mods)
    }

    const NONE: KeyModifiers = KeyModifiers::NONE;
    const CTRL: KeyModifiers = KeyModifiers::CONTROL;
    const ALT: KeyModifiers = KeyModifiers::ALT;
    const SHIFT: KeyModifiers = KeyModifiers::SHIFT;

    #[test]
    fn keys_encode_as_xterm_does() {
        let normal = InputModes::default();
        let table: &[(KeyCode, KeyModifiers, &[u8])] = &[
            (KeyCode::Char('a'), NONE, b"a"),
            (KeyCode::Char('A'), SHIFT, b"A"),
            (KeyCode::Char('é'), NONE, "é".as_bytes()),
            (KeyCode::Char('c'), CTRL, b"\x03"),
            (KeyCode::Char('C'), CTRL, b"\x03"),
            (KeyCode::Char('a'), CTRL, b"\x01"),
            (KeyCode::Char('z'), CTRL, b"\x1a"),
            (KeyCode::Char(' '), CTRL, b"\x00"),
            (KeyCode::Char(']'), CTRL, b"\x1d"),
            (KeyCode::Char('5'), CTRL, b"\x1d"),
            (KeyCode::Char('\\'), CTRL, b"\x1c"),
            (KeyCode::Char('x'), ALT, b"\x1bx"),
            (KeyCode::Char('b'), ALT | CTRL, b"\x1b\x02"),
            (KeyCode::Enter, NONE, b"\r"),
            (KeyCode::Enter, ALT, b"\x1b\r"),
            (KeyCode::Tab, NONE, b"\t"),
            (KeyCode::BackTab, SHIFT, b"\x1b[Z"),
            (KeyCode::Backspace, NONE, b"\x7f"),
            (KeyCode::Backspace, CTRL, b"\x08"),
            (KeyCode::Esc, NONE, b"\x1b"),
            (KeyCode::Up, NONE, b"\x1b[A"),
            (KeyCode::Down, NONE, b"\x1b[B"),
            (KeyCode::Right, NONE, b"\x1b[C"),
            (KeyCode::Left, NONE, b"\x1b[D"),
            (KeyCode::Up, CTRL, b"\x1b[1;5A"),
            (KeyCode::Left, SHIFT, b"\x1b[1;2D"),
            (KeyCode::Right, ALT, b"\x1b[1;3C"),
            (KeyCode::Home, NONE, b"\x1b[H"),
            (KeyCode::End, NONE, b"\x1b[F"),
            (KeyCode::Insert, NONE, b"\x1b[2~"),
            (KeyCode::Delete, NONE, b"\x1b[3~"),
            (KeyCode::PageUp, NONE, b"\x1b[5~"),
            (KeyCode::PageDown, NONE, b"\x1b[6~"),
            (KeyCode::PageUp, CTRL, b"\x1b[5;5~"),
            (KeyCode::F(1), NONE, b"\x1bOP"),
            (KeyCode::F(4), NONE, b"\x1bOS"),
            (KeyCode::F(1), SHIFT, b"\x1b[1;2P"),
            (KeyCode::F(5), NONE, b"\x1b[15~"),
            (KeyCode::F(6), NONE, b"\x1b[17~"),
            (KeyCode::F(10), NONE, b"\x1b[21~"),
            (KeyCode::F(11), NONE, b"\x1b[23~"),
            (KeyCode::F(12), NONE, b"\x1b[24~"),
            (KeyCode::F(12), CTRL, b"\x1b[24;5~"),
        ];
        for (code, mods, want) in table {
            let got = encode_key(&key(*code, *mods), normal);
            assert_eq!(got.as_deref(), Some(*want), "{code:?} {mods:?}");
        }
    }

    #[test]
    fn application_cursor_mode_changes_unmodified_cursor_keys_only() {
        let app = InputModes {
            application_cursor: true,
            ..InputModes::default()
        };
        let table: &[(KeyCode, KeyModifiers, &[u8])] = &[
            (KeyCode::Up, NONE, b"\x1bOA"),
            (KeyCode::Down, NONE, b"\x1bOB"),
            (KeyCode::Right, NONE, b"\x1bOC"),
            (KeyCode::Left, NONE, b"\x1bOD"),
            (KeyCode::Home, NONE, b"\x1bOH"),
            (KeyCode::End, NONE, b"\x1bOF"),
            (KeyCode::Up, CTRL, b"\x1b[1;5A"),
            (KeyCode::PageUp, NONE, b"\x1b[5~"),
        ];
        for (code, mods, want) in table {
            let got = encode_key(&key(*code, *mods), app);
            assert_eq!(got.as_deref(), Some(*want), "{code:?} {mods:?}");
        }
    }

    #[test]
    fn releases_and_unknown_keys_send_nothing() {
        let mut release = key(KeyCode::Char('a'), NONE);
        release.kind = KeyEventKind::Release;
        assert_eq!(encode_key(&release, InputModes::default()), None);
        let media = key(KeyCode::CapsLock, NONE);
        assert_eq!(encode_key(&media, InputModes::default()), None);
        let odd_ctrl = key(KeyCode::Char('é'), CTRL);
        assert_eq!(encode_key(&odd_ctrl, InputModes::default()), None);
    }

    #[test]
    fn paste_is_bracketed_only_when_the_child_asked() {
        let plain = InputModes::default();
        assert_eq!(encode_paste("a\nb", plain), b"a\rb");
        let bracketed = InputModes {
            bracketed_paste: true,
            ..plain
        };
        assert_eq!(encode_paste("a\r\nb", bracketed), b"\x1b[200~a\rb\x1b[201~");
        assert_eq!(
            encode_paste("x\x1b[201~rm -rf\n", bracketed),
            b"\x1b[200~xrm -rf\r\x1b[201~"
        );
    }
}
