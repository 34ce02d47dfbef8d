//! Adding a host to a bottle's allowlist in the manifest file itself, keeping
//! every other byte of the file as the user wrote it (comments are not JSON,
//! but spacing, order and formatting are theirs).

use std::path::Path;

use super::json::{self, Node, Pos, Value};
use crate::egress::allow_match::entry_covers;

#[derive(Debug, thiserror::Error)]
pub enum EditError {
    #[error("{file}: {message}")]
    Unsupported { file: String, message: String },
    #[error("{file}: {source}")]
    Io {
        file: String,
        source: std::io::Error,
    },
}

/// The text with `host` appended to `bottles.<bottle>.egress.allowlist`,
/// creating `egress` and `allowlist` when missing. Unchanged if an entry
/// already lets it through (pipelock's matching: `*.domain` covers it too).
pub fn add_allow_host(text: &str, bottle: &str, host: &str) -> Result<String, String> {
    let root = json::parse(text).map_err(|e| format!("the file does not parse: {e}"))?;
    let bottle_node = member(&root, "bottles")
        .and_then(|b| member(b, bottle))
        .ok_or_else(|| format!("bottles.{bottle} is not in this file"))?;
    let quoted = serde_json::to_string(host).map_err(|e| e.to_string())?;
    let Some(egress) = member(bottle_node, "egress") else {
        let entry = format!("\"egress\": {{ \"allowlist\": [{quoted}] }}");
        return insert_into_container(text, bottle_node, &entry);
    };
    let Some(list) = member(egress, "allowlist") else {
        return insert_into_container(text, egress, &format!("\"allowlist\": [{quoted}]"));
    };
    if let Value::Array(items) = &list.value {
        if items
            .iter()
            .any(|i| matches!(&i.value, Value::String(s) if entry_covers(s, host)))
        {
            return Ok(text.to_owned());
        }
    }
    insert_into_container(text, list, &quoted)
}

/// Rewrites the file with the host added: written to a temporary file beside
/// it and renamed over it, so a crash leaves the old or the new file, never half.
pub fn add_allow_host_to_file(path: &Path, bottle: &str, host: &str) -> Result<(), EditError> {
    let file = path.display().to_string();
    let io = |source| EditError::Io {
        file: file.clone(),
        source,
    };
    let text = std::fs::read_to_string(path).map_err(io)?;
    let updated =
        add_allow_host(&text, bottle, host).map_err(|message| EditError::Unsupported {
            file: file.clone(),
            message,
        })?;
    if updated == text {
        return Ok(());
    }
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, updated).map_err(io)?;
    if let Ok(meta) = std::fs::metadata(path) {
        std::fs::set_permissions(&tmp, meta.permissions()).map_err(io)?;
    }
    std::fs::rename(&tmp, path).map_err(io)
}

fn member<'a>(node: &'a Node, key: &str) -> Option<&'a Node> {
    match &node.value {
        Value::Object(members) => members.iter().find(|m| m.key == key).map(|m| &m.value),
        _ => None,
    }
}

/// Inserts `entry` before the closing bracket of the object or array at `node`,
/// with a comma when it already has content.
fn insert_into_container(text: &str, node: &Node, entry: &str) -> Result<String, String> {
    if !matches!(node.value, Value::Object(_) | Value::Array(_)) {
        return Err(format!("expected an object or a list at {}", node.pos));
    }
    let start = byte_offset(text, node.pos).ok_or("position outside the file")?;
    let close = matching_close(text, start).ok_or("unbalanced brackets")?;
    let inner = &text[start + 1..close];
    let has_content = !inner.trim().is_empty();
    // Keep the user's layout: put the new entry right after the last one.
    let last_content = start + 1 + inner.trim_end().len();
    let mut out = String::with_capacity(text.len() + entry.len() + 2);
    out.push_str(&text[..last_content]);
    out.push_str(if has_content { ", " } else { "" });
    out.push_str(entry);
    out.push_str(&text[last_content..]);
    Ok(out)
}

/// The byte offset of a 1-based line and character column.
fn byte_offset(text: &str, pos: Pos) -> Option<usize> {
    let line_start = if pos.line <= 1 {
        0
    } else {
        text.match_indices('\n').nth(pos.line - 2)?.0 + 1
    };
    let line = &text[line_start..];
    line.char_indices()
        .nth(pos.col.checked_sub(1)?)
        .map(|(i, _)| line_start + i)
}

/// The offset of the bracket closing the one at `open`, skipping strings.
fn matching_close(text: &str, open: usize) -> Option<usize> {
    let mut depth = 0usize;
    let mut in_string = false;
    let mut escaped = false;
    for (i, c) in text[open..].char_indices() {
        if in_string {
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '"' => in_string = true,
            '[' | '{' => depth += 1,
            ']' | '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(open + i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"{
  "bottles": {
    "dev": {
      "egress": {
        "allowlist": ["github.com",
                      "x.org"]
      }
    },
    "bare": {},
    "noallow": { "egress": {} },
    "tricky": { "env": { "A": "]}" }, "egress": { "allowlist": [ ] } }
  },
  "agents": {}
}
"#;

    #[test]
    fn appends_after_the_last_entry_keeping_layout() {
        let out = add_allow_host(FILE, "dev", "example.com").unwrap();
        assert!(out.contains(r#"  "x.org", "example.com"]"#), "{out}");
        assert_eq!(out.replace(r#", "example.com""#, ""), FILE);
    }

    #[test]
    fn creates_egress_and_allowlist_when_missing() {
        let out = add_allow_host(FILE, "bare", "a.io").unwrap();
        assert!(
            out.contains(r#""bare": {"egress": { "allowlist": ["a.io"] }}"#),
            "{out}"
        );
        let out = add_allow_host(FILE, "noallow", "a.io").unwrap();
        assert!(
            out.contains(r#""egress": {"allowlist": ["a.io"]}"#),
            "{out}"
        );
    }

    #[test]
    fn brackets_inside_strings_do_not_confuse_it() {
        let out = add_allow_host(FILE, "tricky", "a.io").unwrap();
        assert!(out.contains(r#""allowlist": ["a.io" ]"#), "{out}");
        json::parse(&out).unwrap();
    }

    #[test]
    fn already_listed_is_unchanged_and_unknown_bottle_is_an_error() {
        assert_eq!(add_allow_host(FILE, "dev", "GitHub.com").unwrap(), FILE);
        let wild = FILE.replace(r#""x.org"]"#, r#""*.x.org"]"#);
        assert_eq!(add_allow_host(&wild, "dev", "a.b.x.org").unwrap(), wild);
        assert!(
            add_allow_host(FILE, "nope", "a.io")
                .unwrap_err()
                .contains("bottles.nope")
        );
    }

    #[test]
    fn every_result_still_parses() {
        for bottle in ["dev", "bare", "noallow", "tricky"] {
            let out = add_allow_host(FILE, bottle, "new.example").unwrap();
            json::parse(&out).unwrap();
        }
    }

    #[test]
    fn file_is_replaced_whole() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("claude-bottle.json");
        std::fs::write(&path, FILE).unwrap();
        add_allow_host_to_file(&path, "dev", "example.com").unwrap();
        assert!(
            std::fs::read_to_string(&path)
                .unwrap()
                .contains("\"example.com\"")
        );
        assert!(!path.with_extension("json.tmp").exists());
    }
}
