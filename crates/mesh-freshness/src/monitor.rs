//! The monitor: contracts in, observations in, alert events and a snapshot out. No I/O — the
//! service ([`crate::service`]) feeds it from Kafka on a timer; tests feed it with a manual
//! clock.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use mesh_contract::ResolvedContract;
use mesh_contract::model::Status as ContractStatus;

use crate::alerts::{AlertBook, AlertState, Damping, Transition};
use crate::annotate::describe;
use crate::config::FreshnessConfig;
use crate::evaluate::{self, Reading};
use crate::model::{AlertKey, AlertKind, Severity, Status, Subject};
use crate::observe::{DataLoss, ProductObservation, Target, TopicObservation};
use crate::silences::Silences;
use crate::snapshot::{AlertView, GroupView, PartitionView, ProductView};

/// A transition with what a receiver needs to act on it.
#[derive(Clone, Debug, PartialEq)]
pub struct AlertEvent {
    pub transition: Transition,
    pub labels: BTreeMap<String, String>,
    pub summary: String,
    pub description: String,
    pub runbook_url: String,
    pub silenced: bool,
}

#[derive(Debug)]
struct GroupHistory {
    offsets: Vec<(i32, Option<i64>)>,
    changed_at: i64,
}

/// Everything the monitor holds.
#[derive(Debug)]
pub struct Monitor {
    config: FreshnessConfig,
    /// `_mesh.contracts` by record key (`<product id>/v<major>`).
    records: BTreeMap<String, Arc<ResolvedContract>>,
    /// The contract evaluated per product id: the highest non-retired major this shard owns.
    products: BTreeMap<String, Arc<ResolvedContract>>,
    book: AlertBook,
    pub silences: Silences,
    groups: HashMap<(String, String), GroupHistory>,
    views: BTreeMap<String, ProductView>,
    evaluated_at_ms: i64,
    last_full_refresh_ms: i64,
    /// The data losses last reported per product (for the alert's description).
    losses: HashMap<String, Vec<DataLoss>>,
}

impl Monitor {
    pub fn new(config: FreshnessConfig) -> Self {
        let book = AlertBook::new(Damping {
            hysteresis: config.hysteresis,
            resolve_after_ms: config.resolve_after.as_millis() as u64,
        });
        Self {
            config,
            records: BTreeMap::new(),
            products: BTreeMap::new(),
            book,
            silences: Silences::default(),
            groups: HashMap::new(),
            views: BTreeMap::new(),
            evaluated_at_ms: 0,
            last_full_refresh_ms: i64::MIN / 2,
            losses: HashMap::new(),
        }
    }

    /// Applies one `_mesh.contracts` record (`None` = tombstone: retired).
    pub fn apply_contract(&mut self, key: &str, contract: Option<ResolvedContract>) {
        self.apply_contracts([(key.to_owned(), contract)]);
    }

    /// Applies `_mesh.contracts` records in order, then works out the evaluated set once (not
    /// once per record: a catch-up reads every contract).
    pub fn apply_contracts(
        &mut self,
        updates: impl IntoIterator<Item = (String, Option<ResolvedContract>)>,
    ) {
        let mut changed = false;
        for (key, contract) in updates {
            changed = true;
            match contract {
                Some(c) => self.records.insert(key, Arc::new(c)),
                None => self.records.remove(&key),
            };
        }
        if !changed {
            return;
        }
        self.products.clear();
        for c in self.records.values() {
            if c.status == ContractStatus::Retired || !self.config.shard.owns(&c.product_id) {
                continue;
            }
            let newer = self
                .products
                .get(&c.product_id)
                .is_none_or(|cur| cur.major < c.major);
            if newer {
                self.products.insert(c.product_id.clone(), Arc::clone(c));
            }
        }
    }

