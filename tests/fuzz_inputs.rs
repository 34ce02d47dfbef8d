//! Fuzzing the two parsers that read text claude-bottle does not control: the manifest
//! loader and the pipelock log line parser.
//!
//! Inputs are deterministic: input `i` of a target is built from `(seed, i)` alone, so a
//! failure is reproduced with `CLAUDE_BOTTLE_FUZZ_ONLY=i`. Half structure-aware generation
//! (real key names, wrong types, deep nesting, odd unicode, edge numbers), half byte-level
//! mutation of the seed corpus in `tests/fuzz-corpus/`.
//!
//! - `CLAUDE_BOTTLE_FUZZ_CASES` (default 20000): inputs per target.
//! - `CLAUDE_BOTTLE_FUZZ_SEED` (default fixed): another stream of inputs.
//! - `CLAUDE_BOTTLE_FUZZ_ONLY`: run one input and print it.
//!
//! Every input must finish without a panic and within `PER_INPUT_LIMIT`; a watchdog fails
//! the run when no input completes for `STALL_LIMIT`. `scripts/fuzz.sh` runs 10^6 per target.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use claude_bottle::random::Seeded;
use std::fmt::Write as _;
use std::fs;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use claude_bottle::egress::log::{LogLine, format_human, host_of, parse_line};
use claude_bottle::manifest::json::{self, Node, Value};
use claude_bottle::manifest::keys::{
    AGENT_KEYS, BOTTLE_KEYS, EGRESS_KEYS, RESOURCES_KEYS, SSH_KEYS, TOP_KEYS,
};
use claude_bottle::manifest::{Entry, EnvSource, ManifestErrors, fields, load::load_bytes};

const DEFAULT_CASES: u64 = 20_000;
const DEFAULT_SEED: u64 = 0x00C1_A0DE_B077_1E55;
/// No single input may take longer than this (debug builds included).
const PER_INPUT_LIMIT: Duration = Duration::from_secs(5);
/// The run fails when no input finishes for this long: a hang.
const STALL_LIMIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------
// Randomness: the library's repeatable sequence, seeded per input.

struct Rng(Seeded);

impl Rng {
    fn for_input(seed: u64, target: u64, index: u64) -> Self {
        let mut first = Seeded::new(seed ^ target.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut r = Rng(Seeded::new(first.next_u64().wrapping_add(index)));
        r.next();
        r
    }

    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }

    /// `0..n`; `n` must not be 0.
    fn below(&mut self, n: usize) -> usize {
        usize::try_from(self.next() % n as u64).unwrap()
    }

    /// True with probability `1/n`.
    fn one_in(&mut self, n: usize) -> bool {
        self.below(n) == 0
    }

    fn pick<'a, T: ?Sized>(&mut self, items: &[&'a T]) -> &'a T {
        items[self.below(items.len())]
    }
}

// ---------------------------------------------------------------------------------------
// The runner: a worker thread, a watchdog, per-input timing.

fn env_u64(name: &str) -> Option<u64> {
    std::env::var(name).ok().map(|v| {
        v.trim()
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a number"))
    })
}

struct Report {
    cases: u64,
    elapsed: Duration,
    slowest: Duration,
    slowest_index: u64,
}

/// Runs `check(index)` for every input in a worker thread; `Err` or a panic fails the run
/// with the input's index and the message.
fn run_target(
    name: &str,
    check: impl Fn(u64) -> Result<(), String> + Send + Sync + 'static,
) -> Report {
    let cases = env_u64("CLAUDE_BOTTLE_FUZZ_CASES").unwrap_or(DEFAULT_CASES);
    let only = env_u64("CLAUDE_BOTTLE_FUZZ_ONLY");
    let range = match only {
        Some(i) => i..i + 1,
        None => 0..cases,
    };
    let done = Arc::new(AtomicU64::new(0));
    let finished = Arc::new(AtomicBool::new(false));
    let current = Arc::new(AtomicU64::new(0));
    let worker = {
        let (done, finished, current) = (done.clone(), finished.clone(), current.clone());
        std::thread::Builder::new()
            .name(format!("fuzz-{name}"))
            .spawn(move || {
                let start = Instant::now();
                let mut slowest = (Duration::ZERO, 0);
                let mut failure = None;
                for i in range {
                    current.store(i, Ordering::Relaxed);
                    let t = Instant::now();
                    let outcome = catch_unwind(AssertUnwindSafe(|| check(i)));
                    let took = t.elapsed();
                    if took > slowest.0 {
                        slowest = (took, i);
                    }
                    let problem = match outcome {
                        Ok(Ok(())) if took <= PER_INPUT_LIMIT => None,
                        Ok(Ok(())) => Some(format!("took {took:?}, over {PER_INPUT_LIMIT:?}")),
                        Ok(Err(e)) => Some(e),
                        Err(panic) => Some(format!("panicked: {}", panic_text(&*panic))),
                    };
                    if let Some(p) = problem {
                        failure = Some(format!("input {i}: {p}"));
                        break;
                    }
                    done.fetch_add(1, Ordering::Relaxed);
                }
                finished.store(true, Ordering::Relaxed);
                (start.elapsed(), slowest, failure)
            })
            .unwrap()
    };
    let mut last = (0, Instant::now());
    while !finished.load(Ordering::Relaxed) {
        std::thread::sleep(Duration::from_millis(50));
        let n = done.load(Ordering::Relaxed);
        if n != last.0 {
            last = (n, Instant::now());
        } else if last.1.elapsed() > STALL_LIMIT {
            panic!(
                "{name}: input {} has run for over {STALL_LIMIT:?} (a hang); reproduce with CLAUDE_BOTTLE_FUZZ_ONLY={}",
                current.load(Ordering::Relaxed),
                current.load(Ordering::Relaxed)
            );
        }
    }
    let (elapsed, slowest, failure) = worker.join().unwrap();
    if let Some(f) = failure {
        panic!("{name}: {f}");
    }
    let n = done.load(Ordering::Relaxed);
    #[allow(clippy::cast_precision_loss)] // a rate for people
    let rate = n as f64 / elapsed.as_secs_f64().max(1e-9);
    println!(
        "fuzz {name}: {n} inputs in {:.2} s, {rate:.0} inputs/s, slowest {:?} (input {})",
        elapsed.as_secs_f64(),
        slowest.0,
        slowest.1
    );
    Report {
        cases: n,
        elapsed,
        slowest: slowest.0,
        slowest_index: slowest.1,
    }
}

