//! Load harness for the lineage collector against issue 8's targets.
//!
//! ```sh
//! cargo bench -p mesh-lineage --bench lineage
//! ```
//!
//! 1. Graph: `BENCH_DATASETS` (100 000) datasets and `BENCH_JOBS` (50 000) STREAMING jobs in 10
//!    layers (job j writes datasets 2j and 2j+1 and reads 2 random datasets of the layer
//!    before), built by applying one validated RunEvent per job. Reports apply rate and the RSS
//!    the graph adds (VmRSS before/after, events dropped).
//! 2. Queries on that graph, `BENCH_QUERIES` (2 000) random datasets of the middle layers:
//!    depth 5 upstream and downstream walks (what `mesh lineage show` asks), and Marquez's
//!    `/lineage` (both ways, siblings included) walked *and* rendered to its JSON shape; p50/p99.
//! 3. Validation: `event::parse` rate on the events above (bytes → typed event).
//! 4. Kafka ingest: `BENCH_KAFKA_EVENTS` (150 000) events produced to a 32-partition mock topic, then
//!    a collector's replay timed from start to all applied (also the restart time at that size).
//! 5. HTTP batch ingest: `BENCH_HTTP_EVENTS` (100 000) events POSTed to `/api/v1/lineage/batch`
//!    in batches of `BENCH_BATCH` (500) by `BENCH_CLIENTS` (4) concurrent clients; time until all
//!    are acknowledged (appended to the topic), and until all are in the graph.
//!
//! Client, broker (in-process mock) and collector share the machine's cores.

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use mesh_kafka::testing::TestCluster;
use mesh_lineage::event;
use mesh_lineage::graph::{Direction, Graph, NodeId};
use mesh_lineage::identity::Namespaces;
use mesh_lineage::{LineageConfig, views};
use mesh_runtime::Shutdown;
use serde_json::{Value, json};

/// Partitions of the bench topics (the mock keeps at most 5 MiB per partition).
const PARTITIONS: i32 = 32;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// Job `j`'s event in a layered graph of `datasets` datasets.
fn job_event(j: usize, datasets: usize, rng: &mut Rng) -> Value {
    let layer = datasets / 10;
    let outs = [(2 * j) % datasets, (2 * j + 1) % datasets];
    let l = outs[0] / layer;
    let ins: Vec<usize> = if l == 0 {
        Vec::new()
    } else {
        (0..2).map(|_| (l - 1) * layer + rng.below(layer)).collect()
    };
    let ds = |d: &usize| json!({"namespace": "kafka://broker-1:9092", "name": format!("domain{}.topic{d}", d % 40)});
    json!({
        "eventType": "RUNNING",
        "eventTime": "2026-01-01T00:00:00Z",
        "producer": "https://example.invalid/bench",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": format!("0190c6d2-0000-7000-8000-{j:012x}")},
        "job": {"namespace": format!("domain{}", j % 40), "name": format!("job{j}"), "facets": {
            "jobType": {"_producer": "https://example.invalid/bench",
                        "_schemaURL": "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json",
                        "processingType": "STREAMING", "integration": "KAFKA"}}},
        "inputs": ins.iter().map(ds).collect::<Vec<_>>(),
        "outputs": outs.iter().map(ds).collect::<Vec<_>>(),
    })
}

fn percentiles(mut v: Vec<Duration>) -> String {
    v.sort_unstable();
    let p = |q: f64| v[((v.len() as f64 * q) as usize).min(v.len() - 1)];
    format!(
        "p50 {:.3} ms, p99 {:.3} ms, max {:.3} ms",
        p(0.50).as_secs_f64() * 1e3,
        p(0.99).as_secs_f64() * 1e3,
        v[v.len() - 1].as_secs_f64() * 1e3
    )
}