    /// What to observe this round. Between full refreshes (`full_refresh`), a product's
    /// partitions are due only if they could matter for alerting before the next round but
    /// one: their age could reach the warn threshold, they have an active alert, or their
    /// status is anything but fresh/idle. New records can only make the others fresher, so
    /// skipping them never delays a breach; their displayed age is an upper bound until the
    /// next full refresh.
    pub fn targets(&mut self, now: i64) -> Vec<Target> {
        let full = now - self.last_full_refresh_ms >= self.config.full_refresh.as_millis() as i64;
        if full {
            self.last_full_refresh_ms = now;
        }
        let horizon = 2 * self.config.check_interval.as_millis() as i64;
        let mut alerted: HashMap<&str, HashSet<i32>> = HashMap::new();
        for a in self.book.active() {
            if let Subject::Partition(p) = a.key.subject {
                alerted
                    .entry(a.key.product_id.as_str())
                    .or_default()
                    .insert(p);
            }
        }
        self.products
            .values()
            .map(|c| {
                let due = if full {
                    None
                } else {
                    self.views.get(&c.product_id).and_then(|view| {
                        if view.partitions.is_empty() {
                            return None;
                        }
                        let warn = c.sla.freshness.as_ref().map(|f| evaluate::thresholds(f).0);
                        let alerts = alerted.get(c.product_id.as_str());
                        Some(
                            view.partitions
                                .iter()
                                .filter(|p| {
                                    let quiet = matches!(p.status, Status::Fresh | Status::Idle);
                                    let near = match (warn, p.age_ms) {
                                        (Some(w), Some(age)) => {
                                            age + (now - self.evaluated_at_ms) + horizon >= w as i64
                                        }
                                        _ => false,
                                    };
                                    !quiet
                                        || near
                                        || alerts.is_some_and(|a| a.contains(&p.partition))
                                })
                                .map(|p| p.partition)
                                .collect(),
                        )
                    })
                };
                Target {
                    product_id: c.product_id.clone(),
                    topic: c.topics.validated.clone(),
                    groups: self
                        .config
                        .groups
                        .get(&c.product_id)
                        .cloned()
                        .unwrap_or_default(),
                    due,
                }
            })
            .collect()
    }

    /// Evaluates one round of observations at `now`; returns the alert transitions.
    pub fn evaluate(&mut self, observations: Vec<ProductObservation>, now: i64) -> Vec<AlertEvent> {
        let mut out = Vec::new();
        let mut views = BTreeMap::new();
        for obs in observations {
            let Some(contract) = self.products.get(&obs.product_id).cloned() else {
                continue;
            };
            let view = self.evaluate_product(&contract, obs, now, &mut out);
            views.insert(contract.product_id.clone(), view);
        }
        let products: HashSet<&String> = self.products.keys().collect();
        self.book.resolve_unseen(
            &HashSet::new(),
            |k| !products.contains(&k.product_id),
            now,
            &mut out,
        );
        self.views = views;
        self.evaluated_at_ms = now;
        // One pass over the active alerts (not one per product); views start with none.
        for a in self.book.active() {
            if let Some(view) = self.views.get_mut(&a.key.product_id) {
                view.alerts
                    .push(AlertView::of(a, self.silences.silenced(&a.key, now)));
            }
        }
        out.into_iter().map(|t| self.decorate(t, now)).collect()
    }

