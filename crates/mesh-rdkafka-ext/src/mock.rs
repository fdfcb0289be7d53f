//! Safe wrapper over `rd_kafka_mock_cluster_t`.
//!
//! Why our own wrapper rather than `rdkafka::mocking::MockCluster`: that type keeps its raw
//! pointer private (so calls it lacks, like `rd_kafka_mock_broker_set_host_port`, cannot be made
//! on it) and is `!Send`, which forces an owner thread on every user.
//!
//! Thread safety argument (for the `Send`/`Sync` impls below): every `rd_kafka_mock_*` function
//! used here is safe to call from any thread while the cluster lives. librdkafka implements them
//! either by enqueuing an op to the mock cluster's own thread and waiting for its reply
//! (`rd_kafka_op_req` on `mcluster->ops`: topic create, broker up/down, rtt, error pushes) or by
//! taking `mcluster->lock` (`set_host_port`, request error stacks). `bootstraps` reads a string
//! written once at creation. The cluster is destroyed only in `Drop`, which needs `&mut self`, so
//! no call can race with destruction.

use std::ffi::{CStr, CString};
use std::os::raw::c_int;

use rdkafka::client::{Client, DefaultClientContext};
use rdkafka::config::ClientConfig;
use rdkafka::error::KafkaError;
use rdkafka::types::{RDKafkaApiKey, RDKafkaRespErr, RDKafkaType};
use rdkafka_sys as sys;

/// What can go wrong driving the mock cluster.
#[derive(Debug, thiserror::Error)]
pub enum MockError {
    #[error("could not create the librdkafka handle that hosts the mock cluster: {0}")]
    Client(#[from] KafkaError),
    #[error(
        "librdkafka could not create the mock cluster (rd_kafka_mock_cluster_new returned NULL)"
    )]
    Create,
    #[error("invalid name {0:?}: it contains a NUL byte")]
    InvalidName(String),
    #[error("mock cluster refused {op}: {err:?}")]
    Op {
        op: &'static str,
        err: RDKafkaRespErr,
    },
}

/// librdkafka's in-process mock Kafka cluster (Produce, Fetch, transactions, consumer groups,
/// offsets; no admin API).
pub struct MockCluster {
    ptr: *mut sys::rd_kafka_mock_cluster_t,
    /// The librdkafka handle the cluster was created from; it must outlive the cluster.
    _host: Client<DefaultClientContext>,
    broker_count: i32,
}

// SAFETY: see the module docs: every function called through `ptr` is thread-safe in librdkafka,
// and `ptr` stays valid until `Drop`, which has exclusive access.
#[allow(unsafe_code)]
unsafe impl Send for MockCluster {}
// SAFETY: as above; no method hands out interior references to librdkafka memory.
#[allow(unsafe_code)]
unsafe impl Sync for MockCluster {}

impl std::fmt::Debug for MockCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MockCluster")
            .field("bootstrap_servers", &self.bootstrap_servers())
            .field("broker_count", &self.broker_count)
            .finish()
    }
}

fn check(op: &'static str, err: sys::rd_kafka_resp_err_t) -> Result<(), MockError> {
    let err: RDKafkaRespErr = err;
    if err == RDKafkaRespErr::RD_KAFKA_RESP_ERR_NO_ERROR {
        Ok(())
    } else {
        Err(MockError::Op { op, err })
    }
}

fn cstring(s: &str) -> Result<CString, MockError> {
    CString::new(s).map_err(|_| MockError::InvalidName(s.to_owned()))
}

impl MockCluster {
    /// Starts a mock cluster of `broker_count` brokers (ids 1..=n), each listening on an
    /// ephemeral 127.0.0.1 port.
    pub fn new(broker_count: i32) -> Result<Self, MockError> {
        let config = ClientConfig::new();
        let native = config.create_native_config()?;
        let host = Client::new(
            &config,
            native,
            RDKafkaType::RD_KAFKA_PRODUCER,
            DefaultClientContext,
        )?;
        // SAFETY: `host.native_ptr()` is a live rd_kafka_t owned by `host`, which we keep for
        // the lifetime of the cluster.
        #[allow(unsafe_code)]
        let ptr = unsafe { sys::rd_kafka_mock_cluster_new(host.native_ptr(), broker_count) };
        if ptr.is_null() {
            return Err(MockError::Create);
        }
        Ok(Self {
            ptr,
            _host: host,
            broker_count,
        })
    }

    /// Number of brokers the cluster was created with.
    pub fn broker_count(&self) -> i32 {
        self.broker_count
    }

    /// The cluster's own `bootstrap.servers` (the brokers' real listen addresses).
    pub fn bootstrap_servers(&self) -> String {
        // SAFETY: `ptr` is live (module docs); the returned C string is owned by the cluster,
        // NUL-terminated, and copied out before this borrow ends.
        #[allow(unsafe_code)]
        let raw = unsafe { sys::rd_kafka_mock_cluster_bootstraps(self.ptr) };
        if raw.is_null() {
            return String::new();
        }
        // SAFETY: non-null, NUL-terminated, lives as long as the cluster (see above).
        #[allow(unsafe_code)]
        let s = unsafe { CStr::from_ptr(raw) };
        s.to_string_lossy().into_owned()
    }

