//! HTTP produce request checks, in the order the handler applies them: bearer token,
//! content type, body size, Idempotency-Key syntax, and the body's shape (event or array).

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, StatusCode, header};
use mesh_runtime::problem::ApiError;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::Tokens;
use crate::produce::err;

/// One event of the request body.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Event {
    #[serde(default)]
    pub key: Option<Value>,
    pub value: Value,
    #[serde(default)]
    pub headers: std::collections::BTreeMap<String, String>,
}

pub(crate) fn authenticate(
    tokens: &Tokens,
    headers: &HeaderMap,
) -> Result<(String, String), ApiError> {
    let unauthorized = |m: &str| err(StatusCode::UNAUTHORIZED, "unauthorized", m);
    let value = headers
        .get(header::AUTHORIZATION)
        .ok_or_else(|| unauthorized("missing Authorization header (expected: Bearer <token>)"))?;
    let token = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| unauthorized("Authorization header is not of the form: Bearer <token>"))?;
    tokens
        .resolve(token)
        .cloned()
        .ok_or_else(|| unauthorized("unknown bearer token"))
}

pub(crate) fn check_content_type(headers: &HeaderMap) -> Result<(), ApiError> {
    let ct = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let mime = ct.split(';').next().unwrap_or("").trim();
    if mime.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else {
        Err(err(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!("Content-Type must be application/json, got {ct:?}"),
        ))
    }
}

pub(crate) async fn read_body(body: Body, limit: usize) -> Result<Bytes, ApiError> {
    axum::body::to_bytes(body, limit).await.map_err(|_| {
        err(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            format!("request body exceeds the limit of {limit} bytes"),
        )
    })
}

pub(crate) fn idempotency_key(headers: &HeaderMap) -> Result<Option<String>, ApiError> {
    let Some(v) = headers.get("idempotency-key") else {
        return Ok(None);
    };
    match v.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= 255 => Ok(Some(k.to_owned())),
        _ => Err(err(
            StatusCode::BAD_REQUEST,
            "invalid_idempotency_key",
            "Idempotency-Key must be 1–255 visible ASCII characters",
        )),
    }
}

pub(crate) fn parse_events(body: &[u8], max: usize) -> Result<Vec<Event>, ApiError> {
    let bad = |m: String| err(StatusCode::BAD_REQUEST, "invalid_request", m);
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        err(
            StatusCode::BAD_REQUEST,
            "invalid_json",
            format!("body is not valid JSON: {e}"),
        )
    })?;
    let (items, single) = match v {
        Value::Array(items) => (items, false),
        v @ Value::Object(_) => (vec![v], true),
        other => {
            return Err(bad(format!(
                "body must be an event object or an array of them, got {}",
                if other.is_null() { "null" } else { "a scalar" }
            )));
        }
    };
    if items.is_empty() {
        return Err(bad("empty batch: send at least one event".into()));
    }
    if items.len() > max {
        return Err(err(
            StatusCode::PAYLOAD_TOO_LARGE,
            "too_many_events",
            format!("{} events in one request; the limit is {max}", items.len()),
        ));
    }
    let mut details = Vec::new();
    let mut events = Vec::with_capacity(items.len());
    for (index, item) in items.into_iter().enumerate() {
        match serde_json::from_value::<Event>(item) {
            Ok(e) => events.push(e),
            Err(e) => details.push(json!({
                "index": index, "rule": null, "code": "INVALID_EVENT", "path": "$",
                "message": format!("event must be {{\"value\": ..., \"key\"?: ..., \"headers\"?: {{..}}}}: {e}"),
            })),
        }
    }
    if details.is_empty() {
        Ok(events)
    } else {
        let what = if single { "the event" } else { "events" };
        Err(bad(format!("{what} do not have the request shape")).with_details(details))
    }
}
