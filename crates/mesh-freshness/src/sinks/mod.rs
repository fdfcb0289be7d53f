//! Where alert events go: `_mesh.alerts` ([`alerts_topic`]) and an Alertmanager-compatible
//! webhook ([`webhook`]). Prometheus gauges are set by [`crate::metrics`].

pub mod alerts_topic;
pub mod webhook;
