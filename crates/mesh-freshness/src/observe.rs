//! Observation sources: where measurements come from. The monitor asks a source for what it
//! knows about a set of products: Kafka itself ([`crate::kafka::KafkaSource`]: watermarks, last
//! records, committed offsets), combined with the gateway's `_mesh.progress` heartbeats and
//! data-loss reports ([`crate::progress::GatewaySource`]; see docs/freshness.md).

use std::collections::HashSet;

use serde::Serialize;

/// What to observe for one product.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub product_id: String,
    /// The validated topic.
    pub topic: String,
    /// Consumer groups to measure (configured ones; sources may add discovered ones).
    pub groups: Vec<String>,
    /// Partitions whose watermarks must be read this round; `None` = all. The others may be
    /// served from what the source last saw (see `Monitor::targets`).
    pub due: Option<HashSet<i32>>,
}

/// Everything a source found about one product in one round.
#[derive(Clone, Debug, PartialEq)]
pub struct ProductObservation {
    pub product_id: String,
    pub topic: TopicObservation,
    pub groups: Vec<GroupObservation>,
    /// Raw records lost before validation (gateway reports; empty from Kafka alone).
    pub data_loss: Vec<DataLoss>,
}

#[derive(Clone, Debug, PartialEq)]
pub enum TopicObservation {
    Partitions(Vec<PartitionObservation>),
    /// The broker says the topic does not exist.
    Missing,
    /// The broker could not be asked (timeout, transport error): nothing is known.
    Unreachable(String),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct PartitionObservation {
    pub partition: i32,
    pub high_watermark: i64,
    /// Timestamp (ms) of the newest record; `None` if the partition holds none.
    pub newest_ts: Option<i64>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupObservation {
    pub group: String,
    pub partitions: Vec<GroupPartition>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
pub struct GroupPartition {
    pub partition: i32,
    /// The committed offset (next record the group will read); `None` if never committed.
    pub committed: Option<i64>,
    pub high_watermark: i64,
    /// Timestamp of the record at the committed offset, when the group is behind.
    pub committed_ts: Option<i64>,
}

impl GroupPartition {
    pub fn offset_lag(&self) -> i64 {
        self.committed
            .map_or(0, |c| (self.high_watermark - c).max(0))
    }
}

/// Raw records lost before validation (a gateway report): offsets `from_offset..=to_offset`
/// of raw `topic`'s `partition`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DataLoss {
    pub topic: String,
    pub partition: i32,
    pub from_offset: i64,
    pub to_offset: i64,
    pub at_ms: i64,
}

impl DataLoss {
    pub fn records(&self) -> u64 {
        (self.to_offset - self.from_offset + 1).max(0) as u64
    }
}

/// A source of observations. Called from a blocking thread: implementations may block.
pub trait ObservationSource: Send {
    fn observe(&mut self, targets: &[Target], now_ms: i64) -> Vec<ProductObservation>;
}
