//! mesh's OpenLineage validation held against the spec itself: the 2-0-2 JSON Schema (via the
//! `jsonschema` crate, formats on) is the oracle, the spec's sample documents the fixtures.

use std::path::{Path, PathBuf};

use mesh_lineage::event;
use serde_json::{Value, json};

fn spec_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/conformance/openlineage-spec")
}

fn oracle() -> jsonschema::Validator {
    let text = std::fs::read_to_string(spec_dir().join("OpenLineage.json")).expect("spec schema");
    let schema: Value = serde_json::from_str(&text).unwrap();
    jsonschema::options()
        .should_validate_formats(true)
        .build(&schema)
        .expect("schema compiles")
}

fn samples() -> Vec<(PathBuf, Value)> {
    let mut out = Vec::new();
    let mut dirs = vec![spec_dir().join("tests")];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                let v = serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
                out.push((p, v));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

fn is_full_event(v: &Value) -> bool {
    v.get("eventTime").is_some() && v.get("schemaURL").is_some()
}

#[test]
fn every_full_event_sample_is_accepted_as_the_schema_accepts_it() {
    let oracle = oracle();
    let mut full = 0;
    for (path, doc) in samples().into_iter().filter(|(_, v)| is_full_event(v)) {
        full += 1;
        assert!(oracle.is_valid(&doc), "oracle rejects {}", path.display());
        let e = event::from_value(&doc)
            .unwrap_or_else(|v| panic!("{} rejected: {v:?}", path.display()));
        assert!(!e.kafka_key().is_empty());
    }
    assert!(
        full >= 1,
        "no full-event sample found under {}",
        spec_dir().display()
    );
}

/// A minimal valid RunEvent as the Python client sends it.
fn base() -> Value {
    json!({
        "eventType": "RUNNING",
        "eventTime": "2026-01-01T00:00:00.123456+00:00",
        "producer": "https://example.invalid/backbone/v0",
        "schemaURL": "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent",
        "run": {"runId": "0190c6d2-7a1b-7c3d-8e4f-0123456789ab", "facets": {}},
        "job": {"namespace": "domain-orders", "name": "gateway.orders", "facets": {}},
        "inputs": [{"namespace": "kafka://broker-1:9092", "name": "orders.raw",
                    "facets": {}, "inputFacets": {}}],
        "outputs": [{"namespace": "kafka://broker-1:9092", "name": "orders.validated",
                     "facets": {}, "outputFacets": {}}]
    })
}

#[test]
fn facet_samples_are_kept_verbatim_inside_an_event() {
    let oracle = oracle();
    let mut wrapped = 0;
    for (path, doc) in samples().into_iter().filter(|(_, v)| !is_full_event(v)) {
        let Some(facets) = doc.as_object() else {
            continue;
        };
        let mut e = base();
        e["outputs"][0]["facets"] = Value::Object(facets.clone());
        let ours = event::from_value(&e);
        assert_eq!(
            ours.is_ok(),
            oracle.is_valid(&e),
            "{}: mesh {:?} vs schema",
            path.display(),
            ours.as_ref().err()
        );
        if let Ok(event::Event::Run { outputs, .. }) = ours {
            assert_eq!(
                &outputs[0].facets,
                facets,
                "{} not verbatim",
                path.display()
            );
            wrapped += 1;
        }
    }
    assert!(wrapped > 20, "only {wrapped} facet samples wrapped");
}

#[test]
fn violations_are_caught_with_their_json_path_as_the_schema_catches_them() {
    let oracle = oracle();
    type Mutation = fn(&mut Value);
    let cases: Vec<(&str, Mutation, &str)> = vec![
        (
            "missing runId",
            |e| {
                e["run"].as_object_mut().unwrap().remove("runId");
            },
            "$.run.runId",
        ),
        (
            "missing job",
            |e| {
                e.as_object_mut().unwrap().remove("job");
            },
            "$.job",
        ),
        (
            "missing eventTime",
            |e| {
                e.as_object_mut().unwrap().remove("eventTime");
            },
            "$.eventTime",
        ),
        (
            "bad uuid",
            |e| e["run"]["runId"] = json!("not-a-uuid"),
            "$.run.runId",
        ),
        (
            "uuid wrong type",
            |e| e["run"]["runId"] = json!(42),
            "$.run.runId",
        ),
        (
            "eventTime not a date-time",
            |e| e["eventTime"] = json!("yesterday"),
            "$.eventTime",
        ),
        (
            "eventTime wrong type",
            |e| e["eventTime"] = json!(1_700_000_000),
            "$.eventTime",
        ),
        (
            "job name wrong type",
            |e| e["job"]["name"] = json!(5),
            "$.job.name",
        ),
        (
            "job namespace missing",
            |e| {
                e["job"].as_object_mut().unwrap().remove("namespace");
            },
            "$.job.namespace",
        ),
        (
            "inputs not an array",
            |e| e["inputs"] = json!("orders.raw"),
            "$.inputs",
        ),
        (
            "input without name",
            |e| {
                e["inputs"][0].as_object_mut().unwrap().remove("name");
            },
            "$.inputs[0].name",
        ),
        (
            "unknown eventType",
            |e| e["eventType"] = json!("DONE"),
            "$.eventType",
        ),
        (
            "producer not a URI",
            |e| e["producer"] = json!("not a uri"),
            "$.producer",
        ),
        (
            "missing schemaURL",
            |e| {
                e.as_object_mut().unwrap().remove("schemaURL");
            },
            "$.schemaURL",
        ),
        (
            "facets not an object",
            |e| e["run"]["facets"] = json!([]),
            "$.run.facets",
        ),
        (
            "facet without _producer",
            |e| e["job"]["facets"] = json!({"x": {"_schemaURL": "https://s"}}),
            "$.job.facets.x._producer",
        ),
        (
            "_deleted not boolean",
            |e| e["outputs"][0]["facets"] = json!({"x": {"_producer": "https://p", "_schemaURL": "https://s", "_deleted": "yes"}}),
            "$.outputs[0].facets.x._deleted",
        ),
        (
            "job and dataset, no run",
            |e| {
                e.as_object_mut().unwrap().remove("run");
                e["dataset"] = json!({"namespace": "n", "name": "d"});
            },
            "$",
        ),
        ("not an object", |e| *e = json!([1, 2]), "$"),
        (
            "nothing to describe",
            |e| *e = json!({"eventTime": "2026-01-01T00:00:00Z", "producer": "https://p", "schemaURL": "https://s"}),
            "$",
        ),
    ];
    for (what, mutate, path) in cases {
        let mut e = base();
        mutate(&mut e);
        assert!(
            !oracle.is_valid(&e),
            "{what}: the schema accepts it, the case is wrong"
        );
        let violations = event::from_value(&e).expect_err(what);
        assert!(
            violations.iter().any(|v| v.path == path),
            "{what}: expected a violation at {path}, got {violations:?}"
        );
    }
    // And the valid shapes: RunEvent, JobEvent, DatasetEvent, eventType absent, any UUID version.
    let valid: Vec<Mutation> = vec![
        |_| {},
        |e| {
            e.as_object_mut().unwrap().remove("run");
        },
        |e| {
            *e = json!({"eventTime": "2026-01-01T00:00:00Z", "producer": "https://p",
                        "schemaURL": "https://s", "dataset": {"namespace": "n", "name": "d"}})
        },
        |e| {
            e.as_object_mut().unwrap().remove("eventType");
        },
        |e| e["run"]["runId"] = json!("f69a6e9b-9bac-3c9a-9cf6-eacb70ecc9a9"),
        |e| e["run"]["facets"] = json!({"custom_vendor": {"_producer": "https://p", "_schemaURL": "https://s", "anything": [1, {"x": null}]}}),
    ];
    for (i, mutate) in valid.into_iter().enumerate() {
        let mut e = base();
        mutate(&mut e);
        assert!(oracle.is_valid(&e), "valid case {i}: schema disagrees");
        event::from_value(&e).unwrap_or_else(|v| panic!("valid case {i}: {v:?}"));
    }
}
