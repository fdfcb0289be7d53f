//! The in-memory registry state, built only by applying `_schemas` records in order
//! (registry-api.md §3.3), so that replaying a store at start and applying a fresh write are
//! the same code path.

use std::collections::hash_map::Entry;
use std::collections::{BTreeMap, HashMap};
use std::hash::{DefaultHasher, Hash, Hasher};

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

/// A 64-bit digest of an identity text, the key of the identity index: the index keeps
/// digests rather than identity texts (a third copy of every schema) and confirms a hit by
/// comparing identities.
fn digest(identity: &str) -> u64 {
    let mut h = DefaultHasher::new();
    identity.hash(&mut h);
    h.finish()
}

/// A sorted set of (subject, version), as an exactly-sized `Vec`: most ids have one place,
/// and a `BTreeSet` node would cost ~400 bytes each (100 000 schemas → 40 MB).
#[derive(Debug, Default)]
struct Places(Vec<(Box<str>, i32)>);

impl Places {
    fn insert(&mut self, subject: &str, version: i32) {
        let key = (Box::<str>::from(subject), version);
        if let Err(at) = self.0.binary_search(&key) {
            self.0.insert(at, key);
            self.0.shrink_to_fit();
        }
    }

    /// Removes a place; `true` when none is left.
    fn remove(&mut self, subject: &str, version: i32) -> bool {
        if let Ok(at) = self
            .0
            .binary_search_by(|(s, v)| (&**s, *v).cmp(&(subject, version)))
        {
            self.0.remove(at);
        }
        self.0.is_empty()
    }

