//! `mesh dlq list|show|replay` through the binary against a test broker.

use std::process::Command;
use std::time::Duration;

use mesh_kafka::testing::{TestCluster, header};
use rdkafka::Message;
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

const MESH: &str = env!("CARGO_BIN_EXE_mesh");

fn dead_letter(code: &str, rule: &str, trace: &str) -> OwnedHeaders {
    let errors = format!(
        r#"[{{"code":"{code}","rule":{},"path":"","message":"bad {trace}"}}]"#,
        if rule.is_empty() {
            "null".to_owned()
        } else {
            format!("\"{rule}\"")
        }
    );
    let mut h = OwnedHeaders::new();
    for (k, v) in [
        ("trace", trace),
        ("__mesh.source.offset", "7"),
        ("__mesh.error.code", code),
        ("__mesh.error.rule", rule),
        ("__mesh.error.path", ""),
        ("__mesh.error.message", "bad record"),
        ("__mesh.errors", errors.as_str()),
    ] {
        h = h.insert(Header {
            key: k,
            value: Some(v.as_bytes()),
        });
    }
    h
}

fn mesh(args: &[&str]) -> (bool, String) {
    let out = Command::new(MESH).args(args).output().expect("run mesh");
    let text =
        String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_show_and_replay_by_rule() {
    let cluster = TestCluster::start();
    let dlq = cluster.unique_topic("dlq", 1).await;
    let raw = cluster.unique_topic("raw", 1).await;
    let bootstrap = cluster.bootstrap_servers().to_owned();
    let producer: BaseProducer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .create()
        .unwrap();
    for (code, rule, trace) in [
        ("RULE_FAILED", "status-known", "a"),
        ("NO_MAGIC_BYTE", "", "b"),
        ("RULE_FAILED", "status-known", "c"),
    ] {
        producer
            .send(
                BaseRecord::to(&dlq)
                    .key(trace.as_bytes())
                    .payload(format!("value-{trace}").as_bytes())
                    .headers(dead_letter(code, rule, trace)),
            )
            .map_err(|(e, _)| e)
            .unwrap();
        producer.flush(Duration::from_secs(10)).unwrap();
    }
    let common = [
        "--bootstrap-server",
        bootstrap.as_str(),
        "--dlq-topic",
        dlq.as_str(),
    ];
    let (ok, out) = mesh(&[&["dlq", "list", "orders.x"][..], &common].concat());
    assert!(ok, "{out}");
    assert!(
        out.contains("NO_MAGIC_BYTE") && out.contains("status-known"),
        "{out}"
    );
    assert!(out.contains("3 record(s)"), "{out}");

    let (ok, out) = mesh(&[&["dlq", "show", "orders.x", "--offset", "1"][..], &common].concat());
    assert!(ok, "{out}");
    let doc: serde_json::Value = serde_json::from_str(&out).expect("show prints JSON");
    assert_eq!(doc["code"], "NO_MAGIC_BYTE");
    assert_eq!(doc["value"]["utf8"], "value-b");
    let (ok, out) = mesh(&[&["dlq", "show", "orders.x", "--offset", "9"][..], &common].concat());
    assert!(
        !ok && out.contains("no DLQ record at partition 0 offset 9"),
        "{out}"
    );

    let replay = [
        &[
            "dlq",
            "replay",
            "orders.x",
            "--rule",
            "status-known",
            "--by",
            "ci",
        ][..],
        &common,
        &["--raw-topic", raw.as_str()],
    ]
    .concat();
    let (ok, out) = mesh(&replay);
    assert!(ok && out.contains("replayed 2 record(s)"), "{out}");
    let replayed = cluster.read_all(&raw, false).await;
    assert_eq!(replayed.len(), 2);
    for m in &replayed {
        assert_eq!(header(m, "__mesh.replay.by").as_deref(), Some("ci"));
        assert!(header(m, "__mesh.replay.source.offset").is_some());
        assert!(header(m, "trace").is_some(), "original header kept");
        assert_eq!(header(m, "__mesh.error.code"), None);
        assert_eq!(
            m.payload().unwrap(),
            format!("value-{}", header(m, "trace").unwrap()).as_bytes()
        );
    }
    let (ok, out) = mesh(&replay);
    assert!(
        ok && out.contains("replayed 0") && out.contains("skipped 2 already replayed"),
        "{out}"
    );
    let (_, out) = mesh(&[&["dlq", "list", "orders.x"][..], &common].concat());
    assert_eq!(out.matches("yes (1x)").count(), 2, "{out}");
}
