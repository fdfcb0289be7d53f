//! Load harness for the registry's Kafka `_schemas` store (issue 4's targets).
//!
//! ```sh
//! cargo bench -p mesh-registry --bench kafka_store                       # librdkafka mock
//! TEST_KAFKA_BOOTSTRAP=127.0.0.1:9092 cargo bench -p mesh-registry --bench kafka_store  # tansu
//! ```
//!
//! The broker is `TestCluster::start()`'s: the external one named by `TEST_KAFKA_BOOTSTRAP`
//! (tansu in docs/benchmarks.md), else the in-process mock cluster. Each part uses its own topic.
//!
//! 1. **Log round trip (the broker's cost, no registry logic)**: `BENCH_CLIENTS` (default 32)
//!    concurrent writers each append one registry-sized SCHEMA record through [`KafkaLog`] and
//!    wait until a tailing consumer has read it back — what every registration waits for —
//!    `BENCH_REGISTER` (default 4 000) records in all.
//! 2. **Register through the Kafka store**: the same number of distinct schemas, registered by
//!    the same number of concurrent callers through `Registry::register` over the Kafka store
//!    (decide, produce, read back, apply, answer); no HTTP (measured by the `registry` bench).
//! 3. **mesh's own share**: the same registrations over a `MemoryStore` (decide + apply, no I/O).
//! 4. **Replay of `BENCH_REPLAY` (default 100 000) records**: produced in large batches, fetched
//!    into memory first (timed separately: that is the broker's and librdkafka's cost, and
//!    tansu's in-memory engine lists every stored batch on each fetch), then decode + apply
//!    into a fresh `State` is timed on the in-memory records (median of 5). Also the end-to-end
//!    `Registry::open_kafka` (fetch + apply) on that topic, for reference.

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::sync::Arc;
use std::time::{Duration, Instant};

use mesh_kafka::testing::TestCluster;
use mesh_registry::kafka_store::KafkaLog;
use mesh_registry::model::{Record, SchemaValue};
use mesh_registry::service::{Registry, SchemaRequest};
use mesh_registry::state::State;
use mesh_registry::store::{MemoryStore, SchemaStore};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio_util::sync::CancellationToken;

type BoxError = Box<dyn std::error::Error + Send + Sync>;

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

/// A distinct Avro record schema per (ns, ix): the size of a typical registered schema.
fn schema_text(ns: &str, ix: usize) -> String {
    format!(
        r#"{{"type":"record","name":"Event{ix}","namespace":"mesh.bench.{ns}","fields":[{{"name":"id","type":"long"}},{{"name":"name","type":"string"}},{{"name":"created","type":{{"type":"long","logicalType":"timestamp-millis"}}}},{{"name":"tags","type":{{"type":"array","items":"string"}},"default":[]}}]}}"#
    )
}

fn schema_record(ns: &str, i: usize) -> Record {
    let (subject, version) = (format!("{ns}-{}-value", i / 5), (i % 5) as i32 + 1);
    Record::Schema {
        subject: subject.clone(),
        version,
        value: Some(SchemaValue {
            subject,
            version,
            id: i as i32 + 1,
            schema: schema_text(ns, i),
            deleted: false,
            schema_type: None,
            references: vec![],
            metadata: None,
            rule_set: None,
        }),
    }
}

fn rate(n: usize, d: Duration) -> String {
    format!(
        "{n} in {:.2} s = {:.0}/s",
        d.as_secs_f64(),
        n as f64 / d.as_secs_f64()
    )
}

const WRITE_TIMEOUT: Duration = Duration::from_secs(30);

