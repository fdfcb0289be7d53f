//! `_mesh.lineage`, the collector's source of truth: HTTP ingest and observers append
//! OpenLineage events to it (keyed as OpenLineage's Kafka transport keys them), and every
//! instance replays ALL of it (every partition assigned, no consumer group, from the beginning)
//! into its graph, so N instances serve the same graph. Malformed records are counted and
//! skipped: they never block the replay.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use mesh_kafka::KafkaConfig;
use mesh_runtime::Shutdown;
use mesh_runtime::health::ReadyFlag;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::LineageError;
use crate::event::{self, Event};
use crate::graph::Graph;
use crate::metrics;
use crate::snapshot::{self, Cache};

const CLIENT_TIMEOUT: Duration = Duration::from_secs(10);
/// Records applied under one write lock: readers wait at most one batch.
const APPLY_BATCH: usize = 2_000;

/// Counters the read API reports (`GET /api/v1/mesh/stats`).
#[derive(Debug, Default)]
pub struct LogStats {
    pub applied: AtomicU64,
    pub malformed: AtomicU64,
}

/// Appends events to the lineage topic.
#[derive(Clone)]
pub struct Appender {
    producer: FutureProducer,
    topic: Arc<str>,
}

impl std::fmt::Debug for Appender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Appender")
            .field("topic", &self.topic)
            .finish()
    }
}

impl Appender {
    pub fn new(kafka: &KafkaConfig, topic: &str) -> Result<Self, LineageError> {
        let producer = kafka
            .client_config("lineage-producer")?
            .set("linger.ms", "5")
            .set("enable.idempotence", "true")
            .create()
            .map_err(|e| LineageError::Internal(format!("lineage producer: {e}")))?;
        Ok(Self {
            producer,
            topic: topic.into(),
        })
    }

    /// Appends `(key, payload)` records and waits until each is acknowledged, all in flight at
    /// once. Returns, per record, `None` on success or the error.
    pub async fn append(&self, records: Vec<(String, Vec<u8>)>) -> Vec<Option<String>> {
        let mut pending = Vec::with_capacity(records.len());
        for (key, payload) in &records {
            let mut record = FutureRecord::to(&self.topic).key(key).payload(payload);
            let delivery = loop {
                match self.producer.send_result(record) {
                    Ok(d) => break Ok(d),
                    Err((
                        rdkafka::error::KafkaError::MessageProduction(
                            rdkafka::types::RDKafkaErrorCode::QueueFull,
                        ),
                        r,
                    )) => {
                        record = r;
                        tokio::time::sleep(Duration::from_millis(1)).await;
                    }
                    Err((e, _)) => break Err(e.to_string()),
                }
            };
            pending.push(delivery);
        }
        let mut out = Vec::with_capacity(pending.len());
        for d in pending {
            out.push(match d {
                Ok(fut) => match tokio::time::timeout(CLIENT_TIMEOUT * 3, fut).await {
                    Ok(Ok(Ok(_))) => None,
                    Ok(Ok(Err((e, _)))) => Some(e.to_string()),
                    Ok(Err(_)) => Some("delivery cancelled".into()),
                    Err(_) => Some("delivery timed out".into()),
                },
                Err(e) => Some(e),
            });
        }
        out
    }

    pub fn flush(&self) {
        let _ = self.producer.flush(CLIENT_TIMEOUT);
    }
}

