//! Cost of the gateway source's pure part: folding `_mesh.progress` heartbeats into the reports
//! and the reports into one round's observations, at 10 000 partitions (docs/benchmarks.md).
//!
//! ```sh
//! cargo bench -p mesh-freshness --bench progress
//! ```
//!
//! Knobs: `BENCH_TOPICS` × `BENCH_PARTITIONS` (100 × 100), `BENCH_ROUNDS` (200).

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::hint::black_box;
use std::time::Instant;

use mesh_contract::events::{GatewayEvent, Progress};
use mesh_freshness::observe::{PartitionObservation, ProductObservation, TopicObservation};
use mesh_freshness::progress::GatewayReports;

fn env(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let topics = env("BENCH_TOPICS", 100) as usize;
    let partitions = env("BENCH_PARTITIONS", 100) as i32;
    let rounds = env("BENCH_ROUNDS", 200);
    let products: Vec<String> = (0..topics).map(|i| format!("d.p{i}")).collect();
    let total = topics as u64 * partitions as u64;

    // One heartbeat per partition per round (the gateway's rate at 1 s when every partition is
    // busy), serialised as the gateway writes them: parsing is part of the cost.
    let records: Vec<Vec<u8>> = products
        .iter()
        .flat_map(|p| {
            (0..partitions).map(move |part| {
                GatewayEvent::Progress(Progress {
                    product: p.clone(),
                    topic: format!("{p}.raw"),
                    partition: part,
                    offset: 1,
                    record_timestamp: 1,
                    emitted_at: 1,
                })
                .to_record()
            })
        })
        .collect();
    let observations: Vec<ProductObservation> = products
        .iter()
        .map(|p| ProductObservation {
            product_id: p.clone(),
            topic: TopicObservation::Partitions(
                (0..partitions)
                    .map(|part| PartitionObservation {
                        partition: part,
                        high_watermark: 10,
                        newest_ts: Some(0),
                    })
                    .collect(),
            ),
            groups: Vec::new(),
            data_loss: Vec::new(),
        })
        .collect();

    let mut reports = GatewayReports::default();
    let mut apply_s = 0.0;
    let mut merge_s = 0.0;
    for _ in 0..rounds {
        let t = Instant::now();
        for r in &records {
            reports.apply(GatewayEvent::from_record(r).expect("heartbeat"));
        }
        apply_s += t.elapsed().as_secs_f64();
        let mut obs = observations.clone();
        let t = Instant::now();
        reports.merge(&mut obs, 0);
        merge_s += t.elapsed().as_secs_f64();
        black_box(obs);
    }
    let per_hb_ns = apply_s / (rounds * total) as f64 * 1e9;
    let merge_ms = merge_s / rounds as f64 * 1e3;
    println!(
        "progress: {total} partitions, {rounds} rounds: parse+apply {per_hb_ns:.0} ns/heartbeat \
         ({:.1} ms per round of {total}), merge {merge_ms:.2} ms/round",
        per_hb_ns * total as f64 / 1e6
    );
}
