//! `mesh registry --store kafka` as users run it: two processes on one `_schemas` topic of a real
//! broker (a tansu process started here) serve each other's writes; `mesh up` on a real cluster
//! keeps schemas in that topic; without a cluster the command says what is missing.

mod common;

use std::ffi::OsStr;
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{MESH, Registry, Up, http};

/// A tansu broker process (in-memory storage), killed on drop.
struct Tansu {
    child: Child,
    bootstrap: String,
}

impl Drop for Tansu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts tansu on a free port; `None` (with a note) when it is not installed, except under
/// `CI`, where a missing broker fails the test rather than skipping it silently.
fn tansu() -> Option<Tansu> {
    let candidates = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .chain(std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cargo/bin")))
        .map(|d| d.join("tansu"));
    let Some(bin) = candidates.into_iter().find(|p| p.is_file()) else {
        assert!(
            std::env::var_os("CI").is_none(),
            "tansu is not installed (scripts/test installs it)"
        );
        eprintln!("note: tansu not installed; skipping the multi-process Kafka store test");
        return None;
    };
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("tcp://127.0.0.1:{port}");
    let child = Command::new(bin)
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ])
        .args(["--storage-engine", "memory://tansu/"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn tansu");
    let tansu = Tansu {
        child,
        bootstrap: format!("127.0.0.1:{port}"),
    };
    let deadline = Instant::now() + Duration::from_secs(20);
    while TcpStream::connect(&tansu.bootstrap).is_err() {
        assert!(Instant::now() < deadline, "tansu did not start");
        std::thread::sleep(Duration::from_millis(50));
    }
    Some(tansu)
}

/// `mesh registry --store kafka` on `bootstrap`: (process, address, banner line).
fn registry(bootstrap: &str) -> (Up, String, String) {
    let Registry {
        child,
        addr,
        banner,
    } = Registry::spawn(&["--store", "kafka", "--bootstrap-server", bootstrap].map(OsStr::new));
    let up = Up {
        child,
        banner: Vec::new(),
    };
    (up, addr, banner)
}

#[test]
fn two_registry_processes_share_the_kafka_store() {
    let Some(tansu) = tansu() else { return };
    let (a, a_addr, banner) = registry(&tansu.bootstrap);
    assert!(banner.contains("Kafka store: topic _schemas"), "{banner}");
    let (b, b_addr, _) = registry(&tansu.bootstrap);
    let schema = r#"{"schema":"{\"type\":\"record\",\"name\":\"Order\",\"fields\":[{\"name\":\"id\",\"type\":\"long\"}]}"}"#;
    let (status, on_a) = http(
        &a_addr,
        "POST",
        "/subjects/orders-value/versions",
        Some(schema),
    );
    assert_eq!(status, 200, "{on_a}");
    // B applies A's write from the topic; registering the same schema there gives the same id.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (status, body) = http(&b_addr, "GET", "/subjects/orders-value/versions/1", None);
        if status == 200 {
            assert!(body.contains(r#""version":1"#), "{body}");
            break;
        }
        assert!(Instant::now() < deadline, "B never saw A's write: {body}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let (status, on_b) = http(
        &b_addr,
        "POST",
        "/subjects/copy-value/versions",
        Some(schema),
    );
    assert_eq!((status, &on_b), (200, &on_a));
    assert_eq!(a.stop("TERM", Duration::from_secs(15)), 0);
    assert_eq!(b.stop("TERM", Duration::from_secs(15)), 0);
}

#[test]
fn mesh_up_on_a_real_cluster_keeps_schemas_in_the_topic() {
    let Some(tansu) = tansu() else { return };
    let dir = tempfile::tempdir().unwrap();
    let child = Command::new(MESH)
        .args(["up", "--bootstrap-server", &tansu.bootstrap])
        .args(["--registry-listen", "127.0.0.1:0", "--data-dir"])
        .arg(dir.path())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .spawn()
        .expect("spawn mesh up");
    let up = Up::read_banner(child);
    let addr = up.service("registry");
    let schema = r#"{"schema":"{\"type\":\"record\",\"name\":\"Kept\",\"fields\":[]}"}"#;
    let (status, id) = http(&addr, "POST", "/subjects/kept-value/versions", Some(schema));
    assert_eq!(status, 200, "{id}");
    assert_eq!(up.stop("TERM", Duration::from_secs(15)), 0);
    // Nothing on disk: a registry on the topic alone serves it.
    assert!(!dir.path().join("registry").exists());
    let (reg, reg_addr, _) = registry(&tansu.bootstrap);
    let (status, body) = http(&reg_addr, "GET", "/subjects/kept-value/versions/1", None);
    assert_eq!(status, 200, "{body}");
    // The same id: `{"id":N}` from the register answer appears as `"id":N` in the version.
    let id_field = id.trim().trim_matches(|c| c == '{' || c == '}');
    assert!(body.contains(id_field), "{body} vs {id}");
    assert_eq!(reg.stop("TERM", Duration::from_secs(15)), 0);
}

#[test]
fn registry_store_kafka_without_a_cluster_says_what_is_missing() {
    let out = Command::new(MESH)
        .args(["registry", "--listen", "127.0.0.1:0", "--store", "kafka"])
        .env("RUST_LOG", "warn")
        .output()
        .expect("run mesh registry");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--store kafka needs a Kafka cluster"),
        "{stderr}"
    );
}
