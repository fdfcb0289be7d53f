//! Reader/writer compatibility cases. The table mirrors Apache Avro's
//! `TestSchemaCompatibility` / `TestSchemas` (same schema names) and Confluent's
//! `AvroCompatibilityTest`; each row gives the expected incompatibilities as (kind, path).

use crate::avro::AvroSchema;
use crate::compat::{CanRead, Incompatibility};

const NULL: &str = r#""null""#;
const BOOLEAN: &str = r#""boolean""#;
const INT: &str = r#""int""#;
const LONG: &str = r#""long""#;
const FLOAT: &str = r#""float""#;
const DOUBLE: &str = r#""double""#;
const STRING: &str = r#""string""#;
const BYTES: &str = r#""bytes""#;
const INT_ARRAY: &str = r#"{"type":"array","items":"int"}"#;
const LONG_ARRAY: &str = r#"{"type":"array","items":"long"}"#;
const STRING_ARRAY: &str = r#"{"type":"array","items":"string"}"#;
const INT_MAP: &str = r#"{"type":"map","values":"int"}"#;
const LONG_MAP: &str = r#"{"type":"map","values":"long"}"#;
const ENUM1_AB: &str = r#"{"type":"enum","name":"Enum1","symbols":["A","B"]}"#;
const ENUM1_ABC: &str = r#"{"type":"enum","name":"Enum1","symbols":["A","B","C"]}"#;
const ENUM1_BC: &str = r#"{"type":"enum","name":"Enum1","symbols":["B","C"]}"#;
const ENUM2_AB: &str = r#"{"type":"enum","name":"Enum2","symbols":["A","B"]}"#;
const ENUM1_AB_DEFAULT_A: &str =
    r#"{"type":"enum","name":"Enum1","symbols":["A","B"],"default":"A"}"#;
const ENUM1_AB_ALIAS_ENUM2: &str =
    r#"{"type":"enum","name":"Enum1","aliases":["Enum2"],"symbols":["A","B"]}"#;
const EMPTY_UNION: &str = "[]";
const NULL_UNION: &str = r#"["null"]"#;
const INT_UNION: &str = r#"["int"]"#;
const LONG_UNION: &str = r#"["long"]"#;
const FLOAT_UNION: &str = r#"["float"]"#;
const DOUBLE_UNION: &str = r#"["double"]"#;
const STRING_UNION: &str = r#"["string"]"#;
const BYTES_UNION: &str = r#"["bytes"]"#;
const INT_STRING_UNION: &str = r#"["int","string"]"#;
const STRING_INT_UNION: &str = r#"["string","int"]"#;
const INT_LONG_UNION: &str = r#"["int","long"]"#;
const INT_FLOAT_UNION: &str = r#"["int","float"]"#;
const LONG_STRING_UNION: &str = r#"["long","string"]"#;
const NULL_INT_UNION: &str = r#"["null","int"]"#;
const INT_LONG_FLOAT_DOUBLE_UNION: &str = r#"["int","long","float","double"]"#;
const NULL_INT_ARRAY_UNION: &str = r#"["null",{"type":"array","items":"int"}]"#;
const NULL_INT_MAP_UNION: &str = r#"["null",{"type":"map","values":"int"}]"#;
const EMPTY_RECORD1: &str = r#"{"type":"record","name":"Record1","fields":[]}"#;
const EMPTY_RECORD2: &str = r#"{"type":"record","name":"Record2","fields":[]}"#;
const A_INT_RECORD1: &str =
    r#"{"type":"record","name":"Record1","fields":[{"name":"a","type":"int"}]}"#;
const A_LONG_RECORD1: &str =
    r#"{"type":"record","name":"Record1","fields":[{"name":"a","type":"long"}]}"#;
const A_DINT_RECORD1: &str =
    r#"{"type":"record","name":"Record1","fields":[{"name":"a","type":"int","default":0}]}"#;
const A_INT_B_INT_RECORD1: &str = r#"{"type":"record","name":"Record1","fields":[{"name":"a","type":"int"},{"name":"b","type":"int"}]}"#;
const A_INT_B_DINT_RECORD1: &str = r#"{"type":"record","name":"Record1","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":0}]}"#;
const A_DINT_B_DINT_RECORD1: &str = r#"{"type":"record","name":"Record1","fields":[{"name":"a","type":"int","default":0},{"name":"b","type":"int","default":0}]}"#;
const RECORD1_ALIAS_OLD: &str =
    r#"{"type":"record","name":"New","aliases":["Record1"],"fields":[{"name":"a","type":"int"}]}"#;
