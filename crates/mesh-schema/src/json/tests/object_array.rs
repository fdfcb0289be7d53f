//! Objects (content models, required, dependencies) and arrays (items, tuples, bounds).

use serde_json::json;

use super::changes;

#[test]
fn properties_under_each_content_model() {
    let open = json!({"properties": {"a": {"type": "string"}}});
    let closed = json!({"properties": {"a": {"type": "string"}}, "additionalProperties": false});
    let with_b = |extra: serde_json::Value| {
        let mut v = json!({"properties": {"a": {"type": "string"}, "b": {"type": "number"}}});
        v.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        v
    };
    assert_eq!(
        changes(open.clone(), with_b(json!({}))),
        ["OPTIONAL_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"]
    );
    assert_eq!(
        changes(open, with_b(json!({"required": ["b"]}))),
        ["REQUIRED_PROPERTY_ADDED_TO_OPEN_CONTENT_MODEL #/properties/b"]
    );
    assert_eq!(
        changes(
            closed.clone(),
            with_b(json!({"additionalProperties": false}))
        ),
        ["OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/b"]
    );
    assert_eq!(
        changes(with_b(json!({"additionalProperties": false})), closed),
        ["PROPERTY_REMOVED_FROM_CLOSED_CONTENT_MODEL #/properties/b"]
    );
    assert_eq!(
        changes(
            json!({"patternProperties": {"^n_": {"type": "integer"}}, "additionalProperties": false}),
            json!({"patternProperties": {"^n_": {"type": "integer"}}, "additionalProperties": false,
                   "properties": {"n_1": {"type": "number"}}}),
        ),
        [
            "OPTIONAL_PROPERTY_ADDED_TO_UNOPEN_CONTENT_MODEL #/properties/n_1",
            "PROPERTY_ADDED_IS_COVERED_BY_PARTIALLY_OPEN_CONTENT_MODEL #/properties/n_1",
            "TYPE_EXTENDED #/properties/n_1",
        ]
    );
}

#[test]
fn required_dependencies_and_additional_properties() {
    let p = json!({"a": {"type": "string", "default": "x"}, "b": {"type": "string"}});
    assert_eq!(
        changes(
            json!({"properties": p, "required": ["b"]}),
            json!({"properties": p, "required": ["a"]})
        ),
        [
            "REQUIRED_ATTRIBUTE_REMOVED #/required/b",
            "REQUIRED_ATTRIBUTE_WITH_DEFAULT_ADDED #/required/a"
        ]
    );
    assert_eq!(
        changes(
            json!({"dependencies": {"a": ["b"]}}),
            json!({"dependencies": {"a": ["b", "c"]}})
        ),
        ["DEPENDENCY_ARRAY_EXTENDED #/dependencies/a"]
    );
    assert_eq!(
        changes(
            json!({"additionalProperties": {"type": "string"}}),
            json!({"additionalProperties": true})
        ),
        ["ADDITIONAL_PROPERTIES_EXTENDED #/additionalProperties"]
    );
    let draft = "https://json-schema.org/draft/2020-12/schema";
    assert_eq!(
        changes(
            json!({"$schema": draft, "unevaluatedProperties": false}),
            json!({"$schema": draft, "minProperties": 0})
        ),
        [
            "MIN_PROPERTIES_ADDED #/minProperties",
            "UNEVALUATED_PROPERTIES_ADDED #/unevaluatedProperties"
        ]
    );
}

#[test]
fn arrays_items_tuples_and_bounds() {
    assert_eq!(
        changes(
            json!({"type": "array", "items": {"type": "string"}}),
            json!({"type": "array", "items": {"type": "number"}})
        ),
        ["TYPE_CHANGED #/items"]
    );
    assert_eq!(
        changes(
            json!({"items": [{"type": "string"}], "additionalItems": false}),
            json!({"items": [{"type": "string"}, {"type": "number"}], "additionalItems": false, "maxItems": 2}),
        ),
        [
            "ITEM_ADDED_TO_CLOSED_CONTENT_MODEL #/items/1",
            "MAX_ITEMS_ADDED #/maxItems"
        ]
    );
    assert_eq!(
        changes(
            json!({"items": [{"type": "string"}, {"type": "number"}]}),
            json!({"items": [{"type": "string"}], "additionalItems": false})
        ),
        [
            "ADDITIONAL_ITEMS_REMOVED #/additionalItems",
            "ITEM_REMOVED_FROM_CLOSED_CONTENT_MODEL #/items/1"
        ]
    );
    assert_eq!(
        changes(
            json!({"type": "array"}),
            json!({"type": "array", "uniqueItems": true, "minItems": 1})
        ),
        [
            "MIN_ITEMS_ADDED #/minItems",
            "UNIQUE_ITEMS_ADDED #/uniqueItems"
        ]
    );
}
