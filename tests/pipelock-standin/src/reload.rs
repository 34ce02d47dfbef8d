//! Hot reload and signals. The config file is polled every 200 ms (contents,
//! so an atomic replace or `docker cp` is seen) and re-read on SIGHUP; SIGTERM
//! and SIGINT end the process after a `shutdown` line.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};

use crate::config::Config;
use crate::events::{Val, emit};
use crate::state::Shared;

static HANGUP: AtomicBool = AtomicBool::new(false);
static TERMINATE: AtomicBool = AtomicBool::new(false);

const TICK: Duration = Duration::from_millis(50);
const POLL_EVERY_TICKS: u32 = 4;
/// pipelock skips a reload of the same bytes within 2 s of the last one.
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

pub struct Watcher {
    pub path: Option<PathBuf>,
    /// Hash of the bytes last seen, applied or not.
    pub seen_hash: String,
    last_reload: Instant,
}

impl Watcher {
    pub fn new(path: Option<PathBuf>, seen_hash: String) -> Self {
        Self {
            path,
            seen_hash,
            last_reload: Instant::now(),
        }
    }

    /// Runs forever; exits the process on SIGTERM/SIGINT.
    pub fn run(mut self, shared: &Shared) {
        let mut tick = 0u32;
        loop {
            std::thread::sleep(TICK);
            tick = tick.wrapping_add(1);
            if TERMINATE.load(Ordering::SeqCst) {
                emit(
                    "info",
                    "shutdown",
                    &[("reason", Val::Str("signal: terminated"))],
                    "pipelock stopping",
                );
                std::process::exit(0);
            }
            let forced = HANGUP.swap(false, Ordering::SeqCst);
            if forced || tick.is_multiple_of(POLL_EVERY_TICKS) {
                self.check(forced, shared);
            }
        }
    }

    fn check(&mut self, forced: bool, shared: &Shared) {
        let Some(path) = self.path.clone() else {
            return;
        };
        let bytes = match std::fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) => {
                if forced {
                    eprintln!("pipelock: config reload failed: {e}");
                }
                return;
            }
        };
        let hash = sha256_hex(&bytes);
        let same = hash == self.seen_hash;
        if same && !(forced && self.last_reload.elapsed() >= SAME_HASH_WINDOW) {
            return;
        }
        self.seen_hash.clone_from(&hash);
        self.last_reload = Instant::now();
        let text = String::from_utf8_lossy(&bytes);
        let mut next = match Config::parse(&text) {
            Ok(config) => config,
            Err(e) => {
                eprintln!("pipelock: config reload failed: {e}");
                return;
            }
        };
        let current = shared.config();
        if current.mode == "strict" && next.mode != "strict" {
            let resource = path.to_string_lossy();
            let fields = [
                ("method", Val::Str("CONFIG_RELOAD")),
                ("resource", Val::Str(&resource)),
                (
                    "error",
                    Val::Str("rejected: security downgrade from strict mode"),
                ),
            ];
            emit("error", "error", &fields, "request error");
            return;
        }
        next.forward_enabled = shared.forward_enabled;
        next.listen.clone_from(&current.listen);
        let detail = format!("mode={}", next.mode);
        shared.replace_config(next);
        let fields = [
            ("status", Val::Str("success")),
            ("detail", Val::Str(&detail)),
            ("config_hash", Val::Str(&hash)),
        ];
        emit("info", "config_reload", &fields, "configuration reloaded");
    }
}
