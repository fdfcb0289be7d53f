//! The registry over a Kafka `_schemas` topic (docs/registry-kafka-store.md): several instances
//! on one topic agree, a restarted one catches up, Confluent's and Karapace's records are served
//! (takeover), what mesh writes is Confluent's format, and a broker outage fails writes within
//! the write timeout and heals by itself. Runs on the mock cluster, and on tansu with
//! `TEST_KAFKA_BOOTSTRAP` set (the outage test needs the mock's fault injection).

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::{Sr, code};
use mesh_kafka::testing::TestCluster;
use mesh_registry::RegistryConfig;
use reqwest::StatusCode;
use serde_json::{Value, json};

/// A record schema unique to `tag`, backward compatible with every other one of this form
/// (the extra field has a default), so concurrent registrations to one subject all succeed.
fn schema(tag: &str) -> String {
    json!({"type": "record", "name": "R", "fields": [
        {"name": "id", "type": "long"},
        {"name": format!("f_{tag}"), "type": "string", "default": ""}
    ]})
    .to_string()
}

/// Everything an instance serves: every subject's versions (deleted ones too) with their ids and
/// schemas, subject and global config and mode, and every id's schema.
async fn dump(sr: &Sr) -> Value {
    let mut out = BTreeMap::new();
    let mut ids = BTreeSet::new();
    let (_, subjects) = sr.get("/subjects?deleted=true").await;
    let mut subjects: Vec<String> = serde_json::from_value(subjects).unwrap();
    subjects.sort();
    for s in subjects {
        let (_, versions) = sr
            .get(&format!("/subjects/{s}/versions?deleted=true"))
            .await;
        let (_, live) = sr.get(&format!("/subjects/{s}/versions")).await;
        let mut rows = vec![json!({"live": live})];
        for v in versions.as_array().unwrap() {
            let (_, body) = sr
                .get(&format!("/subjects/{s}/versions/{v}?deleted=true"))
                .await;
            ids.insert(body["id"].as_i64().unwrap());
            rows.push(body);
        }
        rows.push(sr.get(&format!("/config/{s}")).await.1);
        rows.push(sr.get(&format!("/mode/{s}")).await.1);
        out.insert(s, Value::Array(rows));
    }
    out.insert("<config>".into(), sr.get("/config").await.1);
    out.insert("<mode>".into(), sr.get("/mode").await.1);
    for id in ids {
        out.insert(
            format!("<id {id}>"),
            sr.get(&format!("/schemas/ids/{id}")).await.1,
        );
    }
    json!(out)
}

