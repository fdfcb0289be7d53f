//! End-to-end load harness for the consume → process → produce pipeline.
//!
//! Against the in-process librdkafka mock cluster (3 brokers, 3-partition topics) it measures:
//!
//! 1. the baseline, with no mesh code in the path: producing N records with
//!    `TestCluster::produce` and reading them back with `TestCluster::read_all` (whose final
//!    300 ms quiet wait is subtracted explicitly);
//! 2. [`Pipeline`] throughput copying every record to an output topic, at least once and exactly
//!    once, at two batch sizes: wall time from `run` to the commit of the N-th input (as seen by
//!    an [`Observer`]), the number of batches, and the commit time per batch (taken from the
//!    loop's own `mesh_pipeline_commit_duration_seconds` histogram via a tiny metrics recorder).
//!
//! Run: `cargo bench -p mesh-kafka --bench pipeline --features testing`. It prints a markdown
//! table. `BENCH_RECORDS` (default 60 000) and `BENCH_VALUE_BYTES` (default 200) override the
//! load. The mock keeps at most 5 MiB of record batches per partition and silently drops the
//! oldest beyond that, so the default load stays under it and the harness refuses to report
//! numbers if any input was dropped.

#![allow(clippy::print_stdout)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use mesh_kafka::metrics::COMMIT_DURATION;
use mesh_kafka::pipeline::{
    Assignment, BatchSummary, DeliveryMode, Observer, OutRecord, Pipeline, PipelineConfig,
    ProcessError, Processor,
};
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use metrics::{Counter, Gauge, Histogram, HistogramFn, Key, KeyName, Metadata, SharedString, Unit};
use rdkafka::Message;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::BorrowedMessage;
use tokio::sync::Notify;

const PARTITIONS: i32 = 3;
const DEFAULT_RECORDS: usize = 60_000;
const DEFAULT_VALUE_BYTES: usize = 200;
const KEYS: usize = 1_000;
/// librdkafka's mock keeps at most 5 MiB (and 100 000 record batches) per partition.
const MOCK_PARTITION_BYTES: f64 = 5.0 * 1024.0 * 1024.0;
/// `read_all` returns only after the topic has been quiet this long.
const READ_ALL_SETTLE: Duration = Duration::from_millis(300);
const RUN_TIMEOUT: Duration = Duration::from_secs(120);
/// (label, exactly once, max_batch_records)
const RUNS: [(&str, bool, usize); 4] = [
    ("pipeline at-least-once, batch 500", false, 500),
    ("pipeline at-least-once, batch 2000", false, 2000),
    ("pipeline exactly-once, batch 500", true, 500),
    ("pipeline exactly-once, batch 2000", true, 2000),
];

/// Copies each record to the output topic: same key and value, one header.
struct Copy {
    out: String,
}

impl Processor for Copy {
    fn process(&mut self, r: &BorrowedMessage<'_>) -> Result<Vec<OutRecord>, ProcessError> {
        Ok(vec![
            OutRecord {
                topic: self.out.clone(),
                key: r.key().map(<[u8]>::to_vec),
                payload: r.payload().map(<[u8]>::to_vec),
                ..OutRecord::default()
            }
            .header("src", r.offset().to_string()),
        ])
    }
}

/// Counts committed inputs and notes when the N-th one was committed.
struct Progress {
    target: usize,
    inputs: AtomicUsize,
    batches: AtomicUsize,
    aborted: AtomicUsize,
    done_at: OnceLock<Instant>,
    done: Notify,
}

impl Observer for Progress {
    fn committed(&self, b: &BatchSummary) {
        self.batches.fetch_add(1, Ordering::Relaxed);
        let total = self.inputs.fetch_add(b.input_count(), Ordering::Relaxed) + b.input_count();
        if total >= self.target && self.done_at.set(Instant::now()).is_ok() {
            self.done.notify_one();
        }
    }
    fn aborted(&self, _: &BatchSummary, _: &str) {
        self.aborted.fetch_add(1, Ordering::Relaxed);
    }
}

/// Sum and count of the loop's commit-duration histogram.
#[derive(Debug, Default)]
struct CommitTimes {
    nanos: AtomicU64,
    count: AtomicU64,
}

