//! The registry over the shared `_schemas` topic: startup replay to the end offset observed at
//! start, the tailer applying every instance's records, and the write side's waits — for its
//! own offsets (read-your-writes, claim outcome) and for the log's end (decisions that must see
//! every acknowledged write). See docs/registry-kafka-store.md for the argument.

use std::collections::BTreeSet;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};

use rdkafka::producer::DeliveryFuture;
use tokio_util::sync::CancellationToken;

use super::{Backend, Core, Registry};
use crate::error::RegistryError;
use crate::kafka_store::{KafkaLog, Tailed};
use crate::model::{Record, SchemaValue};
use crate::state::{State, StoredSchema};
use crate::store::StoreError;

/// How many rejected offsets are remembered for writers to look up (they look right after the
/// tailer applied their offsets, so recent ones suffice).
const REJECTED_KEPT: usize = 10_000;

/// The Kafka side of a [`Core`].
#[derive(Debug)]
pub(super) struct Tail {
    pub(super) log: Arc<KafkaLog>,
    /// The highest offset applied so far (-1: none).
    applied: tokio::sync::watch::Sender<i64>,
    /// Offsets of records the state rejected (lost claims), most recent [`REJECTED_KEPT`].
    rejected: Mutex<BTreeSet<i64>>,
}

impl Tail {
    /// Waits until the tailer has applied `offset`, within the write timeout (then 50002).
    async fn applied(&self, offset: i64) -> Result<(), StoreError> {
        let mut rx = self.applied.subscribe();
        let timeout = self.log.write_timeout();
        match tokio::time::timeout(timeout, rx.wait_for(|&a| a >= offset)).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(_)) => Err(StoreError::Kafka("the log consumer stopped".into())),
            Err(_) => Err(StoreError::Timeout(format!(
                "offset {offset} of {} not read back within {timeout:?}",
                self.log.topic()
            ))),
        }
    }

    /// Queues the records of several writes on the producer, in order.
    pub(super) fn send<'a>(
        &self,
        records: impl IntoIterator<Item = &'a Record>,
    ) -> Result<Vec<DeliveryFuture>, StoreError> {
        self.log.send(records)
    }

    /// Waits until records queued by [`Tail::send`] (`sizes` per write, in order) are
    /// acknowledged and applied; per write, whether all its records took effect.
    pub(super) async fn confirm(
        &self,
        pending: Vec<DeliveryFuture>,
        sizes: &[usize],
    ) -> Result<Vec<bool>, StoreError> {
        let offsets = KafkaLog::delivered(pending).await?;
        if let Some(&last) = offsets.iter().max() {
            self.applied(last).await?;
        }
        let rejected = self.rejected.lock().unwrap_or_else(|p| p.into_inner());
        let mut at = 0;
        Ok(sizes
            .iter()
            .map(|&n| {
                let mine = &offsets[at..at + n];
                at += n;
                !mine.iter().any(|o| rejected.contains(o))
            })
            .collect())
    }

    /// Reads the log up to its current end (asked of the broker), so what is decided next sees
    /// every write acknowledged before this call, on any instance.
    pub(super) async fn sync(&self) -> Result<(), StoreError> {
        match last_offset(&self.log).await? {
            Some(last) => self.applied(last).await,
            None => Ok(()),
        }
    }
}

/// [`KafkaLog::last_offset`] off the async workers (it blocks on the broker).
async fn last_offset(log: &Arc<KafkaLog>) -> Result<Option<i64>, StoreError> {
    let log = Arc::clone(log);
    tokio::task::spawn_blocking(move || log.last_offset())
        .await
        .map_err(|e| StoreError::Kafka(format!("end offset task: {e}")))?
}

