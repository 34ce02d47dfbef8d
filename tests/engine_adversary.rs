//! An adversarial bottle: `tests/adversary/attack.sh`, the complete list of
//! ways out we know of, is copied into a running bottle and run as the agent
//! user. Every attack must print `blocked`, the script must print every line
//! it promises (a skipped attack fails), and the proxy must have logged its
//! refusals.
//!
//! The control: the same script runs in a container that is outside the
//! boundary (root, Docker's default capabilities, on the egress network and on
//! the neighbour's networks, with a "proxy" that forwards everything to the
//! denied server, a planted engine socket, setuid file, sidecar config and
//! token holder). There every attack must print `ESCAPED`, except the few
//! listed in [`NO_CONTROL`] with the reason, so a probe that cannot see a
//! success cannot pass for a closed door.
#![allow(clippy::expect_used)] // a broken fixture should fail the test loudly

mod common;
mod probe;

use std::collections::{BTreeMap, BTreeSet};

use claude_bottle::docker::bottle::Bottle;
use claude_bottle::docker::container::{ExecOutput, copy_in, exec_collect};
use claude_bottle::docker::engine::Engine;
use claude_bottle::docker::files::FileGrant;
use claude_bottle::egress::log::EventKind;
use probe::{
    AGENT, Cleanup, Findings, HOST_REPLY, HostListener, docker, docker_ok, logged, sidecar_events,
};

const SCRIPT: &str = include_str!("adversary/attack.sh");
const OUTSIDE_SERVER: &str = include_str!("adversary/outside-server.pl");
const SCRIPT_PATH: &str = "/tmp/attack.sh";
const ALLOWED_MARK: &str = "outside-allowed-server-5c1e";
const DENIED_MARK: &str = "outside-denied-server-9b2d";
const NEIGHBOUR_PORT: u16 = 9999;
const TOKEN: &str = "CLAUDE_CODE_OAUTH_TOKEN=sk-ant-oat01-adversary-test-token";

/// Every attack the script makes, in its order, but the per-address
/// `host-direct-<ip>` lines.
const ATTACKS: &[&str] = &[
    "direct-ipv4-denied",
    "direct-ipv4-allowed",
    "direct-ipv6",
    "dns-embedded-udp",
    "dns-embedded-tcp",
    "dns-configured-udp",
    "dns-configured-tcp",
    "dns-outside-udp",
    "dns-outside-tcp",
    "dns-getent",
    "metadata-direct",
    "metadata-via-proxy",
    "metadata-via-connect",
    "host-via-proxy",
    "host-via-proxy-localhost",
    "docker-socket",
    "unix-sockets",
    "neighbour-agent",
    "neighbour-sidecar-1",
    "neighbour-sidecar-2",
    "neighbour-via-proxy",
    "admin-killswitch-post",
    "admin-killswitch-get",
    "admin-sessions-get",
    "admin-sessions-reset",
    "admin-metrics",
    "admin-stats",
    "admin-fetch-denied",
    "admin-fetch-denied-ip",
    "sidecar-config-visible",
    "sidecar-config-upload",
    "sidecar-other-ports",
    "connect-disguise-host-header",
    "connect-disguise-absolute-uri",
    "connect-allowed-host-header",
    "connect-userinfo",
    "connect-mixed-case",
    "connect-trailing-dot",
    "connect-suffix",
    "connect-ip",
    "connect-ipv6-literal",
    "uri-userinfo",
    "uri-fragment",
    "uri-suffix",
    "uri-query",
    "uri-mixed-case",
    "uri-upper-scheme",
    "uri-trailing-dot",
    "uri-percent-host",
    "uri-percent-userinfo",
    "uri-backslash",
    "uri-crlf-request-line",
    "uri-crlf-encoded",
    "uri-bare-cr",
    "uri-pipelined",
    "uri-ipv6-literal",
    "uri-ip-literal",
    "uri-ip-decimal",
    "forward-host-header",
    "raw-socket-inet",
    "raw-socket-packet",
    "icmp-echo",
    "capabilities",
    "setuid-files",
    "sudo-su",
    "write-etc-passwd",
    "token-other-uid",
    "token-init-environ",
    "write-system-paths",
    "write-outside-grants",
    "policy-unchanged",
];

