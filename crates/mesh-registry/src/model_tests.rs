//! Unit tests of the record format and the data-contract entities.
use super::*;

fn key(r: &Record) -> String {
    String::from_utf8(r.encode().0).unwrap()
}

#[test]
fn keys_have_confluents_exact_bytes() {
    let s = Record::Schema {
        subject: "s".into(),
        version: 1,
        value: None,
    };
    assert_eq!(
        key(&s),
        r#"{"keytype":"SCHEMA","subject":"s","version":1,"magic":1}"#
    );
    let g = Record::Config {
        subject: None,
        value: None,
    };
    assert_eq!(key(&g), r#"{"keytype":"CONFIG","magic":0}"#);
    let m = Record::Mode {
        subject: Some("s".into()),
        value: None,
    };
    assert_eq!(key(&m), r#"{"keytype":"MODE","subject":"s","magic":0}"#);
    let d = Record::DeleteSubject {
        subject: "s".into(),
        version: 3,
    };
    assert_eq!(
        key(&d),
        r#"{"keytype":"DELETE_SUBJECT","subject":"s","magic":0}"#
    );
    assert_eq!(key(&Record::Noop), r#"{"keytype":"NOOP","magic":0}"#);
}

#[test]
fn records_round_trip_and_foreign_keys_decode() {
    let v = SchemaValue {
        subject: "s".into(),
        version: 2,
        id: 7,
        schema: "\"int\"".into(),
        deleted: true,
        schema_type: Some(SchemaType::Json),
        references: vec![SchemaReference {
            name: "a".into(),
            subject: "b".into(),
            version: 1,
        }],
        metadata: None,
        rule_set: None,
    };
    let recs = [
        Record::Schema {
            subject: "s".into(),
            version: 2,
            value: Some(v),
        },
        Record::Config {
            subject: None,
            value: Some(ConfigValue {
                subject: None,
                config: Config {
                    compatibility_level: Some(CompatibilityLevel::Full),
                    ..Config::default()
                },
            }),
        },
        Record::DeleteSubject {
            subject: "s".into(),
            version: 2,
        },
        Record::Noop,
    ];
    for r in recs {
        let (k, v) = r.encode();
        assert_eq!(Record::decode(&k, v.as_deref()).unwrap(), Some(r));
    }
    // Karapace's global key, another key order, an unknown keytype.
    let karapace = Record::decode(
        br#"{"keytype":"CONFIG","subject":null,"magic":0}"#,
        Some(br#"{"compatibilityLevel":"NONE"}"#),
    )
    .unwrap()
    .unwrap();
    assert!(matches!(karapace, Record::Config { subject: None, .. }));
    let reordered = Record::decode(
        br#"{"magic":1,"version":1,"subject":"x","keytype":"SCHEMA"}"#,
        None,
    )
    .unwrap();
    assert!(matches!(
        reordered,
        Some(Record::Schema { value: None, .. })
    ));
    assert_eq!(
        Record::decode(br#"{"keytype":"CONTEXT","tenant":"t"}"#, Some(b"{}")).unwrap(),
        None
    );
    assert!(Record::decode(b"not json", None).is_err());
}

#[test]
fn rule_sets_validate_and_merge() {
    let rule = |name: &str, kind: &str, mode: &str| Rule {
        name: name.into(),
        kind: kind.into(),
        mode: mode.into(),
        ..Rule::default()
    };
    let ok = RuleSet {
        domain_rules: vec![rule("a", "CONDITION", "WRITE")],
        migration_rules: vec![rule("b", "TRANSFORM", "UPGRADE")],
        ..RuleSet::default()
    };
    assert_eq!(ok.validate(), Ok(()));
    let dup = RuleSet {
        domain_rules: vec![
            rule("a", "CONDITION", "WRITE"),
            rule("a", "CONDITION", "READ"),
        ],
        ..RuleSet::default()
    };
    assert!(dup.validate().unwrap_err().contains("duplicate"));
    let bad_kind = RuleSet {
        domain_rules: vec![rule("a", "MAGIC", "WRITE")],
        ..RuleSet::default()
    };
    assert!(bad_kind.validate().unwrap_err().contains("kind"));
    let bad_mode = RuleSet {
        migration_rules: vec![rule("a", "TRANSFORM", "WRITE")],
        ..RuleSet::default()
    };
    assert!(bad_mode.validate().unwrap_err().contains("mode"));
    let over = RuleSet {
        domain_rules: vec![rule("a", "CONDITION", "READ")],
        ..RuleSet::default()
    };
    let merged = RuleSet::merge(Some(&ok), Some(&over)).unwrap();
    assert_eq!(merged.domain_rules, over.domain_rules);
    assert_eq!(merged.migration_rules, ok.migration_rules);
}