fn panic_text(panic: &(dyn std::any::Any + Send)) -> String {
    panic
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_string()))
        .unwrap_or_else(|| "(no message)".to_string())
}

/// The input as a Rust literal, cut to a readable length.
fn shown(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let mut out = format!("{text:?}");
    if out.len() > 3000 {
        let mut cut = 3000;
        while !out.is_char_boundary(cut) {
            cut -= 1;
        }
        out.truncate(cut);
        let _ = write!(out, "... ({} bytes in all)", bytes.len());
    }
    out
}

// ---------------------------------------------------------------------------------------
// Building blocks shared by both generators.

/// Characters that break naive handling: bidi controls, zero-width, combining marks,
/// emoji, NUL and other controls, line separators, a BOM, wide and astral characters.
const ODD_CHARS: &[&str] = &[
    "\u{200f}",
    "\u{202e}",
    "\u{2066}",
    "\u{2069}",
    "\u{061c}",
    "\u{200b}",
    "\u{200d}",
    "\u{feff}",
    "\u{0301}",
    "\u{0308}\u{0308}",
    "😀",
    "👩‍💻",
    "🇫🇷",
    "\0",
    "\u{1}",
    "\u{1b}[31m",
    "\u{7f}",
    "\u{85}",
    "\u{2028}",
    "\u{2029}",
    "\t",
    "\n",
    "\r",
    "\r\n",
    " ",
    "\u{a0}",
    "\u{3000}",
    "é",
    "ß",
    "İ",
    "ﬃ",
    "Ω",
    "日本",
    "\u{10ffff}",
    "\u{fffd}",
    "\u{e000}",
    "\\",
    "\"",
    "'",
    "$",
    "${",
    "}",
    "?",
    "??",
    "*",
    ".",
    "-",
    "_",
    ":",
    "/",
    "@",
    "[",
    "]",
    "%00",
    "~",
];

const ASCII: &[u8] = b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.";

fn odd_string(r: &mut Rng) -> String {
    let mut s = String::new();
    let parts = match r.below(10) {
        0 => 0,
        1..=6 => 1 + r.below(6),
        7 | 8 => 1 + r.below(30),
        _ => 1 + r.below(400),
    };
    for _ in 0..parts {
        if r.one_in(3) {
            s.push_str(r.pick(ODD_CHARS));
        } else {
            for _ in 0..=r.below(8) {
                s.push(char::from(ASCII[r.below(ASCII.len())]));
            }
        }
    }
    if r.one_in(2000) {
        let unit = if s.is_empty() { "a".to_string() } else { s };
        s = unit.repeat(1 + r.below(200_000 / unit.len().max(1)));
    }
    s
}

const EDGE_NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "2",
    "22",
    "0.5",
    "1.0",
    "1e3",
    "1E+2",
    "-1e-400",
    "1e308",
    "1e309",
    "-1e309",
    "65535",
    "65536",
    "2147483647",
    "4294967296",
    "6291455",
    "6291456",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "123456789012345678901234567890",
    "0.0000000000000000000000001",
    "4.9e-324",
];

/// A JSON string literal; sometimes non-ASCII is written as `\u` escapes (surrogate
/// pairs included), sometimes control characters are left raw (invalid JSON).
fn json_string(r: &mut Rng, s: &str) -> String {
    let escape_all = r.one_in(4);
    let raw_controls = r.one_in(50);
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 && raw_controls => out.push(c),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if escape_all && !c.is_ascii() => {
                let mut units = [0u16; 2];
                for u in c.encode_utf16(&mut units) {
                    let _ = write!(out, "\\u{u:04X}");
                }
            }
            c => out.push(c),
        }
    }
    if r.one_in(100) {
        out.push_str(r.pick(&["\\ud800", "\\udc00", "\\ud83d\\u0041", "\\x", "\\u12"]));
    }
    out.push('"');
    out
}

/// A generated JSON value, written out with random layout.
enum Gen {
    /// Already JSON text (a number, a literal, a string).
    Raw(String),
    List(Vec<Gen>),
    Obj(Vec<(String, Gen)>),
}

fn s(r: &mut Rng, text: &str) -> Gen {
    Gen::Raw(json_string(r, text))
}

fn write_gen(r: &mut Rng, g: &Gen, depth: usize, crlf: bool, out: &mut String) {
    let nl = if crlf { "\r\n" } else { "\n" };
    let pretty = depth < 4 && !r.one_in(4);
    let ws = |r: &mut Rng, out: &mut String| {
        if pretty {
            out.push_str(nl);
            for _ in 0..=depth {
                out.push_str(if r.one_in(10) { "\t" } else { "  " });
            }
        } else if r.one_in(3) {
            out.push(' ');
        }
    };
    match g {
        Gen::Raw(t) => out.push_str(t),
        Gen::List(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(r, out);
                write_gen(r, item, depth + 1, crlf, out);
            }
            out.push(']');
        }
        Gen::Obj(members) => {
            out.push('{');
            for (i, (k, v)) in members.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                ws(r, out);
                out.push_str(&json_string(r, k));
                out.push_str(if pretty { ": " } else { ":" });
                write_gen(r, v, depth + 1, crlf, out);
            }
            if pretty && !members.is_empty() {
                out.push_str(nl);
            }
            out.push('}');
        }
    }
}

