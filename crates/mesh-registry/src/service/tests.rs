//! Unit tests of the domain service over the in-memory store.

use std::sync::Arc;

use super::*;
use crate::store::MemoryStore;

fn registry() -> Registry {
    Registry::open(Arc::new(MemoryStore::default()), false).unwrap()
}

fn req(schema: &str) -> SchemaRequest {
    SchemaRequest {
        schema: Some(schema.into()),
        ..SchemaRequest::default()
    }
}

const V1: &str = r#"{"type":"record","name":"r","fields":[{"name":"a","type":"int"}]}"#;
const V2: &str = r#"{"type":"record","name":"r","fields":[{"name":"a","type":"int"},{"name":"b","type":"int","default":1}]}"#;

#[tokio::test]
async fn register_is_idempotent_and_ids_are_shared_across_subjects() {
    let r = registry();
    let a = r.register("a", req(V1), false, false).await.unwrap();
    assert_eq!((a.id, a.version, a.new), (1, 1, true));
    let again = r
        .register("a", req(&format!(" {V1} ")), false, false)
        .await
        .unwrap();
    assert_eq!((again.id, again.version, again.new), (1, 1, false));
    let b = r.register("b", req(V1), false, false).await.unwrap();
    assert_eq!((b.id, b.version), (1, 1));
    let a2 = r.register("a", req(V2), false, false).await.unwrap();
    assert_eq!((a2.id, a2.version), (2, 2));
}

#[tokio::test]
async fn metadata_is_inherited_and_config_defaults_merge() {
    let r = registry();
    let mut first = req(V1);
    let mut md = Metadata::default();
    md.properties.insert("owner".into(), "team-a".into());
    first.metadata = Some(md);
    r.register("s", first, false, false).await.unwrap();
    // No metadata on the next registration: inherited, so the same content → same id.
    let again = r.register("s", req(V1), false, false).await.unwrap();
    assert!(!again.new);
    let v2 = r.register("s", req(V2), false, false).await.unwrap();
    let view = r.version("s", &v2.version.to_string(), false).unwrap();
    assert_eq!(view.metadata.unwrap().properties["owner"], "team-a");

    let mut over = Metadata::default();
    over.properties.insert("env".into(), "prod".into());
    r.set_config(
        Some("t"),
        Config {
            override_metadata: Some(over),
            ..Config::default()
        },
    )
    .await
    .unwrap();
    r.register("t", req(V1), false, false).await.unwrap();
    let view = r.version("t", "latest", false).unwrap();
    assert_eq!(view.metadata.unwrap().properties["env"], "prod");
}

#[tokio::test]
async fn compatibility_groups_only_compare_within_a_group() {
    let r = registry();
    r.set_config(
        None,
        Config {
            compatibility_group: Some("major".into()),
            ..Config::default()
        },
    )
    .await
    .unwrap();
    let with_major = |schema: &str, major: &str| {
        let mut q = req(schema);
        let mut md = Metadata::default();
        md.properties.insert("major".into(), major.into());
        q.metadata = Some(md);
        q
    };
    r.register("s", with_major(V1, "1"), false, false)
        .await
        .unwrap();
    let breaking = r#"{"type":"record","name":"r","fields":[{"name":"z","type":"string"}]}"#;
    let e = r
        .register("s", with_major(breaking, "1"), false, false)
        .await
        .unwrap_err();
    assert_eq!(e.status_and_code().1, 409);
    r.register("s", with_major(breaking, "2"), false, false)
        .await
        .unwrap();
}

#[tokio::test]
async fn normalize_gives_prop_alias_and_doc_variants_one_id_and_java_text() {
    let r = registry();
    let a = r#"{"type":"record","name":"r","namespace":"n","aliases":["b","a"],"x":1,"y":2,
        "fields":[{"name":"f","type":"double","default":1}]}"#;
    let b = r#"{"type":"record","name":"r","namespace":"n","doc":"","aliases":["a","b"],"y":2,
        "x":1,"fields":[{"name":"f","type":"double","default":1}]}"#;
    // Without normalize the variants are different schemas.
    let pa = r.register("plain", req(a), false, false).await.unwrap();
    let pb = r.register("plain", req(b), false, false).await.unwrap();
    assert_eq!((pa.id, pb.id, pb.version), (1, 2, 2));
    // With normalize (flag or subject config) they are one, stored in Java's spelling of
    // Confluent's normalized schema.
    let na = r.register("norm", req(a), true, false).await.unwrap();
    let nb = r.register("norm", req(b), true, false).await.unwrap();
    assert_eq!((na.id, na.version, na.new), (3, 1, true));
    assert_eq!((nb.id, nb.version, nb.new), (3, 1, false));
    let view = r.version("norm", "1", false).unwrap();
    assert_eq!(
        view.schema,
        r#"{"type":"record","name":"r","namespace":"n","fields":[{"name":"f","type":"double","default":1.0}],"x":1,"y":2,"aliases":["a","b"]}"#
    );
    assert_eq!(r.lookup("norm", &req(b), true, false).unwrap().id, 3);
    r.set_config(
        Some("cfg"),
        Config {
            normalize: Some(true),
            ..Config::default()
        },
    )
    .await
    .unwrap();
    let c = r.register("cfg", req(b), false, false).await.unwrap();
    assert_eq!((c.id, c.version), (3, 1));
}

