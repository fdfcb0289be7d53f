//! The running service: an [`Engine`] doing one round per `check_interval` (contracts →
//! observe → evaluate → sinks), and the HTTP API over its state.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use mesh_kafka::KafkaConfig;
use mesh_runtime::{Readiness, Shutdown};

use crate::clock::{Clock, SystemClock};
use crate::config::FreshnessConfig;
use crate::contracts::ContractsTailer;
use crate::kafka::KafkaSource;
use crate::monitor::{AlertEvent, Monitor};
use crate::observe::ObservationSource;
use crate::progress::{GatewaySource, ProgressTailer};
use crate::sinks::alerts_topic::AlertsTopic;
use crate::sinks::webhook::{self, Webhook};
use crate::{FreshnessError, api, metrics};

/// State shared by the engine and the API.
#[derive(Debug)]
pub struct Shared {
    monitor: Mutex<Monitor>,
    pub clock: Arc<dyn Clock>,
}

impl Shared {
    pub fn monitor(&self) -> MutexGuard<'_, Monitor> {
        self.monitor.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// One instance's evaluation loop.
pub struct Engine {
    shared: Arc<Shared>,
    source: Option<Box<dyn ObservationSource>>,
    tailer: Option<ContractsTailer>,
    alerts: AlertsTopic,
    webhook: Option<Webhook>,
    receiver: String,
    external_url: String,
    resend_every_ms: i64,
    last_resend_ms: i64,
    contracts_ready: bool,
    request_timeout: Duration,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").finish_non_exhaustive()
    }
}

impl Engine {
    /// An engine reading contracts and observations from `kafka`, with time from `clock`.
    pub fn new(
        config: FreshnessConfig,
        kafka: &KafkaConfig,
        clock: Arc<dyn Clock>,
        external_url: String,
        shutdown: &Shutdown,
    ) -> Result<Self, FreshnessError> {
        config.validate().map_err(FreshnessError::Config)?;
        let config_timeout = config.request_timeout;
        let mut source: Box<dyn ObservationSource> = Box::new(KafkaSource::new(
            kafka,
            config.request_timeout,
            config.discover_groups,
        )?);
        if !config.progress_topic.is_empty() {
            let tailer =
                ProgressTailer::new(kafka, &config.progress_topic, config.request_timeout)?;
            source = Box::new(GatewaySource::new(
                source,
                tailer,
                config.heartbeat_max_age,
                config.data_loss_hold,
            ));
        }
        let tailer = ContractsTailer::new(kafka, &config.contracts_topic, config.request_timeout)?;
        let alerts = AlertsTopic::new(kafka, &config.alerts_topic)?;
        let webhook = config
            .webhook
            .url
            .clone()
            .map(|url| Webhook::start(url, &config.webhook, shutdown));
        Ok(Self {
            receiver: config.webhook.receiver.clone(),
            resend_every_ms: config.webhook.resend_interval.as_millis() as i64,
            last_resend_ms: clock.now_ms(),
            shared: Arc::new(Shared {
                monitor: Mutex::new(Monitor::new(config)),
                clock,
            }),
            source: Some(source),
            tailer: Some(tailer),
            alerts,
            webhook,
            external_url,
            contracts_ready: false,
            request_timeout: config_timeout,
        })
    }

    /// Replaces the observation source (a gateway-fed source, a fake in tests).
    pub fn with_source(mut self, source: Box<dyn ObservationSource>) -> Self {
        self.source = Some(source);
        self
    }

    pub fn shared(&self) -> Arc<Shared> {
        Arc::clone(&self.shared)
    }

    /// Waits until alert events are written to Kafka.
    pub async fn flush_alerts(&self, timeout: Duration) -> Result<(), FreshnessError> {
        tokio::task::block_in_place(|| self.alerts.flush(timeout))
    }

    /// Whether `_mesh.contracts` has been read to its end once.
    pub fn contracts_ready(&self) -> bool {
        self.contracts_ready
    }

