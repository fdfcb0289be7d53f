//! End-to-end gateway load harness on librdkafka's mock cluster (exactly once, 3 partitions),
//! side by side in one run on the same pre-produced raw records (~100-byte valid Avro orders):
//!
//! 1. the plain copy loop: `mesh_kafka::pipeline` with a copy `Processor`, same batch size and
//!    transactions, no validation; then the gateway (registry lookup, Avro validation, rules,
//!    provenance headers) draining the same raw topic. Wall time from start to the commit of the
//!    N-th input (seen by an `Observer`), and from the first commit; the ratio gateway / copy.
//! 2. added latency at half the gateway's measured max rate: an open-loop producer stamps each
//!    order id with its send time; a consumer on the validated topic computes receive − send
//!    (produce → consumed from validated, transaction commit included): p50/p99.
//!
//! ```sh
//! cargo bench -p mesh-gateway --bench end_to_end
//! BENCH_RECORDS=90000 BENCH_BATCH=500 cargo bench -p mesh-gateway --bench end_to_end
//! ```
//!
//! 3. with `BENCH_BACKLOG=<records>` instead (needs `TEST_KAFKA_BOOTSTRAP`, e.g. tansu started
//!    as `scripts/test` does): the gateway at least once draining that backlog, sampling the
//!    process's RSS (`/proc/self/status`) every 100 ms: max RSS and records/s.
//!
//! Phase 1 runs `BENCH_ROUNDS` (default 3) rounds, alternating which loop goes first, each loop
//! on a fresh consumer group, and reports each round and the median ratio.
//! Defaults are small (20 000 records, batch 500, 3 s latency phase: `BENCH_LATENCY_SECONDS`;
//! `BENCH_LATENCY_RATE` overrides the rate; `BENCH_FETCH_WAIT_MS` sets `fetch.wait.max.ms`).
//! The mock keeps 5 MiB per partition, so keep `BENCH_RECORDS` ≲ 120 000.

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use mesh_gateway::Delivery;
use mesh_kafka::pipeline::{
    Assignment, BatchSummary, DeliveryMode, Observer, OutRecord, Pipeline, PipelineConfig,
    ProcessError, Processor,
};
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::producer::{BaseProducer, BaseRecord};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use support::*;
use tokio::sync::Notify;

const PARTITIONS: i32 = 3;
const TIMEOUT: Duration = Duration::from_secs(300);
/// Marks the numeric tail of `Order::valid(n)`'s order id.
const ID_MARK: &[u8] = b"-4000-8000-";