/// Part 1: append + read back, no registry.
async fn log_round_trip(cluster: &TestCluster, n: usize, clients: usize) -> Result<(), BoxError> {
    let topic = TestCluster::unique_name("bench-log");
    let log = Arc::new(
        KafkaLog::open(
            &cluster.kafka_config(),
            cluster.provisioner(),
            &topic,
            WRITE_TIMEOUT,
        )
        .await?,
    );
    let (tx, rx) = tokio::sync::watch::channel(-1i64);
    let stop = CancellationToken::new();
    log.tail(stop.clone(), move |batch| {
        if let Some((o, _)) = batch.last() {
            tx.send_replace(*o);
        }
    })?;
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (log, mut rx) = (Arc::clone(&log), rx.clone());
        tasks.spawn(async move {
            let mut i = c;
            while i < n {
                let offsets = log.append(&[schema_record("log", i)]).await?;
                rx.wait_for(|&o| o >= offsets[0]).await?;
                i += clients;
            }
            Ok::<(), BoxError>(())
        });
    }
    while let Some(r) = tasks.join_next().await {
        r??;
    }
    println!(
        "log round trip (append + read back, {clients} writers): {}",
        rate(n, start.elapsed())
    );
    stop.cancel();
    Ok(())
}

async fn register_many(registry: Arc<Registry>, ns: &str, n: usize, clients: usize) -> Duration {
    let start = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for c in 0..clients {
        let (registry, ns) = (Arc::clone(&registry), ns.to_owned());
        tasks.spawn(async move {
            let mut i = c;
            while i < n {
                let req = SchemaRequest {
                    schema: Some(schema_text(&ns, i)),
                    ..SchemaRequest::default()
                };
                registry
                    .register(&format!("{ns}-{i}-value"), req, false, false)
                    .await
                    .expect("register");
                i += clients;
            }
        });
    }
    while let Some(r) = tasks.join_next().await {
        r.expect("register task");
    }
    start.elapsed()
}

/// Parts 2 and 3.
async fn register(cluster: &TestCluster, n: usize, clients: usize) -> Result<(), BoxError> {
    let topic = TestCluster::unique_name("bench-register");
    let log = KafkaLog::open(
        &cluster.kafka_config(),
        cluster.provisioner(),
        &topic,
        WRITE_TIMEOUT,
    )
    .await?;
    let stop = CancellationToken::new();
    let registry = Registry::open_kafka(log, false, stop.clone())
        .await?
        .ok_or("stopped")?;
    let took = register_many(Arc::new(registry), "kafka", n, clients).await;
    println!(
        "register through the Kafka store ({clients} callers): {}",
        rate(n, took)
    );
    stop.cancel();
    let memory = Registry::open(
        Arc::new(MemoryStore::default()) as Arc<dyn SchemaStore>,
        false,
    )?;
    let took = register_many(Arc::new(memory), "memory", n, clients).await;
    println!(
        "register over a memory store (mesh's own cost, {clients} callers): {} ({:.1} µs each)",
        rate(n, took),
        took.as_secs_f64() * 1e6 / n as f64
    );
    Ok(())
}

