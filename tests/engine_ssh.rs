//! An engine reached over ssh, as the docker CLI reaches one: a real
//! OpenSSH server on loopback (its own host key, one authorized key, no
//! passwords) in front of this machine's engine. The real binary reaches it
//! through `DOCKER_HOST=ssh://…` and through a docker context, launches a
//! bottle over it with `run` (the terminal through the docker CLI's own
//! ssh), and leaves nothing behind; a user the server does not know and a
//! host key nobody trusts are refused with what ssh said and the fix.
//!
//! The real ssh client reads its config from the user's home folder, which
//! a test must not touch, so `ssh` on the binary's PATH is a two-line
//! script that runs `/usr/bin/ssh -F <this test's config>`.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should stop the test where it happened

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// sshd on a loopback port, stopped (and its folder removed) on drop.
struct SshServer {
    child: Child,
    dir: tempfile::TempDir,
    port: u16,
}

fn keygen(path: &Path) {
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", ""])
        .arg("-f")
        .arg(path)
        .status()
        .unwrap();
    assert!(status.success(), "ssh-keygen");
}

impl SshServer {
    fn start() -> Self {
        let sshd = Path::new("/usr/sbin/sshd");
        assert!(
            sshd.exists(),
            "these tests need OpenSSH's server (Debian: apt-get install openssh-server; \
             scripts/test.sh installs it)"
        );
        // The privilege-separation folder sshd insists on.
        std::fs::create_dir_all("/run/sshd").unwrap();
        let dir = tempfile::tempdir().unwrap();
        let path = |name: &str| dir.path().join(name);
        keygen(&path("host_key"));
        keygen(&path("client_key"));
        std::fs::copy(path("client_key.pub"), path("authorized_keys")).unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let config = format!(
            "ListenAddress 127.0.0.1\nPort {port}\nHostKey {}\nAuthorizedKeysFile {}\n\
             PidFile {}\nUsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\n",
            path("host_key").display(),
            path("authorized_keys").display(),
            path("sshd.pid").display(),
        );
        std::fs::write(path("sshd_config"), config).unwrap();
        let log = std::fs::File::create(path("sshd.log")).unwrap();
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(path("sshd_config"))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .unwrap();
        let server = Self { child, dir, port };
        server.write_client(&server.client_dir(), true);
        server.wait_ready();
        server
    }

    /// A client folder: an ssh config with the client key, a `known_hosts`
    /// that trusts this server's host key (or is empty), and the `ssh`
    /// script that uses them.
    fn write_client(&self, dir: &Path, trusted: bool) {
        std::fs::create_dir_all(dir).unwrap();
        let host_key = std::fs::read_to_string(self.dir.path().join("host_key.pub")).unwrap();
        let known = if trusted {
            let key: Vec<&str> = host_key.split_whitespace().take(2).collect();
            format!("[127.0.0.1]:{} {}\n", self.port, key.join(" "))
        } else {
            String::new()
        };
        std::fs::write(dir.join("known_hosts"), known).unwrap();
        let config = format!(
            "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  \
             StrictHostKeyChecking yes\n",
            self.dir.path().join("client_key").display(),
            dir.join("known_hosts").display(),
        );
        std::fs::write(dir.join("ssh_config"), config).unwrap();
        let script = format!(
            "#!/bin/sh\nexec /usr/bin/ssh -F {} \"$@\"\n",
            dir.join("ssh_config").display()
        );
        std::fs::write(dir.join("ssh"), script).unwrap();
        let mut mode = std::fs::metadata(dir.join("ssh")).unwrap().permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut mode, 0o755);
        std::fs::set_permissions(dir.join("ssh"), mode).unwrap();
    }

    fn client_dir(&self) -> PathBuf {
        self.dir.path().join("client")
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("sshd.log")).unwrap_or_default()
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "sshd did not listen:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    fn address(&self, user: &str) -> String {
        format!("ssh://{user}@127.0.0.1:{}", self.port)
    }
}

impl Drop for SshServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The real binary with `client`'s ssh first on its PATH, its temporary
/// files in `tmp`, and the engine variables given.
fn claude_bottle(client: &Path, tmp: &Path, args: &[&str], vars: &[(&str, &str)]) -> (i32, String) {
    let path = format!(
        "{}:{}",
        client.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_claude-bottle"));
    cmd.args(args)
        .env_remove("DOCKER_HOST")
        .env_remove("DOCKER_CONTEXT")
        .env("PATH", path)
        .env("TMPDIR", tmp)
        .env("CLAUDE_BOTTLE_OAUTH_TOKEN", "sk-ant-oat01-over-ssh-test")
        .envs(common::test_image_env())
        .envs(vars.iter().copied())
        .stdin(Stdio::null());
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr),
    )
}

