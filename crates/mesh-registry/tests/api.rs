//! The Confluent REST API end to end over HTTP: a `start()`ed registry on port 0, driven with
//! reqwest the way Confluent clients drive it.

use std::path::PathBuf;

use mesh_registry::{RegistryConfig, RunningRegistry};
use mesh_runtime::Shutdown;
use reqwest::{Client, Method, StatusCode};
use serde_json::{Value, json};

const CT: &str = "application/vnd.schemaregistry.v1+json";
const V1: &str = r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#;
const V2: &str = r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"n","type":"string","default":""}]}"#;
const BAD: &str = r#"{"type":"record","name":"User","fields":[{"name":"x","type":"string"}]}"#;

struct Sr {
    base: String,
    http: Client,
    shutdown: Shutdown,
    running: Option<RunningRegistry>,
}

impl Sr {
    async fn start(config: RegistryConfig) -> Self {
        let shutdown = Shutdown::new();
        let config = RegistryConfig {
            listen: "127.0.0.1:0".parse().unwrap(),
            ..config
        };
        let running = mesh_registry::start(config, &shutdown).await.unwrap();
        Self {
            base: format!("http://{}", running.addr),
            http: Client::new(),
            shutdown,
            running: Some(running),
        }
    }

    async fn memory() -> Self {
        Self::start(RegistryConfig::default()).await
    }

    async fn on_disk(dir: PathBuf) -> Self {
        Self::start(RegistryConfig {
            data_dir: Some(dir),
            ..RegistryConfig::default()
        })
        .await
    }

    async fn stop(mut self) {
        self.shutdown.cancel();
        self.running.take().unwrap().join().await.unwrap();
    }

    async fn call(&self, method: Method, path: &str, body: Option<Value>) -> (StatusCode, Value) {
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

    async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::GET, path, None).await
    }
    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::POST, path, Some(body)).await
    }
    async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(Method::PUT, path, Some(body)).await
    }
    async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(Method::DELETE, path, None).await
    }
    async fn register(&self, subject: &str, schema: &str) -> (StatusCode, Value) {
        self.post(
            &format!("/subjects/{subject}/versions"),
            json!({"schema": schema}),
        )
        .await
    }
}

fn code(v: &Value) -> i64 {
    v["error_code"]
        .as_i64()
        .unwrap_or_else(|| panic!("no error_code in {v}"))
}

#[tokio::test]
async fn register_lookup_get_list_flow() {
    let sr = Sr::memory().await;
    assert_eq!(sr.get("/").await, (StatusCode::OK, json!({})));
    assert_eq!(sr.post("/", json!({})).await, (StatusCode::OK, json!({})));

    assert_eq!(
        sr.register("users-value", V1).await,
        (StatusCode::OK, json!({"id": 1}))
    );
    // Idempotent, and the same schema under another subject gets the same id.
    assert_eq!(sr.register("users-value", V1).await.1, json!({"id": 1}));
    assert_eq!(sr.register("other", V1).await.1, json!({"id": 1}));
    assert_eq!(sr.register("users-value", V2).await.1, json!({"id": 2}));

    let (s, v) = sr.get("/subjects/users-value/versions/latest").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v["version"], 2);
    assert_eq!(v["id"], 2);
    assert!(
        v.get("schemaType").is_none(),
        "AVRO omitted by default: {v}"
    );
    assert_eq!(
        sr.get("/subjects/users-value/versions/-1").await.1["version"],
        2
    );
    assert_eq!(
        sr.get("/subjects/users-value/versions").await.1,
        json!([1, 2])
    );
    assert_eq!(sr.get("/subjects").await.1, json!(["other", "users-value"]));
    assert_eq!(
        sr.get("/subjects?subjectPrefix=us").await.1,
        json!(["users-value"])
    );

    let (s, v) = sr.get("/schemas/ids/1").await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(v, json!({"schema": V1}));
    let (_, raw) = sr.get("/schemas/ids/1/schema").await;
    assert_eq!(raw["name"], "User");
    assert_eq!(
        sr.get("/subjects/users-value/versions/1/schema").await.1["type"],
        "record"
    );
    assert_eq!(
        sr.get("/schemas/ids/1/subjects").await.1,
        json!(["other", "users-value"])
    );
    assert_eq!(
        sr.get("/schemas/ids/1/versions").await.1,
        json!([{"subject": "other", "version": 1}, {"subject": "users-value", "version": 1}])
    );
    assert_eq!(
        sr.get("/schemas?latestOnly=True")
            .await
            .1
            .as_array()
            .unwrap()
            .len(),
        2
    );
    assert_eq!(sr.get("/schemas/types").await.1, json!(["JSON", "AVRO"]));

    // Lookup: whitespace-insensitive, 40401 for an unknown subject, 40403 for an unknown schema.
    let (s, v) = sr
        .post(
            "/subjects/users-value",
            json!({"schema": format!("  {V2}\n")}),
        )
        .await;
    assert_eq!(
        (s, v["version"].clone(), v["id"].clone()),
        (StatusCode::OK, json!(2), json!(2))
    );
    let (s, v) = sr.post("/subjects/nope", json!({"schema": V1})).await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, 40401));
    assert_eq!(v["message"], "Subject 'nope' not found.");
    let (s, v) = sr
        .post("/subjects/users-value", json!({"schema": BAD}))
        .await;
    assert_eq!((s, code(&v)), (StatusCode::NOT_FOUND, 40403));

    // Content types: every Confluent media type, and none at all.
    for ct in [
        CT,
        "application/vnd.schemaregistry+json",
        "application/json",
        "application/octet-stream",
    ] {
        let resp = sr
            .http
            .post(format!("{}/subjects/users-value", sr.base))
            .header("content-type", ct)
            .body(json!({"schema": V1}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::OK, "{ct}");
        assert_eq!(resp.headers()["content-type"], CT);
    }
    let resp = sr
        .http
        .post(format!("{}/subjects/users-value", sr.base))
        .body(json!({"schema": V1}).to_string())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::OK);

    // Subjects with slashes and unicode, URL-encoded.
    assert_eq!(sr.register("a%2Fb%20%C3%BC", V1).await.1, json!({"id": 1}));
    assert!(
        sr.get("/subjects")
            .await
            .1
            .as_array()
            .unwrap()
            .contains(&json!("a/b ü"))
    );
    assert_eq!(
        sr.get("/subjects/a%2Fb%20%C3%BC/versions/1").await.1["subject"],
        "a/b ü"
    );
    sr.stop().await;
}

