//! One terminal line in a compact form, and back to something to draw.
//!
//! vt100 keeps 32 bytes per cell at full width for every line. A line that
//! scrolls off is kept instead as the bytes vt100 itself writes to redraw it
//! (`Screen::rows_formatted`: the text, with an SGR sequence where the style
//! changes; about a byte a character). Of vt100's ways to read a row this is
//! the cheapest, which matters: it runs for every line that scrolls off. To
//! draw a kept line, the bytes are parsed again by a one-row vt100.

use ratatui::style::Style;
use ratatui::text::{Line, Span};

/// The top visible row of `screen`, encoded.
pub fn encode_top_row(screen: &vt100::Screen) -> Vec<u8> {
    let (_, cols) = screen.size();
    screen.rows_formatted(0, cols).next().unwrap_or_default()
}

/// Widest line a decoder draws; wider ones are cut (no terminal is wider).
const DECODE_COLS: u16 = 1024;

/// Turns encoded lines back into styled text. One decoder serves many lines.
pub struct Decoder {
    parser: vt100::Parser,
}

impl Decoder {
    pub fn new() -> Self {
        Self {
            parser: vt100::Parser::new(1, DECODE_COLS, 0),
        }
    }

    /// The line `bytes` encodes, at most `width` columns of it.
    pub fn line(&mut self, bytes: &[u8], width: u16) -> Line<'static> {
        // Reset the style, clear the row, back to its start: each line is
        // drawn from scratch, as it was encoded.
        self.parser.process(b"\x1b[m\x1b[2K\r");
        self.parser.process(bytes);
        row_line(self.parser.screen(), 0, width)
    }
}

/// The visible row `row` of `screen` as styled text, at most `width` columns,
/// trailing blanks left out.
pub fn row_line(screen: &vt100::Screen, row: u16, width: u16) -> Line<'static> {
    let (_, cols) = screen.size();
    let width = width.min(cols);
    let cell = |col| screen.cell(row, col);
    let shown = (0..width)
        .rev()
        .find(|&col| cell(col).is_some_and(shows))
        .map_or(0, |last| last + 1);
    let mut spans: Vec<Span<'static>> = Vec::new();
    let mut run = String::new();
    let mut run_style = None;
    for cell in (0..shown).filter_map(cell) {
        if cell.is_wide_continuation() {
            continue;
        }
        let style = style_of(cell);
        if run_style != Some(style) {
            if let Some(previous) = run_style {
                spans.push(Span::styled(std::mem::take(&mut run), previous));
            }
            run_style = Some(style);
        }
        match cell.contents() {
            "" => run.push(' '),
            text => run.push_str(text),
        }
    }
    if let Some(style) = run_style {
        spans.push(Span::styled(run, style));
    }
    Line::from(spans)
}

/// Whether a cell looks different from no cell at all.
fn shows(cell: &vt100::Cell) -> bool {
    let blank = cell.contents().bytes().all(|b| b == b' ');
    !blank || cell.bgcolor() != vt100::Color::Default || cell.inverse() || cell.underline()
}

/// The style tui-term gives the same cell on the live screen (its own
/// mapping, through its `Cell` trait), so a line looks the same before and
/// after it scrolls off.
fn style_of(cell: &vt100::Cell) -> Style {
    let mut drawn = ratatui::buffer::Cell::default();
    tui_term::widget::Cell::apply(cell, &mut drawn);
    // A buffer cell keeps only what is on; the reset says the rest is off.
    Style::reset().patch(drawn.style())
}

#[cfg(test)]
mod tests {
    use super::*;
    use ratatui::style::{Color, Modifier};

    fn round_trip(output: &[u8], width: u16) -> Line<'static> {
        let mut parser = vt100::Parser::new(3, width, 0);
        parser.process(output);
        let bytes = encode_top_row(parser.screen());
        Decoder::new().line(&bytes, width)
    }

    fn text(line: &Line<'_>) -> String {
        line.spans.iter().map(|s| s.content.as_ref()).collect()
    }

    #[test]
    fn plain_text_costs_about_a_byte_a_character() {
        let mut parser = vt100::Parser::new(3, 20, 0);
        parser.process(b"hello world");
        let bytes = encode_top_row(parser.screen());
        assert!(bytes.len() < "hello world".len() + 8, "{bytes:?}");
        assert_eq!(text(&Decoder::new().line(&bytes, 20)), "hello world");
    }

    #[test]
    fn styles_survive_the_round_trip_as_tui_term_draws_them() {
        let line = round_trip(
            b"a\x1b[1;38;5;208mb\x1b[0;4;48;2;1;2;3mc\x1b[0;2;3;7md\x1b[0m \x1b[41m \x1b[0m",
            20,
        );
        let styles: Vec<(String, Style)> = line
            .spans
            .iter()
            .map(|s| (s.content.to_string(), s.style))
            .collect();
        let base = Style::reset().fg(Color::Reset).bg(Color::Reset);
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
        let line = round_trip("漢字\x1b[1;8Hx".as_bytes(), 20);
        assert_eq!(text(&line), "漢字   x");
        assert_eq!(line.width(), 8);
    }

    #[test]
    fn a_bar_to_the_edge_is_kept_whole_and_lines_do_not_bleed_into_each_other() {
        let mut decoder = Decoder::new();
        let mut parser = vt100::Parser::new(2, 10, 0);
        parser.process(b"\x1b[44mbar\x1b[K\x1b[0m");
        let bar = decoder.line(&encode_top_row(parser.screen()), 10);
        assert_eq!(text(&bar), "bar       ");
        let mut parser = vt100::Parser::new(2, 10, 0);
        parser.process(b"ok");
        let plain = decoder.line(&encode_top_row(parser.screen()), 10);
        assert_eq!(text(&plain), "ok");
        assert_eq!(plain.spans[0].style.bg, Some(Color::Reset));
    }

    #[test]
    fn a_line_wider_than_the_pane_is_cut_to_it() {
        let line = round_trip(&[b'x'; 30], 30);
        assert_eq!(line.width(), 30);
        let mut parser = vt100::Parser::new(1, 30, 0);
        parser.process(&[b'x'; 30]);
        let cut = Decoder::new().line(&encode_top_row(parser.screen()), 12);
        assert_eq!(text(&cut), "x".repeat(12));
    }
}