#[test]
fn an_engine_over_ssh_is_reached_as_the_docker_cli_reaches_it() {
    let server = SshServer::start();
    let client = server.client_dir();
    let tmp = tempfile::tempdir().unwrap();
    let root = server.address("root");

    let (code, out) = claude_bottle(&client, tmp.path(), &["doctor"], &[("DOCKER_HOST", &root)]);
    assert!(
        out.contains(&format!("reached through DOCKER_HOST={root} over ssh")),
        "doctor names the engine and how it is reached (exit {code}):\n{out}\nsshd:\n{}",
        server.log()
    );
    let (code, out) = claude_bottle(&client, tmp.path(), &["ps"], &[("DOCKER_HOST", &root)]);
    assert_eq!(code, 0, "ps over ssh:\n{out}");

    // A docker context at the same address, as `docker context create` writes it.
    let config = tempfile::tempdir().unwrap();
    common::write_context(config.path(), "over-ssh", &root);
    let config_dir = config.path().display().to_string();
    let context_vars = [
        ("DOCKER_CONFIG", config_dir.as_str()),
        ("DOCKER_CONTEXT", "over-ssh"),
    ];
    let (code, out) = claude_bottle(&client, tmp.path(), &["doctor"], &context_vars);
    assert!(
        out.contains(&format!(
            "docker context over-ssh (DOCKER_CONTEXT) at {root} over ssh"
        )),
        "exit {code}:\n{out}"
    );
    assert!(
        out.lines()
            .any(|l| l.starts_with("ok") && l.contains("Docker engine")),
        "the engine answered through the context:\n{out}"
    );

    // Every connection's ssh ended and the relay's folder went with it.
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind in TMPDIR: {left:?}");
}

#[test]
fn a_bottle_runs_on_an_engine_over_ssh_and_leaves_nothing_behind() {
    let server = SshServer::start();
    let client = server.client_dir();
    let tmp = tempfile::tempdir().unwrap();
    let project = tempfile::tempdir().unwrap();
    let agent = format!("ssh{}", std::process::id());
    let manifest = project.path().join("claude-bottle.json");
    let text = serde_json::json!({
        "bottles": { "b": {
            "runtime": "runc",
            "env": { "FROM_MANIFEST": "carried-over-ssh" },
            "egress": { "allowlist": ["allowed.test"] }
        }},
        "agents": { &agent: { "bottle": "b" } }
    });
    std::fs::write(&manifest, text.to_string()).unwrap();
    let manifest = manifest.display().to_string();
    let root = server.address("root");
    let script = "echo env=$FROM_MANIFEST; echo token=${#CLAUDE_CODE_OAUTH_TOKEN}";
    let args = [
        &["--manifest", manifest.as_str()][..],
        &common::run_args(&agent, script),
    ]
    .concat();
    let (code, out) = claude_bottle(&client, tmp.path(), &args, &[("DOCKER_HOST", &root)]);
    assert_eq!(code, 0, "run over ssh:\n{out}\nsshd:\n{}", server.log());
    assert!(out.contains("env=carried-over-ssh"), "{out}");
    let token_len = "sk-ant-oat01-over-ssh-test".len();
    assert!(
        out.contains(&format!("token={token_len}")),
        "the token reached claude's variable over ssh:\n{out}"
    );
    // The bottle is gone from the engine, and nothing is left in TMPDIR.
    let ps = Command::new("docker")
        .args(["ps", "-aq", "--filter"])
        .arg(format!("label=claude-bottle.agent={agent}"))
        .output()
        .unwrap();
    assert!(
        String::from_utf8_lossy(&ps.stdout).trim().is_empty(),
        "the bottle was removed"
    );
    let left: Vec<_> = std::fs::read_dir(tmp.path()).unwrap().flatten().collect();
    assert!(left.is_empty(), "left behind in TMPDIR: {left:?}");
}

#[test]
fn a_login_ssh_would_have_to_ask_about_is_refused_with_what_ssh_said() {
    let server = SshServer::start();
    let tmp = tempfile::tempdir().unwrap();

    // A user the server does not have.
    let (code, out) = claude_bottle(
        &server.client_dir(),
        tmp.path(),
        &["ps"],
        &[("DOCKER_HOST", &server.address("no-such-user"))],
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("Permission denied"), "ssh's own words:\n{out}");
    assert!(
        out.contains(&format!(
            "ssh -p {} no-such-user@127.0.0.1 docker version",
            server.port
        )) && out.contains("BatchMode=yes"),
        "the command to try and why nothing was asked:\n{out}"
    );

    // A host key nobody trusts: ssh would ask, so it is refused.
    let untrusting = server.dir.path().join("untrusting");
    server.write_client(&untrusting, false);
    let (code, out) = claude_bottle(
        &untrusting,
        tmp.path(),
        &["ps"],
        &[("DOCKER_HOST", &server.address("root"))],
    );
    assert_ne!(code, 0, "{out}");
    assert!(out.contains("Host key verification failed"), "{out}");
}
