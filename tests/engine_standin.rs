//! Real-engine tests of the pipelock stand-in as a bottle's sidecar: a client on
//! an `--internal` network reaches an outside server only through the stand-in,
//! only for allowed hosts, and every request shows up in the stand-in's log.
//!
//! These tests need a Docker engine and fail (never skip) without one. They
//! build their images first with `scripts/build-test-images.sh`.
//!
//! Debian's busybox 1.35 `wget -T` crashes, so time limits use `timeout wget`.
#![allow(clippy::expect_used)] // a broken fixture should fail the test loudly

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use claude_bottle::egress::config::{
    Inspection, PIPELOCK_PORT, PrivateDestinations, SidecarSettings, pipelock_config,
};
use claude_bottle::egress::log::{EgressEvent, EventKind, LogLine, parse_line};

const LABEL: &str = "claude-bottle.test=1";
const FILE_CONTENT: &str = "hello from the outside server";

struct Images {
    standin: String,
    busybox: String,
}

/// Built once per test binary; the script itself skips work already done.
fn images() -> &'static Images {
    static IMAGES: OnceLock<Images> = OnceLock::new();
    IMAGES.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/build-test-images.sh");
        let out = Command::new(&script)
            .output()
            .expect("run build-test-images.sh");
        assert!(
            out.status.success(),
            "build-test-images.sh failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let names = String::from_utf8_lossy(&out.stdout).into_owned();
        let find = |prefix: &str| {
            names
                .lines()
                .find(|l| l.starts_with(prefix))
                .unwrap_or_else(|| panic!("no {prefix} image in {names:?}"))
                .to_string()
        };
        Images {
            standin: find("claude-bottle-test/pipelock-standin:"),
            busybox: find("claude-bottle-test/busybox:"),
        }
    })
}

fn docker(args: &[&str]) -> Output {
    Command::new("docker")
        .args(args)
        .output()
        .expect("run the docker CLI")
}

/// Runs `docker ARGS`, fails the test on error, returns trimmed stdout.
fn docker_ok(args: &[&str]) -> String {
    let out = docker(args);
    assert!(
        out.status.success(),
        "docker {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_string()
}

fn unique(prefix: &str) -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    format!(
        "cbt-{prefix}-{}-{nanos}-{}",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed)
    )
}

/// Containers and networks of one test; removed on drop, panics included.
#[derive(Default)]
struct Cleanup {
    containers: Vec<String>,
    networks: Vec<String>,
}

impl Drop for Cleanup {
    fn drop(&mut self) {
        for container in &self.containers {
            let _ = docker(&["rm", "-f", "-v", container]);
        }
        for network in &self.networks {
            let _ = docker(&["network", "rm", network]);
        }
    }
}

/// A bottle's egress topology: an outside web server known as `allowed.test`
/// and `denied.test`, the stand-in on both networks, a client on the internal one.
struct Topology {
    _cleanup: Cleanup,
    standin: String,
    standin_ip: String,
    outside_ip: String,
    client: String,
    config_dir: tempfile::TempDir,
}

fn config_text(allowlist: &[&str]) -> String {
    // The outside servers sit on a private Docker subnet: the SSRF guard lets
    // them through only as private hosts of this bottle. Fixed, as a bottle's
    // are: strict mode refuses a reload that widens them.
    pipelock_config(&SidecarSettings {
        identity: "bottle-test".to_string(),
        allowlist: allowlist.iter().map(|h| (*h).to_string()).collect(),
        private: PrivateDestinations {
            names: vec!["allowed.test".into(), "denied.test".into()],
            blocks: vec![],
        },
        inspection: Inspection::Off,
        watches_secrets: false,
        tunnels: claude_bottle::egress::config::TunnelLimits::default(),
    })
}

fn ip_on(container: &str, network: &str) -> String {
    let format = format!("{{{{(index .NetworkSettings.Networks \"{network}\").IPAddress}}}}");
    let ip = docker_ok(&["inspect", "-f", &format, container]);
    assert!(!ip.is_empty(), "{container} has no address on {network}");
    ip
}