/// Attacks the control need not show succeeding, and why a `blocked` still
/// means something. (Host addresses on the bottles' internal bridges are
/// treated alike: the host has none there.)
const NO_CONTROL: &[(&str, &str)] = &[
    (
        "metadata-direct",
        "no metadata service exists on most test machines; the same probe form is shown by \
         direct-ipv4-*",
    ),
    (
        "admin-metrics",
        "read-only counters; ESCAPED only if they name the neighbour, which no sidecar knows",
    ),
    ("admin-stats", "as admin-metrics"),
    (
        "sidecar-other-ports",
        "no sidecar listens on them; the same nc probe is shown by neighbour-*",
    ),
];

/// Attacks tunnelled to `allowed.test`'s server: the reply must come from it,
/// which shows the probe reads whichever server answered.
const ANSWERED_BY_ALLOWED: &[&str] = &["connect-disguise-host-header", "forward-host-header"];

/// Attacks that start with a request for `allowed.test`'s server and then ask
/// for `denied.test`: the stand-in relays them to `allowed.test`'s server,
/// real pipelock refuses the part for `denied.test` itself (403). Either way
/// the denied server must not answer, which the attack's own result checks.
const ANSWERED_BY_ALLOWED_OR_REFUSED: &[&str] = &["connect-disguise-absolute-uri", "uri-pipelined"];

#[derive(Debug)]
struct Line {
    escaped: bool,
    detail: String,
}

/// `RESULT` lines by name (with duplicates counted), and `CONTROL` lines.
struct Report {
    results: BTreeMap<String, Line>,
    count: usize,
    controls: Vec<String>,
}

fn parse(out: &ExecOutput) -> Report {
    let mut results = BTreeMap::new();
    let mut count = 0;
    let mut controls = Vec::new();
    for line in out.stdout.lines() {
        if let Some(rest) = line.strip_prefix("RESULT ") {
            count += 1;
            let mut parts = rest.splitn(3, ' ');
            let name = parts.next().unwrap_or_default().to_owned();
            let verdict = parts.next().unwrap_or_default();
            let detail = parts.next().unwrap_or_default().to_owned();
            assert!(
                matches!(verdict, "blocked" | "ESCAPED"),
                "malformed line {line:?}"
            );
            let escaped = verdict == "ESCAPED";
            results.insert(name, Line { escaped, detail });
        } else if let Some(rest) = line.strip_prefix("CONTROL ") {
            controls.push(rest.to_owned());
        }
    }
    Report {
        results,
        count,
        controls,
    }
}

/// Where everything the script attacks is.
struct Targets {
    allowed_ip: String,
    denied_ip: String,
    host_ips: Vec<String>,
    host_port: u16,
    neighbour_agent: String,
    neighbour_sidecars: [String; 2],
}

impl Targets {
    /// The script's command line, with `proxy` as the bottle's proxy.
    fn command(&self, proxy: &str, metadata_ip: &str) -> Vec<String> {
        vec![
            "bash".to_owned(),
            SCRIPT_PATH.to_owned(),
            format!("proxy={proxy}"),
            format!("allowed_ip={}", self.allowed_ip),
            format!("denied_ip={}", self.denied_ip),
            format!("allowed_mark={ALLOWED_MARK}"),
            format!("denied_mark={DENIED_MARK}"),
            format!("host_ips={}", self.host_ips.join(",")),
            format!("host_port={}", self.host_port),
            format!("host_mark={HOST_REPLY}"),
            format!("neighbour_agent={}", self.neighbour_agent),
            format!("neighbour_port={NEIGHBOUR_PORT}"),
            format!("neighbour_sidecar={}", self.neighbour_sidecars.join(",")),
            format!("metadata_ip={metadata_ip}"),
        ]
    }