    /// One round; returns the alert transitions it produced (already sent to the sinks).
    pub async fn tick(&mut self) -> Result<Vec<AlertEvent>, FreshnessError> {
        let started = Instant::now();
        self.read_contracts().await?;
        let now = self.shared.clock.now_ms();
        let targets = self.shared.monitor().targets(now);
        let mut source = self
            .source
            .take()
            .ok_or_else(|| FreshnessError::Task("observation source lost".into()))?;
        let (source, observations) = tokio::task::spawn_blocking(move || {
            let obs = source.observe(&targets, now);
            (source, obs)
        })
        .await
        .map_err(|e| FreshnessError::Task(e.to_string()))?;
        self.source = Some(source);
        let observed = started.elapsed();
        // Evaluate at the time observed, so a slow round never makes data look older.
        let (events, resend) = {
            let mut m = self.shared.monitor();
            let events = m.evaluate(observations, now);
            let alerts: Vec<_> = m.active_alerts().collect();
            metrics::publish(m.views(), &alerts);
            let resend = if now - self.last_resend_ms >= self.resend_every_ms {
                self.last_resend_ms = now;
                m.firing_events(now)
            } else {
                Vec::new()
            };
            (events, resend)
        };
        for e in &events {
            metrics::transition(e.transition.state.as_str());
            tracing::info!(
                fingerprint = %e.transition.fingerprint,
                state = e.transition.state.as_str(),
                severity = e.transition.severity.as_str(),
                summary = %e.summary,
                "alert"
            );
        }
        if !events.is_empty() {
            self.alerts.send(&events)?;
        }
        if let Some(w) = &self.webhook {
            let mut all = events.clone();
            // Re-sent firing alerts that already changed state this round would be duplicates.
            all.extend(resend.into_iter().filter(|r| {
                !events
                    .iter()
                    .any(|e| e.transition.fingerprint == r.transition.fingerprint)
            }));
            w.send(webhook::payloads(&all, &self.receiver, &self.external_url));
        }
        metrics::round(started.elapsed().as_secs_f64());
        tracing::debug!(observe = ?observed, total = ?started.elapsed(), "round");
        Ok(events)
    }

    async fn read_contracts(&mut self) -> Result<(), FreshnessError> {
        let mut tailer = self
            .tailer
            .take()
            .ok_or_else(|| FreshnessError::Task("contracts reader lost".into()))?;
        let first = !self.contracts_ready;
        let timeout = self.request_timeout;
        let (tailer, result) = tokio::task::spawn_blocking(move || {
            let r = if first {
                tailer.catch_up(timeout)
            } else {
                tailer.poll(Duration::ZERO).map(|u| (u, false))
            };
            (tailer, r)
        })
        .await
        .map_err(|e| FreshnessError::Task(e.to_string()))?;
        self.tailer = Some(tailer);
        let mut caught_up = false;
        match result {
            Ok((updates, done)) => {
                caught_up = done;
                self.shared.monitor().apply_contracts(updates);
            }
            Err(e) => tracing::warn!(error = %e, "cannot read contracts; using the last known set"),
        }
        self.contracts_ready |= caught_up;
        Ok(())
    }
}

/// A freshness monitor serving in the background.
#[derive(Debug)]
pub struct RunningFreshness {
    pub addr: SocketAddr,
    pub shared: Arc<Shared>,
}

/// Starts the monitor: HTTP on `config.listen`, one round per `check_interval`, until
/// `shutdown` is cancelled.
pub async fn start(
    config: FreshnessConfig,
    kafka: &KafkaConfig,
    shutdown: &Shutdown,
) -> Result<RunningFreshness, FreshnessError> {
    let prometheus = mesh_runtime::telemetry::prometheus()?;
    let readiness = Readiness::new("freshness");
    let ready = readiness.component("contracts");
    let server = mesh_runtime::http::HttpServer::bind("freshness", config.listen).await?;
    let addr = server.local_addr();
    let interval = config.check_interval;
    let mut engine = Engine::new(
        config,
        kafka,
        Arc::new(SystemClock),
        format!("http://{addr}"),
        shutdown,
    )?;
    let shared = engine.shared();
    let token = shutdown.token();
    shutdown.spawn("freshness-engine", async move {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                _ = ticker.tick() => {}
                () = token.cancelled() => break,
            }
            // A round blocked on an unreachable broker must not hold up shutdown; its
            // blocking half finishes (and drops its clients) on its own thread.
            let result = tokio::select! {
                r = engine.tick() => r,
                () = token.cancelled() => break,
            };
            if let Err(e) = result {
                tracing::warn!(error = %e, "freshness round failed");
            }
            ready.set(engine.contracts_ready());
        }
    });
    shutdown.spawn(
        "freshness-http",
        server.serve(
            api::router(Arc::clone(&shared)),
            readiness,
            prometheus,
            shutdown.clone(),
        ),
    );
    Ok(RunningFreshness { addr, shared })
}
