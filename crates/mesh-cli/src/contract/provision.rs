//! What `mesh up` does for contracts on its embedded broker, which has no CreateTopics:
//! a task that follows `_mesh.contracts` and creates the topics of every contract written there
//! (so `mesh contract apply` works the same against it as against real Kafka), and applying the
//! example contracts (compiled into the binary) at start.

use std::time::Duration;

use mesh_contract::lint::{Governance, lint};
use mesh_contract::{MemoryFiles, ResolvedContract, project};
use mesh_kafka::KafkaConfig;
use mesh_kafka::admin::{Provisioner, TopicSpec};
use mesh_runtime::Shutdown;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Message;
use rdkafka::{Offset, TopicPartitionList};

use super::apply::{Mode, Outcome, Target, apply_all};
use super::registry::RegistryClient;
use crate::CliError;

/// Starts the provisioning task under `shutdown`.
pub fn start_provisioner(
    kafka: KafkaConfig,
    topic: String,
    provisioner: Provisioner,
    shutdown: &Shutdown,
) -> Result<(), CliError> {
    let mut cc = kafka.client_config("contracts-provisioner")?;
    cc.set("group.id", "mesh-up-contracts")
        .set("enable.auto.commit", "false");
    let consumer: BaseConsumer = cc
        .create()
        .map_err(|e| CliError::Contract(format!("contracts provisioner: {e}")))?;
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(&topic, 0, Offset::Beginning)
        .map_err(|e| CliError::Contract(e.to_string()))?;
    consumer
        .assign(&tpl)
        .map_err(|e| CliError::Contract(e.to_string()))?;
    let token = shutdown.token();
    let handle = tokio::runtime::Handle::current();
    // A plain thread: polling blocks, and shutdown must not wait on librdkafka.
    std::thread::Builder::new()
        .name("contracts-provisioner".into())
        .spawn(move || {
            while !token.is_cancelled() {
                let Some(m) = consumer.poll(Duration::from_millis(200)) else { continue };
                let m = match m {
                    Ok(m) => m,
                    Err(e) => {
                        tracing::warn!(error = %e, "reading `_mesh.contracts`");
                        continue;
                    }
                };
                let Some(value) = m.payload() else { continue }; // retired: topics stay
                let c = match ResolvedContract::from_record(value) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "unreadable `_mesh.contracts` record");
                        continue;
                    }
                };
                let specs: Vec<TopicSpec> = project::topics(&c).into_iter().map(|p| {
                    let mut s = TopicSpec::new(p.name, p.partitions);
                    s.configs = p.configs;
                    s
                }).collect();
                if let Err(e) = handle.block_on(provisioner.ensure_topics(&specs)) {
                    tracing::warn!(product = %c.product_id, error = %e, "provisioning contract topics");
                }
            }
        })
        .map_err(|e| CliError::Contract(format!("contracts provisioner thread: {e}")))?;
    Ok(())
}

/// The example contracts, schemas and governance files, compiled in.
const EXAMPLES: &[(&str, &str)] = &[
    (
        "orders/order-placed.odcs.yaml",
        include_str!("../../../../schemas/examples/orders/order-placed.odcs.yaml"),
    ),
    (
        "payments/payment-settled.odcs.yaml",
        include_str!("../../../../schemas/examples/payments/payment-settled.odcs.yaml"),
    ),
    (
        "customers/customer-profile.odcs.yaml",
        include_str!("../../../../schemas/examples/customers/customer-profile.odcs.yaml"),
    ),
];
const EXAMPLE_SCHEMAS: &[(&str, &str)] = &[
    (
        "order-placed.avsc",
        include_str!("../../../../schemas/examples/orders/order-placed.avsc"),
    ),
    (
        "payment-settled.schema.json",
        include_str!("../../../../schemas/examples/payments/payment-settled.schema.json"),
    ),
    (
        "customer-profile.avsc",
        include_str!("../../../../schemas/examples/customers/customer-profile.avsc"),
    ),
    (
        "customer-key.avsc",
        include_str!("../../../../schemas/examples/customers/customer-key.avsc"),
    ),
];
const EXAMPLE_POLICIES: &str = include_str!("../../../../schemas/examples/policies.yaml");
const EXAMPLE_DOMAINS: &str = include_str!("../../../../schemas/examples/domains.yaml");

/// The example contracts, resolved (they lint clean; tests hold them to that).
pub fn example_contracts() -> Result<Vec<ResolvedContract>, CliError> {
    let (gov, findings): (Governance, _) = Governance::load(
        Some(("policies.yaml", EXAMPLE_POLICIES)),
        Some(("domains.yaml", EXAMPLE_DOMAINS)),
    );
    if let Some(d) = findings.first() {
        return Err(CliError::Contract(format!("example governance: {d}")));
    }
    let files = MemoryFiles(
        EXAMPLE_SCHEMAS
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    );
    let mut out = Vec::new();
    for (name, text) in EXAMPLES {
        let r = lint(name, text, &files, &gov);
        match (r.has_errors(), r.contract) {
            (false, Some(c)) => out.push(c),
            _ => {
                return Err(CliError::Contract(format!(
                    "example contract {name} does not lint: {:?}",
                    r.diagnostics
                )));
            }
        }
    }
    Ok(out)
}

/// Applies the example contracts to `mesh up`'s own registry and broker.
pub async fn apply_examples(
    registry_url: &str,
    kafka: KafkaConfig,
    provisioner: Provisioner,
    topic: &str,
) -> Result<Vec<Outcome>, CliError> {
    let target = Target {
        registry: RegistryClient::new(registry_url),
        kafka,
        provisioner,
        contracts_topic: topic.to_owned(),
    };
    apply_all(&target, &example_contracts()?, Mode::Apply).await
}