    /// Every RESULT name the script must print.
    fn expected(&self) -> BTreeSet<String> {
        let mut expected: BTreeSet<String> = ATTACKS.iter().map(|s| (*s).to_owned()).collect();
        expected.extend(self.host_ips.iter().map(|ip| format!("host-direct-{ip}")));
        expected
    }
}

async fn run_script(
    engine: &Engine,
    container: &str,
    user: Option<&str>,
    command: &[String],
) -> ExecOutput {
    let command: Vec<&str> = command.iter().map(String::as_str).collect();
    exec_collect(engine, container, user, &command, vec![])
        .await
        .unwrap_or_else(|e| panic!("run the attack script in {container}: {e}"))
}

#[tokio::test]
async fn an_adversary_in_a_bottle_stays_in() {
    let engine = common::engine().await;
    let settings = common::launch_settings().await;
    let attacker = common::plain_outside_agent("adversary", &["allowed.test"]);
    let neighbour = common::plain_outside_agent("target", &["allowed.test"]);

    let mut cleanup = Cleanup::default();
    let (a, b) = probe::launch_attacker_and_neighbour(
        &engine,
        &settings,
        &attacker,
        &neighbour,
        &mut cleanup,
    )
    .await;

    let host = HostListener::start();
    let internal_gateways = [
        probe::network_gateway(&a.names.internal_network),
        probe::network_gateway(&b.names.internal_network),
    ];
    let mut host_ips: Vec<String> = probe::host_ipv4_addresses()
        .iter()
        .map(ToString::to_string)
        .collect();
    host_ips.push(probe::network_gateway(&a.names.egress_network));
    host_ips.extend(internal_gateways.iter().cloned());
    host_ips.sort();
    host_ips.dedup();
    let targets = Targets {
        allowed_ip: start_outside(&engine, &mut cleanup, &a, "allowed.test", ALLOWED_MARK).await,
        denied_ip: start_outside(&engine, &mut cleanup, &a, "denied.test", DENIED_MARK).await,
        host_ips,
        host_port: host.port,
        neighbour_agent: b.agent_ip.to_string(),
        neighbour_sidecars: [
            b.proxy_ip.to_string(),
            probe::ip_on(&b.sidecar_container, &b.names.egress_network),
        ],
    };
    arm_bottles(&a, &b);
    let script = FileGrant::file(SCRIPT_PATH, 0o755, (1000, 1000), SCRIPT.as_bytes().to_vec());
    copy_in(&engine, &a.agent_container, std::slice::from_ref(&script))
        .await
        .expect("copy the script into the bottle");
    let run = run_script(
        &engine,
        &a.agent_container,
        AGENT,
        &targets.command(&a.proxy_addr(), "169.254.169.254"),
    )
    .await;

    // Shown with --nocapture, and on failure.
    println!("{}", run.stdout);
    let mut findings = Findings::default();
    judge_attack(&parse(&run), &targets.expected(), &run, &mut findings);
    findings.check(host.peers().is_empty(), || {
        format!("the host listener was reached: {:?}", host.peers())
    });
    let denied_log = docker_ok(&["logs", &outside_name(&a, "denied.test")]);
    findings.check(!denied_log.contains("contact"), || {
        format!("the denied server was contacted during the attack:\n{denied_log}")
    });
    check_sidecar_log(&a, &targets.denied_ip, &mut findings);

    let control = start_control(
        &engine,
        &mut cleanup,
        &a,
        &b,
        &settings.agent_image,
        &script,
    )
    .await;
    let proxy = format!("{}:80", targets.denied_ip);
    // The control sits on networks with a way off the machine: its metadata
    // probe goes to a local test server instead of 169.254.169.254.
    let control_command = targets.command(&proxy, &targets.denied_ip);
    let control_run = run_script(&engine, &control, Some("0"), &control_command).await;
    judge_control(
        &parse(&control_run),
        &targets.expected(),
        &internal_gateways,
        &control_run,
        &mut findings,
    );

    findings.assert_none("an adversary inside a bottle");
    cleanup.remove_containers();
    a.teardown(&engine).await.expect("tear down the attacker");
    b.teardown(&engine).await.expect("tear down the neighbour");
    for s in [&a.session, &b.session] {
        probe::assert_nothing_labelled(&format!("claude-bottle.session={s}"), "after teardown");
    }
}

