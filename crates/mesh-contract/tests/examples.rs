//! The example contracts under schemas/examples lint clean and resolve to what the gateway and
//! the freshness monitor need.

mod common;

use common::{example_governance, examples, lint_file};
use mesh_contract::model::{Action, TombstonePolicy};
use mesh_contract::{CompiledRules, Status};
use serde_json::json;

#[test]
fn every_example_contract_lints_clean() {
    let gov = example_governance();
    for f in [
        "orders/order-placed.odcs.yaml",
        "payments/payment-settled.odcs.yaml",
        "customers/customer-profile.odcs.yaml",
    ] {
        let r = lint_file(&examples().join(f), &gov);
        let shown: Vec<String> = r.diagnostics.iter().map(|d| d.to_string()).collect();
        assert!(r.diagnostics.is_empty(), "{f}:\n{}", shown.join("\n"));
        assert!(r.contract.is_some());
    }
}

#[test]
fn orders_example_resolves_topics_sla_and_rules() {
    let gov = example_governance();
    let c = lint_file(&examples().join("orders/order-placed.odcs.yaml"), &gov)
        .contract
        .unwrap();
    assert_eq!(c.product_id, "orders.order-placed");
    assert_eq!(c.record_key(), "orders.order-placed/v1");
    assert_eq!(c.topics.validated, "orders.order-placed.v1");
    assert_eq!(c.status, Status::Active);
    assert_eq!(c.owners, vec!["orders-team@example.com"]);
    let f = c.sla.freshness.as_ref().unwrap();
    assert_eq!(
        (f.objective_ms, f.warn_ms, f.critical_ms, f.for_ms),
        (300_000, 120_000, 300_000, 60_000)
    );
    assert_eq!(c.value_schema.subject, "orders.order-placed.raw-value");
    let large = c.rules.iter().find(|r| r.name == "large-order").unwrap();
    assert_eq!(large.action, Action::Warn);

    let rules = CompiledRules::compile(&c.rules).unwrap();
    let good = json!({"order_id": "0d6c1f0e-3c1a-4a8e-9d55-9e2b1f6b7a10", "customer_id": "c1",
        "status": "PLACED", "currency": "EUR", "total": 12.5, "items": [{"sku": "a", "quantity": 1}],
        "coupon": null, "placed_at": "2026-11-27T10:00:00Z"});
    assert_eq!(rules.evaluate(&good), vec![]);
    let bad = json!({"order_id": "nope", "status": "LOST", "currency": "eur", "total": -1,
        "items": [], "placed_at": "yesterday"});
    let mut names: Vec<String> = rules.evaluate(&bad).into_iter().map(|v| v.rule).collect();
    names.sort();
    assert_eq!(
        names,
        vec![
            "currency-pattern",
            "customer_id-required",
            "order-has-items",
            "order_id-format",
            "placed_at-format",
            "status-known",
            "total-minimum"
        ]
    );
}

#[test]
fn customers_example_carries_pii_key_and_tombstone_policy() {
    let gov = example_governance();
    let c = lint_file(
        &examples().join("customers/customer-profile.odcs.yaml"),
        &gov,
    )
    .contract
    .unwrap();
    assert_eq!(c.tombstones, TombstonePolicy::Forward);
    assert!(c.key.required);
    assert_eq!(
        c.key.schema.as_ref().unwrap().subject,
        "customers.customer-profile.raw-key"
    );
    let pii: Vec<&str> = c
        .fields
        .iter()
        .filter(|f| f.pii)
        .map(|f| f.path.as_str())
        .collect();
    assert_eq!(pii, vec!["email", "full_name", "phone", "birth_date"]);
    assert_eq!(
        c.topics.configs.get("cleanup.policy").map(String::as_str),
        Some("compact")
    );
}
