//! The gateway as an observation source: `_mesh.progress` heartbeats say how new the newest
//! processed raw record of each partition is, without reading the broker; `data_loss` reports
//! feed the data-loss alert. [`GatewaySource`] wraps the watermark source ([`crate::kafka`]):
//!
//! - a partition's newest timestamp is the newer of its last heartbeat's `recordTimestamp` and
//!   what the watermark source read (raw partition *p* stands for validated partition *p*: the
//!   gateway keeps partitioning);
//! - a partition with a heartbeat younger than `heartbeat_max_age` is never *due* between full
//!   refreshes: the heartbeat is the measurement, so it is not polled;
//! - when heartbeats stop, the last one keeps counting and ages like any record, so a stopped
//!   gateway reads as stale; records in the validated topic (watermarks) still count.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use mesh_contract::events::{self, GatewayEvent};
use mesh_kafka::KafkaConfig;
use rdkafka::Message;

use crate::FreshnessError;
use crate::observe::{DataLoss, ObservationSource, ProductObservation, Target, TopicObservation};
use crate::tailer::TopicTailer;

/// What the gateway reported, by product (pure; fed by [`ProgressTailer`]).
#[derive(Debug, Default)]
pub struct GatewayReports {
    /// Newest heartbeat per (product, partition).
    heartbeats: HashMap<String, BTreeMap<i32, events::Progress>>,
    losses: HashMap<String, Vec<events::DataLoss>>,
}

impl GatewayReports {
    pub fn apply(&mut self, e: GatewayEvent) {
        match e {
            GatewayEvent::Progress(p) => {
                let slot = self.heartbeats.entry(p.product.clone()).or_default();
                // Records can arrive out of order across restarts: keep the furthest progress.
                if slot
                    .get(&p.partition)
                    .is_none_or(|old| old.offset <= p.offset)
                {
                    slot.insert(p.partition, p);
                }
            }
            GatewayEvent::DataLoss(d) => self.losses.entry(d.product.clone()).or_default().push(d),
        }
    }

    /// Partitions of `product` with a heartbeat emitted at or after `since_ms`.
    fn live(&self, product: &str, since_ms: i64) -> impl Iterator<Item = i32> + '_ {
        self.heartbeats
            .get(product)
            .into_iter()
            .flat_map(move |m| m.values().filter(move |p| p.emitted_at >= since_ms))
            .map(|p| p.partition)
    }

    /// Removes partitions with live heartbeats from the targets' due sets.
    pub fn narrow(&self, targets: &mut [Target], since_ms: i64) {
        for t in targets {
            if let Some(due) = &mut t.due {
                for p in self.live(&t.product_id, since_ms) {
                    due.remove(&p);
                }
            }
        }
    }

    /// Folds heartbeats into the watermark source's observations, and attaches data losses
    /// reported at or after `hold_since_ms` (older ones are forgotten).
    pub fn merge(&mut self, observations: &mut [ProductObservation], hold_since_ms: i64) {
        for losses in self.losses.values_mut() {
            losses.retain(|l| l.emitted_at >= hold_since_ms);
        }
        self.losses.retain(|_, l| !l.is_empty());
        for obs in observations {
            if let (TopicObservation::Partitions(parts), Some(beats)) =
                (&mut obs.topic, self.heartbeats.get(&obs.product_id))
            {
                for p in parts.iter_mut() {
                    if let Some(hb) = beats.get(&p.partition) {
                        p.newest_ts = Some(
                            p.newest_ts
                                .map_or(hb.record_timestamp, |ts| ts.max(hb.record_timestamp)),
                        );
                    }
                }
            }
            if let Some(losses) = self.losses.get(&obs.product_id) {
                obs.data_loss.extend(losses.iter().map(|l| DataLoss {
                    topic: l.topic.clone(),
                    partition: l.partition,
                    from_offset: l.from_offset,
                    to_offset: l.to_offset,
                    at_ms: l.emitted_at,
                }));
            }
        }
    }
}

/// Reads `_mesh.progress` from its beginning (it is small: compacted per partition key).
#[derive(Debug)]
pub struct ProgressTailer(TopicTailer);

impl ProgressTailer {
    pub fn new(
        kafka: &KafkaConfig,
        topic: &str,
        timeout: Duration,
    ) -> Result<Self, FreshnessError> {
        TopicTailer::new(kafka, topic, "freshness-progress", timeout).map(Self)
    }

    /// Every event available now. Unreadable records are logged and skipped.
    pub fn poll(&mut self) -> Result<Vec<GatewayEvent>, String> {
        let mut out = Vec::new();
        self.0.poll(Duration::ZERO, |m| {
            let Some(v) = m.payload() else { return };
            match GatewayEvent::from_record(v) {
                Ok(e) => out.push(e),
                Err(e) => {
                    tracing::warn!(offset = m.offset(), error = %e, "unreadable progress record")
                }
            }
        })?;
        Ok(out)
    }
}

/// The watermark source with the gateway's reports folded in.
pub struct GatewaySource {
    inner: Box<dyn ObservationSource>,
    tailer: ProgressTailer,
    reports: GatewayReports,
    max_age_ms: i64,
    hold_ms: i64,
}

impl std::fmt::Debug for GatewaySource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewaySource")
            .field("tailer", &self.tailer)
            .finish_non_exhaustive()
    }
}

impl GatewaySource {
    pub fn new(
        inner: Box<dyn ObservationSource>,
        tailer: ProgressTailer,
        heartbeat_max_age: Duration,
        data_loss_hold: Duration,
    ) -> Self {
        Self {
            inner,
            tailer,
            reports: GatewayReports::default(),
            max_age_ms: heartbeat_max_age.as_millis() as i64,
            hold_ms: data_loss_hold.as_millis() as i64,
        }
    }
}

impl ObservationSource for GatewaySource {
    fn observe(&mut self, targets: &[Target], now_ms: i64) -> Vec<ProductObservation> {
        match self.tailer.poll() {
            Ok(events) => events.into_iter().for_each(|e| self.reports.apply(e)),
            // No gateway yet (topic missing) or a broker hiccup: watermarks alone still work.
            Err(e) => tracing::debug!(error = %e, "progress topic not readable"),
        }
        let mut targets = targets.to_vec();
        self.reports.narrow(&mut targets, now_ms - self.max_age_ms);
        let mut obs = self.inner.observe(&targets, now_ms);
        self.reports.merge(&mut obs, now_ms - self.hold_ms);
        obs
    }
}
