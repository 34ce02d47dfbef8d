//! The three kinds of env value and their escapes.
//!
//! - `"text"`: a literal.
//! - `"${VAR}"`: copied from the host environment at launch; an error if `VAR` is unset.
//!   References can sit inside longer text too: `"Bearer ${TOKEN}"`.
//! - `"?question"`: asked at launch with hidden input; `question` is shown.
//!
//! Escapes: a value starting with `??` is a literal that starts with one `?` (`"??x"` is `?x`);
//! `$${` is a literal `${` (`"$${HOME}"` is `${HOME}`). A `$` not followed by `{` is just a `$`.

use std::collections::BTreeMap;

use super::model::EnvSource;

/// A piece of an env value after escapes are undone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Text(String),
    Var(String),
}

/// Splits a value (not a `?` prompt) into text and `${VAR}` references.
pub fn segments(raw: &str) -> Result<Vec<Segment>, String> {
    let mut out = Vec::new();
    let mut text = String::new();
    let mut rest = raw;
    while let Some(i) = rest.find('$') {
        text.push_str(&rest[..i]);
        let tail = &rest[i..];
        if let Some(after) = tail.strip_prefix("$${") {
            text.push_str("${");
            rest = after;
        } else if let Some(after) = tail.strip_prefix("${") {
            let Some(end) = after.find('}') else {
                return Err(
                    "`${` without a closing `}`; write `$${` for a literal `${`".to_string()
                );
            };
            let name = &after[..end];
            let valid = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                return Err(format!(
                    "`${{{name}}}` does not name a host variable (letters, digits and `_`); write `$${{` for a literal `${{`"
                ));
            }
            if !text.is_empty() {
                out.push(Segment::Text(std::mem::take(&mut text)));
            }
            out.push(Segment::Var(name.to_string()));
            rest = &after[end + 1..];
        } else {
            text.push('$');
            rest = &tail[1..];
        }
    }
    text.push_str(rest);
    if !text.is_empty() {
        out.push(Segment::Text(text));
    }
    Ok(out)
}

/// Classifies a manifest env value. Any character but NUL may appear, newlines included
/// (a PEM key is a fine value); NUL cannot, since the environment of a process ends each
/// value at the first NUL.
pub fn parse_env_value(raw: &str) -> Result<EnvSource, String> {
    if raw.contains('\0') {
        return Err(
            "an env value cannot contain a NUL character (U+0000): the environment of a process cannot hold one"
                .to_string(),
        );
    }
    if let Some(rest) = raw.strip_prefix("??") {
        return literal_or_template(raw, &format!("?{rest}"));
    }
    if let Some(question) = raw.strip_prefix('?') {
        return Ok(EnvSource::Prompt(question.to_string()));
    }
    literal_or_template(raw, raw)
}

fn literal_or_template(raw: &str, unprompted: &str) -> Result<EnvSource, String> {
    let segs = segments(unprompted)?;
    Ok(match segs.as_slice() {
        [] => EnvSource::Literal(String::new()),
        [Segment::Text(t)] => EnvSource::Literal(t.clone()),
        [Segment::Var(v)] if raw == format!("${{{v}}}") => EnvSource::HostVar(v.clone()),
        _ => EnvSource::Template(raw.to_string()),
    })
}

/// Expands a `Template` value; `Err` lists every unset variable.
pub fn expand(raw: &str, host_env: &BTreeMap<String, String>) -> Result<String, Vec<String>> {
    let unprompted = match raw.strip_prefix("??") {
        Some(rest) => format!("?{rest}"),
        None => raw.to_string(),
    };
    let segs = segments(&unprompted).map_err(|_| Vec::new())?;
    let mut out = String::new();
    let mut missing = Vec::new();
    for seg in segs {
        match seg {
            Segment::Text(t) => out.push_str(&t),
            Segment::Var(v) => match host_env.get(&v) {
                Some(value) => out.push_str(value),
                None => missing.push(v),
            },
        }
    }
    if missing.is_empty() {
        Ok(out)
    } else {
        Err(missing)
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn classifies_values() {
        assert_eq!(parse_env_value("x"), Ok(EnvSource::Literal("x".into())));
        assert_eq!(parse_env_value(""), Ok(EnvSource::Literal(String::new())));
        assert_eq!(
            parse_env_value("${GH}"),
            Ok(EnvSource::HostVar("GH".into()))
        );
        assert_eq!(
            parse_env_value("?Token"),
            Ok(EnvSource::Prompt("Token".into()))
        );
        assert_eq!(parse_env_value("??x"), Ok(EnvSource::Literal("?x".into())));
        assert_eq!(
            parse_env_value("$${GH}"),
            Ok(EnvSource::Literal("${GH}".into()))
        );
        assert_eq!(
            parse_env_value("a$b$"),
            Ok(EnvSource::Literal("a$b$".into()))
        );
        assert_eq!(
            parse_env_value("Bearer ${T}"),
            Ok(EnvSource::Template("Bearer ${T}".into()))
        );
        assert_eq!(
            parse_env_value("??${T}"),
            Ok(EnvSource::Template("??${T}".into()))
        );
        // A prompt's text is shown as written, with no expansion.
        assert_eq!(
            parse_env_value("?${T}"),
            Ok(EnvSource::Prompt("${T}".into()))
        );
    }

    #[test]
    fn nul_is_refused_and_newlines_kept() {
        for raw in ["a\0b", "?q\0", "${A}\0", "??\0"] {
            assert!(parse_env_value(raw).unwrap_err().contains("NUL"), "{raw:?}");
        }
        assert_eq!(
            parse_env_value("a\nb\r\n"),
            Ok(EnvSource::Literal("a\nb\r\n".into()))
        );
    }

    #[test]
    fn rejects_broken_references() {
        assert!(
            parse_env_value("a ${T")
                .unwrap_err()
                .contains("without a closing")
        );
        assert!(
            parse_env_value("${1X}")
                .unwrap_err()
                .contains("does not name")
        );
        assert!(
            parse_env_value("${}")
                .unwrap_err()
                .contains("does not name")
        );
    }

    #[test]
    fn expands_templates_and_lists_missing_vars() {
        let env = BTreeMap::from([("T".to_string(), "abc".to_string())]);
        assert_eq!(
            expand("Bearer ${T} $${T}", &env),
            Ok("Bearer abc ${T}".into())
        );
        assert_eq!(expand("??${T}", &env), Ok("?abc".into()));
        assert_eq!(
            expand("${A}:${T}:${B}", &env),
            Err(vec!["A".into(), "B".into()])
        );
    }
}
