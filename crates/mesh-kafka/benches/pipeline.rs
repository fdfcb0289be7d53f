//! End-to-end load harness for the consume → process → produce pipeline, against the in-process
//! librdkafka mock cluster (3 brokers, 3-partition topics). It measures:
//!
//! 1. the baseline, no mesh code in the path: producing N records with `TestCluster::produce`,
//!    reading them back with `TestCluster::read_all` (its final 300 ms quiet wait subtracted)
//!    and with a plain consumer set up like the pipeline's (fresh group, stored offsets);
//! 2. [`Pipeline`] throughput copying every record to an output topic, at least once and exactly
//!    once, at two batch sizes: wall time from `run` to the commit of the N-th input (seen by an
//!    [`Observer`]), batches, and commit time per batch (the loop's own
//!    `mesh_pipeline_commit_duration_seconds` histogram, caught by a tiny metrics recorder);
//! 3. the client's floor for one commit: `ThreadedProducer::flush` right after 500 sends, and
//!    after first waiting for the delivery reports.
//!
//! Run: `cargo bench -p mesh-kafka --bench pipeline --features testing` (prints markdown).
//! `BENCH_RECORDS` (default 60 000) and `BENCH_VALUE_BYTES` (default 200) set the load. The mock
//! keeps at most 5 MiB of record batches per partition and silently drops the oldest beyond
//! that, so the default stays under it (200 000 × 200 bytes would not) and the harness stops if
//! any input was dropped.

#![allow(clippy::print_stdout)]

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
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
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use tokio::sync::Notify;

const PARTITIONS: i32 = 3;
const KEYS: usize = 1_000;
const MIB: f64 = 1024.0 * 1024.0;
/// `read_all` returns only after the topic has been quiet this long.
const READ_ALL_SETTLE: Duration = Duration::from_millis(300);
const TIMEOUT: Duration = Duration::from_secs(120);
/// (label, exactly once, max_batch_records)
const RUNS: [(&str, bool, usize); 4] = [
    ("pipeline at-least-once, batch 500", false, 500),
    ("pipeline at-least-once, batch 2000", false, 2000),
    ("pipeline exactly-once, batch 500", true, 500),
    ("pipeline exactly-once, batch 2000", true, 2000),
];

/// Copies each record to the output topic: same key and value, one header.
struct Copy(String);

impl Processor for Copy {
    fn process(&mut self, r: &BorrowedMessage<'_>) -> Result<Vec<OutRecord>, ProcessError> {
        let out = OutRecord {
            topic: self.0.clone(),
            key: r.key().map(<[u8]>::to_vec),
            payload: r.payload().map(<[u8]>::to_vec),
            ..OutRecord::default()
        };
        Ok(vec![out.header("src", r.offset().to_string())])
    }
}

/// Counts committed inputs and notes when the first batch and the N-th input were committed.
#[derive(Default)]
struct Progress {
    target: usize,
    inputs: AtomicUsize,
    batches: AtomicUsize,
    aborted: AtomicUsize,
    first_at: OnceLock<Instant>,
    done_at: OnceLock<Instant>,
    done: Notify,
}

impl Observer for Progress {
    fn committed(&self, b: &BatchSummary) {
        let _ = self.first_at.set(Instant::now());
        self.batches.fetch_add(1, Relaxed);
        let total = self.inputs.fetch_add(b.input_count(), Relaxed) + b.input_count();
        if total >= self.target && self.done_at.set(Instant::now()).is_ok() {
            self.done.notify_one();
        }
    }
    fn aborted(&self, _: &BatchSummary, _: &str) {
        self.aborted.fetch_add(1, Relaxed);
    }
}

/// Sum and count of the loop's commit-duration histogram.
#[derive(Debug, Default)]
struct CommitTimes(AtomicU64, AtomicU64);

impl HistogramFn for CommitTimes {
    fn record(&self, seconds: f64) {
        self.0.fetch_add((seconds * 1e9) as u64, Relaxed);
        self.1.fetch_add(1, Relaxed);
    }
}

