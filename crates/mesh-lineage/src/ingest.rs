//! HTTP ingest, as OpenLineage's HTTP transport and the spec's OpenAPI expect:
//! `POST /api/v1/lineage` (one event → 200) and `POST /api/v1/lineage/batch` (an array →
//! 200 with `{status, summary, failed_events}`), optional bearer token, gzip bodies, a size
//! limit (413). Valid events are appended to `_mesh.lineage`; the graph is built from there.

use std::io::Read as _;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::api::AppState;
use crate::event::{self, Event};
use crate::{LineageError, metrics};

/// `POST /api/v1/lineage`.
pub async fn single(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, LineageError> {
    let bytes = read_body(&state, &headers, body).await?;
    let event = event::parse(&bytes).map_err(|v| {
        metrics::events("http", "invalid", 1);
        LineageError::InvalidEvent(v)
    })?;
    let key = event.kafka_key();
    let failed = state.appender.append(vec![(key, bytes.to_vec())]).await;
    if let Some(Some(e)) = failed.into_iter().next() {
        return Err(LineageError::Unavailable(e));
    }
    metrics::events("http", "accepted", 1);
    Ok(StatusCode::OK.into_response())
}

/// `POST /api/v1/lineage/batch`: every valid event is kept; each invalid one is listed by index.
pub async fn batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, LineageError> {
    let bytes = read_body(&state, &headers, body).await?;
    let items: Vec<Value> = match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Array(items)) => items,
        Ok(_) => {
            return Err(LineageError::BadRequest(
                "a batch body is a JSON array of OpenLineage events".into(),
            ));
        }
        Err(e) => return Err(LineageError::BadRequest(format!("not valid JSON: {e}"))),
    };
    let received = items.len();
    let mut failed: Vec<(usize, String, bool)> = Vec::new();
    let mut records = Vec::with_capacity(received);
    let mut indexes = Vec::with_capacity(received);
    for (i, item) in items.iter().enumerate() {
        match event::from_value(item) {
            Ok(e) => {
                records.push((
                    Event::kafka_key(&e),
                    serde_json::to_vec(item).unwrap_or_default(),
                ));
                indexes.push(i);
            }
            Err(v) => {
                let reason = v
                    .iter()
                    .map(|v| format!("{}: {}", v.path, v.reason))
                    .collect::<Vec<_>>()
                    .join("; ");
                failed.push((i, reason, false));
            }
        }
    }
    metrics::events("http", "invalid", failed.len() as u64);
    let results = state.appender.append(records).await;
    for (i, r) in indexes.into_iter().zip(results) {
        if let Some(e) = r {
            failed.push((i, format!("could not append: {e}"), true));
        }
    }
    failed.sort_by_key(|f| f.0);
    let successful = received - failed.len();
    metrics::events("http", "accepted", successful as u64);
    let retriable = failed.iter().filter(|f| f.2).count();
    let body = json!({
        "status": if failed.is_empty() { "success" } else { "partial_success" },
        "summary": {
            "received": received,
            "successful": successful,
            "failed": failed.len(),
            "retriable": retriable,
            "non_retriable": failed.len() - retriable,
        },
        "failed_events": failed.iter().map(|(index, reason, retriable)| json!({
            "index": index, "reason": reason, "retriable": retriable,
        })).collect::<Vec<_>>(),
    });
    let status = if successful == 0 && received > 0 && retriable == 0 {
        // Nothing was kept and retrying will not help: a client error.
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    Ok((status, axum::Json(body)).into_response())
}

/// Auth, size limit (before and after gzip) and decoding.
async fn read_body(
    state: &AppState,
    headers: &HeaderMap,
    body: Body,
) -> Result<Bytes, LineageError> {
    if !state.tokens.is_empty() {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
            })
            .map(str::trim);
        if !given.is_some_and(|g| state.tokens.iter().any(|t| t.expose() == g)) {
            return Err(LineageError::Unauthorized);
        }
    }
    let limit = state.max_request_bytes;
    let raw = axum::body::to_bytes(body, limit.saturating_add(1))
        .await
        .map_err(|_| LineageError::TooLarge { limit })?;
    if raw.len() > limit {
        return Err(LineageError::TooLarge { limit });
    }
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("identity")
        .trim()
        .to_ascii_lowercase();
    match encoding.as_str() {
        "identity" | "" => Ok(raw),
        "gzip" | "x-gzip" => {
            let mut out = Vec::new();
            flate2::read::MultiGzDecoder::new(&raw[..])
                .take(limit as u64 + 1)
                .read_to_end(&mut out)
                .map_err(|e| LineageError::BadRequest(format!("body is not valid gzip: {e}")))?;
            if out.len() > limit {
                return Err(LineageError::TooLarge { limit });
            }
            Ok(out.into())
        }
        other => Err(LineageError::BadRequest(format!(
            "unsupported Content-Encoding {other:?} (identity or gzip)"
        ))),
    }
}