    /// Creates a topic (the mock has no CreateTopics API; this is how topics are provisioned).
    pub fn create_topic(
        &self,
        topic: &str,
        partitions: i32,
        replication_factor: i32,
    ) -> Result<(), MockError> {
        let name = cstring(topic)?;
        // SAFETY: `ptr` is live; `name` outlives the call, which copies it.
        #[allow(unsafe_code)]
        let err = unsafe {
            sys::rd_kafka_mock_topic_create(
                self.ptr,
                name.as_ptr(),
                partitions as c_int,
                replication_factor as c_int,
            )
        };
        check("topic create", err)
    }

    /// Changes the host and port broker `broker_id` advertises in Metadata responses. The
    /// broker still listens where it did; whoever calls this forwards the new address to it.
    pub fn set_advertised_listener(
        &self,
        broker_id: i32,
        host: &str,
        port: u16,
    ) -> Result<(), MockError> {
        let host = cstring(host)?;
        // SAFETY: `ptr` is live; librdkafka copies `host` into the broker struct under its lock.
        #[allow(unsafe_code)]
        unsafe {
            sys::rd_kafka_mock_broker_set_host_port(
                self.ptr,
                broker_id,
                host.as_ptr(),
                c_int::from(port),
            )
        };
        Ok(())
    }

    /// Sets the consumer groups' initial rebalance delay (librdkafka's default is 3 s, which
    /// makes every `subscribe` wait that long).
    pub fn set_group_initial_rebalance_delay(&self, delay_ms: i32) {
        // SAFETY: `ptr` is live; the call enqueues an op to the cluster thread.
        #[allow(unsafe_code)]
        unsafe {
            sys::rd_kafka_mock_group_initial_rebalance_delay_ms(self.ptr, delay_ms)
        };
    }

    /// Makes broker `broker_id` close its connections and refuse new ones.
    pub fn broker_down(&self, broker_id: i32) -> Result<(), MockError> {
        // SAFETY: `ptr` is live.
        #[allow(unsafe_code)]
        let err = unsafe { sys::rd_kafka_mock_broker_set_down(self.ptr, broker_id) };
        check("broker down", err)
    }

    /// Makes broker `broker_id` accept connections again.
    pub fn broker_up(&self, broker_id: i32) -> Result<(), MockError> {
        // SAFETY: `ptr` is live.
        #[allow(unsafe_code)]
        let err = unsafe { sys::rd_kafka_mock_broker_set_up(self.ptr, broker_id) };
        check("broker up", err)
    }

    /// Adds `rtt_ms` of latency to every response of broker `broker_id`.
    pub fn broker_round_trip_time(&self, broker_id: i32, rtt_ms: i32) -> Result<(), MockError> {
        // SAFETY: `ptr` is live.
        #[allow(unsafe_code)]
        let err = unsafe { sys::rd_kafka_mock_broker_set_rtt(self.ptr, broker_id, rtt_ms) };
        check("broker rtt", err)
    }

    /// Queues errors that the next requests of `api` (on any broker) will fail with, one each.
    pub fn push_request_errors(&self, api: RDKafkaApiKey, errors: &[RDKafkaRespErr]) {
        // SAFETY: `ptr` is live; librdkafka copies `errors` (len `errors.len()`) before returning.
        #[allow(unsafe_code)]
        unsafe {
            sys::rd_kafka_mock_push_request_errors_array(
                self.ptr,
                api as i16,
                errors.len(),
                errors.as_ptr(),
            )
        };
    }

    /// Drops the queued errors of `api`.
    pub fn clear_request_errors(&self, api: RDKafkaApiKey) {
        // SAFETY: `ptr` is live.
        #[allow(unsafe_code)]
        unsafe {
            sys::rd_kafka_mock_clear_request_errors(self.ptr, api as i16)
        };
    }

    /// Makes every request on `topic` fail with `err` (`NO_ERROR` clears it).
    pub fn set_topic_error(&self, topic: &str, err: RDKafkaRespErr) -> Result<(), MockError> {
        let name = cstring(topic)?;
        // SAFETY: `ptr` is live; `name` outlives the call, which copies it.
        #[allow(unsafe_code)]
        unsafe {
            sys::rd_kafka_mock_topic_set_error(self.ptr, name.as_ptr(), err)
        };
        Ok(())
    }
}

impl Drop for MockCluster {
    fn drop(&mut self) {
        // SAFETY: `ptr` came from rd_kafka_mock_cluster_new and is destroyed exactly once, here,
        // with exclusive access; `_host` is dropped after this body runs.
        #[allow(unsafe_code)]
        unsafe {
            sys::rd_kafka_mock_cluster_destroy(self.ptr)
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn creates_topics_and_reports_bootstrap() {
        let cluster = MockCluster::new(3).unwrap();
        let bootstrap = cluster.bootstrap_servers();
        assert_eq!(bootstrap.split(',').count(), 3, "{bootstrap}");
        cluster.create_topic("t1", 4, 1).unwrap();
        cluster.broker_down(2).unwrap();
        cluster.broker_up(2).unwrap();
        assert!(matches!(
            cluster.broker_down(42),
            Err(MockError::Op {
                op: "broker down",
                ..
            })
        ));
        assert!(matches!(
            cluster.create_topic("bad\0name", 1, 1),
            Err(MockError::InvalidName(_))
        ));
    }
}
