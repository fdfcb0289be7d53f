//! The registry's domain logic, independent of HTTP: [`Registry`] owns the state and the store,
//! serializes writes through one async mutex, and makes every write durable before applying it
//! to the in-memory state (so a crash never leaves memory ahead of disk).
//!
//! Submodules: `write` (register, delete, config, mode), `read` (lookups, lists, compatibility).

mod read;
mod write;

use std::sync::{Arc, RwLock, RwLockReadGuard};

use mesh_schema::CompatibilityLevel;
use serde::{Deserialize, Serialize};

pub use read::{CompatibilityAnswer, SchemaFilter, SubjectFilter};

use crate::error::RegistryError;
use crate::formats::{self, Parsed, ResolvedRef};
use crate::model::{Config, Metadata, Mode, Record, RuleSet, SchemaReference, SchemaType};
use crate::state::State;
use crate::store::SchemaStore;

/// The body of register, lookup and compatibility requests.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaRequest {
    #[serde(default)]
    pub schema: Option<String>,
    #[serde(default)]
    pub schema_type: Option<String>,
    #[serde(default)]
    pub references: Option<Vec<SchemaReference>>,
    #[serde(default)]
    pub metadata: Option<Metadata>,
    #[serde(default)]
    pub rule_set: Option<RuleSet>,
    #[serde(default)]
    pub version: Option<i32>,
    #[serde(default)]
    pub id: Option<i32>,
}

impl SchemaRequest {
    fn schema_type(&self) -> Result<SchemaType, RegistryError> {
        match &self.schema_type {
            None => Ok(SchemaType::Avro),
            Some(t) => SchemaType::parse(t)
                .ok_or_else(|| RegistryError::InvalidSchema(format!("Invalid schema type {t}"))),
        }
    }
}

/// A subject version as the API returns it (Confluent's `Schema` entity).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaView {
    pub subject: String,
    pub version: i32,
    pub id: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_type: Option<SchemaType>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<SchemaReference>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_set: Option<RuleSet>,
    pub schema: String,
}

/// A version selector from a URL: a number or the latest.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum VersionId {
    Latest,
    Number(i32),
}

impl VersionId {
    /// `latest`, `-1` or 1..=2^31-1; anything else is 42202.
    pub fn parse(s: &str) -> Result<Self, RegistryError> {
        if s.eq_ignore_ascii_case("latest") {
            return Ok(Self::Latest);
        }
        match s.parse::<i32>() {
            Ok(-1) => Ok(Self::Latest),
            Ok(n) if n >= 1 => Ok(Self::Number(n)),
            _ => Err(RegistryError::InvalidVersion(s.to_owned())),
        }
    }
}

/// Subject names Confluent rejects with 42208: empty, control characters, reserved names.
pub fn validate_subject(subject: &str) -> Result<(), RegistryError> {
    if subject.trim().is_empty()
        || subject.chars().any(char::is_control)
        || subject == "__GLOBAL"
        || subject == "__EMPTY"
    {
        return Err(RegistryError::InvalidSubject(subject.to_owned()));
    }
    Ok(())
}

/// The registry service.
#[derive(Debug)]
pub struct Registry {
    state: RwLock<State>,
    store: Arc<dyn SchemaStore>,
    write_lock: tokio::sync::Mutex<()>,
    /// 8.x behaviour: emit `schemaType: AVRO` and richer register/id responses.
    pub emit_avro_schema_type: bool,
}