const NS1_RECORD: &str =
    r#"{"type":"record","name":"ns1.Record1","fields":[{"name":"a","type":"int"}]}"#;
const NS2_RECORD: &str =
    r#"{"type":"record","name":"Record1","namespace":"ns2","fields":[{"name":"a","type":"int"}]}"#;
const B_ALIAS_A_RECORD1: &str =
    r#"{"type":"record","name":"Record1","fields":[{"name":"b","type":"int","aliases":["a"]}]}"#;
const B_ALIASES_A_C_RECORD1: &str = r#"{"type":"record","name":"Record1","fields":[{"name":"b","type":"int","aliases":["a","c"]}]}"#;
const A_INT_C_INT_RECORD1: &str = r#"{"type":"record","name":"Record1","fields":[{"name":"a","type":"int"},{"name":"c","type":"int"}]}"#;
const FIXED_4: &str = r#"{"type":"fixed","name":"Fixed","size":4}"#;
const FIXED_8: &str = r#"{"type":"fixed","name":"Fixed","size":8}"#;
const FIXED_4_OTHER: &str = r#"{"type":"fixed","name":"Other","size":4}"#;
const FIXED_8_OTHER: &str = r#"{"type":"fixed","name":"Other","size":8}"#;
const INT_LIST_RECORD: &str = r#"{"type":"record","name":"List","fields":[{"name":"head","type":"int"},{"name":"tail","type":["null","List"],"default":null}]}"#;
const LONG_LIST_RECORD: &str = r#"{"type":"record","name":"List","fields":[{"name":"head","type":"long"},{"name":"tail","type":["null","List"],"default":null}]}"#;
const ENUM_AB_FIELD_RECORD: &str = r#"{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"],"default":"A"}}]}"#;
const ENUM_ABC_FIELD_RECORD: &str = r#"{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}}]}"#;
const ENUM_AB_NO_DEFAULT_FIELD_RECORD: &str = r#"{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}}]}"#;
const TS_MILLIS: &str = r#"{"type":"long","logicalType":"timestamp-millis"}"#;
const DATE: &str = r#"{"type":"int","logicalType":"date"}"#;
const DECIMAL_4_2: &str = r#"{"type":"bytes","logicalType":"decimal","precision":4,"scale":2}"#;
const DECIMAL_6_3: &str = r#"{"type":"bytes","logicalType":"decimal","precision":6,"scale":3}"#;
const NESTED_INT: &str = r#"{"type":"record","name":"Outer","fields":[{"name":"m","type":{"type":"map","values":{"type":"array","items":{"type":"record","name":"Inner","fields":[{"name":"x","type":"int"}]}}}}]}"#;
const NESTED_LONG_Y: &str = r#"{"type":"record","name":"Outer","fields":[{"name":"m","type":{"type":"map","values":{"type":"array","items":{"type":"record","name":"Inner","fields":[{"name":"x","type":"long"},{"name":"y","type":"string"}]}}}}]}"#;
const TREE: &str = r#"{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"children","type":{"type":"array","items":"Node"}}]}"#;
const TREE_LONG: &str = r#"{"type":"record","name":"Node","fields":[{"name":"v","type":"long"},{"name":"children","type":{"type":"array","items":"Node"}},{"name":"label","type":["null","string"],"default":null}]}"#;

type Expected = &'static [(&'static str, &'static str)];
const OK: Expected = &[];

