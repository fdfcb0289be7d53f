//! Real Schema Registry clients against `mesh-registry`, unchanged: the wire-compatibility proof.
//!
//! - `python_confluent_client_works`: confluent-kafka-python's `SchemaRegistryClient` and its
//!   Avro/JSON serdes (tests/clients/registry_confluent_python.py), run by the interpreter named in
//!   `TEST_PYTHON` (scripts/test sets it up in target/py).
//! - `kafkajs_client_works`: `@kafkajs/confluent-schema-registry`, the JavaScript client
//!   (tests/clients/js/registry_kafkajs.mjs), run by the node named in `TEST_NODE` with the client
//!   that scripts/test installs into tests/clients/js/node_modules (`npm ci`).
//! - `schema_registry_converter_async_and_blocking`: the Rust `schema_registry_converter` crate,
//!   both its async and its blocking API.
//!
//! Each test starts its own registry in-process on a free loopback port. The expectations come
//! from the Confluent Schema Registry API (shared/reference/registry-api.md), not from the
//! registry's internals. The client suites in other languages are skipped with a note when their
//! runtime is missing, except under CI (`CI` set), where that fails the test. Their variables are
//! never MESH_* names: mesh reads every MESH_* variable as its own config.

use std::path::{Path, PathBuf};
use std::process::Command;

use mesh_scenarios::{ClientSuite, TestRegistry, required_runtime, test_python};

// ---------------------------------------------------------------------------------------------
// confluent-kafka-python
// ---------------------------------------------------------------------------------------------

const PYTHON_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/clients/registry_confluent_python.py"
);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn python_confluent_client_works() {
    let Some(python) = required_runtime(
        "python_confluent_client_works",
        test_python(
            "confluent_kafka.schema_registry.avro, confluent_kafka.schema_registry.json_schema",
            "confluent-kafka[avro,json,schemaregistry]",
        ),
        "Run scripts/test (it creates target/py with confluent-kafka and sets TEST_PYTHON), \
         or: TEST_PYTHON=$PWD/target/py/bin/python cargo test -p mesh-scenarios --test registry_clients",
    ) else {
        return;
    };
    ClientSuite {
        name: "confluent-kafka-python",
        program: python,
        script: PYTHON_SCRIPT,
        env: &[("PYTHONUNBUFFERED", "1")],
    }
    .passes_against_both_stores()
    .await;
}

// ---------------------------------------------------------------------------------------------
// @kafkajs/confluent-schema-registry (JavaScript)
// ---------------------------------------------------------------------------------------------

const JS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/clients/js");
const JS_SCRIPT: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/clients/js/registry_kafkajs.mjs"
);

