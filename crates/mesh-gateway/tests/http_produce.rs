//! HTTP produce end to end: valid batches land with their offsets, one bad event rejects the
//! whole batch with every violation, auth/limits/content-type errors, Idempotency-Key retries.

mod support;

use std::time::Duration;

use mesh_gateway::{Delivery, GatewayConfig};
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use rdkafka::Message;
use serde_json::{Value, json};
use support::*;

const DOMAINS: &str = "domains:
  orders:
    owners: [o@example.com]
    principals: [\"User:orders-service\"]
    topicPrefix: orders.
  payments:
    owners: [p@example.com]
    principals: [\"User:payments-service\"]
    topicPrefix: payments.
";

fn event(n: u64) -> Value {
    let schema = mesh_schema::avro::AvroSchema::parse(&order_schema()).unwrap();
    let value = schema.decode(&Order::valid(n).encode()).unwrap();
    json!({ "key": format!("o-{n}"), "value": value })
}

struct Api {
    base: String,
    http: reqwest::Client,
}

impl Api {
    async fn post(
        &self,
        product: &str,
        token: Option<&str>,
        body: &Value,
        key: Option<&str>,
    ) -> (u16, Value) {
        let mut r = self
            .http
            .post(format!("{}/api/v1/products/{product}/events", self.base))
            .json(body);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        if let Some(k) = key {
            r = r.header("Idempotency-Key", k);
        }
        let resp = r.send().await.expect("request");
        let status = resp.status().as_u16();
        (status, resp.json().await.expect("json body"))
    }
}

async fn start(h: &Harness, shutdown: &Shutdown, dir: &tempfile::TempDir) -> Api {
    let domains = dir.path().join("domains.yaml");
    std::fs::write(&domains, DOMAINS).unwrap();
    let config = GatewayConfig {
        tokens: [
            ("orders-token".to_owned(), "User:orders-service".to_owned()),
            (
                "payments-token".to_owned(),
                "User:payments-service".to_owned(),
            ),
        ]
        .into(),
        domains_file: Some(domains),
        max_body_bytes: 64 * 1024,
        max_events_per_request: 10,
        ..h.config(Delivery::ExactlyOnce)
    };
    h.apply_contract(Some(&h.contract));
    let gw = h.start(config, None, shutdown).await;
    wait_for("contract applied", Duration::from_secs(20), || {
        !gw.contracts.raw_topics().is_empty()
    })
    .await;
    Api {
        base: format!("http://{}", gw.addr),
        http: reqwest::Client::new(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn produce_validates_whole_requests_and_writes_once() {
    let h = Harness::new(TestCluster::transactional(), 2).await;
    let shutdown = Shutdown::new();
    let dir = tempfile::tempdir().unwrap();
    let api = start(&h, &shutdown, &dir).await;
    let product = h.contract.product_id.clone();
    let tok = Some("orders-token");

    // A valid batch lands in the validated topic at the returned offsets.
    let batch = json!([event(1), event(2), event(3)]);
    let (status, body) = api.post(&product, tok, &batch, None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["schemaId"], h.schema_id);
    assert_eq!(body["topic"], h.contract.topics.validated.as_str());
    let offsets = body["offsets"].as_array().unwrap().clone();
    assert_eq!(offsets.len(), 3);
    let written = h.cluster.read_all(&h.contract.topics.validated, true).await;
    assert_eq!(written.len(), 3);
    for (i, o) in offsets.iter().enumerate() {
        let m = written
            .iter()
            .find(|m| {
                i64::from(m.partition()) == o["partition"].as_i64().unwrap()
                    && m.offset() == o["offset"].as_i64().unwrap()
            })
            .unwrap_or_else(|| panic!("event {i} at {o}"));
        assert_eq!(m.key(), Some(h.key(&format!("o-{}", i + 1)).as_slice()));
        assert_eq!(&m.payload().unwrap()[..5], &wire(h.schema_id, &[])[..]);
        assert_eq!(
            hdr(m, "__mesh.principal").as_deref(),
            Some("User:orders-service")
        );
    }

    // One bad event (a rule) and one mis-shaped event: the whole batch is rejected, every
    // violation listed with its index, nothing written.
    let mut bad_rule = event(4);
    bad_rule["value"]["status"] = json!("LOST");
    bad_rule["key"] = json!(5); // the key schema is "string"
    let mut bad_shape = event(5);
    bad_shape["value"]["total"] = json!("lots");
    bad_shape["value"]
        .as_object_mut()
        .unwrap()
        .remove("currency");
    let (status, body) = api
        .post(&product, tok, &json!([event(6), bad_rule, bad_shape]), None)
        .await;
    assert_eq!(status, 422, "{body}");
    let details = body["error"]["details"].as_array().unwrap();
    let got: Vec<(u64, Option<&str>, &str)> = details
        .iter()
        .map(|d| {
            (
                d["index"].as_u64().unwrap(),
                d["rule"].as_str(),
                d["path"].as_str().unwrap(),
            )
        })
        .collect();
    assert!(got.contains(&(1, Some("status-known"), "status")), "{body}");
    assert!(got.contains(&(1, None, "$key")), "{body}");
    assert!(
        !details.iter().any(|d| d["code"] == "KEY_REQUIRED"),
        "a key that did not encode is not also reported missing: {body}"
    );
    assert!(got.contains(&(2, None, "$.currency")), "{body}");
    assert!(got.contains(&(2, None, "$.total")), "{body}");
    assert!(
        !got.iter().any(|d| d.0 == 0),
        "the valid event has no violation"
    );
    assert_eq!(body["error"]["code"], "contract_violation");

    // Idempotency-Key: a retry returns the same response and writes nothing again.
    let one = json!(event(7));
    let first = api.post(&product, tok, &one, Some("k-1")).await;
    let again = api.post(&product, tok, &one, Some("k-1")).await;
    assert_eq!(first.0, 200, "{}", first.1);
    assert_eq!(first, again);
    let other = api.post(&product, tok, &json!(event(8)), Some("k-1")).await;
    assert_eq!(other.0, 409, "{}", other.1);
    assert!(
        other.1["error"]["message"]
            .as_str()
            .unwrap()
            .contains("different request body")
    );
    let written = h.cluster.read_all(&h.contract.topics.validated, true).await;
    assert_eq!(
        written.len(),
        4,
        "3 + one idempotent event; nothing from the 422"
    );

    // The served OpenAPI document is the crate's, and its request examples are accepted as-is.
    let doc: Value = api
        .http
        .get(format!("{}/api/v1/openapi.json", api.base))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        doc,
        serde_json::from_str::<Value>(mesh_gateway::api::OPENAPI).unwrap()
    );
    let examples = doc["paths"]["/api/v1/products/{product}/events"]["post"]["requestBody"]
        ["content"]["application/json"]["examples"]
        .as_object()
        .unwrap();
    for (name, ex) in examples {
        let (s, b) = api.post(&product, tok, &ex["value"], None).await;
        assert_eq!(s, 200, "example {name}: {b}");
    }
    let written = h.cluster.read_all(&h.contract.topics.validated, true).await;
    assert_eq!(written.len(), 4 + examples.len());
    let before_errors = written.len();

    // Auth, ownership, unknown product.
    let (s, b) = api.post(&product, None, &one, None).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (401, Some("unauthorized"))
    );
    let (s, _) = api.post(&product, Some("nope"), &one, None).await;
    assert_eq!(s, 401);
    let (s, b) = api.post(&product, Some("payments-token"), &one, None).await;
    assert_eq!(s, 403, "{b}");
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("domain payments")
    );
    let (s, b) = api.post("orders.nope", tok, &one, None).await;
    assert_eq!((s, b["error"]["code"].as_str()), (404, Some("not_found")));

    // Limits and input shape.
    let eleven: Vec<Value> = (10..21).map(event).collect();
    let (s, b) = api.post(&product, tok, &json!(eleven), None).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (413, Some("too_many_events")),
        "{b}"
    );
    let huge = json!({"value": {"order_id": "x".repeat(70_000)}});
    let (s, b) = api.post(&product, tok, &huge, None).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (413, Some("payload_too_large"))
    );
    let (s, b) = api.post(&product, tok, &json!({"event": 1}), None).await;
    assert_eq!(
        (s, b["error"]["code"].as_str()),
        (400, Some("invalid_request")),
        "{b}"
    );
    let resp = api
        .http
        .post(format!("{}/api/v1/products/{product}/events", api.base))
        .bearer_auth("orders-token")
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 415);
    let b: Value = resp.json().await.unwrap();
    assert!(
        b["error"]["message"]
            .as_str()
            .unwrap()
            .contains("application/json")
    );
    let resp = api
        .http
        .post(format!("{}/api/v1/products/{product}/events", api.base))
        .bearer_auth("orders-token")
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 400);
    let written = h.cluster.read_all(&h.contract.topics.validated, true).await;
    assert_eq!(
        written.len(),
        before_errors,
        "no rejected request wrote anything"
    );
    shutdown.cancel();
}
