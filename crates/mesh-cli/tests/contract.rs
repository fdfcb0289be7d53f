//! `mesh contract lint|init|docs` as users run them: exit codes, compiler-style positions,
//! JSON for machines, and that what `init` and `docs` write is usable.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use common::MESH;

fn examples() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../schemas/examples")
}

fn mesh(args: &[&str]) -> Output {
    Command::new(MESH).args(args).output().expect("run mesh")
}

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Asserts that `mesh` exited 0, showing its stdout and stderr when not.
fn assert_success(o: &Output) {
    assert!(
        o.status.success(),
        "{}{}",
        stdout(o),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn lint_passes_the_examples() {
    let o = mesh(&["contract", "lint", examples().to_str().unwrap()]);
    assert_success(&o);
    assert!(
        stdout(&o).contains("3 contract(s) checked: 0 error(s), 0 warning(s)"),
        "{}",
        stdout(&o)
    );
}

#[test]
fn lint_reports_errors_with_positions_and_exits_1() {
    let dir = tempfile::tempdir().unwrap();
    let src = examples().join("orders");
    std::fs::copy(
        src.join("order-placed.avsc"),
        dir.path().join("order-placed.avsc"),
    )
    .unwrap();
    let text = std::fs::read_to_string(src.join("order-placed.odcs.yaml"))
        .unwrap()
        .replace("status: active", "stauts: active")
        .replace(
            "implementation: size(message.items) > 0",
            "implementation: size(message.itms) > 0",
        );
    let file = dir.path().join("order-placed.odcs.yaml");
    std::fs::write(&file, text).unwrap();
    let o = mesh(&[
        "contract",
        "lint",
        file.to_str().unwrap(),
        "--domains",
        examples().join("domains.yaml").to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    let f = file.display();
    assert!(out.contains(&format!("{f}:6:1: error[unknown-key]: unknown key `stauts` in an ODCS contract\n  = hint: did you mean `status`?")), "{out}");
    assert!(
        out.contains(&format!(
            "{f}:77:25: error[unknown-field]: rule reads `message.itms`"
        )),
        "{out}"
    );
    assert!(
        out.contains("error[missing-key]: the contract is missing `status`"),
        "{out}"
    );

    let o = mesh(&[
        "contract",
        "lint",
        "--format",
        "json",
        file.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON output");
    let d = v["diagnostics"].as_array().unwrap();
    assert!(
        d.iter().any(|d| d["code"] == "unknown-key"
            && d["line"] == 6
            && d["column"] == 1
            && d["hint"] == "did you mean `status`?"),
        "{v}"
    );
    assert_eq!(v["files"][0]["ok"], false);
    assert!(v["errors"].as_u64().unwrap() >= 2);
}

#[test]
fn lint_of_a_yaml_syntax_error_is_a_diagnostic_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x.odcs.yaml");
    std::fs::write(&file, "apiVersion: v3.1.0\nkind: [DataContract\nid: x\n").unwrap();
    let o = mesh(&["contract", "lint", file.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("error[yaml-syntax]"), "{}", stdout(&o));
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn init_scaffolds_contracts_that_lint_clean() {
    let dir = tempfile::tempdir().unwrap();
    for (template, product) in [
        ("event", "order-shipped"),
        ("entity", "warehouse"),
        ("snapshot", "stock-level"),
    ] {
        let o = mesh(&[
            "contract",
            "init",
            "--domain",
            "orders",
            "--product",
            product,
            "--template",
            template,
            "--dir",
            dir.path().to_str().unwrap(),
        ]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }
    let o = mesh(&["contract", "lint", dir.path().to_str().unwrap()]);
    assert!(o.status.success(), "{}", stdout(&o));
    assert!(
        stdout(&o).contains("3 contract(s) checked: 0 error(s), 0 warning(s)"),
        "{}",
        stdout(&o)
    );
    // Not over an existing file without --force; bad names are refused.
    let again = mesh(&[
        "contract",
        "init",
        "--domain",
        "orders",
        "--product",
        "warehouse",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(!again.status.success());
    let bad = mesh(&[
        "contract",
        "init",
        "--domain",
        "Orders",
        "--product",
        "x",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(String::from_utf8_lossy(&bad.stderr).contains("--domain `Orders`"));
}

#[test]
fn docs_writes_a_catalog_that_links_every_product() {
    let out = tempfile::tempdir().unwrap();
    let o = mesh(&[
        "contract",
        "docs",
        examples().to_str().unwrap(),
        "--out",
        out.path().to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", stdout(&o));
    let index = std::fs::read_to_string(out.path().join("index.md")).unwrap();
    for page in [
        "orders.order-placed.v1.md",
        "payments.payment-settled.v1.md",
        "customers.customer-profile.v1.md",
    ] {
        assert!(index.contains(&format!("]({page})")), "{index}");
        assert!(out.path().join(page).is_file());
    }
    let customers =
        std::fs::read_to_string(out.path().join("customers.customer-profile.v1.md")).unwrap();
    assert!(
        customers.contains("| `email` | string | yes | **pii** (PII) | Contact email address. |"),
        "{customers}"
    );
    assert!(
        customers.contains("| `adult-or-unknown` | (record) |"),
        "{customers}"
    );
    assert!(
        customers.contains("freshness: newest validated record at most **1h** old"),
        "{customers}"
    );
    let orders = std::fs::read_to_string(out.path().join("orders.order-placed.v1.md")).unwrap();
    assert!(
        orders.contains("\"order_id\": \"0d6c1f0e-3c1a-4a8e-9d55-9e2b1f6b7a10\""),
        "example event uses the examples: {orders}"
    );
    assert!(orders.contains("| status | **active** |"));
}

#[test]
fn mesh_up_applies_the_examples_and_provisions_what_apply_writes() {
    let data = tempfile::tempdir().unwrap();
    let up = common::Up::start(data.path());
    let banner = up.banner.join("\n");
    assert!(banner.contains("contracts  orders.order-placed/v1 (created), payments.payment-settled/v1 (created), customers.customer-profile/v1 (created)"), "{banner}");
    let (broker, registry) = (up.broker(), up.service("registry"));
    let target = [
        "--registry-url",
        registry.as_str(),
        "--bootstrap-server",
        broker.as_str(),
    ];

    // The examples are already applied: a second apply changes nothing and says so.
    let ex = examples();
    let mut args = vec!["contract", "apply", ex.to_str().unwrap()];
    args.extend(target);
    let o = mesh(&args);
    assert_success(&o);
    assert!(
        stdout(&o).contains("nothing changed: everything was already applied"),
        "{}",
        stdout(&o)
    );

    // A new product: its topics are created by `mesh up` (the embedded broker has no
    // CreateTopics) from the record `apply` writes.
    let dir = tempfile::tempdir().unwrap();
    let o = mesh(&[
        "contract",
        "init",
        "--domain",
        "orders",
        "--product",
        "order-shipped",
        "--dir",
        dir.path().to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let mut args = vec!["contract", "apply", dir.path().to_str().unwrap()];
    args.extend(target);
    let o = mesh(&args);
    let out = stdout(&o);
    assert_success(&o);
    for t in [
        "orders.order-shipped.raw",
        "orders.order-shipped.v0",
        "orders.order-shipped.dlq",
    ] {
        assert!(out.contains(&format!("created topic `{t}`")), "{out}");
    }
    up.stop("TERM", std::time::Duration::from_secs(20));
}
