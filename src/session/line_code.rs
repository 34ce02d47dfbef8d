//! One terminal line in a compact form: its text, with a short style record
//! wherever the style changes. vt100 keeps 32 bytes per cell at full width
//! for every line; scrollback kept this way costs about a byte per character.
//!
//! Layout: UTF-8 text, interrupted by style records `STYLE modifiers kinds
//! [fg] [bg]` (`kinds` = fg kind | bg kind << 2; a kind is 0 default, 1 an
//! indexed colour with one byte, 2 RGB with three). Cell contents are never
//! control characters, so `STYLE` cannot occur in the text.

use ratatui::style::{Color, Modifier, Style};
use ratatui::text::{Line, Span};

const STYLE: u8 = 0x01;

const BOLD: u8 = 1;
const DIM: u8 = 1 << 1;
const ITALIC: u8 = 1 << 2;
const UNDERLINE: u8 = 1 << 3;
const INVERSE: u8 = 1 << 4;

const KIND_DEFAULT: u8 = 0;
const KIND_INDEXED: u8 = 1;
const KIND_RGB: u8 = 2;

#[derive(Clone, Copy, PartialEq, Eq)]
struct CellStyle {
    modifiers: u8,
    fg: vt100::Color,
    bg: vt100::Color,
}

impl CellStyle {
    const DEFAULT: Self = Self {
        modifiers: 0,
        fg: vt100::Color::Default,
        bg: vt100::Color::Default,
    };

    fn of(cell: &vt100::Cell) -> Self {
        let flags = [
            (cell.bold(), BOLD),
            (cell.dim(), DIM),
            (cell.italic(), ITALIC),
            (cell.underline(), UNDERLINE),
            (cell.inverse(), INVERSE),
        ];
        Self {
            modifiers: flags
                .iter()
                .filter(|(on, _)| *on)
                .fold(0, |all, (_, bit)| all | bit),
            fg: cell.fgcolor(),
            bg: cell.bgcolor(),
        }
    }

    /// Whether a blank cell in this style looks different from no cell.
    fn shows_when_blank(self) -> bool {
        self.bg != vt100::Color::Default || self.modifiers & (UNDERLINE | INVERSE) != 0
    }

    fn write(self, out: &mut Vec<u8>) {
        out.extend_from_slice(&[STYLE, self.modifiers, kind(self.fg) | kind(self.bg) << 2]);
        write_colour(self.fg, out);
        write_colour(self.bg, out);
    }

    fn ratatui(self) -> Style {
        let modifiers = [
            (BOLD, Modifier::BOLD),
            (DIM, Modifier::DIM),
            (ITALIC, Modifier::ITALIC),
            (UNDERLINE, Modifier::UNDERLINED),
            (INVERSE, Modifier::REVERSED),
        ]
        .iter()
        .filter(|(bit, _)| self.modifiers & bit != 0)
        .fold(Modifier::empty(), |all, (_, m)| all | *m);
        // The same mapping tui-term uses for the live screen, so a line looks
        // the same before and after it scrolls off.
        Style::reset()
            .fg(ratatui_colour(self.fg))
            .bg(ratatui_colour(self.bg))
            .add_modifier(modifiers)
    }
}

fn kind(colour: vt100::Color) -> u8 {
    match colour {
        vt100::Color::Default => KIND_DEFAULT,
        vt100::Color::Idx(_) => KIND_INDEXED,
        vt100::Color::Rgb(..) => KIND_RGB,
    }
}

fn write_colour(colour: vt100::Color, out: &mut Vec<u8>) {
    match colour {
        vt100::Color::Default => {}
        vt100::Color::Idx(i) => out.push(i),
        vt100::Color::Rgb(r, g, b) => out.extend_from_slice(&[r, g, b]),
    }
}

fn ratatui_colour(colour: vt100::Color) -> Color {
    match colour {
        vt100::Color::Default => Color::Reset,
        vt100::Color::Idx(i) => Color::Indexed(i),
        vt100::Color::Rgb(r, g, b) => Color::Rgb(r, g, b),
    }
}

/// Encodes the visible row `row` of `screen`, trailing blanks left out.
pub fn encode_row(screen: &vt100::Screen, row: u16) -> Vec<u8> {
    let (_, cols) = screen.size();
    let cell = |col| screen.cell(row, col);
    let shown = (0..cols)
        .rev()
        .find(|&col| {
            cell(col).is_some_and(|cell| {
                let blank = cell.contents().trim_start_matches(' ').is_empty();
                !blank || CellStyle::of(cell).shows_when_blank()
            })
        })
        .map_or(0, |last| last + 1);
    let mut out = Vec::with_capacity(usize::from(shown) + 8);
    let mut current = CellStyle::DEFAULT;
    for cell in (0..shown).filter_map(cell) {
        if cell.is_wide_continuation() {
            continue;
        }
        let style = CellStyle::of(cell);
        if style != current {
            style.write(&mut out);
            current = style;
        }
        if cell.has_contents() {
            out.extend_from_slice(cell.contents().as_bytes());
        } else {
            out.push(b' ');
        }
    }
    out
}

