//! The embedded broker `mesh up` runs when no Kafka is configured.
//!
//! It is librdkafka's in-process mock cluster (one broker). The mock listens on an ephemeral
//! port, so we bind the address users expect (127.0.0.1:9092 by default) ourselves, forward each
//! connection to the mock, and make the mock *advertise* our address in Metadata responses, so
//! clients that reconnect to "the broker" come back through the forwarder too.
//!
//! Limits users must know (stated in `mesh up`'s banner): the mock keeps about 5 MiB or 100k
//! message sets per partition and drops older ones; it has no Admin API (topics are created by
//! [`Provisioner::Mock`]); aborted transactional records stay visible to read_committed readers, and transactional
//! offset commits are not stored (see [`BrokerQuirks`]);
//! everything is gone when the process exits.

use std::net::SocketAddr;
use std::sync::Arc;

use mesh_rdkafka_ext::MockCluster;
use mesh_runtime::Shutdown;
use tokio::net::{TcpListener, TcpStream};

use crate::admin::Provisioner;
use crate::config::BrokerQuirks;
use crate::{KafkaConfig, KafkaError};

/// What users are told about the embedded broker's retention.
pub const RETENTION_LIMIT: &str = "about 5 MiB or 100k message sets per partition (older records are dropped); \
     state lives in memory and is lost on exit";

/// A running embedded broker.
#[derive(Debug)]
pub struct EmbeddedBroker {
    cluster: Arc<MockCluster>,
    addr: SocketAddr,
}

impl EmbeddedBroker {
    /// Starts the mock cluster and serves it on `listen` (port 0 picks a free port) until
    /// `shutdown` is cancelled.
    pub async fn start(listen: SocketAddr, shutdown: &Shutdown) -> Result<Self, KafkaError> {
        let listener = TcpListener::bind(listen)
            .await
            .map_err(|e| KafkaError::Embedded(format!("cannot bind {listen}: {e}")))?;
        let addr = listener
            .local_addr()
            .map_err(|e| KafkaError::Embedded(e.to_string()))?;
        let cluster = tokio::task::spawn_blocking(|| MockCluster::new(1))
            .await
            .map_err(|e| KafkaError::Embedded(e.to_string()))?
            .map_err(|e| KafkaError::Embedded(e.to_string()))?;
        let target: SocketAddr = cluster
            .bootstrap_servers()
            .split(',')
            .next()
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| KafkaError::Embedded("mock cluster has no listener".into()))?;
        cluster
            .set_advertised_listener(1, &addr.ip().to_string(), addr.port())
            .map_err(|e| KafkaError::Embedded(e.to_string()))?;
        // No consumer should wait 3 s for a rebalance against a single in-process broker.
        cluster.set_group_initial_rebalance_delay(0);
        let cluster = Arc::new(cluster);
        let token = shutdown.token();
        shutdown.spawn("embedded-broker-forwarder", async move {
            loop {
                tokio::select! {
                    _ = token.cancelled() => break,
                    accepted = listener.accept() => match accepted {
                        Ok((client, _)) => {
                            let token = token.clone();
                            tokio::spawn(async move {
                                tokio::select! {
                                    _ = token.cancelled() => {}
                                    _ = forward(client, target) => {}
                                }
                            });
                        }
                        Err(e) => tracing::warn!(error = %e, "embedded broker accept failed"),
                    },
                }
            }
        });
        tracing::info!(%addr, mock = %target, "embedded broker started");
        Ok(Self { cluster, addr })
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// A `[kafka]` config pointing at this broker.
    pub fn kafka_config(&self) -> KafkaConfig {
        let mut c = KafkaConfig::with_bootstrap(self.addr.to_string());
        c.quirks = BrokerQuirks::mock_cluster();
        c
    }

    /// Topic provisioning for this broker (it has no CreateTopics).
    pub fn provisioner(&self) -> Provisioner {
        Provisioner::Mock(self.cluster.clone())
    }

    /// The mock cluster itself, for fault injection.
    pub fn cluster(&self) -> &Arc<MockCluster> {
        &self.cluster
    }
}

async fn forward(mut client: TcpStream, target: SocketAddr) {
    let _ = client.set_nodelay(true);
    match TcpStream::connect(target).await {
        Ok(mut broker) => {
            let _ = broker.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut client, &mut broker).await;
        }
        Err(e) => tracing::warn!(error = %e, "embedded broker unreachable"),
    }
}
