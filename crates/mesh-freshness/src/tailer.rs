//! Reads a whole platform topic from its beginning with no consumer group position to keep:
//! every partition assigned at `Offset::Beginning`, records handed over as they come. The
//! contracts and progress tailers are this plus their decoding.

use std::time::Duration;

use mesh_kafka::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError as RdError;
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::FreshnessError;

pub struct TopicTailer {
    consumer: BaseConsumer,
    topic: String,
    assigned: bool,
    timeout: Duration,
}

impl std::fmt::Debug for TopicTailer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TopicTailer")
            .field("topic", &self.topic)
            .finish()
    }
}

impl TopicTailer {
    /// `role` names the client (and its group id, used for nothing but broker logs: no offset
    /// is ever committed). Reads are `read_committed`: both topics are written in transactions.
    pub fn new(
        kafka: &KafkaConfig,
        topic: &str,
        role: &str,
        timeout: Duration,
    ) -> Result<Self, FreshnessError> {
        let consumer: BaseConsumer = kafka
            .client_config(role)?
            .set("group.id", format!("mesh-{role}"))
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
        let mut tpl = TopicPartitionList::new();
        for t in md.topics().iter().filter(|t| t.error().is_none()) {
            for p in t.partitions() {
                tpl.add_partition_offset(&self.topic, p.id(), Offset::Beginning)
                    .map_err(|e| e.to_string())?;
            }
        }
        if tpl.count() == 0 {
            return Err(format!("topic {} does not exist yet", self.topic));
        }
        self.consumer.assign(&tpl).map_err(|e| e.to_string())?;
        self.assigned = true;
        Ok(())
    }

    /// Hands every record available now to `f` (waiting up to `wait` for the first one).
    pub fn poll(
        &mut self,
        wait: Duration,
        mut f: impl FnMut(&BorrowedMessage<'_>),
    ) -> Result<(), String> {
        if !self.assigned {
            self.assign()?;
        }
        let mut timeout = wait;
        while let Some(m) = self.consumer.poll(timeout) {
            timeout = Duration::ZERO;
            match m {
                Ok(m) => f(&m),
                Err(RdError::PartitionEOF(_)) => continue,
                Err(e) => return Err(e.to_string()),
            }
        }
        Ok(())
    }

    /// Whether the reader has reached the end of the topic as it is now.
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

/// A record's key as UTF-8, if it has one.
pub fn key_str<'m>(m: &'m BorrowedMessage<'_>) -> Option<&'m str> {
    m.key().and_then(|k| std::str::from_utf8(k).ok())
}
