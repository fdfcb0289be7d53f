//! Writes one validated HTTP request to Kafka: all records in one transaction (exactly-once
//! delivery) or sent and acknowledged one by one (at-least-once, brokers without transactions).
//!
//! One producer per gateway instance with transactional id `<group>-<instance>-http`:
//! a restarted instance fences its predecessor's open transaction. Transactions are serial on
//! one producer, so requests take a mutex for the transaction's duration; callers run this on
//! a blocking thread (rdkafka's transaction calls block).

use std::sync::Mutex;
use std::time::Duration;

use mesh_kafka::KafkaConfig;
use mesh_kafka::pipeline::OutRecord;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};

use crate::GatewayError;
use crate::config::{Delivery, GatewayConfig};

const TIMEOUT: Duration = Duration::from_secs(10);

/// The Kafka side of HTTP produce.
pub struct Writer {
    producer: FutureProducer,
    transactional: bool,
    /// Serialises transactions (and `init_transactions` on first use).
    lock: Mutex<bool>,
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer")
            .field("transactional", &self.transactional)
            .finish_non_exhaustive()
    }
}

impl Writer {
    pub fn new(kafka: &KafkaConfig, config: &GatewayConfig) -> Result<Self, GatewayError> {
        let mut cc = kafka.client_config("gateway-http")?;
        cc.set("linger.ms", "1").set("enable.idempotence", "true");
        let transactional = config.delivery == Delivery::ExactlyOnce;
        if transactional {
            cc.set(
                "transactional.id",
                format!("{}-{}-http", config.group_id, config.instance_id),
            );
        }
        let producer: FutureProducer = cc
            .create()
            .map_err(|e| GatewayError::Config(format!("http producer: {e}")))?;
        Ok(Self {
            producer,
            transactional,
            lock: Mutex::new(false),
        })
    }

    /// Writes every record or none (exactly-once); returns each record's (partition, offset).
    /// Blocking: call from a blocking thread.
    pub fn write(
        &self,
        records: &[OutRecord],
        runtime: &tokio::runtime::Handle,
    ) -> Result<Vec<(i32, i64)>, KafkaError> {
        let mut initialised = self.lock.lock().unwrap_or_else(|e| e.into_inner());
        if self.transactional {
            if !*initialised {
                self.producer.init_transactions(TIMEOUT)?;
                *initialised = true;
            }
            self.producer.begin_transaction()?;
        }
        let result = self.send_all(records, runtime);
        if !self.transactional {
            return result;
        }
        match result {
            Ok(offsets) => match self.producer.commit_transaction(TIMEOUT) {
                Ok(()) => Ok(offsets),
                Err(e) => {
                    let _ = self.producer.abort_transaction(TIMEOUT);
                    Err(e)
                }
            },
            Err(e) => {
                let _ = self.producer.abort_transaction(TIMEOUT);
                Err(e)
            }
        }
    }

    fn send_all(
        &self,
        records: &[OutRecord],
        runtime: &tokio::runtime::Handle,
    ) -> Result<Vec<(i32, i64)>, KafkaError> {
        let mut pending = Vec::with_capacity(records.len());
        for r in records {
            let mut headers = OwnedHeaders::new_with_capacity(r.headers.len());
            for (k, v) in &r.headers {
                headers = headers.insert(Header {
                    key: k,
                    value: Some(v.as_slice()),
                });
            }
            let mut rec: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(&r.topic).headers(headers);
            if let Some(k) = &r.key {
                rec = rec.key(k.as_slice());
            }
            if let Some(v) = &r.payload {
                rec = rec.payload(v.as_slice());
            }
            if let Some(t) = r.timestamp {
                rec = rec.timestamp(t);
            }
            loop {
                match self.producer.send_result(rec) {
                    Ok(f) => {
                        pending.push(f);
                        break;
                    }
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        self.producer.poll(Duration::from_millis(5));
                        rec = back;
                    }
                    Err((e, _)) => return Err(e),
                }
            }
        }
        runtime.block_on(async {
            let mut out = Vec::with_capacity(pending.len());
            for f in pending {
                match f.await {
                    Ok(Ok(d)) => out.push((d.partition, d.offset)),
                    Ok(Err((e, _))) => return Err(e),
                    Err(_) => return Err(KafkaError::Canceled),
                }
            }
            Ok(out)
        })
    }
}
