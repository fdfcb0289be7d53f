//! [`AvroSchema::normalize`]: Confluent's `normalize=true` (`AvroSchemaUtils.toNormalizedString`,
//! re-parsed, then Java's `Schema.toString()`). Expected strings follow those rules.

use crate::avro::AvroSchema;

fn normalized(text: &str) -> String {
    AvroSchema::parse(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .normalize()
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .to_java_string()
}

/// (input, Java's `Schema.toString()` of Confluent's normalized schema).
const CASES: &[(&str, &str)] = &[
    (r#""long""#, r#""long""#),
    (r#"{"type":"string"}"#, r#""string""#),
    // Properties sorted; a valid logical type first.
    (
        r#"{"type":"long","connect.name":"x","logicalType":"timestamp-millis","a":1}"#,
        r#"{"type":"long","logicalType":"timestamp-millis","a":1,"connect.name":"x"}"#,
    ),
    // An invalid logical type (wrong base type) is a plain property: sorted with the rest.
    (
        r#"{"type":"int","logicalType":"timestamp-millis","a":1}"#,
        r#"{"type":"int","a":1,"logicalType":"timestamp-millis"}"#,
    ),
    // Decimal: logicalType, precision, scale, then the rest sorted.
    (
        r#"{"b":true,"scale":2,"type":"bytes","precision":9,"logicalType":"decimal","a":{"y":1,"x":2}}"#,
        r#"{"type":"bytes","logicalType":"decimal","precision":9,"scale":2,"a":{"x":2,"y":1},"b":true}"#,
    ),
    // Scale 0 is not written by setLogicalProps: it lands in sorted position.
    (
        r#"{"type":"bytes","scale":0,"precision":4,"logicalType":"decimal","c":1}"#,
        r#"{"type":"bytes","logicalType":"decimal","precision":4,"c":1,"scale":0}"#,
    ),
    (
        r#"{"type":"fixed","name":"D","size":4,"a":1,"logicalType":"decimal","precision":9}"#,
        r#"{"type":"fixed","name":"D","size":4,"logicalType":"decimal","precision":9,"a":1}"#,
    ),
    // Too much precision for 4 bytes: invalid, sorted.
    (
        r#"{"type":"fixed","name":"D","size":4,"logicalType":"decimal","precision":10,"a":1}"#,
        r#"{"type":"fixed","name":"D","size":4,"a":1,"logicalType":"decimal","precision":10}"#,
    ),
    (
        r#"{"type":"array","items":"int","b":1,"a":2}"#,
        r#"{"type":"array","items":"int","a":2,"b":1}"#,
    ),
    // Records: props and aliases sorted, an empty doc dropped (a field's empty doc stays),
    // order written only when not ascending, doc/aliases/default of fields in Java's order.
    (
        r#"{"type":"record","name":"R","namespace":"ns","doc":"","aliases":["Z","a.B","A"],"y":1,"x":2,
            "fields":[{"name":"f","type":"int","doc":"","aliases":["q","p"],"k":1,"j":2,"order":"descending"}]}"#,
        r#"{"type":"record","name":"R","namespace":"ns","fields":[{"name":"f","type":"int","doc":"","order":"descending","aliases":["p","q"],"j":2,"k":1}],"x":2,"y":1,"aliases":["a.B","A","Z"]}"#,
    ),
    // Defaults converted as Java does: int → double/float, Latin-1 bytes, sorted objects,
    // a union's first branch.
    (
        r#"{"type":"record","name":"R","fields":[
            {"name":"d","type":"double","default":1},
            {"name":"f","type":"float","default":0.1},
            {"name":"big","type":"double","default":12345678},
            {"name":"l","type":"long","default":7},
            {"name":"b","type":"bytes","default":"\u00ff\u0100"},
            {"name":"u","type":["null","double"],"default":null},
            {"name":"v","type":["double","null"],"default":2},
            {"name":"m","type":{"type":"map","values":"double"},"default":{"z":1,"a":2.5}},
            {"name":"a","type":{"type":"array","items":"float"},"default":[1,2]}]}"#,
        concat!(
            r#"{"type":"record","name":"R","fields":["#,
            r#"{"name":"d","type":"double","default":1.0},"#,
            r#"{"name":"f","type":"float","default":0.1},"#,
            r#"{"name":"big","type":"double","default":1.2345678E7},"#,
            r#"{"name":"l","type":"long","default":7},"#,
            r#"{"name":"b","type":"bytes","default":"ÿ?"},"#,
            r#"{"name":"u","type":["null","double"],"default":null},"#,
            r#"{"name":"v","type":["double","null"],"default":2.0},"#,
            r#"{"name":"m","type":{"type":"map","values":"double"},"default":{"a":2.5,"z":1.0}},"#,
            r#"{"name":"a","type":{"type":"array","items":"float"},"default":[1.0,2.0]}]}"#
        ),
    ),
    // A record default: keys sorted, each converted against its field.
    (
        r#"{"type":"record","name":"R","fields":[{"name":"p","type":{"type":"record","name":"P",
            "fields":[{"name":"y","type":"double"},{"name":"x","type":"string"}]},"default":{"y":3,"x":"s"}}]}"#,
        r#"{"type":"record","name":"R","fields":[{"name":"p","type":{"type":"record","name":"P","fields":[{"name":"y","type":"double"},{"name":"x","type":"string"}]},"default":{"x":"s","y":3.0}}]}"#,
    ),
    // Enums: doc kept when not empty, aliases sorted, default kept, props sorted.
    (
        r#"{"type":"enum","name":"E","namespace":"n","symbols":["B","A"],"default":"A","doc":"d","aliases":["Y","X"],"q":1,"p":2}"#,
        r#"{"type":"enum","name":"E","namespace":"n","doc":"d","symbols":["B","A"],"default":"A","p":2,"q":1,"aliases":["X","Y"]}"#,
    ),
    // "error" becomes "record".
    (
        r#"{"type":"error","name":"Oops","fields":[]}"#,
        r#"{"type":"record","name":"Oops","fields":[]}"#,
    ),
    // Confluent's quirk: names are written as full names without `namespace`, so a nested
    // type in the null namespace moves into the enclosing one on the re-parse.
    (
        r#"{"type":"record","name":"R","namespace":"ns","fields":[
            {"name":"i","type":{"type":"record","name":"I","namespace":"","fields":[]}},
            {"name":"j","type":"I"},
            {"name":"o","type":{"type":"enum","name":"other.E","symbols":["A"]}},
            {"name":"p","type":"other.E"}]}"#,
        concat!(
            r#"{"type":"record","name":"R","namespace":"ns","fields":["#,
            r#"{"name":"i","type":{"type":"record","name":"I","fields":[]}},"#,
            r#"{"name":"j","type":"I"},"#,
            r#"{"name":"o","type":{"type":"enum","name":"E","namespace":"other","symbols":["A"]}},"#,
            r#"{"name":"p","type":"other.E"}]}"#
        ),
    ),
];

