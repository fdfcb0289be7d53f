//! `[gateway]` configuration.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Delivery guarantee of stream mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Delivery {
    /// One Kafka transaction per batch (outputs + consumed offsets).
    ExactlyOnce,
    /// No transactions (brokers without them, e.g. tansu); consumers deduplicate by the
    /// provenance headers.
    AtLeastOnce,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GatewayConfig {
    /// HTTP listener (produce API, OpenAPI, health, metrics).
    pub listen: SocketAddr,
    pub registry_url: String,
    #[serde(with = "humantime_serde")]
    pub registry_timeout: Duration,
    /// Consumer group shared by every gateway instance.
    pub group_id: String,
    /// Stable per instance (e.g. the pod name): transactional ids are
    /// `<group_id>-<instance_id>-<product id>`, so a restarted instance fences its predecessor.
    pub instance_id: String,
    pub delivery: Delivery,
    /// Platform topics: set from `[topics]` by `mesh` (not part of `[gateway]`).
    #[serde(skip)]
    pub contracts_topic: String,
    #[serde(skip)]
    pub progress_topic: String,
    #[serde(skip)]
    pub quality_topic: String,
    #[serde(skip)]
    pub lineage_topic: String,
    /// OpenLineage job namespace.
    pub lineage_namespace: String,
    #[serde(with = "humantime_serde")]
    pub quality_window: Duration,
    pub max_batch_records: usize,
    #[serde(with = "humantime_serde")]
    pub max_batch_wait: Duration,
    /// HTTP produce: bearer token → Kafka principal (`User:orders-service`); the principal's
    /// domain comes from `domains_file`.
    pub tokens: BTreeMap<String, String>,
    /// The domains file (domain → principals); required when `tokens` is set.
    pub domains_file: Option<PathBuf>,
    /// HTTP produce: largest request body (bytes) and most events per request (→ 413).
    pub max_body_bytes: usize,
    pub max_events_per_request: usize,
    /// HTTP produce: how long an `Idempotency-Key` is remembered, and how many at most.
    #[serde(with = "humantime_serde")]
    pub idempotency_ttl: Duration,
    pub idempotency_max_keys: usize,
    /// HTTP produce: how long a subject's latest schema id is cached.
    #[serde(with = "humantime_serde")]
    pub latest_schema_ttl: Duration,
    /// How often cached schema ids are re-checked for being live versions of their subjects
    /// (a soft-deleted version stops validating within this time); `0s` never re-checks.
    #[serde(with = "humantime_serde")]
    pub schema_cache_ttl: Duration,
}

impl Default for GatewayConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([0, 0, 0, 0], 8095)),
            registry_url: "http://127.0.0.1:8081".into(),
            registry_timeout: Duration::from_secs(5),
            group_id: "mesh-gateway".into(),
            instance_id: "0".into(),
            delivery: Delivery::ExactlyOnce,
            contracts_topic: "_mesh.contracts".into(),
            progress_topic: "_mesh.progress".into(),
            quality_topic: "_mesh.quality".into(),
            lineage_topic: "_mesh.lineage".into(),
            lineage_namespace: "mesh".into(),
            quality_window: Duration::from_secs(10),
            max_batch_records: 500,
            max_batch_wait: Duration::from_millis(100),
            tokens: BTreeMap::new(),
            domains_file: None,
            max_body_bytes: 1024 * 1024,
            max_events_per_request: 1000,
            idempotency_ttl: Duration::from_secs(600),
            idempotency_max_keys: 100_000,
            latest_schema_ttl: Duration::from_secs(5),
            schema_cache_ttl: Duration::from_secs(60),
        }
    }
}
