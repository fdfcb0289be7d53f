//! The freshness monitor against the test broker with a manual clock: no real-time waits decide
//! any outcome (the webhook receiver is polled only for delivery).

mod common;

use common::*;
use mesh_freshness::alerts::AlertState;
use mesh_freshness::clock::ManualClock;
use mesh_freshness::model::{AlertKind, Severity, Status, Subject};
use mesh_freshness::sinks::alerts_topic;
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;

fn states(
    events: &[mesh_freshness::monitor::AlertEvent],
) -> Vec<(AlertKind, AlertState, Severity)> {
    events
        .iter()
        .map(|e| {
            (
                e.transition.key.kind,
                e.transition.state,
                e.transition.severity,
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stopped_product_fires_warn_then_critical_and_resolves() {
    let cluster = TestCluster::start();
    let shutdown = Shutdown::new();
    let (contracts, alerts, validated, c) = product(&cluster, 10_000, 30_000, 0).await;
    let p = producer(&cluster);
    for i in 0..3 {
        produce_at(&p, &validated, T0 + i * 100).await;
    }
    // The receiver fails the first delivery: the payload must arrive through a retry.
    let (receiver, url) = Receiver::start(1, &shutdown).await;
    let clock = ManualClock::new(T0 + 1_000);
    let mut engine = engine(
        &cluster,
        config(&contracts, &alerts, Some(url)),
        &clock,
        &shutdown,
    );
    let shared = engine.shared();

    settle(&mut engine, &c.product_id).await;
    {
        let m = shared.monitor();
        let v = m.view(&c.product_id).expect("product evaluated");
        assert_eq!(v.status, Status::Fresh);
        assert_eq!(v.partitions[0].high_watermark, 3);
        assert_eq!(v.age_ms, Some(800), "age of the newest record (T0+200)");
    }

    // Just under the warn threshold: nothing. Just over: a warning.
    clock.set(T0 + 200 + 10_000);
    assert!(engine.tick().await.unwrap().is_empty());
    clock.set(T0 + 200 + 10_001);
    let ev = engine.tick().await.unwrap();
    assert_eq!(
        states(&ev),
        [(AlertKind::Freshness, AlertState::Firing, Severity::Warning)]
    );
    assert_eq!(ev[0].transition.key.subject, Subject::Partition(0));
    assert_eq!(ev[0].labels["domain"], c.domain);
    assert_eq!(ev[0].labels["team"], c.team.clone().unwrap());
    assert_eq!(ev[0].runbook_url, c.runbook.clone().unwrap());
    let fingerprint = ev[0].transition.fingerprint.clone();

    clock.set(T0 + 200 + 30_001);
    let ev = engine.tick().await.unwrap();
    assert_eq!(
        states(&ev),
        [(AlertKind::Freshness, AlertState::Firing, Severity::Critical)]
    );
    assert_eq!(ev[0].transition.previous_severity, Some(Severity::Warning));
    assert_eq!(ev[0].transition.fingerprint, fingerprint);

    // Events resume: resolved once clear for `resolve_after` (1 s).
    produce_at(&p, &validated, T0 + 40_000).await;
    clock.set(T0 + 40_100);
    assert!(
        engine.tick().await.unwrap().is_empty(),
        "hysteresis: not yet"
    );
    assert_eq!(
        shared.monitor().view(&c.product_id).unwrap().status,
        Status::Fresh
    );
    clock.set(T0 + 41_200);
    let ev = engine.tick().await.unwrap();
    assert_eq!(
        states(&ev),
        [(
            AlertKind::Freshness,
            AlertState::Resolved,
            Severity::Critical
        )]
    );

    // Webhook: warning firing; warning resolved + critical firing; critical resolved.
    let bodies = receiver.wait_for(3).await;
    assert_eq!(bodies.len(), 3, "{bodies:#?}");
    assert!(
        *receiver.attempts.lock().unwrap() >= 4,
        "first attempt failed and was retried"
    );
    for b in &bodies {
        assert_eq!(b["version"], "4");
        assert_eq!(b["groupLabels"]["product"], c.product_id.as_str());
    }
    let summary: Vec<Vec<(String, String)>> = bodies
        .iter()
        .map(|b| {
            b["alerts"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| {
                    assert_eq!(a["fingerprint"], fingerprint.as_str());
                    assert_eq!(a["labels"]["alertname"], "MeshProductStale");
                    (
                        a["status"].as_str().unwrap().to_owned(),
                        a["labels"]["severity"].as_str().unwrap().to_owned(),
                    )
                })
                .collect()
        })
        .collect();
    let s = |a: &str, b: &str| (a.to_owned(), b.to_owned());
    assert_eq!(
        summary,
        [
            vec![s("firing", "warning")],
            vec![s("resolved", "warning"), s("firing", "critical")],
            vec![s("resolved", "critical")],
        ]
    );
    assert_eq!(bodies[0]["alerts"][0]["endsAt"], "0001-01-01T00:00:00Z");
    assert_eq!(bodies[2]["alerts"][0]["endsAt"], "2023-11-14T22:14:01.200Z");

    // The same three transitions as Avro on the alerts topic.
    engine
        .flush_alerts(std::time::Duration::from_secs(10))
        .await
        .unwrap();
    let schema = alerts_topic::schema().unwrap();
    let records = cluster.read_all(&alerts, false).await;
    let decoded: Vec<(String, String)> = records
        .iter()
        .map(|m| {
            use rdkafka::Message;
            assert_eq!(m.key(), Some(fingerprint.as_bytes()));
            let v = alerts_topic::decode(&schema, m.payload().unwrap()).unwrap();
            let apache_avro::types::Value::Record(fields) = v else {
                panic!("not a record")
            };
            let get = |n: &str| fields.iter().find(|(k, _)| k == n).unwrap().1.clone();
            let sym = |v: apache_avro::types::Value| match v {
                apache_avro::types::Value::Enum(_, s) => s,
                other => panic!("{other:?}"),
            };
            (sym(get("state")), sym(get("severity")))
        })
        .collect();
    assert_eq!(
        decoded,
        [
            s("FIRING", "WARNING"),
            s("FIRING", "CRITICAL"),
            s("RESOLVED", "CRITICAL")
        ]
    );
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_that_stops_committing_raises_lag_alerts() {
    let cluster = TestCluster::start();
    let shutdown = Shutdown::new();
    let (contracts, alerts, validated, c) = product(&cluster, 10_000, 60_000, 0).await;
    let p = producer(&cluster);
    for i in 0..5 {
        produce_at(&p, &validated, T0 + i * 1_000).await;
    }
    let group = TestCluster::unique_name("billing");
    // The consumer read offsets 0 and 1, then stopped: next to read is offset 2 (T0 + 2 s).
    commit(&cluster, &group, &validated, 2);
    let mut cfg = config(&contracts, &alerts, None);
    cfg.groups.insert(c.product_id.clone(), vec![group.clone()]);
    cfg.group_stopped_after = std::time::Duration::from_secs(5);
    let clock = ManualClock::new(T0 + 5_000);
    let mut engine = engine(&cluster, cfg, &clock, &shutdown);
    let shared = engine.shared();

    settle(&mut engine, &c.product_id).await;
    {
        let m = shared.monitor();
        let g = &m.view(&c.product_id).unwrap().groups[0];
        assert_eq!(g.group, group);
        assert_eq!(g.offset_lag, 3);
        assert_eq!(
            g.lag_seconds, 3.0,
            "now − timestamp of the record at offset 2"
        );
    }
    // The producer keeps going; the group does not: its time lag crosses the SLA...
    produce_at(&p, &validated, T0 + 12_000).await;
    clock.set(T0 + 12_001);
    let ev = engine.tick().await.unwrap();
    let kinds = states(&ev);
    assert!(
        kinds.contains(&(
            AlertKind::ConsumerLag,
            AlertState::Firing,
            Severity::Warning
        )),
        "{kinds:?}"
    );
    // ...and having not committed for 5 s with records waiting, it is reported as stopped.
    assert!(
        kinds.contains(&(
            AlertKind::ConsumerStopped,
            AlertState::Firing,
            Severity::Warning
        )),
        "{kinds:?}"
    );
    assert!(
        ev.iter()
            .all(|e| e.transition.key.subject
                == mesh_freshness::model::Subject::Group(group.clone()))
    );
    assert_eq!(
        shared.monitor().view(&c.product_id).unwrap().groups[0].status,
        Status::Stopped
    );

    // It catches up: both resolve after resolve_after.
    commit(&cluster, &group, &validated, 6);
    clock.set(T0 + 12_500);
    engine.tick().await.unwrap();
    clock.set(T0 + 14_000);
    let ev = engine.tick().await.unwrap();
    let kinds = states(&ev);
    assert_eq!(kinds.len(), 2, "{kinds:?}");
    assert!(kinds.iter().all(|(_, s, _)| *s == AlertState::Resolved));
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_topic_and_clock_skew_have_their_own_status() {
    let cluster = TestCluster::start();
    let shutdown = Shutdown::new();
    let contracts = cluster.unique_topic("contracts", 1).await;
    let alerts = cluster.unique_topic("alerts", 1).await;
    let validated = cluster.unique_topic("orders-validated", 1).await;
    let missing = contract(
        &TestCluster::unique_name("never-created"),
        10_000,
        30_000,
        0,
    );
    let skewed = contract(&validated, 10_000, 30_000, 0);
    publish_contract(&cluster, &contracts, &missing).await;
    publish_contract(&cluster, &contracts, &skewed).await;
    // A producer whose clock is an hour ahead.
    produce_at(&producer(&cluster), &validated, T0 + 3_600_000).await;
    let clock = ManualClock::new(T0);
    let mut engine = engine(
        &cluster,
        config(&contracts, &alerts, None),
        &clock,
        &shutdown,
    );
    let ev = engine.tick().await.unwrap();
    let m = engine.shared();
    let m = m.monitor();
    assert_eq!(
        m.view(&missing.product_id).unwrap().status,
        Status::TopicMissing
    );
    assert_eq!(
        m.view(&skewed.product_id).unwrap().status,
        Status::ClockSkew
    );
    let mut kinds: Vec<AlertKind> = ev.iter().map(|e| e.transition.key.kind).collect();
    kinds.sort();
    assert_eq!(kinds, [AlertKind::ClockSkew, AlertKind::TopicMissing]);
    shutdown.cancel();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn groups_are_discovered_where_the_broker_lists_them() {
    let cluster = TestCluster::start();
    let shutdown = Shutdown::new();
    let (contracts, alerts, validated, c) = product(&cluster, 10_000, 60_000, 0).await;
    let p = producer(&cluster);
    for i in 0..3 {
        produce_at(&p, &validated, T0 + i * 1_000).await;
    }
    let group = TestCluster::unique_name("unconfigured");
    commit(&cluster, &group, &validated, 1);
    let mut cfg = config(&contracts, &alerts, None);
    cfg.discover_groups = true;
    let clock = ManualClock::new(T0 + 3_000);
    let mut engine = engine(&cluster, cfg, &clock, &shutdown);
    engine.tick().await.unwrap();
    let shared = engine.shared();
    let m = shared.monitor();
    let groups: Vec<_> = m.view(&c.product_id).unwrap().groups.clone();
    if cluster.is_mock() {
        // The librdkafka mock has no ListGroups: only configured groups are measured.
        assert!(groups.is_empty(), "{groups:?}");
    } else {
        let g = groups
            .iter()
            .find(|g| g.group == group)
            .unwrap_or_else(|| panic!("{group} discovered in {groups:?}"));
        assert_eq!(g.offset_lag, 2);
        assert_eq!(g.lag_seconds, 2.0);
    }
    shutdown.cancel();
}
