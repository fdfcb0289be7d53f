//! The HTTP scaffold every service reuses: its own routes plus `/metrics`, `/health/live` and
//! `/health/ready`, request metrics, and graceful shutdown on the service's token.

use std::net::SocketAddr;
use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use metrics_exporter_prometheus::PrometheusHandle;
use tokio::net::TcpListener;

use crate::{Readiness, RuntimeError, Shutdown};

/// A bound (not yet serving) HTTP listener. Binding first lets callers learn the real port when
/// they asked for port 0.
#[derive(Debug)]
pub struct HttpServer {
    name: &'static str,
    listener: TcpListener,
    local_addr: SocketAddr,
}

#[derive(Clone)]
struct Ops {
    readiness: Readiness,
    prometheus: PrometheusHandle,
}

impl HttpServer {
    /// Binds `addr` for service `name` (used in logs and metric labels).
    pub async fn bind(name: &'static str, addr: SocketAddr) -> Result<Self, RuntimeError> {
        let bind_err = |source| RuntimeError::Bind {
            what: format!("{name} HTTP"),
            addr,
            source,
        };
        let listener = TcpListener::bind(addr).await.map_err(bind_err)?;
        let local_addr = listener.local_addr().map_err(bind_err)?;
        Ok(Self {
            name,
            listener,
            local_addr,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// Serves `routes` plus the operational endpoints until `shutdown` is cancelled, then stops
    /// accepting and lets in-flight requests finish (the caller bounds that with its grace).
    pub async fn serve(
        self,
        routes: Router,
        readiness: Readiness,
        prometheus: PrometheusHandle,
        shutdown: Shutdown,
    ) -> Result<(), RuntimeError> {
        let name = self.name;
        let ops = Ops {
            readiness: readiness.clone(),
            prometheus,
        };
        let app = routes
            .merge(
                Router::new()
                    .route("/metrics", get(render_metrics))
                    .route("/health/live", get(live))
                    .route("/health/ready", get(ready))
                    .with_state(ops),
            )
            .layer(middleware::from_fn(move |req, next| {
                track_metrics(name, req, next)
            }));
        tracing::info!(service = name, addr = %self.local_addr, "HTTP listening");
        let token = shutdown.token();
        axum::serve(self.listener, app)
            .with_graceful_shutdown(async move {
                token.cancelled().await;
                readiness.set_draining();
            })
            .await
            .map_err(RuntimeError::Serve)?;
        tracing::info!(service = name, "HTTP stopped");
        Ok(())
    }
}

async fn render_metrics(State(ops): State<Ops>) -> Response {
    ops.prometheus.run_upkeep();
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        ops.prometheus.render(),
    )
        .into_response()
}

async fn live() -> Json<serde_json::Value> {
    Json(serde_json::json!({"status": "live"}))
}

async fn ready(State(ops): State<Ops>) -> Response {
    let report = ops.readiness.report();
    let status = if report.status == "ready" {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(report)).into_response()
}

async fn track_metrics(service: &'static str, req: Request, next: Next) -> Response {
    let start = Instant::now();
    // The route template, not the path: label cardinality stays bounded.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = req.method().as_str().to_owned();
    let response = next.run(req).await;
    let status = response.status().as_u16().to_string();
    metrics::counter!(crate::metrics::HTTP_REQUESTS,
        "service" => service, "route" => route.clone(), "method" => method.clone(), "status" => status)
    .increment(1);
    metrics::histogram!(crate::metrics::HTTP_DURATION,
        "service" => service, "route" => route, "method" => method)
    .record(start.elapsed().as_secs_f64());
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[tokio::test]
    async fn serves_health_metrics_and_own_routes_then_drains() {
        let prometheus = crate::telemetry::prometheus().unwrap();
        let readiness = Readiness::new("test-svc");
        let caught_up = readiness.component("state");
        let server = HttpServer::bind("test-svc", "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        let base = format!("http://{}", server.local_addr());
        let shutdown = Shutdown::new();
        let routes = Router::new().route("/hello/{name}", get(|| async { "hi" }));
        let task = tokio::spawn(server.serve(routes, readiness, prometheus, shutdown.clone()));

        let http = reqwest::Client::new();
        let get = |p: &str| http.get(format!("{base}{p}")).send();
        assert_eq!(get("/health/live").await.unwrap().status(), 200);
        let r = get("/health/ready").await.unwrap();
        assert_eq!(r.status(), 503, "not caught up yet");
        let body: serde_json::Value = r.json().await.unwrap();
        assert_eq!(body["components"]["state"], false);
        caught_up.set(true);
        assert_eq!(get("/health/ready").await.unwrap().status(), 200);
        assert_eq!(get("/hello/bob").await.unwrap().text().await.unwrap(), "hi");

        let metrics = get("/metrics").await.unwrap();
        assert!(
            metrics.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/plain")
        );
        let text = metrics.text().await.unwrap();
        assert!(
            text.contains(r#"route="/hello/{name}""#),
            "route template, not raw path: {text}"
        );
        assert!(!text.contains("/hello/bob"));

        shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(5), task)
            .await
            .expect("server stops on cancel")
            .unwrap()
            .unwrap();
        assert!(get("/health/live").await.is_err(), "no longer accepting");
    }
}
