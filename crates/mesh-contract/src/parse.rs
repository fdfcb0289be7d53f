//! ODCS v3 YAML → [`ResolvedContract`], with a diagnostic for everything wrong.
//!
//! Keys are checked against the ODCS v3.1 vocabulary (so a typo is an `unknown-key` error with a
//! suggestion rather than a silently ignored setting); mesh settings live in `customProperties`
//! under `mesh.` names ([`crate::extensions`]).

use crate::diag::{Diagnostics, Pos, code};
use crate::extensions::read_extensions;
use crate::model::{
    Description, KeyPolicy, PhysicalSchema, ResolvedContract, Status, Support, Topics,
};
use crate::reader::Reader;
use crate::schema::read_schema;
use crate::yaml::{self, Node};
use crate::{RECORD_FORMAT, SourceReader};

const TOP_KEYS: &[&str] = &[
    "apiVersion",
    "kind",
    "id",
    "name",
    "version",
    "status",
    "tenant",
    "tags",
    "domain",
    "dataProduct",
    "description",
    "servers",
    "schema",
    "support",
    "price",
    "team",
    "roles",
    "slaDefaultElement",
    "slaProperties",
    "authoritativeDefinitions",
    "customProperties",
    "contractCreatedTs",
];
const API_VERSIONS: &[&str] = &["v3.0.0", "v3.0.1", "v3.0.2", "v3.1.0"];

/// The outcome of loading one contract file.
#[derive(Debug)]
pub struct Loaded {
    /// `None` when the file could not be understood at all (e.g. YAML syntax error).
    pub contract: Option<ResolvedContract>,
    pub diagnostics: Diagnostics,
    /// The YAML tree, for pointing policy findings at keys.
    pub tree: Option<Node>,
}

/// Parses and resolves one contract. Schema files are read through `files`, relative to the
/// contract's directory.
pub fn load_contract(file: &str, text: &str, files: &dyn SourceReader) -> Loaded {
    let mut diagnostics = Diagnostics::new(file);
    let tree = match yaml::parse(text) {
        Ok(t) => t,
        Err(e) => {
            diagnostics.error_hint(
                e.pos,
                code::YAML_SYNTAX,
                format!("YAML syntax error: {}", e.message),
                "check indentation and quoting around this position",
            );
            return Loaded {
                contract: None,
                diagnostics,
                tree: None,
            };
        }
    };
    let contract = {
        let mut r = Reader {
            diags: &mut diagnostics,
        };
        resolve(&mut r, &tree, files)
    };
    Loaded {
        contract,
        diagnostics,
        tree: Some(tree),
    }
}

