//! Compatibility behaviour beyond the verdict table: messages, namespaces and aliases,
//! recursion, references, and Confluent's level semantics (`AvroCompatibilityTest`).

use crate::avro::AvroSchema;
use crate::compat::{CanRead, CompatibilityLevel, Incompatibility, check};

const INT: &str = r#""int""#;
const LONG: &str = r#""long""#;
const STRING: &str = r#""string""#;
const ENUM1_AB: &str = r#"{"type":"enum","name":"Enum1","symbols":["A","B"]}"#;
const ENUM2_AB: &str = r#"{"type":"enum","name":"Enum2","symbols":["A","B"]}"#;
const FIXED_4: &str = r#"{"type":"fixed","name":"Fixed","size":4}"#;
const FIXED_8: &str = r#"{"type":"fixed","name":"Fixed","size":8}"#;
const INT_UNION: &str = r#"["int"]"#;
const INT_STRING_UNION: &str = r#"["int","string"]"#;
const NULL_INT_UNION: &str = r#"["null","int"]"#;
const A_INT_RECORD1: &str =
    r#"{"type":"record","name":"Record1","fields":[{"name":"a","type":"int"}]}"#;
const A_LONG_RECORD1: &str =
    r#"{"type":"record","name":"Record1","fields":[{"name":"a","type":"long"}]}"#;
const A_INT_B_INT_RECORD1: &str = r#"{"type":"record","name":"Record1","fields":[{"name":"a","type":"int"},{"name":"b","type":"int"}]}"#;
const ENUM_AB_FIELD_RECORD: &str = r#"{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"],"default":"A"}}]}"#;

fn parse(text: &str) -> AvroSchema {
    AvroSchema::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
}

fn found(reader: &str, writer: &str) -> Vec<Incompatibility> {
    AvroSchema::can_read(&parse(reader), &parse(writer))
}

#[test]
fn messages_name_the_types_and_fields_like_java() {
    let m = |r, w| {
        found(r, w)
            .into_iter()
            .map(|x| x.message)
            .collect::<Vec<_>>()
    };
    assert_eq!(
        m(INT, LONG),
        ["reader type: INT not compatible with writer type: LONG"]
    );
    assert_eq!(
        m(A_INT_RECORD1, A_LONG_RECORD1),
        ["reader type: INT not compatible with writer type: LONG (field Record1.a)"]
    );
    let missing = m(A_INT_B_INT_RECORD1, A_INT_RECORD1);
    assert!(
        missing[0].starts_with("b (reader field 'b' of record Record1 has no default"),
        "{missing:?}"
    );
    let symbols = m(
        ENUM1_AB,
        r#"{"type":"enum","name":"Enum1","symbols":["D","A","C"]}"#,
    );
    assert!(
        symbols[0].starts_with("[C, D] (reader enum Enum1 lacks writer symbols"),
        "{symbols:?}"
    );
    assert!(m(ENUM1_AB, ENUM2_AB)[0].starts_with("expected: Enum2"));
    assert!(m(FIXED_4, FIXED_8)[0].starts_with("expected: 8, found: 4"));
    assert_eq!(
        m(INT_UNION, INT_STRING_UNION),
        ["reader union lacking writer type: STRING"]
    );
    assert_eq!(
        m(NULL_INT_UNION, STRING),
        ["reader union lacking writer type: STRING"]
    );
}

#[test]
fn name_mismatch_reports_the_writer_full_name_and_uses_reader_aliases_in_namespaces() {
    let reader = r#"{"type":"record","name":"R","namespace":"a","aliases":["Old"],"fields":[]}"#;
    // The alias resolves in the reader's namespace: a.Old, which is not b.Old.
    let writer_b = r#"{"type":"record","name":"b.Old","fields":[]}"#;
    let got = found(reader, writer_b);
    assert_eq!(got.len(), 1);
    assert!(got[0].message.starts_with("expected: b.Old"), "{}", got[0]);
    assert!(found(reader, r#"{"type":"record","name":"a.Old","fields":[]}"#).is_empty());
    // A fully qualified alias reaches another namespace.
    let reader_q =
        r#"{"type":"record","name":"R","namespace":"a","aliases":["b.Old"],"fields":[]}"#;
    assert!(found(reader_q, writer_b).is_empty());
}

#[test]
fn mutually_recursive_types_terminate_and_still_find_deep_problems() {
    let v1 = r#"{"type":"record","name":"A","fields":[
        {"name":"b","type":["null",{"type":"record","name":"B","fields":[
            {"name":"a","type":["null","A"]},{"name":"n","type":"int"}]}]}]}"#;
    let v2 = r#"{"type":"record","name":"A","fields":[
        {"name":"b","type":["null",{"type":"record","name":"B","fields":[
            {"name":"a","type":["null","A"]},{"name":"n","type":"long"}]}]}]}"#;
    assert!(found(v1, v1).is_empty());
    assert!(found(v2, v1).is_empty());
    // v1 cannot read v2's B: the union branch B is reported missing.
    let got = found(v1, v2);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(
        (got[0].kind.as_str(), got[0].path.as_str()),
        ("MISSING_UNION_BRANCH", "/fields/0/type/1")
    );
}

