//! The real engine: a bottle launches, isolates its agent, and leaves nothing behind.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should stop the test where it happened

mod common;

use claude_bottle::docker::bottle::{self, LaunchSettings};
use claude_bottle::docker::container::exec_collect;
use claude_bottle::docker::reaper;

#[tokio::test]
async fn bottle_launches_and_tears_down() {
    let engine = common::engine().await;
    let settings: LaunchSettings = common::launch_settings().await;
    let resolved = common::resolved_agent("probe", &["allowed.test"]);
    let mut steps = Vec::new();
    let b = bottle::launch(&engine, &resolved, &settings, &mut |s| steps.push(s))
        .await
        .unwrap();
    let out = exec_collect(&engine, &b.agent_container, None, &["sh", "-c", "id -u; env | grep -i proxy | sort; cat /etc/resolv.conf; getent hosts deb.debian.org; echo rc=$?"], vec![]).await.unwrap();
    println!("{out:?}");
    b.teardown(&engine).await.unwrap();
    assert!(
        reaper::list_sessions(&engine)
            .await
            .unwrap()
            .iter()
            .all(|s| s.session != b.session)
    );
}
