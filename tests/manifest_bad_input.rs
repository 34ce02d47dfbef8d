//! Malformed manifests beyond the fixtures: each case names what is wrong and where.
//!
//! Every case is written to a real file in a temporary folder and loaded as
//! `claude-bottle validate` would; the folder's path is shown as `T` in messages.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::fs;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use claude_bottle::manifest::json::MAX_FILE_BYTES;
use claude_bottle::manifest::{self, LoadOptions, Manifest, ManifestErrors};

/// A real ed25519 public key.
const ED25519: &str = "AAAAC3NzaC1lZDI1NTE5AAAAIFt5NmYWJAkKdKD/BslmhuYtKK8ir0DMLTGv2cdHR93k";

/// A folder with `home/.ssh/id_ed25519` and room for a manifest.
struct Place {
    dir: tempfile::TempDir,
}

impl Place {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("home/.ssh")).unwrap();
        fs::write(dir.path().join("home/.ssh/id_ed25519"), "not a real key").unwrap();
        Place { dir }
    }

    fn root(&self) -> &Path {
        self.dir.path()
    }

    fn home(&self) -> PathBuf {
        self.root().join("home")
    }

    fn load(&self, bytes: &[u8]) -> Result<Manifest, ManifestErrors> {
        let file = self.root().join("claude-bottle.json");
        fs::write(&file, bytes).unwrap();
        manifest::load(&LoadOptions {
            cwd: self.root().to_path_buf(),
            home: Some(self.home()),
            explicit: vec![file],
        })
    }

    /// The errors as `validate` prints them, or `OK`.
    fn errors(&self, bytes: &[u8]) -> String {
        match self.load(bytes) {
            Ok(_) => "OK".to_string(),
            Err(e) => e
                .to_string()
                .replace(&self.root().display().to_string(), "T"),
        }
    }
}

/// `{"bottles": {"b": { FIELDS }}}` on one line, so columns are easy to count.
fn bottle(fields: &str) -> String {
    format!("{{\"bottles\": {{\"b\": {{{fields}}}}}}}")
}

/// An ssh entry for `git.example.com` with these fields replaced or added.
fn ssh(extra: &str) -> String {
    let mut fields: Vec<(String, String)> = vec![
        ("Host".into(), "\"gitea\"".into()),
        ("Hostname".into(), "\"git.example.com\"".into()),
        ("IdentityFile".into(), "\"~/.ssh/id_ed25519\"".into()),
        (
            "KnownHostKey".into(),
            format!("\"git.example.com ssh-ed25519 {ED25519}\""),
        ),
    ];
    for part in extra.split(";;").filter(|p| !p.is_empty()) {
        let (k, v) = part.split_once('=').unwrap();
        match fields.iter_mut().find(|(key, _)| *key == k) {
            Some(f) => f.1 = v.to_string(),
            None => fields.push((k.to_string(), v.to_string())),
        }
    }
    let body: Vec<String> = fields
        .iter()
        .map(|(k, v)| format!("\"{k}\": {v}"))
        .collect();
    bottle(&format!("\"ssh\": [{{{}}}]", body.join(", ")))
}

/// Runs a table of `(case, manifest text, expected substring of the errors)`.
fn table(place: &Place, cases: &[(&str, String, &str)]) {
    let mut failures = Vec::new();
    for (name, text, expected) in cases {
        let got = place.errors(text.as_bytes());
        if !got.contains(expected) {
            failures.push(format!(
                "{name}:\n  text:     {text}\n  expected: {expected}\n  got:      {got}"
            ));
        }
    }
    assert!(failures.is_empty(), "\n{}", failures.join("\n"));
}

// ---------------------------------------------------------------------------------------
// Size and nesting.

#[test]
fn a_file_over_the_limit_is_refused_with_its_size() {
    let p = Place::new();
    let mut text = b"{\"bottles\": {}}".to_vec();
    text.resize(MAX_FILE_BYTES + 1, b' ');
    let t = ThreadCpu::now();
    assert_eq!(
        p.errors(&text),
        "T/claude-bottle.json: the file is 4194305 bytes; a manifest may be at most 4194304 bytes"
    );
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
}

/// CPU time this thread has used: unlike the wall clock, it does not grow
/// while the machine is busy with other work (these tests run beside the
/// engine tests).
struct ThreadCpu(Duration);

impl ThreadCpu {
    fn now() -> Self {
        Self(thread_cpu_time())
    }