#[test]
fn enum_field_missing_from_writer_needs_a_field_default_not_only_an_enum_default() {
    let writer = r#"{"type":"record","name":"R","fields":[]}"#;
    let got = found(ENUM_AB_FIELD_RECORD, writer);
    assert_eq!(got[0].kind, "READER_FIELD_MISSING_DEFAULT_VALUE");
    let with_default = r#"{"type":"record","name":"R","fields":[{"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"],"default":"A"},"default":"B"}]}"#;
    assert!(found(with_default, writer).is_empty());
}

#[test]
fn types_from_references_are_checked_like_inline_ones() {
    let address_v1 = r#"{"type":"record","name":"com.acme.Address","fields":[{"name":"street","type":"string"}]}"#;
    let address_v2 = r#"{"type":"record","name":"com.acme.Address","fields":[{"name":"street","type":"string"},{"name":"zip","type":"string"}]}"#;
    let user =
        r#"{"type":"record","name":"com.acme.User","fields":[{"name":"home","type":"Address"}]}"#;
    let old = AvroSchema::parse_with_references(user, &[address_v1]).unwrap();
    let new = AvroSchema::parse_with_references(user, &[address_v2]).unwrap();
    assert!(AvroSchema::can_read(&old, &new).is_empty());
    let got = AvroSchema::can_read(&new, &old);
    assert_eq!(
        (got[0].kind.as_str(), got[0].path.as_str()),
        (
            "READER_FIELD_MISSING_DEFAULT_VALUE",
            "/fields/0/type/fields/1"
        )
    );
}

/// Confluent's `AvroCompatibilityTest` schemas and verdicts, through the level logic.
mod confluent_levels {
    use super::*;

    const S1: &str =
        r#"{"type":"record","name":"myrecord","fields":[{"type":"string","name":"f1"}]}"#;
    const S2: &str = r#"{"type":"record","name":"myrecord","fields":[{"type":"string","name":"f1"},{"type":"string","name":"f2","default":"foo"}]}"#;
    const S3: &str = r#"{"type":"record","name":"myrecord","fields":[{"type":"string","name":"f1"},{"type":"string","name":"f2"}]}"#;
    const S4: &str = r#"{"type":"record","name":"myrecord","fields":[{"type":"string","name":"f1_new","aliases":["f1"]}]}"#;
    const S6: &str = r#"{"type":"record","name":"myrecord","fields":[{"type":["null","string"],"name":"f1","doc":"doc of f1"}]}"#;
    const S7: &str = r#"{"type":"record","name":"myrecord","fields":[{"type":["null","string","int"],"name":"f1","doc":"doc of f1"}]}"#;
    const S8: &str = r#"{"type":"record","name":"myrecord","fields":[{"type":"string","name":"f1"},{"type":"string","name":"f2","default":"foo"},{"type":"string","name":"f3","default":"bar"}]}"#;

    fn ok(level: CompatibilityLevel, new: &str, existing: &[&str]) -> bool {
        let parsed: Vec<AvroSchema> = existing.iter().map(|s| parse(s)).collect();
        let versions: Vec<(i32, &AvroSchema)> = parsed
            .iter()
            .enumerate()
            .map(|(i, s)| (i as i32 + 1, s))
            .collect();
        check(level, &parse(new), &versions).is_empty()
    }

    #[test]
    fn backward() {
        use CompatibilityLevel::Backward;
        assert!(ok(Backward, S2, &[S1]), "adding a field with a default");
        assert!(ok(Backward, S1, &[S2]), "removing a field");
        assert!(!ok(Backward, S3, &[S1]), "adding a field without a default");
        assert!(ok(Backward, S4, &[S1]), "renaming a field with an alias");
        assert!(ok(Backward, S6, &[S1]), "widening to a union");
        assert!(ok(Backward, S7, &[S6]), "adding a union branch");
        assert!(!ok(Backward, S6, &[S7]), "removing a union branch");
        // Only the latest version is checked at BACKWARD.
        assert!(ok(Backward, S3, &[S1, S2]));
    }

    #[test]
    fn backward_transitive_catches_what_backward_misses() {
        use CompatibilityLevel::BackwardTransitive;
        assert!(ok(BackwardTransitive, S8, &[S1, S2]));
        assert!(!ok(BackwardTransitive, S3, &[S1, S2]));
    }

    #[test]
    fn forward_and_full() {
        use CompatibilityLevel::{Forward, ForwardTransitive, Full, FullTransitive};
        assert!(ok(Forward, S2, &[S1]), "old reader ignores the new field");
        assert!(ok(Forward, S3, &[S1]));
        assert!(
            !ok(Forward, S1, &[S3]),
            "old reader needs f2, which has no default"
        );
        assert!(ok(ForwardTransitive, S8, &[S1, S2]));
        assert!(ok(Full, S2, &[S1]));
        assert!(!ok(Full, S3, &[S1]));
        assert!(ok(FullTransitive, S8, &[S1, S2]));
        assert!(!ok(FullTransitive, S3, &[S1, S2]));
    }

    #[test]
    fn incompatibility_messages_say_which_version_and_direction() {
        let got = check(CompatibilityLevel::Full, &parse(S3), &[(1, &parse(S1))]);
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].kind, "READER_FIELD_MISSING_DEFAULT_VALUE");
        assert!(
            got[0]
                .message
                .contains("new schema reading data of version 1"),
            "{}",
            got[0]
        );
    }
}
