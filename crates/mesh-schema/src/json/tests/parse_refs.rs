//! Parsing (drafts, errors), `$ref`s (local, external, recursive) and the `CanRead` verdict.

use serde_json::json;

use super::{changes, schema};
use crate::SchemaError;
use crate::compat::CanRead;
use crate::json::{Draft, JsonSchema, SchemaReference, diff};

#[test]
fn drafts_and_parse_errors() {
    assert_eq!(schema(&json!({})).draft(), Draft::Draft7);
    assert_eq!(
        schema(&json!({"$schema": "http://json-schema.org/draft-04/schema#"})).draft(),
        Draft::Draft4
    );
    assert_eq!(
        schema(&json!({"$schema": "https://json-schema.org/draft/2020-12/schema"})).draft(),
        Draft::Draft2020_12
    );
    assert!(JsonSchema::parse("true").is_ok());
    for bad in [
        "{",
        "42",
        "[]",
        r#"{"type": "strin"}"#,
        r#"{"properties": {"a": 1}}"#,
    ] {
        let err = JsonSchema::parse(bad).expect_err(bad);
        assert!(
            matches!(err, SchemaError::Parse { format: "JSON", .. }),
            "{bad}: {err}"
        );
    }
    let err = JsonSchema::parse(r##"{"$ref": "#/definitions/missing"}"##).unwrap_err();
    assert!(
        matches!(err, SchemaError::UnresolvedReference { .. }),
        "{err}"
    );
}

#[test]
fn local_refs_are_followed_without_a_path_segment() {
    let o = json!({"properties": {"a": {"$ref": "#/$defs/x"}}, "$defs": {"x": {"type": "string"}}});
    let u = json!({"properties": {"a": {"$ref": "#/$defs/x"}}, "$defs": {"x": {"type": "number"}}});
    assert_eq!(changes(o, u), ["TYPE_CHANGED #/properties/a"]);
}

#[test]
fn recursive_schemas_terminate_and_still_find_changes() {
    let tree = |leaf: &str| {
        json!({"type": "object", "properties": {
            "value": {"type": leaf},
            "children": {"type": "array", "items": {"$ref": "#"}}
        }})
    };
    assert!(changes(tree("string"), tree("string")).is_empty());
    assert_eq!(
        changes(tree("integer"), tree("number")),
        ["TYPE_EXTENDED #/properties/value"]
    );
}

#[test]
fn external_references_resolve_by_name_and_id() {
    let customer = |t: &str| SchemaReference {
        name: "customer.json".into(),
        schema: json!({"$id": "https://example.com/customer.json", "type": t}).to_string(),
    };
    let text = json!({"properties": {"c": {"$ref": "customer.json"}}}).to_string();
    let by_id =
        json!({"properties": {"c": {"$ref": "https://example.com/customer.json"}}}).to_string();
    let o = JsonSchema::parse_with_references(&text, &[customer("integer")]).unwrap();
    let u = JsonSchema::parse_with_references(&by_id, &[customer("number")]).unwrap();
    let found: Vec<String> = diff(&o, &u).iter().map(ToString::to_string).collect();
    assert_eq!(found, ["TYPE_EXTENDED #/properties/c"]);
    assert!(
        JsonSchema::parse(&text).is_err(),
        "unsupplied reference must not resolve"
    );
}

#[test]
fn can_read_reports_actionable_incompatibilities() {
    let old = schema(&json!({"properties": {"a": {"type": "string"}}}));
    let new = schema(&json!({"properties": {"a": {"type": "string"}, "b": {"type": "string"}}}));
    let found = JsonSchema::can_read(&new, &old);
    assert_eq!(found.len(), 1);
    assert_eq!(
        found[0].kind,
        "OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL"
    );
    assert_eq!(found[0].path, "/properties/b");
    assert!(
        found[0].message.contains("additionalProperties: false"),
        "{}",
        found[0].message
    );
    // Forward direction: removing a property from an open model is fine.
    assert!(JsonSchema::can_read(&old, &new).is_empty());
}
