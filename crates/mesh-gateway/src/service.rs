//! The running gateway: contract watcher, one pipeline per product, quality/lineage emitter.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use mesh_kafka::KafkaConfig;
use mesh_kafka::pipeline::{DeliveryMode, Observer, Pipeline, PipelineConfig};
use mesh_runtime::Shutdown;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use tokio::sync::watch;

use crate::config::{Delivery, GatewayConfig};
use crate::contracts::ContractSet;
use crate::quality::QualityWindows;
use crate::registry::SchemaLookup;
use crate::stream::GatewayProcessor;
use crate::{GatewayError, emit, metrics};

/// How long a stopping pipeline may take to commit its batch before it is detached.
const PIPELINE_STOP_GRACE: Duration = Duration::from_secs(5);

/// Reads `_mesh.contracts` from the beginning forever (on a plain thread: rdkafka polls
/// block), applying each record; `changed` is bumped after every applied record and `caught_up`
/// set once the initial high watermark is reached.
pub(crate) fn watch_contracts(
    kafka: &KafkaConfig,
    topic: &str,
    set: ContractSet,
    changed: watch::Sender<u64>,
    caught_up: mesh_runtime::health::ReadyFlag,
    shutdown: &Shutdown,
) -> Result<(), GatewayError> {
    let err = |reason: String| GatewayError::Contracts {
        topic: topic.to_owned(),
        reason,
    };
    let mut cc = kafka.client_config("gateway-contracts")?;
    cc.set("group.id", "mesh-gateway-contracts")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .set("isolation.level", "read_committed");
    let consumer: BaseConsumer = cc.create().map_err(|e| err(e.to_string()))?;
    let token = shutdown.token();
    let topic = topic.to_owned();
    std::thread::Builder::new()
        .name("gateway-contracts".into())
        .spawn(move || {
            let timeout = Duration::from_secs(5);
            let mut tpl = TopicPartitionList::new();
            let parts = loop {
                match consumer.fetch_metadata(Some(&topic), timeout) {
                    Ok(md) if md.topics().first().is_some_and(|t| !t.partitions().is_empty()) => {
                        break md.topics()[0].partitions().iter().map(|p| p.id()).collect::<Vec<_>>();
                    }
                    other => {
                        tracing::warn!(%topic, ok = other.is_ok(), "contracts topic not available yet");
                        if token.is_cancelled() {
                            return;
                        }
                        std::thread::sleep(Duration::from_millis(500));
                    }
                }
            };
            let mut ends = HashMap::new();
            for p in &parts {
                let _ = tpl.add_partition_offset(&topic, *p, Offset::Beginning);
                let high = consumer
                    .fetch_watermarks(&topic, *p, timeout)
                    .map(|(_, h)| h)
                    .unwrap_or(0);
                ends.insert(*p, high);
            }
            if let Err(e) = consumer.assign(&tpl) {
                tracing::error!(%topic, error = %e, "cannot read contracts");
                return;
            }
            let mut seq = 0u64;
            let mut positions: HashMap<i32, i64> = HashMap::new();
            let mut ready = false;
            while !token.is_cancelled() {
                if let Some(Ok(m)) = consumer.poll(Duration::from_millis(200)) {
                    positions.insert(m.partition(), m.offset() + 1);
                    let key = m.key().map(String::from_utf8_lossy).unwrap_or_default();
                    if let Err(e) = set.apply(&key, m.payload()) {
                        metrics::contract_error();
                        tracing::error!(%key, error = %e, "contract record not applied");
                    } else {
                        tracing::info!(%key, "contract applied");
                    }
                    seq += 1;
                    let _ = changed.send(seq);
                }
                if !ready
                    && ends
                        .iter()
                        .all(|(p, h)| *h == 0 || positions.get(p).is_some_and(|o| o >= h))
                {
                    ready = true;
                    caught_up.set(true);
                }
            }
        })
        .map_err(|e| err(e.to_string()))?;
    Ok(())
}

/// What every product pipeline shares.
pub(crate) struct Shared {
    pub config: GatewayConfig,
    pub kafka: KafkaConfig,
    pub set: ContractSet,
    pub schemas: Arc<dyn SchemaLookup>,
    pub quality: QualityWindows,
    pub observer: Option<Arc<dyn Observer>>,
}