    fn elapsed(&self) -> Duration {
        thread_cpu_time().saturating_sub(self.0)
    }
}

/// utime + stime of the calling thread, from /proc (ticks of 10 ms).
fn thread_cpu_time() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").unwrap();
    // The command name (field 2) may hold spaces; the rest follows its `)`.
    let after_name = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<u64> = after_name
        .split_whitespace()
        .map(|f| f.parse().unwrap_or(0))
        .collect();
    // Fields 14 and 15 of the line are the 12th and 13th after the name.
    Duration::from_millis((fields[11] + fields[12]) * 10)
}

/// Loads `text` (just under the limit), prints how much CPU it took, and checks it was quick.
fn load_big(p: &Place, what: &str, text: &str) -> (Duration, String) {
    assert!(text.len() <= MAX_FILE_BYTES, "{what}: {} bytes", text.len());
    assert!(
        text.len() > MAX_FILE_BYTES - 64 * 1024,
        "{what}: only {} bytes",
        text.len()
    );
    let t = ThreadCpu::now();
    let errors = p.errors(text.as_bytes());
    let took = t.elapsed();
    println!("{what}: {} bytes in {took:?} of CPU", text.len());
    // Debug builds on a shared machine: generous, but far below what quadratic work takes.
    assert!(took < Duration::from_secs(10), "{what} took {took:?}");
    (took, errors)
}

/// Fills `make(i)` items separated by `,` up to just under the size limit.
fn fill(head: &str, tail: &str, make: impl Fn(usize) -> String) -> String {
    let mut text = head.to_string();
    let mut i = 0;
    loop {
        let item = make(i);
        if text.len() + item.len() + 1 + tail.len() > MAX_FILE_BYTES {
            break;
        }
        if i > 0 {
            text.push(',');
        }
        text.push_str(&item);
        i += 1;
    }
    text.push_str(tail);
    text
}

#[test]
fn a_file_just_under_the_limit_with_many_entries_loads_or_fails_fast() {
    let p = Place::new();
    // Many bottles and agents that use them: valid.
    let text = fill("{\"bottles\": {\"b\": {}}, \"agents\": {", "}}", |i| {
        format!("\"a{i}\": {{\"bottle\": \"b\"}}")
    });
    let (_, errors) = load_big(&p, "many agents", &text);
    assert_eq!(errors, "OK");

    let text = fill("{\"bottles\": {", "}}", |i| format!("\"b{i}\": {{}}"));
    let (_, errors) = load_big(&p, "many bottles", &text);
    assert_eq!(errors, "OK");

    // One huge allowlist, mostly repeats.
    let text = fill(
        "{\"bottles\": {\"b\": {\"egress\": {\"allowlist\": [",
        "]}}}}",
        |i| format!("\"h{}.example.com\"", i % 50_000),
    );
    let (_, errors) = load_big(&p, "a huge allowlist", &text);
    assert_eq!(errors, "OK");

    // Many errors at once: every agent names a missing bottle, among many bottles.
    let half = fill("{\"bottles\": {", "}", |i| format!("\"b{i}\": {{}}"));
    let half = &half[..half.len() / 2];
    let cut = half.rfind(",\"b").unwrap();
    let head = format!("{}}}, \"agents\": {{", &half[..cut]);
    let text = fill(&head, "}}", |i| {
        format!("\"a{i}\": {{\"bottle\": \"x{i}\"}}")
    });
    let (_, errors) = load_big(&p, "many wrong bottle names", &text);
    let first = errors.lines().next().unwrap();
    assert!(
        first.contains(": agents.a0.bottle: no bottle named `x0`"),
        "{first}"
    );
    // The list of available bottles is cut short, not a megabyte per error.
    let hint = errors.lines().nth(1).unwrap();
    assert!(hint.len() < 1000, "{} bytes", hint.len());
    assert!(hint.ends_with(" more"), "{hint}");

    // A flat object with a huge number of keys.
    let text = fill("{\"bottles\": {}, \"$schema\": {", "}}", |i| {
        format!("\"k{i}\": 0")
    });
    let (_, errors) = load_big(&p, "a huge object", &text);
    assert!(
        errors.contains("$schema: expected a string, found an object"),
        "{errors}"
    );
}

