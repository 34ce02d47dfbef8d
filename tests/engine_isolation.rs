//! The security boundary on the real engine, tried from inside a bottle as an
//! attacker would: every way out of the agent container that does not go
//! through its egress proxy must fail, and the proxy must let out only what the
//! allowlist names. Each check that can only fail (a connection that must not
//! work) has a control that shows the same probe succeeds where it should, so a
//! broken probe cannot pass for a closed door.
//!
//! Two bottles run side by side: `attacker` (plain) attacks; `neighbour` has
//! ssh and skill grants, whose files are checked, and is the bottle the
//! attacker tries to reach.
#![allow(clippy::expect_used)] // a broken fixture should fail the test loudly

mod common;
mod probe;

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::process::Command;

use claude_bottle::docker::bottle::Bottle;
use claude_bottle::docker::container::ExecOutput;
use claude_bottle::docker::engine::Engine;
use claude_bottle::egress::log::EventKind;
use claude_bottle::manifest::{ResolvedAgent, Skill, SshHost};
use futures_util::future::join_all;
use probe::{
    AGENT, Cleanup, Findings, HOST_REPLY, HostListener, docker_ok, logged, sh, show, sidecar_events,
};

const FILE_CONTENT: &str = "outside-file-7f3a";
const BUSYBOX: &str = "claude-bottle-test/busybox:latest";
/// A port the neighbour's agent listens on.
const NEIGHBOUR_PORT: u16 = 9999;
/// Makes glibc give up on a name after one 1 s try instead of 20 s.
const QUICK_RESOLVER: &str = "RES_OPTIONS='timeout:1 attempts:1'";

