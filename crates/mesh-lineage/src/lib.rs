//! mesh's lineage collector: the live graph of how data flows between domains.
//!
//! - [`event`]: the OpenLineage 2-0-2 model and its validation (pure; JSON paths per violation).
//! - [`identity`]: Kafka namespaces normalised to cluster aliases.
//! - [`graph`]: the in-memory graph (adjacency precomputed, edges first/last seen, runs,
//!   STREAMING jobs, column lineage) and its walks (pure).
//! - [`log`]: `_mesh.lineage` — appended to by ingest and observers, replayed by every instance;
//!   [`snapshot`]: the local cache that makes restarts resume instead of replaying everything.
//! - [`ingest`]: HTTP ingest (single, batch, gzip, bearer, 413); [`api`]: the routes, Marquez
//!   read API; [`products`]: mesh's product views; [`views`]: Marquez response shapes.
//! - [`observer`]: observed lineage (consumer groups via the Admin API; pluggable);
//!   [`contracts`]: product topics and gateway jobs from `_mesh.contracts`.
//! - [`config`], [`error`], [`metrics`], [`time`].

pub mod api;
pub mod config;
pub mod contracts;
pub mod error;
pub mod event;
pub mod graph;
pub mod identity;
pub mod ingest;
pub mod log;
pub mod metrics;
pub mod observer;
pub mod products;
pub mod snapshot;
pub mod time;
pub mod views;

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};

use mesh_kafka::KafkaConfig;
use mesh_runtime::Shutdown;

pub use config::{LineageConfig, ObserversConfig};
pub use error::LineageError;

use crate::observer::Observer;

/// A collector serving in the background until its shutdown token is cancelled.
#[derive(Debug)]
pub struct RunningLineage {
    /// The bound address (the real port when `listen` asked for port 0).
    pub addr: SocketAddr,
    task: tokio::task::JoinHandle<Result<(), mesh_runtime::RuntimeError>>,
    replay: std::thread::JoinHandle<()>,
}

impl RunningLineage {
    /// Waits for the server and the replay (with its last snapshot) to stop, after shutdown
    /// was cancelled.
    pub async fn join(self) -> Result<(), LineageError> {
        let served = match self.task.await {
            Ok(r) => r.map_err(LineageError::from),
            Err(e) => Err(LineageError::Internal(format!("lineage server task: {e}"))),
        };
        let replay = self.replay;
        tokio::task::spawn_blocking(move || replay.join())
            .await
            .map_err(|e| LineageError::Internal(e.to_string()))?
            .map_err(|_| LineageError::Internal("lineage replay thread panicked".into()))?;
        served
    }
}

/// Binds `config.listen`, replays `config.topic` (which must exist) into the graph, starts the
/// observers and serves ingest + read API + /metrics + /health/* until `shutdown`. Ready once the
/// replay has reached the end the topic had at start.
pub async fn start(
    config: LineageConfig,
    kafka: &KafkaConfig,
    shutdown: &Shutdown,
) -> Result<RunningLineage, LineageError> {
    let prometheus = mesh_runtime::telemetry::prometheus()?;
    let readiness = mesh_runtime::Readiness::new("lineage");
    let caught_up = readiness.component("lineage-topic");
    let server = mesh_runtime::http::HttpServer::bind("lineage", config.listen).await?;
    let addr = server.local_addr();

    let mut clusters = config.clusters.clone();
    if let Some(b) = &kafka.bootstrap_servers {
        clusters
            .entry(config.cluster_alias.clone())
            .or_default()
            .push(b.clone());
    }
    let graph = Arc::new(RwLock::new(graph::Graph::new(
        identity::Namespaces::new(&clusters).with_home(&config.cluster_alias),
    )));
    let stats = Arc::new(log::LogStats::default());
    let cache = config.data_dir.as_ref().map(|dir| snapshot::Cache {
        dir: dir.clone(),
        clusters: serde_json::to_string(&clusters).unwrap_or_default(),
        interval: config.snapshot_interval,
    });
    let appender = log::Appender::new(kafka, &config.topic)?;
    let replay = {
        let (kafka, topic, graph, stats) = (
            kafka.clone(),
            config.topic.clone(),
            graph.clone(),
            stats.clone(),
        );
        let shutdown2 = shutdown.clone();
        // Metadata and watermark calls block: off the runtime.
        tokio::task::spawn_blocking(move || {
            log::spawn_replay(&kafka, &topic, graph, stats, caught_up, cache, &shutdown2)
        })
        .await
        .map_err(|e| LineageError::Internal(e.to_string()))??
    };
    if config.observers.consumer_groups {
        let obs = observer::ConsumerGroups::new(kafka, &config.observers, &config.cluster_alias)?
            .skip_topic(&config.topic);
        spawn_observer(
            Box::new(obs),
            appender.clone(),
            config.observers.interval,
            shutdown,
        );
    }
    if config.observers.contracts {
        let obs = contracts::ContractsObserver::new(
            kafka,
            &config.contracts_topic,
            &config.observers.gateway_namespace,
            &config.cluster_alias,
        )?;
        // Contracts change rarely; a short interval makes an applied contract show up quickly.
        let interval = config
            .observers
            .interval
            .min(std::time::Duration::from_secs(2));
        spawn_observer(Box::new(obs), appender.clone(), interval, shutdown);
    }
    let state = api::AppState {
        graph,
        appender,
        stats,
        tokens: Arc::new(config.ingest_tokens.clone()),
        max_request_bytes: config.max_request_bytes,
    };
    let task = shutdown.spawn(
        "lineage-http",
        server.serve(api::router(state), readiness, prometheus, shutdown.clone()),
    );
    Ok(RunningLineage { addr, task, replay })
}

/// Polls `observer` every `interval` and appends what it sees to the lineage topic.
pub fn spawn_observer(
    mut observer: Box<dyn Observer>,
    appender: log::Appender,
    interval: std::time::Duration,
    shutdown: &Shutdown,
) {
    let token = shutdown.token();
    shutdown.spawn("lineage-observer", async move {
        loop {
            let name = observer.name();
            let (obs, result) = match tokio::task::spawn_blocking(move || {
                let r = observer.observe();
                (observer, r)
            })
            .await
            {
                Ok(x) => x,
                Err(e) => {
                    tracing::error!(error = %e, "lineage observer panicked; stopping it");
                    return;
                }
            };
            observer = obs;
            match result {
                Ok(events) => {
                    metrics::observer_run(name, true);
                    let records = events
                        .iter()
                        .filter_map(|v| {
                            let e = event::from_value(v).ok()?;
                            Some((e.kafka_key(), serde_json::to_vec(v).ok()?))
                        })
                        .collect();
                    for failure in appender.append(records).await.into_iter().flatten() {
                        tracing::warn!(observer = name, error = %failure, "append observed lineage");
                    }
                }
                Err(LineageError::Unsupported(what)) => {
                    metrics::observer_run(name, false);
                    tracing::info!(observer = name, %what, "lineage observer disabled on this broker");
                    return;
                }
                Err(e) => {
                    metrics::observer_run(name, false);
                    tracing::warn!(observer = name, error = %e, "lineage observer");
                }
            }
            tokio::select! {
                () = token.cancelled() => return,
                () = tokio::time::sleep(interval) => {}
            }
        }
    });
}
