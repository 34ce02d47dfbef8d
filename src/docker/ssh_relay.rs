//! Engines at `ssh://[user@]host[:port]`, reached as the docker CLI reaches
//! them: every connection is `ssh … -- host docker system dial-stdio`, the
//! remote docker CLI joining that ssh session to the remote engine's socket.
//!
//! bollard speaks HTTP over a unix socket, so the relay listens on one in a
//! private folder (mode 0700, removed when the engine is dropped) and runs
//! one ssh per connection bollard opens. ssh runs with `BatchMode=yes`: a
//! password or host-key question would land in the dashboard's screen, so
//! a login that needs one fails and says so instead (keys in ssh-agent and
//! the host in `known_hosts` are what it needs). The user's own ssh config
//! applies (`~/.ssh/config`: identities, jump hosts).
//!
//! bollard opens a connection for nearly every request, and an ssh login
//! costs a handshake each, so the relay keeps one master connection
//! (`ssh -M`, its control socket in the same private folder) that every
//! connection's ssh shares; if the master cannot be made, each ssh logs in
//! on its own. Two connections are started ahead of the requests that will
//! use them, so a request does not wait for its ssh to start.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};

use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::{UnixListener, UnixStream};
use tokio::task::JoinSet;

/// How long ssh may take to connect (the docker CLI's own figure).
const CONNECT_TIMEOUT_SECONDS: u32 = 30;
/// How much of ssh's complaints is kept to explain a failure.
const STDERR_LIMIT: u64 = 4096;
/// Connections started ahead of the requests that will use them.
const SPARES: usize = 2;
/// How often the master connection's control socket is looked for.
const MASTER_POLL: std::time::Duration = std::time::Duration::from_millis(20);

/// Where an `ssh://` address points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SshTarget {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl SshTarget {
    /// Parses `ssh://[user@]host[:port]` as the docker CLI does: no
    /// password, no path, nothing ssh could read as an option.
    pub fn parse(address: &str) -> Result<Self, String> {
        let rest = address
            .strip_prefix("ssh://")
            .ok_or_else(|| "it does not start with ssh://".to_owned())?;
        if rest.contains(['/', '?', '#']) {
            return Err("an ssh address names only [user@]host[:port], no path".into());
        }
        let (user, host_port) = match rest.rsplit_once('@') {
            Some((user, _)) if user.contains(':') => {
                return Err("a password in the address is not supported; use a key".into());
            }
            Some((user, host_port)) => (Some(user.to_owned()), host_port),
            None => (None, rest),
        };
        let (host, port) = match host_port.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') || host.ends_with(']') => {
                let port = port
                    .parse::<u16>()
                    .map_err(|_| format!("{port:?} is not a port number"))?;
                (host, Some(port))
            }
            _ => (host_port, None),
        };
        let host = host.trim_start_matches('[').trim_end_matches(']');
        if host.is_empty() {
            return Err("it names no host".into());
        }
        let option_like = |s: &str| s.starts_with('-') || s.chars().any(char::is_whitespace);
        if option_like(host)
            || user
                .as_deref()
                .is_some_and(|u| u.is_empty() || option_like(u))
        {
            return Err("the user or host is empty, has spaces or starts with '-'".into());
        }
        Ok(Self {
            user,
            host: host.to_owned(),
            port,
        })
    }

    /// The ssh arguments, as the docker CLI runs them (plus `BatchMode`),
    /// sharing the master connection at `control` when there is one.
    pub fn ssh_args(&self, control: Option<&std::path::Path>) -> Vec<String> {
        let mut args = self.login_args(control);
        args.extend(["docker", "system", "dial-stdio"].map(str::to_owned));
        args
    }

    /// The arguments of a master connection at `control`: it logs in and
    /// serves the others while its own command, `cat`, reads its input; that
    /// input is a pipe from this process, so the master ends when this
    /// process does, however it ends.
    fn master_args(&self, control: &std::path::Path) -> Vec<String> {
        let mut args = vec!["-M".to_owned()];
        args.extend(self.login_args(Some(control)));
        args.push("cat".to_owned());
        args
    }

    /// Everything up to the host: options, user, port, `--`, host.
    fn login_args(&self, control: Option<&std::path::Path>) -> Vec<String> {
        let mut args = vec![
            "-o".to_owned(),
            format!("ConnectTimeout={CONNECT_TIMEOUT_SECONDS}"),
            "-o".to_owned(),
            "BatchMode=yes".to_owned(),
            "-T".to_owned(),
        ];
        if let Some(control) = control {
            args.extend(["-S".to_owned(), control.display().to_string()]);
        }
        if let Some(user) = &self.user {
            args.extend(["-l".to_owned(), user.clone()]);
        }
        if let Some(port) = self.port {
            args.extend(["-p".to_owned(), port.to_string()]);
        }
        args.extend(["--".to_owned(), self.host.clone()]);
        args
    }

    /// The command a person runs to see the same failure.
    pub fn try_command(&self) -> String {
        let user = self
            .user
            .as_ref()
            .map_or_else(String::new, |u| format!("{u}@"));
        let port = self.port.map_or_else(String::new, |p| format!("-p {p} "));
        format!("ssh {port}{user}{} docker version", self.host)
    }
}

