//! Load harness for the schema registry against issue 3's performance targets.
//!
//! ```sh
//! cargo build --release -p mesh-cli                 # the `mesh` binary, for the restart run
//! cargo bench -p mesh-registry --bench registry
//! ```
//!
//! What it does, in order:
//!
//! 1. Builds an on-disk store of `BENCH_SCHEMAS` schemas (default 100 000): the registry's own
//!    `register` in-process over a memory store (so the records are exactly what a registry
//!    writes), then one `FileStore` append per 10 000 records. Subjects `pre-{i}-value` hold 5
//!    backward-compatible versions each; every schema is distinct.
//! 2. Restart: runs `target/release/mesh registry --listen 127.0.0.1:0 --data-dir DIR` as a
//!    child process (`BENCH_RESTARTS` times, default 3), times spawn → first 200 from
//!    `/health/ready`, and reads the child's `VmRSS`/`VmHWM` from `/proc/PID/status`. Without
//!    the binary (or with `BENCH_MESH_BIN` pointing elsewhere) it says so and times the
//!    in-process start only.
//! 3. Starts the registry in-process (`mesh_registry::start`, port 0) on that store.
//! 4. Register throughput over keep-alive (reqwest): 1 client, then `BENCH_CLIENTS` (default 8)
//!    concurrent clients, `BENCH_REGISTER` (default 4 000) distinct schemas in all.
//! 5. Reads from memory: `GET /schemas/ids/{id}` (random ids) and lookup `POST /subjects/{s}`
//!    (2 000 random preloaded schemas) driven by `wrk` with Lua scripts when `wrk` is on the
//!    PATH (`BENCH_WRK_THREADS`, default 1; `BENCH_CONNECTIONS`, default 32; `BENCH_SECONDS`,
//!    default 10, after a 2 s warm-up), else by in-process reqwest clients.
//!
//! Client and server share the machine's cores: the numbers are a floor for a dedicated host.

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mesh_registry::RegistryConfig;
use mesh_registry::service::{Registry, SchemaRequest};
use mesh_registry::store::{FileStore, MemoryStore, SchemaStore};
use mesh_runtime::Shutdown;
use serde_json::{Value, json};

const VERSIONS: usize = 5;
const CT: &str = "application/vnd.schemaregistry.v1+json";

type BoxError = Box<dyn std::error::Error + Send + Sync>;

#[derive(Debug, Clone)]
struct Settings {
    schemas: usize,
    register: usize,
    clients: usize,
    restarts: usize,
    wrk_threads: usize,
    connections: usize,
    seconds: u64,
}

fn env_num(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.replace('_', "").parse().ok())
        .unwrap_or(default)
}

impl Settings {
    fn from_env() -> Self {
        Self {
            schemas: env_num("BENCH_SCHEMAS", 100_000).max(VERSIONS),
            register: env_num("BENCH_REGISTER", 4_000).max(1),
            clients: env_num("BENCH_CLIENTS", 8).max(1),
            restarts: env_num("BENCH_RESTARTS", 3).max(1),
            wrk_threads: env_num("BENCH_WRK_THREADS", 1).max(1),
            connections: env_num("BENCH_CONNECTIONS", 32).max(1),
            seconds: env_num("BENCH_SECONDS", 10).max(1) as u64,
        }
    }
}

/// Version `version` (1-based) of subject `ix`'s schema: distinct per subject (record name) and
/// per version (one more optional field each time), backward compatible with the previous one.
fn schema_text(ns: &str, ix: usize, version: usize) -> String {
    let mut fields = vec![
        r#"{"name":"id","type":"long"}"#.to_owned(),
        r#"{"name":"name","type":"string"}"#.to_owned(),
        r#"{"name":"created","type":{"type":"long","logicalType":"timestamp-millis"}}"#.to_owned(),
        r#"{"name":"tags","type":{"type":"array","items":"string"},"default":[]}"#.to_owned(),
    ];
    for f in 1..version {
        fields.push(format!(
            r#"{{"name":"extra{f}","type":["null","string"],"default":null}}"#
        ));
    }
    format!(
        r#"{{"type":"record","name":"Event{ix}","namespace":"mesh.bench.{ns}","fields":[{}]}}"#,
        fields.join(",")
    )
}

