//! Avro schema identity over HTTP (registry-api.md §1.5): the stored and returned text is
//! Avro-Java's `Schema.toString()` of the parsed schema, so key order and layout do not create
//! new ids or versions, on register, on lookup, and after a restart.

use std::path::PathBuf;

use mesh_registry::{RegistryConfig, RunningRegistry};
use mesh_runtime::Shutdown;
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};

const CT: &str = "application/vnd.schemaregistry.v1+json";
const USER: &str = r#"{"type":"record","name":"User","namespace":"mesh.test","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"}]}"#;
/// `USER` with its keys in another order, pretty-printed.
const USER_REORDERED: &str = r#"{
  "fields": [
    {"type": "long", "name": "id"},
    {"name": "name", "type": "string"}
  ],
  "namespace": "mesh.test",
  "name": "User",
  "type": "record"
}"#;

struct Sr {
    base: String,
    http: Client,
    shutdown: Shutdown,
    running: Option<RunningRegistry>,
}

impl Sr {
    async fn start(data_dir: Option<PathBuf>) -> Self {
        let shutdown = Shutdown::new();
        let config = RegistryConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            data_dir,
            ..RegistryConfig::default()
        };
        let running = mesh_registry::start(config, &shutdown).await.unwrap();
        Self {
            base: format!("http://{}", running.addr),
            http: Client::new(),
            shutdown,
            running: Some(running),
        }
    }

    async fn stop(mut self) {
        self.shutdown.cancel();
        self.running.take().unwrap().join().await.unwrap();
    }

    async fn send(&self, post: Option<Value>, path: &str) -> (StatusCode, Value) {
        let url = format!("{}{path}", self.base);
        let r = match post {
            Some(body) => self
                .http
                .post(url)
                .header("content-type", CT)
                .body(body.to_string()),
            None => self.http.get(url),
        };
        let resp = r.send().await.unwrap();
        let status = resp.status();
        (status, resp.json().await.unwrap())
    }

    async fn register(&self, subject: &str, schema: &str) -> (StatusCode, Value) {
        let path = format!("/subjects/{subject}/versions");
        self.send(Some(json!({ "schema": schema })), &path).await
    }

    async fn lookup(&self, subject: &str, schema: &str) -> (StatusCode, Value) {
        let path = format!("/subjects/{subject}");
        self.send(Some(json!({ "schema": schema })), &path).await
    }

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.send(None, path).await
    }
}

#[tokio::test]
async fn reordered_keys_are_the_same_schema() {
    let sr = Sr::start(None).await;
    assert_eq!(
        sr.register("s", USER).await,
        (StatusCode::OK, json!({"id": 1}))
    );
    assert_eq!(
        sr.register("s", USER_REORDERED).await,
        (StatusCode::OK, json!({"id": 1}))
    );
    assert_eq!(sr.get("/subjects/s/versions").await.1, json!([1]));
    // Another subject shares the id.
    assert_eq!(sr.register("t", USER_REORDERED).await.1, json!({"id": 1}));

    let (status, found) = sr.lookup("s", USER_REORDERED).await;
    assert_eq!(status, StatusCode::OK, "{found}");
    assert_eq!(
        (found["version"].clone(), found["id"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(found["schema"], USER);
    assert_eq!(sr.get("/schemas/ids/1").await.1["schema"], USER);
    sr.stop().await;
}

#[tokio::test]
async fn the_returned_text_is_javas_rendering() {
    let sr = Sr::start(None).await;
    let sent = r#"{"fields":[{"type":"long","name":"id"}],"name":"User","type":"record"}"#;
    assert_eq!(sr.register("s", sent).await.1, json!({"id": 1}));
    let (status, v) = sr.get("/subjects/s/versions/1").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        v["schema"],
        r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#
    );
    // Docs, defaults, logical types and custom properties survive, in Java's order.
    let rich = r#"{"doc":"d","type":"record","name":"R","connect.name":"R","fields":[
        {"default":{"b":1,"a":2},"name":"m","type":{"values":"int","type":"map"}},
        {"name":"ts","type":{"logicalType":"timestamp-millis","type":"long"},"doc":"when"}]}"#;
    assert_eq!(sr.register("rich", rich).await.1, json!({"id": 2}));
    assert_eq!(
        sr.get("/subjects/rich/versions/1").await.1["schema"],
        concat!(
            r#"{"type":"record","name":"R","doc":"d","fields":["#,
            r#"{"name":"m","type":{"type":"map","values":"int"},"default":{"b":1,"a":2}},"#,
            r#"{"name":"ts","type":{"type":"long","logicalType":"timestamp-millis"},"doc":"when"}],"#,
            r#""connect.name":"R"}"#
        )
    );
    sr.stop().await;
}

#[tokio::test]
async fn identity_survives_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let sr = Sr::start(Some(dir.path().to_owned())).await;
    assert_eq!(sr.register("s", USER_REORDERED).await.1, json!({"id": 1}));
    sr.stop().await;

    let sr = Sr::start(Some(dir.path().to_owned())).await;
    assert_eq!(sr.get("/subjects/s/versions/1").await.1["schema"], USER);
    assert_eq!(sr.register("s", USER).await.1, json!({"id": 1}));
    assert_eq!(sr.get("/subjects/s/versions").await.1, json!([1]));
    assert_eq!(sr.lookup("s", USER_REORDERED).await.1["version"], 1);
    sr.stop().await;
}
