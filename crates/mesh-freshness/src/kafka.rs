//! Observing products from the broker alone, without reading whole topics:
//!
//! 1. one metadata request for every topic (missing topics, partition counts);
//! 2. one batched ListOffsets(latest) for every partition of every product;
//! 3. only for partitions whose high watermark moved: fetch the last record. The offset just
//!    below the high watermark may be a transaction marker (or an aborted record a
//!    read-committed reader skips), so when the partition ends without a record the start steps
//!    back (1, 8, 64, … offsets) until one is found or offset 0 is reached;
//! 4. per consumer group: committed offsets (OffsetFetch), and for a group that is behind, the
//!    timestamp of the record at its committed offset — measured, not interpolated.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesh_kafka::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError as RdError, RDKafkaErrorCode};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::FreshnessError;
use crate::observe::{
    GroupObservation, GroupPartition, ObservationSource, PartitionObservation, ProductObservation,
    Target, TopicObservation,
};

/// Partitions per ListOffsets call (see `observe_all`).
const LIST_OFFSETS_CHUNK: usize = 256;

/// The group id of the monitor's own reader (never commits; excluded from discovery).
pub const READER_GROUP: &str = "mesh-freshness-reader";

/// Reads freshness and lag from Kafka.
pub struct KafkaSource {
    kafka: KafkaConfig,
    reader: Arc<BaseConsumer>,
    timeout: Duration,
    discover_groups: bool,
    /// (topic, partition) → (high watermark, newest timestamp) at the last read of the tail
    /// (high watermark −1: read again).
    newest: HashMap<(String, i32), (i64, Option<i64>)>,
    /// (topic, partition) → high watermark at the last ListOffsets.
    watermarks: HashMap<(String, i32), i64>,
    /// (topic, partition, offset) → timestamp of the record there.
    at_offset: HashMap<(String, i32, i64), Option<i64>>,
    group_clients: HashMap<String, BaseConsumer>,
}

impl std::fmt::Debug for KafkaSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaSource")
            .field("partitions_cached", &self.newest.len())
            .finish_non_exhaustive()
    }
}

impl KafkaSource {
    pub fn new(
        kafka: &KafkaConfig,
        timeout: Duration,
        discover_groups: bool,
    ) -> Result<Self, FreshnessError> {
        let reader = Arc::new(consumer(kafka, READER_GROUP)?);
        Ok(Self {
            kafka: kafka.clone(),
            reader,
            timeout,
            discover_groups,
            newest: HashMap::new(),
            watermarks: HashMap::new(),
            at_offset: HashMap::new(),
            group_clients: HashMap::new(),
        })
    }

