//! Pure evaluation: an SLA, a measurement and `now` in, a status and a [`Reading`] for the alert
//! state machine out. No I/O and no clock here.

use mesh_contract::model::Freshness;

use crate::model::{Severity, Status};

/// What the alert state machine is fed for one alert key on one tick.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Reading {
    /// A measured duration against warn/critical thresholds (dbt's warn_after / error_after).
    Measured {
        value_ms: i64,
        warn_ms: u64,
        critical_ms: u64,
    },
    /// A condition that holds or not (clock skew, topic missing, broker unreachable, ...).
    Level(Option<Severity>),
}

impl Reading {
    pub const CLEAR: Reading = Reading::Level(None);

    /// The severity the reading calls for, by the strict thresholds.
    pub fn severity(&self) -> Option<Severity> {
        match *self {
            Reading::Measured {
                value_ms,
                warn_ms,
                critical_ms,
            } => {
                if value_ms > critical_ms as i64 {
                    Some(Severity::Critical)
                } else if value_ms > warn_ms as i64 {
                    Some(Severity::Warning)
                } else {
                    None
                }
            }
            Reading::Level(s) => s,
        }
    }

    /// Whether the reading is clearly below `sev`'s threshold: by `hysteresis` (a fraction of
    /// the threshold) for measured values, so a value hovering at the threshold neither
    /// resolves nor re-fires.
    pub fn below_clear(&self, sev: Severity, hysteresis: f64) -> bool {
        match *self {
            Reading::Measured {
                value_ms,
                warn_ms,
                critical_ms,
            } => {
                let threshold = match sev {
                    Severity::Warning => warn_ms,
                    Severity::Critical => critical_ms,
                };
                (value_ms as f64) <= threshold as f64 * (1.0 - hysteresis)
            }
            Reading::Level(s) => s.is_none_or(|s| s < sev),
        }
    }

    pub fn value_ms(&self) -> Option<i64> {
        match *self {
            Reading::Measured { value_ms, .. } => Some(value_ms),
            Reading::Level(_) => None,
        }
    }
}

/// The thresholds that apply, with the allowed idleness folded in.
pub fn thresholds(sla: &Freshness) -> (u64, u64) {
    let idle = sla.allowed_idle_ms.unwrap_or(0);
    (sla.warn_ms.max(idle), sla.critical_ms.max(idle))
}

/// The outcome for one partition's producer-side freshness.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct PartitionEval {
    pub status: Status,
    /// now − newest record timestamp (negative under clock skew); `None` without records.
    pub age_ms: Option<i64>,
    /// `None`: hold the freshness alert's state (the age cannot be trusted).
    pub freshness: Option<Reading>,
    pub clock_skew: Reading,
}

/// Producer-side freshness of one partition whose newest record has `newest_ts` (None: empty).
pub fn partition(
    sla: Option<&Freshness>,
    newest_ts: Option<i64>,
    now: i64,
    skew_tolerance_ms: u64,
) -> PartitionEval {
    let age_ms = newest_ts.map(|ts| now - ts);
    let skewed = age_ms.is_some_and(|a| a < -(skew_tolerance_ms as i64));
    let clock_skew = Reading::Level(skewed.then_some(Severity::Warning));
    let mut eval = PartitionEval {
        status: Status::NoSla,
        age_ms,
        freshness: Some(Reading::CLEAR),
        clock_skew,
    };
    if skewed {
        // The age is meaningless; the freshness alert keeps its state rather than resolving on
        // a timestamp nobody can trust.
        eval.status = Status::ClockSkew;
        eval.freshness = None;
        return eval;
    }
    let Some(sla) = sla else { return eval };
    if sla.active_hours.as_ref().is_some_and(|h| !h.contains(now)) {
        eval.status = Status::OutsideHours;
        return eval;
    }
    let Some(age) = age_ms else {
        eval.status = Status::NoData;
        return eval;
    };
    let (warn_ms, critical_ms) = thresholds(sla);
    let reading = Reading::Measured {
        value_ms: age.max(0),
        warn_ms,
        critical_ms,
    };
    eval.freshness = Some(reading);
    eval.status = match reading.severity() {
        Some(Severity::Critical) => Status::Critical,
        Some(Severity::Warning) => Status::Warning,
        None if age > sla.warn_ms as i64 => Status::Idle,
        None => Status::Fresh,
    };
    eval
}

