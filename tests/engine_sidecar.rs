//! The egress sidecar on the real engine: a reload's outcome is what the
//! sidecar reports, never assumed, and many sidecars each reload.
//!
//! Runs against `claude-bottle-test/pipelock` (real pipelock when the test
//! images were built with `CLAUDE_BOTTLE_TEST_PIPELOCK_BINARY`, the stand-in
//! otherwise). Never skipped: without an engine it fails.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should stop the test where it happened

mod common;
mod probe;

use std::collections::{BTreeSet, HashMap};
use std::net::Ipv4Addr;

use claude_bottle::docker::bottle;
use claude_bottle::docker::sidecar::{self, SidecarError, SidecarPlacement, SidecarSecrets};
use claude_bottle::egress::config::{
    Inspection, PrivateDestinations, SidecarSettings, TunnelLimits,
};
use claude_bottle::egress::log::{EventKind, LogLine, parse_line};
use claude_bottle::egress::reload::config_hash;
use probe::{Cleanup, docker_ok};

#[tokio::test]
async fn a_reload_reports_what_the_sidecar_did() {
    let engine = common::engine().await;
    let settings = common::launch_settings().await;
    let mut cleanup = Cleanup::default();
    let resolved = common::outside_agent("reload", &["allowed.test"]);
    let b = bottle::launch(&engine, &resolved, &[], &settings, &mut |_| {})
        .await
        .expect("launch");
    cleanup.session(&b.session);

    let mut wider = b.sidecar_settings.clone();
    wider.allowlist.push("denied.test".into());
    sidecar::reload(&engine, &b.sidecar_container, &wider)
        .await
        .expect("an added host reloads");
    let hash = config_hash(&claude_bottle::egress::config::pipelock_config(&wider));
    let logged = docker_ok(&["logs", &b.sidecar_container]);
    assert!(
        logged
            .lines()
            .any(|l| matches!(parse_line(l), LogLine::Event(e)
            if e.kind == EventKind::ConfigReload
                && e.extra.get("config_hash").and_then(|v| v.as_str()) == Some(hash.as_str()))),
        "no config_reload for {hash} in:\n{logged}"
    );

    // Strict mode refuses a reload that widens the SSRF exceptions: the
    // refusal is what the caller hears, and the sidecar keeps running.
    let mut private = wider.clone();
    private.private.names.push("lan.test".into());
    let refused = sidecar::reload(&engine, &b.sidecar_container, &private).await;
    assert!(
        matches!(refused, Err(SidecarError::ReloadRejected(_))),
        "{refused:?}"
    );
    assert!(
        sidecar::is_running(&engine, &b.sidecar_container)
            .await
            .unwrap(),
        "the sidecar stopped"
    );
    b.teardown(&engine).await.expect("tear down");
}