/// Any value at all, sometimes nested past the parser's limit.
fn any_value(r: &mut Rng, depth: usize) -> Gen {
    if r.one_in(300) {
        let levels = 100 + r.below(60);
        let (open, close) = if r.one_in(2) {
            ("[", "]")
        } else {
            ("{\"a\":", "}")
        };
        return Gen::Raw(format!("{}1{}", open.repeat(levels), close.repeat(levels)));
    }
    match r.below(if depth > 3 { 5 } else { 8 }) {
        0 => Gen::Raw(r.pick(&["null", "true", "false"]).to_string()),
        1 | 2 => Gen::Raw(r.pick(EDGE_NUMBERS).to_string()),
        3 | 4 => {
            let t = odd_string(r);
            s(r, &t)
        }
        5 => Gen::List((0..r.below(4)).map(|_| any_value(r, depth + 1)).collect()),
        _ => Gen::Obj(
            (0..r.below(4))
                .map(|_| (odd_string(r), any_value(r, depth + 1)))
                .collect(),
        ),
    }
}

/// Mutates bytes in place: bit flips, inserted tokens, deletions, duplications, splices.
fn mutate(r: &mut Rng, bytes: &mut Vec<u8>, donors: &[Vec<u8>]) {
    const TOKENS: &[&[u8]] = &[
        b"{",
        b"}",
        b"[",
        b"]",
        b"\"",
        b",",
        b":",
        b"\\",
        b"\\u",
        b"\\ud800",
        b"\xff",
        b"\xc3",
        b"\xe2\x80\xae",
        b"\xef\xbb\xbf",
        b"\r\n",
        b"\r",
        b"\0",
        b"null",
        b"-",
        b"1e999",
        b"//",
        b"\"bottles\"",
        b"\"agents\"",
        b"\"ssh\"",
        b"\"env\"",
        b"[[[[[[[[",
        b"{\"a\":",
    ];
    for _ in 0..=r.below(6) {
        let len = bytes.len();
        match r.below(8) {
            0 if len > 0 => {
                let i = r.below(len);
                bytes[i] ^= 1 << r.below(8);
            }
            1 => {
                let i = r.below(len + 1);
                let b = u8::try_from(r.below(256)).unwrap();
                bytes.insert(i, b);
            }
            2 | 3 => {
                let i = r.below(len + 1);
                let t = TOKENS[r.below(TOKENS.len())];
                bytes.splice(i..i, t.iter().copied());
            }
            4 if len > 0 => {
                let i = r.below(len);
                let n = 1 + r.below((len - i).min(64));
                bytes.drain(i..i + n);
            }
            5 if len > 0 => {
                let i = r.below(len);
                let n = 1 + r.below((len - i).min(256));
                let chunk = bytes[i..i + n].to_vec();
                let at = r.below(len + 1);
                bytes.splice(at..at, chunk);
            }
            6 if !donors.is_empty() => {
                let d = &donors[r.below(donors.len())];
                if !d.is_empty() {
                    let i = r.below(d.len());
                    let n = 1 + r.below((d.len() - i).min(512));
                    let at = r.below(len + 1);
                    bytes.splice(at..at, d[i..i + n].iter().copied());
                }
            }
            7 if len > 0 => bytes.truncate(r.below(len)),
            _ => {}
        }
    }
}

fn corpus(kind: &str, ext: &str) -> Vec<Vec<u8>> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fuzz-corpus")
        .join(kind);
    let mut files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    files.sort();
    assert!(!files.is_empty(), "no corpus in {}", dir.display());
    files.iter().map(|f| fs::read(f).unwrap()).collect()
}

// ---------------------------------------------------------------------------------------
// Manifest inputs.

/// A real ed25519 public key.
const ED25519: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIFt5NmYWJAkKdKD/BslmhuYtKK8ir0DMLTGv2cdHR93k";
/// A real (short, test-only) ssh-rsa key blob prefix: decodes to type `ssh-rsa`.
const RSA_PREFIX: &str = "AAAAB3NzaC1yc2EAAAADAQABAAAAgQ";

const NAMES: &[&str] = &[
    "dev",
    "gitea-dev",
    "a",
    "a1_.x",
    "coder",
    "Dev",
    "DEV",
    "dev box",
    "-dev",
    ".dev",
    "dev\u{202e}ved",
    "d\u{200b}ev",
    "de\u{0301}v",
    "dév",
    "😀",
    "",
    "\0",
    "dev\n",
    "0123456789012345678901234567890123456789",
    "01234567890123456789012345678901234567890",
    "İ",
    "a.b",
    "a\"b",
    "a\\b",
    "$schema",
    "__proto__",
    "constructor",
];

const ENV_NAMES: &[&str] = &[
    "NODE_ENV",
    "GITHUB_TOKEN",
    "_x",
    "X1",
    "1X",
    "A-B",
    "ÄPFEL",
    "名前",
    "",
    "A B",
    "A\0B",
    "CLAUDE_CODE_OAUTH_TOKEN",
    "HTTPS_PROXY",
    "no_proxy",
    "PATH",
    "A\u{200b}",
];

