//! [`AvroSchema::to_java_string`]: Avro-Java 1.11's `Schema.toString()` of the parsed schema
//! (expected strings follow Java's `Schema.toJson` methods and Jackson's output rules).

use crate::avro::AvroSchema;
use crate::avro::json::java_double;

fn java(text: &str) -> String {
    AvroSchema::parse(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .to_java_string()
}

/// (input, Java's `Schema.toString()`).
const CASES: &[(&str, &str)] = &[
    // Primitives: bare unless they carry properties (logicalType is one).
    (r#""long""#, r#""long""#),
    (r#"{"type":"string"}"#, r#""string""#),
    (
        r#"{"logicalType":"timestamp-millis","type":"long"}"#,
        r#"{"type":"long","logicalType":"timestamp-millis"}"#,
    ),
    (
        r#"{"scale":2,"type":"bytes","precision":9,"logicalType":"decimal"}"#,
        r#"{"type":"bytes","scale":2,"precision":9,"logicalType":"decimal"}"#,
    ),
    (
        r#"{"type":"string","avro.java.string":"String"}"#,
        r#"{"type":"string","avro.java.string":"String"}"#,
    ),
    // The registry bug report: key order of the input does not matter.
    (
        r#"{"fields":[{"type":"long","name":"id"}],"name":"User","type":"record"}"#,
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#,
    ),
    (
        r#"{
            "fields": [{"name": "id", "type": "long"}, {"name": "name", "type": "string"}],
            "namespace": "mesh.test", "name": "User", "type": "record"
        }"#,
        r#"{"type":"record","name":"User","namespace":"mesh.test","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"}]}"#,
    ),
    // A dotted name splits into name and namespace.
    (
        r#"{"type":"fixed","name":"x.y.F","size":4}"#,
        r#"{"type":"fixed","name":"F","namespace":"x.y","size":4}"#,
    ),
    // Nested namespaces: written only where they change; null inside non-null is "".
    (
        r#"{"type":"record","name":"Outer","namespace":"a","fields":[
            {"name":"same","type":{"type":"enum","name":"E","symbols":["X"]}},
            {"name":"other","type":{"type":"record","name":"b.Inner","fields":[
                {"name":"back","type":{"type":"fixed","name":"a.F","size":2}},
                {"name":"e","type":"a.E"}]}},
            {"name":"none","type":{"type":"record","name":"Top","namespace":"","fields":[]}},
            {"name":"f","type":"F"},
            {"name":"top","type":"Top"},
            {"name":"inner","type":"b.Inner"}]}"#,
        concat!(
            r#"{"type":"record","name":"Outer","namespace":"a","fields":["#,
            r#"{"name":"same","type":{"type":"enum","name":"E","symbols":["X"]}},"#,
            r#"{"name":"other","type":{"type":"record","name":"Inner","namespace":"b","fields":["#,
            r#"{"name":"back","type":{"type":"fixed","name":"F","namespace":"a","size":2}},"#,
            r#"{"name":"e","type":"a.E"}]}},"#,
            r#"{"name":"none","type":{"type":"record","name":"Top","namespace":"","fields":[]}},"#,
            r#"{"name":"f","type":"F"},{"name":"top","type":"Top"},{"name":"inner","type":"b.Inner"}]}"#
        ),
    ),
    // Enums and fixed do not change the enclosing namespace (only records do).
    (
        r#"{"type":"array","items":{"type":"enum","name":"n.E","symbols":["A"]}}"#,
        r#"{"type":"array","items":{"type":"enum","name":"E","namespace":"n","symbols":["A"]}}"#,
    ),
    // Docs, aliases (relative to the type's namespace, deduplicated), props after fields and
    // before aliases, field attribute order.
    (
        r#"{"aliases":["Old","other.Older","n.Old"],"connect.name":"n.R","doc":"a record",
            "name":"R","namespace":"n","type":"record","fields":[
            {"x-tag":1,"default":0,"order":"descending","aliases":["time","t2","time"],"doc":"when",
             "type":{"type":"long","logicalType":"timestamp-millis"},"name":"ts"},
            {"name":"kind","type":"string","order":"ignore"},
            {"name":"asc","type":"int","order":"ascending"}]}"#,
        concat!(
            r#"{"type":"record","name":"R","namespace":"n","doc":"a record","fields":["#,
            r#"{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"when","default":0,"order":"descending","aliases":["time","t2"],"x-tag":1},"#,
            r#"{"name":"kind","type":"string","order":"ignore"},"#,
            r#"{"name":"asc","type":"int"}],"#,
            r#""connect.name":"n.R","aliases":["Old","other.Older"]}"#
        ),
    ),
    // Enum: symbols, default, props, aliases.
    (
        r#"{"default":"B","aliases":["F"],"x":{"b":1,"a":[true,null]},"symbols":["A","B"],"doc":"d","name":"E","type":"enum"}"#,
        r#"{"type":"enum","name":"E","doc":"d","symbols":["A","B"],"default":"B","x":{"b":1,"a":[true,null]},"aliases":["F"]}"#,
    ),
    // Fixed with a logical type and aliases.
    (
        r#"{"logicalType":"duration","size":12,"name":"D","type":"fixed","aliases":["m.Dur"],"namespace":"m"}"#,
        r#"{"type":"fixed","name":"D","namespace":"m","size":12,"logicalType":"duration","aliases":["Dur"]}"#,
    ),
    // Maps and arrays with props; unions.
    (
        r#"{"values":["null",{"type":"array","items":"int","x":"y"}],"type":"map","java-class":"M"}"#,
        r#"{"type":"map","values":["null",{"type":"array","items":"int","x":"y"}],"java-class":"M"}"#,
    ),
    // A reference to a named type is its (short when possible) name; a "default" on a
    // record is a plain property; error records keep their type.
    (
        r#"{"type":"error","name":"Err","namespace":"p","default":{},"fields":[
            {"name":"self","type":["null","Err"],"default":null},
            {"name":"list","type":{"type":"array","items":"p.Err"},"default":[]}]}"#,
        concat!(
            r#"{"type":"error","name":"Err","namespace":"p","fields":["#,
            r#"{"name":"self","type":["null","Err"],"default":null},"#,
            r#"{"name":"list","type":{"type":"array","items":"Err"},"default":[]}],"default":{}}"#
        ),
    ),
    // Recursion through a null-namespace type.
    (
        r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#,
        r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#,
    ),
    // Defaults of every type, as written (object key order kept); bytes and fixed defaults are
    // strings of code points 0-255, escaped as Jackson escapes; doubles as Java prints them.
    (
        r#"{"type":"record","name":"D","fields":[
            {"name":"n","type":"null","default":null},
            {"name":"b","type":"boolean","default":true},
            {"name":"i","type":"int","default":-7},
            {"name":"l","type":"long","default":9007199254740993},
            {"name":"f","type":"float","default":1},
            {"name":"d","type":"double","default":1.5e10},
            {"name":"d2","type":"double","default":0.00001},
            {"name":"d3","type":"double","default":100},
            {"name":"d4","type":"double","default":2.50},
            {"name":"nan","type":"double","default":"NaN"},
            {"name":"s","type":"string","default":"é\"\\\n\u0001/"},
            {"name":"by","type":"bytes","default":"\u00ff\u0000"},
            {"name":"fx","type":{"type":"fixed","name":"F2","size":2},"default":"\u00ab\u00cd"},
            {"name":"e","type":{"type":"enum","name":"E","symbols":["A"]},"default":"A"},
            {"name":"a","type":{"type":"array","items":"double"},"default":[1.0,2]},
            {"name":"m","type":{"type":"map","values":"int"},"default":{"z":1,"a":2}},
            {"name":"u","type":["int","null"],"default":3},
            {"name":"r","type":{"type":"record","name":"In","fields":[{"name":"y","type":"int"},{"name":"x","type":"int"}]},"default":{"y":1,"x":2}}]}"#,
        concat!(
            r#"{"type":"record","name":"D","fields":["#,
            r#"{"name":"n","type":"null","default":null},"#,
            r#"{"name":"b","type":"boolean","default":true},"#,
            r#"{"name":"i","type":"int","default":-7},"#,
            r#"{"name":"l","type":"long","default":9007199254740993},"#,
            r#"{"name":"f","type":"float","default":1},"#,
            r#"{"name":"d","type":"double","default":1.5E10},"#,
            r#"{"name":"d2","type":"double","default":1.0E-5},"#,
            r#"{"name":"d3","type":"double","default":100},"#,
            r#"{"name":"d4","type":"double","default":2.5},"#,
            r#"{"name":"nan","type":"double","default":"NaN"},"#,
            "{\"name\":\"s\",\"type\":\"string\",\"default\":\"é\\\"\\\\\\n\\u0001/\"},",
            "{\"name\":\"by\",\"type\":\"bytes\",\"default\":\"\u{ff}\\u0000\"},",
            "{\"name\":\"fx\",\"type\":{\"type\":\"fixed\",\"name\":\"F2\",\"size\":2},\"default\":\"\u{ab}\u{cd}\"},",
            r#"{"name":"e","type":{"type":"enum","name":"E","symbols":["A"]},"default":"A"},"#,
            r#"{"name":"a","type":{"type":"array","items":"double"},"default":[1.0,2]},"#,
            r#"{"name":"m","type":{"type":"map","values":"int"},"default":{"z":1,"a":2}},"#,
            r#"{"name":"u","type":["int","null"],"default":3},"#,
            r#"{"name":"r","type":{"type":"record","name":"In","fields":[{"name":"y","type":"int"},{"name":"x","type":"int"}]},"default":{"y":1,"x":2}}]}"#
        ),
    ),
    // Custom props with nested objects keep their key order; a repeated key keeps its first
    // position and last value (Jackson's ObjectNode).
    (
        r#"{"type":"int","connect.parameters":{"z":"1","a":"2"},"k":1,"k":2}"#,
        r#"{"type":"int","connect.parameters":{"z":"1","a":"2"},"k":2}"#,
    ),
];