fn main() {
    let datasets = env("BENCH_DATASETS", 100_000);
    let jobs = env("BENCH_JOBS", 50_000);
    let queries = env("BENCH_QUERIES", 2_000);
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    // 1. Graph.
    let events: Vec<Vec<u8>> = (0..jobs)
        .map(|j| serde_json::to_vec(&job_event(j, datasets, &mut rng)).unwrap())
        .collect();
    let t = Instant::now();
    for e in &events {
        std::hint::black_box(serde_json::from_slice::<Value>(e).unwrap());
    }
    let json_rate = events.len() as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let parsed: Vec<event::Event> = events.iter().map(|e| event::parse(e).unwrap()).collect();
    let parse_rate = events.len() as f64 / t.elapsed().as_secs_f64();
    let clusters = BTreeMap::from([("prod".to_owned(), vec!["broker-1:9092".to_owned()])]);
    let rss_before = rss_kib();
    let mut g = Graph::new(Namespaces::new(&clusters));
    let t = Instant::now();
    for e in &parsed {
        g.apply(e);
    }
    let apply = t.elapsed();
    drop(parsed);
    let rss_after = rss_kib();
    println!(
        "graph: {} datasets, {} jobs, {} edges, {} runs; applied {} events in {:.2} s ({:.0} events/s); RSS +{} MiB (process {} MiB)",
        g.datasets.len(),
        g.jobs.len(),
        g.edge_count(),
        g.runs.len(),
        jobs,
        apply.as_secs_f64(),
        jobs as f64 / apply.as_secs_f64(),
        rss_after.saturating_sub(rss_before) / 1024,
        rss_after / 1024
    );
    println!(
        "validation: event::parse {parse_rate:.0} events/s (JSON parsing alone: {json_rate:.0}/s)"
    );

    // 2. Queries: start in the middle layers (4..6), so both directions have depth to walk.
    let layer = datasets / 10;
    let starts: Vec<u32> = (0..queries)
        .map(|_| {
            let d = 4 * layer + rng.below(2 * layer);
            g.dataset_id("kafka://prod", &format!("domain{}.topic{d}", d % 40))
                .unwrap()
        })
        .collect();
    for (what, dir) in [
        ("upstream depth 5", Direction::Upstream),
        ("downstream depth 5", Direction::Downstream),
        ("marquez /lineage depth 5 (walk only)", Direction::Both),
    ] {
        let mut times = Vec::with_capacity(queries);
        let mut nodes = 0;
        for s in &starts {
            let t = Instant::now();
            nodes += g.walk(NodeId::Dataset(*s), dir, 5).len();
            times.push(t.elapsed());
        }
        println!(
            "query {what}: {} (mean {} nodes)",
            percentiles(times),
            nodes / queries
        );
    }
    for depth in [2u32, 5] {
        let mut times = Vec::with_capacity(queries);
        let mut bytes = 0;
        for s in starts.iter().take(queries / 4) {
            let t = Instant::now();
            let nodes = g.walk(NodeId::Dataset(*s), Direction::Both, depth);
            let set: std::collections::HashSet<NodeId> = nodes.iter().copied().collect();
            let graph: Vec<views::GraphNode<'_>> = nodes
                .iter()
                .map(|n| views::graph_node(&g, *n, &|x| set.contains(&x)))
                .collect();
            bytes += serde_json::to_vec(&views::LineageGraph { graph })
                .unwrap()
                .len();
            times.push(t.elapsed());
        }
        println!(
            "query marquez /lineage depth {depth} (walk + JSON response): {} (mean {} KiB)",
            percentiles(times),
            bytes / (queries / 4) / 1024
        );
    }
    drop(g);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(kafka_and_http(datasets, &mut rng));
}

