//! Lineage from `_mesh.contracts` alone: every product's raw topic feeds the contract gateway
//! job `gateway.<product id>`, which writes the validated (`.v<major>`) and DLQ topics. The edge
//! exists as soon as the contract is applied, before the gateway emits anything, and the
//! datasets carry the product, domain, owners and status as facets (`ownership`,
//! `documentation`, mesh's `meshProduct`). Names match what the gateway's RunEvents use (job
//! namespace `gateway_namespace`, datasets on the home cluster), so both land on the same nodes.

use std::collections::BTreeMap;
use std::time::Duration;

use mesh_contract::ResolvedContract;
use mesh_kafka::KafkaConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError as RdError;
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::{Value, json};

use crate::LineageError;
use crate::identity::Namespaces;
use crate::observer::{JOB_TYPE, Observer, facet, job_event};
use crate::time::now_millis;

const OWNERSHIP_DATASET: &str = "https://openlineage.io/spec/facets/1-0-1/OwnershipDatasetFacet.json#/$defs/OwnershipDatasetFacet";
const OWNERSHIP_JOB: &str =
    "https://openlineage.io/spec/facets/1-0-1/OwnershipJobFacet.json#/$defs/OwnershipJobFacet";
const DOCUMENTATION: &str = "https://openlineage.io/spec/facets/1-0-1/DocumentationDatasetFacet.json#/$defs/DocumentationDatasetFacet";
/// mesh's own dataset facet: which product a topic belongs to and in which role.
const MESH_PRODUCT: &str = "https://github.com/mesh/mesh/blob/main/docs/lineage.md#meshproduct";

/// `ownership` owners: `domain:<domain>` (what the graph reads a dataset's domain from), the
/// team, then the contract's owners.
fn owners(c: &ResolvedContract) -> Value {
    let mut owners = vec![json!({"name": format!("domain:{}", c.domain), "type": "DOMAIN"})];
    if let Some(t) = &c.team {
        owners.push(json!({"name": format!("team:{t}"), "type": "TEAM"}));
    }
    owners.extend(c.owners.iter().map(|o| json!({"name": o, "type": "OWNER"})));
    Value::Array(owners)
}

/// Pure: one contract record (retired = tombstone of a known contract) as a JobEvent of the
/// gateway job reading raw and writing validated + DLQ.
pub fn contract_event(
    c: &ResolvedContract,
    retired: bool,
    job_namespace: &str,
    cluster_alias: &str,
    at_ms: i64,
) -> Value {
    let ns = Namespaces::kafka(cluster_alias);
    let status = if retired {
        "retired".to_owned()
    } else {
        serde_json::to_value(c.status)
            .ok()
            .and_then(|v| v.as_str().map(str::to_owned))
            .unwrap_or_default()
    };
    let dataset = |name: &str, role: &str| {
        let mut facets = json!({
            "ownership": facet(OWNERSHIP_DATASET, json!({"owners": owners(c)})),
            "meshProduct": facet(MESH_PRODUCT, json!({
                "product": c.product_id, "domain": c.domain, "role": role, "status": status,
                "version": c.version, "major": c.major,
            })),
        });
        if let Some(purpose) = &c.description.purpose {
            facets["documentation"] = facet(DOCUMENTATION, json!({"description": purpose}));
        }
        json!({"namespace": ns, "name": name, "facets": facets})
    };
    job_event(
        job_namespace,
        &format!("gateway.{}", c.product_id),
        json!({
            "jobType": facet(JOB_TYPE, json!({
                "processingType": "STREAMING", "integration": "MESH",
                "jobType": "CONTRACT_GATEWAY",
            })),
            "ownership": facet(OWNERSHIP_JOB, json!({"owners": owners(c)})),
        }),
        json!([dataset(&c.topics.raw, "raw")]),
        json!([
            dataset(&c.topics.validated, "validated"),
            dataset(&c.topics.dlq, "dlq")
        ]),
        at_ms,
    )
}

/// Tails `_mesh.contracts` from its beginning; each observation emits events for the records
/// that changed since the last one (all of them after a start).
pub struct ContractsObserver {
    consumer: BaseConsumer,
    topic: String,
    assigned: bool,
    job_namespace: String,
    cluster_alias: String,
    /// Last contract per record key, so a tombstone can say which product retired.
    known: BTreeMap<String, ResolvedContract>,
}

impl std::fmt::Debug for ContractsObserver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ContractsObserver")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

const TIMEOUT: Duration = Duration::from_secs(10);

