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
