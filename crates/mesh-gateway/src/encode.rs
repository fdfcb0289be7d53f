//! JSON event → Avro binary (the inverse of `AvroSchema::decode`'s JSON form), for HTTP produce.
//!
//! The JSON form is the one the decoder yields and contract rules see: unions as the plain value
//! (the first branch that accepts it), bytes/fixed as ISO-8859-1 strings, enums as symbols. A
//! record field missing from the event takes its schema default. Every shape mismatch is
//! reported with its `$` path (not just the first), so a client fixes an event in one round.

use mesh_schema::avro::{AvroSchema, Kind, NodeId};
use serde_json::Value;

/// Nesting limit (same order as the decoder's): deeper events are rejected, never recursed.
const MAX_DEPTH: usize = 64;

/// One place where the event does not fit the schema.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ShapeError {
    pub path: String,
    pub message: String,
}

/// Encodes `event` with `schema`; `Err` lists every mismatch.
pub fn to_avro(schema: &AvroSchema, event: &Value) -> Result<Vec<u8>, Vec<ShapeError>> {
    let mut e = Encoder {
        schema,
        out: Vec::with_capacity(128),
        errors: Vec::new(),
    };
    e.value(schema.root(), event, &mut String::from("$"), 0);
    if e.errors.is_empty() {
        Ok(e.out)
    } else {
        Err(e.errors)
    }
}

struct Encoder<'a> {
    schema: &'a AvroSchema,
    out: Vec<u8>,
    errors: Vec<ShapeError>,
}

/// An Avro `long` (zig-zag varint).
pub(crate) fn long(out: &mut Vec<u8>, v: i64) {
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    loop {
        if z < 0x80 {
            out.push(z as u8);
            return;
        }
        out.push((z as u8 & 0x7f) | 0x80);
        z >>= 7;
    }
}

fn latin1(s: &str) -> Option<Vec<u8>> {
    s.chars().map(|c| u8::try_from(u32::from(c)).ok()).collect()
}

fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(_) => "number",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

impl Encoder<'_> {
    fn fail(&mut self, path: &str, message: String) {
        self.errors.push(ShapeError {
            path: path.to_owned(),
            message,
        });
    }

    fn mismatch(&mut self, path: &str, expected: &str, v: &Value) {
        self.fail(path, format!("expected {expected}, got {}", json_type(v)));
    }

    fn value(&mut self, id: NodeId, v: &Value, path: &mut String, depth: usize) {
        if depth > MAX_DEPTH {
            self.fail(path, format!("nested deeper than {MAX_DEPTH} levels"));
            return;
        }
        let schema = self.schema;
        match &schema.node(id).kind {
            Kind::Null => {
                if !v.is_null() {
                    self.mismatch(path, "null", v);
                }
            }
            Kind::Boolean => match v {
                Value::Bool(b) => self.out.push(u8::from(*b)),
                _ => self.mismatch(path, "boolean", v),
            },
            Kind::Int => match v.as_i64().and_then(|i| i32::try_from(i).ok()) {
                Some(i) => long(&mut self.out, i64::from(i)),
                None => self.mismatch(path, "int (32-bit integer)", v),
            },
            Kind::Long => match v.as_i64() {
                Some(i) => long(&mut self.out, i),
                None => self.mismatch(path, "long (64-bit integer)", v),
            },
            Kind::Float => match float(v) {
                Some(f) => self.out.extend_from_slice(&(f as f32).to_le_bytes()),
                None => self.mismatch(path, "float", v),
            },
            Kind::Double => match float(v) {
                Some(f) => self.out.extend_from_slice(&f.to_le_bytes()),
                None => self.mismatch(path, "double", v),
            },
            Kind::String => match v {
                Value::String(s) => {
                    long(&mut self.out, s.len() as i64);
                    self.out.extend_from_slice(s.as_bytes());
                }
                _ => self.mismatch(path, "string", v),
            },
            Kind::Bytes => match v.as_str().and_then(latin1) {
                Some(b) => {
                    long(&mut self.out, b.len() as i64);
                    self.out.extend_from_slice(&b);
                }
                None => self.mismatch(path, "bytes (ISO-8859-1 string)", v),
            },
            Kind::Fixed { size, .. } => match v.as_str().and_then(latin1) {
                Some(b) if b.len() as u64 == *size => self.out.extend_from_slice(&b),
                _ => self.fail(
                    path,
                    format!("expected fixed of {size} bytes (ISO-8859-1 string)"),
                ),
            },
            Kind::Enum { symbols, .. } => {
                match v.as_str().and_then(|s| symbols.iter().position(|x| x == s)) {
                    Some(i) => long(&mut self.out, i as i64),
                    None => self.fail(
                        path,
                        format!("expected one of the symbols {symbols:?}, got {v}"),
                    ),
                }
            }
            Kind::Union(branches) => {
                // The first branch that encodes without error wins (as Avro's JSON resolution
                // of plain values does for the common `["null", T]`).
                let mark = (self.out.len(), self.errors.len());
                for (i, b) in branches.iter().enumerate() {
                    long(&mut self.out, i as i64);
                    self.value(*b, v, path, depth + 1);
                    if self.errors.len() == mark.1 {
                        return;
                    }
                    self.out.truncate(mark.0);
                    self.errors.truncate(mark.1);
                }
                let names: Vec<&str> = branches
                    .iter()
                    .map(|b| schema.node(*b).kind.json_name())
                    .collect();
                self.fail(
                    path,
                    format!("{} fits no branch of the union {names:?}", json_type(v)),
                );
            }
            Kind::Array(item) => {
                let Value::Array(items) = v else {
                    return self.mismatch(path, "array", v);
                };
                if !items.is_empty() {
                    long(&mut self.out, items.len() as i64);
                    for (i, x) in items.iter().enumerate() {
                        let len = path.len();
                        path.push_str(&format!("[{i}]"));
                        self.value(*item, x, path, depth + 1);
                        path.truncate(len);
                    }
                }
                self.out.push(0);
            }
            Kind::Map(item) => {
                let Value::Object(members) = v else {
                    return self.mismatch(path, "map (object)", v);
                };
                if !members.is_empty() {
                    long(&mut self.out, members.len() as i64);
                    for (k, x) in members {
                        long(&mut self.out, k.len() as i64);
                        self.out.extend_from_slice(k.as_bytes());
                        let len = path.len();
                        path.push_str(&format!("[{k:?}]"));
                        self.value(*item, x, path, depth + 1);
                        path.truncate(len);
                    }
                }
                self.out.push(0);
            }
            Kind::Record { fields, .. } => {
                let Value::Object(members) = v else {
                    return self.mismatch(path, "record (object)", v);
                };
                for name in members.keys() {
                    if !fields.iter().any(|f| &f.name == name) {
                        self.fail(path, format!("unknown field {name:?}"));
                    }
                }
                for f in fields {
                    let len = path.len();
                    path.push('.');
                    path.push_str(&f.name);
                    match (members.get(&f.name), &f.default) {
                        (Some(x), _) => self.value(f.schema, x, path, depth + 1),
                        (None, Some(d)) => self.value(f.schema, d, path, depth + 1),
                        (None, None) => self.fail(path, "required field is missing".into()),
                    }
                    path.truncate(len);
                }
            }
        }
    }
}

