//! Shared helpers: a contract on a test topic, producing with chosen timestamps, a webhook
//! receiver, an engine on a manual clock.

#![allow(dead_code)]

use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::routing::post;
use mesh_contract::ResolvedContract;
use mesh_contract::model::Freshness;
use mesh_freshness::FreshnessConfig;
use mesh_freshness::clock::ManualClock;
use mesh_freshness::service::Engine;
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

/// A fixed start of time (a Tuesday, 2023-11-14 22:13:20 UTC).
pub const T0: i64 = 1_700_000_000_000;

/// The example orders contract, moved onto `validated` with the given thresholds.
pub fn contract(validated: &str, warn_ms: u64, critical_ms: u64, for_ms: u64) -> ResolvedContract {
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
    c.product_id = TestCluster::unique_name("orders.placed");
    c.topics.validated = validated.to_owned();
    c.sla.freshness = Some(Freshness {
        objective_ms: warn_ms,
        warn_ms,
        critical_ms,
        for_ms,
        active_hours: None,
        allowed_idle_ms: None,
        element: None,
    });
    c
}

/// A test's own `(contracts, alerts, validated)` topics, and the example contract (thresholds as
/// given) on `validated`, already published to `contracts`.
pub async fn product(
    cluster: &TestCluster,
    warn_ms: u64,
    critical_ms: u64,
    for_ms: u64,
) -> (String, String, String, ResolvedContract) {
    let contracts = cluster.unique_topic("contracts", 1).await;
    let alerts = cluster.unique_topic("alerts", 1).await;
    let validated = cluster.unique_topic("orders-validated", 1).await;
    let c = contract(&validated, warn_ms, critical_ms, for_ms);
    publish_contract(cluster, &contracts, &c).await;
    (contracts, alerts, validated, c)
}

pub async fn publish_contract(cluster: &TestCluster, topic: &str, c: &ResolvedContract) {
    let producer = producer(cluster);
    let key = c.record_key();
    let value = c.to_record();
    producer
        .send(
            FutureRecord::to(topic).key(&key).payload(&value),
            Duration::from_secs(10),
        )
        .await
        .expect("contract record");
}

pub fn producer(cluster: &TestCluster) -> FutureProducer {
    rdkafka::ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("batch.num.messages", "1")
        .create()
        .unwrap()
}

/// Produces one record to partition 0 with CreateTime `ts`.
pub async fn produce_at(producer: &FutureProducer, topic: &str, ts: i64) {
    producer
        .send(
            FutureRecord::to(topic)
                .partition(0)
                .key("k")
                .payload("v")
                .timestamp(ts),
            Duration::from_secs(10),
        )
        .await
        .expect("produce");
}

/// Commits `offset` on partition 0 of `topic` for `group`.
pub fn commit(cluster: &TestCluster, group: &str, topic: &str, offset: i64) {
    let c: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Offset(offset))
        .unwrap();
    c.commit(&tpl, CommitMode::Sync).expect("commit");
}

/// A webhook receiver recording bodies; answers 500 to the first `fail_first` requests.
#[derive(Clone, Default)]
pub struct Receiver {
    pub bodies: Arc<Mutex<Vec<serde_json::Value>>>,
    pub attempts: Arc<Mutex<u32>>,
    fail_first: u32,
}

impl Receiver {
    pub async fn start(fail_first: u32, shutdown: &Shutdown) -> (Self, String) {
        let r = Receiver {
            fail_first,
            ..Default::default()
        };
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(r.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let token = shutdown.token();
        tokio::spawn(async move {
            axum::serve(listener, app)
                .with_graceful_shutdown(async move { token.cancelled().await })
                .await
                .unwrap();
        });
        (r, url)
    }

    /// Waits (bounded) until `n` payloads have been accepted.
    pub async fn wait_for(&self, n: usize) -> Vec<serde_json::Value> {
        for _ in 0..200 {
            let b = self.bodies.lock().unwrap().clone();
            if b.len() >= n {
                return b;
            }
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
        self.bodies.lock().unwrap().clone()
    }
}

async fn receive(State(r): State<Receiver>, Json(body): Json<serde_json::Value>) -> StatusCode {
    let attempt = {
        let mut a = r.attempts.lock().unwrap();
        *a += 1;
        *a
    };
    if attempt <= r.fail_first {
        return StatusCode::INTERNAL_SERVER_ERROR;
    }
    r.bodies.lock().unwrap().push(body);
    StatusCode::OK
}

/// Config for tests: own topics, quick resolve, fast webhook retries.
pub fn config(contracts: &str, alerts: &str, webhook: Option<String>) -> FreshnessConfig {
    let mut c = FreshnessConfig {
        contracts_topic: contracts.to_owned(),
        alerts_topic: alerts.to_owned(),
        resolve_after: Duration::from_secs(1),
        discover_groups: false,
        request_timeout: Duration::from_secs(10),
        ..FreshnessConfig::default()
    };
    c.webhook.url = webhook;
    c.webhook.initial_backoff = Duration::from_millis(20);
    c
}

pub fn engine(
    cluster: &TestCluster,
    config: FreshnessConfig,
    clock: &ManualClock,
    shutdown: &Shutdown,
) -> Engine {
    Engine::new(
        config,
        &cluster.kafka_config(),
        Arc::new(clock.clone()),
        "http://freshness.test".into(),
        shutdown,
    )
    .expect("engine")
}

/// Ticks until the product's newest records are read (a just-produced record can take a moment
/// to become readable on a busy machine); asserts that no alert changed meanwhile.
pub async fn settle(engine: &mut Engine, product: &str) {
    for _ in 0..50 {
        let events = engine.tick().await.unwrap();
        assert!(events.is_empty(), "{events:#?}");
        let ready = engine
            .shared()
            .monitor()
            .view(product)
            .is_some_and(|v| v.partitions.iter().all(|p| p.age_ms.is_some()));
        if ready {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{product}'s records never became readable");
}
