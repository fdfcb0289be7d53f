//! Rule semantics on decoded events, the Confluent projection and breaking-change detection.

mod common;

use common::field;

use mesh_contract::diag::Severity;
use mesh_contract::diff::{diff, is_breaking};
use mesh_contract::lint::Governance;
use mesh_contract::model::{Action, Check, Format, RuleKind, RuleSpec};
use mesh_contract::project;
use mesh_contract::{CompiledRules, MemoryFiles};
use serde_json::{Value, json};

fn failures(rule: RuleSpec, event: Value) -> Vec<String> {
    CompiledRules::compile(&[rule])
        .unwrap()
        .evaluate(&event)
        .into_iter()
        .map(|v| format!("{} {} {}", v.rule, v.path, v.message))
        .collect()
}

#[test]
fn native_checks_pass_and_fail_as_documented() {
    let cases: Vec<(Check, Value, bool)> = vec![
        (Check::Required, json!({"a": 1}), true),
        (Check::Required, json!({"a": null}), false),
        (Check::Required, json!({}), false),
        (
            Check::Minimum {
                value: 0.0,
                exclusive: false,
            },
            json!({"a": 0}),
            true,
        ),
        (
            Check::Minimum {
                value: 0.0,
                exclusive: true,
            },
            json!({"a": 0}),
            false,
        ),
        (
            Check::Minimum {
                value: 0.0,
                exclusive: false,
            },
            json!({"a": "1"}),
            false,
        ),
        (
            Check::Minimum {
                value: 0.0,
                exclusive: false,
            },
            json!({}),
            true,
        ),
        (
            Check::Maximum {
                value: 10.0,
                exclusive: false,
            },
            json!({"a": 10.0}),
            true,
        ),
        (
            Check::Maximum {
                value: 10.0,
                exclusive: true,
            },
            json!({"a": 10}),
            false,
        ),
        (Check::MinLength { value: 2 }, json!({"a": "é"}), false),
        (Check::MinLength { value: 2 }, json!({"a": [1, 2]}), true),
        (Check::MaxLength { value: 2 }, json!({"a": "abc"}), false),
        (
            Check::Pattern {
                regex: "^[A-Z]{3}$".into(),
            },
            json!({"a": "EUR"}),
            true,
        ),
        (
            Check::Pattern {
                regex: "^[A-Z]{3}$".into(),
            },
            json!({"a": "eur"}),
            false,
        ),
        (
            Check::Enum {
                values: vec![json!("A"), json!(1)],
            },
            json!({"a": 1.0}),
            true,
        ),
        (
            Check::Enum {
                values: vec![json!("A"), json!(1)],
            },
            json!({"a": "B"}),
            false,
        ),
        (
            Check::Format {
                format: Format::Email,
            },
            json!({"a": "x@example.com"}),
            true,
        ),
        (
            Check::Format {
                format: Format::Email,
            },
            json!({"a": "x@@example"}),
            false,
        ),
        (
            Check::Format {
                format: Format::Uuid,
            },
            json!({"a": "0d6c1f0e-3c1a-4a8e-9d55-9e2b1f6b7a10"}),
            true,
        ),
        (
            Check::Format {
                format: Format::Uuid,
            },
            json!({"a": "0d6c1f0e3c1a4a8e9d559e2b1f6b7a10"}),
            false,
        ),
        (
            Check::Format {
                format: Format::Timestamp,
            },
            json!({"a": "2026-11-27T10:00:00.123+01:00"}),
            true,
        ),
        (
            Check::Format {
                format: Format::Timestamp,
            },
            json!({"a": 1764237600000_i64}),
            true,
        ),
        (
            Check::Format {
                format: Format::Timestamp,
            },
            json!({"a": "2026-11-27 25:00:00Z"}),
            false,
        ),
        (
            Check::Format {
                format: Format::Date,
            },
            json!({"a": "2026-13-01"}),
            false,
        ),
        (
            Check::Format {
                format: Format::Uri,
            },
            json!({"a": "https://x"}),
            true,
        ),
        (
            Check::Cel {
                expr: "value % 2 == 0".into(),
            },
            json!({"a": 4}),
            true,
        ),
        (
            Check::Cel {
                expr: "value % 2 == 0".into(),
            },
            json!({"a": 3}),
            false,
        ),
    ];
    for (check, event, ok) in cases {
        let f = failures(field("r", "a", check.clone()), event.clone());
        assert_eq!(f.is_empty(), ok, "{check:?} on {event}: {f:?}");
    }
}

#[test]
fn nested_paths_and_every_violation_are_reported() {
    let rules = vec![
        field("city", "address.city", Check::Required),
        field(
            "zip",
            "address.zip",
            Check::Pattern {
                regex: "^[0-9]{5}$".into(),
            },
        ),
        RuleSpec {
            name: "consistent".into(),
            kind: RuleKind::Record,
            field: None,
            check: Check::Cel {
                expr: "message.address.zip != '00000'".into(),
            },
            severity: Severity::Warning,
            action: Action::Warn,
            description: None,
        },
    ];
    let compiled = CompiledRules::compile(&rules).unwrap();
    let v = compiled.evaluate(&json!({"address": {"zip": "00000"}}));
    let got: Vec<(&str, &str, Action)> = v
        .iter()
        .map(|v| (v.rule.as_str(), v.path.as_str(), v.action))
        .collect();
    assert_eq!(
        got,
        vec![
            ("city", "address.city", Action::Reject),
            ("consistent", "", Action::Warn)
        ]
    );
    assert_eq!(v[0].message, "is required");
    let v = compiled.evaluate(&json!({"address": {"city": "Paris", "zip": "7500"}}));
    assert_eq!(v.len(), 1);
    assert_eq!(
        v[0].message, "must match /^[0-9]{5}$/",
        "messages never carry the value"
    );
}