#[test]
fn java_to_string_cases() {
    for (input, expected) in CASES {
        assert_eq!(java(input), *expected, "input: {input}");
        // Java's output parses back to itself.
        assert_eq!(java(expected), *expected, "re-parse of: {expected}");
    }
}

#[test]
fn control_characters_use_upper_case_hex() {
    assert_eq!(
        java(r#"{"type":"string","doc":"\u001f","x":"\u001f\t"}"#),
        r#"{"type":"string","x":"\u001F\t"}"#
    );
}

#[test]
fn referenced_types_are_written_by_name() {
    let reference = r#"{"type":"record","name":"Address","namespace":"geo","fields":[
        {"name":"zip","type":{"type":"fixed","name":"Zip","size":5}}]}"#;
    let main = r#"{"type":"record","name":"Customer","namespace":"crm","fields":[
        {"name":"home","type":"geo.Address"},{"name":"zip","type":"geo.Zip"}]}"#;
    let schema = AvroSchema::parse_with_references(main, &[reference]).unwrap();
    // Only the reference's top-level type is pre-registered (Java's `Names.add`), so a type
    // nested in it is spelled out at its first use in the referring schema.
    assert_eq!(
        schema.to_java_string(),
        concat!(
            r#"{"type":"record","name":"Customer","namespace":"crm","fields":["#,
            r#"{"name":"home","type":"geo.Address"},"#,
            r#"{"name":"zip","type":{"type":"fixed","name":"Zip","namespace":"geo","size":5}}]}"#
        )
    );
    // The same namespace makes the reference short.
    let main = r#"{"type":"record","name":"geo.Place","fields":[{"name":"a","type":"Address"}]}"#;
    let schema = AvroSchema::parse_with_references(main, &[reference]).unwrap();
    assert_eq!(
        schema.to_java_string(),
        r#"{"type":"record","name":"Place","namespace":"geo","fields":[{"name":"a","type":"Address"}]}"#
    );
}

#[test]
fn doubles_print_like_java() {
    let cases: &[(f64, &str)] = &[
        (0.0, "0.0"),
        (-0.0, "-0.0"),
        (1.0, "1.0"),
        (-2.5, "-2.5"),
        (0.001, "0.001"),
        (0.0001, "1.0E-4"),
        (1234567.0, "1234567.0"),
        (9999999.5, "9999999.5"),
        (10_000_000.0, "1.0E7"),
        (1.234e-7, "1.234E-7"),
        (1e21, "1.0E21"),
        (123.456, "123.456"),
        (0.1 + 0.2, "0.30000000000000004"),
        (f64::MAX, "1.7976931348623157E308"),
        (f64::MIN_POSITIVE, "2.2250738585072014E-308"),
        (f64::NAN, "\"NaN\""),
        (f64::NEG_INFINITY, "\"-Infinity\""),
    ];
    for (f, expected) in cases {
        assert_eq!(java_double(*f), *expected, "{f}");
    }
}
