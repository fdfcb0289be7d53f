//! `_mesh.alerts`: one Avro record per transition (schemas/mesh-alert.avsc, Avro single-object
//! encoding so a reader can check the schema fingerprint), keyed by the alert fingerprint so a
//! compacted copy keeps each alert's last state.

use std::time::Duration;

use apache_avro::types::Value;
use apache_avro::{GenericSingleObjectReader, GenericSingleObjectWriter, Schema};
use mesh_kafka::KafkaConfig;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use crate::alerts::AlertState;
use crate::model::{Severity, Subject};
use crate::monitor::AlertEvent;
use crate::{FreshnessError, metrics};

/// The schema, as shipped in `schemas/`.
pub const SCHEMA: &str = include_str!("../../../../schemas/mesh-alert.avsc");

pub fn schema() -> Result<Schema, FreshnessError> {
    Schema::parse_str(SCHEMA).map_err(|e| FreshnessError::Avro(e.to_string()))
}

/// Encodes one event (single-object encoding).
pub fn encode(schema: &Schema, e: &AlertEvent) -> Result<Vec<u8>, FreshnessError> {
    let t = &e.transition;
    let sev = |s: Severity| {
        let (i, n) = match s {
            Severity::Warning => (0, "WARNING"),
            Severity::Critical => (1, "CRITICAL"),
        };
        Value::Enum(i, n.to_owned())
    };
    let state = match t.state {
        AlertState::Pending => Value::Enum(0, "PENDING".into()),
        AlertState::Firing => Value::Enum(1, "FIRING".into()),
        AlertState::Resolved => Value::Enum(2, "RESOLVED".into()),
    };
    let opt = |v: Option<Value>| match v {
        Some(v) => Value::Union(1, Box::new(v)),
        None => Value::Union(0, Box::new(Value::Null)),
    };
    let (partition, group) = match &t.key.subject {
        Subject::Partition(p) => (Some(Value::Int(*p)), None),
        Subject::Group(g) => (None, Some(Value::String(g.clone()))),
        Subject::Product => (None, None),
    };
    let record = Value::Record(vec![
        ("fingerprint".into(), Value::String(t.fingerprint.clone())),
        ("state".into(), state),
        ("severity".into(), sev(t.severity)),
        ("previousSeverity".into(), opt(t.previous_severity.map(sev))),
        ("kind".into(), Value::String(t.key.kind.as_str().into())),
        ("product".into(), Value::String(t.key.product_id.clone())),
        ("partition".into(), opt(partition)),
        ("group".into(), opt(group)),
        ("valueMs".into(), opt(t.value_ms.map(Value::Long))),
        ("startsAt".into(), Value::TimestampMillis(t.starts_at_ms)),
        ("at".into(), Value::TimestampMillis(t.at_ms)),
        ("silenced".into(), Value::Boolean(e.silenced)),
        ("summary".into(), Value::String(e.summary.clone())),
        ("description".into(), Value::String(e.description.clone())),
        ("runbookUrl".into(), Value::String(e.runbook_url.clone())),
        (
            "labels".into(),
            Value::Map(
                e.labels
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect(),
            ),
        ),
    ]);
    let mut writer = GenericSingleObjectWriter::new_with_capacity(schema, 512)
        .map_err(|e| FreshnessError::Avro(e.to_string()))?;
    let mut buf = Vec::with_capacity(512);
    writer
        .write_value(record, &mut buf)
        .map_err(|e| FreshnessError::Avro(e.to_string()))?;
    Ok(buf)
}

/// Decodes a record written by [`encode`] (for readers and tests).
pub fn decode(schema: &Schema, bytes: &[u8]) -> Result<Value, FreshnessError> {
    let reader = GenericSingleObjectReader::builder()
        .schema(schema.clone())
        .build()
        .map_err(|e| FreshnessError::Avro(e.to_string()))?;
    reader
        .read_value(&mut &bytes[..])
        .map_err(|e| FreshnessError::Avro(e.to_string()))
}

/// Produces alert events to the alerts topic.
pub struct AlertsTopic {
    producer: FutureProducer,
    topic: String,
    schema: Schema,
}

impl std::fmt::Debug for AlertsTopic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AlertsTopic")
            .field("topic", &self.topic)
            .finish()
    }
}

impl AlertsTopic {
    pub fn new(kafka: &KafkaConfig, topic: &str) -> Result<Self, FreshnessError> {
        let producer = kafka
            .client_config("freshness-alerts")?
            .set("enable.idempotence", "true")
            .create()?;
        Ok(Self {
            producer,
            topic: topic.to_owned(),
            schema: schema()?,
        })
    }

    /// Queues every event. Delivery does not wait for the broker: an outage of the broker
    /// that holds `_mesh.alerts` must not stop evaluation (or the webhook). The producer
    /// retries until `message.timeout.ms`; failures are logged and counted.
    pub fn send(&self, events: &[AlertEvent]) -> Result<(), FreshnessError> {
        for e in events {
            let value = encode(&self.schema, e)?;
            let key = e.transition.fingerprint.as_str();
            let record = FutureRecord::to(&self.topic).key(key).payload(&value);
            match self.producer.send_result(record) {
                Ok(delivery) => {
                    tokio::spawn(async move {
                        let outcome = match delivery.await {
                            Ok(Ok(_)) => "delivered",
                            Ok(Err((e, _))) => {
                                tracing::error!(error = %e, "alert event not written to Kafka");
                                "failed"
                            }
                            Err(_) => "failed",
                        };
                        metrics::alert_event(outcome);
                    });
                }
                Err((e, _)) => {
                    tracing::error!(error = %e, "alert event not queued for Kafka");
                    metrics::alert_event("failed");
                }
            }
        }
        Ok(())
    }

    /// Waits until queued events are acknowledged (shutdown, tests).
    pub fn flush(&self, timeout: Duration) -> Result<(), FreshnessError> {
        Ok(self.producer.flush(timeout)?)
    }
}
