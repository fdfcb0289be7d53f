//! The gateway's HTTP API: the router and its OpenAPI 3.1 document.
//!
//! [`ROUTES`] is the single list the router is built from; a test checks it against the paths
//! and methods of `openapi.json`, so the document cannot silently drift from the handlers.

use std::sync::Arc;

use axum::Router;
use axum::routing::{get, post};

use crate::produce::{ProduceState, produce};

/// The OpenAPI document served at `/api/v1/openapi.json`.
pub const OPENAPI: &str = include_str!("../openapi.json");

/// `(method, path)` of every route the router registers (OpenAPI path syntax).
pub const ROUTES: &[(&str, &str)] = &[
    ("post", "/api/v1/products/{product}/events"),
    ("get", "/api/v1/openapi.json"),
];

pub fn router(state: Arc<ProduceState>) -> Router {
    Router::new()
        .route(ROUTES[0].1, post(produce))
        .route(
            ROUTES[1].1,
            get(|| async {
                (
                    [(axum::http::header::CONTENT_TYPE, "application/json")],
                    OPENAPI,
                )
            }),
        )
        .with_state(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_lists_exactly_the_routes() {
        let doc: serde_json::Value = serde_json::from_str(OPENAPI).expect("valid JSON");
        assert_eq!(doc["openapi"], "3.1.0");
        let mut documented: Vec<(String, String)> = doc["paths"]
            .as_object()
            .expect("paths")
            .iter()
            .flat_map(|(path, ops)| {
                ops.as_object()
                    .expect("operations")
                    .keys()
                    .map(move |m| (m.clone(), path.clone()))
            })
            .collect();
        let mut routed: Vec<(String, String)> = ROUTES
            .iter()
            .map(|(m, p)| ((*m).to_owned(), (*p).to_owned()))
            .collect();
        documented.sort();
        routed.sort();
        assert_eq!(documented, routed);
    }
}
