//! DLQ redrive: rejected records are listed with their reasons, replayed by rule after a
//! contract fix, come out validated with `__mesh.replay.*` headers, and each replay is recorded.

mod support;

use std::time::Duration;

use mesh_gateway::Delivery;
use mesh_gateway::dlq::{self, Selection};
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use rdkafka::Message;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn replayed_dlq_records_come_out_validated_after_a_contract_fix() {
    let h = Harness::new(TestCluster::transactional(), 1).await;
    let shutdown = Shutdown::new();
    h.apply_contract(Some(&h.contract));
    let gw = h
        .start(h.config(Delivery::ExactlyOnce), None, &shutdown)
        .await;
    let lost = |n| {
        let mut o = Order::valid(n);
        o.status = "LOST".into();
        h.wire(&o.encode())
    };
    let rec = |key: &str, value: Vec<u8>| Raw {
        key: Some(h.key(key)),
        value: Some(value),
        headers: vec![("trace".into(), key.as_bytes().to_vec())],
        partition: Some(0),
    };
    h.produce_raw(
        &h.contract.topics.raw,
        vec![
            rec("ok", h.wire(&Order::valid(1).encode())),
            rec("lost-1", lost(2)),
            rec("garbage", b"not avro".to_vec()),
            rec("lost-2", lost(3)),
        ],
    );
    let kafka = h.kafka();
    let dlq_topic = h.contract.topics.dlq.clone();
    let read = |k: mesh_kafka::KafkaConfig, t: String| async move {
        tokio::task::spawn_blocking(move || dlq::read(&k, &t))
            .await
            .unwrap()
            .expect("read dlq")
    };
    let mut entries = Vec::new();
    for _ in 0..100 {
        entries = read(kafka.clone(), dlq_topic.clone()).await;
        if entries.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(entries.len(), 3, "{entries:?}");
    let rules: Vec<Option<&str>> = entries.iter().map(|e| e.rule.as_deref()).collect();
    assert_eq!(rules, [Some("status-known"), None, Some("status-known")]);
    assert_eq!(entries[1].code.as_deref(), Some("NO_MAGIC_BYTE"));
    assert!(entries[0].message.as_deref().is_some_and(|m| !m.is_empty()));

    // The fix: a loosened contract without the rule.
    let mut fixed = h.contract.clone();
    fixed.rules.retain(|r| r.name != "status-known");
    assert!(fixed.rules.len() < h.contract.rules.len());
    h.apply_contract(Some(&fixed));
    let raw = h.contract.topics.raw.clone();
    wait_for("the loosened contract", Duration::from_secs(20), || {
        gw.contracts
            .product(&raw)
            .and_then(|p| p.newest().map(|c| c.contract.rules.len()))
            == Some(fixed.rules.len())
    })
    .await;

    let (k, d, r) = (kafka.clone(), dlq_topic.clone(), raw.clone());
    let report = tokio::task::spawn_blocking(move || {
        dlq::replay(
            &k,
            &d,
            &r,
            &Selection::Rule("status-known".into()),
            "alice",
            false,
        )
    })
    .await
    .unwrap()
    .expect("replay");
    let replayed: Vec<i64> = report.replayed.iter().map(|(_, o)| *o).collect();
    assert_eq!(replayed, [entries[0].offset, entries[2].offset]);

    let mut validated = h.cluster.read_all(&h.contract.topics.validated, true).await;
    for _ in 0..100 {
        if validated.len() >= 3 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        validated = h.cluster.read_all(&h.contract.topics.validated, true).await;
    }
    assert_eq!(validated.len(), 3, "1 valid + 2 replayed");
    let again: Vec<_> = validated
        .iter()
        .filter(|m| hdr(m, dlq::REPLAY_OFFSET).is_some())
        .collect();
    assert_eq!(again.len(), 2);
    for m in &again {
        assert_eq!(hdr(m, dlq::REPLAY_BY).as_deref(), Some("alice"));
        assert_eq!(
            hdr(m, dlq::REPLAY_TOPIC).as_deref(),
            Some(dlq_topic.as_str())
        );
        let key = String::from_utf8_lossy(m.key().unwrap()).into_owned();
        assert!(key.contains("lost-"), "original key kept: {key}");
        assert!(
            hdr(m, "trace").is_some_and(|t| t.starts_with("lost-")),
            "original header kept"
        );
        assert_eq!(
            hdr(m, "__mesh.error.code"),
            None,
            "DLQ reasons not carried over"
        );
    }

    // Each replay is recorded; a second run skips what was replayed.
    let entries = read(kafka.clone(), dlq_topic.clone()).await;
    assert_eq!(entries.len(), 3, "markers are not entries");
    assert_eq!(entries[0].replays.len(), 1);
    assert_eq!(entries[0].replays[0]["by"], "alice");
    assert!(entries[1].replays.is_empty());
    let (k, d, r) = (kafka.clone(), dlq_topic.clone(), raw.clone());
    let report =
        tokio::task::spawn_blocking(move || dlq::replay(&k, &d, &r, &Selection::All, "bob", false))
            .await
            .unwrap()
            .expect("replay all");
    assert_eq!(report.replayed, [(0, entries[1].offset)]);
    assert_eq!(report.already_replayed.len(), 2);
    shutdown.cancel();
}
