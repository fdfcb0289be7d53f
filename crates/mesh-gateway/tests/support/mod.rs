//! Shared harness: a test broker, an in-process registry, the orders example contract on
//! unique topics, an Avro encoder for its events, and gateway start-up.

#![allow(dead_code, reason = "each test binary uses part of the harness")]

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mesh_contract::model::{KeyPolicy, PhysicalSchema, TombstonePolicy};
use mesh_contract::{MemoryFiles, ResolvedContract};
use mesh_gateway::{Delivery, Gateway, GatewayConfig, RunningGateway};
use mesh_kafka::admin::TopicSpec;
use mesh_kafka::pipeline::{BatchSummary, Observer};
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use rdkafka::message::{Header, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use serde_json::json;

pub const SUBJECT: &str = "orders.order-placed.raw-value";
pub const KEY_SUBJECT: &str = "orders.order-placed.raw-key";

/// One product's topics and the registry for a test.
pub struct Harness {
    pub cluster: TestCluster,
    pub registry_url: String,
    pub registry_shutdown: Shutdown,
    pub contract: ResolvedContract,
    pub contracts_topic: String,
    pub progress_topic: String,
    pub quality_topic: String,
    pub lineage_topic: String,
    /// Value schema id (major 1) and key schema id.
    pub schema_id: u32,
    pub key_schema_id: u32,
}

pub fn order_contract() -> ResolvedContract {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemas/examples/orders");
    let mut files = BTreeMap::new();
    for e in std::fs::read_dir(dir).expect("examples") {
        let p = e.expect("entry").path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        files.insert(name, std::fs::read_to_string(&p).expect("read"));
    }
    let (yaml_name, yaml) = files
        .iter()
        .find(|(n, _)| n.ends_with(".yaml"))
        .map(|(n, t)| (n.clone(), t.clone()))
        .expect("contract yaml");
    let loaded = mesh_contract::load_contract(&yaml_name, &yaml, &MemoryFiles(files));
    loaded.contract.expect("orders contract resolves")
}

pub fn order_schema() -> String {
    order_contract().value_schema.schema
}

/// Starts an in-memory registry on a free port (or `listen`, with `data_dir`).
pub async fn start_registry(
    listen: SocketAddr,
    data_dir: Option<std::path::PathBuf>,
) -> (String, Shutdown) {
    let shutdown = Shutdown::new();
    let cfg = mesh_registry::RegistryConfig {
        listen,
        data_dir,
        ..Default::default()
    };
    let running = mesh_registry::start(cfg, &shutdown)
        .await
        .expect("registry");
    (format!("http://{}", running.addr), shutdown)
}

pub async fn register(url: &str, subject: &str, schema: &str, major: Option<u64>) -> u32 {
    let mut body = json!({ "schema": schema });
    if let Some(m) = major {
        body["metadata"] = json!({"properties": {"application.major.version": m.to_string()}});
    }
    let resp: serde_json::Value = reqwest::Client::new()
        .post(format!("{url}/subjects/{subject}/versions"))
        .json(&body)
        .send()
        .await
        .expect("register")
        .json()
        .await
        .expect("register body");
    resp["id"]
        .as_u64()
        .unwrap_or_else(|| panic!("registered: {resp}")) as u32
}

impl Harness {
    /// Topics, registry and contract (with a key schema and tombstones rejected).
    pub async fn new(cluster: TestCluster, partitions: i32) -> Self {
        let (registry_url, registry_shutdown) =
            start_registry(SocketAddr::from(([127, 0, 0, 1], 0)), None).await;
        Self::with_registry(cluster, partitions, registry_url, registry_shutdown).await
    }

    pub async fn with_registry(
        cluster: TestCluster,
        partitions: i32,
        registry_url: String,
        registry_shutdown: Shutdown,
    ) -> Self {
        let mut contract = order_contract();
        contract.topics.raw = cluster.unique_topic("orders-raw", partitions).await;
        contract.topics.validated = cluster.unique_topic("orders-v1", partitions).await;
        contract.topics.dlq = cluster.unique_topic("orders-dlq", partitions).await;
        contract.tombstones = TombstonePolicy::Reject;
        contract.key = KeyPolicy {
            schema: Some(PhysicalSchema {
                schema_type: "AVRO".into(),
                schema: "\"string\"".into(),
                subject: KEY_SUBJECT.into(),
            }),
            required: true,
        };
        let contracts_topic = TestCluster::unique_name("contracts");
        cluster
            .create_topic(TopicSpec::compacted_log(&contracts_topic))
            .await
            .expect("contracts topic");
        let schema_id = register(&registry_url, SUBJECT, &order_schema(), Some(1)).await;
        let key_schema_id = register(&registry_url, KEY_SUBJECT, "\"string\"", None).await;
        Self {
            progress_topic: cluster.unique_topic("progress", 1).await,
            quality_topic: cluster.unique_topic("quality", 1).await,
            lineage_topic: cluster.unique_topic("lineage", 1).await,
            cluster,
            registry_url,
            registry_shutdown,
            contract,
            contracts_topic,
            schema_id,
            key_schema_id,
        }
    }

    /// Writes the contract (or a tombstone) to the contracts topic.
    pub fn apply_contract(&self, contract: Option<&ResolvedContract>) {
        let key = self.contract.record_key();
        let value = contract.map(ResolvedContract::to_record);
        self.produce_raw(
            &self.contracts_topic,
            vec![Raw {
                key: Some(key.into_bytes()),
                value,
                ..Raw::default()
            }],
        );
    }

    pub fn config(&self, delivery: Delivery) -> GatewayConfig {
        GatewayConfig {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            registry_url: self.registry_url.clone(),
            registry_timeout: Duration::from_secs(2),
            group_id: TestCluster::unique_name("gw"),
            instance_id: "a".into(),
            delivery,
            contracts_topic: self.contracts_topic.clone(),
            progress_topic: self.progress_topic.clone(),
            quality_topic: self.quality_topic.clone(),
            lineage_topic: self.lineage_topic.clone(),
            quality_window: Duration::from_millis(500),
            max_batch_records: 50,
            max_batch_wait: Duration::from_millis(50),
            ..GatewayConfig::default()
        }
    }

    pub async fn start(
        &self,
        config: GatewayConfig,
        observer: Option<Arc<Batches>>,
        shutdown: &Shutdown,
    ) -> RunningGateway {
        let mut g = Gateway::default();
        if let Some(o) = observer {
            g = g.observer(o);
        }
        g.start(config, self.kafka(), shutdown)
            .await
            .expect("gateway starts")
    }

    /// The cluster's client config with short group timeouts: a killed member must not hold
    /// its partitions for 45 s.
    pub fn kafka(&self) -> mesh_kafka::KafkaConfig {
        let mut kafka = self.cluster.kafka_config();
        kafka
            .properties
            .insert("session.timeout.ms".into(), "3000".into());
        kafka
            .properties
            .insert("heartbeat.interval.ms".into(), "300".into());
        kafka
    }

    /// Produces records with optional headers (one record per batch on external brokers).
    pub fn produce_raw(&self, topic: &str, records: Vec<Raw>) {
        let producer: BaseProducer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", self.cluster.bootstrap_servers())
            .set("linger.ms", if self.cluster.is_mock() { "5" } else { "0" })
            .create()
            .expect("producer");
        for r in &records {
            let mut rec: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic);
            if let Some(k) = &r.key {
                rec = rec.key(k.as_slice());
            }
            if let Some(v) = &r.value {
                rec = rec.payload(v.as_slice());
            }
            if let Some(p) = r.partition {
                rec = rec.partition(p);
            }
            let mut hs = OwnedHeaders::new();
            for (k, v) in &r.headers {
                hs = hs.insert(Header {
                    key: k,
                    value: Some(v.as_slice()),
                });
            }
            rec = rec.headers(hs);
            while let Err((e, back)) = producer.send(rec) {
                assert!(
                    matches!(
                        e,
                        rdkafka::error::KafkaError::MessageProduction(
                            rdkafka::types::RDKafkaErrorCode::QueueFull
                        )
                    ),
                    "{e}"
                );
                producer.poll(Duration::from_millis(10));
                rec = back;
            }
            if !self.cluster.is_mock() {
                producer.flush(Duration::from_secs(10)).expect("flush");
            }
        }
        producer.flush(Duration::from_secs(10)).expect("flush");
    }

    pub fn wire(&self, payload: &[u8]) -> Vec<u8> {
        wire(self.schema_id, payload)
    }

    pub fn key(&self, k: &str) -> Vec<u8> {
        let mut b = Vec::new();
        string(&mut b, k);
        wire(self.key_schema_id, &b)
    }
}

