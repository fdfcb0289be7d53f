use super::*;

fn schema(subject: &str, version: i32, id: i32, text: &str) -> Record {
    Record::Schema {
        subject: subject.into(),
        version,
        value: Some(SchemaValue {
            subject: subject.into(),
            version,
            id,
            schema: text.into(),
            deleted: false,
            schema_type: None,
            references: vec![],
            metadata: None,
            rule_set: None,
        }),
    }
}

#[test]
fn replay_builds_versions_ids_and_deletions() {
    let mut s = State::default();
    for r in [
        schema("a", 1, 1, "\"int\""),
        schema("a", 2, 2, "\"long\""),
        schema("b", 1, 1, "\"int\""),
        Record::DeleteSubject {
            subject: "a".into(),
            version: 1,
        },
    ] {
        s.apply(&r);
    }
    assert_eq!(s.max_id, 2);
    assert_eq!(s.versions("a", false).len(), 1);
    assert_eq!(s.versions("a", true).len(), 2);
    assert_eq!(s.usages(1, false).len(), 1, "b still uses id 1");
    let content = StoredSchema::from_value(&SchemaValue {
        subject: "x".into(),
        version: 1,
        id: 0,
        schema: "\"long\"".into(),
        deleted: false,
        schema_type: Some(SchemaType::Avro),
        references: vec![],
        metadata: Some(Metadata::default()),
        rule_set: None,
    });
    assert_eq!(s.id_of(&content), Some(2), "empty metadata = no metadata");
    // Permanent delete of both versions removes the subject but keeps the id resolvable.
    s.apply(&Record::Schema {
        subject: "a".into(),
        version: 1,
        value: None,
    });
    s.apply(&Record::Schema {
        subject: "a".into(),
        version: 2,
        value: None,
    });
    assert!(!s.subjects.contains_key("a"));
    assert!(s.schemas.contains_key(&2));
    // An id reused for different content is ignored.
    assert!(!s.apply(&schema("c", 1, 2, "\"string\"")));
    assert!(!s.subjects.contains_key("c"));
}

/// The claim rules: the first record in log order that claims a (subject, version) or an
/// id wins; legitimate re-writes of a key are not conflicts.
#[test]
fn first_claim_wins_and_updates_are_not_conflicts() {
    let mut s = State::default();
    assert!(s.apply(&schema("a", 1, 1, "\"int\"")));
    // Another instance claimed a/1 with another schema and the next id: loses.
    assert!(!s.apply(&schema("a", 1, 2, "\"long\"")));
    // The same claim again (concurrent registration of the same schema): no conflict.
    assert!(s.apply(&schema("a", 1, 1, "\"int\"")));
    // A second id for content that has one: loses.
    assert!(!s.apply(&schema("b", 1, 2, "\"int\"")));
    assert!(s.apply(&schema("b", 1, 1, "\"int\"")));
    // Soft delete re-writes the key with the same id.
    let mut soft = schema("a", 1, 1, "\"int\"");
    if let Record::Schema { value: Some(v), .. } = &mut soft {
        v.deleted = true;
    }
    assert!(s.apply(&soft));
    assert!(s.versions("a", false).is_empty());
    // A live re-write of a soft-deleted version (a late claim repair) does not undelete it.
    assert!(s.apply(&schema("a", 1, 1, "\"int\"")));
    assert!(s.versions("a", false).is_empty());
    // After a tombstone the version may be claimed again, with new content and id.
    assert!(s.apply(&Record::Schema {
        subject: "a".into(),
        version: 1,
        value: None,
    }));
    assert!(s.apply(&schema("a", 1, 2, "\"long\"")));
    assert_eq!(s.versions("a", false)[0].id, 2);
    assert_eq!(s.max_id, 2);
}

/// The usage and reference indexes follow every kind of change, so they answer what a
/// scan of all versions would.
#[test]
fn indexes_answer_like_a_scan() {
    fn scan_usages(s: &State, id: i32, deleted: bool) -> Vec<(String, i32)> {
        s.subjects
            .values()
            .flat_map(|vs| vs.values())
            .filter(|v| v.id == id && (deleted || !v.deleted))
            .map(|v| (v.subject.clone(), v.version))
            .collect()
    }
    fn usages(s: &State, id: i32, deleted: bool) -> Vec<(String, i32)> {
        s.usages(id, deleted)
            .iter()
            .map(|v| (v.subject.clone(), v.version))
            .collect()
    }
    let referencing = |subject: &str, version: i32, id: i32| {
        let mut r = schema(subject, version, id, "\"long\"");
        if let Record::Schema { value: Some(v), .. } = &mut r {
            v.schema = format!("\"{subject}{version}\"");
            v.references = vec![SchemaReference {
                name: "a".into(),
                subject: "a".into(),
                version: 1,
            }];
        }
        r
    };
    let mut s = State::default();
    let steps = [
        schema("b", 1, 1, "\"int\""),
        schema("a", 1, 1, "\"int\""),
        schema("a", 2, 2, "\"long\""),
        referencing("c", 1, 3),
        referencing("d", 1, 4),
        Record::DeleteSubject {
            subject: "c".into(),
            version: 1,
        },
        // A version rewritten (IMPORT) with another id moves its usage.
        Record::Mode {
            subject: Some("b".into()),
            value: Some(crate::model::ModeValue {
                subject: Some("b".into()),
                mode: Mode::Import,
            }),
        },
        schema("b", 1, 2, "\"long\""),
        Record::Schema {
            subject: "d".into(),
            version: 1,
            value: None,
        },
    ];
    let expected_refs = [
        vec![],
        vec![],
        vec![],
        vec![3],
        vec![3, 4],
        vec![4],
        vec![4],
        vec![4],
        vec![],
    ];
    for (step, refs) in steps.iter().zip(expected_refs) {
        s.apply(step);
        for id in 1..=4 {
            for deleted in [false, true] {
                assert_eq!(
                    usages(&s, id, deleted),
                    scan_usages(&s, id, deleted),
                    "{step:?}"
                );
            }
        }
        assert_eq!(s.referenced_by("a", 1), refs, "{step:?}");
        assert!(s.referenced_by("a", 2).is_empty());
    }
    assert_eq!(usages(&s, 2, false), [("a".into(), 2), ("b".into(), 1)]);
    assert!(usages(&s, 1, true).iter().all(|(sub, _)| sub == "a"));
    // Same content → the first id; other content → none.
    let content = |text: &str| StoredSchema {
        schema_type: SchemaType::Avro,
        schema: text.into(),
        references: vec![],
        metadata: None,
        rule_set: None,
    };
    assert_eq!(s.id_of(&content("\"int\"")), Some(1));
    assert_eq!(s.id_of(&content("\"long\"")), Some(2));
    assert_eq!(s.id_of(&content("\"float\"")), None);
}
