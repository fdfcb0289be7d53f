//! Lineage from `_mesh.contracts` alone (the contracts observer), on the test broker: a
//! product's raw → `gateway.<product>` → validated/DLQ edges, its domain and owners, the same
//! nodes as the gateway's own RunEvents, and (where the broker lists groups) a consumer group
//! downstream.

use std::path::Path;
use std::time::{Duration, Instant};

use mesh_contract::ResolvedContract;
use mesh_kafka::testing::TestCluster;
use mesh_lineage::LineageConfig;
use mesh_runtime::Shutdown;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{Value, json};

/// The example orders contract under a unique product id.
fn contract() -> ResolvedContract {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/examples/orders");
    let text = std::fs::read_to_string(dir.join("order-placed.odcs.yaml")).unwrap();
    let files = mesh_contract::MemoryFiles(
        [(
            "order-placed.avsc".to_owned(),
            std::fs::read_to_string(dir.join("order-placed.avsc")).unwrap(),
        )]
        .into_iter()
        .collect(),
    );
    let loaded = mesh_contract::load_contract("order-placed.odcs.yaml", &text, &files);
    let mut c = loaded.contract.expect("example contract loads");
    let pid = TestCluster::unique_name("orders.placed");
    c.topics.raw = format!("{pid}.raw");
    c.topics.validated = format!("{pid}.v{}", c.major);
    c.topics.dlq = format!("{pid}.dlq");
    c.product_id = pid;
    c
}

