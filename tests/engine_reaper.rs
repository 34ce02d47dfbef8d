//! The real engine: sessions whose owner died are found and removed by label.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should stop the test where it happened

mod common;

use claude_bottle::docker::labels::{self, Role, SessionLabels, new_session_id};
use claude_bottle::docker::{network, reaper};

#[tokio::test]
async fn a_dead_owners_session_is_orphaned_and_removed_a_live_one_is_kept() {
    let engine = common::engine().await;

    let live_session = new_session_id();
    let live = SessionLabels::new("b", "live-agent", &live_session);
    let live_net = network::create(
        &engine,
        &format!("cb-test-live-{live_session}"),
        true,
        live.for_role(Role::InternalNet),
    )
    .await
    .unwrap();

    let dead_session = new_session_id();
    let mut dead_labels =
        SessionLabels::new("b", "dead-agent", &dead_session).for_role(Role::InternalNet);
    // A start time that cannot match: the pid's owner is "gone".
    dead_labels.insert(labels::OWNER_START.into(), "1".into());
    let dead_net = network::create(
        &engine,
        &format!("cb-test-dead-{dead_session}"),
        true,
        dead_labels,
    )
    .await
    .unwrap();

    let orphans = reaper::orphaned_sessions(&engine).await.unwrap();
    let found = orphans
        .iter()
        .find(|s| s.session == dead_session)
        .expect("dead session is an orphan");
    assert_eq!(found.agent, "dead-agent");
    assert_eq!(
        found.networks,
        vec![(dead_net.id.clone(), dead_net.name.clone())]
    );
    assert!(
        orphans.iter().all(|s| s.session != live_session),
        "a live owner's session is kept"
    );

    reaper::remove_session(&engine, &dead_session)
        .await
        .unwrap();
    reaper::remove_session(&engine, &dead_session)
        .await
        .unwrap(); // idempotent
    let sessions = reaper::list_sessions(&engine).await.unwrap();
    assert!(sessions.iter().all(|s| s.session != dead_session));
    assert!(sessions.iter().any(|s| s.session == live_session));

    reaper::remove_session(&engine, &live_session)
        .await
        .unwrap();
    assert!(
        network::find_by_name(&engine, &live_net.name)
            .await
            .unwrap()
            .is_empty()
    );
}