/// Pipelock watches its config with inotify, limited per uid; every sidecar
/// gets a uid of its own, so 32 of them all start their watchers and reload.
#[tokio::test]
async fn thirty_two_sidecars_each_reload() {
    const COUNT: u8 = 32;
    let engine = common::engine().await;
    let settings = common::launch_settings().await;
    let mut cleanup = Cleanup::default();
    let nets = TestNets::create("cb-test-many-sidecars-", 0, &mut cleanup);
    let (label, block, int, egress) = (&nets.label, nets.block, &nets.int, &nets.egress);
    let starts = (0..COUNT).map(|i| {
        let (engine, image) = (&engine, &settings.sidecar_image);
        async move {
            let name = format!("{int}-sidecar-{i}");
            let host = 2 + i;
            let session = format!("{int}-{i}");
            let settings = SidecarSettings {
                identity: name.clone(),
                allowlist: vec!["api.anthropic.com".into()],
                private: PrivateDestinations::default(),
                inspection: Inspection::Off,
                watches_secrets: false,
                tunnels: TunnelLimits::default(),
            };
            let placement = SidecarPlacement {
                name: &name,
                image,
                egress_network: egress,
                egress_ip: Ipv4Addr::new(10, 214, u8::try_from(block + 1).unwrap(), host),
                internal_network: int,
                internal_ip: Ipv4Addr::new(10, 214, u8::try_from(block).unwrap(), host),
                uid: sidecar::sidecar_uid(&session),
                labels: HashMap::from([
                    ("claude-bottle.test.run".to_owned(), label_value(label)),
                    ("claude-bottle.test".to_owned(), "1".to_owned()),
                ]),
            };
            let id =
                sidecar::start(engine, placement, &settings, SidecarSecrets::default()).await?;
            let mut wider = settings.clone();
            wider.allowlist.push(format!("host-{i}.test"));
            sidecar::reload(engine, &id, &wider).await?;
            Ok::<_, SidecarError>(sidecar::sidecar_uid(&session))
        }
    });
    let results = futures_util::future::join_all(starts).await;
    let failures: Vec<String> = results
        .iter()
        .enumerate()
        .filter_map(|(i, r)| r.as_ref().err().map(|e| format!("sidecar {i}: {e}")))
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    // Uids are picked by session: a few may coincide, which the per-uid
    // limit (128 instances) absorbs; most differ.
    let uids: BTreeSet<u32> = results.into_iter().map(Result::unwrap).collect();
    assert!(uids.len() > usize::from(COUNT) / 2, "uids: {uids:?}");
}

/// An internal and an egress /24 network of a test's own (bottle networks
/// are /29s, too small for many sidecars), removed with `cleanup`.
struct TestNets {
    label: String,
    /// The internal network is 10.214.BLOCK.0/24, the egress one BLOCK+1.
    block: u32,
    int: String,
    egress: String,
}

impl TestNets {
    fn create(prefix: &str, offset: u32, cleanup: &mut Cleanup) -> Self {
        let run = probe::unique(prefix);
        let label = format!("claude-bottle.test.run={run}");
        cleanup.label(&label);
        let block = 1 + (std::process::id() + offset * 2) % 250;
        let (int, egress) = (format!("{run}-int"), format!("{run}-egress"));
        for (name, third, internal) in [(&int, 0, true), (&egress, 1, false)] {
            let subnet = format!("10.214.{}.0/24", block + third);
            let mut args = vec!["network", "create", "--label", &label, "--label"];
            args.extend([probe::TEST_LABEL, "--subnet", &subnet]);
            if internal {
                args.push("--internal");
            }
            args.push(name);
            docker_ok(&args);
        }
        Self {
            label,
            block,
            int,
            egress,
        }
    }

    fn ip(&self, egress: bool, host: u8) -> Ipv4Addr {
        let third = self.block + u32::from(egress);
        Ipv4Addr::new(10, 214, u8::try_from(third).unwrap(), host)
    }
}