/// An agent with an ssh entry (a throwaway key) and a skill, as resolved from
/// a manifest.
fn granted_agent(dir: &Path) -> (ResolvedAgent, Vec<u8>, String) {
    let key = dir.join("id_ed25519");
    let status = Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "bottle-test", "-f"])
        .arg(&key)
        .status()
        .expect("run ssh-keygen");
    assert!(status.success(), "ssh-keygen failed");
    let public = std::fs::read_to_string(dir.join("id_ed25519.pub")).expect("read public key");
    let mut parts = public.split_whitespace();
    let known_host_key = format!(
        "[gitea.test]:2222 {} {}",
        parts.next().expect("key type"),
        parts.next().expect("key")
    );
    let skill = dir.join("skills/review");
    std::fs::create_dir_all(&skill).expect("skill dir");
    std::fs::write(skill.join("SKILL.md"), "# Review\nRead the diff.\n").expect("SKILL.md");
    std::fs::write(skill.join("run.sh"), "#!/bin/sh\necho review\n").expect("run.sh");
    std::fs::set_permissions(
        skill.join("run.sh"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .expect("chmod run.sh");
    // A skill folder could hold a link to a host secret; it must not be followed.
    std::os::unix::fs::symlink("/etc/shadow", skill.join("leak")).expect("symlink");

    let mut resolved = common::plain_outside_agent("neighbour", &["allowed.test", "gitea.test"]);
    resolved.bottle.ssh = vec![SshHost {
        host: "gitea".into(),
        hostname: "gitea.test".into(),
        user: Some("git".into()),
        port: Some(2222),
        identity_file: key.clone(),
        known_host_key: known_host_key.clone(),
    }];
    resolved.skills = vec![Skill {
        name: "review".into(),
        dir: skill,
    }];
    let key_bytes = std::fs::read(&key).expect("read key");
    (resolved, key_bytes, known_host_key)
}

/// `printf` escapes for a DNS query (id 0x1234, recursion desired) for `name`'s A record.
fn dns_query(name: &str) -> String {
    let mut bytes = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
    for label in name.split('.') {
        bytes.push(u8::try_from(label.len()).expect("short label"));
        bytes.extend_from_slice(label.as_bytes());
    }
    bytes.extend_from_slice(&[0, 0, 1, 0, 1]);
    bytes.iter().fold(String::new(), |mut s, b| {
        let _ = write!(s, "\\x{b:02x}");
        s
    })
}

/// Sends the query over UDP and prints the reply as hex (nothing if none came).
fn dns_probe(server: &str, name: &str) -> String {
    format!(
        "printf '{}' | nc -u -w 2 {server} 53 | od -An -tx1 -v",
        dns_query(name)
    )
}

/// The answer count of a hex-dumped DNS reply; `None` when there was no reply.
fn dns_answers(hex: &str) -> Option<u16> {
    let bytes: Vec<u8> = hex
        .split_whitespace()
        .filter_map(|b| u8::from_str_radix(b, 16).ok())
        .collect();
    (bytes.len() >= 8).then(|| u16::from_be_bytes([bytes[6], bytes[7]]))
}

fn no_dns_answer(out: &ExecOutput) -> bool {
    dns_answers(&out.stdout).is_none_or(|n| n == 0)
}

/// Runs every probe concurrently, as the agent user; results by name.
async fn run_probes(
    engine: &Engine,
    container: &str,
    probes: &[(String, String)],
) -> HashMap<String, ExecOutput> {
    let runs = probes.iter().map(|(name, script)| async move {
        (name.clone(), sh(engine, container, AGENT, script).await)
    });
    join_all(runs).await.into_iter().collect()
}

/// Starts the stand-in outside world on the attacker's egress network: one
/// web server known as both `allowed.test` and `denied.test`.
fn start_outside_server(cleanup: &mut Cleanup, egress_network: &str) -> String {
    let name = probe::unique("cbt-outside-");
    cleanup.container(&name);
    let serve = format!("echo {FILE_CONTENT} > /www/file && exec httpd -f -p 80 -h /www");
    docker_ok(&[
        "run",
        "-d",
        "--name",
        &name,
        "--label",
        probe::TEST_LABEL,
        "--network",
        egress_network,
        "--network-alias",
        "allowed.test",
        "--network-alias",
        "denied.test",
        BUSYBOX,
        "sh",
        "-c",
        &serve,
    ]);
    probe::ip_on(&name, egress_network)
}

/// A container of the agent image sharing the sidecar's network namespace:
/// it sees exactly what the sidecar sees, and has the agent's tools.
fn start_sidecar_twin(cleanup: &mut Cleanup, sidecar: &str, image: &str) -> String {
    let name = probe::unique("cbt-twin-");
    cleanup.container(&name);
    let network = format!("container:{sidecar}");
    docker_ok(&[
        "run",
        "-d",
        "--name",
        &name,
        "--label",
        probe::TEST_LABEL,
        "--network",
        &network,
        "--entrypoint",
        "sleep",
        image,
        "infinity",
    ]);
    name
}

#[tokio::test]
async fn an_agent_cannot_leave_its_bottle() {
    let engine = common::engine().await;
    let settings = common::launch_settings().await;
    let keys = tempfile::tempdir().expect("temp dir");
    let (neighbour_agent, key, known_host_key) = granted_agent(keys.path());
    let attacker_agent = common::plain_outside_agent("attacker", &["allowed.test"]);

    let mut cleanup = Cleanup::default();
    let (a, b) = probe::launch_attacker_and_neighbour(
        &engine,
        &settings,
        &attacker_agent,
        &neighbour_agent,
        &mut cleanup,
    )
    .await;
    let scene = set_scene(&engine, &a, &b, &settings.agent_image, &mut cleanup).await;

    let mut findings = Findings::default();
    // Attacks from the attacker's agent, all at once.
    let results = run_probes(&engine, &a.agent_container, &attack_probes(&scene)).await;
    let peers_during_attack = scene.host.peers();
    judge_attacks(&scene, &results, &peers_during_attack, &mut findings);
    check_proxy_log(&scene, &mut findings);
    run_controls(&engine, &scene).await;
    privileges(&engine, &a, &mut findings).await;
    grants(&engine, &b, &key, &known_host_key, &mut findings).await;
    // The image makes ~/.ssh and ~/.claude empty; without grants nothing is put in them.
    let no_grants = sh(
        &engine,
        &a.agent_container,
        AGENT,
        "find ~/.ssh ~/.claude -mindepth 1",
    )
    .await;
    findings.check(
        no_grants.exit_code == 0 && no_grants.stdout.trim().is_empty(),
        || {
            format!(
                "a bottle without grants has files in ~/.ssh or ~/.claude: {}",
                show(&no_grants)
            )
        },
    );

    findings.assert_none("an attacker inside a bottle");
    cleanup.remove_containers();
    a.teardown(&engine).await.expect("tear down the attacker");
    b.teardown(&engine).await.expect("tear down the neighbour");
    for s in [&a.session, &b.session] {
        probe::assert_nothing_labelled(&format!("claude-bottle.session={s}"), "after teardown");
    }
}

/// No engine socket, no capabilities, no way to gain privileges.
async fn privileges(engine: &Engine, a: &Bottle, findings: &mut Findings) {
    let c = &a.agent_container;
    let id = sh(engine, c, AGENT, "id -u").await;
    findings.check(id.stdout.trim() == "1000", || {
        format!("the agent is not uid 1000: {}", show(&id))
    });
    // The container's own user, as the product's exec runs as.
    let id = sh(engine, c, None, "id -u").await;
    findings.check(id.stdout.trim() == "1000", || {
        format!("the container's default user is not 1000: {}", show(&id))
    });
    let sockets = sh(
        engine,
        c,
        AGENT,
        "ls -l /var/run/docker.sock /run/docker.sock 2>/dev/null; \
         find / \\( -path /proc -o -path /sys \\) -prune -o -type s -print 2>/dev/null; true",
    )
    .await;
    findings.check(sockets.stdout.trim().is_empty(), || {
        format!(
            "unix sockets in the agent (docker.sock?): {}",
            show(&sockets)
        )
    });
    let status = sh(engine, c, AGENT, "cat /proc/self/status").await.stdout;
    let field = |name: &str| {
        status
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}:")))
            .map_or("missing", str::trim)
            .to_owned()
    };
    for cap in ["CapEff", "CapPrm", "CapBnd", "CapAmb"] {
        findings.check(field(cap) == "0000000000000000", || {
            format!("{cap} of the agent is {}", field(cap))
        });
    }
    findings.check(field("NoNewPrivs") == "1", || {
        format!("NoNewPrivs of the agent is {}", field("NoNewPrivs"))
    });
    // Even an exec as root (which the agent cannot ask for) has no capabilities.
    let root = sh(engine, c, Some("0"), "grep CapEff /proc/self/status").await;
    findings.check(root.stdout.contains("0000000000000000"), || {
        format!("a root exec in the agent has capabilities: {}", show(&root))
    });
    // The host's side of the bridge has an IPv6 link-local address; the agent
    // must have no IPv6 at all (and no CAP_NET_ADMIN to turn it on).
    let ipv6 = sh(
        engine,
        c,
        AGENT,
        "cat /proc/net/if_inet6; cat /proc/sys/net/ipv6/conf/all/disable_ipv6",
    )
    .await;
    findings.check(ipv6.stdout.trim() == "1", || {
        format!(
            "the agent has IPv6 (a path to the host's link-local address): {}",
            show(&ipv6)
        )
    });
    // Its own pid namespace: no sidecar, engine or host process to signal or trace.
    let ps = sh(engine, c, AGENT, "ps -e -o comm=").await;
    let foreign: Vec<&str> = ps
        .stdout
        .lines()
        .map(str::trim)
        .filter(|p| !["docker-init", "sleep", "bash", "ps", "nc"].contains(p))
        .collect();
    findings.check(ps.exit_code == 0 && foreign.is_empty(), || {
        format!(
            "the agent sees processes outside its container: {foreign:?} ({})",
            show(&ps)
        )
    });
    // Limits: one agent cannot starve the others (fork bomb, memory).
    let limits = sh(
        engine,
        c,
        AGENT,
        // cgroup v1 paths, then v2.
        "cd /sys/fs/cgroup; cat pids/pids.max 2>/dev/null || cat pids.max; \
         cat memory/memory.limit_in_bytes 2>/dev/null || cat memory.max",
    )
    .await;
    let expected = format!(
        "{}\n{}",
        claude_bottle::docker::agent::DEFAULT_PIDS,
        claude_bottle::docker::agent::DEFAULT_MEMORY_BYTES
    );
    findings.check(limits.stdout.trim() == expected, || {
        format!(
            "the agent's pids/memory limits are not the defaults {expected:?}: {}",
            show(&limits)
        )
    });
    let suid = sh(
        engine,
        c,
        AGENT,
        "find / -xdev -type f -perm /6000 2>/dev/null; true",
    )
    .await;
    findings.check(suid.stdout.trim().is_empty(), || {
        format!("setuid/setgid files in the agent: {}", show(&suid))
    });
}

