//! The crate's one error type.

use rdkafka::error::KafkaError as RdError;

/// Everything that can fail in mesh's Kafka plumbing.
#[derive(Debug, thiserror::Error)]
pub enum KafkaError {
    #[error("invalid Kafka configuration: {0}")]
    Config(String),
    #[error("Kafka client error during {op}: {source}")]
    Client {
        op: &'static str,
        #[source]
        source: RdError,
    },
    #[error("could not create topic {topic}: {reason}")]
    CreateTopic { topic: String, reason: String },
    #[error("topic {topic} exists but does not match its spec: {reason}")]
    TopicMismatch { topic: String, reason: String },
    #[error("embedded broker: {0}")]
    Embedded(String),
    #[error("pipeline {pipeline} failed: {reason}")]
    Pipeline { pipeline: String, reason: String },
    #[error("pipeline {pipeline} crashed (a processor panicked)")]
    Panicked { pipeline: String },
}

impl KafkaError {
    pub(crate) fn client(op: &'static str) -> impl FnOnce(RdError) -> Self {
        move |source| KafkaError::Client { op, source }
    }
}
