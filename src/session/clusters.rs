//! Emoji sequences made to take the width the program drawing them counted.
//!
//! A thumbs-up with a skin tone is two code points, each two columns wide to
//! the emulator (vt100 sizes one `char` at a time), so it would take four
//! cells where claude (which counts a whole emoji sequence as two columns,
//! as `string-width` does) moved its cursor two: everything after it on the
//! row would shift. User terminals disagree on these sequences too, so the
//! pane never shows them whole. The output is rewritten before vt100 sees it:
//!
//! - an emoji modifier (skin tone) after an emoji is dropped: the base emoji
//!   is drawn in its default tone;
//! - a zero-width joiner after an emoji is dropped with the code point it
//!   joins: a family or a profession is drawn as its first emoji;
//! - an emoji-presentation selector (U+FE0F) after a one-column symbol (❤,
//!   a keycap digit) becomes a blank cell after it, and the keycap mark and
//!   tag characters that complete such sequences are dropped;
//! - a text-presentation selector (U+FE0E) after an emoji is dropped.
//!
//! So each sequence takes exactly two cells, and every terminal draws what
//! is left (one plain emoji, or a symbol and a blank) at the width the grid
//! gives it. Plain ASCII is never touched, and nothing else is changed.

use std::borrow::Cow;

use unicode_width::UnicodeWidthChar as _;

const ZERO_WIDTH_JOINER: char = '\u{200D}';
const EMOJI_PRESENTATION: char = '\u{FE0F}';
const TEXT_PRESENTATION: char = '\u{FE0E}';
const KEYCAP: char = '\u{20E3}';

/// The smallest lead byte of a code point this filter may act on (U+2000
/// and above); every byte below it passes through as it is.
const FIRST_LEAD: u8 = 0xE2;

/// What the last character written was, as far as a sequence could extend it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Last {
    #[default]
    Other,
    /// A digit, `#` or `*`: a keycap base when an emoji selector follows.
    KeycapBase,
    /// A pictographic symbol one column wide (❤, ☝).
    NarrowEmoji,
    /// An emoji that takes two cells (wide, or padded with a blank).
    WideEmoji,
}

/// Rewrites a session's output as the module says; keeps what a read may
/// cut in half (a split code point, a pending joiner) for the next one.
#[derive(Debug, Default)]
pub struct ClusterFilter {
    /// The start of a code point that the previous read ended in.
    carry: Vec<u8>,
    last: Last,
    /// A joiner after an emoji was dropped: drop the next code point too.
    swallow_next: bool,
}

impl ClusterFilter {
    /// The output to give the emulator for `input`; borrowed, with no copy,
    /// when nothing in it extends a sequence (box drawing, CJK and every
    /// plain emoji included).
    pub fn filter<'a>(&mut self, input: &'a [u8], out: &'a mut Vec<u8>) -> Cow<'a, [u8]> {
        if self.carry.is_empty() && !self.swallow_next && untouched(input) {
            if let Some(last) = last_class(input) {
                self.last = last;
            }
            return Cow::Borrowed(input);
        }
        out.clear();
        let joined;
        let mut rest = if self.carry.is_empty() {
            input
        } else {
            let mut bytes = std::mem::take(&mut self.carry);
            bytes.extend_from_slice(input);
            joined = bytes;
            &joined[..]
        };
        while !rest.is_empty() {
            let plain = rest
                .iter()
                .position(|&b| b >= FIRST_LEAD)
                .unwrap_or(rest.len());
            if plain > 0 {
                out.extend_from_slice(&rest[..plain]);
                self.last = after_byte(rest[plain - 1]);
                self.swallow_next = false;
                rest = &rest[plain..];
                continue;
            }
            match decode(rest) {
                Decoded::Char(c, len) => {
                    self.push(c, out);
                    rest = &rest[len..];
                }
                Decoded::Incomplete => {
                    self.carry.extend_from_slice(rest);
                    break;
                }
                Decoded::Invalid => {
                    out.push(rest[0]);
                    self.last = Last::Other;
                    rest = &rest[1..];
                }
            }
        }
        let written: &'a Vec<u8> = out;
        Cow::Borrowed(written)
    }

