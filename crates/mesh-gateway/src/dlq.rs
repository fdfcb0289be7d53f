//! DLQ redrive: read a product's `<product>.dlq` with the reasons the gateway stamped on each
//! entry (DESIGN.md §5 headers), and replay selected entries to the raw topic.
//!
//! A replayed record carries the entry's original key, value, timestamp and headers (the
//! gateway's own `__mesh.*`/`__rule.*` headers removed) plus `__mesh.replay.*` (source DLQ
//! topic/partition/offset, time, who). Each replay is itself recorded on the DLQ topic: a
//! *replay marker* (header `__mesh.replay.marker`, JSON value) in the same partition as the
//! entry, so the DLQ's own log says what was redriven, when and by whom, and a second replay
//! skips entries already replayed unless forced. Markers are never listed as entries.
//! Blocking (rdkafka consumer/producer): async callers use `spawn_blocking`.

use std::collections::{BTreeMap, HashSet};
use std::time::{Duration, Instant};

use mesh_kafka::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde::Serialize;

use crate::GatewayError;
use crate::output::{ERROR_CODE, ERROR_MESSAGE, ERROR_PATH, ERROR_RULE, ERRORS};

pub const REPLAY_MARKER: &str = "__mesh.replay.marker";
pub const REPLAY_TOPIC: &str = "__mesh.replay.source.topic";
pub const REPLAY_PARTITION: &str = "__mesh.replay.source.partition";
pub const REPLAY_OFFSET: &str = "__mesh.replay.source.offset";
pub const REPLAY_TIME: &str = "__mesh.replay.time";
pub const REPLAY_BY: &str = "__mesh.replay.by";

const TIMEOUT: Duration = Duration::from_secs(10);

/// One DLQ entry.
#[derive(Clone, Debug, Serialize)]
pub struct Entry {
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<i64>,
    #[serde(skip)]
    pub key: Option<Vec<u8>>,
    #[serde(skip)]
    pub value: Option<Vec<u8>>,
    /// Every header (name, UTF-8 lossy value).
    pub headers: Vec<(String, String)>,
    #[serde(skip)]
    pub raw_headers: Vec<(String, Vec<u8>)>,
    pub code: Option<String>,
    pub rule: Option<String>,
    pub path: Option<String>,
    pub message: Option<String>,
    /// Every violation (`__mesh.errors`).
    pub errors: serde_json::Value,
    /// Replay markers found for this entry (`{"at", "by", "rawTopic"}`).
    pub replays: Vec<serde_json::Value>,
}

impl Entry {
    /// Whether any of the entry's violations is `rule` (a rule name or a violation code).
    pub fn has_rule(&self, rule: &str) -> bool {
        self.rule.as_deref() == Some(rule)
            || self.code.as_deref() == Some(rule)
            || self.errors.as_array().is_some_and(|a| {
                a.iter()
                    .any(|e| e["rule"].as_str() == Some(rule) || e["code"].as_str() == Some(rule))
            })
    }

    /// The headers the original producer sent (the gateway's own removed).
    pub fn original_headers(&self) -> impl Iterator<Item = &(String, Vec<u8>)> {
        self.raw_headers
            .iter()
            .filter(|(k, _)| !k.starts_with("__mesh.") && !k.starts_with("__rule."))
    }
}

/// Which entries to replay.
#[derive(Clone, Debug)]
pub enum Selection {
    All,
    /// Inclusive offset range, optionally on one partition.
    Offsets {
        from: i64,
        to: i64,
        partition: Option<i32>,
    },
    Rule(String),
}

impl Selection {
    pub fn matches(&self, e: &Entry) -> bool {
        match self {
            Selection::All => true,
            Selection::Offsets {
                from,
                to,
                partition,
            } => (*from..=*to).contains(&e.offset) && partition.is_none_or(|p| p == e.partition),
            Selection::Rule(r) => e.has_rule(r),
        }
    }
}

fn kafka_err(topic: &str, e: impl std::fmt::Display) -> GatewayError {
    GatewayError::Topic {
        topic: topic.to_owned(),
        reason: e.to_string(),
    }
}

