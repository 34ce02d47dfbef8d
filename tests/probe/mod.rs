//! Helpers for the tests that attack bottles on the real engine: the docker
//! CLI, a guard that removes what a test made (panics included), a listener on
//! the host, and a collector of findings so one bottle can serve many checks.
#![allow(dead_code, clippy::expect_used)]

use std::io::{Read as _, Write as _};
use std::net::{IpAddr, Ipv4Addr, TcpListener};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use claude_bottle::docker::bottle::{self, Bottle, LaunchSettings};
use claude_bottle::docker::container::{ExecOutput, exec_collect};
use claude_bottle::docker::engine::Engine;
use claude_bottle::docker::labels;
use claude_bottle::egress::log::{EgressEvent, EventKind, LogLine, parse_line};
use claude_bottle::manifest::ResolvedAgent;

/// On every container a test makes with the docker CLI.
pub const TEST_LABEL: &str = "claude-bottle.test=1";
/// The agent image's user.
pub const AGENT: Option<&str> = Some("1000");

pub fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("run the docker CLI")
}

/// Runs `docker ARGS`, fails the test on error, returns trimmed stdout.
pub fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

/// A name no other test run uses.
pub fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "{prefix}{:x}{:x}{}",
        std::process::id(),
        nanos,
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Launches an attacker's bottle and its neighbour's at once. Both are in
/// `cleanup` before either result is looked at, so one failed launch does
/// not leave the other behind.
pub async fn launch_attacker_and_neighbour(
    engine: &Engine,
    settings: &LaunchSettings,
    attacker: &ResolvedAgent,
    neighbour: &ResolvedAgent,
    cleanup: &mut Cleanup,
) -> (Bottle, Bottle) {
    let (mut quiet_a, mut quiet_b) = (|_| {}, |_| {});
    // Boxed: two launches side by side make a large future.
    let (a, b) = tokio::join!(
        Box::pin(bottle::launch(
            engine,
            attacker,
            &[],
            settings,
            &mut quiet_a
        )),
        Box::pin(bottle::launch(
            engine,
            neighbour,
            &[],
            settings,
            &mut quiet_b
        )),
    );
    for launched in [&a, &b].into_iter().flatten() {
        cleanup.session(&launched.session);
    }
    (
        a.expect("launch the attacker's bottle"),
        b.expect("launch the neighbour's bottle"),
    )
}

/// Containers, bottle sessions and anything else labelled, of one test,
/// removed on drop.
#[derive(Default)]
pub struct Cleanup {
    containers: Vec<String>,
    labels: Vec<String>,
}

impl Cleanup {
    pub fn container(&mut self, name: &str) {
        self.containers.push(name.to_owned());
    }

    pub fn session(&mut self, session: &str) {
        self.labels.push(format!("{}={session}", labels::SESSION));
    }

    /// Everything carrying `label` (`key=value`).
    pub fn label(&mut self, label: &str) {
        self.labels.push(label.to_owned());
    }
}

impl Cleanup {
    /// Removes the test's own containers now (they may hold a bottle's network).
    pub fn remove_containers(&mut self) {
        for container in self.containers.drain(..) {
            let _ = docker(&["rm", "-f", "-v", &container]);
        }
    }
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        self.remove_containers();
        for label in &self.labels {
            remove_by_label(label);
        }
    }
}

/// Removes every container, then every network, carrying `label`.
pub fn remove_by_label(label: &str) {
    let (containers, networks) = labelled(label);
    for id in containers {
        let _ = docker(&["rm", "-f", "-v", &id]);
    }
    for id in networks {
        let _ = docker(&["network", "rm", &id]);
    }
}

/// Ids of the containers (running or not) and networks carrying `label`.
pub fn labelled(label: &str) -> (Vec<String>, Vec<String>) {
    let filter = format!("label={label}");
    let ids = |args: &[&str]| -> Vec<String> {
        docker_ok(args)
            .lines()
            .map(str::to_owned)
            .filter(|l| !l.is_empty())
            .collect()
    };
    (
        ids(&["ps", "-aq", "--no-trunc", "--filter", &filter]),
        ids(&["network", "ls", "-q", "--no-trunc", "--filter", &filter]),
    )
}

/// Fails the test, naming them, if any container or network carries `label`.
pub fn assert_nothing_labelled(label: &str, after: &str) {
    let (containers, networks) = labelled(label);
    assert!(
        containers.is_empty() && networks.is_empty(),
        "{after}, resources labelled {label} are left: containers {containers:?}, networks {networks:?}"
    );
}

