//! Schema cache liveness refresh: how long one refresh pass over `BENCH_IDS` cached ids takes
//! against the in-process registry (sequential `GET /schemas/ids/{id}/versions`), and what a
//! cache hit costs on the per-record path while passes run back to back vs with none running.
//!
//! ```sh
//! cargo bench -p mesh-gateway --bench schema_refresh
//! ```

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

#[path = "../tests/support/mod.rs"]
mod support;

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mesh_gateway::registry::{RegistryClient, SchemaLookup};
use support::*;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Lookups per second from one thread over `ids`, for `secs`.
fn hits(client: &RegistryClient, ids: &[u32], secs: f64) -> f64 {
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed().as_secs_f64() < secs {
        for id in ids {
            let e = client.schema(*id).expect("lookup").expect("known id");
            std::hint::black_box(e);
        }
        n += ids.len() as u64;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let ids_wanted = env("BENCH_IDS", 500);
    let secs = env("BENCH_SECONDS", 2) as f64;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .expect("runtime");
    let (url, _shutdown) = rt.block_on(start_registry(SocketAddr::from(([127, 0, 0, 1], 0)), None));
    let ids: Vec<u32> = rt.block_on(async {
        let mut ids = Vec::new();
        for i in 0..ids_wanted {
            let schema = format!(
                r#"{{"type":"record","name":"R{i}","fields":[{{"name":"f{i}","type":"long"}}]}}"#
            );
            ids.push(register(&url, &format!("bench-{i}-value"), &schema, Some(1)).await);
        }
        ids
    });
    let client = Arc::new(
        RegistryClient::new(&url, Duration::from_secs(5), rt.handle().clone()).expect("client"),
    );
    // Fill the cache (misses block this thread on the runtime, as on a pipeline thread).
    for id in &ids {
        client.schema(*id).expect("lookup").expect("known id");
    }

    let passes = 5;
    let start = Instant::now();
    for _ in 0..passes {
        let changed = rt.block_on(client.refresh()).expect("refresh");
        assert_eq!(changed, 0);
    }
    let pass = start.elapsed() / passes;
    println!(
        "refresh pass: {} cached ids in {:.1} ms ({:.0} µs per id)",
        ids.len(),
        pass.as_secs_f64() * 1e3,
        pass.as_secs_f64() * 1e6 / ids.len() as f64
    );

    let idle = hits(&client, &ids, secs);
    let running = Arc::new(AtomicBool::new(true));
    let (c, r) = (Arc::clone(&client), Arc::clone(&running));
    let refresher = rt.spawn(async move {
        let mut n = 0u64;
        while r.load(Ordering::Relaxed) {
            c.refresh().await.expect("refresh");
            n += 1;
        }
        n
    });
    let busy = hits(&client, &ids, secs);
    running.store(false, Ordering::Relaxed);
    let passes_during = rt.block_on(refresher).expect("refresher");
    println!(
        "cache hits, one thread: {:.1} M/s idle ({:.0} ns each), {:.1} M/s during {} back-to-back refresh passes ({:.0} ns each)",
        idle / 1e6,
        1e9 / idle,
        busy / 1e6,
        passes_during,
        1e9 / busy
    );
}
