//! The Confluent REST API end to end over HTTP, subjects and schemas: register, lookup, get and
//! list, soft and permanent deletes, references, the 8.x response shapes, and a restart on the
//! same data directory. A `start()`ed registry on port 0, driven with reqwest the way Confluent
//! clients drive it (helpers in common/mod.rs).

use mesh_registry::RegistryConfig;
use reqwest::StatusCode;
use serde_json::json;

mod common;

use common::{BAD, CT, Sr, V1, V2, code};

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
