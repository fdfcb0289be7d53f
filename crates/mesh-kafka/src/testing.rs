//! The test harness: a Kafka-protocol peer for integration tests.
//!
//! [`TestCluster::start`] gives the in-process librdkafka mock cluster (3 brokers), or the
//! external broker named by `TEST_KAFKA_BOOTSTRAP` (e.g. tansu in CI's real-broker suite). Topic
//! creation works the same on both (Admin API there, mock calls here); every test takes its own
//! topics from [`TestCluster::unique_topic`] so tests run in parallel against one broker.
//!
//! Known gaps it hides: the mock stores no transactional offset commits (see
//! [`crate::config::BrokerQuirks`]); tansu 0.6 reports a too-low high watermark for multi-record
//! batches and cannot fetch from inside a batch (the harness waits for quiet and produces one
//! record per batch there).
//!
//! What only one peer can do is explicit: [`TestCluster::mock_cluster`] (fault injection) is
//! `None` on an external broker, and [`TestCluster::supports_transactions`] is false there unless
//! `TEST_KAFKA_TRANSACTIONS=1` says the broker has them (tansu does not).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mesh_rdkafka_ext::MockCluster;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders, OwnedMessage};
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::admin::{Provisioner, TopicSpec};
use crate::config::BrokerQuirks;
use crate::{KafkaConfig, KafkaError};

/// Environment variable naming an external broker for the real-broker suite.
pub const BOOTSTRAP_ENV: &str = "TEST_KAFKA_BOOTSTRAP";
/// Set to `1` when the external broker supports transactions.
pub const TRANSACTIONS_ENV: &str = "TEST_KAFKA_TRANSACTIONS";

const TIMEOUT: Duration = Duration::from_secs(30);
const SETTLE: Duration = Duration::from_millis(300);

/// A broker for one test (or several: topics are per test). Clones share the broker.
#[derive(Clone, Debug)]
pub struct TestCluster {
    mock: Option<Arc<MockCluster>>,
    bootstrap: String,
    provisioner: Provisioner,
}

impl TestCluster {
    /// The external broker if `TEST_KAFKA_BOOTSTRAP` is set, else a fresh mock cluster.
    pub fn start() -> Self {
        debug_logging();
        match std::env::var(BOOTSTRAP_ENV) {
            Ok(b) if !b.trim().is_empty() => Self::external(b.trim()),
            _ => Self::mock(),
        }
    }

    /// Always a fresh in-process mock cluster (for fault injection and transactions).
    pub fn mock() -> Self {
        debug_logging();
        let mock = MockCluster::new(3).expect("start librdkafka mock cluster");
        mock.set_group_initial_rebalance_delay(0);
        let bootstrap = mock.bootstrap_servers();
        let mock = Arc::new(mock);
        Self {
            provisioner: Provisioner::Mock(mock.clone()),
            mock: Some(mock),
            bootstrap,
        }
    }

    /// A cluster that supports transactions: the external one if it does, else the mock.
    pub fn transactional() -> Self {
        let c = Self::start();
        if c.supports_transactions() {
            c
        } else {
            Self::mock()
        }
    }

    fn external(bootstrap: &str) -> Self {
        let provisioner = Provisioner::admin(&KafkaConfig::with_bootstrap(bootstrap))
            .expect("admin client for TEST_KAFKA_BOOTSTRAP");
        Self {
            mock: None,
            bootstrap: bootstrap.to_owned(),
            provisioner,
        }
    }

    pub fn is_mock(&self) -> bool {
        self.mock.is_some()
    }

    /// Whether transactional scenarios can run here.
    pub fn supports_transactions(&self) -> bool {
        self.is_mock() || std::env::var(TRANSACTIONS_ENV).is_ok_and(|v| v == "1")
    }

    /// The mock cluster, for fault injection; `None` on an external broker.
    pub fn mock_cluster(&self) -> Option<&MockCluster> {
        self.mock.as_deref()
    }

    pub fn bootstrap_servers(&self) -> &str {
        &self.bootstrap
    }

    pub fn kafka_config(&self) -> KafkaConfig {
        let mut c = KafkaConfig::with_bootstrap(&self.bootstrap);
        if self.is_mock() {
            c.quirks = BrokerQuirks::mock_cluster();
        }
        c
    }

    pub fn provisioner(&self) -> &Provisioner {
        &self.provisioner
    }

