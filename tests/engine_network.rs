//! The real engine: connect, negotiate, and create and remove labelled networks.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a failed step should stop the test where it happened

mod common;

use claude_bottle::docker::labels::{self, Role, SessionLabels, new_session_id};
use claude_bottle::docker::network;
use claude_bottle::docker::subnet::Cidr;

#[tokio::test]
async fn engine_answers_with_a_negotiated_version() {
    let engine = common::engine().await;
    let info = engine.info().await.unwrap();
    assert!(!info.version.is_empty());
    assert!(info.api_version.starts_with("1."), "{info:?}");
    assert!(info.runtimes.iter().any(|r| r == "runc"), "{info:?}");
}

#[tokio::test]
async fn internal_network_is_created_labelled_and_removed() {
    let engine = common::engine().await;
    let session = new_session_id();
    let name = format!("cb-test-net-{session}");
    let session_labels = SessionLabels::new("test-bottle", "test-agent", &session);
    let created = network::create(
        &engine,
        common::subnet_pool(),
        &name,
        true,
        session_labels.for_role(Role::InternalNet),
    )
    .await
    .unwrap();

    let inspected = engine
        .docker
        .inspect_network(&created.id, None)
        .await
        .unwrap();
    assert_eq!(inspected.internal, Some(true));
    let options = inspected.options.clone().unwrap_or_default();
    assert_eq!(
        options
            .get("com.docker.network.bridge.inhibit_ipv4")
            .map(String::as_str),
        Some("true"),
        "the host must have no address on an internal bridge"
    );
    let labels = inspected.labels.unwrap_or_default();
    assert_eq!(
        labels.get(labels::MANAGED).map(String::as_str),
        Some("true")
    );
    assert_eq!(labels.get(labels::SESSION), Some(&session));
    assert_eq!(
        labels.get(labels::ROLE).map(String::as_str),
        Some("internal-net")
    );
    let subnet = inspected.ipam.unwrap().config.unwrap()[0]
        .subnet
        .clone()
        .unwrap();
    let subnet = Cidr::parse(&subnet).unwrap();
    assert_eq!(subnet, created.subnet);
    assert!(subnet.overlaps(common::subnet_pool()));
    assert_eq!(
        network::find_by_name(&engine, &name).await.unwrap(),
        vec![created.id.clone()]
    );

    network::remove(&engine, &created.id).await.unwrap();
    assert!(
        network::find_by_name(&engine, &name)
            .await
            .unwrap()
            .is_empty()
    );
    // Removing again is not an error: teardown is idempotent.
    network::remove(&engine, &created.id).await.unwrap();
}

#[tokio::test]
async fn concurrent_creates_get_distinct_subnets() {
    let engine = common::engine().await;
    let session = new_session_id();
    let labels =
        SessionLabels::new("test-bottle", "test-agent", &session).for_role(Role::EgressNet);
    let creates = (0..6).map(|i| {
        let (engine, labels) = (engine.clone(), labels.clone());
        let name = format!("cb-test-par-{session}-{i}");
        tokio::spawn(async move {
            network::create(&engine, common::subnet_pool(), &name, false, labels).await
        })
    });
    let mut made = Vec::new();
    for handle in creates {
        made.push(handle.await.unwrap().unwrap());
    }
    for (i, a) in made.iter().enumerate() {
        for b in &made[i + 1..] {
            assert!(!a.subnet.overlaps(b.subnet), "{a:?} overlaps {b:?}");
        }
    }
    for n in made {
        network::remove(&engine, &n.id).await.unwrap();
    }
}
