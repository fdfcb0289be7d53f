//! The `mesh` command: composes the service crates into one binary.
//!
//! - [`config`]: the whole configuration file (`mesh.toml`), one section per part.
//! - [`up`]: `mesh up` — the embedded broker (when no Kafka is configured), the platform topics,
//!   and every service, in one process.
//! - [`freshness`], [`status`]: `mesh freshness` and `mesh status`.
//! - [`cli`]: the command line.
//! - [`lineage`]: `mesh lineage [serve]` and `mesh lineage show`.
//! - [`gateway`]: `mesh gateway` flags and the gateway settings `mesh up` uses.
//! - [`dlq`]: `mesh dlq list|show|replay` (DLQ redrive).
//! - [`contract`]: `mesh contract lint|init|docs|diff|apply`, and the contract provisioning
//!   `mesh up` does on its embedded broker.
//!
//! `main.rs` stays thin: parse, load config, init telemetry, dispatch, wait for a signal, drain.

pub mod cli;
pub mod config;
pub mod contract;
pub mod dlq;
pub mod freshness;
pub mod gateway;
pub mod lineage;
pub mod registry_store;
pub mod status;
pub mod up;

mod error;

pub use error::CliError;