    fn push(&mut self, c: char, out: &mut Vec<u8>) {
        if std::mem::take(&mut self.swallow_next) {
            return;
        }
        let emoji = matches!(self.last, Last::NarrowEmoji | Last::WideEmoji);
        match c {
            EMOJI_PRESENTATION if matches!(self.last, Last::NarrowEmoji | Last::KeycapBase) => {
                self.widen(out);
            }
            EMOJI_PRESENTATION | KEYCAP if self.last == Last::WideEmoji => {}
            TEXT_PRESENTATION if emoji => {}
            ZERO_WIDTH_JOINER if emoji => {
                self.widen(out);
                self.swallow_next = true;
            }
            c if is_skin_tone(c) && emoji => self.widen(out),
            c if is_tag(c) && self.last == Last::WideEmoji => {}
            c => {
                let mut utf8 = [0; 4];
                out.extend_from_slice(c.encode_utf8(&mut utf8).as_bytes());
                self.last = classify(c);
            }
        }
    }

    /// The emoji just written takes two cells: pad a one-column one.
    fn widen(&mut self, out: &mut Vec<u8>) {
        if self.last != Last::WideEmoji {
            out.push(b' ');
            self.last = Last::WideEmoji;
        }
    }
}

/// Whether `input` holds nothing this filter changes and does not end inside
/// a code point it might act on (otherwise the slow path looks at every
/// code point). Only the lead bytes of the code points that extend a
/// sequence (U+200D, U+20E3, U+FE0E/F, the skin tones, the tags) are
/// looked at closely, so text and escapes cost one scan.
fn untouched(input: &[u8]) -> bool {
    // Plain ASCII is checked a word at a time.
    if input.is_ascii() {
        return true;
    }
    let mut from = 0;
    while let Some(i) = input[from..]
        .iter()
        .position(|&b| matches!(b, 0xE2 | 0xEF | 0xF0 | 0xF3))
    {
        let at = from + i;
        let next = |k: usize| input.get(at + k).copied();
        let extends = match input[at] {
            0xE2 => matches!(
                (next(1), next(2)),
                (Some(0x80), Some(0x8D)) | (Some(0x83), Some(0xA3))
            ),
            0xEF => next(1) == Some(0xB8) && matches!(next(2), Some(0x8E | 0x8F)),
            0xF0 => {
                next(1) == Some(0x9F)
                    && next(2) == Some(0x8F)
                    && matches!(next(3), Some(0xBB..=0xBF))
            }
            _ => next(1) == Some(0xA0),
        };
        // A code point cut by the end of the read: the next read decides.
        let cut = at + utf8_len(input[at]) > input.len();
        if extends || cut {
            return false;
        }
        from = at + 1;
    }
    true
}

/// The byte length of the code point a lead byte starts.
fn utf8_len(lead: u8) -> usize {
    match lead {
        0xF0..=0xF7 => 4,
        0xE0..=0xEF => 3,
        0xC0..=0xDF => 2,
        _ => 1,
    }
}

/// What the last character of `input` leaves, decoding it from the end.
fn last_class(input: &[u8]) -> Option<Last> {
    let &byte = input.last()?;
    if byte < 0x80 {
        return Some(after_byte(byte));
    }
    let start = input.len().saturating_sub(4);
    let decoded = (start..input.len())
        .rev()
        .find(|&i| input[i] & 0xC0 != 0x80)
        .and_then(|lead| std::str::from_utf8(&input[lead..]).ok()?.chars().next());
    Some(decoded.map_or(Last::Other, classify))
}

/// What one byte below [`FIRST_LEAD`] leaves as the last character.
fn after_byte(byte: u8) -> Last {
    if byte.is_ascii_digit() || byte == b'#' || byte == b'*' {
        Last::KeycapBase
    } else {
        Last::Other
    }
}

fn classify(c: char) -> Last {
    if is_skin_tone(c) {
        // A skin tone alone is drawn as a two-column swatch.
        return Last::WideEmoji;
    }
    if !is_pictographic(c) {
        return Last::Other;
    }
    if c.width() == Some(2) {
        Last::WideEmoji
    } else {
        Last::NarrowEmoji
    }
}

fn is_skin_tone(c: char) -> bool {
    ('\u{1F3FB}'..='\u{1F3FF}').contains(&c)
}

fn is_tag(c: char) -> bool {
    ('\u{E0020}'..='\u{E007F}').contains(&c)
}

/// Symbols that emoji sequences start from: Unicode's pictographic blocks
/// (arrows, technical and geometric symbols, dingbats, the emoji planes),
/// not the box-drawing and block characters that text interfaces draw with.
fn is_pictographic(c: char) -> bool {
    matches!(u32::from(c),
        0x203C | 0x2049 | 0x2122 | 0x2139 | 0x24C2 | 0x3030 | 0x303D | 0x3297 | 0x3299
        | 0x2190..=0x21FF
        | 0x2300..=0x23FF
        | 0x25A0..=0x27BF
        | 0x2900..=0x297F
        | 0x2B00..=0x2BFF
        | 0x1F000..=0x1FAFF)
}