#[test]
fn nesting_past_the_limit_is_an_error_with_its_place() {
    let p = Place::new();
    let deep = format!(
        "{{\"bottles\": {{\"b\": {{\"env\": {}{}}}}}}}",
        "[".repeat(200),
        "]".repeat(200)
    );
    assert_eq!(
        p.errors(deep.as_bytes()),
        "T/claude-bottle.json:1:152: bottles.b.env[0][0][0][0][0]…: nested more than 128 levels deep"
    );
    let objects = format!("{}1{}", "{\"a\":".repeat(129), "}".repeat(129));
    assert_eq!(
        p.errors(objects.as_bytes()),
        "T/claude-bottle.json:1:641: a.a.a.a.a.a.a.a…: nested more than 128 levels deep"
    );
}

// ---------------------------------------------------------------------------------------
// Encoding: BOM, not UTF-8, CRLF.

#[test]
fn a_byte_order_mark_is_skipped_and_columns_stay_right() {
    let p = Place::new();
    assert_eq!(p.errors("\u{feff}{}".as_bytes()), "OK");
    assert_eq!(
        p.errors("\u{feff}{\"x\": 1}".as_bytes()),
        "T/claude-bottle.json:1:2: x: unknown key `x` in the top level\n  hint: the keys allowed here are `$schema`, `bottles`, `agents`"
    );
}

#[test]
fn a_file_that_is_not_utf8_says_where() {
    let p = Place::new();
    assert_eq!(
        p.errors(b"{\n  \"bottles\": {\"d\xe9v\": {}}\n}"),
        "T/claude-bottle.json:2:17: the file is not UTF-8 text: byte 0xE9 cannot start or continue a character here\n  hint: save the file as UTF-8"
    );
    // Latin-1 and UTF-16 files are the usual culprits.
    let utf16: Vec<u8> = "{}".encode_utf16().flat_map(u16::to_le_bytes).collect();
    let utf16 = [&[0xff, 0xfe][..], &utf16].concat();
    assert!(
        p.errors(&utf16)
            .starts_with("T/claude-bottle.json:1:1: the file is not UTF-8 text: byte 0xFF"),
    );
}

#[test]
fn crlf_line_endings_keep_lines_and_columns_right() {
    let p = Place::new();
    let text = "{\r\n  \"bottles\": {\r\n    \"b\": {\"runtime\": \"gvisor\"}\r\n  }\r\n}\r\n";
    assert_eq!(
        p.errors(text.as_bytes()),
        "T/claude-bottle.json:3:22: bottles.b.runtime: unknown runtime `gvisor`; expected `runc` or `runsc`\n  hint: `runc` is Docker's default; `runsc` is gVisor"
    );
    let text = "{\r\n  \"bottles\": {\r\n    \"b\": {\"runtime\": \"runc\",}\r\n  }\r\n}";
    assert!(
        p.errors(text.as_bytes())
            .starts_with("T/claude-bottle.json:3:29: bottles.b: expected a key"),
        "{}",
        p.errors(text.as_bytes())
    );
}

// ---------------------------------------------------------------------------------------
// Names.

#[test]
fn odd_unicode_in_names_and_keys() {
    let p = Place::new();
    let cases = [
        (
            "uppercase bottle",
            "{\"bottles\": {\"Dev\": {}}}".to_string(),
            "1:14: bottles.Dev: bottle name `Dev` may use only lowercase letters, digits, `_`, `.` and `-`, starting with a letter or digit (it becomes part of a container name)\n  hint: try `dev`",
        ),
        (
            "emoji bottle",
            "{\"bottles\": {\"dev😀\": {}}}".to_string(),
            "1:14: bottles[\"dev😀\"]: bottle name `dev😀` may use only",
        ),
        (
            "RTL override in a bottle name is shown escaped",
            "{\"bottles\": {\"dev\u{202e}txt.exe\": {}}}".to_string(),
            "bottles[\"dev\\u202etxt.exe\"]: bottle name `dev\\u202etxt.exe` may use only",
        ),
        (
            "zero-width space in an agent name",
            "{\"agents\": {\"co\u{200b}der\": {\"bottle\": \"b\"}}, \"bottles\": {\"b\": {}}}"
                .to_string(),
            "agents[\"co\\u200bder\"]: agent name `co\\u200bder` may use only",
        ),
        (
            "combining accent",
            "{\"bottles\": {\"de\u{301}v\": {}}}".to_string(),
            "bottle name `de\\u0301v` may use only",
        ),
        (
            "NUL in a key",
            "{\"bottles\": {\"a\\u0000b\": {}}}".to_string(),
            "bottles[\"a\\u0000b\"]: bottle name `a\\u0000b` may use only",
        ),
        (
            "env name with unicode letters",
            bottle("\"env\": {\"ÄPFEL\": \"x\"}"),
            "1:28: bottles.b.env[\"ÄPFEL\"]: `ÄPFEL` is not a valid env name: use ASCII letters, digits and `_`, not starting with a digit",
        ),
        (
            "env name with RTL mark",
            bottle("\"env\": {\"A\u{200f}B\": \"x\"}"),
            "`A\\u200fB` is not a valid env name",
        ),
        (
            "unknown key with a bidi override",
            bottle("\"run\u{202e}time\": \"runc\""),
            "unknown key `run\\u202etime` in a bottle",
        ),
        (
            "a 41-character name",
            format!("{{\"bottles\": {{\"{}\": {{}}}}}}", "a".repeat(41)),
            "is longer than 40 characters",
        ),
    ];
    table(&p, &cases);
}