/// The granted files, with their modes and owners, and nothing from the host.
async fn grants(
    engine: &Engine,
    b: &Bottle,
    key: &[u8],
    known_host_key: &str,
    findings: &mut Findings,
) {
    let c = &b.agent_container;
    let stat = sh(
        engine,
        c,
        AGENT,
        "cd ~ && stat -c '%a %u:%g %n' .ssh .ssh/* .claude/skills/review .claude/skills/review/*",
    )
    .await;
    let expected = "700 1000:1000 .ssh\n\
                    600 1000:1000 .ssh/config\n\
                    600 1000:1000 .ssh/id_gitea\n\
                    644 1000:1000 .ssh/known_hosts\n\
                    755 1000:1000 .claude/skills/review\n\
                    644 1000:1000 .claude/skills/review/SKILL.md\n\
                    755 1000:1000 .claude/skills/review/run.sh";
    findings.check(stat.stdout.trim() == expected, || {
        format!(
            "granted files differ from what was granted (modes, owners, or extra files such as \
             a followed symlink):\nexpected\n{expected}\ngot {}",
            show(&stat)
        )
    });
    let identity = sh(engine, c, AGENT, "cat ~/.ssh/id_gitea").await;
    findings.check(identity.stdout.as_bytes() == key, || {
        format!(
            "~/.ssh/id_gitea is not the granted key: {}",
            show(&identity)
        )
    });
    let known = sh(engine, c, AGENT, "cat ~/.ssh/known_hosts").await;
    findings.check(known.stdout == format!("{known_host_key}\n"), || {
        format!("~/.ssh/known_hosts: {}", show(&known))
    });
    let config = sh(engine, c, AGENT, "cat ~/.ssh/config").await;
    let proxy_command = format!("ProxyCommand nc -X connect -x {} %h %p", b.proxy_addr());
    findings.check(
        config.stdout.contains("Host gitea") && config.stdout.contains(&proxy_command),
        || {
            format!(
                "~/.ssh/config lacks the host or {proxy_command:?}: {}",
                show(&config)
            )
        },
    );
    let skill = sh(engine, c, AGENT, "~/.claude/skills/review/run.sh").await;
    findings.check(skill.stdout.trim() == "review", || {
        format!("the granted skill script does not run: {}", show(&skill))
    });

    // Bind mounts from a host file system: only what Docker itself adds.
    let mounts = sh(engine, c, AGENT, "cat /proc/self/mountinfo")
        .await
        .stdout;
    let pseudo = [
        "overlay", "proc", "tmpfs", "devpts", "sysfs", "cgroup", "cgroup2", "mqueue",
    ];
    let docker_own = [
        "/etc/resolv.conf",
        "/etc/hostname",
        "/etc/hosts",
        "/usr/sbin/docker-init",
    ];
    for line in mounts.lines() {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let mount_point = fields.get(4).copied().unwrap_or("");
        let fs_type = line
            .split(" - ")
            .nth(1)
            .and_then(|rest| rest.split_whitespace().next())
            .unwrap_or("");
        findings.check(
            pseudo.contains(&fs_type) || docker_own.contains(&mount_point),
            || format!("a host file system is mounted into the agent: {line}"),
        );
    }
    let host_home = std::env::var("HOME").unwrap_or_else(|_| "/root".into());
    let home = sh(
        engine,
        c,
        AGENT,
        &format!("ls -A {host_home}/.ssh 2>&1; ls -A /root 2>&1; true"),
    )
    .await;
    findings.check(
        !home.stdout.contains("id_") && !home.stdout.contains("known_hosts"),
        || format!("the host's ~/.ssh is visible in the agent: {}", show(&home)),
    );
}

