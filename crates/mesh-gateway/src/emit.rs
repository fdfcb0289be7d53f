//! What the gateway writes once per quality window: a quality event on `_mesh.quality` and an
//! OpenLineage RunEvent on `_mesh.lineage` (one STREAMING job per product).

use std::collections::BTreeMap;

use serde_json::{Value, json};

use crate::config::GatewayConfig;
use crate::contracts::ProductContracts;
use crate::quality::Window;
use crate::stream::now_ms;

const PRODUCER: &str = "https://example.invalid/mesh/mesh-gateway";
const RUN_EVENT_SCHEMA: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent";

/// The Avro schema of `_mesh.quality` values, registered as `<quality topic>-value`.
pub const QUALITY_SCHEMA: &str = include_str!("../../../schemas/quality-window.avsc");

/// `(topic, key, value)` records for one product's window; the quality value is Avro in
/// Confluent wire format with `quality_schema_id`. `first` = the product's first window in this
/// process (the lineage event is then START, else RUNNING).
pub fn window_records(
    config: &GatewayConfig,
    product: &ProductContracts,
    w: &mut Window,
    first: bool,
    quality_schema_id: u32,
) -> Vec<(String, String, Vec<u8>)> {
    let p50 = w.latency_quantile(0.5);
    let p95 = w.latency_quantile(0.95);
    let p99 = w.latency_quantile(0.99);
    if let Some(p) = p99 {
        ::metrics::gauge!(crate::metrics::LATENCY_P99, "product" => product.product_id.clone())
            .set(p as f64 / 1000.0);
    }
    if let Some(t) = w.last_event_time {
        ::metrics::gauge!(crate::metrics::LAST_EVENT_TIME, "product" => product.product_id.clone())
            .set(t as f64 / 1000.0);
    }
    let now = now_ms();
    let quality = encode_quality(&QualityFields {
        product: &product.product_id,
        instance: &config.instance_id,
        window_end: now,
        window_ms: config.quality_window.as_millis() as i64,
        w,
        latency: [p50, p95, p99],
    });
    let job = format!("gateway.{}", product.product_id);
    let lineage = run_event(config, product, &job, w, first, now);
    vec![
        (config.quality_topic.clone(), product.product_id.clone(), {
            let mut v = vec![0];
            v.extend(quality_schema_id.to_be_bytes());
            v.extend(quality);
            v
        }),
        (
            config.lineage_topic.clone(),
            format!("run:{}/{}", config.lineage_namespace, job),
            serde_json::to_vec(&lineage).unwrap_or_default(),
        ),
    ]
}

struct QualityFields<'a> {
    product: &'a str,
    instance: &'a str,
    window_end: i64,
    window_ms: i64,
    w: &'a Window,
    latency: [Option<i64>; 3],
}

/// Avro binary of one `QualityWindow` (schemas/quality-window.avsc), field by field.
fn encode_quality(q: &QualityFields<'_>) -> Vec<u8> {
    use crate::encode::long;
    fn string(b: &mut Vec<u8>, s: &str) {
        long(b, s.len() as i64);
        b.extend(s.as_bytes());
    }
    fn map(b: &mut Vec<u8>, m: &BTreeMap<String, u64>) {
        if !m.is_empty() {
            long(b, m.len() as i64);
            for (k, v) in m {
                string(b, k);
                long(b, *v as i64);
            }
        }
        long(b, 0);
    }
    fn opt(b: &mut Vec<u8>, v: Option<i64>) {
        match v {
            None => long(b, 0),
            Some(v) => {
                long(b, 1);
                long(b, v);
            }
        }
    }
    let mut b = Vec::with_capacity(128);
    string(&mut b, q.product);
    string(&mut b, q.instance);
    long(&mut b, q.window_end);
    long(&mut b, q.window_ms);
    for n in [q.w.valid, q.w.rejected, q.w.warned, q.w.bytes] {
        long(&mut b, n as i64);
    }
    map(&mut b, &q.w.failures);
    map(&mut b, &q.w.field_failures);
    for l in q.latency {
        opt(&mut b, l);
    }
    opt(&mut b, q.w.last_event_time);
    b
}