/// Reads every entry of `dlq_topic` up to its current end, with their replay markers.
pub fn read(kafka: &KafkaConfig, dlq_topic: &str) -> Result<Vec<Entry>, GatewayError> {
    let mut cc = kafka.client_config("dlq-reader")?;
    cc.set("group.id", "mesh-dlq-reader")
        .set("enable.auto.commit", "false")
        .set("isolation.level", "read_committed");
    let consumer: BaseConsumer = cc.create().map_err(|e| kafka_err(dlq_topic, e))?;
    let md = consumer
        .fetch_metadata(Some(dlq_topic), TIMEOUT)
        .map_err(|e| kafka_err(dlq_topic, e))?;
    let parts: Vec<i32> = md
        .topics()
        .first()
        .map(|t| t.partitions().iter().map(|p| p.id()).collect())
        .unwrap_or_default();
    if parts.is_empty() {
        return Err(kafka_err(dlq_topic, "topic does not exist"));
    }
    let mut tpl = TopicPartitionList::new();
    let mut ends = BTreeMap::new();
    for p in &parts {
        let (low, high) = consumer
            .fetch_watermarks(dlq_topic, *p, TIMEOUT)
            .map_err(|e| kafka_err(dlq_topic, e))?;
        if high > low {
            ends.insert(*p, high);
            tpl.add_partition_offset(dlq_topic, *p, Offset::Beginning)
                .map_err(|e| kafka_err(dlq_topic, e))?;
        }
    }
    consumer.assign(&tpl).map_err(|e| kafka_err(dlq_topic, e))?;
    let mut entries = Vec::new();
    let mut markers: Vec<(i32, i64, serde_json::Value)> = Vec::new();
    let deadline = Instant::now() + TIMEOUT;
    while !ends.is_empty() {
        if Instant::now() > deadline {
            return Err(kafka_err(dlq_topic, "timed out reading to the end"));
        }
        if let Some(m) = consumer.poll(Duration::from_millis(100)) {
            let m = m.map_err(|e| kafka_err(dlq_topic, e))?;
            let raw_headers: Vec<(String, Vec<u8>)> = m
                .headers()
                .map(|hs| {
                    hs.iter()
                        .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec()))
                        .collect()
                })
                .unwrap_or_default();
            let get = |name: &str| {
                raw_headers
                    .iter()
                    .find(|(k, _)| k == name)
                    .map(|(_, v)| String::from_utf8_lossy(v).into_owned())
            };
            if get(REPLAY_MARKER).is_some() {
                let v: serde_json::Value = m
                    .payload()
                    .and_then(|p| serde_json::from_slice(p).ok())
                    .unwrap_or_default();
                if let (Some(p), Some(o)) = (v["dlqPartition"].as_i64(), v["dlqOffset"].as_i64()) {
                    markers.push((p as i32, o, v));
                }
            } else {
                entries.push(Entry {
                    partition: m.partition(),
                    offset: m.offset(),
                    timestamp: m.timestamp().to_millis(),
                    key: m.key().map(<[u8]>::to_vec),
                    value: m.payload().map(<[u8]>::to_vec),
                    headers: raw_headers
                        .iter()
                        .map(|(k, v)| (k.clone(), String::from_utf8_lossy(v).into_owned()))
                        .collect(),
                    code: get(ERROR_CODE),
                    rule: get(ERROR_RULE).filter(|r| !r.is_empty()),
                    path: get(ERROR_PATH),
                    message: get(ERROR_MESSAGE),
                    errors: get(ERRORS)
                        .and_then(|e| serde_json::from_str(&e).ok())
                        .unwrap_or_default(),
                    replays: Vec::new(),
                    raw_headers,
                });
            }
            continue;
        }
        // Positions (not the last offset seen) pass transaction markers at the end.
        let pos = consumer.position().map_err(|e| kafka_err(dlq_topic, e))?;
        ends.retain(|p, high| {
            !pos.find_partition(dlq_topic, *p)
                .is_some_and(|e| matches!(e.offset(), Offset::Offset(o) if o >= *high))
        });
    }
    for (p, o, v) in markers {
        if let Some(e) = entries
            .iter_mut()
            .find(|e| e.partition == p && e.offset == o)
        {
            e.replays.push(v);
        }
    }
    entries.sort_by_key(|e| (e.partition, e.offset));
    Ok(entries)
}

/// What a replay did.
#[derive(Debug, Default, Serialize)]
pub struct ReplayReport {
    /// `(partition, offset)` of the DLQ entries replayed.
    pub replayed: Vec<(i32, i64)>,
    /// Selected entries skipped because they were replayed before (without `force`).
    pub already_replayed: Vec<(i32, i64)>,
}