/// The attacker's targets: an outside server, a host service, the neighbour.
struct Scene<'a> {
    a: &'a Bottle,
    b: &'a Bottle,
    /// The outside server's address on the attacker's egress network.
    web_ip: String,
    /// A container in the attacker's sidecar's network namespace.
    twin: String,
    host: HostListener,
    internal_gw: String,
    egress_gw: String,
    b_sidecar_egress: String,
    /// Every address of the host: its own and the bottles' gateways.
    host_ips: Vec<String>,
}

async fn set_scene<'a>(
    engine: &Engine,
    a: &'a Bottle,
    b: &'a Bottle,
    agent_image: &str,
    cleanup: &mut Cleanup,
) -> Scene<'a> {
    let web_ip = start_outside_server(cleanup, &a.names.egress_network);
    let twin = start_sidecar_twin(cleanup, &a.sidecar_container, agent_image);
    // The outside server answers before anything is tried against it.
    let up = sh(
        engine,
        &twin,
        None,
        &format!(
            "for i in $(seq 50); do curl --noproxy '*' -sf -m 1 http://{web_ip}/file && exit 0; \
             sleep 0.1; done; exit 1"
        ),
    )
    .await;
    assert!(
        up.stdout.contains(FILE_CONTENT),
        "control: the outside server does not answer on the egress network: {}",
        show(&up)
    );
    let host = HostListener::start();
    let internal_gw = probe::network_gateway(&a.names.internal_network);
    let egress_gw = probe::network_gateway(&a.names.egress_network);
    let b_sidecar_egress = probe::ip_on(&b.sidecar_container, &b.names.egress_network);
    let mut host_ips: Vec<String> = probe::host_ipv4_addresses()
        .iter()
        .map(ToString::to_string)
        .collect();
    host_ips.extend([internal_gw.clone(), egress_gw.clone()]);
    host_ips.push(probe::network_gateway(&b.names.internal_network));
    host_ips.sort();
    host_ips.dedup();

    // The neighbour's agent listens, and can be reached inside its own bottle.
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
    let b_self = sh(
        engine,
        &b.agent_container,
        AGENT,
        &format!(
            "for i in $(seq 50); do nc -z -w 1 {} {NEIGHBOUR_PORT} && exit 0; sleep 0.1; done; exit 1",
            b.agent_ip
        ),
    )
    .await;
    assert_eq!(
        b_self.exit_code,
        0,
        "control: the neighbour's listener is not up: {}",
        show(&b_self)
    );
    Scene {
        a,
        b,
        web_ip,
        twin,
        host,
        internal_gw,
        egress_gw,
        b_sidecar_egress,
        host_ips,
    }
}