// ---------------------------------------------------------------------------------------
// Env values.

#[test]
fn env_values_with_nul_are_refused_and_newlines_allowed() {
    let p = Place::new();
    let cases = [
        (
            "NUL in a literal",
            bottle("\"env\": {\"A\": \"x\\u0000y\"}"),
            "1:33: bottles.b.env.A: an env value cannot contain a NUL character (U+0000): the environment of a process cannot hold one",
        ),
        (
            "NUL in a template",
            bottle("\"env\": {\"A\": \"${X}\\u0000\"}"),
            "an env value cannot contain a NUL character",
        ),
        (
            "NUL in a question",
            bottle("\"env\": {\"A\": \"?q\\u0000\"}"),
            "an env value cannot contain a NUL character",
        ),
        (
            "NUL in the prompt",
            "{\"bottles\": {\"b\": {}}, \"agents\": {\"a\": {\"bottle\": \"b\", \"prompt\": \"go\\u0000\"}}}".to_string(),
            "1:66: agents.a.prompt: the prompt cannot contain a NUL character (U+0000): it is passed to claude as an argument",
        ),
        ("a newline is fine", bottle("\"env\": {\"PEM\": \"-----BEGIN-----\\nabc\\n-----END-----\\n\"}"), "OK"),
        ("a tab is fine", bottle("\"env\": {\"A\": \"a\\tb\"}"), "OK"),
        ("a raw newline is a JSON error", bottle("\"env\": {\"A\": \"a\nb\"}"), "1:33: bottles.b.env.A: this string has no closing `\"` on its line"),
    ];
    table(&p, &cases);
}

// ---------------------------------------------------------------------------------------
// Allowlist entries.

