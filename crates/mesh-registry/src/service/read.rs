//! Reads: get by id/version, lists, lookup, referencedby, metadata search, config and mode
//! reads, and the compatibility endpoints (which never write).

use std::sync::atomic::Ordering;

use serde::Serialize;

use crate::error::RegistryError;
use crate::formats;
use crate::model::{Config, Mode, SchemaType, SchemaValue};
use crate::state::StoredSchema;

use super::{
    CachedLookup, Registry, SchemaRequest, SchemaView, VersionId, check_against, config_in_scope,
    mode_in_scope, parse_stored, resolve_references,
};

/// `GET /subjects` filters.
#[derive(Debug, Default, Clone)]
pub struct SubjectFilter {
    pub prefix: Option<String>,
    pub deleted: bool,
    pub deleted_only: bool,
}

/// `GET /schemas` filters.
#[derive(Debug, Default, Clone)]
pub struct SchemaFilter {
    pub prefix: Option<String>,
    pub deleted: bool,
    pub latest_only: bool,
}

/// `{"is_compatible": bool, "messages": [...]}` (messages only when verbose).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CompatibilityAnswer {
    pub is_compatible: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<String>>,
}

impl Registry {
    /// `GET /schemas/ids/{id}`: the content and, for 8.x responses, one subject/version using it.
    pub fn schema_by_id(
        &self,
        id: i32,
    ) -> Result<(StoredSchema, Option<(String, i32)>), RegistryError> {
        let state = self.read();
        let s = state
            .schemas
            .get(&id)
            .cloned()
            .ok_or(RegistryError::SchemaIdNotFound(id))?;
        let usage = state
            .usages(id, true)
            .first()
            .map(|v| (v.subject.clone(), v.version));
        Ok((s, usage))
    }

    /// `GET /schemas/ids/{id}` without copying: `f` gets the content and, in 8.x mode (the
    /// only one that shows it), one subject/version using it, under the read lock.
    pub fn with_schema_by_id<R>(
        &self,
        id: i32,
        f: impl FnOnce(&StoredSchema, Option<(&str, i32)>) -> R,
    ) -> Result<R, RegistryError> {
        let state = self.read();
        let s = state
            .schemas
            .get(&id)
            .ok_or(RegistryError::SchemaIdNotFound(id))?;
        let usage = if self.emit_avro_schema_type {
            state
                .usages(id, true)
                .first()
                .copied()
                .map(|v| (v.subject.as_str(), v.version))
        } else {
            None
        };
        Ok(f(s, usage))
    }

    /// `GET /schemas/ids/{id}/versions` (and `/subjects` from it).
    pub fn id_usages(&self, id: i32, deleted: bool) -> Result<Vec<(String, i32)>, RegistryError> {
        let state = self.read();
        if !state.schemas.contains_key(&id) {
            return Err(RegistryError::SchemaIdNotFound(id));
        }
        Ok(state
            .usages(id, deleted)
            .iter()
            .map(|v| (v.subject.clone(), v.version))
            .collect())
    }

    pub fn shown_schema_type(
        &self,
        t: crate::model::SchemaType,
    ) -> Option<crate::model::SchemaType> {
        self.shown_type(t)
    }

    /// `GET /subjects`.
    pub fn subjects(&self, f: &SubjectFilter) -> Vec<String> {
        let state = self.read();
        state
            .subjects
            .iter()
            .filter(|(s, _)| f.prefix.as_deref().is_none_or(|p| s.starts_with(p)))
            .filter(|(_, vs)| {
                let live = vs.values().any(|v| !v.deleted);
                if f.deleted_only {
                    vs.values().any(|v| v.deleted) && !live
                } else {
                    live || f.deleted
                }
            })
            .map(|(s, _)| s.clone())
            .collect()
    }

    /// `GET /schemas`.
    pub fn schemas(&self, f: &SchemaFilter) -> Vec<SchemaView> {
        let state = self.read();
        let mut out = Vec::new();
        for (s, vs) in &state.subjects {
            if f.prefix.as_deref().is_some_and(|p| !s.starts_with(p)) {
                continue;
            }
            let visible: Vec<&SchemaValue> =
                vs.values().filter(|v| f.deleted || !v.deleted).collect();
            if f.latest_only {
                out.extend(visible.last().map(|v| self.view(v)));
            } else {
                out.extend(visible.iter().map(|v| self.view(v)));
            }
        }
        out
    }

