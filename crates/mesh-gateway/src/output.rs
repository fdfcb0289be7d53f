//! The records the gateway writes for one input: validated copy or DLQ entry, and headers.
//!
//! Header names are fixed by DESIGN.md §5. Every value is UTF-8. Provenance headers are a pure
//! function of the input (topic, partition, offset, timestamp), so a consumer in at-least-once
//! mode deduplicates by `(__mesh.source.partition, __mesh.source.offset)`.

use mesh_kafka::pipeline::OutRecord;
use rdkafka::message::{BorrowedHeaders, Headers};

use crate::contracts::ActiveContract;
use crate::validate::Violation;

pub const SOURCE_TOPIC: &str = "__mesh.source.topic";
pub const SOURCE_PARTITION: &str = "__mesh.source.partition";
pub const SOURCE_OFFSET: &str = "__mesh.source.offset";
pub const SOURCE_TIMESTAMP: &str = "__mesh.source.timestamp";
pub const PRODUCT: &str = "__mesh.product";
pub const CONTRACT_VERSION: &str = "__mesh.contract.version";
pub const SCHEMA_ID: &str = "__mesh.schema.id";
pub const ERROR_CODE: &str = "__mesh.error.code";
pub const ERROR_RULE: &str = "__mesh.error.rule";
pub const ERROR_PATH: &str = "__mesh.error.path";
pub const ERROR_MESSAGE: &str = "__mesh.error.message";
pub const ERRORS: &str = "__mesh.errors";
pub const RULE_NAME: &str = "__rule.name";
pub const RULE_MODE: &str = "__rule.mode";
pub const RULE_SUBJECT: &str = "__rule.subject";
pub const RULE_TOPIC: &str = "__rule.topic";
pub const RULE_EXCEPTION: &str = "__rule.exception";

/// Where an input record came from.
#[derive(Clone, Copy)]
pub struct Source<'a> {
    pub topic: &'a str,
    pub partition: i32,
    pub offset: i64,
    pub timestamp: Option<i64>,
    pub key: Option<&'a [u8]>,
    pub value: Option<&'a [u8]>,
    /// The input's own headers, kept on both outputs (borrowed: copied once, into the output).
    pub headers: Option<&'a BorrowedHeaders>,
}

impl std::fmt::Debug for Source<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Source")
            .field("topic", &self.topic)
            .field("partition", &self.partition)
            .field("offset", &self.offset)
            .field("timestamp", &self.timestamp)
            .field("headers", &self.headers.map_or(0, Headers::count))
            .finish_non_exhaustive()
    }
}

fn base(topic: &str, src: &Source<'_>) -> OutRecord {
    // Sized once for the input's headers and every header the gateway adds.
    let mut headers = Vec::with_capacity(src.headers.map_or(0, Headers::count) + 16);
    if let Some(hs) = src.headers {
        headers.extend(
            hs.iter()
                .map(|h| (h.key.to_owned(), h.value.unwrap_or_default().to_vec())),
        );
    }
    OutRecord {
        topic: topic.to_owned(),
        partition: None,
        key: src.key.map(<[u8]>::to_vec),
        payload: src.value.map(<[u8]>::to_vec),
        headers,
        timestamp: src.timestamp,
    }
    .header(SOURCE_TOPIC, src.topic)
    .header(SOURCE_PARTITION, src.partition.to_string())
    .header(SOURCE_OFFSET, src.offset.to_string())
    .header(
        SOURCE_TIMESTAMP,
        src.timestamp.map(|t| t.to_string()).unwrap_or_default(),
    )
}

/// The validated copy on `<product>.v<major>`.
pub fn validated(src: &Source<'_>, contract: &ActiveContract, schema_id: Option<u32>) -> OutRecord {
    let c = &contract.contract;
    let mut r = base(&c.topics.validated, src)
        .header(PRODUCT, c.product_id.as_str())
        .header(CONTRACT_VERSION, c.version.as_str());
    if let Some(id) = schema_id {
        r = r.header(SCHEMA_ID, id.to_string());
    }
    r
}

/// The DLQ entry: original bytes, provenance, the first violation in `__mesh.error.*`, all of
/// them in `__mesh.errors`, and Confluent's `__rule.*` when a rule failed.
pub fn dead_letter(
    src: &Source<'_>,
    dlq_topic: &str,
    product_id: &str,
    contract: Option<&ActiveContract>,
    schema_id: Option<u32>,
    violations: &[Violation],
) -> OutRecord {
    let mut r = base(dlq_topic, src).header(PRODUCT, product_id);
    if let Some(c) = contract {
        r = r.header(CONTRACT_VERSION, c.contract.version.as_str());
    }
    if let Some(id) = schema_id {
        r = r.header(SCHEMA_ID, id.to_string());
    }
    if let Some(first) = violations.first() {
        r = r
            .header(ERROR_CODE, first.code.as_str())
            .header(ERROR_RULE, first.rule.clone().unwrap_or_default())
            .header(ERROR_PATH, first.path.as_str())
            .header(ERROR_MESSAGE, first.message.as_str());
    }
    let list: Vec<serde_json::Value> = violations
        .iter()
        .map(|v| {
            serde_json::json!({
                "code": v.code, "rule": v.rule, "path": v.path, "message": v.message,
            })
        })
        .collect();
    r = r.header(ERRORS, serde_json::to_vec(&list).unwrap_or_default());
    if let Some(rule) = violations.iter().find(|v| v.rule.is_some()) {
        let subject = contract
            .map(|c| c.contract.value_schema.subject.clone())
            .unwrap_or_default();
        r = r
            .header(RULE_NAME, rule.rule.clone().unwrap_or_default())
            .header(RULE_MODE, "WRITE")
            .header(RULE_SUBJECT, subject)
            .header(RULE_TOPIC, src.topic)
            .header(
                RULE_EXCEPTION,
                format!(
                    "Rule failed: {} ({})",
                    rule.rule.as_deref().unwrap_or_default(),
                    rule.message
                ),
            );
    }
    r
}