const ENV_VALUES: &[&str] = &[
    "development",
    "${GITHUB_TOKEN}",
    "Bearer ${TOKEN}",
    "?npm token",
    "??literal",
    "$${HOME}",
    "${",
    "${}",
    "${1X}",
    "${A-B}",
    "${ÄB}",
    "a$b$",
    "?",
    "??",
    "",
    "line1\nline2",
    "nul\0inside",
    "\0",
    "${A}${B}",
    "$$${A}",
    "?${A}",
    "??${A}",
    "\u{202e}rtl",
];

const HOSTS: &[&str] = &[
    "github.com",
    "GitHub.com.",
    "*.githubusercontent.com",
    "*.com",
    "*",
    "**.x.com",
    "*x.com",
    "a.*.com",
    "x.*",
    "*.",
    "host:443",
    "[::1]:443",
    "::1",
    "2001:db8::1",
    "10.0.0.5",
    "300.1.1.1",
    "1.2.3",
    "https://x.com/path",
    "x.com/path",
    "",
    " x.com",
    "x.com ",
    "x..com",
    ".x.com",
    "x.com..",
    "-x.com",
    "x-.com",
    "under_score.com",
    "xn--bcher-kva.example",
    "bücher.example",
    "x\u{200b}.com",
    "x\0.com",
    "localhost",
];

fn key_line(r: &mut Rng, hostname: &str, port: Option<&str>) -> String {
    let host_field = match port {
        Some(p) if p != "22" && !r.one_in(4) => format!("[{hostname}]:{p}"),
        _ if r.one_in(6) => odd_string(r),
        _ => hostname.to_string(),
    };
    let key_type = if r.one_in(5) {
        r.pick(&[
            "ssh-rsa",
            "ssh-ed2519",
            "ecdsa-sha2-nistp256",
            "SSH-ED25519",
            "",
        ])
    } else {
        "ssh-ed25519"
    };
    let blob = match r.below(8) {
        0 => "AAAA$$$$".to_string(),
        1 => format!("{ED25519}="),
        2 => ED25519[..ED25519.len() - 1].to_string(),
        3 => RSA_PREFIX.to_string(),
        4 => "AAAA".to_string(),
        5 => "/////w==".to_string(),
        _ => ED25519.to_string(),
    };
    let sep = if r.one_in(6) {
        r.pick(&["  ", "\t", " \u{a0}", ""])
    } else {
        " "
    };
    let mut line = format!("{host_field}{sep}{key_type}{sep}{blob}");
    if r.one_in(8) {
        line = format!(
            "{}{line}{}",
            r.pick(&[" ", "", "|1|"]),
            r.pick(&[" ", "\n", " comment"])
        );
    }
    line
}

/// A manifest built from the real key names, right values mostly, wrong ones often.
fn gen_manifest(r: &mut Rng, fixtures: &Fixtures) -> Gen {
    let mut top = Vec::new();
    let mut bottle_names: Vec<String> = Vec::new();
    for key in TOP_KEYS {
        if r.one_in(5) {
            continue;
        }
        let value = match *key {
            "bottles" if !r.one_in(15) => {
                let mut bottles = Vec::new();
                for _ in 0..r.below(4) {
                    let name = if r.one_in(5) {
                        odd_string(r)
                    } else {
                        r.pick(NAMES).to_string()
                    };
                    bottle_names.push(name.clone());
                    bottles.push((name, gen_bottle(r, fixtures)));
                }
                Gen::Obj(bottles)
            }
            "agents" if !r.one_in(15) => {
                let mut agents = Vec::new();
                for _ in 0..r.below(4) {
                    let name = r.pick(NAMES).to_string();
                    agents.push((name, gen_agent(r, &bottle_names)));
                }
                Gen::Obj(agents)
            }
            "$schema" if !r.one_in(5) => s(r, "./assets/claude-bottle.schema.json"),
            _ => any_value(r, 1),
        };
        top.push(((*key).to_string(), value));
    }
    if r.one_in(8) {
        top.push((odd_string(r), any_value(r, 1)));
    }
    if r.one_in(4) {
        let n = top.len();
        let a = r.below(n + 1);
        top.rotate_left(a.min(n));
    }
    if r.one_in(30) {
        return any_value(r, 0);
    }
    Gen::Obj(top)
}

fn maybe_wrong(r: &mut Rng, right: impl FnOnce(&mut Rng) -> Gen) -> Gen {
    if r.one_in(8) {
        any_value(r, 2)
    } else {
        right(r)
    }
}

fn some_keys(r: &mut Rng, keys: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = keys
        .iter()
        .filter(|_| !r.one_in(3))
        .map(|k| (*k).to_string())
        .collect();
    if r.one_in(10) {
        let k = keys[r.below(keys.len())];
        // A misspelling, another case, or a stranger.
        out.push(match r.below(3) {
            0 => k.to_lowercase(),
            1 => format!("{k}s"),
            _ => odd_string(r),
        });
    }
    out
}

