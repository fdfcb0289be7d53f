//! `mesh gateway`: the contract gateway alone (stream mode; HTTP on 8095 serves health and
//! metrics), and the gateway settings `mesh up` uses.

use std::net::SocketAddr;

use clap::Args;
use mesh_gateway::{Delivery, GatewayConfig};

use crate::config::MeshConfig;

#[derive(Clone, Debug, Default, Args)]
pub struct GatewayArgs {
    /// HTTP address (produce API, OpenAPI, health, metrics; default 0.0.0.0:8095; port 0 = any free).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<SocketAddr>,

    /// Kafka bootstrap servers (default: kafka.bootstrap_servers).
    #[arg(long, value_name = "HOST:PORT[,...]")]
    pub bootstrap_server: Option<String>,

    /// Schema registry URL (default http://127.0.0.1:8081).
    #[arg(long, value_name = "URL")]
    pub registry_url: Option<String>,

    /// This instance's stable id (e.g. the pod name); part of its transactional ids.
    #[arg(long, value_name = "ID")]
    pub instance_id: Option<String>,

    /// No transactions (for brokers without them, e.g. tansu): consumers deduplicate by the
    /// `__mesh.source.*` headers.
    #[arg(long)]
    pub at_least_once: bool,
}

impl GatewayArgs {
    pub fn apply(&self, config: &mut MeshConfig) {
        if let Some(l) = self.listen {
            config.gateway.listen = l;
        }
        if let Some(b) = &self.bootstrap_server {
            config.kafka.bootstrap_servers = Some(b.clone());
        }
        if let Some(u) = &self.registry_url {
            config.gateway.registry_url.clone_from(u);
        }
        if let Some(i) = &self.instance_id {
            config.gateway.instance_id.clone_from(i);
        }
        if self.at_least_once {
            config.gateway.delivery = Delivery::AtLeastOnce;
        }
    }
}

/// The gateway's config with the platform topic names of `[topics]`.
pub fn gateway_config(config: &MeshConfig) -> GatewayConfig {
    let mut g = config.gateway.clone();
    g.contracts_topic.clone_from(&config.topics.contracts);
    g.quality_topic.clone_from(&config.topics.quality);
    g.lineage_topic.clone_from(&config.topics.lineage);
    g.progress_topic.clone_from(&config.topics.progress);
    g
}