    fn observe_all(&mut self, targets: &[Target]) -> Result<Vec<ProductObservation>, String> {
        let metadata = self
            .reader
            .fetch_metadata(None, self.timeout)
            .map_err(|e| e.to_string())?;
        let mut partitions: HashMap<&str, Vec<i32>> = HashMap::new();
        for t in metadata.topics() {
            let missing = matches!(
                t.error().map(RDKafkaErrorCode::from),
                Some(RDKafkaErrorCode::UnknownTopicOrPartition)
            );
            if !missing && !t.partitions().is_empty() {
                partitions.insert(t.name(), t.partitions().iter().map(|p| p.id()).collect());
            }
        }
        // High watermarks of every partition of every product: batched ListOffsets requests,
        // in chunks because librdkafka matches each answer to its request list by a linear
        // search (quadratic in the list's size: 10 000 partitions in one list cost ~0.5 s).
        let mut all: Vec<(&str, i32)> = Vec::new();
        for t in targets {
            for p in partitions.get(t.topic.as_str()).into_iter().flatten() {
                let due = t.due.as_ref().is_none_or(|d| d.contains(p));
                let key = (t.topic.clone(), *p);
                let unknown = !self.watermarks.contains_key(&key)
                    || self.newest.get(&key).is_none_or(|(h, _)| *h < 0);
                if due || unknown {
                    all.push((t.topic.as_str(), *p));
                }
            }
        }
        let mut hw: HashMap<(String, i32), i64> = HashMap::with_capacity(all.len());
        for chunk in all.chunks(LIST_OFFSETS_CHUNK) {
            let mut tpl = TopicPartitionList::with_capacity(chunk.len());
            for (topic, p) in chunk {
                // `add_partition_offset` searches the list; setting the offset on the new
                // element is constant time.
                tpl.add_partition(topic, *p)
                    .set_offset(Offset::End)
                    .map_err(|e| e.to_string())?;
            }
            let ends = self
                .reader
                .offsets_for_times(tpl, self.timeout)
                .map_err(|e| e.to_string())?;
            for e in ends.elements() {
                if let Offset::Offset(o) = e.offset() {
                    let key = (e.topic().to_owned(), e.partition());
                    self.watermarks.insert(key.clone(), o);
                    hw.insert(key, o);
                }
            }
        }
        let discovered = if self.discover_groups {
            self.list_groups()
        } else {
            Vec::new()
        };

        // Newest records where the high watermark moved.
        let mut stale = Vec::new();
        for ((topic, p), h) in &hw {
            let cached = self.newest.get(&(topic.clone(), *p));
            if cached.is_none_or(|(old, _)| old != h) {
                stale.push((topic.clone(), *p, *h));
            }
        }
        let found = self.newest_records(&stale)?;
        for (topic, p, h) in stale {
            match found.get(&(topic.clone(), p)).copied().flatten() {
                Some(ts) => {
                    self.newest.insert((topic, p), (h, Some(ts)));
                }
                // Nothing readable below a non-zero high watermark (records not yet visible
                // to a read-committed reader, or deleted): keep what was known and look again
                // next round rather than caching "no data".
                None if h > 0 => {
                    let old = self.newest.get(&(topic.clone(), p)).and_then(|(_, ts)| *ts);
                    self.newest.insert((topic, p), (-1, old));
                }
                None => {
                    self.newest.insert((topic, p), (h, None));
                }
            }
        }

        let mut out = Vec::with_capacity(targets.len());
        for t in targets {
            let Some(parts) = partitions.get(t.topic.as_str()) else {
                out.push(observation(t, TopicObservation::Missing, Vec::new()));
                continue;
            };
            let mut obs = Vec::with_capacity(parts.len());
            for p in parts {
                let key = (t.topic.clone(), *p);
                let newest_ts = self.newest.get(&key).and_then(|(_, ts)| *ts);
                let high_watermark = self.watermarks.get(&key).copied().unwrap_or(0);
                obs.push(PartitionObservation {
                    partition: *p,
                    high_watermark,
                    newest_ts,
                });
            }
            let mut groups: Vec<String> = t.groups.clone();
            for g in &discovered {
                if !groups.contains(g) {
                    groups.push(g.clone());
                }
            }
            let mut group_obs = Vec::new();
            for g in groups {
                let explicit = t.groups.contains(&g);
                if let Some(o) = self.group(&g, &t.topic, &obs)?
                    && (explicit || o.partitions.iter().any(|p| p.committed.is_some()))
                {
                    group_obs.push(o);
                }
            }
            out.push(observation(t, TopicObservation::Partitions(obs), group_obs));
        }
        Ok(out)
    }

    /// Groups the broker knows (ListGroups); empty where unsupported (the librdkafka mock).
    fn list_groups(&self) -> Vec<String> {
        match self.reader.fetch_group_list(None, self.timeout) {
            Ok(list) => list
                .groups()
                .iter()
                .map(|g| g.name().to_owned())
                .filter(|n| n != READER_GROUP)
                .collect(),
            Err(e) => {
                tracing::debug!(error = %e, "ListGroups unavailable; only configured groups are measured");
                Vec::new()
            }
        }
    }

