//! `mesh freshness` (the freshness monitor alone, port 8096) and its part in `mesh up`.

use std::net::SocketAddr;

use clap::Args;
use mesh_freshness::RunningFreshness;
use mesh_kafka::KafkaConfig;
use mesh_runtime::Shutdown;

use crate::CliError;
use crate::config::MeshConfig;

#[derive(Clone, Debug, Default, Args)]
pub struct FreshnessArgs {
    /// Address of the freshness API (default 127.0.0.1:8096; port 0 = any free).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<SocketAddr>,

    /// Kafka cluster to watch (default: kafka.bootstrap_servers).
    #[arg(long, value_name = "HOST:PORT[,...]")]
    pub bootstrap_server: Option<String>,

    /// Alertmanager-compatible webhook to send alerts to (default: freshness.webhook.url).
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
}

impl FreshnessArgs {
    pub fn apply(&self, config: &mut MeshConfig) {
        if let Some(l) = self.listen {
            config.freshness.listen = l;
        }
        if let Some(b) = &self.bootstrap_server {
            config.kafka.bootstrap_servers = Some(b.clone());
        }
        if let Some(u) = &self.webhook_url {
            config.freshness.webhook.url = Some(u.clone());
        }
    }
}

/// Starts the monitor on `kafka`, reading the platform's contract and alert topics.
pub async fn start(
    config: &MeshConfig,
    kafka: &KafkaConfig,
    shutdown: &Shutdown,
) -> Result<RunningFreshness, CliError> {
    let mut f = config.freshness.clone();
    // One source of truth for platform topic names: `[topics]`.
    f.contracts_topic.clone_from(&config.topics.contracts);
    f.alerts_topic.clone_from(&config.topics.alerts);
    f.progress_topic.clone_from(&config.topics.progress);
    Ok(mesh_freshness::start(f, kafka, shutdown).await?)
}