fn resolve(r: &mut Reader<'_>, root: &Node, files: &dyn SourceReader) -> Option<ResolvedContract> {
    r.map(root, "the contract")?;
    r.known_keys(root, TOP_KEYS, "an ODCS contract");
    let (api, api_pos) = r.required_string(root, "apiVersion", "the contract");
    if !api.is_empty() && !API_VERSIONS.contains(&api.as_str()) {
        r.invalid(
            api_pos,
            format!("apiVersion `{api}` is not an ODCS v3 version mesh reads"),
            "use `apiVersion: v3.1.0`",
        );
    }
    let (kind, kind_pos) = r.required_string(root, "kind", "the contract");
    if !kind.is_empty() && kind != "DataContract" {
        r.invalid(
            kind_pos,
            format!("kind `{kind}` is not `DataContract`"),
            "use `kind: DataContract`",
        );
    }
    let (id, _) = r.required_string(root, "id", "the contract");
    let (domain, domain_pos) = r.required_string(root, "domain", "the contract");
    let (product, product_pos) = r.required_string(root, "name", "the contract");
    for (v, pos, what) in [
        (&domain, domain_pos, "domain"),
        (&product, product_pos, "name"),
    ] {
        if !v.is_empty() && !valid_name(v) {
            r.invalid(
                pos,
                format!("{what} `{v}` cannot be part of topic and subject names"),
                "use lower-case letters, digits and `-`, starting with a letter",
            );
        }
    }
    let (version, version_pos) = version_of(r, root);
    let major = match parse_major(&version) {
        Some(m) => m,
        None => {
            if !version.is_empty() {
                r.invalid(
                    version_pos,
                    format!("version `{version}` is not a semantic version"),
                    "use MAJOR.MINOR.PATCH, e.g. `1.0.0`; the major selects the `.v<major>` topic",
                );
            }
            1
        }
    };
    let (status_text, status_pos) = r.required_string(root, "status", "the contract");
    let status = Status::parse(&status_text).unwrap_or_else(|| {
        if !status_text.is_empty() {
            r.invalid(
                status_pos,
                format!("status `{status_text}` is not one mesh knows"),
                "use draft, active, deprecated or retired",
            );
        }
        Status::Draft
    });
    let description = read_description(r, root);
    let (owners, team) = read_team(r, root);
    let support = read_support(r, root);
    let ext = read_extensions(r, root);
    let product_id = format!("{domain}.{product}");
    let (value_schema, fields, rules) = read_schema(r, root, files, &product_id, &ext)?;
    let sla = crate::extensions::read_sla(r, root, &ext);
    check_servers(r, root);
    let key = KeyPolicy {
        schema: ext.key_schema.as_ref().and_then(|(path, pos)| {
            load_physical(r, files, path, *pos, format!("{product_id}.raw-key"))
        }),
        required: ext.key_required,
    };
    Some(ResolvedContract {
        format: RECORD_FORMAT,
        id,
        product_id: product_id.clone(),
        domain,
        product,
        version,
        major,
        status,
        sunset: ext.sunset.clone(),
        replaced_by: ext.replaced_by.clone(),
        description,
        owners,
        team,
        labels: ext.labels.clone(),
        support,
        runbook: ext.runbook.clone(),
        topics: Topics {
            raw: format!("{product_id}.raw"),
            validated: format!("{product_id}.v{major}"),
            dlq: format!("{product_id}.dlq"),
            partitions: ext.partitions,
            configs: ext.topic_configs.clone(),
        },
        value_schema,
        key,
        tombstones: ext.tombstones,
        fields,
        rules,
        sla,
        compatibility: ext.compatibility.clone(),
        on_failure: ext.on_failure.clone(),
        pii_handling: ext.pii_handling,
    })
}

/// `[a-z][a-z0-9-]*`: safe in topic names, subjects, ACL prefixes and file names.
pub fn valid_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
}

fn version_of(r: &mut Reader<'_>, root: &Node) -> (String, Pos) {
    match root.get("version") {
        Some(n) => match n.scalar_text() {
            Some(s) => (s, n.pos),
            None => {
                r.type_error(n, "version", "a string");
                (String::new(), n.pos)
            }
        },
        None => r.required_string(root, "version", "the contract"),
    }
}

/// The major of `1.2.3` (also `v1.2.3`, `2`).
pub fn parse_major(v: &str) -> Option<u64> {
    let v = v.strip_prefix('v').unwrap_or(v);
    let mut parts = v.split('.');
    let major = parts.next()?.parse().ok()?;
    parts.all(|p| !p.is_empty()).then_some(major)
}

fn read_description(r: &mut Reader<'_>, root: &Node) -> Description {
    let Some(node) = root.get("description") else {
        return Description::default();
    };
    if let Some(s) = node.as_str() {
        return Description {
            purpose: Some(s.to_owned()),
            ..Description::default()
        };
    }
    if r.map(node, "description").is_none() {
        return Description::default();
    }
    r.known_keys(
        node,
        &[
            "purpose",
            "limitations",
            "usage",
            "authoritativeDefinitions",
            "customProperties",
        ],
        "description",
    );
    Description {
        purpose: r.string(node, "purpose").map(|s| s.0),
        limitations: r.string(node, "limitations").map(|s| s.0),
        usage: r.string(node, "usage").map(|s| s.0),
    }
}

