//! The consume → process → produce loop every streaming service runs.
//!
//! A service supplies a [`Processor`] (record in, records out — pure, no I/O of its own) and a
//! [`PipelineConfig`]; [`Pipeline::run`] does the Kafka part:
//!
//! - **Exactly once** ([`DeliveryMode::ExactlyOnce`]): each batch (bounded by count and time) is
//!   one Kafka transaction holding its output records *and* the consumed offsets. A crash anywhere
//!   leaves the transaction open; the next instance with the same `transactional.id` fences the old
//!   producer and aborts it, then resumes from the last committed offsets. Readers with
//!   `isolation.level=read_committed` see every input's outputs exactly once.
//! - **At least once** ([`DeliveryMode::AtLeastOnce`]), for brokers without transactions: outputs
//!   are flushed and acknowledged before the offsets are committed. A crash may repeat the
//!   uncommitted batch, never skip it.
//!
//! rdkafka's transaction calls block, so the loop runs on a blocking thread, never on the async
//! runtime's workers. A processor that cannot proceed (e.g. the registry is down) returns
//! [`ProcessError::Retry`]: the batch is abandoned, the consumer rewound, and the loop pauses and
//! retries, so nothing is lost or skipped. Fatal client errors (fenced producer) restart the loop
//! with fresh clients.
//!
//! Records deleted by retention before the pipeline read them are never skipped silently: the
//! lost range is logged, counted and handed to [`Processor::data_loss`]. Found at assignment
//! (committed offset below the log start), its records commit at once in a batch that also
//! commits the log start; found at a later gap, they go into the batch of the first record read
//! after it (see `loss.rs`).

mod loss;
mod mirror;
mod sink;
mod worker;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use mesh_runtime::Shutdown;
use rdkafka::message::BorrowedMessage;

use crate::{KafkaConfig, KafkaError};

/// Header carrying the id of the batch (transaction) an output record was written in, when
/// [`PipelineConfig::stamp_batch_id`] is set. Lets tests and auditors tie records to commits.
pub const BATCH_HEADER: &str = "__mesh.batch";

/// How often the supervisor looks at a worker's progress.
const STALL_CHECK: Duration = Duration::from_millis(500);
/// Added to the longest legitimate gap between progress marks before a worker counts as stuck.
const STALL_SLACK: Duration = Duration::from_secs(5);

/// Turns one consumed record into the records to produce for it.
pub trait Processor: Send + 'static {
    fn process(&mut self, record: &BorrowedMessage<'_>) -> Result<Vec<OutRecord>, ProcessError>;

    /// Records of `lost` were deleted before this pipeline read them. The returned records are
    /// produced in the batch (the same transaction when exactly once) that commits the move
    /// past the gap: at assignment, a batch of its own committing the log start as the group's
    /// offset; otherwise the batch of the first record read after the gap. So the report is
    /// committed exactly when the pipeline moves past the gap, and never depends on a record
    /// arriving or being processable.
    fn data_loss(&mut self, _lost: &LostRange) -> Vec<OutRecord> {
        Vec::new()
    }
}

/// Offsets `from..=to` of one input partition, deleted (retention) before they were read.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LostRange {
    pub topic: String,
    pub partition: i32,
    pub from: i64,
    pub to: i64,
}

impl LostRange {
    pub fn records(&self) -> u64 {
        (self.to - self.from + 1).max(0) as u64
    }
}

/// Why a processor could not handle a record.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    /// A dependency is unavailable; retry the whole batch later. Never use this for a bad
    /// record (that one goes to a dead-letter topic), or the partition stalls.
    #[error("retry later: {0}")]
    Retry(String),
}

/// A record to produce.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OutRecord {
    pub topic: String,
    /// `None` lets the partitioner choose (by key).
    pub partition: Option<i32>,
    pub key: Option<Vec<u8>>,
    pub payload: Option<Vec<u8>>,
    pub headers: Vec<(String, Vec<u8>)>,
    /// CreateTime in ms; `None` = now.
    pub timestamp: Option<i64>,
}

impl OutRecord {
    pub fn to(topic: impl Into<String>) -> Self {
        Self {
            topic: topic.into(),
            ..Self::default()
        }
    }
    pub fn header(mut self, name: &str, value: impl Into<Vec<u8>>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }
}

/// Delivery guarantee.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum DeliveryMode {
    /// Kafka transactions; `transactional_id` must be stable across restarts of the same
    /// logical worker (so the restart fences its predecessor) and unique among live ones.
    ExactlyOnce {
        transactional_id: String,
    },
    AtLeastOnce,
}

/// Which input partitions this worker reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Assignment {
    /// Join the consumer group and take what it assigns.
    Subscribe,
    /// Read exactly these (topic, partition)s, still committing offsets for the group.
    Partitions(Vec<(String, i32)>),
}

/// How a pipeline runs.
#[derive(Clone, Debug)]
pub struct PipelineConfig {
    /// For logs and metric labels; keep the set of names small.
    pub name: String,
    pub group_id: String,
    pub input_topics: Vec<String>,
    pub assignment: Assignment,
    pub mode: DeliveryMode,
    pub max_batch_records: usize,
    pub max_batch_wait: Duration,
    /// Bound on each blocking client call (transaction begin/commit/abort, flush, commit).
    pub client_timeout: Duration,
    pub stamp_batch_id: bool,
}

