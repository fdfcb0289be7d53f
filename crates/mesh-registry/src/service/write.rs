//! Writes: register, soft/permanent deletes, config and mode changes. Each runs under the
//! write mutex, decides from the current state which records to write, and commits them.

use mesh_schema::CompatibilityLevel;

use crate::error::RegistryError;
use crate::formats;
use crate::model::{Config, ConfigValue, Metadata, Mode, ModeValue, Record, RuleSet, SchemaValue};
use crate::state::{State, StoredSchema};

use super::{
    Keys, Registry, SchemaRequest, VersionId, check_against, config_in_scope, deletable_versions,
    mode_in_scope, resolve_references, validate_subject,
};

/// How many times a registration is decided again after losing a claim.
const MAX_CLAIMS: usize = 50;

/// The outcome of deciding a registration.
#[derive(Debug)]
enum Decision {
    /// It depends on a write still in flight: drain, then decide again.
    InFlight,
    /// Already a live version of the subject: nothing to write.
    Existing(Registered),
    /// Records to write, the answer once they are durable, and what they touch.
    Write {
        records: Vec<Record>,
        result: Registered,
        keys: Keys,
    },
}

/// What a registration produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Registered {
    pub id: i32,
    pub version: i32,
    /// Whether a version was written (false = it already existed).
    pub new: bool,
}

impl Registry {
    /// `POST /subjects/{s}/versions`.
    pub async fn register(
        &self,
        subject: &str,
        req: SchemaRequest,
        normalize: bool,
        force: bool,
    ) -> Result<Registered, RegistryError> {
        validate_subject(subject)?;
        req.schema_type()?;
        if let Some(rs) = &req.rule_set {
            rs.validate().map_err(RegistryError::InvalidRuleSet)?;
        }
        // A claim lost to another instance's (Kafka log) is decided again against the state
        // that now holds the winner; each loss means another registration succeeded, so this
        // ends, but a bound keeps a pathological log from spinning a request forever.
        for _ in 0..MAX_CLAIMS {
            let guard = self.write_lock.lock().await;
            let decided = loop {
                let decision = {
                    let state = self.read();
                    self.decide_register(&state, subject, &req, normalize, force)?
                };
                match decision {
                    // Redecided once nothing is in flight (then this cannot happen again).
                    Decision::InFlight => self.drain().await,
                    Decision::Existing(r) => return Ok(r),
                    Decision::Write {
                        records,
                        result,
                        keys,
                    } => {
                        let claims = super::shared::claims_of(&records);
                        break (self.enqueue(records, keys, Some(result.id)), result, claims);
                    }
                }
            };
            let (queued, result, claims) = decided;
            // Later registrations decide while this one waits for its fsync / read-back.
            drop(guard);
            if Self::durable(queued).await? {
                return Ok(result);
            }
            tracing::debug!(
                subject,
                "registration lost a claim to another instance; retrying"
            );
            self.repair(&claims).await?;
        }
        Err(crate::store::StoreError::Conflict.into())
    }

