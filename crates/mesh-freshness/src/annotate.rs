//! What an alert says: labels (alertname, severity, kind, product, domain, team, partition or
//! group), summary, description and runbook URL, from the product's contract.

use std::collections::BTreeMap;

use mesh_contract::ResolvedContract;

use crate::config::FreshnessConfig;
use crate::model::{AlertKey, AlertKind, Severity, Subject};

/// Labels and annotations of an alert, from its contract.
pub(crate) fn describe(
    config: &FreshnessConfig,
    contract: Option<&ResolvedContract>,
    key: &AlertKey,
    severity: Severity,
    value_ms: Option<i64>,
) -> (BTreeMap<String, String>, String, String, String) {
    let mut labels = BTreeMap::new();
    labels.insert("alertname".into(), key.kind.alert_name().into());
    labels.insert("severity".into(), severity.as_str().into());
    labels.insert("kind".into(), key.kind.as_str().into());
    labels.insert("product".into(), key.product_id.clone());
    match &key.subject {
        Subject::Partition(p) => {
            labels.insert("partition".into(), p.to_string());
        }
        Subject::Group(g) => {
            labels.insert("group".into(), g.clone());
        }
        Subject::Product => {}
    }
    let mut runbook = config
        .runbook_template
        .replace("{product}", &key.product_id)
        .replace("{kind}", key.kind.as_str());
    let mut topic = String::new();
    if let Some(c) = contract {
        labels.insert("domain".into(), c.domain.clone());
        let team = c.team.clone().or_else(|| c.owners.first().cloned());
        if let Some(team) = team {
            labels.insert("team".into(), team);
        }
        if let Some(r) = &c.runbook {
            runbook = r.clone();
        }
        topic = c.topics.validated.clone();
    }
    let secs = |ms: i64| format!("{:.1}s", ms as f64 / 1000.0);
    let sla = contract
        .and_then(|c| c.sla.freshness.as_ref())
        .map(|f| {
            // The thresholds the check applies (allowed idleness folded in), not the raw ones.
            let (warn_ms, critical_ms) = crate::evaluate::thresholds(f);
            let limit = match severity {
                Severity::Warning => warn_ms,
                Severity::Critical => critical_ms,
            };
            format!("{} threshold {}", severity.as_str(), secs(limit as i64))
        })
        .unwrap_or_default();
    let value = value_ms.map(secs).unwrap_or_default();
    let (summary, description) = match key.kind {
        AlertKind::Freshness => (
            format!("{} is stale on {}", key.product_id, key.subject),
            format!(
                "Newest record on {topic} {} is {value} old ({sla}).",
                key.subject
            ),
        ),
        AlertKind::ConsumerLag => (
            format!("{} of {} is lagging", key.subject, key.product_id),
            format!("Record at the committed offset on {topic} is {value} old ({sla})."),
        ),
        AlertKind::ConsumerStopped => (
            format!("{} stopped committing on {}", key.subject, key.product_id),
            format!("Committed offsets on {topic} have not moved while records wait."),
        ),
        AlertKind::ClockSkew => (
            format!("clock skew on {} {}", key.product_id, key.subject),
            format!(
                "Record timestamps on {topic} are in the future: producer clocks are wrong, ages cannot be trusted."
            ),
        ),
        AlertKind::TopicMissing => (
            format!("validated topic of {} is missing", key.product_id),
            format!("Topic {topic} does not exist on the broker."),
        ),
        AlertKind::BrokerUnreachable => (
            format!(
                "freshness of {} unknown: broker unreachable",
                key.product_id
            ),
            "The broker did not answer; freshness cannot be measured.".to_owned(),
        ),
        AlertKind::DataLoss => (
            format!("data loss on {}", key.product_id),
            "Raw records were lost before validation.".to_owned(),
        ),
    };
    (labels, summary, description, runbook)
}

/// " Lost: raw offsets 10–19 of t[0] (10 records); …" for a data-loss alert's description.
pub(crate) fn losses(losses: &[crate::observe::DataLoss]) -> String {
    let parts: Vec<String> = losses
        .iter()
        .map(|l| {
            format!(
                "offsets {}-{} of {}[{}] ({} records)",
                l.from_offset,
                l.to_offset,
                l.topic,
                l.partition,
                l.records()
            )
        })
        .collect();
    format!(" Lost: {}.", parts.join("; "))
}
