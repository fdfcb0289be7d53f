//! `mesh contract apply` / `diff` end to end: an in-process schema registry and the test broker
//! (the mock, provisioned from `_mesh.contracts` by a `mesh up`-style owner task; or tansu
//! through the Admin API). Every test uses its own domain, so topics and subjects never clash.

use mesh_cli::contract::apply::{Applied, Mode, Outcome, Target, apply_all};
use mesh_cli::contract::provision::start_provisioner;
use mesh_cli::contract::registry::RegistryClient;
use mesh_contract::lint::{Governance, lint};
use mesh_contract::{MemoryFiles, ResolvedContract};
use mesh_kafka::admin::TopicSpec;
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;
use mesh_scenarios::TestRegistry;
use rdkafka::Message;
use serde_json::Value;

const AVSC: &str = r#"{"type":"record","name":"Sale","fields":[
  {"name":"id","type":"string","doc":"Sale id."},
  {"name":"amount","type":"double","doc":"Amount in EUR."},
  {"name":"note","type":["null","string"],"default":null,"doc":"Free text."}]}"#;

struct Env {
    cluster: TestCluster,
    registry: TestRegistry,
    target: Target,
    domain: String,
    shutdown: Shutdown,
}

impl Env {
    async fn start() -> Self {
        let cluster = TestCluster::start();
        let registry = TestRegistry::start(None, false).await;
        let topic = TestCluster::unique_name("_mesh.contracts");
        let shutdown = Shutdown::new();
        if cluster.is_mock() {
            // What `mesh up` does on its embedded broker (no CreateTopics).
            cluster
                .create_topic(TopicSpec::compacted_log(&topic))
                .await
                .unwrap();
            start_provisioner(
                cluster.kafka_config(),
                topic.clone(),
                cluster.provisioner().clone(),
                &shutdown,
            )
            .unwrap();
        }
        let target = Target {
            registry: RegistryClient::new(&registry.url()),
            kafka: cluster.kafka_config(),
            provisioner: cluster.provisioner().clone(),
            contracts_topic: topic,
        };
        let domain = TestCluster::unique_name("d");
        Self {
            cluster,
            registry,
            target,
            domain,
            shutdown,
        }
    }

    /// The contract of product `sales` in this test's domain.
    fn contract(
        &self,
        version: &str,
        status: &str,
        avsc: &str,
        properties: &str,
    ) -> ResolvedContract {
        let text = format!(
            "apiVersion: v3.1.0\nkind: DataContract\nid: {d}.sales\nname: sales\nversion: {version}\nstatus: {status}\ndomain: {d}
description:\n  purpose: Sales of the test shop, one per checkout.
team:\n  members:\n    - username: owner@example.com\n      role: owner
support:\n  - channel: '#sales'
schema:\n  - name: sales\n    customProperties:\n      - property: mesh.schema.file\n        value: s.avsc\n    properties:\n{properties}
slaProperties:\n  - property: latency\n    value: 5\n    unit: m
customProperties:\n  - property: mesh.runbook\n    value: https://runbooks.example.com/sales\n  - property: mesh.sunset\n    value: 2027-01-31\n  - property: mesh.replacedBy\n    value: x/v9\n",
            d = self.domain
        );
        let files = MemoryFiles([("s.avsc".to_owned(), avsc.to_owned())].into());
        let r = lint("sales.odcs.yaml", &text, &files, &Governance::default());
        assert!(!r.has_errors(), "{:#?}", r.diagnostics);
        r.contract.unwrap()
    }

    fn v1(&self) -> ResolvedContract {
        self.contract("1.0.0", "active", AVSC, BASE_PROPERTIES)
    }

    async fn apply(&self, c: &ResolvedContract) -> Outcome {
        apply_all(&self.target, std::slice::from_ref(c), Mode::Apply)
            .await
            .unwrap()
            .remove(0)
    }

