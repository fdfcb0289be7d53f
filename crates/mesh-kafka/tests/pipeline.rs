//! The consume → process → produce loop across faults and restarts.
//!
//! Exactly-once cannot be proven by reading the output with read_committed on the mock cluster:
//! it shows aborted records too. So the proof uses what it cannot fake: the loop reports which
//! batches committed (observer), every output carries its batch id and source offset (headers),
//! and every input offset must lie in exactly one committed batch — and appear exactly once among
//! that batch's outputs, with the right payload.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mesh_kafka::KafkaError;
use mesh_kafka::pipeline::{
    Assignment, BATCH_HEADER, BatchSummary, DeliveryMode, Observer, OutRecord, Pipeline,
    PipelineConfig, ProcessError, Processor,
};
use mesh_kafka::testing::{TestCluster, header};
use mesh_rdkafka_ext::{RDKafkaApiKey, RDKafkaRespErr};
use mesh_runtime::Shutdown;
use rdkafka::Message;
use rdkafka::message::BorrowedMessage;

const PARTITIONS: i32 = 3;

/// Copies each record to `out`, upper-casing the value, with provenance headers. Can be told to
/// panic (crash) after `crash_after` records, and to report a dependency outage once.
struct Copy {
    out: String,
    seen: Arc<AtomicUsize>,
    crash_after: Option<usize>,
    outage_at: Option<usize>,
}

impl Processor for Copy {
    fn process(&mut self, r: &BorrowedMessage<'_>) -> Result<Vec<OutRecord>, ProcessError> {
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        if self.crash_after == Some(n) {
            panic!("simulated crash after {n} records");
        }
        if self.outage_at == Some(n) {
            self.outage_at = None;
            return Err(ProcessError::Retry(
                "registry unavailable (simulated)".into(),
            ));
        }
        let value = r.payload().unwrap_or_default().to_ascii_uppercase();
        Ok(vec![
            OutRecord {
                topic: self.out.clone(),
                key: r.key().map(<[u8]>::to_vec),
                payload: Some(value),
                timestamp: r.timestamp().to_millis(),
                ..OutRecord::default()
            }
            .header("__mesh.source.partition", r.partition().to_string())
            .header("__mesh.source.offset", r.offset().to_string()),
        ])
    }
}

#[derive(Default)]
struct Audit {
    committed: Mutex<Vec<BatchSummary>>,
    aborted: Mutex<Vec<(BatchSummary, String)>>,
}

impl Observer for Audit {
    fn committed(&self, b: &BatchSummary) {
        self.committed.lock().unwrap().push(b.clone());
    }
    fn aborted(&self, b: &BatchSummary, reason: &str) {
        self.aborted
            .lock()
            .unwrap()
            .push((b.clone(), reason.to_owned()));
    }
}

impl Audit {
    /// Distinct input offsets covered by committed batches.
    fn committed_inputs(&self) -> usize {
        let mut covered = BTreeSet::new();
        for b in self.committed.lock().unwrap().iter() {
            for ((_, p), (first, last)) in &b.inputs {
                covered.extend((*first..=*last).map(|o| (*p, o)));
            }
        }
        covered.len()
    }
}

struct Scenario {
    cluster: TestCluster,
    input: String,
    output: String,
    group: String,
    n: usize,
    mode: DeliveryMode,
    audit: Arc<Audit>,
}

impl Scenario {
    async fn new(cluster: TestCluster, n: usize, exactly_once: bool) -> Self {
        let input = cluster.unique_topic("pipe-in", PARTITIONS).await;
        let output = cluster.unique_topic("pipe-out", PARTITIONS).await;
        let records = (0..n)
            .map(|i| {
                (
                    Some(format!("k{}", i % 97).into_bytes()),
                    format!("value-{i}").into_bytes(),
                )
            })
            .collect();
        cluster.produce(&input, records).await;
        let mode = if exactly_once {
            DeliveryMode::ExactlyOnce {
                transactional_id: TestCluster::unique_name("txn"),
            }
        } else {
            DeliveryMode::AtLeastOnce
        };
        Self {
            group: TestCluster::unique_name("group"),
            cluster,
            input,
            output,
            n,
            mode,
            audit: Arc::default(),
        }
    }

