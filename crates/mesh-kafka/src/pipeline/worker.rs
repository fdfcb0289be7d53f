//! One run of the loop with one consumer and one producer, on a blocking thread.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use super::loss::Expected;
use super::mirror::Mirror;
use super::sink::{Sink, StepError};
use super::{
    Assignment, BATCH_HEADER, BatchSummary, DeliveryMode, LostRange, Observer, PipelineConfig,
    ProcessError, Processor,
};
use crate::metrics as m;
use crate::{KafkaConfig, KafkaError};

const POLL: Duration = Duration::from_millis(100);

/// When a worker last showed progress (the supervisor's stall detector reads it).
#[derive(Debug)]
pub(super) struct Progress(Mutex<Instant>);

impl Default for Progress {
    fn default() -> Self {
        Self(Mutex::new(Instant::now()))
    }
}

impl Progress {
    fn mark(&self) {
        *self.0.lock().unwrap_or_else(PoisonError::into_inner) = Instant::now();
    }
    pub(super) fn idle_for(&self) -> Duration {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .elapsed()
    }
}

pub(super) struct Worker {
    kafka: KafkaConfig,
    config: PipelineConfig,
    observer: Option<Arc<dyn Observer>>,
    cancel: CancellationToken,
    progress: Arc<Progress>,
    /// Distinguishes this worker's batch ids from its predecessors' (restarts reuse the
    /// transactional id).
    instance: u128,
}

/// The batch being built: its id, input ranges and output count, and the data losses it
/// reports.
struct Batch {
    summary: BatchSummary,
    losses: Vec<LostRange>,
}

impl Batch {
    fn new(id: String) -> Self {
        Self {
            summary: BatchSummary {
                batch_id: id,
                inputs: BTreeMap::new(),
                outputs: 0,
            },
            losses: Vec::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.summary.inputs.is_empty()
    }

    fn note_input(&mut self, topic: &str, partition: i32, offset: i64) {
        self.summary
            .inputs
            .entry((topic.to_owned(), partition))
            .and_modify(|r| r.1 = offset)
            .or_insert((offset, offset));
    }

    /// The offsets to commit: one past the last processed record of each partition.
    fn next_offsets(&self) -> TopicPartitionList {
        let mut tpl = TopicPartitionList::new();
        for ((t, p), (_, last)) in &self.summary.inputs {
            // Adding to a fresh list cannot fail for a valid offset.
            let _ = tpl.add_partition_offset(t, *p, Offset::Offset(last + 1));
        }
        tpl
    }
}

impl Worker {
    pub(super) fn new(
        kafka: KafkaConfig,
        config: PipelineConfig,
        observer: Option<Arc<dyn Observer>>,
        cancel: CancellationToken,
        progress: Arc<Progress>,
    ) -> Self {
        let instance = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_nanos())
            .unwrap_or_default();
        Self {
            kafka,
            config,
            observer,
            cancel,
            progress,
            instance,
        }
    }

    fn err(&self, reason: impl Into<String>) -> KafkaError {
        KafkaError::Pipeline {
            pipeline: self.config.name.clone(),
            reason: reason.into(),
        }
    }

    fn consumer(&self) -> Result<BaseConsumer, KafkaError> {
        let mut cc = self
            .kafka
            .client_config(&format!("{}-consumer", self.config.name))?;
        cc.set("group.id", &self.config.group_id)
            .set("enable.auto.commit", "false")
            .set("enable.auto.offset.store", "false")
            .set("auto.offset.reset", "earliest")
            .set("enable.partition.eof", "false");
        if matches!(self.config.mode, DeliveryMode::ExactlyOnce { .. }) {
            // Never feed the pipeline another transaction's aborted records.
            cc.set("isolation.level", "read_committed");
        }
        let consumer: BaseConsumer = cc.create().map_err(KafkaError::client("create consumer"))?;
        match &self.config.assignment {
            Assignment::Subscribe => {
                let topics: Vec<&str> = self
                    .config
                    .input_topics
                    .iter()
                    .map(|s| s.as_str())
                    .collect();
                consumer
                    .subscribe(&topics)
                    .map_err(KafkaError::client("subscribe"))?;
            }
            Assignment::Partitions(parts) => {
                let mut tpl = TopicPartitionList::new();
                for (t, p) in parts {
                    // Stored = the group's committed offset (auto.offset.reset if none).
                    tpl.add_partition_offset(t, *p, Offset::Stored)
                        .map_err(KafkaError::client("assign"))?;
                }
                consumer
                    .assign(&tpl)
                    .map_err(KafkaError::client("assign"))?;
            }
        }
        Ok(consumer)
    }

