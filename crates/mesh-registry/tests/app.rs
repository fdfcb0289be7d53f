//! `mesh_registry::app`: the routes `start` serves, built over a caller's registry without
//! binding (what the `registry_body` fuzz target drives in-process). Served here with plain
//! `axum::serve` to check it carries `config`'s body limit and authentication.

use std::sync::Arc;

use mesh_registry::config::{Access, BearerToken};
use mesh_registry::service::Registry;
use mesh_registry::store::{MemoryStore, SchemaStore};
use mesh_registry::{AuthConfig, RegistryConfig};
use mesh_runtime::config::Secret;
use serde_json::{Value, json};

const CT: &str = "application/vnd.schemaregistry.v1+json";

async fn serve(config: RegistryConfig) -> String {
    let store: Arc<dyn SchemaStore> = Arc::new(MemoryStore::default());
    let registry = Registry::open(store, false).unwrap();
    let app = mesh_registry::app(&config, registry);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    base
}

#[tokio::test]
async fn app_serves_the_api_with_the_configured_limit_and_auth() {
    let base = serve(RegistryConfig {
        max_request_bytes: 200,
        auth: AuthConfig {
            tokens: vec![BearerToken {
                token: Secret::new("t0ken"),
                access: Access::ReadWrite,
            }],
            ..AuthConfig::default()
        },
        ..RegistryConfig::default()
    })
    .await;
    let http = reqwest::Client::new();
    let post = |body: String| {
        http.post(format!("{base}/subjects/s/versions"))
            .header("content-type", CT)
            .bearer_auth("t0ken")
            .body(body)
    };

    let r = post(json!({"schema": "\"string\""}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.json::<Value>().await.unwrap(), json!({"id": 1}));

    let big = json!({"compatibility": "NONE", "alias": "x".repeat(300)}).to_string();
    let r = http
        .put(format!("{base}/config"))
        .header("content-type", CT)
        .bearer_auth("t0ken")
        .body(big)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 413);
    assert_eq!(r.json::<Value>().await.unwrap()["error_code"], 413);

    let r = http.get(format!("{base}/subjects")).send().await.unwrap();
    assert_eq!(r.status(), 401);
}