/// A record to produce.
#[derive(Clone, Debug, Default)]
pub struct Raw {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
    pub partition: Option<i32>,
}

pub fn wire(id: u32, payload: &[u8]) -> Vec<u8> {
    let mut b = vec![0];
    b.extend(id.to_be_bytes());
    b.extend(payload);
    b
}

pub fn long(b: &mut Vec<u8>, v: i64) {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    loop {
        if n < 0x80 {
            b.push(n as u8);
            return;
        }
        b.push((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
}

pub fn string(b: &mut Vec<u8>, s: &str) {
    long(b, s.len() as i64);
    b.extend(s.as_bytes());
}

/// An OrderPlaced event (Avro binary, no wire prefix).
#[derive(Clone, Debug)]
pub struct Order {
    pub order_id: String,
    pub status: String,
    pub currency: String,
    pub total: f64,
    pub items: Vec<(String, i32)>,
    pub coupon: Option<String>,
}

impl Order {
    /// A valid order; `n` makes the (UUID) order id unique.
    pub fn valid(n: u64) -> Self {
        Self {
            order_id: format!("00000000-0000-4000-8000-{n:012}"),
            status: "PLACED".into(),
            currency: "EUR".into(),
            total: 42.5,
            items: vec![("sku-1".into(), 2)],
            coupon: None,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut b = Vec::new();
        string(&mut b, &self.order_id);
        string(&mut b, "c-1");
        string(&mut b, &self.status);
        string(&mut b, &self.currency);
        b.extend(self.total.to_le_bytes());
        if !self.items.is_empty() {
            long(&mut b, self.items.len() as i64);
            for (sku, q) in &self.items {
                string(&mut b, sku);
                long(&mut b, i64::from(*q));
            }
        }
        long(&mut b, 0);
        match &self.coupon {
            None => long(&mut b, 0),
            Some(c) => {
                long(&mut b, 1);
                string(&mut b, c);
            }
        }
        string(&mut b, "2026-01-01T00:00:00Z");
        b
    }
}

/// Records every committed and aborted batch (the EOS proof).
#[derive(Debug, Default)]
pub struct Batches {
    pub committed: Mutex<Vec<BatchSummary>>,
    pub aborted: Mutex<Vec<BatchSummary>>,
    /// Committed batches whose offsets the group refused (mock cluster only).
    pub refused: Mutex<Vec<BatchSummary>>,
}

impl Observer for Batches {
    fn committed(&self, b: &BatchSummary) {
        self.committed.lock().unwrap().push(b.clone());
    }
    fn aborted(&self, b: &BatchSummary, _reason: &str) {
        self.aborted.lock().unwrap().push(b.clone());
    }
    fn offsets_refused(&self, b: &BatchSummary) {
        self.refused.lock().unwrap().push(b.clone());
    }
}

impl Batches {
    pub fn committed_inputs(&self) -> usize {
        self.committed
            .lock()
            .unwrap()
            .iter()
            .map(BatchSummary::input_count)
            .sum()
    }
}

/// Polls `f` until it is true or `timeout` passes.
pub async fn wait_for(what: &str, timeout: Duration, mut f: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !f() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn hdr(m: &OwnedMessage, name: &str) -> Option<String> {
    mesh_kafka::testing::header(m, name)
}
