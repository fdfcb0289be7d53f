//! [`AvroSchema::normalize`]: Confluent Schema Registry's `normalize=true` for Avro.
//!
//! Confluent (`AvroSchema.normalize()`) writes the parsed schema in an intermediate layout
//! (`AvroSchemaUtils.toNormalizedString`, adapted from Avro's `SchemaNormalization`), parses
//! that text again and stores Java's `Schema.toString()` of the result. What survives into the
//! stored text, and therefore into the schema's identity:
//!
//! - properties of every type and field are written sorted by key, so their order no longer
//!   matters; for a primitive or fixed with a *valid* logical type, `logicalType` (and a
//!   decimal's `precision`, and `scale` unless 0) come first;
//! - type and field aliases are sorted (and deduplicated);
//! - an empty `doc` of a record, enum or fixed is dropped (an empty field doc is kept);
//! - field defaults are converted as Java converts them (`JacksonUtils.toObject` against the
//!   field's type, a union's first branch for unions) and written back: a `double` default
//!   `1` becomes `1.0`, a `float` one is rounded to `f32`, `bytes`/`fixed` characters above
//!   U+00FF become `?`, object keys (records, maps) are sorted; property values have their
//!   object keys sorted too;
//! - names are written as full names without `namespace`, so a nested type in the null
//!   namespace inside a namespaced record moves into the enclosing namespace on the re-parse
//!   (a Confluent quirk, reproduced);
//! - `"error"` records become `"record"`.
//!
//! Deliberate differences: names defined anywhere in a schema reference (not only the
//! references' top-level types) are written by name, so a schema using a reference's nested
//! type normalizes instead of failing with "can't redefine"; a default Java cannot convert
//! (Java throws) is kept as written; the re-parse does not re-validate defaults.

use std::cmp::Ordering;
use std::collections::HashSet;

use super::json::{Json, java_double, java_float, write_array, write_object, write_str};
use super::model::{Field, Kind, Named, NodeId};
use super::{AvroSchema, parse, parse_error};
use crate::SchemaError;

impl AvroSchema {
    /// Confluent's normalized copy of this schema: [`AvroSchema::normalized_source`] parsed
    /// again (with the same references). Its [`AvroSchema::to_java_string`] is the text
    /// Confluent stores and hashes for `normalize=true`.
    ///
    /// Fails only where Confluent fails too: when the re-parse does not accept the normalized
    /// text (the namespace quirk can make two names collide).
    pub fn normalize(&self) -> Result<AvroSchema, SchemaError> {
        let text = self.normalized_source();
        let mut parser = parse::Parser::seeded(&self.nodes[..self.ref_nodes], false);
        let root = parser
            .parse_document(&text)
            .map_err(|m| parse_error(format!("normalized schema {text}: {m}")))?;
        Ok(parser.finish(root, self.referenced.clone(), self.ref_nodes))
    }

    /// The intermediate text of Confluent's normalization (`toNormalizedString`); see the
    /// module documentation.
    pub fn normalized_source(&self) -> String {
        let mut w = Normalizer {
            schema: self,
            env: HashSet::new(),
            out: String::new(),
        };
        for node in &self.nodes[..self.ref_nodes] {
            if let Some(named) = node.kind.named() {
                w.env.insert(named.name.fullname());
            }
        }
        w.build(self.root);
        w.out
    }
}

struct Normalizer<'a> {
    schema: &'a AvroSchema,
    /// Full names already written (Confluent's `env`).
    env: HashSet<String>,
    out: String,
}

