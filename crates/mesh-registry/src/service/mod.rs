//! The registry's domain logic, independent of HTTP: [`Registry`] owns the state and the store,
//! decides writes one at a time under one async mutex, and makes every write durable before
//! applying it to the in-memory state (so a crash never leaves memory ahead of disk, and readers
//! never see a write that is not durable).
//!
//! Group commit: decided writes queue for the store, and one flusher appends everything queued
//! with a single fsync, applies it to the state in log order, then acknowledges. A registration
//! releases the decision mutex once its records are queued, so concurrent registrations share
//! fsyncs. That is only sound while the decision did not depend on a queued write: a register
//! touching a subject or content that is still in flight (its subject, the subjects its
//! references name, its schema identity), or in IMPORT mode, first waits until nothing is in
//! flight; ids come from a counter that covers the queued writes. Every other write waits until
//! nothing is in flight and holds the mutex until it is durable, as before.
//!
//! Over the Kafka `_schemas` topic (`shared`), the flusher appends and then waits until the
//! tailing consumer has applied its own offsets (read-your-writes); the state is built only by
//! the tailer, from every instance's records, and a registration whose claim lost to another
//! instance's (see `State::apply`) is decided again.
//!
//! Submodules: `write` (register, delete, config, mode), `read` (lookups, lists, compatibility),
//! `shared` (the Kafka log: replay, tailing, waiting for offsets).

mod flush;
mod read;
mod shared;
mod write;

use std::collections::HashMap;
use std::sync::atomic::AtomicU64;
use std::sync::{Arc, Mutex, RwLock, RwLockReadGuard};

use mesh_schema::CompatibilityLevel;
use serde::{Deserialize, Serialize};

pub use read::{CompatibilityAnswer, SchemaFilter, SubjectFilter};

use crate::error::RegistryError;
use crate::formats::{self, Parsed, ResolvedRef};
use crate::model::{Config, Metadata, Mode, Record, RuleSet, SchemaReference, SchemaType};
use crate::state::State;
use crate::store::{SchemaStore, StoreError};

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

/// Lookup texts that needed a parse, with the version they resolved to: serializers send the
/// same text over and over, and a parse costs tens of µs. An entry holds only for the state
/// generation it was made in (any applied write invalidates it) and only for requests without
/// references, metadata or rules. Bounded: cleared when it reaches [`LookupCache::CAPACITY`].
#[derive(Debug, Default)]
struct LookupCache {
    /// request text → what it resolved to, per subject and flags.
    entries: HashMap<String, Vec<CachedLookup>>,
    len: usize,
}

#[derive(Debug)]
struct CachedLookup {
    subject: String,
    schema_type: SchemaType,
    normalize: bool,
    deleted: bool,
    generation: u64,
    version: i32,
}

impl LookupCache {
    const CAPACITY: usize = 10_000;

    fn get(
        &self,
        text: &str,
        subject: &str,
        schema_type: SchemaType,
        normalize: bool,
        deleted: bool,
        generation: u64,
    ) -> Option<i32> {
        self.entries.get(text)?.iter().find_map(|e| {
            (e.subject == subject
                && e.schema_type == schema_type
                && e.normalize == normalize
                && e.deleted == deleted
                && e.generation == generation)
                .then_some(e.version)
        })
    }

    fn insert(&mut self, text: &str, entry: CachedLookup) {
        if self.len >= Self::CAPACITY {
            self.entries.clear();
            self.len = 0;
        }
        let rows = self.entries.entry(text.to_owned()).or_default();
        let before = rows.len();
        // Entries of older generations are dead: replace rather than accumulate them.
        rows.retain(|e| {
            e.generation == entry.generation
                && !(e.subject == entry.subject
                    && e.schema_type == entry.schema_type
                    && e.normalize == entry.normalize
                    && e.deleted == entry.deleted)
        });
        self.len = self.len - (before - rows.len()) + 1;
        rows.push(entry);
    }
}

/// The registry service.
#[derive(Debug)]
pub struct Registry {
    core: Arc<Core>,
    /// Held while deciding a write (and, except for registrations, until it is durable).
    write_lock: tokio::sync::Mutex<()>,
    /// Re-spelled lookup texts already resolved (see [`LookupCache`]).
    lookups: Mutex<LookupCache>,
    /// 8.x behaviour: emit `schemaType: AVRO` and richer register/id responses.
    pub emit_avro_schema_type: bool,
}

