//! Freshness monitor benchmarks on librdkafka's in-process mock cluster.
//!
//! ```sh
//! cargo bench -p mesh-freshness --bench freshness
//! ```
//!
//! 1. **Detection delay**: `BENCH_PRODUCTS` products (default 100), one topic each, each gets
//!    one record and then stops, at start times spread uniformly over 5 s. Their warn threshold
//!    is 2 s, so each SLA is exceeded at a known instant (record timestamp + 2 s). The engine
//!    runs on the wall clock with `check_interval` = `BENCH_INTERVAL_MS` (default 500, then 200);
//!    the delay is wall time when the firing event leaves a round − that instant.
//! 2. **CPU while watching many partitions**: `BENCH_TOPICS` × `BENCH_PARTITIONS` (default
//!    100 × 100 = 10 000) partitions, one record in each, 1 % of them getting a new record per
//!    second. Process CPU (utime + stime from /proc/self/stat) is measured over
//!    `BENCH_SECONDS` (default 20) with the monitor running every `BENCH_CPU_INTERVAL_MS`
//!    (default 1000), and over the same
//!    time without it; the difference is the monitor's share (the mock broker runs in-process
//!    and answers both).

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mesh_contract::ResolvedContract;
use mesh_contract::model::Freshness;
use mesh_freshness::FreshnessConfig;
use mesh_freshness::alerts::AlertState;
use mesh_freshness::clock::SystemClock;
use mesh_freshness::model::AlertKind;
use mesh_freshness::service::Engine;
use mesh_kafka::admin::TopicSpec;
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

/// Process CPU seconds (user + system); Linux clock ticks are 100 Hz.
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let after = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or("");
    let f: Vec<&str> = after.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of stat; after the `)` they are at 11 and 12.
    (ticks(11) + ticks(12)) / 100.0
}

fn contract(product: &str, topic: &str, warn_ms: u64) -> ResolvedContract {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/examples/orders");
    let text = std::fs::read_to_string(dir.join("order-placed.odcs.yaml")).unwrap();
    let files = mesh_contract::MemoryFiles(
        [(
            "order-placed.avsc".to_owned(),
            std::fs::read_to_string(dir.join("order-placed.avsc")).unwrap(),
        )]
        .into_iter()
        .collect(),
    );
    let mut c = mesh_contract::load_contract("c.yaml", &text, &files)
        .contract
        .unwrap();
    c.product_id = product.to_owned();
    c.topics.validated = topic.to_owned();
    c.sla.freshness = Some(Freshness {
        objective_ms: warn_ms,
        warn_ms,
        critical_ms: warn_ms * 10,
        for_ms: 0,
        active_hours: None,
        allowed_idle_ms: None,
        element: None,
    });
    c
}

fn producer(cluster: &TestCluster) -> ThreadedProducer<DefaultProducerContext> {
    rdkafka::ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("linger.ms", "5")
        .create()
        .unwrap()
}

fn send(p: &ThreadedProducer<DefaultProducerContext>, topic: &str, partition: i32, ts: i64) {
    let mut rec = BaseRecord::<str, str>::to(topic)
        .partition(partition)
        .key("k")
        .payload("v")
        .timestamp(ts);
    loop {
        match p.send(rec) {
            Ok(()) => return,
            Err((_, r)) => {
                rec = r;
                std::thread::sleep(Duration::from_millis(1));
            }
        }
    }
}

async fn setup(
    cluster: &TestCluster,
    contracts: &[ResolvedContract],
    interval_ms: u64,
    shutdown: &Shutdown,
) -> Engine {
    let ct = cluster.unique_topic("contracts", 1).await;
    let alerts = cluster.unique_topic("alerts", 1).await;
    let p = producer(cluster);
    for c in contracts {
        let key = c.record_key();
        let value = c.to_record();
        let rec = BaseRecord::<str, [u8]>::to(&ct).key(&key).payload(&value);
        p.send(rec).map_err(|(e, _)| e).unwrap();
    }
    p.flush(Duration::from_secs(30)).unwrap();
    let config = FreshnessConfig {
        contracts_topic: ct,
        alerts_topic: alerts,
        check_interval: Duration::from_millis(interval_ms),
        discover_groups: false,
        request_timeout: Duration::from_secs(30),
        ..FreshnessConfig::default()
    };
    Engine::new(
        config,
        &cluster.kafka_config(),
        Arc::new(SystemClock),
        "http://bench".into(),
        shutdown,
    )
    .unwrap()
}