impl PipelineConfig {
    pub fn new(name: &str, group_id: &str, input_topics: &[&str], mode: DeliveryMode) -> Self {
        Self {
            name: name.to_owned(),
            group_id: group_id.to_owned(),
            input_topics: input_topics.iter().map(|s| (*s).to_owned()).collect(),
            assignment: Assignment::Subscribe,
            mode,
            max_batch_records: 500,
            max_batch_wait: Duration::from_millis(100),
            client_timeout: Duration::from_secs(30),
            stamp_batch_id: false,
        }
    }
}

/// One batch as it was committed or abandoned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BatchSummary {
    pub batch_id: String,
    /// (topic, partition) → inclusive range of input offsets in the batch.
    pub inputs: BTreeMap<(String, i32), (i64, i64)>,
    pub outputs: usize,
}

impl BatchSummary {
    pub fn input_count(&self) -> usize {
        self.inputs
            .values()
            .map(|(first, last)| (last - first + 1) as usize)
            .sum()
    }
}

/// Hooks called by the loop, for audits and tests.
pub trait Observer: Send + Sync + 'static {
    /// The batch's transaction (or flush + offset commit) succeeded.
    fn committed(&self, _batch: &BatchSummary) {}
    /// The batch was abandoned and will be re-read.
    fn aborted(&self, _batch: &BatchSummary, _reason: &str) {}
    /// Only on brokers that drop transactional offsets ([`crate::BrokerQuirks`]): the batch
    /// committed, but the group refused the plain commit of its offsets (it was rebalancing).
    /// This worker will not read the batch again, but if the rebalance hands its partitions
    /// to another member, that member repeats it (a mock-only gap, see docs/gateway.md).
    fn offsets_refused(&self, _batch: &BatchSummary) {}
}

/// A configured pipeline, ready to run.
pub struct Pipeline<P: Processor> {
    kafka: KafkaConfig,
    config: PipelineConfig,
    processor: P,
    observer: Option<Arc<dyn Observer>>,
}

impl<P: Processor> std::fmt::Debug for Pipeline<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pipeline")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl<P: Processor> Pipeline<P> {
    pub fn new(kafka: KafkaConfig, config: PipelineConfig, processor: P) -> Self {
        Self {
            kafka,
            config,
            processor,
            observer: None,
        }
    }

    pub fn observer(mut self, observer: Arc<dyn Observer>) -> Self {
        self.observer = Some(observer);
        self
    }

    /// Runs until `shutdown` is cancelled (the current batch is committed first), restarting
    /// with fresh clients after fatal client errors. A panicking processor ends the run with
    /// [`KafkaError::Panicked`]; its open transaction is aborted by the next instance.
    ///
    /// Workers run on their own OS threads, watched for progress: a worker stuck in a client
    /// call for longer than any of its bounded calls may take (librdkafka's
    /// `send_offsets_to_transaction` was seen to wait forever on the mock cluster after a broker
    /// outage) is abandoned and replaced. The replacement's `init_transactions` fences the stuck
    /// producer, so the abandoned thread can never commit.
    pub async fn run(self, shutdown: Shutdown) -> Result<(), KafkaError> {
        crate::metrics::describe();
        let Self {
            kafka,
            config,
            processor,
            observer,
        } = self;
        let processor = Arc::new(Mutex::new(processor));
        let name = config.name.clone();
        let stall_limit = config.client_timeout * 2 + config.max_batch_wait + STALL_SLACK;
        let mut backoff = Duration::from_millis(200);
        loop {
            let stop = shutdown.token().child_token();
            let progress = Arc::new(worker::Progress::default());
            let w = worker::Worker::new(
                kafka.clone(),
                config.clone(),
                observer.clone(),
                stop.clone(),
                progress.clone(),
            );
            let (tx, mut rx) = tokio::sync::oneshot::channel();
            let p = processor.clone();
            // A plain thread, not spawn_blocking: a thread stuck inside librdkafka must not
            // keep the async runtime (and so the process) from shutting down.
            std::thread::Builder::new()
                .name(format!("pipeline-{name}"))
                .spawn(move || {
                    let _ = tx.send(w.run(&p));
                })
                .map_err(|e| KafkaError::Pipeline {
                    pipeline: name.clone(),
                    reason: format!("cannot start worker thread: {e}"),
                })?;
            let result = loop {
                tokio::select! {
                    done = &mut rx => match done {
                        Ok(r) => break r,
                        // The sender went away without a result: the thread panicked.
                        Err(_) => return Err(KafkaError::Panicked { pipeline: name }),
                    },
                    _ = tokio::time::sleep(STALL_CHECK) => {
                        if progress.idle_for() > stall_limit {
                            stop.cancel();
                            break Err(KafkaError::Pipeline {
                                pipeline: name.clone(),
                                reason: format!(
                                    "worker made no progress for {:?}; abandoned",
                                    progress.idle_for()
                                ),
                            });
                        }
                    }
                }
            };
            match result {
                Ok(()) => return Ok(()),
                // Retrying cannot fix a bad configuration.
                Err(e @ KafkaError::Config(_)) => return Err(e),
                Err(e) if shutdown.is_cancelled() => return Err(e),
                Err(e) => {
                    tracing::error!(pipeline = %name, error = %e, ?backoff, "pipeline restarting");
                    metrics::counter!(crate::metrics::RESTARTS, "pipeline" => name.clone())
                        .increment(1);
                    tokio::select! {
                        _ = shutdown.cancelled() => return Ok(()),
                        _ = tokio::time::sleep(backoff) => {}
                    }
                    backoff = (backoff * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}
