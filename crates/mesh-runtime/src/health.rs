//! Readiness: a service is ready only when every component it registered says so.
//!
//! Components are things like "the registry has replayed `_schemas` to the end offset seen at
//! start". Liveness is separate and unconditional: the process answers, so it is alive.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, PoisonError};

use serde::Serialize;

/// Shared readiness of one service.
#[derive(Clone, Debug, Default)]
pub struct Readiness {
    inner: Arc<Mutex<State>>,
    service: Arc<str>,
}

#[derive(Debug, Default)]
struct State {
    components: BTreeMap<String, bool>,
    draining: bool,
}

/// One component's say in readiness. Dropping it does not change anything.
#[derive(Clone, Debug)]
pub struct ReadyFlag {
    readiness: Readiness,
    name: String,
}

/// Body of `/health/ready`.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct ReadyReport {
    pub status: &'static str,
    pub service: String,
    pub components: BTreeMap<String, bool>,
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub draining: bool,
}

impl Readiness {
    pub fn new(service: &str) -> Self {
        Self {
            inner: Arc::default(),
            service: service.into(),
        }
    }

    /// Registers a component, not ready yet.
    pub fn component(&self, name: &str) -> ReadyFlag {
        self.lock().components.insert(name.to_owned(), false);
        self.publish();
        ReadyFlag {
            readiness: self.clone(),
            name: name.to_owned(),
        }
    }

    /// Marks the service as shutting down: no longer ready, so load balancers stop sending.
    pub fn set_draining(&self) {
        self.lock().draining = true;
        self.publish();
    }

    pub fn is_ready(&self) -> bool {
        let s = self.lock();
        !s.draining && s.components.values().all(|r| *r)
    }

    pub fn report(&self) -> ReadyReport {
        let ready = self.is_ready();
        let s = self.lock();
        ReadyReport {
            status: if ready { "ready" } else { "not_ready" },
            service: self.service.to_string(),
            components: s.components.clone(),
            draining: s.draining,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self) {
        let v = if self.is_ready() { 1.0 } else { 0.0 };
        metrics::gauge!(crate::metrics::READY, "service" => self.service.to_string()).set(v);
    }
}

impl ReadyFlag {
    pub fn set(&self, ready: bool) {
        if let Some(r) = self.readiness.lock().components.get_mut(&self.name) {
            *r = ready;
        }
        self.readiness.publish();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ready_only_when_every_component_is_and_not_draining() {
        let r = Readiness::new("svc");
        assert!(r.is_ready(), "no components: nothing to wait for");
        let a = r.component("store");
        let b = r.component("consumer");
        assert!(!r.is_ready());
        a.set(true);
        assert!(!r.is_ready());
        b.set(true);
        assert!(r.is_ready());
        assert_eq!(r.report().status, "ready");
        r.set_draining();
        let report = r.report();
        assert_eq!(report.status, "not_ready");
        assert!(report.draining);
    }
}
