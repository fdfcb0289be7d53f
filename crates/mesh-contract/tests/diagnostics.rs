//! Bad input: every problem is a diagnostic at the exact place, with a code and a hint; nothing
//! panics.

mod common;

use common::{AVSC, BASE, lint_text};
use mesh_contract::lint::Governance;

fn diags(text: &str) -> Vec<String> {
    lint_text(text, &[("e.avsc", AVSC)], &Governance::default())
        .diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect()
}

fn assert_one(text: &str, expected_prefix: &str, hint_contains: &str) {
    let d = diags(text);
    assert!(
        d.iter()
            .any(|x| x.starts_with(expected_prefix) && x.contains(hint_contains)),
        "expected `{expected_prefix}` … `{hint_contains}` in:\n{}",
        d.join("\n")
    );
}

/// [`BASE`] with a CEL quality rule `expr` on its schema.
fn with_cel_rule(expr: &str) -> String {
    BASE.replace(
        "slaProperties:",
        &format!(
            "    quality:\n      - type: custom\n        engine: cel\n        implementation: {expr}\nslaProperties:"
        ),
    )
}

#[test]
fn base_contract_is_clean() {
    assert_eq!(diags(BASE), Vec::<String>::new());
}

#[test]
fn yaml_syntax_error_points_at_the_line() {
    let text = BASE.replace("  purpose: Sales", "  purpose: [Sales");
    assert_one(&text, "c.yaml:10:", "yaml-syntax");
}

#[test]
fn unknown_key_suggests_the_right_one() {
    let text = BASE.replace("status: active", "stauts: active");
    assert_one(
        &text,
        "c.yaml:6:1: error[unknown-key]: unknown key `stauts`",
        "did you mean `status`?",
    );
    let text = BASE.replace(
        "logicalTypeOptions: {minimum: 0}",
        "logicalTypeOptions: {minimun: 0}",
    );
    assert_one(
        &text,
        "c.yaml:25:30: error[unknown-key]",
        "did you mean `minimum`?",
    );
    let text = BASE.replace("property: mesh.runbook", "property: mesh.runbok");
    assert_one(
        &text,
        "c.yaml:31:15: error[unknown-key]: unknown mesh custom property",
        "did you mean `mesh.runbook`?",
    );
}

#[test]
fn type_errors_name_the_expected_type() {
    let text = BASE.replace("required: true", "required: yes please");
    assert_one(
        &text,
        "c.yaml:23:19: error[type]: `required` must be true or false, found string",
        "",
    );
    let text = BASE.replace(
        "- name: id\n        required: true",
        "- name: id\n        required: true\n        logicalType: integer",
    );
    assert_one(
        &text,
        "c.yaml:24:22: error[type]: logicalType `integer` does not fit the schema's `string` for `id`",
        "ODCS logical types",
    );
    let text = BASE.replace("    value: 5\n", "    value: [5]\n");
    assert_one(&text, "c.yaml:", "latency needs a positive `value`");
}

#[test]
fn missing_schema_file_points_at_the_reference() {
    let text = BASE.replace("value: e.avsc", "value: missing.avsc");
    assert_one(
        &text,
        "c.yaml:20:16: error[schema-file]: cannot read schema file `missing.avsc`",
        "relative to the contract",
    );
}

#[test]
fn invalid_physical_schema_is_reported() {
    let d = lint_text(
        BASE,
        &[(
            "e.avsc",
            r#"{"type":"record","name":"E","fields":[{"name":"x","type":"nope"}]}"#,
        )],
        &Governance::default(),
    );
    assert!(
        d.diagnostics
            .iter()
            .any(|x| x.code == "schema-invalid" && x.line == 20),
        "{:#?}",
        d.diagnostics
    );
}

#[test]
fn cel_that_does_not_compile_is_an_error_at_the_expression() {
    let text = with_cel_rule("message.amount >>= 0");
    assert_one(
        &text,
        "c.yaml:29:25: error[cel-compile]: CEL does not compile",
        "message.total >= 0",
    );
}

#[test]
fn rules_on_fields_that_do_not_exist_are_errors() {
    let text = BASE.replace("- name: amount", "- name: amount_eur");
    assert_one(
        &text,
        "c.yaml:24:15: error[unknown-field]: property `amount_eur` is not a field",
        "did you mean `amount`?",
    );
    let text = with_cel_rule("message.amunt > 0.0");
    assert_one(
        &text,
        "c.yaml:29:25: error[unknown-field]: rule reads `message.amunt`",
        "did you mean `message.amount`?",
    );
}

#[test]
fn options_that_do_not_fit_the_field_type_are_errors() {
    let text = BASE.replace(
        "- name: id\n        required: true",
        "- name: id\n        required: true\n        logicalTypeOptions: {maximum: 3}",
    );
    assert_one(
        &text,
        "c.yaml:24:30: error[invalid-rule]: `maximum` on `id` needs a number",
        "",
    );
    let text = BASE.replace("{minimum: 0}", "{minimum: 0, pattern: '('}");
    assert!(diags(&text).iter().any(|d| d.contains("invalid-rule")));
}

#[test]
fn bad_values_are_explained() {
    let text = BASE.replace("version: 1.0.0", "version: one");
    assert_one(
        &text,
        "c.yaml:5:10: error[invalid-value]: version `one` is not a semantic version",
        "MAJOR.MINOR.PATCH",
    );
    let text = BASE.replace("status: active", "status: live");
    assert_one(
        &text,
        "c.yaml:6:9: error[invalid-value]",
        "draft, active, deprecated or retired",
    );
    let text = BASE.replace("name: sales\nversion", "name: Sales_Events\nversion");
    assert_one(&text, "c.yaml:4:7: error[invalid-value]", "lower-case");
}

#[test]
fn garbage_never_panics() {
    for text in [
        "",
        "- a\n- b",
        "42",
        "apiVersion: [",
        ":\n  :\n",
        "schema: 3",
        "schema: [3]",
        "team: 5",
        "customProperties: {a: b}",
        "slaProperties: [{property: latency, value: x, unit: parsecs}]",
        "\t\tbad: tab",
        "a: *undefined_alias",
    ] {
        let _ = diags(text);
    }
}
