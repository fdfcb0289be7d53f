//! Maintenance silences: while one matches, an alert still changes state (and shows in the API
//! and metrics as silenced) but no notification is sent, as in Alertmanager.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::model::{AlertKey, AlertKind};

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Silence {
    pub id: String,
    /// A product id (`<domain>.<product>`), or `*` for every product.
    pub product: String,
    /// Only this kind of alert; `None` = every kind.
    pub kind: Option<AlertKind>,
    pub starts_at_ms: i64,
    pub ends_at_ms: i64,
    pub created_by: String,
    pub comment: String,
}

impl Silence {
    pub fn matches(&self, key: &AlertKey, now: i64) -> bool {
        (self.product == "*" || self.product == key.product_id)
            && self.kind.is_none_or(|k| k == key.kind)
            && self.starts_at_ms <= now
            && now < self.ends_at_ms
    }
}

/// What `POST /api/v1/silences` takes.
#[derive(Clone, Debug, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewSilence {
    pub product: String,
    #[serde(default)]
    pub kind: Option<AlertKind>,
    /// Start (ms since epoch); default now.
    #[serde(default)]
    pub starts_at_ms: Option<i64>,
    /// How long, e.g. `"2h"`; or `endsAtMs`.
    #[serde(default, with = "humantime_serde")]
    pub duration: Option<std::time::Duration>,
    #[serde(default)]
    pub ends_at_ms: Option<i64>,
    pub created_by: String,
    #[serde(default)]
    pub comment: String,
}

/// The silences of this instance, by id.
#[derive(Debug, Default)]
pub struct Silences {
    by_id: BTreeMap<String, Silence>,
    seq: u64,
}

impl Silences {
    /// Validates and stores `new`; the error is a user-facing message.
    pub fn add(&mut self, new: NewSilence, now: i64) -> Result<Silence, String> {
        if new.product.trim().is_empty() {
            return Err("`product` must be a product id (<domain>.<product>) or `*`".into());
        }
        if new.created_by.trim().is_empty() {
            return Err("`createdBy` must say who silences".into());
        }
        let starts = new.starts_at_ms.unwrap_or(now);
        let ends = match (new.duration, new.ends_at_ms) {
            (Some(d), None) => starts.saturating_add(d.as_millis() as i64),
            (None, Some(e)) => e,
            _ => return Err("give exactly one of `duration` and `endsAtMs`".into()),
        };
        if ends <= starts {
            return Err("the silence ends before it starts".into());
        }
        self.seq += 1;
        let s = Silence {
            id: format!("s{}-{:x}", self.seq, now),
            product: new.product,
            kind: new.kind,
            starts_at_ms: starts,
            ends_at_ms: ends,
            created_by: new.created_by,
            comment: new.comment,
        };
        self.by_id.insert(s.id.clone(), s.clone());
        Ok(s)
    }

    pub fn remove(&mut self, id: &str) -> Option<Silence> {
        self.by_id.remove(id)
    }

    /// Silences not yet expired (expired ones are dropped).
    pub fn list(&mut self, now: i64) -> Vec<Silence> {
        self.by_id.retain(|_, s| s.ends_at_ms > now);
        self.by_id.values().cloned().collect()
    }

    pub fn silenced(&self, key: &AlertKey, now: i64) -> bool {
        self.by_id.values().any(|s| s.matches(key, now))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Subject;

    fn new(product: &str, ms: Option<i64>) -> NewSilence {
        NewSilence {
            product: product.into(),
            kind: None,
            starts_at_ms: None,
            duration: None,
            ends_at_ms: ms,
            created_by: "sre".into(),
            comment: String::new(),
        }
    }

    #[test]
    fn matches_product_within_window() {
        let mut s = Silences::default();
        let id = s.add(new("sales.orders", Some(1_000)), 0).unwrap().id;
        let k = AlertKey::new("sales.orders", Subject::Partition(0), AlertKind::Freshness);
        assert!(s.silenced(&k, 500));
        assert!(!s.silenced(&k, 1_000));
        let other = AlertKey::new("sales.refunds", Subject::Product, AlertKind::Freshness);
        assert!(!s.silenced(&other, 500));
        assert!(s.remove(&id).is_some());
        assert!(!s.silenced(&k, 500));
    }

    #[test]
    fn bad_silences_are_refused() {
        let mut s = Silences::default();
        assert!(s.add(new("sales.orders", None), 0).is_err());
        assert!(s.add(new("sales.orders", Some(-5)), 0).is_err());
        assert!(s.add(new(" ", Some(5)), 0).is_err());
    }
}
