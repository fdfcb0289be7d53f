//! The producing half of the loop: transactional (exactly once) or flush-then-commit (at least
//! once), behind one interface so the loop itself is written once.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::thread;
use std::time::Duration;

use rdkafka::ClientContext;
use rdkafka::TopicPartitionList;
use rdkafka::consumer::{CommitMode, Consumer};
use rdkafka::error::KafkaError as RdError;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::types::RDKafkaErrorCode;

use super::{DeliveryMode, OutRecord, PipelineConfig};
use crate::{KafkaConfig, KafkaError};

/// How a step failed, which decides what the loop does next.
#[derive(Debug)]
pub(super) enum StepError {
    /// Abandon the batch (abort its transaction), rewind, retry.
    Abortable(String),
    /// The producer is unusable; restart the worker with new clients.
    Fatal(String),
}

/// Counts failed deliveries (at-least-once needs to know a flush lost nothing).
#[derive(Default)]
pub(super) struct DeliveryCounter {
    failures: AtomicU64,
    first: Mutex<Option<String>>,
}

impl ClientContext for DeliveryCounter {}

impl ProducerContext for DeliveryCounter {
    type DeliveryOpaque = ();
    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((e, _)) = result {
            self.failures.fetch_add(1, Ordering::Relaxed);
            let mut first = self.first.lock().unwrap_or_else(|p| p.into_inner());
            first.get_or_insert_with(|| e.to_string());
        }
    }
}

pub(super) struct Sink {
    producer: ThreadedProducer<DeliveryCounter>,
    transactional: bool,
    timeout: Duration,
}

fn classify(what: &str, e: &RdError, fatal: bool) -> StepError {
    let msg = format!("{what}: {e}");
    match e {
        _ if fatal => StepError::Fatal(msg),
        RdError::Transaction(t) if t.is_fatal() => StepError::Fatal(msg),
        RdError::Transaction(t) if t.txn_requires_abort() || t.is_retriable() => {
            StepError::Abortable(msg)
        }
        // Anything we cannot classify: start over with new clients; that is always safe.
        RdError::Transaction(_) => StepError::Fatal(msg),
        _ => StepError::Abortable(msg),
    }
}

impl Sink {
    pub(super) fn new(kafka: &KafkaConfig, config: &PipelineConfig) -> Result<Self, KafkaError> {
        let mut cc = kafka.client_config(&format!("{}-producer", config.name))?;
        cc.set("enable.idempotence", "true");
        let transactional = match &config.mode {
            DeliveryMode::ExactlyOnce { transactional_id } => {
                cc.set("transactional.id", transactional_id);
                true
            }
            DeliveryMode::AtLeastOnce => false,
        };
        let producer: ThreadedProducer<DeliveryCounter> = cc
            .create_with_context(DeliveryCounter::default())
            .map_err(KafkaError::client("create producer"))?;
        if transactional {
            // Fences any previous instance with this transactional.id and aborts its open
            // transaction: the heart of crash recovery.
            producer
                .init_transactions(config.client_timeout)
                .map_err(KafkaError::client("init transactions"))?;
        }
        Ok(Self {
            producer,
            transactional,
            timeout: config.client_timeout,
        })
    }

    fn is_fatal(&self) -> bool {
        self.producer.client().fatal_error().is_some()
    }

    pub(super) fn begin(&mut self) -> Result<(), StepError> {
        let ctx = self.producer.context();
        ctx.failures.store(0, Ordering::Relaxed);
        *ctx.first.lock().unwrap_or_else(|p| p.into_inner()) = None;
        if self.transactional {
            self.producer
                .begin_transaction()
                .map_err(|e| classify("begin transaction", &e, self.is_fatal()))?;
        }
        Ok(())
    }

