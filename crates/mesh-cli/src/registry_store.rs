//! Starting the schema registry on its Kafka store (`registry.store = kafka`, `mesh registry
//! --store kafka`, and `mesh up` against a real cluster): the topic on `[kafka]`, provisioned
//! through the Admin API.

use mesh_kafka::KafkaConfig;
use mesh_kafka::admin::Provisioner;
use mesh_registry::{RunningRegistry, StoreKind};
use mesh_runtime::Shutdown;

use crate::CliError;
use crate::config::MeshConfig;

/// `mesh registry --store kafka`: the registry over `registry.topic` on
/// `kafka.bootstrap_servers`, and a line describing the store for the banner.
pub async fn start_on_kafka(
    config: &MeshConfig,
    shutdown: &Shutdown,
) -> Result<(RunningRegistry, String), CliError> {
    let Some(bootstrap) = config.kafka.bootstrap_servers.clone() else {
        return Err(CliError::Registry(mesh_registry::RegistryError::Store(
            mesh_registry::store::StoreError::Kafka(
                "--store kafka needs a Kafka cluster: pass --bootstrap-server HOST:PORT or set \
                 kafka.bootstrap_servers"
                    .into(),
            ),
        )));
    };
    let provisioner = Provisioner::admin(&config.kafka)?;
    let registry = mesh_registry::start_with_kafka(
        config.registry.clone(),
        Some((&config.kafka, &provisioner)),
        shutdown,
    )
    .await?;
    let store = format!(
        "Kafka store: topic {} on {bootstrap}",
        config.registry.topic
    );
    Ok((registry, store))
}

/// `mesh up` on a real cluster: the registry on the platform's schemas topic
/// (`topics.schemas`, already provisioned by `up`).
pub async fn start_in_up(
    config: &MeshConfig,
    kafka: &KafkaConfig,
    provisioner: &Provisioner,
    shutdown: &Shutdown,
) -> Result<RunningRegistry, CliError> {
    let mut registry_config = config.registry.clone();
    registry_config.store = StoreKind::Kafka;
    registry_config.topic.clone_from(&config.topics.schemas);
    Ok(mesh_registry::start_with_kafka(
        registry_config,
        Some((kafka, provisioner)),
        &shutdown.child(),
    )
    .await?)
}
