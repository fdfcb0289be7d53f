//! The lineage collector as users run it.
//!
//! - `openlineage_python_client_builds_the_graph`: `mesh up` in-process; the unchanged
//!   openlineage-python client (tests/clients/lineage_openlineage_python.py, run by `TEST_PYTHON`)
//!   emits START/RUNNING/COMPLETE over its HTTP transport (gzip, api_key) and a START over its
//!   Kafka transport straight to `_mesh.lineage`; the read API and `mesh lineage show` return the
//!   resulting graph.
//! - `consumer_groups_are_observed_without_instrumentation`: a consumer group that emits nothing
//!   shows up as a consumer of the topic it commits on. Needs ListGroups, which the mock cluster
//!   lacks: runs in the real-broker suite (tansu, `TEST_KAFKA_BOOTSTRAP`).

use std::time::{Duration, Instant};

use mesh_cli::lineage::{ShowArgs, ShowFormat};
use mesh_cli::up;
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use mesh_runtime::config::Secret;
use mesh_scenarios::{required_runtime, run_python, test_python};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::Value;

const SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/clients/lineage_openlineage_python.py"
);

async fn get(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.expect("GET");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn eventually(what: &str, url: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let (status, body) = get(url).await;
        if status == 200 && ok(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {status} {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn openlineage_python_client_builds_the_graph() {
    let Some(python) = required_runtime(
        "openlineage_python_client_builds_the_graph",
        test_python("openlineage.client.transport.http", "openlineage-python"),
        "Run scripts/test (it creates target/py from tests/clients/requirements.txt and sets \
         TEST_PYTHON), or: TEST_PYTHON=$PWD/target/py/bin/python cargo test -p mesh-scenarios --test lineage",
    ) else {
        return;
    };
    let cluster = TestCluster::start();
    let dir = tempfile::tempdir().unwrap();
    let mut config = mesh_scenarios::mesh_config(&cluster, dir.path());
    config.lineage.ingest_tokens = vec![Secret::new("ol-token")];
    config.lineage.clusters.insert(
        "orders-prod".into(),
        vec!["broker-1:9092".into(), "broker-2:9092".into()],
    );
    config.lineage.observers.consumer_groups = false;
    let shutdown = Shutdown::new();
    let running = up::start(&config, &shutdown).await.expect("mesh up starts");
    let addr = running
        .services
        .iter()
        .find(|(n, _)| *n == "lineage")
        .expect("mesh up runs the lineage collector")
        .1;
    let url = format!("http://{addr}");

    let target = url.clone();
    let bootstrap = running.kafka.bootstrap_servers.clone().expect("bootstrap");
    let topic = config.topics.lineage.clone();
    let args = [SCRIPT, &target, "ol-token", &bootstrap, &topic].map(str::to_owned);
    run_python(python, args.to_vec()).await;

    let ns = encode("kafka://orders-prod");
    let job = eventually(
        "the batch job's COMPLETE",
        &format!("{url}/api/v1/namespaces/domain-orders/jobs/orders.enrich"),
        |j| j["latestRun"]["state"] == "COMPLETED",
    )
    .await;
    assert_eq!(job["latestRun"]["events"], 3, "{job}");
    assert_eq!(job["inputs"][0]["namespace"], "kafka://orders-prod");
    let stream = eventually(
        "the streaming job",
        &format!("{url}/api/v1/namespaces/domain-orders/jobs/orders.gateway"),
        |j| j["latestRun"]["events"] == 2,
    )
    .await;
    assert_eq!(
        (
            stream["type"].as_str(),
            stream["latestRun"]["state"].as_str()
        ),
        (Some("STREAM"), Some("RUNNING"))
    );
    // What the client's Kafka transport wrote to the lineage topic is in the graph too.
    let emitter = eventually(
        "the Kafka-transport event",
        &format!("{url}/api/v1/namespaces/domain-orders/jobs/orders.kafka-emitter"),
        |j| j["latestRun"]["state"] == "RUNNING",
    )
    .await;
    assert_eq!(emitter["inputs"][0]["name"], "orders.enriched");
    let (_, enriched) = get(&format!(
        "{url}/api/v1/namespaces/{ns}/datasets/orders.enriched"
    ))
    .await;
    assert_eq!(enriched["fields"][1]["name"], "total", "{enriched}");
    assert_eq!(
        enriched["columnLineage"][0]["inputFields"][0]["field"],
        "price"
    );
    assert!(
        enriched["facets"]["schema"]["_producer"].is_string(),
        "facets kept as sent"
    );
    let (status, columns) = get(&format!(
        "{url}/api/v1/column-lineage?nodeId={}&depth=3",
        encode("datasetField:kafka://orders-prod:orders.enriched:total")
    ))
    .await;
    assert_eq!(status, 200, "{columns}");
    assert_eq!(
        columns["graph"][0]["inEdges"][0]["origin"],
        "datasetField:kafka://orders-prod:orders.validated:price",
        "{columns}"
    );

    // Marquez's lineage from the raw topic: both jobs, all three datasets, one namespace.
    let (_, lineage) = get(&format!(
        "{url}/api/v1/lineage?nodeId={}&depth=5",
        encode("dataset:kafka://orders-prod:orders.raw")
    ))
    .await;
    let mut ids: Vec<&str> = lineage["graph"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        vec![
            "dataset:kafka://orders-prod:orders.enriched",
            "dataset:kafka://orders-prod:orders.raw",
            "dataset:kafka://orders-prod:orders.validated",
            "job:domain-orders:orders.enrich",
            "job:domain-orders:orders.gateway",
            "job:domain-orders:orders.kafka-emitter",
        ]
    );

    // `mesh lineage show` renders it.
    let show = |upstream, format| ShowArgs {
        product: "orders.raw".into(),
        upstream,
        downstream: !upstream,
        depth: 5,
        format,
        lineage_url: url.clone(),
    };
    let tree = mesh_cli::lineage::show(&show(false, ShowFormat::Tree))
        .await
        .unwrap();
    assert_eq!(
        tree,
        "orders.raw  [kafka://orders-prod]\n\
         └── job domain-orders/orders.gateway (STREAMING)\n    \
             └── orders.validated  [kafka://orders-prod, domain domain-orders]\n        \
                 └── job domain-orders/orders.enrich (BATCH)\n            \
                     └── orders.enriched  [kafka://orders-prod, domain domain-orders]\n                \
                         └── job domain-orders/orders.kafka-emitter (BATCH)"
    );
    let dot = mesh_cli::lineage::show(&show(false, ShowFormat::Dot))
        .await
        .unwrap();
    assert_eq!(dot.matches(" -> ").count(), 5, "{dot}");
    let mut up = show(true, ShowFormat::Json);
    up.product = "orders.enriched".into();
    let json: Value = serde_json::from_str(&mesh_cli::lineage::show(&up).await.unwrap()).unwrap();
    assert_eq!(json["nodes"].as_array().unwrap().len(), 5);
    let mut missing = show(false, ShowFormat::Tree);
    missing.product = "nope".into();
    let err = mesh_cli::lineage::show(&missing).await.unwrap_err();
    assert!(err.to_string().contains("product nope not found"), "{err}");

    shutdown.cancel();
    shutdown.drain(Duration::from_secs(10)).await;
    drop(running);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_groups_are_observed_without_instrumentation() {
    let cluster = TestCluster::start();
    if cluster.is_mock() {
        eprintln!("the mock cluster has no ListGroups: scenario runs in the real-broker suite");
        return;
    }
    let topic = cluster.unique_topic("orders-validated", 1).await;
    cluster.produce(&topic, vec![(None, b"{}".to_vec())]).await;
    let group = TestCluster::unique_name("billing-app");
    // A consumer that emits no lineage at all: it only commits its position.
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("group.id", &group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&topic, 0, Offset::Offset(1))
        .unwrap();
    consumer
        .commit(&tpl, CommitMode::Sync)
        .expect("commit offsets");

    let dir = tempfile::tempdir().unwrap();
    let mut config = mesh_scenarios::mesh_config(&cluster, dir.path());
    config.lineage.observers.interval = Duration::from_millis(300);
    let shutdown = Shutdown::new();
    let running = up::start(&config, &shutdown).await.expect("mesh up starts");
    let addr = running
        .services
        .iter()
        .find(|(n, _)| *n == "lineage")
        .unwrap()
        .1;
    let consumers = eventually(
        "the group as a consumer",
        &format!("http://{addr}/api/v1/mesh/products/{topic}/consumers"),
        |b| {
            b["consumers"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["name"] == group.as_str()))
        },
    )
    .await;
    let c = consumers["consumers"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == group.as_str())
        .unwrap();
    assert_eq!(c["namespace"], "kafka-consumer-groups");
    assert_eq!(c["jobType"], "CONSUMER_GROUP");
    assert_eq!(
        consumers["product"],
        format!("dataset:kafka://mesh:{topic}")
    );
    shutdown.cancel();
    shutdown.drain(Duration::from_secs(10)).await;
    drop(running);
}
