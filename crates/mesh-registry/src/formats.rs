//! Schema formats as the registry sees them: parsing with resolved references (via
//! `mesh-schema`), the stored/identity text, and compatibility of a new schema against existing
//! versions, rendered in Confluent's message style.

use mesh_schema::avro::{AvroSchema, ParseOptions};
use mesh_schema::compat::CanRead;
use mesh_schema::json::{JsonSchema, SchemaReference as JsonRef};
use mesh_schema::{CompatibilityLevel, Incompatibility};

use crate::error::RegistryError;
use crate::model::SchemaType;

/// A parsed schema of a supported format.
#[derive(Debug)]
pub enum Parsed {
    Avro(Box<AvroSchema>),
    Json(Box<JsonSchema>),
}

/// A resolved reference: the import name and the referenced schema's text. Lists of these are
/// in dependency order (a reference's own references come before it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ResolvedRef {
    pub name: String,
    pub schema: String,
}

/// Parses `text` of type `ty`. `strict` validates Avro defaults (new schemas only: stored ones
/// written by an older, laxer registry must still load).
pub fn parse(
    ty: SchemaType,
    text: &str,
    refs: &[ResolvedRef],
    strict: bool,
) -> Result<Parsed, RegistryError> {
    match ty {
        SchemaType::Avro => {
            let texts: Vec<&str> = refs.iter().map(|r| r.schema.as_str()).collect();
            let options = ParseOptions {
                validate_defaults: strict,
            };
            AvroSchema::parse_with_options(text, &texts, options)
                .map(|s| Parsed::Avro(Box::new(s)))
                .map_err(|e| RegistryError::InvalidSchema(format!("Invalid schema {text}, details: {e}")))
        }
        SchemaType::Json => {
            let refs: Vec<JsonRef> = refs
                .iter()
                .map(|r| JsonRef {
                    name: r.name.clone(),
                    schema: r.schema.clone(),
                })
                .collect();
            JsonSchema::parse_with_references(text, &refs)
                .map(|s| Parsed::Json(Box::new(s)))
                .map_err(|e| RegistryError::InvalidSchema(format!("Invalid schema {text}, details: {e}")))
        }
        SchemaType::Protobuf => Err(RegistryError::InvalidSchema(
            "Invalid schema: schema type PROTOBUF is not supported yet by this registry; supported types are AVRO and JSON".into(),
        )),
    }
}

/// The text stored and used for identity (Confluent's `canonicalString`, registry-api.md
/// §1.5):
///
/// - Avro: Avro-Java's `Schema.toString()` of the parsed schema
///   ([`AvroSchema::to_java_string`]), so key order and layout do not matter and the text
///   returned to clients is Java's; with `normalize`, the same of Confluent's normalized copy
///   ([`AvroSchema::normalize`]: properties and aliases sorted, empty docs dropped, defaults
///   re-encoded as Java does), or of the schema itself in the rare case where the normalized
///   text does not parse again (Confluent would fail the request there).
/// - JSON Schema: the text minified (key order kept); with `normalize`, keys sorted.
pub fn canonical_text(text: &str, parsed: &Parsed, normalize: bool) -> String {
    match (parsed, normalize) {
        (Parsed::Avro(a), true) => a
            .normalize()
            .map_or_else(|_| a.to_java_string(), |n| n.to_java_string()),
        (Parsed::Avro(a), false) => a.to_java_string(),
        (Parsed::Json(_), true) => serde_json::from_str::<serde_json::Value>(text)
            .map(|v| v.to_string())
            .unwrap_or_else(|_| minify(text)),
        (Parsed::Json(_), false) => minify(text),
    }
}