/// The node to run the JavaScript suite with (its client installed), or why there is none.
fn test_node() -> Result<PathBuf, String> {
    let node = std::env::var_os("TEST_NODE")
        .map(PathBuf::from)
        .ok_or_else(|| "TEST_NODE is not set".to_string())?;
    let probe = Command::new(&node)
        .arg("--version")
        .output()
        .map_err(|e| format!("TEST_NODE={} cannot run: {e}", node.display()))?;
    if !probe.status.success() {
        return Err(format!("TEST_NODE={} --version failed", node.display()));
    }
    let client = Path::new(JS_DIR).join("node_modules/@kafkajs/confluent-schema-registry");
    if !client.join("package.json").is_file() {
        return Err(format!(
            "{} is missing (npm ci --prefix tests/clients/js has not run)",
            client.display()
        ));
    }
    Ok(node)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kafkajs_client_works() {
    let Some(node) = required_runtime(
        "kafkajs_client_works",
        test_node(),
        "Run scripts/test (it runs npm ci in tests/clients/js and sets TEST_NODE), or: \
         npm ci --prefix tests/clients/js --no-audit --no-fund && \
         TEST_NODE=$(command -v node) cargo test -p mesh-scenarios --test registry_clients",
    ) else {
        return;
    };
    ClientSuite {
        name: "@kafkajs/confluent-schema-registry",
        program: node,
        script: JS_SCRIPT,
        env: &[],
    }
    .passes_against_both_stores()
    .await;
}

// ---------------------------------------------------------------------------------------------
// schema_registry_converter (Rust)
// ---------------------------------------------------------------------------------------------

mod converter {
    use apache_avro::types::Value as AvroValue;
    use schema_registry_converter::error::SRCError;
    use schema_registry_converter::schema_registry_common::{
        RawError, RegisteredSchema, SchemaType, SubjectNameStrategy, SuppliedReference,
        SuppliedSchema,
    };
    use serde_json::{Value, json};

    pub const USER_V1: &str = r#"{"type":"record","name":"User","namespace":"mesh.test","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"}]}"#;
    pub const USER_V2: &str = r#"{"type":"record","name":"User","namespace":"mesh.test","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"email","type":["null","string"],"default":null}]}"#;
    /// Adds a field without a default: not BACKWARD compatible with V1/V2.
    pub const USER_BAD: &str = r#"{"type":"record","name":"User","namespace":"mesh.test","fields":[{"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"age","type":"int"}]}"#;

    pub fn avro(schema: &str) -> SuppliedSchema {
        SuppliedSchema::new(
            Some("mesh.test.User".into()),
            SchemaType::Avro,
            schema.into(),
        )
    }

    pub fn json_schema(schema: &Value) -> SuppliedSchema {
        SuppliedSchema::new(None, SchemaType::Json, schema.to_string())
    }

    pub fn event_schema() -> Value {
        json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "title": "Event",
            "type": "object",
            "properties": {
                "id": {"type": "integer"},
                "kind": {"type": "string", "enum": ["click", "view"]}
            },
            "required": ["id", "kind"]
        })
    }

    pub const ADDRESS_ID: &str = "https://mesh.test/schemas/address.json";

    /// A JSON schema that `$ref`s another registered under its own subject.
    pub fn person_with_address_ref(address_subject: &str) -> SuppliedSchema {
        let address = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$id": ADDRESS_ID,
            "type": "object",
            "properties": {"city": {"type": "string"}},
            "required": ["city"]
        });
        let person = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "$id": "https://mesh.test/schemas/person.json",
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "address": {"$ref": ADDRESS_ID}
            },
            "required": ["name", "address"]
        });
        json_schema(&person).with_references(vec![SuppliedReference::new(
            ADDRESS_ID.into(),
            address_subject.into(),
            address.to_string(),
        )])
    }

    pub fn topic(t: &str) -> SubjectNameStrategy {
        SubjectNameStrategy::TopicNameStrategy(t.into(), false)
    }

    pub fn topic_with(t: &str, schema: SuppliedSchema) -> SubjectNameStrategy {
        SubjectNameStrategy::TopicNameStrategyWithSchema(t.into(), false, schema)
    }

    pub fn user(id: i64, name: &str) -> Vec<(&'static str, AvroValue)> {
        vec![
            ("id", AvroValue::Long(id)),
            ("name", AvroValue::String(name.into())),
        ]
    }

    pub fn user_record(id: i64, name: &str) -> AvroValue {
        AvroValue::Record(
            user(id, name)
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        )
    }

    /// Equal as JSON values: the registry may re-serialise a schema.
    pub fn assert_same_schema(got: &str, want: &str, what: &str) {
        let g: Value = serde_json::from_str(got).unwrap_or_else(|e| panic!("{what}: {e}: {got}"));
        let w: Value = serde_json::from_str(want).expect("test schema");
        assert_eq!(g, w, "{what}: schema text differs");
    }

    pub fn assert_registered(
        s: &RegisteredSchema,
        id: u32,
        ty: SchemaType,
        schema: &str,
        what: &str,
    ) {
        assert_eq!(s.id, id, "{what}: id");
        assert_eq!(s.schema_type, ty, "{what}: schema type");
        assert_same_schema(&s.schema, schema, what);
    }

    /// Confluent wire format: magic 0, big-endian id, payload.
    pub fn assert_framed(bytes: &[u8], id: u32, what: &str) {
        assert!(bytes.len() > 5, "{what}: {bytes:?}");
        assert_eq!(bytes[0], 0, "{what}: magic byte");
        assert_eq!(
            u32::from_be_bytes(bytes[1..5].try_into().expect("4 bytes")),
            id,
            "{what}: schema id in the payload"
        );
    }

    /// The registry's error envelope as the converter parsed it (error_code 0 = unparsable body).
    pub fn registry_error(e: &SRCError) -> (u32, String) {
        let raw = std::error::Error::source(e)
            .and_then(|s| s.downcast_ref::<RawError>())
            .unwrap_or_else(|| panic!("no registry error body in {e}"));
        assert_ne!(
            raw.error_code, 0,
            "error body is not the Confluent envelope: {e}"
        );
        (raw.error_code, raw.message.clone())
    }

    pub fn assert_incompatible(e: &SRCError, what: &str) {
        assert!(e.error.contains("409"), "{what}: expected HTTP 409: {e}");
        let (code, message) = registry_error(e);
        assert!(
            code == 409 || code == 40901,
            "{what}: error_code {code} ({message})"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schema_registry_converter_async_and_blocking() {
    let registry = TestRegistry::start(None, false).await;
    let url = registry.url();

    async_api(&url).await;
    let blocking_url = url.clone();
    tokio::task::spawn_blocking(move || blocking_api(&blocking_url))
        .await
        .expect("blocking API run");

    registry.stop().await;
}

async fn async_api(url: &str) {
    use apache_avro::types::Value as AvroValue;
    use converter::*;
    use schema_registry_converter::async_impl::avro::{AvroDecoder, AvroEncoder};
    use schema_registry_converter::async_impl::json::{JsonDecoder, JsonEncoder};
    use schema_registry_converter::async_impl::schema_registry::{
        SrSettings, get_all_subjects, get_all_versions, get_schema_by_id, get_schema_by_subject,
        get_schema_by_subject_and_version, is_compatible_schema, post_schema,
    };
    use schema_registry_converter::schema_registry_common::SchemaType;

    let sr = || SrSettings::new(url.to_string());
    let settings = sr();

    // Register, fetch by id, latest, by version.
    let v1 = post_schema(&settings, "async-users-value".into(), avro(USER_V1))
        .await
        .expect("async: register v1");
    let again = post_schema(&settings, "async-users-value".into(), avro(USER_V1))
        .await
        .expect("async: register v1 again");
    assert_eq!(again.id, v1.id, "async: re-register gives the same id");
    let by_id = get_schema_by_id(v1.id, &settings)
        .await
        .expect("async: get by id");
    assert_registered(&by_id, v1.id, SchemaType::Avro, USER_V1, "async: by id");

    let v2 = post_schema(&settings, "async-users-value".into(), avro(USER_V2))
        .await
        .expect("async: register compatible v2");
    assert_ne!(v2.id, v1.id);
    let latest = get_schema_by_subject(&settings, &topic("async-users"))
        .await
        .expect("async: latest");
    assert_registered(&latest, v2.id, SchemaType::Avro, USER_V2, "async: latest");
    assert_eq!(latest.version, Some(2), "async: latest version");
    assert_eq!(latest.subject.as_deref(), Some("async-users-value"));
    let first = get_schema_by_subject_and_version(&settings, "async-users-value", Some(1))
        .await
        .expect("async: version 1");
    assert_registered(&first, v1.id, SchemaType::Avro, USER_V1, "async: v1");
    assert_eq!(
        get_all_versions(&settings, "async-users-value".into())
            .await
            .expect("async: versions"),
        vec![1, 2]
    );
    let subjects = get_all_subjects(&settings).await.expect("async: subjects");
    assert!(
        subjects.contains(&"async-users-value".to_string()),
        "{subjects:?}"
    );

    // Compatibility: the test endpoint and a rejected register.
    assert!(
        is_compatible_schema(&settings, "async-users-value".into(), avro(USER_V2))
            .await
            .expect("async: compatibility of v2")
    );
    assert!(
        !is_compatible_schema(&settings, "async-users-value".into(), avro(USER_BAD))
            .await
            .expect("async: compatibility of an incompatible schema")
    );
    let err = post_schema(&settings, "async-users-value".into(), avro(USER_BAD))
        .await
        .expect_err("async: incompatible register must fail");
    assert_incompatible(&err, "async: incompatible register");
    let err = get_schema_by_id(987_654_321, &settings)
        .await
        .expect_err("async: unknown id");
    assert_eq!(registry_error(&err).0, 40403, "async: unknown id: {err}");

    // Avro encode/decode: with the latest schema, and auto-registering a schema.
    let encoder = AvroEncoder::new(sr());
    let mut ada = user(7, "ada");
    ada.push((
        "email",
        AvroValue::Union(1, Box::new(AvroValue::String("ada@mesh.test".into()))),
    ));
    let bytes = encoder
        .encode(ada.clone(), topic("async-users"))
        .await
        .expect("async: avro encode with the latest schema");
    assert_framed(&bytes, v2.id, "async: avro encode (latest = v2)");
    let decoded = AvroDecoder::new(sr())
        .decode(Some(&bytes))
        .await
        .expect("async: avro decode");
    let want = AvroValue::Record(ada.into_iter().map(|(k, v)| (k.to_string(), v)).collect());
    assert_eq!(decoded.value, want, "async: avro round trip (v2)");

    let bytes = encoder
        .encode(user(8, "bob"), topic_with("async-new", avro(USER_V1)))
        .await
        .expect("async: avro encode auto-registering");
    assert_framed(&bytes, v1.id, "async: auto-registered v1 keeps its id");
    let decoded = AvroDecoder::new(sr())
        .decode(Some(&bytes))
        .await
        .expect("async: avro decode");
    assert_eq!(
        decoded.value,
        user_record(8, "bob"),
        "async: avro round trip"
    );
    let registered = get_schema_by_subject(&settings, &topic("async-new"))
        .await
        .expect("async: auto-registered latest");
    assert_eq!(registered.id, v1.id);

    // JSON Schema encode/decode.
    let event = serde_json::json!({"id": 1, "kind": "click"});
    let json_encoder = JsonEncoder::new(sr());
    let bytes = json_encoder
        .encode(
            &event,
            topic_with("async-events", json_schema(&event_schema())),
        )
        .await
        .expect("async: json encode auto-registering");
    let json_latest = get_schema_by_subject(&settings, &topic("async-events"))
        .await
        .expect("async: json latest");
    assert_registered(
        &json_latest,
        json_latest.id,
        SchemaType::Json,
        &event_schema().to_string(),
        "async: json latest",
    );
    assert_framed(&bytes, json_latest.id, "async: json encode");
    let bytes2 = json_encoder
        .encode(&event, topic("async-events"))
        .await
        .expect("async: json encode with the latest schema");
    assert_eq!(bytes2, bytes);
    let decoded = JsonDecoder::new(sr())
        .decode(Some(&bytes))
        .await
        .expect("async: json decode")
        .expect("async: json value");
    assert_eq!(decoded.value, event, "async: json round trip");
    assert_eq!(decoded.schema.id, json_latest.id);
    let invalid = serde_json::json!({"id": "one"});
    json_encoder
        .encode(&invalid, topic("async-events"))
        .await
        .expect_err("async: an invalid value must not encode");

    // JSON Schema with a `$ref` to a schema under another subject.
    let person = serde_json::json!({"name": "ada", "address": {"city": "London"}});
    let bytes = json_encoder
        .encode(
            &person,
            topic_with("async-people", person_with_address_ref("async-address")),
        )
        .await
        .expect("async: json encode with a reference");
    let decoded = JsonDecoder::new(sr())
        .decode(Some(&bytes))
        .await
        .expect("async: json decode with a reference")
        .expect("async: json value");
    assert_eq!(
        decoded.value, person,
        "async: json round trip with a reference"
    );
    assert_eq!(
        decoded.schema.references.len(),
        1,
        "async: reference resolved"
    );
    let people = get_schema_by_subject(&settings, &topic("async-people"))
        .await
        .expect("async: latest with a reference");
    assert_eq!(people.references.len(), 1, "async: references returned");
    assert_eq!(people.references[0].name, ADDRESS_ID);
    assert_eq!(people.references[0].subject, "async-address");
    assert_eq!(people.references[0].version, 1);
}

fn blocking_api(url: &str) {
    use converter::*;
    use schema_registry_converter::blocking::avro::{AvroDecoder, AvroEncoder};
    use schema_registry_converter::blocking::json::{JsonDecoder, JsonEncoder};
    use schema_registry_converter::blocking::schema_registry::{
        SrSettings, get_all_subjects, get_all_versions, get_schema_by_id, get_schema_by_subject,
        is_compatible_schema, post_schema,
    };
    use schema_registry_converter::schema_registry_common::SchemaType;

    let sr = || SrSettings::new(url.to_string());
    let settings = sr();

    let v1 = post_schema(&settings, "blocking-users-value".into(), avro(USER_V1))
        .expect("blocking: register v1");
    let by_id = get_schema_by_id(v1.id, &settings).expect("blocking: get by id");
    assert_registered(&by_id, v1.id, SchemaType::Avro, USER_V1, "blocking: by id");
    let v2 = post_schema(&settings, "blocking-users-value".into(), avro(USER_V2))
        .expect("blocking: register v2");
    let latest =
        get_schema_by_subject(&settings, &topic("blocking-users")).expect("blocking: latest");
    assert_registered(
        &latest,
        v2.id,
        SchemaType::Avro,
        USER_V2,
        "blocking: latest",
    );
    assert_eq!(
        get_all_versions(&settings, "blocking-users-value".into()).expect("blocking: versions"),
        vec![1, 2]
    );
    assert!(
        get_all_subjects(&settings)
            .expect("blocking: subjects")
            .contains(&"blocking-users-value".to_string())
    );
    assert!(
        !is_compatible_schema(&settings, "blocking-users-value".into(), avro(USER_BAD))
            .expect("blocking: compatibility")
    );
    let err = post_schema(&settings, "blocking-users-value".into(), avro(USER_BAD))
        .expect_err("blocking: incompatible register must fail");
    assert_incompatible(&err, "blocking: incompatible register");

    // Avro round trip, auto-registering under a new subject.
    let bytes = AvroEncoder::new(sr())
        .encode(user(9, "cy"), &topic_with("blocking-new", avro(USER_V1)))
        .expect("blocking: avro encode");
    assert_framed(&bytes, v1.id, "blocking: avro encode");
    let decoded = AvroDecoder::new(sr())
        .decode(Some(&bytes))
        .expect("blocking: avro decode");
    assert_eq!(
        decoded.value,
        user_record(9, "cy"),
        "blocking: avro round trip"
    );

    // JSON round trip.
    let event = serde_json::json!({"id": 2, "kind": "view"});
    let bytes = JsonEncoder::new(sr())
        .encode(
            &event,
            &topic_with("blocking-events", json_schema(&event_schema())),
        )
        .expect("blocking: json encode");
    let json_latest =
        get_schema_by_subject(&settings, &topic("blocking-events")).expect("blocking: json latest");
    assert_eq!(json_latest.schema_type, SchemaType::Json);
    assert_framed(&bytes, json_latest.id, "blocking: json encode");
    let decoded = JsonDecoder::new(sr())
        .decode(Some(&bytes))
        .expect("blocking: json decode")
        .expect("blocking: json value");
    assert_eq!(decoded.value, event, "blocking: json round trip");
}
