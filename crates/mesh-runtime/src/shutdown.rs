//! The shutdown tree.
//!
//! One root [`Shutdown`] per process; each service gets a [`Shutdown::child`]. Cancelling a node
//! cancels everything below it. Tasks are spawned through the node so [`Shutdown::drain`] can wait
//! for them: on SIGINT/SIGTERM, `main` cancels the root (servers stop accepting, loops finish
//! their current batch) and waits at most a grace period before exiting.

use std::future::Future;
use std::time::Duration;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A node of the shutdown tree.
#[derive(Clone, Debug, Default)]
pub struct Shutdown {
    token: CancellationToken,
    tracker: TaskTracker,
}

/// How draining ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Drained {
    /// Every task finished within the grace period.
    Clean,
    /// The grace period ran out with this many tasks still running.
    TimedOut { still_running: usize },
}

impl Shutdown {
    pub fn new() -> Self {
        Self::default()
    }

    /// A node below this one: cancelled with it, tracked by it.
    pub fn child(&self) -> Self {
        Self {
            token: self.token.child_token(),
            tracker: self.tracker.clone(),
        }
    }

    pub fn token(&self) -> CancellationToken {
        self.token.clone()
    }

    pub fn is_cancelled(&self) -> bool {
        self.token.is_cancelled()
    }

    /// Resolves once shutdown has begun for this node.
    pub async fn cancelled(&self) {
        self.token.cancelled().await
    }

    /// Begins shutdown of this node and everything below it.
    pub fn cancel(&self) {
        self.token.cancel()
    }

    /// Spawns an async task that drain waits for. It should watch [`Shutdown::cancelled`].
    pub fn spawn<F>(&self, name: &'static str, fut: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        tracing::debug!(task = name, "spawned");
        self.tracker.spawn(fut)
    }

    /// Spawns blocking work (e.g. rdkafka transaction calls) on tokio's blocking pool, tracked.
    pub fn spawn_blocking<F, T>(&self, name: &'static str, f: F) -> JoinHandle<T>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        tracing::debug!(task = name, "spawned blocking");
        self.tracker.spawn_blocking(f)
    }

    /// Cancels, then waits up to `grace` for every tracked task.
    pub async fn drain(&self, grace: Duration) -> Drained {
        self.token.cancel();
        self.tracker.close();
        match tokio::time::timeout(grace, self.tracker.wait()).await {
            Ok(()) => Drained::Clean,
            Err(_) => Drained::TimedOut {
                still_running: self.tracker.len(),
            },
        }
    }
}

/// SIGINT/SIGTERM handlers, installed when this is created: create it *before* announcing that
/// the process is up, or a signal sent right after the announcement kills the process with the
/// default action instead of draining it.
#[derive(Debug)]
pub struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers (needs a tokio runtime).
    pub fn install() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                int: signal(SignalKind::interrupt())?,
                term: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Resolves on the first SIGINT or SIGTERM; returns the signal's name.
    pub async fn recv(&mut self) -> &'static str {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.int.recv() => "SIGINT",
                _ = self.term.recv() => "SIGTERM",
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
            "ctrl-c"
        }
    }
}

/// Resolves on the first SIGINT or SIGTERM after the call; returns the signal's name.
pub async fn signal() -> &'static str {
    match Signals::install() {
        Ok(mut s) => s.recv().await,
        Err(_) => {
            let _ = tokio::signal::ctrl_c().await;
            "SIGINT"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn drain_waits_for_tasks_that_watch_the_token() {
        let root = Shutdown::new();
        let svc = root.child();
        let (tx, rx) = tokio::sync::oneshot::channel();
        let s = svc.clone();
        svc.spawn("worker", async move {
            s.cancelled().await;
            tokio::time::sleep(Duration::from_millis(50)).await; // finishing in-flight work
            let _ = tx.send("finished");
        });
        assert_eq!(root.drain(Duration::from_secs(5)).await, Drained::Clean);
        assert!(svc.is_cancelled(), "child cancelled with the root");
        assert_eq!(rx.await.unwrap(), "finished");
    }

    #[tokio::test]
    async fn drain_gives_up_after_the_grace_period() {
        let root = Shutdown::new();
        root.spawn("stuck", async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        });
        let out = root.drain(Duration::from_millis(50)).await;
        assert_eq!(out, Drained::TimedOut { still_running: 1 });
    }
}
