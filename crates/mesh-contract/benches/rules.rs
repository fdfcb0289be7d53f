//! Rule evaluation throughput, single thread (one core).
//!
//! ```sh
//! cargo bench -p mesh-contract --bench rules
//! ```
//!
//! Measures, on an 8-field order event (`serde_json::Value`, as the gateway decodes it):
//! 1. one simple field rule (`total >= 0`) — evaluations per second;
//! 2. the seven native field rules of the orders example together — rule evaluations per second;
//! 3. one CEL record rule of the common shape (`size(message.items) > 0 && message.total <=
//!    10000.0`), which the native fast path answers (`rules/cel_fast.rs`);
//! 4. one CEL record rule cel itself must interpret (`message.items.exists(i, i.quantity > 1) &&
//!    message.currency != 'XXX'`), converting the members it reads (`items`, `currency`) to cel
//!    values once per evaluation, as the gateway does once per event;
//! 5. an interpreted rule reading the whole message (`message.items.exists(...) && size(message)
//!    == 8`), so the whole event is converted.
//!
//! `BENCH_SECONDS` (default 2) per measurement. Timings are printed, never asserted.

#![allow(clippy::print_stdout, reason = "a benchmark reports on stdout")]

use std::hint::black_box;
use std::time::{Duration, Instant};

use mesh_contract::CompiledRules;
use mesh_contract::diag::Severity;
use mesh_contract::model::{Action, Check, Format, RuleKind, RuleSpec};
use serde_json::json;

fn rule(name: &str, path: Option<&str>, check: Check) -> RuleSpec {
    RuleSpec {
        name: name.into(),
        kind: if path.is_some() {
            RuleKind::Field
        } else {
            RuleKind::Record
        },
        field: path.map(str::to_owned),
        check,
        severity: Severity::Error,
        action: Action::Reject,
        description: None,
    }
}

/// Runs `f` (which performs `per_call` evaluations) for the configured time; evaluations/s.
fn measure(per_call: u64, mut f: impl FnMut()) -> f64 {
    let secs: f64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(2.0);
    for _ in 0..1000 {
        f();
    }
    let start = Instant::now();
    let mut calls = 0u64;
    while start.elapsed() < Duration::from_secs_f64(secs) {
        for _ in 0..1000 {
            f();
        }
        calls += 1000;
    }
    (calls * per_call) as f64 / start.elapsed().as_secs_f64()
}

fn main() {
    let event = json!({
        "order_id": "0d6c1f0e-3c1a-4a8e-9d55-9e2b1f6b7a10", "customer_id": "c-123",
        "status": "PLACED", "currency": "EUR", "total": 125.5,
        "items": [{"sku": "a-1", "quantity": 2}, {"sku": "b-2", "quantity": 1}],
        "coupon": null, "placed_at": "2026-11-27T10:00:00Z"
    });
    let mut out = Vec::new();

    let one = CompiledRules::compile(&[rule(
        "total-minimum",
        Some("total"),
        Check::Minimum {
            value: 0.0,
            exclusive: false,
        },
    )])
    .unwrap();
    let simple = measure(1, || {
        one.evaluate_into(black_box(&event), &mut out);
        out.clear();
    });
    println!(
        "simple field rule (total >= 0):          {:>12.0} evaluations/s",
        simple
    );

    let natives = vec![
        rule("order_id-required", Some("order_id"), Check::Required),
        rule(
            "order_id-format",
            Some("order_id"),
            Check::Format {
                format: Format::Uuid,
            },
        ),
        rule("customer_id-required", Some("customer_id"), Check::Required),
        rule(
            "status-known",
            Some("status"),
            Check::Enum {
                values: vec![
                    json!("PLACED"),
                    json!("PAID"),
                    json!("SHIPPED"),
                    json!("CANCELLED"),
                ],
            },
        ),
        rule(
            "currency-pattern",
            Some("currency"),
            Check::Pattern {
                regex: "^[A-Z]{3}$".into(),
            },
        ),
        rule(
            "coupon-max-length",
            Some("coupon"),
            Check::MaxLength { value: 32 },
        ),
        rule(
            "placed_at-format",
            Some("placed_at"),
            Check::Format {
                format: Format::Timestamp,
            },
        ),
    ];
    let n = natives.len() as u64;
    let set = CompiledRules::compile(&natives).unwrap();
    let mixed = measure(n, || {
        set.evaluate_into(black_box(&event), &mut out);
        out.clear();
    });
    println!(
        "7 native field rules per event:          {:>12.0} rule evaluations/s ({:.0} events/s)",
        mixed,
        mixed / n as f64
    );

    let cel_rule = |name: &str, expr: &str| {
        CompiledRules::compile(&[rule(name, None, Check::Cel { expr: expr.into() })]).unwrap()
    };
    for (label, expr) in [
        (
            "CEL rule, native fast path:",
            "size(message.items) > 0 && message.total <= 10000.0",
        ),
        (
            "CEL rule, interpreted (2 members):",
            "message.items.exists(i, i.quantity > 1) && message.currency != 'XXX'",
        ),
        (
            "CEL rule, interpreted (whole message):",
            "message.items.exists(i, i.quantity > 1) && size(message) == 8",
        ),
    ] {
        let rules = cel_rule("order-ok", expr);
        let rate = measure(1, || {
            rules.evaluate_into(black_box(&event), &mut out);
            assert!(out.is_empty(), "{expr}: {out:?}");
        });
        println!("{label:<42}{rate:>12.0} evaluations/s");
    }
}
