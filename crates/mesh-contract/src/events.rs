//! Records the gateway writes to `_mesh.progress` and the freshness monitor reads: one place for
//! the format so neither side depends on the other's crate. JSON, key `<raw topic>/<partition>`,
//! discriminated by `"type"` (see docs/contracts.md).

use serde::{Deserialize, Serialize};

/// A `_mesh.progress` record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum GatewayEvent {
    Progress(Progress),
    DataLoss(DataLoss),
}

/// The gateway processed (validated or rejected) raw records of one partition up to `offset`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Progress {
    /// The product id (`<domain>.<product>`).
    pub product: String,
    /// The raw topic.
    pub topic: String,
    pub partition: i32,
    /// Offset of the newest processed raw record.
    pub offset: i64,
    /// Its timestamp (ms, CreateTime as the producer set it).
    pub record_timestamp: i64,
    /// When the gateway wrote this heartbeat (ms).
    pub emitted_at: i64,
}

/// Raw records the gateway can no longer read (deleted by retention before being validated):
/// offsets `from_offset..=to_offset` of one raw partition.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DataLoss {
    pub product: String,
    pub topic: String,
    pub partition: i32,
    pub from_offset: i64,
    pub to_offset: i64,
    pub emitted_at: i64,
}

impl DataLoss {
    /// How many records were lost.
    pub fn records(&self) -> u64 {
        (self.to_offset - self.from_offset + 1).max(0) as u64
    }
}

impl GatewayEvent {
    /// The record key: `<raw topic>/<partition>` for heartbeats (compaction keeps the last);
    /// a data loss gets its own `<raw topic>/<partition>/loss/<from>-<to>` so the next
    /// heartbeat does not compact it away.
    pub fn key(&self) -> String {
        match self {
            GatewayEvent::Progress(e) => format!("{}/{}", e.topic, e.partition),
            GatewayEvent::DataLoss(e) => format!(
                "{}/{}/loss/{}-{}",
                e.topic, e.partition, e.from_offset, e.to_offset
            ),
        }
    }

    /// Parses a record value.
    pub fn from_record(value: &[u8]) -> Result<Self, serde_json::Error> {
        serde_json::from_slice(value)
    }

    pub fn to_record(&self) -> Vec<u8> {
        // Serialising plain strings and integers cannot fail.
        serde_json::to_vec(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_gateway_heartbeat_format_and_round_trips() {
        let v = br#"{"type":"progress","product":"sales.orders","topic":"sales.orders.raw",
            "partition":2,"offset":41,"recordTimestamp":1700000000000,"emittedAt":1700000000500}"#;
        let e = GatewayEvent::from_record(v).expect("heartbeat");
        let GatewayEvent::Progress(p) = &e else {
            panic!("{e:?}")
        };
        assert_eq!((p.partition, p.offset), (2, 41));
        assert_eq!(p.record_timestamp, 1_700_000_000_000);
        assert_eq!(e.key(), "sales.orders.raw/2");
        assert_eq!(GatewayEvent::from_record(&e.to_record()).unwrap(), e);
    }

    #[test]
    fn data_loss_counts_its_inclusive_range_and_unknown_types_are_errors() {
        let v = br#"{"type":"data_loss","product":"p","topic":"p.raw","partition":0,
            "fromOffset":10,"toOffset":19,"emittedAt":5}"#;
        let GatewayEvent::DataLoss(d) = GatewayEvent::from_record(v).unwrap() else {
            panic!()
        };
        assert_eq!(d.records(), 10);
        assert_eq!(GatewayEvent::DataLoss(d).key(), "p.raw/0/loss/10-19");
        assert!(GatewayEvent::from_record(br#"{"type":"other"}"#).is_err());
        assert!(GatewayEvent::from_record(b"not json").is_err());
    }
}