    fn pipeline(&self, processor: Copy) -> Pipeline<Copy> {
        let mut cfg = PipelineConfig::new("test", &self.group, &[&self.input], self.mode.clone());
        cfg.assignment =
            Assignment::Partitions((0..PARTITIONS).map(|p| (self.input.clone(), p)).collect());
        cfg.max_batch_records = 100;
        cfg.max_batch_wait = Duration::from_millis(50);
        cfg.stamp_batch_id = true;
        // Short client timeouts: a worker stuck in librdkafka is replaced within ~15 s.
        cfg.client_timeout = Duration::from_secs(5);
        Pipeline::new(self.cluster.kafka_config(), cfg, processor).observer(self.audit.clone())
    }

    fn processor(&self, crash_after: Option<usize>, outage_at: Option<usize>) -> Copy {
        Copy {
            out: self.output.clone(),
            seen: Arc::default(),
            crash_after,
            outage_at,
        }
    }

    /// Runs a pipeline that crashes after `crash_after` records; returns its error.
    async fn run_until_crash(&self, crash_after: usize) -> KafkaError {
        let p = self.pipeline(self.processor(Some(crash_after), None));
        tokio::time::timeout(Duration::from_secs(60), p.run(Shutdown::new()))
            .await
            .expect("crashes in time")
            .expect_err("crashes")
    }

    /// Runs a pipeline until every input is committed (by this or earlier runs), then stops it.
    async fn run_to_completion(&self, processor: Copy, during: impl AsyncFnOnce()) {
        let shutdown = Shutdown::new();
        let task = tokio::spawn(self.pipeline(processor).run(shutdown.clone()));
        during().await;
        let deadline = Instant::now() + Duration::from_secs(90);
        while self.audit.committed_inputs() < self.n {
            assert!(
                Instant::now() < deadline,
                "only {} of {} inputs committed",
                self.audit.committed_inputs(),
                self.n
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        shutdown.cancel();
        task.await.unwrap().expect("pipeline stops cleanly");
    }

    /// (partition, offset) of every input record.
    fn all_inputs(&self, inputs: &[rdkafka::message::OwnedMessage]) -> BTreeSet<(i32, i64)> {
        inputs.iter().map(|m| (m.partition(), m.offset())).collect()
    }

    /// Checks exactly-once (or at-least-once) from the audit trail and the output topic.
    async fn verify(&self, exactly_once: bool) {
        let inputs = self.cluster.read_all(&self.input, true).await;
        assert_eq!(inputs.len(), self.n);
        let expected: BTreeMap<(i32, i64), Vec<u8>> = inputs
            .iter()
            .map(|m| {
                let v = m.payload().unwrap().to_ascii_uppercase();
                ((m.partition(), m.offset()), v)
            })
            .collect();

        // 1. Committed batches cover every input offset exactly once.
        let committed = self.audit.committed.lock().unwrap().clone();
        let mut covered: BTreeMap<(i32, i64), usize> = BTreeMap::new();
        for b in &committed {
            for ((_, p), (first, last)) in &b.inputs {
                for o in *first..=*last {
                    *covered.entry((*p, o)).or_default() += 1;
                }
            }
        }
        let all = self.all_inputs(&inputs);
        let ranges: Vec<String> = committed
            .iter()
            .flat_map(|b| {
                b.inputs
                    .iter()
                    .map(|((_, p), (f, l))| format!("p{p}:{f}-{l}"))
            })
            .collect();
        assert_set_eq(&covered, &all, &format!("committed batches {ranges:?}"));
        if exactly_once {
            let twice: Vec<_> = covered.iter().filter(|(_, c)| **c != 1).take(10).collect();
            assert!(
                twice.is_empty(),
                "inputs in several committed batches: {twice:?}; {ranges:?}"
            );
        }

        // 2. Outputs of committed batches: each input exactly once, with the right payload.
        let committed_ids: BTreeSet<String> =
            committed.iter().map(|b| b.batch_id.clone()).collect();
        let outputs = self.cluster.read_all(&self.output, true).await;
        let mut seen: BTreeMap<(i32, i64), usize> = BTreeMap::new();
        let mut checksum_out = 0u64;
        for m in &outputs {
            let batch = header(m, BATCH_HEADER).expect("batch header");
            if !committed_ids.contains(&batch) {
                continue; // an aborted transaction's record (the mock shows them)
            }
            let src = (
                header(m, "__mesh.source.partition")
                    .unwrap()
                    .parse()
                    .unwrap(),
                header(m, "__mesh.source.offset").unwrap().parse().unwrap(),
            );
            assert_eq!(
                Some(m.payload().unwrap()),
                expected.get(&src).map(Vec::as_slice),
                "payload of {src:?}"
            );
            *seen.entry(src).or_default() += 1;
            checksum_out = checksum_out.wrapping_add(checksum(m.payload().unwrap()));
        }
        assert_set_eq(&seen, &all, "outputs of committed batches");
        if exactly_once {
            assert!(seen.values().all(|c| *c == 1), "no input duplicated");
            let checksum_in = expected
                .values()
                .fold(0u64, |a, v| a.wrapping_add(checksum(v)));
            assert_eq!(checksum_out, checksum_in);
            let committed_outputs: usize = committed.iter().map(|b| b.outputs).sum();
            assert_eq!(committed_outputs, self.n);
        }
    }
}

/// Compares the keys of `got` with `want`, reporting a few differences rather than both sets.
fn assert_set_eq(got: &BTreeMap<(i32, i64), usize>, want: &BTreeSet<(i32, i64)>, what: &str) {
    let missing: Vec<_> = want.iter().filter(|k| !got.contains_key(k)).collect();
    let extra: Vec<_> = got.keys().filter(|k| !want.contains(k)).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: {} inputs missing (first {:?}), {} unexpected (first {:?})",
        missing.len(),
        &missing[..missing.len().min(5)],
        extra.len(),
        &extra[..extra.len().min(5)],
    );
}

fn checksum(v: &[u8]) -> u64 {
    v.iter().fold(0xcbf29ce484222325u64, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x100000001b3)
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exactly_once_across_crash_outage_and_broker_errors() {
    let s = Scenario::new(TestCluster::transactional(), 3000, true).await;

    // A crash mid-batch: the open transaction must not count.
    let err = s.run_until_crash(1234).await;
    assert!(matches!(err, KafkaError::Panicked { .. }), "{err:?}");
    let before_restart = s.audit.committed_inputs();
    assert!(
        before_restart > 0 && before_restart < 1234,
        "{before_restart}"
    );

    // The restart fences the crashed instance, resumes from committed offsets, survives a
    // dependency outage (batch abandoned and retried) and broker errors.
    let mock = s.cluster.mock_cluster().map(|_| s.cluster.clone());
    s.run_to_completion(s.processor(None, Some(300)), async || {
        if let Some(c) = mock {
            let m = c.mock_cluster().unwrap();
            m.push_request_errors(
                RDKafkaApiKey::Produce,
                &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_NOT_ENOUGH_REPLICAS; 3],
            );
            m.push_request_errors(
                RDKafkaApiKey::EndTxn,
                &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_COORDINATOR_LOAD_IN_PROGRESS],
            );
            tokio::time::sleep(Duration::from_millis(300)).await;
            m.broker_down(2).unwrap();
            tokio::time::sleep(Duration::from_millis(1500)).await;
            m.broker_up(2).unwrap();
        }
    })
    .await;

