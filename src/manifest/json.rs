//! A strict RFC 8259 JSON reader that keeps positions.
//!
//! `serde_json`'s `Value` forgets where things were and silently keeps the last of two
//! duplicate keys; manifest errors need `line:col` and duplicates must be refused, so
//! this small parser builds its own tree. Lines and columns are 1-based and columns
//! count characters, not bytes.

use std::collections::HashMap;
use std::fmt;

/// Files larger than this are refused before parsing: a manifest is a few kilobytes.
pub const MAX_FILE_BYTES: usize = 4 * 1024 * 1024;
/// Nesting deeper than this is refused, so hostile input cannot overflow the stack.
pub const MAX_DEPTH: usize = 128;

/// A place in the text: 1-based line, 1-based column in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    pub line: usize,
    pub col: usize,
}

impl fmt::Display for Pos {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.col)
    }
}

/// A value and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

/// One `"key": value` pair of an object, in file order.
#[derive(Debug, Clone, PartialEq)]
pub struct Member {
    pub key: String,
    pub key_pos: Pos,
    pub value: Node,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    /// The number's text as written (already checked against the JSON grammar).
    Number(String),
    String(String),
    Array(Vec<Node>),
    Object(Vec<Member>),
}

impl Value {
    /// How an error message names this kind of value ("expected a string, found a number").
    pub fn kind(&self) -> &'static str {
        match self {
            Value::Null => "null",
            Value::Bool(_) => "a boolean",
            Value::Number(_) => "a number",
            Value::String(_) => "a string",
            Value::Array(_) => "a list",
            Value::Object(_) => "an object",
        }
    }
}

/// Why a text is not acceptable JSON.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JsonError {
    #[error(
        "the file is empty; the smallest valid manifest is {{\"bottles\":{{}},\"agents\":{{}}}}"
    )]
    Empty,
    #[error("the file is {size} bytes; a manifest may be at most {limit} bytes")]
    TooLarge { size: usize, limit: usize },
    #[error("{message}")]
    Syntax {
        pos: Pos,
        message: String,
        path: Vec<PathSeg>,
    },
    #[error("duplicate key `{key}` (first at {first}); JSON objects must not repeat a key")]
    DuplicateKey {
        key: String,
        first: Pos,
        second: Pos,
        path: Vec<PathSeg>,
    },
    #[error("nested more than {limit} levels deep")]
    TooDeep {
        pos: Pos,
        limit: usize,
        path: Vec<PathSeg>,
    },
}

/// One step of the way to a value: an object's key or a list's index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PathSeg {
    Key(String),
    Index(usize),
}

impl JsonError {
    /// Where the error is, when it has a place.
    pub fn pos(&self) -> Option<Pos> {
        match self {
            JsonError::Empty | JsonError::TooLarge { .. } => None,
            JsonError::Syntax { pos, .. } | JsonError::TooDeep { pos, .. } => Some(*pos),
            JsonError::DuplicateKey { second, .. } => Some(*second),
        }
    }

    /// The keys and indices leading to the value being read when the error
    /// was found (empty at the top level).
    pub fn path(&self) -> &[PathSeg] {
        match self {
            JsonError::Empty | JsonError::TooLarge { .. } => &[],
            JsonError::Syntax { path, .. }
            | JsonError::TooDeep { path, .. }
            | JsonError::DuplicateKey { path, .. } => path,
        }
    }

    fn at(mut self, at: Vec<PathSeg>) -> Self {
        if let JsonError::Syntax { path, .. }
        | JsonError::TooDeep { path, .. }
        | JsonError::DuplicateKey { path, .. } = &mut self
        {
            *path = at;
        }
        self
    }
}