fn subject_name(ns: &str, ix: usize) -> String {
    format!("{ns}-{ix}-value")
}

/// Schema `i` of a load: (subject index, version).
fn nth(i: usize) -> (usize, usize) {
    (i / VERSIONS, i % VERSIONS + 1)
}

/// xorshift64*: deterministic sampling without a dependency.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        (self.0.wrapping_mul(0x2545_F491_4F6C_DD1D) % n as u64) as usize
    }
}

/// Step 1: the store of `n` schemas, written as the registry writes it.
async fn build_store(dir: &Path, n: usize) -> Result<Duration, BoxError> {
    let t = Instant::now();
    let memory = Arc::new(MemoryStore::default());
    let registry = Registry::open(Arc::clone(&memory) as Arc<dyn SchemaStore>, false)?;
    for i in 0..n {
        let (ix, version) = nth(i);
        let req = SchemaRequest {
            schema: Some(schema_text("pre", ix, version)),
            ..SchemaRequest::default()
        };
        registry
            .register(&subject_name("pre", ix), req, false, false)
            .await?;
    }
    let records = memory.load()?;
    let file = FileStore::open(dir)?;
    for chunk in records.chunks(10_000) {
        file.append(chunk)?;
    }
    Ok(t.elapsed())
}

/// `(VmRSS, VmHWM)` in MiB from a `/proc/*/status` file.
fn rss_mib(status: &Path) -> Option<(f64, f64)> {
    let text = std::fs::read_to_string(status).ok()?;
    let kib = |key: &str| {
        text.lines()
            .find(|l| l.starts_with(key))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse::<f64>().ok())
            .map(|k| k / 1024.0)
    };
    Some((kib("VmRSS:")?, kib("VmHWM:")?))
}

fn mesh_binary() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("BENCH_MESH_BIN") {
        return Some(PathBuf::from(p));
    }
    let target = std::env::var("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|_| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let bin = target.join("release/mesh");
    bin.exists().then_some(bin)
}

/// Whether `bin` is older than the newest registry source file (then it measures old code).
fn binary_is_stale(bin: &Path) -> bool {
    let Ok(built) = std::fs::metadata(bin).and_then(|m| m.modified()) else {
        return false;
    };
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![src];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|m| m > built)
            {
                return true;
            }
        }
    }
    false
}

fn free_port() -> Result<u16, BoxError> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

/// Polls `/health/ready` until it answers 200; the time from `since`.
async fn wait_ready(
    http: &reqwest::Client,
    base: &str,
    since: Instant,
) -> Result<Duration, BoxError> {
    let url = format!("{base}/health/ready");
    loop {
        if since.elapsed() > Duration::from_secs(120) {
            return Err("registry not ready after 120 s".into());
        }
        match http
            .get(&url)
            .timeout(Duration::from_millis(500))
            .send()
            .await
        {
            Ok(r) if r.status() == reqwest::StatusCode::OK => return Ok(since.elapsed()),
            _ => tokio::time::sleep(Duration::from_millis(2)).await,
        }
    }
}

struct Restart {
    ready: Duration,
    rss: f64,
    hwm: f64,
}