/// Consumer-side time lag of one group on one product, held to the product's freshness SLA: a
/// consumer further behind than the SLA serves data older than promised.
pub fn group_lag(sla: Option<&Freshness>, lag_ms: i64, now: i64) -> (Status, Reading) {
    let Some(sla) = sla else {
        return (Status::NoSla, Reading::CLEAR);
    };
    if sla.active_hours.as_ref().is_some_and(|h| !h.contains(now)) {
        return (Status::OutsideHours, Reading::CLEAR);
    }
    let reading = Reading::Measured {
        value_ms: lag_ms.max(0),
        warn_ms: sla.warn_ms,
        critical_ms: sla.critical_ms,
    };
    let status = match reading.severity() {
        Some(Severity::Critical) => Status::Critical,
        Some(Severity::Warning) => Status::Warning,
        None => Status::Fresh,
    };
    (status, reading)
}

#[cfg(test)]
mod tests {
    use mesh_contract::model::ActiveHours;

    use super::*;

    fn sla(warn: u64, crit: u64) -> Freshness {
        Freshness {
            objective_ms: warn,
            warn_ms: warn,
            critical_ms: crit,
            for_ms: 0,
            active_hours: None,
            allowed_idle_ms: None,
            element: None,
        }
    }

    #[test]
    fn thresholds_give_status_and_severity() {
        let s = sla(1_000, 5_000);
        let at = |age: i64| partition(Some(&s), Some(10_000 - age), 10_000, 100);
        assert_eq!(at(500).status, Status::Fresh);
        assert_eq!(
            at(1_000).status,
            Status::Fresh,
            "at the threshold is still within"
        );
        assert_eq!(at(1_001).status, Status::Warning);
        assert_eq!(at(5_001).status, Status::Critical);
        assert_eq!(
            at(5_001).freshness.and_then(|r| r.severity()),
            Some(Severity::Critical)
        );
    }

    #[test]
    fn future_timestamps_are_skew_not_fresh() {
        let s = sla(1_000, 5_000);
        let e = partition(Some(&s), Some(20_000), 10_000, 1_000);
        assert_eq!(e.status, Status::ClockSkew);
        assert_eq!(e.clock_skew.severity(), Some(Severity::Warning));
        assert_eq!(e.freshness, None, "the staleness alert holds its state");
        // Within the tolerance it is just fresh.
        assert_eq!(
            partition(Some(&s), Some(10_500), 10_000, 1_000).status,
            Status::Fresh
        );
    }

    #[test]
    fn allowed_idleness_and_active_hours_do_not_fire() {
        let mut s = sla(1_000, 5_000);
        s.allowed_idle_ms = Some(3_600_000);
        let e = partition(Some(&s), Some(0), 1_800_000, 100);
        assert_eq!(e.status, Status::Idle);
        assert_eq!(e.freshness.and_then(|r| r.severity()), None);
        assert_eq!(
            partition(Some(&s), Some(0), 3_700_000, 100).status,
            Status::Critical
        );

        let mut s = sla(1_000, 5_000);
        // Thursday 1970-01-01 is day 4; Mondays only.
        s.active_hours = Some(ActiveHours {
            days: vec![1],
            start_minute: 0,
            end_minute: 1440,
        });
        let e = partition(Some(&s), Some(0), 1_000_000, 100);
        assert_eq!(e.status, Status::OutsideHours);
        assert_eq!(e.freshness, Some(Reading::CLEAR));
    }

    #[test]
    fn empty_partition_is_no_data_not_fresh() {
        let s = sla(1_000, 5_000);
        assert_eq!(partition(Some(&s), None, 10, 0).status, Status::NoData);
        assert_eq!(partition(None, Some(0), 10, 0).status, Status::NoSla);
    }

    #[test]
    fn hysteresis_margin() {
        let r = |v| Reading::Measured {
            value_ms: v,
            warn_ms: 1_000,
            critical_ms: 5_000,
        };
        assert!(!r(950).below_clear(Severity::Warning, 0.1));
        assert!(r(900).below_clear(Severity::Warning, 0.1));
        assert!(r(4_000).below_clear(Severity::Critical, 0.1));
        assert!(!r(4_600).below_clear(Severity::Critical, 0.1));
    }
}