async fn get(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

async fn eventually(what: &str, url: &str, ok: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = get(url).await;
        if status == 200 && ok(&body) {
            return body;
        }
        assert!(
            Instant::now() < deadline,
            "timed out waiting for {what}: {body}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

fn ids(lineage: &Value) -> Vec<String> {
    let mut ids: Vec<String> = lineage["graph"]
        .as_array()
        .map(|g| {
            g.iter()
                .filter_map(|n| n["id"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

/// What the gateway emits per quality window (docs/gateway.md), on `namespace`.
fn gateway_run(c: &ResolvedContract, namespace: &str) -> Value {
    json!({
        "eventType": "RUNNING", "eventTime": "2026-01-01T00:00:00Z",
        "producer": "https://github.com/mesh/mesh-gateway",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "0190c6d2-7a1b-7c3d-8e4f-0000000000aa"},
        "job": {"namespace": "mesh", "name": format!("gateway.{}", c.product_id)},
        "inputs": [{"namespace": namespace, "name": c.topics.raw}],
        "outputs": [{"namespace": namespace, "name": c.topics.validated},
                    {"namespace": namespace, "name": c.topics.dlq}],
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn contracts_alone_draw_raw_to_gateway_to_validated_with_the_products_domain() {
    let cluster = TestCluster::start();
    let contracts = cluster.unique_topic("contracts", 1).await;
    let lineage_topic = cluster.unique_topic("lineage", 1).await;
    let c = contract();
    cluster
        .produce(
            &contracts,
            vec![(Some(c.record_key().into_bytes()), c.to_record())],
        )
        .await;
    let mut config = LineageConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        topic: lineage_topic,
        contracts_topic: contracts,
        ..LineageConfig::default()
    };
    config.observers.interval = Duration::from_millis(300);
    // Consumer groups need ListGroups (tansu, not the mock); only this test's group matters.
    config.observers.consumer_groups = !cluster.is_mock();
    let shutdown = Shutdown::new();
    let running = mesh_lineage::start(config, &cluster.kafka_config(), &shutdown)
        .await
        .expect("start collector");
    let url = format!("http://{}", running.addr);

    let raw = format!("dataset:kafka://mesh:{}", c.topics.raw);
    let job = format!("job:mesh:gateway.{}", c.product_id);
    let validated = format!("dataset:kafka://mesh:{}", c.topics.validated);
    let dlq = format!("dataset:kafka://mesh:{}", c.topics.dlq);
    let lineage_url = format!("{url}/api/v1/lineage?nodeId={raw}&depth=5");
    let lineage = eventually("raw -> gateway -> validated", &lineage_url, |b| {
        ids(b).contains(&validated)
    })
    .await;
    let mut want = vec![raw.clone(), job.clone(), validated.clone(), dlq.clone()];
    want.sort();
    assert_eq!(ids(&lineage), want, "{lineage:#}");
    let job_node = lineage["graph"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == job.as_str())
        .unwrap();
    let ins: Vec<&str> = job_node["inEdges"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|e| e["origin"].as_str())
        .collect();
    assert_eq!(ins, [raw.as_str()], "the gateway reads raw: {job_node:#}");

    // The product's datasets carry its domain, owners and status.
    let (status, ds) = get(&format!(
        "{url}/api/v1/namespaces/kafka:%2F%2Fmesh/datasets/{}",
        c.topics.validated
    ))
    .await;
    assert_eq!(status, 200, "{ds}");
    assert_eq!(ds["domain"], c.domain.as_str(), "{ds:#}");
    assert_eq!(
        ds["facets"]["meshProduct"]["product"],
        c.product_id.as_str()
    );
    assert_eq!(ds["facets"]["meshProduct"]["status"], "active");
    let owners = ds["facets"]["ownership"]["owners"].to_string();
    for o in &c.owners {
        assert!(owners.contains(o.as_str()), "{owners}");
    }
    let (_, domains) = get(&format!(
        "{url}/api/v1/mesh/products/{}/domains",
        c.topics.validated
    ))
    .await;
    assert_eq!(domains["domains"], json!([c.domain]), "{domains}");
    // The product id names its raw topic; the gateway job consumes it, in the product's domain.
    let (status, consumers) = get(&format!(
        "{url}/api/v1/mesh/products/{}/consumers",
        c.product_id
    ))
    .await;
    assert_eq!(status, 200, "{consumers}");
    assert_eq!(consumers["product"], raw.as_str());
    assert_eq!(consumers["consumers"][0]["id"], job.as_str(), "{consumers}");
    assert_eq!(consumers["consumers"][0]["domain"], c.domain.as_str());
    assert_eq!(consumers["consumers"][0]["jobType"], "CONTRACT_GATEWAY");

    // The gateway's own RunEvents (bare `kafka` namespace, or the bootstrap servers) land on
    // the same nodes.
    for ns in [
        "kafka".to_owned(),
        format!("kafka://{}", cluster.bootstrap_servers()),
    ] {
        let r = reqwest::Client::new()
            .post(format!("{url}/api/v1/lineage"))
            .json(&gateway_run(&c, &ns))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
    }
    let run = eventually(
        "the gateway's two run events",
        &format!("{url}/api/v1/jobs/runs/0190c6d2-7a1b-7c3d-8e4f-0000000000aa"),
        |b| b["events"] == 2,
    )
    .await;
    assert_eq!(
        run["jobVersion"]["name"],
        format!("gateway.{}", c.product_id),
        "{run}"
    );
    let (_, after) = get(&lineage_url).await;
    assert_eq!(ids(&after), want, "no new nodes: {after:#}");

    if !cluster.is_mock() {
        // A consumer that emits nothing, only commits on the validated topic, links downstream.
        let group = TestCluster::unique_name("billing-app");
        cluster
            .create_topic(mesh_kafka::admin::TopicSpec::new(&c.topics.validated, 1))
            .await
            .expect("validated topic");
        cluster
            .produce(&c.topics.validated, vec![(None, b"{}".to_vec())])
            .await;
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", cluster.bootstrap_servers())
            .set("group.id", &group)
            .set("enable.auto.commit", "false")
            .create()
            .unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&c.topics.validated, 0, Offset::Offset(1))
            .unwrap();
        consumer.commit(&tpl, CommitMode::Sync).expect("commit");
        let group_id = format!("job:kafka-consumer-groups:{group}");
        eventually("the group downstream of raw", &lineage_url, |b| {
            ids(b).contains(&group_id)
        })
        .await;
    }
    shutdown.cancel();
    running.join().await.unwrap();
}
