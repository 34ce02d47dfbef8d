//! 32 bottles at once on the real engine: more networks than Docker's default
//! address pools hold, launched concurrently from one process, each working,
//! all torn down without a trace.
#![allow(clippy::expect_used)] // a broken fixture should fail the test loudly

mod common;
mod probe;

use std::time::Instant;

use claude_bottle::docker::bottle::{self, Bottle};
use claude_bottle::docker::container::exec_collect;
use futures_util::future::join_all;
use probe::{AGENT, Cleanup, Findings};

const BOTTLES: usize = 32;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thirty_two_bottles_at_once() {
    let engine = common::engine().await;
    let settings = common::launch_settings().await;
    let run = probe::unique("many");
    let mut cleanup = Cleanup::default();

    let started = Instant::now();
    let launches = (0..BOTTLES).map(|i| {
        let (engine, settings) = (engine.clone(), settings.clone());
        let resolved = common::outside_agent(&format!("{run}-{i}"), &["allowed.test"]);
        tokio::spawn(async move {
            bottle::launch(&engine, &resolved, &[], &settings, &mut |_| {}).await
        })
    });
    let results = join_all(launches).await;
    let launched_in = started.elapsed();
    let mut bottles: Vec<Bottle> = Vec::new();
    let mut failures = Vec::new();
    for (i, result) in results.into_iter().enumerate() {
        match result.expect("launch task") {
            Ok(b) => {
                cleanup.session(&b.session);
                bottles.push(b);
            }
            Err(e) => failures.push(format!("bottle {i}: {e}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{} of {BOTTLES} launches failed:\n{}",
        failures.len(),
        failures.join("\n")
    );

    // Every agent runs and reaches its own proxy, which answers for itself.
    let checks = bottles.iter().map(|b| {
        let engine = &engine;
        async move {
            let sidecar = engine
                .docker
                .inspect_container(&b.sidecar_container, None)
                .await
                .expect("inspect sidecar");
            let running = sidecar.state.and_then(|s| s.running).unwrap_or(false);
            let script = "id -u; curl -s -m 10 -o /dev/null -w '%{http_code}' http://denied.test/";
            let out = exec_collect(
                engine,
                &b.agent_container,
                AGENT,
                &["bash", "-c", script],
                vec![],
            )
            .await
            .expect("exec in the agent");
            (b, running, out)
        }
    });
    let mut findings = Findings::default();
    for (b, sidecar_running, out) in join_all(checks).await {
        findings.check(sidecar_running, || {
            format!("{}: the sidecar is not running", b.names.sidecar)
        });
        findings.check(out.stdout.trim() == "1000\n403", || {
            format!(
                "{}: the agent did not get a 403 from its own proxy: {}",
                b.names.agent,
                probe::show(&out)
            )
        });
    }
    let checked_in = started.elapsed();

    let teardowns = bottles.iter().map(|b| b.teardown(&engine));
    let teardown_errors: Vec<String> = join_all(teardowns)
        .await
        .into_iter()
        .filter_map(|r| r.err().map(|e| e.to_string()))
        .collect();
    let total = started.elapsed();
    eprintln!(
        "{BOTTLES} bottles: launched in {launched_in:?}, checked by {checked_in:?}, \
         torn down by {total:?}"
    );
    findings.check(teardown_errors.is_empty(), || {
        format!("teardown errors: {teardown_errors:?}")
    });
    findings.assert_none(&format!("{BOTTLES} bottles at once"));
    for b in &bottles {
        probe::assert_nothing_labelled(
            &format!("claude-bottle.session={}", b.session),
            "after tearing down 32 bottles",
        );
    }
}
