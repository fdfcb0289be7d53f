//! The Confluent REST API over [`crate::service::Registry`]: the router, request extractors
//! (bodies in any of the four content types with our own size limit, case-insensitive query
//! booleans) and the response helper that always answers `application/vnd.schemaregistry.v1+json`.
//!
//! Handlers live in `subjects` (subjects, versions, schemas, compatibility) and `settings`
//! (config, mode, contexts, server metadata).

mod settings;
mod subjects;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::RegistryError;
use crate::service::Registry;

/// Confluent's preferred response media type.
pub const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";

/// Shared handler state.
#[derive(Debug)]
pub struct AppState {
    pub registry: Registry,
    pub max_request_bytes: usize,
    pub cluster_id: String,
}

pub type Shared = Arc<AppState>;

/// A JSON response with Confluent's content type.
pub fn reply<T: Serialize + ?Sized>(status: StatusCode, body: &T) -> Response {
    let bytes = serde_json::to_vec(body).unwrap_or_else(|_| b"{}".to_vec());
    (status, [(header::CONTENT_TYPE, CONTENT_TYPE)], bytes).into_response()
}

pub fn ok<T: Serialize + ?Sized>(body: &T) -> Response {
    reply(StatusCode::OK, body)
}

/// The raw request body, read up to `max_request_bytes` regardless of content type (clients
/// send v1+json, vnd.schemaregistry+json, json, octet-stream, or nothing).
#[derive(Debug)]
pub struct Body(pub Result<Bytes, RegistryError>);

impl FromRequest<Shared> for Body {
    type Rejection = std::convert::Infallible;

    async fn from_request(req: Request, state: &Shared) -> Result<Self, Self::Rejection> {
        let limit = state.max_request_bytes;
        let too_large = || {
            RegistryError::http(
                StatusCode::PAYLOAD_TOO_LARGE,
                format!("Request entity too large: the limit is {limit} bytes"),
            )
        };
        let declared = req
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<usize>().ok());
        if declared.is_some_and(|n| n > limit) {
            return Ok(Body(Err(too_large())));
        }
        Ok(Body(
            axum::body::to_bytes(req.into_body(), limit)
                .await
                .map_err(|_| too_large()),
        ))
    }
}

impl Body {
    /// Parses the body as JSON. Syntax errors are Jersey's 400, well-formed JSON of the wrong
    /// shape its 422 (rest-utils' Jackson exception mappers).
    pub fn json<T: DeserializeOwned>(self) -> Result<T, RegistryError> {
        let bytes = self.0?;
        serde_json::from_slice(&bytes).map_err(|e| {
            let status = if e.is_data() {
                StatusCode::UNPROCESSABLE_ENTITY
            } else {
                StatusCode::BAD_REQUEST
            };
            RegistryError::http(status, format!("Unrecognized request body: {e}"))
        })
    }
}

/// Query parameters, multi-valued, with Confluent's lenient parsing.
#[derive(Debug, Default)]
pub struct Params(Vec<(String, String)>);

impl<S: Send + Sync> FromRequestParts<S> for Params {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let q = Query::<Vec<(String, String)>>::try_from_uri(&parts.uri)
            .map(|q| q.0)
            .unwrap_or_default();
        Ok(Params(q))
    }
}

impl Params {
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn all(&self, name: &str) -> Vec<String> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
            .collect()
    }

    /// Java's `Boolean.valueOf`: `true` in any case is true, anything else false. Python
    /// clients send `True`/`False`.
    pub fn flag(&self, name: &str) -> bool {
        self.get(name)
            .is_some_and(|v| v.eq_ignore_ascii_case("true"))
    }

    /// `offset`/`limit` paging over a list (limit ≤ 0 or absent = everything).
    pub fn page<T>(&self, items: Vec<T>) -> Vec<T> {
        let num = |n| self.get(n).and_then(|v| v.parse::<i64>().ok()).unwrap_or(0);
        let offset = num("offset").max(0) as usize;
        let limit = num("limit");
        let it = items.into_iter().skip(offset);
        if limit > 0 {
            it.take(limit as usize).collect()
        } else {
            it.collect()
        }
    }
}

/// Unknown paths and methods: Jetty's envelope with the HTTP status as the code.
async fn not_found() -> Response {
    RegistryError::http(StatusCode::NOT_FOUND, "HTTP 404 Not Found").into_response()
}

async fn method_not_allowed() -> Response {
    RegistryError::http(
        StatusCode::METHOD_NOT_ALLOWED,
        "HTTP 405 Method Not Allowed",
    )
    .into_response()
}

async fn root() -> Response {
    ok(&serde_json::json!({}))
}

/// Every Confluent route of registry-api.md §1.2 (minus associations, tags and guids).
pub fn router(state: Shared) -> Router {
    Router::new()
        .route("/", get(root).post(root))
        .merge(subjects::routes())
        .merge(settings::routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        // Bodies are limited by `Body` itself, so the 413 uses Confluent's envelope.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}
