//! `mesh up` in-process: platform topics exist with the right shape on whichever broker it
//! uses, and a Kafka client can produce and consume through it.

use std::time::Duration;

use mesh_cli::up::{self, Broker};
use mesh_kafka::admin::TopicOutcome;
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use mesh_runtime::shutdown::Drained;
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn up_provisions_platform_topics_and_carries_records() {
    let cluster = TestCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let config = mesh_scenarios::mesh_config(&cluster, dir.path());
    let shutdown = Shutdown::new();
    let running = up::start(&config, &shutdown).await.expect("mesh up starts");
    assert_eq!(
        matches!(running.broker, Broker::Embedded(_)),
        cluster.is_mock(),
        "embedded broker only when no Kafka is configured"
    );
    assert!(
        running
            .topics
            .iter()
            .all(|(_, o)| *o == TopicOutcome::Created)
    );
    let bootstrap = running.kafka.bootstrap_servers.clone().unwrap();

    let client: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("group.id", TestCluster::unique_name("g"))
        .create()
        .unwrap();
    let md = client
        .fetch_metadata(None, Duration::from_secs(10))
        .unwrap();
    for spec in config.topics.specs() {
        let t = md
            .topics()
            .iter()
            .find(|t| t.name() == spec.name)
            .unwrap_or_else(|| panic!("{} exists", spec.name));
        assert_eq!(
            t.partitions().len() as i32,
            spec.partitions,
            "{}",
            spec.name
        );
    }

    // Records flow through the broker mesh up uses.
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    let topic = &config.topics.alerts;
    let delivery = producer
        .send(
            FutureRecord::to(topic).key("k").payload("hello mesh"),
            Duration::from_secs(10),
        )
        .await
        .expect("delivered");
    let (partition, offset) = (delivery.partition, delivery.offset);
    let mut tpl = rdkafka::TopicPartitionList::new();
    tpl.add_partition_offset(topic, partition, rdkafka::Offset::Offset(offset))
        .unwrap();
    client.assign(&tpl).unwrap();
    let msg = tokio::task::block_in_place(|| client.poll(Duration::from_secs(10)))
        .expect("a record")
        .expect("no error");
    assert_eq!(msg.payload(), Some(&b"hello mesh"[..]));
    drop(msg);
    // Clients go before the broker (a librdkafka client closing against a vanished broker
    // waits out its timeouts).
    drop((client, producer));

    // Starting again over the same broker finds the topics (idempotent), once the first
    // instance released the data directory.
    assert_eq!(
        shutdown.drain(Duration::from_secs(10)).await,
        Drained::Clean
    );
    drop(running);
    if !cluster.is_mock() {
        let again = up::start(&config, &Shutdown::new()).await.unwrap();
        assert!(
            again
                .topics
                .iter()
                .all(|(_, o)| *o == TopicOutcome::Existing)
        );
    }
}
