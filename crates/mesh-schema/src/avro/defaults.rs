//! Validation of field default values against their schema (Java's `Schema.isValidDefault`,
//! which Confluent runs on register).
//!
//! The rules are Avro 1.11's: a union's default must match its *first* branch; enum and fixed
//! defaults must be JSON strings (Java checks neither symbol membership nor byte length, and
//! neither do we, so that everything Confluent accepts is accepted); a record default must give
//! every field without a default of its own.

use serde_json::Value;

use super::model::{Kind, Node, NodeId};

/// `Ok` if `value` is a valid default for the node; otherwise what was expected, for the
/// message ("is not a valid int").
pub(crate) fn validate_default(nodes: &[Node], id: NodeId, value: &Value) -> Result<(), String> {
    if is_valid(nodes, id, value) {
        Ok(())
    } else {
        Err(format!("is not a valid {}", describe(nodes, id)))
    }
}

fn describe(nodes: &[Node], id: NodeId) -> String {
    let kind = &nodes[id.0].kind;
    match kind {
        Kind::Union(branches) => match branches.first() {
            Some(first) => format!(
                "{} (a union's default must match its first branch)",
                describe(nodes, *first)
            ),
            None => "value of an empty union".to_owned(),
        },
        _ => match kind.named() {
            Some(n) => format!("{} {}", kind.json_name(), n.name),
            None => kind.json_name().to_owned(),
        },
    }
}

fn is_valid(nodes: &[Node], id: NodeId, v: &Value) -> bool {
    match &nodes[id.0].kind {
        Kind::Null => v.is_null(),
        Kind::Boolean => v.is_boolean(),
        Kind::Int => v.as_i64().is_some_and(|i| i32::try_from(i).is_ok()),
        Kind::Long => v.is_i64() || v.as_u64().is_some_and(|u| i64::try_from(u).is_ok()),
        // Newer Avro also accepts the JSON spellings of the non-finite values.
        Kind::Float | Kind::Double => {
            v.is_number() || matches!(v.as_str(), Some("NaN" | "Infinity" | "-Infinity"))
        }
        Kind::Bytes | Kind::String | Kind::Enum { .. } | Kind::Fixed { .. } => v.is_string(),
        Kind::Array(items) => v
            .as_array()
            .is_some_and(|a| a.iter().all(|e| is_valid(nodes, *items, e))),
        Kind::Map(values) => v
            .as_object()
            .is_some_and(|m| m.values().all(|e| is_valid(nodes, *values, e))),
        Kind::Union(branches) => branches.first().is_some_and(|b| is_valid(nodes, *b, v)),
        Kind::Record { fields, .. } => v.as_object().is_some_and(|obj| {
            // A missing field takes its own default, which is validated where it is declared;
            // re-validating it here could loop forever through a recursive record.
            fields.iter().all(|f| match obj.get(&f.name) {
                Some(fv) => is_valid(nodes, f.schema, fv),
                None => f.default.is_some(),
            })
        }),
    }
}
