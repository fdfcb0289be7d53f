//! Records deleted by retention before the pipeline read them are reported, exactly once, with
//! the right bounds — at assignment, before any record after the gap is processed — and the
//! pipeline resumes from the log start.
//!
//! The librdkafka mock keeps at most 5 MiB per partition and drops the oldest message sets
//! beyond that, moving the log start offset: a real retention gap.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mesh_kafka::pipeline::{
    Assignment, BATCH_HEADER, BatchSummary, DeliveryMode, LostRange, Observer, OutRecord, Pipeline,
    PipelineConfig, ProcessError, Processor,
};
use mesh_kafka::testing::TestCluster;
use mesh_rdkafka_ext::{RDKafkaApiKey, RDKafkaRespErr};
use mesh_runtime::Shutdown;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};

const TIMEOUT: Duration = Duration::from_secs(10);

#[derive(Clone, Default)]
struct Seen {
    offsets: Arc<Mutex<Vec<i64>>>,
    losses: Arc<Mutex<Vec<LostRange>>>,
}

/// Notes what it sees; reports each loss as a record on `out`.
struct Recorder {
    out: String,
    seen: Seen,
    /// Fail the first record once (a dependency outage), abandoning its batch.
    fail_once: bool,
    /// While set, `process` waits (a processor stuck on its first record).
    hold: Arc<AtomicBool>,
}

impl Processor for Recorder {
    fn process(&mut self, r: &BorrowedMessage<'_>) -> Result<Vec<OutRecord>, ProcessError> {
        while self.hold.load(Ordering::SeqCst) {
            std::thread::sleep(Duration::from_millis(10));
        }
        if std::mem::take(&mut self.fail_once) {
            return Err(ProcessError::Retry("simulated outage".into()));
        }
        self.seen.offsets.lock().unwrap().push(r.offset());
        Ok(Vec::new())
    }
    fn data_loss(&mut self, lost: &LostRange) -> Vec<OutRecord> {
        self.seen.losses.lock().unwrap().push(lost.clone());
        vec![OutRecord {
            key: Some(format!("loss/{}-{}", lost.from, lost.to).into_bytes()),
            payload: Some(b"lost".to_vec()),
            ..OutRecord::to(&self.out)
        }]
    }
}

fn client(cluster: &TestCluster, group: &str) -> BaseConsumer {
    rdkafka::ClientConfig::new()
        .set("bootstrap.servers", cluster.bootstrap_servers())
        .set("group.id", group)
        .set("enable.auto.commit", "false")
        .create()
        .expect("test consumer")
}

/// A one-partition topic whose log start moved past offset 2, with `group` committed at 2.
/// Returns (topic, log start, high watermark).
async fn retention_gap(cluster: &TestCluster, group: &str) -> (String, i64, i64) {
    let topic = cluster.unique_topic("loss-in", 1).await;
    let small: Vec<_> = (0..5)
        .map(|i| (None, format!("r{i}").into_bytes()))
        .collect();
    cluster.produce(&topic, small).await;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&topic, 0, Offset::Offset(2))
        .unwrap();
    client(cluster, group)
        .commit(&tpl, CommitMode::Sync)
        .expect("commit the early offset");
    // 100 x 64 KiB > the mock's 5 MiB per partition: the oldest message sets are dropped.
    let big: Vec<_> = (0..100).map(|_| (None, vec![b'x'; 64 * 1024])).collect();
    cluster.produce(&topic, big).await;
    let (low, high) = client(cluster, "watermarks")
        .fetch_watermarks(&topic, 0, TIMEOUT)
        .unwrap();
    assert!(
        low > 2 && high == 105,
        "no retention gap: low={low} high={high}"
    );
    (topic, low, high)
}

/// Committed batch ids (the mock shows aborted records, so outputs are tied to commits).
#[derive(Default)]
struct Commits {
    ids: Mutex<BTreeSet<String>>,
    aborted: Mutex<usize>,
}

impl Observer for Commits {
    fn committed(&self, b: &BatchSummary) {
        self.ids.lock().unwrap().insert(b.batch_id.clone());
    }
    fn aborted(&self, _: &BatchSummary, _: &str) {
        *self.aborted.lock().unwrap() += 1;
    }
}

/// How a test runs the pipeline.
#[derive(Default)]
struct Opts {
    fail_once: bool,
    /// Join the group (rebalance callback) instead of assigning the partition.
    subscribe: bool,
    hold: Arc<AtomicBool>,
    commits: Option<Arc<Commits>>,
}