impl Registry {
    /// Replays `store` into a fresh state.
    pub fn open(
        store: Arc<dyn SchemaStore>,
        emit_avro_schema_type: bool,
    ) -> Result<Self, RegistryError> {
        let mut state = State::default();
        let records = store.load()?;
        for r in &records {
            state.apply(r);
        }
        tracing::info!(
            records = records.len(),
            schemas = state.schemas.len(),
            subjects = state.subjects.len(),
            "registry state loaded"
        );
        Ok(Self {
            state: RwLock::new(state),
            store,
            write_lock: tokio::sync::Mutex::new(()),
            emit_avro_schema_type,
        })
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic while holding the lock cannot leave State half-applied in a way readers
        // care about (apply is per record), so poisoning is ignored.
        self.state.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Makes `records` durable, then applies them. Callers hold `write_lock`.
    async fn commit(&self, records: Vec<Record>) -> Result<(), RegistryError> {
        if records.is_empty() {
            return Ok(());
        }
        let store = Arc::clone(&self.store);
        let batch = records.clone();
        // fsync blocks: keep it off the async workers.
        tokio::task::spawn_blocking(move || store.append(&batch))
            .await
            .map_err(|e| {
                RegistryError::http(
                    axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                    format!("store task failed: {e}"),
                )
            })??;
        let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
        for r in &records {
            state.apply(r);
        }
        Ok(())
    }

    /// The schemaType to show: `None` for AVRO unless 8.x behaviour is on.
    fn shown_type(&self, t: SchemaType) -> Option<SchemaType> {
        (t != SchemaType::Avro || self.emit_avro_schema_type).then_some(t)
    }

    fn view(&self, v: &crate::model::SchemaValue) -> SchemaView {
        SchemaView {
            subject: v.subject.clone(),
            version: v.version,
            id: v.id,
            schema_type: self.shown_type(v.schema_type()),
            references: v.references.clone(),
            metadata: v.metadata.clone(),
            rule_set: v.rule_set.clone(),
            schema: v.schema.clone(),
        }
    }
}

/// The config in effect for `subject`: each field from the subject config, else the global
/// one; the level defaults to BACKWARD.
fn config_in_scope(state: &State, subject: Option<&str>) -> Config {
    let global = state.global_config.clone().unwrap_or_default();
    let specific = subject.and_then(|s| state.configs.get(s)).cloned();
    let mut c = match specific {
        None => global,
        Some(s) => Config {
            alias: s.alias.or(global.alias),
            normalize: s.normalize.or(global.normalize),
            validate_fields: s.validate_fields.or(global.validate_fields),
            compatibility_level: s.compatibility_level.or(global.compatibility_level),
            compatibility_group: s.compatibility_group.or(global.compatibility_group),
            default_metadata: s.default_metadata.or(global.default_metadata),
            override_metadata: s.override_metadata.or(global.override_metadata),
            default_rule_set: s.default_rule_set.or(global.default_rule_set),
            override_rule_set: s.override_rule_set.or(global.override_rule_set),
        },
    };
    c.compatibility_level
        .get_or_insert(CompatibilityLevel::Backward);
    c
}

fn mode_in_scope(state: &State, subject: &str) -> Mode {
    state
        .modes
        .get(subject)
        .copied()
        .or(state.global_mode)
        .unwrap_or(Mode::Readwrite)
}

/// Resolves `refs` (recursively, dependencies first) to the referenced schemas' texts.
fn resolve_references(
    state: &State,
    refs: &[SchemaReference],
    out: &mut Vec<ResolvedRef>,
    depth: usize,
) -> Result<(), RegistryError> {
    if depth > 32 {
        return Err(RegistryError::InvalidSchema(
            "Schema references are nested too deeply or circular".into(),
        ));
    }
    for r in refs {
        let versions = state.versions(&r.subject, true);
        let found = if r.version == -1 {
            versions.iter().rev().find(|v| !v.deleted)
        } else {
            versions.iter().find(|v| v.version == r.version)
        };
        let Some(v) = found else {
            return Err(RegistryError::InvalidSchema(format!(
                "Invalid schema: reference '{}' to subject '{}' version {} not found",
                r.name, r.subject, r.version
            )));
        };
        resolve_references(state, &v.references, out, depth + 1)?;
        if !out.iter().any(|o| o.name == r.name) {
            out.push(ResolvedRef {
                name: r.name.clone(),
                schema: v.schema.clone(),
            });
        }
    }
    Ok(())
}

/// Parses a stored version (lenient: defaults not validated) with its references.
fn parse_stored(state: &State, v: &crate::model::SchemaValue) -> Result<Parsed, RegistryError> {
    let mut refs = Vec::new();
    resolve_references(state, &v.references, &mut refs, 0)?;
    formats::parse(v.schema_type(), &v.schema, &refs, false)
}

#[cfg(test)]
mod tests;