#[test]
#[allow(clippy::too_many_lines)] // one table
fn allowlist_entries() {
    let p = Place::new();
    let allow = |entry: &str| bottle(&format!("\"egress\": {{\"allowlist\": [{entry}]}}"));
    let at = "1:45: bottles.b.egress.allowlist[0]: ";
    let cases: Vec<(&str, String, String)> = vec![
        (
            "port",
            allow("\"host.com:443\""),
            format!("{at}`host.com:443` has a port; ports are not restricted, write `host.com`"),
        ),
        ("IPv4", allow("\"10.0.0.5\""), "OK".into()),
        (
            "bad IPv4",
            allow("\"10.0.0.256\""),
            format!("{at}`10.0.0.256` is not a valid IPv4 address"),
        ),
        (
            "IPv4 with port",
            allow("\"10.0.0.5:8080\""),
            format!("{at}`10.0.0.5:8080` has a port; ports are not restricted, write `10.0.0.5`"),
        ),
        (
            "IPv6",
            allow("\"2001:db8::1\""),
            format!(
                "{at}`2001:db8::1` looks like an IPv6 address; only host names and IPv4 addresses are supported"
            ),
        ),
        (
            "bracketed IPv6 with port",
            allow("\"[::1]:443\""),
            format!("{at}`[::1]:443` looks like an IPv6 address"),
        ),
        (
            "URL",
            allow("\"https://x.com/path\""),
            format!("{at}`https://x.com/path` is a URL; write the host only: `x.com`"),
        ),
        (
            "path",
            allow("\"x.com/path\""),
            format!(
                "{at}`x.com/path` has a path; paths are not restricted, write the host only: `x.com`"
            ),
        ),
        (
            "inner wildcard",
            allow("\"a.*.com\""),
            format!(
                "{at}`a.*.com`: the only wildcard is a leading `*.` as in `*.example.com` (the domain and all its subdomains)"
            ),
        ),
        (
            "bare star",
            allow("\"*\""),
            format!("{at}a bare `*` would let the agent reach every host; list the hosts it needs"),
        ),
        (
            "double star",
            allow("\"**.x.com\""),
            format!("{at}`**.x.com`: the only wildcard is a leading `*.`"),
        ),
        (
            "star glued to a name",
            allow("\"*x.com\""),
            format!("{at}`*x.com`: the only wildcard is a leading `*.`"),
        ),
        (
            "trailing star",
            allow("\"x.*\""),
            format!("{at}`x.*`: the only wildcard is a leading `*.`"),
        ),
        (
            "top-level domain",
            allow("\"*.com\""),
            format!(
                "{at}`*.com` would allow a whole top-level domain; name a domain like `*.example.com`"
            ),
        ),
        ("empty", allow("\"\""), format!("{at}an empty host name")),
        (
            "leading space",
            allow("\" x.com\""),
            format!("{at}` x.com` has spaces around it; write `x.com`"),
        ),
        (
            "trailing space",
            allow("\"x.com \""),
            format!("{at}`x.com ` has spaces around it; write `x.com`"),
        ),
        (
            "inner space",
            allow("\"x.com y.com\""),
            format!("{at}`x.com y.com` contains a space; write one host per entry"),
        ),
        (
            "zero-width space",
            allow("\"x\u{200b}.com\""),
            format!("{at}`x\\u200b.com` is not a host name"),
        ),
        (
            "trailing dot and uppercase are normalised",
            allow("\"GitHub.COM.\", \"*.Example.Org.\""),
            "OK".into(),
        ),
        (
            "two trailing dots",
            allow("\"x.com..\""),
            format!("{at}`x.com..` is not a host name"),
        ),
        (
            "a non-string",
            allow("443"),
            format!("{at}expected a string, found a number"),
        ),
    ];
    let cases: Vec<(&str, String, &str)> = cases
        .iter()
        .map(|(n, t, e)| (*n, t.clone(), e.as_str()))
        .collect();
    table(&p, &cases);
    let m = p
        .load(allow("\"GitHub.COM.\", \"*.Example.Org.\", \"github.com\"").as_bytes())
        .unwrap();
    assert_eq!(m.bottles["b"].allowlist, ["github.com", "*.example.org"]);
}

// ---------------------------------------------------------------------------------------
// Identity files.

#[test]
fn identity_files_that_are_links_directories_or_unreadable() {
    let p = Place::new();
    let ssh_dir = p.home().join(".ssh");
    std::os::unix::fs::symlink(ssh_dir.join("id_ed25519"), ssh_dir.join("link")).unwrap();
    fs::create_dir(ssh_dir.join("a_dir")).unwrap();
    std::os::unix::fs::symlink(ssh_dir.join("a_dir"), ssh_dir.join("dir_link")).unwrap();
    std::os::unix::fs::symlink(ssh_dir.join("gone"), ssh_dir.join("dangling")).unwrap();
    let fifo = ssh_dir.join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    let id = |path: &str| ssh(&format!("IdentityFile=\"{path}\""));
    let at = "1:93: bottles.b.ssh[0].IdentityFile: ";
    let hint =
        "\n  hint: IdentityFile names a private key on this machine, e.g. `~/.ssh/id_ed25519`";
    let cases: Vec<(&str, String, String)> = vec![
        (
            "a symlink to a key is followed, as ssh does",
            id("~/.ssh/link"),
            "OK".into(),
        ),
        (
            "a symlink to a directory",
            id("~/.ssh/dir_link"),
            format!(
                "{at}T/home/.ssh/dir_link is a symlink to T/home/.ssh/a_dir, a directory, not a key file{hint}"
            ),
        ),
        (
            "a dangling symlink",
            id("~/.ssh/dangling"),
            format!(
                "{at}T/home/.ssh/dangling is a symlink to T/home/.ssh/gone, which does not exist{hint}"
            ),
        ),
        (
            "a directory",
            id("~/.ssh/a_dir"),
            format!("{at}T/home/.ssh/a_dir is a directory, not a key file{hint}"),
        ),
        (
            "a fifo (never opened: that would block)",
            id("~/.ssh/fifo"),
            format!("{at}T/home/.ssh/fifo is a named pipe, not a key file{hint}"),
        ),
        (
            "a device",
            id("/dev/null"),
            format!("{at}/dev/null is a device, not a key file{hint}"),
        ),
        (
            "missing",
            id("~/.ssh/nope"),
            format!("{at}no such file: T/home/.ssh/nope{hint}"),
        ),
        (
            "NUL in the path",
            id("~/.ssh/id\\u0000"),
            format!("{at}the path contains a NUL character (U+0000), which no file name can hold"),
        ),
    ];
    let cases: Vec<(&str, String, &str)> = cases
        .iter()
        .map(|(n, t, e)| (*n, t.clone(), e.as_str()))
        .collect();
    table(&p, &cases);

    // Unreadable: root reads a mode-000 file anyway, so only check it as another user.
    let locked = ssh_dir.join("locked");
    fs::write(&locked, "key").unwrap();
    fs::set_permissions(&locked, fs::Permissions::from_mode(0o000)).unwrap();
    let readable_anyway = fs::File::open(&locked).is_ok();
    let got = p.errors(id("~/.ssh/locked").as_bytes());
    if readable_anyway {
        // Running as root: the directory and fifo cases above cover the unreadable path.
        assert_eq!(got, "OK");
    } else {
        assert!(
            got.contains(&format!(
                "{at}cannot read T/home/.ssh/locked: Permission denied"
            )),
            "{got}"
        );
    }
}

