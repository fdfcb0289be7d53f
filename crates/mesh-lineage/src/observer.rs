//! Lineage mesh observes by itself, with no client instrumentation.
//!
//! An [`Observer`] turns what it sees into ordinary OpenLineage events; the collector appends
//! them to `_mesh.lineage` like HTTP ingest, so every instance's graph gets them the same way.
//! Implemented: [`ConsumerGroups`] (Admin API: groups → committed topics → "consumed by group"
//! edges). The gateway and `_mesh.contracts` observers plug in here the same way.

use std::collections::BTreeSet;
use std::time::Duration;

use mesh_kafka::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{Offset, TopicPartitionList};
use serde_json::{Value, json};

use crate::LineageError;
use crate::config::ObserversConfig;
use crate::identity::Namespaces;
use crate::time::{format_millis, now_millis};

const PRODUCER: &str = "https://github.com/mesh/mesh-lineage";
const JOB_EVENT: &str = "https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/JobEvent";
pub(crate) const JOB_TYPE: &str =
    "https://openlineage.io/spec/facets/2-0-4/JobTypeJobFacet.json#/$defs/JobTypeJobFacet";

/// A facet of `schema` from mesh-lineage: `body`'s members after `_producer` and `_schemaURL`.
pub(crate) fn facet(schema: &str, body: Value) -> Value {
    let mut v = json!({"_producer": PRODUCER, "_schemaURL": schema});
    if let (Value::Object(m), Value::Object(b)) = (&mut v, body) {
        m.extend(b);
    }
    v
}

/// An observed JobEvent (what every observer emits): job `namespace`/`name` with `job_facets`,
/// reading `inputs` and writing `outputs` (arrays of datasets), at `at_ms`.
pub(crate) fn job_event(
    namespace: &str,
    name: &str,
    job_facets: Value,
    inputs: Value,
    outputs: Value,
    at_ms: i64,
) -> Value {
    json!({
        "eventTime": format_millis(at_ms),
        "producer": PRODUCER,
        "schemaURL": JOB_EVENT,
        "job": {"namespace": namespace, "name": name, "facets": job_facets},
        "inputs": inputs,
        "outputs": outputs,
    })
}

/// A source of observed lineage, polled periodically on a blocking thread.
pub trait Observer: Send {
    /// Bounded metric label.
    fn name(&self) -> &'static str;
    /// OpenLineage events (JSON) describing what is observed now.
    fn observe(&mut self) -> Result<Vec<Value>, LineageError>;
}

/// One consumer group and the topics it has committed offsets on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GroupTopics {
    pub group: String,
    pub topics: BTreeSet<String>,
}

/// Pure: a consumer group as a STREAMING `CONSUMER_GROUP` job reading its topics, as a JobEvent.
pub fn group_event(g: &GroupTopics, job_namespace: &str, cluster_alias: &str, at_ms: i64) -> Value {
    let ns = Namespaces::kafka(cluster_alias);
    job_event(
        job_namespace,
        &g.group,
        json!({"jobType": facet(JOB_TYPE, json!({
            "processingType": "STREAMING", "integration": "KAFKA", "jobType": "CONSUMER_GROUP",
        }))}),
        g.topics
            .iter()
            .map(|t| json!({"namespace": ns, "name": t}))
            .collect(),
        json!([]),
        at_ms,
    )
}

/// Lists consumer groups (ListGroups) and reads each one's committed offsets (OffsetFetch, which
/// does not join the group) on every topic, so stopped groups show up too.
pub struct ConsumerGroups {
    client: BaseConsumer,
    kafka: KafkaConfig,
    config: ObserversConfig,
    cluster_alias: String,
    /// The lineage topic and other internal topics are not products.
    skip_topics: Vec<String>,
}

impl std::fmt::Debug for ConsumerGroups {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsumerGroups").finish_non_exhaustive()
    }
}

const TIMEOUT: Duration = Duration::from_secs(10);

