//! Shared by the registry's HTTP API tests (api_*.rs): a `start()`ed registry on port 0 and a
//! reqwest client that drives it the way Confluent clients do.

// Each test crate that includes this module uses a different part of it.
#![allow(dead_code)]

use std::path::PathBuf;

use mesh_registry::{RegistryConfig, RunningRegistry};
use mesh_runtime::Shutdown;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

pub const CT: &str = "application/vnd.schemaregistry.v1+json";
pub const V1: &str = r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#;
pub const V2: &str = r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"n","type":"string","default":""}]}"#;
pub const BAD: &str = r#"{"type":"record","name":"User","fields":[{"name":"x","type":"string"}]}"#;

pub struct Sr {
    pub base: String,
    pub http: Client,
    shutdown: Shutdown,
    running: Option<RunningRegistry>,
}

impl Sr {
    pub async fn start(config: RegistryConfig) -> Self {
        let shutdown = Shutdown::new();
        let config = RegistryConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..config
        };
        let running = mesh_registry::start(config, &shutdown).await.unwrap();
        Self::serving(shutdown, running)
    }

    fn serving(shutdown: Shutdown, running: RunningRegistry) -> Self {
        Self {
            base: format!("http://{}", running.addr),
            http: Client::new(),
            shutdown,
            running: Some(running),
        }
    }

    /// A registry over the Kafka topic `topic` of `cluster`.
    pub async fn kafka(cluster: &mesh_kafka::testing::TestCluster, topic: &str) -> Self {
        Self::kafka_with(cluster, topic, RegistryConfig::default()).await
    }

    pub async fn kafka_with(
        cluster: &mesh_kafka::testing::TestCluster,
        topic: &str,
        config: RegistryConfig,
    ) -> Self {
        let shutdown = Shutdown::new();
        let config = RegistryConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            store: mesh_registry::StoreKind::Kafka,
            topic: topic.to_owned(),
            ..config
        };
        let mut kafka = cluster.kafka_config();
        // Reconnect quickly after the outage tests bring brokers back (default backoff: 10 s).
        kafka
            .properties
            .insert("reconnect.backoff.max.ms".into(), "500".into());
        let running = mesh_registry::start_with_kafka(
            config,
            Some((&kafka, cluster.provisioner())),
            &shutdown,
        )
        .await
        .unwrap();
        Self::serving(shutdown, running)
    }

    pub async fn memory() -> Self {
        Self::start(RegistryConfig::default()).await
    }

    pub async fn on_disk(dir: PathBuf) -> Self {
        Self::start(RegistryConfig {
            data_dir: Some(dir),
            ..RegistryConfig::default()
        })
        .await
    }

    pub async fn stop(mut self) {
        self.shutdown.cancel();
        self.running.take().unwrap().join().await.unwrap();
    }

    pub async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.http.request(method, format!("{}{path}", self.base));
        if let Some(b) = body {
            r = r.header("content-type", CT).body(b.to_string());
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }
    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }
    pub async fn register(&self, subject: &str, schema: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/subjects/{subject}/versions"),
            json!({"schema": schema}),
        )
        .await
    }
}

pub fn code(v: &Value) -> i64 {
    v["error_code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error_code in {v}"))
}
