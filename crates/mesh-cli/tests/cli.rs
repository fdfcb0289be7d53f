//! The `mesh` binary as users run it: `mesh up` serves a Kafka broker that real clients (kcat,
//! librdkafka) reach at the printed address, stops cleanly with exit 0 on SIGINT/SIGTERM, and
//! refuses a second instance on the same data directory; `mesh config check` names bad keys.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};

const MESH: &str = env!("CARGO_BIN_EXE_mesh");

struct Up {
    child: Child,
    banner: Vec<String>,
}

impl Up {
    /// Starts `mesh up` on free ports and reads its banner up to "Press Ctrl-C".
    fn start(data_dir: &std::path::Path) -> Self {
        let mut child = Command::new(MESH)
            .args(["up", "--broker-listen", "127.0.0.1:0"])
            .args(["--registry-listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn mesh up");
        let stdout = child.stdout.take().unwrap();
        let mut banner = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let line = line.expect("banner line");
            let done = line.starts_with("Press Ctrl-C");
            banner.push(line);
            if done {
                break;
            }
        }
        assert!(
            banner.last().is_some_and(|l| l.starts_with("Press Ctrl-C")),
            "mesh up exited before its banner: {banner:?}"
        );
        Self { child, banner }
    }

    fn broker(&self) -> String {
        let line = self
            .banner
            .iter()
            .find(|l| l.trim_start().starts_with("kafka"))
            .expect("kafka line in banner");
        line.split_whitespace().nth(1).unwrap().to_owned()
    }

    /// The `http://host:port` a service's banner line names.
    fn service(&self, name: &str) -> String {
        let line = self
            .banner
            .iter()
            .find(|l| l.trim_start().starts_with(name))
            .unwrap_or_else(|| panic!("{name} in banner {:?}", self.banner));
        let url = line.split_whitespace().nth(1).unwrap();
        url.trim_start_matches("http://").to_owned()
    }