/// A server that streams twelve lines, half a second apart, to whoever
/// connects, and stops as soon as its client closes its sending side (as
/// many servers end a response then). It says on stdout which happened.
const STREAM_SERVER: &str = r#"
use strict; use IO::Socket::INET; use IO::Select;
$| = 1;
my $s = IO::Socket::INET->new(LocalPort => 9000, Listen => 5, ReuseAddr => 1) or die "listen: $!";
print "listening
";
while (my $c = $s->accept) {
    $c->autoflush(1);
    my $sel = IO::Select->new($c);
    my $closed = 0;
    for my $i (1 .. 12) {
        print $c "tick $i
";
        if ($sel->can_read(0.5)) {
            my $n = sysread($c, my $buf, 4096);
            if (!$n) { print "client closed after tick $i
"; $closed = 1; last; }
        }
    }
    print "sent all ticks
" unless $closed;
    close $c;
}
"#;

/// How many ticks a client that only listens gets through a sidecar whose
/// tunnels may be quiet for `limits.idle_seconds`.
async fn ticks_through(limits: TunnelLimits, offset: u32) -> (usize, String) {
    let engine = common::engine().await;
    let images = common::launch_settings().await;
    let mut cleanup = Cleanup::default();
    let nets = TestNets::create("cb-test-stream-", offset, &mut cleanup);
    let server = format!("{}-server", nets.int);
    cleanup.container(&server);
    docker_ok(&[
        "run",
        "-d",
        "--name",
        &server,
        "--label",
        probe::TEST_LABEL,
        "--network",
        &nets.egress,
        "--network-alias",
        "stream.test",
        "--ip",
        &nets.ip(true, 10).to_string(),
        "--entrypoint",
        "perl",
        common::TEST_BASE_IMAGE,
        "-e",
        STREAM_SERVER,
    ]);
    let settings = SidecarSettings {
        identity: "stream".into(),
        allowlist: vec!["stream.test".into()],
        private: PrivateDestinations {
            names: vec!["stream.test".into()],
            blocks: vec![],
        },
        inspection: Inspection::Off,
        watches_secrets: false,
        tunnels: limits,
    };
    let name = format!("{}-sidecar", nets.int);
    let proxy = nets.ip(false, 2);
    let placement = SidecarPlacement {
        name: &name,
        image: &images.sidecar_image,
        egress_network: &nets.egress,
        egress_ip: nets.ip(true, 2),
        internal_network: &nets.int,
        internal_ip: proxy,
        uid: sidecar::sidecar_uid(&name),
        labels: HashMap::from([
            (
                "claude-bottle.test.run".to_owned(),
                label_value(&nets.label),
            ),
            ("claude-bottle.test".to_owned(), "1".to_owned()),
        ]),
    };
    sidecar::start(&engine, placement, &settings, SidecarSecrets::default())
        .await
        .expect("start the sidecar");
    // The client sends its CONNECT and a first line (pipelock waits up to
    // 5 s for a client's first bytes, to check a TLS name), then nothing for
    // 8 s, and prints what came.
    let client = format!(
        "(printf 'CONNECT stream.test:9000 HTTP/1.1\\r\\nHost: stream.test:9000\\r\\n\\r\\nhello\\n'; \
         sleep 8) | nc {proxy} 8888"
    );
    let busybox = "claude-bottle-test/busybox:latest";
    let out = docker_ok(&[
        "run",
        "--rm",
        "--label",
        probe::TEST_LABEL,
        "--network",
        &nets.int,
        busybox,
        "sh",
        "-c",
        &client,
    ]);
    let ticks = out.lines().filter(|l| l.starts_with("tick ")).count();
    (ticks, docker_ok(&["logs", &server]))
}

/// Shortened to seconds: with the idle limit equal to the tunnel's own (as
/// bottles run), a client that only listens gets the whole stream; with a
/// shorter idle limit (pipelock's own defaults are 120 s idle, 300 s
/// tunnel) the sidecar half-closes towards the server and the stream ends.
#[tokio::test]
async fn a_client_that_only_listens_keeps_its_stream() {
    let whole = ticks_through(
        TunnelLimits {
            max_seconds: 20,
            idle_seconds: 20,
        },
        3,
    )
    .await;
    assert_eq!(whole.0, 12, "server said: {}", whole.1);
    assert!(
        whole.1.contains("sent all ticks"),
        "server said: {}",
        whole.1
    );
    let cut = ticks_through(
        TunnelLimits {
            max_seconds: 20,
            idle_seconds: 2,
        },
        5,
    )
    .await;
    assert!(
        cut.0 < 12,
        "a 2 s idle limit did not cut the stream: {cut:?}"
    );
    assert!(cut.1.contains("client closed"), "server said: {}", cut.1);
}

fn label_value(label: &str) -> String {
    label.split_once('=').map(|(_, v)| v.to_owned()).unwrap()
}
