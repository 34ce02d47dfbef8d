//! The holder: the process inside a bottle that owns claude's terminal, so
//! claude keeps running while nobody watches. claude-bottle copies this
//! binary into every agent container; it shares no code with the library, so
//! it stays small.
//!
//! `claude-bottle-hold serve -- claude …` (started detached by `docker exec
//! -d`) runs claude under a PTY of its own and listens on a unix socket inside
//! the bottle. `claude-bottle-hold attach` (what `docker exec -it` runs for a
//! dashboard tab, `start` and `attach`) connects to it and relays bytes both
//! ways: no terminal emulator sits between claude and the viewer, only copies.
//! The holder keeps the last few MiB of claude's output and replays them to
//! each viewer that attaches, so the viewer's own emulator rebuilds the screen
//! and the history. One viewer at a time types; a second one is refused, or
//! takes over when asked to.
//!
//! ```text
//! claude-bottle-hold [--socket PATH] serve [--size ROWSxCOLS] -- COMMAND [ARG...]
//! claude-bottle-hold [--socket PATH] attach [--who NAME] [--owner PID:START:HOST] [--take]
//!                                           [--detach-key ctrl-\|none]
//! claude-bottle-hold [--socket PATH] status
//! claude-bottle-hold [--socket PATH] leave    (once claude ended: a new holder may start)
//! ```

mod client;
mod protocol;
mod replay;
mod server;

use std::path::Path;
use std::process::ExitCode;

use client::{AttachOptions, Ended, attach};
use server::{ask_to_leave, query_status, serve};

/// Where the holder listens: a directory only the agent user can enter, in
/// the bottle (the socket is reachable from nowhere else).
const SOCKET_PATH: &str = "/tmp/claude-bottle-hold/socket";

/// The key that detaches `claude-bottle attach` (Ctrl-\, as dtach uses):
/// claude does not use it.
const DETACH_BYTE: u8 = 0x1c;

/// `attach`'s exit code when another viewer holds the session (the same
/// numbers in `docker::holder`).
const EXIT_HELD: i32 = 75;
/// `attach`'s exit code when another viewer took the session over.
const EXIT_TAKEN_OVER: i32 = 76;
/// `attach`'s exit code when the holder went away without a word.
const EXIT_LOST: i32 = 69;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(code) => ExitCode::from(u8::try_from(code.clamp(0, 255)).unwrap_or(1)),
        Err(e) => {
            eprintln!("claude-bottle-hold: {e:#}");
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> anyhow::Result<i32> {
    // `--socket PATH` first: another place to listen (tests on the host).
    let (socket, args) = match args {
        [flag, path, rest @ ..] if flag == "--socket" => (Path::new(path.as_str()), rest),
        _ => (Path::new(SOCKET_PATH), args),
    };
    match args.split_first() {
        Some((verb, rest)) if verb == "serve" => {
            let (size, rest) = match rest {
                [flag, size, rest @ ..] if flag == "--size" => (parse_size(size)?, rest),
                _ => ((24, 80), rest),
            };
            let command = match rest.split_first() {
                Some((dashes, command)) if dashes == "--" => command,
                _ => anyhow::bail!(
                    "usage: claude-bottle-hold serve [--size ROWSxCOLS] -- COMMAND [ARG...]"
                ),
            };
            serve(socket, command, size)
        }
        Some((verb, rest)) if verb == "attach" => {
            let options = attach_options(socket, rest)?;
            Ok(match attach(&options)? {
                Ended::Exited(code) => code,
                Ended::Detached => {
                    println!("\r\n[claude-bottle] detached; the agent keeps running.\r");
                    0
                }
                Ended::Held(who) => {
                    eprintln!(
                        "\r\n[claude-bottle] this session is held by {who}; \
                         take it over with `claude-bottle attach --take`.\r"
                    );
                    EXIT_HELD
                }
                Ended::TakenOver(who) => {
                    println!("\r\n[claude-bottle] taken over by {who}; the agent keeps running.\r");
                    EXIT_TAKEN_OVER
                }
                Ended::Lost => {
                    eprintln!("\r\n[claude-bottle] the session's holder went away.\r");
                    EXIT_LOST
                }
            })
        }
        Some((verb, _)) if verb == "leave" => {
            if ask_to_leave(socket) {
                Ok(0)
            } else {
                anyhow::bail!("claude still runs in this bottle; its holder stays")
            }
        }
        Some((verb, _)) if verb == "status" => {
            let status = query_status(socket);
            println!("{}", serde_json::to_string(&status)?);
            Ok(0)
        }
        Some((verb, _)) if verb == "--version" => {
            println!("claude-bottle-hold {}", env!("CARGO_PKG_VERSION"));
            Ok(0)
        }
        _ => anyhow::bail!("usage: claude-bottle-hold serve|attach|status|leave (see its source)"),
    }
}

/// `ROWSxCOLS`, both at least 1.
fn parse_size(text: &str) -> anyhow::Result<(u16, u16)> {
    let parsed = text
        .split_once('x')
        .and_then(|(r, c)| Some((r.parse::<u16>().ok()?, c.parse::<u16>().ok()?)))
        .filter(|(r, c)| *r > 0 && *c > 0);
    parsed.ok_or_else(|| anyhow::anyhow!("--size takes ROWSxCOLS (e.g. 50x200), not {text:?}"))
}

fn attach_options<'a>(socket: &'a Path, args: &[String]) -> anyhow::Result<AttachOptions<'a>> {
    let mut options = AttachOptions {
        socket,
        who: "a viewer".to_owned(),
        owner: String::new(),
        take_over: false,
        detach_byte: Some(DETACH_BYTE),
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--take" => options.take_over = true,
            "--who" => {
                let who = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--who needs a name"))?;
                options.who.clone_from(who);
            }
            "--owner" => {
                let owner = args
                    .next()
                    .ok_or_else(|| anyhow::anyhow!("--owner needs pid:start:host"))?;
                options.owner.clone_from(owner);
            }
            "--detach-key" => {
                options.detach_byte = match args.next().map(String::as_str) {
                    Some("none") => None,
                    Some("ctrl-\\") => Some(DETACH_BYTE),
                    other => anyhow::bail!("--detach-key takes ctrl-\\ or none, not {other:?}"),
                };
            }
            other => anyhow::bail!("unknown attach option {other:?}"),
        }
    }
    Ok(options)
}
