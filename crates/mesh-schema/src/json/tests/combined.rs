//! allOf / anyOf / oneOf, type arrays and plain schemas against combined ones.

use serde_json::json;

use super::changes;

#[test]
fn criterion_changes() {
    let s = json!({"type": "string"});
    let n = json!({"type": "number"});
    assert_eq!(
        changes(json!({"oneOf": [s]}), json!({"anyOf": [s]})),
        ["COMBINED_TYPE_EXTENDED #/"]
    );
    assert_eq!(
        changes(json!({"anyOf": [s, n]}), json!({"oneOf": [s]})),
        ["COMBINED_TYPE_CHANGED #/"]
    );
    assert_eq!(
        changes(json!({"allOf": [n, s]}), json!({"oneOf": [s]})),
        ["COMBINED_TYPE_EXTENDED #/", "PRODUCT_TYPE_NARROWED #/"]
    );
}

#[test]
fn subschemas_are_matched_not_compared_by_position() {
    let a = json!({"type": "string", "maxLength": 3});
    let b = json!({"type": "number"});
    let a2 = json!({"type": "string", "maxLength": 5});
    assert_eq!(
        changes(json!({"anyOf": [a, b]}), json!({"anyOf": [b, a2]})),
        ["MAX_LENGTH_INCREASED #/anyOf/0/maxLength"]
    );
    assert_eq!(
        changes(
            json!({"anyOf": [a, b]}),
            json!({"anyOf": [b, {"type": "boolean"}]})
        ),
        ["COMBINED_TYPE_SUBSCHEMAS_CHANGED #/"]
    );
    // Duplicates collapse.
    assert!(changes(json!({"allOf": [b, b]}), json!({"allOf": [b]})).is_empty());
}

#[test]
fn plain_against_combined() {
    let s = json!({"type": "string"});
    assert_eq!(
        changes(s.clone(), json!({"type": ["string", "null"]})),
        ["SUM_TYPE_EXTENDED #/"]
    );
    assert_eq!(
        changes(json!({"type": "string", "enum": ["a"]}), s.clone()),
        ["PRODUCT_TYPE_NARROWED #/"]
    );
    assert_eq!(
        changes(json!({"type": ["string", "null"]}), s.clone()),
        ["TYPE_CHANGED #/"]
    );
    assert!(changes(s.clone(), json!({"allOf": [s]})).is_empty());
}