/// Waits until every instance serves the same dump (tailers apply other instances' writes
/// within milliseconds; bounded so a divergence fails), and returns it.
async fn converged(instances: &[Arc<Sr>]) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let mut dumps = Vec::new();
        for sr in instances {
            dumps.push(dump(sr).await);
        }
        if dumps.iter().all(|d| *d == dumps[0]) {
            return dumps.swap_remove(0);
        }
        assert!(
            Instant::now() < deadline,
            "instances diverge:\n{}",
            dumps
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// (subject, version, id, schema) of one acknowledged registration.
type Ack = (String, i64, i64, String);

async fn register_all(sr: Arc<Sr>, jobs: Vec<(String, String)>) -> Vec<Ack> {
    let mut acks = Vec::new();
    for (subject, text) in jobs {
        let (status, body) = sr.register(&subject, &text).await;
        assert_eq!(status, StatusCode::OK, "{subject}: {body}");
        let id = body["id"].as_i64().unwrap();
        // Read-your-writes: the writing instance serves the version it just acknowledged.
        let (status, found) = sr
            .post(&format!("/subjects/{subject}"), json!({"schema": text}))
            .await;
        assert_eq!(status, StatusCode::OK, "{found}");
        assert_eq!(found["id"].as_i64(), Some(id), "{found}");
        let version = found["version"].as_i64().unwrap();
        acks.push((subject, version, id, text));
    }
    acks
}

async fn scale_out(n: usize) {
    let cluster = TestCluster::start();
    let topic = TestCluster::unique_name("schemas");
    let mut instances = Vec::new();
    for _ in 0..n {
        instances.push(Arc::new(Sr::kafka(&cluster, &topic).await));
    }
    // From every instance at once: one schema everyone registers (in a shared subject and in
    // subjects of their own), distinct schemas into a subject all of them write (version
    // claims collide), and distinct schemas into their own subject.
    let mut tasks = tokio::task::JoinSet::new();
    for (i, sr) in instances.iter().enumerate() {
        let same = schema("same");
        let jobs = vec![
            ("shared".to_owned(), same.clone()),
            (format!("own-{i}"), same.clone()),
        ];
        tasks.spawn(register_all(Arc::clone(sr), jobs));
        let jobs = (0..4)
            .map(|j| ("common".to_owned(), schema(&format!("c{i}_{j}"))))
            .collect();
        tasks.spawn(register_all(Arc::clone(sr), jobs));
        let jobs = (0..4)
            .map(|j| (format!("own-{i}"), schema(&format!("o{i}_{j}"))))
            .collect();
        tasks.spawn(register_all(Arc::clone(sr), jobs));
    }
    let mut acks: Vec<Ack> = Vec::new();
    while let Some(r) = tasks.join_next().await {
        acks.extend(r.unwrap());
    }
    // Same schema → one id everywhere; different schemas never share an id.
    let mut by_text: BTreeMap<&str, BTreeSet<i64>> = BTreeMap::new();
    let mut by_id: BTreeMap<i64, BTreeSet<&str>> = BTreeMap::new();
    for (_, _, id, text) in &acks {
        by_text.entry(text).or_default().insert(*id);
        by_id.entry(*id).or_default().insert(text);
    }
    assert!(by_text.values().all(|ids| ids.len() == 1), "{by_text:?}");
    assert!(by_id.values().all(|t| t.len() == 1), "{by_id:?}");
    assert_eq!(by_text.len(), 1 + 8 * n);

    // A delete and a config change from different instances, then kill one and restart it.
    let (status, body) = instances[n - 1].delete("/subjects/own-0/versions/1").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (status, body) = instances[1]
        .put("/config/common", json!({"compatibility": "FULL"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let killed = Arc::try_unwrap(instances.remove(0)).ok().unwrap();
    killed.stop().await;
    instances.insert(0, Arc::new(Sr::kafka(&cluster, &topic).await));

    let state = converged(&instances).await;
    // Every acknowledged registration is there, on every instance.
    for (subject, _, id, _) in &acks {
        let rows = state[subject].as_array().unwrap();
        assert!(
            rows.iter().any(|r| r["id"].as_i64() == Some(*id)),
            "{subject} lost id {id}: {rows:?}"
        );
    }
    let common = state["common"].as_array().unwrap();
    assert_eq!(common[0]["live"].as_array().unwrap().len(), 4 * n);
    assert_eq!(common[4 * n + 1]["compatibilityLevel"], "FULL");
    let own0_live: Vec<i64> = serde_json::from_value(state["own-0"][0]["live"].clone()).unwrap();
    assert!(!own0_live.contains(&1), "own-0 v1 was soft-deleted");
    for sr in instances {
        Arc::try_unwrap(sr).ok().unwrap().stop().await;
    }
    compaction_keeps_the_state(&cluster, &topic).await;
}

/// Replays the topic as it is, and as log compaction would leave it (the last record of each
/// key, in log order; with and without the tombstones, which compaction drops later): the same
/// state. Lost claims were repaired, so no key's last record is a loser.
async fn compaction_keeps_the_state(cluster: &TestCluster, topic: &str) {
    use mesh_registry::model::Record;
    use mesh_registry::state::State;
    use rdkafka::Message;
    let records: Vec<(Vec<u8>, Option<Vec<u8>>)> = cluster
        .read_all(topic, false)
        .await
        .iter()
        .map(|m| (m.key().unwrap().to_vec(), m.payload().map(<[u8]>::to_vec)))
        .collect();
    let replay = |records: &[&(Vec<u8>, Option<Vec<u8>>)]| {
        let mut state = State::default();
        for (k, v) in records {
            if let Some(r) = Record::decode(k, v.as_deref()).unwrap() {
                state.apply(&r);
            }
        }
        (
            state.subjects,
            state.configs,
            state.global_config,
            state.modes,
        )
    };
    let all: Vec<_> = records.iter().collect();
    let full = replay(&all);
    for keep_tombstones in [true, false] {
        let compacted: Vec<_> = records
            .iter()
            .enumerate()
            .filter(|(i, (k, v))| {
                !records[i + 1..].iter().any(|(later, _)| later == k)
                    && (keep_tombstones || v.is_some())
            })
            .map(|(_, r)| r)
            .collect();
        assert!(compacted.len() < records.len());
        assert_eq!(
            replay(&compacted),
            full,
            "tombstones kept: {keep_tombstones}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_instances_agree_under_concurrent_writes_and_restart() {
    scale_out(2).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_instances_agree_under_concurrent_writes_and_restart() {
    scale_out(3).await;
}

/// A raw record: key and value bytes (`None` key = none, `None` value = tombstone).
type Raw = (Option<Vec<u8>>, Option<Vec<u8>>);

fn rec(key: &str, value: Option<&str>) -> Raw {
    (
        Some(key.as_bytes().to_vec()),
        value.map(|v| v.as_bytes().to_vec()),
    )
}

/// Records as Confluent and Karapace write them (registry-api.md §3.2), with deletes,
/// tombstones and records a reader must skip.
fn foreign_log() -> Vec<Raw> {
    let user1 = r#"{\"fields\":[{\"name\":\"id\",\"type\":\"long\"}],\"name\":\"User\",\"type\":\"record\"}"#;
    let user2 = r#"{\"fields\":[{\"name\":\"id\",\"type\":\"long\"},{\"default\":\"\",\"name\":\"n\",\"type\":\"string\"}],\"name\":\"User\",\"type\":\"record\"}"#;
    let sv = |subject: &str, version: i32, id: i32, schema: &str, deleted: bool| {
        format!(
            r#"{{"subject":"{subject}","version":{version},"id":{id},"schema":"{schema}","deleted":{deleted}}}"#
        )
    };
    let key = |subject: &str, version: i32| {
        format!(r#"{{"keytype":"SCHEMA","subject":"{subject}","version":{version},"magic":1}}"#)
    };
    vec![
        // Karapace's global config key (subject null), then Confluent's (subject omitted): two
        // keys, the later in log order wins.
        rec(
            r#"{"keytype":"CONFIG","subject":null,"magic":0}"#,
            Some(r#"{"compatibilityLevel":"NONE"}"#),
        ),
        // Karapace 6.2.0: register v1, v2, subject config FULL, soft delete v1, hard delete v1.
        rec(
            &key("users-value", 1),
            Some(&sv("users-value", 1, 1, user1, false)),
        ),
        rec(
            &key("users-value", 2),
            Some(&sv("users-value", 2, 2, user2, false)),
        ),
        rec(
            r#"{"keytype":"CONFIG","subject":"users-value","magic":0}"#,
            Some(r#"{"compatibilityLevel":"FULL"}"#),
        ),
        rec(
            &key("users-value", 1),
            Some(&sv("users-value", 1, 1, user1, true)),
        ),
        rec(&key("users-value", 1), None),
        // Confluent: a JSON schema with schemaType, a subject soft-deleted by DELETE_SUBJECT.
        rec(
            &key("orders-value", 1),
            Some(
                r#"{"subject":"orders-value","version":1,"id":3,"schemaType":"JSON","schema":"{\"type\":\"object\"}","deleted":false}"#,
            ),
        ),
        rec(&key("old", 1), Some(&sv("old", 1, 1, user1, false))),
        rec(&key("old", 2), Some(&sv("old", 2, 2, user2, false))),
        rec(
            r#"{"keytype":"DELETE_SUBJECT","subject":"old","magic":0}"#,
            Some(r#"{"subject":"old","version":2}"#),
        ),
        rec(
            r#"{"keytype":"MODE","subject":"frozen","magic":0}"#,
            Some(r#"{"subject":"frozen","mode":"READONLY"}"#),
        ),
        rec(
            r#"{"keytype":"CONFIG","magic":0}"#,
            Some(r#"{"compatibilityLevel":"FORWARD"}"#),
        ),
        // To skip: NOOP, a keytype mesh does not apply, bad JSON key and value, no key, an id
        // reused for different content.
        rec(r#"{"keytype":"NOOP","magic":0}"#, None),
        rec(
            r#"{"keytype":"CONTEXT","tenant":"default","context":".ctx"}"#,
            Some(r#"{"tenant":"default","context":".ctx"}"#),
        ),
        rec("{not json", Some("{}")),
        rec(&key("broken", 1), Some("{\"subject\":")),
        (None, Some(b"{}".to_vec())),
        rec(
            &key("evil", 1),
            Some(r#"{"subject":"evil","version":1,"id":1,"schema":"\"string\"","deleted":false}"#),
        ),
    ]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn takeover_serves_confluent_and_karapace_records_and_writes_confluent_format() {
    let cluster = TestCluster::start();
    let topic = TestCluster::unique_name("schemas");
    cluster
        .create_topic(mesh_kafka::admin::TopicSpec::compacted_log(&topic))
        .await
        .unwrap();
    produce(&cluster, &topic, foreign_log()).await;
    let sr = Sr::kafka(&cluster, &topic).await;

    let (_, subjects) = sr.get("/subjects").await;
    assert_eq!(subjects, json!(["orders-value", "users-value"]));
    assert_eq!(sr.get("/subjects/users-value/versions").await.1, json!([2]));
    let (_, v2) = sr.get("/subjects/users-value/versions/2").await;
    assert_eq!(v2["id"], 2);
    // The hard-deleted version is gone; its id stays resolvable.
    assert_eq!(
        code(&sr.get("/subjects/users-value/versions/1").await.1),
        40402
    );
    assert_eq!(sr.get("/schemas/ids/1").await.0, StatusCode::OK);
    let (_, orders) = sr.get("/subjects/orders-value/versions/1").await;
    assert_eq!(
        (orders["id"].clone(), orders["schemaType"].clone()),
        (json!(3), json!("JSON"))
    );
    assert_eq!(
        sr.get("/config/users-value").await.1["compatibilityLevel"],
        "FULL"
    );
    assert_eq!(sr.get("/config").await.1["compatibilityLevel"], "FORWARD");
    assert_eq!(code(&sr.get("/subjects/old/versions").await.1), 40401);
    assert_eq!(
        sr.get("/subjects/old/versions?deleted=true").await.1,
        json!([1, 2])
    );
    assert_eq!(sr.get("/mode/frozen").await.1["mode"], "READONLY");
    assert_eq!(code(&sr.register("frozen", &schema("x")).await.1), 42205);
    // The id-reusing record was skipped.
    assert_eq!(code(&sr.get("/subjects/evil/versions").await.1), 40401);

    // A new schema gets the next id, in Confluent's exact record format.
    let (status, body) = sr.register("new-value", &schema("new")).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["id"], 4);
    let stored = sr.get("/subjects/new-value/versions/1").await.1["schema"].clone();
    sr.stop().await;
    let records = cluster.read_all(&topic, false).await;
    let last = records.last().unwrap();
    use rdkafka::Message;
    assert_eq!(
        std::str::from_utf8(last.key().unwrap()).unwrap(),
        r#"{"keytype":"SCHEMA","subject":"new-value","version":1,"magic":1}"#
    );
    // Confluent's field order; no schemaType for AVRO (7.x).
    let value = std::str::from_utf8(last.payload().unwrap()).unwrap();
    let expected = format!(
        r#"{{"subject":"new-value","version":1,"id":4,"schema":{stored},"deleted":false}}"#
    );
    assert_eq!(value, expected);
}

/// Produces records with exact key/value bytes (`None` value = tombstone, `None` key = none).
async fn produce(cluster: &TestCluster, topic: &str, records: Vec<Raw>) {
    use rdkafka::producer::{FutureProducer, FutureRecord};
    let producer: FutureProducer = cluster
        .kafka_config()
        .client_config("test-producer")
        .unwrap()
        .set("enable.idempotence", "true")
        .set("batch.num.messages", "1")
        .create()
        .unwrap();
    for (key, value) in &records {
        let mut r: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(topic);
        if let Some(k) = key {
            r = r.key(k.as_slice());
        }
        if let Some(v) = value {
            r = r.payload(v.as_slice());
        }
        producer.send(r, Duration::from_secs(10)).await.unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn broker_outage_fails_writes_within_the_timeout_and_heals() {
    let cluster = TestCluster::mock();
    let topic = TestCluster::unique_name("schemas");
    let config = RegistryConfig {
        write_timeout_ms: 1_500,
        ..RegistryConfig::default()
    };
    let sr = Sr::kafka_with(&cluster, &topic, config).await;
    assert_eq!(sr.register("a", &schema("1")).await.0, StatusCode::OK);
    let mock = cluster.mock_cluster().unwrap();
    for b in 1..=3 {
        mock.broker_down(b).unwrap();
    }
    // Reads keep serving from memory.
    assert_eq!(sr.get("/subjects/a/versions/1").await.0, StatusCode::OK);
    let started = Instant::now();
    let (status, body) = sr.register("a", &schema("2")).await;
    assert_eq!(
        (status, code(&body)),
        (StatusCode::INTERNAL_SERVER_ERROR, 50002),
        "{body}"
    );
    // Bounded by the write timeout (generous margin: this asserts "bounded", not speed).
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    for b in 1..=3 {
        mock.broker_up(b).unwrap();
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let (status, body) = sr.register("a", &schema("3")).await;
        if status == StatusCode::OK {
            break;
        }
        assert!(Instant::now() < deadline, "no recovery: {body}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(sr.get("/subjects/a/versions/latest").await.1["version"], 2);
    sr.stop().await;
}

/// `_schemas` must be one partition (one log order): a topic with more is refused at start,
/// naming the topic, rather than served with ids decided per partition.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_topic_with_several_partitions_is_refused() {
    let cluster = TestCluster::start();
    let topic = cluster.unique_topic("schemas", 2).await;
    let config = RegistryConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        store: mesh_registry::StoreKind::Kafka,
        topic: topic.clone(),
        ..RegistryConfig::default()
    };
    let shutdown = mesh_runtime::Shutdown::new();
    let kafka = cluster.kafka_config();
    let err =
        mesh_registry::start_with_kafka(config, Some((&kafka, cluster.provisioner())), &shutdown)
            .await
            .expect_err("two partitions accepted");
    assert!(err.to_string().contains(&topic), "{err}");
}