fn float(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) if s == "NaN" => Some(f64::NAN),
        Value::String(s) if s == "Infinity" => Some(f64::INFINITY),
        Value::String(s) if s == "-Infinity" => Some(f64::NEG_INFINITY),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SCHEMA: &str = r#"{"type":"record","name":"O","fields":[
        {"name":"id","type":"string"},
        {"name":"qty","type":"int"},
        {"name":"status","type":{"type":"enum","name":"S","symbols":["NEW","PAID"]}},
        {"name":"note","type":["null","string"],"default":null},
        {"name":"items","type":{"type":"array","items":"double"}},
        {"name":"tags","type":{"type":"map","values":"long"}}]}"#;

    #[test]
    fn round_trips_through_the_decoder() {
        let s = AvroSchema::parse(SCHEMA).unwrap();
        let event = json!({"id":"o1","qty":3,"status":"PAID","note":"x",
                           "items":[2.5, 1.0],"tags":{"a":1}});
        let bytes = to_avro(&s, &event).unwrap();
        assert_eq!(s.decode(&bytes).unwrap(), event);
        let no_note = json!({"id":"o1","qty":3,"status":"NEW","items":[],"tags":{}});
        let back = s.decode(&to_avro(&s, &no_note).unwrap()).unwrap();
        assert_eq!(back["note"], Value::Null, "default applied");
    }

    #[test]
    fn reports_every_mismatch_with_its_path() {
        let s = AvroSchema::parse(SCHEMA).unwrap();
        let event = json!({"qty":"3","status":"LOST","note":5,"items":[1, "x"],
                           "tags":{"a":1.5},"extra":true});
        let errors = to_avro(&s, &event).unwrap_err();
        let paths: Vec<&str> = errors.iter().map(|e| e.path.as_str()).collect();
        assert_eq!(
            paths,
            [
                "$",
                "$.id",
                "$.qty",
                "$.status",
                "$.note",
                "$.items[1]",
                "$.tags[\"a\"]"
            ],
            "{errors:?}"
        );
        assert!(errors[0].message.contains("unknown field \"extra\""));
        assert!(errors[1].message.contains("missing"));
        assert!(to_avro(&s, &json!([1])).is_err());
    }
}