#[test]
fn version_ids_parse_like_confluent() {
    assert_eq!(VersionId::parse("latest").unwrap(), VersionId::Latest);
    assert_eq!(VersionId::parse("-1").unwrap(), VersionId::Latest);
    assert_eq!(VersionId::parse("3").unwrap(), VersionId::Number(3));
    for bad in ["0", "-2", "abc", "2147483648"] {
        assert_eq!(
            VersionId::parse(bad).unwrap_err().status_and_code().1,
            42202
        );
    }
    assert!(validate_subject("ok/with slash ü").is_ok());
    assert_eq!(
        validate_subject("bad\u{1}")
            .unwrap_err()
            .status_and_code()
            .1,
        42208
    );
}

/// V1 spelled differently: a lookup has to parse it (no stored text matches).
const V1_SPACED: &str =
    r#"{"type": "record", "name": "r", "fields": [{"name": "a", "type": "int"}]}"#;

fn cached(r: &Registry, text: &str, subject: &str) -> Option<i32> {
    let generation = r.core.generation.load(std::sync::atomic::Ordering::Relaxed);
    r.lookup_cache()
        .get(text, subject, SchemaType::Avro, false, false, generation)
}

#[tokio::test]
async fn lookup_cache_answers_repeated_respelled_texts() {
    let r = registry();
    r.register("s", req(V1), false, false).await.unwrap();
    r.register("s", req(V2), false, false).await.unwrap();
    // The stored text matches without a parse, so it is never cached.
    assert_eq!(r.lookup("s", &req(V1), false, false).unwrap().version, 1);
    assert_eq!(cached(&r, V1, "s"), None);

    assert_eq!(
        r.lookup("s", &req(V1_SPACED), false, false)
            .unwrap()
            .version,
        1
    );
    assert_eq!(cached(&r, V1_SPACED, "s"), Some(1));
    assert_eq!(cached(&r, V1_SPACED, "other"), None, "per subject");
    // A hit answers from the cache: point the entry elsewhere and the lookup follows it.
    let generation = r.core.generation.load(std::sync::atomic::Ordering::Relaxed);
    r.lookup_cache().insert(
        V1_SPACED,
        CachedLookup {
            subject: "s".into(),
            schema_type: SchemaType::Avro,
            normalize: false,
            deleted: false,
            generation,
            version: 2,
        },
    );
    assert_eq!(
        r.lookup("s", &req(V1_SPACED), false, false)
            .unwrap()
            .version,
        2
    );
    assert_eq!(r.lookup_cache().len, 1, "replaced, not added");

    // Any write invalidates it: the lookup parses again and finds the real version.
    r.register("t", req(V1), false, false).await.unwrap();
    assert_eq!(cached(&r, V1_SPACED, "s"), None);
    assert_eq!(
        r.lookup("s", &req(V1_SPACED), false, false)
            .unwrap()
            .version,
        1
    );
    assert_eq!(cached(&r, V1_SPACED, "s"), Some(1));
    // A deleted version is not answered from the cache either.
    r.delete_version("s", "1", false).await.unwrap();
    assert!(r.lookup("s", &req(V1_SPACED), false, false).is_err());
}

#[test]
fn lookup_cache_is_bounded() {
    let mut c = LookupCache::default();
    for i in 0..LookupCache::CAPACITY + 5 {
        c.insert(
            &format!("text-{i}"),
            CachedLookup {
                subject: "s".into(),
                schema_type: SchemaType::Avro,
                normalize: false,
                deleted: false,
                generation: 0,
                version: 1,
            },
        );
        assert!(c.len <= LookupCache::CAPACITY);
        assert_eq!(c.len, c.entries.values().map(Vec::len).sum::<usize>());
    }
    assert_eq!(
        c.get("text-10004", "s", SchemaType::Avro, false, false, 0),
        Some(1)
    );
}