/// Step 2: one restart of the `mesh` binary on `dir`.
async fn restart_child(
    bin: &Path,
    dir: &Path,
    http: &reqwest::Client,
) -> Result<Restart, BoxError> {
    let port = free_port()?;
    let t = Instant::now();
    let mut child = Command::new(bin)
        .args(["registry", "--listen", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()?;
    let ready = wait_ready(http, &format!("http://127.0.0.1:{port}"), t).await;
    let mem = rss_mib(&PathBuf::from(format!("/proc/{}/status", child.id())));
    child.kill()?;
    child.wait()?;
    let ready = ready?;
    let (rss, hwm) = mem.ok_or("could not read the child's /proc status")?;
    Ok(Restart { ready, rss, hwm })
}

struct RegisterRun {
    count: usize,
    elapsed: Duration,
    p50: Duration,
    p99: Duration,
}

impl RegisterRun {
    fn rate(&self) -> f64 {
        self.count as f64 / self.elapsed.as_secs_f64()
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 * p).ceil() as usize).clamp(1, sorted.len()) - 1;
    sorted[i]
}

/// Step 4: `clients` concurrent clients, each registering `per_client` distinct schemas.
async fn register_load(
    http: &reqwest::Client,
    base: &str,
    tag: &str,
    clients: usize,
    per_client: usize,
) -> Result<RegisterRun, BoxError> {
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, base, ns) = (http.clone(), base.to_owned(), format!("{tag}{c}"));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(per_client);
            for i in 0..per_client {
                let (ix, version) = nth(i);
                let url = format!("{base}/subjects/{}/versions", subject_name(&ns, ix));
                let body = json!({"schema": schema_text(&ns, ix, version)}).to_string();
                let sent = Instant::now();
                let r = http
                    .post(url)
                    .header("content-type", CT)
                    .body(body)
                    .send()
                    .await?;
                let status = r.status();
                let v: Value = r.json().await?;
                if status != reqwest::StatusCode::OK || v.get("id").is_none() {
                    return Err(format!("register failed: {status} {v}").into());
                }
                latencies.push(sent.elapsed());
            }
            Ok::<_, BoxError>(latencies)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let elapsed = t.elapsed();
    all.sort_unstable();
    Ok(RegisterRun {
        count: all.len(),
        elapsed,
        p50: percentile(&all, 0.50),
        p99: percentile(&all, 0.99),
    })
}

/// A read result: requests/s and latency percentiles as the driver reported them.
struct ReadRun {
    rate: f64,
    p50: String,
    p99: String,
    requests: u64,
}

fn wrk_available() -> bool {
    Command::new("wrk")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok()
}

/// Runs `wrk` with `script` against `base`; fails on any non-2xx answer or socket error.
fn run_wrk(s: &Settings, script: &Path, base: &str, seconds: u64) -> Result<ReadRun, BoxError> {
    let out = Command::new("wrk")
        .arg(format!("-t{}", s.wrk_threads))
        .arg(format!("-c{}", s.connections))
        .arg(format!("-d{seconds}s"))
        .arg("--latency")
        .arg("-s")
        .arg(script)
        .arg(base)
        .output()?;
    let text = String::from_utf8_lossy(&out.stdout).into_owned();
    if !out.status.success() {
        return Err(format!("wrk failed: {text}{}", String::from_utf8_lossy(&out.stderr)).into());
    }
    if text.contains("Non-2xx") || text.contains("Socket errors") {
        return Err(format!("wrk saw errors:\n{text}").into());
    }
    let field = |prefix: &str| {
        text.lines()
            .map(str::trim)
            .find(|l| l.starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(1))
            .map(str::to_owned)
    };
    let rate = field("Requests/sec:")
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| format!("no Requests/sec in wrk output:\n{text}"))?;
    let requests = text
        .lines()
        .find(|l| l.contains("requests in"))
        .and_then(|l| l.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(ReadRun {
        rate,
        p50: field("50%").unwrap_or_default(),
        p99: field("99%").unwrap_or_default(),
        requests,
    })
}

