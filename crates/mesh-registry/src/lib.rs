//! mesh's schema registry: the Confluent Schema Registry REST API (registry-api.md) over an
//! embedded store, so existing Confluent clients work unchanged.
//!
//! - [`config`]: `RegistryConfig` / `AuthConfig`.
//! - [`model`]: entities and the `_schemas` record format (the unit of storage).
//! - [`store`]: the `SchemaStore` trait, in-memory and on-disk (CRC-framed, fsynced log) stores.
//! - [`kafka_store`]: the `_schemas` topic as a shared log (Confluent's format) for N instances.
//! - [`state`]: the in-memory state built by applying records in order.
//! - [`export`]: export/import of a store as `_schemas` records (JSON Lines), offline.
//! - [`formats`]: parsing (Avro, JSON Schema via `mesh-schema`), identity text, compatibility.
//! - [`service`]: the domain operations (register, lookup, delete, config, mode, ...).
//! - [`api`]: the axum routes; [`error`]: the one Confluent error mapping; [`auth`]; [`metrics`].

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod export;
pub mod formats;
pub mod kafka_store;
pub mod metrics;
pub mod model;
pub mod service;
pub mod state;
pub mod store;

use std::net::SocketAddr;
use std::sync::Arc;

pub use config::{AuthConfig, RegistryConfig, StoreKind};
pub use error::RegistryError;

/// A registry serving in the background until its shutdown token is cancelled.
#[derive(Debug)]
pub struct RunningRegistry {
    /// The bound address (the real port when `listen` asked for port 0).
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<Result<(), mesh_runtime::RuntimeError>>,
}

impl RunningRegistry {
    /// Waits for the server to stop (after shutdown was cancelled).
    pub async fn join(self) -> Result<(), RegistryError> {
        match self.task.await {
            Ok(r) => r.map_err(RegistryError::from),
            Err(e) => Err(RegistryError::http(
                axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                format!("registry server task failed: {e}"),
            )),
        }
    }
}

/// Binds `config.listen` (port 0 = free port), loads the store, serves the Confluent API plus
/// /metrics and /health/* until `shutdown` is cancelled. `registry.store = kafka` needs
/// [`start_with_kafka`].
pub async fn start(
    config: RegistryConfig,
    shutdown: &mesh_runtime::Shutdown,
) -> Result<RunningRegistry, RegistryError> {
    start_with_kafka(config, None, shutdown).await
}

/// [`start`], with the Kafka cluster (client config and how to provision topics on it) the
/// Kafka store uses when `config.store` is [`StoreKind::Kafka`]. The server answers only
/// once the `_schemas` replay reached the end offset observed at start (`/health/ready` then).
pub async fn start_with_kafka(
    config: RegistryConfig,
    kafka: Option<(&mesh_kafka::KafkaConfig, &mesh_kafka::admin::Provisioner)>,
    shutdown: &mesh_runtime::Shutdown,
) -> Result<RunningRegistry, RegistryError> {
    let prometheus = mesh_runtime::telemetry::prometheus()?;
    let readiness = mesh_runtime::Readiness::new("registry");
    let ready = readiness.component("store");
    let server = mesh_runtime::http::HttpServer::bind("registry", config.listen).await?;
    let addr = server.local_addr();

    let registry = if config.store == StoreKind::Kafka {
        let Some((kafka, provisioner)) = kafka else {
            return Err(RegistryError::Store(store::StoreError::Kafka(
                "registry.store = kafka needs a Kafka cluster (kafka.bootstrap_servers)".into(),
            )));
        };
        let timeout = std::time::Duration::from_millis(config.write_timeout_ms.max(1));
        let log = kafka_store::KafkaLog::open(kafka, provisioner, &config.topic, timeout).await?;
        let Some(registry) =
            service::Registry::open_kafka(log, config.emit_avro_schema_type, shutdown.token())
                .await?
        else {
            // Shut down during the replay: serve nothing.
            let task = tokio::spawn(async { Ok(()) });
            return Ok(RunningRegistry { addr, task });
        };
        registry
    } else {
        open_embedded(&config).await?
    };
    let routes = app(&config, registry);
    ready.set(true);
    let task = shutdown.spawn(
        "registry-http",
        server.serve(routes, readiness, prometheus, shutdown.clone()),
    );
    Ok(RunningRegistry { addr, task })
}

/// The embedded store (on disk in `config.data_dir`, or in memory), replayed.
async fn open_embedded(config: &RegistryConfig) -> Result<service::Registry, RegistryError> {
    let store: Arc<dyn store::SchemaStore> = match &config.data_dir {
        Some(dir) => {
            let dir = dir.clone();
            // Opening and replaying read the whole log: blocking work.
            Arc::new(
                tokio::task::spawn_blocking(move || store::FileStore::open(&dir))
                    .await
                    .map_err(|e| {
                        RegistryError::http(
                            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                            e.to_string(),
                        )
                    })??,
            )
        }
        None => Arc::new(store::MemoryStore::default()),
    };
    let emit = config.emit_avro_schema_type;
    tokio::task::spawn_blocking(move || service::Registry::open(store, emit))
        .await
        .map_err(|e| {
            RegistryError::http(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string())
        })?
}

/// The Confluent API routes over `registry` with `config`'s request size limit, cluster id and
/// authentication: exactly what [`start`] serves (minus /metrics and /health/*), without binding
/// a port. Tests and the `registry_body` fuzz target drive it in-process (`tower::ServiceExt::
/// oneshot`) over a [`store::MemoryStore`]; `config.listen` and `config.data_dir` are ignored.
pub fn app(config: &RegistryConfig, registry: service::Registry) -> axum::Router {
    let state = Arc::new(api::AppState {
        registry,
        max_request_bytes: config.max_request_bytes,
        cluster_id: config.cluster_id.clone(),
    });
    let mut routes = api::router(state);
    if config.auth.is_enabled() {
        routes = routes.layer(axum::middleware::from_fn_with_state(
            Arc::new(config.auth.clone()),
            auth::enforce,
        ));
    }
    routes
}
