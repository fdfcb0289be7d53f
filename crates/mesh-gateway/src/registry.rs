//! Schemas by id from the schema registry, cached.
//!
//! The validation path asks [`SchemaLookup::schema`] for every record; after the first record of
//! a schema id the answer comes from a `DashMap` (lock-free reads across pipeline threads). A
//! miss calls the registry (`GET /schemas/ids/{id}` for the text, type and metadata;
//! `GET /schemas/ids/{id}/versions` for the subjects it is a live version of). The pipeline
//! threads are plain OS threads, so a miss blocks on the async client through the runtime
//! handle without stalling any runtime worker.
//!
//! Ids are immutable, but whether an id is a live version of a subject is not (a version can be
//! soft-deleted). [`RegistryClient::spawn_refresh`] re-reads that (`/versions` only; the parsed
//! schema is kept) for every cached id once per `schema_cache_ttl`, off the hot path: lookups
//! keep serving the cached entry and see the new one once swapped in. A refresh that cannot reach
//! the registry keeps every entry as it is (an outage never rejects records) and logs.
//!
//! The cache is not bounded by count: only ids the registry knows are cached (unknown ids are
//! not), so it never holds more than the registry's schemas used on raw topics — the registry
//! itself keeps all of them in memory.

use std::sync::Arc;
use std::time::Duration;

use dashmap::DashMap;
use mesh_runtime::Shutdown;
use mesh_schema::avro::AvroSchema;
use serde::Deserialize;

use crate::GatewayError;

// The registry metadata property holding a schema's contract major version (set by the
// contract's registry projection).
use mesh_contract::project::MAJOR_PROPERTY;

/// A parsed schema, ready to decode payloads.
#[derive(Clone, Debug)]
pub enum ParsedSchema {
    Avro(AvroSchema),
    /// JSON Schema: payloads must be well-formed JSON and valid instances of the schema. `None`
    /// when the schema cannot be compiled on its own (external `$ref`s to registry
    /// references): then only well-formedness and the contract's rules are checked, and that
    /// is logged when the schema is fetched.
    Json(Option<std::sync::Arc<jsonschema::Validator>>),
    /// A type the gateway cannot decode (e.g. PROTOBUF): records using it are rejected.
    Unsupported(String),
}

/// One registered schema as the gateway needs it.
#[derive(Debug)]
pub struct SchemaEntry {
    pub id: u32,
    pub parsed: ParsedSchema,
    /// `metadata.properties["application.major.version"]`, when set.
    pub major: Option<u64>,
    /// `(subject, version)` pairs the id is a live (not deleted) version of.
    pub live_in: Vec<(String, i64)>,
}

impl SchemaEntry {
    pub fn is_live_in(&self, subject: &str) -> bool {
        self.live_in.iter().any(|(s, _)| s == subject)
    }
}

/// The registry could not be asked (network, 5xx): retry later, never reject the record.
#[derive(Debug, Clone, thiserror::Error)]
#[error("schema registry unavailable: {0}")]
pub struct Unavailable(pub String);

/// Where validation gets schemas from.
pub trait SchemaLookup: Send + Sync {
    /// `Ok(None)` when the registry has no schema with this id.
    fn schema(&self, id: u32) -> Result<Option<Arc<SchemaEntry>>, Unavailable>;
}

/// Registry client with a cache by id.
#[derive(Debug)]
pub struct RegistryClient {
    base: String,
    http: reqwest::Client,
    runtime: tokio::runtime::Handle,
    cache: DashMap<u32, Arc<SchemaEntry>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ById {
    schema: String,
    #[serde(default)]
    schema_type: Option<String>,
    #[serde(default)]
    metadata: Option<Metadata>,
}

#[derive(Deserialize)]
struct Metadata {
    #[serde(default)]
    properties: std::collections::BTreeMap<String, String>,
}

#[derive(Deserialize)]
struct Usage {
    subject: String,
    version: i64,
}

impl RegistryClient {
    /// `runtime` runs the HTTP calls; call [`SchemaLookup::schema`] from non-runtime threads.
    pub fn new(
        base_url: &str,
        timeout: Duration,
        runtime: tokio::runtime::Handle,
    ) -> Result<Self, GatewayError> {
        let http = reqwest::Client::builder()
            .timeout(timeout)
            .build()
            .map_err(|e| GatewayError::Config(format!("registry client: {e}")))?;
        Ok(Self {
            base: base_url.trim_end_matches('/').to_owned(),
            http,
            runtime,
            cache: DashMap::new(),
        })
    }

