//! Idempotent topic provisioning.
//!
//! [`Provisioner::ensure_topics`] creates what is missing and validates what exists: a topic with
//! fewer partitions than its spec, or a config that differs (e.g. `cleanup.policy=delete` on a
//! topic that must be compacted), is an error naming the topic, key, wanted and actual values —
//! never silently "fixed", since growing partitions re-maps keys and a policy change can drop data.
//!
//! Two back ends behave the same to callers: a real broker through the Admin API, and the
//! embedded mock cluster, which has no Admin API (topics are created through librdkafka's mock
//! calls and configs are not kept, so only partitions are validated there).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use mesh_rdkafka_ext::{MockCluster, MockError, RDKafkaRespErr};
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, ResourceSpecifier, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::types::RDKafkaErrorCode;

use crate::{KafkaConfig, KafkaError};

const ADMIN_TIMEOUT: Duration = Duration::from_secs(30);

/// A topic as a service needs it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicSpec {
    pub name: String,
    pub partitions: i32,
    /// `None` = the broker's default.
    pub replication_factor: Option<i32>,
    /// Topic configs (`cleanup.policy`, `retention.ms`, ...) set at creation and validated after.
    pub configs: BTreeMap<String, String>,
}

impl TopicSpec {
    pub fn new(name: impl Into<String>, partitions: i32) -> Self {
        Self {
            name: name.into(),
            partitions,
            replication_factor: None,
            configs: BTreeMap::new(),
        }
    }

    /// A single-partition compacted topic, as state logs like `_schemas` need.
    pub fn compacted_log(name: impl Into<String>) -> Self {
        Self::new(name, 1).config("cleanup.policy", "compact")
    }

    pub fn replication_factor(mut self, rf: i32) -> Self {
        self.replication_factor = Some(rf);
        self
    }

    pub fn config(mut self, key: &str, value: impl Into<String>) -> Self {
        self.configs.insert(key.to_owned(), value.into());
        self
    }
}

/// What [`Provisioner::ensure_topics`] did for one topic.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TopicOutcome {
    Created,
    /// Existed already and matches the spec (as far as the back end can tell).
    Existing,
}

/// Creates and validates topics on a real broker or the embedded one.
#[derive(Clone)]
pub enum Provisioner {
    Admin(Arc<AdminBackend>),
    Mock(Arc<MockCluster>),
}

impl std::fmt::Debug for Provisioner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Admin(_) => f.write_str("Provisioner::Admin"),
            Self::Mock(m) => write!(f, "Provisioner::Mock({})", m.bootstrap_servers()),
        }
    }
}

/// Admin API client plus a metadata client (partition counts come from Metadata).
pub struct AdminBackend {
    admin: AdminClient<DefaultClientContext>,
    metadata: BaseConsumer,
}

impl std::fmt::Debug for AdminBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AdminBackend")
    }
}

impl Provisioner {
    /// Provisioning through the Admin API of the broker `config` points at.
    pub fn admin(config: &KafkaConfig) -> Result<Self, KafkaError> {
        let admin = config
            .client_config("admin")?
            .create()
            .map_err(KafkaError::client("create admin client"))?;
        let metadata = config
            .client_config("admin-metadata")?
            .create()
            .map_err(KafkaError::client("create metadata client"))?;
        Ok(Self::Admin(Arc::new(AdminBackend { admin, metadata })))
    }

    /// Ensures every topic exists and matches its spec. Safe to call concurrently and repeatedly.
    pub async fn ensure_topics(
        &self,
        specs: &[TopicSpec],
    ) -> Result<Vec<(String, TopicOutcome)>, KafkaError> {
        let out = match self {
            Self::Admin(a) => a.ensure(specs).await?,
            Self::Mock(m) => {
                let m = m.clone();
                let specs = specs.to_vec();
                tokio::task::spawn_blocking(move || ensure_mock(&m, &specs))
                    .await
                    .map_err(|e| KafkaError::Embedded(e.to_string()))??
            }
        };
        for (name, outcome) in &out {
            let label = match outcome {
                TopicOutcome::Created => "created",
                TopicOutcome::Existing => "existing",
            };
            tracing::info!(topic = %name, outcome = label, "topic ensured");
            metrics::counter!(crate::metrics::TOPICS_PROVISIONED, "outcome" => label).increment(1);
        }
        Ok(out)
    }
}