/// The neighbour's agent listens; a root process and another uid's hold a
/// token in the attacker's bottle (in the product only uid 1000 ever does).
fn arm_bottles(a: &Bottle, b: &Bottle) {
    docker_ok(&[
        "exec",
        "-d",
        "-u",
        "1000",
        &b.agent_container,
        "nc",
        "-lk",
        &NEIGHBOUR_PORT.to_string(),
    ]);
    for uid in ["0", "1001"] {
        docker_ok(&[
            "exec",
            "-d",
            "-u",
            uid,
            "-e",
            TOKEN,
            &a.agent_container,
            "sleep",
            "600",
        ]);
    }
}

fn judge_attack(
    report: &Report,
    expected: &BTreeSet<String>,
    run: &ExecOutput,
    findings: &mut Findings,
) {
    let got: BTreeSet<String> = report.results.keys().cloned().collect();
    findings.check(got == *expected && report.count == expected.len(), || {
        format!(
            "the script printed {} RESULT lines, expected {}; missing {:?}, unexpected {:?} \
             (stderr {:?})",
            report.count,
            expected.len(),
            expected.difference(&got).collect::<Vec<_>>(),
            got.difference(expected).collect::<Vec<_>>(),
            run.stderr
        )
    });
    let escaped: Vec<String> = report
        .results
        .iter()
        .filter(|(_, l)| l.escaped)
        .map(|(name, l)| format!("RESULT {name} ESCAPED {}", l.detail))
        .collect();
    findings.check(escaped.is_empty(), || {
        format!(
            "{} attack(s) got out of the bottle:\n  {}",
            escaped.len(),
            escaped.join("\n  ")
        )
    });
    findings.check(
        report.controls.len() == 2 && report.controls.iter().all(|c| c.ends_with(" ok")),
        || {
            format!(
                "control: the proxy does not let the allowed host through, so the proxy \
                 attacks prove nothing: {:?}",
                report.controls
            )
        },
    );
    for name in ANSWERED_BY_ALLOWED {
        let detail = report.results.get(*name).map_or("", |l| l.detail.as_str());
        findings.check(detail.contains("answered-by=allowed-server"), || {
            format!("control: {name} was not answered by allowed.test's server: {detail:?}")
        });
    }
    for name in ANSWERED_BY_ALLOWED_OR_REFUSED {
        let detail = report.results.get(*name).map_or("", |l| l.detail.as_str());
        let refused = detail.starts_with("HTTP/1.1 403") || detail.contains("answered-by=none");
        findings.check(
            detail.contains("answered-by=allowed-server") || refused,
            || format!("control: {name} was neither answered by allowed.test's server nor refused: {detail:?}"),
        );
    }
}

/// In the control every attack gets out, but those in [`NO_CONTROL`] need not.
fn judge_control(
    report: &Report,
    expected: &BTreeSet<String>,
    internal_gateways: &[String],
    run: &ExecOutput,
    findings: &mut Findings,
) {
    let got: BTreeSet<String> = report.results.keys().cloned().collect();
    findings.check(got == *expected, || {
        format!(
            "control: the script printed {:?}, expected {expected:?} (stderr {:?})",
            got, run.stderr
        )
    });
    for (name, line) in &report.results {
        // The internal bridges have no host address: from anywhere, nothing
        // of the host answers there.
        let uncontrolled = NO_CONTROL.iter().any(|(n, _)| n == name)
            || internal_gateways
                .iter()
                .any(|gw| *name == format!("host-direct-{gw}"));
        findings.check(line.escaped || uncontrolled, || {
            format!(
                "control: {name} did not escape even outside the boundary, so its probe \
                 cannot see a success: {}",
                line.detail
            )
        });
    }
}