fn gen_bottle(r: &mut Rng, fx: &Fixtures) -> Gen {
    maybe_wrong(r, |r| {
        let mut fields = Vec::new();
        for key in some_keys(r, BOTTLE_KEYS) {
            let v = match key.as_str() {
                "runtime" => maybe_wrong(r, |r| {
                    let v = r.pick(&["runc", "runsc", "gvisor", "RUNC", "", "runcs"]);
                    s(r, v)
                }),
                "env" => maybe_wrong(r, |r| {
                    Gen::Obj(
                        (0..r.below(5))
                            .map(|_| {
                                let name = r.pick(ENV_NAMES).to_string();
                                let value = maybe_wrong(r, |r| {
                                    let v = if r.one_in(4) {
                                        odd_string(r)
                                    } else {
                                        r.pick(ENV_VALUES).to_string()
                                    };
                                    s(r, &v)
                                });
                                (name, value)
                            })
                            .collect(),
                    )
                }),
                "ssh" => maybe_wrong(r, |r| {
                    Gen::List((0..r.below(3)).map(|_| gen_ssh(r, fx)).collect())
                }),
                "egress" => maybe_wrong(r, |r| {
                    let keys = some_keys(r, EGRESS_KEYS);
                    Gen::Obj(
                        keys.into_iter()
                            .map(|k| {
                                let list = maybe_wrong(r, |r| {
                                    Gen::List(
                                        (0..r.below(6))
                                            .map(|_| {
                                                maybe_wrong(r, |r| {
                                                    let h = if r.one_in(5) {
                                                        odd_string(r)
                                                    } else {
                                                        r.pick(HOSTS).to_string()
                                                    };
                                                    s(r, &h)
                                                })
                                            })
                                            .collect(),
                                    )
                                });
                                (k, list)
                            })
                            .collect(),
                    )
                }),
                "resources" => maybe_wrong(r, |r| {
                    let keys = some_keys(r, RESOURCES_KEYS);
                    Gen::Obj(
                        keys.into_iter()
                            .map(|k| {
                                let v = if k == "memory" && r.one_in(2) {
                                    let m = r.pick(&[
                                        "512m",
                                        "4g",
                                        "2G",
                                        "6m",
                                        "5m",
                                        "1.5g",
                                        "lots",
                                        "",
                                        " 1g ",
                                        "99999999999999t",
                                        "1gb",
                                        "1024k",
                                        "-1m",
                                        "0",
                                    ]);
                                    s(r, m)
                                } else {
                                    Gen::Raw(r.pick(EDGE_NUMBERS).to_string())
                                };
                                (k, v)
                            })
                            .collect(),
                    )
                }),
                _ => any_value(r, 2),
            };
            fields.push((key, v));
        }
        Gen::Obj(fields)
    })
}

fn gen_ssh(r: &mut Rng, fx: &Fixtures) -> Gen {
    maybe_wrong(r, |r| {
        let hostname = if r.one_in(6) {
            r.pick(HOSTS).to_string()
        } else {
            r.pick(&["git.example.com", "Gitea.Example.com", "10.0.0.5", "gitea"])
                .to_string()
        };
        let port = if r.one_in(2) {
            None
        } else {
            Some(r.pick(&["22", "2222", "0", "65535", "65536", "-1", "1.5", "1e3"]))
        };
        let mut fields = Vec::new();
        for key in some_keys(r, SSH_KEYS) {
            let v = match key.as_str() {
                "Host" => maybe_wrong(r, |r| {
                    let v = r.pick(&["gitea", "box", "a b", "*", "", "gi\u{202e}tea"]);
                    s(r, v)
                }),
                "Hostname" => maybe_wrong(r, |r| s(r, &hostname)),
                "User" => maybe_wrong(r, |r| {
                    let v = r.pick(&["git", "", "a b", "\0", "root"]);
                    s(r, v)
                }),
                "Port" => maybe_wrong(r, |r| match port {
                    Some(p) => Gen::Raw(p.to_string()),
                    None => s(r, "22"),
                }),
                "IdentityFile" => maybe_wrong(r, |r| {
                    let v = fx.identity_files[r.below(fx.identity_files.len())].clone();
                    s(r, &v)
                }),
                "KnownHostKey" => maybe_wrong(r, |r| {
                    let line = key_line(r, &hostname, port);
                    s(r, &line)
                }),
                _ => any_value(r, 3),
            };
            fields.push((key, v));
        }
        Gen::Obj(fields)
    })
}

fn gen_agent(r: &mut Rng, bottles: &[String]) -> Gen {
    maybe_wrong(r, |r| {
        let mut fields = Vec::new();
        for key in some_keys(r, AGENT_KEYS) {
            let v = match key.as_str() {
                "bottle" => maybe_wrong(r, |r| {
                    let b = if !bottles.is_empty() && !r.one_in(4) {
                        bottles[r.below(bottles.len())].clone()
                    } else {
                        r.pick(NAMES).to_string()
                    };
                    s(r, &b)
                }),
                "skills" => maybe_wrong(r, |r| {
                    Gen::List(
                        (0..r.below(4))
                            .map(|_| {
                                let v = r.pick(&[
                                    "review",
                                    "Deploy.v2",
                                    "../etc",
                                    "",
                                    ".hidden",
                                    "a/b",
                                    "a\0",
                                    "review",
                                ]);
                                s(r, v)
                            })
                            .collect(),
                    )
                }),
                "prompt" => maybe_wrong(r, |r| {
                    let p = odd_string(r);
                    s(r, &p)
                }),
                _ => any_value(r, 3),
            };
            fields.push((key, v));
        }
        Gen::Obj(fields)
    })
}

/// Files the generated `IdentityFile` values point at.
struct Fixtures {
    _dir: tempfile::TempDir,
    home: PathBuf,
    manifest: PathBuf,
    identity_files: Vec<String>,
    corpus: Vec<Vec<u8>>,
}