fn ensure_mock(
    mock: &MockCluster,
    specs: &[TopicSpec],
) -> Result<Vec<(String, TopicOutcome)>, KafkaError> {
    let mut out = Vec::with_capacity(specs.len());
    for spec in specs {
        let rf = spec
            .replication_factor
            .unwrap_or(1)
            .min(mock.broker_count());
        let outcome = match mock.create_topic(&spec.name, spec.partitions, rf) {
            Ok(()) => TopicOutcome::Created,
            Err(MockError::Op {
                err: RDKafkaRespErr::RD_KAFKA_RESP_ERR_TOPIC_ALREADY_EXISTS,
                ..
            }) => {
                let client: BaseConsumer = rdkafka::ClientConfig::new()
                    .set("bootstrap.servers", mock.bootstrap_servers())
                    .create()
                    .map_err(KafkaError::client("create metadata client"))?;
                check_partitions(&client, spec)?;
                TopicOutcome::Existing
            }
            Err(e) => {
                return Err(KafkaError::CreateTopic {
                    topic: spec.name.clone(),
                    reason: e.to_string(),
                });
            }
        };
        out.push((spec.name.clone(), outcome));
    }
    Ok(out)
}

fn check_partitions(client: &BaseConsumer, spec: &TopicSpec) -> Result<(), KafkaError> {
    let md = client
        .fetch_metadata(Some(&spec.name), ADMIN_TIMEOUT)
        .map_err(KafkaError::client("fetch metadata"))?;
    let have = md
        .topics()
        .iter()
        .find(|t| t.name() == spec.name)
        .map(|t| t.partitions().len() as i32)
        .unwrap_or(0);
    if have < spec.partitions {
        return Err(KafkaError::TopicMismatch {
            topic: spec.name.clone(),
            reason: format!(
                "has {have} partitions, needs {} (mesh does not add partitions: it would re-map keys)",
                spec.partitions
            ),
        });
    }
    Ok(())
}

impl AdminBackend {
    async fn ensure(&self, specs: &[TopicSpec]) -> Result<Vec<(String, TopicOutcome)>, KafkaError> {
        let new_topics: Vec<NewTopic<'_>> = specs
            .iter()
            .map(|s| {
                let rf = match s.replication_factor {
                    Some(rf) => TopicReplication::Fixed(rf),
                    None => TopicReplication::Fixed(-1),
                };
                s.configs
                    .iter()
                    .fold(NewTopic::new(&s.name, s.partitions, rf), |t, (k, v)| {
                        t.set(k, v)
                    })
            })
            .collect();
        let opts = AdminOptions::new().operation_timeout(Some(ADMIN_TIMEOUT));
        let results = self
            .admin
            .create_topics(&new_topics, &opts)
            .await
            .map_err(KafkaError::client("create topics"))?;
        let mut out = Vec::with_capacity(specs.len());
        for (spec, result) in specs.iter().zip(results) {
            match result {
                Ok(_) => out.push((spec.name.clone(), TopicOutcome::Created)),
                Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {
                    check_partitions(&self.metadata, spec)?;
                    self.check_configs(spec).await?;
                    out.push((spec.name.clone(), TopicOutcome::Existing));
                }
                Err((_, code)) => {
                    return Err(KafkaError::CreateTopic {
                        topic: spec.name.clone(),
                        reason: code.to_string(),
                    });
                }
            }
        }
        Ok(out)
    }

    async fn check_configs(&self, spec: &TopicSpec) -> Result<(), KafkaError> {
        if spec.configs.is_empty() {
            return Ok(());
        }
        let opts = AdminOptions::new().request_timeout(Some(ADMIN_TIMEOUT));
        let described = self
            .admin
            .describe_configs(&[ResourceSpecifier::Topic(&spec.name)], &opts)
            .await
            .map_err(KafkaError::client("describe configs"))?;
        let resource = match described.into_iter().next() {
            Some(Ok(r)) => r,
            Some(Err(code)) => {
                // Brokers without DescribeConfigs cannot tell us; say so rather than pretend.
                tracing::warn!(topic = %spec.name, error = %code,
                    "cannot read topic configs to validate them");
                return Ok(());
            }
            None => return Ok(()),
        };
        for (key, want) in &spec.configs {
            let have = resource.get(key).and_then(|e| e.value.clone());
            if have.as_deref() != Some(want.as_str()) {
                return Err(KafkaError::TopicMismatch {
                    topic: spec.name.clone(),
                    reason: format!(
                        "{key} is {}, needs {want}",
                        have.as_deref().unwrap_or("<unset>")
                    ),
                });
            }
        }
        Ok(())
    }
}
