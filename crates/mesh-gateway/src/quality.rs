//! Per-product quality windows: counts the processor adds to, drained every window.
//!
//! Counts are taken when a record is processed; a batch that is later aborted and re-read is
//! counted again (quality counts are at-least-once; the validated and DLQ topics are the exact
//! record of truth).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use crate::stream::now_ms;
use crate::validate::Violation;

/// One product's counts in the current window.
#[derive(Clone, Debug, Default, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    pub valid: u64,
    pub rejected: u64,
    /// Records with at least one `warn` rule failure (valid or not).
    pub warned: u64,
    /// Failures by rule name (reject and warn), or by violation code for non-rule failures.
    pub failures: BTreeMap<String, u64>,
    /// Failures by field path (rule and decode failures that name one).
    pub field_failures: BTreeMap<String, u64>,
    pub bytes: u64,
    /// Newest record timestamp seen (ms).
    pub last_event_time: Option<i64>,
    /// Record timestamp → processing, in ms, of each record (for percentiles).
    #[serde(skip)]
    pub latencies_ms: Vec<i64>,
}

impl Window {
    /// The `q` quantile (0..=1) of the end-to-end latencies, nearest rank.
    pub fn latency_quantile(&mut self, q: f64) -> Option<i64> {
        if self.latencies_ms.is_empty() {
            return None;
        }
        self.latencies_ms.sort_unstable();
        let rank = ((q * self.latencies_ms.len() as f64).ceil() as usize).max(1) - 1;
        Some(self.latencies_ms[rank.min(self.latencies_ms.len() - 1)])
    }

    fn note(&mut self, violations: &[Violation], bytes: usize, ts: Option<i64>) {
        for v in violations {
            let key = v.rule.clone().unwrap_or_else(|| v.code.clone());
            *self.failures.entry(key).or_default() += 1;
            if !v.path.is_empty() {
                *self.field_failures.entry(v.path.clone()).or_default() += 1;
            }
        }
        self.bytes += bytes as u64;
        if let Some(ts) = ts {
            self.last_event_time = Some(self.last_event_time.map_or(ts, |t| t.max(ts)));
            // Bounded: a window keeps at most this many samples (reservoir by stride).
            if self.latencies_ms.len() < MAX_SAMPLES {
                self.latencies_ms.push((now_ms() - ts).max(0));
            }
        }
    }
}

const MAX_SAMPLES: usize = 100_000;

/// Shared windows for every product of this instance.
#[derive(Clone, Debug, Default)]
pub struct QualityWindows(Arc<Mutex<HashMap<String, Window>>>);

impl QualityWindows {
    fn with(&self, product: &str, f: impl FnOnce(&mut Window)) {
        let mut m = self.0.lock().unwrap_or_else(|e| e.into_inner());
        match m.get_mut(product) {
            Some(w) => f(w),
            None => f(m.entry(product.to_owned()).or_default()),
        }
    }

    pub fn valid(&self, product: &str, warnings: &[Violation], bytes: usize, ts: Option<i64>) {
        self.with(product, |w| {
            w.valid += 1;
            if !warnings.is_empty() {
                w.warned += 1;
            }
            w.note(warnings, bytes, ts);
        });
    }

    pub fn rejected(&self, product: &str, violations: &[Violation], bytes: usize, ts: Option<i64>) {
        self.with(product, |w| {
            w.rejected += 1;
            w.note(violations, bytes, ts);
        });
    }

    /// Takes the current windows, leaving empty ones.
    pub fn drain(&self) -> HashMap<String, Window> {
        std::mem::take(&mut *self.0.lock().unwrap_or_else(|e| e.into_inner()))
    }
}
