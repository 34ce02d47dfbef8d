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
use claude_bottle::egress::config::{Inspection, PrivateDestinations, SidecarSettings};
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
    let run = probe::unique("cb-test-many-sidecars-");
    let label = format!("claude-bottle.test.run={run}");
    cleanup.label(&label);
    // Two /24 networks of their own: bottle networks are /29s, too small for 32.
    let block = 1 + std::process::id() % 250;
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
    let starts = (0..COUNT).map(|i| {
        let (engine, image, label) = (&engine, &settings.sidecar_image, &label);
        let (int, egress) = (&int, &egress);
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

fn label_value(label: &str) -> String {
    label.split_once('=').map(|(_, v)| v.to_owned()).unwrap()
}