/// Replays the selected entries of `dlq_topic` to `raw_topic` and records each replay.
pub fn replay(
    kafka: &KafkaConfig,
    dlq_topic: &str,
    raw_topic: &str,
    selection: &Selection,
    by: &str,
    force: bool,
) -> Result<ReplayReport, GatewayError> {
    let entries = read(kafka, dlq_topic)?;
    let mut cc = kafka.client_config("dlq-replay")?;
    cc.set("enable.idempotence", "true").set("linger.ms", "5");
    let producer: ThreadedProducer<Deliveries> = cc
        .create_with_context(Deliveries::default())
        .map_err(|e| kafka_err(raw_topic, e))?;
    let now = crate::stream::now_ms();
    let mut report = ReplayReport::default();
    let mut seen = HashSet::new();
    for e in entries.iter().filter(|e| selection.matches(e)) {
        if !seen.insert((e.partition, e.offset)) {
            continue;
        }
        if !e.replays.is_empty() && !force {
            report.already_replayed.push((e.partition, e.offset));
            continue;
        }
        let (p, o) = (e.partition.to_string(), e.offset.to_string());
        let at = now.to_string();
        let mut headers = OwnedHeaders::new();
        for (k, v) in e.original_headers() {
            headers = headers.insert(Header {
                key: k,
                value: Some(v.as_slice()),
            });
        }
        for (k, v) in [
            (REPLAY_TOPIC, dlq_topic),
            (REPLAY_PARTITION, p.as_str()),
            (REPLAY_OFFSET, o.as_str()),
            (REPLAY_TIME, at.as_str()),
            (REPLAY_BY, by),
        ] {
            headers = headers.insert(Header {
                key: k,
                value: Some(v.as_bytes()),
            });
        }
        let mut rec: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(raw_topic).headers(headers);
        if let Some(k) = &e.key {
            rec = rec.key(k.as_slice());
        }
        if let Some(v) = &e.value {
            rec = rec.payload(v.as_slice());
        }
        if let Some(t) = e.timestamp {
            rec = rec.timestamp(t);
        }
        send(&producer, rec).map_err(|e| kafka_err(raw_topic, e))?;
        report.replayed.push((e.partition, e.offset));
    }
    // The raw records are acknowledged before any marker is written: a crash in between
    // leaves a replay without its marker (replayed again next time), never a marker without
    // a replay.
    producer
        .flush(TIMEOUT)
        .map_err(|e| kafka_err(raw_topic, e))?;
    if let Some(e) = producer.context().failed() {
        return Err(kafka_err(
            raw_topic,
            format!("replay not acknowledged: {e}"),
        ));
    }
    for (p, o) in &report.replayed {
        let marker = serde_json::json!({
            "dlqPartition": p, "dlqOffset": o, "rawTopic": raw_topic, "at": now, "by": by,
        })
        .to_string();
        let headers = OwnedHeaders::new().insert(Header {
            key: REPLAY_MARKER,
            value: Some("1"),
        });
        let rec: BaseRecord<'_, [u8], [u8]> = BaseRecord::to(dlq_topic)
            .partition(*p)
            .payload(marker.as_bytes())
            .headers(headers);
        send(&producer, rec).map_err(|e| kafka_err(dlq_topic, e))?;
    }
    producer
        .flush(TIMEOUT)
        .map_err(|e| kafka_err(dlq_topic, e))?;
    if let Some(e) = producer.context().failed() {
        return Err(kafka_err(
            dlq_topic,
            format!("replay marker not acknowledged: {e}"),
        ));
    }
    Ok(report)
}

fn send<'a>(
    producer: &ThreadedProducer<Deliveries>,
    mut rec: BaseRecord<'a, [u8], [u8]>,
) -> Result<(), rdkafka::error::KafkaError> {
    loop {
        match producer.send(rec) {
            Ok(()) => return Ok(()),
            Err((
                rdkafka::error::KafkaError::MessageProduction(
                    rdkafka::types::RDKafkaErrorCode::QueueFull,
                ),
                back,
            )) => {
                std::thread::sleep(Duration::from_millis(5));
                rec = back;
            }
            Err((e, _)) => return Err(e),
        }
    }
}

/// Remembers the first failed delivery (a flush alone does not say whether records landed).
#[derive(Debug, Default)]
pub struct Deliveries(std::sync::Mutex<Option<String>>);

impl Deliveries {
    fn failed(&self) -> Option<String> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

impl rdkafka::ClientContext for Deliveries {}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.0
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert_with(|| e.to_string());
        }
    }
}