impl Topology {
    fn start(allowlist: &[&str]) -> Self {
        let images = images();
        let mut cleanup = Cleanup::default();
        let internal = unique("int");
        let outside_net = unique("out");
        cleanup.networks.push(docker_ok(&[
            "network",
            "create",
            "--internal",
            "--label",
            LABEL,
            &internal,
        ]));
        cleanup.networks.push(docker_ok(&[
            "network",
            "create",
            "--label",
            LABEL,
            &outside_net,
        ]));

        let outside = unique("web");
        cleanup.containers.push(outside.clone());
        let serve = format!("echo '{FILE_CONTENT}' > /www/file && exec httpd -f -p 80 -h /www");
        docker_ok(&[
            "run",
            "-d",
            "--name",
            &outside,
            "--label",
            LABEL,
            "--network",
            &outside_net,
            "--network-alias",
            "allowed.test",
            "--network-alias",
            "denied.test",
            &images.busybox,
            "sh",
            "-c",
            &serve,
        ]);

        let config_dir = tempfile::tempdir().expect("temp dir");
        let config_file = config_dir.path().join("pipelock.yaml");
        std::fs::write(&config_file, config_text(allowlist)).expect("write config");
        let standin = unique("pipelock");
        cleanup.containers.push(standin.clone());
        docker_ok(&[
            "create",
            "--name",
            &standin,
            "--label",
            LABEL,
            "--network",
            &internal,
            &images.standin,
            "run",
            "--listen",
            "0.0.0.0:8888",
            "--config",
            "/config/pipelock.yaml",
        ]);
        let destination = format!("{standin}:/config/pipelock.yaml");
        docker_ok(&["cp", &config_file.to_string_lossy(), &destination]);
        docker_ok(&["network", "connect", &outside_net, &standin]);
        docker_ok(&["start", &standin]);

        let client = unique("client");
        cleanup.containers.push(client.clone());
        docker_ok(&[
            "run",
            "-d",
            "--name",
            &client,
            "--label",
            LABEL,
            "--network",
            &internal,
            &images.busybox,
            "sleep",
            "3600",
        ]);

        let topology = Self {
            standin_ip: ip_on(&standin, &internal),
            outside_ip: ip_on(&outside, &outside_net),
            standin,
            client,
            _cleanup: cleanup,
            config_dir,
        };
        topology.wait_for_event(|e| e.kind == EventKind::Startup, "startup");
        topology
    }

    fn proxy_url(&self) -> String {
        format!("http://{}:{PIPELOCK_PORT}", self.standin_ip)
    }

    /// A shell command in the client container.
    fn client_sh(&self, script: &str) -> Output {
        docker(&["exec", &self.client, "sh", "-c", script])
    }

