//! Strings, numbers, enums, const, not, annotations and kind changes.

use serde_json::json;

use super::changes;

#[test]
fn string_bounds_and_pattern() {
    assert_eq!(
        changes(
            json!({"type": "string", "minLength": 2, "maxLength": 5, "pattern": "a"}),
            json!({"type": "string", "minLength": 1, "maxLength": 4}),
        ),
        [
            "MAX_LENGTH_DECREASED #/maxLength",
            "MIN_LENGTH_DECREASED #/minLength",
            "PATTERN_REMOVED #/pattern"
        ]
    );
    assert_eq!(
        changes(
            json!({"type": "string"}),
            json!({"type": "string", "pattern": "b", "maxLength": 1})
        ),
        ["MAX_LENGTH_ADDED #/maxLength", "PATTERN_ADDED #/pattern"]
    );
}

#[test]
fn number_bounds_multiple_of_and_integer() {
    assert_eq!(
        changes(
            json!({"type": "integer", "maximum": 5, "exclusiveMinimum": 1, "multipleOf": 2}),
            json!({"type": "number", "maximum": 6, "exclusiveMinimum": 2, "multipleOf": 4}),
        ),
        [
            "EXCLUSIVE_MINIMUM_INCREASED #/exclusiveMinimum",
            "MAXIMUM_INCREASED #/maximum",
            "MULTIPLE_OF_EXPANDED #/multipleOf",
            "TYPE_EXTENDED #/",
        ]
    );
    assert_eq!(
        changes(
            json!({"type": "number", "multipleOf": 0.5}),
            json!({"type": "number", "multipleOf": 0.25})
        ),
        ["MULTIPLE_OF_REDUCED #/multipleOf"]
    );
    assert_eq!(
        changes(json!({"type": "number"}), json!({"type": "integer"})),
        ["TYPE_NARROWED #/"]
    );
}

#[test]
fn enums_const_and_not() {
    assert_eq!(
        changes(json!({"enum": [1, 2]}), json!({"enum": [2, 1, 3]})),
        ["ENUM_ARRAY_EXTENDED #/enum"]
    );
    assert_eq!(
        changes(json!({"enum": [1, 2]}), json!({"enum": [1]})),
        ["ENUM_ARRAY_NARROWED #/enum"]
    );
    assert_eq!(
        changes(json!({"enum": [1]}), json!({"enum": [2]})),
        ["ENUM_ARRAY_CHANGED #/enum"]
    );
    assert_eq!(
        changes(json!({"const": 1}), json!({"const": 2})),
        ["ENUM_ARRAY_CHANGED #/const"]
    );
    assert_eq!(
        changes(
            json!({"not": {"type": "number"}}),
            json!({"not": {"type": "integer"}})
        ),
        ["NOT_TYPE_NARROWED #/not"]
    );
}

#[test]
fn annotations_and_kind_changes() {
    assert_eq!(
        changes(
            json!({"$id": "a", "title": "t", "description": "d", "default": 1}),
            json!({"$id": "b", "title": "u", "description": "e", "default": 2}),
        ),
        [
            "DEFAULT_CHANGED #/",
            "DESCRIPTION_CHANGED #/",
            "ID_CHANGED #/",
            "TITLE_CHANGED #/"
        ]
    );
    assert_eq!(
        changes(json!({"type": "string"}), json!({"type": "null"})),
        ["TYPE_CHANGED #/"]
    );
    // Anything may become `{}`/`true`, and `false` may become anything.
    assert!(changes(json!({"type": "string"}), json!(true)).is_empty());
    assert!(changes(json!(false), json!({"type": "string"})).is_empty());
    assert_eq!(changes(json!(true), json!(false)), ["TYPE_CHANGED #/"]);
}
