//! Raw records deleted by retention before the gateway validated them are reported on the
//! progress topic (`data_loss`, its own compaction key) for the freshness monitor.
//!
//! The librdkafka mock keeps at most 5 MiB per partition and drops the oldest message sets
//! beyond that: a real retention gap.

mod support;

use std::time::{Duration, Instant};

use mesh_contract::events::GatewayEvent;
use mesh_gateway::Delivery;
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_gap_is_reported_as_data_loss_on_the_progress_topic() {
    let h = Harness::new(TestCluster::mock(), 1).await;
    let raw = h.contract.topics.raw.clone();
    let config = h.config(Delivery::ExactlyOnce);
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
        .set("group.id", &config.group_id)
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

    h.apply_contract(Some(&h.contract));
    let shutdown = Shutdown::new();
    h.start(config, None, &shutdown).await;

    let deadline = Instant::now() + Duration::from_secs(30);
    let (losses, beats) = loop {
        let events: Vec<_> = h
            .cluster
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
            .collect();
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