    fn evaluate_product(
        &mut self,
        contract: &ResolvedContract,
        obs: ProductObservation,
        now: i64,
        out: &mut Vec<Transition>,
    ) -> ProductView {
        let pid = contract.product_id.as_str();
        let sla = contract.sla.freshness.as_ref();
        let for_ms = sla.map_or(0, |s| s.for_ms);
        let skew = self.config.clock_skew_tolerance.as_millis() as u64;
        let mut round = Round {
            seen: HashSet::new(),
            out,
            now,
        };
        let mut view = ProductView::new(contract);
        let product_key = |kind| AlertKey::new(pid, Subject::Product, kind);
        match obs.topic {
            TopicObservation::Unreachable(reason) => {
                round.feed(
                    &mut self.book,
                    product_key(AlertKind::BrokerUnreachable),
                    Reading::Level(Some(Severity::Critical)),
                    0,
                );
                // Nothing is known: every other alert keeps its state until the broker answers.
                for a in self.book.active() {
                    if a.key.product_id == pid {
                        round.seen.insert(a.key.clone());
                    }
                }
                view.status = Status::BrokerUnreachable;
                view.reason = Some(reason);
                // Keep the last known partitions and groups, marked as stale by the status.
                if let Some(prev) = self.views.get(pid) {
                    view.partitions = prev.partitions.clone();
                    view.groups = prev.groups.clone();
                }
            }
            TopicObservation::Missing => {
                round.feed(
                    &mut self.book,
                    product_key(AlertKind::TopicMissing),
                    Reading::Level(Some(Severity::Critical)),
                    0,
                );
                view.status = Status::TopicMissing;
                view.reason = Some(format!(
                    "topic {} does not exist",
                    contract.topics.validated
                ));
            }
            TopicObservation::Partitions(parts) => {
                let mut worst: Option<Status> = None;
                for p in &parts {
                    let e = evaluate::partition(sla, p.newest_ts, now, skew);
                    let subject = Subject::Partition(p.partition);
                    let key = AlertKey::new(pid, subject.clone(), AlertKind::Freshness);
                    match e.freshness {
                        Some(r) => round.feed(&mut self.book, key, r, for_ms),
                        None => {
                            round.seen.insert(key);
                        }
                    }
                    round.feed(
                        &mut self.book,
                        AlertKey::new(pid, subject, AlertKind::ClockSkew),
                        e.clock_skew,
                        0,
                    );
                    if e.status != Status::NoData
                        && worst.is_none_or(|w| e.status.rank() > w.rank())
                    {
                        worst = Some(e.status);
                    }
                    if let Some(age) = e.age_ms {
                        view.age_ms = Some(view.age_ms.map_or(age, |a: i64| a.max(age)));
                    }
                    view.partitions.push(PartitionView {
                        partition: p.partition,
                        status: e.status,
                        age_ms: e.age_ms,
                        age_seconds: e.age_ms.map(|a| a as f64 / 1000.0),
                        high_watermark: p.high_watermark,
                    });
                }
                view.status = worst.unwrap_or(if sla.is_some() {
                    Status::NoData
                } else {
                    Status::NoSla
                });
            }
        }
        for g in &obs.groups {
            let history_key = (pid.to_owned(), g.group.clone());
            let offsets: Vec<(i32, Option<i64>)> = g
                .partitions
                .iter()
                .map(|p| (p.partition, p.committed))
                .collect();
            let hist = self.groups.entry(history_key).or_insert(GroupHistory {
                offsets: offsets.clone(),
                changed_at: now,
            });
            if hist.offsets != offsets {
                hist.offsets = offsets;
                hist.changed_at = now;
            }
            let lag_ms = g
                .partitions
                .iter()
                .filter_map(|p| p.committed_ts.map(|ts| now - ts))
                .max()
                .unwrap_or(0);
            let offset_lag: i64 = g.partitions.iter().map(|p| p.offset_lag()).sum();
            let (mut status, reading) = evaluate::group_lag(sla, lag_ms, now);
            let stopped = offset_lag > 0
                && now - hist.changed_at >= self.config.group_stopped_after.as_millis() as i64;
            let subject = Subject::Group(g.group.clone());
            round.feed(
                &mut self.book,
                AlertKey::new(pid, subject.clone(), AlertKind::ConsumerLag),
                reading,
                for_ms,
            );
            round.feed(
                &mut self.book,
                AlertKey::new(pid, subject, AlertKind::ConsumerStopped),
                Reading::Level(stopped.then_some(Severity::Warning)),
                0,
            );
            if stopped && status.rank() < Status::Stopped.rank() {
                status = Status::Stopped;
            }
            view.groups.push(GroupView {
                group: g.group.clone(),
                status,
                lag_seconds: lag_ms as f64 / 1000.0,
                offset_lag,
                last_commit_change_ms: hist.changed_at,
            });
        }
        if !obs.data_loss.is_empty() {
            self.losses.insert(pid.to_owned(), obs.data_loss);
            round.feed(
                &mut self.book,
                product_key(AlertKind::DataLoss),
                Reading::Level(Some(Severity::Critical)),
                0,
            );
        } else if self.book.get(&product_key(AlertKind::DataLoss)).is_some() {
            round.feed(
                &mut self.book,
                product_key(AlertKind::DataLoss),
                Reading::CLEAR,
                0,
            );
        }
        self.book
            .resolve_unseen(&round.seen, |k| k.product_id == pid, now, round.out);
        view
    }