/// ODCS 3.1 `team` is an object with `members`; 3.0 wrote the member list directly.
fn read_team(r: &mut Reader<'_>, root: &Node) -> (Vec<String>, Option<String>) {
    let Some(node) = root.get("team") else {
        return (Vec::new(), None);
    };
    let (members, name): (&[Node], Option<String>) = match &node.value {
        yaml::Value::Seq(items) => (items, None),
        yaml::Value::Map(_) => {
            r.known_keys(
                node,
                &[
                    "id",
                    "name",
                    "description",
                    "members",
                    "tags",
                    "customProperties",
                    "authoritativeDefinitions",
                ],
                "team",
            );
            let name = r.string(node, "name").map(|s| s.0);
            (r.seq(node, "members"), name)
        }
        _ => {
            r.type_error(node, "team", "a mapping with `members`");
            return (Vec::new(), None);
        }
    };
    let mut all = Vec::new();
    let mut owners = Vec::new();
    for m in members {
        if r.map(m, "team member").is_none() {
            continue;
        }
        r.known_keys(
            m,
            &[
                "id",
                "username",
                "name",
                "description",
                "role",
                "dateIn",
                "dateOut",
                "replacedByUsername",
                "tags",
                "customProperties",
                "authoritativeDefinitions",
            ],
            "a team member",
        );
        let (user, _) = r.required_string(m, "username", "a team member");
        let role = r.string(m, "role").map(|s| s.0).unwrap_or_default();
        if role.eq_ignore_ascii_case("owner") || role.eq_ignore_ascii_case("data owner") {
            owners.push(user.clone());
        }
        all.push(user);
    }
    (if owners.is_empty() { all } else { owners }, name)
}

fn read_support(r: &mut Reader<'_>, root: &Node) -> Vec<Support> {
    let mut out = Vec::new();
    for s in r.seq(root, "support") {
        if r.map(s, "support").is_none() {
            continue;
        }
        r.known_keys(
            s,
            &[
                "id",
                "channel",
                "url",
                "description",
                "tool",
                "scope",
                "invitationUrl",
                "customProperties",
            ],
            "a support channel",
        );
        let (channel, _) = r.required_string(s, "channel", "a support channel");
        out.push(Support {
            channel,
            url: r.string(s, "url").map(|v| v.0),
            tool: r.string(s, "tool").map(|v| v.0),
        });
    }
    out
}

fn check_servers(r: &mut Reader<'_>, root: &Node) {
    for s in r.seq(root, "servers") {
        if r.map(s, "server").is_none() {
            continue;
        }
        let (ty, pos) = r.required_string(s, "type", "a server");
        if !ty.is_empty() && ty != "kafka" {
            r.diags.push(
                pos,
                crate::Severity::Warning,
                code::NOT_ENFORCED,
                format!("server type `{ty}` is ignored by mesh (it provisions Kafka only)"),
                None,
            );
        }
    }
}

/// Reads a schema file and names its type by extension or content.
pub(crate) fn load_physical(
    r: &mut Reader<'_>,
    files: &dyn SourceReader,
    path: &str,
    pos: Pos,
    subject: String,
) -> Option<PhysicalSchema> {
    match files.read(path) {
        Ok(text) => physical_from_text(r, path, text, pos, subject),
        Err(e) => {
            r.diags.error_hint(
                pos,
                code::SCHEMA_FILE,
                format!("cannot read schema file `{path}`: {e}"),
                "paths are relative to the contract file",
            );
            None
        }
    }
}

/// Checks schema text (from a file named `label`, or inline) with `mesh-schema`.
pub(crate) fn physical_from_text(
    r: &mut Reader<'_>,
    label: &str,
    text: String,
    pos: Pos,
    subject: String,
) -> Option<PhysicalSchema> {
    let schema_type = schema_type_of(label, &text);
    if let Err(e) = crate::fields::physical_fields(schema_type, &text) {
        r.diags.error(
            pos,
            code::SCHEMA_INVALID,
            format!("schema `{label}` is not a valid {schema_type} schema: {e}"),
        );
        return None;
    }
    Some(PhysicalSchema {
        schema_type: schema_type.to_owned(),
        schema: text,
        subject,
    })
}

/// `AVRO` for `.avsc` (or Avro-looking JSON), `JSON` for JSON Schema.
pub(crate) fn schema_type_of(path: &str, text: &str) -> &'static str {
    if path.ends_with(".avsc") {
        return "AVRO";
    }
    if path.ends_with(".json") || !path.contains('.') {
        let v: Option<serde_json::Value> = serde_json::from_str(text).ok();
        let avro_like = v.as_ref().is_some_and(|v| {
            v.get("type").and_then(|t| t.as_str()) == Some("record") && v.get("fields").is_some()
        });
        return if avro_like { "AVRO" } else { "JSON" };
    }
    "AVRO"
}
