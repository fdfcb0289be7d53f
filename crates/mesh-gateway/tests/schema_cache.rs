//! The schema cache follows liveness: a subject version soft-deleted in the registry stops
//! validating within `schema_cache_ttl`, and a registry outage during a refresh keeps the cached
//! entries serving (records are still validated, never rejected because of the outage).

mod support;

use std::time::Duration;

use mesh_gateway::Delivery;
use mesh_gateway::output::ERROR_CODE;
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use rdkafka::message::OwnedMessage;
use support::*;

const TTL: Duration = Duration::from_millis(300);

fn order(h: &Harness, n: u64) -> Raw {
    Raw {
        key: Some(h.key(&format!("k{n}"))),
        value: Some(h.wire(&Order::valid(n).encode())),
        ..Raw::default()
    }
}

/// A gateway with a `TTL` schema cache that has validated one record (its schema id cached).
async fn validated_one() -> (Harness, mesh_gateway::RunningGateway, Shutdown) {
    let h = Harness::new(TestCluster::mock(), 1).await;
    let mut config = h.config(Delivery::ExactlyOnce);
    config.schema_cache_ttl = TTL;
    h.apply_contract(Some(&h.contract));
    let shutdown = Shutdown::new();
    let gw = h.start(config, None, &shutdown).await;
    h.produce_raw(&h.contract.topics.raw, vec![order(&h, 1)]);
    wait_records(&h, &h.contract.topics.validated, 1).await;
    (h, gw, shutdown)
}

/// Waits until `topic` holds `n` records and returns them.
async fn wait_records(h: &Harness, topic: &str, n: usize) -> Vec<OwnedMessage> {
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    loop {
        let got = h.cluster.read_all(topic, true).await;
        if got.len() >= n {
            return got;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "{topic}: {} of {n} records",
            got.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_version_stops_validating_within_the_ttl() {
    let (h, gw, shutdown) = validated_one().await;
    let topics = h.contract.topics.clone();

    // Soft-delete the version the cached id is; after the TTL the id is no longer live.
    let resp = reqwest::Client::new()
        .delete(format!("{}/subjects/{SUBJECT}/versions/1", h.registry_url))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_success(), "{}", resp.status());
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while refreshes(gw.addr, "changed").await < 1.0 {
        assert!(
            std::time::Instant::now() < deadline,
            "no refresh saw the deletion"
        );
        tokio::time::sleep(TTL / 3).await;
    }

    h.produce_raw(&topics.raw, vec![order(&h, 2)]);
    let dlq = wait_records(&h, &topics.dlq, 1).await;
    assert_eq!(
        hdr(&dlq[0], ERROR_CODE).as_deref(),
        Some("SCHEMA_NOT_IN_SUBJECT")
    );
    assert_eq!(h.cluster.read_all(&topics.validated, true).await.len(), 1);
    shutdown.cancel();
}

/// The gateway's counter of refresh passes with `outcome` (the recorder is per process; only
/// the outage test makes `unavailable`, only the deletion test `changed`).
async fn refreshes(addr: std::net::SocketAddr, outcome: &str) -> f64 {
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .filter(|l| {
            l.starts_with("mesh_gateway_schema_refreshes_total")
                && l.contains(&format!("outcome=\"{outcome}\""))
        })
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registry_outage_during_refresh_keeps_validating_with_cached_schemas() {
    let (h, gw, shutdown) = validated_one().await;
    let topics = h.contract.topics.clone();

    h.registry_shutdown.cancel();
    let before = refreshes(gw.addr, "unavailable").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while refreshes(gw.addr, "unavailable").await <= before {
        assert!(
            std::time::Instant::now() < deadline,
            "no refresh failed although the registry is down"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }

    // Refreshes are failing: the cached entries still validate (no DLQ, no stall).
    h.produce_raw(&topics.raw, vec![order(&h, 2), order(&h, 3)]);
    wait_records(&h, &topics.validated, 3).await;
    assert!(h.cluster.read_all(&topics.dlq, true).await.is_empty());
    shutdown.cancel();
}
