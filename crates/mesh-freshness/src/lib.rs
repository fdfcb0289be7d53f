//! The freshness monitor: for every data product whose contract has a freshness SLA, how old
//! the newest validated record is (per partition) and how far behind each consumer group is in
//! time; alerts when an SLA is breached and when it recovers.
//!
//! - [`evaluate`] and [`alerts`] are the pure core: readings against warn/critical thresholds,
//!   active hours and allowed idleness, and the pending → firing → resolved state machine with
//!   `for` and hysteresis;
//! - [`monitor::Monitor`] turns contracts and observations into alert events and a snapshot;
//! - [`observe`] defines observation sources; [`kafka`] is the one that reads the broker
//!   (watermarks, the last record, committed offsets) without reading whole topics, and
//!   [`progress`] folds in the gateway's `_mesh.progress` heartbeats and data-loss reports;
//! - [`sinks`] deliver alert events: `_mesh.alerts` (Avro) and an Alertmanager webhook;
//! - [`service`] runs it all on a timer behind the HTTP API on port 8096.
//!
//! See docs/freshness.md.

pub mod alerts;
mod annotate;
pub mod api;
pub mod clock;
pub mod config;
pub mod contracts;
pub mod evaluate;
pub mod kafka;
pub mod metrics;
pub mod model;
pub mod monitor;
pub mod observe;
pub mod progress;
pub mod service;
pub mod silences;
pub mod sinks;
pub mod snapshot;
pub mod tailer;

mod error;

pub use config::FreshnessConfig;
pub use error::FreshnessError;
pub use service::{RunningFreshness, start};