async fn detection_delay(cluster: &TestCluster, products: usize, interval_ms: u64) {
    let shutdown = Shutdown::new();
    let warn_ms = 2_000;
    let mut contracts = Vec::new();
    for i in 0..products {
        let topic = cluster.unique_topic(&format!("delay-{i}"), 1).await;
        contracts.push(contract(&format!("bench.p{i}"), &topic, warn_ms));
    }
    let mut engine = setup(cluster, &contracts, interval_ms, &shutdown).await;
    let p = producer(cluster);
    // Spread the stops over 5 s so they fall at every phase of the check interval.
    let start = now_ms() + 200;
    let mut breach = Vec::new();
    for i in 0..contracts.len() {
        let ts = start + (i as i64 * 5_000) / products as i64;
        breach.push(ts + warn_ms as i64);
    }
    let (topics, stamps): (Vec<String>, Vec<i64>) = contracts
        .iter()
        .zip(&breach)
        .map(|(c, b)| (c.topics.validated.clone(), b - warn_ms as i64))
        .unzip();
    let writer = std::thread::spawn(move || {
        for (t, ts) in topics.iter().zip(stamps) {
            let wait = ts - now_ms();
            if wait > 0 {
                std::thread::sleep(Duration::from_millis(wait as u64));
            }
            send(&p, t, 0, ts);
        }
        p.flush(Duration::from_secs(5)).unwrap();
    });
    let mut delays = vec![None; products];
    let mut ticker = tokio::time::interval(Duration::from_millis(interval_ms));
    let deadline = Instant::now() + Duration::from_secs(20);
    while delays.iter().any(Option::is_none) && Instant::now() < deadline {
        ticker.tick().await;
        let events = engine.tick().await.unwrap();
        let at = now_ms();
        for e in events {
            let t = &e.transition;
            if t.key.kind == AlertKind::Freshness && t.state == AlertState::Firing {
                let i: usize = t
                    .key
                    .product_id
                    .trim_start_matches("bench.p")
                    .parse()
                    .unwrap();
                delays[i].get_or_insert(at - breach[i]);
            }
        }
    }
    writer.join().unwrap();
    let mut d: Vec<i64> = delays.into_iter().flatten().collect();
    d.sort_unstable();
    let pct = |q: f64| d[((d.len() as f64 - 1.0) * q).round() as usize];
    println!(
        "detection delay, check_interval {interval_ms} ms, {} stops: min {} ms, p50 {} ms, p99 {} ms, max {} ms{}",
        d.len(),
        d[0],
        pct(0.5),
        pct(0.99),
        d[d.len() - 1],
        if d.len() < products {
            " (some never fired!)"
        } else {
            ""
        }
    );
    shutdown.cancel();
}

async fn cpu(cluster: &TestCluster, topics: usize, partitions: i32, seconds: u64) {
    let shutdown = Shutdown::new();
    let mut contracts = Vec::new();
    let p = producer(cluster);
    let now = now_ms();
    for i in 0..topics {
        let name = TestCluster::unique_name(&format!("cpu-{i}"));
        cluster
            .create_topic(TopicSpec::new(&name, partitions))
            .await
            .unwrap();
        for part in 0..partitions {
            send(&p, &name, part, now);
        }
        contracts.push(contract(&format!("bench.cpu{i}"), &name, 3_600_000));
    }
    p.flush(Duration::from_secs(60)).unwrap();
    let total = topics * partitions as usize;
    let interval_ms = env("BENCH_CPU_INTERVAL_MS", 1_000);
    let mut engine = setup(cluster, &contracts, interval_ms, &shutdown).await;
    let t = Instant::now();
    engine.tick().await.unwrap();
    println!(
        "first round over {total} partitions (reads every newest record): {:.2} s",
        t.elapsed().as_secs_f64()
    );
    // Background load: 1 % of partitions get a record per second.
    let names: Vec<String> = contracts
        .iter()
        .map(|c| c.topics.validated.clone())
        .collect();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || {
            let mut n = 0usize;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                for _ in 0..(total / 100).max(1) {
                    n = n
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let topic = &names[(n >> 33) % names.len()];
                    send(
                        &p,
                        topic,
                        ((n >> 17) % partitions as usize) as i32,
                        now_ms(),
                    );
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        })
    };
    let measure = |label: &'static str| {
        let cpu0 = cpu_seconds();
        let t0 = Instant::now();
        move |rounds: u32, round_secs: f64| {
            let wall = t0.elapsed().as_secs_f64();
            let used = cpu_seconds() - cpu0;
            println!(
                "{label}: {:.1} % of one core over {wall:.0} s ({rounds} rounds, mean round {:.1} ms)",
                100.0 * used / wall,
                1000.0 * round_secs / f64::from(rounds.max(1))
            );
            used / wall
        }
    };
    let idle = measure("baseline (mock broker + load, no monitor)");
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let base = idle(0, 0.0);
    let busy = measure("with the monitor");
    println!("check interval {interval_ms} ms");
    let mut ticker = tokio::time::interval(Duration::from_millis(interval_ms));
    let (mut rounds, mut round_secs) = (0u32, 0.0);
    let end = Instant::now() + Duration::from_secs(seconds);
    while Instant::now() < end {
        ticker.tick().await;
        let t = Instant::now();
        engine.tick().await.unwrap();
        round_secs += t.elapsed().as_secs_f64();
        rounds += 1;
    }
    let with = busy(rounds, round_secs);
    println!(
        "monitor's share watching {total} partitions: {:.1} % of one core",
        100.0 * (with - base)
    );
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    writer.join().unwrap();
    shutdown.cancel();
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let cluster = TestCluster::mock();
        let products = env("BENCH_PRODUCTS", 100) as usize;
        match std::env::var("BENCH_INTERVAL_MS")
            .ok()
            .and_then(|v| v.parse().ok())
        {
            Some(i) => detection_delay(&cluster, products, i).await,
            None => {
                detection_delay(&cluster, products, 500).await;
                detection_delay(&cluster, products, 200).await;
            }
        }
        cpu(
            &cluster,
            env("BENCH_TOPICS", 100) as usize,
            env("BENCH_PARTITIONS", 100) as i32,
            env("BENCH_SECONDS", 20),
        )
        .await;
    });
}