    /// Sends `signal` and returns the exit code, failing if it takes longer than `limit`.
    fn stop(mut self, signal: &str, limit: Duration) -> i32 {
        let status = Command::new("kill")
            .args([&format!("-{signal}"), &self.child.id().to_string()])
            .status()
            .expect("kill");
        assert!(status.success());
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return status.code().expect("exited, not killed");
            }
            assert!(
                start.elapsed() < limit,
                "mesh up did not stop within {limit:?}"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

#[test]
fn up_serves_a_kafka_broker_and_stops_cleanly_on_sigint() {
    let dir = tempfile::tempdir().unwrap();
    let up = Up::start(dir.path());
    let broker = up.broker();
    assert!(
        up.banner.iter().any(|l| l.contains("5 MiB")),
        "banner states the embedded broker's retention limit: {:?}",
        up.banner
    );

    // A librdkafka client sees one broker, advertised at the printed address, and the
    // platform topics with their partition counts.
    let client: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &broker)
        .create()
        .unwrap();
    let md = client
        .fetch_metadata(None, Duration::from_secs(10))
        .expect("metadata from the embedded broker");
    let brokers: Vec<String> = md
        .brokers()
        .iter()
        .map(|b| format!("{}:{}", b.host(), b.port()))
        .collect();
    assert_eq!(
        brokers,
        vec![broker.clone()],
        "clients come back through mesh's address"
    );
    let partitions = |name: &str| {
        md.topics()
            .iter()
            .find(|t| t.name() == name)
            .map(|t| t.partitions().len())
    };
    assert_eq!(partitions("_schemas"), Some(1));
    assert_eq!(partitions("_mesh.contracts"), Some(1));
    assert_eq!(partitions("_mesh.quality"), Some(3));
    assert_eq!(partitions("_mesh.lineage"), Some(3));
    assert_eq!(partitions("_mesh.alerts"), Some(3));

    kcat_sees(&broker);

    // The registry answers on its port: ready, and speaking the Confluent API.
    let registry = up.service("registry");
    let (status, body) = http(&registry, "GET", "/health/ready", None);
    assert_eq!(status, 200, "{body}");
    let (status, body) = http(&registry, "GET", "/schemas/types", None);
    assert_eq!(status, 200);
    assert!(body.contains("AVRO") && body.contains("JSON"), "{body}");

    // A second `mesh up` on the same data directory is refused, naming the directory.
    let second = Command::new(MESH)
        .args(["up", "--broker-listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(second.status.code(), Some(1));
    let err = String::from_utf8_lossy(&second.stderr);
    assert!(err.contains("in use by another `mesh up`"), "{err}");

    assert_eq!(up.stop("INT", Duration::from_secs(15)), 0);
}

#[test]
fn up_keeps_registry_state_in_the_data_dir_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let schema = r#"{"schema":"{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}"}"#;
    let up = Up::start(dir.path());
    let (status, body) = http(
        &up.service("registry"),
        "POST",
        "/subjects/orders.order.raw-value/versions",
        Some(schema),
    );
    assert_eq!(status, 200, "{body}");
    assert!(body.contains("\"id\":1"), "{body}");
    assert_eq!(up.stop("INT", Duration::from_secs(15)), 0);

    let up = Up::start(dir.path());
    let (status, body) = http(&up.service("registry"), "GET", "/subjects", None);
    assert_eq!(status, 200);
    assert_eq!(body, r#"["orders.order.raw-value"]"#);
    let (_, body) = http(
        &up.service("registry"),
        "GET",
        "/subjects/orders.order.raw-value/versions/latest",
        None,
    );
    assert!(
        body.contains("\"version\":1") && body.contains("\"id\":1"),
        "{body}"
    );
    assert_eq!(up.stop("TERM", Duration::from_secs(15)), 0);
}

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
fn http(addr: &str, method: &str, path: &str, body: Option<&str>) -> (u16, String) {
    use std::io::{Read, Write};
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\n\
         Content-Type: application/vnd.schemaregistry.v1+json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let status = out
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or(0);
    let body = out.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, body.to_owned())
}

#[test]
fn up_exits_zero_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let up = Up::start(dir.path());
    assert_eq!(up.stop("TERM", Duration::from_secs(15)), 0);
}

/// `kcat -L` (the tool users reach for) lists the broker and topics.
fn kcat_sees(broker: &str) {
    let out = match Command::new("kcat").args(["-L", "-b", broker]).output() {
        Ok(out) => out,
        Err(e) => {
            assert!(
                std::env::var_os("CI").is_none(),
                "kcat is required in CI (scripts/test installs it): {e}"
            );
            eprintln!("kcat not installed; skipping the kcat check (install kcat to run it)");
            return;
        }
    };
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "kcat failed: {text}");
    assert!(text.contains(&format!("broker 1 at {broker}")), "{text}");
    assert!(
        text.contains("topic \"_schemas\" with 1 partitions"),
        "{text}"
    );
}

#[test]
fn config_check_accepts_good_files_and_names_bad_keys() {
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.toml");
    std::fs::write(
        &good,
        "[kafka]\nbootstrap_servers = \"k1:9092\"\nsecurity_protocol = \"SASL_SSL\"\n\
         [kafka.sasl]\nmechanism = \"PLAIN\"\nusername = \"orders\"\npassword = \"s3cret\"\n",
    )
    .unwrap();
    let out = Command::new(MESH)
        .args(["config", "check"])
        .arg(&good)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}");
    assert!(
        stdout.contains("OK") && stdout.contains("k1:9092"),
        "{stdout}"
    );
    assert!(!stdout.contains("s3cret"), "password redacted: {stdout}");

    let bad = dir.path().join("bad.toml");
    std::fs::write(&bad, "[kafka]\nbootstrap_server = \"k1:9092\"\n").unwrap();
    let out = Command::new(MESH)
        .args(["config", "check"])
        .arg(&bad)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bootstrap_server") && err.contains("bad.toml") && err.contains("kafka"),
        "{err}"
    );

    // An unknown MESH_* variable is an error too, naming the variable.
    let out = Command::new(MESH)
        .args(["config", "check"])
        .arg(&good)
        .env("MESH_KAFKA__BOOTSTRAP", "x:1")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("MESH_KAFKA__BOOTSTRAP"), "{err}");
}

