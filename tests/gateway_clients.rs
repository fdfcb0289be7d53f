//! Real Kafka + Schema Registry clients through the contract gateway: confluent-kafka-python's
//! `AvroSerializer` produces to a raw topic and its `AvroDeserializer` reads the validated topic
//! (tests/clients/gateway_confluent_python.py, interpreter from `TEST_PYTHON`). Exactly once on
//! the mock cluster, at least once on brokers without transactions (tansu).

use std::time::Duration;

use mesh_gateway::{Delivery, Gateway, GatewayConfig};
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use mesh_scenarios::{
    TestRegistry, orders_contract_on_own_topics, provision_contract, required_runtime, run_python,
    test_python,
};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/clients/gateway_confluent_python.py"
);
const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/examples/orders");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_avro_serializer_through_the_gateway() {
    let Some(python) = required_runtime(
        "python_avro_serializer_through_the_gateway",
        test_python(
            "confluent_kafka.schema_registry.avro",
            "confluent-kafka[avro,schemaregistry]",
        ),
        "TEST_PYTHON=/work/main/target/py/bin/python cargo test -p mesh-scenarios --test gateway_clients",
    ) else {
        return;
    };
    let cluster = TestCluster::start();
    let registry = TestRegistry::start(None, false).await;
    // The producer's default TopicNameStrategy registers under `<raw topic>-value`: the
    // contract's subject for this test's unique raw topic.
    let c = orders_contract_on_own_topics(false);
    let progress = TestCluster::unique_name("progress");
    let quality = TestCluster::unique_name("quality");
    let lineage = TestCluster::unique_name("lineage");
    let contracts = provision_contract(&cluster, &c, 1, &[&progress, &quality, &lineage]).await;
    let config = GatewayConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        registry_url: registry.url(),
        group_id: TestCluster::unique_name("gw"),
        delivery: if cluster.supports_transactions() {
            Delivery::ExactlyOnce
        } else {
            Delivery::AtLeastOnce
        },
        contracts_topic: contracts,
        progress_topic: progress,
        quality_topic: quality,
        lineage_topic: lineage,
        max_batch_wait: Duration::from_millis(50),
        ..GatewayConfig::default()
    };
    let shutdown = Shutdown::new();
    Gateway::default()
        .start(config, cluster.kafka_config(), &shutdown)
        .await
        .expect("gateway");

    let schema_file = format!("{EXAMPLES}/order-placed.avsc");
    let args = vec![
        SCRIPT.to_owned(),
        cluster.bootstrap_servers().to_owned(),
        registry.url(),
        c.topics.raw.clone(),
        c.topics.validated.clone(),
        schema_file,
    ];
    eprintln!("{}", run_python(python, args).await);
    let dlq = cluster.read_all(&c.topics.dlq, true).await;
    assert_eq!(
        dlq.len(),
        1,
        "the order breaking status-known is dead-lettered"
    );
    assert_eq!(
        mesh_kafka::testing::header(&dlq[0], "__mesh.error.rule").as_deref(),
        Some("status-known")
    );
    shutdown.cancel();
    registry.stop().await;
}
