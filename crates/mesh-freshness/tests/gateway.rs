//! The gateway as an observation source (`_mesh.progress`), on the test broker with a manual
//! clock: heartbeats alone keep a product fresh, their absence makes it stale, and a data-loss
//! report raises the data-loss alert.

mod common;

use std::time::Duration;

use common::*;
use mesh_contract::events::{DataLoss, GatewayEvent, Progress};
use mesh_freshness::alerts::AlertState;
use mesh_freshness::clock::ManualClock;
use mesh_freshness::model::{AlertKind, Severity, Status};
use mesh_freshness::monitor::AlertEvent;
use mesh_freshness::service::Engine;
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use rdkafka::producer::{FutureProducer, FutureRecord};

async fn publish(p: &FutureProducer, topic: &str, e: &GatewayEvent) {
    p.send(
        FutureRecord::to(topic)
            .key(&e.key())
            .payload(&e.to_record()),
        Duration::from_secs(10),
    )
    .await
    .expect("progress record");
}

fn heartbeat(product: &str, partition: i32, offset: i64, ts: i64, now: i64) -> GatewayEvent {
    GatewayEvent::Progress(Progress {
        product: product.to_owned(),
        topic: format!("{product}.raw"),
        partition,
        offset,
        record_timestamp: ts,
        emitted_at: now,
    })
}

/// Ticks (no alert may change) until the product's partition 0 shows `age_ms`.
async fn until_age(engine: &mut Engine, product: &str, age_ms: i64) {
    for _ in 0..50 {
        let events = engine.tick().await.unwrap();
        assert!(events.is_empty(), "{events:#?}");
        let age = engine
            .shared()
            .monitor()
            .view(product)
            .and_then(|v| v.partitions.first().and_then(|p| p.age_ms));
        if age == Some(age_ms) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{product} never reached age {age_ms} ms");
}

/// Ticks until some alert transition arrives.
async fn until_events(engine: &mut Engine) -> Vec<AlertEvent> {
    for _ in 0..50 {
        let events = engine.tick().await.unwrap();
        if !events.is_empty() {
            return events;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no alert transition");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn heartbeats_keep_a_product_fresh_and_their_absence_makes_it_stale() {
    let cluster = TestCluster::start();
    let shutdown = Shutdown::new();
    let progress = cluster.unique_topic("progress", 1).await;
    // The validated topic exists but never receives a record: only heartbeats can say anything.
    let (contracts, alerts, validated, c) = product(&cluster, 10_000, 30_000, 0).await;
    let clock = ManualClock::new(T0 + 1_000);
    let mut cfg = config(&contracts, &alerts, None);
    cfg.progress_topic = progress.clone();
    let mut engine = engine(&cluster, cfg, &clock, &shutdown);
    let p = producer(&cluster);

    publish(
        &p,
        &progress,
        &heartbeat(&c.product_id, 0, 10, T0 + 500, T0 + 600),
    )
    .await;
    until_age(&mut engine, &c.product_id, 500).await;
    {
        let m = engine.shared();
        let m = m.monitor();
        let v = m.view(&c.product_id).unwrap();
        assert_eq!(v.status, Status::Fresh);
        assert_eq!(
            v.partitions[0].high_watermark, 0,
            "nothing was read from {validated}"
        );
    }

    // Heartbeats arriving within the warn threshold of each other keep it fresh well past
    // the threshold counted from the first one (each step is read before the clock moves on).
    for (step, now) in [T0 + 9_000, T0 + 17_000].into_iter().enumerate() {
        clock.set(now);
        let ts = now - 100;
        let hb = heartbeat(&c.product_id, 0, 20 + step as i64, ts, now - 50);
        publish(&p, &progress, &hb).await;
        until_age(&mut engine, &c.product_id, 100).await;
    }
    assert_eq!(
        engine
            .shared()
            .monitor()
            .view(&c.product_id)
            .unwrap()
            .status,
        Status::Fresh
    );

    // The gateway stops: the last heartbeat ages like a record and the SLA is breached.
    clock.set(T0 + 16_900 + 10_001);
    let ev = until_events(&mut engine).await;
    assert_eq!(ev.len(), 1, "{ev:#?}");
    assert_eq!(ev[0].transition.key.kind, AlertKind::Freshness);
    assert_eq!(ev[0].transition.state, AlertState::Firing);
    assert_eq!(ev[0].transition.severity, Severity::Warning);
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_loss_report_fires_the_data_loss_alert_with_its_offsets() {
    let cluster = TestCluster::start();
    let shutdown = Shutdown::new();
    let progress = cluster.unique_topic("progress", 1).await;
    // Thresholds far away: only the data loss may alert.
    let (contracts, alerts, _, c) = product(&cluster, 600_000, 1_200_000, 0).await;
    let clock = ManualClock::new(T0 + 1_000);
    let mut cfg = config(&contracts, &alerts, None);
    cfg.progress_topic = progress.clone();
    cfg.data_loss_hold = Duration::from_secs(60);
    let mut engine = engine(&cluster, cfg, &clock, &shutdown);
    let p = producer(&cluster);
    publish(
        &p,
        &progress,
        &heartbeat(&c.product_id, 0, 10, T0 + 900, T0 + 900),
    )
    .await;
    until_age(&mut engine, &c.product_id, 100).await;

    let raw = format!("{}.raw", c.product_id);
    let loss = GatewayEvent::DataLoss(DataLoss {
        product: c.product_id.clone(),
        topic: raw.clone(),
        partition: 0,
        from_offset: 100,
        to_offset: 149,
        emitted_at: T0 + 1_000,
    });
    publish(&p, &progress, &loss).await;
    let ev = until_events(&mut engine).await;
    assert_eq!(ev.len(), 1, "{ev:#?}");
    assert_eq!(ev[0].transition.key.kind, AlertKind::DataLoss);
    assert_eq!(ev[0].transition.severity, Severity::Critical);
    assert_eq!(ev[0].labels["alertname"], "MeshDataLoss");
    assert!(
        ev[0]
            .description
            .contains(&format!("offsets 100-149 of {raw}[0] (50 records)")),
        "{}",
        ev[0].description
    );

    // Held for `data_loss_hold`, then resolved (after `resolve_after`).
    clock.set(T0 + 30_000);
    assert!(engine.tick().await.unwrap().is_empty());
    clock.set(T0 + 62_000);
    assert!(
        engine.tick().await.unwrap().is_empty(),
        "resolve_after not yet"
    );
    clock.set(T0 + 63_500);
    let ev = engine.tick().await.unwrap();
    assert!(
        ev.iter()
            .any(|e| e.transition.key.kind == AlertKind::DataLoss
                && e.transition.state == AlertState::Resolved),
        "{ev:#?}"
    );
    shutdown.cancel();
}
