//! Shared set-up for the cross-service scenarios in this folder.
//!
//! Scenarios run against [`TestCluster::start`]: the in-process mock cluster, or the real broker
//! named by `TEST_KAFKA_BOOTSTRAP` (CI's tansu suite). Every scenario uses its own topic names.
//! The schema registry's client suites (registry_clients.rs) use [`TestRegistry`] and
//! [`ClientSuite`].

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesh_cli::config::MeshConfig;
use mesh_kafka::testing::TestCluster;
use mesh_registry::{RegistryConfig, RunningRegistry};
use mesh_runtime::Shutdown;

/// A `mesh up` config for one scenario: the test broker when it is external (else the embedded
/// broker on a free port), unique platform topic names, a private data directory.
pub fn mesh_config(cluster: &TestCluster, data_dir: &Path) -> MeshConfig {
    let mut c = MeshConfig::default();
    if !cluster.is_mock() {
        c.kafka = cluster.kafka_config();
    }
    c.embedded_broker.listen = "127.0.0.1:0".parse().expect("address");
    c.data_dir = data_dir.to_path_buf();
    c.registry.listen = "127.0.0.1:0".parse().expect("address");
    c.lineage.listen = "127.0.0.1:0".parse().expect("address");
    c.freshness.listen = "127.0.0.1:0".parse().expect("address");
    c.gateway.listen = "127.0.0.1:0".parse().expect("address");
    let t = &mut c.topics;
    for name in [
        &mut t.schemas,
        &mut t.contracts,
        &mut t.quality,
        &mut t.lineage,
        &mut t.alerts,
        &mut t.progress,
    ] {
        *name = TestCluster::unique_name(name);
    }
    c.topics.replication_factor = Some(1);
    c
}

/// A schema registry serving in-process on a free loopback port until [`TestRegistry::stop`].
#[derive(Debug)]
pub struct TestRegistry {
    shutdown: Shutdown,
    running: RunningRegistry,
}

impl TestRegistry {
    /// In memory without `data_dir`; `emit_avro_schema_type` gives Confluent 8.x responses.
    pub async fn start(data_dir: Option<&Path>, emit_avro_schema_type: bool) -> Self {
        let config = RegistryConfig {
            listen: "127.0.0.1:0".parse().expect("address"),
            data_dir: data_dir.map(Path::to_path_buf),
            emit_avro_schema_type,
            ..RegistryConfig::default()
        };
        let shutdown = Shutdown::new();
        let running = mesh_registry::start(config, &shutdown)
            .await
            .expect("registry starts");
        Self { shutdown, running }
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.running.addr)
    }

    pub async fn stop(self) {
        self.shutdown.cancel();
        tokio::time::timeout(Duration::from_secs(10), self.running.join())
            .await
            .expect("registry stops within 10 s")
            .expect("registry stops cleanly");
    }
}

/// How long one run of a client suite in another language may take.
pub const CLIENT_TIMEOUT: Duration = Duration::from_secs(180);

/// An external client suite: `program script URL`, which prints one line per check and exits
/// non-zero at the first failure.
#[derive(Debug)]
pub struct ClientSuite {
    pub name: &'static str,
    pub program: PathBuf,
    pub script: &'static str,
    pub env: &'static [(&'static str, &'static str)],
}

