//! A stand-in for the pipelock egress sidecar, for tests where real pipelock
//! cannot be built or pulled (CI). Behaviour was compared with pipelock 2.3.0
//! run side by side on the same configs and requests.
//!
//! Does as pipelock does:
//! - argv `pipelock run --listen ADDR --config FILE [--mode M]`, `healthcheck`,
//!   `GET /health`; CONNECT tunnels and absolute-URI HTTP forwarding, both
//!   refused with 405 unless `forward_proxy.enabled`.
//! - The allowlist in strict mode, then the SSRF checks (ssrf.rs): internal
//!   addresses refused unless `trusted_domains` (names) or `ssrf.ip_allowlist`
//!   (CIDRs) say otherwise, `internal` honoured, the dial-time check.
//! - Config parsing as strict as pipelock's: unknown keys, repeated keys and
//!   wrong scalar types are fatal, worded as yaml.v3 words them; pipelock's
//!   validation messages for mode, allowlist, CIDRs and trusted domains.
//! - Reloads (reload.rs): file change or SIGHUP, the 2 s same-hash skip,
//!   `config_reload`, strict-mode refusals, `config reload failed` on stderr.
//! - JSON lines on stdout in zerolog's shape: startup (with the STARTUP
//!   anomaly on a non-loopback listen address), tunnel_open/close,
//!   forward_http, blocked, error, config_reload, shutdown.
//! - TLS interception (tls.rs, intercept.rs): the configured CA (SEC 1 key),
//!   a leaf per host, passthrough domains relayed unopened, the
//!   `tls_intercept` anomaly per opened tunnel, `tls_handshake_error` for a
//!   client that is not TLS or does not trust the CA; the real server reached
//!   over TLS verified against the image's roots; compressed replies refused.
//! - DLP (dlp.rs) on inspected requests and plain-HTTP forwarding: seven of
//!   pipelock's built-in patterns (names and expressions as pipelock's) and
//!   the `secrets_file` values, reported as pipelock reports them (`core_dlp`
//!   and `dlp` in URLs, `header_dlp`, `body_dlp`).
//! - Tunnel timing (proxy.rs `relay`): a per-direction idle limit that
//!   half-closes towards the other side, and the tunnel's deadline.
//!
//! Does not: pipelock's other 41 DLP patterns and its decoding of encoded
//! secrets, entropy, rate limits, blocklists, SNI verification, the 5 s wait
//! for a client's first bytes, response (prompt-injection) scanning, media
//! policy, redirects followed by the proxy, HTTP/2 to the client, more than
//! one request per inspected tunnel, detect-only (`enforce: false`), /stats,
//! /metrics, /fetch. Settings for those are accepted only where claude-bottle
//! renders them (they change nothing here); `enforce: false`, a non-empty
//! blocklist and any other real pipelock setting the stand-in lacks stop it
//! at start-up, so no test can pass against it by a setting it ignores.

mod allowlist;
mod cidr;
mod config;
mod dlp;
mod events;
mod http;
mod intercept;
mod proxy;
mod reload;
mod reloadwarn;
mod schema;
mod ssrf;
mod startup;
mod state;
mod tls;
mod yaml;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

use config::{Config, DEFAULT_LISTEN};
use state::{Shared, VERSION};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("run") => run(&args[1..]),
        Some("healthcheck") => healthcheck(&args[1..]),
        Some("version" | "--version") => {
            println!("pipelock {VERSION}");
            Ok(())
        }
        _ => Err("pipelock: usage: pipelock run [--listen ADDR] [--config FILE] [--mode MODE] | healthcheck [--addr ADDR]".to_string()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{e}");
            ExitCode::FAILURE
        }
    }
}

/// `--name value`, `--name=value` or `-n value`.
fn flag(args: &[String], long: &str, short: &str) -> Result<Option<String>, String> {
    let mut iter = args.iter();
    let mut found = None;
    while let Some(arg) = iter.next() {
        if let Some(value) = arg
            .strip_prefix(long)
            .and_then(|rest| rest.strip_prefix('='))
        {
            found = Some(value.to_string());
        } else if arg == long || arg == short {
            found = Some(iter.next().ok_or(format!("{long} needs a value"))?.clone());
        }
    }
    Ok(found)
}

fn run(args: &[String]) -> Result<(), String> {
    let config_path = flag(args, "--config", "-c")?.map(PathBuf::from);
    let (mut config, config_hash) = match &config_path {
        // pipelock prints `loading config: ...` and exits 1.
        Some(path) => Config::load(path).map_err(|e| format!("loading config: {e}"))?,
        None => (Config::default(), String::new()),
    };
    if let Some(mode) = flag(args, "--mode", "-m")? {
        config.mode = mode;
        config
            .validate()
            .map_err(|e| format!("pipelock: invalid config: {e}"))?;
    }
    let listen = flag(args, "--listen", "-l")?
        .or_else(|| config.listen.clone())
        .unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let shown_path = config_path.as_ref().map(|p| p.display().to_string());
    startup::print_banner(
        &config.mode,
        &listen,
        config.forward_enabled,
        shown_path.as_deref(),
    );
    let listener =
        TcpListener::bind(&listen).map_err(|e| format!("pipelock: listening on {listen}: {e}"))?;
    reload::install_signal_handlers();
    startup::log_started(&listen, &config.mode, VERSION, &config_hash);

    let shared = Arc::new(Shared::start(config).map_err(|e| format!("pipelock: {e}"))?);
    let watcher = reload::Watcher::new(config_path);
    let for_watcher = Arc::clone(&shared);
    std::thread::spawn(move || watcher.run(&for_watcher));
    proxy::serve(&listener, &shared);
    Ok(())
}

/// Exit 0 when `GET /health` answers 200, like `pipelock healthcheck`.
fn healthcheck(args: &[String]) -> Result<(), String> {
    let addr = flag(args, "--addr", "-a")?.unwrap_or_else(|| DEFAULT_LISTEN.to_string());
    let mut stream = TcpStream::connect(&addr).map_err(|e| format!("pipelock: {addr}: {e}"))?;
    let _ = stream.set_read_timeout(Some(Duration::from_secs(3)));
    stream
        .write_all(b"GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n")
        .map_err(|e| format!("pipelock: {e}"))?;
    let mut response = String::new();
    let _ = stream.read_to_string(&mut response);
    if http::status_code(&response) == Some(200) {
        Ok(())
    } else {
        Err(format!(
            "pipelock: unhealthy: {}",
            response.lines().next().unwrap_or("no answer")
        ))
    }
}
