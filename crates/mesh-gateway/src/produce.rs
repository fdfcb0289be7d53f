//! HTTP produce: `POST /api/v1/products/{product}/events`.
//!
//! Each event is encoded with the product's latest schema (Avro: JSON → binary via
//! [`crate::encode`]; JSON Schema: the JSON text) as Confluent wire format and checked by the
//! same [`validate::validate`] as stream mode — one implementation of a contract check. Only
//! when every event passes are they written (one transaction) to the validated topic; otherwise
//! the 422 lists every violation of every event and nothing is written. This module is also
//! the one place mapping produce failures to the `{"error":{...}}` envelope.

use std::sync::Arc;

use axum::extract::{Path, Request, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mesh_kafka::pipeline::OutRecord;
use mesh_runtime::problem::ApiError;
use serde_json::{Value, json};

use crate::auth::Tokens;
use crate::config::GatewayConfig;
use crate::contracts::{ContractSet, ProductContracts};
use crate::idempotency::{Claim, Idempotency, Stored, body_hash};
use crate::output::{CONTRACT_VERSION, PRODUCT, SCHEMA_ID, SOURCE_TOPIC};
use crate::registry::{LatestIds, ParsedSchema, SchemaLookup, Unavailable};
use crate::request::{
    Event, authenticate, check_content_type, idempotency_key, parse_events, read_body,
};
use crate::stream::now_ms;
use crate::validate::{self, Outcome, RecordView, Violation};
use crate::writer::Writer;
use crate::{encode, metrics};

/// Headers stamped on records that came through HTTP.
pub const PRINCIPAL: &str = "__mesh.principal";
pub const IDEMPOTENCY_KEY: &str = "__mesh.idempotency.key";
/// `__mesh.source.topic` of HTTP-produced records.
pub const HTTP_SOURCE: &str = "http";

/// Everything a produce request needs.
pub struct ProduceState {
    pub config: GatewayConfig,
    pub set: ContractSet,
    pub schemas: Arc<dyn SchemaLookup>,
    pub latest: LatestIds,
    pub writer: Writer,
    pub tokens: Tokens,
    pub idempotency: Idempotency,
}

impl std::fmt::Debug for ProduceState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProduceState").finish_non_exhaustive()
    }
}

pub(crate) fn err(status: StatusCode, code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(status, code, message)
}

fn unavailable(e: &Unavailable) -> ApiError {
    err(
        StatusCode::SERVICE_UNAVAILABLE,
        "registry_unavailable",
        format!("{e}; retry later (nothing was written)"),
    )
}

pub async fn produce(
    State(s): State<Arc<ProduceState>>,
    Path(product): Path<String>,
    req: Request,
) -> Response {
    let result = handle(&s, &product, req).await;
    let status = match &result {
        Ok(r) => r.status(),
        Err(e) => e.status,
    };
    metrics::http_request(status.as_u16());
    result.unwrap_or_else(IntoResponse::into_response)
}

async fn handle(s: &Arc<ProduceState>, product: &str, req: Request) -> Result<Response, ApiError> {
    let (parts, body) = req.into_parts();
    let (principal, domain) = authenticate(&s.tokens, &parts.headers)?;
    check_content_type(&parts.headers)?;
    let body = read_body(body, s.config.max_body_bytes).await?;
    let p = s.set.by_product_id(product).ok_or_else(|| {
        ApiError::not_found(format!("no enforced contract for product {product}"))
    })?;
    let newest = Arc::clone(p.newest().ok_or_else(|| {
        ApiError::not_found(format!("no enforced contract for product {product}"))
    })?);
    if newest.contract.domain != domain {
        return Err(err(
            StatusCode::FORBIDDEN,
            "forbidden",
            format!(
                "{principal} (domain {domain}) may not produce to {product} (domain {})",
                newest.contract.domain
            ),
        ));
    }
    let events = parse_events(&body, s.config.max_events_per_request)?;
    let idem_key =
        idempotency_key(&parts.headers)?.map(|k| format!("{domain}\u{0}{product}\u{0}{k}"));
    if let Some(k) = &idem_key {
        match s.idempotency.claim(k, body_hash(&body)) {
            Claim::New => {}
            Claim::Replay(stored) => return Ok(stored_response(stored)),
            Claim::Conflict => {
                return Err(err(
                    StatusCode::CONFLICT,
                    "idempotency_key_reused",
                    "this Idempotency-Key was already used with a different request body",
                ));
            }
            Claim::InFlight => {
                return Err(err(
                    StatusCode::CONFLICT,
                    "idempotency_key_in_flight",
                    "a request with this Idempotency-Key is still being processed; retry later",
                ));
            }
        }
    }
    let result = validate_and_write(s, &p, &newest, events, &principal, idem_key.as_deref()).await;
    if let Some(k) = &idem_key {
        match &result {
            Ok(stored) => s.idempotency.finish(k, stored.clone()),
            Err(e) if e.status == StatusCode::UNPROCESSABLE_ENTITY => s.idempotency.finish(
                k,
                Stored {
                    status: 422,
                    body: json!({ "error": e }),
                },
            ),
            Err(_) => s.idempotency.release(k),
        }
    }
    result.map(stored_response)
}

