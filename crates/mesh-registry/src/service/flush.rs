//! The flusher: appends what is queued (one fsync for a local store; pipelined produce for
//! the Kafka log), then releases the batch's in-flight keys and answers its writers.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use super::{Backend, Core, GroupLog, Queued};
use crate::model::Record;
use crate::store::{SchemaStore, StoreError};

fn release(counts: &mut HashMap<String, usize>, key: &str) {
    if let Some(n) = counts.get_mut(key) {
        *n -= 1;
        if *n == 0 {
            counts.remove(key);
        }
    }
}

/// `StoreError` is not `Clone` (it holds an `io::Error`); every waiter of a failed batch gets
/// an equivalent one.
fn duplicate(e: &StoreError) -> StoreError {
    match e {
        StoreError::Io { path, source } => StoreError::Io {
            path: path.clone(),
            source: std::io::Error::new(source.kind(), source.to_string()),
        },
        StoreError::Decode(d) => StoreError::Decode(d.clone()),
        StoreError::Kafka(m) => StoreError::Kafka(m.clone()),
        StoreError::Timeout(m) => StoreError::Timeout(m.clone()),
        StoreError::Conflict => StoreError::Conflict,
    }
}

impl Core {
    pub(super) fn log(&self) -> std::sync::MutexGuard<'_, GroupLog> {
        self.log.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Appends everything queued with one fsync, applies it in log order, acknowledges; until
    /// the queue is empty.
    pub(super) async fn flush(self: Arc<Self>) {
        loop {
            let mut batch = {
                let mut log = self.log();
                if log.queue.is_empty() {
                    log.flushing = false;
                    return;
                }
                std::mem::take(&mut log.queue)
            };
            let outcomes: Result<Vec<bool>, StoreError> = match &self.backend {
                Backend::Local(store) => {
                    // Moved, not cloned: `finish` needs only the keys and the answer channels.
                    let records: Vec<Record> = batch
                        .iter_mut()
                        .flat_map(|q| std::mem::take(&mut q.records))
                        .collect();
                    self.append_local(store, records)
                        .await
                        .map(|()| vec![true; batch.len()])
                }
                Backend::Kafka(tail) => {
                    // Pipelined: this batch is read back while the next one is produced.
                    let sizes: Vec<usize> = batch.iter().map(|q| q.records.len()).collect();
                    let sent = tail.send(batch.iter().flat_map(|q| &q.records));
                    let core = Arc::clone(&self);
                    tokio::spawn(async move {
                        let Backend::Kafka(tail) = &core.backend else {
                            return;
                        };
                        let outcomes = match sent {
                            Ok(pending) => tail.confirm(pending, &sizes).await,
                            Err(e) => Err(e),
                        };
                        core.finish(batch, &outcomes);
                    });
                    continue;
                }
            };
            self.finish(batch, &outcomes);
        }
    }

    /// Releases a flushed batch's keys and answers its writers.
    fn finish(&self, batch: Vec<Queued>, outcomes: &Result<Vec<bool>, StoreError>) {
        // Applied first, released second: a decision that still sees a key in flight
        // waits, one that does not finds its effect in the state.
        {
            let mut log = self.log();
            for q in &batch {
                for s in &q.keys.subjects {
                    release(&mut log.subjects, s);
                }
                if let Some(i) = &q.keys.identity {
                    release(&mut log.identities, i);
                }
                log.in_flight -= 1;
            }
        }
        for (i, q) in batch.into_iter().enumerate() {
            let outcome = match outcomes {
                Ok(won) => Ok(won[i]),
                Err(e) => Err(duplicate(e)),
            };
            let _ = q.done.send(outcome);
        }
        self.flushed.notify_waiters();
    }
}

impl Core {
    /// Appends to the local store (fsync off the async workers), then applies in log order.
    async fn append_local(
        &self,
        store: &Arc<dyn SchemaStore>,
        records: Vec<Record>,
    ) -> Result<(), StoreError> {
        let store = Arc::clone(store);
        let written = tokio::task::spawn_blocking(move || {
            let r = store.append(&records);
            (r, records)
        })
        .await;
        match written {
            Ok((Ok(()), records)) => {
                let mut state = self.state.write().unwrap_or_else(|p| p.into_inner());
                self.generation.fetch_add(1, Ordering::Relaxed);
                for r in &records {
                    state.apply(r);
                }
                Ok(())
            }
            Ok((Err(e), _)) => Err(e),
            Err(e) => Err(StoreError::Io {
                path: "<store task>".into(),
                source: std::io::Error::other(format!("store task failed: {e}")),
            }),
        }
    }
}
