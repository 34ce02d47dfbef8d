//! Hot reload and signals, as pipelock 2.3.0 does them (`internal/config/reload.go`,
//! `internal/cli/runtime/server.go` Reload), checked by running it:
//!
//! - A write, create or rename of the config file's name in its directory
//!   reloads after 100 ms; SIGHUP reloads at once. The stand-in polls the
//!   file's inode, times and size (not only its bytes), so rewriting the same
//!   bytes counts as a change, as it does for fsnotify.
//! - The same bytes as the last *successful* reload, within 2 s of it, are
//!   skipped silently; otherwise even identical bytes reload and log again.
//! - Success logs `config_reload` (`status`, `detail` "mode=M", `config_hash`).
//! - A file that does not load prints `pipelock: config reload failed: ...`
//!   on stderr; no JSON line.
//! - Switching the forward proxy on is refused in any mode; in strict mode
//!   any weakening (reloadwarn.rs) refuses the whole reload after a
//!   `WARNING: config reload: F - M` line each. A refusal logs the `error`
//!   event (method CONFIG_RELOAD, resource = config path) twice: once inside
//!   Reload and once by its caller.
//! - SIGTERM and SIGINT log `shutdown` with reason "signal received".

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::config::{Config, DEFAULT_LISTEN};
use crate::events::{Val, emit};
use crate::state::Shared;

static HANGUP: AtomicBool = AtomicBool::new(false);
static TERMINATE: AtomicBool = AtomicBool::new(false);

const TICK: Duration = Duration::from_millis(25);
const DEBOUNCE: Duration = Duration::from_millis(100);
const SAME_HASH_WINDOW: Duration = Duration::from_secs(2);

extern "C" fn on_hangup(_: libc::c_int) {
    HANGUP.store(true, Ordering::SeqCst);
}

extern "C" fn on_terminate(_: libc::c_int) {
    TERMINATE.store(true, Ordering::SeqCst);
}

/// As PID 1 in a container, a signal without a handler is ignored: install them.
pub fn install_signal_handlers() {
    let hangup = on_hangup as extern "C" fn(libc::c_int) as libc::sighandler_t;
    let terminate = on_terminate as extern "C" fn(libc::c_int) as libc::sighandler_t;
    // SAFETY: the handlers only store to atomics, which is async-signal-safe.
    unsafe {
        libc::signal(libc::SIGHUP, hangup);
        libc::signal(libc::SIGTERM, terminate);
        libc::signal(libc::SIGINT, terminate);
    }
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What changes when the file is written, re-created or renamed over.
#[derive(Debug, PartialEq)]
struct Stamp(u64, u64, i64, i64, i64, i64, u64);

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    Some(Stamp(
        m.dev(),
        m.ino(),
        m.mtime(),
        m.mtime_nsec(),
        m.ctime(),
        m.ctime_nsec(),
        m.size(),
    ))
}

pub struct Watcher {
    path: Option<PathBuf>,
    stamp: Option<Stamp>,
    due: Option<Instant>,
    /// Hash and time of the last successful reload.
    last_success: Option<(String, Instant)>,
}

impl Watcher {
    pub fn new(path: Option<PathBuf>) -> Self {
        let stamp = path.as_deref().and_then(stamp);
        Self {
            path,
            stamp,
            due: None,
            last_success: None,
        }
    }

    /// Runs forever; exits the process on SIGTERM/SIGINT.
    pub fn run(mut self, shared: &Shared) {
        loop {
            std::thread::sleep(TICK);
            if TERMINATE.load(Ordering::SeqCst) {
                emit(
                    "info",
                    "shutdown",
                    &[("reason", Val::Str("signal received"))],
                    "pipelock stopping",
                );
                eprintln!("\nPipelock stopped.");
                std::process::exit(0);
            }
            let Some(path) = self.path.clone() else {
                continue;
            };
            let now = stamp(&path);
            if now.is_some() && now != self.stamp {
                self.due = Some(Instant::now() + DEBOUNCE);
            }
            if now.is_some() {
                self.stamp = now;
            }
            if HANGUP.swap(false, Ordering::SeqCst) {
                self.reload(&path, shared);
            }
            if self.due.is_some_and(|due| Instant::now() >= due) {
                self.due = None;
                self.reload(&path, shared);
            }
        }
    }

