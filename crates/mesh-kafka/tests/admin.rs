//! Topic provisioning against the test peer (mock in-process, or TEST_KAFKA_BOOTSTRAP).

use mesh_kafka::KafkaError;
use mesh_kafka::admin::{TopicOutcome, TopicSpec};
use mesh_kafka::testing::TestCluster;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ensure_topics_is_idempotent_and_validates_partitions() {
    let cluster = TestCluster::start();
    let name = TestCluster::unique_name("admin-idem");
    let log = TestCluster::unique_name("admin-log");
    let specs = [
        TopicSpec::new(&name, 3).config("retention.ms", "604800000"),
        TopicSpec::compacted_log(&log),
    ];
    let p = cluster.provisioner();
    let first = p.ensure_topics(&specs).await.expect("first ensure");
    assert_eq!(
        first,
        vec![
            (name.clone(), TopicOutcome::Created),
            (log.clone(), TopicOutcome::Created)
        ]
    );
    let again = p.ensure_topics(&specs).await.expect("second ensure");
    assert_eq!(
        again,
        vec![
            (name.clone(), TopicOutcome::Existing),
            (log.clone(), TopicOutcome::Existing)
        ]
    );

    // The topic is really there with its partitions: produce and read back.
    let records: Vec<_> = (0..30u32)
        .map(|i| (Some(i.to_be_bytes().to_vec()), format!("v{i}").into_bytes()))
        .collect();
    cluster.produce(&name, records).await;
    let read = cluster.read_all(&name, false).await;
    assert_eq!(read.len(), 30);
    let parts: std::collections::BTreeSet<i32> =
        read.iter().map(rdkafka::Message::partition).collect();
    assert!(parts.len() > 1, "records spread over partitions: {parts:?}");

    // More partitions than exist: refused, with a message naming the counts.
    let err = p
        .ensure_topics(&[TopicSpec::new(&name, 6)])
        .await
        .unwrap_err();
    match &err {
        KafkaError::TopicMismatch { topic, reason } => {
            assert_eq!(topic, &name);
            assert!(reason.contains("has 3 partitions, needs 6"), "{reason}");
        }
        other => panic!("expected TopicMismatch, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_mismatch_on_an_existing_topic_is_reported() {
    let cluster = TestCluster::start();
    if cluster.is_mock() {
        // The mock keeps no topic configs (no DescribeConfigs); covered on the real broker.
        eprintln!("mock cluster keeps no configs: scenario runs in the real-broker suite");
        return;
    }
    let name = TestCluster::unique_name("admin-cfg");
    let p = cluster.provisioner();
    p.ensure_topics(&[TopicSpec::compacted_log(&name)])
        .await
        .unwrap();
    let err = p
        .ensure_topics(&[TopicSpec::new(&name, 1).config("cleanup.policy", "delete")])
        .await
        .unwrap_err();
    assert!(
        err.to_string()
            .contains("cleanup.policy is compact, needs delete"),
        "{err}"
    );
}
