//! The in-memory registry state, built only by applying `_schemas` records in order
//! (registry-api.md §3.3), so that replaying a store at start and applying a fresh write are
//! the same code path.

use std::collections::{BTreeMap, HashMap};

use crate::model::{
    Config, Metadata, Mode, Record, RuleSet, SchemaReference, SchemaType, SchemaValue,
};

/// The content behind a schema id: everything that makes up its identity.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StoredSchema {
    pub schema_type: SchemaType,
    pub schema: String,
    pub references: Vec<SchemaReference>,
    pub metadata: Option<Metadata>,
    pub rule_set: Option<RuleSet>,
}

impl StoredSchema {
    pub fn from_value(v: &SchemaValue) -> Self {
        Self {
            schema_type: v.schema_type(),
            schema: v.schema.clone(),
            references: v.references.clone(),
            metadata: v.metadata.clone().filter(|m| !m.is_empty()),
            rule_set: v.rule_set.clone().filter(|r| !r.is_empty()),
        }
    }

    /// Confluent's identity (MD5 of schema, references, metadata, ruleSet) as an exact string
    /// key: same content → same id, in any subject.
    pub fn identity(&self) -> String {
        serde_json::to_string(&(
            self.schema_type.as_str(),
            &self.schema,
            &self.references,
            &self.metadata,
            &self.rule_set,
        ))
        .unwrap_or_default()
    }
}

/// Everything the registry knows, derived from the records applied so far.
#[derive(Debug, Default)]
pub struct State {
    /// subject → version → value (soft-deleted versions included, `deleted: true`).
    pub subjects: BTreeMap<String, BTreeMap<i32, SchemaValue>>,
    /// id → content. Kept after permanent deletes so old data stays decodable (Karapace does
    /// the same; Confluent's behaviour there is unverified).
    pub schemas: BTreeMap<i32, StoredSchema>,
    identities: HashMap<String, i32>,
    pub global_config: Option<Config>,
    pub configs: BTreeMap<String, Config>,
    pub global_mode: Option<Mode>,
    pub modes: BTreeMap<String, Mode>,
    pub max_id: i32,
}

impl State {
    /// Applies one record; records that would corrupt the state are ignored with a warning, as
    /// a Confluent follower does (`validateUpdate`).
    pub fn apply(&mut self, record: &Record) {
        match record {
            Record::Schema {
                subject,
                version,
                value: Some(v),
            } => {
                let stored = StoredSchema::from_value(v);
                if let Some(existing) = self.schemas.get(&v.id) {
                    if existing.identity() != stored.identity() {
                        tracing::warn!(
                            id = v.id,
                            subject,
                            "ignoring record reusing an id for another schema"
                        );
                        return;
                    }
                } else {
                    self.identities.entry(stored.identity()).or_insert(v.id);
                    self.schemas.insert(v.id, stored);
                }
                self.max_id = self.max_id.max(v.id);
                self.subjects
                    .entry(subject.clone())
                    .or_default()
                    .insert(*version, v.clone());
            }
            Record::Schema {
                subject,
                version,
                value: None,
            } => {
                if let Some(versions) = self.subjects.get_mut(subject) {
                    versions.remove(version);
                    if versions.is_empty() {
                        self.subjects.remove(subject);
                    }
                }
            }
            Record::DeleteSubject { subject, version } => {
                if let Some(versions) = self.subjects.get_mut(subject) {
                    for (_, v) in versions.range_mut(..=*version) {
                        v.deleted = true;
                    }
                }
            }
            Record::Config { subject, value } => {
                let config = value.as_ref().map(|v| v.config.clone());
                match (subject, config) {
                    (None, c) => self.global_config = c,
                    (Some(s), Some(c)) => {
                        self.configs.insert(s.clone(), c);
                    }
                    (Some(s), None) => {
                        self.configs.remove(s);
                    }
                }
            }
            Record::Mode { subject, value } => {
                let mode = value.as_ref().map(|v| v.mode);
                match (subject, mode) {
                    (None, m) => self.global_mode = m,
                    (Some(s), Some(m)) => {
                        self.modes.insert(s.clone(), m);
                    }
                    (Some(s), None) => {
                        self.modes.remove(s);
                    }
                }
            }
            Record::Noop => {}
        }
    }

    /// The id already assigned to this content, if any.
    pub fn id_of(&self, content: &StoredSchema) -> Option<i32> {
        self.identities.get(&content.identity()).copied()
    }

    /// Versions of `subject`, oldest first; soft-deleted ones only when `deleted`.
    pub fn versions(&self, subject: &str, deleted: bool) -> Vec<&SchemaValue> {
        self.subjects
            .get(subject)
            .map(|vs| vs.values().filter(|v| deleted || !v.deleted).collect())
            .unwrap_or_default()
    }

    /// Whether the subject has any version (live, or soft-deleted too when `deleted`).
    pub fn has_subject(&self, subject: &str, deleted: bool) -> bool {
        !self.versions(subject, deleted).is_empty()
    }

    /// Ids of live schema versions (in any subject) that reference `subject` version `version`.
    /// A scan: references are rare and this backs only `referencedby` and delete checks.
    pub fn referenced_by(&self, subject: &str, version: i32) -> Vec<i32> {
        let mut ids: Vec<i32> = self
            .subjects
            .values()
            .flat_map(|vs| vs.values())
            .filter(|v| !v.deleted)
            .filter(|v| {
                v.references
                    .iter()
                    .any(|r| r.subject == subject && r.version == version)
            })
            .map(|v| v.id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Every (subject, version) that uses schema `id`.
    pub fn usages(&self, id: i32, deleted: bool) -> Vec<&SchemaValue> {
        self.subjects
            .values()
            .flat_map(|vs| vs.values())
            .filter(|v| v.id == id && (deleted || !v.deleted))
            .collect()
    }
}

#[cfg(test)]
mod tests {
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
        s.apply(&schema("c", 1, 2, "\"string\""));
        assert!(!s.subjects.contains_key("c"));
    }
}
