//! Consumed offsets on a broker that drops them from transactions (librdkafka's mock cluster,
//! see [`crate::config::BrokerQuirks`]).
//!
//! The mock acknowledges TxnOffsetCommit without storing anything, so after each committed
//! transaction the worker commits the same offsets outside it. The group refuses that plain
//! commit while it rebalances (`REBALANCE_IN_PROGRESS`), and a member keeps committing
//! transactions until its next heartbeat tells it about the rebalance. Those batches are
//! committed but the group does not know it: after the rebalance the consumer would fetch the
//! older offsets and process the batches again. So this worker remembers how far its own
//! transactions got: it retries refused commits once the group is stable, and skips records
//! below that point when the stale offsets send the consumer back to them.
//!
//! What remains a gap on the mock: a refused commit of a partition that the rebalance gives to
//! *another* member is repeated by that member (see docs/gateway.md).

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use rdkafka::consumer::{CommitMode, Consumer};

use super::loss::PipelineConsumer;
use rdkafka::{Offset, TopicPartitionList};

/// (topic, partition) → next offset to read.
type Offsets = BTreeMap<(String, i32), i64>;

#[derive(Debug, Default)]
pub(super) struct Mirror {
    /// Offsets reached by committed transactions whose plain commit the group refused.
    pending: Offsets,
    /// Per partition, the offset after the last record of this worker's committed transactions.
    done: HashMap<String, HashMap<i32, i64>>,
}

impl Mirror {
    /// A transaction holding `offsets` committed: mirror them, keeping them pending if the
    /// group refuses. Returns whether the group stored them.
    pub(super) fn committed(
        &mut self,
        consumer: &PipelineConsumer,
        offsets: &TopicPartitionList,
    ) -> bool {
        for e in offsets.elements() {
            if let Offset::Offset(o) = e.offset() {
                let done = self
                    .done
                    .entry(e.topic().to_owned())
                    .or_default()
                    .entry(e.partition())
                    .or_insert(o);
                *done = (*done).max(o);
            }
        }
        if let Err(err) = consumer.commit(offsets, CommitMode::Sync) {
            tracing::debug!(error = %err, "mirroring transactional offsets refused; retrying later");
            for e in offsets.elements() {
                if let Offset::Offset(o) = e.offset() {
                    self.pending
                        .insert((e.topic().to_owned(), e.partition()), o);
                }
            }
            false
        } else {
            for e in offsets.elements() {
                self.pending.remove(&(e.topic().to_owned(), e.partition()));
            }
            true
        }
    }

    /// The record at `offset` was already committed by this worker: the consumer was sent back
    /// to it by offsets the group never stored.
    pub(super) fn already_committed(&self, topic: &str, partition: i32, offset: i64) -> bool {
        self.done
            .get(topic)
            .and_then(|p| p.get(&partition))
            .is_some_and(|done| offset < *done)
    }

    /// Whether commits are still owed to the group.
    pub(super) fn has_pending(&self) -> bool {
        !self.pending.is_empty()
    }

    /// Commits the pending offsets of the partitions this consumer owns, unless the group is
    /// already further (another member owned the partition in between).
    pub(super) fn flush(&mut self, consumer: &PipelineConsumer, timeout: Duration) {
        if self.pending.is_empty() {
            return;
        }
        let Ok(assigned) = consumer.assignment() else {
            return;
        };
        // Between a revocation and the next assignment the member owns nothing; once it owns
        // something again, partitions it lacks went to other members (who repeat them).
        if assigned.count() > 0 {
            self.pending
                .retain(|(t, p), _| assigned.find_partition(t, *p).is_some());
        }
        let mut tpl = TopicPartitionList::new();
        for ((t, p), o) in &self.pending {
            if assigned.find_partition(t, *p).is_some() {
                let _ = tpl.add_partition_offset(t, *p, Offset::Offset(*o));
            }
        }
        if tpl.count() == 0 {
            return;
        }
        let group = match consumer.committed_offsets(tpl.clone(), timeout) {
            Ok(g) => g,
            Err(e) => {
                tracing::debug!(error = %e, "committed offsets unavailable; mirroring later");
                return;
            }
        };
        let mut ahead = TopicPartitionList::new();
        for e in tpl.elements() {
            let theirs = group
                .find_partition(e.topic(), e.partition())
                .and_then(|g| match g.offset() {
                    Offset::Offset(o) => Some(o),
                    _ => None,
                });
            if let Offset::Offset(ours) = e.offset()
                && theirs.is_none_or(|g| g < ours)
            {
                let _ = ahead.add_partition_offset(e.topic(), e.partition(), e.offset());
            }
        }
        if ahead.count() > 0
            && let Err(e) = consumer.commit(&ahead, CommitMode::Sync)
        {
            // Typically REBALANCE_IN_PROGRESS: retried once the group is stable again.
            tracing::debug!(error = %e, "mirroring transactional offsets refused; retrying later");
            return;
        }
        for e in tpl.elements() {
            self.pending.remove(&(e.topic().to_owned(), e.partition()));
        }
    }
}
