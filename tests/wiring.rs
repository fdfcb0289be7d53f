//! The services wired together as `mesh up` runs them (embedded broker, example contracts
//! applied): `mesh status` lists the example products and `mesh lineage show <product>` draws
//! raw → gateway → validated from the contracts alone, before any gateway or client emits
//! lineage.

use std::time::{Duration, Instant};

use mesh_cli::lineage::{ShowArgs, ShowFormat};
use mesh_cli::status::{self, StatusArgs, StatusFormat};
use mesh_cli::up;
use mesh_kafka::testing::TestCluster;
use mesh_runtime::Shutdown;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mesh_up_shows_example_products_in_status_and_lineage_from_contracts() {
    let cluster = TestCluster::start();
    if !cluster.is_mock() {
        eprintln!("example contracts are applied on the embedded broker only: runs on the mock");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let mut config = mesh_scenarios::mesh_config(&cluster, dir.path());
    config.lineage.observers.consumer_groups = false;
    let shutdown = Shutdown::new();
    let running = up::start(&config, &shutdown).await.expect("mesh up starts");
    let service = |name: &str| {
        running
            .services
            .iter()
            .find(|(n, _)| *n == name)
            .unwrap_or_else(|| panic!("mesh up runs {name}"))
            .1
    };
    let (freshness, lineage) = (service("freshness"), service("lineage"));
    let deadline = Instant::now() + Duration::from_secs(30);

    // `mesh status`: the example products with a freshness SLA.
    let args = StatusArgs {
        url: Some(format!("http://{freshness}")),
        format: StatusFormat::Table,
    };
    let table = loop {
        let table = status::run(&config, &args).await.unwrap_or_default();
        let rows = ["orders.order-placed", "payments.payment-settled"];
        if rows.iter().all(|p| table.lines().any(|l| l.starts_with(p))) {
            break table;
        }
        assert!(Instant::now() < deadline, "example products in:\n{table}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert!(table.starts_with("PRODUCT"), "{table}");

    // `mesh lineage show orders.order-placed`: the product id resolves to its raw topic.
    let show = ShowArgs {
        product: "orders.order-placed".into(),
        upstream: false,
        downstream: true,
        depth: 5,
        format: ShowFormat::Tree,
        lineage_url: format!("http://{lineage}"),
    };
    let tree = loop {
        match mesh_cli::lineage::show(&show).await {
            Ok(t) if t.contains("orders.order-placed.v1") => break t,
            other => {
                assert!(
                    Instant::now() < deadline,
                    "lineage from contracts: {other:?}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    };
    let lines: Vec<&str> = tree.lines().collect();
    assert!(
        lines[0].starts_with("orders.order-placed.raw  [kafka://mesh, domain orders]"),
        "{tree}"
    );
    assert!(
        lines[1].ends_with("job mesh/gateway.orders.order-placed (STREAMING)"),
        "{tree}"
    );
    for topic in ["orders.order-placed.v1", "orders.order-placed.dlq"] {
        assert!(
            lines[2..]
                .iter()
                .any(|l| l.contains(&format!("{topic}  [kafka://mesh, domain orders]"))),
            "{topic} under the gateway:\n{tree}"
        );
    }
    shutdown.cancel();
    shutdown.drain(Duration::from_secs(10)).await;
    drop(running);
}
