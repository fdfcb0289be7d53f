//! The `_schemas` topic as the registry's log (registry-api.md §3): provisioning (1 partition,
//! compacted), appends through an idempotent producer (`acks=all`), the end offset for
//! "read up to the end before deciding", and a tailing consumer thread that hands every record
//! (with its offset) to the service, from the start of the topic and then forever.
//!
//! Records are Confluent's exact key/value bytes ([`Record::encode`]). A record that does not
//! decode (bad JSON, missing fields) is logged with its offset and skipped, like Confluent and
//! Karapace followers do; keytypes mesh does not handle (NOOP, CONTEXT, CLEAR_SUBJECT, ...) are
//! skipped silently. Nothing on the topic can stop the tailer.

use std::time::{Duration, Instant};

use mesh_kafka::KafkaConfig;
use mesh_kafka::admin::{Provisioner, TopicSpec};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};
use rdkafka::producer::{DeliveryFuture, FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use crate::model::Record;
use crate::store::StoreError;

/// One record as the tailer hands it over: its offset and, if it decoded to something the
/// registry applies, the record.
pub type Tailed = (i64, Option<Record>);

/// Producer, metadata client and settings for one `_schemas` topic.
pub struct KafkaLog {
    topic: String,
    kafka: KafkaConfig,
    producer: FutureProducer,
    /// Only for watermark queries (never assigned).
    meta: BaseConsumer,
    write_timeout: Duration,
}

impl std::fmt::Debug for KafkaLog {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "KafkaLog({})", self.topic)
    }
}

fn kafka_err(op: &str) -> impl FnOnce(RdError) -> StoreError + '_ {
    move |e| match e.rdkafka_error_code() {
        Some(RDKafkaErrorCode::MessageTimedOut | RDKafkaErrorCode::OperationTimedOut) => {
            StoreError::Timeout(format!("{op}: {e}"))
        }
        _ => StoreError::Kafka(format!("{op}: {e}")),
    }
}

impl KafkaLog {
    /// Ensures the topic exists as a 1-partition compacted log (created if missing, refused if it
    /// has other partitions or another cleanup policy), and creates the clients. Appends fail
    /// after `write_timeout` (the producer's `message.timeout.ms`).
    pub async fn open(
        kafka: &KafkaConfig,
        provisioner: &Provisioner,
        topic: &str,
        write_timeout: Duration,
    ) -> Result<Self, StoreError> {
        provisioner
            .ensure_topics(&[TopicSpec::compacted_log(topic)])
            .await
            .map_err(|e| StoreError::Kafka(e.to_string()))?;
        let client = |role: &str| {
            kafka
                .client_config(role)
                .map_err(|e| StoreError::Kafka(e.to_string()))
        };
        let timeout_ms = write_timeout.as_millis().max(1).to_string();
        let producer = client("registry-producer")?
            .set("enable.idempotence", "true")
            .set("acks", "all")
            .set("linger.ms", "1")
            .set("message.timeout.ms", &timeout_ms)
            .create()
            .map_err(kafka_err("create producer"))?;
        let meta = client("registry-meta")?
            .set("group.id", "mesh-registry-meta")
            .set("enable.auto.commit", "false")
            .create()
            .map_err(kafka_err("create metadata client"))?;
        let log = Self {
            topic: topic.to_owned(),
            kafka: kafka.clone(),
            producer,
            meta,
            write_timeout,
        };
        // The provisioner refuses too few partitions; one log order needs exactly one.
        tokio::task::spawn_blocking(move || log.check_single_partition().map(|()| log))
            .await
            .map_err(|e| StoreError::Kafka(format!("metadata task: {e}")))?
    }

    fn check_single_partition(&self) -> Result<(), StoreError> {
        let md = self
            .meta
            .fetch_metadata(Some(&self.topic), self.write_timeout)
            .map_err(kafka_err("fetch metadata"))?;
        let partitions = md.topics().first().map_or(0, |t| t.partitions().len());
        if partitions != 1 {
            return Err(StoreError::Kafka(format!(
                "topic {} has {partitions} partitions; the registry's log needs exactly 1 \
                 (one log order is what makes ids unique)",
                self.topic
            )));
        }
        Ok(())
    }

    pub fn topic(&self) -> &str {
        &self.topic
    }

    pub fn write_timeout(&self) -> Duration {
        self.write_timeout
    }

    /// Appends `records` in order and returns the offset of each; fails within the write
    /// timeout when the broker does not acknowledge (outage, no leader).
    pub async fn append(&self, records: &[Record]) -> Result<Vec<i64>, StoreError> {
        Self::delivered(self.send(records)?).await
    }

