//! The vocabulary shared by evaluation, alerting, the API and the sinks.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Alert severity, ordered: critical > warning.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

/// What an alert is about. Each kind has its own alert, so a clock skew never hides (or is
/// hidden by) a staleness alert on the same partition.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// Newest validated record older than the SLA.
    Freshness,
    /// A consumer group's time lag above the SLA.
    ConsumerLag,
    /// A consumer group with lag that has not committed for longer than `group_stopped_after`.
    ConsumerStopped,
    /// Record timestamps in the future: the age cannot be trusted.
    ClockSkew,
    /// The product's validated topic does not exist.
    TopicMissing,
    /// The broker did not answer: nothing is known, which is not "fresh".
    BrokerUnreachable,
    /// Raw records lost before validation (reported by the gateway; see docs/freshness.md).
    DataLoss,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Freshness => "freshness",
            AlertKind::ConsumerLag => "consumer_lag",
            AlertKind::ConsumerStopped => "consumer_stopped",
            AlertKind::ClockSkew => "clock_skew",
            AlertKind::TopicMissing => "topic_missing",
            AlertKind::BrokerUnreachable => "broker_unreachable",
            AlertKind::DataLoss => "data_loss",
        }
    }

    /// The Prometheus-style alert name.
    pub fn alert_name(self) -> &'static str {
        match self {
            AlertKind::Freshness => "MeshProductStale",
            AlertKind::ConsumerLag => "MeshConsumerLagging",
            AlertKind::ConsumerStopped => "MeshConsumerStopped",
            AlertKind::ClockSkew => "MeshClockSkew",
            AlertKind::TopicMissing => "MeshTopicMissing",
            AlertKind::BrokerUnreachable => "MeshBrokerUnreachable",
            AlertKind::DataLoss => "MeshDataLoss",
        }
    }
}

/// Which part of a product an alert is about.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "type", content = "id")]
pub enum Subject {
    /// The product as a whole (topic missing, broker unreachable).
    Product,
    Partition(i32),
    Group(String),
}

impl fmt::Display for Subject {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Subject::Product => f.write_str("product"),
            Subject::Partition(p) => write!(f, "partition {p}"),
            Subject::Group(g) => write!(f, "group {g}"),
        }
    }
}

/// Identity of one alert: (product, partition or group, kind).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct AlertKey {
    pub product_id: String,
    pub subject: Subject,
    pub kind: AlertKind,
}

impl AlertKey {
    pub fn new(product_id: &str, subject: Subject, kind: AlertKind) -> Self {
        Self {
            product_id: product_id.to_owned(),
            subject,
            kind,
        }
    }

    /// A stable fingerprint: 16 hex digits of FNV-1a over the key, the same in every instance
    /// and every restart, so receivers deduplicate by it.
    pub fn fingerprint(&self) -> String {
        let text = format!(
            "{}\u{0}{}\u{0}{}",
            self.product_id,
            self.subject,
            self.kind.as_str()
        );
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in text.bytes() {
            h ^= u64::from(b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        format!("{h:016x}")
    }
}

/// The status of one measurement, as the API and `mesh status` show it. Anything that is not a
/// measured age within the SLA has its own value: unknown is never reported as fresh.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Fresh,
    /// Older than the warn threshold (or lagging, for groups).
    Warning,
    Critical,
    /// Quiet, but the SLA allows this much idleness.
    Idle,
    /// Outside the SLA's active hours: not evaluated.
    OutsideHours,
    /// No record has ever been written.
    NoData,
    /// Newest record timestamp in the future beyond the tolerated skew.
    ClockSkew,
    TopicMissing,
    BrokerUnreachable,
    /// A consumer group with lag that stopped committing.
    Stopped,
    /// No freshness SLA in the contract: measured, not evaluated.
    NoSla,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Fresh => "fresh",
            Status::Warning => "warning",
            Status::Critical => "critical",
            Status::Idle => "idle",
            Status::OutsideHours => "outside_hours",
            Status::NoData => "no_data",
            Status::ClockSkew => "clock_skew",
            Status::TopicMissing => "topic_missing",
            Status::BrokerUnreachable => "broker_unreachable",
            Status::Stopped => "stopped",
            Status::NoSla => "no_sla",
        }
    }

    /// How bad, for rolling partitions up to a product (worst wins).
    pub fn rank(self) -> u8 {
        match self {
            Status::NoSla | Status::OutsideHours => 0,
            Status::Fresh => 1,
            Status::Idle => 2,
            Status::NoData => 3,
            Status::Warning => 4,
            Status::Stopped => 5,
            Status::ClockSkew => 6,
            Status::Critical => 7,
            Status::TopicMissing => 8,
            Status::BrokerUnreachable => 9,
        }
    }
}