fn stored_response(s: Stored) -> Response {
    let status = StatusCode::from_u16(s.status).unwrap_or(StatusCode::OK);
    (status, axum::Json(s.body)).into_response()
}

/// Encodes a JSON value with a registered schema as Confluent wire format.
fn encode_with(entry: &crate::registry::SchemaEntry, v: &Value) -> Result<Vec<u8>, Vec<Violation>> {
    let mut out = vec![0];
    out.extend_from_slice(&entry.id.to_be_bytes());
    match &entry.parsed {
        ParsedSchema::Avro(schema) => match encode::to_avro(schema, v) {
            Ok(b) => out.extend_from_slice(&b),
            Err(errors) => {
                return Err(errors
                    .into_iter()
                    .map(|e| Violation {
                        code: "SCHEMA_MISMATCH".into(),
                        rule: None,
                        path: e.path,
                        message: e.message,
                    })
                    .collect());
            }
        },
        // JSON Schema and types the gateway cannot encode: the JSON text; validate() decides.
        ParsedSchema::Json(_) | ParsedSchema::Unsupported(_) => {
            out.extend_from_slice(v.to_string().as_bytes());
        }
    }
    Ok(out)
}

async fn validate_and_write(
    s: &Arc<ProduceState>,
    p: &Arc<ProductContracts>,
    newest: &Arc<crate::contracts::ActiveContract>,
    events: Vec<Event>,
    principal: &str,
    idem_key: Option<&str>,
) -> Result<Stored, ApiError> {
    let c = &newest.contract;
    let no_schema = |subject: &str| {
        err(
            StatusCode::SERVICE_UNAVAILABLE,
            "no_schema",
            format!("subject {subject} has no registered schema; publish the contract first"),
        )
    };
    let value_id = s
        .latest
        .latest(&c.value_schema.subject)
        .await
        .map_err(|e| unavailable(&e))?
        .ok_or_else(|| no_schema(&c.value_schema.subject))?;
    let key_id = match &c.key.schema {
        Some(ks) => Some(
            s.latest
                .latest(&ks.subject)
                .await
                .map_err(|e| unavailable(&e))?
                .ok_or_else(|| no_schema(&ks.subject))?,
        ),
        None => None,
    };
    let writer = &s.writer;
    let product_id = p.product_id.clone();
    let s = Arc::clone(s);
    let p = Arc::clone(p);
    let principal = principal.to_owned();
    let idem_key = idem_key.map(|k| k.rsplit('\u{0}').next().unwrap_or(k).to_owned());
    let validated = tokio::task::spawn_blocking(move || {
        let product = p.product_id.as_str();
        let value_entry = s.schemas.schema(value_id).map_err(|e| unavailable(&e))?;
        let value_entry = value_entry.ok_or_else(|| no_schema_id(value_id))?;
        let key_entry = match key_id {
            Some(id) => Some(
                s.schemas
                    .schema(id)
                    .map_err(|e| unavailable(&e))?
                    .ok_or_else(|| no_schema_id(id))?,
            ),
            None => None,
        };
        let mut details = Vec::new();
        let mut records = Vec::with_capacity(events.len());
        let mut contract_version = String::new();
        let now = now_ms();
        // Registered once per request, not looked up per event.
        let counters = metrics::ProductCounters::new(product);
        for (index, e) in events.into_iter().enumerate() {
            let mut violations = Vec::new();
            let key = match (&e.key, &key_entry) {
                (None | Some(Value::Null), _) => None,
                (Some(k), Some(entry)) => match encode_with(entry, k) {
                    Ok(b) => Some(b),
                    Err(vs) => {
                        violations.extend(vs.into_iter().map(|mut v| {
                            v.code = format!("KEY_{}", v.code);
                            v.path = v.path.replacen('$', "$key", 1);
                            v
                        }));
                        None
                    }
                },
                (Some(Value::String(k)), None) => Some(k.clone().into_bytes()),
                (Some(k), None) => Some(k.to_string().into_bytes()),
            };
            let value = match encode_with(&value_entry, &e.value) {
                Ok(v) => Some(v),
                Err(vs) => {
                    violations.extend(vs);
                    None
                }
            };
            let bytes = key.as_ref().map_or(0, Vec::len) + value.as_ref().map_or(0, Vec::len);
            // A key that did not encode still lets the value be checked (every violation of
            // the event in one answer); only the then-missing key's KEY_REQUIRED is dropped.
            let key_failed = !violations.is_empty();
            let outcome = match &value {
                Some(v) => validate::validate(
                    &p,
                    s.schemas.as_ref(),
                    RecordView {
                        key: key.as_deref(),
                        value: Some(v),
                        header_schema_id: false,
                    },
                )
                .map_err(|e| unavailable(&e))?,
                None => Outcome::Rejected {
                    contract: None,
                    schema_id: Some(value_id),
                    violations: Vec::new(),
                },
            };
            let outcome = match outcome {
                Outcome::Valid { .. } if key_failed => Outcome::Rejected {
                    contract: None,
                    schema_id: Some(value_id),
                    violations,
                },
                Outcome::Rejected {
                    contract,
                    schema_id,
                    violations: found,
                } if key_failed || value.is_none() => {
                    violations.extend(
                        found
                            .into_iter()
                            .filter(|v| !(key_failed && v.code == "KEY_REQUIRED")),
                    );
                    Outcome::Rejected {
                        contract,
                        schema_id,
                        violations,
                    }
                }
                other => other,
            };
            match outcome {
                Outcome::Valid { contract, .. } => {
                    counters.record(true, bytes);
                    contract_version = contract.contract.version.clone();
                    let mut r = OutRecord {
                        topic: contract.contract.topics.validated.clone(),
                        partition: None,
                        key,
                        payload: value,
                        headers: e
                            .headers
                            .into_iter()
                            .map(|(k, v)| (k, v.into_bytes()))
                            .collect(),
                        timestamp: Some(now),
                    }
                    .header(SOURCE_TOPIC, HTTP_SOURCE)
                    .header(PRODUCT, product)
                    .header(CONTRACT_VERSION, contract.contract.version.as_str())
                    .header(SCHEMA_ID, value_id.to_string())
                    .header(PRINCIPAL, principal.as_str());
                    if let Some(k) = &idem_key {
                        r = r.header(IDEMPOTENCY_KEY, k.as_str());
                    }
                    records.push(r);
                }
                Outcome::Rejected { violations, .. } => {
                    counters.record(false, bytes);
                    for v in violations {
                        metrics::http_violation(product, v.rule.as_deref().unwrap_or(&v.code));
                        details.push(json!({
                            "index": index, "rule": v.rule, "code": v.code,
                            "path": v.path, "message": v.message,
                        }));
                    }
                }
            }
        }
        if !details.is_empty() {
            let bad: std::collections::BTreeSet<u64> =
                details.iter().filter_map(|d| d["index"].as_u64()).collect();
            return Err(err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "contract_violation",
                format!(
                    "{} of {} events violate the contract of {product}; nothing was written",
                    bad.len(),
                    bad.len() + records.len()
                ),
            )
            .with_details(details));
        }
        Ok((records, contract_version))
    })
    .await
    .map_err(|e| {
        err(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            format!("produce task failed: {e}"),
        )
    })??;
    let (records, contract_version) = validated;
    let topic = records.first().map(|r| r.topic.clone()).unwrap_or_default();
    let offsets = writer.write(records).await.map_err(|e| {
        err(
            StatusCode::SERVICE_UNAVAILABLE,
            "kafka_unavailable",
            format!("writing to Kafka failed ({e}); nothing was written, retry"),
        )
    })?;
    Ok(Stored {
        status: 200,
        body: json!({
            "product": product_id,
            "topic": topic,
            "schemaId": value_id,
            "contractVersion": contract_version,
            "offsets": offsets.iter().enumerate().map(|(i, (partition, offset))| json!({
                "index": i, "partition": partition, "offset": offset,
            })).collect::<Vec<_>>(),
        }),
    })
}

fn no_schema_id(id: u32) -> ApiError {
    err(
        StatusCode::SERVICE_UNAVAILABLE,
        "no_schema",
        format!("schema id {id} is no longer registered; retry"),
    )
}