/// `wrk` Lua script: pre-formatted requests, cycled through.
fn wrk_script(requests: &[(String, Option<String>)]) -> String {
    let mut lua = String::from("local items = {\n");
    for (path, body) in requests {
        match body {
            Some(b) => {
                let _ = writeln!(lua, "  {{\"{path}\", [==[{b}]==]}},");
            }
            None => {
                let _ = writeln!(lua, "  {{\"{path}\"}},");
            }
        }
    }
    lua.push_str(
        r#"}
local reqs, n, i = {}, 0, 0
function init(args)
  local headers = {["Content-Type"] = "application/vnd.schemaregistry.v1+json"}
  for k, item in ipairs(items) do
    if item[2] then
      reqs[k] = wrk.format("POST", item[1], headers, item[2])
    else
      reqs[k] = wrk.format("GET", item[1])
    end
  end
  n = #reqs
  i = math.random(0, n - 1)
end
function request()
  i = i % n + 1
  return reqs[i]
end
"#,
    );
    lua
}

/// In-process fallback: `clients` reqwest clients for `seconds`.
async fn reqwest_reads(
    http: &reqwest::Client,
    base: &str,
    requests: Arc<Vec<(String, Option<String>)>>,
    clients: usize,
    seconds: u64,
) -> Result<ReadRun, BoxError> {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for c in 0..clients {
        let (http, base, requests) = (http.clone(), base.to_owned(), Arc::clone(&requests));
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut k = c * 7919;
            while Instant::now() < deadline {
                let (path, body) = &requests[k % requests.len()];
                k += 1;
                let sent = Instant::now();
                let r = match body {
                    Some(b) => {
                        http.post(format!("{base}{path}"))
                            .header("content-type", CT)
                            .body(b.clone())
                            .send()
                            .await?
                    }
                    None => http.get(format!("{base}{path}")).send().await?,
                };
                if !r.status().is_success() {
                    return Err(format!("{path}: {}", r.status()).into());
                }
                r.bytes().await?;
                latencies.push(sent.elapsed());
            }
            Ok::<_, BoxError>(latencies)
        }));
    }
    let mut all = Vec::new();
    for task in tasks {
        all.extend(task.await??);
    }
    let elapsed = t.elapsed();
    all.sort_unstable();
    Ok(ReadRun {
        rate: all.len() as f64 / elapsed.as_secs_f64(),
        p50: format!("{:.2}ms", percentile(&all, 0.5).as_secs_f64() * 1e3),
        p99: format!("{:.2}ms", percentile(&all, 0.99).as_secs_f64() * 1e3),
        requests: all.len() as u64,
    })
}

fn machine() -> String {
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|t| {
            t.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    format!("{cores} cores, {model}")
}

fn yes(met: bool) -> &'static str {
    if met { "yes" } else { "**no**" }
}