/// Replays the whole topic into `graph` on its own OS threads until `shutdown`; sets `ready`
/// once the high watermarks seen at start are reached. With a `cache`, starts from its snapshot
/// (if it matches) and keeps writing snapshots every `cache.interval` and at shutdown.
pub fn spawn_replay(
    kafka: &KafkaConfig,
    topic: &str,
    graph: Arc<RwLock<Graph>>,
    stats: Arc<LogStats>,
    ready: ReadyFlag,
    cache: Option<Cache>,
    shutdown: &Shutdown,
) -> Result<std::thread::JoinHandle<()>, LineageError> {
    let consumer: BaseConsumer = kafka
        .client_config("lineage-replay")?
        // librdkafka wants a group id even for assign(); nothing is ever committed under it.
        .set("group.id", "mesh-lineage-replay")
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("auto.offset.reset", "earliest")
        // New events reach the graph within ~50 ms rather than the default 500 ms fetch wait.
        .set("fetch.wait.max.ms", "50")
        .set("fetch.max.bytes", "52428800")
        .set("max.partition.fetch.bytes", "10485760")
        .create()
        .map_err(|e| LineageError::Internal(format!("lineage consumer: {e}")))?;
    let md = consumer
        .fetch_metadata(Some(topic), CLIENT_TIMEOUT)
        .map_err(|e| LineageError::Internal(format!("metadata of {topic}: {e}")))?;
    let partitions: Vec<i32> = md
        .topics()
        .first()
        .map(|t| t.partitions().iter().map(|p| p.id()).collect())
        .unwrap_or_default();
    if partitions.is_empty() {
        return Err(LineageError::Internal(format!(
            "topic {topic} does not exist (mesh up creates it)"
        )));
    }
    let namespaces = graph
        .read()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
        .namespaces()
        .clone();
    let resumed = cache
        .as_ref()
        .and_then(|c| snapshot::load(c, topic, partitions.len(), &namespaces));
    let mut next = vec![0i64; partitions.len()];
    if let Some((g, offsets)) = resumed {
        tracing::info!(%topic, datasets = g.datasets.len(), jobs = g.jobs.len(),
            "lineage graph loaded from snapshot; replaying the rest");
        *graph
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = g;
        next = offsets;
    }
    let mut tpl = TopicPartitionList::new();
    let mut ends = Vec::new();
    for (i, &p) in partitions.iter().enumerate() {
        let (_, high) = consumer
            .fetch_watermarks(topic, p, CLIENT_TIMEOUT)
            .map_err(|e| LineageError::Internal(format!("watermarks of {topic}/{p}: {e}")))?;
        ends.push(high);
        let start = match next.get(i) {
            Some(o) if *o > 0 => Offset::Offset(*o),
            _ => Offset::Beginning,
        };
        tpl.add_partition_offset(topic, p, start)
            .map_err(|e| LineageError::Internal(e.to_string()))?;
    }
    consumer
        .assign(&tpl)
        .map_err(|e| LineageError::Internal(format!("assign {topic}: {e}")))?;
    let token = shutdown.token();
    let topic = topic.to_owned();
    // Two stages on two threads, so parsing (consumer side) and applying (graph writer) overlap:
    // the consumer thread polls and validates, the apply thread holds the write lock per batch.
    // Each batch carries the offsets it reaches, so a snapshot taken after applying it is
    // consistent with them.
    let (tx, rx) = std::sync::mpsc::sync_channel::<(Vec<Event>, bool, Vec<i64>)>(4);
    let apply_stats = stats.clone();
    let snapshot_topic = topic.clone();
    let apply_thread = std::thread::Builder::new()
        .name("lineage-apply".into())
        .spawn(move || {
            let mut was_ready = false;
            let mut dirty = false;
            let mut offsets = Vec::new();
            let mut last_snapshot = std::time::Instant::now();
            let save = |offsets: &[i64]| {
                if let Some(c) = &cache {
                    let t = std::time::Instant::now();
                    match snapshot::write(c, &snapshot_topic, offsets, &graph) {
                        Ok(bytes) => {
                            tracing::debug!(bytes, took = ?t.elapsed(), "lineage snapshot written")
                        }
                        Err(e) => tracing::warn!(error = %e, "cannot write lineage snapshot"),
                    }
                }
            };
            for (mut batch, caught_up, reached) in rx {
                offsets = reached;
                if !batch.is_empty() {
                    dirty = true;
                    apply(&graph, &apply_stats, &mut batch);
                }
                // Ready first, then the catch-up snapshot (so the next start skips this
                // replay), then one per interval.
                let first_catch_up = caught_up && !was_ready;
                if first_catch_up {
                    was_ready = true;
                    ready.set(true);
                    tracing::info!(
                        events = apply_stats.applied.load(Ordering::Relaxed),
                        "lineage graph caught up"
                    );
                }
                let due = first_catch_up
                    || cache
                        .as_ref()
                        .is_some_and(|c| last_snapshot.elapsed() >= c.interval);
                if dirty && due {
                    save(&offsets);
                    dirty = false;
                    last_snapshot = std::time::Instant::now();
                }
            }
            // Shutdown: keep what was applied for the next start.
            if dirty {
                save(&offsets);
            }
        })
        .map_err(|e| LineageError::Internal(format!("spawn apply thread: {e}")))?;
    std::thread::Builder::new()
        .name("lineage-replay".into())
        .spawn(move || {
            let mut caught_up = next.iter().zip(&ends).all(|(n, h)| n >= h);
            let mut open = !caught_up || tx.send((Vec::new(), true, next.clone())).is_ok();
            while open && !token.is_cancelled() {
                let mut payloads: Vec<Option<Vec<u8>>> = Vec::with_capacity(APPLY_BATCH);
                let mut msg = consumer.poll(Duration::from_millis(100));
                while let Some(m) = msg {
                    match m {
                        Ok(m) => {
                            if let Some(slot) = usize::try_from(m.partition())
                                .ok()
                                .and_then(|p| next.get_mut(p))
                            {
                                *slot = m.offset() + 1;
                            }
                            payloads.push(m.payload().map(<[u8]>::to_vec));
                        }
                        // Brokers going away at shutdown are not worth a warning.
                        Err(e) if !token.is_cancelled() => {
                            tracing::warn!(%topic, error = %e, "lineage replay");
                        }
                        Err(_) => {}
                    }
                    if payloads.len() >= APPLY_BATCH {
                        break;
                    }
                    msg = consumer.poll(Duration::ZERO);
                }
                let batch = parse_all(&payloads, &stats);
                let now_caught_up = !caught_up && next.iter().zip(&ends).all(|(n, h)| n >= h);
                caught_up |= now_caught_up;
                if (!batch.is_empty() || now_caught_up)
                    && tx.send((batch, now_caught_up, next.clone())).is_err()
                {
                    open = false;
                }
            }
            // The apply thread finishes the queued batches and writes the last snapshot; the
            // replay counts as stopped only then.
            drop(tx);
            let _ = apply_thread.join();
        })
        .map_err(|e| LineageError::Internal(format!("spawn replay thread: {e}")))
}