// ---------------------------------------------------------------------------------------
// Known host keys.

#[test]
fn known_host_keys() {
    let p = Place::new();
    let key = |line: &str| ssh(&format!("KnownHostKey=\"{line}\""));
    let at = "1:130: bottles.b.ssh[0].KnownHostKey: ";
    let cases: Vec<(&str, String, String)> = vec![
        (
            "valid",
            key(&format!("git.example.com ssh-ed25519 {ED25519}")),
            "OK".into(),
        ),
        (
            "bad base64",
            key("git.example.com ssh-ed25519 AAAA$$$$"),
            format!("{at}the key (third field) is not valid base64"),
        ),
        (
            "base64 missing its padding",
            key(&format!(
                "git.example.com ssh-ed25519 {}",
                &ED25519[..ED25519.len() - 2]
            )),
            format!("{at}the key (third field) is not valid base64"),
        ),
        (
            "wrong key type",
            key(&format!("git.example.com ssh-dss {ED25519}")),
            format!("{at}`ssh-dss` is not an ssh key type"),
        ),
        (
            "key type not matching the data",
            key(&format!("git.example.com ecdsa-sha2-nistp256 {ED25519}")),
            format!("{at}the key data is not an `ecdsa-sha2-nistp256` key (it says `ssh-ed25519`)"),
        ),
        (
            "mismatched host",
            key(&format!("other.example.com ssh-ed25519 {ED25519}")),
            format!(
                "{at}the host field `other.example.com` does not match this entry's Hostname and Port\n  hint: ssh will look up `git.example.com`"
            ),
        ),
        (
            "extra spaces between fields",
            key(&format!("git.example.com  ssh-ed25519 {ED25519}")),
            format!(
                "{at}fields must be separated by single spaces, `host keytype base64`; found extra spaces or tabs"
            ),
        ),
        (
            "a tab between fields",
            key(&format!("git.example.com\\tssh-ed25519 {ED25519}")),
            format!("{at}fields must be separated by single spaces"),
        ),
        (
            "a leading space",
            key(&format!(" git.example.com ssh-ed25519 {ED25519}")),
            format!("{at}fields must be separated by single spaces"),
        ),
        (
            "a trailing comment",
            key(&format!("git.example.com ssh-ed25519 {ED25519} me@laptop")),
            format!(
                "{at}expected 3 fields separated by single spaces, `host keytype base64`, found 4 fields"
            ),
        ),
        (
            "two fields",
            key("git.example.com ssh-ed25519"),
            format!(
                "{at}expected 3 fields separated by single spaces, `host keytype base64`, found 2 fields"
            ),
        ),
        (
            "empty",
            key(""),
            format!(
                "{at}expected 3 fields separated by single spaces, `host keytype base64`, found 0 fields"
            ),
        ),
    ];
    let cases: Vec<(&str, String, &str)> = cases
        .iter()
        .map(|(n, t, e)| (*n, t.clone(), e.as_str()))
        .collect();
    table(&p, &cases);
}