    /// `wget` of `url` through the stand-in; stdout and stderr together.
    fn fetch_via_proxy(&self, url: &str) -> (bool, String) {
        let out = self.client_sh(&format!(
            "http_proxy={} timeout 10 wget -O- {url} 2>&1",
            self.proxy_url()
        ));
        (
            out.status.success(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
        )
    }

    /// Raw bytes to the proxy port with nc; the answer as text.
    fn send_raw(&self, request: &str) -> String {
        let out = self.client_sh(&format!(
            "printf '{request}' | nc {} {PIPELOCK_PORT}",
            self.standin_ip
        ));
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn events(&self) -> Vec<EgressEvent> {
        let out = docker(&["logs", &self.standin]);
        String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|line| match parse_line(line) {
                LogLine::Event(e) => Some(*e),
                LogLine::Note(_) => None,
            })
            .collect()
    }

    fn stderr(&self) -> String {
        String::from_utf8_lossy(&docker(&["logs", &self.standin]).stderr).into_owned()
    }

    fn wait_for_event(&self, found: impl Fn(&EgressEvent) -> bool, what: &str) -> EgressEvent {
        let what = format!("a {what} line in the stand-in's log");
        common::wait::until(
            &what,
            Duration::from_secs(10),
            Duration::from_millis(100),
            || {
                let events = self.events();
                match events.iter().find(|e| found(e)) {
                    Some(e) => Ok(e.clone()),
                    None => Err(format!("stdout: {events:?}; stderr: {}", self.stderr())),
                }
            },
        )
    }

    /// Replaces the config inside the sidecar and signals it, as a bottle does.
    fn rewrite_config(&self, allowlist: &[&str]) {
        let file = self.config_dir.path().join("pipelock.yaml");
        std::fs::write(&file, config_text(allowlist)).expect("write config");
        let destination = format!("{}:/config/pipelock.yaml", self.standin);
        docker_ok(&["cp", &file.to_string_lossy(), &destination]);
        docker_ok(&["kill", "--signal", "HUP", &self.standin]);
    }
}

#[test]
fn plain_http_goes_out_only_to_allowed_hosts_and_is_logged() {
    let t = Topology::start(&["allowed.test"]);

    let (ok, output) = t.fetch_via_proxy("http://allowed.test/file");
    assert!(ok, "allowed fetch failed: {output}");
    assert!(output.contains(FILE_CONTENT), "{output}");

    let (ok, output) = t.fetch_via_proxy("http://denied.test/file");
    assert!(!ok, "denied fetch succeeded: {output}");
    assert!(output.contains("403"), "{output}");

    let forwarded = t.wait_for_event(|e| e.kind == EventKind::ForwardHttp, "forward_http");
    assert_eq!(forwarded.host.as_deref(), Some("allowed.test"));
    assert_eq!(
        forwarded.target.as_deref(),
        Some("http://allowed.test/file")
    );
    assert_eq!(forwarded.status_code, Some(200));
    assert_eq!(forwarded.agent.as_deref(), Some("bottle-test"));

    let blocked = t.wait_for_event(|e| e.kind == EventKind::Blocked, "blocked");
    assert_eq!(blocked.host.as_deref(), Some("denied.test"));
    assert_eq!(blocked.method.as_deref(), Some("GET"));
    assert_eq!(blocked.scanner.as_deref(), Some("allowlist"));
    assert_eq!(
        blocked.reason.as_deref(),
        Some("domain not in allowlist: denied.test")
    );
    assert!(blocked.is_denial());
    assert!(t.stderr().contains("Pipelock standin starting"));
}

#[test]
fn the_client_cannot_reach_the_outside_directly() {
    let t = Topology::start(&["allowed.test"]);
    let direct = t.client_sh(&format!(
        "timeout 2 wget -O- http://{}/file 2>&1",
        t.outside_ip
    ));
    assert!(!direct.status.success(), "direct fetch worked");
    assert!(!String::from_utf8_lossy(&direct.stdout).contains(FILE_CONTENT));

    let health = t.client_sh(&format!("timeout 5 wget -O- {}/health", t.proxy_url()));
    let body = String::from_utf8_lossy(&health.stdout);
    assert!(body.contains(r#""status":"healthy""#), "{body}");
    assert!(body.contains(r#""mode":"strict""#), "{body}");
}

#[test]
fn connect_tunnels_to_allowed_hosts_and_refuses_others() {
    let t = Topology::start(&["allowed.test"]);
    let get = r"GET /file HTTP/1.0\r\nHost: allowed.test\r\n\r\n";

    let answer = t.send_raw(&format!(
        "CONNECT allowed.test:80 HTTP/1.1\\r\\n\\r\\n{get}"
    ));
    assert!(
        answer.starts_with("HTTP/1.1 200 Connection Established\r\n\r\n"),
        "{answer}"
    );
    assert!(answer.contains(FILE_CONTENT), "{answer}");

    let answer = t.send_raw(&format!("CONNECT denied.test:80 HTTP/1.1\\r\\n\\r\\n{get}"));
    assert!(answer.starts_with("HTTP/1.1 403 Forbidden\r\n"), "{answer}");
    assert!(answer.contains("CONNECT blocked: domain not in allowlist: denied.test"));
    assert!(!answer.contains(FILE_CONTENT), "{answer}");

    let closed = t.wait_for_event(|e| e.kind == EventKind::TunnelClose, "tunnel_close");
    assert_eq!(closed.target.as_deref(), Some("allowed.test:80"));
    assert!(closed.total_bytes.unwrap_or(0) > FILE_CONTENT.len() as u64);
    assert!(closed.duration_ms.is_some());
    let events = t.events();
    let opened = events.iter().position(|e| e.kind == EventKind::TunnelOpen);
    let closed_at = events.iter().position(|e| e.kind == EventKind::TunnelClose);
    assert!(
        opened.is_some() && opened < closed_at,
        "tunnel_open comes first: {events:?}"
    );
    let blocked = t.wait_for_event(|e| e.kind == EventKind::Blocked, "blocked");
    assert_eq!(blocked.method.as_deref(), Some("CONNECT"));
    assert_eq!(blocked.target.as_deref(), Some("denied.test:80"));
    assert_eq!(
        blocked.extra.get("mitre_technique"),
        Some(&"T1071.001".into())
    );
}

#[test]
fn a_reloaded_allowlist_takes_effect_without_restart() {
    let t = Topology::start(&["allowed.test"]);
    let (ok, _) = t.fetch_via_proxy("http://denied.test/file");
    assert!(!ok, "denied.test is refused before the reload");

    t.rewrite_config(&["allowed.test", "denied.test"]);
    let reload = t.wait_for_event(|e| e.kind == EventKind::ConfigReload, "config_reload");
    assert_eq!(reload.detail.as_deref(), Some("mode=strict"));
    assert_eq!(reload.extra.get("status"), Some(&"success".into()));

    let (ok, output) = t.fetch_via_proxy("http://denied.test/file");
    assert!(ok, "denied.test still refused after the reload: {output}");
    assert!(output.contains(FILE_CONTENT), "{output}");
}

#[test]
fn sigterm_stops_the_standin_promptly_with_a_shutdown_line() {
    let t = Topology::start(&["allowed.test"]);
    let started = Instant::now();
    docker_ok(&["stop", "-t", "10", &t.standin]);
    let took = started.elapsed();
    assert!(took < Duration::from_secs(3), "stop took {took:?}");
    let shutdown = t.wait_for_event(|e| e.kind == EventKind::Shutdown, "shutdown");
    assert_eq!(shutdown.reason.as_deref(), Some("signal received"));
}
