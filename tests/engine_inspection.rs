//! TLS inspection on the real engine, tried from inside a bottle: the agent
//! trusts its bottle's CA and reaches an allowed HTTPS host; a secret in a
//! request body or header to that host is refused and logged as a DLP denial
//! naming its rule; an agent that stops trusting the CA loses its own network
//! and gains no way round the sidecar; a host passed through is not opened.
//!
//! The outside server is `openssl s_server` with a certificate from the
//! tests' own root (scripts/build-test-images.sh), which the sidecar images
//! trust beside Debian's roots. Never skipped: without an engine it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should stop the test where it happened

mod common;
mod probe;

use claude_bottle::docker::bottle::{self, Bottle};
use claude_bottle::docker::container::copy_in;
use claude_bottle::docker::engine::Engine;
use claude_bottle::docker::files::FileGrant;
use claude_bottle::egress::log::{EventKind, format_human};
use probe::{AGENT, Cleanup, Findings, docker, docker_ok, sh, show};

const MARKER: &str = "served over tls by the outside server";
/// A well-known example AWS access key id (AWS's own documentation uses it).
const FAKE_AWS_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const FAKE_GITHUB_TOKEN: &str = "ghp_aBcDeFgHiJkLmNoPqRsTuVwXyZ0123456789";

fn outside_tls(file: &str) -> Vec<u8> {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    std::fs::read(root.join("target/test-images/outside-tls").join(file))
        .unwrap_or_else(|e| panic!("read the test TLS file {file}: {e}"))
}

/// Serves /srv/www over HTTPS, with a git repository for git's "dumb" HTTP
/// protocol (plain files, which openssl's -WWW server can serve; it takes a
/// query string as part of the file name, hence the copy of `info/refs`).
const SERVER_SCRIPT: &str = "set -e; git init -q /tmp/src; cd /tmp/src; echo cloned-through-inspection > f; \
     git add f; git -c user.email=t@t -c user.name=t commit -qm one; \
     git clone -q --bare /tmp/src /srv/www/repo.git; cd /srv/www/repo.git; git update-server-info; \
     cp info/refs 'info/refs?service=git-upload-pack'; \
     cd /srv/www && exec openssl s_server -quiet -accept 443 -cert /srv/leaf.pem -key /srv/leaf.key -WWW";

