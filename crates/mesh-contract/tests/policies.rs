//! Every governance policy, table-driven: a contract that fails it and one that passes it; and
//! the federated rules around them (domain policies only tighten, ownership by prefix, ACLs).

mod common;

use common::{AVSC, BASE, lint_text};
use mesh_contract::domains::Domains;
use mesh_contract::lint::Governance;
use mesh_contract::policy::PolicySet;

const AVSC_EMAIL: &str = r#"{"type":"record","name":"E","fields":[
  {"name":"id","type":"string","doc":"Id."},
  {"name":"amount","type":"double","doc":"Amount."},
  {"name":"email","type":"string","doc":"Contact."}]}"#;
const AVSC_NODOC: &str = r#"{"type":"record","name":"E","fields":[
  {"name":"id","type":"string","doc":"Id."},
  {"name":"amount","type":"double"}]}"#;

fn codes(text: &str, avsc: &str, gov: &Governance) -> Vec<String> {
    lint_text(text, &[("e.avsc", avsc)], gov)
        .diagnostics
        .iter()
        .map(|d| format!("{} {}", d.code, d))
        .collect()
}

struct Case {
    policy: &'static str,
    failing: String,
    failing_avsc: &'static str,
    passing: String,
    passing_avsc: &'static str,
}

fn case(policy: &'static str, failing: String, passing: String) -> Case {
    Case {
        policy,
        failing,
        failing_avsc: AVSC,
        passing,
        passing_avsc: AVSC,
    }
}

fn cases() -> Vec<Case> {
    let deprecated = BASE.replace("status: active", "status: deprecated");
    vec![
        case("naming", BASE.replace("id: shop.sales", "id: sales-v1"), BASE.to_owned()),
        case("owner-present", BASE.replace("team:\n  members:\n    - username: owner@example.com\n      role: owner\n", ""), BASE.to_owned()),
        case("support-present", BASE.replace("support:\n  - channel: '#shop'\n", ""), BASE.to_owned()),
        case("description-present", BASE.replace("purpose: Sales of the shop, one per checkout.", "purpose: Sales"), BASE.to_owned()),
        Case { policy: "fields-documented", failing: BASE.to_owned(), failing_avsc: AVSC_NODOC,
            passing: BASE.replace("logicalTypeOptions: {minimum: 0}", "logicalTypeOptions: {minimum: 0}\n        description: Amount in EUR."), passing_avsc: AVSC_NODOC },
        Case { policy: "pii-classified", failing: BASE.to_owned(), failing_avsc: AVSC_EMAIL,
            passing: BASE.replace("slaProperties:", "      - name: email\n        classification: pii\nslaProperties:"), passing_avsc: AVSC_EMAIL },
        case("freshness-declared", BASE.replace("slaProperties:\n  - property: latency\n    value: 5\n    unit: m\n", ""),
            BASE.replace("slaProperties:\n  - property: latency\n    value: 5\n    unit: m\n", "").replace("status: active", "status: draft")),
        case("compatibility-backward", BASE.replace("customProperties:\n  - property: mesh.runbook", "customProperties:\n  - property: mesh.compatibility\n    value: FORWARD\n  - property: mesh.runbook"),
            BASE.replace("customProperties:\n  - property: mesh.runbook", "customProperties:\n  - property: mesh.compatibility\n    value: FULL_TRANSITIVE\n  - property: mesh.runbook")),
        case("deprecation-complete", deprecated.clone(),
            deprecated.replace("customProperties:\n  - property: mesh.runbook", "customProperties:\n  - property: mesh.sunset\n    value: 2027-06-30\n  - property: mesh.replacedBy\n    value: shop.sales/v2\n  - property: mesh.runbook")),
        case("runbook-present", BASE.replace("customProperties:\n  - property: mesh.runbook\n    value: https://runbooks.example.com/shop\n", ""), BASE.to_owned()),
    ]
}

#[test]
fn every_builtin_policy_has_a_failing_and_a_passing_example() {
    let gov = Governance::default();
    let table = cases();
    let builtin: Vec<String> = PolicySet::builtin().policies.into_keys().collect();
    let covered: Vec<&str> = table.iter().map(|c| c.policy).collect();
    for id in &builtin {
        assert!(
            covered.contains(&id.as_str()),
            "policy `{id}` has no test case"
        );
    }
    for c in &table {
        let code = format!("policy:{} ", c.policy);
        let fail = codes(&c.failing, c.failing_avsc, &gov);
        assert!(
            fail.iter().any(|d| d.starts_with(&code)),
            "`{}` did not fire:\n{}",
            c.policy,
            fail.join("\n")
        );
        let pass = codes(&c.passing, c.passing_avsc, &gov);
        assert!(
            pass.is_empty(),
            "`{}` passing example has findings:\n{}",
            c.policy,
            pass.join("\n")
        );
    }
}

#[test]
fn policy_findings_point_at_the_key_and_carry_the_hint() {
    let text = BASE.replace("support:\n  - channel: '#shop'\n", "");
    let r = lint_text(&text, &[("e.avsc", AVSC)], &Governance::default());
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == "policy:support-present")
        .unwrap();
    assert_eq!(
        (d.line, d.column),
        (1, 1),
        "no `support` key: the document start"
    );
    let text = BASE.replace(
        "purpose: Sales of the shop, one per checkout.",
        "purpose: Sales",
    );
    let r = lint_text(&text, &[("e.avsc", AVSC)], &Governance::default());
    let d = r
        .diagnostics
        .iter()
        .find(|d| d.code == "policy:description-present")
        .unwrap();
    assert_eq!((d.line, d.column), (8, 1));
    assert!(d.hint.as_deref().unwrap().contains("purpose"));
}