/// A unix socket that carries each connection to the engine over ssh; the
/// relay stops, its ssh processes are killed and its folder removed when
/// this is dropped.
#[derive(Debug)]
pub struct SshRelay {
    folder: tempfile::TempDir,
    accepting: tokio::task::JoinHandle<()>,
    last_failure: Arc<Mutex<Option<String>>>,
    /// The master connection the others share, held for its drop (which
    /// kills it).
    _master: Option<tokio::process::Child>,
}

impl SshRelay {
    /// Logs in once (the master connection) and listens in a new private
    /// folder; needs a tokio runtime. A master that cannot log in is not an
    /// error here: each connection then says why, as ssh sees it.
    pub async fn start(target: SshTarget) -> std::io::Result<Self> {
        let folder = tempfile::Builder::new()
            .prefix("claude-bottle-ssh-")
            .tempdir()?;
        let control = folder.path().join("master");
        let master = start_master(&target, &control).await;
        let control = master.is_some().then_some(control);
        let listener = UnixListener::bind(folder.path().join("engine.sock"))?;
        let last_failure = Arc::new(Mutex::new(None));
        let relay = Connection {
            target,
            control,
            last_failure: Arc::clone(&last_failure),
        };
        let accepting = tokio::spawn(accept(listener, relay));
        Ok(Self {
            folder,
            accepting,
            last_failure,
            _master: master,
        })
    }

    /// The socket bollard connects to.
    pub fn socket(&self) -> PathBuf {
        self.folder.path().join("engine.sock")
    }

    /// What the last ssh that failed wrote, if one did.
    pub fn last_failure(&self) -> Option<String> {
        self.last_failure
            .lock()
            .map_or(None, |failure| failure.clone())
    }
}

impl Drop for SshRelay {
    fn drop(&mut self) {
        // Dropping the accept loop drops its JoinSet and spares, which
        // aborts every connection; their ssh processes, and the master's
        // (dropped with this), are killed on drop.
        self.accepting.abort();
    }
}

/// Starts the master connection and waits until its control socket is
/// there; `None` when it ended first (it could not log in) or took longer
/// than ssh's own connect timeout.
async fn start_master(
    target: &SshTarget,
    control: &std::path::Path,
) -> Option<tokio::process::Child> {
    let mut master = tokio::process::Command::new("ssh")
        .args(target.master_args(control))
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .ok()?;
    let deadline = tokio::time::Instant::now()
        + std::time::Duration::from_secs(u64::from(CONNECT_TIMEOUT_SECONDS));
    while tokio::time::Instant::now() < deadline {
        if control.exists() {
            return Some(master);
        }
        if !matches!(master.try_wait(), Ok(None)) {
            return None;
        }
        tokio::time::sleep(MASTER_POLL).await;
    }
    None
}

/// What every connection needs: where to, through which master, and where
/// to say why one failed.
#[derive(Debug, Clone)]
struct Connection {
    target: SshTarget,
    control: Option<PathBuf>,
    last_failure: Arc<Mutex<Option<String>>>,
}

async fn accept(listener: UnixListener, relay: Connection) {
    let mut connections = JoinSet::new();
    // Started ahead, so a request does not wait for its ssh and the remote
    // docker CLI to start (bollard opens a connection for each).
    let mut spares: VecDeque<tokio::process::Child> = VecDeque::new();
    loop {
        while spares.len() < SPARES {
            match relay.spawn_ssh() {
                Ok(child) => spares.push_back(child),
                Err(_) => break,
            }
        }
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => {
                    let child = take_live(&mut spares).map_or_else(|| relay.spawn_ssh(), Ok);
                    connections.spawn(carry(stream, child, relay.last_failure.clone()));
                }
                Err(_) => return,
            },
            // Reap finished connections so the set does not grow.
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
}

