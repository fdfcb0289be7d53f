//! Tails `_mesh.contracts` (compacted; key `<product id>/v<major>`, value a
//! [`ResolvedContract`] as JSON, tombstone = retired). Contracts are read only through
//! `mesh-contract`'s types.

use std::time::Duration;

use mesh_contract::ResolvedContract;
use mesh_kafka::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError as RdError;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::FreshnessError;

/// One change to the contract set.
pub type ContractUpdate = (String, Option<ResolvedContract>);

pub struct ContractsTailer {
    consumer: BaseConsumer,
    topic: String,
    assigned: bool,
    timeout: Duration,
}

impl std::fmt::Debug for ContractsTailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContractsTailer")
            .field("topic", &self.topic)
            .finish()
    }
}

impl ContractsTailer {
    pub fn new(
        kafka: &KafkaConfig,
        topic: &str,
        timeout: Duration,
    ) -> Result<Self, FreshnessError> {
        let consumer: BaseConsumer = kafka
            .client_config("freshness-contracts")?
            .set("group.id", "mesh-freshness-contracts")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .set("auto.offset.reset", "earliest")
            .set("isolation.level", "read_committed")
            .create()?;
        Ok(Self {
            consumer,
            topic: topic.to_owned(),
            assigned: false,
            timeout,
        })
    }

    fn assign(&mut self) -> Result<(), String> {
        let md = self
            .consumer
            .fetch_metadata(Some(&self.topic), self.timeout)
            .map_err(|e| e.to_string())?;
        let parts: Vec<i32> = md
            .topics()
            .iter()
            .filter(|t| t.error().is_none())
            .flat_map(|t| t.partitions().iter().map(|p| p.id()))
            .collect();
        if parts.is_empty() {
            return Err(format!("topic {} does not exist yet", self.topic));
        }
        let mut tpl = TopicPartitionList::new();
        for p in parts {
            tpl.add_partition_offset(&self.topic, p, Offset::Beginning)
                .map_err(|e| e.to_string())?;
        }
        self.consumer.assign(&tpl).map_err(|e| e.to_string())?;
        self.assigned = true;
        Ok(())
    }

    /// Every update available now (blocks up to `wait` for the first one). Unreadable records
    /// are logged and skipped: `mesh contract` lints contracts before they get here.
    pub fn poll(&mut self, wait: Duration) -> Result<Vec<ContractUpdate>, String> {
        if !self.assigned {
            self.assign()?;
        }
        let mut out = Vec::new();
        let mut timeout = wait;
        while let Some(m) = self.consumer.poll(timeout) {
            timeout = Duration::ZERO;
            let m = match m {
                Ok(m) => m,
                Err(RdError::PartitionEOF(_)) => continue,
                Err(e) => return Err(e.to_string()),
            };
            let Some(key) = m.key().and_then(|k| std::str::from_utf8(k).ok()) else {
                tracing::warn!(
                    offset = m.offset(),
                    "contract record without a UTF-8 key; skipped"
                );
                continue;
            };
            match m.payload() {
                None => out.push((key.to_owned(), None)),
                Some(v) => match ResolvedContract::from_record(v) {
                    Ok(c) => out.push((key.to_owned(), Some(c))),
                    Err(e) => {
                        tracing::warn!(key, error = %e, "unreadable contract record; skipped");
                    }
                },
            }
        }
        Ok(out)
    }

    /// Reads until the end of the topic as it is now (startup), bounded by `timeout`.
    pub fn catch_up(&mut self, timeout: Duration) -> Result<(Vec<ContractUpdate>, bool), String> {
        let deadline = std::time::Instant::now() + timeout;
        let mut out = self.poll(Duration::from_millis(100))?;
        while !self.caught_up() {
            if std::time::Instant::now() >= deadline {
                return Ok((out, false));
            }
            out.extend(self.poll(Duration::from_millis(100))?);
        }
        Ok((out, true))
    }

    /// Whether the reader has reached the end of the topic (startup readiness).
    pub fn caught_up(&self) -> bool {
        let Ok(pos) = self.consumer.position() else {
            return false;
        };
        pos.elements().iter().all(|e| {
            let Ok((_, high)) =
                self.consumer
                    .fetch_watermarks(e.topic(), e.partition(), self.timeout)
            else {
                return false;
            };
            match e.offset() {
                Offset::Offset(o) => o >= high,
                _ => high == 0,
            }
        })
    }
}