    /// Runs batches until cancelled. Returns `Err` only for errors that need new clients.
    pub(super) fn run<P: Processor>(&self, processor: &Mutex<P>) -> Result<(), KafkaError> {
        let consumer = self.consumer()?;
        let mut sink = Sink::new(&self.kafka, &self.config)?;
        let name = self.config.name.clone();
        tracing::info!(pipeline = %name, mode = ?self.config.mode, "pipeline started");
        let mut seq: u64 = 0;
        let mut backoff = Duration::from_millis(100);
        let mut expected = Expected::default();
        let mut mirror = (self.kafka.quirks.txn_offset_commit_ignored
            && matches!(self.config.mode, DeliveryMode::ExactlyOnce { .. }))
        .then(Mirror::default);
        while !self.cancel.is_cancelled() {
            seq += 1;
            let mut batch =
                Batch::new(format!("{}/{:x}/{seq}", self.batch_prefix(), self.instance));
            let outcome = self
                .fill(
                    &consumer,
                    &mut sink,
                    processor,
                    &mut batch,
                    &mut expected,
                    &mut mirror,
                )
                .and_then(|()| {
                    if batch.is_empty() {
                        return Ok(());
                    }
                    // Checked again right before committing (see `fill`).
                    if !owns_inputs(&consumer, &batch) {
                        return Err(StepError::Abortable(REVOKED.into()));
                    }
                    let start = Instant::now();
                    self.progress.mark();
                    let offsets = batch.next_offsets();
                    sink.commit(&consumer, &offsets)?;
                    if let Some(m) = &mut mirror
                        && !m.committed(&consumer, &offsets)
                        && let Some(o) = &self.observer
                    {
                        o.offsets_refused(&batch.summary);
                    }
                    self.progress.mark();
                    metrics::histogram!(m::COMMIT_DURATION, "pipeline" => name.clone())
                        .record(start.elapsed().as_secs_f64());
                    Ok(())
                });
            match outcome {
                Ok(()) if batch.is_empty() => {}
                Ok(()) => {
                    backoff = Duration::from_millis(100);
                    let s = &batch.summary;
                    metrics::counter!(m::BATCHES, "pipeline" => name.clone(), "outcome" => "committed")
                        .increment(1);
                    metrics::counter!(m::RECORDS_IN, "pipeline" => name.clone())
                        .increment(s.input_count() as u64);
                    metrics::counter!(m::RECORDS_OUT, "pipeline" => name.clone())
                        .increment(s.outputs as u64);
                    for l in &batch.losses {
                        metrics::counter!(m::DATA_LOSS, "pipeline" => name.clone())
                            .increment(l.records());
                    }
                    if let Some(o) = &self.observer {
                        o.committed(s);
                    }
                }
                Err(StepError::Abortable(reason)) => {
                    tracing::warn!(pipeline = %name, batch = %batch.summary.batch_id, %reason,
                        "batch abandoned; rewinding to retry");
                    metrics::counter!(m::BATCHES, "pipeline" => name.clone(), "outcome" => "aborted")
                        .increment(1);
                    if let Some(o) = &self.observer {
                        o.aborted(&batch.summary, &reason);
                    }
                    if let Err(StepError::Fatal(r) | StepError::Abortable(r)) = sink.abort() {
                        return Err(self.err(r));
                    }
                    self.progress.mark();
                    self.rewind(&consumer, &batch, &mut expected)?;
                    self.pause(backoff);
                    backoff = (backoff * 2).min(Duration::from_secs(5));
                }
                Err(StepError::Fatal(reason)) => {
                    metrics::counter!(m::BATCHES, "pipeline" => name.clone(), "outcome" => "failed")
                        .increment(1);
                    if let Some(o) = &self.observer {
                        o.aborted(&batch.summary, &reason);
                    }
                    return Err(self.err(reason));
                }
            }
        }
        tracing::info!(pipeline = %name, "pipeline stopped");
        Ok(())
    }

    fn batch_prefix(&self) -> &str {
        match &self.config.mode {
            DeliveryMode::ExactlyOnce { transactional_id } => transactional_id,
            DeliveryMode::AtLeastOnce => &self.config.group_id,
        }
    }

