//! `Idempotency-Key` memory of HTTP produce: bounded, expiring, in-process.
//!
//! A key is scoped to the caller's domain and product. The first request with a key claims it
//! (`InFlight`); its final response (200 or 422) is stored with a hash of the body, and a retry
//! with the same body gets that response again without touching Kafka. A different body under
//! the same key, or a retry while the first is still running, is a 409. Memory is bounded by
//! `max_keys` (oldest evicted first) and `ttl`. The memory does not survive a restart (documented
//! in docs/gateway.md): a retry after a restart may write again, so consumers still deduplicate
//! by the `__mesh.idempotency.key` header the gateway stamps on every record.

use std::collections::hash_map::DefaultHasher;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A stored final response.
#[derive(Clone, Debug)]
pub struct Stored {
    pub status: u16,
    pub body: serde_json::Value,
}

#[derive(Debug)]
enum State {
    InFlight,
    Done(Stored),
}

#[derive(Debug)]
struct Entry {
    body_hash: u64,
    at: Instant,
    state: State,
}

/// What to do with a request carrying a key.
#[derive(Debug)]
pub enum Claim {
    /// First time: process it, then [`Idempotency::finish`] or [`Idempotency::release`].
    New,
    /// Seen with the same body: answer this again.
    Replay(Stored),
    /// Seen with a different body.
    Conflict,
    /// The first request with this key has not finished yet.
    InFlight,
}

/// Entries by key, and keys in insertion order (for expiry and eviction).
type Table = (HashMap<String, Entry>, VecDeque<(Instant, String)>);

#[derive(Debug)]
pub struct Idempotency {
    ttl: Duration,
    max_keys: usize,
    inner: Mutex<Table>,
}

/// Hash of a request body (SipHash; a collision would need a crafted body from the same caller).
pub fn body_hash(body: &[u8]) -> u64 {
    let mut h = DefaultHasher::new();
    body.hash(&mut h);
    h.finish()
}

impl Idempotency {
    pub fn new(ttl: Duration, max_keys: usize) -> Self {
        Self {
            ttl,
            max_keys: max_keys.max(1),
            inner: Mutex::new((HashMap::new(), VecDeque::new())),
        }
    }

    pub fn claim(&self, key: &str, body_hash: u64) -> Claim {
        let now = Instant::now();
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (map, order) = &mut *g;
        // Expire from the front; an entry re-inserted later has a newer queue item.
        while let Some((at, k)) = order.front() {
            if now.duration_since(*at) < self.ttl && map.len() < self.max_keys {
                break;
            }
            if map.get(k).is_some_and(|e| e.at == *at) {
                map.remove(k);
            }
            order.pop_front();
        }
        if let Some(e) = map.get(key) {
            return if e.body_hash != body_hash {
                Claim::Conflict
            } else {
                match &e.state {
                    State::InFlight => Claim::InFlight,
                    State::Done(s) => Claim::Replay(s.clone()),
                }
            };
        }
        map.insert(
            key.to_owned(),
            Entry {
                body_hash,
                at: now,
                state: State::InFlight,
            },
        );
        order.push_back((now, key.to_owned()));
        Claim::New
    }

    /// Stores the final response of a claimed key.
    pub fn finish(&self, key: &str, stored: Stored) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = g.0.get_mut(key) {
            e.state = State::Done(stored);
        }
    }

    /// Forgets a claimed key whose request failed transiently (the retry must run again).
    pub fn release(&self, key: &str) {
        let mut g = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if g.0
            .get(key)
            .is_some_and(|e| matches!(e.state, State::InFlight))
        {
            g.0.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok() -> Stored {
        Stored {
            status: 200,
            body: serde_json::json!({"ok": true}),
        }
    }

    #[test]
    fn replays_conflicts_and_bounds() {
        let m = Idempotency::new(Duration::from_secs(60), 2);
        assert!(matches!(m.claim("a", 1), Claim::New));
        assert!(matches!(m.claim("a", 1), Claim::InFlight));
        m.finish("a", ok());
        assert!(matches!(m.claim("a", 1), Claim::Replay(s) if s.status == 200));
        assert!(matches!(m.claim("a", 2), Claim::Conflict));
        assert!(matches!(m.claim("b", 1), Claim::New));
        m.release("b");
        assert!(matches!(m.claim("b", 1), Claim::New));
        // A third key evicts the oldest.
        assert!(matches!(m.claim("c", 1), Claim::New));
        assert!(matches!(m.claim("a", 1), Claim::New));
    }

    #[test]
    fn expires() {
        let m = Idempotency::new(Duration::from_millis(0), 10);
        assert!(matches!(m.claim("a", 1), Claim::New));
        m.finish("a", ok());
        assert!(matches!(m.claim("a", 1), Claim::New));
    }
}
