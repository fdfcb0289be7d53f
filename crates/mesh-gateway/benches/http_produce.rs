//! HTTP produce load harness: batches of 100 events through `POST /api/v1/products/{p}/events`
//! on one machine (load generator, gateway, in-process registry and librdkafka's mock cluster
//! share the cores), exactly-once (one transaction per request).
//!
//! ```sh
//! cargo bench -p mesh-gateway --bench http_produce
//! ```
//!
//! Phase 1: `BENCH_CLIENTS` (default 8) closed-loop clients for `BENCH_SECONDS` (default 5):
//! max events/s. Phase 2: an open-loop pacer at half that rate: p50/p99 request latency.

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

#[path = "../tests/support/mod.rs"]
mod support;

use std::sync::Arc;
use std::time::{Duration, Instant};

use mesh_gateway::{Delivery, GatewayConfig};
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use serde_json::{Value, json};
use support::*;

const BATCH: usize = 100;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn batch_body(schema: &mesh_schema::avro::AvroSchema, base: u64) -> Vec<u8> {
    let events: Vec<Value> = (0..BATCH as u64)
        .map(|i| {
            let n = base + i;
            json!({"key": format!("o-{n}"), "value": schema.decode(&Order::valid(n).encode()).unwrap()})
        })
        .collect();
    serde_json::to_vec(&events).unwrap()
}

async fn post(http: &reqwest::Client, url: &str, body: Vec<u8>) -> Duration {
    let t = Instant::now();
    let r = http
        .post(url)
        .bearer_auth("bench-token")
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .expect("request");
    let status = r.status();
    let text = r.text().await.unwrap_or_default();
    assert!(status.is_success(), "{status}: {text}");
    t.elapsed()
}

fn pct(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1]
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
    let seconds = env("BENCH_SECONDS", 5);
    let clients = env("BENCH_CLIENTS", 8) as usize;
    let h = Harness::new(TestCluster::transactional(), 3).await;
    let dir = tempfile::tempdir().unwrap();
    let domains = dir.path().join("domains.yaml");
    std::fs::write(
        &domains,
        "domains:\n  orders:\n    owners: [o@example.com]\n    principals: [\"User:bench\"]\n    topicPrefix: orders.\n",
    )
    .unwrap();
    let shutdown = Shutdown::new();
    h.apply_contract(Some(&h.contract));
    let config = GatewayConfig {
        tokens: [("bench-token".to_owned(), "User:bench".to_owned())].into(),
        domains_file: Some(domains),
        ..h.config(Delivery::ExactlyOnce)
    };
    let gw = h.start(config, None, &shutdown).await;
    wait_for("contract", Duration::from_secs(20), || {
        !gw.contracts.raw_topics().is_empty()
    })
    .await;
    let url = Arc::new(format!(
        "http://{}/api/v1/products/{}/events",
        gw.addr, h.contract.product_id
    ));
    let schema = Arc::new(mesh_schema::avro::AvroSchema::parse(&order_schema()).unwrap());
    let bodies: Arc<Vec<Vec<u8>>> =
        Arc::new((0..64).map(|i| batch_body(&schema, i * 1000)).collect());
    let http = reqwest::Client::new();
    // Warm-up (registry lookups, producer init_transactions, connections).
    for b in bodies.iter().take(4) {
        post(&http, &url, b.clone()).await;
    }

    // Phase 1: closed loop.
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let start = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, url, bodies) = (http.clone(), Arc::clone(&url), Arc::clone(&bodies));
        tasks.push(tokio::spawn(async move {
            let mut n = 0usize;
            while Instant::now() < deadline {
                post(
                    &http,
                    &url,
                    bodies[(c + n * clients) % bodies.len()].clone(),
                )
                .await;
                n += 1;
            }
            n
        }));
    }
    let mut requests = 0;
    for t in tasks {
        requests += t.await.unwrap();
    }
    let rate = (requests * BATCH) as f64 / start.elapsed().as_secs_f64();
    println!(
        "http_produce max: {clients} clients, batches of {BATCH}: {rate:.0} events/s ({requests} requests)"
    );

    // Phase 2: open loop at half the rate.
    let per_sec = (rate / 2.0 / BATCH as f64).max(1.0);
    let interval = Duration::from_secs_f64(1.0 / per_sec);
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let mut tasks = Vec::new();
    let mut i = 0;
    while Instant::now() < deadline {
        tick.tick().await;
        let (http, url, body) = (
            http.clone(),
            Arc::clone(&url),
            bodies[i % bodies.len()].clone(),
        );
        tasks.push(tokio::spawn(async move { post(&http, &url, body).await }));
        i += 1;
    }
    let mut lat = Vec::with_capacity(tasks.len());
    for t in tasks {
        lat.push(t.await.unwrap());
    }
    lat.sort();
    println!(
        "http_produce at {:.0} events/s ({} requests): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        per_sec * BATCH as f64,
        lat.len(),
        pct(&lat, 0.50).as_secs_f64() * 1e3,
        pct(&lat, 0.99).as_secs_f64() * 1e3,
        lat.last().unwrap().as_secs_f64() * 1e3,
    );
    shutdown.cancel();
}
