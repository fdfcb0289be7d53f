//! The contract gateway: turns each data product's raw topic into a contract-validated stream.
//!
//! For every enforced contract in `_mesh.contracts`, a pipeline (exactly once by default, see
//! `mesh_kafka::pipeline`) reads `<product>.raw`, checks each record with [`validate::validate`]
//! (wire format, schema id live in the product's subject, key, strict decode, contract rules,
//! tombstones) and writes it to `<product>.v<major>` or, with reason headers, to
//! `<product>.dlq`. Per-partition progress heartbeats travel in the same transaction; quality
//! windows and OpenLineage RunEvents are written every `quality_window`.
//!
//! HTTP produce (`POST /api/v1/products/{product}/events`, [`produce`]) encodes JSON events with
//! the product's latest schema ([`encode`]) and runs the same [`validate::validate`]; valid
//! requests are written in one transaction ([`writer`]).
//!
//! Modules: [`validate`] (the per-record check, shared with HTTP produce), [`registry`]
//! (schemas by id, cached), [`contracts`] (the enforced set), [`stream`] (the processor),
//! [`output`] (headers), [`quality`] and [`emit`] (windows, lineage), `service` (tasks).

pub mod api;
pub mod auth;
pub mod config;
pub mod contracts;
pub mod dlq;
pub mod emit;
pub mod encode;
mod error;
pub mod idempotency;
pub mod metrics;
pub mod output;
pub mod produce;
pub mod quality;
pub mod registry;
mod request;
mod service;
pub mod stream;
pub mod validate;
pub mod writer;

use std::net::SocketAddr;
use std::sync::Arc;

use mesh_kafka::KafkaConfig;
use mesh_kafka::pipeline::Observer;
use mesh_runtime::Shutdown;

pub use config::{Delivery, GatewayConfig};
pub use error::GatewayError;

/// A started gateway.
#[derive(Debug)]
pub struct RunningGateway {
    /// The HTTP listener's bound address.
    pub addr: SocketAddr,
    /// The enforced contracts (live view).
    pub contracts: contracts::ContractSet,
}

/// Builder for a gateway (an [`Observer`] hook is for audits and tests).
#[derive(Default)]
pub struct Gateway {
    observer: Option<Arc<dyn Observer>>,
    schemas: Option<Arc<dyn registry::SchemaLookup>>,
}

impl std::fmt::Debug for Gateway {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Gateway").finish_non_exhaustive()
    }
}

impl Gateway {
    pub fn observer(mut self, o: Arc<dyn Observer>) -> Self {
        self.observer = Some(o);
        self
    }

    /// Replaces the registry client (e.g. a wrapper that injects faults in tests).
    pub fn schema_lookup(mut self, s: Arc<dyn registry::SchemaLookup>) -> Self {
        self.schemas = Some(s);
        self
    }

    /// Starts the HTTP listener, the contract watcher, the pipelines and the window emitter,
    /// all under `shutdown`.
    pub async fn start(
        self,
        config: GatewayConfig,
        kafka: KafkaConfig,
        shutdown: &Shutdown,
    ) -> Result<RunningGateway, GatewayError> {
        metrics::describe();
        metrics::describe_http();
        if config.quality_window.is_zero() || config.max_batch_records == 0 {
            return Err(GatewayError::Config(
                "gateway.quality_window and gateway.max_batch_records must be > 0".into(),
            ));
        }
        let prometheus = mesh_runtime::telemetry::prometheus()?;
        let readiness = mesh_runtime::Readiness::new("gateway");
        let caught_up = readiness.component("contracts");
        let server = mesh_runtime::http::HttpServer::bind("gateway", config.listen).await?;
        let addr = server.local_addr();

        let set = contracts::ContractSet::default();
        let schemas: Arc<dyn registry::SchemaLookup> = match self.schemas {
            Some(s) => s,
            None => {
                let client = Arc::new(registry::RegistryClient::new(
                    &config.registry_url,
                    config.registry_timeout,
                    tokio::runtime::Handle::current(),
                )?);
                client.spawn_refresh(config.schema_cache_ttl, shutdown);
                client
            }
        };
        let produce = Arc::new(produce::ProduceState {
            latest: registry::LatestIds::new(
                &config.registry_url,
                config.registry_timeout,
                config.latest_schema_ttl,
            )?,
            writer: writer::Writer::start(&kafka, &config)?,
            tokens: auth::Tokens::load(&config)?,
            idempotency: idempotency::Idempotency::new(
                config.idempotency_ttl,
                config.idempotency_max_keys,
            ),
            config: config.clone(),
            set: set.clone(),
            schemas: Arc::clone(&schemas),
        });
        let quality = quality::QualityWindows::default();
        let (tx, rx) = tokio::sync::watch::channel(0u64);
        service::watch_contracts(
            &kafka,
            &config.contracts_topic,
            set.clone(),
            tx,
            caught_up,
            shutdown,
        )?;
        shutdown.spawn(
            "gateway-supervisor",
            service::supervise(
                service::Shared {
                    config: config.clone(),
                    kafka: kafka.clone(),
                    set: set.clone(),
                    schemas,
                    quality: quality.clone(),
                    observer: self.observer,
                },
                rx,
                shutdown.clone(),
            ),
        );
        shutdown.spawn(
            "gateway-windows",
            service::emit_windows(
                config.clone(),
                kafka,
                set.clone(),
                quality,
                shutdown.clone(),
            ),
        );
        shutdown.spawn(
            "gateway-http",
            server.serve(
                api::router(produce),
                readiness,
                prometheus,
                shutdown.clone(),
            ),
        );
        Ok(RunningGateway {
            addr,
            contracts: set,
        })
    }
}

/// Runs a gateway until `shutdown` is cancelled.
pub async fn run(
    config: GatewayConfig,
    kafka: KafkaConfig,
    shutdown: Shutdown,
) -> Result<(), GatewayError> {
    Gateway::default().start(config, kafka, &shutdown).await?;
    shutdown.cancelled().await;
    Ok(())
}
