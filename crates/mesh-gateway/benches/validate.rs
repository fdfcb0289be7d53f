//! In-process validation throughput: [`mesh_gateway::validate::validate`] on ~100-byte records
//! (wire format + schema lookup + strict decode + five native field rules), one core.
//!
//! ```sh
//! cargo bench -p mesh-gateway --bench validate
//! ```
//!
//! Avro: a 7-field record (~100 bytes encoded). JSON: the same event as JSON text under a JSON
//! schema id (well-formed JSON, instance validation against the JSON Schema, then the rules).
//! Each runs `BENCH_SECONDS` (default 3) after a warm-up and prints records/s.

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesh_contract::model::{
    Action, Check, KeyPolicy, PhysicalSchema, RuleKind, RuleSpec, Status, TombstonePolicy,
};
use mesh_contract::{ResolvedContract, Severity};
use mesh_gateway::contracts::ContractSet;
use mesh_gateway::registry::{ParsedSchema, SchemaEntry, StaticSchemas};
use mesh_gateway::validate::{Outcome, RecordView, validate};
use mesh_schema::avro::AvroSchema;

const SCHEMA: &str = r#"{"type":"record","name":"Payment","fields":[
  {"name":"payment_id","type":"string"},
  {"name":"order_id","type":"string"},
  {"name":"status","type":"string"},
  {"name":"currency","type":"string"},
  {"name":"amount","type":"double"},
  {"name":"attempt","type":"int"},
  {"name":"note","type":["null","string"]}]}"#;

const JSON_SCHEMA: &str = r#"{"type":"object","required":["payment_id","order_id","status","currency","amount","attempt"],
  "properties":{"payment_id":{"type":"string"},"order_id":{"type":"string"},
  "status":{"type":"string"},"currency":{"type":"string","minLength":3,"maxLength":3},
  "amount":{"type":"number"},"attempt":{"type":"integer"},"note":{"type":["null","string"]}},
  "additionalProperties":false}"#;

fn rule(name: &str, field: &str, check: Check) -> RuleSpec {
    RuleSpec {
        name: name.into(),
        kind: RuleKind::Field,
        field: Some(field.into()),
        check,
        severity: Severity::Error,
        action: Action::Reject,
        description: None,
    }
}

/// The orders example contract, re-pointed at the payment schema with five field rules.
fn contract(schema_type: &str) -> ResolvedContract {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schemas/examples/orders");
    let mut files = std::collections::BTreeMap::new();
    let mut yaml = None;
    for e in std::fs::read_dir(dir).expect("examples") {
        let p = e.expect("entry").path();
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let text = std::fs::read_to_string(&p).expect("read");
        if name.ends_with(".yaml") {
            yaml = Some((name.clone(), text.clone()));
        }
        files.insert(name, text);
    }
    let (name, text) = yaml.expect("contract yaml");
    let mut c = mesh_contract::load_contract(&name, &text, &mesh_contract::MemoryFiles(files))
        .contract
        .expect("example contract");
    c.topics.raw = "payments.payment.raw".into();
    c.value_schema = PhysicalSchema {
        schema_type: schema_type.into(),
        schema: SCHEMA.into(),
        subject: "payments.payment.raw-value".into(),
    };
    c.major = 1;
    c.status = Status::Active;
    c.key = KeyPolicy {
        schema: None::<PhysicalSchema>,
        required: false,
    };
    c.tombstones = TombstonePolicy::Reject;
    c.rules = vec![
        rule("payment-id-required", "payment_id", Check::Required),
        rule(
            "amount-positive",
            "amount",
            Check::Minimum {
                value: 0.0,
                exclusive: true,
            },
        ),
        rule(
            "currency-code",
            "currency",
            Check::Pattern {
                regex: "^[A-Z]{3}$".into(),
            },
        ),
        rule(
            "status-known",
            "status",
            Check::Enum {
                values: vec!["AUTHORIZED".into(), "CAPTURED".into(), "FAILED".into()],
            },
        ),
        rule(
            "attempt-max",
            "attempt",
            Check::Maximum {
                value: 10.0,
                exclusive: false,
            },
        ),
    ];
    c
}

fn avro_record() -> Vec<u8> {
    fn s(b: &mut Vec<u8>, v: &str) {
        b.push((v.len() as u8) << 1);
        b.extend(v.as_bytes());
    }
    let mut b = vec![0, 0, 0, 0, 1];
    s(&mut b, "3f1c9a52-8d0e-4b7a-9c1f-2e6d5b4a3c21");
    s(&mut b, "0d6c1f0e-3c1a-4a8e-9d55");
    s(&mut b, "CAPTURED");
    s(&mut b, "EUR");
    b.extend(129.95f64.to_le_bytes());
    b.push(2); // attempt 1
    b.push(2); // note: string
    s(&mut b, "first try");
    b
}

fn json_record() -> Vec<u8> {
    let mut b = vec![0, 0, 0, 0, 2];
    b.extend(
        br#"{"payment_id":"3f1c9a52","order_id":"0d6c1f0e","status":"CAPTURED","currency":"EUR","amount":129.95,"attempt":1}"#,
    );
    b
}

fn run(label: &str, set: &ContractSet, schemas: &StaticSchemas, record: &[u8]) {
    let product = set.product("payments.payment.raw").expect("product");
    let seconds: u64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(3);
    let view = RecordView {
        key: None,
        value: Some(record),
        header_schema_id: false,
    };
    // Warm-up and a correctness check: the record is valid.
    match validate(&product, schemas, view).expect("lookup") {
        Outcome::Valid { .. } => {}
        other => panic!("{label}: benchmark record must be valid: {other:?}"),
    }
    let warm = Instant::now();
    while warm.elapsed() < Duration::from_millis(500) {
        std::hint::black_box(validate(&product, schemas, view).ok());
    }
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_secs(seconds) {
        for _ in 0..1000 {
            std::hint::black_box(validate(&product, schemas, std::hint::black_box(view)).ok());
        }
        n += 1000;
    }
    let rate = n as f64 / start.elapsed().as_secs_f64();
    println!(
        "{label:<6} {:>4} bytes/record  {:>12.0} records/s  {:>7.0} ns/record",
        record.len(),
        rate,
        1e9 / rate
    );
}

fn main() {
    let mut map = HashMap::new();
    map.insert(
        1,
        Arc::new(SchemaEntry {
            id: 1,
            parsed: ParsedSchema::Avro(AvroSchema::parse(SCHEMA).expect("schema")),
            major: Some(1),
            live_in: vec![("payments.payment.raw-value".into(), 1)],
        }),
    );
    map.insert(
        2,
        Arc::new(SchemaEntry {
            id: 2,
            parsed: ParsedSchema::json(2, JSON_SCHEMA),
            major: Some(1),
            live_in: vec![("payments.payment.raw-value".into(), 2)],
        }),
    );
    let schemas = StaticSchemas(map);
    let set = ContractSet::default();
    for t in ["AVRO", "JSON"] {
        let c = contract(t);
        let set_one = ContractSet::default();
        set_one
            .apply(&c.record_key(), Some(&c.to_record()))
            .expect("contract applies");
        let record = if t == "AVRO" {
            avro_record()
        } else {
            json_record()
        };
        run(t, &set_one, &schemas, &record);
    }
    drop(set);
}
