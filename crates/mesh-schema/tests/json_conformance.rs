//! Replays every case of Confluent's JSON Schema difference files
//! (`shared/conformance/confluent-schema-diff/json-schema-provider--*.json`, read at test time):
//! the BACKWARD verdict of `update_schema` after `original_schema` must be `compatible` (and
//! `compatible_lenient` where given), and the differences found must be exactly `changes`
//! (type and JSON path).

use std::collections::BTreeSet;
use std::path::PathBuf;

use mesh_schema::json::{self, CompatibilityPolicy, JsonSchema, SchemaReference, incompatible};
use serde_json::Value;

/// Cases whose expectation we knowingly do not meet: (file, description, why). Keep it tiny.
const EXCEPTIONS: &[(&str, &str, &str)] = &[];

fn folder() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/conformance/confluent-schema-diff")
}

fn references(case: &Value, key: &str) -> Vec<SchemaReference> {
    case.get(key)
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .map(|r| SchemaReference {
            name: r["name"].as_str().unwrap_or_default().to_owned(),
            schema: match &r["schema"] {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            },
        })
        .collect()
}

/// Replays one case; `Err` says what differs.
fn replay(case: &Value) -> Result<(), String> {
    let parse = |key: &str, refs: &str| {
        JsonSchema::parse_with_references(&case[key].to_string(), &references(case, refs))
            .map_err(|e| format!("{key}: {e}"))
    };
    let original = parse("original_schema", "original_references")?;
    let update = parse("update_schema", "update_references")?;
    let found = json::diff(&original, &update);
    let got: BTreeSet<String> = found.iter().map(ToString::to_string).collect();
    let want: BTreeSet<String> = case["changes"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .map(str::to_owned)
        .collect();
    let compatible = incompatible(&found, CompatibilityPolicy::Strict).is_empty();
    let want_compatible = case["compatible"].as_bool().unwrap_or(false);
    let lenient = incompatible(&found, CompatibilityPolicy::Lenient).is_empty();
    let want_lenient = case["compatible_lenient"]
        .as_bool()
        .unwrap_or(want_compatible);
    if got != want || compatible != want_compatible || lenient != want_lenient {
        return Err(format!(
            "changes: got {got:?}, want {want:?}; compatible: got {compatible}, want \
             {want_compatible}; lenient: got {lenient}, want {want_lenient}"
        ));
    }
    Ok(())
}

#[test]
fn confluent_json_schema_diff_cases() {
    let dir = folder();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| {
            let ci = std::env::var_os("CI").is_some();
            panic!(
                "conformance folder {} is missing (CI={ci}): {e}",
                dir.display()
            )
        })
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("json-schema-provider--") && n.ends_with(".json"))
        })
        .collect();
    files.sort();
    assert!(
        !files.is_empty(),
        "no json-schema-provider--*.json in {}",
        dir.display()
    );

    let (mut passed, mut total, mut excepted) = (0, 0, 0);
    let mut failures = Vec::new();
    let mut per_file = Vec::new();
    for file in &files {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default()
            .to_owned();
        let text = std::fs::read_to_string(file).expect("read case file");
        let cases: Vec<Value> = json5::from_str(&text).expect("case file is lenient JSON");
        let mut file_passed = 0;
        for (i, case) in cases.iter().enumerate() {
            total += 1;
            let description = case["description"].as_str().unwrap_or_default();
            let exception = EXCEPTIONS
                .iter()
                .find(|(f, d, _)| *f == name && *d == description);
            match (replay(case), exception) {
                (Ok(()), _) => {
                    passed += 1;
                    file_passed += 1;
                }
                (Err(_), Some(_)) => excepted += 1,
                (Err(why), None) => failures.push(format!("{name}[{i}] {description:?}: {why}")),
            }
        }
        per_file.push(format!("{name}: {file_passed}/{}", cases.len()));
    }
    assert!(
        failures.is_empty(),
        "{passed}/{total} cases pass ({excepted} excepted; {}); failures:\n{}",
        per_file.join(", "),
        failures.join("\n")
    );
    // Report the count on success too (visible with --nocapture).
    eprintln!(
        "{passed}/{total} Confluent JSON Schema diff cases pass; {}",
        per_file.join(", ")
    );
}
