//! Log lines in pipelock's zerolog shape: `level`, `component`, `event`, the
//! event's fields in order, `time` (RFC 3339, UTC, seconds), `message`; one
//! JSON object per line on stdout, flushed per line.

use std::fmt::Write as _;
use std::io::Write as _;
use std::time::{SystemTime, UNIX_EPOCH};

#[derive(Clone, Copy)]
pub enum Val<'a> {
    Str(&'a str),
    Int(u64),
    Float(f64),
    /// Written as it is: JSON already (a list).
    Raw(&'a str),
}

pub fn emit(level: &str, event: &str, fields: &[(&str, Val)], message: &str) {
    let mut line = String::from("{");
    push_field(&mut line, "level", &Val::Str(level));
    push_field(&mut line, "component", &Val::Str("pipelock"));
    push_field(&mut line, "event", &Val::Str(event));
    for (key, value) in fields {
        // Empty optional fields are omitted, as zerolog's callers do.
        if !matches!(value, Val::Str("")) {
            push_field(&mut line, key, value);
        }
    }
    push_field(&mut line, "time", &Val::Str(&now_rfc3339()));
    push_field(&mut line, "message", &Val::Str(message));
    line.pop();
    line.push_str("}\n");
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(line.as_bytes());
    let _ = out.flush();
}

fn push_field(line: &mut String, key: &str, value: &Val) {
    push_str(line, key);
    line.push(':');
    match value {
        Val::Str(s) => push_str(line, s),
        Val::Int(n) => {
            let _ = write!(line, "{n}");
        }
        Val::Float(f) if f.is_finite() => {
            let _ = write!(line, "{f}");
        }
        Val::Float(_) => line.push_str("null"),
        Val::Raw(json) => line.push_str(json),
    }
    line.push(',');
}

/// A JSON string; control characters are stripped first, as pipelock does.
fn push_str(line: &mut String, s: &str) {
    line.push('"');
    for c in s.chars().filter(|c| !c.is_control()) {
        match c {
            '"' => line.push_str("\\\""),
            '\\' => line.push_str("\\\\"),
            c => line.push(c),
        }
    }
    line.push('"');
}

pub fn now_rfc3339() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    rfc3339(secs)
}

fn rfc3339(secs: u64) -> String {
    let days = i64::try_from(secs / 86_400).unwrap_or(0);
    let rem = secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Days since 1970-01-01 to (year, month, day); Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3339_in_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00Z");
        assert_eq!(rfc3339(1_777_388_645), "2026-04-28T15:04:05Z");
        assert_eq!(rfc3339(951_782_400), "2000-02-29T00:00:00Z");
    }

    #[test]
    fn strings_are_escaped_and_stripped() {
        let mut s = String::new();
        push_str(&mut s, "a\"b\\c\nd\u{1b}");
        assert_eq!(s, r#""a\"b\\cd""#);
    }
}