#[test]
fn help_and_version_are_useful() {
    let out = Command::new(MESH).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for cmd in ["up", "registry", "version", "config"] {
        assert!(help.contains(cmd), "{help}");
    }
    let out = Command::new(MESH).args(["up", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    assert!(
        help.contains("--data-dir") && help.contains("embedded"),
        "{help}"
    );
    let out = Command::new(MESH).arg("version").output().unwrap();
    let v = String::from_utf8_lossy(&out.stdout);
    assert!(
        v.contains(env!("CARGO_PKG_VERSION")) && v.contains("librdkafka"),
        "{v}"
    );
}

#[test]
fn shipped_example_config_is_valid() {
    let example = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../deploy/mesh.example.toml"
    );
    let out = Command::new(MESH)
        .args(["config", "check", example])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let shown = String::from_utf8_lossy(&out.stdout);
    assert!(!shown.contains("change-me"), "secrets redacted: {shown}");
}

/// `mesh registry` on a data directory, on a free port.
struct Registry {
    child: Child,
    addr: String,
    /// The line it prints once listening.
    banner: String,
}

impl Registry {
    fn start(data_dir: &Path) -> Self {
        let mut child = Command::new(MESH)
            .args(["registry", "--listen", "127.0.0.1:0", "--data-dir"])
            .arg(data_dir)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .spawn()
            .expect("spawn mesh registry");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|r| r.split_whitespace().next())
            .unwrap_or_else(|| panic!("address in {line:?}"))
            .to_owned();
        Self {
            child,
            addr,
            banner: line,
        }
    }

    /// `http` against this registry, asserting a 200.
    fn ok(&self, method: &str, path: &str, body: Option<&str>) -> String {
        let (status, answer) = http(&self.addr, method, path, body);
        assert_eq!(status, 200, "{method} {path}: {answer}");
        answer
    }

    fn stop(self) {
        let up = Up {
            child: self.child,
            banner: Vec::new(),
        };
        assert_eq!(up.stop("TERM", Duration::from_secs(15)), 0);
    }

    /// Everything a client can see: subjects and versions (deleted ones too) with their ids,
    /// texts and deleted flags, schemas by id, configs and modes.
    fn snapshot(&self) -> Vec<String> {
        let mut out = Vec::new();
        let subjects = self.ok("GET", "/subjects?deleted=true", None);
        let names: Vec<String> = serde_json::from_str(&subjects).unwrap();
        out.push(subjects);
        out.push(self.ok("GET", "/subjects", None));
        for s in &names {
            let versions = self.ok("GET", &format!("/subjects/{s}/versions?deleted=true"), None);
            let numbers: Vec<i32> = serde_json::from_str(&versions).unwrap();
            out.push(versions);
            // Soft-deleted versions are missing here: the deleted flags.
            out.push(http(&self.addr, "GET", &format!("/subjects/{s}/versions"), None).1);
            for v in numbers {
                out.push(self.ok(
                    "GET",
                    &format!("/subjects/{s}/versions/{v}?deleted=true"),
                    None,
                ));
            }
            out.push(http(&self.addr, "GET", &format!("/config/{s}"), None).1);
            out.push(http(&self.addr, "GET", &format!("/mode/{s}"), None).1);
        }
        out.push(self.ok("GET", "/schemas?deleted=true", None));
        for id in 1..=4 {
            out.push(http(&self.addr, "GET", &format!("/schemas/ids/{id}"), None).1);
        }
        out.push(self.ok("GET", "/config", None));
        out.push(self.ok("GET", "/mode", None));
        out
    }
}

/// `mesh registry export|import --data-dir DIR --output|--input FILE`: (exit code, stdout,
/// stderr).
fn transfer(cmd: &str, dir: &Path, file: &Path) -> (Option<i32>, String, String) {
    let flag = if cmd == "export" {
        "--output"
    } else {
        "--input"
    };
    let out = Command::new(MESH)
        .args(["registry", cmd, "--data-dir"])
        .arg(dir)
        .arg(flag)
        .arg(file)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap();
    let text = |b: &[u8]| String::from_utf8_lossy(b).into_owned();
    (out.status.code(), text(&out.stdout), text(&out.stderr))
}

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
    assert!(out.starts_with("exported 0 records"), "{out}");
}