    /// Decides a registration against `state` (the durable writes) without writing.
    fn decide_register(
        &self,
        state: &State,
        subject: &str,
        req: &SchemaRequest,
        normalize: bool,
        force: bool,
    ) -> Result<Decision, RegistryError> {
        let mut schema_type = req.schema_type()?;
        let mode = mode_in_scope(state, subject);
        // IMPORT decisions (explicit ids) and ones on a subject with a write in flight wait.
        if (mode != Mode::Readwrite && self.any_in_flight()) || self.in_flight(&[subject], None) {
            return Ok(Decision::InFlight);
        }
        if mode.is_read_only() {
            return Err(RegistryError::OperationNotPermitted(format!(
                "Subject {subject} is in read-only mode"
            )));
        }
        let import = mode == Mode::Import;
        match req.id {
            Some(id) if id >= 0 && !import => {
                return Err(RegistryError::OperationNotPermitted(format!(
                    "Subject {subject} is not in import mode"
                )));
            }
            None if mode != Mode::Readwrite => {
                return Err(RegistryError::OperationNotPermitted(format!(
                    "Subject {subject} is not in read-write mode"
                )));
            }
            _ => {}
        }
        let all = state.versions(subject, true);
        let new_version = all.last().map_or(1, |v| v.version + 1);
        let live: Vec<&SchemaValue> = all.iter().copied().filter(|v| !v.deleted).collect();
        let previous = live.last().copied();
        let config = config_in_scope(state, Some(subject));

        // Confluent's maybePopulateFromPrevious: an empty schema re-registers the previous
        // one; missing metadata/ruleSet are inherited, then config defaults/overrides merge.
        let mut text = req.schema.clone().filter(|s| !s.trim().is_empty());
        let mut references = req.references.clone().unwrap_or_default();
        let (mut metadata, mut rule_set) = (req.metadata.clone(), req.rule_set.clone());
        if !import {
            if let (None, Some(p)) = (&text, previous) {
                text = Some(p.schema.clone());
                schema_type = p.schema_type();
                references = p.references.clone();
            }
            let specific_md = metadata.or_else(|| previous.and_then(|p| p.metadata.clone()));
            metadata = Metadata::merge(
                Metadata::merge(config.default_metadata.as_ref(), specific_md.as_ref()).as_ref(),
                config.override_metadata.as_ref(),
            );
            let specific_rs = rule_set.or_else(|| previous.and_then(|p| p.rule_set.clone()));
            rule_set = RuleSet::merge(
                RuleSet::merge(config.default_rule_set.as_ref(), specific_rs.as_ref()).as_ref(),
                config.override_rule_set.as_ref(),
            );
            if let Some(rs) = &rule_set {
                rs.validate().map_err(RegistryError::InvalidRuleSet)?;
            }
        }
        let text = text.ok_or_else(|| RegistryError::InvalidSchema("Empty schema".into()))?;
        let mut resolved = Vec::new();
        resolve_references(state, &references, &mut resolved, 0)?;
        let parsed = formats::parse(schema_type, &text, &resolved, true)?;
        let normalize = normalize || config.normalize.unwrap_or(false);
        let content = StoredSchema {
            schema_type,
            schema: formats::canonical_text(&text, &parsed, normalize),
            references,
            metadata: metadata.filter(|m| !m.is_empty()),
            rule_set: rule_set.filter(|r| !r.is_empty()),
        };
        // The same content in flight (its id is being decided), or references (resolved
        // through other subjects) while anything is in flight: wait.
        let identity = content.identity();
        if self.in_flight(&[], Some(&identity))
            || (!content.references.is_empty() && self.any_in_flight())
        {
            return Ok(Decision::InFlight);
        }
        // Referenced subjects too: their deletes and tombstones consult `referenced_by`.
        let keys = Keys {
            subjects: std::iter::once(subject)
                .chain(content.references.iter().map(|r| r.subject.as_str()))
                .map(str::to_owned)
                .collect(),
            identity: Some(identity),
        };

        // Same content already has an id (in any subject): reuse it, unless an explicit
        // (imported) id asks for another one.
        let schema_id = state
            .id_of(&content)
            .filter(|existing| req.id.is_none_or(|id| id < 0 || id == *existing));
        if let Some(existing) = schema_id
            && req.version.is_none_or(|v| v <= 0)
            && let Some(v) = live.iter().find(|v| v.id == existing)
        {
            // Idempotent: already a live version of this subject.
            return Ok(Decision::Existing(Registered {
                id: existing,
                version: v.version,
                new: false,
            }));
        }

        if !import && !force {
            let level = config.compatibility_level.unwrap_or_default();
            let group = config.compatibility_group.as_deref().map(|g| {
                (
                    g,
                    content
                        .metadata
                        .as_ref()
                        .and_then(|m| m.properties.get(g))
                        .cloned(),
                )
            });
            let mut against: Vec<&SchemaValue> = live
                .iter()
                .copied()
                .filter(|v| {
                    // Another compatibility group: never compared.
                    group.as_ref().is_none_or(|(key, want)| {
                        v.metadata.as_ref().and_then(|m| m.properties.get(*key)) == want.as_ref()
                    })
                })
                .collect();
            // Parse only what `check` compares: nothing at NONE, the latest unless
            // transitive.
            if level == CompatibilityLevel::None {
                against.clear();
            } else if !level.is_transitive() {
                against.drain(..against.len().saturating_sub(1));
            }
            let details = check_against(state, level, &parsed, &against)?;
            crate::metrics::compatibility_checked("register", details.is_empty());
            if !details.is_empty() {
                return Err(RegistryError::Incompatible {
                    subject: subject.to_owned(),
                    details,
                });
            }
        }

        let version = match req.version {
            Some(v) if v > 0 => {
                if !import && v != new_version {
                    return Err(RegistryError::InvalidSchema(
                        "Version is not one more than previous version".into(),
                    ));
                }
                v
            }
            _ => new_version,
        };
        let id = match (schema_id, req.id) {
            (Some(id), _) => id,
            (None, Some(id)) if id >= 0 => {
                // An explicit (imported) id must not already name different content.
                if state.schemas.contains_key(&id) {
                    return Err(RegistryError::IdMismatch);
                }
                id
            }
            _ => self.next_id(state),
        };
        let mut recs = Vec::new();
        // Re-registering a soft-deleted schema: tombstone its older soft-deleted versions.
        for old in all
            .iter()
            .filter(|v| v.deleted && v.id == id && v.version < version)
        {
            if state.referenced_by(subject, old.version).is_empty() {
                recs.push(Record::Schema {
                    subject: subject.to_owned(),
                    version: old.version,
                    value: None,
                });
            }
        }
        recs.push(Record::Schema {
            subject: subject.to_owned(),
            version,
            value: Some(SchemaValue {
                subject: subject.to_owned(),
                version,
                id,
                schema: content.schema,
                deleted: false,
                schema_type: (schema_type != crate::model::SchemaType::Avro).then_some(schema_type),
                references: content.references,
                metadata: content.metadata,
                rule_set: content.rule_set,
            }),
        });
        Ok(Decision::Write {
            records: recs,
            result: Registered {
                id,
                version,
                new: true,
            },
            keys,
        })
    }

