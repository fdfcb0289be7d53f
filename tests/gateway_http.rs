//! HTTP produce from a client that is not a Kafka client (Python urllib), read back by a real
//! Kafka client (confluent-kafka-python's AvroDeserializer): the gateway's JSON → Avro encoding
//! is Confluent wire format any Schema Registry client decodes. Interpreter from `TEST_PYTHON`.

use mesh_gateway::{Delivery, Gateway, GatewayConfig};
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use mesh_scenarios::{
    TestRegistry, orders_contract_on_own_topics, provision_contract, required_runtime, run_python,
    test_python,
};

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/clients/gateway_http_python.py"
);
const EXAMPLES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/examples");

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_http_client_produces_and_avro_deserializer_reads() {
    let Some(python) = required_runtime(
        "python_http_client_produces_and_avro_deserializer_reads",
        test_python(
            "confluent_kafka.schema_registry.avro",
            "confluent-kafka[avro,schemaregistry]",
        ),
        "TEST_PYTHON=/work/main/target/py/bin/python cargo test -p mesh-scenarios --test gateway_http",
    ) else {
        return;
    };
    let cluster = TestCluster::start();
    let registry = TestRegistry::start(None, false).await;
    let c = orders_contract_on_own_topics(true);
    let register = reqwest::Client::new()
        .post(format!(
            "{}/subjects/{}/versions",
            registry.url(),
            c.value_schema.subject
        ))
        .json(&serde_json::json!({ "schema": c.value_schema.schema }))
        .send()
        .await
        .expect("register");
    assert!(register.status().is_success());
    let contracts = provision_contract(&cluster, &c, 2, &[]).await;
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
        tokens: [("py-token".to_owned(), "User:orders-service".to_owned())].into(),
        domains_file: Some(format!("{EXAMPLES}/domains.yaml").into()),
        ..GatewayConfig::default()
    };
    let shutdown = Shutdown::new();
    let gw = Gateway::default()
        .start(config, cluster.kafka_config(), &shutdown)
        .await
        .expect("gateway");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    while gw.contracts.raw_topics().is_empty() {
        assert!(std::time::Instant::now() < deadline, "contract not applied");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let args = vec![
        SCRIPT.to_owned(),
        format!("http://{}", gw.addr),
        c.product_id.clone(),
        "py-token".to_owned(),
        cluster.bootstrap_servers().to_owned(),
        registry.url(),
        c.topics.validated.clone(),
    ];
    eprintln!("{}", run_python(python, args).await);
    shutdown.cancel();
    registry.stop().await;
}
