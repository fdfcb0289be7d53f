//! `mesh up`: everything in one process.
//!
//! With no `kafka.bootstrap_servers`, it starts the embedded broker (librdkafka's mock cluster
//! served on `embedded_broker.listen`) and provisions the platform topics on it, since that broker
//! has no CreateTopics; with one, it ensures the same topics on the real cluster through the Admin
//! API. Then it starts every service that exists (each on its own port, DESIGN.md §6): the schema
//! registry, whose store lives under `<data_dir>/registry` unless `registry.data_dir` says
//! otherwise. The data directory is locked so two `mesh up`s never share single-node state.

use std::fmt::Write as _;
use std::fs::File;
use std::path::{Path, PathBuf};

use mesh_kafka::KafkaConfig;
use mesh_kafka::admin::{Provisioner, TopicOutcome};
use mesh_kafka::embedded::{EmbeddedBroker, RETENTION_LIMIT};
use mesh_registry::RunningRegistry;
use mesh_runtime::Shutdown;

use crate::CliError;
use crate::config::MeshConfig;

/// Which Kafka `mesh up` is using.
#[derive(Debug)]
pub enum Broker {
    Embedded(EmbeddedBroker),
    External { bootstrap: String },
}

/// A started `mesh up`; drop it after draining the shutdown tree.
#[derive(Debug)]
pub struct Running {
    pub broker: Broker,
    /// The config every service's Kafka clients use.
    pub kafka: KafkaConfig,
    pub topics: Vec<(String, TopicOutcome)>,
    /// (service name, HTTP address) of each started service.
    pub services: Vec<(&'static str, std::net::SocketAddr)>,
    pub data_dir: PathBuf,
    /// The example contracts applied on the embedded broker (empty with real Kafka).
    pub contracts: Vec<crate::contract::apply::Outcome>,
    _registry: RunningRegistry,
    _lineage: mesh_lineage::RunningLineage,
    _lock: File,
}

/// Starts the broker (if embedded), the platform topics and the services, under `shutdown`.
pub async fn start(config: &MeshConfig, shutdown: &Shutdown) -> Result<Running, CliError> {
    let lock = lock_data_dir(&config.data_dir)?;
    let (broker, kafka, provisioner) = match &config.kafka.bootstrap_servers {
        None => {
            let b = EmbeddedBroker::start(config.embedded_broker.listen, &shutdown.child()).await?;
            let (kafka, prov) = (b.kafka_config(), b.provisioner());
            (Broker::Embedded(b), kafka, prov)
        }
        Some(bootstrap) => {
            let prov = Provisioner::admin(&config.kafka)?;
            let broker = Broker::External {
                bootstrap: bootstrap.clone(),
            };
            (broker, config.kafka.clone(), prov)
        }
    };
    let topics = provisioner.ensure_topics(&config.topics.specs()).await?;

    let registry = match &broker {
        // Real Kafka: the registry keeps its state in the `_schemas` topic (any number of
        // instances, takeover from Confluent/Karapace).
        Broker::External { .. } => {
            crate::registry_store::start_in_up(config, &kafka, &provisioner, shutdown).await?
        }
        // The embedded broker keeps only a few MiB per partition: keep the on-disk store.
        Broker::Embedded(_) => {
            let mut registry_config = config.registry.clone();
            registry_config.store = mesh_registry::StoreKind::Embedded;
            if registry_config.data_dir.is_none() {
                registry_config.data_dir = Some(config.data_dir.join("registry"));
            }
            mesh_registry::start(registry_config, &shutdown.child()).await?
        }
    };
    let contracts = match &broker {
        Broker::Embedded(_) => {
            embedded_contracts(config, &kafka, &provisioner, registry.addr, shutdown).await?
        }
        Broker::External { .. } => Vec::new(),
    };
    // Services start here as they are built (gateway 8095, freshness 8096, lineage 5000).
    let lineage_dir = Some(config.data_dir.join("lineage"));
    let lineage = crate::lineage::start(config, &kafka, lineage_dir, &shutdown.child()).await?;
    let mut services = vec![("registry", registry.addr), ("lineage", lineage.addr)];
    let freshness = crate::freshness::start(config, &kafka, &shutdown.child()).await?;
    services.push(("freshness", freshness.addr));
    let mut gateway_config = crate::gateway::gateway_config(config);
    gateway_config.registry_url = format!("http://{}", registry.addr);
    let gateway = mesh_gateway::Gateway::default()
        .start(gateway_config, kafka.clone(), &shutdown.child())
        .await?;
    services.push(("gateway", gateway.addr));
    Ok(Running {
        broker,
        kafka,
        topics,
        services,
        data_dir: config.data_dir.clone(),
        contracts,
        _registry: registry,
        _lineage: lineage,
        _lock: lock,
    })
}

/// The embedded broker has no CreateTopics: this process provisions the topics of every
/// contract in `_mesh.contracts`, then applies the example contracts (docs/contracts.md).
async fn embedded_contracts(
    config: &MeshConfig,
    kafka: &KafkaConfig,
    provisioner: &Provisioner,
    registry: std::net::SocketAddr,
    shutdown: &Shutdown,
) -> Result<Vec<crate::contract::apply::Outcome>, CliError> {
    use crate::contract::provision;
    let topic = config.topics.contracts.clone();
    provision::start_provisioner(
        kafka.clone(),
        topic.clone(),
        provisioner.clone(),
        &shutdown.child(),
    )?;
    let url = format!("http://{registry}");
    provision::apply_examples(&url, kafka.clone(), provisioner.clone(), &topic).await
}

fn lock_data_dir(dir: &Path) -> Result<File, CliError> {
    let io = |source| CliError::DataDir {
        path: dir.to_path_buf(),
        source,
    };
    std::fs::create_dir_all(dir).map_err(io)?;
    let file = File::create(dir.join(".lock")).map_err(io)?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(CliError::DataDirLocked {
            path: dir.to_path_buf(),
        }),
        Err(std::fs::TryLockError::Error(e)) => Err(io(e)),
    }
}

impl Running {
    /// What `mesh up` prints once everything is reachable.
    pub fn banner(&self) -> String {
        let mut s = format!("mesh {} is up\n", env!("CARGO_PKG_VERSION"));
        match &self.broker {
            Broker::Embedded(b) => {
                let _ = writeln!(s, "  kafka      {}  (embedded broker)", b.addr());
                let _ = writeln!(s, "             keeps {RETENTION_LIMIT};");
                let _ = writeln!(
                    s,
                    "             use `mesh up --config mesh.toml` with kafka.bootstrap_servers for real Kafka"
                );
            }
            Broker::External { bootstrap } => {
                let _ = writeln!(s, "  kafka      {bootstrap}");
            }
        }
        let names: Vec<&str> = self.topics.iter().map(|(t, _)| t.as_str()).collect();
        if !self.contracts.is_empty() {
            let applied: Vec<String> = self
                .contracts
                .iter()
                .map(|o| format!("{} ({})", o.key, o.result.as_str()))
                .collect();
            let _ = writeln!(s, "  contracts  {}", applied.join(", "));
        }
        let _ = writeln!(s, "  topics     {}", names.join(", "));
        let _ = writeln!(s, "  data dir   {}", self.data_dir.display());
        for (name, addr) in &self.services {
            let _ = writeln!(s, "  {name:<10} http://{addr}  (/health/ready, /metrics)");
        }
        s.push_str("Press Ctrl-C to stop.");
        s
    }
}
