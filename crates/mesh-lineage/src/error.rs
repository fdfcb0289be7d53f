//! Every failure of the lineage collector, and the one place that maps it to mesh's REST
//! envelope (`{"error": {code, message, details}}`).

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use mesh_runtime::problem::ApiError;

use crate::event::Violation;

#[derive(Debug, thiserror::Error)]
pub enum LineageError {
    /// The event (or body) violates the OpenLineage spec; every violation with its JSON path.
    #[error("invalid OpenLineage event: {} violation(s)", .0.len())]
    InvalidEvent(Vec<Violation>),
    #[error("{0}")]
    BadRequest(String),
    #[error("request body larger than {limit} bytes")]
    TooLarge { limit: usize },
    #[error("missing or wrong bearer token")]
    Unauthorized,
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Ambiguous(String),
    /// Appending to `_mesh.lineage` failed; the client should retry.
    #[error("could not append to the lineage topic: {0}")]
    Unavailable(String),
    /// The broker lacks an API an observer needs (the mock cluster has no ListGroups).
    #[error("not supported by this broker: {0}")]
    Unsupported(String),
    #[error(transparent)]
    Kafka(#[from] mesh_kafka::KafkaError),
    #[error(transparent)]
    Runtime(#[from] mesh_runtime::RuntimeError),
    #[error("{0}")]
    Internal(String),
}

impl LineageError {
    pub fn to_api(&self) -> ApiError {
        let msg = self.to_string();
        match self {
            Self::InvalidEvent(v) => ApiError::new(StatusCode::BAD_REQUEST, "invalid_event", msg)
                .with_details(
                    v.iter()
                        .map(|v| serde_json::json!({"path": v.path, "reason": v.reason}))
                        .collect(),
                ),
            Self::BadRequest(_) => ApiError::new(StatusCode::BAD_REQUEST, "bad_request", msg),
            Self::TooLarge { .. } => {
                ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", msg)
            }
            Self::Unauthorized => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", msg),
            Self::NotFound(_) => ApiError::not_found(msg),
            Self::Ambiguous(_) => ApiError::new(StatusCode::CONFLICT, "ambiguous", msg),
            Self::Unavailable(_) => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", msg)
            }
            Self::Unsupported(_) => ApiError::new(StatusCode::NOT_IMPLEMENTED, "unsupported", msg),
            Self::Kafka(_) | Self::Runtime(_) | Self::Internal(_) => {
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, "internal", msg)
            }
        }
    }
}

impl IntoResponse for LineageError {
    fn into_response(self) -> Response {
        let mut r = self.to_api().into_response();
        if matches!(self, Self::Unauthorized) {
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer"),
            );
        }
        r
    }
}
