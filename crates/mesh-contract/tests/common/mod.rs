//! Shared test helpers: files relative to a directory, the example governance, field rules.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use mesh_contract::SourceReader;
use mesh_contract::lint::{Governance, LintResult, lint};

pub struct Dir(pub PathBuf);

impl SourceReader for Dir {
    fn read(&self, path: &str) -> Result<String, String> {
        std::fs::read_to_string(self.0.join(path)).map_err(|e| e.to_string())
    }
}

pub fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/examples")
}

pub fn example_governance() -> Governance {
    let dir = examples();
    let p = std::fs::read_to_string(dir.join("policies.yaml")).unwrap();
    let d = std::fs::read_to_string(dir.join("domains.yaml")).unwrap();
    let (gov, findings) = Governance::load(Some(("policies.yaml", &p)), Some(("domains.yaml", &d)));
    assert!(findings.is_empty(), "{findings:#?}");
    gov
}

pub fn lint_file(path: &Path, gov: &Governance) -> LintResult {
    let text = std::fs::read_to_string(path).unwrap();
    let dir = Dir(path.parent().unwrap().to_path_buf());
    lint(&path.display().to_string(), &text, &dir, gov)
}

/// Lints YAML text whose schema files come from `files`.
pub fn lint_text(text: &str, files: &[(&str, &str)], gov: &Governance) -> LintResult {
    let mem = mesh_contract::MemoryFiles(
        files
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    );
    lint("c.yaml", text, &mem, gov)
}

/// The physical schema of [`BASE`] (`e.avsc`): documented fields, one optional.
pub const AVSC: &str = r#"{"type":"record","name":"E","fields":[
  {"name":"id","type":"string","doc":"Id."},
  {"name":"amount","type":"double","doc":"Amount."},
  {"name":"note","type":["null","string"],"default":null,"doc":"Note."}]}"#;

/// A valid contract; tests replace pieces of it.
pub const BASE: &str = "apiVersion: v3.1.0
kind: DataContract
id: shop.sales
name: sales
version: 1.0.0
status: active
domain: shop
description:
  purpose: Sales of the shop, one per checkout.
team:
  members:
    - username: owner@example.com
      role: owner
support:
  - channel: '#shop'
schema:
  - name: sales
    customProperties:
      - property: mesh.schema.file
        value: e.avsc
    properties:
      - name: id
        required: true
      - name: amount
        logicalTypeOptions: {minimum: 0}
slaProperties:
  - property: latency
    value: 5
    unit: m
customProperties:
  - property: mesh.runbook
    value: https://runbooks.example.com/shop
";

/// A rejecting, error-severity field rule.
pub fn field(
    name: &str,
    path: &str,
    check: mesh_contract::model::Check,
) -> mesh_contract::model::RuleSpec {
    mesh_contract::model::RuleSpec {
        name: name.into(),
        kind: mesh_contract::model::RuleKind::Field,
        field: Some(path.into()),
        check,
        severity: mesh_contract::diag::Severity::Error,
        action: mesh_contract::model::Action::Reject,
        description: None,
    }
}
