//! Data-loss detection: records deleted (retention) before the pipeline read them.
//!
//! The consumer keeps `auto.offset.reset=earliest`, so an out-of-range position silently jumps
//! to the log start. We notice the jump instead, in two places:
//!
//! - **At assignment** (and start-up): each newly assigned partition's committed offset is
//!   compared with its log start offset; below it, `[committed, log start - 1]` was deleted
//!   unread. This reports losses on partitions that receive nothing new (fully deleted, quiet).
//! - **Per record**: we track the next offset we expect (set by the assignment check, else the
//!   group's committed offset when the partition is first read, then one past each record). A
//!   record arriving past it is a gap; gaps are normal (transaction markers, compaction) unless
//!   the expected offset is now below the log start offset, in which case
//!   `[expected, log start - 1]` was deleted unread. A range reported at assignment moves the
//!   expectation to its end, so it is never reported again; later retention reports the rest.
//!
//! A partition the group never committed (new group) has no expectation, so it is never
//! reported.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance};
use rdkafka::{ClientContext, Offset, TopicPartitionList};

use super::LostRange;

/// The pipeline's consumer: a [`BaseConsumer`] that notes its rebalances.
pub(super) type PipelineConsumer = BaseConsumer<Rebalances>;

/// A change of the consumer's assignment.
#[derive(Debug)]
pub(super) enum Change {
    Assigned(Vec<(String, i32)>),
    Revoked(Vec<(String, i32)>),
}

/// Consumer context recording assignment changes; the worker drains them after each poll (the
/// callback runs inside `poll`, on the worker thread, which returns right after it).
#[derive(Debug, Default)]
pub(super) struct Rebalances {
    /// Set with each change, so the per-record check is one atomic load.
    changed: AtomicBool,
    changes: Mutex<Vec<Change>>,
}

impl Rebalances {
    /// Notes partitions assigned without a rebalance (`assign`).
    pub(super) fn push(&self, change: Change) {
        self.changes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(change);
        self.changed.store(true, Ordering::Release);
    }

    fn take(&self) -> Vec<Change> {
        if !self.changed.load(Ordering::Relaxed) || !self.changed.swap(false, Ordering::Acquire) {
            return Vec::new();
        }
        std::mem::take(&mut *self.changes.lock().unwrap_or_else(PoisonError::into_inner))
    }
}

fn partitions(tpl: &TopicPartitionList) -> Vec<(String, i32)> {
    tpl.elements()
        .iter()
        .map(|e| (e.topic().to_owned(), e.partition()))
        .collect()
}

impl ClientContext for Rebalances {}

impl ConsumerContext for Rebalances {
    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        match rebalance {
            Rebalance::Assign(tpl) => self.push(Change::Assigned(partitions(tpl))),
            Rebalance::Revoke(tpl) => self.push(Change::Revoked(partitions(tpl))),
            Rebalance::Error(_) => {}
        }
    }
}

/// The next expected offset of each partition this worker reads (topic → partition → offset;
/// nested so the per-record lookup borrows the topic instead of allocating a key), and the
/// assigned partitions whose committed offset has not been checked yet.
#[derive(Debug, Default)]
pub(super) struct Expected {
    next: HashMap<String, HashMap<i32, i64>>,
    pending: Vec<(String, i32)>,
    /// After a lookup of the assignment check failed: when to check `pending` again, and the
    /// backoff that was used (doubled per failure, reset by a success or a new assignment).
    retry: Option<(Instant, Duration)>,
}

/// Backoff of the assignment check after a failed lookup (broker or coordinator down).
const RETRY_MIN: Duration = Duration::from_secs(1);
const RETRY_MAX: Duration = Duration::from_secs(60);

impl Expected {
    /// Applies the consumer's assignment changes since the last call.
    pub(super) fn track(&mut self, consumer: &PipelineConsumer) {
        for change in consumer.context().take() {
            match change {
                Change::Assigned(parts) => {
                    for (t, p) in parts {
                        self.requeue(&t, p);
                    }
                }
                Change::Revoked(parts) => {
                    for (t, p) in parts {
                        self.forget(&t, p);
                        self.pending.retain(|(pt, pp)| !(pt == &t && *pp == p));
                    }
                }
            }
        }
    }

    /// Whether partitions wait for the assignment check and it is due.
    pub(super) fn has_pending(&self) -> bool {
        self.due(Instant::now())
    }

    fn due(&self, now: Instant) -> bool {
        !self.pending.is_empty() && self.retry.is_none_or(|(at, _)| now >= at)
    }

    /// Puts partitions whose check failed back, to be checked after the backoff: a quiet
    /// partition would otherwise never have its loss reported (records that arrive meanwhile
    /// are checked as they come, and take the partition off the retry).
    fn defer(&mut self, parts: Vec<(String, i32)>, now: Instant, why: &str) {
        if parts.is_empty() {
            return;
        }
        let backoff = self
            .retry
            .map_or(RETRY_MIN, |(_, b)| (b * 2).min(RETRY_MAX));
        tracing::warn!(partitions = parts.len(), retry_in = ?backoff, reason = why,
            "data-loss check at assignment failed; retrying");
        self.retry = Some((now + backoff, backoff));
        for p in parts {
            if !self.pending.contains(&p) {
                self.pending.push(p);
            }
        }
    }

    fn has_next(&self, topic: &str, partition: i32) -> bool {
        self.next
            .get(topic)
            .is_some_and(|p| p.contains_key(&partition))
    }

    /// The partition's committed offset must be checked (again) before its next record.
    pub(super) fn requeue(&mut self, topic: &str, partition: i32) {
        // A new assignment is checked at once (with any deferred partitions).
        self.retry = None;
        self.forget(topic, partition);
        if !self
            .pending
            .iter()
            .any(|(t, p)| t == topic && *p == partition)
        {
            self.pending.push((topic.to_owned(), partition));
        }
    }

