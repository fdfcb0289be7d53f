//! One run of the loop with one consumer and one producer, on a blocking thread.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use rdkafka::consumer::Consumer;
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

use super::loss::{Change, Expected, PipelineConsumer, Rebalances};
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
    /// Partitions whose loss was found at assignment → the offset to commit (the log start),
    /// so the report commits together with the move past the gap.
    advance: BTreeMap<(String, i32), i64>,
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
            advance: BTreeMap::new(),
        }
    }

    fn is_empty(&self) -> bool {
        self.summary.inputs.is_empty() && self.advance.is_empty()
    }

    fn note_input(&mut self, topic: &str, partition: i32, offset: i64) {
        self.summary
            .inputs
            .entry((topic.to_owned(), partition))
            .and_modify(|r| r.1 = offset)
            .or_insert((offset, offset));
    }

    /// The offsets to commit: one past the last processed record of each partition, or the
    /// log start past a gap reported at assignment.
    fn next_offsets(&self) -> TopicPartitionList {
        let mut next: BTreeMap<(&str, i32), i64> = self
            .advance
            .iter()
            .map(|((t, p), o)| ((t.as_str(), *p), *o))
            .collect();
        for ((t, p), (_, last)) in &self.summary.inputs {
            let o = next.entry((t.as_str(), *p)).or_insert(last + 1);
            *o = (*o).max(last + 1);
        }
        let mut tpl = TopicPartitionList::new();
        for ((t, p), o) in next {
            // Adding to a fresh list cannot fail for a valid offset.
            let _ = tpl.add_partition_offset(t, p, Offset::Offset(o));
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

    fn consumer(&self) -> Result<PipelineConsumer, KafkaError> {
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
        let consumer: PipelineConsumer = cc
            .create_with_context(Rebalances::default())
            .map_err(KafkaError::client("create consumer"))?;
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
                // No rebalance callback for a manual assignment: check these at start-up.
                consumer.context().push(Change::Assigned(parts.clone()));
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
        consumer: &PipelineConsumer,
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
            // Rebalances happen inside `poll`, which returns right after one: newly assigned
            // partitions are checked here, before any of their records is handled.
            expected.track(consumer);
            if expected.has_pending() {
                let lost: Vec<_> = expected
                    .check_assigned(consumer, self.config.client_timeout)
                    .into_iter()
                    .filter_map(|l| clamp_to_batch(l, batch, expected))
                    .collect();
                if !lost.is_empty() {
                    for l in &lost {
                        batch
                            .advance
                            .insert((l.topic.clone(), l.partition), l.to + 1);
                    }
                    if deadline.is_none() {
                        sink.begin()?;
                    }
                    for l in lost {
                        self.report(sink, processor, batch, l)?;
                    }
                    // Commit the report now, without waiting for records or the batch time.
                    return Ok(());
                }
            }
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
                self.report(sink, processor, batch, lost)?;
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

    /// Logs a lost range and adds the processor's report records to the batch (the metric is
    /// counted when the batch commits).
    fn report<P: Processor>(
        &self,
        sink: &mut Sink,
        processor: &Mutex<P>,
        batch: &mut Batch,
        lost: LostRange,
    ) -> Result<(), StepError> {
        tracing::warn!(pipeline = %self.config.name, topic = %lost.topic,
            partition = lost.partition, from = lost.from, to = lost.to,
            records = lost.records(), "data loss: records deleted before they were read");
        let outputs = processor
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .data_loss(&lost);
        batch.losses.push(lost);
        self.send(sink, batch, outputs)
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
    /// a gap it reported, so the loss is detected (and reported) again with the retry. A loss
    /// found at assignment is checked again as at assignment.
    fn rewind(
        &self,
        consumer: &PipelineConsumer,
        batch: &Batch,
        expected: &mut Expected,
    ) -> Result<(), KafkaError> {
        for (topic, partition) in batch.advance.keys() {
            expected.requeue(topic, *partition);
        }
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
            if !batch.advance.contains_key(&(topic.clone(), *partition)) {
                expected.rewound(topic, *partition, to);
            }
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

/// A partition re-assigned in the middle of a batch that already read some of its records:
/// those were read, not lost, so a loss found at the re-assignment ends before them.
fn clamp_to_batch(
    mut lost: LostRange,
    batch: &Batch,
    expected: &mut Expected,
) -> Option<LostRange> {
    let key = (lost.topic.clone(), lost.partition);
    if let Some((first, last)) = batch.summary.inputs.get(&key) {
        expected.rewound(&lost.topic, lost.partition, last + 1);
        lost.to = lost.to.min(first - 1);
    }
    (lost.from <= lost.to).then_some(lost)
}

/// Why a batch is abandoned when its partitions were revoked.
const REVOKED: &str = "partitions revoked by a rebalance";

/// Whether the consumer still owns every partition `batch` would commit an offset for (its
/// inputs, and partitions it moves past a reported loss). An error counts as not owning:
/// abandoning a batch is always safe.
fn owns_inputs(consumer: &PipelineConsumer, batch: &Batch) -> bool {
    consumer.assignment().is_ok_and(|a| {
        batch
            .summary
            .inputs
            .keys()
            .chain(batch.advance.keys())
            .all(|(t, p)| a.find_partition(t, *p).is_some())
    })
}
