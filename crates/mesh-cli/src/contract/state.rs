//! `_mesh.contracts`: reading the applied contracts (latest value per key; tombstones remove)
//! and writing records. Blocking librdkafka calls: callers run these on blocking threads.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use mesh_contract::ResolvedContract;
use mesh_kafka::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{Offset, TopicPartitionList};

use crate::CliError;

const TIMEOUT: Duration = Duration::from_secs(15);

fn kafka_err(what: &str) -> impl Fn(rdkafka::error::KafkaError) -> CliError + '_ {
    move |e| CliError::Contract(format!("{what}: {e}"))
}

/// Every applied contract, by record key (`<product id>/v<major>`).
pub fn read_contracts(
    kafka: &KafkaConfig,
    topic: &str,
) -> Result<BTreeMap<String, ResolvedContract>, CliError> {
    let mut cc = kafka.client_config("contracts-reader")?;
    cc.set("group.id", "mesh-contract-cli")
        .set("enable.auto.commit", "false");
    let consumer: BaseConsumer = cc.create().map_err(kafka_err("create consumer"))?;
    let (_, high) = consumer
        .fetch_watermarks(topic, 0, TIMEOUT)
        .map_err(kafka_err(&format!("read the end of `{topic}`")))?;
    let mut out = BTreeMap::new();
    if high <= 0 {
        return Ok(out);
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Beginning)
        .map_err(kafka_err("assign"))?;
    consumer.assign(&tpl).map_err(kafka_err("assign"))?;
    let deadline = Instant::now() + TIMEOUT;
    loop {
        if Instant::now() > deadline {
            return Err(CliError::Contract(format!(
                "timed out reading `{topic}` up to offset {high}"
            )));
        }
        let Some(m) = consumer.poll(Duration::from_millis(200)) else {
            continue;
        };
        let m = m.map_err(kafka_err(&format!("read `{topic}`")))?;
        let key = m
            .key()
            .map(|k| String::from_utf8_lossy(k).into_owned())
            .unwrap_or_default();
        match m.payload() {
            None => {
                out.remove(&key);
            }
            Some(v) => match ResolvedContract::from_record(v) {
                Ok(c) => {
                    out.insert(key, c);
                }
                // A record this build cannot read is left alone rather than overwritten blindly.
                Err(e) => {
                    tracing::warn!(%key, error = %e, "skipping unreadable `_mesh.contracts` record")
                }
            },
        }
        if m.offset() + 1 >= high {
            return Ok(out);
        }
    }
}

/// Writes `(key, value)` records (value `None` = tombstone), in order, each acknowledged.
pub async fn write_records(
    kafka: &KafkaConfig,
    topic: &str,
    records: &[(String, Option<Vec<u8>>)],
) -> Result<(), CliError> {
    if records.is_empty() {
        return Ok(());
    }
    let mut cc = kafka.client_config("contracts-writer")?;
    cc.set("acks", "all").set("enable.idempotence", "true");
    let producer: FutureProducer = cc.create().map_err(kafka_err("create producer"))?;
    for (key, value) in records {
        let mut rec: FutureRecord<'_, str, [u8]> = FutureRecord::to(topic).key(key.as_str());
        if let Some(v) = value {
            rec = rec.payload(v.as_slice());
        }
        producer
            .send(rec, TIMEOUT)
            .await
            .map_err(|(e, _)| CliError::Contract(format!("write `{topic}` record `{key}`: {e}")))?;
    }
    Ok(())
}

/// Which of `topics` exist, from broker metadata.
pub fn existing_topics(kafka: &KafkaConfig, topics: &[String]) -> Result<Vec<String>, CliError> {
    let consumer: BaseConsumer = kafka
        .client_config("contracts-metadata")?
        .create()
        .map_err(kafka_err("create metadata client"))?;
    let md = consumer
        .fetch_metadata(None, TIMEOUT)
        .map_err(kafka_err("read metadata"))?;
    Ok(md
        .topics()
        .iter()
        .filter(|t| t.error().is_none() && !t.partitions().is_empty())
        .map(|t| t.name().to_owned())
        .filter(|n| topics.contains(n))
        .collect())
}