impl ConsumerGroups {
    pub fn new(
        kafka: &KafkaConfig,
        config: &ObserversConfig,
        cluster_alias: &str,
    ) -> Result<Self, LineageError> {
        let client = kafka
            .client_config("lineage-groups")?
            .create()
            .map_err(|e| LineageError::Internal(format!("group observer client: {e}")))?;
        Ok(Self {
            client,
            kafka: kafka.clone(),
            config: config.clone(),
            cluster_alias: cluster_alias.to_owned(),
            skip_topics: Vec::new(),
        })
    }

    /// Groups and the topics each has committed offsets on (groups with none are left out).
    pub fn groups(&self) -> Result<Vec<GroupTopics>, LineageError> {
        let groups = self.client.fetch_group_list(None, TIMEOUT).map_err(|e| {
            if e.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::UnsupportedFeature)
            {
                LineageError::Unsupported(format!("ListGroups: {e}"))
            } else {
                LineageError::Internal(format!("ListGroups: {e}"))
            }
        })?;
        let md = self
            .client
            .fetch_metadata(None, TIMEOUT)
            .map_err(|e| LineageError::Internal(format!("metadata: {e}")))?;
        let mut all = TopicPartitionList::new();
        for t in md.topics() {
            if t.name().starts_with("__") || self.skip_topics.iter().any(|s| s == t.name()) {
                continue;
            }
            for p in t.partitions() {
                all.add_partition(t.name(), p.id());
            }
        }
        let mut out = Vec::new();
        for g in groups.groups() {
            let name = g.name();
            if self
                .config
                .ignore_group_prefixes
                .iter()
                .any(|p| !p.is_empty() && name.starts_with(p.as_str()))
                || g.protocol_type() != "consumer" && !g.protocol_type().is_empty()
            {
                continue;
            }
            // OffsetFetch for the group: a client with its group.id that never subscribes.
            let reader: BaseConsumer = self
                .kafka
                .client_config("lineage-offsets")?
                .set("group.id", name)
                .set("enable.auto.commit", "false")
                .create()
                .map_err(|e| LineageError::Internal(format!("offset reader: {e}")))?;
            let committed = reader
                .committed_offsets(all.clone(), TIMEOUT)
                .map_err(|e| LineageError::Internal(format!("OffsetFetch {name}: {e}")))?;
            let topics: BTreeSet<String> = committed
                .elements()
                .iter()
                .filter(|e| matches!(e.offset(), Offset::Offset(o) if o >= 0))
                .map(|e| e.topic().to_owned())
                .collect();
            if !topics.is_empty() {
                out.push(GroupTopics {
                    group: name.to_owned(),
                    topics,
                });
            }
        }
        Ok(out)
    }

    pub fn skip_topic(mut self, topic: &str) -> Self {
        self.skip_topics.push(topic.to_owned());
        self
    }
}

impl Observer for ConsumerGroups {
    fn name(&self) -> &'static str {
        "consumer_groups"
    }

    fn observe(&mut self) -> Result<Vec<Value>, LineageError> {
        let now = now_millis();
        Ok(self
            .groups()?
            .iter()
            .map(|g| group_event(g, &self.config.group_namespace, &self.cluster_alias, now))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_becomes_a_valid_streaming_job_event_reading_its_topics() {
        let g = GroupTopics {
            group: "billing-app".into(),
            topics: BTreeSet::from(["orders.validated".to_owned()]),
        };
        let v = group_event(&g, "kafka-consumer-groups", "mesh", 0);
        let e = crate::event::from_value(&v).expect("valid OpenLineage");
        assert_eq!(e.kafka_key(), "job:kafka-consumer-groups/billing-app");
        let crate::event::Event::Job { inputs, job, .. } = e else {
            panic!("{e:?}")
        };
        assert_eq!(inputs[0].namespace, "kafka://mesh");
        assert_eq!(job.facets["jobType"]["processingType"], "STREAMING");
    }
}