/// Removes whitespace outside JSON strings, keeping everything else byte for byte.
pub fn minify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.trim().chars() {
        if in_string {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                in_string = false;
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

fn can_read(reader: &Parsed, writer: &Parsed) -> Vec<Incompatibility> {
    match (reader, writer) {
        (Parsed::Avro(r), Parsed::Avro(w)) => AvroSchema::can_read(r, w),
        (Parsed::Json(r), Parsed::Json(w)) => JsonSchema::can_read(r, w),
        _ => vec![Incompatibility {
            kind: "TYPE_CHANGED".into(),
            path: "#/".into(),
            message: "Incompatible because of different schema type".into(),
        }],
    }
}

fn directions(level: CompatibilityLevel) -> (bool, bool) {
    use CompatibilityLevel::*;
    match level {
        None => (false, false),
        Backward | BackwardTransitive => (true, false),
        Forward | ForwardTransitive => (false, true),
        Full | FullTransitive => (true, true),
    }
}

/// One existing version to check against.
#[derive(Debug)]
pub struct Existing<'a> {
    pub version: i32,
    pub schema: &'a str,
    pub parsed: &'a Parsed,
}

/// Checks `new` against `existing` (oldest first) at `level`: the latest only, or every one for
/// the transitive levels (newest first, as Confluent does). Returns Confluent-style detail
/// strings; empty = compatible.
pub fn check(level: CompatibilityLevel, new: &Parsed, existing: &[Existing<'_>]) -> Vec<String> {
    let (backward, forward) = directions(level);
    let against: Vec<&Existing<'_>> = if level.is_transitive() {
        existing.iter().rev().collect()
    } else {
        existing.last().into_iter().collect()
    };
    let mut out = Vec::new();
    for old in against {
        let mut found = Vec::new();
        if backward {
            found.extend(can_read(new, old.parsed));
        }
        if forward {
            found.extend(can_read(old.parsed, new));
        }
        if !found.is_empty() {
            out.extend(found.iter().map(|i| {
                format!(
                    "{{errorType:'{}', description:'{}', additionalInfo:'{}'}}",
                    i.kind, i.message, i.path
                )
            }));
            out.push(format!("{{oldSchemaVersion: {}}}", old.version));
            out.push(format!("{{oldSchema: '{}'}}", old.schema));
        }
    }
    if !out.is_empty() {
        out.push(format!("{{compatibility: '{level}'}}"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn avro(text: &str) -> Parsed {
        parse(SchemaType::Avro, text, &[], true).unwrap()
    }

    #[test]
    fn minify_keeps_strings_and_order() {
        assert_eq!(
            minify(" { \"b\" : \"a b\\\" c\",\n \"a\": [1, 2] } "),
            r#"{"b":"a b\" c","a":[1,2]}"#
        );
    }

    #[test]
    fn avro_canonical_text_is_javas_to_string() {
        let a = r#"{"type":"record","name":"User","namespace":"mesh.test","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"}]}"#;
        let b = "{\n  \"fields\": [\n    {\"type\": \"long\", \"name\": \"id\"},\n    {\"name\": \"name\", \"type\": \"string\"}\n  ],\n  \"namespace\": \"mesh.test\", \"name\": \"User\", \"type\": \"record\"\n}";
        let (ca, cb) = (
            canonical_text(a, &avro(a), false),
            canonical_text(b, &avro(b), false),
        );
        assert_eq!(ca, a);
        assert_eq!(ca, cb);
        // JSON Schema keeps its key order.
        let j = r#"{"type": "object", "$id": "x"}"#;
        let parsed = parse(SchemaType::Json, j, &[], true).unwrap();
        assert_eq!(
            canonical_text(j, &parsed, false),
            r#"{"type":"object","$id":"x"}"#
        );
    }

    #[test]
    fn avro_normalize_is_confluents_form_in_java_spelling() {
        let a = r#"{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"string","b":1,"a":2}}]}"#;
        let b = r#"{"type":"record","name":"R","doc":"","fields":[{"name":"f","type":{"type":"string","a":2,"b":1}}]}"#;
        let norm = |t: &str| canonical_text(t, &avro(t), true);
        assert_ne!(
            canonical_text(a, &avro(a), false),
            canonical_text(b, &avro(b), false)
        );
        assert_eq!(norm(a), norm(b));
        assert_eq!(
            norm(a),
            r#"{"type":"record","name":"R","fields":[{"name":"f","type":{"type":"string","a":2,"b":1}}]}"#
        );
    }

    #[test]
    fn invalid_and_unsupported_schemas_are_42201() {
        let e = parse(SchemaType::Avro, "{\"type\":\"nope\"}", &[], true).unwrap_err();
        assert_eq!(e.status_and_code().1, 42201);
        let e = parse(SchemaType::Protobuf, "syntax = \"proto3\";", &[], true).unwrap_err();
        assert!(e.to_string().contains("not supported yet"), "{e}");
    }

    #[test]
    fn levels_and_directions() {
        let r = |f: &str| format!(r#"{{"type":"record","name":"r","fields":[{f}]}}"#);
        let v1 = avro(&r(r#"{"name":"a","type":"int"}"#));
        let v2 = avro(&r(
            r#"{"name":"a","type":"int"},{"name":"b","type":"int","default":0}"#,
        ));
        // Adds a required field: cannot read v1/v2 data without it.
        let new = avro(&r(r#"{"name":"a","type":"int"},{"name":"c","type":"int"}"#));
        let existing = [
            Existing {
                version: 1,
                schema: "v1",
                parsed: &v1,
            },
            Existing {
                version: 2,
                schema: "v2",
                parsed: &v2,
            },
        ];
        let back = check(CompatibilityLevel::Backward, &new, &existing);
        assert!(
            back[0].contains("READER_FIELD_MISSING_DEFAULT_VALUE"),
            "{back:?}"
        );
        assert!(back.contains(&"{oldSchemaVersion: 2}".to_string()));
        assert_eq!(back.last().unwrap(), "{compatibility: 'BACKWARD'}");
        assert!(check(CompatibilityLevel::Forward, &new, &existing).is_empty());
        assert!(check(CompatibilityLevel::None, &new, &existing).is_empty());
        // v2's new field has a default: backward ok against v1, and transitive catches nothing
        // more; dropping it entirely is forward-incompatible only with a required field.
        assert!(check(CompatibilityLevel::BackwardTransitive, &v2, &existing[..1]).is_empty());
        let t = check(CompatibilityLevel::FullTransitive, &new, &existing);
        assert!(t.contains(&"{oldSchemaVersion: 1}".to_string()), "{t:?}");
    }
}