    fn decorate(&self, t: Transition, now: i64) -> AlertEvent {
        let contract = self
            .records
            .values()
            .find(|c| c.product_id == t.key.product_id);
        let (labels, summary, mut description, runbook_url) = describe(
            &self.config,
            contract.map(|c| c.as_ref()),
            &t.key,
            t.severity,
            t.value_ms,
        );
        if t.key.kind == AlertKind::DataLoss
            && let Some(losses) = self.losses.get(&t.key.product_id)
        {
            description.push_str(&crate::annotate::losses(losses));
        }
        AlertEvent {
            silenced: self.silences.silenced(&t.key, now),
            transition: t,
            labels,
            summary,
            description,
            runbook_url,
        }
    }

    /// Firing, unsilenced alerts as events (for re-sending to receivers).
    pub fn firing_events(&self, now: i64) -> Vec<AlertEvent> {
        self.book
            .active()
            .filter(|a| a.state == AlertState::Firing && !self.silences.silenced(&a.key, now))
            .map(|a| {
                let t = Transition {
                    key: a.key.clone(),
                    fingerprint: a.fingerprint.clone(),
                    state: AlertState::Firing,
                    severity: a.severity,
                    previous_severity: None,
                    was_firing: true,
                    at_ms: now,
                    starts_at_ms: a.firing_since_ms.unwrap_or(a.active_since_ms),
                    value_ms: a.value_ms,
                };
                self.decorate(t, now)
            })
            .collect()
    }

    /// The latest evaluated view of every product.
    pub fn views(&self) -> impl Iterator<Item = &ProductView> {
        self.views.values()
    }

    pub fn view(&self, product_id: &str) -> Option<&ProductView> {
        self.views.get(product_id)
    }

    pub fn active_alerts(&self) -> impl Iterator<Item = &crate::alerts::Alert> {
        self.book.active()
    }

    pub fn config(&self) -> &FreshnessConfig {
        &self.config
    }
}

/// One product's evaluation: which alert keys were fed.
struct Round<'a> {
    seen: HashSet<AlertKey>,
    out: &'a mut Vec<Transition>,
    now: i64,
}

impl Round<'_> {
    fn feed(&mut self, book: &mut AlertBook, key: AlertKey, r: Reading, for_ms: u64) {
        book.observe(&key, r, for_ms, self.now, self.out);
        self.seen.insert(key);
    }
}

#[cfg(test)]
mod tests {
    use mesh_contract::model::Freshness;

    use super::*;
    use crate::observe::PartitionObservation;

    fn contract() -> ResolvedContract {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/examples/orders");
        let text = std::fs::read_to_string(dir.join("order-placed.odcs.yaml")).unwrap();
        let avsc = std::fs::read_to_string(dir.join("order-placed.avsc")).unwrap();
        let files = mesh_contract::MemoryFiles([("order-placed.avsc".to_owned(), avsc)].into());
        let mut c = mesh_contract::load_contract("c.yaml", &text, &files)
            .contract
            .unwrap();
        c.sla.freshness = Some(Freshness {
            objective_ms: 1_000,
            warn_ms: 1_000,
            critical_ms: 5_000,
            for_ms: 0,
            active_hours: None,
            allowed_idle_ms: None,
            element: None,
        });
        c
    }

