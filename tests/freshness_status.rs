//! `mesh status` against a live `mesh up`: a product whose contract is on `_mesh.contracts`
//! shows up in the table with its freshness, SLA and alert state.

use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use mesh_cli::status::{self, StatusArgs, StatusFormat};
use mesh_cli::up::{self, Broker};
use mesh_kafka::admin::{Provisioner, TopicSpec};
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use rdkafka::producer::{FutureProducer, FutureRecord};

fn example_contract(validated: &str) -> mesh_contract::ResolvedContract {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/examples/orders");
    let text = std::fs::read_to_string(dir.join("order-placed.odcs.yaml")).unwrap();
    let files = mesh_contract::MemoryFiles(
        [(
            "order-placed.avsc".to_owned(),
            std::fs::read_to_string(dir.join("order-placed.avsc")).unwrap(),
        )]
        .into_iter()
        .collect(),
    );
    let mut c = mesh_contract::load_contract("order-placed.odcs.yaml", &text, &files)
        .contract
        .expect("example contract loads");
    c.topics.validated = validated.to_owned();
    if let Some(f) = c.sla.freshness.as_mut() {
        // Evaluated at any hour the test runs.
        f.active_hours = None;
    }
    c
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn status_shows_products_of_a_running_mesh() {
    let cluster = TestCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let config = mesh_scenarios::mesh_config(&cluster, dir.path());
    let shutdown = Shutdown::new();
    let running = up::start(&config, &shutdown).await.expect("mesh up starts");
    let freshness = running
        .services
        .iter()
        .find(|(n, _)| *n == "freshness")
        .expect("mesh up runs the freshness monitor")
        .1;
    let provisioner = match &running.broker {
        Broker::Embedded(b) => b.provisioner(),
        Broker::External { .. } => Provisioner::admin(&running.kafka).unwrap(),
    };
    let validated = TestCluster::unique_name("orders.order-placed.validated");
    provisioner
        .ensure_topics(&[TopicSpec::new(&validated, 1)])
        .await
        .unwrap();
    let contract = example_contract(&validated);
    let producer: FutureProducer = rdkafka::ClientConfig::new()
        .set(
            "bootstrap.servers",
            running.kafka.bootstrap_servers.as_deref().unwrap(),
        )
        .create()
        .unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64;
    producer
        .send(
            FutureRecord::to(&validated)
                .key("k")
                .payload("v")
                .timestamp(now),
            Duration::from_secs(10),
        )
        .await
        .unwrap();
    producer
        .send(
            FutureRecord::to(&config.topics.contracts)
                .key(&contract.record_key())
                .payload(&contract.to_record()),
            Duration::from_secs(10),
        )
        .await
        .unwrap();

    let args = |format| StatusArgs {
        url: Some(format!("http://{freshness}")),
        format,
    };
    // The monitor picks the contract up within a few check intervals.
    let mut table = String::new();
    for _ in 0..100 {
        table = status::run(&config, &args(StatusFormat::Table))
            .await
            .unwrap();
        if table.contains(&contract.product_id) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let row = table
        .lines()
        .find(|l| l.starts_with(&contract.product_id))
        .unwrap_or_else(|| panic!("product row in:\n{table}"));
    assert!(row.contains("fresh"), "{table}");
    assert!(!table.contains('\x1b'), "plain when not a terminal");
    assert!(table.lines().next().unwrap().starts_with("PRODUCT"));

    let json = status::run(&config, &args(StatusFormat::Json))
        .await
        .unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    // `mesh up` also applies the example contracts: find this test's product among them.
    let p = v["products"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["product"] == contract.product_id.as_str())
        .unwrap_or_else(|| panic!("{} in {json}", contract.product_id));
    assert_eq!(p["sla"]["warnSeconds"], 120.0);
    assert_eq!(p["partitions"][0]["highWatermark"], 1);
    shutdown.cancel();
    shutdown.drain(Duration::from_secs(10)).await;
}