fn attack_probes(scene: &Scene<'_>) -> Vec<(String, String)> {
    let Scene {
        a,
        b,
        web_ip,
        host,
        internal_gw,
        egress_gw,
        b_sidecar_egress,
        host_ips,
        ..
    } = scene;
    let port = host.port;
    let mut probes: Vec<(String, String)> = vec![
        (
            "direct curl to the outside server".into(),
            format!("curl --noproxy '*' -sS -m 3 http://{web_ip}/file"),
        ),
        (
            "direct nc to the outside server".into(),
            format!("nc -z -w 2 {web_ip} 80"),
        ),
        (
            "allowed host through the proxy".into(),
            "curl -sS -m 10 http://allowed.test/file".into(),
        ),
        (
            "allowed host through a CONNECT tunnel".into(),
            "curl -sS -m 10 --proxytunnel http://allowed.test/file".into(),
        ),
        (
            "denied host through the proxy".into(),
            "curl -s -m 10 -o /dev/null -w '%{http_code}' http://denied.test/".into(),
        ),
        (
            "denied host through a CONNECT tunnel".into(),
            "curl -s -m 10 --proxytunnel -o /dev/null -w '%{http_connect}' http://denied.test/"
                .into(),
        ),
        (
            "outside server's IP through the proxy".into(),
            format!("curl -s -m 10 -o /dev/null -w '%{{http_code}}' http://{web_ip}/file"),
        ),
        (
            "host service through the proxy".into(),
            format!("curl -s -m 10 -o /dev/null -w '%{{http_code}}' http://{egress_gw}:{port}/"),
        ),
        (
            "the neighbour's proxy".into(),
            format!("nc -z -w 2 {} 8888", b.proxy_ip),
        ),
        (
            "the neighbour's proxy used as a proxy".into(),
            format!(
                "curl -sS -m 5 -x http://{}:8888 http://allowed.test/file",
                b.proxy_ip
            ),
        ),
        (
            "the neighbour's sidecar on its egress network".into(),
            format!("nc -z -w 2 {b_sidecar_egress} 8888"),
        ),
        (
            "the neighbour's agent".into(),
            format!("nc -z -w 2 {} {NEIGHBOUR_PORT}", b.agent_ip),
        ),
        (
            "DNS over TCP to the sidecar".into(),
            format!("nc -z -w 2 {} 53", a.proxy_ip),
        ),
        (
            "cloud metadata service".into(),
            "curl --noproxy '*' -sS -m 3 http://169.254.169.254/".into(),
        ),
        (
            "cloud metadata service through the proxy".into(),
            "curl -s -m 10 -o /dev/null -w '%{http_code}' http://169.254.169.254/".into(),
        ),
    ];
    for name in ["allowed.test", "deb.debian.org"] {
        probes.push((
            format!("resolve {name}"),
            format!("{QUICK_RESOLVER} getent hosts {name}"),
        ));
        for server in ["127.0.0.11", &a.proxy_ip.to_string(), internal_gw] {
            probes.push((
                format!("DNS query for {name} to {server}"),
                dns_probe(server, name),
            ));
        }
    }
    for ip in host_ips.as_slice() {
        probes.push((
            format!("host service on {ip}"),
            format!("curl --noproxy '*' -sS -m 3 http://{ip}:{port}/"),
        ));
    }
    probes
}

