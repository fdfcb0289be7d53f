//! The Confluent REST API end to end over HTTP, compatibility, config and mode: the levels and the
//! compatibility endpoints, global and subject config, and modes. A `start()`ed registry on port
//! 0, driven with reqwest the way Confluent clients drive it (helpers in common/mod.rs).

use reqwest::StatusCode;
use serde_json::json;

mod common;

use common::{BAD, Sr, V1, V2, code};

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