impl ContractsObserver {
    pub fn new(
        kafka: &KafkaConfig,
        topic: &str,
        job_namespace: &str,
        cluster_alias: &str,
    ) -> Result<Self, LineageError> {
        let consumer: BaseConsumer = kafka
            .client_config("lineage-contracts")?
            .set("group.id", "mesh-lineage-contracts")
            .set("enable.auto.commit", "false")
            .set("enable.partition.eof", "false")
            .set("auto.offset.reset", "earliest")
            .set("isolation.level", "read_committed")
            .create()
            .map_err(|e| LineageError::Internal(format!("contracts reader: {e}")))?;
        Ok(Self {
            consumer,
            topic: topic.to_owned(),
            assigned: false,
            job_namespace: job_namespace.to_owned(),
            cluster_alias: cluster_alias.to_owned(),
            known: BTreeMap::new(),
        })
    }

    fn assign(&mut self) -> Result<bool, LineageError> {
        let md = self
            .consumer
            .fetch_metadata(Some(&self.topic), TIMEOUT)
            .map_err(|e| LineageError::Internal(format!("metadata: {e}")))?;
        let mut tpl = TopicPartitionList::new();
        for t in md.topics().iter().filter(|t| t.error().is_none()) {
            for p in t.partitions() {
                tpl.add_partition_offset(&self.topic, p.id(), Offset::Beginning)
                    .map_err(|e| LineageError::Internal(e.to_string()))?;
            }
        }
        if tpl.count() == 0 {
            return Ok(false);
        }
        self.consumer
            .assign(&tpl)
            .map_err(|e| LineageError::Internal(format!("assign: {e}")))?;
        self.assigned = true;
        Ok(true)
    }
}

impl Observer for ContractsObserver {
    fn name(&self) -> &'static str {
        "contracts"
    }

    fn observe(&mut self) -> Result<Vec<Value>, LineageError> {
        // No contracts topic yet: nothing applied, nothing to say.
        if !self.assigned && !self.assign()? {
            return Ok(Vec::new());
        }
        let now = now_millis();
        let mut changed: BTreeMap<String, (ResolvedContract, bool)> = BTreeMap::new();
        let mut wait = Duration::from_millis(200);
        while let Some(m) = self.consumer.poll(wait) {
            wait = Duration::ZERO;
            let m = match m {
                Ok(m) => m,
                Err(RdError::PartitionEOF(_)) => continue,
                Err(e) => return Err(LineageError::Internal(format!("contracts: {e}"))),
            };
            let Some(key) = m.key().and_then(|k| std::str::from_utf8(k).ok()) else {
                continue;
            };
            match m.payload().map(ResolvedContract::from_record) {
                None => {
                    if let Some(c) = self.known.remove(key) {
                        changed.insert(key.to_owned(), (c, true));
                    }
                }
                Some(Ok(c)) => {
                    self.known.insert(key.to_owned(), c.clone());
                    changed.insert(key.to_owned(), (c, false));
                }
                Some(Err(e)) => tracing::warn!(key, error = %e, "unreadable contract; skipped"),
            }
        }
        Ok(changed
            .values()
            .map(|(c, retired)| {
                contract_event(c, *retired, &self.job_namespace, &self.cluster_alias, now)
            })
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn example() -> ResolvedContract {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/examples/orders");
        let read = |f: &str| std::fs::read_to_string(dir.join(f)).unwrap();
        let files = mesh_contract::MemoryFiles(
            [("order-placed.avsc".to_owned(), read("order-placed.avsc"))]
                .into_iter()
                .collect(),
        );
        mesh_contract::load_contract("c.odcs.yaml", &read("order-placed.odcs.yaml"), &files)
            .contract
            .expect("example contract")
    }

    #[test]
    fn a_contract_is_a_valid_gateway_job_event_with_product_facets() {
        let c = example();
        let v = contract_event(&c, false, "mesh", "prod", 0);
        let e = crate::event::from_value(&v).expect("valid OpenLineage");
        let crate::event::Event::Job {
            job,
            inputs,
            outputs,
            ..
        } = e
        else {
            panic!("{e:?}")
        };
        assert_eq!(job.name, format!("gateway.{}", c.product_id));
        assert_eq!(inputs[0].name, c.topics.raw);
        assert_eq!(inputs[0].namespace, "kafka://prod");
        let names: Vec<_> = outputs.iter().map(|d| d.name.as_str()).collect();
        assert_eq!(names, [c.topics.validated.as_str(), c.topics.dlq.as_str()]);
        let mesh = &outputs[0].facets["meshProduct"];
        assert_eq!(mesh["domain"], c.domain.as_str());
        assert_eq!(mesh["role"], "validated");
        assert_eq!(mesh["status"], "active");
        assert_eq!(
            outputs[0].facets["ownership"]["owners"][0]["name"],
            format!("domain:{}", c.domain)
        );
        let retired = contract_event(&c, true, "mesh", "prod", 0);
        assert_eq!(
            retired["outputs"][0]["facets"]["meshProduct"]["status"],
            "retired"
        );
    }
}