impl HistogramFn for CommitTimes {
    fn record(&self, seconds: f64) {
        self.nanos
            .fetch_add((seconds * 1e9) as u64, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }
}

impl CommitTimes {
    /// Returns (total time, commits) since the last call and resets.
    fn take(&self) -> (Duration, u64) {
        let nanos = self.nanos.swap(0, Ordering::Relaxed);
        (
            Duration::from_nanos(nanos),
            self.count.swap(0, Ordering::Relaxed),
        )
    }
}

/// A metrics recorder that keeps only the commit-duration histogram.
#[derive(Debug)]
struct CommitRecorder(Arc<CommitTimes>);

impl metrics::Recorder for CommitRecorder {
    fn describe_counter(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_gauge(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn describe_histogram(&self, _: KeyName, _: Option<Unit>, _: SharedString) {}
    fn register_counter(&self, _: &Key, _: &Metadata<'_>) -> Counter {
        Counter::noop()
    }
    fn register_gauge(&self, _: &Key, _: &Metadata<'_>) -> Gauge {
        Gauge::noop()
    }
    fn register_histogram(&self, key: &Key, _: &Metadata<'_>) -> Histogram {
        if key.name() == COMMIT_DURATION {
            Histogram::from_arc(self.0.clone())
        } else {
            Histogram::noop()
        }
    }
}

/// One row of the report.
struct Row {
    label: String,
    records: usize,
    time: Duration,
    batches: Option<usize>,
    commit: Option<Duration>,
}

fn env_usize(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.trim().replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// (low, high) watermarks of every partition of `topic`.
async fn watermarks(cluster: &TestCluster, topic: &str) -> Vec<(i64, i64)> {
    let (bootstrap, topic) = (cluster.bootstrap_servers().to_owned(), topic.to_owned());
    tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = rdkafka::ClientConfig::new()
            .set("bootstrap.servers", &bootstrap)
            .create()
            .expect("watermark consumer");
        (0..PARTITIONS)
            .map(|p| {
                consumer
                    .fetch_watermarks(&topic, p, Duration::from_secs(10))
                    .expect("watermarks")
            })
            .collect()
    })
    .await
    .expect("watermark task")
}

async fn run_pipeline(
    cluster: &TestCluster,
    input: &str,
    n: usize,
    (label, exactly_once, batch): (&str, bool, usize),
    times: &CommitTimes,
) -> Row {
    let output = cluster.unique_topic("bench-out", PARTITIONS).await;
    let mode = if exactly_once {
        DeliveryMode::ExactlyOnce {
            transactional_id: TestCluster::unique_name("bench-txn"),
        }
    } else {
        DeliveryMode::AtLeastOnce
    };
    let group = TestCluster::unique_name("bench-group");
    let mut cfg = PipelineConfig::new("bench", &group, &[input], mode);
    cfg.assignment =
        Assignment::Partitions((0..PARTITIONS).map(|p| (input.to_owned(), p)).collect());
    cfg.max_batch_records = batch;
    cfg.max_batch_wait = Duration::from_millis(100);
    let progress = Arc::new(Progress {
        target: n,
        inputs: AtomicUsize::new(0),
        batches: AtomicUsize::new(0),
        aborted: AtomicUsize::new(0),
        done_at: OnceLock::new(),
        done: Notify::new(),
    });
    let pipeline = Pipeline::new(
        cluster.kafka_config(),
        cfg,
        Copy {
            out: output.clone(),
        },
    )
    .observer(progress.clone());
    times.take();
    let shutdown = Shutdown::new();
    let start = Instant::now();
    let task = tokio::spawn(pipeline.run(shutdown.clone()));
    if tokio::time::timeout(RUN_TIMEOUT, progress.done.notified())
        .await
        .is_err()
    {
        panic!(
            "{label}: only {} of {n} inputs committed in {RUN_TIMEOUT:?}",
            progress.inputs.load(Ordering::Relaxed)
        );
    }
    let time = progress.done_at.get().copied().unwrap_or_else(Instant::now) - start;
    shutdown.cancel();
    task.await
        .expect("pipeline task")
        .expect("pipeline stops cleanly");
    let (commit_total, commits) = times.take();
    let aborted = progress.aborted.load(Ordering::Relaxed);
    assert_eq!(aborted, 0, "{label}: {aborted} batches aborted");
    let out = watermarks(cluster, &output).await;
    let written: i64 = out.iter().map(|(_, high)| high).sum();
    assert!(
        out.iter().all(|(low, _)| *low == 0) && written >= n as i64,
        "{label}: output topic watermarks {out:?} (want {n} records, none dropped)"
    );
    Row {
        label: label.to_owned(),
        records: n,
        time,
        batches: Some(progress.batches.load(Ordering::Relaxed)),
        commit: Some(commit_total / u32::try_from(commits.max(1)).unwrap_or(u32::MAX)),
    }
}

fn print_table(rows: &[Row]) {
    println!(
        "| Run | Records | Time (s) | Records/s | Batches | Mean commit (ms) | Commit share |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for r in rows {
        let secs = r.time.as_secs_f64();
        let (batches, commit, share) = match (r.batches, r.commit) {
            (Some(b), Some(c)) => (
                b.to_string(),
                format!("{:.2}", c.as_secs_f64() * 1e3),
                format!("{:.0}%", 100.0 * c.as_secs_f64() * b as f64 / secs),
            ),
            _ => ("–".into(), "–".into(), "–".into()),
        };
        println!(
            "| {} | {} | {secs:.2} | {:.0} | {batches} | {commit} | {share} |",
            r.label,
            r.records,
            r.records as f64 / secs
        );
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let times = Arc::new(CommitTimes::default());
    metrics::set_global_recorder(CommitRecorder(times.clone())).expect("install recorder");
    let n = env_usize("BENCH_RECORDS", DEFAULT_RECORDS);
    let value_bytes = env_usize("BENCH_VALUE_BYTES", DEFAULT_VALUE_BYTES);
    // Key + value + "idx" header + ~20 bytes of record framing, spread over 3 partitions.
    let per_partition = (n as f64 / f64::from(PARTITIONS)) * (value_bytes + 9 + 3 + 6 + 20) as f64;
    println!(
        "mesh-kafka pipeline bench: {n} records, {value_bytes}-byte values, {KEYS} keys, \
         {PARTITIONS} partitions, librdkafka mock cluster (3 brokers); {} cores",
        std::thread::available_parallelism().map_or(0, usize::from)
    );
    println!(
        "mock retention: ~{:.1} MiB per partition estimated, limit 5 MiB / 100k batches",
        per_partition / 1024.0 / 1024.0
    );
    if per_partition > MOCK_PARTITION_BYTES {
        println!(
            "warning: the mock will probably drop the oldest records; lower BENCH_RECORDS or \
             BENCH_VALUE_BYTES (the run aborts if it does)"
        );
    }

    let cluster = TestCluster::mock();
    let input = cluster.unique_topic("bench-in", PARTITIONS).await;
    let records: Vec<_> = (0..n)
        .map(|i| {
            let mut v = format!("value-{i:010}-").into_bytes();
            v.resize(value_bytes, b'x');
            (Some(format!("key-{:04}", i % KEYS).into_bytes()), v)
        })
        .collect();

    // Baseline: client + broker cost with no mesh code in the path.
    let start = Instant::now();
    cluster.produce(&input, records).await;
    let produce = start.elapsed();
    let marks = watermarks(&cluster, &input).await;
    assert!(
        marks.iter().all(|(low, _)| *low == 0)
            && marks.iter().map(|(_, high)| high).sum::<i64>() == n as i64,
        "the mock dropped input records (watermarks {marks:?}): lower BENCH_RECORDS or \
         BENCH_VALUE_BYTES"
    );
    println!(
        "input partitions hold {:?} records (none dropped)",
        marks.iter().map(|(_, h)| *h).collect::<Vec<_>>()
    );
    let start = Instant::now();
    let read = cluster.read_all(&input, false).await;
    let read_raw = start.elapsed();
    assert_eq!(read.len(), n, "read_all returned every record");
    let read_net = read_raw.saturating_sub(READ_ALL_SETTLE);
    let baseline = |label: &str, time| Row {
        label: label.to_owned(),
        records: n,
        time,
        batches: None,
        commit: None,
    };
    let mut rows = vec![
        baseline("baseline produce (`TestCluster::produce`)", produce),
        baseline("baseline read (`read_all`, raw)", read_raw),
        baseline("baseline read (`read_all` − 300 ms settle)", read_net),
        baseline(
            "baseline produce + read (net), sequential",
            produce + read_net,
        ),
    ];
    for run in RUNS {
        rows.push(run_pipeline(&cluster, &input, n, run, &times).await);
    }
    println!();
    print_table(&rows);
}