fn env(name: &str, default: usize) -> usize {
    let v = std::env::var(name).ok().map(|v| v.trim().replace('_', ""));
    v.and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// Copies each record to the output topic (key, value, one header), like the gateway's output.
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

/// Counts committed inputs of one topic; notes the first commit and the `target`-th input.
#[derive(Default)]
struct Progress {
    topic: String,
    target: usize,
    inputs: AtomicUsize,
    aborted: AtomicUsize,
    first_at: OnceLock<Instant>,
    done_at: OnceLock<Instant>,
    done: Notify,
}

impl Observer for Progress {
    fn committed(&self, b: &BatchSummary) {
        let n: usize = b
            .inputs
            .iter()
            .filter(|((t, _), _)| *t == self.topic)
            .map(|(_, (first, last))| (last - first + 1) as usize)
            .sum();
        if n == 0 {
            return;
        }
        let _ = self.first_at.set(Instant::now());
        let total = self.inputs.fetch_add(n, Relaxed) + n;
        if total >= self.target && self.done_at.set(Instant::now()).is_ok() {
            self.done.notify_one();
        }
    }
    fn aborted(&self, _: &BatchSummary, _: &str) {
        self.aborted.fetch_add(1, Relaxed);
    }
}

impl Progress {
    fn new(topic: &str, target: usize) -> Arc<Self> {
        Arc::new(Self {
            topic: topic.to_owned(),
            target,
            ..Self::default()
        })
    }

    /// Waits for the target: (total from `start`, from the first commit).
    async fn wait(&self, label: &str, start: Instant) -> (Duration, Duration) {
        let finished = tokio::time::timeout(TIMEOUT, self.done.notified()).await;
        let done = self.inputs.load(Relaxed);
        assert!(
            finished.is_ok(),
            "{label}: {done} of {} committed",
            self.target
        );
        let aborted = self.aborted.load(Relaxed);
        assert_eq!(aborted, 0, "{label}: {aborted} batches aborted");
        let (first, end) = (self.first_at.get().unwrap(), self.done_at.get().unwrap());
        (*end - start, *end - *first)
    }
}

/// librdkafka's mock answers a fetch with no new data only after `fetch.wait.max.ms`
/// (default 500 ms), which the latency phase would measure: `BENCH_FETCH_WAIT_MS` sets it for
/// both loops.
fn fetch_wait(mut kafka: mesh_kafka::KafkaConfig) -> mesh_kafka::KafkaConfig {
    if let Ok(ms) = std::env::var("BENCH_FETCH_WAIT_MS") {
        kafka.properties.insert("fetch.wait.max.ms".into(), ms);
    }
    kafka
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
}

/// The send time (µs since `epoch`) encoded in an order id, if the payload carries one.
fn sent_micros(payload: &[u8]) -> Option<u64> {
    let at = payload.windows(ID_MARK.len()).position(|w| w == ID_MARK)? + ID_MARK.len();
    std::str::from_utf8(payload.get(at..at + 12)?)
        .ok()?
        .parse()
        .ok()
}

/// Open loop at `rate`/s for `secs` (records stamped with their send time), measuring
/// produce → consumed from `validated`. Returns sorted latencies.
fn latency(h: &Harness, validated: &str, rate: f64, secs: u64) -> Vec<Duration> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", h.cluster.bootstrap_servers())
        .set("group.id", TestCluster::unique_name("bench-lat"))
        .set("enable.auto.commit", "false")
        .set("fetch.wait.max.ms", "5")
        .create()
        .expect("consumer");
    let mut tpl = TopicPartitionList::new();
    for p in 0..PARTITIONS {
        let _ = tpl.add_partition_offset(validated, p, Offset::End);
    }
    consumer.assign(&tpl).expect("assign");
    let _ = consumer.poll(Duration::from_millis(500));
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", h.cluster.bootstrap_servers())
        .set("linger.ms", "1")
        .create()
        .expect("producer");
    let epoch = Instant::now();
    let raw = h.contract.topics.raw.clone();
    let key = h.key("k");
    let total = (rate * secs as f64) as usize;
    let interval = Duration::from_secs_f64(1.0 / rate);
    let mut out = Vec::with_capacity(total);
    let mut sent = 0usize;
    while out.len() < total && epoch.elapsed() < Duration::from_secs(secs + 30) {
        while sent < total && epoch.elapsed() >= interval * sent as u32 {
            let value = h.wire(&Order::valid(epoch.elapsed().as_micros() as u64).encode());
            let rec = BaseRecord::to(&raw).key(&key).payload(&value);
            let rec = rec.partition((sent % PARTITIONS as usize) as i32);
            producer.send(rec).map_err(|(e, _)| e).expect("send");
            sent += 1;
        }
        producer.poll(Duration::ZERO);
        // Drain what has arrived before sending again, so no queue builds up on our side.
        let mut wait = Duration::from_millis(1);
        while let Some(m) = consumer.poll(wait) {
            let m = m.expect("consume");
            if let Some(us) = m.payload().and_then(sent_micros) {
                out.push(epoch.elapsed() - Duration::from_micros(us));
            }
            wait = Duration::ZERO;
        }
    }
    assert_eq!(out.len(), total, "every latency record arrived validated");
    out.sort();
    out
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(run());
}