impl ClientSuite {
    /// Runs the suite against `url`; returns its exit status and combined output.
    pub fn run(&self, url: &str) -> (ExitStatus, String) {
        let out = tempfile::tempfile().expect("temp file");
        let mut child = Command::new(&self.program)
            .arg(self.script)
            .arg(url)
            .envs(self.env.iter().copied())
            .stdin(Stdio::null())
            .stdout(out.try_clone().expect("dup"))
            .stderr(out.try_clone().expect("dup"))
            .spawn()
            .unwrap_or_else(|e| panic!("{} cannot start: {e}", self.program.display()));
        let started = Instant::now();
        let status = loop {
            if let Some(status) = child.try_wait().expect("wait for the client suite") {
                break status;
            }
            if started.elapsed() > CLIENT_TIMEOUT {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{} did not finish within {CLIENT_TIMEOUT:?}", self.script);
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        let mut out = out;
        let mut text = String::new();
        use std::io::{Read, Seek};
        out.rewind().expect("rewind");
        out.read_to_string(&mut text).expect("read output");
        (status, text)
    }

    /// Runs the suite against the in-memory store with Confluent 7.x responses and against the
    /// on-disk store with 8.x ones (`schemaType: AVRO` emitted): the client must work with both.
    /// Shows the output of every run; fails with the output of each failed one.
    pub async fn passes_against_both_stores(self) {
        let suite = Arc::new(self);
        let dir = tempfile::tempdir().expect("temp dir");
        let mut failures = Vec::new();
        for (label, data_dir, emit_avro_type) in [
            ("in-memory store, 7.x responses", None, false),
            ("on-disk store, 8.x responses", Some(dir.path()), true),
        ] {
            let registry = TestRegistry::start(data_dir, emit_avro_type).await;
            let url = registry.url();
            let runner = Arc::clone(&suite);
            let (status, output) = tokio::task::spawn_blocking(move || runner.run(&url))
                .await
                .expect("client suite runner");
            registry.stop().await;
            if status.success() {
                eprintln!("{} suite ({label}):\n{output}", suite.name);
            } else {
                failures.push(format!(
                    "{} suite failed against the registry ({label}): {status}\n\
                     ----- output -----\n{output}------------------",
                    suite.name
                ));
            }
        }
        assert!(failures.is_empty(), "{}", failures.join("\n"));
    }
}

/// The runtime a client suite needs, or `None` (after saying how to run it) when it is missing
/// outside CI. Under CI a missing runtime fails the test: CI must run every client suite.
pub fn required_runtime(test: &str, found: Result<PathBuf, String>, how: &str) -> Option<PathBuf> {
    match found {
        Ok(program) => Some(program),
        Err(why) if std::env::var_os("CI").is_some() => {
            panic!("{why} (CI must run {test}: scripts/test installs what it needs)")
        }
        Err(why) => {
            eprintln!("SKIPPED {test}: {why}.\n{how}");
            None
        }
    }
}

/// `TEST_PYTHON` when it can run `import <imports>`, or why not (`lacks` names what is missing).
pub fn test_python(imports: &str, lacks: &str) -> Result<PathBuf, String> {
    let python = std::env::var_os("TEST_PYTHON")
        .map(PathBuf::from)
        .ok_or_else(|| "TEST_PYTHON is not set".to_string())?;
    let probe = Command::new(&python)
        .args(["-c", &format!("import {imports}")])
        .output()
        .map_err(|e| format!("TEST_PYTHON={} cannot run: {e}", python.display()))?;
    if !probe.status.success() {
        return Err(format!(
            "TEST_PYTHON={} lacks {lacks}: {}",
            python.display(),
            String::from_utf8_lossy(&probe.stderr).trim()
        ));
    }
    Ok(python)
}

/// Runs a Python client script off the async runtime; fails the test with its output when it
/// fails, and returns that output (stdout then stderr).
pub async fn run_python(python: PathBuf, args: Vec<String>) -> String {
    let out = tokio::task::spawn_blocking(move || {
        Command::new(python)
            .args(args)
            .env("PYTHONUNBUFFERED", "1")
            .output()
            .expect("python runs")
    })
    .await
    .expect("python task");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.status.success(), "python client failed:\n{text}");
    text
}

/// Creates the contract's raw/validated/DLQ topics (`partitions` each), `extra` one-partition
/// topics and a compacted contracts topic holding the contract's record; returns the contracts
/// topic (what the gateway's `contracts_topic` names).
pub async fn provision_contract(
    cluster: &TestCluster,
    c: &mesh_contract::ResolvedContract,
    partitions: i32,
    extra: &[&str],
) -> String {
    use mesh_kafka::admin::TopicSpec;
    let contracts = TestCluster::unique_name("contracts");
    let mut specs = vec![TopicSpec::compacted_log(&contracts)];
    for t in [&c.topics.raw, &c.topics.validated, &c.topics.dlq] {
        specs.push(TopicSpec::new(t, partitions));
    }
    specs.extend(extra.iter().map(|t| TopicSpec::new(*t, 1)));
    for s in specs {
        cluster.create_topic(s).await.expect("topic");
    }
    cluster
        .produce(
            &contracts,
            vec![(Some(c.record_key().into_bytes()), c.to_record())],
        )
        .await;
    contracts
}

/// The `orders.order-placed` example contract (`schemas/examples/orders`), moved to topics of its
/// own (`<unique base>.raw|.v1|.dlq`, subject `<base>.raw-value`) so tests run in parallel; the
/// key is required or not as the test needs, with no key schema.
pub fn orders_contract_on_own_topics(key_required: bool) -> mesh_contract::ResolvedContract {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../schemas/examples/orders");
    let mut files = std::collections::BTreeMap::new();
    for e in std::fs::read_dir(dir).expect("examples") {
        let p = e.expect("entry").path();
        let name = p.file_name().unwrap().to_string_lossy().into_owned();
        files.insert(name, std::fs::read_to_string(&p).expect("read"));
    }
    let (name, text) = files
        .iter()
        .find(|(n, _)| n.ends_with(".yaml"))
        .map(|(n, t)| (n.clone(), t.clone()))
        .expect("contract yaml");
    let mut c = mesh_contract::load_contract(&name, &text, &mesh_contract::MemoryFiles(files))
        .contract
        .expect("orders contract");
    let base = TestCluster::unique_name("orders.order-placed");
    c.topics.raw = format!("{base}.raw");
    c.topics.validated = format!("{base}.v1");
    c.topics.dlq = format!("{base}.dlq");
    c.value_schema.subject = format!("{base}.raw-value");
    c.key = mesh_contract::model::KeyPolicy {
        schema: None,
        required: key_required,
    };
    c
}