    let aborted = s.audit.aborted.lock().unwrap().clone();
    assert!(
        aborted
            .iter()
            .any(|(_, r)| r.contains("registry unavailable")),
        "the outage abandoned a batch: {aborted:?}"
    );
    s.verify(true).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn at_least_once_loses_nothing_across_a_crash() {
    let s = Scenario::new(TestCluster::start(), 2000, false).await;
    let err = s.run_until_crash(777).await;
    assert!(matches!(err, KafkaError::Panicked { .. }), "{err:?}");
    s.run_to_completion(s.processor(None, Some(100)), async || {})
        .await;
    s.verify(false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stops_on_shutdown_and_resumes_where_it_left_off() {
    let s = Scenario::new(TestCluster::start(), 500, false).await;
    s.run_to_completion(s.processor(None, None), async || {})
        .await;
    let first_run = s.audit.committed.lock().unwrap().len();
    // A second run finds nothing new: offsets were committed.
    let shutdown = Shutdown::new();
    let task = tokio::spawn(s.pipeline(s.processor(None, None)).run(shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("stops within the grace")
        .unwrap()
        .unwrap();
    assert_eq!(s.audit.committed.lock().unwrap().len(), first_run);
    s.verify(true).await; // one clean run = no duplicates even at-least-once
}