    fn obs(c: &ResolvedContract, ts: i64, loss: bool) -> Vec<ProductObservation> {
        vec![ProductObservation {
            product_id: c.product_id.clone(),
            topic: TopicObservation::Partitions(vec![PartitionObservation {
                partition: 0,
                high_watermark: 1,
                newest_ts: Some(ts),
            }]),
            groups: Vec::new(),
            data_loss: if loss {
                vec![DataLoss {
                    topic: "orders.raw".into(),
                    partition: 0,
                    from_offset: 7,
                    to_offset: 9,
                    at_ms: ts,
                }]
            } else {
                Vec::new()
            },
        }]
    }

    #[test]
    fn clock_skew_holds_a_firing_staleness_alert_and_data_loss_fires() {
        let c = contract();
        let mut m = Monitor::new(FreshnessConfig::default());
        m.apply_contract(&c.record_key(), Some(c.clone()));
        assert_eq!(m.targets(0).len(), 1);
        let ev = m.evaluate(obs(&c, 0, false), 2_000);
        assert_eq!(ev[0].transition.key.kind, AlertKind::Freshness);
        // A producer with a clock an hour ahead: skew fires, staleness neither resolves nor
        // reads as fresh.
        let ev = m.evaluate(obs(&c, 3_600_000, false), 100_000);
        let kinds: Vec<_> = ev.iter().map(|e| e.transition.key.kind).collect();
        assert_eq!(kinds, [AlertKind::ClockSkew]);
        assert_eq!(m.view(&c.product_id).unwrap().status, Status::ClockSkew);
        assert!(
            m.active_alerts()
                .any(|a| a.key.kind == AlertKind::Freshness)
        );
        let ev = m.evaluate(obs(&c, 100_000, true), 100_000);
        assert!(ev.iter().any(|e| {
            e.transition.key.kind == AlertKind::DataLoss
                && e.transition.severity == Severity::Critical
                && e.description
                    .contains("offsets 7-9 of orders.raw[0] (3 records)")
        }));
        // A retired contract resolves everything of its product.
        m.apply_contract(&c.record_key(), None);
        let ev = m.evaluate(Vec::new(), 101_000);
        assert!(
            ev.iter()
                .all(|e| e.transition.state == AlertState::Resolved)
        );
        assert_eq!(m.active_alerts().count(), 0);
    }

    #[test]
    fn between_full_refreshes_only_partitions_near_a_threshold_are_due() {
        let mut c = contract();
        if let Some(f) = c.sla.freshness.as_mut() {
            f.warn_ms = 60_000;
            f.critical_ms = 120_000;
        }
        let mut m = Monitor::new(FreshnessConfig::default());
        m.apply_contract(&c.record_key(), Some(c.clone()));
        assert_eq!(
            m.targets(0)[0].due,
            None,
            "the first round reads everything"
        );
        m.evaluate(obs(&c, 0, false), 1_000);
        let due = |m: &mut Monitor, now| m.targets(now)[0].due.clone();
        // 1 s old, 60 s allowed, 500 ms rounds: nothing to read.
        assert_eq!(due(&mut m, 1_500), Some(HashSet::new()));
        // Everything again once `full_refresh` (10 s) has passed since the last full read.
        assert_eq!(due(&mut m, 10_001), None);
        assert_eq!(due(&mut m, 12_000), Some(HashSet::new()));
        assert_eq!(due(&mut m, 55_000), None);
        // Within two rounds of the threshold: due.
        assert_eq!(due(&mut m, 59_500), Some(HashSet::from([0])));
    }
}
