//! The few librdkafka calls that `rdkafka` does not expose, wrapped safely.
//!
//! This is the only crate of mesh where `unsafe` is allowed (the workspace lints forbid it
//! everywhere else). It stays small: each unsafe block is one FFI call with its safety argument
//! written next to it.
//!
//! What it holds:
//! - [`MockCluster`]: librdkafka's in-process mock Kafka cluster, with the settings `rdkafka`'s own
//!   `MockCluster` lacks (advertised host/port, so `mesh up` can serve it on 127.0.0.1:9092; the
//!   group initial rebalance delay) and that is `Send + Sync`, so any thread or task can use it.

mod mock;

pub use mock::{MockCluster, MockError};
pub use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr};