/// Starts the pipeline; returns what it sees, its shutdown and task.
fn start(
    cluster: &TestCluster,
    topic: &str,
    out: &str,
    group: &str,
    opts: Opts,
) -> (
    Seen,
    Shutdown,
    tokio::task::JoinHandle<Result<(), mesh_kafka::KafkaError>>,
) {
    let seen = Seen::default();
    let mode = if cluster.supports_transactions() {
        DeliveryMode::ExactlyOnce {
            transactional_id: TestCluster::unique_name("loss-tx"),
        }
    } else {
        DeliveryMode::AtLeastOnce
    };
    let mut config = PipelineConfig::new("loss-test", group, &[topic], mode);
    if !opts.subscribe {
        config.assignment = Assignment::Partitions(vec![(topic.to_owned(), 0)]);
    }
    config.stamp_batch_id = true;
    let processor = Recorder {
        out: out.to_owned(),
        seen: seen.clone(),
        fail_once: opts.fail_once,
        hold: opts.hold,
    };
    let shutdown = Shutdown::new();
    let mut pipeline = Pipeline::new(cluster.kafka_config(), config, processor);
    if let Some(c) = opts.commits {
        pipeline = pipeline.observer(c);
    }
    let task = tokio::spawn(pipeline.run(shutdown.clone()));
    (seen, shutdown, task)
}

/// Runs the pipeline until it has seen offset `last` (or 2 s when `last` is None), then stops.
async fn run(
    cluster: &TestCluster,
    topic: &str,
    out: &str,
    group: &str,
    last: Option<i64>,
    opts: Opts,
) -> Seen {
    let (seen, shutdown, task) = start(cluster, topic, out, group, opts);
    finish(seen, shutdown, task, last).await
}