/// An HTTPS server known as `allowed.test` on the bottle's egress network.
async fn start_https_server(engine: &Engine, cleanup: &mut Cleanup, b: &Bottle) {
    let name = format!("{}-https", b.names.sidecar);
    cleanup.container(&name);
    docker_ok(&[
        "create",
        "--name",
        &name,
        "--label",
        probe::TEST_LABEL,
        "--network",
        &b.names.egress_network,
        "--network-alias",
        "allowed.test",
        "--entrypoint",
        "sh",
        common::TEST_BASE_IMAGE,
        "-c",
        SERVER_SCRIPT,
    ]);
    let files = [
        FileGrant::dir("/srv/www", 0o755, (0, 0)),
        FileGrant::file("/srv/leaf.pem", 0o644, (0, 0), outside_tls("leaf.pem")),
        FileGrant::file("/srv/leaf.key", 0o600, (0, 0), outside_tls("leaf.key")),
        FileGrant::file("/srv/www/index.html", 0o644, (0, 0), MARKER.into()),
    ];
    copy_in(engine, &name, &files)
        .await
        .expect("copy the server's files in");
    docker_ok(&["start", &name]);
    // Ready when a TLS handshake completes.
    for _ in 0..100 {
        let probe = docker(&[
            "exec",
            &name,
            "sh",
            "-c",
            "echo | openssl s_client -connect 127.0.0.1:443 -servername allowed.test 2>/dev/null | grep -q 'BEGIN CERTIFICATE'",
        ]);
        if probe.status.success() {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!(
        "the HTTPS server did not start: {:?}",
        docker(&["logs", &name])
    );
}

async fn launch(
    engine: &Engine,
    cleanup: &mut Cleanup,
    passthrough: bool,
    watched: &[String],
) -> Bottle {
    launch_agent(
        engine,
        cleanup,
        common::outside_agent("inspect", &["allowed.test"]),
        passthrough,
        watched,
    )
    .await
}

async fn launch_agent(
    engine: &Engine,
    cleanup: &mut Cleanup,
    mut resolved: claude_bottle::manifest::ResolvedAgent,
    passthrough: bool,
    watched: &[String],
) -> Bottle {
    let settings = common::launch_settings().await;
    if passthrough {
        resolved.bottle.passthrough = vec!["allowed.test".into()];
    }
    let b = bottle::launch(engine, &resolved, watched, &settings, &mut |_| {})
        .await
        .expect("launch");
    cleanup.session(&b.session);
    start_https_server(engine, cleanup, &b).await;
    b
}

/// `curl ... https://allowed.test/index.html` in the agent, as the agent.
async fn curl(
    engine: &Engine,
    b: &Bottle,
    args: &str,
) -> claude_bottle::docker::container::ExecOutput {
    sh(
        engine,
        &b.agent_container,
        AGENT,
        &format!("curl -sS -m 20 {args} https://allowed.test/index.html"),
    )
    .await
}

#[tokio::test]
async fn an_inspected_bottle_reaches_https_and_refuses_secrets() {
    let engine = common::engine().await;
    let mut cleanup = Cleanup::default();
    let b = launch(&engine, &mut cleanup, false, &[]).await;
    let mut findings = Findings::default();

    let plain = curl(&engine, &b, "").await;
    findings.check(plain.stdout.trim() == MARKER, || {
        format!(
            "an allowed HTTPS GET through inspection failed: {}",
            show(&plain)
        )
    });

    let clone = sh(
        &engine,
        &b.agent_container,
        AGENT,
        "cd /tmp && git clone -q https://allowed.test/repo.git cloned && cat cloned/f",
    )
    .await;
    findings.check(clone.stdout.trim() == "cloned-through-inspection", || {
        format!("git clone over inspected https failed: {}", show(&clone))
    });

    let body = curl(&engine, &b, &format!("-d key={FAKE_AWS_KEY}")).await;
    findings.check(
        body.stdout.contains("blocked") && !body.stdout.contains(MARKER),
        || format!("a fake AWS key in a POST body went out: {}", show(&body)),
    );
    let header = curl(&engine, &b, &format!("-H 'X-Debug: {FAKE_GITHUB_TOKEN}'")).await;
    findings.check(
        header.stdout.contains("blocked") && !header.stdout.contains(MARKER),
        || {
            format!(
                "a fake GitHub token in a header went out: {}",
                show(&header)
            )
        },
    );
    // curl -k trusts anything: the sidecar still opens and scans the request.
    let insecure = curl(&engine, &b, &format!("-k -d key={FAKE_AWS_KEY}")).await;
    findings.check(!insecure.stdout.contains(MARKER), || {
        format!("with curl -k a secret went out: {}", show(&insecure))
    });
    // Trusting only Debian's roots (not the bottle's CA) loses the network,
    // nothing more: the agent cannot edit the system store (root owns it).
    let own_store = sh(
        &engine,
        &b.agent_container,
        AGENT,
        "cat /usr/share/ca-certificates/mozilla/*.crt > /tmp/roots.pem && \
         curl -sS -m 20 --cacert /tmp/roots.pem -d key=x https://allowed.test/index.html; \
         echo exit=$?; test -w /etc/ssl/certs/ca-certificates.crt && echo store-writable",
    )
    .await;
    findings.check(
        !own_store.stdout.contains(MARKER)
            && !own_store.stdout.contains("exit=0")
            && !own_store.stdout.contains("store-writable"),
        || {
            format!(
                "an agent without the bottle's CA got through, or can edit the store: {}",
                show(&own_store)
            )
        },
    );

    let events = probe::sidecar_events(&b.sidecar_container);
    let dlp: Vec<String> = events
        .iter()
        .filter(|e| e.kind == EventKind::Blocked)
        .filter(|e| matches!(e.scanner.as_deref(), Some("body_dlp" | "header_dlp")))
        .map(format_human)
        .collect();
    findings.check(
        dlp.iter()
            .any(|l| l.contains("body_dlp") && l.contains("AWS Access ID")),
        || format!("no body_dlp denial naming the AWS rule in the sidecar log: {dlp:?}"),
    );
    findings.check(dlp.iter().any(|l| l.contains("header_dlp")), || {
        format!("no header_dlp denial in the sidecar log: {dlp:?}")
    });
    let ca_key_in_agent = sh(
        &engine,
        &b.agent_container,
        None,
        "grep -rl 'EC PRIVATE KEY' /etc /home 2>/dev/null; true",
    )
    .await;
    findings.check(ca_key_in_agent.stdout.trim().is_empty(), || {
        format!("a private key is in the agent: {}", show(&ca_key_in_agent))
    });
    findings.assert_none("TLS inspection");
    cleanup.remove_containers();
    b.teardown(&engine).await.expect("tear down");
}

#[tokio::test]
async fn a_host_passed_through_is_not_opened() {
    let engine = common::engine().await;
    let mut cleanup = Cleanup::default();
    let b = launch(&engine, &mut cleanup, true, &[]).await;
    // The agent sees the server's own certificate: it verifies only with
    // the outside test root, not with the bottle's CA.
    copy_in(
        &engine,
        &b.agent_container,
        &[FileGrant::file(
            "/tmp/outside-root.pem",
            0o644,
            (1000, 1000),
            outside_tls("root.pem"),
        )],
    )
    .await
    .expect("copy the outside root in");
    // (openssl's -WWW server answers GETs only: the secret rides in a header.)
    let through = curl(
        &engine,
        &b,
        &format!("--cacert /tmp/outside-root.pem -H 'X-Debug: {FAKE_AWS_KEY}'"),
    )
    .await;
    assert_eq!(
        through.stdout.trim(),
        MARKER,
        "a passed-through host is relayed unopened (so DLP cannot see it): {}",
        show(&through)
    );
    cleanup.remove_containers();
    b.teardown(&engine).await.expect("tear down");
}

/// A value the manifest grants (from the host or asked at launch) matches no
/// built-in pattern; the sidecar watches for it all the same.
#[tokio::test]
async fn a_granted_value_is_refused_on_its_way_out() {
    const GRANTED: &str = "granted-value-q7Kx2mWv9Lp4";
    let engine = common::engine().await;
    let mut cleanup = Cleanup::default();
    let b = launch(&engine, &mut cleanup, false, &[GRANTED.to_owned()]).await;
    let mut findings = Findings::default();
    for (how, args) in [
        ("a header", format!("-H 'X-Note: {GRANTED}'")),
        ("a body", format!("-d note={GRANTED}")),
        ("the query", format!("--url-query note={GRANTED}")),
    ] {
        let out = curl(&engine, &b, &args).await;
        // Refused by the sidecar itself (openssl's test server would not
        // answer a POST at all, so silence proves nothing).
        findings.check(out.stdout.starts_with("blocked"), || {
            format!("a granted value in {how} was not refused: {}", show(&out))
        });
    }
    let stored = docker_ok(&["inspect", &b.sidecar_container]);
    findings.check(!stored.contains(GRANTED), || {
        "the granted value is in the sidecar's stored config".to_owned()
    });
    let readable = sh(
        &engine,
        &b.agent_container,
        AGENT,
        &format!("grep -rs {GRANTED} /etc /home /tmp; true"),
    )
    .await;
    findings.check(readable.stdout.trim().is_empty(), || {
        format!(
            "the agent's file system holds the value: {}",
            show(&readable)
        )
    });
    findings.assert_none("granted values");
    cleanup.remove_containers();
    b.teardown(&engine).await.expect("tear down");
}

/// Allowed by name is not enough when the name resolves to a private
/// address: without `egress.private_hosts` the sidecar's SSRF guard refuses.
#[tokio::test]
async fn an_allowed_name_on_a_private_address_is_refused() {
    let engine = common::engine().await;
    let mut cleanup = Cleanup::default();
    let resolved = common::resolved_agent("ssrf", &["allowed.test"]);
    let b = launch_agent(&engine, &mut cleanup, resolved, false, &[]).await;
    let out = curl(&engine, &b, "").await;
    assert!(
        !out.stdout.contains(MARKER) && out.stderr.contains("403"),
        "a private address was reached without private_hosts: {}",
        show(&out)
    );
    let events = probe::sidecar_events(&b.sidecar_container);
    assert!(
        events.iter().any(|e| e.kind == EventKind::Blocked
            && e.scanner.as_deref() == Some("ssrf")
            && e.host.as_deref() == Some("allowed.test")),
        "no ssrf denial for allowed.test: {events:?}"
    );
    cleanup.remove_containers();
    b.teardown(&engine).await.expect("tear down");
}

/// A plain-HTTP server for `allowed.test`: `/big` is 12 MiB (over pipelock's own 10 MB cap), `/gz` a gzip
/// body with `Content-Encoding: gzip`.
const PLAIN_SERVER: &str = r#"
use strict; use IO::Socket::INET;
$| = 1;
my $s = IO::Socket::INET->new(LocalPort => 80, Listen => 16, ReuseAddr => 1) or die "listen: $!";
print "listening\n";
while (my $c = $s->accept) {
    my $line = <$c> // next;
    while (my $h = <$c>) { last if $h =~ /^\r?\n$/; }
    if ($line =~ m{^GET /big}) {
        my $n = 12 * 1024 * 1024;
        print $c "HTTP/1.1 200 OK\r\nContent-Length: $n\r\nConnection: close\r\n\r\n";
        my $chunk = 'x' x 65536;
        print $c $chunk for 1 .. $n / 65536;
    } else {
        my $gz = pack('H*', '1f8b08000000000002034bcecf2d284a2d2e4e4d51c848cdc9c9e702002b89931011000000');
        print $c "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: " . length($gz) . "\r\nConnection: close\r\n\r\n$gz";
    }
    close $c;
}
"#;

/// Plain HTTP (not CONNECT) is forwarded by the sidecar, which buffers each
/// response: a bottle takes responses up to 128 MiB (pipelock's own cap is
/// 10 MB), and a compressed one is refused (pipelock cannot turn that off).
#[tokio::test]
async fn plain_http_takes_large_responses_and_refuses_compressed_ones() {
    let engine = common::engine().await;
    let settings = common::launch_settings().await;
    let mut cleanup = Cleanup::default();
    let resolved = common::outside_agent("plain", &["allowed.test"]);
    let b = bottle::launch(&engine, &resolved, &[], &settings, &mut |_| {})
        .await
        .expect("launch");
    cleanup.session(&b.session);
    let server = format!("{}-plain", b.names.sidecar);
    cleanup.container(&server);
    docker_ok(&[
        "run",
        "-d",
        "--name",
        &server,
        "--label",
        probe::TEST_LABEL,
        "--network",
        &b.names.egress_network,
        "--network-alias",
        "allowed.test",
        "--entrypoint",
        "perl",
        common::TEST_BASE_IMAGE,
        "-e",
        PLAIN_SERVER,
    ]);
    for _ in 0..100 {
        if docker_ok(&["logs", &server]).contains("listening") {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    let big = sh(
        &engine,
        &b.agent_container,
        AGENT,
        "curl -sS -m 120 http://allowed.test/big | wc -c",
    )
    .await;
    assert_eq!(big.stdout.trim(), "12582912", "{}", show(&big));
    let gz = sh(
        &engine,
        &b.agent_container,
        AGENT,
        "curl -sS -m 20 --compressed -w ' %{http_code}' http://allowed.test/gz",
    )
    .await;
    assert!(
        gz.stdout.contains("compressed response cannot be scanned") && gz.stdout.ends_with(" 403"),
        "{}",
        show(&gz)
    );
    cleanup.remove_containers();
    b.teardown(&engine).await.expect("tear down");
}