#[test]
fn a_cel_rule_on_a_missing_field_fails_instead_of_erroring_out() {
    let rule = RuleSpec {
        name: "r".into(),
        kind: RuleKind::Record,
        field: None,
        check: Check::Cel {
            expr: "message.total > 0.0".into(),
        },
        severity: Severity::Error,
        action: Action::Reject,
        description: None,
    };
    let v = CompiledRules::compile(&[rule])
        .unwrap()
        .evaluate(&json!({}));
    assert_eq!(v.len(), 1);
    assert!(
        v[0].message.starts_with("condition failed"),
        "{}",
        v[0].message
    );
}

#[test]
fn broken_rules_do_not_compile() {
    let err = CompiledRules::compile(&[field("bad", "a", Check::Pattern { regex: "(".into() })])
        .unwrap_err();
    assert!(err.to_string().starts_with("rule `bad`:"), "{err}");
}

const AVSC: &str = r#"{"type":"record","name":"E","fields":[
  {"name":"id","type":"string","doc":"Id."},
  {"name":"amount","type":"double","doc":"Amount."}]}"#;

fn contract(version: &str, extra_property: &str, sla: &str) -> mesh_contract::ResolvedContract {
    let text = format!(
        "apiVersion: v3.1.0
kind: DataContract
id: shop.sales
name: sales
version: {version}
status: active
domain: shop
schema:
  - name: sales
    customProperties:
      - property: mesh.schema.file
        value: e.avsc
    properties:
      - name: id
        required: true
{extra_property}
slaProperties:
  - property: latency
    value: {sla}
    unit: m
"
    );
    let files = MemoryFiles([("e.avsc".to_owned(), AVSC.to_owned())].into());
    let r = mesh_contract::lint::lint("c.yaml", &text, &files, &Governance::default());
    assert!(
        !r.diagnostics
            .iter()
            .any(|d| d.severity == Severity::Error && !d.code.starts_with("policy:")),
        "{:#?}",
        r.diagnostics
    );
    r.contract.unwrap()
}

#[test]
fn projection_registers_metadata_and_rules_with_on_failure_none() {
    let c = contract(
        "1.2.0",
        "      - name: amount\n        logicalTypeOptions: {minimum: 0}",
        "5",
    );
    let body = project::registration(&c);
    assert_eq!(
        body["metadata"]["properties"]["application.major.version"],
        "1"
    );
    assert_eq!(body["metadata"]["properties"]["domain"], "shop");
    assert_eq!(body["metadata"]["properties"]["product"], "sales");
    let rules = body["ruleSet"]["domainRules"].as_array().unwrap();
    assert_eq!(rules.len(), 2);
    assert_eq!(rules[1]["type"], "CEL_FIELD");
    assert_eq!(
        rules[1]["expr"],
        "name == \"amount\" ; double(value) >= 0.0"
    );
    assert!(
        rules
            .iter()
            .all(|r| r["onFailure"] == "NONE" && r["mode"] == "WRITE" && r["kind"] == "CONDITION")
    );
    assert!(
        body.get("schemaType").is_none(),
        "AVRO is the default schemaType"
    );
    assert_eq!(
        project::subject_config(&c),
        json!({"compatibility": "BACKWARD", "compatibilityGroup": "application.major.version"})
    );
    let topics: Vec<String> = project::topics(&c).into_iter().map(|t| t.name).collect();
    assert_eq!(
        topics,
        vec!["shop.sales.raw", "shop.sales.v1", "shop.sales.dlq"]
    );
    // Every projected CEL expression is valid CEL.
    for r in rules {
        let expr = r["expr"].as_str().unwrap();
        let body = expr.split_once(" ; ").map_or(expr, |(_, b)| b);
        cel::Program::compile(body).unwrap_or_else(|e| panic!("{expr}: {e}"));
    }
}

#[test]
fn diff_flags_breaking_changes_only() {
    let v1 = contract(
        "1.0.0",
        "      - name: amount\n        logicalTypeOptions: {minimum: 0}",
        "5",
    );
    assert!(diff(&v1, &v1).is_empty());
    let looser_rule = contract(
        "1.1.0",
        "      - name: amount\n        logicalTypeOptions: {minimum: -10}",
        "5",
    );
    let d = diff(&v1, &looser_rule);
    assert!(!is_breaking(&d), "{d:?}");
    let tighter_rule = contract(
        "1.1.0",
        "      - name: amount\n        logicalTypeOptions: {minimum: 10}",
        "5",
    );
    let d = diff(&v1, &tighter_rule);
    assert!(
        d.iter()
            .any(|c| c.breaking && c.what == "rule `amount-minimum` tightened: minimum 0 → 10"),
        "{d:?}"
    );
    let looser_sla = contract(
        "1.1.0",
        "      - name: amount\n        logicalTypeOptions: {minimum: 0}",
        "30",
    );
    let d = diff(&v1, &looser_sla);
    assert!(
        d.iter()
            .any(|c| c.breaking && c.what == "freshness SLA loosened from 5m to 30m"),
        "{d:?}"
    );
    let now_required = contract(
        "1.1.0",
        "      - name: amount\n        required: true\n        logicalTypeOptions: {minimum: 0}",
        "5",
    );
    let d = diff(&v1, &now_required);
    assert!(
        d.iter()
            .any(|c| c.breaking && c.what.starts_with("new rejecting rule `amount-required`")),
        "{d:?}"
    );
}
