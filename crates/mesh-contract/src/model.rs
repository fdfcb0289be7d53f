//! The resolved contract: what `mesh contract apply` writes to `_mesh.contracts` (as JSON) and the
//! only view of a contract the gateway and the freshness monitor read. Every mesh extension of
//! ODCS is resolved here (defaults applied, durations in milliseconds, schema text inlined), so
//! consumers never re-parse YAML. See docs/contracts.md for the field-by-field description.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::diag::Severity;

/// Version of the `_mesh.contracts` record format.
pub const RECORD_FORMAT: u32 = 1;

/// Lifecycle status (ODCS `status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Draft,
    Active,
    Deprecated,
    Retired,
}

impl Status {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "draft" | "proposed" => Status::Draft,
            "active" => Status::Active,
            "deprecated" => Status::Deprecated,
            "retired" => Status::Retired,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Active => "active",
            Status::Deprecated => "deprecated",
            Status::Retired => "retired",
        }
    }
}

/// A contract after parsing, validation and resolution of every default.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedContract {
    /// [`RECORD_FORMAT`].
    pub format: u32,
    /// The ODCS `id`.
    pub id: String,
    /// `<domain>.<product>`: the prefix of every topic and subject of the product.
    pub product_id: String,
    pub domain: String,
    /// The ODCS `name` (the product's short name).
    pub product: String,
    /// The contract's semantic version (ODCS `version`).
    pub version: String,
    /// The major of `version`; selects the validated topic `.v<major>`.
    pub major: u64,
    pub status: Status,
    /// `mesh.sunset` (ISO date), required by policy for deprecated products.
    pub sunset: Option<String>,
    /// `mesh.replacedBy`: the product id (or `<id>/v<major>`) that replaces this one.
    pub replaced_by: Option<String>,
    pub description: Description,
    /// Owners: team members with role `owner` (or every member when none has that role).
    pub owners: Vec<String>,
    pub team: Option<String>,
    /// `mesh.labels`: free labels (e.g. `team`, `cost-center`) copied to alerts and metrics.
    pub labels: BTreeMap<String, String>,
    pub support: Vec<Support>,
    /// `mesh.runbook`: URL linked from alerts and DLQ docs.
    pub runbook: Option<String>,
    pub topics: Topics,
    /// The value schema registered under `<product id>.raw-value`.
    pub value_schema: PhysicalSchema,
    pub key: KeyPolicy,
    /// `mesh.tombstones`: what the gateway does with a record whose value is null.
    pub tombstones: TombstonePolicy,
    /// Every field of the physical schema with its logical documentation.
    pub fields: Vec<FieldDoc>,
    pub rules: Vec<RuleSpec>,
    pub sla: Sla,
    /// `mesh.compatibility`: the registry subject's compatibility level (default BACKWARD).
    pub compatibility: String,
    /// `mesh.onFailure`: `onFailure` of the rules projected to the registry (default NONE).
    pub on_failure: String,
    /// `mesh.pii.handling`: `redact` (default) = PII field values never appear in DLQ error
    /// messages or quality events; `none` = shown as is.
    pub pii_handling: PiiHandling,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Description {
    pub purpose: Option<String>,
    pub limitations: Option<String>,
    pub usage: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Support {
    pub channel: String,
    pub url: Option<String>,
    pub tool: Option<String>,
}

/// The product's topics and their configs (DESIGN.md §3).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Topics {
    /// `<product id>.raw`: what producers write.
    pub raw: String,
    /// `<product id>.v<major>`: written by the gateway only.
    pub validated: String,
    /// `<product id>.dlq`: rejected records with reason headers.
    pub dlq: String,
    /// `mesh.partitions` (default 3), for raw and validated; the DLQ gets 1.
    pub partitions: i32,
    /// `mesh.topic.<config>` entries, applied to raw and validated topics.
    pub configs: BTreeMap<String, String>,
}

/// A physical schema as the registry takes it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PhysicalSchema {
    /// `AVRO` or `JSON` (Confluent's `schemaType`).
    pub schema_type: String,
    /// The schema text as written in the file (or inline).
    pub schema: String,
    pub subject: String,
}

/// `mesh.key.schema` / `mesh.key.required`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct KeyPolicy {
    /// Registered under `<product id>.raw-key` when set.
    pub schema: Option<PhysicalSchema>,
    /// A record without a key is rejected when true.
    pub required: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TombstonePolicy {
    /// Forwarded to the validated topic (compaction deletes for entity products).
    Forward,
    /// Sent to the DLQ as a violation.
    Reject,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PiiHandling {
    Redact,
    None,
}

/// One field of the value schema, documented.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldDoc {
    /// Dotted path from the record root (`customer.address.city`).
    pub path: String,
    /// Avro or JSON Schema type as written (`string`, `long`, `["null","string"]` → `string?`).
    pub physical_type: String,
    pub logical_type: Option<String>,
    pub required: bool,
    pub description: Option<String>,
    /// ODCS `classification` (`public`, `internal`, `confidential`, `restricted`, `pii`, ...).
    pub classification: Option<String>,
    /// True when tagged `pii` or classified `pii`/`restricted`/`confidential`.
    pub pii: bool,
    pub tags: Vec<String>,
    pub examples: Vec<serde_json::Value>,
}

