//! Exactly once across a consumer-group rebalance.
//!
//! With the eager protocol a member gives up every partition when the group rebalances, and
//! the partitions' next owners start from the committed offsets. A batch still open then holds
//! records the member no longer owns: committing it would let a record be processed twice (by
//! the new owner, and again by this member if the partition comes back and is re-read from the
//! committed offset into the same batch). The pipeline must abandon it instead.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mesh_kafka::KafkaConfig;
use mesh_kafka::pipeline::{
    BATCH_HEADER, BatchSummary, DeliveryMode, Observer, OutRecord, Pipeline, PipelineConfig,
    ProcessError, Processor,
};
use mesh_kafka::testing::{TestCluster, header};
use mesh_runtime::Shutdown;
use rdkafka::Message;
use rdkafka::message::BorrowedMessage;

const RECORDS: usize = 40;

/// Copies each record with its source offset; counts what it has seen.
struct Copy {
    out: String,
    seen: Arc<AtomicUsize>,
}

impl Processor for Copy {
    fn process(&mut self, r: &BorrowedMessage<'_>) -> Result<Vec<OutRecord>, ProcessError> {
        self.seen.fetch_add(1, Ordering::SeqCst);
        Ok(vec![
            OutRecord {
                topic: self.out.clone(),
                payload: r.payload().map(<[u8]>::to_vec),
                ..OutRecord::default()
            }
            .header("src", format!("{}/{}", r.partition(), r.offset())),
        ])
    }
}

#[derive(Default)]
struct Audit {
    committed: Mutex<Vec<BatchSummary>>,
    aborted: Mutex<Vec<String>>,
}

impl Observer for Audit {
    fn committed(&self, b: &BatchSummary) {
        self.committed.lock().unwrap().push(b.clone());
    }
    fn aborted(&self, _: &BatchSummary, reason: &str) {
        self.aborted.lock().unwrap().push(reason.to_owned());
    }
}

/// (partition, offset) → how many committed batches (of all members) hold it.
fn coverage(audits: &[&Audit]) -> BTreeMap<(i32, i64), usize> {
    let mut covered = BTreeMap::new();
    for a in audits {
        for b in a.committed.lock().unwrap().iter() {
            for ((_, p), (first, last)) in &b.inputs {
                for o in *first..=*last {
                    *covered.entry((*p, o)).or_default() += 1;
                }
            }
        }
    }
    covered
}

fn member(
    kafka: &KafkaConfig,
    group: &str,
    input: &str,
    out: &str,
    batch_wait: Duration,
    audit: &Arc<Audit>,
    seen: &Arc<AtomicUsize>,
) -> Pipeline<Copy> {
    let mode = DeliveryMode::ExactlyOnce {
        transactional_id: TestCluster::unique_name("txn"),
    };
    let mut cfg = PipelineConfig::new("rebalance", group, &[input], mode);
    cfg.max_batch_records = 10_000;
    cfg.max_batch_wait = batch_wait;
    cfg.stamp_batch_id = true;
    cfg.client_timeout = Duration::from_secs(5);
    let processor = Copy {
        out: out.to_owned(),
        seen: seen.clone(),
    };
    Pipeline::new(kafka.clone(), cfg, processor).observer(audit.clone())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_batch_open_when_its_partitions_are_revoked_is_abandoned_not_committed() {
    let cluster = TestCluster::transactional();
    let input = cluster.unique_topic("rebal-in", 2).await;
    let out = cluster.unique_topic("rebal-out", 2).await;
    let records = (0..RECORDS)
        .map(|i| {
            (
                Some(format!("k{i}").into_bytes()),
                format!("v{i}").into_bytes(),
            )
        })
        .collect();
    cluster.produce(&input, records).await;
    let group = TestCluster::unique_name("group");
    // Short group timeouts: the rebalance completes in seconds.
    let mut kafka = cluster.kafka_config();
    kafka
        .properties
        .insert("session.timeout.ms".into(), "3000".into());
    kafka
        .properties
        .insert("heartbeat.interval.ms".into(), "300".into());

    // x reads everything into one long batch (it would commit after 4 s)...
    let (x, y) = (Arc::new(Audit::default()), Arc::new(Audit::default()));
    let (x_seen, y_seen) = (Arc::default(), Arc::default());
    let shutdown = Shutdown::new();
    let long = Duration::from_secs(4);
    let px = member(&kafka, &group, &input, &out, long, &x, &x_seen);
    let x_started = Instant::now();
    let tx = tokio::spawn(px.run(shutdown.clone()));
    let deadline = Instant::now() + Duration::from_secs(20);
    while x_seen.load(Ordering::SeqCst) < RECORDS {
        assert!(Instant::now() < deadline, "x reads every record");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(x.committed.lock().unwrap().is_empty(), "x's batch is open");

    // ...when y joins the group: the rebalance revokes x's partitions mid-batch.
    let short = Duration::from_millis(50);
    let py = member(&kafka, &group, &input, &out, short, &y, &y_seen);
    let ty = tokio::spawn(py.run(shutdown.clone()));
    let deadline = Instant::now() + Duration::from_secs(30);
    while coverage(&[&x, &y]).len() < RECORDS {
        assert!(Instant::now() < deadline, "every record committed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    // Past x's original batch deadline: a batch it wrongly kept would have committed by now.
    tokio::time::sleep((long + Duration::from_secs(1)).saturating_sub(x_started.elapsed())).await;
    shutdown.cancel();
    tx.await.unwrap().expect("x stops cleanly");
    ty.await.unwrap().expect("y stops cleanly");

    let covered = coverage(&[&x, &y]);
    let twice: Vec<_> = covered.iter().filter(|(_, n)| **n != 1).collect();
    assert!(
        twice.is_empty(),
        "offsets in several committed batches: {twice:?}"
    );
    assert_eq!(covered.len(), RECORDS, "every record in a committed batch");
    assert!(
        x.aborted
            .lock()
            .unwrap()
            .iter()
            .any(|r| r.contains("revoked")),
        "x abandoned its open batch: {:?}",
        x.aborted.lock().unwrap()
    );
    assert!(
        !y.committed.lock().unwrap().is_empty(),
        "y took over a partition"
    );

    // The committed outputs: each source record exactly once.
    let ids: Vec<String> = [&x, &y]
        .iter()
        .flat_map(|a| a.committed.lock().unwrap().clone())
        .map(|b| b.batch_id)
        .collect();
    let mut seen: BTreeMap<String, usize> = BTreeMap::new();
    for m in cluster.read_all(&out, true).await {
        if ids.contains(&header(&m, BATCH_HEADER).unwrap()) {
            *seen.entry(header(&m, "src").unwrap()).or_default() += 1;
        }
    }
    assert_eq!(seen.len(), RECORDS);
    assert!(seen.values().all(|n| *n == 1), "outputs: {seen:?}");
}