enum Decoded {
    Char(char, usize),
    /// The bytes so far begin a code point the next read completes.
    Incomplete,
    Invalid,
}

/// One code point from `bytes`, whose first byte is at least [`FIRST_LEAD`].
fn decode(bytes: &[u8]) -> Decoded {
    let len = match bytes[0] {
        0xE0..=0xEF => 3,
        0xF0..=0xF4 => 4,
        _ => return Decoded::Invalid,
    };
    let available = bytes.len().min(len);
    if !bytes[1..available]
        .iter()
        .all(|&b| (0x80..0xC0).contains(&b))
    {
        return Decoded::Invalid;
    }
    if available < len {
        return Decoded::Incomplete;
    }
    match std::str::from_utf8(&bytes[..len]) {
        Ok(text) => text
            .chars()
            .next()
            .map_or(Decoded::Invalid, |c| Decoded::Char(c, len)),
        Err(_) => Decoded::Invalid,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(pieces: &[&str]) -> String {
        let mut filter = ClusterFilter::default();
        let mut out = Vec::new();
        let mut all = Vec::new();
        for piece in pieces {
            all.extend_from_slice(&filter.filter(piece.as_bytes(), &mut out));
        }
        String::from_utf8(all).unwrap()
    }

    /// Every split of `text` into two reads gives the same output.
    fn same_at_every_cut(text: &str) -> String {
        let whole = run(&[text]);
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            let mut filter = ClusterFilter::default();
            let mut out = Vec::new();
            let mut all = filter.filter(&bytes[..cut], &mut out).into_owned();
            all.extend_from_slice(&filter.filter(&bytes[cut..], &mut out));
            assert_eq!(String::from_utf8(all).unwrap(), whole, "cut at {cut}");
        }
        whole
    }

    #[test]
    fn plain_text_and_box_drawing_pass_unchanged_and_borrowed() {
        let mut filter = ClusterFilter::default();
        let mut out = Vec::new();
        let ascii = b"\x1b[38;5;174mhello\x1b[0m \xc3\xa9t\xc3\xa9";
        assert!(matches!(filter.filter(ascii, &mut out), Cow::Borrowed(_)));
        for text in ["╭──╮ │ ok │ ╰──╯ 中文 ● ⎿ 👍", "a\u{200D}b", "e\u{301}"]
        {
            assert_eq!(same_at_every_cut(text), text);
        }
        // Box drawing, CJK and a plain emoji are not copied either.
        let text = "╭──╮ 中文 👍 ok".as_bytes();
        assert!(matches!(filter.filter(text, &mut out), Cow::Borrowed(_)));
    }

    #[test]
    fn a_skin_tone_after_an_emoji_is_dropped() {
        assert_eq!(same_at_every_cut("│👍🏽│"), "│👍│");
        // One-column bases take a blank for the tone's second cell.
        assert_eq!(same_at_every_cut("☝🏿x"), "☝ x");
        // A tone alone is a two-column swatch and stays.
        assert_eq!(same_at_every_cut("a🏽b"), "a🏽b");
    }

    #[test]
    fn a_joined_sequence_is_drawn_as_its_first_emoji() {
        assert_eq!(same_at_every_cut("[👨‍👩‍👧‍👦]"), "[👨]");
        assert_eq!(same_at_every_cut("👩🏽‍💻 done"), "👩 done");
        assert_eq!(same_at_every_cut("🏳️‍🌈|"), "🏳 |");
        // A joiner never eats ASCII, an escape least of all.
        assert_eq!(same_at_every_cut("👩‍\x1b[0m!"), "👩\x1b[0m!");
    }

    #[test]
    fn an_emoji_selector_widens_a_narrow_symbol_with_a_blank() {
        assert_eq!(same_at_every_cut("❤️|"), "❤ |");
        assert_eq!(same_at_every_cut("1️⃣|"), "1 |");
        assert_eq!(same_at_every_cut("⌚️|"), "⌚|");
        assert_eq!(same_at_every_cut("❤︎|"), "❤|");
        assert_eq!(
            same_at_every_cut("🏴\u{E0067}\u{E0062}\u{E0065}\u{E006E}\u{E0067}\u{E007F}|"),
            "🏴|"
        );
    }

    #[test]
    fn broken_utf8_passes_through() {
        let mut filter = ClusterFilter::default();
        let mut out = Vec::new();
        let bytes = b"\xe2\x28\xa1 \xf0\x9f x";
        assert_eq!(&*filter.filter(bytes, &mut out), bytes);
    }
}
