//! The alert state machine, one per [`AlertKey`]: inactive → pending (condition holds, `for`
//! not yet elapsed) → firing → resolved. Every transition is returned as a [`Transition`] for
//! the sinks. Pure: time is the `now` passed in.
//!
//! Flapping is prevented twice over: a firing alert resolves (or drops from critical to
//! warning) only once the value is below its threshold by the hysteresis margin, *and* has
//! stayed there for `resolve_after`. Escalation to critical is immediate.

use std::collections::{BTreeMap, HashSet};

use serde::Serialize;

use crate::evaluate::Reading;
use crate::model::{AlertKey, Severity};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    Pending,
    Firing,
    Resolved,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertState::Pending => "pending",
            AlertState::Firing => "firing",
            AlertState::Resolved => "resolved",
        }
    }
}

/// An alert that is pending or firing.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Alert {
    pub key: AlertKey,
    pub fingerprint: String,
    pub state: AlertState,
    pub severity: Severity,
    /// When the condition started to hold (pending start).
    pub active_since_ms: i64,
    /// When it started firing.
    pub firing_since_ms: Option<i64>,
    /// The last measured value (age or lag), if the kind has one.
    pub value_ms: Option<i64>,
    #[serde(skip)]
    clear_since_ms: Option<i64>,
}

/// One state change.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Transition {
    pub key: AlertKey,
    pub fingerprint: String,
    pub state: AlertState,
    pub severity: Severity,
    /// Set when a firing alert changed severity: receivers that key alerts by labels (as
    /// Alertmanager does) get this severity resolved.
    pub previous_severity: Option<Severity>,
    /// Whether the alert had fired (a pending alert that clears resolves without ever firing).
    pub was_firing: bool,
    pub at_ms: i64,
    /// When the alert started firing (or pending, if it never fired).
    pub starts_at_ms: i64,
    pub value_ms: Option<i64>,
}

/// Hysteresis settings.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Damping {
    /// Fraction of the threshold the value must drop below to clear (0.1 = 10 %).
    pub hysteresis: f64,
    /// How long it must stay clear before resolving.
    pub resolve_after_ms: u64,
}

/// Every pending and firing alert.
#[derive(Debug)]
pub struct AlertBook {
    alerts: BTreeMap<AlertKey, Alert>,
    damping: Damping,
}

impl AlertBook {
    pub fn new(damping: Damping) -> Self {
        Self {
            alerts: BTreeMap::new(),
            damping,
        }
    }

    pub fn get(&self, key: &AlertKey) -> Option<&Alert> {
        self.alerts.get(key)
    }

    /// Pending and firing alerts, in key order.
    pub fn active(&self) -> impl Iterator<Item = &Alert> {
        self.alerts.values()
    }

    /// Feeds one reading for `key`; transitions are appended to `out`.
    pub fn observe(
        &mut self,
        key: &AlertKey,
        reading: Reading,
        for_ms: u64,
        now: i64,
        out: &mut Vec<Transition>,
    ) {
        let sev = reading.severity();
        let Some(alert) = self.alerts.get_mut(key) else {
            if let Some(s) = sev {
                let state = if for_ms == 0 {
                    AlertState::Firing
                } else {
                    AlertState::Pending
                };
                let alert = Alert {
                    key: key.clone(),
                    fingerprint: key.fingerprint(),
                    state,
                    severity: s,
                    active_since_ms: now,
                    firing_since_ms: (state == AlertState::Firing).then_some(now),
                    value_ms: reading.value_ms(),
                    clear_since_ms: None,
                };
                out.push(transition(&alert, state, None, now));
                self.alerts.insert(key.clone(), alert);
            }
            return;
        };
        alert.value_ms = reading.value_ms();
        match alert.state {
            AlertState::Pending => match sev {
                None => {
                    out.push(transition(alert, AlertState::Resolved, None, now));
                    self.alerts.remove(key);
                }
                Some(s) => {
                    alert.severity = s;
                    if now - alert.active_since_ms >= for_ms as i64 {
                        alert.state = AlertState::Firing;
                        alert.firing_since_ms = Some(now);
                        out.push(transition(alert, AlertState::Firing, None, now));
                    }
                }
            },
            AlertState::Firing | AlertState::Resolved => {
                let current = alert.severity;
                if sev.is_some_and(|s| s > current) {
                    alert.severity = sev.unwrap_or(current);
                    alert.clear_since_ms = None;
                    out.push(transition(alert, AlertState::Firing, Some(current), now));
                } else if reading.below_clear(current, self.damping.hysteresis) {
                    let since = *alert.clear_since_ms.get_or_insert(now);
                    if now - since >= self.damping.resolve_after_ms as i64 {
                        if current == Severity::Critical
                            && !reading.below_clear(Severity::Warning, self.damping.hysteresis)
                        {
                            alert.severity = Severity::Warning;
                            alert.clear_since_ms = None;
                            out.push(transition(alert, AlertState::Firing, Some(current), now));
                        } else {
                            out.push(transition(alert, AlertState::Resolved, None, now));
                            self.alerts.remove(key);
                        }
                    }
                } else {
                    alert.clear_since_ms = None;
                }
            }
        }
    }