    /// `DELETE /subjects/{s}/versions/{v}`: returns the deleted version number.
    pub async fn delete_version(
        &self,
        subject: &str,
        version: &str,
        permanent: bool,
    ) -> Result<i32, RegistryError> {
        let vid = VersionId::parse(version)?;
        let _guard = self.exclusive().await?;
        let records;
        let number;
        {
            let state = self.read();
            let all = deletable_versions(&state, subject)?;
            let found = match vid {
                VersionId::Latest => all.iter().rev().find(|v| permanent || !v.deleted),
                VersionId::Number(n) => all.iter().find(|v| v.version == n),
            }
            .copied()
            .ok_or_else(|| RegistryError::VersionNotFound(version.to_owned()))?;
            number = found.version;
            if !permanent && found.deleted {
                return Err(RegistryError::VersionSoftDeleted(
                    subject.to_owned(),
                    number,
                ));
            }
            if permanent && !found.deleted {
                return Err(RegistryError::VersionNotSoftDeleted(
                    subject.to_owned(),
                    number,
                ));
            }
            if !state.referenced_by(subject, number).is_empty() {
                return Err(RegistryError::ReferenceExists(subject.to_owned(), number));
            }
            let mut recs = Vec::new();
            if permanent {
                recs.push(Record::Schema {
                    subject: subject.to_owned(),
                    version: number,
                    value: None,
                });
            } else {
                let mut v = found.clone();
                v.deleted = true;
                recs.push(Record::Schema {
                    subject: subject.to_owned(),
                    version: number,
                    value: Some(v),
                });
                // The last live version gone: the subject's own config and mode go with it.
                if all.iter().filter(|v| !v.deleted).count() == 1 {
                    recs.extend(self.subject_settings_tombstones(&state, subject));
                }
            }
            records = recs;
        }
        self.commit(records).await?;
        Ok(number)
    }

    fn subject_settings_tombstones(
        &self,
        state: &crate::state::State,
        subject: &str,
    ) -> Vec<Record> {
        let mut recs = Vec::new();
        if state.configs.contains_key(subject) {
            recs.push(Record::Config {
                subject: Some(subject.to_owned()),
                value: None,
            });
        }
        if state.modes.contains_key(subject) {
            recs.push(Record::Mode {
                subject: Some(subject.to_owned()),
                value: None,
            });
        }
        recs
    }