/// What the registry and its flusher task share.
#[derive(Debug)]
struct Core {
    state: RwLock<State>,
    /// Bumped (under the state's write lock) whenever records are applied: what a reader sees
    /// under the read lock is the state of that generation.
    generation: AtomicU64,
    backend: Backend,
    log: Mutex<GroupLog>,
    /// Notified after every flushed batch.
    flushed: tokio::sync::Notify,
}

/// Writes decided but not yet durable (and so not yet in `state`).
#[derive(Debug, Default)]
struct GroupLog {
    queue: Vec<Queued>,
    /// A flusher task is running.
    flushing: bool,
    /// Queued or being flushed.
    in_flight: usize,
    /// Subjects (own and referenced) and identities of in-flight registrations, with counts.
    subjects: HashMap<String, usize>,
    identities: HashMap<String, usize>,
    /// The highest id given to an in-flight registration.
    max_id: i32,
}

/// What an in-flight write touches; see the module docs.
#[derive(Debug, Default)]
struct Keys {
    subjects: Vec<String>,
    identity: Option<String>,
}

/// Where writes go: a local store the flusher applies from, or the shared Kafka log the
/// tailer applies from.
#[derive(Debug)]
enum Backend {
    Local(Arc<dyn SchemaStore>),
    Kafka(shared::Tail),
}

/// A queued write's outcome: `Ok(true)` = durable and applied, `Ok(false)` = durable but
/// another instance's earlier claim won (not applied anywhere).
type Outcome = Result<bool, StoreError>;

#[derive(Debug)]
struct Queued {
    records: Vec<Record>,
    keys: Keys,
    done: tokio::sync::oneshot::Sender<Outcome>,
}

impl Registry {
    /// Replays `store` into a fresh state.
    pub fn open(
        store: Arc<dyn SchemaStore>,
        emit_avro_schema_type: bool,
    ) -> Result<Self, RegistryError> {
        let mut state = State::default();
        let mut records = 0usize;
        store.replay(&mut |r| {
            records += 1;
            state.apply(&r);
        })?;
        tracing::info!(
            records,
            schemas = state.schemas.len(),
            subjects = state.subjects.len(),
            "registry state loaded"
        );
        Ok(Self::with_core(
            state,
            Backend::Local(store),
            emit_avro_schema_type,
        ))
    }

    fn with_core(state: State, backend: Backend, emit_avro_schema_type: bool) -> Self {
        Self {
            core: Arc::new(Core {
                state: RwLock::new(state),
                generation: AtomicU64::new(0),
                backend,
                log: Mutex::new(GroupLog::default()),
                flushed: tokio::sync::Notify::new(),
            }),
            write_lock: tokio::sync::Mutex::new(()),
            lookups: Mutex::new(LookupCache::default()),
            emit_avro_schema_type,
        }
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        // A panic while holding the lock cannot leave State half-applied in a way readers
        // care about (apply is per record), so poisoning is ignored.
        self.core.state.read().unwrap_or_else(|p| p.into_inner())
    }

    fn lookup_cache(&self) -> std::sync::MutexGuard<'_, LookupCache> {
        self.lookups.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Waits until no write is in flight: the state then holds every decided write.
    async fn drain(&self) {
        loop {
            let flushed = self.core.flushed.notified();
            if self.core.log().in_flight == 0 {
                return;
            }
            flushed.await;
        }
    }

    fn any_in_flight(&self) -> bool {
        self.core.log().in_flight > 0
    }