async fn run() {
    if let Ok(backlog) = std::env::var("BENCH_BACKLOG") {
        let n = backlog
            .trim()
            .replace('_', "")
            .parse()
            .expect("BENCH_BACKLOG: a count");
        return drain_backlog(n, env("BENCH_BATCH", 500)).await;
    }
    let n = env("BENCH_RECORDS", 20_000);
    let batch = env("BENCH_BATCH", 500);
    let lat_secs = env("BENCH_LATENCY_SECONDS", 3) as u64;
    let h = Harness::new(TestCluster::transactional(), PARTITIONS).await;
    let raw = h.contract.topics.raw.clone();
    let records: Vec<Raw> = (0..n as u64)
        .map(|i| Raw {
            key: Some(h.key(&format!("k{}", i % 1000))),
            value: Some(h.wire(&Order::valid(i).encode())),
            partition: Some((i % PARTITIONS as u64) as i32),
            ..Raw::default()
        })
        .collect();
    let bytes = records[0].value.as_ref().map_or(0, Vec::len);
    h.produce_raw(&raw, records);
    let cores = std::thread::available_parallelism().map_or(0, usize::from);
    println!(
        "{n} raw records ({bytes}-byte Avro values), {PARTITIONS} partitions, batch {batch}, \
         exactly once, librdkafka mock cluster (in-process), {cores} cores"
    );

    // 1. Rounds of (copy loop, gateway) on the same records, the order alternating, so a burst
    // of load from elsewhere on the machine skews one round, not the comparison.
    let rounds = env("BENCH_ROUNDS", 3).max(1);
    h.apply_contract(Some(&h.contract));
    let mut results = Vec::new();
    let mut live: Option<Shutdown> = None;
    for round in 0..rounds {
        let mut copy = None;
        let mut gateway = None;
        for copy_turn in [round % 2 == 0, round % 2 != 0] {
            if let Some(s) = live.take() {
                s.cancel();
                s.drain(Duration::from_secs(10)).await;
            }
            if copy_turn {
                copy = Some(copy_round(&h, &raw, n, batch).await);
            } else {
                let (times, shutdown) = gateway_round(&h, n, batch).await;
                gateway = Some(times);
                live = Some(shutdown);
            }
        }
        results.push((copy.expect("copy ran"), gateway.expect("gateway ran")));
    }
    // The last gateway keeps running for the latency phase.
    let shutdown = live.expect("a gateway runs");

    println!();
    println!(
        "| Round (order) | Copy loop records/s (total / from first commit) | Gateway records/s (total / from first commit) | Ratio (total / from first commit) |"
    );
    println!("|---|---:|---:|---:|");
    let rate = |d: Duration| n as f64 / d.as_secs_f64();
    let mut ratios = Vec::new();
    let mut steady_ratios = Vec::new();
    let mut gateway_steady = Vec::new();
    for (i, (copy, gateway)) in results.iter().enumerate() {
        let ratio = copy.0.as_secs_f64() / gateway.0.as_secs_f64();
        let steady = copy.1.as_secs_f64() / gateway.1.as_secs_f64();
        let order = if i % 2 == 0 {
            "copy first"
        } else {
            "gateway first"
        };
        println!(
            "| {} ({order}) | {:.0} / {:.0} | {:.0} / {:.0} | {ratio:.2} / {steady:.2} |",
            i + 1,
            rate(copy.0),
            rate(copy.1),
            rate(gateway.0),
            rate(gateway.1)
        );
        ratios.push(ratio);
        steady_ratios.push(steady);
        gateway_steady.push(rate(gateway.1));
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    println!(
        "\nratio gateway / copy, median of {rounds} rounds: {:.2} (total), {:.2} (from first commit)",
        median(&mut ratios),
        median(&mut steady_ratios)
    );
    let gateway_rate = median(&mut gateway_steady);

    // 2. Added latency at half the gateway's max rate.
    // `BENCH_LATENCY_RATE` overrides the rate (records/s), to see how latency depends on it.
    let half = env("BENCH_LATENCY_RATE", 0) as f64;
    let half = if half > 0.0 { half } else { gateway_rate / 2.0 };
    let validated = h.contract.topics.validated.clone();
    let lat = tokio::task::block_in_place(|| latency(&h, &validated, half, lat_secs));
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    println!(
        "latency at {half:.0} records/s for {lat_secs} s ({} records), produce → consumed \
         validated: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        lat.len(),
        ms(pct(&lat, 0.5)),
        ms(pct(&lat, 0.99)),
        ms(lat[lat.len() - 1])
    );
    shutdown.cancel();
}

/// The plain copy loop over `raw` (a new group and output topic): (total, from first commit).
async fn copy_round(h: &Harness, raw: &str, n: usize, batch: usize) -> (Duration, Duration) {
    let copy_out = h.cluster.unique_topic("bench-copy", PARTITIONS).await;
    let txn = TestCluster::unique_name("bench-copy-txn");
    let mode = DeliveryMode::ExactlyOnce {
        transactional_id: txn,
    };
    let mut cfg = PipelineConfig::new("bench", &TestCluster::unique_name("copy"), &[raw], mode);
    cfg.assignment = Assignment::Partitions((0..PARTITIONS).map(|p| (raw.to_owned(), p)).collect());
    cfg.max_batch_records = batch;
    cfg.max_batch_wait = Duration::from_millis(100);
    let progress = Progress::new(raw, n);
    let pipeline = Pipeline::new(fetch_wait(h.cluster.kafka_config()), cfg, Copy(copy_out));
    let shutdown = Shutdown::new();
    let start = Instant::now();
    let task = tokio::spawn(pipeline.observer(progress.clone()).run(shutdown.clone()));
    let times = progress.wait("copy", start).await;
    shutdown.cancel();
    task.await.expect("copy task").expect("copy stops cleanly");
    times
}

/// The gateway (a new consumer group) over the contract's raw topic: (total, from first
/// commit), and the shutdown that stops it.
async fn gateway_round(h: &Harness, n: usize, batch: usize) -> ((Duration, Duration), Shutdown) {
    let mut config = h.config(Delivery::ExactlyOnce);
    config.max_batch_records = batch;
    config.max_batch_wait = Duration::from_millis(100);
    let progress = Progress::new(&h.contract.topics.raw, n);
    let shutdown = Shutdown::new();
    let start = Instant::now();
    let g = mesh_gateway::Gateway::default().observer(progress.clone());
    let kafka = fetch_wait(h.kafka());
    let _gw = g.start(config, kafka, &shutdown).await.expect("gateway");
    (progress.wait("gateway", start).await, shutdown)
}

/// `VmRSS` of this process, in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let line = status.lines().find(|l| l.starts_with("VmRSS:"));
    let kib = line.and_then(|l| l.split_whitespace().nth(1)?.parse().ok());
    kib.unwrap_or(0)
}

