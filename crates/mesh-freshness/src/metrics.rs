//! The freshness monitor's metrics. Product and group labels come from contracts and
//! configuration (bounded by the number of products, not by traffic); partitions are not labels.

use std::collections::HashMap;

use crate::alerts::{Alert, AlertState};
use crate::model::{AlertKind, Severity};
use crate::snapshot::ProductView;

/// Age of the stalest partition's newest record, per product (absent while unknown).
pub const PRODUCT_FRESHNESS: &str = "mesh_product_freshness_seconds";
/// The product's freshness SLA (warn threshold), for dashboards: freshness / SLA.
pub const PRODUCT_SLA: &str = "mesh_product_freshness_sla_seconds";
/// Consumer time lag per product and group.
pub const CONSUMER_LAG: &str = "mesh_consumer_lag_seconds";
/// Consumer offset lag per product and group.
pub const CONSUMER_OFFSET_LAG: &str = "mesh_consumer_lag_records";
/// 1 per firing alert, by product, kind and severity (summed over partitions and groups).
pub const ALERT_FIRING: &str = "mesh_alert_firing";
/// Product status as a number (`Status::rank`), 0 = not evaluated.
pub const PRODUCT_STATUS: &str = "mesh_product_freshness_status";
/// Evaluation rounds and their duration.
pub const ROUNDS: &str = "mesh_freshness_rounds_total";
pub const ROUND_SECONDS: &str = "mesh_freshness_round_seconds";
/// Alert transitions by state.
pub const TRANSITIONS: &str = "mesh_alert_transitions_total";
/// Webhook deliveries by outcome (delivered, retried, refused, failed).
pub const WEBHOOK: &str = "mesh_alert_webhook_deliveries_total";

const KINDS: [AlertKind; 7] = [
    AlertKind::Freshness,
    AlertKind::ConsumerLag,
    AlertKind::ConsumerStopped,
    AlertKind::ClockSkew,
    AlertKind::TopicMissing,
    AlertKind::BrokerUnreachable,
    AlertKind::DataLoss,
];

/// Alert events written to `_mesh.alerts`, by outcome (delivered, failed).
pub const ALERT_EVENTS: &str = "mesh_alert_events_total";

pub fn alert_event(outcome: &'static str) {
    metrics::counter!(ALERT_EVENTS, "outcome" => outcome).increment(1);
}

pub fn webhook_delivery(outcome: &'static str) {
    metrics::counter!(WEBHOOK, "outcome" => outcome).increment(1);
}

pub fn transition(state: &'static str) {
    metrics::counter!(TRANSITIONS, "state" => state).increment(1);
}

pub fn round(seconds: f64) {
    metrics::counter!(ROUNDS).increment(1);
    metrics::histogram!(ROUND_SECONDS).record(seconds);
}

/// Sets every gauge from the latest views and alerts.
pub fn publish<'a>(views: impl Iterator<Item = &'a ProductView>, alerts: &[&Alert]) {
    let mut firing: HashMap<(&str, AlertKind, Severity), u32> = HashMap::new();
    for a in alerts.iter().filter(|a| a.state == AlertState::Firing) {
        *firing
            .entry((a.key.product_id.as_str(), a.key.kind, a.severity))
            .or_default() += 1;
    }
    for v in views {
        let product = v.product.clone();
        if let Some(age) = v.age_ms {
            metrics::gauge!(PRODUCT_FRESHNESS, "product" => product.clone(), "domain" => v.domain.clone())
                .set(age as f64 / 1000.0);
        }
        if let Some(sla) = &v.sla {
            metrics::gauge!(PRODUCT_SLA, "product" => product.clone()).set(sla.warn_seconds);
        }
        metrics::gauge!(PRODUCT_STATUS, "product" => product.clone())
            .set(f64::from(v.status.rank()));
        for g in &v.groups {
            metrics::gauge!(CONSUMER_LAG, "product" => product.clone(), "group" => g.group.clone())
                .set(g.lag_seconds);
            metrics::gauge!(CONSUMER_OFFSET_LAG, "product" => product.clone(), "group" => g.group.clone())
                .set(g.offset_lag as f64);
        }
        for kind in KINDS {
            for sev in [Severity::Warning, Severity::Critical] {
                let n = firing
                    .get(&(v.product.as_str(), kind, sev))
                    .copied()
                    .unwrap_or(0);
                metrics::gauge!(ALERT_FIRING, "product" => product.clone(), "kind" => kind.as_str(), "severity" => sev.as_str())
                    .set(f64::from(n));
            }
        }
    }
}
