//! The collector's configuration (`[lineage]` section).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use mesh_runtime::config::Secret;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct LineageConfig {
    /// Where the OpenLineage/Marquez API (plus /metrics, /health/*) is served; port 0 = any.
    pub listen: SocketAddr,
    /// The topic HTTP ingest appends to and every instance replays (OpenLineage Kafka format).
    /// Not a config key: `mesh` sets it from `topics.lineage`.
    #[serde(skip)]
    pub topic: String,
    /// Where applied contracts are read from (the contracts observer). Not a config key either:
    /// `mesh` sets it from `topics.contracts`.
    #[serde(skip)]
    pub contracts_topic: String,
    /// Largest accepted request body (after gzip decoding too); larger → 413.
    pub max_request_bytes: usize,
    /// Bearer tokens accepted on ingest (`Authorization: Bearer <token>`); empty = no auth.
    pub ingest_tokens: Vec<Secret>,
    /// The alias datasets of the cluster mesh runs on get (`kafka://{alias}`).
    pub cluster_alias: String,
    /// Other clusters: alias → bootstrap servers, so every `kafka://host:port` form of one
    /// cluster becomes `kafka://{alias}`.
    pub clusters: BTreeMap<String, Vec<String>>,
    pub observers: ObserversConfig,
    /// Local cache for fast restarts: a snapshot of the graph and the offsets it reflects.
    /// `None` = rebuild from the whole topic on every start (`mesh up` uses `<data_dir>/lineage`).
    pub data_dir: Option<PathBuf>,
    /// How often the snapshot is rewritten while events arrive (also at catch-up and shutdown).
    #[serde(with = "humantime_serde")]
    pub snapshot_interval: Duration,
}

impl Default for LineageConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 5000)),
            topic: "_mesh.lineage".into(),
            contracts_topic: "_mesh.contracts".into(),
            max_request_bytes: 16 * 1024 * 1024,
            ingest_tokens: Vec::new(),
            cluster_alias: "mesh".into(),
            clusters: BTreeMap::new(),
            observers: ObserversConfig::default(),
            data_dir: None,
            snapshot_interval: Duration::from_secs(60),
        }
    }
}

/// Lineage mesh observes by itself.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ObserversConfig {
    /// List consumer groups and their committed topics through the Admin API.
    pub consumer_groups: bool,
    /// Follow `_mesh.contracts`: raw → `gateway.<product>` → validated/DLQ per product.
    pub contracts: bool,
    /// Job namespace of the contract gateway's jobs (the gateway's `lineage_namespace`).
    pub gateway_namespace: String,
    /// How often observers refresh.
    #[serde(with = "humantime_serde")]
    pub interval: Duration,
    /// Job namespace of observed consumer groups.
    pub group_namespace: String,
    /// Groups not reported (mesh's own, tools).
    pub ignore_group_prefixes: Vec<String>,
}

impl Default for ObserversConfig {
    fn default() -> Self {
        Self {
            consumer_groups: true,
            contracts: true,
            gateway_namespace: "mesh".into(),
            interval: Duration::from_secs(30),
            group_namespace: "kafka-consumer-groups".into(),
            ignore_group_prefixes: vec!["_".into()],
        }
    }
}