    /// Cached entries (for tests and metrics).
    pub fn cached(&self) -> usize {
        self.cache.len()
    }

    async fn fetch(&self, id: u32) -> Result<Option<SchemaEntry>, Unavailable> {
        let unavailable = |e: reqwest::Error| Unavailable(e.to_string());
        let resp = self
            .http
            .get(format!("{}/schemas/ids/{id}", self.base))
            .send()
            .await
            .map_err(unavailable)?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(Unavailable(format!(
                "GET /schemas/ids/{id}: HTTP {}",
                resp.status()
            )));
        }
        let by_id: ById = resp.json().await.map_err(unavailable)?;
        let live_in = self.live_in(id).await?;
        let major = by_id
            .metadata
            .as_ref()
            .and_then(|m| m.properties.get(MAJOR_PROPERTY))
            .and_then(|v| v.parse().ok());
        let parsed = match by_id.schema_type.as_deref().unwrap_or("AVRO") {
            "AVRO" => match AvroSchema::parse(&by_id.schema) {
                Ok(s) => ParsedSchema::Avro(s),
                Err(e) => ParsedSchema::Unsupported(format!("unparseable Avro schema: {e}")),
            },
            "JSON" => ParsedSchema::json(id, &by_id.schema),
            other => ParsedSchema::Unsupported(format!("schema type {other}")),
        };
        Ok(Some(SchemaEntry {
            id,
            parsed,
            major,
            live_in,
        }))
    }

    /// `GET /schemas/ids/{id}/versions`: the (subject, version)s the id is a live version of
    /// (404, the id is gone: none).
    async fn live_in(&self, id: u32) -> Result<Vec<(String, i64)>, Unavailable> {
        let unavailable = |e: reqwest::Error| Unavailable(e.to_string());
        let resp = self
            .http
            .get(format!("{}/schemas/ids/{id}/versions", self.base))
            .send()
            .await
            .map_err(unavailable)?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(Vec::new());
        }
        if !resp.status().is_success() {
            return Err(Unavailable(format!(
                "GET /schemas/ids/{id}/versions: HTTP {}",
                resp.status()
            )));
        }
        let usages: Vec<Usage> = resp.json().await.map_err(unavailable)?;
        Ok(usages.into_iter().map(|u| (u.subject, u.version)).collect())
    }

    /// One refresh pass: re-reads the liveness of every cached id and swaps in a new entry
    /// (same parsed schema) where it changed. Returns how many changed. Stops at the first
    /// registry failure, leaving the remaining entries as they are.
    pub async fn refresh(&self) -> Result<usize, Unavailable> {
        let ids: Vec<u32> = self.cache.iter().map(|e| *e.key()).collect();
        let mut changed = 0;
        for id in ids {
            let live_in = self.live_in(id).await?;
            let Some(current) = self.cache.get(&id).map(|e| Arc::clone(&e)) else {
                continue;
            };
            if current.live_in == live_in {
                continue;
            }
            tracing::info!(schema_id = id, before = ?current.live_in, now = ?live_in,
                "schema id's live subject versions changed");
            let entry = SchemaEntry {
                id,
                // Cloned only when liveness changed (rare); never re-fetched or re-parsed.
                parsed: current.parsed.clone(),
                major: current.major,
                live_in,
            };
            self.cache.insert(id, Arc::new(entry));
            changed += 1;
        }
        Ok(changed)
    }

    /// Runs [`RegistryClient::refresh`] every `ttl` until `shutdown`, so a cached entry's
    /// liveness is at most `ttl` (plus one pass) old. A zero `ttl` never refreshes.
    pub fn spawn_refresh(self: &Arc<Self>, ttl: Duration, shutdown: &Shutdown) {
        if ttl.is_zero() {
            return;
        }
        let me = Arc::clone(self);
        let stop = shutdown.clone();
        shutdown.spawn("gateway-schema-refresh", async move {
            loop {
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = tokio::time::sleep(ttl) => {}
                }
                match me.refresh().await {
                    Ok(changed) => crate::metrics::schema_refresh(if changed > 0 {
                        "changed"
                    } else {
                        "unchanged"
                    }),
                    Err(e) => {
                        crate::metrics::schema_refresh("unavailable");
                        tracing::warn!(error = %e, cached = me.cached(),
                            "schema cache refresh failed; serving cached schemas as they are");
                    }
                }
            }
        });
    }
}

