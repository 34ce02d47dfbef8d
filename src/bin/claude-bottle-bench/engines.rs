//! Engines: `claude-bottle run AGENT -- true` to the end (launch, the
//! command, teardown) on an engine reached over ssh (an OpenSSH server on
//! loopback in front of this machine's engine), against the same run on
//! the local socket. Loopback has no network delay: what is left is the
//! cost of the ssh relay (a login, and an ssh and a remote `docker system
//! dial-stdio` for every connection bollard opens).

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{Context as _, bail};

use crate::data::WorkDir;
use crate::launch;
use crate::report::{Summary, Table};

pub fn run(quick: bool, work: &WorkDir, table: &mut Table) -> anyhow::Result<()> {
    tokio::runtime::Runtime::new()?.block_on(async {
        let engine = launch::connect().await?;
        launch::images(&engine).await.map(drop)
    })?;
    let dir = work.path().join("engines");
    std::fs::create_dir_all(&dir)?;
    let sshd = LoopbackSshd::start(&dir)?;
    let agent = format!("engines{}", std::process::id());
    let manifest = dir.join("claude-bottle.json");
    let text = serde_json::json!({
        "bottles": { "b": { "egress": { "allowlist": ["allowed.test"] } } },
        "agents": { &agent: { "bottle": "b" } }
    });
    std::fs::write(&manifest, text.to_string())?;
    let repeats = if quick { 1 } else { 5 };
    let (mut local, mut over_ssh) = (Vec::new(), Vec::new());
    for round in 0..repeats {
        eprintln!("  engines: round {}", round + 1);
        local.push(run_once(&sshd, &manifest, &agent, None)?);
        over_ssh.push(run_once(&sshd, &manifest, &agent, Some(&sshd.address()))?);
    }
    let (local, over_ssh) = (Summary::of(&local), Summary::of(&over_ssh));
    table.row(
        "`run` to the end over ssh (sshd on loopback), s",
        over_ssh.show(2),
        format!("local socket {}", local.show(2)),
        format!("{:.2}x", over_ssh.median / local.median),
        "",
        None,
    );
    Ok(())
}

/// Seconds one `run` takes, on the local socket or at `ssh`.
fn run_once(
    sshd: &LoopbackSshd,
    manifest: &Path,
    agent: &str,
    ssh: Option<&str>,
) -> anyhow::Result<f64> {
    let bin = std::env::current_exe()?.with_file_name("claude-bottle");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut cmd = Command::new(&bin);
    cmd.args(["--manifest"])
        .arg(manifest)
        .args(["run", agent, "--yes", "--", "true"])
        .env("PATH", sshd.path_with_client())
        .env("CLAUDE_BOTTLE_PIPELOCK_IMAGE", launch::SIDECAR_TEST_IMAGE)
        .env("CLAUDE_BOTTLE_BASE_IMAGE", launch::TEST_BASE_IMAGE)
        .env("CLAUDE_BOTTLE_INSTALL_PACKAGES", "0")
        .env(
            "CLAUDE_BOTTLE_CLAUDE_BINARY",
            root.join("target/test-images/claude"),
        )
        .env("CLAUDE_BOTTLE_OAUTH_TOKEN", "bench-token-not-real")
        .env_remove("DOCKER_CONTEXT")
        .stdin(Stdio::null());
    match ssh {
        Some(address) => cmd.env("DOCKER_HOST", address),
        None => cmd.env_remove("DOCKER_HOST"),
    };
    let start = Instant::now();
    let out = cmd
        .output()
        .with_context(|| format!("run {}", bin.display()))?;
    let took = start.elapsed().as_secs_f64();
    if !out.status.success() {
        bail!(
            "claude-bottle run failed ({}): {}",
            ssh.unwrap_or("local socket"),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(took)
}

/// `sshd` on a free loopback port with its own host key and one
/// authorized key, and an `ssh` on a PATH of its own that uses them (the
/// real client reads its config from the user's home, which a bench must
/// not touch). Stopped on drop.
struct LoopbackSshd {
    child: Child,
    dir: PathBuf,
    port: u16,
}

impl LoopbackSshd {
    fn start(dir: &Path) -> anyhow::Result<Self> {
        let sshd = Path::new("/usr/sbin/sshd");
        if !sshd.exists() {
            bail!(
                "the engines bench needs OpenSSH's server (Debian: apt-get install openssh-server)"
            );
        }
        std::fs::create_dir_all("/run/sshd").context("make /run/sshd (run as root)")?;
        for key in ["host_key", "client_key"] {
            let path = dir.join(key);
            let _ = std::fs::remove_file(&path);
            let made = Command::new("ssh-keygen")
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(&path)
                .status()?;
            if !made.success() {
                bail!("ssh-keygen failed");
            }
        }
        std::fs::copy(dir.join("client_key.pub"), dir.join("authorized_keys"))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let at = |name: &str| dir.join(name).display().to_string();
        let config = format!(
            "ListenAddress 127.0.0.1\nPort {port}\nHostKey {}\nAuthorizedKeysFile {}\n\
             PidFile {}\nUsePAM no\nStrictModes no\nPermitRootLogin prohibit-password\n\
             PasswordAuthentication no\n",
            at("host_key"),
            at("authorized_keys"),
            at("sshd.pid"),
        );
        std::fs::write(dir.join("sshd_config"), config)?;
        let host_key = std::fs::read_to_string(dir.join("host_key.pub"))?;
        let key: Vec<&str> = host_key.split_whitespace().take(2).collect();
        std::fs::write(
            dir.join("known_hosts"),
            format!("[127.0.0.1]:{port} {}\n", key.join(" ")),
        )?;
        std::fs::write(
            dir.join("ssh_config"),
            format!(
                "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  \
                 StrictHostKeyChecking yes\n",
                at("client_key"),
                at("known_hosts")
            ),
        )?;
        let bin = dir.join("bin");
        std::fs::create_dir_all(&bin)?;
        std::fs::write(
            bin.join("ssh"),
            format!(
                "#!/bin/sh\nexec /usr/bin/ssh -F {} \"$@\"\n",
                at("ssh_config")
            ),
        )?;
        let mut mode = std::fs::metadata(bin.join("ssh"))?.permissions();
        std::os::unix::fs::PermissionsExt::set_mode(&mut mode, 0o755);
        std::fs::set_permissions(bin.join("ssh"), mode)?;
        let child = Command::new(sshd)
            .args(["-D", "-e", "-f"])
            .arg(dir.join("sshd_config"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start sshd")?;
        let sshd = Self {
            child,
            dir: dir.to_owned(),
            port,
        };
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                bail!("sshd did not listen on 127.0.0.1:{port}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        Ok(sshd)
    }

    fn address(&self) -> String {
        format!("ssh://root@127.0.0.1:{}", self.port)
    }

    /// PATH with this bench's `ssh` first.
    fn path_with_client(&self) -> String {
        format!(
            "{}:{}",
            self.dir.join("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        )
    }
}

impl Drop for LoopbackSshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