fn judge_attacks(
    scene: &Scene<'_>,
    r: &HashMap<String, ExecOutput>,
    peers_during_attack: &[(std::net::IpAddr, std::net::IpAddr)],
    findings: &mut Findings,
) {
    let Scene {
        a,
        internal_gw,
        host,
        host_ips,
        ..
    } = scene;
    let port = host.port;
    let get = |name: &str| &r[name];

    for name in [
        "direct curl to the outside server",
        "direct nc to the outside server",
        "the neighbour's proxy",
        "the neighbour's proxy used as a proxy",
        "the neighbour's sidecar on its egress network",
        "the neighbour's agent",
        "DNS over TCP to the sidecar",
        "cloud metadata service",
    ] {
        let out = get(name);
        findings.check(
            out.exit_code != 0 && !out.stdout.contains(FILE_CONTENT),
            || {
                format!(
                    "{name}: connected from the attacker's agent ({})",
                    show(out)
                )
            },
        );
    }
    for name in [
        "allowed host through the proxy",
        "allowed host through a CONNECT tunnel",
    ] {
        let out = get(name);
        findings.check(out.stdout.contains(FILE_CONTENT), || {
            format!("{name}: the file did not come back ({})", show(out))
        });
    }
    for name in [
        "denied host through the proxy",
        "denied host through a CONNECT tunnel",
        "outside server's IP through the proxy",
        "host service through the proxy",
        "cloud metadata service through the proxy",
    ] {
        let out = get(name);
        findings.check(out.stdout.trim() == "403", || {
            format!("{name}: expected 403 from the proxy ({})", show(out))
        });
    }
    for name in ["allowed.test", "deb.debian.org"] {
        let out = get(&format!("resolve {name}"));
        findings.check(out.exit_code != 0 && out.stdout.trim().is_empty(), || {
            format!("{name} resolves inside the agent ({})", show(out))
        });
        for server in ["127.0.0.11", &a.proxy_ip.to_string(), internal_gw] {
            let out = get(&format!("DNS query for {name} to {server}"));
            findings.check(no_dns_answer(out), || {
                format!(
                    "a DNS query for {name} sent to {server} was answered: {}",
                    out.stdout.trim()
                )
            });
        }
    }
    for ip in host_ips.as_slice() {
        let out = get(&format!("host service on {ip}"));
        findings.check(
            out.exit_code != 0 && !out.stdout.contains(HOST_REPLY),
            || {
                format!(
                    "the agent reached a host service on {ip}:{port} ({})",
                    show(out)
                )
            },
        );
    }
    findings.check(peers_during_attack.is_empty(), || {
        format!(
            "the host listener got connections (from, to) during the attack: \
             {peers_during_attack:?}"
        )
    });
}

