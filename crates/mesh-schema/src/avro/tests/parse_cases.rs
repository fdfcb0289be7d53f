//! Parsing and validation: what Java's `Schema.Parser` (with Confluent's default validation)
//! rejects is rejected here with a precise message, and what it accepts keeps its annotations.

use serde_json::json;

use crate::SchemaError;
use crate::avro::{AvroSchema, Kind, Order};

fn error(text: &str) -> String {
    match AvroSchema::parse(text) {
        Err(SchemaError::Parse {
            format: "AVRO",
            message,
        }) => message,
        other => panic!("expected an AVRO parse error for {text}, got {other:?}"),
    }
}

/// (schema text, a fragment the error message must contain).
const INVALID: &[(&str, &str)] = &[
    ("", "not valid JSON"),
    ("{", "not valid JSON"),
    ("42", "is not a schema"),
    (r#""integer""#, "undefined name: \"integer\""),
    (r#"{"type":"integer"}"#, "type not supported: integer"),
    (r#"{"name":"x"}"#, "no type"),
    (r#"{"type":{"type":"int"}}"#, "no type"),
    (r#"{"type":"record","fields":[]}"#, "no name in schema"),
    (r#"{"type":"record","name":"r"}"#, "record has no fields"),
    (
        r#"{"type":"record","name":"r","fields":{}}"#,
        "record has no fields",
    ),
    (
        r#"{"type":"record","name":"1r","fields":[]}"#,
        "illegal initial character: 1r",
    ),
    (
        r#"{"type":"record","name":"r-x","fields":[]}"#,
        "illegal character in: r-x",
    ),
    (r#"{"type":"record","name":"","fields":[]}"#, "empty name"),
    (
        r#"{"type":"record","name":"r","namespace":"com.9acme","fields":[]}"#,
        "invalid namespace \"com.9acme\"",
    ),
    (
        r#"{"type":"record","name":"r","namespace":"com..acme","fields":[]}"#,
        "invalid namespace",
    ),
    (
        r#"{"type":"record","name":"com.a-b.r","fields":[]}"#,
        "invalid namespace",
    ),
    (
        r#"{"type":"record","name":"int","fields":[]}"#,
        "cannot redefine primitive type: int",
    ),
    (
        r#"{"type":"record","name":"r","fields":[{"name":"a","type":"int"},{"name":"a","type":"long"}]}"#,
        "duplicate field a in record r",
    ),
    (
        r#"{"type":"record","name":"r","fields":[{"type":"int"}]}"#,
        "no field name",
    ),
    (
        r#"{"type":"record","name":"r","fields":[{"name":"a"}]}"#,
        "no field type for field a",
    ),
    (
        r#"{"type":"record","name":"r","fields":[{"name":"a b","type":"int"}]}"#,
        "illegal character in: a b",
    ),
    (
        r#"{"type":"record","name":"r","fields":[{"name":"a","type":"Missing"}]}"#,
        "undefined name: \"Missing\"",
    ),
    (
        r#"{"type":"record","name":"ns.r","fields":[{"name":"a","type":"Missing"}]}"#,
        "undefined name: \"ns.Missing\"",
    ),
    (
        r#"{"type":"record","name":"r","fields":[{"name":"a","type":"int","order":"sideways"}]}"#,
        "invalid order",
    ),
    (
        r#"{"type":"record","name":"r","fields":[{"name":"a","type":{"type":"enum","name":"r","symbols":["X"]}}]}"#,
        "can't redefine: r",
    ),
    (
        r#"{"type":"record","name":"r","fields":[{"name":"a","type":"r2"},{"name":"b","type":{"type":"fixed","name":"r2","size":1}}]}"#,
        "undefined name",
    ),
    (
        r#"{"type":"enum","name":"e","symbols":["A","A"]}"#,
        "duplicate enum symbol: A",
    ),
    (
        r#"{"type":"enum","name":"e","symbols":["A","1B"]}"#,
        "illegal initial character: 1B",
    ),
    (
        r#"{"type":"enum","name":"e","symbols":"A"}"#,
        "enum has no symbols",
    ),
    (
        r#"{"type":"enum","name":"e","symbols":[1]}"#,
        "enum symbol is not a string",
    ),
    (
        r#"{"type":"enum","name":"e","symbols":["A"],"default":"B"}"#,
        "not in the enum symbol set",
    ),
    (r#"{"type":"fixed","name":"f"}"#, "invalid or no size"),
    (
        r#"{"type":"fixed","name":"f","size":-1}"#,
        "invalid or no size",
    ),
    (
        r#"{"type":"fixed","name":"f","size":"16"}"#,
        "invalid or no size",
    ),
    (r#"{"type":"array"}"#, "array has no items type"),
    (r#"{"type":"map"}"#, "map has no values type"),
    (r#"["int","int"]"#, "duplicate in union: int"),
    (
        r#"["int",{"type":"int","logicalType":"date"}]"#,
        "duplicate in union: int",
    ),
    (r#"["null",["int"]]"#, "nested union"),
    (
        r#"[{"type":"fixed","name":"f","size":1},{"type":"fixed","name":"g","size":1},"f"]"#,
        "duplicate in union: f",
    ),
    (
        r#"{"type":"record","name":"r","aliases":["bad-alias"],"fields":[]}"#,
        "illegal character in: bad-alias",
    ),
    (
        r#"{"type":"record","name":"r","aliases":"x","fields":[]}"#,
        "aliases must be an array",
    ),
];

/// (field type, default) pairs Java's `isValidDefault` rejects.
const BAD_DEFAULTS: &[(&str, &str)] = &[
    (r#""int""#, r#""zero""#),
    (r#""int""#, "2147483648"),
    (r#""int""#, "1.5"),
    (r#""long""#, "9223372036854775808"),
    (r#""long""#, "null"),
    (r#""float""#, r#""1.0""#),
    (r#""boolean""#, "0"),
    (r#""string""#, "null"),
    (r#""bytes""#, "[1,2]"),
    (r#""null""#, "0"),
    (r#"["null","string"]"#, r#""a""#),
    (r#"["string","null"]"#, "null"),
    (r#"{"type":"array","items":"int"}"#, r#"[1,"x"]"#),
    (r#"{"type":"map","values":"int"}"#, r#"{"a":"x"}"#),
    (r#"{"type":"enum","name":"E","symbols":["A"]}"#, "0"),
    (r#"{"type":"fixed","name":"F","size":2}"#, "12"),
    (
        r#"{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]}"#,
        "{}",
    ),
    (
        r#"{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]}"#,
        r#"{"x":"1"}"#,
    ),
];

/// (field type, default) pairs that are valid.
const GOOD_DEFAULTS: &[(&str, &str)] = &[
    (r#""int""#, "-2147483648"),
    (r#""long""#, "9223372036854775807"),
    (r#""float""#, "1"),
    (r#""double""#, r#""NaN""#),
    (r#""double""#, "1e300"),
    (r#""boolean""#, "false"),
    (r#""string""#, r#""""#),
    (r#""bytes""#, r#""\u00ff""#),
    (r#""null""#, "null"),
    (r#"["null","string"]"#, "null"),
    (r#"["string","null"]"#, r#""x""#),
    (r#"{"type":"array","items":"int"}"#, "[]"),
    (r#"{"type":"map","values":["int","null"]}"#, r#"{"a":1}"#),
    (r#"{"type":"enum","name":"E","symbols":["A"]}"#, r#""A""#),
    (r#"{"type":"fixed","name":"F","size":2}"#, r#""ab""#),
    (
        r#"{"type":"record","name":"P","fields":[{"name":"x","type":"int"},{"name":"y","type":"int","default":1}]}"#,
        r#"{"x":1}"#,
    ),
    (r#"{"type":"long","logicalType":"timestamp-millis"}"#, "0"),
];

fn with_default(ty: &str, default: &str) -> String {
    format!(
        r#"{{"type":"record","name":"r","fields":[{{"name":"f","type":{ty},"default":{default}}}]}}"#
    )
}

#[test]
fn invalid_schemas_are_rejected_with_precise_messages() {
    assert!(INVALID.len() >= 40);
    for (text, fragment) in INVALID {
        let message = error(text);
        assert!(
            message.contains(fragment),
            "{text}: {message:?} lacks {fragment:?}"
        );
    }
}

#[test]
fn invalid_defaults_are_rejected_naming_the_field() {
    for (ty, default) in BAD_DEFAULTS {
        let message = error(&with_default(ty, default));
        assert!(
            message.contains("invalid default for field f in record r"),
            "{ty} {default}: {message}"
        );
    }
    let union = error(&with_default(r#"["null","string"]"#, r#""a""#));
    assert!(union.contains("first branch"), "{union}");
}

#[test]
fn valid_defaults_are_kept() {
    for (ty, default) in GOOD_DEFAULTS {
        let text = with_default(ty, default);
        let schema = AvroSchema::parse(&text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let Kind::Record { fields, .. } = &schema.node(schema.root()).kind else {
            panic!()
        };
        let want: serde_json::Value = serde_json::from_str(default).unwrap();
        assert_eq!(fields[0].default.as_ref(), Some(&want));
    }
}

#[test]
fn a_default_can_use_the_enclosing_recursive_record() {
    let text = r#"{"type":"record","name":"L","fields":[{"name":"next","type":["null","L"],"default":null},
        {"name":"first","type":{"type":"record","name":"W","fields":[{"name":"l","type":"L","default":{"next":null}}]},
         "default":{"l":{"next":null}}}]}"#;
    AvroSchema::parse(text).unwrap();
}

#[test]
fn names_resolve_through_namespaces_like_java() {
    let text = r#"{"type":"record","name":"Outer","namespace":"a.b","fields":[
        {"name":"e","type":{"type":"enum","name":"E","symbols":["X"]}},
        {"name":"e2","type":"E"},
        {"name":"e3","type":"a.b.E"},
        {"name":"g","type":{"type":"fixed","name":"c.G","size":2}},
        {"name":"g2","type":"c.G"},
        {"name":"h","type":{"type":"fixed","name":"H","namespace":"","size":1}},
        {"name":"h2","type":"H"},
        {"name":"in","type":{"type":"record","name":"Inner","namespace":"x","fields":[{"name":"z","type":"Z2"}]}}
    ]}"#;
    // `Z2` is undefined: this documents that the inner record's namespace x is used...
    assert!(error(text).contains("undefined name: \"x.Z2\""));
    let ok = text.replace(r#""type":"Z2""#, r#""type":"H""#); // ...and the null-namespace fallback.
    let schema = AvroSchema::parse(&ok).unwrap();
    for name in ["a.b.Outer", "a.b.E", "c.G", "H", "x.Inner"] {
        assert!(schema.named_type(name).is_some(), "{name}");
    }
    let Kind::Record { fields, .. } = &schema.node(schema.root()).kind else {
        panic!()
    };
    assert_eq!(
        fields[0].schema, fields[1].schema,
        "E and its references are one node"
    );
    assert_eq!(fields[0].schema, fields[2].schema);
    assert_eq!(fields[3].schema, fields[4].schema);
}

#[test]
fn annotations_are_kept() {
    let text = r#"{"type":"record","name":"R","namespace":"n","doc":"a record","aliases":["Old","other.Older"],
        "connect.name":"n.R","fields":[
        {"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"when","aliases":["time"],"order":"descending","default":0,"x-tag":1},
        {"name":"amount","type":{"type":"bytes","logicalType":"decimal","precision":9,"scale":2}},
        {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"],"default":"B","doc":"an enum"}},
        {"name":"kind","type":"string","order":"ignore"}]}"#;
    let schema = AvroSchema::parse(text).unwrap();
    let root = schema.node(schema.root());
    let Kind::Record {
        named,
        fields,
        is_error,
    } = &root.kind
    else {
        panic!()
    };
    assert!(!is_error);
    assert_eq!(named.name.fullname(), "n.R");
    assert_eq!(named.doc.as_deref(), Some("a record"));
    assert_eq!(named.aliases, ["n.Old", "other.Older"]);
    assert_eq!(root.props.get("connect.name"), Some(&json!("n.R")));
    let ts = &fields[0];
    assert_eq!(
        (ts.doc.as_deref(), ts.order, ts.default.clone()),
        (Some("when"), Order::Descending, Some(json!(0)))
    );
    assert_eq!(ts.aliases, ["time"]);
    assert_eq!(ts.props.get("x-tag"), Some(&json!(1)));
    assert_eq!(
        schema.node(ts.schema).logical_type.as_deref(),
        Some("timestamp-millis")
    );
    let amount = schema.node(fields[1].schema);
    assert_eq!(amount.logical_type.as_deref(), Some("decimal"));
    assert_eq!(
        (amount.props.get("precision"), amount.props.get("scale")),
        (Some(&json!(9)), Some(&json!(2)))
    );
    let Kind::Enum { default, named, .. } = &schema.node(fields[2].schema).kind else {
        panic!()
    };
    assert_eq!(
        (default.as_deref(), named.doc.as_deref()),
        (Some("B"), Some("an enum"))
    );
    assert_eq!(fields[3].order, Order::Ignore);
}

#[test]
fn primitive_forms_and_error_records_parse() {
    for (text, ty) in [
        (r#""int""#, "INT"),
        (r#"{"type":"string"}"#, "STRING"),
        (r#"["null","int"]"#, "UNION"),
        ("[]", "UNION"),
    ] {
        let s = AvroSchema::parse(text).unwrap();
        assert_eq!(s.node(s.root()).kind.type_name(), ty);
    }
    let e = AvroSchema::parse(
        r#"{"type":"error","name":"Oops","fields":[{"name":"m","type":"string"}]}"#,
    )
    .unwrap();
    assert!(matches!(
        e.node(e.root()).kind,
        Kind::Record { is_error: true, .. }
    ));
}

#[test]
fn references_provide_named_types_in_dependency_order() {
    let money = r#"{"type":"fixed","name":"com.acme.Money","size":8}"#;
    let address = r#"{"type":"record","name":"com.acme.Address","fields":[{"name":"rent","type":"com.acme.Money"}]}"#;
    let user = r#"{"type":"record","name":"com.acme.User","fields":[{"name":"home","type":"Address"},{"name":"cash","type":"Money"}]}"#;
    let schema = AvroSchema::parse_with_references(user, &[money, address]).unwrap();
    let Kind::Record { fields, .. } = &schema.node(schema.root()).kind else {
        panic!()
    };
    assert_eq!(
        schema
            .node(fields[0].schema)
            .kind
            .named()
            .unwrap()
            .name
            .fullname(),
        "com.acme.Address"
    );
    // Without the reference the name is undefined; out of order, the reference itself fails.
    assert!(matches!(
        AvroSchema::parse(user),
        Err(SchemaError::Parse { .. })
    ));
    let out_of_order = AvroSchema::parse_with_references(user, &[address, money]).unwrap_err();
    assert!(
        out_of_order.to_string().contains("in reference 0: "),
        "{out_of_order}"
    );
    // A reference may not define a type the main schema defines again.
    let redefined = AvroSchema::parse_with_references(money, &[money]).unwrap_err();
    assert!(
        redefined
            .to_string()
            .contains("can't redefine: com.acme.Money"),
        "{redefined}"
    );
}

#[test]
fn stored_schemas_with_bad_defaults_load_when_default_validation_is_off() {
    use crate::avro::ParseOptions;
    use crate::compat::CanRead;
    // Confluent's testBadDefaultNull: the string "null" is not a valid default for
    // ["null","string"], but such schemas exist in old registries and must still be checked.
    let old = r#"{"type":"record","name":"myrecord","fields":[{"type":["null","string"],"name":"f1","default":"null"},{"type":"string","name":"f2","default":"foo"}]}"#;
    assert!(error(old).contains("invalid default for field f1"));
    let lenient = ParseOptions {
        validate_defaults: false,
    };
    let old = AvroSchema::parse_with_options(old, &[], lenient).unwrap();
    let new = AvroSchema::parse(r#"{"type":"record","name":"myrecord","fields":[{"type":["null","string"],"name":"f1","default":null}]}"#).unwrap();
    assert!(AvroSchema::can_read(&new, &old).is_empty());
    assert!(
        AvroSchema::can_read(&old, &new).is_empty(),
        "f2 has a default, even if odd"
    );
}