    async fn records(&self) -> Vec<(String, Option<Value>)> {
        self.cluster
            .read_all(&self.target.contracts_topic, false)
            .await
            .iter()
            .map(|m| {
                let key = String::from_utf8(m.key().unwrap().to_vec()).unwrap();
                (key, m.payload().map(|p| serde_json::from_slice(p).unwrap()))
            })
            .collect()
    }

    async fn topic_exists(&self, name: &str) -> bool {
        let (k, n) = (self.target.kafka.clone(), name.to_owned());
        tokio::task::spawn_blocking(move || mesh_cli::contract::state::existing_topics(&k, &[n]))
            .await
            .unwrap()
            .unwrap()
            .len()
            == 1
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.registry.stop().await;
    }
}

const BASE_PROPERTIES: &str = "      - name: id\n        required: true\n      - name: amount\n        logicalTypeOptions: {minimum: 0}";

fn assert_result(o: &Outcome, want: Applied) {
    assert_eq!(o.result, want, "{o:#?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_provisions_everything_and_a_second_run_is_a_no_op() {
    let env = Env::start().await;
    let c = env.v1();
    let first = env.apply(&c).await;
    assert_result(&first, Applied::Created);
    for t in [&c.topics.raw, &c.topics.validated, &c.topics.dlq] {
        assert!(env.topic_exists(t).await, "topic {t} exists");
        assert!(
            first
                .details
                .iter()
                .any(|d| d == &format!("created topic `{t}`")),
            "{first:#?}"
        );
    }
    let reg = RegistryClient::new(&env.registry.url());
    let latest = reg.latest(&c.value_schema.subject).await.unwrap().unwrap();
    assert_eq!(latest["version"], 1);
    assert_eq!(
        latest["metadata"]["properties"]["application.major.version"],
        "1"
    );
    assert_eq!(
        latest["metadata"]["properties"]["owner"],
        "owner@example.com"
    );
    assert_eq!(latest["ruleSet"]["domainRules"][0]["onFailure"], "NONE");
    let config = reg.config(&c.value_schema.subject).await.unwrap().unwrap();
    assert_eq!(config["compatibilityLevel"], "BACKWARD");
    assert_eq!(config["compatibilityGroup"], "application.major.version");
    let records = env.records().await;
    assert_eq!(records.len(), 1);
    assert_eq!(records[0].0, format!("{}.sales/v1", env.domain));
    let stored =
        ResolvedContract::from_record(&serde_json::to_vec(records[0].1.as_ref().unwrap()).unwrap())
            .unwrap();
    assert_eq!(stored, c, "the record is the resolved contract");

    let second = env.apply(&c).await;
    assert_result(&second, Applied::Unchanged);
    assert!(second.details.is_empty(), "{second:#?}");
    assert_eq!(
        env.records().await.len(),
        1,
        "nothing written the second time"
    );
    assert_eq!(
        reg.latest(&c.value_schema.subject).await.unwrap().unwrap()["version"],
        1
    );
    let diff = apply_all(&env.target, &[c], Mode::Diff).await.unwrap();
    assert_result(&diff[0], Applied::Unchanged);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn breaking_changes_are_refused_with_the_reason() {
    let env = Env::start().await;
    assert_result(&env.apply(&env.v1()).await, Applied::Created);
    let before = env.records().await.len();

    // A removed field (contract diff).
    let no_note = AVSC.replace(",\n  {\"name\":\"note\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Free text.\"}", "");
    let o = env
        .apply(&env.contract("1.1.0", "active", &no_note, BASE_PROPERTIES))
        .await;
    assert_result(&o, Applied::Refused);
    assert_eq!(o.details[0], "field `note` removed");
    assert_eq!(
        o.details.last().unwrap(),
        "breaking changes need a new major: set `version: 2.0.0`"
    );

    // A tightened rule.
    let o = env
        .apply(&env.contract(
            "1.1.0",
            "active",
            AVSC,
            &BASE_PROPERTIES.replace("minimum: 0", "minimum: 5"),
        ))
        .await;
    assert_result(&o, Applied::Refused);
    assert_eq!(
        o.details[0],
        "rule `amount-minimum` tightened: minimum 0 → 5"
    );

    // A schema change the registry finds incompatible at the subject's level (BACKWARD).
    let retyped = AVSC.replace(
        r#""name":"amount","type":"double""#,
        r#""name":"amount","type":"string""#,
    );
    let o = env
        .apply(&env.contract(
            "1.1.0",
            "active",
            &retyped,
            "      - name: id\n        required: true",
        ))
        .await;
    assert_result(&o, Applied::Refused);
    assert!(
        o.details
            .iter()
            .any(|d| d.starts_with("schema incompatible:")),
        "{o:#?}"
    );
    // ... and `diff` says so before anything happens.
    let d = apply_all(
        &env.target,
        &[env.contract(
            "1.1.0",
            "active",
            &retyped,
            "      - name: id\n        required: true",
        )],
        Mode::Diff,
    )
    .await
    .unwrap();
    assert_result(&d[0], Applied::Refused);

    assert_eq!(env.records().await.len(), before, "nothing written");
    // A compatible change is applied as an update.
    let o = env
        .apply(&env.contract(
            "1.1.0",
            "active",
            AVSC,
            &BASE_PROPERTIES.replace("minimum: 0", "minimum: -5"),
        ))
        .await;
    assert_result(&o, Applied::Updated);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_major_bump_provisions_the_next_validated_topic_and_deprecates_the_old_major() {
    let env = Env::start().await;
    let v1 = env.v1();
    assert_result(&env.apply(&v1).await, Applied::Created);
    let no_note = AVSC.replace(",\n  {\"name\":\"note\",\"type\":[\"null\",\"string\"],\"default\":null,\"doc\":\"Free text.\"}", "");
    let v2 = env.contract("2.0.0", "active", &no_note, BASE_PROPERTIES);
    let o = env.apply(&v2).await;
    assert_result(&o, Applied::Created);
    assert!(env.topic_exists(&format!("{}.sales.v2", env.domain)).await);
    let reg = RegistryClient::new(&env.registry.url());
    let latest = reg.latest(&v2.value_schema.subject).await.unwrap().unwrap();
    assert_eq!(
        (
            latest["version"].as_i64(),
            latest["metadata"]["properties"]["application.major.version"].as_str()
        ),
        (Some(2), Some("2"))
    );
    let records = env.records().await;
    let last_v1 = records
        .iter()
        .rev()
        .find(|(k, _)| k.ends_with("/v1"))
        .unwrap()
        .1
        .clone()
        .unwrap();
    assert_eq!(last_v1["status"], "deprecated");
    assert_eq!(last_v1["replacedBy"], format!("{}.sales/v2", env.domain));
    assert!(last_v1["sunset"].is_string());
    assert_result(&env.apply(&v2).await, Applied::Unchanged);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retiring_a_contract_writes_a_tombstone() {
    let env = Env::start().await;
    assert_result(&env.apply(&env.v1()).await, Applied::Created);
    let retired = env.contract("1.0.0", "retired", AVSC, BASE_PROPERTIES);
    let d = apply_all(&env.target, std::slice::from_ref(&retired), Mode::Diff)
        .await
        .unwrap();
    assert_result(&d[0], Applied::WouldChange);
    assert_result(&env.apply(&retired).await, Applied::Retired);
    let records = env.records().await;
    assert_eq!(
        records.last().unwrap(),
        &(format!("{}.sales/v1", env.domain), None)
    );
    assert_result(&env.apply(&retired).await, Applied::Unchanged);
    env.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn diff_changes_nothing() {
    let env = Env::start().await;
    let c = env.v1();
    let d = apply_all(&env.target, std::slice::from_ref(&c), Mode::Diff)
        .await
        .unwrap();
    assert_result(&d[0], Applied::WouldChange);
    assert!(
        d[0].details
            .contains(&format!("create topic `{}`", c.topics.raw)),
        "{d:#?}"
    );
    assert!(
        RegistryClient::new(&env.registry.url())
            .latest(&c.value_schema.subject)
            .await
            .unwrap()
            .is_none()
    );
    assert!(!env.topic_exists(&c.topics.raw).await);
    env.stop().await;
}