/// Parses a whole document: exactly one value, surrounded only by whitespace.
pub fn parse(text: &str) -> Result<Node, JsonError> {
    if text.len() > MAX_FILE_BYTES {
        return Err(JsonError::TooLarge {
            size: text.len(),
            limit: MAX_FILE_BYTES,
        });
    }
    // Editors on Windows may write a byte order mark; RFC 8259 lets readers skip it.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut p = Parser {
        text,
        bytes: text.as_bytes(),
        i: 0,
        line: 1,
        col: 1,
        path: Vec::new(),
    };
    p.skip_ws();
    if p.peek().is_none() {
        return Err(JsonError::Empty);
    }
    // An error returns at once, leaving the path where it was found.
    let node = p.value(0).map_err(|e| e.at(std::mem::take(&mut p.path)))?;
    p.skip_ws();
    if p.peek().is_some() {
        return Err(p.unexpected("the end of the file after the top-level value"));
    }
    Ok(node)
}

struct Parser<'a> {
    text: &'a str,
    bytes: &'a [u8],
    i: usize,
    line: usize,
    col: usize,
    /// Keys and indices of the values being read, outermost first.
    path: Vec<PathSeg>,
}

impl Parser<'_> {
    fn pos(&self) -> Pos {
        Pos {
            line: self.line,
            col: self.col,
        }
    }

    fn peek(&self) -> Option<u8> {
        self.bytes.get(self.i).copied()
    }

    fn bump(&mut self) {
        let Some(b) = self.peek() else { return };
        self.i += 1;
        if b == b'\n' {
            self.line += 1;
            self.col = 1;
        } else if b & 0xC0 != 0x80 {
            // Only the first byte of a UTF-8 sequence starts a new character.
            self.col += 1;
        }
    }

    /// What sits at the current position, for "found ..." in messages.
    fn found(&self) -> String {
        match self.text.get(self.i..).and_then(|s| s.chars().next()) {
            None => "the end of the file".to_string(),
            Some(c) if c.is_control() => format!("the control character U+{:04X}", u32::from(c)),
            Some(c) => format!("`{c}`"),
        }
    }

    fn unexpected(&self, expected: &str) -> JsonError {
        let mut message = format!("expected {expected}, found {}", self.found());
        if self
            .text
            .get(self.i..)
            .is_some_and(|s| s.starts_with("//") || s.starts_with("/*"))
        {
            message.push_str(" (JSON has no comments)");
        }
        Self::syntax(self.pos(), message)
    }

    /// A syntax error; [`parse`] fills in its path.
    fn syntax(pos: Pos, message: impl Into<String>) -> JsonError {
        JsonError::Syntax {
            pos,
            message: message.into(),
            path: Vec::new(),
        }
    }

    fn skip_ws(&mut self) {
        while let Some(b' ' | b'\t' | b'\n' | b'\r') = self.peek() {
            self.bump();
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, JsonError> {
        let pos = self.pos();
        let value = match self.peek() {
            Some(b'{') => self.object(depth + 1)?,
            Some(b'[') => self.array(depth + 1)?,
            Some(b'"') => Value::String(self.string()?),
            Some(b'-' | b'0'..=b'9') => self.number()?,
            Some(b't') => self.literal("true", Value::Bool(true))?,
            Some(b'f') => self.literal("false", Value::Bool(false))?,
            Some(b'n') => self.literal("null", Value::Null)?,
            Some(b'\'') => {
                return Err(Self::syntax(
                    pos,
                    "expected a value, found `'` (JSON strings use double quotes)",
                ));
            }
            _ => return Err(self.unexpected("a value")),
        };
        Ok(Node { pos, value })
    }

    fn enter(&self, depth: usize) -> Result<(), JsonError> {
        if depth > MAX_DEPTH {
            return Err(JsonError::TooDeep {
                pos: self.pos(),
                limit: MAX_DEPTH,
                path: Vec::new(),
            });
        }
        Ok(())
    }

    fn object(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.enter(depth)?;
        self.bump(); // `{`
        let mut members: Vec<Member> = Vec::new();
        // Where each key first appeared: a hash map, so a huge object stays linear.
        let mut seen: HashMap<String, Pos> = HashMap::new();
        self.skip_ws();
        if self.peek() == Some(b'}') {
            self.bump();
            return Ok(Value::Object(members));
        }
        loop {
            self.skip_ws();
            if self.peek() != Some(b'"') {
                let what = if self.peek() == Some(b'}') {
                    "a key in double quotes (JSON allows no comma before `}`)"
                } else {
                    "a key in double quotes"
                };
                return Err(self.unexpected(what));
            }
            let key_pos = self.pos();
            let key = self.string()?;
            if let Some(&first) = seen.get(&key) {
                return Err(JsonError::DuplicateKey {
                    key,
                    first,
                    second: key_pos,
                    path: Vec::new(),
                });
            }
            seen.insert(key.clone(), key_pos);
            self.path.push(PathSeg::Key(key.clone()));
            self.skip_ws();
            if self.peek() != Some(b':') {
                return Err(self.unexpected("`:` after the key"));
            }
            self.bump();
            self.skip_ws();
            let value = self.value(depth)?;
            self.path.pop();
            members.push(Member {
                key,
                key_pos,
                value,
            });
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b'}') => {
                    self.bump();
                    return Ok(Value::Object(members));
                }
                _ => return Err(self.unexpected("`,` or `}` after an object member")),
            }
        }
    }

    fn array(&mut self, depth: usize) -> Result<Value, JsonError> {
        self.enter(depth)?;
        self.bump(); // `[`
        let mut items = Vec::new();
        self.skip_ws();
        if self.peek() == Some(b']') {
            self.bump();
            return Ok(Value::Array(items));
        }
        loop {
            self.skip_ws();
            if self.peek() == Some(b']') {
                return Err(self.unexpected("a value (JSON allows no comma before `]`)"));
            }
            self.path.push(PathSeg::Index(items.len()));
            items.push(self.value(depth)?);
            self.path.pop();
            self.skip_ws();
            match self.peek() {
                Some(b',') => self.bump(),
                Some(b']') => {
                    self.bump();
                    return Ok(Value::Array(items));
                }
                _ => return Err(self.unexpected("`,` or `]` after a list item")),
            }
        }
    }

    fn literal(&mut self, word: &str, value: Value) -> Result<Value, JsonError> {
        if self.bytes[self.i..].starts_with(word.as_bytes()) {
            for _ in 0..word.len() {
                self.bump();
            }
            Ok(value)
        } else {
            Err(self.unexpected(
                "a value (`true`, `false`, `null`, a number, a string, a list or an object)",
            ))
        }
    }

    fn digits(&mut self) -> usize {
        let mut n = 0;
        while let Some(b'0'..=b'9') = self.peek() {
            self.bump();
            n += 1;
        }
        n
    }

    fn number(&mut self) -> Result<Value, JsonError> {
        let start = self.i;
        if self.peek() == Some(b'-') {
            self.bump();
        }
        match self.peek() {
            Some(b'0') => {
                self.bump();
                if let Some(b'0'..=b'9') = self.peek() {
                    return Err(self.unexpected("no digits after a leading `0`"));
                }
            }
            Some(b'1'..=b'9') => {
                self.digits();
            }
            _ => return Err(self.unexpected("a digit")),
        }
        if self.peek() == Some(b'.') {
            self.bump();
            if self.digits() == 0 {
                return Err(self.unexpected("a digit after `.`"));
            }
        }
        if let Some(b'e' | b'E') = self.peek() {
            self.bump();
            if let Some(b'+' | b'-') = self.peek() {
                self.bump();
            }
            if self.digits() == 0 {
                return Err(self.unexpected("a digit in the exponent"));
            }
        }
        Ok(Value::Number(self.text[start..self.i].to_string()))
    }

    fn string(&mut self) -> Result<String, JsonError> {
        let open = self.pos();
        self.bump(); // opening quote
        let mut out = String::new();
        loop {
            let run_start = self.i;
            while let Some(b) = self.peek() {
                if b == b'"' || b == b'\\' || b < 0x20 {
                    break;
                }
                self.bump();
            }
            out.push_str(&self.text[run_start..self.i]);
            match self.peek() {
                Some(b'"') => {
                    self.bump();
                    return Ok(out);
                }
                Some(b'\\') => out.push(self.escape()?),
                Some(b'\n') | None => {
                    return Err(Self::syntax(
                        open,
                        "this string has no closing `\"` on its line",
                    ));
                }
                Some(_) => {
                    return Err(self.unexpected(
                        "a character (write control characters as escapes like `\\n`)",
                    ));
                }
            }
        }
    }

    fn escape(&mut self) -> Result<char, JsonError> {
        let at = self.pos();
        self.bump(); // backslash
        let c = match self.peek() {
            Some(b'"') => '"',
            Some(b'\\') => '\\',
            Some(b'/') => '/',
            Some(b'b') => '\u{8}',
            Some(b'f') => '\u{c}',
            Some(b'n') => '\n',
            Some(b'r') => '\r',
            Some(b't') => '\t',
            Some(b'u') => {
                self.bump();
                return self.unicode_escape(at);
            }
            _ => return Err(self.unexpected(
                "an escape (`\\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` or `\\uXXXX`)",
            )),
        };
        self.bump();
        Ok(c)
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        let mut v = 0;
        for _ in 0..4 {
            let d = self
                .peek()
                .and_then(|b| char::from(b).to_digit(16))
                .ok_or_else(|| self.unexpected("four hex digits after `\\u`"))?;
            v = v * 16 + d;
            self.bump();
        }
        Ok(v)
    }

    fn unicode_escape(&mut self, at: Pos) -> Result<char, JsonError> {
        let hi = self.hex4()?;
        let code = if (0xD800..0xDC00).contains(&hi) {
            // A high surrogate must be followed by `\u` and a low surrogate.
            if !self.bytes[self.i..].starts_with(b"\\u") {
                return Err(Self::syntax(
                    at,
                    "a `\\u` high surrogate must be followed by a low surrogate",
                ));
            }
            self.bump();
            self.bump();
            let lo = self.hex4()?;
            if !(0xDC00..0xE000).contains(&lo) {
                return Err(Self::syntax(
                    at,
                    "a `\\u` high surrogate must be followed by a low surrogate",
                ));
            }
            0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
        } else {
            hi
        };
        char::from_u32(code)
            .ok_or_else(|| Self::syntax(at, "a lone `\\u` surrogate is not a character"))
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn err(text: &str) -> String {
        match parse(text) {
            Ok(v) => panic!("parsed: {v:?}"),
            Err(e) => match e.pos() {
                Some(p) => format!("{p}: {e}"),
                None => e.to_string(),
            },
        }
    }

    fn obj(node: &Node) -> &[Member] {
        match &node.value {
            Value::Object(m) => m,
            other => panic!("not an object: {other:?}"),
        }
    }

    #[test]
    fn keeps_positions_of_keys_and_values() {
        let doc = parse("{\n  \"a\": [1, \"é\", {\"b\": null}],\n  \"ü\": true\n}").unwrap();
        assert_eq!(doc.pos, Pos { line: 1, col: 1 });
        let m = obj(&doc);
        assert_eq!(m[0].key_pos, Pos { line: 2, col: 3 });
        let Value::Array(items) = &m[0].value.value else {
            panic!()
        };
        assert_eq!(items[0].pos, Pos { line: 2, col: 9 });
        assert_eq!(items[1].pos, Pos { line: 2, col: 12 });
        // `é` is two bytes but one column.
        assert_eq!(items[2].pos, Pos { line: 2, col: 17 });
        assert_eq!(m[1].key, "ü");
        assert_eq!(m[1].value.pos, Pos { line: 3, col: 8 });
    }

    #[test]
    fn decodes_strings_and_numbers() {
        let doc = parse(r#"["a\"\\\/\b\f\n\r\t\u00e9\ud83d\ude00", -0.5e+3, 0, 12]"#).unwrap();
        let Value::Array(items) = doc.value else {
            panic!()
        };
        assert_eq!(
            items[0].value,
            Value::String("a\"\\/\u{8}\u{c}\n\r\té😀".into())
        );
        assert_eq!(items[1].value, Value::Number("-0.5e+3".into()));
        assert_eq!(items[2].value, Value::Number("0".into()));
        assert_eq!(items[3].value, Value::Number("12".into()));
    }

    #[test]
    fn empty_and_whitespace_files_have_their_own_error() {
        assert_eq!(parse(""), Err(JsonError::Empty));
        assert_eq!(parse(" \n\t\r\n"), Err(JsonError::Empty));
    }

    #[test]
    fn duplicate_keys_name_both_positions() {
        assert_eq!(
            err("{\"a\": 1,\n \"a\": 2}"),
            "2:2: duplicate key `a` (first at 1:2); JSON objects must not repeat a key"
        );
    }

    #[test]
    fn syntax_errors_say_where_and_what_was_expected() {
        assert_eq!(
            err("{\"a\" 1}"),
            "1:6: expected `:` after the key, found `1`"
        );
        assert_eq!(
            err("{\"a\": 1,}"),
            "1:9: expected a key in double quotes (JSON allows no comma before `}`), found `}`"
        );
        assert_eq!(
            err("[1,]"),
            "1:4: expected a value (JSON allows no comma before `]`), found `]`"
        );
        assert_eq!(
            err("[1 2]"),
            "1:4: expected `,` or `]` after a list item, found `2`"
        );
        assert_eq!(
            err("{} {}"),
            "1:4: expected the end of the file after the top-level value, found `{`"
        );
        assert_eq!(
            err("{\"a\": \"x\n\"}"),
            "1:7: this string has no closing `\"` on its line"
        );
        assert_eq!(
            err("[01]"),
            "1:3: expected no digits after a leading `0`, found `1`"
        );
        assert_eq!(err("[1.]"), "1:4: expected a digit after `.`, found `]`");
        assert_eq!(
            err("[tru]"),
            "1:2: expected a value (`true`, `false`, `null`, a number, a string, a list or an object), found `t`"
        );
        assert_eq!(
            err("['a']"),
            "1:2: expected a value, found `'` (JSON strings use double quotes)"
        );
        assert_eq!(
            err("{\n// hi\n}"),
            "2:1: expected a key in double quotes, found `/` (JSON has no comments)"
        );
        assert_eq!(
            err("[\"\\x\"]"),
            "1:4: expected an escape (`\\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` or `\\uXXXX`), found `x`"
        );
        assert_eq!(
            err("[\"\\ud800\"]"),
            "1:3: a `\\u` high surrogate must be followed by a low surrogate"
        );
        assert_eq!(
            err("[\"\\udc00\"]"),
            "1:3: a lone `\\u` surrogate is not a character"
        );
        assert_eq!(
            err("[\"a\tb\"]"),
            "1:4: expected a character (write control characters as escapes like `\\n`), found the control character U+0009"
        );
        assert_eq!(
            err("{"),
            "1:2: expected a key in double quotes, found the end of the file"
        );
    }

    #[test]
    fn syntax_errors_keep_the_path_to_where_they_are() {
        let path = |text: &str| parse(text).unwrap_err().path().to_vec();
        let key = |k: &str| PathSeg::Key(k.into());
        assert_eq!(
            path(r#"{"a": {"b": [1, {"c" 2}]}}"#),
            [key("a"), key("b"), PathSeg::Index(1), key("c")]
        );
        assert_eq!(path(r#"{"a": {"b": [1, 2,]}}"#), [key("a"), key("b")]);
        assert_eq!(path(r#"{"a": 1, "a": 2}"#), []);
        assert_eq!(path(r#"{"a": {"x": 1, "x": 2}}"#), [key("a")]);
        assert_eq!(path(r#"{"a": tru}"#), [key("a")]);
        assert!(path("[1 2]").is_empty());
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert_eq!(err(&deep), "1:129: nested more than 128 levels deep");
        let ok = format!("{}{}", "[".repeat(MAX_DEPTH), "]".repeat(MAX_DEPTH));
        assert!(parse(&ok).is_ok());
    }

    #[test]
    fn huge_input_is_refused() {
        let big = format!("\"{}\"", "a".repeat(MAX_FILE_BYTES));
        assert_eq!(
            parse(&big),
            Err(JsonError::TooLarge {
                size: MAX_FILE_BYTES + 2,
                limit: MAX_FILE_BYTES
            })
        );
    }

    #[test]
    fn byte_order_mark_is_skipped() {
        assert!(parse("\u{feff}{}").is_ok());
    }
}