/// The IPv4 gateway recorded for a network.
pub fn network_gateway(network: &str) -> String {
    docker_ok(&[
        "network",
        "inspect",
        "-f",
        "{{range .IPAM.Config}}{{.Gateway}}{{end}}",
        network,
    ])
}

/// A container's address on one network.
pub fn ip_on(container: &str, network: &str) -> String {
    let format = format!("{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}");
    let ip = docker_ok(&["inspect", "-f", &format, container]);
    assert!(!ip.is_empty(), "{container} has no address on {network}");
    ip
}

/// The host's own IPv4 addresses (`hostname -I`), loopback excluded.
pub fn host_ipv4_addresses() -> Vec<Ipv4Addr> {
    let out = Command::new("hostname")
        .arg("-I")
        .output()
        .expect("run hostname -I");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .filter_map(|a| a.parse::<Ipv4Addr>().ok())
        .filter(|a| !a.is_loopback())
        .collect()
}

/// What a host service answers; an agent that sees it has reached the host.
pub const HOST_REPLY: &str = "host-listener-reached";

/// A TCP server on every host address (0.0.0.0, a free port) that records who
/// connected where. Lives as long as the test process.
pub struct HostListener {
    pub port: u16,
    peers: Arc<Mutex<Vec<(IpAddr, IpAddr)>>>,
}

impl HostListener {
    pub fn start() -> Self {
        let listener = TcpListener::bind("0.0.0.0:0").expect("listen on the host");
        let port = listener.local_addr().expect("listener address").port();
        let peers = Arc::new(Mutex::new(Vec::new()));
        let seen = Arc::clone(&peers);
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                if let (Ok(peer), Ok(local)) = (stream.peer_addr(), stream.local_addr()) {
                    seen.lock().expect("peers").push((peer.ip(), local.ip()));
                }
                // Read the request first: closing with unread data resets the
                // connection, and the client would see an error, not the reply.
                let _ = stream.set_read_timeout(Some(std::time::Duration::from_secs(2)));
                let mut request = Vec::new();
                let mut buf = [0u8; 1024];
                while !request.windows(4).any(|w| w == b"\r\n\r\n") {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(n) => request.extend_from_slice(&buf[..n]),
                    }
                }
                let body = format!("{HOST_REPLY}\n");
                let _ = write!(
                    stream,
                    "HTTP/1.0 200 OK\r\nContent-Length: {}\r\n\r\n{body}",
                    body.len()
                );
            }
        });
        Self { port, peers }
    }

    /// Every connection so far: (who connected, to which host address).
    pub fn peers(&self) -> Vec<(IpAddr, IpAddr)> {
        self.peers.lock().expect("peers").clone()
    }
}

/// Runs a bash script in a container; `user` `None` is the container's user.
pub async fn sh(engine: &Engine, container: &str, user: Option<&str>, script: &str) -> ExecOutput {
    exec_collect(engine, container, user, &["bash", "-c", script], vec![])
        .await
        .unwrap_or_else(|e| panic!("exec {script:?} in {container}: {e}"))
}

/// Failed checks, gathered so that one run reports every hole at once.
#[derive(Default)]
pub struct Findings(Vec<String>);

impl Findings {
    /// Records `what` as a failure unless `ok`.
    pub fn check(&mut self, ok: bool, what: impl FnOnce() -> String) {
        if !ok {
            self.0.push(what());
        }
    }

    /// Fails the test with every recorded finding.
    pub fn assert_none(self, context: &str) {
        assert!(
            self.0.is_empty(),
            "{context}: {} check(s) failed:\n- {}",
            self.0.len(),
            self.0.join("\n- ")
        );
    }
}

/// Exit code and output of an exec, for messages.
pub fn show(out: &ExecOutput) -> String {
    format!(
        "exit {} stdout {:?} stderr {:?}",
        out.exit_code,
        out.stdout.trim(),
        out.stderr.trim()
    )
}

/// The egress events a sidecar has logged so far.
pub fn sidecar_events(sidecar: &str) -> Vec<EgressEvent> {
    let out = docker(&["logs", sidecar]);
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .chain(String::from_utf8_lossy(&out.stderr).lines())
        .filter_map(|l| match parse_line(l) {
            LogLine::Event(e) => Some(*e),
            LogLine::Note(_) => None,
        })
        .collect()
}

/// Whether `events` has one of `kind` for `host` (and `method`, if given).
pub fn logged(events: &[EgressEvent], kind: &EventKind, host: &str, method: Option<&str>) -> bool {
    events.iter().any(|e| {
        &e.kind == kind
            && e.host.as_deref() == Some(host)
            && method.is_none_or(|m| e.method.as_deref() == Some(m))
    })
}