    fn reload(&mut self, path: &Path, shared: &Shared) {
        let (mut next, hash) = match Config::load(path) {
            Ok(loaded) => loaded,
            Err(e) => {
                eprintln!("pipelock: config reload failed: {e}");
                return;
            }
        };
        let resource = path.to_string_lossy();
        let current = shared.config();
        let (warnings, refusal) = match judge(&current, &next, &hash, self.last_success.as_ref()) {
            Verdict::Skip => return,
            Verdict::Refuse(refusal) => (Vec::new(), Some(refusal)),
            Verdict::Weakens(warnings, refusal) => (warnings, refusal),
        };
        if refusal != Some(FORWARD_ON) {
            let file_listen = next.listen.as_deref().unwrap_or(DEFAULT_LISTEN);
            for warning in crate::startup::listen_warnings(file_listen) {
                eprintln!("WARNING: fetch_proxy.listen: {warning}");
            }
        }
        for (field, message) in &warnings {
            eprintln!("WARNING: config reload: {field} - {message}");
        }
        if let Some(refusal) = refusal {
            reject(&resource, refusal);
            return;
        }
        next.listen.clone_from(&current.listen);
        let detail = format!("mode={}", next.mode);
        shared.replace_config(next);
        let fields = [
            ("status", Val::Str("success")),
            ("detail", Val::Str(&detail)),
            ("config_hash", Val::Str(&hash)),
        ];
        emit("info", "config_reload", &fields, "configuration reloaded");
        self.last_success = Some((hash, Instant::now()));
    }
}

const FORWARD_ON: &str = "rejected: forward proxy cannot be enabled via reload (requires restart)";
const DOWNGRADE: &str = "rejected: security downgrade from strict mode";

#[derive(Debug, PartialEq)]
enum Verdict {
    /// The same bytes as the last successful reload, less than 2 s ago.
    Skip,
    Refuse(&'static str),
    /// The weakenings to print; refused when the running mode is strict.
    Weakens(Vec<(&'static str, String)>, Option<&'static str>),
}

/// server.go Reload's decisions, in its order.
fn judge(
    current: &Config,
    next: &Config,
    hash: &str,
    last_success: Option<&(String, Instant)>,
) -> Verdict {
    if !current.forward_enabled && next.forward_enabled {
        return Verdict::Refuse(FORWARD_ON);
    }
    if last_success.is_some_and(|(h, at)| h == hash && at.elapsed() < SAME_HASH_WINDOW) {
        return Verdict::Skip;
    }
    let warnings = crate::reloadwarn::weakenings(current, next);
    let refuse = current.mode == "strict" && !warnings.is_empty();
    Verdict::Weakens(warnings, refuse.then_some(DOWNGRADE))
}

/// Logged twice by pipelock: inside Reload and again by the loop calling it.
fn reject(resource: &str, error: &str) {
    let fields = [
        ("method", Val::Str("CONFIG_RELOAD")),
        ("resource", Val::Str(resource)),
        ("error", Val::Str(error)),
    ];
    for _ in 0..2 {
        emit("error", "error", &fields, "request error");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_rewrite_of_the_same_bytes_changes_the_stamp() {
        let dir = std::env::temp_dir().join(format!("standin-stamp-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("pl.yaml");
        std::fs::write(&file, "mode: audit\n").unwrap();
        let before = stamp(&file).unwrap();
        let next = dir.join("next.yaml");
        std::fs::write(&next, "mode: audit\n").unwrap();
        std::fs::rename(&next, &file).unwrap();
        assert_ne!(stamp(&file).unwrap(), before);
        std::fs::remove_dir_all(&dir).unwrap();
        assert_eq!(stamp(&file), None);
    }

    fn config(extra: &str) -> Config {
        Config::parse(&format!(
            "mode: strict\napi_allowlist:\n  - \"a.test\"\nforward_proxy:\n  enabled: true\n{extra}"
        ))
        .unwrap()
    }

    #[test]
    fn reloads_are_judged_like_pipelock() {
        let strict = config("");
        let more_hosts = config("");
        let ok = judge(&strict, &more_hosts, "h", None);
        assert_eq!(ok, Verdict::Weakens(Vec::new(), None));
        let recent = ("h".to_string(), Instant::now());
        assert_eq!(
            judge(&strict, &more_hosts, "h", Some(&recent)),
            Verdict::Skip
        );
        assert_eq!(judge(&strict, &more_hosts, "g", Some(&recent)), ok);
        let old = ("h".to_string(), Instant::now() - Duration::from_secs(3));
        assert_eq!(judge(&strict, &more_hosts, "h", Some(&old)), ok);

        let trusted = config("trusted_domains:\n  - \"x.lan\"\n");
        let Verdict::Weakens(w, refusal) = judge(&strict, &trusted, "t", None) else {
            panic!()
        };
        assert_eq!((w.len(), refusal), (1, Some(DOWNGRADE)));

        let mut balanced = strict.clone();
        balanced.mode = "balanced".into();
        let Verdict::Weakens(w, refusal) = judge(&balanced, &trusted, "t", None) else {
            panic!()
        };
        assert_eq!((w.len(), refusal), (1, None));

        let mut off = strict.clone();
        off.forward_enabled = false;
        assert_eq!(
            judge(&off, &strict, "h", Some(&recent)),
            Verdict::Refuse(FORWARD_ON)
        );
    }

    #[test]
    fn hashes_are_hex_sha256() {
        assert_eq!(
            sha256_hex(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
