//! 24-bit colours lowered to the 256-colour palette, for a user terminal
//! that does not draw them (it would show some other colour, or none): the
//! agents are told only what the user's terminal declares, but a program
//! may send 24-bit colours anyway.

use ratatui::buffer::Buffer;
use ratatui::style::Color;

/// The six levels of each channel in xterm's 6x6x6 colour cube (16-231).
const CUBE_LEVELS: [u8; 6] = [0, 95, 135, 175, 215, 255];

/// Every 24-bit colour in the frame replaced by its nearest palette colour.
pub fn lower_to_256(buf: &mut Buffer) {
    for cell in &mut buf.content {
        cell.fg = lowered(cell.fg);
        cell.bg = lowered(cell.bg);
        cell.underline_color = lowered(cell.underline_color);
    }
}

fn lowered(colour: Color) -> Color {
    match colour {
        Color::Rgb(r, g, b) => Color::Indexed(nearest_256(r, g, b)),
        other => other,
    }
}

/// The index of the nearest colour among the cube and the grey ramp
/// (232-255), as xterm defines them; the 16 system colours are left out
/// because each terminal sets its own.
fn nearest_256(r: u8, g: u8, b: u8) -> u8 {
    let distance = |(r2, g2, b2): (u8, u8, u8)| {
        let d = |a: u8, b: u8| (i32::from(a) - i32::from(b)).pow(2);
        d(r, r2) + d(g, g2) + d(b, b2)
    };
    let level = |c: u8| -> u8 {
        let mut best = 0;
        for (i, l) in CUBE_LEVELS.iter().enumerate() {
            if c.abs_diff(*l) < c.abs_diff(CUBE_LEVELS[best]) {
                best = i;
            }
        }
        u8::try_from(best).unwrap_or(0)
    };
    let (ri, gi, bi) = (level(r), level(g), level(b));
    let cube = (
        CUBE_LEVELS[usize::from(ri)],
        CUBE_LEVELS[usize::from(gi)],
        CUBE_LEVELS[usize::from(bi)],
    );
    let cube_index = 16 + 36 * ri + 6 * gi + bi;
    // Grey ramp: 8, 18, ..., 238.
    let average = (u16::from(r) + u16::from(g) + u16::from(b)) / 3;
    let step = u8::try_from(average.saturating_sub(3) / 10)
        .unwrap_or(23)
        .min(23);
    let grey = 8 + 10 * step;
    if distance((grey, grey, grey)) < distance(cube) {
        232 + step
    } else {
        cube_index
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cube_and_grey_colours_map_to_their_own_index() {
        assert_eq!(nearest_256(0, 0, 0), 16);
        assert_eq!(nearest_256(255, 255, 255), 231);
        assert_eq!(nearest_256(215, 135, 135), 174);
        assert_eq!(nearest_256(215, 119, 87), 173);
        assert_eq!(nearest_256(128, 128, 128), 244);
        assert_eq!(nearest_256(8, 8, 8), 232);
        assert_eq!(nearest_256(238, 238, 238), 255);
    }

    #[test]
    fn only_24_bit_colours_change() {
        let mut buf = Buffer::empty(ratatui::layout::Rect::new(0, 0, 3, 1));
        buf.content[0].fg = Color::Rgb(215, 119, 87);
        buf.content[0].bg = Color::Indexed(17);
        buf.content[1].fg = Color::Red;
        buf.content[2].underline_color = Color::Rgb(0, 0, 0);
        lower_to_256(&mut buf);
        assert_eq!(buf.content[0].fg, Color::Indexed(173));
        assert_eq!(buf.content[0].bg, Color::Indexed(17));
        assert_eq!(buf.content[1].fg, Color::Red);
        assert_eq!(buf.content[2].underline_color, Color::Indexed(16));
    }
}