/// Decodes a line made by [`encode_row`]. Damaged input (which only a bug
/// could make) ends the line early rather than panicking.
pub fn decode(bytes: &[u8]) -> Line<'static> {
    let mut spans = Vec::new();
    let mut style = CellStyle::DEFAULT;
    let mut rest = bytes;
    while !rest.is_empty() {
        let text_len = rest.iter().position(|&b| b == STYLE).unwrap_or(rest.len());
        if text_len > 0 {
            let text = String::from_utf8_lossy(&rest[..text_len]).into_owned();
            spans.push(Span::styled(text, style.ratatui()));
        }
        rest = &rest[text_len..];
        if rest.is_empty() {
            break;
        }
        let Some((next, after)) = read_style(rest) else {
            break;
        };
        style = next;
        rest = after;
    }
    Line::from(spans)
}

/// Reads a style record at the start of `bytes` (which begins with `STYLE`).
fn read_style(bytes: &[u8]) -> Option<(CellStyle, &[u8])> {
    let (&[STYLE, modifiers, kinds], rest) = bytes.split_first_chunk::<3>()? else {
        return None;
    };
    let (fg, rest) = read_colour(kinds & 0b11, rest)?;
    let (bg, rest) = read_colour(kinds >> 2 & 0b11, rest)?;
    Some((CellStyle { modifiers, fg, bg }, rest))
}

fn read_colour(kind: u8, bytes: &[u8]) -> Option<(vt100::Color, &[u8])> {
    match kind {
        KIND_DEFAULT => Some((vt100::Color::Default, bytes)),
        KIND_INDEXED => {
            let (&i, rest) = bytes.split_first()?;
            Some((vt100::Color::Idx(i), rest))
        }
        KIND_RGB => {
            let (&[r, g, b], rest) = bytes.split_first_chunk::<3>()?;
            Some((vt100::Color::Rgb(r, g, b), rest))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn screen_of(bytes: &[u8]) -> vt100::Parser {
        let mut parser = vt100::Parser::new(3, 20, 0);
        parser.process(bytes);
        parser
    }

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn plain_text_costs_a_byte_a_character_and_drops_trailing_blanks() {
        let parser = screen_of(b"hello world");
        let bytes = encode_row(parser.screen(), 0);
        assert_eq!(bytes, b"hello world");
        assert_eq!(text(&decode(&bytes)), "hello world");
        assert!(encode_row(parser.screen(), 1).is_empty());
    }

    #[test]
    fn styles_survive_the_round_trip_as_tui_term_draws_them() {
        let parser = screen_of(
            b"a\x1b[1;38;5;208mb\x1b[0;4;48;2;1;2;3mc\x1b[0;2;3;7md\x1b[0m \x1b[41m \x1b[0m",
        );
        let line = decode(&encode_row(parser.screen(), 0));
        let styles: Vec<(String, Style)> = line
            .spans
            .iter()
            .map(|s| (s.content.to_string(), s.style))
            .collect();
        let base = Style::reset();
        assert_eq!(
            styles,
            vec![
                ("a".into(), base),
                (
                    "b".into(),
                    base.fg(Color::Indexed(208)).add_modifier(Modifier::BOLD)
                ),
                (
                    "c".into(),
                    base.bg(Color::Rgb(1, 2, 3))
                        .add_modifier(Modifier::UNDERLINED)
                ),
                (
                    "d".into(),
                    base.add_modifier(Modifier::DIM | Modifier::ITALIC | Modifier::REVERSED)
                ),
                (" ".into(), base),
                // A red blank at the end still shows, so it is kept.
                (" ".into(), base.bg(Color::Indexed(1))),
            ]
        );
    }

    #[test]
    fn wide_characters_and_gaps_keep_their_columns() {
        let parser = screen_of("漢字\x1b[1;8Hx".as_bytes());
        let line = decode(&encode_row(parser.screen(), 0));
        assert_eq!(text(&line), "漢字   x");
        assert_eq!(line.width(), 8);
    }

    #[test]
    fn damaged_input_ends_the_line_without_panicking() {
        for bytes in [
            &[STYLE][..],
            &[b'a', STYLE, 0, 1],
            &[STYLE, 0, 2, 1],
            &[STYLE, 0, 3],
        ] {
            let _ = decode(bytes);
        }
        assert_eq!(text(&decode(&[b'o', b'k', STYLE, 0])), "ok");
    }
}
