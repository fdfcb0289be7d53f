//! Logs (tracing) and metrics (the `metrics` facade rendered as Prometheus text).
//!
//! Both are process-wide by nature (one subscriber, one recorder); [`init`] installs them once and
//! is a no-op afterwards, so several services (or tests) in one process share them.

use std::io::IsTerminal;
use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde::{Deserialize, Serialize};
use tracing_subscriber::EnvFilter;

use crate::RuntimeError;

/// How log lines look.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    /// Human when stderr is a terminal, JSON otherwise.
    #[default]
    Auto,
    /// Coloured, one event per line, for people at terminals.
    Human,
    /// One JSON object per line, for log collectors.
    Json,
}

/// The `[telemetry]` config section.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TelemetryConfig {
    pub log_format: LogFormat,
    /// An `EnvFilter` directive (`info`, `mesh_kafka=debug,info`); `RUST_LOG` wins if set.
    pub log_level: String,
}

impl Default for TelemetryConfig {
    fn default() -> Self {
        Self {
            log_format: LogFormat::Auto,
            log_level: "info".into(),
        }
    }
}

/// Latency buckets (seconds) for every histogram: 100 µs to 30 s.
const BUCKETS: &[f64] = &[
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
    5.0, 10.0, 30.0,
];

static PROMETHEUS: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs logging per `config` (first call wins) and the metrics recorder; returns the handle
/// `/metrics` renders from.
pub fn init(config: &TelemetryConfig) -> Result<PrometheusHandle, RuntimeError> {
    init_logging(config);
    prometheus()
}

fn init_logging(config: &TelemetryConfig) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(&config.log_level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    let json = match config.log_format {
        LogFormat::Json => true,
        LogFormat::Human => false,
        LogFormat::Auto => !std::io::stderr().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // try_init: a second init (another service in the same process, a test) keeps the first.
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder
            .with_target(true)
            .with_ansi(std::io::stderr().is_terminal())
            .try_init()
    };
}

/// The process-wide Prometheus recorder, installed on first use.
pub fn prometheus() -> Result<PrometheusHandle, RuntimeError> {
    if let Some(h) = PROMETHEUS.get() {
        return Ok(h.clone());
    }
    let recorder = PrometheusBuilder::new()
        .set_buckets(BUCKETS)
        .map_err(|e| RuntimeError::Telemetry(e.to_string()))?
        .build_recorder();
    let handle = recorder.handle();
    // Racing initialisers: only the one that also wins the OnceLock installs its recorder.
    if PROMETHEUS.set(handle.clone()).is_ok() {
        metrics::set_global_recorder(recorder)
            .map_err(|e| RuntimeError::Telemetry(e.to_string()))?;
        crate::metrics::describe();
        Ok(handle)
    } else {
        Ok(PROMETHEUS.get().cloned().unwrap_or(handle))
    }
}
