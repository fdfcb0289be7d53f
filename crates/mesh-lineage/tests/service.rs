//! The collector end to end on the test broker: HTTP ingest (single, batch with partial
//! success, gzip, bearer, 413), `_mesh.lineage` as the source of truth (malformed records skipped,
//! two instances serve the same graph), and the Marquez-style and mesh read APIs.

use std::io::Write as _;
use std::time::{Duration, Instant};

use mesh_kafka::testing::TestCluster;
use mesh_lineage::{LineageConfig, RunningLineage};
use mesh_runtime::Shutdown;
use mesh_runtime::config::Secret;
use serde_json::{Value, json};

struct Collector {
    url: String,
    shutdown: Shutdown,
    running: RunningLineage,
}

async fn collector(cluster: &TestCluster, topic: &str, tokens: &[&str]) -> Collector {
    collector_with_cache(cluster, topic, tokens, None).await
}

async fn collector_with_cache(
    cluster: &TestCluster,
    topic: &str,
    tokens: &[&str],
    data_dir: Option<&std::path::Path>,
) -> Collector {
    let config = LineageConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        topic: topic.to_owned(),
        max_request_bytes: 64 * 1024,
        ingest_tokens: tokens.iter().map(|t| Secret::new(*t)).collect(),
        data_dir: data_dir.map(std::path::Path::to_path_buf),
        ..LineageConfig::default()
    };
    let mut config = config;
    config.observers.consumer_groups = false;
    config.observers.contracts = false;
    let shutdown = Shutdown::new();
    let running = mesh_lineage::start(config, &cluster.kafka_config(), &shutdown)
        .await
        .expect("start collector");
    let url = format!("http://{}", running.addr);
    Collector {
        url,
        shutdown,
        running,
    }
}

impl Collector {
    async fn stop(self) {
        self.shutdown.cancel();
        self.running.join().await.unwrap();
    }
}

fn event(run: &str, ty: &str, job: &str, ins: &[&str], outs: &[&str]) -> Value {
    let ds = |l: &[&str]| -> Vec<Value> {
        l.iter()
            .map(|n| json!({"namespace": "kafka://broker-2:9092,broker-1:9092", "name": n}))
            .collect()
    };
    json!({
        "eventType": ty, "eventTime": "2026-01-01T00:00:00Z",
        "producer": "https://example.invalid/p", "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": run},
        "job": {"namespace": "orders", "name": job, "facets": {"jobType": {"_producer": "https://p",
            "_schemaURL": "https://s", "processingType": "STREAMING", "integration": "KAFKA"}}},
        "inputs": ds(ins), "outputs": ds(outs),
    })
}