    /// Takes the write mutex once nothing is in flight, for writes decided and committed
    /// under it from start to end (everything but registrations). Over Kafka it also reads the
    /// log up to its current end, so the decision sees every write acknowledged anywhere.
    async fn exclusive(&self) -> Result<tokio::sync::MutexGuard<'_, ()>, RegistryError> {
        let guard = self.write_lock.lock().await;
        self.drain().await;
        if let Backend::Kafka(tail) = &self.core.backend {
            tail.sync().await?;
        }
        Ok(guard)
    }

    /// Whether a registration's decision could depend on an in-flight write.
    fn in_flight(&self, subjects: &[&str], identity: Option<&str>) -> bool {
        let log = self.core.log();
        subjects.iter().any(|s| log.subjects.contains_key(*s))
            || identity.is_some_and(|i| log.identities.contains_key(i))
    }

    /// The next free id, past those of in-flight registrations.
    fn next_id(&self, state: &State) -> i32 {
        state.max_id.max(self.core.log().max_id) + 1
    }

    /// Queues `records` for the flusher (starting it if idle). Callers hold `write_lock`, so
    /// queue order is decision order.
    fn enqueue(
        &self,
        records: Vec<Record>,
        keys: Keys,
        id: Option<i32>,
    ) -> tokio::sync::oneshot::Receiver<Outcome> {
        let (done, rx) = tokio::sync::oneshot::channel();
        let mut log = self.core.log();
        for s in &keys.subjects {
            *log.subjects.entry(s.clone()).or_default() += 1;
        }
        if let Some(i) = &keys.identity {
            *log.identities.entry(i.clone()).or_default() += 1;
        }
        if let Some(id) = id {
            log.max_id = log.max_id.max(id);
        }
        log.in_flight += 1;
        log.queue.push(Queued {
            records,
            keys,
            done,
        });
        if !log.flushing {
            log.flushing = true;
            tokio::spawn(Arc::clone(&self.core).flush());
        }
        rx
    }

    /// Waits for a queued write to be durable and applied; `false` = it lost to an earlier
    /// claim of another instance (see [`Outcome`]).
    async fn durable(rx: tokio::sync::oneshot::Receiver<Outcome>) -> Result<bool, RegistryError> {
        match rx.await {
            Ok(r) => Ok(r?),
            Err(_) => Err(RegistryError::http(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                "store task stopped before the write was durable",
            )),
        }
    }

    /// Makes `records` durable, then applies them, after every in-flight write. Callers hold
    /// `write_lock` until this returns.
    async fn commit(&self, records: Vec<Record>) -> Result<(), RegistryError> {
        if records.is_empty() {
            return Ok(());
        }
        self.drain().await;
        if Self::durable(self.enqueue(records, Keys::default(), None)).await? {
            Ok(())
        } else {
            Err(StoreError::Conflict.into())
        }
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

/// Checks `new` at `level` against stored versions (parsed here, leniently); the messages of every
/// incompatibility, empty = compatible.
fn check_against(
    state: &State,
    level: CompatibilityLevel,
    new: &Parsed,
    against: &[&crate::model::SchemaValue],
) -> Result<Vec<String>, RegistryError> {
    let olds = against
        .iter()
        .map(|v| parse_stored(state, v).map(|p| (*v, p)))
        .collect::<Result<Vec<_>, _>>()?;
    let existing: Vec<formats::Existing<'_>> = olds
        .iter()
        .map(|(v, p)| formats::Existing {
            version: v.version,
            schema: &v.schema,
            parsed: p,
        })
        .collect();
    Ok(formats::check(level, new, &existing))
}

/// The versions (deleted ones too) of a subject a delete may change: refused in read-only mode,
/// 40401 when the subject has none.
fn deletable_versions<'s>(
    state: &'s State,
    subject: &str,
) -> Result<Vec<&'s crate::model::SchemaValue>, RegistryError> {
    if mode_in_scope(state, subject).is_read_only() {
        return Err(RegistryError::OperationNotPermitted(format!(
            "Subject {subject} is in read-only mode"
        )));
    }
    let all = state.versions(subject, true);
    if all.is_empty() {
        return Err(RegistryError::SubjectNotFound(subject.to_owned()));
    }
    Ok(all)
}

/// Parses a stored version (lenient: defaults not validated) with its references.
fn parse_stored(state: &State, v: &crate::model::SchemaValue) -> Result<Parsed, RegistryError> {
    let mut refs = Vec::new();
    resolve_references(state, &v.references, &mut refs, 0)?;
    formats::parse(v.schema_type(), &v.schema, &refs, false)
}

#[cfg(test)]
mod perf_tests;
#[cfg(test)]
mod tests;