fn fixtures() -> Fixtures {
    let dir = tempfile::tempdir().unwrap();
    let home = dir.path().join("home");
    fs::create_dir_all(home.join(".ssh/dir_key")).unwrap();
    fs::write(home.join(".ssh/id_ed25519"), "not a real key").unwrap();
    std::os::unix::fs::symlink(home.join(".ssh/id_ed25519"), home.join(".ssh/link")).unwrap();
    std::os::unix::fs::symlink(home.join(".ssh/dir_key"), home.join(".ssh/dir_link")).unwrap();
    std::os::unix::fs::symlink(home.join(".ssh/nothing"), home.join(".ssh/dangling")).unwrap();
    let project = dir.path().join("project");
    fs::create_dir_all(&project).unwrap();
    fs::write(project.join("key"), "not a real key").unwrap();
    let fifo = home.join(".ssh/fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    assert!(made.is_ok_and(|s| s.success()), "mkfifo failed");
    let mut identity_files: Vec<String> = [
        "~/.ssh/id_ed25519",
        "~/.ssh/link",
        "~/.ssh/dir_key",
        "~/.ssh/dir_link",
        "~/.ssh/dangling",
        "~/.ssh/fifo",
        "~/.ssh/missing",
        "~",
        "~/",
        "~root/.ssh/id",
        "key",
        "./key",
        "../project/key",
        "",
        "/dev/null",
        "/",
        "~/.ssh/id_ed25519\0",
        "~/.ssh/\u{202e}id",
    ]
    .iter()
    .map(|s| (*s).to_string())
    .collect();
    identity_files.push(home.join(".ssh/id_ed25519").display().to_string());
    Fixtures {
        home,
        manifest: project.join("claude-bottle.json"),
        identity_files,
        corpus: corpus("manifest", "json"),
        _dir: dir,
    }
}

fn manifest_input(r: &mut Rng, fx: &Fixtures) -> Vec<u8> {
    let mut bytes = match r.below(10) {
        0..=5 => {
            let g = gen_manifest(r, fx);
            let mut text = String::new();
            if r.one_in(20) {
                text.push('\u{feff}');
            }
            let crlf = r.one_in(5);
            write_gen(r, &g, 0, crlf, &mut text);
            if r.one_in(3) {
                text.push_str(if crlf { "\r\n" } else { "\n" });
            }
            text.into_bytes()
        }
        _ => fx.corpus[r.below(fx.corpus.len())].clone(),
    };
    if r.below(10) >= 4 {
        mutate(r, &mut bytes, &fx.corpus);
    }
    bytes
}

// ---------------------------------------------------------------------------------------
// Manifest invariants.

/// One step of an error's JSON path.
#[derive(Debug)]
enum Step {
    Key(String),
    Index(usize),
}

/// Parses `a.b["odd key"][0]` as written by the validator.
fn parse_path(path: &str) -> Result<Vec<Step>, String> {
    let plain = |c: char| c.is_ascii_alphanumeric() || "_-$".contains(c);
    let mut steps = Vec::new();
    let mut rest = path;
    let mut first = true;
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("[\"") {
            // A JSON string up to the first unescaped quote.
            let mut end = None;
            let mut escaped = false;
            for (i, c) in after.char_indices() {
                match c {
                    _ if escaped => escaped = false,
                    '\\' => escaped = true,
                    '"' => {
                        end = Some(i);
                        break;
                    }
                    _ => {}
                }
            }
            let end = end.ok_or("unterminated key")?;
            let key: String = serde_json::from_str(&format!("\"{}\"", &after[..end]))
                .map_err(|e| format!("bad key: {e}"))?;
            rest = after[end + 1..]
                .strip_prefix(']')
                .ok_or("no `]` after key")?;
            steps.push(Step::Key(key));
        } else if let Some(after) = rest.strip_prefix('[') {
            let end = after.find(']').ok_or("no `]` after index")?;
            let n = after[..end].parse().map_err(|_| "bad index")?;
            steps.push(Step::Index(n));
            rest = &after[end + 1..];
        } else {
            let after = if first {
                rest
            } else {
                rest.strip_prefix('.').ok_or("expected `.`")?
            };
            let end = after.find(|c| !plain(c)).unwrap_or(after.len());
            if end == 0 {
                return Err("empty key".into());
            }
            steps.push(Step::Key(after[..end].to_string()));
            rest = &after[end..];
        }
        first = false;
    }
    Ok(steps)
}

/// The positions of the key (if any) and the value the path names.
fn resolve(root: &Node, steps: &[Step]) -> Option<Vec<json::Pos>> {
    let mut node = root;
    let mut key_pos = None;
    for step in steps {
        match (step, &node.value) {
            (Step::Key(k), Value::Object(members)) => {
                let m = members.iter().find(|m| &m.key == k)?;
                key_pos = Some(m.key_pos);
                node = &m.value;
            }
            (Step::Index(i), Value::Array(items)) => {
                key_pos = None;
                node = items.get(*i)?;
            }
            _ => return None,
        }
    }
    Some(key_pos.into_iter().chain([node.pos]).collect())
}