    fn iter(&self) -> impl Iterator<Item = (&str, i32)> {
        self.0.iter().map(|(s, v)| (&**s, *v))
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
    /// Identity digest → the id of that content; `collisions` holds further ids whose
    /// different content has the same digest.
    identities: HashMap<u64, i32>,
    collisions: HashMap<u64, Vec<i32>>,
    /// id → every (subject, version) holding it, soft-deleted ones included: `usages` without
    /// scanning every version.
    usages: HashMap<i32, Places>,
    /// (referenced subject, version) → the (subject, version)s whose references name it:
    /// `referenced_by` without scanning every version.
    referrers: HashMap<(String, i32), Places>,
    pub global_config: Option<Config>,
    pub configs: BTreeMap<String, Config>,
    pub global_mode: Option<Mode>,
    pub modes: BTreeMap<String, Mode>,
    pub max_id: i32,
}

impl State {
    /// Applies one record and says whether it took effect. A SCHEMA record that conflicts with
    /// an earlier one is ignored with a warning, as a Confluent follower does (`validateUpdate`),
    /// and `false` is returned; every instance replaying the same log ignores the same records,
    /// which is what makes the first claim in log order win (docs/registry-kafka-store.md):
    /// - its id already names different content;
    /// - outside IMPORT mode: its (subject, version) holds another id (a soft delete re-writes
    ///   the same id; a re-registration after a tombstone finds the version gone), or its new
    ///   id is for content that already has an id.
    ///
    /// Outside IMPORT mode a soft-deleted version is never made live again by a re-write of its
    /// key (nothing in Confluent's API does that): a claim repair racing a soft delete
    /// (docs/registry-kafka-store.md) then cannot undo it.
    pub fn apply(&mut self, record: &Record) -> bool {
        match record {
            Record::Schema {
                subject,
                version,
                value: Some(v),
            } => {
                let stored = StoredSchema::from_value(v);
                let import = self.mode_of(subject) == Mode::Import;
                if !import && let Some(held) = self.value(subject, *version) {
                    if held.id != v.id {
                        tracing::warn!(
                            id = v.id,
                            held = held.id,
                            subject,
                            version,
                            "ignoring record claiming a version that holds another id"
                        );
                        return false;
                    }
                    if held.deleted && !v.deleted {
                        return true;
                    }
                }
                if let Some(existing) = self.schemas.get(&v.id) {
                    if existing.identity() != stored.identity() {
                        tracing::warn!(
                            id = v.id,
                            subject,
                            "ignoring record reusing an id for another schema"
                        );
                        return false;
                    }
                } else {
                    let identity = stored.identity();
                    match self.find_id(&identity) {
                        Some(id) if !import => {
                            tracing::warn!(
                                id = v.id,
                                existing = id,
                                subject,
                                "ignoring record giving a second id to a schema"
                            );
                            return false;
                        }
                        Some(_) => {}
                        None => {
                            let d = digest(&identity);
                            match self.identities.entry(d) {
                                Entry::Occupied(_) => {
                                    self.collisions.entry(d).or_default().push(v.id)
                                }
                                Entry::Vacant(e) => {
                                    e.insert(v.id);
                                }
                            }
                        }
                    }
                    self.schemas.insert(v.id, stored);
                }
                self.max_id = self.max_id.max(v.id);
                let old = self
                    .subjects
                    .entry(subject.clone())
                    .or_default()
                    .insert(*version, v.clone());
                if let Some(old) = old {
                    self.unindex(&old);
                }
                self.index(v);
            }
            Record::Schema {
                subject,
                version,
                value: None,
            } => {
                if let Some(versions) = self.subjects.get_mut(subject) {
                    let old = versions.remove(version);
                    if versions.is_empty() {
                        self.subjects.remove(subject);
                    }
                    if let Some(old) = old {
                        self.unindex(&old);
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
        true
    }

    /// The mode in effect for `subject` (subject mode, else global, else READWRITE).
    pub fn mode_of(&self, subject: &str) -> Mode {
        self.modes
            .get(subject)
            .copied()
            .or(self.global_mode)
            .unwrap_or(Mode::Readwrite)
    }

    /// Adds a version to the usage and reference indexes.
    fn index(&mut self, v: &SchemaValue) {
        self.usages
            .entry(v.id)
            .or_default()
            .insert(&v.subject, v.version);
        for r in &v.references {
            self.referrers
                .entry((r.subject.clone(), r.version))
                .or_default()
                .insert(&v.subject, v.version);
        }
    }

    /// Removes a replaced or tombstoned version from the indexes.
    fn unindex(&mut self, v: &SchemaValue) {
        if let Some(places) = self.usages.get_mut(&v.id)
            && places.remove(&v.subject, v.version)
        {
            self.usages.remove(&v.id);
        }
        for r in &v.references {
            let key = (r.subject.clone(), r.version);
            if let Some(places) = self.referrers.get_mut(&key)
                && places.remove(&v.subject, v.version)
            {
                self.referrers.remove(&key);
            }
        }
    }

    /// The value of (subject, version), soft-deleted or not.
    pub fn value(&self, subject: &str, version: i32) -> Option<&SchemaValue> {
        self.subjects.get(subject)?.get(&version)
    }

    /// The id already assigned to this content, if any.
    pub fn id_of(&self, content: &StoredSchema) -> Option<i32> {
        self.find_id(&content.identity())
    }

    fn find_id(&self, identity: &str) -> Option<i32> {
        let d = digest(identity);
        let first = self.identities.get(&d)?;
        std::iter::once(first)
            .chain(self.collisions.get(&d).into_iter().flatten())
            .copied()
            .find(|id| {
                self.schemas
                    .get(id)
                    .is_some_and(|s| s.identity() == identity)
            })
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
    pub fn referenced_by(&self, subject: &str, version: i32) -> Vec<i32> {
        let Some(referrers) = self.referrers.get(&(subject.to_owned(), version)) else {
            return Vec::new();
        };
        let mut ids: Vec<i32> = referrers
            .iter()
            .filter_map(|(s, v)| self.value(s, v))
            .filter(|v| !v.deleted)
            .map(|v| v.id)
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Every (subject, version) that uses schema `id`, ordered by subject then version.
    pub fn usages(&self, id: i32, deleted: bool) -> Vec<&SchemaValue> {
        self.usages
            .get(&id)
            .into_iter()
            .flat_map(Places::iter)
            .filter_map(|(s, v)| self.value(s, v))
            .filter(|v| deleted || !v.deleted)
            .collect()
    }
}

#[cfg(test)]
#[path = "state_tests.rs"]
mod tests;
