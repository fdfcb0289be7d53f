//! `mesh contract init`: a contract and schema that lint clean, to start from.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use clap::ValueEnum;

use super::{InitArgs, io_err};
use crate::CliError;

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Template {
    /// Facts that happened (append-only).
    Event,
    /// The latest state per key (compacted; tombstones delete).
    Entity,
    /// Periodic full snapshots.
    Snapshot,
}

pub fn run(args: &InitArgs, out: &mut dyn Write) -> Result<ExitCode, CliError> {
    for (what, v) in [("--domain", &args.domain), ("--product", &args.product)] {
        if !mesh_contract::parse::valid_name(v) {
            return Err(CliError::Contract(format!(
                "{what} `{v}`: use lower-case letters, digits and `-`, starting with a letter"
            )));
        }
    }
    let (contract, schema) = render(&args.domain, &args.product, args.template);
    std::fs::create_dir_all(&args.dir).map_err(io_err)?;
    let cpath = args.dir.join(format!("{}.odcs.yaml", args.product));
    let spath = args.dir.join(format!("{}.avsc", args.product));
    for p in [&cpath, &spath] {
        if p.exists() && !args.force {
            return Err(CliError::Contract(format!(
                "{} exists (pass --force to overwrite)",
                p.display()
            )));
        }
    }
    write(&cpath, &contract)?;
    write(&spath, &schema)?;
    writeln!(out, "wrote {} and {}", cpath.display(), spath.display()).map_err(io_err)?;
    writeln!(
        out,
        "next: edit the schema and properties, then `mesh contract lint {}`",
        cpath.display()
    )
    .map_err(io_err)?;
    Ok(ExitCode::SUCCESS)
}

fn write(p: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(p, text).map_err(|e| CliError::Contract(format!("{}: {e}", p.display())))
}

fn pascal(s: &str) -> String {
    s.split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// (contract YAML, Avro schema) for a template.
pub fn render(domain: &str, product: &str, template: Template) -> (String, String) {
    let record = pascal(product);
    let ns = format!("com.example.{}", domain.replace('-', "_"));
    let (purpose, fields, properties, sla, extra) = match template {
        Template::Event => (
            "One event per occurrence; append-only.",
            r#"    {"name": "event_id", "type": "string", "doc": "Unique id of the event (UUID)."},
    {"name": "subject_id", "type": "string", "doc": "The entity this event is about."},
    {"name": "occurred_at", "type": "string", "doc": "When it happened (RFC 3339)."}"#,
            "      - name: event_id
        logicalType: string
        required: true
        logicalTypeOptions: {format: uuid}
        examples: [\"0d6c1f0e-3c1a-4a8e-9d55-9e2b1f6b7a10\"]
      - name: subject_id
        logicalType: string
        required: true
      - name: occurred_at
        logicalType: timestamp
        required: true
        logicalTypeOptions: {format: date-time}
",
            ("5", "m"),
            "",
        ),
        Template::Entity => (
            "The latest state of every entity, keyed by id; deletions are tombstones.",
            r#"    {"name": "id", "type": "string", "doc": "Entity id (also the record key)."},
    {"name": "name", "type": "string", "doc": "Display name."},
    {"name": "updated_at", "type": {"type": "long", "logicalType": "timestamp-millis"}, "doc": "Last change."}"#,
            "      - name: id
        logicalType: string
        required: true
        primaryKey: true
      - name: name
        logicalType: string
        logicalTypeOptions: {minLength: 1, maxLength: 200}
      - name: updated_at
        logicalType: timestamp
        required: true
",
            ("1", "h"),
            "  - property: mesh.tombstones
    value: forward
  - property: mesh.key.required
    value: true
  - property: mesh.topic.cleanup.policy
    value: compact
",
        ),
        Template::Snapshot => (
            "A full snapshot at a fixed interval; each record is one row of the snapshot.",
            r#"    {"name": "snapshot_id", "type": "string", "doc": "The snapshot this row belongs to."},
    {"name": "taken_at", "type": "string", "doc": "When the snapshot was taken (RFC 3339)."},
    {"name": "row_count", "type": "long", "doc": "Rows in the whole snapshot."}"#,
            "      - name: snapshot_id
        logicalType: string
        required: true
      - name: taken_at
        logicalType: timestamp
        required: true
        logicalTypeOptions: {format: date-time}
      - name: row_count
        logicalType: integer
        logicalTypeOptions: {minimum: 0}
",
            ("1", "d"),
            "",
        ),
    };
    let schema = format!(
        "{{\n  \"type\": \"record\",\n  \"name\": \"{record}\",\n  \"namespace\": \"{ns}\",\n  \"doc\": \"{purpose}\",\n  \"fields\": [\n{fields}\n  ]\n}}\n"
    );
    let contract = format!(
        "apiVersion: v3.1.0
kind: DataContract
id: {domain}.{product}
name: {product}
version: 0.1.0
status: draft
domain: {domain}
description:
  purpose: {purpose}
team:
  name: {domain}-team
  members:
    - username: {domain}-team@example.com
      role: owner
support:
  - channel: \"#{domain}-data\"
    tool: slack
servers:
  - server: local
    type: kafka
    host: localhost:9092
    format: avro
schema:
  - name: {product}
    physicalType: topic
    physicalName: {domain}.{product}.raw
    customProperties:
      - property: mesh.schema.file
        value: {product}.avsc
    properties:
{properties}slaProperties:
  - property: latency
    value: {}
    unit: {}
customProperties:
  - property: mesh.runbook
    value: https://runbooks.example.com/{domain}/{product}
{extra}",
        sla.0, sla.1
    );
    (contract, schema)
}