    fn forget(&mut self, topic: &str, partition: i32) {
        if let Some(p) = self.next.get_mut(topic) {
            p.remove(&partition);
        }
    }

    /// Checks every pending partition still assigned: a committed offset below the log start
    /// is a loss `[committed, log start - 1]`, returned here and expected no more (the caller
    /// commits the log start with the report). Partitions whose lookups fail are checked again
    /// after a backoff, unless a record of theirs is read first (the per-record check then
    /// covers them).
    pub(super) fn check_assigned(
        &mut self,
        consumer: &PipelineConsumer,
        timeout: Duration,
    ) -> Vec<LostRange> {
        let now = Instant::now();
        let pending = std::mem::take(&mut self.pending);
        let assigned = match consumer.assignment() {
            Ok(a) => partitions(&a),
            Err(e) => {
                self.defer(pending, now, &format!("assignment: {e}"));
                return Vec::new();
            }
        };
        let pending: Vec<_> = pending
            .into_iter()
            .filter(|(t, p)| assigned.contains(&(t.clone(), *p)) && !self.has_next(t, *p))
            .collect();
        if pending.is_empty() {
            self.retry = None;
            return Vec::new();
        }
        let mut tpl = TopicPartitionList::new();
        for (t, p) in &pending {
            tpl.add_partition(t, *p);
        }
        let committed = match consumer.committed_offsets(tpl, timeout) {
            Ok(c) => c,
            Err(e) => {
                self.defer(pending, now, &format!("committed offsets: {e}"));
                return Vec::new();
            }
        };
        let mut failed = Vec::new();
        let mut lost = Vec::new();
        for (topic, partition) in pending {
            let Some(Offset::Offset(c)) = committed
                .find_partition(&topic, partition)
                .map(|e| e.offset())
                .filter(|o| matches!(o, Offset::Offset(c) if *c >= 0))
            else {
                // Never committed (new group): it never owned the earlier records.
                continue;
            };
            let (low, high) = match consumer.fetch_watermarks(&topic, partition, timeout) {
                Ok(w) => w,
                Err(e) => {
                    tracing::debug!(%topic, partition, error = %e, "watermarks unavailable");
                    failed.push((topic, partition));
                    continue;
                }
            };
            if c > high {
                // The log is shorter than what the group consumed: the topic was deleted and
                // re-created (or truncated); what the group had read of the old log is
                // unknowable here. Kafka answers the fetch with OFFSET_OUT_OF_RANGE and
                // auto.offset.reset=earliest re-reads from the start. No seek of our own: a
                // broker under-reporting its high watermark (tansu 0.6) would then replay the
                // whole partition.
                tracing::warn!(%topic, partition, committed = c, low, high,
                    "committed offset beyond the log end (topic re-created or truncated?); \
                     the broker's offset reset restarts consumption at the log start");
                self.rewound(&topic, partition, low);
            } else if c < low {
                self.rewound(&topic, partition, low);
                lost.push(LostRange {
                    topic,
                    partition,
                    from: c,
                    to: low - 1,
                });
            } else {
                self.rewound(&topic, partition, c);
            }
        }
        if failed.is_empty() {
            self.retry = None;
        } else {
            self.defer(failed, now, "watermarks unavailable");
        }
        lost
    }

    /// Checks a consumed record at `offset`; returns the lost range before it, if any, and
    /// advances the expectation past the record.
    pub(super) fn check(
        &mut self,
        consumer: &PipelineConsumer,
        topic: &str,
        partition: i32,
        offset: i64,
        timeout: Duration,
    ) -> Option<LostRange> {
        let slot = self.next.get_mut(topic).and_then(|p| p.get_mut(&partition));
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
        self.next
            .entry(topic.to_owned())
            .or_default()
            .insert(partition, offset);
    }
}

/// The group's committed offset for one partition, `None` when it has none (or it cannot be
/// read: then no loss is reported rather than a false one).
fn committed(
    consumer: &PipelineConsumer,
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

#[cfg(test)]
mod tests {
    use super::*;

    fn part(p: i32) -> (String, i32) {
        ("t".to_owned(), p)
    }

    /// A failed assignment check is retried with a doubling backoff (a quiet partition would
    /// otherwise never be checked); a new assignment or a read record ends the wait.
    #[test]
    fn failed_assignment_checks_are_retried_with_backoff() {
        let mut e = Expected::default();
        let now = Instant::now();
        e.requeue("t", 0);
        assert!(e.due(now), "a new assignment is checked at once");

        let pending = std::mem::take(&mut e.pending);
        e.defer(pending, now, "test");
        assert!(!e.due(now) && !e.due(now + RETRY_MIN / 2));
        assert!(e.due(now + RETRY_MIN));

        let pending = std::mem::take(&mut e.pending);
        e.defer(pending, now, "test");
        assert!(
            !e.due(now + RETRY_MIN) && e.due(now + RETRY_MIN * 2),
            "backoff doubles"
        );
        for _ in 0..10 {
            let pending = std::mem::take(&mut e.pending);
            e.defer(pending, now, "test");
        }
        assert!(e.due(now + RETRY_MAX), "bounded by {RETRY_MAX:?}");
        assert_eq!(e.pending, vec![part(0)], "deferred once, not duplicated");

        // Another partition assigned meanwhile: both are checked now.
        e.requeue("t", 1);
        assert!(e.due(now));
        assert_eq!(e.pending, vec![part(0), part(1)]);

        // A record of a deferred partition was read: the per-record check has taken it over.
        e.rewound("t", 0, 42);
        assert!(e.has_next("t", 0) && !e.has_next("t", 1));
    }
}
