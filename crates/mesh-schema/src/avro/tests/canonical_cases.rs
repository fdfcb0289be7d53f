//! Parsing Canonical Form (cases from the Avro spec's rules and Avro's `schema-tests.txt`)
//! and the normalized identity form.

use crate::avro::AvroSchema;

fn pcf(text: &str) -> String {
    AvroSchema::parse(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .canonical_form()
}

fn norm(text: &str) -> String {
    AvroSchema::parse(text)
        .unwrap_or_else(|e| panic!("{text}: {e}"))
        .normalized()
}

/// (input, Parsing Canonical Form).
const PCF: &[(&str, &str)] = &[
    (r#""null""#, r#""null""#),
    (r#"{"type":"null"}"#, r#""null""#),
    (r#"{"type":"int","logicalType":"date"}"#, r#""int""#),
    (
        r#" { "type" : "string" , "avro.java.string" : "String" } "#,
        r#""string""#,
    ),
    (
        r#"{"type":"fixed","name":"foo","size":15}"#,
        r#"{"name":"foo","type":"fixed","size":15}"#,
    ),
    (
        r#"{"type":"fixed","name":"x.y.foo","size":32}"#,
        r#"{"name":"x.y.foo","type":"fixed","size":32}"#,
    ),
    (
        r#"{"type":"fixed","name":"foo","namespace":"x.y","size":32}"#,
        r#"{"name":"x.y.foo","type":"fixed","size":32}"#,
    ),
    (
        r#"{"type":"fixed","name":"a.foo","namespace":"x.y","size":32}"#,
        r#"{"name":"a.foo","type":"fixed","size":32}"#,
    ),
    (
        r#"{"size":0,"name":"z","type":"fixed"}"#,
        r#"{"name":"z","type":"fixed","size":0}"#,
    ),
    (
        r#"{"type":"enum","name":"foo","symbols":["A1"]}"#,
        r#"{"name":"foo","type":"enum","symbols":["A1"]}"#,
    ),
    (
        r#"{"namespace":"x.y.z", "type":"enum", "name":"foo", "doc":"foo bar", "symbols":["A1", "A2"], "default":"A2"}"#,
        r#"{"name":"x.y.z.foo","type":"enum","symbols":["A1","A2"]}"#,
    ),
    (
        r#"{"type":"array","items":"int"}"#,
        r#"{"type":"array","items":"int"}"#,
    ),
    (
        r#"{"type":"array", "items": {"type":"enum", "name":"foo", "symbols":["A1"]}}"#,
        r#"{"type":"array","items":{"name":"foo","type":"enum","symbols":["A1"]}}"#,
    ),
    (
        r#"{"type":"map","values":{"type":"long"}}"#,
        r#"{"type":"map","values":"long"}"#,
    ),
    (r#"["int", "null"]"#, r#"["int","null"]"#),
    (
        r#"{"type":"record","name":"foo","doc":"d","aliases":["bar"],"fields":[{"name":"f1","type":"boolean","default":true,"doc":"x","order":"descending","aliases":["g"]}]}"#,
        r#"{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}"#,
    ),
    (
        r#"{"type":"error","name":"foo","fields":[{"name":"f1","type":"boolean"}]}"#,
        r#"{"name":"foo","type":"record","fields":[{"name":"f1","type":"boolean"}]}"#,
    ),
    (
        r#"{"type":"record","name":"Node","fields":[{"name":"label","type":"string"},{"name":"children","type":{"type":"array","items":"Node"}}]}"#,
        r#"{"name":"Node","type":"record","fields":[{"name":"label","type":"string"},{"name":"children","type":{"type":"array","items":"Node"}}]}"#,
    ),
    (
        r#"{"type":"record","name":"Lisp","fields":[{"name":"value","type":["null","string",{"type":"record","name":"Cons","fields":[{"name":"car","type":"Lisp"},{"name":"cdr","type":"Lisp"}]}]}]}"#,
        r#"{"name":"Lisp","type":"record","fields":[{"name":"value","type":["null","string",{"name":"Cons","type":"record","fields":[{"name":"car","type":"Lisp"},{"name":"cdr","type":"Lisp"}]}]}]}"#,
    ),
    (
        r#"{"type":"record","name":"HandshakeRequest","namespace":"org.apache.avro.ipc","fields":[{"name":"clientHash","type":{"type":"fixed","name":"MD5","size":16}},{"name":"clientProtocol","type":["null","string"]},{"name":"serverHash","type":"MD5"},{"name":"meta","type":["null",{"type":"map","values":"bytes"}]}]}"#,
        r#"{"name":"org.apache.avro.ipc.HandshakeRequest","type":"record","fields":[{"name":"clientHash","type":{"name":"org.apache.avro.ipc.MD5","type":"fixed","size":16}},{"name":"clientProtocol","type":["null","string"]},{"name":"serverHash","type":"org.apache.avro.ipc.MD5"},{"name":"meta","type":["null",{"type":"map","values":"bytes"}]}]}"#,
    ),
    // [STRINGS]: escapes are JSON's, non-ASCII stays literal.
    (
        r#"{"type":"enum","name":"é","symbols":["Ü"]}"#,
        r#"{"name":"é","type":"enum","symbols":["Ü"]}"#,
    ),
];

#[test]
fn parsing_canonical_form_matches_the_spec() {
    for (input, want) in PCF {
        assert_eq!(pcf(input), *want, "input {input}");
        // PCF is a fixed point: it parses back to itself.
        assert_eq!(pcf(want), *want);
    }
}

#[test]
fn referenced_types_are_inlined_at_first_use() {
    let money = r#"{"type":"fixed","name":"m.Money","size":8}"#;
    let main = r#"{"type":"record","name":"m.Account","fields":[{"name":"a","type":"Money"},{"name":"b","type":"Money"}]}"#;
    let s = AvroSchema::parse_with_references(main, &[money]).unwrap();
    assert_eq!(
        s.canonical_form(),
        r#"{"name":"m.Account","type":"record","fields":[{"name":"a","type":{"name":"m.Money","type":"fixed","size":8}},{"name":"b","type":"m.Money"}]}"#
    );
}

#[test]
fn normalized_form_ignores_layout_only() {
    let a = r#"{"type":"record","name":"User","namespace":"com.acme","doc":"u","aliases":["B","A"],
        "fields":[{"name":"id","type":{"type":"long"},"default":1},
                  {"name":"tags","type":{"type":"map","values":"string"},"default":{"z":"1","a":"2"}},
                  {"name":"at","type":{"logicalType":"timestamp-millis","type":"long"}}]}"#;
    let b = r#"{"fields":[{"default":1,"type":"long","name":"id"},
                  {"name":"tags","default":{"a":"2","z":"1"},"type":{"values":{"type":"string"},"type":"map"}},
                  {"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}],
        "aliases":["com.acme.A","B","A"],"doc":"u","name":"com.acme.User","type":"record"}"#;
    assert_eq!(norm(a), norm(b));
    assert_eq!(
        norm(a),
        r#"{"name":"com.acme.User","type":"record","fields":[{"name":"id","type":"long","default":1},{"name":"tags","type":{"type":"map","values":"string"},"default":{"a":"2","z":"1"}},{"name":"at","type":{"type":"long","logicalType":"timestamp-millis"}}],"aliases":["com.acme.A","com.acme.B"],"doc":"u"}"#
    );
}

#[test]
fn normalized_form_keeps_what_identity_depends_on() {
    let base = r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int"}]}"#;
    let variants = [
        r#"{"type":"record","name":"R","doc":"x","fields":[{"name":"a","type":"int"}]}"#,
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","default":0}]}"#,
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","aliases":["b"]}]}"#,
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":"int","order":"ignore"}]}"#,
        r#"{"type":"record","name":"R","fields":[{"name":"a","type":{"type":"int","logicalType":"date"}}]}"#,
        r#"{"type":"record","name":"R","connect.version":2,"fields":[{"name":"a","type":"int"}]}"#,
        r#"{"type":"error","name":"R","fields":[{"name":"a","type":"int"}]}"#,
    ];
    for v in variants {
        assert_ne!(norm(v), norm(base), "{v}");
        // ... while the parsing canonical form, by design, does not see the difference.
        assert_eq!(pcf(v), pcf(base), "{v}");
    }
}

#[test]
fn normalized_form_parses_back_to_the_same_schema() {
    let text = r#"{"type":"record","name":"a.R","aliases":["Old"],"fields":[
        {"name":"e","type":{"type":"enum","name":"E","symbols":["X","Y"],"default":"Y","doc":"e"},"default":"X"},
        {"name":"e2","type":["null","E"],"default":null},
        {"name":"f","type":{"type":"fixed","name":"b.F","size":4,"aliases":["G"]}},
        {"name":"self","type":["null","R"],"default":null,"order":"descending","custom":[1,{"b":2,"a":1}]},
        {"name":"d","type":{"type":"bytes","logicalType":"decimal","precision":5,"scale":2}}]}"#;
    let once = norm(text);
    assert_eq!(norm(&once), once);
    assert_eq!(pcf(&once), pcf(text));
    assert!(once.contains(r#""custom":[1,{"a":1,"b":2}]"#), "{once}");
    assert!(
        once.contains(r#"{"name":"e2","type":["null","a.E"],"default":null}"#),
        "{once}"
    );
}