    /// `GET /subjects/{s}/versions`: `(version, deleted)` pairs, 40401 if none are visible.
    pub fn versions(
        &self,
        subject: &str,
        deleted: bool,
        deleted_only: bool,
    ) -> Result<Vec<(i32, bool)>, RegistryError> {
        let state = self.read();
        let out: Vec<(i32, bool)> = state
            .versions(subject, deleted || deleted_only)
            .iter()
            .filter(|v| !deleted_only || v.deleted)
            .map(|v| (v.version, v.deleted))
            .collect();
        if out.is_empty() && !state.has_subject(subject, true) {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        if out.is_empty() && !deleted_only {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        Ok(out)
    }

    /// `GET /subjects/{s}/versions/{v}`.
    pub fn version(
        &self,
        subject: &str,
        version: &str,
        deleted: bool,
    ) -> Result<SchemaView, RegistryError> {
        let vid = VersionId::parse(version)?;
        let state = self.read();
        let versions = state.versions(subject, deleted);
        if versions.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        let found = match vid {
            VersionId::Latest => versions.last().copied(),
            VersionId::Number(n) => versions.iter().find(|v| v.version == n).copied(),
        };
        found
            .map(|v| self.view(v))
            .ok_or_else(|| RegistryError::VersionNotFound(version.to_owned()))
    }

    /// `GET /subjects/{s}/versions/{v}/referencedby`.
    pub fn referenced_by(&self, subject: &str, version: &str) -> Result<Vec<i32>, RegistryError> {
        let v = self.version(subject, version, true)?;
        Ok(self.read().referenced_by(subject, v.version))
    }

    /// `GET /subjects/{s}/metadata`: the latest version whose metadata properties hold every
    /// `(key, value)` pair.
    pub fn by_metadata(
        &self,
        subject: &str,
        pairs: &[(String, String)],
        deleted: bool,
    ) -> Result<SchemaView, RegistryError> {
        let state = self.read();
        let versions = state.versions(subject, deleted);
        if versions.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        versions
            .iter()
            .rev()
            .find(|v| {
                pairs.iter().all(|(k, val)| {
                    v.metadata.as_ref().and_then(|m| m.properties.get(k)) == Some(val)
                })
            })
            .map(|v| self.view(v))
            .ok_or(RegistryError::SchemaNotFound)
    }

    /// `POST /subjects/{s}`: the version of `subject` holding this schema.
    pub fn lookup(
        &self,
        subject: &str,
        req: &SchemaRequest,
        normalize: bool,
        deleted: bool,
    ) -> Result<SchemaView, RegistryError> {
        let state = self.read();
        let versions = state.versions(subject, deleted);
        if versions.is_empty() {
            return Err(RegistryError::SubjectNotFound(subject.to_owned()));
        }
        let schema_type = req.schema_type()?;
        let text = req
            .schema
            .as_deref()
            .filter(|s| !s.trim().is_empty())
            .ok_or_else(|| RegistryError::InvalidSchema("Empty schema".into()))?;
        let references = req.references.as_deref().unwrap_or_default();
        // config_in_scope(..).normalize, without cloning the configs.
        let normalize = normalize
            || state
                .configs
                .get(subject)
                .and_then(|c| c.normalize)
                .or_else(|| state.global_config.as_ref().and_then(|c| c.normalize))
                .unwrap_or(false);
        let candidate = |v: &&&SchemaValue| {
            v.schema_type() == schema_type
                && v.references == references
                && req
                    .metadata
                    .as_ref()
                    .is_none_or(|m| v.metadata.as_ref() == Some(m))
                && req
                    .rule_set
                    .as_ref()
                    .is_none_or(|r| v.rule_set.as_ref() == Some(r))
        };
        // 1. Stored texts are canonical, and canonical text renders to itself: a request
        // carrying a stored text exactly (what Confluent's serializers send: Java's
        // `toString()`) matches without parsing. Not under normalize, where a newer version
        // holding the normalized text would win.
        if !normalize
            && let Some(v) = versions
                .iter()
                .rev()
                .filter(candidate)
                .find(|v| v.schema == text)
        {
            return Ok(self.view(v));
        }
        // A text resolved before, in this same state, resolves the same way again.
        let generation = self.core.generation.load(Ordering::Relaxed);
        let cacheable = references.is_empty() && req.metadata.is_none() && req.rule_set.is_none();
        let hit = cacheable
            .then(|| {
                self.lookup_cache()
                    .get(text, subject, schema_type, normalize, deleted, generation)
            })
            .flatten();
        if let Some(version) = hit
            && let Some(v) = versions.iter().find(|v| v.version == version)
        {
            return Ok(self.view(v));
        }
        let mut resolved = Vec::new();
        resolve_references(&state, references, &mut resolved, 0)?;
        let parsed = formats::parse(schema_type, text, &resolved, false)?;
        let wanted = formats::canonical_text(text, &parsed, normalize);
        // 2. An exact match of the canonical text; only without one are stored versions
        // re-parsed (3.). The stored text may predate normalization, or
        // (Avro) be a pre-canonical spelling written by an older mesh: then the re-rendered
        // text matches.
        let exact = versions
            .iter()
            .rev()
            .filter(candidate)
            .find(|v| v.schema == wanted);
        let found = exact.or_else(|| {
            if !normalize && schema_type != SchemaType::Avro {
                return None;
            }
            versions.iter().rev().filter(candidate).find(|v| {
                parse_stored(&state, v)
                    .map(|p| formats::canonical_text(&v.schema, &p, normalize) == wanted)
                    .unwrap_or(false)
            })
        });
        let found = found.ok_or(RegistryError::SchemaNotFound)?;
        if cacheable {
            self.lookup_cache().insert(
                text,
                CachedLookup {
                    subject: subject.to_owned(),
                    schema_type,
                    normalize,
                    deleted,
                    generation,
                    version: found.version,
                },
            );
        }
        Ok(self.view(found))
    }

    /// `POST /compatibility/subjects/{s}/versions[/{v}]`: `version = None` checks against the
    /// live versions the level asks for; a version checks against that one only (Confluent).
    pub fn check_compatibility(
        &self,
        subject: &str,
        version: Option<&str>,
        req: &SchemaRequest,
        verbose: bool,
    ) -> Result<CompatibilityAnswer, RegistryError> {
        let vid = version.map(VersionId::parse).transpose()?;
        let state = self.read();
        let live = state.versions(subject, false);
        let against: Vec<&SchemaValue> = match vid {
            None => live.clone(),
            Some(VersionId::Latest) => live.last().copied().into_iter().collect(),
            Some(VersionId::Number(n)) => {
                if !state.has_subject(subject, false) {
                    return Err(RegistryError::SubjectNotFound(subject.to_owned()));
                }
                let v = live.iter().find(|v| v.version == n).copied();
                vec![v.ok_or_else(|| RegistryError::VersionNotFound(n.to_string()))?]
            }
        };
        let answer = |messages: Vec<String>| CompatibilityAnswer {
            is_compatible: messages.is_empty(),
            messages: verbose.then_some(messages),
        };
        let parsed = (|| {
            let schema_type = req.schema_type()?;
            let text = req
                .schema
                .clone()
                .filter(|s| !s.trim().is_empty())
                .ok_or_else(|| RegistryError::InvalidSchema("Empty schema".into()))?;
            let mut resolved = Vec::new();
            resolve_references(
                &state,
                req.references.as_deref().unwrap_or(&[]),
                &mut resolved,
                0,
            )?;
            formats::parse(schema_type, &text, &resolved, true)
        })();
        let parsed = match parsed {
            Ok(p) => p,
            // verbose turns an invalid schema into a 200 "not compatible" with the reason.
            Err(RegistryError::InvalidSchema(m)) if verbose => return Ok(answer(vec![m])),
            Err(e) => return Err(e),
        };
        let config = config_in_scope(&state, Some(subject));
        let level = config.compatibility_level.unwrap_or_default();
        // Against one explicit version, "latest only" and "all" coincide; for the all-versions
        // endpoint the level decides (transitive = every live version).
        let details = check_against(&state, level, &parsed, &against)?;
        crate::metrics::compatibility_checked("endpoint", details.is_empty());
        Ok(answer(details))
    }

    /// `GET /config[/{s}]`; `None` when the subject has no config of its own.
    pub fn config(&self, subject: Option<&str>, default_to_global: bool) -> Option<Config> {
        let state = self.read();
        match subject {
            None => Some(config_in_scope(&state, None)),
            Some(s) => match state.configs.get(s) {
                Some(c) => Some(c.clone()),
                None if default_to_global => Some(config_in_scope(&state, None)),
                None => None,
            },
        }
    }

    /// `GET /mode[/{s}]`; `None` when the subject has no mode of its own.
    pub fn mode(&self, subject: Option<&str>, default_to_global: bool) -> Option<Mode> {
        let state = self.read();
        match subject {
            None => Some(state.global_mode.unwrap_or(Mode::Readwrite)),
            Some(s) => match state.modes.get(s) {
                Some(m) => Some(*m),
                None if default_to_global => Some(mode_in_scope(&state, s)),
                None => None,
            },
        }
    }
}
