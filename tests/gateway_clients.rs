//! Real Kafka + Schema Registry clients through the contract gateway: confluent-kafka-python's
//! `AvroSerializer` produces to a raw topic and its `AvroDeserializer` reads the validated topic
//! (tests/clients/gateway_confluent_python.py, interpreter from `TEST_PYTHON`). Exactly once on
//! the mock cluster, at least once on brokers without transactions (tansu).

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use mesh_gateway::{Delivery, Gateway, GatewayConfig};
use mesh_kafka::admin::TopicSpec;
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use mesh_scenarios::{TestRegistry, orders_contract_on_own_topics, required_runtime};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/clients/gateway_confluent_python.py"
);
const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/examples/orders");

fn test_python() -> Result<PathBuf, String> {
    let python = std::env::var_os("TEST_PYTHON")
        .map(PathBuf::from)
        .ok_or_else(|| "TEST_PYTHON is not set".to_string())?;
    let probe = Command::new(&python)
        .args(["-c", "import confluent_kafka.schema_registry.avro"])
        .output()
        .map_err(|e| format!("TEST_PYTHON={} cannot run: {e}", python.display()))?;
    if !probe.status.success() {
        return Err(format!(
            "TEST_PYTHON={} lacks confluent-kafka[avro,schemaregistry]",
            python.display()
        ));
    }
    Ok(python)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_avro_serializer_through_the_gateway() {
    let Some(python) = required_runtime(
        "python_avro_serializer_through_the_gateway",
        test_python(),
        "TEST_PYTHON=/work/main/target/py/bin/python cargo test -p mesh-scenarios --test gateway_clients",
    ) else {
        return;
    };
    let cluster = TestCluster::start();
    let registry = TestRegistry::start(None, false).await;
    // The producer's default TopicNameStrategy registers under `<raw topic>-value`: the
    // contract's subject for this test's unique raw topic.
    let c = orders_contract_on_own_topics(false);
    let contracts = TestCluster::unique_name("contracts");
    let progress = TestCluster::unique_name("progress");
    let quality = TestCluster::unique_name("quality");
    let lineage = TestCluster::unique_name("lineage");
    let mut specs = vec![TopicSpec::compacted_log(&contracts)];
    for t in [
        &c.topics.raw,
        &c.topics.validated,
        &c.topics.dlq,
        &progress,
        &quality,
        &lineage,
    ] {
        specs.push(TopicSpec::new(t, 1));
    }
    for s in specs {
        cluster.create_topic(s).await.expect("topic");
    }
    cluster
        .produce(
            &contracts,
            vec![(Some(c.record_key().into_bytes()), c.to_record())],
        )
        .await;
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
    let args = [
        SCRIPT.to_owned(),
        cluster.bootstrap_servers().to_owned(),
        registry.url(),
        c.topics.raw.clone(),
        c.topics.validated.clone(),
        schema_file,
    ];
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .args(args)
            .output()
            .expect("python runs")
    })
    .await
    .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "python client failed:\n{text}");
    eprintln!("{text}");
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