    /// `DELETE /subjects/{s}`: returns the deleted versions.
    pub async fn delete_subject(
        &self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, RegistryError> {
        let _guard = self.exclusive().await?;
        let records;
        let deleted: Vec<i32>;
        {
            let state = self.read();
            let all = deletable_versions(&state, subject)?;
            let live: Vec<i32> = all
                .iter()
                .filter(|v| !v.deleted)
                .map(|v| v.version)
                .collect();
            if !permanent && live.is_empty() {
                return Err(RegistryError::SubjectSoftDeleted(subject.to_owned()));
            }
            if permanent && !live.is_empty() {
                return Err(RegistryError::SubjectNotSoftDeleted(subject.to_owned()));
            }
            deleted = if permanent {
                all.iter().map(|v| v.version).collect()
            } else {
                live
            };
            if let Some(v) = deleted
                .iter()
                .find(|v| !state.referenced_by(subject, **v).is_empty())
            {
                return Err(RegistryError::ReferenceExists(subject.to_owned(), *v));
            }
            let mut recs = Vec::new();
            if permanent {
                recs.extend(deleted.iter().map(|v| Record::Schema {
                    subject: subject.to_owned(),
                    version: *v,
                    value: None,
                }));
            } else {
                let highest = deleted.iter().copied().max().unwrap_or(0);
                recs.push(Record::DeleteSubject {
                    subject: subject.to_owned(),
                    version: highest,
                });
            }
            recs.extend(self.subject_settings_tombstones(&state, subject));
            records = recs;
        }
        self.commit(records).await?;
        Ok(deleted)
    }

    /// `PUT /config[/{s}]`: fields present in `update` replace the stored ones.
    pub async fn set_config(
        &self,
        subject: Option<&str>,
        update: Config,
    ) -> Result<(), RegistryError> {
        if let Some(s) = subject {
            validate_subject(s)?;
        }
        for rs in [&update.default_rule_set, &update.override_rule_set]
            .into_iter()
            .flatten()
        {
            rs.validate().map_err(RegistryError::InvalidRuleSet)?;
        }
        let _guard = self.exclusive().await?;
        let merged = {
            let state = self.read();
            let old = match subject {
                Some(s) => state.configs.get(s).cloned(),
                None => state.global_config.clone(),
            }
            .unwrap_or_default();
            Config {
                alias: update.alias.or(old.alias),
                normalize: update.normalize.or(old.normalize),
                validate_fields: update.validate_fields.or(old.validate_fields),
                compatibility_level: update.compatibility_level.or(old.compatibility_level),
                compatibility_group: update.compatibility_group.or(old.compatibility_group),
                default_metadata: update.default_metadata.or(old.default_metadata),
                override_metadata: update.override_metadata.or(old.override_metadata),
                default_rule_set: update.default_rule_set.or(old.default_rule_set),
                override_rule_set: update.override_rule_set.or(old.override_rule_set),
            }
        };
        let record = Record::Config {
            subject: subject.map(str::to_owned),
            value: Some(ConfigValue {
                subject: subject.map(str::to_owned),
                config: merged,
            }),
        };
        self.commit(vec![record]).await
    }

    /// `DELETE /config[/{s}]`: returns the config that was in effect.
    pub async fn delete_config(&self, subject: Option<&str>) -> Result<Config, RegistryError> {
        let _guard = self.exclusive().await?;
        let old = {
            let state = self.read();
            match subject {
                Some(s) => state
                    .configs
                    .get(s)
                    .cloned()
                    .ok_or_else(|| RegistryError::SubjectNotFound(s.to_owned()))?,
                None => config_in_scope(&state, None),
            }
        };
        self.commit(vec![Record::Config {
            subject: subject.map(str::to_owned),
            value: None,
        }])
        .await?;
        Ok(old)
    }

    /// `PUT /mode[/{s}]`. IMPORT needs an empty registry/subject unless `force`.
    pub async fn set_mode(
        &self,
        subject: Option<&str>,
        mode: Mode,
        force: bool,
    ) -> Result<(), RegistryError> {
        if let Some(s) = subject {
            validate_subject(s)?;
        }
        let _guard = self.exclusive().await?;
        {
            let state = self.read();
            let has_schemas = match subject {
                Some(s) => state.has_subject(s, true),
                None => !state.subjects.is_empty(),
            };
            if mode == Mode::Import && has_schemas && !force {
                return Err(RegistryError::OperationNotPermitted(
                    "Cannot import since found existing subjects".into(),
                ));
            }
        }
        let record = Record::Mode {
            subject: subject.map(str::to_owned),
            value: Some(ModeValue {
                subject: subject.map(str::to_owned),
                mode,
            }),
        };
        self.commit(vec![record]).await
    }

    /// `DELETE /mode[/{s}]`: returns the mode that was set.
    pub async fn delete_mode(&self, subject: Option<&str>) -> Result<Mode, RegistryError> {
        let _guard = self.exclusive().await?;
        let old = {
            let state = self.read();
            match subject {
                Some(s) => *state
                    .modes
                    .get(s)
                    .ok_or_else(|| RegistryError::SubjectNotFound(s.to_owned()))?,
                None => state.global_mode.unwrap_or(Mode::Readwrite),
            }
        };
        self.commit(vec![Record::Mode {
            subject: subject.map(str::to_owned),
            value: None,
        }])
        .await?;
        Ok(old)
    }
}
