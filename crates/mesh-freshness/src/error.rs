use thiserror::Error;

/// Everything that can go wrong in the freshness monitor.
#[derive(Debug, Error)]
pub enum FreshnessError {
    #[error("invalid freshness config: {0}")]
    Config(String),
    #[error(transparent)]
    Kafka(#[from] mesh_kafka::KafkaError),
    #[error("kafka client: {0}")]
    Client(#[from] rdkafka::error::KafkaError),
    #[error(transparent)]
    Runtime(#[from] mesh_runtime::RuntimeError),
    #[error("alert schema: {0}")]
    Avro(String),
    #[error("webhook: {0}")]
    Webhook(String),
    #[error("task failed: {0}")]
    Task(String),
}
