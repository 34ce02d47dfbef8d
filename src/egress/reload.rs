//! What the sidecar's output says about one config reload (pure).
//!
//! Pipelock reloads when its watcher sees the config file change. The outcome
//! arrives later, in its output: a `config_reload` event carrying the SHA-256
//! of the file it loaded, an `error` event for method `CONFIG_RELOAD` when
//! strict mode rejects the new config (or the watcher never started), or a
//! plain stderr line when the file did not load.

use sha2::{Digest, Sha256};

use super::log::{EventKind, LogLine};

/// Pipelock's `config_hash`: the SHA-256 of the file's bytes, lowercase hex.
pub fn config_hash(text: &str) -> String {
    use std::fmt::Write as _;
    let mut hex = String::with_capacity(64);
    for b in Sha256::digest(text.as_bytes()) {
        // Writing to a String cannot fail.
        let _ = write!(hex, "{b:02x}");
    }
    hex
}

/// How a reload ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadVerdict {
    /// Pipelock loaded the file with this hash.
    Applied,
    /// Pipelock read the file and refused it; the old config stays.
    Rejected(String),
    /// Pipelock could not watch or load its config.
    Failed(String),
}

/// The stderr line pipelock writes when a changed file does not load.
const LOAD_FAILED: &str = "pipelock: config reload failed:";
/// The `method` of reload errors.
const RELOAD_METHOD: &str = "CONFIG_RELOAD";

/// What `line` says about the reload of the file whose hash is `hash`, if
/// anything. A `config_reload` for another file is an older reload.
pub fn reload_verdict(line: &LogLine, hash: &str) -> Option<ReloadVerdict> {
    match line {
        LogLine::Note(text) => text
            .strip_prefix(LOAD_FAILED)
            .map(|why| ReloadVerdict::Failed(why.trim().to_owned())),
        LogLine::Event(e) => match &e.kind {
            EventKind::ConfigReload => {
                let loaded = e.extra.get("config_hash").and_then(|v| v.as_str());
                (loaded == Some(hash)).then_some(ReloadVerdict::Applied)
            }
            EventKind::Error if e.method.as_deref() == Some(RELOAD_METHOD) => {
                let why = e.error.clone().unwrap_or_else(|| "no reason given".into());
                Some(if is_watcher_failure(&why) {
                    ReloadVerdict::Failed(why)
                } else {
                    ReloadVerdict::Rejected(why)
                })
            }
            _ => None,
        },
    }
}

/// The errors pipelock's reloader returns when it cannot watch the config
/// directory at all (e.g. out of inotify instances): no change will be seen.
pub fn is_watcher_failure(error: &str) -> bool {
    error.starts_with("creating file watcher") || error.starts_with("watching directory")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::egress::log::parse_line;

    const HASH: &str = "4c3f1e46d47dfd7b1e6a316271df19795f3faa9422554865c9cea945b1d283d8";

    #[test]
    fn the_hash_is_sha256_hex_of_the_text() {
        assert_eq!(
            config_hash("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn a_reload_of_this_file_is_applied_and_of_another_is_ignored() {
        let line = |hash: &str| {
            parse_line(&format!(
                r#"{{"level":"info","component":"pipelock","event":"config_reload","status":"success","detail":"mode=strict","config_hash":"{hash}","time":"2026-12-03T09:37:04Z","message":"configuration reloaded"}}"#
            ))
        };
        assert_eq!(
            reload_verdict(&line(HASH), HASH),
            Some(ReloadVerdict::Applied)
        );
        assert_eq!(reload_verdict(&line("00"), HASH), None);
    }

    #[test]
    fn rejections_failures_and_watcher_errors_are_told_apart() {
        let rejected = parse_line(
            r#"{"level":"error","component":"pipelock","event":"error","method":"CONFIG_RELOAD","resource":"/config/pipelock.yaml","error":"rejected: security downgrade from strict mode","time":"2026-04-28T15:06:00Z","message":"request error"}"#,
        );
        assert_eq!(
            reload_verdict(&rejected, HASH),
            Some(ReloadVerdict::Rejected(
                "rejected: security downgrade from strict mode".into()
            ))
        );
        let watcher = parse_line(
            r#"{"level":"error","component":"pipelock","event":"error","method":"CONFIG_RELOAD","resource":"/config/pipelock.yaml","error":"creating file watcher: too many open files","time":"2026-04-28T15:06:00Z","message":"request error"}"#,
        );
        assert!(matches!(
            reload_verdict(&watcher, HASH),
            Some(ReloadVerdict::Failed(why)) if why.contains("too many open files")
        ));
        let stderr = parse_line("pipelock: config reload failed: parsing config: yaml: line 3");
        assert_eq!(
            reload_verdict(&stderr, HASH),
            Some(ReloadVerdict::Failed("parsing config: yaml: line 3".into()))
        );
        let other = parse_line(
            r#"{"level":"error","component":"pipelock","event":"error","method":"CONNECT","target":"x:443","error":"dial failed"}"#,
        );
        assert_eq!(reload_verdict(&other, HASH), None);
        assert_eq!(
            reload_verdict(&parse_line("WARNING: fetch_proxy.listen"), HASH),
            None
        );
    }
}
