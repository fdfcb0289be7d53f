//! Schema parsing never panics: arbitrary text through the Avro and JSON Schema parsers, every
//! rendering of a parsed Avro schema (Java `toString`, Parsing Canonical Form, normalized forms),
//! and compatibility of each parsed schema against itself and against a second schema from the
//! same input.
//!
//! Input layout: `A \0 B` (lossy UTF-8); without a NUL byte, B is empty and only A is used.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mesh_schema::CompatibilityLevel;
use mesh_schema::avro::{AvroSchema, ParseOptions};
use mesh_schema::compat::{self, CanRead};
use mesh_schema::json::{self, JsonSchema, SchemaReference};

#[path = "stack.rs"]
mod stack;

fuzz_target!(|data: &[u8]| {
    let (a, b) = match data.iter().position(|&c| c == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &[][..]),
    };
    let a = String::from_utf8_lossy(a).into_owned();
    let b = String::from_utf8_lossy(b).into_owned();
    // The registry parses on tokio worker threads: check with their stack size.
    stack::on_small_stack(move || {
        avro(&a, &b);
        json_schema(&a, &b);
    });
});

fn avro(a: &str, b: &str) {
    let pa = AvroSchema::parse(a).ok();
    let pb = AvroSchema::parse(b).ok();
    // `b` may use the named types `a` defines (a Confluent schema reference).
    let with_ref = AvroSchema::parse_with_references(b, &[a]).ok();
    for (s, self_contained) in [(&pa, true), (&pb, true), (&with_ref, false)] {
        let Some(s) = s else { continue };
        render(s, self_contained);
        assert!(
            AvroSchema::can_read(s, s).is_empty(),
            "a schema can read itself"
        );
    }
    if let (Some(x), Some(y)) = (&pa, &pb) {
        let _ = AvroSchema::can_read(x, y);
        let _ = AvroSchema::can_read(y, x);
        let _ = compat::check(CompatibilityLevel::FullTransitive, y, &[(1, x), (2, y)]);
    }
    if let (Some(x), Some(y)) = (&pa, &with_ref) {
        let _ = AvroSchema::can_read(x, y);
        let _ = AvroSchema::can_read(y, x);
    }
}

/// Everything the registry derives from a parsed Avro schema.
fn render(s: &AvroSchema, self_contained: bool) {
    let java = s.to_java_string();
    let _ = s.canonical_form();
    let _ = s.normalized();
    let _ = s.normalized_source();
    if let Ok(n) = s.normalize() {
        let _ = n.to_java_string();
        let _ = n.canonical_form();
    }
    // The registry stores the Java form and parses it again on every start (without default
    // validation, as for stored schemas): it must parse. Only self-contained schemas qualify.
    if self_contained {
        let lenient = ParseOptions {
            validate_defaults: false,
        };
        if let Err(e) = AvroSchema::parse_with_options(&java, &[], lenient) {
            panic!("Java form does not parse again: {e}\n{java}");
        }
    }
}

fn json_schema(a: &str, b: &str) {
    let pa = JsonSchema::parse(a).ok();
    let pb = JsonSchema::parse(b).ok();
    let refs = [SchemaReference {
        name: "a.json".into(),
        schema: a.to_owned(),
    }];
    let with_ref = JsonSchema::parse_with_references(b, &refs).ok();
    for s in [&pa, &pb, &with_ref].into_iter().flatten() {
        let _ = JsonSchema::can_read(s, s);
        let _ = json::diff(s, s);
    }
    if let (Some(x), Some(y)) = (&pa, &pb) {
        let _ = JsonSchema::can_read(x, y);
        let _ = JsonSchema::can_read(y, x);
        for policy in [
            json::CompatibilityPolicy::Strict,
            json::CompatibilityPolicy::Lenient,
        ] {
            let d = json::diff_with_policy(x, y, policy);
            let _ = json::incompatible(&d, policy);
        }
    }
    if let (Some(x), Some(y)) = (&pa, &with_ref) {
        let _ = JsonSchema::can_read(x, y);
        let _ = JsonSchema::can_read(y, x);
    }
}