impl Normalizer<'_> {
    fn build(&mut self, id: NodeId) {
        let node = self.schema.node(id);
        match &node.kind {
            Kind::Union(branches) => {
                self.out.push('[');
                for (i, b) in branches.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.build(*b);
                }
                self.out.push(']');
            }
            Kind::Array(inner) | Kind::Map(inner) => {
                let (ty, key) = match node.kind {
                    Kind::Array(_) => ("array", "items"),
                    _ => ("map", "values"),
                };
                self.out
                    .push_str(&format!("{{\"type\":\"{ty}\",\"{key}\":"));
                self.build(*inner);
                self.sorted_props(&node.attrs);
                self.out.push('}');
            }
            Kind::Record { named, .. } | Kind::Enum { named, .. } | Kind::Fixed { named, .. } => {
                self.named(id, named);
            }
            primitive => {
                let logical = valid_logical_type(&node.kind, &node.attrs);
                if logical.is_none() && node.attrs.is_empty() {
                    write_str(primitive.json_name(), &mut self.out);
                    return;
                }
                self.out.push_str("{\"type\":");
                write_str(primitive.json_name(), &mut self.out);
                if let Some(lt) = logical {
                    self.logical_props(lt, &node.attrs);
                }
                self.sorted_props(&node.attrs);
                self.out.push('}');
            }
        }
    }

    fn named(&mut self, id: NodeId, named: &Named) {
        let node = self.schema.node(id);
        let full = named.name.fullname();
        if !self.env.insert(full.clone()) {
            write_str(&full, &mut self.out);
            return;
        }
        self.out.push_str("{\"name\":");
        write_str(&full, &mut self.out);
        match &node.kind {
            Kind::Enum { symbols, .. } => {
                self.out.push_str(",\"type\":\"enum\",\"symbols\":[");
                for (i, s) in symbols.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    write_str(s, &mut self.out);
                }
                self.out.push(']');
            }
            Kind::Fixed { size, .. } => {
                self.out
                    .push_str(&format!(",\"type\":\"fixed\",\"size\":{size}"));
                if let Some(lt) = valid_logical_type(&node.kind, &node.attrs) {
                    self.logical_props(lt, &node.attrs);
                }
            }
            Kind::Record { fields, .. } => {
                // Java writes the type's name, so an "error" becomes a "record".
                self.out.push_str(",\"type\":\"record\",\"fields\":[");
                for (i, f) in fields.iter().enumerate() {
                    if i > 0 {
                        self.out.push(',');
                    }
                    self.field(f);
                }
                self.out.push(']');
            }
            _ => {}
        }
        if let Some(doc) = named.doc.as_deref().filter(|d| !d.is_empty()) {
            self.out.push_str(",\"doc\":");
            write_str(doc, &mut self.out);
        }
        self.string_set("aliases", &named.aliases);
        if let Kind::Enum {
            default: Some(d), ..
        } = &node.kind
        {
            self.out.push_str(",\"default\":");
            write_str(d, &mut self.out);
        }
        self.sorted_props(&node.attrs);
        self.out.push('}');
    }

    fn field(&mut self, f: &Field) {
        self.out.push_str("{\"name\":");
        write_str(&f.name, &mut self.out);
        self.out.push_str(",\"type\":");
        self.build(f.schema);
        self.out
            .push_str(&format!(",\"order\":\"{}\"", f.order.as_str()));
        if let Some(doc) = &f.doc {
            self.out.push_str(",\"doc\":");
            write_str(doc, &mut self.out);
        }
        self.string_set("aliases", &f.aliases);
        if let Some(d) = &f.source.default {
            self.out.push_str(",\"default\":");
            match self.to_object(d, Some(f.schema)) {
                Some(v) => v.write(&mut self.out),
                None => d.write_java(&mut self.out),
            }
        }
        self.sorted_props(&f.source.attrs);
        self.out.push('}');
    }

    /// `"key":[...]` with the strings sorted and deduplicated (Java's `TreeSet`).
    fn string_set(&mut self, key: &str, items: &[String]) {
        if items.is_empty() {
            return;
        }
        let mut sorted: Vec<&String> = items.iter().collect();
        sorted.sort_by(|a, b| java_cmp(a, b));
        sorted.dedup();
        self.out.push_str(&format!(",\"{key}\":["));
        for (i, s) in sorted.into_iter().enumerate() {
            if i > 0 {
                self.out.push(',');
            }
            write_str(s, &mut self.out);
        }
        self.out.push(']');
    }

    /// Confluent's `setLogicalProps`.
    fn logical_props(&mut self, lt: &str, attrs: &[(String, Json)]) {
        self.out.push_str(",\"logicalType\":");
        write_str(lt, &mut self.out);
        if lt == "decimal" {
            let precision = int_attr(attrs, "precision").flatten().unwrap_or(0);
            self.out.push_str(&format!(",\"precision\":{precision}"));
            match int_attr(attrs, "scale").flatten() {
                Some(scale) if scale != 0 => self.out.push_str(&format!(",\"scale\":{scale}")),
                _ => {}
            }
        }
    }

    /// Confluent's `setSimpleProps`: every property, sorted by key, object keys sorted within.
    fn sorted_props(&mut self, attrs: &[(String, Json)]) {
        let mut sorted: Vec<&(String, Json)> = attrs.iter().collect();
        sorted.sort_by(|a, b| java_cmp(&a.0, &b.0));
        for (k, v) in sorted {
            self.out.push(',');
            write_str(k, &mut self.out);
            self.out.push(':');
            match self.to_object(v, None) {
                Some(v) => v.write(&mut self.out),
                None => v.write_java(&mut self.out),
            }
        }
    }

    /// Avro-Java's `JacksonUtils.toObject(node, schema)`; `None` where Java returns null or
    /// throws (a value that does not fit the schema, a big integer).
    fn to_object(&self, json: &Json, schema: Option<NodeId>) -> Option<JavaValue> {
        let schema = match schema.map(|id| &self.schema.node(id).kind) {
            Some(Kind::Union(branches)) => Some(*branches.first()?),
            _ => schema,
        };
        let kind = schema.map(|id| &self.schema.node(id).kind);
        Some(match json {
            Json::Null => JavaValue::Null,
            Json::Bool(b) => JavaValue::Bool(*b),
            Json::Int(i) => match kind {
                None | Some(Kind::Int | Kind::Long) => JavaValue::Int(*i),
                Some(Kind::Float) => JavaValue::Float(*i as f64 as f32),
                Some(Kind::Double) => JavaValue::Double(*i as f64),
                _ => return None,
            },
            Json::UInt(_) => return None,
            Json::Float(f) => match kind {
                None | Some(Kind::Double) => JavaValue::Double(*f),
                Some(Kind::Float) => JavaValue::Float(*f as f32),
                _ => return None,
            },
            Json::String(s) => match kind {
                None | Some(Kind::String | Kind::Enum { .. }) => JavaValue::String(s.clone()),
                // `getBytes(ISO_8859_1)` and back: what Latin-1 cannot encode becomes '?'.
                Some(Kind::Bytes | Kind::Fixed { .. }) => JavaValue::String(
                    s.chars()
                        .map(|c| if u32::from(c) <= 0xff { c } else { '?' })
                        .collect(),
                ),
                _ => return None,
            },
            Json::Array(items) => {
                let element = match kind {
                    None => None,
                    Some(Kind::Array(e)) => Some(*e),
                    Some(_) => return None,
                };
                JavaValue::List(
                    items
                        .iter()
                        .map(|i| self.to_object(i, element))
                        .collect::<Option<_>>()?,
                )
            }
            Json::Object(members) => {
                let mut out = Vec::with_capacity(members.len());
                for (k, v) in members {
                    let s = match kind {
                        Some(Kind::Map(values)) => Some(*values),
                        Some(Kind::Record { fields, .. }) => {
                            Some(fields.iter().find(|f| f.name == *k)?.schema)
                        }
                        _ => None,
                    };
                    out.push((k.clone(), self.to_object(v, s)?));
                }
                out.sort_by(|a, b| java_cmp(&a.0, &b.0));
                JavaValue::Map(out)
            }
        })
    }
}