/// Produces `n` valid orders as fast as the client batches them (not one batch per record).
fn produce_backlog(h: &Harness, n: usize) {
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", h.cluster.bootstrap_servers())
        .set("linger.ms", "20")
        .set("batch.num.messages", "2000")
        .create()
        .expect("producer");
    let key = h.key("k");
    for i in 0..n {
        let value = h.wire(&Order::valid(i as u64).encode());
        let mut rec = BaseRecord::to(&h.contract.topics.raw)
            .key(&key)
            .payload(&value);
        rec = rec.partition((i % PARTITIONS as usize) as i32);
        while let Err((_, back)) = producer.send(rec) {
            producer.poll(Duration::from_millis(5));
            rec = back;
        }
        producer.poll(Duration::ZERO);
    }
    rdkafka::producer::Producer::flush(&producer, TIMEOUT).expect("flush");
}

/// Phase 3: at least once on an external broker, RSS sampled while the gateway drains `n`.
async fn drain_backlog(n: usize, batch: usize) {
    let cluster = TestCluster::start();
    assert!(
        !cluster.is_mock(),
        "BENCH_BACKLOG needs TEST_KAFKA_BOOTSTRAP (a real broker)"
    );
    let h = Harness::new(cluster, PARTITIONS).await;
    let start = Instant::now();
    tokio::task::block_in_place(|| produce_backlog(&h, n));
    let produce = start.elapsed().as_secs_f64();
    println!("backlog: {n} records produced in {produce:.1} s; batch {batch}, at least once");
    let before = rss_kib();
    h.apply_contract(Some(&h.contract));
    let mut config = h.config(Delivery::AtLeastOnce);
    config.max_batch_records = batch;
    config.max_batch_wait = Duration::from_millis(100);
    let progress = Progress::new(&h.contract.topics.raw, n);
    let shutdown = Shutdown::new();
    let sampling = Arc::new(std::sync::atomic::AtomicBool::new(true));
    let (flag, samples) = (
        sampling.clone(),
        Arc::new(std::sync::Mutex::new(Vec::new())),
    );
    let sink = samples.clone();
    let sampler = std::thread::spawn(move || {
        let start = Instant::now();
        while flag.load(Relaxed) {
            sink.lock().unwrap().push((start.elapsed(), rss_kib()));
            std::thread::sleep(Duration::from_millis(100));
        }
    });
    let start = Instant::now();
    let g = mesh_gateway::Gateway::default().observer(progress.clone());
    let kafka = fetch_wait(h.kafka());
    let _gw = g.start(config, kafka, &shutdown).await.expect("gateway");
    let (total, steady) = progress.wait("drain", start).await;
    sampling.store(false, Relaxed);
    sampler.join().unwrap();
    shutdown.cancel();
    let samples = samples.lock().unwrap();
    let max = samples.iter().map(|s| s.1).max().unwrap_or(0);
    let mib = |k: u64| k as f64 / 1024.0;
    println!(
        "drained {n} in {:.1} s ({:.0} records/s; {:.0}/s from the first commit); RSS before \
         the gateway {:.0} MiB, max during the drain {:.0} MiB ({} samples)",
        total.as_secs_f64(),
        n as f64 / total.as_secs_f64(),
        n as f64 / steady.as_secs_f64(),
        mib(before),
        mib(max),
        samples.len()
    );
    let quarter: Vec<String> = (1..=4)
        .map(|q| samples[(samples.len() * q / 4).saturating_sub(1)])
        .map(|(t, k)| format!("{:.0} s: {:.0} MiB", t.as_secs_f64(), mib(k)))
        .collect();
    println!("RSS at quarters of the drain: {}", quarter.join(", "));
}