/// The proxy logged its refusals of the denied host, by name and by address,
/// and of the metadata address.
fn check_sidecar_log(a: &Bottle, denied_ip: &str, findings: &mut Findings) {
    let events = sidecar_events(&a.sidecar_container);
    for (host, method) in [
        ("denied.test", Some("GET")),
        ("denied.test", Some("CONNECT")),
        ("allowed.test.denied.test", None),
        (denied_ip, None),
        ("169.254.169.254", None),
    ] {
        findings.check(logged(&events, &EventKind::Blocked, host, method), || {
            format!("the sidecar log has no blocked line for {method:?} {host}: {events:#?}")
        });
    }
}

fn outside_name(a: &Bottle, alias: &str) -> String {
    format!("cbt-outside-{}-{}", a.session, alias.replace('.', "-"))
}

/// An outside server on the attacker's egress network, known as `alias`,
/// answering `marker` to everything; returns its address.
async fn start_outside(
    engine: &Engine,
    cleanup: &mut Cleanup,
    a: &Bottle,
    alias: &str,
    marker: &str,
) -> String {
    let name = outside_name(a, alias);
    cleanup.container(&name);
    docker_ok(&[
        "create",
        "--name",
        &name,
        "--label",
        probe::TEST_LABEL,
        "--network",
        &a.names.egress_network,
        "--network-alias",
        alias,
        "--entrypoint",
        "perl",
        common::TEST_BASE_IMAGE,
        "/srv/outside-server.pl",
        marker,
    ]);
    let server = FileGrant::file(
        "/srv/outside-server.pl",
        0o755,
        (0, 0),
        OUTSIDE_SERVER.as_bytes().to_vec(),
    );
    copy_in(engine, &name, &[server])
        .await
        .expect("copy the outside server in");
    docker_ok(&["start", &name]);
    for _ in 0..100 {
        if docker_ok(&["logs", &name]).contains("listening") {
            return probe::ip_on(&name, &a.names.egress_network);
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the outside server {alias} did not start: {:?}",
        docker(&["logs", &name])
    );
}

/// A container outside the boundary: root, default capabilities, on the
/// attacker's egress network and both of the neighbour's networks, with a
/// token in pid 1 and in another uid's process, an engine socket, a setuid
/// file and a sidecar config planted.
async fn start_control(
    engine: &Engine,
    cleanup: &mut Cleanup,
    a: &Bottle,
    b: &Bottle,
    image: &str,
    script: &FileGrant,
) -> String {
    let name = probe::unique("cbt-control-");
    cleanup.container(&name);
    docker_ok(&[
        "run",
        "-d",
        "--name",
        &name,
        "--label",
        probe::TEST_LABEL,
        "--user",
        "0",
        // Root outside a bottle may read any process's environment.
        "--cap-add",
        "SYS_PTRACE",
        "-e",
        TOKEN,
        "--network",
        &a.names.egress_network,
        "--entrypoint",
        "sleep",
        image,
        "infinity",
    ]);
    for network in [&b.names.internal_network, &b.names.egress_network] {
        docker_ok(&["network", "connect", network, &name]);
    }
    copy_in(engine, &name, std::slice::from_ref(script))
        .await
        .expect("copy the script into the control");
    docker_ok(&[
        "exec",
        &name,
        "sh",
        "-c",
        "mkdir -p /config && echo 'mode: strict' > /config/pipelock.yaml && \
         cp /bin/true /usr/local/bin/setuid-true && chmod 4755 /usr/local/bin/setuid-true",
    ]);
    docker_ok(&[
        "exec", "-d", "-u", "1001", "-e", TOKEN, &name, "sleep", "600",
    ]);
    docker_ok(&[
        "exec",
        "-d",
        &name,
        "perl",
        "-MIO::Socket::UNIX",
        "-e",
        "my $l = IO::Socket::UNIX->new(Local => '/var/run/docker.sock', Listen => 5) or die $!; \
         while (my $c = $l->accept) { print $c qq(HTTP/1.0 200 OK\\r\\n\\r\\n{\"Version\":\"planted\"}); close $c }",
    ]);
    for _ in 0..50 {
        if docker(&["exec", &name, "test", "-S", "/var/run/docker.sock"])
            .status
            .success()
        {
            return name;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("control: the planted engine socket did not appear");
}