fn facet(mut v: Value, schema: &str) -> Value {
    v["_producer"] = json!(PRODUCER);
    v["_schemaURL"] = json!(schema);
    v
}

fn run_event(
    config: &GatewayConfig,
    product: &ProductContracts,
    job: &str,
    w: &Window,
    first: bool,
    now: i64,
) -> Value {
    let ns = "kafka";
    let total = w.valid + w.rejected;
    let assertions: Vec<Value> = product
        .by_major
        .values()
        .flat_map(|c| c.contract.rules.iter())
        .map(|r| {
            json!({
                "assertion": r.name,
                "success": !w.failures.contains_key(&r.name),
                "column": r.field,
            })
        })
        .collect();
    let columns: BTreeMap<&String, Value> = w
        .field_failures
        .iter()
        .map(|(path, n)| {
            (
                path,
                json!({ "count": total, "nullCount": Value::Null, "failures": n }),
            )
        })
        .collect();
    let mut outputs: Vec<Value> = product
        .by_major
        .values()
        .map(|c| json!({"namespace": ns, "name": c.contract.topics.validated}))
        .collect();
    outputs.push(json!({"namespace": ns, "name": product.dlq_topic}));
    json!({
        "eventType": if first { "START" } else { "RUNNING" },
        "eventTime": iso8601(now),
        "producer": PRODUCER,
        "schemaURL": RUN_EVENT_SCHEMA,
        "run": { "runId": run_id(&config.instance_id, &product.product_id) },
        "job": {
            "namespace": config.lineage_namespace,
            "name": job,
            "facets": { "jobType": facet(json!({
                "processingType": "STREAMING", "integration": "MESH", "jobType": "CONTRACT_GATEWAY"
            }), "https://openlineage.io/spec/facets/2-0-3/JobTypeJobFacet.json") }
        },
        "inputs": [{
            "namespace": ns,
            "name": product.raw_topic,
            "inputFacets": {
                "dataQualityMetrics": facet(json!({
                    "rowCount": total, "bytes": w.bytes, "columnMetrics": columns
                }), "https://openlineage.io/spec/facets/1-0-2/DataQualityMetricsInputDatasetFacet.json"),
                "dataQualityAssertions": facet(json!({ "assertions": assertions }),
                    "https://openlineage.io/spec/facets/1-0-1/DataQualityAssertionsDatasetFacet.json"),
            }
        }],
        "outputs": outputs,
    })
}

/// A stable UUID-shaped run id per (instance, product) for this process' lifetime.
fn run_id(instance: &str, product: &str) -> String {
    use std::hash::{Hash, Hasher};
    static START: std::sync::OnceLock<i64> = std::sync::OnceLock::new();
    let start = *START.get_or_init(now_ms);
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (instance, product, start).hash(&mut h);
    let a = h.finish();
    (product, instance, start).hash(&mut h);
    let b = h.finish();
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        ((b >> 48) & 0x3fff) | 0x8000,
        b & 0xffff_ffff_ffff
    )
}

pub use mesh_runtime::time::rfc3339_millis as iso8601;

#[cfg(test)]
mod tests {
    #[test]
    fn quality_events_decode_with_their_published_schema() {
        let schema = mesh_schema::avro::AvroSchema::parse(super::QUALITY_SCHEMA).unwrap();
        let mut w = super::Window {
            valid: 3,
            rejected: 1,
            failures: [("status-known".to_owned(), 1)].into(),
            last_event_time: Some(1_000),
            ..Default::default()
        };
        let bytes = super::encode_quality(&super::QualityFields {
            product: "orders.order-placed",
            instance: "a",
            window_end: 2_000,
            window_ms: 10_000,
            w: &w,
            latency: [Some(5), None, Some(9)],
        });
        let v = schema.decode(&bytes).unwrap();
        assert_eq!(v["valid"], 3);
        assert_eq!(v["ruleFailures"]["status-known"], 1);
        assert_eq!(v["latencyP95Ms"], serde_json::Value::Null);
        assert_eq!(v["latencyP99Ms"], 9);
        assert_eq!(v["lastEventTime"], 1_000);
        w.valid = 0;
    }

    #[test]
    fn iso8601_matches_known_instants() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::iso8601(1_709_251_199_123),
            "2024-02-29T23:59:59.123Z"
        );
    }
}