/// (reader, writer, expected incompatibilities as (kind, path)).
const CASES: &[(&str, &str, Expected)] = &[
    // Identical primitives and every promotion.
    (NULL, NULL, OK),
    (BOOLEAN, BOOLEAN, OK),
    (INT, INT, OK),
    (LONG, INT, OK),
    (LONG, LONG, OK),
    (FLOAT, INT, OK),
    (FLOAT, LONG, OK),
    (FLOAT, FLOAT, OK),
    (DOUBLE, INT, OK),
    (DOUBLE, LONG, OK),
    (DOUBLE, FLOAT, OK),
    (DOUBLE, DOUBLE, OK),
    (STRING, STRING, OK),
    (BYTES, BYTES, OK),
    (STRING, BYTES, OK),
    (BYTES, STRING, OK),
    // Promotions never go the other way, and unrelated primitives never match.
    (INT, LONG, &[("TYPE_MISMATCH", "/")]),
    (INT, FLOAT, &[("TYPE_MISMATCH", "/")]),
    (INT, DOUBLE, &[("TYPE_MISMATCH", "/")]),
    (LONG, FLOAT, &[("TYPE_MISMATCH", "/")]),
    (LONG, DOUBLE, &[("TYPE_MISMATCH", "/")]),
    (FLOAT, DOUBLE, &[("TYPE_MISMATCH", "/")]),
    (NULL, INT, &[("TYPE_MISMATCH", "/")]),
    (BOOLEAN, INT, &[("TYPE_MISMATCH", "/")]),
    (INT, BOOLEAN, &[("TYPE_MISMATCH", "/")]),
    (INT, STRING, &[("TYPE_MISMATCH", "/")]),
    (STRING, INT, &[("TYPE_MISMATCH", "/")]),
    (BYTES, INT, &[("TYPE_MISMATCH", "/")]),
    (INT, NULL, &[("TYPE_MISMATCH", "/")]),
    // Arrays and maps: items / values resolved recursively.
    (INT_ARRAY, INT_ARRAY, OK),
    (LONG_ARRAY, INT_ARRAY, OK),
    (INT_ARRAY, LONG_ARRAY, &[("TYPE_MISMATCH", "/items")]),
    (STRING_ARRAY, INT_ARRAY, &[("TYPE_MISMATCH", "/items")]),
    (INT_MAP, INT_MAP, OK),
    (LONG_MAP, INT_MAP, OK),
    (INT_MAP, LONG_MAP, &[("TYPE_MISMATCH", "/values")]),
    (INT_MAP, INT_ARRAY, &[("TYPE_MISMATCH", "/")]),
    (INT_ARRAY, INT_MAP, &[("TYPE_MISMATCH", "/")]),
    (INT, INT_ARRAY, &[("TYPE_MISMATCH", "/")]),
    (INT_ARRAY, INT, &[("TYPE_MISMATCH", "/")]),
    // Enums: writer symbols must be known to the reader unless it has a default.
    (ENUM1_AB, ENUM1_AB, OK),
    (ENUM1_ABC, ENUM1_AB, OK),
    (ENUM1_AB, ENUM1_ABC, &[("MISSING_ENUM_SYMBOLS", "/symbols")]),
    (ENUM1_BC, ENUM1_ABC, &[("MISSING_ENUM_SYMBOLS", "/symbols")]),
    (ENUM1_AB_DEFAULT_A, ENUM1_ABC, OK),
    (ENUM1_AB, ENUM2_AB, &[("NAME_MISMATCH", "/name")]),
    (ENUM1_AB_ALIAS_ENUM2, ENUM2_AB, OK),
    (
        ENUM2_AB,
        ENUM1_AB_ALIAS_ENUM2,
        &[("NAME_MISMATCH", "/name")],
    ),
    (ENUM1_AB, STRING, &[("TYPE_MISMATCH", "/")]),
    (STRING, ENUM1_AB, &[("TYPE_MISMATCH", "/")]),
    (ENUM_AB_FIELD_RECORD, ENUM_ABC_FIELD_RECORD, OK),
    (
        ENUM_AB_NO_DEFAULT_FIELD_RECORD,
        ENUM_ABC_FIELD_RECORD,
        &[("MISSING_ENUM_SYMBOLS", "/fields/0/type/symbols")],
    ),
    // Fixed: name and size.
    (FIXED_4, FIXED_4, OK),
    (FIXED_4, FIXED_8, &[("FIXED_SIZE_MISMATCH", "/size")]),
    (FIXED_4, FIXED_4_OTHER, &[("NAME_MISMATCH", "/name")]),
    (
        FIXED_4,
        FIXED_8_OTHER,
        &[("NAME_MISMATCH", "/name"), ("FIXED_SIZE_MISMATCH", "/size")],
    ),
    (FIXED_4, BYTES, &[("TYPE_MISMATCH", "/")]),
    (BYTES, FIXED_4, &[("TYPE_MISMATCH", "/")]),
    // Unions of every shape.
    (INT_UNION, INT_UNION, OK),
    (INT_LONG_UNION, INT_UNION, OK),
    (INT_FLOAT_UNION, INT_UNION, OK),
    (INT_STRING_UNION, STRING_INT_UNION, OK),
    (INT_UNION, EMPTY_UNION, OK),
    (LONG_UNION, EMPTY_UNION, OK),
    (EMPTY_UNION, EMPTY_UNION, OK),
    (LONG_UNION, INT_UNION, OK),
    (FLOAT_UNION, INT_UNION, OK),
    (DOUBLE_UNION, INT_UNION, OK),
    (FLOAT_UNION, LONG_UNION, OK),
    (DOUBLE_UNION, LONG_UNION, OK),
    (DOUBLE_UNION, FLOAT_UNION, OK),
    (STRING_UNION, BYTES_UNION, OK),
    (BYTES_UNION, STRING_UNION, OK),
    (NULL_UNION, NULL_UNION, OK),
    (
        INT_UNION,
        INT_STRING_UNION,
        &[("MISSING_UNION_BRANCH", "/1")],
    ),
    (
        STRING_UNION,
        INT_STRING_UNION,
        &[("MISSING_UNION_BRANCH", "/0")],
    ),
    (INT_UNION, LONG_UNION, &[("MISSING_UNION_BRANCH", "/0")]),
    (EMPTY_UNION, INT_UNION, &[("MISSING_UNION_BRANCH", "/0")]),
    (LONG_STRING_UNION, INT_STRING_UNION, OK),
    (
        INT_UNION,
        INT_LONG_FLOAT_DOUBLE_UNION,
        &[
            ("MISSING_UNION_BRANCH", "/1"),
            ("MISSING_UNION_BRANCH", "/2"),
            ("MISSING_UNION_BRANCH", "/3"),
        ],
    ),
    // Reader union, writer not: some branch must read it.
    (NULL_INT_UNION, INT, OK),
    (LONG_STRING_UNION, INT, OK),
    (INT_STRING_UNION, BYTES, OK),
    (NULL_INT_ARRAY_UNION, INT_ARRAY, OK),
    (NULL_INT_MAP_UNION, INT_MAP, OK),
    (NULL_INT_UNION, STRING, &[("MISSING_UNION_BRANCH", "/")]),
    (EMPTY_UNION, INT, &[("MISSING_UNION_BRANCH", "/")]),
    // Writer union, reader not: every branch must be readable.
    (INT, INT_UNION, OK),
    (LONG, INT_LONG_UNION, OK),
    (DOUBLE, INT_LONG_FLOAT_DOUBLE_UNION, OK),
    (INT, EMPTY_UNION, OK),
    (INT, NULL_INT_UNION, &[("TYPE_MISMATCH", "/0")]),
    (
        FLOAT,
        INT_LONG_FLOAT_DOUBLE_UNION,
        &[("TYPE_MISMATCH", "/3")],
    ),
    (LONG, INT_FLOAT_UNION, &[("TYPE_MISMATCH", "/1")]),
    (INT, INT_FLOAT_UNION, &[("TYPE_MISMATCH", "/1")]),
    (INT_ARRAY, NULL_INT_ARRAY_UNION, &[("TYPE_MISMATCH", "/0")]),
    // Records: names, defaults, added and removed fields.
    (EMPTY_RECORD1, EMPTY_RECORD1, OK),
    (EMPTY_RECORD1, A_INT_RECORD1, OK),
    (EMPTY_RECORD2, EMPTY_RECORD1, &[("NAME_MISMATCH", "/name")]),
    (A_INT_RECORD1, A_INT_RECORD1, OK),
    (A_DINT_RECORD1, A_INT_RECORD1, OK),
    (A_DINT_RECORD1, A_DINT_RECORD1, OK),
    (A_INT_RECORD1, A_DINT_RECORD1, OK),
    (A_LONG_RECORD1, A_INT_RECORD1, OK),
    (
        A_INT_RECORD1,
        A_LONG_RECORD1,
        &[("TYPE_MISMATCH", "/fields/0/type")],
    ),
    (A_INT_RECORD1, A_INT_B_INT_RECORD1, OK),
    (A_DINT_RECORD1, A_INT_B_INT_RECORD1, OK),
    (A_INT_B_DINT_RECORD1, A_INT_RECORD1, OK),
    (A_DINT_B_DINT_RECORD1, EMPTY_RECORD1, OK),
    (A_DINT_B_DINT_RECORD1, A_INT_RECORD1, OK),
    (A_INT_B_INT_RECORD1, A_DINT_B_DINT_RECORD1, OK),
    (
        A_INT_RECORD1,
        EMPTY_RECORD1,
        &[("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/0")],
    ),
    (
        A_INT_B_DINT_RECORD1,
        EMPTY_RECORD1,
        &[("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/0")],
    ),
    (
        A_INT_B_INT_RECORD1,
        A_INT_RECORD1,
        &[("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/1")],
    ),
    (
        A_INT_B_INT_RECORD1,
        EMPTY_RECORD2,
        &[
            ("NAME_MISMATCH", "/name"),
            ("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/0"),
            ("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/1"),
        ],
    ),
    (A_INT_RECORD1, INT, &[("TYPE_MISMATCH", "/")]),
    (A_INT_RECORD1, ENUM1_AB, &[("TYPE_MISMATCH", "/")]),
    // Named types match on the unqualified name or a reader alias (of the writer full name).
    (NS1_RECORD, NS2_RECORD, OK),
    (NS2_RECORD, NS1_RECORD, OK),
    (RECORD1_ALIAS_OLD, A_INT_RECORD1, OK),
    (
        A_INT_RECORD1,
        RECORD1_ALIAS_OLD,
        &[("NAME_MISMATCH", "/name")],
    ),
    // Field aliases are the reader's: renaming a field via an alias works one way.
    (B_ALIAS_A_RECORD1, A_INT_RECORD1, OK),
    (
        A_INT_RECORD1,
        B_ALIAS_A_RECORD1,
        &[("READER_FIELD_MISSING_DEFAULT_VALUE", "/fields/0")],
    ),
    (
        B_ALIASES_A_C_RECORD1,
        A_INT_C_INT_RECORD1,
        &[("READER_FIELD_MATCHES_MULTIPLE_WRITER_FIELDS", "/fields/0")],
    ),
    // Recursive and deeply nested types.
    (INT_LIST_RECORD, INT_LIST_RECORD, OK),
    (LONG_LIST_RECORD, LONG_LIST_RECORD, OK),
    (LONG_LIST_RECORD, INT_LIST_RECORD, OK),
    (
        INT_LIST_RECORD,
        LONG_LIST_RECORD,
        &[("TYPE_MISMATCH", "/fields/0/type")],
    ),
    (TREE, TREE, OK),
    (TREE_LONG, TREE, OK),
    (TREE, TREE_LONG, &[("TYPE_MISMATCH", "/fields/0/type")]),
    (
        NESTED_LONG_Y,
        NESTED_INT,
        &[(
            "READER_FIELD_MISSING_DEFAULT_VALUE",
            "/fields/0/type/values/items/fields/1",
        )],
    ),
    (
        NESTED_INT,
        NESTED_LONG_Y,
        &[("TYPE_MISMATCH", "/fields/0/type/values/items/fields/0/type")],
    ),
    // Logical types are annotations: Java's checker ignores them (decimal included).
    (TS_MILLIS, LONG, OK),
    (LONG, TS_MILLIS, OK),
    (TS_MILLIS, DATE, OK),
    (DATE, TS_MILLIS, &[("TYPE_MISMATCH", "/")]),
    (DECIMAL_4_2, DECIMAL_6_3, OK),
    (STRING, DECIMAL_4_2, OK),
];

fn parse(text: &str) -> AvroSchema {
    AvroSchema::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn found(reader: &str, writer: &str) -> Vec<Incompatibility> {
    AvroSchema::can_read(&parse(reader), &parse(writer))
}

#[test]
fn case_table_matches_java_schema_compatibility() {
    assert!(CASES.len() >= 130, "{} cases", CASES.len());
    let mut failures = Vec::new();
    for (i, (reader, writer, expected)) in CASES.iter().enumerate() {
        let got: Vec<(String, String)> = found(reader, writer)
            .into_iter()
            .map(|x| (x.kind, x.path))
            .collect();
        let want: Vec<(String, String)> = expected
            .iter()
            .map(|(k, p)| ((*k).to_owned(), (*p).to_owned()))
            .collect();
        if got != want {
            failures.push(format!(
                "case {i}: reader {reader} writer {writer}\n  want {want:?}\n  got  {got:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
