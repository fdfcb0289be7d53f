//! Records deleted by retention before the pipeline read them are reported, exactly once, with
//! the right bounds, and the pipeline resumes from the log start.
//!
//! The librdkafka mock keeps at most 5 MiB per partition and drops the oldest message sets
//! beyond that, moving the log start offset: a real retention gap.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use mesh_kafka::pipeline::{
    Assignment, DeliveryMode, LostRange, OutRecord, Pipeline, PipelineConfig, ProcessError,
    Processor,
};
use mesh_kafka::testing::TestCluster;
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
}

impl Processor for Recorder {
    fn process(&mut self, r: &BorrowedMessage<'_>) -> Result<Vec<OutRecord>, ProcessError> {
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

/// Runs the pipeline until it has seen offset `last` (or 2 s when `last` is None), then stops.
async fn run(
    cluster: &TestCluster,
    topic: &str,
    out: &str,
    group: &str,
    last: Option<i64>,
    fail_once: bool,
) -> Seen {
    let seen = Seen::default();
    let mut config = PipelineConfig::new(
        "loss-test",
        group,
        &[topic],
        DeliveryMode::ExactlyOnce {
            transactional_id: TestCluster::unique_name("loss-tx"),
        },
    );
    config.assignment = Assignment::Partitions(vec![(topic.to_owned(), 0)]);
    let processor = Recorder {
        out: out.to_owned(),
        seen: seen.clone(),
        fail_once,
    };
    let shutdown = Shutdown::new();
    let task = tokio::spawn(
        Pipeline::new(cluster.kafka_config(), config, processor).run(shutdown.clone()),
    );
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

    let seen = run(&cluster, &topic, &out, &group, Some(high - 1), false).await;
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
    let again = run(&cluster, &topic, &out, &group, None, false).await;
    assert!(again.losses.lock().unwrap().is_empty());
    assert!(again.offsets.lock().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_group_starts_at_the_log_start_without_reporting_loss() {
    let cluster = TestCluster::mock();
    let (topic, low, high) = retention_gap(&cluster, &TestCluster::unique_name("other")).await;
    let out = cluster.unique_topic("loss-out", 1).await;
    let fresh = TestCluster::unique_name("fresh-group");
    let seen = run(&cluster, &topic, &out, &fresh, Some(high - 1), false).await;
    assert!(seen.losses.lock().unwrap().is_empty());
    assert_eq!(
        *seen.offsets.lock().unwrap(),
        (low..high).collect::<Vec<_>>()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abandoned_batch_reports_the_loss_again_with_its_retry() {
    let cluster = TestCluster::mock();
    let group = TestCluster::unique_name("loss-retry");
    let (topic, low, high) = retention_gap(&cluster, &group).await;
    let out = cluster.unique_topic("loss-out", 1).await;
    let seen = run(&cluster, &topic, &out, &group, Some(high - 1), true).await;
    let lost = LostRange {
        topic: topic.clone(),
        partition: 0,
        from: 2,
        to: low - 1,
    };
    // Reported with the abandoned batch (aborted with it), then again with the retry.
    assert_eq!(*seen.losses.lock().unwrap(), vec![lost.clone(), lost]);
    assert_eq!(
        *seen.offsets.lock().unwrap(),
        (low..high).collect::<Vec<_>>()
    );
    let again = run(&cluster, &topic, &out, &group, None, false).await;
    assert!(again.losses.lock().unwrap().is_empty());
}