impl CommitTimes {
    /// Mean commit time since the last call; resets.
    fn take_mean(&self) -> Duration {
        let (nanos, count) = (self.0.swap(0, Relaxed), self.1.swap(0, Relaxed));
        Duration::from_nanos(nanos / count.max(1))
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
        match key.name() {
            COMMIT_DURATION => Histogram::from_arc(self.0.clone()),
            _ => Histogram::noop(),
        }
    }
}

/// A report row: label, wall time, first record/commit, and for pipelines (batches, commit).
type Row = (String, Duration, Option<Duration>, Stats);
/// Batches and mean commit time.
type Stats = Option<(usize, Duration)>;

fn env_usize(name: &str, default: usize) -> usize {
    let value = std::env::var(name).ok().map(|v| v.trim().replace('_', ""));
    value.and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Reads `n` records with a consumer set up like the pipeline's: (total, first record) time.
fn plain_read(bootstrap: &str, topic: &str, n: usize) -> (Duration, Duration) {
    let group = TestCluster::unique_name("bench-read");
    let c: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("group.id", group)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        let _ = tpl.add_partition_offset(topic, p, Offset::Stored);
    }
    let (start, mut first, mut got) = (Instant::now(), None, 0);
    c.assign(&tpl).expect("assign");
    while got < n && start.elapsed() < TIMEOUT {
        if let Some(m) = c.poll(Duration::from_millis(100)) {
            m.expect("consume");
            first.get_or_insert_with(|| start.elapsed());
            got += 1;
        }
    }
    assert_eq!(got, n, "plain read got every record");
    (start.elapsed(), first.unwrap_or_default())
}

async fn run_pipeline(
    cluster: &TestCluster,
    input: &str,
    n: usize,
    (label, exactly_once, batch): (&str, bool, usize),
    times: &CommitTimes,
) -> Row {
    let output = cluster.unique_topic("bench-out", PARTITIONS).await;
    let mut mode = DeliveryMode::AtLeastOnce;
    if exactly_once {
        let transactional_id = TestCluster::unique_name("bench-txn");
        mode = DeliveryMode::ExactlyOnce { transactional_id };
    }
    let group = TestCluster::unique_name("bench-group");
    let mut cfg = PipelineConfig::new("bench", &group, &[input], mode);
    let parts = (0..PARTITIONS).map(|p| (input.to_owned(), p)).collect();
    cfg.assignment = Assignment::Partitions(parts);
    cfg.max_batch_records = batch;
    cfg.max_batch_wait = Duration::from_millis(100);
    let progress = Arc::new(Progress {
        target: n,
        ..Progress::default()
    });
    let pipeline = Pipeline::new(cluster.kafka_config(), cfg, Copy(output));
    let pipeline = pipeline.observer(progress.clone());
    times.take_mean();
    let shutdown = Shutdown::new();
    let start = Instant::now();
    let task = tokio::spawn(pipeline.run(shutdown.clone()));
    let finished = tokio::time::timeout(TIMEOUT, progress.done.notified()).await;
    let done = progress.inputs.load(Relaxed);
    assert!(finished.is_ok(), "{label}: {done} of {n} committed");
    shutdown.cancel();
    let stopped = task.await.expect("pipeline task");
    stopped.expect("pipeline stops cleanly");
    let aborted = progress.aborted.load(Relaxed);
    assert_eq!(aborted, 0, "{label}: {aborted} batches aborted");
    let at = |t: &OnceLock<Instant>| t.get().map_or(Duration::ZERO, |t| *t - start);
    let stats = (progress.batches.load(Relaxed), times.take_mean());
    let (total, first) = (at(&progress.done_at), at(&progress.first_at));
    (label.to_owned(), total, Some(first), Some(stats))
}