/// Part 4. The mock keeps only ~5 MiB per partition (fewer than 100 000 records of this size):
/// there the records are encoded in memory and only decode + apply is measured.
async fn replay(cluster: &TestCluster, n: usize) -> Result<(), BoxError> {
    if cluster.is_mock() {
        println!(
            "replay: the mock cannot hold {n} records; decode + apply only, on records encoded in memory"
        );
        let records: Vec<_> = (0..n)
            .map(|i| schema_record("replay", i).encode())
            .collect();
        return decode_and_apply(&records, n);
    }
    let topic = TestCluster::unique_name("bench-replay");
    cluster
        .create_topic(mesh_kafka::admin::TopicSpec::compacted_log(&topic))
        .await?;
    let producer: FutureProducer = cluster
        .kafka_config()
        .client_config("bench-producer")?
        .set("enable.idempotence", "true")
        .set("linger.ms", "50")
        .set("batch.size", "1000000")
        .set("batch.num.messages", "10000")
        .create()?;
    let start = Instant::now();
    let mut pending = Vec::with_capacity(n);
    for i in 0..n {
        let (key, value) = schema_record("replay", i).encode();
        let value = value.unwrap_or_default();
        let rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&topic)
            .key(key.as_slice())
            .payload(value.as_slice());
        pending.push(producer.send_result(rec).map_err(|(e, _)| e)?);
    }
    for p in pending {
        p.await?.map_err(|(e, _)| e)?;
    }
    println!("replay: produced {}", rate(n, start.elapsed()));

    // Fetch everything into memory (broker + librdkafka cost).
    let consumer: BaseConsumer = cluster
        .kafka_config()
        .client_config("bench-fetch")?
        .set("group.id", "bench-fetch")
        .set("enable.auto.commit", "false")
        .create()?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&topic, 0, Offset::Beginning)?;
    consumer.assign(&tpl)?;
    let start = Instant::now();
    let records = tokio::task::spawn_blocking(move || {
        let mut out: Vec<(Vec<u8>, Option<Vec<u8>>)> = Vec::with_capacity(n);
        let deadline = Instant::now() + Duration::from_secs(120);
        while out.len() < n {
            assert!(
                Instant::now() < deadline,
                "fetched only {} of {n}",
                out.len()
            );
            if let Some(m) = consumer.poll(Duration::from_millis(100)) {
                let m = m.expect("fetch");
                out.push((
                    m.key().unwrap_or_default().to_vec(),
                    m.payload().map(<[u8]>::to_vec),
                ));
            }
        }
        out
    })
    .await?;
    let bytes: usize = records
        .iter()
        .map(|(k, v)| k.len() + v.as_ref().map_or(0, Vec::len))
        .sum();
    println!(
        "replay: fetched into memory {} ({:.1} MiB)",
        rate(n, start.elapsed()),
        bytes as f64 / (1 << 20) as f64
    );

    decode_and_apply(&records, n)?;

    // End to end, for reference: a registry opening on the topic (fetch + decode + apply).
    let log = KafkaLog::open(
        &cluster.kafka_config(),
        cluster.provisioner(),
        &topic,
        WRITE_TIMEOUT,
    )
    .await?;
    let stop = CancellationToken::new();
    let start = Instant::now();
    let registry = Registry::open_kafka(log, false, stop.clone())
        .await?
        .ok_or("stopped")?;
    // tansu's end offset can be a lower bound (last batch's base + 1): wait for the last one.
    while registry.applied_offset() < n as i64 - 1 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    println!(
        "replay: Registry::open_kafka end to end (fetch + apply): {}",
        rate(n, start.elapsed())
    );
    stop.cancel();
    Ok(())
}

/// mesh's own replay cost: decode + apply into a fresh state, on records already in memory.
fn decode_and_apply(records: &[(Vec<u8>, Option<Vec<u8>>)], n: usize) -> Result<(), BoxError> {
    let mut times = Vec::new();
    for _ in 0..5 {
        let start = Instant::now();
        let mut state = State::default();
        for (k, v) in records {
            if let Some(r) = Record::decode(k, v.as_deref())? {
                state.apply(&r);
            }
        }
        times.push(start.elapsed());
        assert_eq!(state.schemas.len(), n);
    }
    times.sort();
    println!(
        "replay: decode + apply of {n} records (median of 5): {:.3} s (best {:.3} s, worst {:.3} s)",
        times[2].as_secs_f64(),
        times[0].as_secs_f64(),
        times[4].as_secs_f64()
    );

    Ok(())
}

fn main() -> Result<(), BoxError> {
    let n = env_num("BENCH_REGISTER", 4_000).max(1);
    let clients = env_num("BENCH_CLIENTS", 32).max(1);
    let replay_n = env_num("BENCH_REPLAY", 100_000).max(1);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let cluster = TestCluster::start();
        println!(
            "broker: {}",
            if cluster.is_mock() {
                "librdkafka mock cluster (in-process)".to_owned()
            } else {
                format!("external at {}", cluster.bootstrap_servers())
            }
        );
        log_round_trip(&cluster, n, clients).await?;
        register(&cluster, n, clients).await?;
        replay(&cluster, replay_n).await
    })
}