    /// A topic (or group, or transactional id) name no other test uses.
    pub fn unique_name(prefix: &str) -> String {
        static SEQ: AtomicU64 = AtomicU64::new(0);
        let nanos = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos() % 1_000_000_000_000)
            .unwrap_or_default();
        format!(
            "{prefix}-{}-{}-{nanos:x}",
            std::process::id(),
            SEQ.fetch_add(1, Ordering::Relaxed)
        )
    }

    /// Creates a topic with a unique name and returns the name.
    pub async fn unique_topic(&self, prefix: &str, partitions: i32) -> String {
        let name = Self::unique_name(prefix);
        self.create_topic(TopicSpec::new(&name, partitions))
            .await
            .expect("create test topic");
        name
    }

    pub async fn create_topic(&self, spec: TopicSpec) -> Result<(), KafkaError> {
        self.provisioner.ensure_topics(&[spec]).await.map(|_| ())
    }

    /// Produces `(key, value)` records (see [`TestCluster::produce_blocking`]).
    pub async fn produce(&self, topic: &str, records: Vec<(Option<Vec<u8>>, Vec<u8>)>) {
        let (c, t) = (self.clone(), topic.to_owned());
        tokio::task::spawn_blocking(move || c.produce_blocking(&t, &records))
            .await
            .expect("produce task");
    }

    /// Reads a whole topic (see [`TestCluster::read_all_blocking`]).
    pub async fn read_all(&self, topic: &str, read_committed: bool) -> Vec<OwnedMessage> {
        let (c, t) = (self.clone(), topic.to_owned());
        tokio::task::spawn_blocking(move || c.read_all_blocking(&t, read_committed))
            .await
            .expect("read task")
    }

    /// Produces `(key, value)` records with headers `idx` = position in the input, waiting for
    /// every acknowledgement.
    pub fn produce_blocking(&self, topic: &str, records: &[(Option<Vec<u8>>, Vec<u8>)]) {
        let mut cc = rdkafka::ClientConfig::new();
        cc.set("bootstrap.servers", &self.bootstrap)
            .set("enable.idempotence", "true")
            .set("linger.ms", "5");
        if !self.is_mock() {
            // tansu 0.6 serves a fetch from offset X only from batches whose *base* offset is
            // >= X, so a consumer resuming inside a batch skips the rest of it. One record per
            // batch keeps every offset a batch boundary.
            cc.set("batch.num.messages", "1");
        }
        let producer: ThreadedProducer<DefaultProducerContext> =
            cc.create().expect("test producer");
        for (i, (key, value)) in records.iter().enumerate() {
            let idx = i.to_string();
            let mut rec: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(topic)
                .payload(value.as_slice())
                .headers(OwnedHeaders::new().insert(Header {
                    key: "idx",
                    value: Some(&idx),
                }));
            if let Some(k) = key {
                rec = rec.key(k.as_slice());
            }
            loop {
                match producer.send(rec) {
                    Ok(()) => break,
                    Err((_, r)) => {
                        rec = r;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
            }
        }
        producer.flush(TIMEOUT).expect("flush test records");
    }

    /// Reads every record of `topic` up to its current high watermarks (and until no more
    /// arrive for a moment). `read_committed`
    /// selects the isolation level (note: the mock shows aborted records either way).
    pub fn read_all_blocking(&self, topic: &str, read_committed: bool) -> Vec<OwnedMessage> {
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &self.bootstrap)
            .set("group.id", Self::unique_name("reader"))
            .set("enable.auto.commit", "false")
            .set(
                "isolation.level",
                if read_committed {
                    "read_committed"
                } else {
                    "read_uncommitted"
                },
            )
            .create()
            .expect("test consumer");
        let md = consumer
            .fetch_metadata(Some(topic), TIMEOUT)
            .expect("metadata");
        let partitions: Vec<i32> = md.topics()[0].partitions().iter().map(|p| p.id()).collect();
        let mut tpl = TopicPartitionList::new();
        let mut ends = Vec::new();
        for &p in &partitions {
            let (_, high) = consumer
                .fetch_watermarks(topic, p, TIMEOUT)
                .expect("watermarks");
            ends.push((p, high));
            tpl.add_partition_offset(topic, p, Offset::Beginning)
                .expect("assign");
        }
        consumer.assign(&tpl).expect("assign");
        let mut out = Vec::new();
        let deadline = Instant::now() + TIMEOUT;
        let mut last_message = Instant::now();
        loop {
            assert!(
                Instant::now() < deadline,
                "read_all({topic}) did not reach the high watermarks {ends:?}"
            );
            if let Some(m) = consumer.poll(Duration::from_millis(100)) {
                out.push(m.expect("consume").detach());
                last_message = Instant::now();
                continue; // positions are only checked when the consumer idles: they are slow
            }
            let done = ends.iter().all(|(p, high)| {
                *high == 0
                    || consumer
                        .position()
                        .ok()
                        .and_then(|pos| pos.find_partition(topic, *p).map(|e| e.offset()))
                        .is_some_and(|o| matches!(o, Offset::Offset(o) if o >= *high))
            });
            // tansu 0.6 answers ListOffsets(latest) with the last *batch's* base offset + 1, so
            // its watermark is only a lower bound: also wait for the topic to go quiet.
            if done && last_message.elapsed() > SETTLE {
                break;
            }
        }
        out
    }
}

/// Logs to stderr when `RUST_LOG` is set (tests are quiet otherwise).
fn debug_logging() {
    if std::env::var_os("RUST_LOG").is_some() {
        let _ = mesh_runtime::telemetry::init(&mesh_runtime::telemetry::TelemetryConfig {
            log_format: mesh_runtime::telemetry::LogFormat::Human,
            log_level: "info".into(),
        });
    }
}

/// A header's value as UTF-8, if present.
pub fn header(msg: &OwnedMessage, name: &str) -> Option<String> {
    use rdkafka::message::Headers;
    msg.headers()?
        .iter()
        .find(|h| h.key == name)
        .and_then(|h| h.value)
        .map(|v| String::from_utf8_lossy(v).into_owned())
}