/// The oldest spare still running; those that ended (their login failed,
/// or the engine closed them) are dropped.
fn take_live(spares: &mut VecDeque<tokio::process::Child>) -> Option<tokio::process::Child> {
    while let Some(mut child) = spares.pop_front() {
        if matches!(child.try_wait(), Ok(None)) {
            return Some(child);
        }
    }
    None
}

impl Connection {
    /// An ssh running `docker system dial-stdio` there, its pipes ours.
    fn spawn_ssh(&self) -> std::io::Result<tokio::process::Child> {
        tokio::process::Command::new("ssh")
            .args(self.target.ssh_args(self.control.as_deref()))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
    }
}

/// Carries one connection over its ssh until either side ends it.
async fn carry(
    stream: UnixStream,
    child: std::io::Result<tokio::process::Child>,
    last_failure: Arc<Mutex<Option<String>>>,
) {
    let mut child = match child {
        Ok(child) => child,
        Err(e) => {
            record(&last_failure, format!("cannot run ssh: {e}"));
            return;
        }
    };
    let (Some(mut to_ssh), Some(mut from_ssh), Some(stderr)) =
        (child.stdin.take(), child.stdout.take(), child.stderr.take())
    else {
        return;
    };
    let (mut from_client, mut to_client) = stream.into_split();
    let complaints = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.take(STDERR_LIMIT).read_to_string(&mut text).await;
        text
    });
    let to_engine = async move {
        let _ = tokio::io::copy(&mut from_client, &mut to_ssh).await;
        // Closing ssh's input ends dial-stdio, which ends its output.
        drop(to_ssh);
    };
    let answered = {
        let from_engine = tokio::io::copy(&mut from_ssh, &mut to_client);
        tokio::pin!(to_engine, from_engine);
        let copied = tokio::select! {
            copied = &mut from_engine => copied,
            () = &mut to_engine => from_engine.await,
        };
        copied.is_ok_and(|bytes| bytes > 0)
    };
    // Read why ssh ended before the client hears the connection close, so
    // a failed connect can say it: ssh failed, or the engine never answered
    // (the remote docker CLI can fail and ssh still end well).
    if let Ok(status) = child.wait().await
        && (!status.success() || !answered)
    {
        let text = complaints.await.unwrap_or_default();
        let text = text.trim();
        record(
            &last_failure,
            if text.is_empty() {
                format!("ssh ended with {status} before the engine answered")
            } else {
                text.to_owned()
            },
        );
    }
    let _ = to_client.shutdown().await;
}

fn record(last_failure: &Mutex<Option<String>>, text: String) {
    if let Ok(mut failure) = last_failure.lock() {
        *failure = Some(text);
    }
}

#[cfg(test)]
mod tests {
    use super::SshTarget;

    #[test]
    fn addresses_parse_as_the_docker_cli_reads_them() {
        let full = SshTarget::parse("ssh://ops@build-box:2200").unwrap();
        assert_eq!(
            full,
            SshTarget {
                user: Some("ops".into()),
                host: "build-box".into(),
                port: Some(2200)
            }
        );
        assert_eq!(
            full.ssh_args(None).join(" "),
            "-o ConnectTimeout=30 -o BatchMode=yes -T -l ops -p 2200 -- build-box docker system dial-stdio"
        );
        let control = std::path::Path::new("/run/x/master");
        assert_eq!(
            full.master_args(control).join(" "),
            "-M -o ConnectTimeout=30 -o BatchMode=yes -T -S /run/x/master -l ops -p 2200 -- build-box cat"
        );
        assert!(
            full.ssh_args(Some(control))
                .join(" ")
                .contains(" -S /run/x/master -l ops ")
        );
        assert_eq!(
            full.try_command(),
            "ssh -p 2200 ops@build-box docker version"
        );
        let bare = SshTarget::parse("ssh://10.0.0.5").unwrap();
        assert_eq!((bare.user, bare.port), (None, None));
        let v6 = SshTarget::parse("ssh://[fd00::1]:22").unwrap();
        assert_eq!((v6.host.as_str(), v6.port), ("fd00::1", Some(22)));
    }

    #[test]
    fn addresses_ssh_could_misread_are_refused() {
        for (address, says) in [
            ("ssh://ops:secret@box", "password"),
            ("ssh://box/var/run/docker.sock", "no path"),
            ("ssh://-oProxyCommand=x", "starts with '-'"),
            ("ssh://-l@box", "starts with '-'"),
            ("ssh://box:http", "not a port"),
            ("ssh://", "no host"),
            ("ssh://a b", "spaces"),
        ] {
            let error = SshTarget::parse(address).unwrap_err();
            assert!(error.contains(says), "{address}: {error}");
        }
    }
}