#[tokio::test]
async fn error_codes_and_messages() {
    let sr = Sr::memory().await;
    sr.register("s", V1).await;
    let cases: Vec<(Method, &str, Option<Value>, u16, i64)> = vec![
        (Method::GET, "/subjects/none/versions", None, 404, 40401),
        (Method::GET, "/subjects/s/versions/9", None, 404, 40402),
        (Method::GET, "/schemas/ids/99", None, 404, 40403),
        (Method::GET, "/schemas/ids/abc", None, 404, 40403),
        (Method::GET, "/subjects/s/versions/0", None, 422, 42202),
        (Method::GET, "/subjects/s/versions/abc", None, 422, 42202),
        (Method::GET, "/config/s", None, 404, 40408),
        (Method::GET, "/mode/s", None, 404, 40409),
        (
            Method::PUT,
            "/config",
            Some(json!({"compatibility": "SIDEWAYS"})),
            422,
            42203,
        ),
        (
            Method::PUT,
            "/mode",
            Some(json!({"mode": "WRITEONLY"})),
            422,
            42204,
        ),
        (
            Method::POST,
            "/subjects/s/versions",
            Some(json!({"schema": "{\"type\":\"nope\"}"})),
            422,
            42201,
        ),
        (
            Method::POST,
            "/subjects/s/versions",
            Some(json!({"schema": "syntax = \"proto3\";", "schemaType": "PROTOBUF"})),
            422,
            42201,
        ),
        (
            Method::POST,
            "/subjects/fresh/versions",
            Some(json!({"schemaType": "AVRO"})),
            422,
            42201,
        ),
        (
            Method::POST,
            "/subjects/s/versions",
            Some(json!({"schema": BAD})),
            409,
            409,
        ),
        (
            Method::POST,
            "/subjects/%01x/versions",
            Some(json!({"schema": V1})),
            422,
            42208,
        ),
        (
            Method::POST,
            "/subjects/s/versions",
            Some(
                json!({"schema": V2, "ruleSet": {"domainRules": [{"name": "r", "kind": "X", "mode": "WRITE"}]}}),
            ),
            422,
            42210,
        ),
        (
            Method::POST,
            "/subjects/s/versions",
            Some(json!({"schema": V2, "id": 5})),
            422,
            42205,
        ),
        (
            Method::DELETE,
            "/subjects/s/versions/1?permanent=true",
            None,
            404,
            40407,
        ),
        (
            Method::DELETE,
            "/subjects/s?permanent=true",
            None,
            404,
            40405,
        ),
        (Method::DELETE, "/subjects/none", None, 404, 40401),
        (Method::DELETE, "/config/none", None, 404, 40401),
        (Method::GET, "/no/such/route", None, 404, 404),
        (Method::PATCH, "/subjects", None, 405, 405),
    ];
    for (method, path, body, status, want) in cases {
        let (s, v) = sr.call(method.clone(), path, body).await;
        assert_eq!(
            (s.as_u16(), code(&v)),
            (status, want),
            "{method} {path}: {v}"
        );
        assert_eq!(v.as_object().unwrap().len(), 2, "no extra fields: {v}");
    }
    // Exact messages.
    let (_, v) = sr.get("/subjects/s/versions/abc").await;
    assert_eq!(
        v["message"],
        "The specified version 'abc' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
    );
    let (_, v) = sr.register("s", BAD).await;
    let m = v["message"].as_str().unwrap();
    assert!(m.starts_with("Schema being registered is incompatible with an earlier schema for subject \"s\", details: ["), "{m}");
    let (_, v) = sr.get("/subjects/s/versions/9").await;
    assert_eq!(v["message"], "Version 9 not found.");

    // Malformed JSON: 400 with the status as the code; wrong shape: 422.
    let resp = sr
        .http
        .post(format!("{}/subjects/s/versions", sr.base))
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::BAD_REQUEST);
    assert_eq!(code(&resp.json().await.unwrap()), 400);
    let (s, v) = sr.post("/subjects/s/versions", json!({"schema": 5})).await;
    assert_eq!((s.as_u16(), code(&v)), (422, 422));
    sr.stop().await;
}