    /// Resolves every alert whose key is not in `seen` and matches `scope` (a partition or
    /// group that vanished, a product whose contract was retired): nothing left to alert on.
    pub fn resolve_unseen(
        &mut self,
        seen: &HashSet<AlertKey>,
        scope: impl Fn(&AlertKey) -> bool,
        now: i64,
        out: &mut Vec<Transition>,
    ) {
        let gone: Vec<AlertKey> = self
            .alerts
            .keys()
            .filter(|k| scope(k) && !seen.contains(*k))
            .cloned()
            .collect();
        for k in gone {
            if let Some(a) = self.alerts.remove(&k) {
                out.push(transition(&a, AlertState::Resolved, None, now));
            }
        }
    }
}

fn transition(a: &Alert, state: AlertState, previous: Option<Severity>, now: i64) -> Transition {
    Transition {
        key: a.key.clone(),
        fingerprint: a.fingerprint.clone(),
        state,
        severity: a.severity,
        previous_severity: previous,
        was_firing: a.firing_since_ms.is_some(),
        at_ms: now,
        starts_at_ms: a.firing_since_ms.unwrap_or(a.active_since_ms),
        value_ms: a.value_ms,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AlertKind, Subject};

    fn key() -> AlertKey {
        AlertKey::new("sales.orders", Subject::Partition(0), AlertKind::Freshness)
    }

    fn age(v: i64) -> Reading {
        Reading::Measured {
            value_ms: v,
            warn_ms: 1_000,
            critical_ms: 5_000,
        }
    }

    fn book() -> AlertBook {
        AlertBook::new(Damping {
            hysteresis: 0.1,
            resolve_after_ms: 2_000,
        })
    }

    #[test]
    fn pending_then_firing_after_for() {
        let (mut b, mut out) = (book(), Vec::new());
        b.observe(&key(), age(1_500), 3_000, 0, &mut out);
        assert_eq!(out.last().map(|t| t.state), Some(AlertState::Pending));
        b.observe(&key(), age(2_500), 3_000, 2_999, &mut out);
        assert_eq!(out.len(), 1, "still pending before `for` elapsed");
        b.observe(&key(), age(4_500), 3_000, 3_000, &mut out);
        let t = out.last().unwrap();
        assert_eq!(
            (t.state, t.severity),
            (AlertState::Firing, Severity::Warning)
        );
        assert_eq!(t.fingerprint, key().fingerprint());
    }

    #[test]
    fn pending_that_clears_never_fires() {
        let (mut b, mut out) = (book(), Vec::new());
        b.observe(&key(), age(1_500), 3_000, 0, &mut out);
        b.observe(&key(), age(10), 3_000, 1_000, &mut out);
        let t = out.last().unwrap();
        assert_eq!(t.state, AlertState::Resolved);
        assert!(!t.was_firing);
        assert!(b.get(&key()).is_none());
    }

    #[test]
    fn escalates_then_steps_down_then_resolves_with_hysteresis() {
        let (mut b, mut out) = (book(), Vec::new());
        b.observe(&key(), age(1_200), 0, 0, &mut out);
        b.observe(&key(), age(5_200), 0, 1_000, &mut out);
        let t = out.last().unwrap();
        assert_eq!(t.severity, Severity::Critical);
        assert_eq!(t.previous_severity, Some(Severity::Warning));
        // Below critical by the margin, above warning: steps down after resolve_after.
        b.observe(&key(), age(2_000), 0, 2_000, &mut out);
        b.observe(&key(), age(2_000), 0, 4_000, &mut out);
        let t = out.last().unwrap();
        assert_eq!(
            (t.state, t.severity),
            (AlertState::Firing, Severity::Warning)
        );
        b.observe(&key(), age(100), 0, 5_000, &mut out);
        assert_eq!(out.len(), 3);
        b.observe(&key(), age(100), 0, 7_000, &mut out);
        let t = out.last().unwrap();
        assert_eq!(t.state, AlertState::Resolved);
        assert!(t.was_firing);
    }

    #[test]
    fn no_flapping_around_the_threshold() {
        let (mut b, mut out) = (book(), Vec::new());
        // Oscillates 950..1050 around the 1000 ms warn threshold every 500 ms for a minute.
        for i in 0..120 {
            let v = if i % 2 == 0 { 1_050 } else { 950 };
            b.observe(&key(), age(v), 0, i * 500, &mut out);
        }
        assert_eq!(out.len(), 1, "{out:#?}");
        assert_eq!(out[0].state, AlertState::Firing);
        // A brief dip below the margin shorter than resolve_after does not resolve either.
        b.observe(&key(), age(0), 0, 60_000, &mut out);
        b.observe(&key(), age(1_050), 0, 61_000, &mut out);
        b.observe(&key(), age(0), 0, 62_000, &mut out);
        assert_eq!(out.len(), 1);
    }

    #[test]
    fn vanished_keys_resolve() {
        let (mut b, mut out) = (book(), Vec::new());
        b.observe(&key(), age(9_000), 0, 0, &mut out);
        b.resolve_unseen(&HashSet::new(), |_| true, 10, &mut out);
        assert_eq!(out.last().map(|t| t.state), Some(AlertState::Resolved));
        assert_eq!(b.active().count(), 0);
    }

    #[test]
    fn fingerprints_are_stable_and_distinct() {
        let a = key().fingerprint();
        assert_eq!(a, key().fingerprint());
        assert_eq!(a.len(), 16);
        let other = AlertKey::new("sales.orders", Subject::Partition(1), AlertKind::Freshness);
        assert_ne!(a, other.fingerprint());
    }
}
