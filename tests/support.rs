//! Shared set-up for the cross-service scenarios in this folder.
//!
//! Scenarios run against [`TestCluster::start`]: the in-process mock cluster, or the real broker
//! named by `TEST_KAFKA_BOOTSTRAP` (CI's tansu suite). Every scenario uses its own topic names.

use mesh_cli::config::MeshConfig;
use mesh_kafka::testing::TestCluster;

/// A `mesh up` config for one scenario: the test broker when it is external (else the embedded
/// broker on a free port), unique platform topic names, a private data directory.
pub fn mesh_config(cluster: &TestCluster, data_dir: &std::path::Path) -> MeshConfig {
    let mut c = MeshConfig::default();
    if !cluster.is_mock() {
        c.kafka = cluster.kafka_config();
    }
    c.embedded_broker.listen = "127.0.0.1:0".parse().expect("address");
    c.data_dir = data_dir.to_path_buf();
    c.registry.listen = "127.0.0.1:0".parse().expect("address");
    let t = &mut c.topics;
    for name in [
        &mut t.schemas,
        &mut t.contracts,
        &mut t.quality,
        &mut t.lineage,
        &mut t.alerts,
    ] {
        *name = TestCluster::unique_name(name);
    }
    c.topics.replication_factor = Some(1);
    c
}