impl ParsedSchema {
    /// A registered JSON Schema (`id` for the log line when it cannot be compiled alone).
    pub fn json(id: u32, text: &str) -> Self {
        Self::Json(json_validator(id, text))
    }
}

/// Compiles a registered JSON Schema for instance validation (formats checked, as Confluent's
/// validating serializers do).
fn json_validator(id: u32, text: &str) -> Option<std::sync::Arc<jsonschema::Validator>> {
    let compiled = serde_json::from_str::<serde_json::Value>(text)
        .map_err(|e| e.to_string())
        .and_then(|schema| {
            jsonschema::options()
                .should_validate_formats(true)
                .build(&schema)
                .map_err(|e| e.to_string())
        });
    match compiled {
        Ok(v) => Some(std::sync::Arc::new(v)),
        Err(e) => {
            tracing::warn!(
                schema_id = id,
                error = %e,
                "JSON Schema not compilable alone; payloads checked for well-formed JSON and rules only"
            );
            None
        }
    }
}

impl SchemaLookup for RegistryClient {
    fn schema(&self, id: u32) -> Result<Option<Arc<SchemaEntry>>, Unavailable> {
        if let Some(e) = self.cache.get(&id) {
            return Ok(Some(Arc::clone(&e)));
        }
        crate::metrics::registry_fetch();
        let fetched = self.runtime.block_on(self.fetch(id))?;
        // Unknown ids are not cached: the schema may be registered a moment later.
        Ok(fetched.map(|e| {
            let e = Arc::new(e);
            self.cache.insert(id, Arc::clone(&e));
            e
        }))
    }
}

/// A fixed set of schemas (tests, benchmarks, HTTP produce dry runs).
#[derive(Debug, Default)]
pub struct StaticSchemas(pub std::collections::HashMap<u32, Arc<SchemaEntry>>);

impl SchemaLookup for StaticSchemas {
    fn schema(&self, id: u32) -> Result<Option<Arc<SchemaEntry>>, Unavailable> {
        Ok(self.0.get(&id).cloned())
    }
}

/// A subject's latest schema id (`GET /subjects/{subject}/versions/latest`), cached for `ttl`
/// so HTTP produce follows a newly registered version within that time.
#[derive(Debug)]
pub struct LatestIds {
    base: String,
    http: reqwest::Client,
    ttl: Duration,
    cache: DashMap<String, (u32, std::time::Instant)>,
}

impl LatestIds {
    pub fn new(base_url: &str, timeout: Duration, ttl: Duration) -> Result<Self, GatewayError> {
        Ok(Self {
            base: base_url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::builder()
                .timeout(timeout)
                .build()
                .map_err(|e| GatewayError::Config(format!("registry client: {e}")))?,
            ttl,
            cache: DashMap::new(),
        })
    }

    /// `Ok(None)` when the subject has no live version.
    pub async fn latest(&self, subject: &str) -> Result<Option<u32>, Unavailable> {
        if let Some(e) = self.cache.get(subject)
            && e.1.elapsed() < self.ttl
        {
            return Ok(Some(e.0));
        }
        let resp = self
            .http
            .get(format!("{}/subjects/{subject}/versions/latest", self.base))
            .send()
            .await
            .map_err(|e| Unavailable(e.to_string()))?;
        if resp.status() == reqwest::StatusCode::NOT_FOUND {
            return Ok(None);
        }
        if !resp.status().is_success() {
            return Err(Unavailable(format!(
                "GET /subjects/{subject}/versions/latest: HTTP {}",
                resp.status()
            )));
        }
        let v: serde_json::Value = resp.json().await.map_err(|e| Unavailable(e.to_string()))?;
        let id = v["id"]
            .as_u64()
            .and_then(|i| u32::try_from(i).ok())
            .ok_or_else(|| Unavailable(format!("latest version of {subject} has no id")))?;
        self.cache
            .insert(subject.to_owned(), (id, std::time::Instant::now()));
        Ok(Some(id))
    }
}
