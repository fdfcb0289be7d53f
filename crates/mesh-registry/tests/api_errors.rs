//! The Confluent REST API end to end over HTTP, what a client gets when it is refused: error codes
//! and messages, oversized bodies, authentication, and the metrics that count it. A `start()`ed
//! registry on port 0, driven with reqwest the way Confluent clients drive it (helpers in
//! common/mod.rs).

use mesh_registry::RegistryConfig;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

mod common;

use common::{BAD, CT, Sr, V1, V2, code};

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
