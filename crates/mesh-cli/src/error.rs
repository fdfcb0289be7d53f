//! The CLI's one error type; `main` prints it and exits non-zero.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Runtime(#[from] mesh_runtime::RuntimeError),
    #[error(transparent)]
    Kafka(#[from] mesh_kafka::KafkaError),
    #[error("gateway: {0}")]
    Gateway(#[from] mesh_gateway::GatewayError),
    #[error("schema registry: {0}")]
    Registry(#[from] mesh_registry::RegistryError),
    #[error("lineage collector: {0}")]
    Lineage(#[from] mesh_lineage::LineageError),
    /// A command cannot run as given (the message says why and what to do).
    #[error("{0}")]
    Usage(String),
    #[error("freshness monitor: {0}")]
    Freshness(#[from] mesh_freshness::FreshnessError),
    #[error("cannot read {url}: {message} (is `mesh up` or `mesh freshness` running?)")]
    Status { url: String, message: String },
    #[error("data directory {path}: {source}")]
    DataDir {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "data directory {path} is in use by another `mesh up` (lock held on {path}/.lock); \
         stop it or pass another --data-dir"
    )]
    DataDirLocked { path: PathBuf },
    /// `mesh contract ...` failures (diagnostics are printed, not errors).
    #[error("{0}")]
    Contract(String),
}