/// The proxy's log names what it refused and what it let through.
fn check_proxy_log(scene: &Scene<'_>, findings: &mut Findings) {
    let Scene { a, web_ip, .. } = scene;
    let events = sidecar_events(&a.sidecar_container);
    for (kind, host_name, method, what) in [
        (
            EventKind::Blocked,
            "denied.test",
            Some("GET"),
            "a blocked GET",
        ),
        (
            EventKind::Blocked,
            "denied.test",
            Some("CONNECT"),
            "a blocked CONNECT",
        ),
        (EventKind::Blocked, web_ip.as_str(), None, "a blocked IP"),
        (
            EventKind::ForwardHttp,
            "allowed.test",
            Some("GET"),
            "a forwarded GET",
        ),
        (
            EventKind::TunnelOpen,
            "allowed.test",
            None,
            "an opened tunnel",
        ),
    ] {
        findings.check(logged(&events, &kind, host_name, method), || {
            format!("the sidecar log has no line for {what} to {host_name}: {events:#?}")
        });
    }
}

/// The same probes work from the sidecar's network position, so a probe that
/// fails from the agent shows a closed door, not a broken probe.
async fn run_controls(engine: &Engine, scene: &Scene<'_>) {
    let Scene {
        web_ip,
        twin,
        host,
        egress_gw,
        ..
    } = scene;
    let port = host.port;
    let controls = [
        (
            "direct",
            format!("curl --noproxy '*' -sS -m 3 http://{web_ip}/file"),
        ),
        (
            "host",
            format!("curl --noproxy '*' -sS -m 3 http://{egress_gw}:{port}/"),
        ),
        (
            "resolve",
            format!("{QUICK_RESOLVER} getent hosts allowed.test"),
        ),
        ("dns", dns_probe("127.0.0.11", "allowed.test")),
        (
            "resolve outside",
            format!("{QUICK_RESOLVER} getent hosts deb.debian.org"),
        ),
    ];
    let twin_results = join_all(
        controls
            .iter()
            .map(|(_, script)| sh(engine, twin, None, script)),
    )
    .await;
    let control = |name: &str| {
        let i = controls
            .iter()
            .position(|(n, _)| *n == name)
            .expect("control");
        &twin_results[i]
    };
    assert!(
        control("direct").stdout.contains(FILE_CONTENT),
        "control: the sidecar's network cannot reach the outside server, so the direct-access \
         checks prove nothing: {}",
        show(control("direct"))
    );
    assert!(
        control("host").stdout.contains(HOST_REPLY) && !host.peers().is_empty(),
        "control: the sidecar's network cannot reach the host listener on {egress_gw}:{port}, \
         so the host checks prove nothing: {}",
        show(control("host"))
    );
    assert!(
        control("resolve").stdout.contains(web_ip.as_str()),
        "control: allowed.test does not resolve on the egress network: {}",
        show(control("resolve"))
    );
    // Where the host resolves outside names, so does the egress network (the
    // engine forwards to the host's resolver), and the agent must not.
    let host_resolves = Command::new("getent")
        .args(["hosts", "deb.debian.org"])
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        !host_resolves || control("resolve outside").stdout.contains("deb.debian.org"),
        "control: deb.debian.org resolves on the host but not on the egress network: {}",
        show(control("resolve outside"))
    );
    assert!(
        dns_answers(&control("dns").stdout).is_some_and(|n| n > 0),
        "control: the raw DNS probe gets no answer even on the egress network: {}",
        show(control("dns"))
    );
}