/// Validates a batch on two threads (validation costs about as much as applying): events in
/// order, malformed ones counted and dropped.
fn parse_all(payloads: &[Option<Vec<u8>>], stats: &LogStats) -> Vec<Event> {
    let parse = |chunk: &[Option<Vec<u8>>]| -> Vec<Event> {
        chunk
            .iter()
            .filter_map(|p| match p.as_deref().map(event::parse) {
                Some(Ok(e)) => Some(e),
                _ => {
                    stats.malformed.fetch_add(1, Ordering::Relaxed);
                    metrics::events("kafka", "invalid", 1);
                    None
                }
            })
            .collect()
    };
    if payloads.len() < 64 {
        return parse(payloads);
    }
    let (a, b) = payloads.split_at(payloads.len() / 2);
    std::thread::scope(|s| {
        let second = s.spawn(|| parse(b));
        let mut first = parse(a);
        first.extend(second.join().unwrap_or_default());
        first
    })
}

fn apply(graph: &RwLock<Graph>, stats: &LogStats, batch: &mut Vec<Event>) {
    let n = batch.len();
    let mut g = graph
        .write()
        .unwrap_or_else(std::sync::PoisonError::into_inner);
    for e in batch.drain(..) {
        g.apply(&e);
    }
    metrics::graph_size("datasets", g.datasets.len());
    metrics::graph_size("jobs", g.jobs.len());
    metrics::graph_size("runs", g.runs.len());
    metrics::graph_size("edges", g.edge_count());
    drop(g);
    stats.applied.fetch_add(n as u64, Ordering::Relaxed);
    metrics::events("kafka", "accepted", n as u64);
}
