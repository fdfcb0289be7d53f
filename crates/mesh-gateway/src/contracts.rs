//! The active contracts, compiled, as read from `_mesh.contracts`.
//!
//! `_mesh.contracts` is compacted with key `<product id>/v<major>`; a tombstone retires that
//! major. [`ContractSet`] applies records in log order; the pipelines read it per record, so a
//! changed rule takes effect on the next record without a restart. Only `active` and
//! `deprecated` contracts are enforced (a draft is not yet, a retired one no longer).

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

use mesh_contract::model::TombstonePolicy;
use mesh_contract::{CompiledRules, ResolvedContract, Status};

/// One contract major, ready to enforce.
#[derive(Debug)]
pub struct ActiveContract {
    pub contract: ResolvedContract,
    pub rules: CompiledRules,
}

impl ActiveContract {
    pub fn compile(contract: ResolvedContract) -> Result<Self, String> {
        let rules = CompiledRules::compile(&contract.rules).map_err(|e| e.to_string())?;
        Ok(Self { contract, rules })
    }
}

/// Every enforced major of one product (they share the raw and DLQ topics).
#[derive(Debug, Default, Clone)]
pub struct ProductContracts {
    pub product_id: String,
    pub raw_topic: String,
    pub dlq_topic: String,
    pub by_major: BTreeMap<u64, Arc<ActiveContract>>,
}

impl ProductContracts {
    /// The contract for a schema's major; a schema without the major property is accepted
    /// when the product has exactly one enforced major.
    pub fn for_major(&self, major: Option<u64>) -> Option<&Arc<ActiveContract>> {
        match major {
            Some(m) => self.by_major.get(&m),
            None if self.by_major.len() == 1 => self.by_major.values().next(),
            None => None,
        }
    }

    /// The newest major: its settings (tombstones, key) apply where no schema says which.
    pub fn newest(&self) -> Option<&Arc<ActiveContract>> {
        self.by_major.values().next_back()
    }

    pub fn tombstones(&self) -> TombstonePolicy {
        self.newest()
            .map_or(TombstonePolicy::Reject, |c| c.contract.tombstones)
    }
}

/// The enforced contracts by raw topic; cheap to read from many threads.
#[derive(Debug, Default, Clone)]
pub struct ContractSet {
    inner: Arc<RwLock<HashMap<String, Arc<ProductContracts>>>>,
    /// `_mesh.contracts` key → raw topic, to apply tombstones.
    keys: Arc<RwLock<HashMap<String, String>>>,
}

impl ContractSet {
    /// The product reading `raw_topic`, if any contract for it is enforced.
    pub fn product(&self, raw_topic: &str) -> Option<Arc<ProductContracts>> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(raw_topic)
            .cloned()
    }

    /// Raw topics with at least one enforced contract.
    pub fn raw_topics(&self) -> Vec<String> {
        let mut v: Vec<String> = self
            .inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .keys()
            .cloned()
            .collect();
        v.sort();
        v
    }

    /// The product by its id (`<domain>.<product>`); if several raw topics claim it, the first
    /// raw topic in name order.
    pub fn by_product_id(&self, product_id: &str) -> Option<Arc<ProductContracts>> {
        self.inner
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .iter()
            .filter(|(_, p)| p.product_id == product_id)
            .min_by(|a, b| a.0.cmp(b.0))
            .map(|(_, p)| Arc::clone(p))
    }

    /// Applies one `_mesh.contracts` record. Returns an error for a value that does not parse
    /// or compile (the previous state of that key stays).
    pub fn apply(&self, key: &str, value: Option<&[u8]>) -> Result<(), String> {
        let Some(value) = value else {
            let raw = self
                .keys
                .write()
                .unwrap_or_else(|e| e.into_inner())
                .remove(key);
            if let Some(raw) = raw {
                let major = key
                    .rsplit_once("/v")
                    .and_then(|(_, m)| m.parse::<u64>().ok());
                self.update(&raw, |p| {
                    if let Some(m) = major {
                        p.by_major.remove(&m);
                    }
                });
            }
            return Ok(());
        };
        let contract = ResolvedContract::from_record(value).map_err(|e| e.to_string())?;
        let raw = contract.topics.raw.clone();
        let major = contract.major;
        self.keys
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(key.to_owned(), raw.clone());
        if !matches!(contract.status, Status::Active | Status::Deprecated) {
            self.update(&raw, |p| {
                p.by_major.remove(&major);
            });
            return Ok(());
        }
        let active = Arc::new(ActiveContract::compile(contract)?);
        self.update(&raw, |p| {
            p.product_id = active.contract.product_id.clone();
            p.raw_topic = active.contract.topics.raw.clone();
            p.dlq_topic = active.contract.topics.dlq.clone();
            p.by_major.insert(major, Arc::clone(&active));
        });
        Ok(())
    }

    fn update(&self, raw: &str, f: impl FnOnce(&mut ProductContracts)) {
        let mut map = self.inner.write().unwrap_or_else(|e| e.into_inner());
        let mut p = map.get(raw).map(|p| (**p).clone()).unwrap_or_default();
        f(&mut p);
        if p.by_major.is_empty() {
            map.remove(raw);
        } else {
            map.insert(raw.to_owned(), Arc::new(p));
        }
    }
}