async fn finish(
    seen: Seen,
    shutdown: Shutdown,
    task: tokio::task::JoinHandle<Result<(), mesh_kafka::KafkaError>>,
    last: Option<i64>,
) -> Seen {
    let start = Instant::now();
    loop {
        let done = match last {
            Some(l) => seen.offsets.lock().unwrap().last() == Some(&l),
            None => start.elapsed() > Duration::from_secs(2),
        };
        if done {
            break;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "pipeline did not finish"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    shutdown.cancel();
    tokio::time::timeout(TIMEOUT, task)
        .await
        .unwrap()
        .unwrap()
        .unwrap();
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_gap_is_reported_once_and_processing_resumes_at_log_start() {
    let cluster = TestCluster::mock();
    let group = TestCluster::unique_name("loss-group");
    let (topic, low, high) = retention_gap(&cluster, &group).await;
    let out = cluster.unique_topic("loss-out", 1).await;

    let seen = run(
        &cluster,
        &topic,
        &out,
        &group,
        Some(high - 1),
        Opts::default(),
    )
    .await;
    let losses = seen.losses.lock().unwrap().clone();
    assert_eq!(
        losses,
        vec![LostRange {
            topic: topic.clone(),
            partition: 0,
            from: 2,
            to: low - 1,
        }]
    );
    let offsets = seen.offsets.lock().unwrap().clone();
    assert_eq!(
        offsets,
        (low..high).collect::<Vec<_>>(),
        "resumes at the log start, no gaps"
    );
    // The report was committed with the batch, once.
    let reports = cluster.read_all(&out, true).await;
    let keys: Vec<_> = reports.iter().map(|m| m.key().unwrap().to_vec()).collect();
    assert_eq!(keys, vec![format!("loss/2-{}", low - 1).into_bytes()]);

    // A restart resumes from the committed offset: nothing new, and no second report.
    let again = run(&cluster, &topic, &out, &group, None, Opts::default()).await;
    assert!(again.losses.lock().unwrap().is_empty());
    assert!(again.offsets.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_group_starts_at_the_log_start_without_reporting_loss() {
    let cluster = TestCluster::mock();
    let (topic, low, high) = retention_gap(&cluster, &TestCluster::unique_name("other")).await;
    let out = cluster.unique_topic("loss-out", 1).await;
    let fresh = TestCluster::unique_name("fresh-group");
    let seen = run(
        &cluster,
        &topic,
        &out,
        &fresh,
        Some(high - 1),
        Opts::default(),
    )
    .await;
    assert!(seen.losses.lock().unwrap().is_empty());
    assert_eq!(
        *seen.offsets.lock().unwrap(),
        (low..high).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_record_batch_does_not_report_the_loss_again() {
    let cluster = TestCluster::mock();
    let group = TestCluster::unique_name("loss-retry");
    let (topic, low, high) = retention_gap(&cluster, &group).await;
    let out = cluster.unique_topic("loss-out", 1).await;
    let opts = Opts {
        fail_once: true,
        ..Opts::default()
    };
    let seen = run(&cluster, &topic, &out, &group, Some(high - 1), opts).await;
    // The loss committed on its own at assignment; the first record's batch was abandoned and
    // re-read, and that retry does not find the (already reported) gap again.
    assert_eq!(
        *seen.losses.lock().unwrap(),
        vec![LostRange {
            topic: topic.clone(),
            partition: 0,
            from: 2,
            to: low - 1,
        }]
    );
    assert_eq!(
        *seen.offsets.lock().unwrap(),
        (low..high).collect::<Vec<_>>()
    );
    let again = run(&cluster, &topic, &out, &group, None, Opts::default()).await;
    assert!(again.losses.lock().unwrap().is_empty());
}

/// The group's committed offset of partition 0.
fn committed_offset(cluster: &TestCluster, topic: &str, group: &str) -> Option<i64> {
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition(topic, 0);
    let c = client(cluster, group)
        .committed_offsets(tpl, TIMEOUT)
        .ok()?;
    match c.find_partition(topic, 0)?.offset() {
        Offset::Offset(o) => Some(o),
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loss_is_reported_at_assignment_before_any_record_after_the_gap() {
    let cluster = TestCluster::mock();
    let group = TestCluster::unique_name("loss-assign");
    let (topic, low, high) = retention_gap(&cluster, &group).await;
    let out = cluster.unique_topic("loss-out", 1).await;
    // The processor is stuck on its first record: only the assignment check can report.
    let hold = Arc::new(AtomicBool::new(true));
    let commits = Arc::new(Commits::default());
    let opts = Opts {
        subscribe: true,
        hold: hold.clone(),
        commits: Some(commits.clone()),
        ..Opts::default()
    };
    let (seen, shutdown, task) = start(&cluster, &topic, &out, &group, opts);
    let deadline = Instant::now() + Duration::from_secs(20);
    while committed_offset(&cluster, &topic, &group) != Some(low) {
        assert!(Instant::now() < deadline, "the loss was not committed");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Committed: the report, and the group moved past the gap, while no record was processed.
    assert!(seen.offsets.lock().unwrap().is_empty());
    let reports = cluster.read_all(&out, true).await;
    let committed = commits.ids.lock().unwrap().clone();
    let batch_of = |m: &rdkafka::message::OwnedMessage| {
        mesh_kafka::testing::header(m, BATCH_HEADER).expect("stamped")
    };
    assert_eq!(reports.len(), 1);
    assert!(committed.contains(&batch_of(&reports[0])));
    assert_eq!(
        reports[0].key().unwrap(),
        format!("loss/2-{}", low - 1).as_bytes()
    );

    hold.store(false, Ordering::SeqCst);
    let seen = finish(seen, shutdown, task, Some(high - 1)).await;
    assert_eq!(seen.losses.lock().unwrap().len(), 1, "reported once");
    assert_eq!(
        *seen.offsets.lock().unwrap(),
        (low..high).collect::<Vec<_>>()
    );
    assert_eq!(cluster.read_all(&out, true).await.len(), 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_loss_report_is_retried_and_committed_once() {
    let cluster = TestCluster::mock();
    let group = TestCluster::unique_name("loss-abort");
    let (topic, low, high) = retention_gap(&cluster, &group).await;
    let out = cluster.unique_topic("loss-out", 1).await;
    // The report's produce fails for good: its transaction must abort.
    cluster.mock_cluster().unwrap().push_request_errors(
        RDKafkaApiKey::Produce,
        &[RDKafkaRespErr::RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE],
    );
    let commits = Arc::new(Commits::default());
    let opts = Opts {
        commits: Some(commits.clone()),
        ..Opts::default()
    };
    let seen = run(&cluster, &topic, &out, &group, Some(high - 1), opts).await;
    assert!(
        *commits.aborted.lock().unwrap() >= 1,
        "no batch was abandoned"
    );
    let lost = LostRange {
        topic: topic.clone(),
        partition: 0,
        from: 2,
        to: low - 1,
    };
    let losses = seen.losses.lock().unwrap().clone();
    assert!(
        losses.len() >= 2 && losses.iter().all(|l| *l == lost),
        "{losses:?}"
    );
    // Among the reports (the mock shows aborted ones too), exactly one was committed.
    let committed = commits.ids.lock().unwrap().clone();
    let reports = cluster.read_all(&out, true).await;
    let kept: Vec<_> = reports
        .iter()
        .filter(|m| {
            committed.contains(&mesh_kafka::testing::header(m, BATCH_HEADER).expect("stamped"))
        })
        .collect();
    assert_eq!(kept.len(), 1, "{reports:?}");
    assert_eq!(
        *seen.offsets.lock().unwrap(),
        (low..high).collect::<Vec<_>>()
    );
    assert_eq!(committed_offset(&cluster, &topic, &group), Some(high));
}

/// On the mock: tansu 0.6 answers a fetch beyond the log end with nothing instead of
/// OFFSET_OUT_OF_RANGE, so its consumer never resets (docs/architecture.md §5).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_committed_offset_beyond_the_log_end_restarts_at_the_log_start_without_loss() {
    let cluster = TestCluster::mock();
    let topic = cluster.unique_topic("recreated", 1).await;
    let out = cluster.unique_topic("loss-out", 1).await;
    let records: Vec<_> = (0..5)
        .map(|i| (None, format!("r{i}").into_bytes()))
        .collect();
    cluster.produce(&topic, records).await;
    // The group had read far into a previous incarnation of the topic.
    let group = TestCluster::unique_name("recreated-group");
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&topic, 0, Offset::Offset(1000))
        .unwrap();
    client(&cluster, &group)
        .commit(&tpl, CommitMode::Sync)
        .expect("commit");
    let opts = Opts {
        subscribe: true,
        ..Opts::default()
    };
    let seen = run(&cluster, &topic, &out, &group, Some(4), opts).await;
    assert!(seen.losses.lock().unwrap().is_empty());
    assert_eq!(*seen.offsets.lock().unwrap(), (0..5).collect::<Vec<_>>());
}
