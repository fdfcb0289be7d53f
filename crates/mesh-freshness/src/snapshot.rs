//! What `GET /api/v1/freshness` returns and `mesh status` prints (JSON, camelCase).

use serde::{Deserialize, Serialize};

use mesh_contract::ResolvedContract;

use crate::alerts::Alert;
use crate::model::{AlertKind, Severity, Status, Subject};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ProductView {
    pub product: String,
    pub domain: String,
    pub team: Option<String>,
    pub topic: String,
    /// Worst status of its partitions (and the topic/broker conditions).
    pub status: Status,
    pub reason: Option<String>,
    /// Age of the stalest partition's newest record.
    #[serde(skip)]
    pub age_ms: Option<i64>,
    pub age_seconds: Option<f64>,
    pub sla: Option<SlaView>,
    pub partitions: Vec<PartitionView>,
    pub groups: Vec<GroupView>,
    pub alerts: Vec<AlertView>,
}

impl ProductView {
    pub fn new(c: &ResolvedContract) -> Self {
        Self {
            product: c.product_id.clone(),
            domain: c.domain.clone(),
            team: c.team.clone().or_else(|| c.owners.first().cloned()),
            topic: c.topics.validated.clone(),
            status: Status::NoSla,
            reason: None,
            age_ms: None,
            age_seconds: None,
            sla: c.sla.freshness.as_ref().map(|f| SlaView {
                objective_seconds: f.objective_ms as f64 / 1000.0,
                warn_seconds: f.warn_ms as f64 / 1000.0,
                critical_seconds: f.critical_ms as f64 / 1000.0,
                for_seconds: f.for_ms as f64 / 1000.0,
                allowed_idle_seconds: f.allowed_idle_ms.map(|m| m as f64 / 1000.0),
                active_hours: f.active_hours.is_some(),
            }),
            partitions: Vec::new(),
            groups: Vec::new(),
            alerts: Vec::new(),
        }
    }

    /// Fills derived fields before serving.
    pub fn finish(mut self) -> Self {
        self.age_seconds = self.age_ms.map(|a| a as f64 / 1000.0);
        self
    }

    /// The largest consumer time lag, if any group is measured.
    pub fn max_lag_seconds(&self) -> Option<f64> {
        self.groups.iter().map(|g| g.lag_seconds).reduce(f64::max)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SlaView {
    pub objective_seconds: f64,
    pub warn_seconds: f64,
    pub critical_seconds: f64,
    pub for_seconds: f64,
    pub allowed_idle_seconds: Option<f64>,
    pub active_hours: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PartitionView {
    pub partition: i32,
    pub status: Status,
    #[serde(skip)]
    pub age_ms: Option<i64>,
    pub age_seconds: Option<f64>,
    pub high_watermark: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupView {
    pub group: String,
    pub status: Status,
    pub lag_seconds: f64,
    pub offset_lag: i64,
    pub last_commit_change_ms: i64,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AlertView {
    pub fingerprint: String,
    pub kind: AlertKind,
    pub subject: Subject,
    pub state: String,
    pub severity: Severity,
    pub since_ms: i64,
    pub silenced: bool,
}

impl AlertView {
    pub fn of(a: &Alert, silenced: bool) -> Self {
        Self {
            fingerprint: a.fingerprint.clone(),
            kind: a.key.kind,
            subject: a.key.subject.clone(),
            state: a.state.as_str().to_owned(),
            severity: a.severity,
            since_ms: a.firing_since_ms.unwrap_or(a.active_since_ms),
            silenced,
        }
    }
}

/// The whole `GET /api/v1/freshness` answer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Overview {
    pub evaluated_at_ms: i64,
    pub products: Vec<ProductView>,
}