#[tokio::test]
async fn oversized_bodies_are_rejected() {
    let sr = Sr::start(RegistryConfig {
        max_request_bytes: 1024,
        ..RegistryConfig::default()
    })
    .await;
    let big = format!(
        r#"{{"type":"record","name":"r","doc":"{}","fields":[]}}"#,
        "x".repeat(4096)
    );
    let (s, v) = sr.register("s", &big).await;
    assert_eq!((s.as_u16(), code(&v)), (422, 42209));
    let (s, v) = sr.post("/subjects/s", json!({"schema": big})).await;
    assert_eq!((s.as_u16(), code(&v)), (413, 413));
    sr.stop().await;
}

#[tokio::test]
async fn soft_and_permanent_deletes() {
    let sr = Sr::memory().await;
    sr.register("s", V1).await;
    sr.register("s", V2).await;
    sr.put("/config/s", json!({"compatibility": "NONE"})).await;
    assert_eq!(
        sr.delete("/subjects/s/versions/1").await,
        (StatusCode::OK, json!(1))
    );
    let (s, v) = sr.delete("/subjects/s/versions/1").await;
    assert_eq!((s.as_u16(), code(&v)), (404, 40406));
    assert_eq!(sr.get("/subjects/s/versions").await.1, json!([2]));
    assert_eq!(
        sr.get("/subjects/s/versions?deleted=true").await.1,
        json!([1, 2])
    );
    assert_eq!(
        sr.get("/subjects/s/versions?deletedAsNegative=TRUE")
            .await
            .1,
        json!([-1, 2])
    );
    assert_eq!(
        sr.get("/schemas/ids/1").await.0,
        StatusCode::OK,
        "soft-deleted id still resolves"
    );
    assert_eq!(
        sr.get("/subjects/s/versions/1?deleted=true").await.0,
        StatusCode::OK
    );
    assert_eq!(
        sr.delete("/subjects/s/versions/1?permanent=true").await.1,
        json!(1)
    );

    assert_eq!(sr.delete("/subjects/s").await.1, json!([2]));
    let (s, v) = sr.delete("/subjects/s").await;
    assert_eq!((s.as_u16(), code(&v)), (404, 40404));
    assert_eq!(sr.get("/subjects").await.1, json!([]));
    assert_eq!(sr.get("/subjects?deleted=true").await.1, json!(["s"]));
    assert_eq!(
        sr.get("/config/s").await.0,
        StatusCode::NOT_FOUND,
        "config went with the subject"
    );
    // Register after soft delete: new version number, reusing the id.
    assert_eq!(sr.register("s", V2).await.1, json!({"id": 2}));
    assert_eq!(sr.get("/subjects/s/versions/latest").await.1["version"], 3);
    sr.delete("/subjects/s").await;
    assert_eq!(sr.delete("/subjects/s?permanent=true").await.1, json!([3]));
    assert_eq!(sr.get("/subjects/s/versions").await.1["error_code"], 40401);
    sr.stop().await;
}