/// Starts and stops product pipelines as contracts come and go.
pub(crate) async fn supervise(
    shared: Shared,
    mut changed: watch::Receiver<u64>,
    shutdown: Shutdown,
) {
    let Shared {
        config,
        kafka,
        set,
        schemas,
        quality,
        observer,
    } = shared;
    let mut running: HashMap<String, Shutdown> = HashMap::new();
    loop {
        let topics = set.raw_topics();
        running.retain(|topic, s| {
            let keep = topics.contains(topic);
            if !keep {
                tracing::info!(%topic, "no enforced contract left; stopping its pipeline");
                s.cancel();
            }
            keep
        });
        for topic in topics {
            if running.contains_key(&topic) {
                continue;
            }
            let Some(product) = set.product(&topic) else {
                continue;
            };
            let child = shutdown.child();
            let name = format!("gateway-{}", product.product_id);
            let mode = match config.delivery {
                Delivery::ExactlyOnce => DeliveryMode::ExactlyOnce {
                    transactional_id: format!(
                        "{}-{}-{}",
                        config.group_id, config.instance_id, product.product_id
                    ),
                },
                Delivery::AtLeastOnce => DeliveryMode::AtLeastOnce,
            };
            let mut pc = PipelineConfig::new(&name, &config.group_id, &[topic.as_str()], mode);
            pc.max_batch_records = config.max_batch_records;
            pc.max_batch_wait = config.max_batch_wait;
            pc.stamp_batch_id = true;
            let processor = GatewayProcessor::new(
                set.clone(),
                Arc::clone(&schemas),
                &config.progress_topic,
                quality.clone(),
            );
            let mut pipeline = Pipeline::new(kafka.clone(), pc, processor);
            if let Some(o) = &observer {
                pipeline = pipeline.observer(Arc::clone(o));
            }
            tracing::info!(%topic, pipeline = %name, "starting product pipeline");
            let s = child.clone();
            shutdown.spawn("gateway-pipeline", async move {
                let stop = s.clone();
                let run = pipeline.run(s);
                tokio::pin!(run);
                let result = tokio::select! {
                    r = &mut run => Some(r),
                    // A worker inside a blocking client call (e.g. init_transactions against a
                    // broker that is going away) may take its whole client timeout: give it a
                    // bounded grace, then detach it. Its thread sees the cancellation and ends;
                    // an unfinished transaction is aborted by the next instance (fencing).
                    _ = stop.cancelled() => tokio::time::timeout(PIPELINE_STOP_GRACE, &mut run)
                        .await
                        .ok(),
                };
                match result {
                    Some(Err(e)) => {
                        tracing::error!(pipeline = %name, error = %e, "pipeline stopped")
                    }
                    Some(Ok(())) => {}
                    None => {
                        tracing::warn!(pipeline = %name, "pipeline did not stop in time; detached")
                    }
                }
            });
            running.insert(topic, child);
        }
        ::metrics::gauge!(metrics::PIPELINES).set(running.len() as f64);
        tokio::select! {
            _ = shutdown.cancelled() => return,
            r = changed.changed() => if r.is_err() { return },
        }
    }
}

/// Every `window`: quality events and OpenLineage RUNNING events for each active product.
pub(crate) async fn emit_windows(
    config: GatewayConfig,
    kafka: KafkaConfig,
    set: ContractSet,
    quality: QualityWindows,
    shutdown: Shutdown,
) -> Result<(), GatewayError> {
    let producer: rdkafka::producer::FutureProducer = kafka
        .client_config("gateway-quality")?
        .create()
        .map_err(|e| GatewayError::Config(format!("quality producer: {e}")))?;
    let mut tick = tokio::time::interval(config.quality_window);
    tick.tick().await;
    let mut started = std::collections::HashSet::new();
    let http = reqwest::Client::builder()
        .timeout(config.registry_timeout)
        .build()
        .map_err(|e| GatewayError::Config(format!("registry client: {e}")))?;
    let mut schema_id = None;
    loop {
        // On shutdown the partial window is dropped: the broker may already be going away, and
        // a send to a vanished broker would hold the drain for its whole message timeout.
        let last = tokio::select! {
            _ = shutdown.cancelled() => return Ok(()),
            _ = tick.tick() => false,
        };
        if schema_id.is_none() {
            schema_id = tokio::select! {
                _ = shutdown.cancelled() => return Ok(()),
                id = register_quality_schema(&http, &config) => id,
            };
        }
        let Some(id) = schema_id else {
            // Counts stay in Prometheus; the quality topic gets the next window.
            tracing::warn!("quality schema not registered yet; window not written");
            quality.drain();
            if last {
                return Ok(());
            }
            continue;
        };
        let windows = quality.drain();
        for (product_id, mut w) in windows {
            let Some(product) = set.by_product_id(&product_id) else {
                continue;
            };
            let first = started.insert(product_id.clone());
            let records = emit::window_records(&config, &product, &mut w, first, id);
            for (topic, key, value) in records {
                let rec = rdkafka::producer::FutureRecord::to(&topic)
                    .key(&key)
                    .payload(&value);
                let sent = tokio::select! {
                    _ = shutdown.cancelled() => return Ok(()),
                    r = producer.send(rec, Duration::from_secs(5)) => r,
                };
                if let Err((e, _)) = sent {
                    tracing::warn!(%topic, error = %e, "quality/lineage event not written");
                }
            }
        }
        if last {
            return Ok(());
        }
    }
}

/// Registers `_mesh.quality`'s Avro schema under `<topic>-value` (idempotent: the registry
/// answers the existing id for the same schema).
async fn register_quality_schema(http: &reqwest::Client, config: &GatewayConfig) -> Option<u32> {
    let url = format!(
        "{}/subjects/{}-value/versions",
        config.registry_url.trim_end_matches('/'),
        config.quality_topic
    );
    let body = serde_json::json!({ "schema": emit::QUALITY_SCHEMA });
    match http.post(&url).json(&body).send().await {
        Ok(r) if r.status().is_success() => r
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|v| v["id"].as_u64())
            .map(|id| id as u32),
        Ok(r) => {
            tracing::warn!(status = %r.status(), %url, "quality schema registration refused");
            None
        }
        Err(e) => {
            tracing::warn!(error = %e, %url, "quality schema registration failed");
            None
        }
    }
}