fn check_manifest_errors(file: &Path, bytes: &[u8], errors: &ManifestErrors) -> Result<(), String> {
    if errors.is_empty() {
        return Err("an Err with no errors".into());
    }
    let text = std::str::from_utf8(bytes).ok();
    let body = text.map(|t| t.strip_prefix('\u{feff}').unwrap_or(t));
    let root = body.and_then(|t| json::parse(t).ok());
    if errors.to_string().trim().is_empty() {
        return Err("errors display as nothing".into());
    }
    for e in errors {
        let at = format!("error {e:?}");
        if e.message.trim().is_empty() {
            return Err(format!("{at}: empty message"));
        }
        if e.hint.as_ref().is_some_and(|h| h.trim().is_empty()) {
            return Err(format!("{at}: empty hint"));
        }
        if e.file != file {
            return Err(format!("{at}: names another file"));
        }
        if (e.line == 0) != (e.col == 0) {
            return Err(format!("{at}: a line without a column or the reverse"));
        }
        if e.line > 0 {
            // Not UTF-8: the place must be inside the valid prefix.
            let valid = body.unwrap_or_else(|| {
                let up_to = std::str::from_utf8(bytes)
                    .err()
                    .map_or(bytes.len(), |e| e.valid_up_to());
                std::str::from_utf8(&bytes[..up_to]).unwrap()
            });
            let lines: Vec<&str> = valid.split('\n').collect();
            let Some(line) = lines.get(e.line - 1) else {
                return Err(format!("{at}: line {} of {}", e.line, lines.len()));
            };
            let cols = line.chars().count() + 1;
            if e.col > cols {
                return Err(format!("{at}: column past the end of its line ({cols})"));
            }
        }
        if !e.path.is_empty() {
            // Paths past eight steps are cut with `…`.
            let path = e.path.strip_suffix('…').unwrap_or(&e.path);
            let steps = parse_path(path).map_err(|p| format!("{at}: path: {p}"))?;
            let Some(root) = &root else {
                // A syntax error's path: the keys read on the way to it,
                // each in the text unless escapes may have spelt it.
                let text = body.unwrap_or_default();
                for step in &steps {
                    if let Step::Key(key) = step {
                        if !text.contains(key.as_str()) && !text.contains('\\') {
                            return Err(format!(
                                "{at}: key `{key}` of the path is not in the input"
                            ));
                        }
                    }
                }
                continue;
            };
            // An error inside an entry names it; only the file's own
            // shape (the top level, `bottles`, `agents`) belongs to none.
            let expected_entry = match (steps.first(), steps.get(1)) {
                (Some(Step::Key(kind)), Some(Step::Key(name))) if kind == "bottles" => {
                    Some(Entry::Bottle(name.clone()))
                }
                (Some(Step::Key(kind)), Some(Step::Key(name))) if kind == "agents" => {
                    Some(Entry::Agent(name.clone()))
                }
                _ => None,
            };
            if e.entry.as_deref() != expected_entry.as_ref() {
                return Err(format!("{at}: belongs to {expected_entry:?}"));
            }
            let Some(places) = resolve(root, &steps) else {
                return Err(format!("{at}: the path is not in the input"));
            };
            if e.line > 0 {
                let pos = json::Pos {
                    line: e.line,
                    col: e.col,
                };
                if !places.contains(&pos) {
                    return Err(format!(
                        "{at}: line:col is not where the path is ({places:?})"
                    ));
                }
            }
        }
    }
    Ok(())
}

fn check_manifest(fx: &Fixtures, index: u64, seed: u64) -> Result<(), String> {
    let mut r = Rng::for_input(seed, 1, index);
    let bytes = manifest_input(&mut r, fx);
    if std::env::var_os("CLAUDE_BOTTLE_FUZZ_ONLY").is_some() {
        println!("input {index}: {}", shown(&bytes));
    }
    let result = load_bytes(&fx.manifest, &bytes, Some(&fx.home));
    let verdict = match &result {
        Err(errors) => check_manifest_errors(&fx.manifest, &bytes, errors),
        Ok(m) => check_loaded(m),
    };
    verdict.map_err(|e| format!("{e}\ninput: {}", shown(&bytes)))
}

/// What a loaded manifest promises.
fn check_loaded(m: &claude_bottle::manifest::Manifest) -> Result<(), String> {
    for (name, b) in &m.bottles {
        fields::check_entry_name("bottle", name).map_err(|p| p.message)?;
        for host in &b.allowlist {
            if fields::normalise_allow_host(host).as_ref() != Ok(host) {
                return Err(format!("allowlist entry `{host}` is not normalised"));
            }
        }
        for v in &b.env {
            fields::check_env_name(&v.name).map_err(|p| p.message)?;
            let value = match &v.source {
                EnvSource::Literal(t)
                | EnvSource::HostVar(t)
                | EnvSource::Prompt(t)
                | EnvSource::Template(t) => t,
            };
            if value.contains('\0') {
                return Err(format!("env `{}` kept a NUL", v.name));
            }
        }
        for h in &b.ssh {
            if !h.identity_file.is_file() {
                return Err(format!("{} is not a file", h.identity_file.display()));
            }
        }
    }
    for (name, a) in &m.agents {
        fields::check_entry_name("agent", name).map_err(|p| p.message)?;
        if !m.bottles.contains_key(&a.bottle) {
            return Err(format!(
                "agent `{name}` runs in missing bottle `{}`",
                a.bottle
            ));
        }
        if a.prompt.as_deref().is_some_and(|p| p.contains('\0')) {
            return Err(format!("agent `{name}` kept a NUL in its prompt"));
        }
    }
    Ok(())
}

fn seed() -> u64 {
    env_u64("CLAUDE_BOTTLE_FUZZ_SEED").unwrap_or(DEFAULT_SEED)
}

#[test]
fn fuzz_manifest_loader() {
    let fx = Arc::new(fixtures());
    let seed = seed();
    let report = run_target("manifest", {
        let fx = fx.clone();
        move |i| check_manifest(&fx, i, seed)
    });
    assert!(report.cases > 0 && report.elapsed > Duration::ZERO);
    assert!(
        report.slowest <= PER_INPUT_LIMIT,
        "input {}",
        report.slowest_index
    );
}

// ---------------------------------------------------------------------------------------
// Pipelock log lines.

const LOG_KEYS: &[&str] = &[
    "level",
    "event",
    "time",
    "target",
    "url",
    "resource",
    "connect_host",
    "method",
    "scanner",
    "reason",
    "agent",
    "client_ip",
    "request_id",
    "status_code",
    "total_bytes",
    "size_bytes",
    "duration_ms",
    "detail",
    "error",
    "sni_host",
    "message",
    "listen",
    "mode",
    "version",
    "component",
    "mitre_technique",
];

