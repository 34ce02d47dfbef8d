//! A reader for the small YAML subset a bottle's pipelock config uses:
//! nested `key: value` maps by indentation, block lists of scalars (`- "x"`),
//! `[]`, plain, single- and double-quoted scalars, and `#` comments.

use std::collections::BTreeMap;

/// Scalars and lists by dotted path (`fetch_proxy.listen`), and every
/// mapping key with its line, in file order.
#[derive(Debug, Default, PartialEq)]
pub struct Doc {
    pub scalars: BTreeMap<String, String>,
    pub lists: BTreeMap<String, Vec<String>>,
    pub keys: Vec<(String, usize)>,
}

impl Doc {
    pub fn scalar(&self, path: &str) -> Option<&str> {
        self.scalars.get(path).map(String::as_str)
    }
}

/// Errors read like yaml.v3's: `yaml: line N: ...`, and a repeated key as
/// `yaml: unmarshal errors:` then `  line N: mapping key "k" already defined at line M`.
pub fn parse(text: &str) -> Result<Doc, String> {
    let mut doc = Doc::default();
    let mut first_line: BTreeMap<String, usize> = BTreeMap::new();
    // Open mappings: (indent of their key, key).
    let mut parents: Vec<(usize, String)> = Vec::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        let at = |msg: &str| format!("yaml: line {line}: {msg}");
        let content = raw.trim_start();
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        if content == "---" && index == 0 {
            continue;
        }
        let indent = raw.len() - content.len();
        if let Some(item) = content.strip_prefix("- ") {
            if parents.is_empty() {
                return Err(at("list item outside a key"));
            }
            let path = dotted(&parents);
            doc.lists
                .entry(path)
                .or_default()
                .push(scalar(item).map_err(|e| at(&e))?);
            continue;
        }
        while parents.last().is_some_and(|(i, _)| *i >= indent) {
            parents.pop();
        }
        let (key, value) = split_key(content).ok_or_else(|| at("expected `key: value`"))?;
        let value = strip_comment(value);
        let path = if parents.is_empty() {
            key.to_string()
        } else {
            format!("{}.{key}", dotted(&parents))
        };
        if let Some(before) = first_line.insert(path.clone(), line) {
            return Err(format!(
                "yaml: unmarshal errors:\n  line {line}: mapping key {key:?} already defined at line {before}"
            ));
        }
        doc.keys.push((path.clone(), line));
        if value.is_empty() {
            parents.push((indent, key.to_string()));
            continue;
        }
        if value == "[]" {
            doc.lists.insert(path, Vec::new());
        } else if value.starts_with('[') || value.starts_with('{') {
            return Err(at("flow collections other than [] are not supported"));
        } else {
            doc.scalars.insert(path, scalar(value).map_err(|e| at(&e))?);
        }
    }
    Ok(doc)
}

fn dotted(parents: &[(usize, String)]) -> String {
    parents
        .iter()
        .map(|(_, k)| k.as_str())
        .collect::<Vec<_>>()
        .join(".")
}

/// `key: rest`; the key is plain or double-quoted.
fn split_key(line: &str) -> Option<(&str, &str)> {
    let (key, rest) = line.split_once(':')?;
    if !(rest.is_empty() || rest.starts_with(' ')) {
        return None;
    }
    let key = key.trim();
    let key = key
        .strip_prefix('"')
        .and_then(|k| k.strip_suffix('"'))
        .unwrap_or(key);
    (!key.is_empty()).then_some((key, rest.trim()))
}

/// Drops a trailing ` # comment` unless the value is quoted.
fn strip_comment(value: &str) -> &str {
    if value.starts_with('"') || value.starts_with('\'') {
        return value;
    }
    value.find(" #").map_or(value, |at| &value[..at]).trim()
}

fn scalar(text: &str) -> Result<String, String> {
    let text = text.trim();
    if let Some(rest) = text.strip_prefix('"') {
        return double_quoted(rest);
    }
    if let Some(rest) = text.strip_prefix('\'') {
        let end = rest
            .rfind('\'')
            .ok_or("unterminated single-quoted string")?;
        return Ok(rest[..end].replace("''", "'"));
    }
    Ok(strip_comment(text).to_string())
}

/// The body of a double-quoted scalar, after its opening quote.
fn double_quoted(body: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        match c {
            '"' => {
                let rest = chars.as_str().trim();
                if !(rest.is_empty() || rest.starts_with('#')) {
                    return Err(format!("text after closing quote: {rest:?}"));
                }
                return Ok(out);
            }
            '\\' => {
                let escape = chars.next().ok_or("unterminated escape")?;
                let hex = |n: usize, chars: &mut std::str::Chars| -> Result<char, String> {
                    let digits: String = chars.by_ref().take(n).collect();
                    u32::from_str_radix(&digits, 16)
                        .ok()
                        .filter(|_| digits.len() == n)
                        .and_then(char::from_u32)
                        .ok_or_else(|| format!("bad escape \\{escape}{digits}"))
                };
                out.push(match escape {
                    '"' => '"',
                    '\\' => '\\',
                    '/' => '/',
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    '0' => '\0',
                    'x' => hex(2, &mut chars)?,
                    'u' => hex(4, &mut chars)?,
                    'U' => hex(8, &mut chars)?,
                    other => return Err(format!("unknown escape \\{other}")),
                });
            }
            c => out.push(c),
        }
    }
    Err("unterminated double-quoted string".to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_maps_lists_and_quotes() {
        let doc = parse(
            "version: 1\nmode: \"strict\" # c\napi_allowlist:\n  - \"*.a.com\"\n  - b.org\n  - 'c''d'\n\
             fetch_proxy:\n  listen: \"0.0.0.0:8888\"\n  monitoring:\n    blocklist: []\n    x: 5.0\n\
             forward_proxy:\n  enabled: true\nid: \"q\\\"\\u00e9\\n\"\n",
        )
        .unwrap();
        assert_eq!(doc.scalar("mode"), Some("strict"));
        assert_eq!(doc.scalar("fetch_proxy.listen"), Some("0.0.0.0:8888"));
        assert_eq!(doc.scalar("fetch_proxy.monitoring.x"), Some("5.0"));
        assert_eq!(doc.scalar("forward_proxy.enabled"), Some("true"));
        assert_eq!(doc.scalar("id"), Some("q\"é\n"));
        assert_eq!(doc.lists["api_allowlist"], ["*.a.com", "b.org", "c'd"]);
        assert!(doc.lists["fetch_proxy.monitoring.blocklist"].is_empty());
        assert_eq!(doc.keys[0], ("version".to_string(), 1));
        assert!(
            doc.keys
                .contains(&("fetch_proxy.monitoring.x".to_string(), 11))
        );
    }

    #[test]
    fn repeated_keys_are_refused_like_yaml_v3() {
        assert_eq!(
            parse("a:\n  b: 1\nc: 2\na:\n  d: 3\n").unwrap_err(),
            "yaml: unmarshal errors:\n  line 4: mapping key \"a\" already defined at line 1"
        );
    }

    #[test]
    fn broken_input_is_an_error() {
        assert!(parse("a: \"open\n").is_err());
        assert!(parse("- x\n").is_err());
        assert!(parse("just text\n").is_err());
        assert!(parse("a: \"x\" y\n").is_err());
    }
}
