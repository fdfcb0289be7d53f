//! Tails `_mesh.contracts` (compacted; key `<product id>/v<major>`, value a
//! [`ResolvedContract`] as JSON, tombstone = retired). Contracts are read only through
//! `mesh-contract`'s types.

use std::time::Duration;

use mesh_contract::ResolvedContract;
use mesh_kafka::KafkaConfig;
use rdkafka::Message;

use crate::FreshnessError;
use crate::tailer::{TopicTailer, key_str};

/// One change to the contract set.
pub type ContractUpdate = (String, Option<ResolvedContract>);

#[derive(Debug)]
pub struct ContractsTailer(TopicTailer);

impl ContractsTailer {
    pub fn new(
        kafka: &KafkaConfig,
        topic: &str,
        timeout: Duration,
    ) -> Result<Self, FreshnessError> {
        TopicTailer::new(kafka, topic, "freshness-contracts", timeout).map(Self)
    }

    /// Every update available now (blocks up to `wait` for the first one). Unreadable records
    /// are logged and skipped: `mesh contract` lints contracts before they get here.
    pub fn poll(&mut self, wait: Duration) -> Result<Vec<ContractUpdate>, String> {
        let mut out = Vec::new();
        self.0.poll(wait, |m| {
            let Some(key) = key_str(m) else {
                tracing::warn!(
                    offset = m.offset(),
                    "contract record without a UTF-8 key; skipped"
                );
                return;
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
        })?;
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
        self.0.caught_up()
    }
}