/// What the gateway does when a rule fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// Send the record to the DLQ instead of the validated topic.
    Reject,
    /// Pass the record on and count the failure.
    Warn,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleKind {
    /// A native check on one field.
    Field,
    /// A CEL expression over the whole event (`message`).
    Record,
}

/// One rule, as written in the contract and resolved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSpec {
    /// Unique within the contract; `[A-Za-z_][A-Za-z0-9_-]*` (Confluent's rule-name syntax).
    pub name: String,
    pub kind: RuleKind,
    /// The field a field rule checks (dotted path).
    pub field: Option<String>,
    pub check: Check,
    pub severity: Severity,
    pub action: Action,
    pub description: Option<String>,
}

/// The check a rule performs.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Check {
    /// Present and not null.
    Required,
    Minimum {
        value: f64,
        exclusive: bool,
    },
    Maximum {
        value: f64,
        exclusive: bool,
    },
    /// In characters (strings) or items (arrays).
    MinLength {
        value: u64,
    },
    MaxLength {
        value: u64,
    },
    /// A regular expression that must match somewhere in the string (anchor it to match all).
    Pattern {
        regex: String,
    },
    /// One of these values.
    Enum {
        values: Vec<serde_json::Value>,
    },
    Format {
        format: Format,
    },
    /// CEL: for record rules over `message`; for field rules over `value` (and `message`).
    Cel {
        expr: String,
    },
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Format {
    Email,
    Uuid,
    /// RFC 3339 date-time.
    #[serde(alias = "date-time")]
    Timestamp,
    Date,
    Uri,
}

impl Format {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "email" => Format::Email,
            "uuid" => Format::Uuid,
            "timestamp" | "date-time" => Format::Timestamp,
            "date" => Format::Date,
            "uri" | "url" => Format::Uri,
            _ => return None,
        })
    }
}

/// Service levels.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Sla {
    pub freshness: Option<Freshness>,
    /// Availability objective in percent (`slaProperties` `availability`).
    pub availability: Option<f64>,
}

/// What the freshness monitor enforces: age = now − timestamp of the newest validated record.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Freshness {
    /// The SLA (`latency` / `freshness` in slaProperties), milliseconds.
    pub objective_ms: u64,
    /// `mesh.freshness.warn` (default: the objective): age above this → warning alert.
    pub warn_ms: u64,
    /// `mesh.freshness.critical` (default: the objective): age above this → critical alert.
    pub critical_ms: u64,
    /// `mesh.freshness.for`: the condition must hold this long before firing (default 0).
    pub for_ms: u64,
    /// `mesh.freshness.activeHours`: outside these hours nothing fires.
    pub active_hours: Option<ActiveHours>,
    /// `mesh.freshness.allowedIdle`: a gap this long (within active hours) is expected and does
    /// not fire, e.g. batchy producers. Overrides warn/critical when larger.
    pub allowed_idle_ms: Option<u64>,
    /// The ODCS `element` the SLA refers to (documentation; mesh measures record timestamps).
    pub element: Option<String>,
}

/// Days of week and a UTC time window, e.g. `Mon-Fri 08:00-20:00`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActiveHours {
    /// ISO weekdays, 1 = Monday … 7 = Sunday.
    pub days: Vec<u8>,
    /// Minutes after midnight UTC, start inclusive.
    pub start_minute: u16,
    /// Minutes after midnight UTC, end exclusive; `end <= start` wraps past midnight.
    pub end_minute: u16,
}

impl ActiveHours {
    /// Whether `unix_ms` (UTC) falls inside the window.
    pub fn contains(&self, unix_ms: i64) -> bool {
        let minutes = unix_ms.div_euclid(60_000);
        let days = minutes.div_euclid(1440);
        let minute = minutes.rem_euclid(1440) as u16;
        // 1970-01-01 was a Thursday (ISO 4).
        let weekday = |d: i64| ((d + 3).rem_euclid(7) + 1) as u8;
        if self.start_minute < self.end_minute {
            self.days.contains(&weekday(days))
                && minute >= self.start_minute
                && minute < self.end_minute
        } else if minute >= self.start_minute {
            self.days.contains(&weekday(days))
        } else {
            // The part after midnight belongs to the previous day's window.
            minute < self.end_minute && self.days.contains(&weekday(days - 1))
        }
    }
}

impl ResolvedContract {
    /// The `_mesh.contracts` record key: `<product id>/v<major>`.
    pub fn record_key(&self) -> String {
        format!("{}/v{}", self.product_id, self.major)
    }

    /// The record value (JSON).
    pub fn to_record(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }

    /// Reads a `_mesh.contracts` record value.
    pub fn from_record(bytes: &[u8]) -> Result<Self, crate::ContractError> {
        let c: Self = serde_json::from_slice(bytes)
            .map_err(|e| crate::ContractError::Record(e.to_string()))?;
        if c.format != RECORD_FORMAT {
            return Err(crate::ContractError::Record(format!(
                "record format {} is not supported (this build reads {RECORD_FORMAT})",
                c.format
            )));
        }
        Ok(c)
    }

    pub fn field(&self, path: &str) -> Option<&FieldDoc> {
        self.fields.iter().find(|f| f.path == path)
    }
}