const LOG_STRINGS: &[&str] = &[
    "api.anthropic.com:443",
    "API.Anthropic.COM.:443",
    "[2001:db8::1]:443",
    "[::1]",
    "::1",
    "[redacted-url]",
    "https://paste.example/[redacted]",
    "http://u:p@Host.io:8443/x?q=1#f",
    "http://",
    "://",
    "host:",
    ":443",
    "[",
    "]",
    "[::1",
    "a@b@c",
    "/config/pipelock.yaml",
    "2026-04-28T15:04:05Z",
    "T",
    "2026-04-28T1",
    "2026-04-28Té日本語時間",
    "blocked",
    "tunnel_open",
    "kill_switch_deny",
    "sni_mismatch",
    "startup",
    "info",
    "warn",
    "CONNECT",
    "allowlist",
    "",
];

fn log_value(r: &mut Rng) -> Gen {
    match r.below(6) {
        0 | 1 => {
            let v = r.pick(LOG_STRINGS);
            s(r, v)
        }
        2 => {
            let v = odd_string(r);
            s(r, &v)
        }
        3 => Gen::Raw(r.pick(EDGE_NUMBERS).to_string()),
        _ => any_value(r, 1),
    }
}

fn log_input(r: &mut Rng, corpus: &[Vec<u8>]) -> Vec<u8> {
    let mut bytes = match r.below(10) {
        0..=4 => {
            let n = r.below(12);
            let mut members = Vec::new();
            for _ in 0..n {
                let key = if r.one_in(10) {
                    odd_string(r)
                } else {
                    r.pick(LOG_KEYS).to_string()
                };
                members.push((key, log_value(r)));
            }
            let g = if r.one_in(20) {
                any_value(r, 0)
            } else {
                Gen::Obj(members)
            };
            let mut text = String::new();
            write_gen(r, &g, 5, false, &mut text);
            if r.one_in(5) {
                text.push_str(r.pick(&["\n", "\r\n", "\r", "\n\n", " ", "\u{feff}"]));
            }
            text.into_bytes()
        }
        5 => odd_string(r).into_bytes(),
        _ => corpus[r.below(corpus.len())].clone(),
    };
    if r.below(10) >= 4 {
        mutate(r, &mut bytes, corpus);
    }
    bytes
}

fn check_log(corpus: &[Vec<u8>], index: u64, seed: u64) -> Result<(), String> {
    let mut r = Rng::for_input(seed, 2, index);
    let bytes = log_input(&mut r, corpus);
    let line = String::from_utf8_lossy(&bytes);
    if std::env::var_os("CLAUDE_BOTTLE_FUZZ_ONLY").is_some() {
        println!("input {index}: {}", shown(&bytes));
    }
    let fail = |what: String| Err(format!("{what}\ninput: {}", shown(&bytes)));
    let trimmed = line.trim_end_matches(['\n', '\r']);
    let is_object = matches!(
        serde_json::from_str::<serde_json::Value>(trimmed),
        Ok(serde_json::Value::Object(_))
    );
    match parse_line(&line) {
        LogLine::Note(text) => {
            if is_object {
                return fail("a JSON object became a note".into());
            }
            if text != trimmed {
                return fail(format!("the note {text:?} is not the line"));
            }
        }
        LogLine::Event(e) => {
            if !is_object {
                return fail("an event from a line that is no JSON object".into());
            }
            if e.host != e.target.as_deref().and_then(host_of) {
                return fail(format!("host {:?} is not the target's", e.host));
            }
            if let Some(h) = &e.host {
                if h.is_empty() || h.chars().any(|c| c.is_ascii_uppercase()) || h.ends_with('.') {
                    return fail(format!("host {h:?} is not normalised"));
                }
            }
            let human = format_human(&e);
            if human.chars().any(char::is_control) {
                return fail(format!("control characters in {human:?}"));
            }
            let _ = (e.is_denial(), e.is_redacted(), e.kind.name());
        }
    }
    Ok(())
}

#[test]
fn fuzz_pipelock_log_lines() {
    let mut lines: Vec<Vec<u8>> = Vec::new();
    for file in corpus("pipelock", "log") {
        lines.extend(
            file.split(|&b| b == b'\n')
                .filter(|l| !l.is_empty())
                .map(<[u8]>::to_vec),
        );
    }
    let lines = Arc::new(lines);
    let seed = seed();
    let report = run_target("pipelock", move |i| check_log(&lines, i, seed));
    assert!(report.cases > 0);
}

// ---------------------------------------------------------------------------------------
// The harness's own pieces.

#[test]
fn paths_parse_as_the_validator_writes_them() {
    let steps = parse_path(r#"bottles["Dev Box"].ssh[0].Port"#).unwrap();
    assert_eq!(
        format!("{steps:?}"),
        r#"[Key("bottles"), Key("Dev Box"), Key("ssh"), Index(0), Key("Port")]"#
    );
    let steps = parse_path(r#"["a\"]b"]"#).unwrap();
    assert_eq!(format!("{steps:?}"), r#"[Key("a\"]b")]"#);
    assert!(parse_path("a..b").is_err());
}

#[test]
fn inputs_are_reproducible() {
    let fx = fixtures();
    let a = manifest_input(&mut Rng::for_input(1, 1, 42), &fx);
    let b = manifest_input(&mut Rng::for_input(1, 1, 42), &fx);
    assert_eq!(a, b);
    let c = manifest_input(&mut Rng::for_input(1, 1, 43), &fx);
    assert_ne!(a, c);
}
