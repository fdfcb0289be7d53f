//! Stream mode: the [`Processor`] that validates each raw record and routes it.
//!
//! One processor per product pipeline. For every record it looks up the product's contracts
//! (current as of this record: contract changes apply without a restart), runs
//! [`crate::validate::validate`], and returns the validated copy or the DLQ entry. At least once
//! per second per partition it also emits a progress heartbeat in the same batch, so a
//! heartbeat is committed exactly when the records it reports are.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use mesh_kafka::pipeline::{LostRange, OutRecord, ProcessError, Processor};
use rdkafka::Message;
use rdkafka::message::{BorrowedMessage, Headers};

use mesh_contract::events::{DataLoss, GatewayEvent, Progress};

use crate::contracts::ContractSet;
use crate::metrics;
use crate::output::{self, Source};
use crate::quality::QualityWindows;
use crate::registry::SchemaLookup;
use crate::validate::{self, Outcome, RecordView};

/// How often a partition's progress is reported while records flow.
pub const HEARTBEAT_EVERY: Duration = Duration::from_secs(1);

/// Validates and routes the records of one raw topic.
pub struct GatewayProcessor {
    pub(crate) contracts: ContractSet,
    pub(crate) schemas: Arc<dyn SchemaLookup>,
    pub(crate) progress_topic: String,
    pub(crate) quality: QualityWindows,
    /// partition → when its last heartbeat was emitted.
    last_heartbeat: HashMap<i32, Instant>,
    /// product id → its record counters.
    counters: HashMap<String, metrics::ProductCounters>,
}

impl std::fmt::Debug for GatewayProcessor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatewayProcessor")
            .field("progress_topic", &self.progress_topic)
            .finish_non_exhaustive()
    }
}

impl GatewayProcessor {
    pub fn new(
        contracts: ContractSet,
        schemas: Arc<dyn SchemaLookup>,
        progress_topic: &str,
        quality: QualityWindows,
    ) -> Self {
        Self {
            contracts,
            schemas,
            progress_topic: progress_topic.to_owned(),
            quality,
            last_heartbeat: HashMap::new(),
            counters: HashMap::new(),
        }
    }
}

pub(crate) fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

impl Processor for GatewayProcessor {
    fn process(&mut self, r: &BorrowedMessage<'_>) -> Result<Vec<OutRecord>, ProcessError> {
        let topic = r.topic();
        let Some(product) = self.contracts.product(topic) else {
            // The contract was retired while the pipeline ran: it stops shortly; until then
            // records stay unconsumed-in-effect by failing the batch.
            return Err(ProcessError::Retry(format!(
                "no enforced contract for {topic}"
            )));
        };
        let headers = r.headers();
        let header_schema_id =
            headers.is_some_and(|hs| hs.iter().any(|h| h.key == validate::VALUE_SCHEMA_ID_HEADER));
        let view = RecordView {
            key: r.key(),
            value: r.payload(),
            header_schema_id,
        };
        let outcome = match validate::validate(&product, self.schemas.as_ref(), view) {
            Ok(o) => o,
            Err(e) => {
                metrics::registry_unavailable();
                return Err(ProcessError::Retry(e.to_string()));
            }
        };
        let timestamp = r.timestamp().to_millis();
        let src = Source {
            topic,
            partition: r.partition(),
            offset: r.offset(),
            timestamp,
            key: r.key(),
            value: r.payload(),
            headers,
        };
        let bytes = r.payload().map_or(0, <[u8]>::len) + r.key().map_or(0, <[u8]>::len);
        if !self.counters.contains_key(&product.product_id) {
            let c = metrics::ProductCounters::new(&product.product_id);
            self.counters.insert(product.product_id.clone(), c);
        }
        let counters = &self.counters[&product.product_id];
        let mut out = Vec::with_capacity(2);
        match outcome {
            Outcome::Valid {
                contract,
                schema_id,
                warnings,
            } => {
                counters.record(true, bytes);
                self.quality
                    .valid(&product.product_id, &warnings, bytes, timestamp);
                out.push(output::validated(&src, &contract, schema_id));
            }
            Outcome::Rejected {
                contract,
                schema_id,
                violations,
            } => {
                counters.record(false, bytes);
                self.quality
                    .rejected(&product.product_id, &violations, bytes, timestamp);
                out.push(output::dead_letter(
                    &src,
                    &product.dlq_topic,
                    &product.product_id,
                    contract.as_deref(),
                    schema_id,
                    &violations,
                ));
            }
        }
        let due = self
            .last_heartbeat
            .get(&src.partition)
            .is_none_or(|t| t.elapsed() >= HEARTBEAT_EVERY);
        // A record without a timestamp says nothing about freshness: no heartbeat for it.
        if let (true, Some(ts)) = (due, src.timestamp) {
            self.last_heartbeat.insert(src.partition, Instant::now());
            out.push(heartbeat(
                &self.progress_topic,
                &product.product_id,
                &src,
                ts,
            ));
        }
        Ok(out)
    }

    /// Raw records deleted before validation: a `data_loss` event on the progress topic, in
    /// the batch (transaction) that moves past the gap, keyed so compaction keeps it.
    fn data_loss(&mut self, lost: &LostRange) -> Vec<OutRecord> {
        let product = self
            .contracts
            .product(&lost.topic)
            .map(|p| p.product_id.clone())
            .unwrap_or_default();
        metrics::data_loss(&product, lost.records());
        let event = GatewayEvent::DataLoss(DataLoss {
            product,
            topic: lost.topic.clone(),
            partition: lost.partition,
            from_offset: lost.from,
            to_offset: lost.to,
            emitted_at: now_ms(),
        });
        vec![OutRecord {
            topic: self.progress_topic.clone(),
            key: Some(event.key().into_bytes()),
            payload: Some(event.to_record()),
            ..OutRecord::default()
        }]
    }
}

/// A progress heartbeat (`mesh_contract::events`, the one definition the freshness monitor
/// reads too): JSON, key `<raw topic>/<partition>` (see docs/gateway.md).
fn heartbeat(topic: &str, product_id: &str, src: &Source<'_>, timestamp: i64) -> OutRecord {
    let value = GatewayEvent::Progress(Progress {
        product: product_id.to_owned(),
        topic: src.topic.to_owned(),
        partition: src.partition,
        offset: src.offset,
        record_timestamp: timestamp,
        emitted_at: now_ms(),
    });
    OutRecord {
        topic: topic.to_owned(),
        key: Some(format!("{}/{}", src.topic, src.partition).into_bytes()),
        payload: Some(serde_json::to_vec(&value).unwrap_or_default()),
        ..OutRecord::default()
    }
}