#[test]
fn normalize_matches_confluent() {
    for (input, expected) in CASES {
        assert_eq!(normalized(input), *expected, "input: {input}");
        // Normalizing is idempotent.
        assert_eq!(normalized(expected), *expected, "again: {expected}");
    }
}

#[test]
fn prop_alias_and_doc_differences_vanish() {
    let a = r#"{"type":"record","name":"R","aliases":["B","A"],"x":1,"y":"2",
        "fields":[{"name":"f","type":{"type":"string","p":1,"q":2},"aliases":["b","a"]}]}"#;
    let b = r#"{"y":"2","fields":[{"aliases":["a","b"],"type":{"q":2,"type":"string","p":1},"name":"f"}],
        "x":1,"doc":"","aliases":["A","B","A"],"name":"R","type":"record"}"#;
    let java = |t: &str| AvroSchema::parse(t).unwrap().to_java_string();
    assert_ne!(java(a), java(b), "different without normalize");
    assert_eq!(normalized(a), normalized(b));
}

#[test]
fn referenced_types_stay_references() {
    let reference = r#"{"type":"record","name":"Ref","namespace":"r","fields":[
        {"name":"n","type":{"type":"enum","name":"Nested","symbols":["A"]}}]}"#;
    let text = r#"{"type":"record","name":"Main","fields":[
        {"name":"x","type":"r.Ref"},{"name":"y","type":"r.Nested"}],"b":1,"a":2}"#;
    let parsed = AvroSchema::parse_with_references(text, &[reference]).unwrap();
    let normal = parsed.normalize().unwrap();
    assert_eq!(
        normal.to_java_string(),
        r#"{"type":"record","name":"Main","fields":[{"name":"x","type":"r.Ref"},{"name":"y","type":{"type":"enum","name":"Nested","namespace":"r","symbols":["A"]}}],"a":2,"b":1}"#
    );
    assert_eq!(
        parsed.normalized_source(),
        r#"{"name":"Main","type":"record","fields":[{"name":"x","type":"r.Ref","order":"ascending"},{"name":"y","type":"r.Nested","order":"ascending"}],"a":2,"b":1}"#
    );
}