#[tokio::test]
async fn references_and_referencedby() {
    let sr = Sr::memory().await;
    let address = r#"{"type":"record","name":"Address","namespace":"com.x","fields":[{"name":"street","type":"string"}]}"#;
    sr.register("address", address).await;
    let person = r#"{"type":"record","name":"Person","namespace":"com.x","fields":[{"name":"home","type":"com.x.Address"}]}"#;
    let refs = json!([{"name": "com.x.Address", "subject": "address", "version": 1}]);
    let (s, v) = sr
        .post(
            "/subjects/person/versions",
            json!({"schema": person, "references": refs}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    let id = v["id"].clone();
    assert_eq!(
        sr.get("/subjects/address/versions/1/referencedby").await.1,
        json!([id])
    );
    assert_eq!(
        sr.get(&format!("/schemas/ids/{id}")).await.1["references"],
        refs
    );
    let (s, v) = sr.delete("/subjects/address/versions/1").await;
    assert_eq!((s.as_u16(), code(&v)), (422, 42206));
    // Without the reference the named type is unknown.
    let (s, v) = sr.register("person2", person).await;
    assert_eq!((s.as_u16(), code(&v)), (422, 42201));

    // JSON Schema with a $ref to another subject.
    let item = r#"{"type":"object","properties":{"sku":{"type":"string"}}}"#;
    sr.post(
        "/subjects/item/versions",
        json!({"schema": item, "schemaType": "JSON"}),
    )
    .await;
    let order = r#"{"type":"object","properties":{"item":{"$ref":"item.json"}}}"#;
    let (s, v) = sr
        .post(
            "/subjects/order/versions",
            json!({"schema": order, "schemaType": "JSON", "references": [{"name": "item.json", "subject": "item", "version": 1}]}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{v}");
    assert_eq!(
        sr.get("/subjects/order/versions/1").await.1["schemaType"],
        "JSON"
    );
    sr.stop().await;
}

#[tokio::test]
async fn compatibility_levels_and_endpoints() {
    let sr = Sr::memory().await;
    // Missing subject + latest: compatible (Confluent quirk).
    assert_eq!(
        sr.post(
            "/compatibility/subjects/nope/versions/latest",
            json!({"schema": V1})
        )
        .await
        .1,
        json!({"is_compatible": true})
    );
    sr.register("s", V1).await;
    let (_, v) = sr
        .post(
            "/compatibility/subjects/s/versions/latest",
            json!({"schema": BAD}),
        )
        .await;
    assert_eq!(v, json!({"is_compatible": false}));
    let (_, v) = sr
        .post(
            "/compatibility/subjects/s/versions?verbose=True",
            json!({"schema": BAD}),
        )
        .await;
    assert_eq!(v["is_compatible"], false);
    assert!(
        v["messages"][0].as_str().unwrap().contains("errorType"),
        "{v}"
    );
    let (s, v) = sr
        .post(
            "/compatibility/subjects/s/versions/7",
            json!({"schema": V1}),
        )
        .await;
    assert_eq!((s.as_u16(), code(&v)), (404, 40402));
    let (s, v) = sr
        .post(
            "/compatibility/subjects/s/versions/latest",
            json!({"schema": "{"}),
        )
        .await;
    assert_eq!((s.as_u16(), code(&v)), (422, 42201));
    let (s, v) = sr
        .post(
            "/compatibility/subjects/s/versions/latest?verbose=true",
            json!({"schema": "{"}),
        )
        .await;
    assert_eq!(
        (s, v["is_compatible"].clone()),
        (StatusCode::OK, json!(false))
    );

    // FORWARD: removing a field without default breaks old readers? No: adding one does.
    sr.put("/config/s", json!({"compatibility": "forward"}))
        .await;
    assert_eq!(
        sr.get("/config/s").await.1,
        json!({"compatibilityLevel": "FORWARD"})
    );
    let dropped = r#"{"type":"record","name":"User","fields":[]}"#;
    assert_eq!(sr.register("s", dropped).await.0, StatusCode::CONFLICT);
    sr.put("/config/s", json!({"compatibility": "NONE"})).await;
    assert_eq!(sr.register("s", BAD).await.0, StatusCode::OK);

    // Transitive: v1 {id} → v2 {id, n default} → v3 {n} is fine pairwise but v3 cannot read v1.
    let sr2 = Sr::memory().await;
    sr2.put("/config", json!({"compatibility": "BACKWARD"}))
        .await;
    let v3 = r#"{"type":"record","name":"User","fields":[{"name":"n","type":"string"},{"name":"id","type":"long","default":0}]}"#;
    sr2.register("t", V1).await;
    sr2.register("t", V2).await;
    sr2.put("/config/t", json!({"compatibility": "BACKWARD_TRANSITIVE"}))
        .await;
    assert_eq!(sr2.register("t", v3).await.0, StatusCode::CONFLICT);
    sr2.put("/config/t", json!({"compatibility": "BACKWARD"}))
        .await;
    assert_eq!(sr2.register("t", v3).await.0, StatusCode::OK);
    // force skips the check.
    assert_eq!(
        sr2.post(
            "/subjects/t/versions?force=true",
            json!({"schema": dropped})
        )
        .await
        .0,
        StatusCode::OK
    );
    sr.stop().await;
    sr2.stop().await;
}

#[tokio::test]
async fn config_and_mode() {
    let sr = Sr::memory().await;
    assert_eq!(
        sr.get("/config").await.1,
        json!({"compatibilityLevel": "BACKWARD"})
    );
    assert_eq!(
        sr.put("/config", json!({"compatibility": "full"})).await.1,
        json!({"compatibility": "FULL"})
    );
    assert_eq!(sr.get("/config").await.1["compatibilityLevel"], "FULL");
    assert_eq!(
        sr.get("/config/x?defaultToGlobal=true").await.1["compatibilityLevel"],
        "FULL"
    );
    // kafkajs: PUT config on a subject with no schemas works.
    assert_eq!(
        sr.put("/config/x", json!({"compatibility": "BACKWARD"}))
            .await
            .0,
        StatusCode::OK
    );
    assert_eq!(
        sr.delete("/config/x").await.1["compatibilityLevel"],
        "BACKWARD"
    );
    assert_eq!(sr.delete("/config").await.1["compatibilityLevel"], "FULL");
    assert_eq!(sr.get("/config").await.1["compatibilityLevel"], "BACKWARD");

    assert_eq!(sr.get("/mode").await.1, json!({"mode": "READWRITE"}));
    sr.register("s", V1).await;
    sr.put("/mode/s", json!({"mode": "READONLY"})).await;
    assert_eq!(sr.get("/mode/s").await.1, json!({"mode": "READONLY"}));
    let (s, v) = sr.register("s", V2).await;
    assert_eq!((s.as_u16(), code(&v)), (422, 42205));
    let (s, v) = sr.delete("/subjects/s").await;
    assert_eq!((s.as_u16(), code(&v)), (422, 42205));
    assert_eq!(sr.delete("/mode/s").await.1, json!({"mode": "READONLY"}));

    // IMPORT needs an empty registry unless forced; then explicit ids and versions.
    let (s, v) = sr.put("/mode", json!({"mode": "IMPORT"})).await;
    assert_eq!((s.as_u16(), code(&v)), (422, 42205));
    assert_eq!(
        sr.put("/mode/imp", json!({"mode": "IMPORT"})).await.0,
        StatusCode::OK
    );
    let (s, v) = sr
        .post(
            "/subjects/imp/versions",
            json!({"schema": V2, "id": 100, "version": 5}),
        )
        .await;
    assert_eq!((s, v), (StatusCode::OK, json!({"id": 100})));
    assert_eq!(sr.get("/subjects/imp/versions").await.1, json!([5]));
    let (s, v) = sr
        .post(
            "/subjects/imp/versions",
            json!({"schema": BAD, "id": 1, "version": 6}),
        )
        .await;
    assert_eq!(
        (s.as_u16(), code(&v)),
        (422, 42207),
        "id 1 is another schema"
    );
    let (s, v) = sr.register("imp", BAD).await;
    assert_eq!((s.as_u16(), code(&v)), (422, 42205), "no id in import mode");
    assert_eq!(sr.get("/contexts").await.1, json!(["."]));
    assert_eq!(sr.get("/v1/metadata/id").await.1["id"], "mesh-registry");
    assert!(sr.get("/v1/metadata/version").await.1["version"].is_string());
    sr.stop().await;
}

#[tokio::test]
async fn emit_avro_schema_type_gives_8x_shapes() {
    let sr = Sr::start(RegistryConfig {
        emit_avro_schema_type: true,
        ..RegistryConfig::default()
    })
    .await;
    assert_eq!(sr.register("s", V1).await.1, json!({"id": 1, "version": 1}));
    assert_eq!(
        sr.get("/subjects/s/versions/1").await.1["schemaType"],
        "AVRO"
    );
    let v = sr.get("/schemas/ids/1").await.1;
    assert_eq!(
        (v["schemaType"].clone(), v["subject"].clone()),
        (json!("AVRO"), json!("s"))
    );
    sr.stop().await;
}

#[tokio::test]
async fn restart_on_the_same_data_dir_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let sr = Sr::on_disk(dir.path().to_owned()).await;
    sr.register("a", V1).await;
    sr.register("a", V2).await;
    sr.register("b", V2).await;
    sr.put("/config/b", json!({"compatibility": "FULL"})).await;
    sr.put("/mode/b", json!({"mode": "READONLY"})).await;
    sr.put("/config", json!({"compatibility": "NONE"})).await;
    sr.delete("/subjects/a/versions/1").await;
    sr.post(
        "/subjects/m/versions",
        json!({"schema": V1, "metadata": {"properties": {"owner": "x"}}}),
    )
    .await;
    sr.stop().await;

    let sr = Sr::on_disk(dir.path().to_owned()).await;
    assert_eq!(sr.get("/subjects/a/versions").await.1, json!([2]));
    assert_eq!(
        sr.get("/subjects/a/versions?deleted=true").await.1,
        json!([1, 2])
    );
    assert_eq!(sr.get("/subjects/b/versions/1").await.1["id"], 2);
    assert_eq!(sr.get("/config/b").await.1["compatibilityLevel"], "FULL");
    assert_eq!(sr.get("/config").await.1["compatibilityLevel"], "NONE");
    assert_eq!(sr.get("/mode/b").await.1["mode"], "READONLY");
    assert_eq!(
        sr.get("/subjects/m/versions/1").await.1["metadata"]["properties"]["owner"],
        "x"
    );
    assert_eq!(
        sr.get("/subjects/m/metadata?key=owner&value=x").await.1["id"],
        3
    );
    // Ids continue after the highest one; versions after the highest ever used.
    let v3 = r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"},{"name":"z","type":"int","default":0}]}"#;
    assert_eq!(sr.register("a", v3).await.1, json!({"id": 4}));
    assert_eq!(sr.get("/subjects/a/versions/latest").await.1["version"], 3);
    sr.stop().await;
}

#[tokio::test]
async fn basic_and_bearer_auth() {
    let auth: mesh_registry::AuthConfig = serde_json::from_value(json!({
        "users": [{"username": "ro", "password": "p", "access": "read-only"},
                  {"username": "rw", "password": "p"}],
        "tokens": [{"token": "tok", "access": "read-write"}]
    }))
    .unwrap();
    let sr = Sr::start(RegistryConfig {
        auth,
        ..RegistryConfig::default()
    })
    .await;
    let url = |p: &str| format!("{}{p}", sr.base);
    let r = sr.http.get(url("/subjects")).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(code(&r.json().await.unwrap()), 401);
    let reg = |user: &str| {
        sr.http
            .post(url("/subjects/s/versions"))
            .basic_auth(user, Some("p"))
            .header("content-type", CT)
            .body(json!({"schema": V1}).to_string())
    };
    let r = reg("ro").send().await.unwrap();
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert_eq!(code(&r.json().await.unwrap()), 403);
    assert_eq!(reg("rw").send().await.unwrap().status(), StatusCode::OK);
    let r = sr
        .http
        .get(url("/subjects"))
        .basic_auth("ro", Some("p"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = sr
        .http
        .get(url("/subjects"))
        .bearer_auth("tok")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::OK);
    let r = sr
        .http
        .get(url("/subjects"))
        .basic_auth("rw", Some("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    // Operational endpoints stay open.
    assert_eq!(
        sr.http
            .get(url("/health/live"))
            .send()
            .await
            .unwrap()
            .status(),
        StatusCode::OK
    );
    sr.stop().await;
}

#[tokio::test]
async fn metrics_are_exported() {
    let sr = Sr::memory().await;
    sr.register("s", V1).await;
    sr.register("s", BAD).await;
    let text = sr
        .http
        .get(format!("{}/metrics", sr.base))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains("mesh_registry_registrations_total"), "{text}");
    assert!(
        text.contains("mesh_registry_compatibility_checks_total"),
        "{text}"
    );
    sr.stop().await;
}
