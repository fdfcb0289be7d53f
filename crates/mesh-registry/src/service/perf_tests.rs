//! Tests of the paths tuned for load: group commit of concurrent registrations (batched
//! fsyncs, serial-equivalent decisions, nothing visible before it is durable) and lookup's
//! exact-match-first pass.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::*;
use crate::model::SchemaValue;
use crate::store::{MemoryStore, StoreError};

/// A store whose appends take `delay` (a slow fsync) and can be held shut by a gate.
#[derive(Debug, Default)]
struct SlowStore {
    inner: MemoryStore,
    appends: AtomicUsize,
    delay: Duration,
    /// While `true`, appends wait; `entered` counts appends that started.
    gate: Mutex<bool>,
    entered: AtomicUsize,
    fail: bool,
}

impl SlowStore {
    fn new(delay: Duration) -> Arc<Self> {
        Arc::new(Self {
            delay,
            ..Self::default()
        })
    }
}

impl SchemaStore for SlowStore {
    fn load(&self) -> Result<Vec<Record>, StoreError> {
        self.inner.load()
    }

    fn append(&self, records: &[Record]) -> Result<(), StoreError> {
        self.entered.fetch_add(1, Ordering::SeqCst);
        while *self.gate.lock().unwrap() {
            std::thread::sleep(Duration::from_millis(1));
        }
        std::thread::sleep(self.delay);
        if self.fail {
            return Err(StoreError::Io {
                path: "slow".into(),
                source: std::io::Error::other("disk on fire"),
            });
        }
        self.appends.fetch_add(1, Ordering::SeqCst);
        self.inner.append(records)
    }
}

