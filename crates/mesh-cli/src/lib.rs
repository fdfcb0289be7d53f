//! The `mesh` command: composes the service crates into one binary.
//!
//! - [`config`]: the whole configuration file (`mesh.toml`), one section per part.
//! - [`up`]: `mesh up` — the embedded broker (when no Kafka is configured), the platform topics,
//!   and every service, in one process.
//! - [`freshness`], [`status`]: `mesh freshness` and `mesh status`.
//! - [`cli`]: the command line.
//!
//! `main.rs` stays thin: parse, load config, init telemetry, dispatch, wait for a signal, drain.

pub mod cli;
pub mod config;
pub mod freshness;
pub mod status;
pub mod up;

mod error;

pub use error::CliError;