async fn eventually<F: AsyncFn() -> Option<T>, T>(what: &str, f: F) -> T {
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn get(url: &str) -> (u16, Value) {
    let r = reqwest::get(url).await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

const R1: &str = "0190c6d2-7a1b-7c3d-8e4f-000000000001";
const R2: &str = "0190c6d2-7a1b-7c3d-8e4f-000000000002";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_validates_and_the_graph_is_served_by_every_instance() {
    let cluster = TestCluster::start();
    let topic = cluster.unique_topic("lineage", 3).await;
    let a = collector(&cluster, &topic, &["s3cret"]).await;
    let http = reqwest::Client::new();
    let post = |path: &str, body: Vec<u8>, gzip: bool, token: Option<&str>| {
        let mut r = http
            .post(format!("{}{path}", a.url))
            .header("content-type", "application/json")
            .body(body);
        if gzip {
            r = r.header("content-encoding", "gzip");
        }
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        r.send()
    };
    let body = |v: &Value| serde_json::to_vec(v).unwrap();

    // Auth: none or wrong → 401 in mesh's envelope.
    let r = post(
        "/api/v1/lineage",
        body(&event(R1, "START", "gw", &["raw"], &[])),
        false,
        None,
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 401);
    let r = post(
        "/api/v1/lineage",
        body(&event(R1, "START", "gw", &["raw"], &[])),
        false,
        Some("nope"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 401);

    // One event, gzip-compressed.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&body(&event(R1, "START", "gw", &["raw"], &[])))
        .unwrap();
    let r = post(
        "/api/v1/lineage",
        gz.finish().unwrap(),
        true,
        Some("s3cret"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200, "{:?}", r.text().await);

    // A bad event: 400 with each violation's JSON path.
    let mut bad = event(R1, "RUNNING", "gw", &[], &[]);
    bad["run"]["runId"] = json!("not-a-uuid");
    bad.as_object_mut().unwrap().remove("eventTime");
    let r = post("/api/v1/lineage", body(&bad), false, Some("s3cret"))
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let err: Value = r.json().await.unwrap();
    assert_eq!(err["error"]["code"], "invalid_event");
    let paths: Vec<&str> = err["error"]["details"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["path"].as_str().unwrap())
        .collect();
    assert!(
        paths.contains(&"$.run.runId") && paths.contains(&"$.eventTime"),
        "{paths:?}"
    );

    // Batch with one bad event: partial success naming its index.
    let batch = json!([
        event(R1, "RUNNING", "gw", &["raw"], &["valid"]),
        bad,
        event(R2, "RUNNING", "billing", &["valid"], &["invoices"]),
    ]);
    let r = post("/api/v1/lineage/batch", body(&batch), false, Some("s3cret"))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let res: Value = r.json().await.unwrap();
    assert_eq!(res["status"], "partial_success");
    assert_eq!(
        res["summary"],
        json!({"received": 3, "successful": 2, "failed": 1, "retriable": 0, "non_retriable": 1})
    );
    assert_eq!(res["failed_events"][0]["index"], 1);
    assert_eq!(res["failed_events"][0]["retriable"], false);

    // Too large → 413 (the limit is 64 KiB here), also when only the decoded body is.
    let huge = vec![b' '; 70 * 1024];
    let r = post("/api/v1/lineage", huge.clone(), false, Some("s3cret"))
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
    gz.write_all(&huge).unwrap();
    let r = post(
        "/api/v1/lineage/batch",
        gz.finish().unwrap(),
        true,
        Some("s3cret"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(
        r.json::<Value>().await.unwrap()["error"]["code"],
        "payload_too_large"
    );

    // A malformed record on the topic is counted and skipped, never blocks what follows.
    cluster
        .produce(
            &topic,
            vec![(Some(b"run:x/y".to_vec()), b"{not json".to_vec())],
        )
        .await;
    let r = post(
        "/api/v1/lineage",
        body(&event(R2, "RUNNING", "billing", &["valid"], &["invoices"])),
        false,
        Some("s3cret"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 200);

    // The graph (namespaces normalised to the cluster alias: one dataset per topic).
    let stats = eventually("events applied", async || {
        let (_, s) = get(&format!("{}/api/v1/mesh/stats", a.url)).await;
        (s["eventsApplied"] == 4 && s["malformedSkipped"] == 1).then_some(s)
    })
    .await;
    assert_eq!(
        (stats["datasets"].clone(), stats["jobs"].clone()),
        (json!(3), json!(2))
    );

    let ns = "kafka%3A%2F%2Fbroker-1%3A9092%2Cbroker-2%3A9092";
    let (status, ds) = get(&format!("{}/api/v1/namespaces/{ns}/datasets/valid", a.url)).await;
    assert_eq!(status, 200, "{ds}");
    assert_eq!(
        ds["producers"],
        json!([{"namespace": "orders", "name": "gw"}])
    );
    assert_eq!(
        ds["consumers"],
        json!([{"namespace": "orders", "name": "billing"}])
    );

    let (_, job) = get(&format!("{}/api/v1/namespaces/orders/jobs/gw", a.url)).await;
    assert_eq!(job["type"], "STREAM");
    assert_eq!(
        job["latestRun"]["state"], "RUNNING",
        "STREAMING: RUNNING, no terminal event"
    );
    let (_, run) = get(&format!("{}/api/v1/jobs/runs/{R1}", a.url)).await;
    assert_eq!(run["events"], 2);

    // Marquez's lineage graph from the middle dataset, depth 1: both jobs and all datasets.
    let node = "dataset:kafka://broker-1:9092,broker-2:9092:valid";
    let (status, lineage) = get(&format!(
        "{}/api/v1/lineage?nodeId={}&depth=1",
        a.url,
        urlencode(node)
    ))
    .await;
    assert_eq!(status, 200, "{lineage}");
    let mut ids: Vec<&str> = lineage["graph"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    assert_eq!(
        ids,
        vec![
            "dataset:kafka://broker-1:9092,broker-2:9092:invoices",
            "dataset:kafka://broker-1:9092,broker-2:9092:raw",
            node,
            "job:orders:billing",
            "job:orders:gw",
        ]
    );
    let valid = lineage["graph"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["id"] == node)
        .unwrap();
    assert_eq!(
        valid["inEdges"],
        json!([{"origin": "job:orders:gw", "destination": node}])
    );
    assert_eq!(valid["type"], "DATASET");

    // mesh's views: by bare product name.
    let (_, up) = get(&format!(
        "{}/api/v1/mesh/products/invoices/lineage?direction=upstream&depth=5",
        a.url
    ))
    .await;
    assert_eq!(up["nodes"].as_array().unwrap().len(), 5, "{up}");
    let (_, consumers) = get(&format!("{}/api/v1/mesh/products/valid/consumers", a.url)).await;
    assert_eq!(consumers["consumers"][0]["id"], "job:orders:billing");
    let (_, domains) = get(&format!("{}/api/v1/mesh/products/valid/domains", a.url)).await;
    assert_eq!(domains["domains"], json!(["orders"]));
    let (status, _) = get(&format!("{}/api/v1/mesh/products/nope/lineage", a.url)).await;
    assert_eq!(status, 404);

    // A second instance replays the same topic and serves the same graph.
    let b = collector(&cluster, &topic, &[]).await;
    let (_, lineage_b) = eventually("second instance caught up", async || {
        let r = get(&format!(
            "{}/api/v1/lineage?nodeId={}&depth=1",
            b.url,
            urlencode(node)
        ))
        .await;
        (r.0 == 200 && r.1["graph"].as_array().map(Vec::len) == Some(5)).then_some(r)
    })
    .await;
    assert_eq!(lineage_b["graph"].as_array().unwrap().len(), 5);
    eventually("second instance ready", async || {
        (get(&format!("{}/health/ready", b.url)).await.0 == 200).then_some(())
    })
    .await;
    a.stop().await;
    b.stop().await;
}

fn urlencode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_resumes_from_the_snapshot_and_a_bad_snapshot_means_full_replay() {
    let cluster = TestCluster::start();
    let topic = cluster.unique_topic("lineage-restart", 3).await;
    let dir = tempfile::tempdir().unwrap();
    let a = collector_with_cache(&cluster, &topic, &[], Some(dir.path())).await;
    let batch: Vec<Value> = (0..20)
        .map(|i| {
            let run = format!("0190c6d2-7a1b-7c3d-8e4f-{i:012x}");
            event(
                &run,
                "RUNNING",
                &format!("job{i}"),
                &[&format!("in{i}")],
                &[&format!("out{i}")],
            )
        })
        .collect();
    let r = reqwest::Client::new()
        .post(format!("{}/api/v1/lineage/batch", a.url))
        .json(&batch)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    eventually("20 events applied", async || {
        let (_, s) = get(&format!("{}/api/v1/mesh/stats", a.url)).await;
        (s["eventsApplied"] == 20).then_some(())
    })
    .await;
    a.stop().await; // the last snapshot is written before stop returns
    assert!(dir.path().join("lineage-snapshot.json").is_file());

    // While it is down, one more event arrives on the topic.
    let late = event(R1, "RUNNING", "late", &["out3"], &["late-out"]);
    cluster
        .produce(
            &topic,
            vec![(
                Some(b"run:orders/late".to_vec()),
                serde_json::to_vec(&late).unwrap(),
            )],
        )
        .await;

    // Restart: the snapshot brings the 20, only the new event is replayed.
    let b = collector_with_cache(&cluster, &topic, &[], Some(dir.path())).await;
    let s = eventually("restarted and caught up", async || {
        let (_, s) = get(&format!("{}/api/v1/mesh/stats", b.url)).await;
        (s["jobs"] == 21).then_some(s)
    })
    .await;
    assert_eq!(s["eventsApplied"], 1, "only the tail is replayed: {s}");
    assert_eq!(s["datasets"], 41);
    let (_, job) = get(&format!("{}/api/v1/namespaces/orders/jobs/job3", b.url)).await;
    assert_eq!(
        job["latestRun"]["events"], 1,
        "runs survive the snapshot: {job}"
    );
    b.stop().await;

    // A damaged snapshot is ignored: everything is replayed from the topic.
    std::fs::write(
        dir.path().join("lineage-snapshot.json"),
        b"{\"format\": 1, \"trunc",
    )
    .unwrap();
    let c = collector_with_cache(&cluster, &topic, &[], Some(dir.path())).await;
    let s = eventually("full replay", async || {
        let (_, s) = get(&format!("{}/api/v1/mesh/stats", c.url)).await;
        (s["jobs"] == 21).then_some(s)
    })
    .await;
    assert_eq!(s["eventsApplied"], 21, "{s}");
    c.stop().await;
}