/// Mean `flush` time after 500 sends (after 2 warm-up rounds): (at once, after the reports).
fn flush_probe(bootstrap: &str, topic: &str, value_bytes: usize) -> (Duration, Duration) {
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("enable.idempotence", "true")
        .create()
        .expect("probe producer");
    let value = vec![b'x'; value_bytes];
    let mut totals = [Duration::ZERO; 2];
    for round in 0..22 {
        for i in 0..500 {
            let key = format!("key-{i:04}");
            let mut rec = BaseRecord::to(topic).key(&key).payload(&value);
            while let Err((_, r)) = producer.send(rec) {
                rec = r;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        let start = Instant::now();
        while round % 2 == 1 && producer.in_flight_count() > 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
        producer.flush(TIMEOUT).expect("probe flush");
        if round >= 2 {
            totals[round % 2] += start.elapsed();
        }
    }
    (totals[0] / 10, totals[1] / 10)
}

fn print_table(n: usize, rows: &[Row]) {
    println!(
        "| Run | Time (s) | Records/s | First (ms) | Batches | Mean commit (ms) | Commit share | Rest (µs/record) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|---:|");
    let ms = |d: &Duration| format!("{:.0}", d.as_secs_f64() * 1e3);
    for (label, time, first, stats) in rows {
        let secs = time.as_secs_f64();
        let first = first.as_ref().map_or("–".into(), ms);
        let rest = stats.map_or("– | – | – | –".into(), |(b, c)| {
            let commits = c.as_secs_f64() * b as f64;
            let (share, other) = (100.0 * commits / secs, (secs - commits) * 1e6 / n as f64);
            let c = c.as_secs_f64() * 1e3;
            format!("{b} | {c:.1} | {share:.0}% | {other:.1}")
        });
        let rate = n as f64 / secs;
        println!("| {label} | {secs:.2} | {rate:.0} | {first} | {rest} |");
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let times = Arc::new(CommitTimes::default());
    metrics::set_global_recorder(CommitRecorder(times.clone())).expect("install recorder");
    let n = env_usize("BENCH_RECORDS", 60_000);
    let value_bytes = env_usize("BENCH_VALUE_BYTES", 200);
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "{n} records, {value_bytes}-byte values, {KEYS} keys, {PARTITIONS} partitions, \
         librdkafka mock cluster (3 brokers, in-process), {cores} cores"
    );
    // Value + key + "idx" header + ~20 bytes of record framing.
    let mib = (n / PARTITIONS as usize * (value_bytes + 38)) as f64 / MIB;
    println!("per partition: ~{mib:.1} MiB (estimated); the mock keeps 5 MiB");

    let cluster = TestCluster::mock();
    let bootstrap = cluster.bootstrap_servers().to_owned();
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
    let start = Instant::now();
    let read = cluster.read_all(&input, false).await;
    let read_raw = start.elapsed();
    let dropped = "the mock dropped inputs: lower BENCH_RECORDS or BENCH_VALUE_BYTES";
    assert_eq!(read.len(), n, "{dropped}");
    let read_net = read_raw.saturating_sub(READ_ALL_SETTLE);
    let (plain, plain_first) = plain_read(&bootstrap, &input, n);
    let mut rows: Vec<Row> = vec![
        ("baseline: `produce`".into(), produce, None, None),
        ("baseline: `read_all`, raw".into(), read_raw, None, None),
        ("baseline: `read_all` − 300 ms".into(), read_net, None, None),
        ("baseline: consumer".into(), plain, Some(plain_first), None),
    ];
    for run in RUNS {
        rows.push(run_pipeline(&cluster, &input, n, run, &times).await);
    }
    let probe_topic = cluster.unique_topic("bench-probe", PARTITIONS).await;
    let (flush_now, flush_after) = flush_probe(&bootstrap, &probe_topic, value_bytes);

    println!();
    print_table(n, &rows);
    println!();
    println!(
        "Client floor per commit (500 records, mean of 10): `ThreadedProducer::flush` right \
         after sending: {:.1} ms; after waiting for `in_flight_count() == 0`: {:.1} ms.",
        flush_now.as_secs_f64() * 1e3,
        flush_after.as_secs_f64() * 1e3
    );
}