/// A Java value as `JacksonUtils.toObject` makes it; maps already sorted by key.
enum JavaValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f32),
    Double(f64),
    String(String),
    List(Vec<JavaValue>),
    Map(Vec<(String, JavaValue)>),
}

impl JavaValue {
    fn write(&self, out: &mut String) {
        match self {
            JavaValue::Null => out.push_str("null"),
            JavaValue::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            JavaValue::Int(i) => out.push_str(&i.to_string()),
            JavaValue::Float(f) => out.push_str(&java_float(*f)),
            JavaValue::Double(d) => out.push_str(&java_double(*d)),
            JavaValue::String(s) => write_str(s, out),
            JavaValue::List(items) => write_array(items, out, JavaValue::write),
            JavaValue::Map(members) => write_object(members, out, JavaValue::write),
        }
    }
}

/// Java's `String.compareTo` (UTF-16 code units), the order of `TreeMap`/`TreeSet`.
fn java_cmp(a: &str, b: &str) -> Ordering {
    a.encode_utf16().cmp(b.encode_utf16())
}

/// `Some(None)` when absent, `Some(Some(i))` for a JSON int in Java's `int` range, `None` for
/// anything else (Java's `Decimal.getInt` throws: the logical type is invalid).
fn int_attr(attrs: &[(String, Json)], key: &str) -> Option<Option<i64>> {
    match super::json::get(attrs, key) {
        None => Some(None),
        Some(Json::Int(i)) if i32::try_from(*i).is_ok() => Some(Some(*i)),
        Some(_) => None,
    }
}

/// The logical type Avro-Java 1.11 recognizes and validates on this type
/// (`LogicalTypes.fromSchemaIgnoreInvalid`); invalid ones are plain properties.
fn valid_logical_type<'a>(kind: &Kind, attrs: &'a [(String, Json)]) -> Option<&'a str> {
    let lt = super::json::get(attrs, "logicalType")?.as_str()?;
    let ok = match (lt, kind) {
        ("decimal", Kind::Bytes | Kind::Fixed { .. }) => {
            let precision = int_attr(attrs, "precision")??;
            let scale = int_attr(attrs, "scale")?.unwrap_or(0);
            let max = match kind {
                // Java's `maxPrecision`: digits that fit in a signed `size`-byte integer.
                Kind::Fixed { size, .. } => {
                    ((8.0 * *size as f64 - 1.0) * 2f64.log10()).floor() as i64
                }
                _ => i64::from(i32::MAX),
            };
            precision > 0 && precision <= max && (0..=precision).contains(&scale)
        }
        ("uuid", Kind::String) => true,
        ("date" | "time-millis", Kind::Int) => true,
        (
            "time-micros"
            | "timestamp-millis"
            | "timestamp-micros"
            | "local-timestamp-millis"
            | "local-timestamp-micros",
            Kind::Long,
        ) => true,
        _ => false,
    };
    ok.then_some(lt)
}