    /// Queues `records` on the producer, in order (idempotence keeps that order across
    /// retries, and calls to `send` are ordered among themselves): appends can be pipelined.
    /// librdkafka copies each record as it is queued, so each is encoded just before its send.
    pub fn send<'a>(
        &self,
        records: impl IntoIterator<Item = &'a Record>,
    ) -> Result<Vec<DeliveryFuture>, StoreError> {
        let records = records.into_iter();
        let mut pending = Vec::with_capacity(records.size_hint().0);
        for record in records {
            let (key, value) = record.encode();
            let mut rec: FutureRecord<'_, [u8], [u8]> =
                FutureRecord::to(&self.topic).key(key.as_slice());
            if let Some(v) = &value {
                rec = rec.payload(v.as_slice());
            }
            let fut = self
                .producer
                .send_result(rec)
                .map_err(|(e, _)| kafka_err("produce")(e))?;
            pending.push(fut);
        }
        Ok(pending)
    }

    /// The offsets of records queued by [`KafkaLog::send`], once acknowledged (`acks=all`).
    pub async fn delivered(pending: Vec<DeliveryFuture>) -> Result<Vec<i64>, StoreError> {
        let mut offsets = Vec::with_capacity(pending.len());
        for fut in pending {
            match fut.await {
                Ok(Ok(delivery)) => offsets.push(delivery.offset),
                Ok(Err((e, _))) => return Err(kafka_err("produce")(e)),
                Err(_) => return Err(StoreError::Kafka("producer dropped a record".into())),
            }
        }
        Ok(offsets)
    }

    /// The offset of the topic's last record, asked of the broker (`None`: the topic holds no
    /// record, e.g. new, or emptied by retention). Blocking; bounded by the write timeout.
    pub fn last_offset(&self) -> Result<Option<i64>, StoreError> {
        let (low, high) = self
            .meta
            .fetch_watermarks(&self.topic, 0, self.write_timeout)
            .map_err(kafka_err("fetch end offset"))?;
        Ok((high > low).then_some(high - 1))
    }

    /// Starts the tailing consumer thread: reads the topic from its beginning and hands records
    /// to `on_batch` in offset order, in batches (up to 1,000 at a time), until `stop` fires.
    /// Broker errors are logged (rate-limited) and retried by librdkafka; they never end it.
    pub fn tail(
        &self,
        stop: CancellationToken,
        mut on_batch: impl FnMut(Vec<Tailed>) + Send + 'static,
    ) -> Result<std::thread::JoinHandle<()>, StoreError> {
        let consumer: BaseConsumer = self
            .kafka
            .client_config("registry-tail")
            .map_err(|e| StoreError::Kafka(e.to_string()))?
            .set("group.id", "mesh-registry-tail")
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            // Tail latency is write latency (read-your-writes waits for it): do not let the
            // broker hold an empty fetch long.
            .set("fetch.wait.max.ms", "10")
            .set("fetch.error.backoff.ms", "50")
            .create()
            .map_err(kafka_err("create tailing consumer"))?;
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset(&self.topic, 0, Offset::Beginning)
            .map_err(kafka_err("assign"))?;
        consumer.assign(&tpl).map_err(kafka_err("assign"))?;
        let topic = self.topic.clone();
        std::thread::Builder::new()
            .name("registry-tail".into())
            .spawn(move || {
                let mut last_error = None::<Instant>;
                while !stop.is_cancelled() {
                    let mut batch = Vec::new();
                    let mut wait = Duration::from_millis(100);
                    while batch.len() < 1000 {
                        match consumer.poll(wait) {
                            None => break,
                            Some(Ok(m)) => {
                                batch.push((m.offset(), decode(&topic, m.offset(), &m)));
                                wait = Duration::ZERO;
                            }
                            Some(Err(e)) => {
                                if last_error.is_none_or(|t| t.elapsed() > Duration::from_secs(10))
                                {
                                    tracing::warn!(topic, error = %e, "registry log consumer");
                                    last_error = Some(Instant::now());
                                }
                                break;
                            }
                        }
                    }
                    if !batch.is_empty() {
                        on_batch(batch);
                    }
                }
            })
            .map_err(|e| StoreError::Kafka(format!("spawn tailing consumer: {e}")))
    }
}

fn decode(topic: &str, offset: i64, m: &rdkafka::message::BorrowedMessage<'_>) -> Option<Record> {
    let Some(key) = m.key() else {
        tracing::warn!(topic, offset, "skipping _schemas record without a key");
        return None;
    };
    match Record::decode(key, m.payload()) {
        Ok(Some(r)) => Some(r),
        Ok(None) => {
            tracing::info!(
                topic,
                offset,
                key = %String::from_utf8_lossy(key),
                "skipping _schemas record of a keytype mesh does not apply"
            );
            None
        }
        Err(e) => {
            tracing::warn!(topic, offset, error = %e, "skipping malformed _schemas record");
            None
        }
    }
}