    fn group(
        &mut self,
        group: &str,
        topic: &str,
        parts: &[PartitionObservation],
    ) -> Result<Option<GroupObservation>, String> {
        if !self.group_clients.contains_key(group) {
            let c = consumer(&self.kafka, group).map_err(|e| e.to_string())?;
            self.group_clients.insert(group.to_owned(), c);
        }
        let client = &self.group_clients[group];
        let mut tpl = TopicPartitionList::new();
        for p in parts {
            tpl.add_partition(topic, p.partition);
        }
        let committed: HashMap<i32, i64> = client
            .committed_offsets(tpl, self.timeout)
            .map_err(|e| e.to_string())?
            .elements()
            .iter()
            .filter_map(|e| match e.offset() {
                Offset::Offset(o) => Some((e.partition(), o)),
                _ => None,
            })
            .collect();
        let mut out = Vec::with_capacity(parts.len());
        let mut behind = Vec::new();
        for p in parts {
            let c = committed.get(&p.partition).copied();
            if let Some(c) = c
                && c < p.high_watermark
                && !self
                    .at_offset
                    .contains_key(&(topic.to_owned(), p.partition, c))
            {
                behind.push((topic.to_owned(), p.partition, c));
            }
            out.push(GroupPartition {
                partition: p.partition,
                committed: c,
                high_watermark: p.high_watermark,
                committed_ts: None,
            });
        }
        let reqs: Vec<_> = behind
            .iter()
            .map(|(t, p, o)| (t.clone(), *p, *o, i64::MAX))
            .collect();
        let firsts = self.read(&reqs, Mode::First)?;
        for (t, p, o) in behind {
            let ts = firsts
                .get(&(t.clone(), p))
                .and_then(|r| r.first)
                .map(|(_, ts)| ts);
            self.at_offset.insert((t, p, o), ts);
        }
        for gp in &mut out {
            if let Some(c) = gp.committed
                && c < gp.high_watermark
            {
                gp.committed_ts = self
                    .at_offset
                    .get(&(topic.to_owned(), gp.partition, c))
                    .copied()
                    .flatten();
            }
        }
        // Bound the cache: only current committed positions matter.
        if self.at_offset.len() > 100_000 {
            self.at_offset.clear();
        }
        Ok(Some(GroupObservation {
            group: group.to_owned(),
            partitions: out,
        }))
    }

    /// The newest record's timestamp for each (topic, partition, high watermark).
    fn newest_records(
        &mut self,
        stale: &[(String, i32, i64)],
    ) -> Result<HashMap<(String, i32), Option<i64>>, String> {
        let mut result = HashMap::new();
        let mut todo: Vec<(String, i32, i64, i64)> = Vec::new();
        for (t, p, h) in stale {
            if *h <= 0 {
                result.insert((t.clone(), *p), None);
            } else {
                todo.push((t.clone(), *p, *h, 1));
            }
        }
        while !todo.is_empty() {
            let reqs: Vec<(String, i32, i64, i64)> = todo
                .iter()
                .map(|(t, p, h, back)| (t.clone(), *p, (h - back).max(0), *h))
                .collect();
            let got = self.read(&reqs, Mode::Last)?;
            let mut next = Vec::new();
            for (t, p, h, back) in todo {
                match got.get(&(t.clone(), p)).and_then(|r| r.last) {
                    Some((_, ts)) => {
                        result.insert((t, p), Some(ts));
                    }
                    // Only markers (or aborted records) there: step back, unless at the start.
                    None if h - back > 0 => next.push((t, p, h, back * 8)),
                    None => {
                        result.insert((t, p), None);
                    }
                }
            }
            todo = next;
        }
        Ok(result)
    }