    pub(super) fn send(&self, rec: &OutRecord) -> Result<(), StepError> {
        let mut headers = OwnedHeaders::new_with_capacity(rec.headers.len());
        for (k, v) in &rec.headers {
            headers = headers.insert(Header {
                key: k,
                value: Some(v),
            });
        }
        let mut record: BaseRecord<'_, [u8], [u8], ()> =
            BaseRecord::to(&rec.topic).headers(headers);
        if let Some(p) = rec.partition {
            record = record.partition(p);
        }
        if let Some(k) = &rec.key {
            record = record.key(k.as_slice());
        }
        if let Some(v) = &rec.payload {
            record = record.payload(v.as_slice());
        }
        if let Some(ts) = rec.timestamp {
            record = record.timestamp(ts);
        }
        loop {
            match self.producer.send(record) {
                Ok(()) => return Ok(()),
                Err((RdError::MessageProduction(RDKafkaErrorCode::QueueFull), r)) => {
                    // The local queue drains as the broker acknowledges; wait, don't drop.
                    record = r;
                    thread::sleep(Duration::from_millis(5));
                }
                Err((e, _)) => return Err(classify("produce", &e, self.is_fatal())),
            }
        }
    }

    /// Waits (bounded by the client timeout) until every sent record is acknowledged.
    ///
    /// Why not just `flush`: rdkafka's `flush` (also called by `commit_transaction`) polls in
    /// 100 ms slices that only return when the slice runs out, so every commit would cost
    /// ~100 ms. Waiting here first leaves those calls nothing to wait for (measured: a
    /// transaction commit drops from ~100 ms to ~7 ms, see docs/benchmarks.md).
    fn await_acks(&self) {
        let deadline = std::time::Instant::now() + self.timeout;
        while self.producer.in_flight_count() > 0 && std::time::Instant::now() < deadline {
            thread::sleep(Duration::from_millis(1));
        }
    }

    /// Commits outputs and `offsets` (the next offsets to read) together.
    pub(super) fn commit(
        &mut self,
        consumer: &super::loss::PipelineConsumer,
        offsets: &TopicPartitionList,
    ) -> Result<(), StepError> {
        self.await_acks();
        if self.transactional {
            let meta = consumer
                .group_metadata()
                .ok_or_else(|| StepError::Fatal("consumer has no group metadata".into()))?;
            self.producer
                .send_offsets_to_transaction(offsets, &meta, self.timeout)
                .map_err(|e| classify("send offsets to transaction", &e, self.is_fatal()))?;
            let mut attempts = 0;
            loop {
                match self.producer.commit_transaction(self.timeout) {
                    Ok(()) => return Ok(()),
                    // A retriable commit failure may be retried as is (KIP-98 client contract).
                    Err(RdError::Transaction(t)) if t.is_retriable() && attempts < 5 => {
                        attempts += 1;
                        tracing::warn!(error = %t, attempts, "retrying transaction commit");
                        thread::sleep(Duration::from_millis(100 * attempts));
                    }
                    Err(e) => return Err(classify("commit transaction", &e, self.is_fatal())),
                }
            }
        }
        self.producer
            .flush(self.timeout)
            .map_err(|e| classify("flush", &e, self.is_fatal()))?;
        let ctx = self.producer.context();
        let failed = ctx.failures.load(Ordering::Relaxed);
        if failed > 0 {
            let first = ctx.first.lock().unwrap_or_else(|p| p.into_inner()).clone();
            return Err(StepError::Abortable(format!(
                "{failed} deliveries failed, first: {}",
                first.unwrap_or_default()
            )));
        }
        consumer
            .commit(offsets, CommitMode::Sync)
            .map_err(|e| StepError::Abortable(format!("commit offsets: {e}")))
    }

    /// Abandons the batch. Exactly once: aborts the transaction. At least once: what was sent
    /// stays sent (the retry may duplicate it, never lose it).
    pub(super) fn abort(&mut self) -> Result<(), StepError> {
        if !self.transactional {
            return Ok(());
        }
        self.producer
            .abort_transaction(self.timeout)
            .map_err(|e| StepError::Fatal(format!("abort transaction: {e}")))
    }
}