fn record(name: &str, fields: usize) -> String {
    let fields: Vec<String> = (0..fields)
        .map(|i| format!(r#"{{"name":"f{i}","type":"int","default":{i}}}"#))
        .collect();
    format!(
        r#"{{"type":"record","name":"{name}","fields":[{}]}}"#,
        fields.join(",")
    )
}

fn req(schema: &str) -> SchemaRequest {
    SchemaRequest {
        schema: Some(schema.into()),
        ..SchemaRequest::default()
    }
}

/// Every (subject, version, id) the registry serves.
fn versions_of(r: &Registry) -> Vec<(String, i32, i32)> {
    r.read()
        .subjects
        .values()
        .flat_map(|vs| vs.values())
        .map(|v| (v.subject.clone(), v.version, v.id))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_registrations_share_fsyncs_and_replay_to_the_same_state() {
    let store = SlowStore::new(Duration::from_millis(20));
    let r = Arc::new(Registry::open(store.clone(), false).unwrap());
    let mut tasks = Vec::new();
    // 24 distinct subjects, plus 8 versions of one subject and one schema under 8 subjects:
    // the last two have to wait for in-flight writes to decide.
    for i in 0..24 {
        let r = Arc::clone(&r);
        tasks.push(tokio::spawn(async move {
            let name = format!("R{i}");
            r.register(&format!("s{i}"), req(&record(&name, 1)), false, false)
                .await
        }));
    }
    for i in 0..8 {
        let r1 = Arc::clone(&r);
        tasks.push(tokio::spawn(async move {
            r1.register("same-subject", req(&record("S", i + 1)), false, false)
                .await
        }));
        let r2 = Arc::clone(&r);
        tasks.push(tokio::spawn(async move {
            r2.register(
                &format!("shared{i}"),
                req(&record("Shared", 1)),
                false,
                false,
            )
            .await
        }));
    }
    let mut results = Vec::new();
    for t in tasks {
        results.push(t.await.unwrap().unwrap());
    }
    let appends = store.appends.load(Ordering::SeqCst);
    assert!(
        appends < 24,
        "40 registrations took {appends} appends: not batched"
    );
    // Ids: 24 + 8 distinct schemas + 1 shared one, no gaps, no duplicates.
    let mut ids: Vec<i32> = results.iter().map(|r| r.id).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids, (1..=33).collect::<Vec<_>>());
    let shared: Vec<i32> = results[24..]
        .iter()
        .skip(1)
        .step_by(2)
        .map(|r| r.id)
        .collect();
    assert!(shared.windows(2).all(|w| w[0] == w[1]), "{shared:?}");
    // The same subject got versions 1..=8, each once.
    let mut same: Vec<i32> = versions_of(&r)
        .into_iter()
        .filter(|(s, _, _)| s == "same-subject")
        .map(|(_, v, _)| v)
        .collect();
    same.sort_unstable();
    assert_eq!(same, (1..=8).collect::<Vec<_>>());
    // What was acknowledged is exactly what the log replays to.
    let replayed = Registry::open(store.clone(), false).unwrap();
    assert_eq!(versions_of(&replayed), versions_of(&r));
    for res in &results {
        assert!(replayed.schema_by_id(res.id).is_ok());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_registration_is_invisible_until_durable() {
    let store = SlowStore::new(Duration::ZERO);
    *store.gate.lock().unwrap() = true;
    let r = Arc::new(Registry::open(store.clone(), false).unwrap());
    let task = {
        let r = Arc::clone(&r);
        tokio::spawn(async move { r.register("s", req(&record("R", 1)), false, false).await })
    };
    while store.entered.load(Ordering::SeqCst) == 0 {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    // Being written, not yet durable: readers do not see it.
    assert_eq!(r.schema_by_id(1).unwrap_err().status_and_code().1, 40403);
    assert_eq!(
        r.version("s", "latest", false)
            .unwrap_err()
            .status_and_code()
            .1,
        40401
    );
    *store.gate.lock().unwrap() = false;
    let done = task.await.unwrap().unwrap();
    assert_eq!((done.id, done.version), (1, 1));
    assert_eq!(r.version("s", "latest", false).unwrap().id, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_append_fails_its_batch_and_changes_nothing() {
    let store = Arc::new(SlowStore {
        fail: true,
        ..SlowStore::default()
    });
    let r = Arc::new(Registry::open(store.clone(), false).unwrap());
    let mut tasks = Vec::new();
    for i in 0..4 {
        let r = Arc::clone(&r);
        tasks.push(tokio::spawn(async move {
            r.register(&format!("s{i}"), req(&record("R", 1)), false, false)
                .await
        }));
    }
    for t in tasks {
        let e = t.await.unwrap().unwrap_err();
        assert_eq!(e.status_and_code().1, 50001, "{e}");
    }
    assert!(versions_of(&r).is_empty());
    // Deletes and config writes still work after (nothing is left in flight).
    assert!(r.delete_subject("s0", false).await.is_err());
    assert_eq!(r.core.log().in_flight, 0);
}

#[tokio::test]
async fn lookup_prefers_an_exact_match_and_falls_back_to_reparsing() {
    let store = Arc::new(MemoryStore::default());
    // Version 1 as an older mesh stored it: not Java's spelling (key order, spaces).
    let legacy = r#"{"name":"R", "type":"record", "fields":[{"type":"int","name":"a"}]}"#;
    store
        .append(&[Record::Schema {
            subject: "s".into(),
            version: 1,
            value: Some(SchemaValue {
                subject: "s".into(),
                version: 1,
                id: 1,
                schema: legacy.into(),
                deleted: false,
                schema_type: None,
                references: vec![],
                metadata: None,
                rule_set: None,
            }),
        }])
        .unwrap();
    let r = Registry::open(store, false).unwrap();
    let v2 = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}"#;
    let v3 = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0},{"name":"c","type":"int","default":0}]}"#;
    r.register("s", req(v2), false, false).await.unwrap();
    r.register("s", req(v3), false, false).await.unwrap();
    // Exact matches, older and newer.
    assert_eq!(r.lookup("s", &req(v2), false, false).unwrap().version, 2);
    assert_eq!(r.lookup("s", &req(v3), false, false).unwrap().version, 3);
    // The legacy spelling only matches after re-rendering the stored text.
    let v1 = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#;
    let found = r.lookup("s", &req(v1), false, false).unwrap();
    assert_eq!((found.version, found.id), (1, 1));
    assert_eq!(found.schema, legacy);
    let absent = r#"{"type":"record","name":"R","fields":[{"name":"z","type":"int"}]}"#;
    assert_eq!(
        r.lookup("s", &req(absent), false, false)
            .unwrap_err()
            .status_and_code()
            .1,
        40403
    );
}