async fn kafka_and_http(datasets: usize, rng: &mut Rng) {
    let cluster = TestCluster::mock();

    // 4. Kafka ingest / replay (= restart time for this many events).
    let n = env("BENCH_KAFKA_EVENTS", 150_000);
    // The mock keeps ≤ 5 MiB per partition (older batches are dropped): spread the load.
    let topic = cluster.unique_topic("lineage-bench", PARTITIONS).await;
    let records: Vec<(Option<Vec<u8>>, Vec<u8>)> = (0..n)
        .map(|j| {
            let e = job_event(j % 50_000, datasets, rng);
            let key = format!("run:{}/{}", e["job"]["namespace"], e["job"]["name"]);
            (Some(key.into_bytes()), serde_json::to_vec(&e).unwrap())
        })
        .collect();
    cluster.produce(&topic, records).await;
    let stats = Arc::new(mesh_lineage::log::LogStats::default());
    let graph = Arc::new(RwLock::new(Graph::new(Namespaces::default())));
    let readiness = mesh_runtime::Readiness::new("bench");
    let shutdown = Shutdown::new();
    let t = Instant::now();
    let kafka = cluster.kafka_config();
    let cache_dir = tempfile::tempdir().unwrap();
    let cache = mesh_lineage::snapshot::Cache {
        dir: cache_dir.path().to_path_buf(),
        clusters: "bench".into(),
        interval: Duration::from_secs(3600),
    };
    let handle = mesh_lineage::log::spawn_replay(
        &kafka,
        &topic,
        graph.clone(),
        stats.clone(),
        readiness.component("replay"),
        Some(cache.clone()),
        &shutdown,
    )
    .unwrap();
    let started = t.elapsed();
    while stats.applied.load(Ordering::Relaxed) < n as u64 {
        assert!(
            t.elapsed() < Duration::from_secs(300),
            "replay stalled at {} of {n}",
            stats.applied.load(Ordering::Relaxed)
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let el = t.elapsed();
    println!(
        "kafka ingest: {n} events replayed into the graph in {:.2} s ({:.0} events/s; {:.0} events/s after the {:.2} s start-up: metadata, watermarks, assign), ready: {}",
        el.as_secs_f64(),
        n as f64 / el.as_secs_f64(),
        n as f64 / (el - started).as_secs_f64(),
        started.as_secs_f64(),
        readiness.is_ready()
    );
    // The replay wrote a snapshot at catch-up; stopping waits for it.
    let t = Instant::now();
    shutdown.cancel();
    let _ = handle.join();
    let size = std::fs::metadata(cache.path())
        .map(|m| m.len())
        .unwrap_or(0);
    println!(
        "snapshot: {} MiB written at catch-up (stop waited {:.2} s)",
        size / (1024 * 1024),
        t.elapsed().as_secs_f64()
    );
    // Restart from the snapshot: time to ready with the same graph.
    let graph = Arc::new(RwLock::new(Graph::new(Namespaces::default())));
    let readiness = mesh_runtime::Readiness::new("bench-restart");
    let shutdown = Shutdown::new();
    let t = Instant::now();
    let handle = mesh_lineage::log::spawn_replay(
        &kafka,
        &topic,
        graph.clone(),
        Arc::new(mesh_lineage::log::LogStats::default()),
        readiness.component("replay"),
        Some(cache),
        &shutdown,
    )
    .unwrap();
    while !readiness.is_ready() {
        assert!(t.elapsed() < Duration::from_secs(300), "restart stalled");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let el = t.elapsed();
    let (d, j) = {
        let g = graph.read().unwrap();
        (g.datasets.len(), g.jobs.len())
    };
    println!(
        "restart from snapshot: ready in {:.2} s with {d} datasets and {j} jobs (vs the full replay above)",
        el.as_secs_f64()
    );
    shutdown.cancel();
    let _ = handle.join();

    // 5. HTTP batch ingest.
    let n = env("BENCH_HTTP_EVENTS", 100_000);
    let batch = env("BENCH_BATCH", 500);
    let clients = env("BENCH_CLIENTS", 4);
    let topic = cluster.unique_topic("lineage-bench-http", PARTITIONS).await;
    let mut config = LineageConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        topic,
        ..LineageConfig::default()
    };
    config.observers.consumer_groups = false;
    let shutdown = Shutdown::new();
    let running = mesh_lineage::start(config, &kafka, &shutdown)
        .await
        .unwrap();
    let url = format!("http://{}/api/v1/lineage/batch", running.addr);
    let bodies: Vec<Vec<u8>> = (0..n / batch)
        .map(|b| {
            let events: Vec<Value> = (0..batch)
                .map(|i| job_event((b * batch + i) % 50_000, datasets, rng))
                .collect();
            serde_json::to_vec(&events).unwrap()
        })
        .collect();
    let bodies = Arc::new(bodies);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (bodies, url) = (bodies.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for body in bodies.iter().skip(c).step_by(clients) {
                let r = http
                    .post(&url)
                    .header("content-type", "application/json")
                    .body(body.clone())
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), 200);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let acked = t.elapsed();
    let sent = (n / batch * batch) as u64;
    let stats_url = format!("http://{}/api/v1/mesh/stats", running.addr);
    loop {
        let s: Value = reqwest::get(&stats_url)
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        if s["eventsApplied"].as_u64() >= Some(sent) {
            break;
        }
        assert!(t.elapsed() < Duration::from_secs(300), "graph stalled: {s}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let applied = t.elapsed();
    println!(
        "http batch ingest: {sent} events in batches of {batch}, {clients} clients: acknowledged in {:.2} s ({:.0} events/s), in the graph after {:.2} s ({:.0} events/s)",
        acked.as_secs_f64(),
        sent as f64 / acked.as_secs_f64(),
        applied.as_secs_f64(),
        sent as f64 / applied.as_secs_f64()
    );
    shutdown.cancel();
    let _ = running.join().await;
}
