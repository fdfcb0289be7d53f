//! The crate's one error type.

/// Why the gateway cannot start or keep running.
#[derive(Debug, thiserror::Error)]
pub enum GatewayError {
    #[error("gateway configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Kafka(#[from] mesh_kafka::KafkaError),
    #[error(transparent)]
    Runtime(#[from] mesh_runtime::RuntimeError),
    #[error("reading {topic}: {reason}")]
    Contracts { topic: String, reason: String },
    #[error("{topic}: {reason}")]
    Topic { topic: String, reason: String },
}
