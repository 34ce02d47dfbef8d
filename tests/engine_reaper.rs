//! The real engine: sessions whose owner died are found and removed by label.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should stop the test where it happened

mod common;
mod probe;

use claude_bottle::docker::labels::{self, Role, SessionLabels, new_session_id};
use claude_bottle::docker::{network, reaper};

#[tokio::test]
async fn a_dead_owners_session_is_orphaned_and_removed_a_live_one_is_kept() {
    let engine = common::engine().await;

    let live_session = new_session_id();
    let live = SessionLabels::new("b", "live-agent", &live_session);
    let live_net = network::create(
        &engine,
        common::subnet_pool(),
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
        common::subnet_pool(),
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

/// The agent image tags `stale_agent_images` names, `current` kept.
async fn stale_tags(engine: &claude_bottle::docker::engine::Engine, current: &str) -> Vec<String> {
    claude_bottle::docker::image::stale_agent_images(engine, current)
        .await
        .unwrap()
        .into_iter()
        .map(|image| image.tag)
        .collect()
}

#[tokio::test]
async fn old_agent_images_are_listed_and_removed_unless_a_container_uses_them() {
    use claude_bottle::docker::image::{Removal, remove_stale_image};
    common::launch_settings().await;
    let engine = common::engine().await;
    // Tags of a small image stand in for agent images of older inputs. The
    // one in use is an image of its own: a tag that shares its image with
    // another tag is only untagged, whoever uses the image.
    let pid = std::process::id();
    let tag = |what: &str| format!("claude-bottle/agent:test-{what}-{pid}");
    let (current, old, in_use) = (tag("current"), tag("old"), tag("in-use"));
    for t in [&current, &old] {
        probe::docker_ok(&["tag", common::SIDECAR_TEST_IMAGE, t]);
    }
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("Dockerfile"),
        format!(
            "FROM {}\nLABEL test.only-user={pid}\n",
            common::SIDECAR_TEST_IMAGE
        ),
    )
    .unwrap();
    probe::docker_ok(&[
        "build",
        "-q",
        "-t",
        &in_use,
        &dir.path().display().to_string(),
    ]);
    let container = format!("cb-test-image-user-{pid}");
    probe::docker_ok(&["create", "--name", &container, &in_use]);

    let stale = stale_tags(&engine, &current).await;
    assert!(
        stale.contains(&old) && stale.contains(&in_use) && !stale.contains(&current),
        "{stale:?}"
    );

    assert_eq!(
        remove_stale_image(&engine, &in_use).await.unwrap(),
        Removal::InUse
    );
    assert_eq!(
        remove_stale_image(&engine, &old).await.unwrap(),
        Removal::Removed
    );
    // Gone already counts as removed.
    assert_eq!(
        remove_stale_image(&engine, &old).await.unwrap(),
        Removal::Removed
    );
    let left = stale_tags(&engine, &current).await;
    assert!(!left.contains(&old) && left.contains(&in_use), "{left:?}");
    // The image the tags pointed at is still there under its own name.
    probe::docker_ok(&["image", "inspect", common::SIDECAR_TEST_IMAGE]);

    probe::docker_ok(&["rm", &container]);
    assert_eq!(
        remove_stale_image(&engine, &in_use).await.unwrap(),
        Removal::Removed
    );
    let out = probe::docker(&["image", "inspect", &in_use]);
    assert!(!out.status.success(), "{in_use} is still there");
    probe::docker_ok(&["rmi", &current]);
}
