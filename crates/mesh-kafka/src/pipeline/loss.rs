//! Data-loss detection: records deleted (retention) before the pipeline read them.
//!
//! The consumer keeps `auto.offset.reset=earliest`, so an out-of-range position silently jumps
//! to the log start. We notice the jump instead: per partition we track the next offset we
//! expect (the group's committed offset when the partition is first read, then one past each
//! record). A record arriving past that offset is a gap; gaps are normal (transaction markers,
//! compaction) unless the expected offset is now below the log start offset, in which case
//! `[expected, log start - 1]` was deleted unread. A partition the group never committed
//! (new group) has no expectation, so it is never reported.

use std::collections::HashMap;
use std::time::Duration;

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};

use super::LostRange;

/// The next expected offset of each partition this worker reads (topic → partition → offset;
/// nested so the per-record lookup borrows the topic instead of allocating a key).
#[derive(Debug, Default)]
pub(super) struct Expected(HashMap<String, HashMap<i32, i64>>);

impl Expected {
    /// Checks a consumed record at `offset`; returns the lost range before it, if any, and
    /// advances the expectation past the record.
    pub(super) fn check(
        &mut self,
        consumer: &BaseConsumer,
        topic: &str,
        partition: i32,
        offset: i64,
        timeout: Duration,
    ) -> Option<LostRange> {
        let slot = self.0.get_mut(topic).and_then(|p| p.get_mut(&partition));
        let expected = match slot {
            Some(e) => Some(std::mem::replace(e, offset + 1)),
            None => {
                self.rewound(topic, partition, offset + 1);
                committed(consumer, topic, partition, timeout)
            }
        };
        let expected = expected.filter(|e| offset > *e)?;
        // Only gaps pay for a watermark request.
        let low = match consumer.fetch_watermarks(topic, partition, timeout) {
            Ok((low, _)) => low,
            Err(e) => {
                // Without the log start a gap cannot be told from transaction markers.
                tracing::warn!(%topic, partition, from = expected, to = offset - 1, error = %e,
                    "watermarks unavailable; cannot tell whether this gap is data loss");
                return None;
            }
        };
        let to = low.min(offset) - 1;
        if expected > to {
            return None;
        }
        // A remembered expectation can be stale: the partition may have been revoked, advanced
        // by another group member and assigned back. The group's commit is then further on.
        let expected = match committed(consumer, topic, partition, timeout) {
            Some(c) if c > expected => c,
            _ => expected,
        };
        (expected <= to).then(|| LostRange {
            topic: topic.to_owned(),
            partition,
            from: expected,
            to,
        })
    }

    /// The consumer was moved back to `offset` (a batch was abandoned).
    pub(super) fn rewound(&mut self, topic: &str, partition: i32, offset: i64) {
        self.0
            .entry(topic.to_owned())
            .or_default()
            .insert(partition, offset);
    }
}

/// The group's committed offset for one partition, `None` when it has none (or it cannot be
/// read: then no loss is reported rather than a false one).
fn committed(
    consumer: &BaseConsumer,
    topic: &str,
    partition: i32,
    timeout: Duration,
) -> Option<i64> {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, partition);
    match consumer.committed_offsets(tpl, timeout) {
        Ok(c) => match c.find_partition(topic, partition).map(|e| e.offset()) {
            Some(Offset::Offset(o)) if o >= 0 => Some(o),
            _ => None,
        },
        Err(e) => {
            tracing::warn!(%topic, partition, error = %e, "committed offset unavailable; data loss before this read cannot be detected");
            None
        }
    }
}