#[test]
fn organisations_disable_retune_and_add_policies() {
    let org = "policies:
  - id: runbook-present
    enabled: false
  - id: fields-documented
    severity: error
  - id: amount-positive-rule
    description: products with an amount field validate it
    expr: \"!contract.fields.exists(f, f.path == 'amount') || contract.rules.exists(r, r.field == 'amount')\"
";
    let (gov, findings) = Governance::load(Some(("org.yaml", org)), None);
    assert!(findings.is_empty(), "{findings:?}");
    let no_runbook = BASE.replace("customProperties:\n  - property: mesh.runbook\n    value: https://runbooks.example.com/shop\n", "");
    assert!(codes(&no_runbook, AVSC, &gov).is_empty());
    let no_rule = BASE.replace("        logicalTypeOptions: {minimum: 0}\n", "");
    let d = codes(&no_rule, AVSC, &gov);
    assert!(
        d.iter()
            .any(|x| x.starts_with("policy:amount-positive-rule ")),
        "{d:?}"
    );
    let d = codes(BASE, AVSC_NODOC, &gov);
    assert!(
        d.iter()
            .any(|x| x.starts_with("policy:fields-documented ") && x.contains("error[")),
        "{d:?}"
    );
}

#[test]
fn a_bad_policy_expression_is_a_diagnostic_in_the_policies_file() {
    let (_, findings) = Governance::load(
        Some(("org.yaml", "policies:\n  - id: x\n    expr: contract.(\n")),
        None,
    );
    assert_eq!(findings[0].code, "cel-compile");
    assert_eq!(
        (findings[0].file.as_str(), findings[0].line),
        ("org.yaml", 3)
    );
}

const DOMAINS: &str = "domains:
  shop:
    owners: [owner@example.com]
    principals: ['User:shop-svc']
    topicPrefix: shop.
    policies:
      - id: runbook-present
        severity: error
  shop-sales:
    owners: [other@example.com]
    topicPrefix: shop.sales.
";

#[test]
fn domain_policies_only_tighten() {
    let loosen = "domains:\n  shop:\n    topicPrefix: shop.\n    policies:\n      - id: owner-present\n        enabled: false\n      - id: naming\n        severity: warning\n";
    let (_, findings) = Governance::load(None, Some(("domains.yaml", loosen)));
    let msgs: Vec<String> = findings.iter().map(|d| d.to_string()).collect();
    assert_eq!(findings.len(), 2, "{msgs:#?}");
    assert!(
        msgs[0].starts_with(
            "domains.yaml:5:13: error[policy-file]: domain policy `owner-present` would loosen"
        ),
        "{msgs:#?}"
    );

    let tighten = "domains:\n  shop:\n    topicPrefix: shop.\n    policies:\n      - id: runbook-present\n        severity: error\n";
    let (gov, findings) = Governance::load(None, Some(("domains.yaml", tighten)));
    assert!(findings.is_empty());
    let no_runbook = BASE.replace("customProperties:\n  - property: mesh.runbook\n    value: https://runbooks.example.com/shop\n", "");
    let d = codes(&no_runbook, AVSC, &gov);
    assert!(
        d.iter()
            .any(|x| x.starts_with("policy:runbook-present ") && x.contains("error[")),
        "{d:?}"
    );
}

#[test]
fn products_cannot_claim_another_domains_topics() {
    let (domains, findings) = Domains::parse("domains.yaml", DOMAINS);
    // Overlapping prefixes are themselves an error in the domains file.
    assert!(
        findings
            .items
            .iter()
            .any(|d| d.code == "ownership" && d.message.contains("lies inside")),
        "{:?}",
        findings.items
    );
    let gov = Governance {
        domains: Some(domains),
        ..Governance::default()
    };
    let d = codes(BASE, AVSC, &gov);
    assert!(
        d.iter()
            .any(|x| x.starts_with("ownership ") && x.contains("belongs to domain `shop-sales`")),
        "{d:?}"
    );

    let (domains, _) = Domains::parse(
        "domains.yaml",
        "domains:\n  retail:\n    topicPrefix: retail.\n",
    );
    let gov = Governance {
        domains: Some(domains),
        ..Governance::default()
    };
    let d = codes(BASE, AVSC, &gov);
    assert!(
        d.iter().any(|x| x.starts_with("ownership ")
            && x.contains("domain `shop` is not in the domains file")),
        "{d:?}"
    );
}

#[test]
fn acls_are_prefixed_per_principal() {
    let (domains, _) = Domains::parse("domains.yaml", DOMAINS);
    let acls = domains.acls("shop");
    assert_eq!(acls.len(), 8);
    assert!(acls.iter().all(|a| a.principal == "User:shop-svc"
        && a.pattern_type == "PREFIXED"
        && a.resource_name == "shop."));
    assert!(
        acls.iter()
            .any(|a| a.resource_type == "TOPIC" && a.operation == "WRITE")
    );
    assert!(
        acls.iter()
            .any(|a| a.resource_type == "TRANSACTIONAL_ID" && a.operation == "WRITE")
    );
    assert!(domains.acls("nope").is_empty());
}
