//! Unit tests, one module per rule family, on small hand-written schemas.

mod combined;
mod object_array;
mod parse_refs;
mod scalar;

use serde_json::Value;

use super::{JsonSchema, diff};

fn schema(v: &Value) -> JsonSchema {
    JsonSchema::parse(&v.to_string()).expect("test schema parses")
}

/// The differences from `original` to `update` as sorted `TYPE #/path` strings.
fn changes(original: Value, update: Value) -> Vec<String> {
    let mut out: Vec<String> = diff(&schema(&original), &schema(&update))
        .iter()
        .map(ToString::to_string)
        .collect();
    out.sort();
    out
}
