//! `GET /api/v1/freshness[/{product}]`, `GET /api/v1/alerts`, and the silences API. Errors use
//! the platform envelope (`mesh_runtime::problem::ApiError`).

use std::sync::Arc;

use axum::extract::{Path, State, rejection::JsonRejection};
use axum::http::StatusCode;
use axum::routing::{delete, get};
use axum::{Json, Router};
use mesh_runtime::problem::ApiError;

use crate::alerts::Alert;
use crate::service::Shared;
use crate::silences::{NewSilence, Silence};
use crate::snapshot::{Overview, ProductView};

pub fn router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/api/v1/freshness", get(overview))
        .route("/api/v1/freshness/{product}", get(product))
        .route("/api/v1/alerts", get(alerts))
        .route("/api/v1/silences", get(list_silences).post(create_silence))
        .route("/api/v1/silences/{id}", delete(delete_silence))
        .with_state(shared)
}

async fn overview(State(s): State<Arc<Shared>>) -> Json<Overview> {
    let now = s.clock.now_ms();
    let m = s.monitor();
    Json(Overview {
        evaluated_at_ms: now,
        products: m.views().cloned().map(ProductView::finish).collect(),
    })
}

async fn product(
    State(s): State<Arc<Shared>>,
    Path(product): Path<String>,
) -> Result<Json<ProductView>, ApiError> {
    let m = s.monitor();
    m.view(&product)
        .cloned()
        .map(|v| Json(v.finish()))
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "no product {product} is monitored (no active contract, or not evaluated yet)"
            ))
        })
}

async fn alerts(State(s): State<Arc<Shared>>) -> Json<Vec<Alert>> {
    Json(s.monitor().active_alerts().cloned().collect())
}

async fn list_silences(State(s): State<Arc<Shared>>) -> Json<Vec<Silence>> {
    let now = s.clock.now_ms();
    Json(s.monitor().silences.list(now))
}

async fn create_silence(
    State(s): State<Arc<Shared>>,
    body: Result<Json<NewSilence>, JsonRejection>,
) -> Result<(StatusCode, Json<Silence>), ApiError> {
    let Json(new) =
        body.map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_silence", e.body_text()))?;
    let now = s.clock.now_ms();
    let silence = s
        .monitor()
        .silences
        .add(new, now)
        .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "invalid_silence", m))?;
    Ok((StatusCode::CREATED, Json(silence)))
}

async fn delete_silence(
    State(s): State<Arc<Shared>>,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    s.monitor()
        .silences
        .remove(&id)
        .map(|_| StatusCode::NO_CONTENT)
        .ok_or_else(|| ApiError::not_found(format!("no silence {id}")))
}