impl Core {
    /// Applies records the tailer read, in offset order (called on the tailer thread).
    fn apply_tailed(&self, batch: Vec<Tailed>) {
        let Backend::Kafka(tail) = &self.backend else {
            return;
        };
        let Some(&(last, _)) = batch.last() else {
            return;
        };
        let mut lost = Vec::new();
        let (mut applied, mut skipped) = (0u64, 0u64);
        {
            let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
            self.generation.fetch_add(1, Ordering::Relaxed);
            for (offset, record) in &batch {
                match record {
                    None => skipped += 1,
                    Some(r) if state.apply(r) => applied += 1,
                    Some(_) => {
                        tracing::info!(offset, topic = tail.log.topic(), "record lost its claim");
                        lost.push(*offset);
                    }
                }
            }
        }
        crate::metrics::log_records(applied, skipped, lost.len() as u64);
        if !lost.is_empty() {
            let mut rejected = tail.rejected.lock().unwrap_or_else(|p| p.into_inner());
            rejected.extend(lost);
            while rejected.len() > REJECTED_KEPT {
                rejected.pop_first();
            }
        }
        // Rejections are recorded before the offset is published: a writer woken by it finds
        // its outcome.
        tail.applied.send_replace(last);
    }
}

impl Registry {
    /// A registry over the `_schemas` topic behind `log`: starts the tailer (stopped by
    /// `stop`) and returns once it has applied everything up to the end offset observed at
    /// start (or `None` if `stop` fired first).
    pub async fn open_kafka(
        log: KafkaLog,
        emit_avro_schema_type: bool,
        stop: CancellationToken,
    ) -> Result<Option<Self>, RegistryError> {
        let log = Arc::new(log);
        let last = last_offset(&log).await?;
        let registry = Self::with_core(
            State::default(),
            Backend::Kafka(Tail {
                log: Arc::clone(&log),
                applied: tokio::sync::watch::Sender::new(-1),
                rejected: Mutex::new(BTreeSet::new()),
            }),
            emit_avro_schema_type,
        );
        let started = std::time::Instant::now();
        let core = Arc::clone(&registry.core);
        log.tail(stop.clone(), move |batch| core.apply_tailed(batch))?;
        let Backend::Kafka(tail) = &registry.core.backend else {
            unreachable!("built with the Kafka backend above");
        };
        let mut rx = tail.applied.subscribe();
        tokio::select! {
            r = rx.wait_for(|&a| last.is_none_or(|last| a >= last)) => {
                r.map_err(|_| StoreError::Kafka("the log consumer stopped".into()))?;
            }
            () = stop.cancelled() => return Ok(None),
        }
        {
            let state = registry.read();
            tracing::info!(
                topic = log.topic(),
                last_offset = last.unwrap_or(-1),
                schemas = state.schemas.len(),
                subjects = state.subjects.len(),
                millis = started.elapsed().as_millis() as u64,
                "registry replay of the _schemas topic completed"
            );
        }
        Ok(Some(registry))
    }

    /// After a lost claim: re-writes the winner's value on every key this write claimed that
    /// now holds another id or schema, so the last record of that key in the log is an applied
    /// one and compaction (which keeps only the last) keeps the winner, not the loser.
    pub(super) async fn repair(&self, claims: &[SchemaValue]) -> Result<(), RegistryError> {
        let _guard = self.exclusive().await?;
        let records: Vec<Record> = {
            let state = self.read();
            claims
                .iter()
                .filter_map(|mine| {
                    let held = state.value(&mine.subject, mine.version)?;
                    let same = held.id == mine.id
                        && StoredSchema::from_value(held) == StoredSchema::from_value(mine);
                    (!same).then(|| Record::Schema {
                        subject: mine.subject.clone(),
                        version: mine.version,
                        value: Some(held.clone()),
                    })
                })
                .collect()
        };
        self.commit(records).await
    }

    /// The highest `_schemas` offset applied (-1 if none, or not over Kafka).
    pub fn applied_offset(&self) -> i64 {
        match &self.core.backend {
            Backend::Kafka(tail) => *tail.applied.borrow(),
            Backend::Local(_) => -1,
        }
    }
}

/// The SCHEMA values `records` write (what a registration claims).
pub(super) fn claims_of(records: &[Record]) -> Vec<SchemaValue> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Schema { value: Some(v), .. } => Some(v.clone()),
            _ => None,
        })
        .collect()
}
