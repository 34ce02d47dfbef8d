//! The real engine: a bottle launches in order and leaves nothing behind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should stop the test where it happened

mod common;

use claude_bottle::docker::bottle::{self, LaunchStep};
use claude_bottle::docker::container::exec_collect;
use claude_bottle::docker::reaper;

#[tokio::test]
async fn bottle_launches_in_order_and_tears_down_to_nothing() {
    let engine = common::engine().await;
    let settings = common::launch_settings().await;
    let resolved = common::outside_agent("probe", &["allowed.test"]);
    let mut steps = Vec::new();
    let b = bottle::launch(&engine, &resolved, &[], &settings, &mut |s| steps.push(s))
        .await
        .unwrap();
    assert_eq!(
        steps,
        [
            LaunchStep::CheckingRuntime,
            LaunchStep::CreatingNetworks,
            LaunchStep::StartingSidecar,
            LaunchStep::StartingAgent,
            LaunchStep::Ready
        ]
    );
    let out = exec_collect(
        &engine,
        &b.agent_container,
        None,
        &["sh", "-c", "id -u; printenv HTTPS_PROXY"],
        vec![],
    )
    .await
    .unwrap();
    assert_eq!(out.stdout, format!("1000\nhttp://{}\n", b.proxy_addr()));

    let session = reaper::list_sessions(&engine)
        .await
        .unwrap()
        .into_iter()
        .find(|s| s.session == b.session)
        .unwrap();
    assert_eq!(session.containers.len(), 2, "{session:?}");
    assert_eq!(session.networks.len(), 2, "{session:?}");

    b.teardown(&engine).await.unwrap();
    b.teardown(&engine).await.unwrap(); // idempotent
    assert!(
        reaper::list_sessions(&engine)
            .await
            .unwrap()
            .iter()
            .all(|s| s.session != b.session)
    );
}
