//! `mesh registry` as users run it: alone on its port, crash-safe under `kill -9`, and moved
//! between stores with `export`/`import`.

mod common;

use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use common::{MESH, Registry, Up, http, transfer, try_http};

#[test]
fn registry_runs_alone_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let reg = Registry::start(dir.path());
    assert!(reg.banner.contains("on-disk store"), "{}", reg.banner);
    assert_eq!(http(&reg.addr, "GET", "/health/ready", None).0, 200);
    assert_eq!(
        http(&reg.addr, "GET", "/subjects", None),
        (200, "[]".to_owned())
    );
    reg.stop();
}

/// A minimal HTTP/1.1 exchange (the test needs no HTTP client crate for two calls).

#[test]
fn registry_export_and_import_move_a_store_with_identical_ids_and_state() {
    let tmp = tempfile::tempdir().unwrap();
    let (src, dst, file) = (
        tmp.path().join("src"),
        tmp.path().join("dst"),
        tmp.path().join("schemas.jsonl"),
    );
    let reg = Registry::start(&src);
    let v1 = r#"{"schema":"{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}"}"#;
    let v2 = r#"{"schema":"{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"},{\"name\":\"n\",\"type\":\"int\",\"default\":0}]}"}"#;
    let json = r#"{"schemaType":"JSON","schema":"{\"type\":\"object\"}"}"#;
    let norm = r#"{"schema":"{\"type\":\"record\",\"name\":\"N\",\"b\":1,\"a\":2,\"fields\":[]}"}"#;
    reg.ok("POST", "/subjects/orders-value/versions", Some(v1));
    reg.ok("POST", "/subjects/orders-value/versions", Some(v2));
    reg.ok("POST", "/subjects/copy-value/versions", Some(v1));
    reg.ok("POST", "/subjects/json-value/versions", Some(json));
    reg.ok(
        "POST",
        "/subjects/n-value/versions?normalize=true",
        Some(norm),
    );
    reg.ok("POST", "/subjects/gone-value/versions", Some(v1));
    reg.ok("DELETE", "/subjects/gone-value", None);
    reg.ok("DELETE", "/subjects/gone-value?permanent=true", None);
    reg.ok("DELETE", "/subjects/orders-value/versions/1", None);
    reg.ok(
        "PUT",
        "/config/orders-value",
        Some(r#"{"compatibility":"FULL"}"#),
    );
    reg.ok("PUT", "/config", Some(r#"{"compatibility":"NONE"}"#));
    reg.ok("PUT", "/mode/copy-value", Some(r#"{"mode":"READONLY"}"#));
    let before = reg.snapshot();
    assert!(before[0].contains("orders-value") && !before[0].contains("gone-value"));

    // A served store is refused, by export, import and a second registry alike.
    for cmd in ["export", "import"] {
        let (code, _, err) = transfer(cmd, &src, &file);
        assert_eq!(code, Some(1));
        assert!(
            err.contains("is in use") && err.contains("registry.lock"),
            "{err}"
        );
    }
    let second = Command::new(MESH)
        .args(["registry", "--listen", "127.0.0.1:0", "--data-dir"])
        .arg(&src)
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("is in use"), "{err}");
    reg.stop();

    let (code, out, err) = transfer("export", &src, &file);
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.starts_with("exported ") && out.contains("SCHEMA"),
        "{out}"
    );
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(
        text.starts_with(r#"{"key":{"keytype":"SCHEMA","subject":"orders-value","version":1,"magic":1},"value":{"subject":"orders-value","version":1,"id":1,"#),
        "{text}"
    );
    assert!(
        text.contains(r#""value":null}"#),
        "permanent delete = tombstone: {text}"
    );

    let import = |dir: &Path| transfer("import", dir, &file);
    let (code, out, err) = import(&dst);
    assert_eq!(code, Some(0), "{err}");
    assert!(out.starts_with("imported "), "{out}");
    let (code, _, err) = import(&dst);
    assert_eq!(code, Some(1));
    assert!(err.contains("not empty"), "{err}");

    let reg = Registry::start(&dst);
    assert_eq!(reg.snapshot(), before);
    // Ids continue after the imported ones (1..=4).
    let next = r#"{"schema":"{\"type\":\"record\",\"name\":\"Next\",\"fields\":[]}"}"#;
    let answer = reg.ok("POST", "/subjects/next-value/versions", Some(next));
    assert!(answer.contains(r#""id":5"#), "{answer}");
    reg.stop();

    // A bad line fails the import, naming it, and writes nothing.
    std::fs::write(
        &file,
        "{\"key\":{\"keytype\":\"NOOP\",\"magic\":0},\"value\":null}\nnot json\n",
    )
    .unwrap();
    let empty = tmp.path().join("empty");
    let (code, _, err) = import(&empty);
    assert_eq!(code, Some(1));
    assert!(err.contains("line 2"), "{err}");
    let (code, _, err) = transfer("export", &empty, &file);
    assert_eq!(code, Some(1), "nothing was imported");
    assert!(err.contains("no registry store"), "{err}");
}

#[test]
fn up_holds_its_registry_store_against_export_and_import() {
    let dir = tempfile::tempdir().unwrap();
    let up = Up::start(dir.path());
    let file = dir.path().join("export.jsonl");
    for cmd in ["export", "import"] {
        let (code, _, err) = transfer(cmd, &dir.path().join("registry"), &file);
        assert_eq!(code, Some(1));
        assert!(err.contains("is in use"), "{err}");
    }
    assert_eq!(up.stop("INT", Duration::from_secs(15)), 0);
    let (code, out, err) = transfer("export", &dir.path().join("registry"), &file);
    assert_eq!(code, Some(0), "{err}");
    // What `mesh up` registered: the example contracts' three value schemas and one key schema,
    // and their subjects' configs.
    assert!(
        out.starts_with("exported 7 records (CONFIG 3, SCHEMA 4)"),
        "{out}"
    );
}

#[test]
fn kill_9_during_registrations_loses_nothing_acknowledged() {
    let dir = tempfile::tempdir().unwrap();
    let mut registry = Registry::start(dir.path());
    let stop = Arc::new(AtomicBool::new(false));
    // Four writers register distinct schemas as fast as they can and keep what was acknowledged.
    let writers: Vec<_> = (0..4)
        .map(|w| {
            let (addr, stop) = (registry.addr.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                for i in 0.. {
                    if stop.load(Ordering::Relaxed) {
                        break;
                    }
                    let subject = format!("crash-{w}-{i}-value");
                    let body = format!(
                        r#"{{"schema":"{{\"type\":\"record\",\"name\":\"R{w}x{i}\",\"fields\":[{{\"name\":\"f\",\"type\":\"long\"}}]}}"}}"#
                    );
                    let path = format!("/subjects/{subject}/versions");
                    match try_http(&addr, "POST", &path, Some(&body)) {
                        Some((200, answer)) => acked.push((subject, id_of(&answer))),
                        Some((status, answer)) => panic!("{status} {answer}"),
                        None => break, // killed mid-request: never acknowledged
                    }
                }
                acked
            })
        })
        .collect();
    std::thread::sleep(Duration::from_millis(400));
    registry.child.kill().expect("SIGKILL"); // kill -9: no drain, no flush
    registry.child.wait().unwrap();
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<(String, u64)> = writers
        .into_iter()
        .flat_map(|w| w.join().unwrap())
        .collect();
    assert!(
        acked.len() >= 10,
        "only {} registrations before the kill",
        acked.len()
    );

    let registry = Registry::start(dir.path());
    for (subject, id) in &acked {
        let answer = registry.ok("GET", &format!("/subjects/{subject}/versions/1"), None);
        assert_eq!(id_of(&answer), *id, "{subject}: {answer}");
    }
    registry.stop();
}

/// The `"id"` of a registry answer.
fn id_of(answer: &str) -> u64 {
    let v: serde_json::Value = serde_json::from_str(answer).expect("JSON answer");
    v["id"].as_u64().expect("an id")
}
