//! Projection of a resolved contract onto the schema registry and the topics.
//!
//! - Subject `<product id>.raw-value` (the default TopicNameStrategy subject of the raw topic):
//!   the schema, `metadata.properties` (owner, domain, product, `application.major.version`,
//!   contract version and status) and `ruleSet.domainRules` mirroring the contract's rules.
//! - Rules project with `onFailure: NONE` unless the contract sets `mesh.onFailure`: a Confluent
//!   client that uses the latest schema without a rule executor would otherwise fail every
//!   record; the gateway is the enforcer.
//! - Subject config: the contract's compatibility with `compatibilityGroup =
//!   application.major.version`, so a new major may break compatibility.

use serde_json::{Value, json};

use crate::model::{Check, Format, ResolvedContract, RuleKind, RuleSpec};

/// The metadata property that partitions compatibility checks by major.
pub const MAJOR_PROPERTY: &str = "application.major.version";

/// A topic to provision (mapped to `mesh_kafka::admin::TopicSpec` by the caller).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopicPlan {
    pub name: String,
    pub partitions: i32,
    pub configs: std::collections::BTreeMap<String, String>,
}

/// Raw, validated (`.v<major>`) and DLQ topics with their configs.
pub fn topics(c: &ResolvedContract) -> Vec<TopicPlan> {
    let t = &c.topics;
    let mut dlq_configs = std::collections::BTreeMap::new();
    // A DLQ is for people to inspect: keep it two weeks whatever the product's retention.
    dlq_configs.insert("retention.ms".to_owned(), "1209600000".to_owned());
    vec![
        TopicPlan {
            name: t.raw.clone(),
            partitions: t.partitions,
            configs: t.configs.clone(),
        },
        TopicPlan {
            name: t.validated.clone(),
            partitions: t.partitions,
            configs: t.configs.clone(),
        },
        TopicPlan {
            name: t.dlq.clone(),
            partitions: 1,
            configs: dlq_configs,
        },
    ]
}

/// The body of `POST /subjects/<subject>/versions`.
pub fn registration(c: &ResolvedContract) -> Value {
    let mut body = json!({
        "schema": c.value_schema.schema,
        "metadata": { "properties": metadata_properties(c) },
        "ruleSet": { "domainRules": c.rules.iter().map(|r| confluent_rule(c, r)).collect::<Vec<_>>() },
    });
    if c.value_schema.schema_type != "AVRO" {
        body["schemaType"] = json!(c.value_schema.schema_type);
    }
    body
}

/// `metadata.properties` of the registered schema.
pub fn metadata_properties(c: &ResolvedContract) -> Value {
    json!({
        "owner": c.owners.join(","),
        "domain": c.domain,
        "product": c.product,
        MAJOR_PROPERTY: c.major.to_string(),
        "mesh.contract.version": c.version,
        "mesh.status": c.status.as_str(),
    })
}

/// The body of `PUT /config/<subject>`.
pub fn subject_config(c: &ResolvedContract) -> Value {
    json!({ "compatibility": c.compatibility, "compatibilityGroup": MAJOR_PROPERTY })
}

/// One contract rule as a Confluent `Rule` (CEL for record rules, CEL_FIELD with a name guard
/// for field rules).
pub fn confluent_rule(c: &ResolvedContract, r: &RuleSpec) -> Value {
    let (ty, expr) = match r.kind {
        RuleKind::Record => ("CEL", cel_text(&r.check)),
        RuleKind::Field => {
            let name = r.field.as_deref().unwrap_or_default();
            let leaf = name.rsplit('.').next().unwrap_or(name);
            (
                "CEL_FIELD",
                format!("name == {} ; {}", quote(leaf), cel_text(&r.check)),
            )
        }
    };
    let mut rule = json!({
        "name": r.name,
        "kind": "CONDITION",
        "mode": "WRITE",
        "type": ty,
        "expr": expr,
        "onFailure": c.on_failure,
    });
    if let Some(d) = &r.description {
        rule["doc"] = json!(d);
    }
    if c.on_failure == "DLQ" {
        rule["params"] = json!({ "dlq.topic": c.topics.dlq });
    }
    rule
}

/// The CEL condition equivalent to a native check (over `value`).
pub fn cel_text(check: &Check) -> String {
    match check {
        Check::Required => "value != null".into(),
        Check::Minimum { value, exclusive } => {
            format!(
                "double(value) {} {}",
                if *exclusive { ">" } else { ">=" },
                num(*value)
            )
        }
        Check::Maximum { value, exclusive } => {
            format!(
                "double(value) {} {}",
                if *exclusive { "<" } else { "<=" },
                num(*value)
            )
        }
        Check::MinLength { value } => format!("size(value) >= {value}"),
        Check::MaxLength { value } => format!("size(value) <= {value}"),
        Check::Pattern { regex } => format!("value.matches({})", quote(regex)),
        Check::Enum { values } => format!("value in {}", Value::Array(values.clone())),
        Check::Format { format } => format!("value.matches({})", quote(format_regex(*format))),
        Check::Cel { expr } => expr.clone(),
    }
}

fn num(f: f64) -> String {
    let s = f.to_string();
    if s.contains('.') || s.contains('e') {
        s
    } else {
        format!("{s}.0")
    }
}

fn quote(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

fn format_regex(f: Format) -> &'static str {
    match f {
        Format::Email => r"^[^@\s]+@[^@\s.]+(\.[^@\s.]+)+$",
        Format::Uuid => {
            r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
        }
        Format::Timestamp => {
            r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$"
        }
        Format::Date => r"^\d{4}-\d{2}-\d{2}$",
        Format::Uri => r"^[A-Za-z][A-Za-z0-9+.-]*:.+$",
    }
}
