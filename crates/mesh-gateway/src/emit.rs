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

/// `(topic, key, value)` records for one product's window. `first` = the product's first
/// window in this process (the lineage event is then START, else RUNNING).
pub fn window_records(
    config: &GatewayConfig,
    product: &ProductContracts,
    w: &mut Window,
    first: bool,
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
    let quality = json!({
        "product": product.product_id,
        "windowEnd": now,
        "windowMs": config.quality_window.as_millis() as u64,
        "valid": w.valid,
        "rejected": w.rejected,
        "warned": w.warned,
        "bytes": w.bytes,
        "ruleFailures": w.failures,
        "fieldFailures": w.field_failures,
        "latencyP50Ms": p50,
        "latencyP95Ms": p95,
        "latencyP99Ms": p99,
        "lastEventTime": w.last_event_time,
        "instance": config.instance_id,
    });
    let job = format!("gateway.{}", product.product_id);
    let lineage = run_event(config, product, &job, w, first, now);
    vec![
        (
            config.quality_topic.clone(),
            product.product_id.clone(),
            serde_json::to_vec(&quality).unwrap_or_default(),
        ),
        (
            config.lineage_topic.clone(),
            format!("run:{}/{}", config.lineage_namespace, job),
            serde_json::to_vec(&lineage).unwrap_or_default(),
        ),
    ]
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

/// RFC 3339 UTC with milliseconds, from unix ms (civil-from-days, no calendar crate).
pub fn iso8601(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let days = secs.div_euclid(86_400);
    let sod = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{:03}Z",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60,
        ms.rem_euclid(1000)
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso8601_matches_known_instants() {
        assert_eq!(super::iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(
            super::iso8601(1_709_251_199_123),
            "2024-02-29T23:59:59.123Z"
        );
    }
}
