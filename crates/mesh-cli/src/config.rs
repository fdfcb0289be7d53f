//! `mesh.toml`: the configuration of everything `mesh` runs.
//!
//! Layered by `mesh_runtime::config`: defaults here → the file given with `--config` →
//! `MESH_*` variables (`MESH_KAFKA__BOOTSTRAP_SERVERS=...`) → command-line flags.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use mesh_freshness::FreshnessConfig;
use mesh_kafka::KafkaConfig;
use mesh_kafka::admin::TopicSpec;
use mesh_lineage::LineageConfig;
use mesh_registry::RegistryConfig;
use mesh_runtime::telemetry::TelemetryConfig;
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct MeshConfig {
    pub telemetry: TelemetryConfig,
    /// The Kafka cluster. Without `bootstrap_servers`, `mesh up` runs the embedded broker.
    pub kafka: KafkaConfig,
    pub embedded_broker: EmbeddedBrokerConfig,
    pub topics: PlatformTopics,
    /// The schema registry (`mesh registry`, and inside `mesh up`).
    pub registry: RegistryConfig,
    /// The lineage collector (`mesh lineage`, and inside `mesh up`).
    pub lineage: LineageConfig,
    /// The freshness monitor (`mesh freshness`, and inside `mesh up`).
    pub freshness: FreshnessConfig,
    /// The contract gateway (`mesh gateway`, and inside `mesh up`); topic names come from
    /// `[topics]`.
    pub gateway: mesh_gateway::GatewayConfig,
    /// Where single-node state lives (the registry's embedded store, under `registry/`).
    pub data_dir: PathBuf,
    /// How long in-flight work may take to finish after SIGINT/SIGTERM.
    #[serde(with = "humantime_serde")]
    pub shutdown_grace: Duration,
}

impl Default for MeshConfig {
    fn default() -> Self {
        Self {
            telemetry: TelemetryConfig::default(),
            kafka: KafkaConfig::default(),
            embedded_broker: EmbeddedBrokerConfig::default(),
            topics: PlatformTopics::default(),
            registry: RegistryConfig::default(),
            lineage: LineageConfig::default(),
            freshness: FreshnessConfig::default(),
            gateway: mesh_gateway::GatewayConfig::default(),
            data_dir: PathBuf::from("mesh-data"),
            shutdown_grace: Duration::from_secs(10),
        }
    }
}

/// The in-process broker of `mesh up`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EmbeddedBrokerConfig {
    /// Where Kafka clients connect (port 0 = any free port).
    pub listen: SocketAddr,
}

impl Default for EmbeddedBrokerConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 9092)),
        }
    }
}

/// Names of the platform's own topics (DESIGN.md §3) and how they are created.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PlatformTopics {
    pub schemas: String,
    pub contracts: String,
    pub quality: String,
    pub lineage: String,
    pub alerts: String,
    /// Gateway progress heartbeats and data-loss events (docs/gateway.md).
    pub progress: String,
    /// Partitions of the event topics (quality, lineage, alerts); state logs have one.
    pub event_partitions: i32,
    /// `None` = the broker's default.
    pub replication_factor: Option<i32>,
}

impl Default for PlatformTopics {
    fn default() -> Self {
        Self {
            schemas: "_schemas".into(),
            contracts: "_mesh.contracts".into(),
            quality: "_mesh.quality".into(),
            lineage: "_mesh.lineage".into(),
            alerts: "_mesh.alerts".into(),
            progress: "_mesh.progress".into(),
            event_partitions: 3,
            replication_factor: None,
        }
    }
}

impl PlatformTopics {
    /// The specs `mesh up` ensures: compacted single-partition state logs, and event topics.
    pub fn specs(&self) -> Vec<TopicSpec> {
        let rf = |s: TopicSpec| match self.replication_factor {
            Some(rf) => s.replication_factor(rf),
            None => s,
        };
        let state = [&self.schemas, &self.contracts]
            .into_iter()
            .map(|t| rf(TopicSpec::compacted_log(t)));
        let events = [&self.quality, &self.lineage, &self.alerts, &self.progress]
            .into_iter()
            .map(|t| rf(TopicSpec::new(t, self.event_partitions)));
        state.chain(events).collect()
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures return figment::Error
mod tests {
    use super::*;
    use figment::Jail;

    #[test]
    fn file_and_env_layer_over_defaults() {
        Jail::expect_with(|jail| {
            jail.create_file(
                "mesh.toml",
                "shutdown_grace = \"3s\"\n[kafka]\nbootstrap_servers = \"k1:9092\"\n\
                 [telemetry]\nlog_format = \"json\"\n",
            )?;
            jail.set_env("MESH_EMBEDDED_BROKER__LISTEN", "127.0.0.1:19092");
            jail.set_env("MESH_TOPICS__EVENT_PARTITIONS", "6");
            let c: MeshConfig = mesh_runtime::config::load(Some("mesh.toml".as_ref())).unwrap();
            assert_eq!(c.shutdown_grace, Duration::from_secs(3));
            assert_eq!(c.kafka.bootstrap_servers.as_deref(), Some("k1:9092"));
            assert_eq!(
                c.telemetry.log_format,
                mesh_runtime::telemetry::LogFormat::Json
            );
            assert_eq!(c.embedded_broker.listen.port(), 19092);
            assert_eq!(c.topics.event_partitions, 6);
            assert_eq!(c.topics.schemas, "_schemas", "defaults kept");
            Ok(())
        });
    }

    #[test]
    fn unknown_nested_key_is_rejected_with_its_path() {
        Jail::expect_with(|jail| {
            jail.create_file("mesh.toml", "[kafka.ssl]\nca_locaton = \"/x\"\n")?;
            let e = mesh_runtime::config::load::<MeshConfig>(Some("mesh.toml".as_ref()))
                .unwrap_err()
                .to_string();
            assert!(e.contains("ca_locaton") && e.contains("kafka.ssl"), "{e}");
            assert!(e.contains("mesh.toml"), "{e}");
            Ok(())
        });
    }

    #[test]
    fn platform_topics_state_logs_are_compacted_single_partition() {
        let specs = PlatformTopics::default().specs();
        let schemas = specs.iter().find(|s| s.name == "_schemas").unwrap();
        assert_eq!(schemas.partitions, 1);
        assert_eq!(schemas.configs["cleanup.policy"], "compact");
        let alerts = specs.iter().find(|s| s.name == "_mesh.alerts").unwrap();
        assert_eq!(alerts.partitions, 3);
        assert!(!alerts.configs.contains_key("cleanup.policy"));
    }
}