    /// Reads each (topic, partition, start, end): in [`Mode::Last`] up to the record at
    /// `end − 1` or the partition's end, in [`Mode::First`] its first record from `start`.
    ///
    /// Each partition is read through its own queue, because rdkafka's end-of-partition error
    /// names the partition number but not the topic. Messages that reach the consumer's main
    /// queue before a partition's queue is split off are routed by topic and partition; an
    /// end-of-partition seen there counts only when its partition number is unambiguous. A
    /// partition not finished by the deadline keeps what was read (the caller then steps back
    /// or reports no data): a slow partition never fails the whole round.
    fn read(
        &self,
        reqs: &[(String, i32, i64, i64)],
        mode: Mode,
    ) -> Result<HashMap<(String, i32), Read>, String> {
        let mut out: HashMap<(String, i32), Read> = HashMap::new();
        if reqs.is_empty() {
            return Ok(out);
        }
        let mut tpl = TopicPartitionList::new();
        for (t, p, start, end) in reqs {
            tpl.add_partition(t, *p)
                .set_offset(Offset::Offset(*start))
                .map_err(|e| e.to_string())?;
            out.insert(
                (t.clone(), *p),
                Read {
                    end: *end,
                    ..Read::default()
                },
            );
        }
        self.reader.assign(&tpl).map_err(|e| e.to_string())?;
        let mut queues = Vec::with_capacity(reqs.len());
        for (t, p, _, _) in reqs {
            if let Some(q) = self.reader.split_partition_queue(t, *p) {
                queues.push(((t.clone(), *p), q));
            }
        }
        let deadline = Instant::now() + self.timeout.min(Duration::from_secs(2));
        let mut open = reqs.len();
        while open > 0 && Instant::now() < deadline {
            let mut progressed = false;
            while let Some(m) = self.reader.poll(Duration::ZERO) {
                progressed = true;
                match m {
                    Ok(m) => {
                        let key = (m.topic().to_owned(), m.partition());
                        if let Some(r) = out.get_mut(&key) {
                            open -= r.take(m.offset(), m.timestamp().to_millis(), mode);
                        }
                    }
                    Err(RdError::PartitionEOF(p)) => {
                        let mut candidates =
                            out.iter_mut().filter(|((_, pp), r)| *pp == p && !r.done);
                        if let (Some((_, r)), None) = (candidates.next(), candidates.next()) {
                            r.done = true;
                            open -= 1;
                        }
                    }
                    Err(e) => return Err(e.to_string()),
                }
            }
            for (key, q) in &queues {
                let Some(r) = out.get_mut(key) else { continue };
                while !r.done {
                    let Some(m) = q.poll(Duration::ZERO) else {
                        break;
                    };
                    progressed = true;
                    match m {
                        Ok(m) => open -= r.take(m.offset(), m.timestamp().to_millis(), mode),
                        Err(RdError::PartitionEOF(_)) => {
                            r.done = true;
                            open -= 1;
                        }
                        Err(e) => return Err(e.to_string()),
                    }
                }
            }
            if !progressed {
                std::thread::sleep(Duration::from_millis(1));
            }
        }
        drop(queues);
        let _ = self.reader.unassign();
        if open > 0 {
            tracing::debug!(open, "partitions not read to their end before the deadline");
        }
        Ok(out)
    }
}

impl ObservationSource for KafkaSource {
    fn observe(&mut self, targets: &[Target], _now_ms: i64) -> Vec<ProductObservation> {
        match self.observe_all(targets) {
            Ok(obs) => obs,
            Err(reason) => {
                tracing::warn!(%reason, "broker unreachable; freshness unknown");
                targets
                    .iter()
                    .map(|t| {
                        observation(t, TopicObservation::Unreachable(reason.clone()), Vec::new())
                    })
                    .collect()
            }
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    First,
    Last,
}

#[derive(Clone, Copy, Debug, Default)]
struct Read {
    first: Option<(i64, i64)>,
    last: Option<(i64, i64)>,
    /// Stop at the record at `end − 1` (the high watermark when the read was planned).
    end: i64,
    done: bool,
}

impl Read {
    /// Records one message; returns 1 if that finished the partition.
    fn take(&mut self, offset: i64, ts: Option<i64>, mode: Mode) -> usize {
        if self.done {
            return 0;
        }
        let ts = ts.unwrap_or(0);
        self.first.get_or_insert((offset, ts));
        if self.last.is_none_or(|(o, _)| offset > o) {
            self.last = Some((offset, ts));
        }
        if mode == Mode::First || offset >= self.end - 1 {
            self.done = true;
            return 1;
        }
        0
    }
}

fn observation(
    t: &Target,
    topic: TopicObservation,
    groups: Vec<GroupObservation>,
) -> ProductObservation {
    ProductObservation {
        product_id: t.product_id.clone(),
        topic,
        groups,
        data_loss: Vec::new(),
    }
}

fn consumer(kafka: &KafkaConfig, group: &str) -> Result<BaseConsumer, FreshnessError> {
    let mut c = kafka.client_config("freshness")?;
    c.set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .set("isolation.level", "read_committed")
        // The monitor reads a few records per partition: answer fetches at once.
        .set("fetch.wait.max.ms", "20");
    Ok(c.create()?)
}
