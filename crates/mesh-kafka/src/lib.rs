//! Kafka plumbing shared by every mesh service.
//!
//! - [`config`]: the `[kafka]` config section → librdkafka client settings (bootstrap, security
//!   protocol, SASL, TLS, and raw librdkafka properties passed through).
//! - [`admin`]: idempotent topic provisioning with validation of partitions and configs, on a real
//!   broker (Admin API) or the embedded one (which has none).
//! - [`pipeline`]: the consume → process → produce loop, exactly-once with Kafka transactions or
//!   at-least-once for brokers without them. Services plug a [`pipeline::Processor`] in.
//! - [`embedded`]: the in-process broker `mesh up` runs when no Kafka is configured
//!   (librdkafka's mock cluster, served on a fixed address).
//! - `testing` (feature `testing`): [`testing::TestCluster`], the harness every integration test
//!   uses: the mock cluster in-process, or an external broker when `TEST_KAFKA_BOOTSTRAP` is set.
//!
//! Depends on `mesh-runtime` (shutdown, secrets) and `mesh-rdkafka-ext` (the librdkafka calls
//! `rdkafka` does not expose).

pub mod admin;
pub mod config;
pub mod embedded;
pub mod metrics;
pub mod pipeline;
#[cfg(feature = "testing")]
pub mod testing;

mod error;

pub use config::KafkaConfig;
pub use error::KafkaError;
pub use mesh_rdkafka_ext::MockCluster;
