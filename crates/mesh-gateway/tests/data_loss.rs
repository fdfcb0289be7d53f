//! Raw records deleted by retention before the gateway validated them are reported on the
//! progress topic (`data_loss`, its own compaction key) for the freshness monitor — at start-up
//! (assignment), even while no record can be validated, and once.
//!
//! The librdkafka mock keeps at most 5 MiB per partition and drops the oldest message sets
//! beyond that: a real retention gap.

mod support;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use mesh_contract::events::GatewayEvent;
use mesh_gateway::registry::{RegistryClient, SchemaEntry, SchemaLookup, Unavailable};
use mesh_gateway::{Delivery, Gateway};
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use support::*;

/// Five orders on the raw topic, the group committed at 2, then 6.4 MiB more so the mock's
/// retention drops the oldest records. Returns the log start offset.
fn retention_gap(h: &Harness, group_id: &str) -> i64 {
    let raw = h.contract.topics.raw.clone();
    let orders: Vec<Raw> = (0..5)
        .map(|i| Raw {
            key: Some(h.key(&format!("k{i}"))),
            value: Some(h.wire(&Order::valid(i).encode())),
            ..Raw::default()
        })
        .collect();
    h.produce_raw(&raw, orders);
    // The gateway's group read up to offset 2 before it went down...
    let client: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", h.cluster.bootstrap_servers())
        .set("group.id", group_id)
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&raw, 0, Offset::Offset(2))
        .unwrap();
    client.commit(&tpl, CommitMode::Sync).unwrap();
    // ...then 6.4 MiB more arrived and retention dropped the oldest records.
    let big = (0..100)
        .map(|_| Raw {
            key: Some(h.key("big")),
            value: Some(vec![b'x'; 64 * 1024]),
            ..Raw::default()
        })
        .collect();
    h.produce_raw(&raw, big);
    let (low, high) = client
        .fetch_watermarks(&raw, 0, Duration::from_secs(10))
        .unwrap();
    assert!(low > 2 && high == 105, "no retention gap: {low}..{high}");
    low
}

/// The progress topic's events, keyed.
async fn progress_events(h: &Harness) -> Vec<(String, GatewayEvent)> {
    h.cluster
        .read_all(&h.progress_topic, true)
        .await
        .into_iter()
        .map(|m| {
            let key = String::from_utf8(m.key().unwrap().to_vec()).unwrap();
            (
                key,
                GatewayEvent::from_record(m.payload().unwrap()).unwrap(),
            )
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_gap_is_reported_as_data_loss_on_the_progress_topic() {
    let h = Harness::new(TestCluster::mock(), 1).await;
    let raw = h.contract.topics.raw.clone();
    let config = h.config(Delivery::ExactlyOnce);
    let low = retention_gap(&h, &config.group_id);

    h.apply_contract(Some(&h.contract));
    let shutdown = Shutdown::new();
    h.start(config, None, &shutdown).await;

    let deadline = Instant::now() + Duration::from_secs(30);
    let (losses, beats) = loop {
        let events = progress_events(&h).await;
        let (losses, beats): (Vec<_>, Vec<_>) = events
            .into_iter()
            .partition(|(_, e)| matches!(e, GatewayEvent::DataLoss(_)));
        if (!losses.is_empty() && !beats.is_empty()) || Instant::now() > deadline {
            break (losses, beats);
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    shutdown.cancel();

    assert_eq!(losses.len(), 1, "one report: {losses:?}");
    let (key, GatewayEvent::DataLoss(loss)) = &losses[0] else {
        unreachable!()
    };
    assert_eq!(key, &format!("{raw}/0/loss/2-{}", low - 1));
    assert_eq!(loss.product, h.contract.product_id);
    assert_eq!((loss.topic.as_str(), loss.partition), (raw.as_str(), 0));
    assert_eq!((loss.from_offset, loss.to_offset), (2, low - 1));
    assert!(loss.emitted_at > 0);
    // Validation resumed at the log start.
    let GatewayEvent::Progress(first) = &beats[0].1 else {
        unreachable!()
    };
    assert!(first.offset >= low, "{first:?}");
}

/// The registry as seen by the gateway, switchable to "unreachable".
struct Switchable {
    inner: RegistryClient,
    down: AtomicBool,
}

impl SchemaLookup for Switchable {
    fn schema(&self, id: u32) -> Result<Option<Arc<SchemaEntry>>, Unavailable> {
        if self.down.load(Ordering::SeqCst) {
            return Err(Unavailable("switched off by the test".into()));
        }
        self.inner.schema(id)
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loss_is_reported_at_start_up_while_no_record_can_be_validated() {
    let h = Harness::new(TestCluster::mock(), 1).await;
    let raw = h.contract.topics.raw.clone();
    let config = h.config(Delivery::ExactlyOnce);
    let group = config.group_id.clone();
    let low = retention_gap(&h, &group);
    // The registry is unreachable: every batch holding a record is abandoned and retried.
    let registry = Arc::new(Switchable {
        inner: RegistryClient::new(
            &h.registry_url,
            Duration::from_secs(2),
            tokio::runtime::Handle::current(),
        )
        .unwrap(),
        down: AtomicBool::new(true),
    });
    h.apply_contract(Some(&h.contract));
    let shutdown = Shutdown::new();
    Gateway::default()
        .schema_lookup(registry.clone())
        .start(config, h.kafka(), &shutdown)
        .await
        .unwrap();

    // The report is committed with the group's move to the log start, no record validated.
    let client: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", h.cluster.bootstrap_servers())
        .set("group.id", &group)
        .create()
        .unwrap();
    let committed = || {
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition(&raw, 0);
        client
            .committed_offsets(tpl, Duration::from_secs(10))
            .ok()
            .and_then(|c| c.find_partition(&raw, 0).map(|e| e.offset()))
    };
    wait_for("the loss report to commit", Duration::from_secs(30), || {
        committed() == Some(Offset::Offset(low))
    })
    .await;
    let events = progress_events(&h).await;
    let key = format!("{raw}/0/loss/2-{}", low - 1);
    assert_eq!(events.len(), 1, "only the loss report: {events:?}");
    assert_eq!(events[0].0, key);
    assert!(
        h.cluster
            .read_all(&h.contract.topics.validated, true)
            .await
            .is_empty()
    );

    // The registry returns: validation resumes at the log start, the loss is not reported again
    // (the mock shows aborted records too, so any repeat would be visible here).
    registry.down.store(false, Ordering::SeqCst);
    wait_for("validation to resume", Duration::from_secs(30), || {
        committed() == Some(Offset::Offset(105))
    })
    .await;
    let events = progress_events(&h).await;
    let losses: Vec<_> = events
        .iter()
        .filter(|(_, e)| matches!(e, GatewayEvent::DataLoss(_)))
        .collect();
    assert_eq!(losses.len(), 1, "{losses:?}");
    assert_eq!(losses[0].0, key);
    shutdown.cancel();
}