async fn run(s: Settings) -> Result<(), BoxError> {
    println!("# mesh-registry load harness");
    println!();
    println!("machine: {}; settings: {s:?}", machine());
    println!("client and server share these cores");
    let root = tempfile::tempdir()?;
    let dir = root.path().join("store");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .build()?;
    let mut rows: Vec<[String; 5]> = Vec::new();

    // 1. The preloaded store.
    let built = build_store(&dir, s.schemas).await?;
    let log_mib = std::fs::metadata(dir.join("schemas.log"))?.len() as f64 / 1048576.0;
    println!(
        "built a store of {} schemas ({} subjects, {log_mib:.1} MiB log) in {:.1} s",
        s.schemas,
        s.schemas.div_ceil(VERSIONS),
        built.as_secs_f64()
    );

    // 2. Restart in a child process.
    match mesh_binary() {
        Some(bin) => {
            if binary_is_stale(&bin) {
                println!(
                    "WARNING: {} is older than crates/mesh-registry/src: run `cargo build --release -p mesh-cli` first",
                    bin.display()
                );
            }
            let mut runs = Vec::new();
            for _ in 0..s.restarts {
                let r = restart_child(&bin, &dir, &http).await?;
                println!(
                    "restart: ready in {:.3} s, VmRSS {:.1} MiB, VmHWM {:.1} MiB",
                    r.ready.as_secs_f64(),
                    r.rss,
                    r.hwm
                );
                runs.push(r);
            }
            runs.sort_by_key(|r| r.ready);
            let median = &runs[(runs.len() - 1) / 2];
            let worst = runs.last().map_or(median.ready, |r| r.ready);
            let rss = runs.iter().map(|r| r.rss).fold(0.0, f64::max);
            let hwm = runs.iter().map(|r| r.hwm).fold(0.0, f64::max);
            rows.push([
                format!("restart with {} schemas → /health/ready", s.schemas),
                format!("`mesh registry` child, {} runs", s.restarts),
                format!(
                    "{:.2} s median ({:.2} s worst)",
                    median.ready.as_secs_f64(),
                    worst.as_secs_f64()
                ),
                "≤ 2 s".into(),
                yes(worst <= Duration::from_secs(2)).into(),
            ]);
            rows.push([
                format!("RSS after loading {} schemas", s.schemas),
                "child VmRSS (VmHWM = peak)".into(),
                format!("{rss:.0} MiB (peak {hwm:.0} MiB)"),
                "≤ 250 MB".into(),
                yes(rss * 1.048576 <= 250.0).into(),
            ]);
        }
        None => println!(
            "no target/release/mesh (build it with `cargo build --release -p mesh-cli`): child restart skipped"
        ),
    }

    // 3. The in-process registry on the same store.
    let shutdown = Shutdown::new();
    let t = Instant::now();
    let running = mesh_registry::start(
        RegistryConfig {
            listen: "127.0.0.1:0".parse()?,
            data_dir: Some(dir.clone()),
            ..RegistryConfig::default()
        },
        &shutdown,
    )
    .await?;
    let base = format!("http://{}", running.addr);
    let ready = wait_ready(&http, &base, t).await?;
    let (rss, _) = rss_mib(Path::new("/proc/self/status")).unwrap_or_default();
    rows.push([
        format!("in-process `start` with {} schemas → ready", s.schemas),
        "bench process".into(),
        format!(
            "{:.2} s (bench VmRSS {rss:.0} MiB, incl. harness)",
            ready.as_secs_f64()
        ),
        "–".into(),
        "–".into(),
    ]);

    // 4. Registers.
    let one = register_load(&http, &base, "one", 1, (s.register / 4).max(1)).await?;
    rows.push([
        "register (new schemas, on-disk store), 1 client".into(),
        "reqwest, keep-alive".into(),
        format!(
            "{:.0}/s (p50 {:.2} ms, p99 {:.2} ms; {} in {:.2} s)",
            one.rate(),
            one.p50.as_secs_f64() * 1e3,
            one.p99.as_secs_f64() * 1e3,
            one.count,
            one.elapsed.as_secs_f64()
        ),
        "–".into(),
        "–".into(),
    ]);
    let many = register_load(
        &http,
        &base,
        "many",
        s.clients,
        (s.register / s.clients).max(1),
    )
    .await?;
    rows.push([
        format!(
            "register (new schemas, on-disk store), {} clients",
            s.clients
        ),
        "reqwest, keep-alive".into(),
        format!(
            "{:.0}/s (p50 {:.2} ms, p99 {:.2} ms; {} in {:.2} s)",
            many.rate(),
            many.p50.as_secs_f64() * 1e3,
            many.p99.as_secs_f64() * 1e3,
            many.count,
            many.elapsed.as_secs_f64()
        ),
        "≥ 2,000/s".into(),
        yes(many.rate() >= 2000.0).into(),
    ]);

    // 5. Reads from memory over the preloaded schemas (ids 1..=schemas).
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
    let by_id: Vec<(String, Option<String>)> = (0..10_000)
        .map(|_| (format!("/schemas/ids/{}", rng.below(s.schemas) + 1), None))
        .collect();
    let picks: Vec<(usize, usize)> = (0..2_000).map(|_| nth(rng.below(s.schemas))).collect();
    let lookups: Vec<(String, Option<String>)> = picks
        .iter()
        .map(|&(ix, version)| {
            (
                format!("/subjects/{}", subject_name("pre", ix)),
                Some(json!({"schema": schema_text("pre", ix, version)}).to_string()),
            )
        })
        .collect();
    // The same schemas spelled differently (spaces after `,` and `:`): the registry has to
    // parse and re-render them to find the version.
    let respelled: Vec<(String, Option<String>)> = picks
        .iter()
        .map(|&(ix, version)| {
            let text = schema_text("pre", ix, version)
                .replace(',', ", ")
                .replace(':', ": ");
            (
                format!("/subjects/{}", subject_name("pre", ix)),
                Some(json!({ "schema": text }).to_string()),
            )
        })
        .collect();
    // Whether the generated text is what the registry stores (Java's spelling): then lookups
    // carry the stored text, as Confluent's Java serializers do.
    let stored = http
        .get(format!(
            "{base}/subjects/{}/versions/1/schema",
            subject_name("pre", 0)
        ))
        .send()
        .await?
        .text()
        .await?;
    println!(
        "lookup bodies carry the stored (canonical) schema text: {}",
        stored == schema_text("pre", 0, 1)
    );
    // Correctness first: the lookups find the version they name, ids resolve.
    for (i, (path, body)) in lookups
        .iter()
        .zip(&respelled)
        .take(20)
        .flat_map(|(a, b)| [a, b])
        .enumerate()
    {
        let r = http
            .post(format!("{base}{path}"))
            .header("content-type", CT)
            .body(body.clone().unwrap_or_default())
            .send()
            .await?;
        let v: Value = r.json().await?;
        let (_, version) = picks[i / 2];
        if v.get("version").and_then(Value::as_i64) != Some(version as i64) {
            return Err(format!("lookup {i} {path} failed: {v}").into());
        }
    }
    let v: Value = http
        .get(format!("{base}{}", by_id[0].0))
        .send()
        .await?
        .json()
        .await?;
    if v.get("schema").is_none() {
        return Err(format!("GET {} failed: {v}", by_id[0].0).into());
    }

    let use_wrk = wrk_available();
    let driver = if use_wrk {
        format!(
            "wrk -t{} -c{} -d{}s (Lua)",
            s.wrk_threads, s.connections, s.seconds
        )
    } else {
        format!("reqwest in-process, {} clients", s.connections)
    };
    println!("read driver: {driver}");
    for (name, requests) in [
        ("GET /schemas/ids/{id} (random ids)", by_id),
        (
            "lookup POST /subjects/{s} (random schemas, stored text)",
            lookups,
        ),
        (
            "lookup POST /subjects/{s} (random schemas, re-spelled)",
            respelled,
        ),
    ] {
        let r = if use_wrk {
            let script = root.path().join("reads.lua");
            std::fs::write(&script, wrk_script(&requests))?;
            run_wrk(&s, &script, &base, 2)?; // warm-up
            run_wrk(&s, &script, &base, s.seconds)?
        } else {
            let requests = Arc::new(requests);
            reqwest_reads(&http, &base, Arc::clone(&requests), s.connections, 2).await?;
            reqwest_reads(&http, &base, requests, s.connections, s.seconds).await?
        };
        rows.push([
            format!("{name}, {} schemas in memory", s.schemas),
            driver.clone(),
            format!(
                "{:.0} req/s (p50 {}, p99 {}; {} requests)",
                r.rate, r.p50, r.p99, r.requests
            ),
            "≥ 50,000 req/s".into(),
            yes(r.rate >= 50_000.0).into(),
        ]);
    }

    shutdown.cancel();
    running.join().await?;

    println!();
    println!("| Measurement | Client | Result | Target | Met |");
    println!("|---|---|---|---|---|");
    for row in rows {
        println!("| {} |", row.join(" | "));
    }
    Ok(())
}

fn main() -> Result<(), BoxError> {
    let settings = Settings::from_env();
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(run(settings))
}