    /// Reads and processes records into `batch` until it is full, its time is up, or shutdown
    /// begins. The transaction begins with the first record.
    fn fill<P: Processor>(
        &self,
        consumer: &BaseConsumer,
        sink: &mut Sink,
        processor: &Mutex<P>,
        batch: &mut Batch,
        expected: &mut Expected,
        mirror: &mut Option<Mirror>,
    ) -> Result<(), StepError> {
        let mut deadline: Option<Instant> = None;
        let mut count = 0usize;
        while count < self.config.max_batch_records {
            self.progress.mark();
            let timeout = match deadline {
                None if self.cancel.is_cancelled() => return Ok(()),
                None => POLL,
                Some(d) => match d.checked_duration_since(Instant::now()) {
                    Some(left) if !self.cancel.is_cancelled() => left.min(POLL),
                    _ => return Ok(()),
                },
            };
            let msg = match consumer.poll(timeout) {
                // rdkafka's poll returns after serving each rebalance event, so a revocation
                // is seen here before any record of a new assignment: a batch holding records
                // of a revoked partition must not commit (the partition's next owner starts
                // from the committed offset, before this batch) — nor read them again.
                None if !batch.is_empty() && !owns_inputs(consumer, batch) => {
                    return Err(StepError::Abortable(REVOKED.into()));
                }
                None => {
                    if let Some(m) = mirror.as_mut().filter(|m| m.has_pending()) {
                        m.flush(consumer, self.config.client_timeout);
                    }
                    continue;
                }
                Some(Err(e)) => {
                    // Consumer errors are reports (broker down, ...): librdkafka keeps retrying.
                    tracing::warn!(pipeline = %self.config.name, error = %e, "consumer error");
                    continue;
                }
                Some(Ok(msg)) => msg,
            };
            if mirror
                .as_ref()
                .is_some_and(|m| m.already_committed(msg.topic(), msg.partition(), msg.offset()))
            {
                continue;
            }
            // Noted before anything can fail, so an abandoned batch rewinds to this record.
            batch.note_input(msg.topic(), msg.partition(), msg.offset());
            count += 1;
            if deadline.is_none() {
                sink.begin()?;
                deadline = Some(Instant::now() + self.config.max_batch_wait);
            }
            let lost = expected.check(
                consumer,
                msg.topic(),
                msg.partition(),
                msg.offset(),
                self.config.client_timeout,
            );
            if let Some(lost) = lost {
                tracing::warn!(pipeline = %self.config.name, topic = %lost.topic,
                    partition = lost.partition, from = lost.from, to = lost.to,
                    records = lost.records(), "data loss: records deleted before they were read");
                let outputs = processor
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .data_loss(&lost);
                batch.losses.push(lost);
                self.send(sink, batch, outputs)?;
            }
            let outputs = processor
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .process(&msg)
                .map_err(|e| match e {
                    ProcessError::Retry(r) => StepError::Abortable(format!("processor: {r}")),
                })?;
            self.send(sink, batch, outputs)?;
        }
        Ok(())
    }

    fn send(
        &self,
        sink: &mut Sink,
        batch: &mut Batch,
        outputs: Vec<super::OutRecord>,
    ) -> Result<(), StepError> {
        for mut out in outputs {
            if self.config.stamp_batch_id {
                out.headers.push((
                    BATCH_HEADER.to_owned(),
                    batch.summary.batch_id.clone().into(),
                ));
            }
            sink.send(&out)?;
            batch.summary.outputs += 1;
        }
        Ok(())
    }

    /// Moves the consumer back to the first record of the abandoned batch — or to the start of
    /// a gap it reported, so the loss is detected (and reported) again with the retry.
    fn rewind(
        &self,
        consumer: &BaseConsumer,
        batch: &Batch,
        expected: &mut Expected,
    ) -> Result<(), KafkaError> {
        // Revoked partitions are not sought: their next owner starts from the committed offset.
        let assigned = consumer
            .assignment()
            .map_err(|e| self.err(format!("assignment: {e}")))?;
        for ((topic, partition), (first, _)) in &batch.summary.inputs {
            let to = batch
                .losses
                .iter()
                .find(|l| &l.topic == topic && l.partition == *partition)
                .map_or(*first, |l| l.from);
            expected.rewound(topic, *partition, to);
            if assigned.find_partition(topic, *partition).is_none() {
                continue;
            }
            if let Err(e) = consumer.seek(topic, *partition, Offset::Offset(to), POLL * 50) {
                // E.g. a partition lost in a rebalance. New clients resume from the committed
                // offsets, which is always safe.
                tracing::warn!(pipeline = %self.config.name, %topic, partition, error = %e,
                    "rewind failed; restarting the worker");
                return Err(self.err(format!("rewind {topic}/{partition}: {e}")));
            }
        }
        Ok(())
    }

    fn pause(&self, d: Duration) {
        let until = Instant::now() + d;
        while Instant::now() < until && !self.cancel.is_cancelled() {
            thread::sleep(Duration::from_millis(20));
        }
    }
}

/// Why a batch is abandoned when its partitions were revoked.
const REVOKED: &str = "partitions revoked by a rebalance";

/// Whether the consumer still owns every input partition of `batch`. An error counts as not
/// owning: abandoning a batch is always safe.
fn owns_inputs(consumer: &BaseConsumer, batch: &Batch) -> bool {
    consumer.assignment().is_ok_and(|a| {
        batch
            .summary
            .inputs
            .keys()
            .all(|(t, p)| a.find_partition(t, *p).is_some())
    })
}
