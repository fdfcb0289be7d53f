//! The registry's entities (schema references, metadata, rule sets, configs, modes) and the
//! `_schemas` record format (registry-api.md §3.2) that is the unit of storage.
//!
//! Records are kept byte-compatible with Confluent's topic: keys are JSON with Confluent's fixed
//! property order (compaction keys on bytes, so a Kafka store taking over later must produce
//! identical keys), values are JSON and `None` is a tombstone. Decoding accepts any key order,
//! Karapace's `"subject":null` global-config key, and skips keytypes it does not know.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use mesh_schema::CompatibilityLevel;
use serde::{Deserialize, Serialize};

/// The schema formats the registry knows about.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SchemaType {
    #[default]
    Avro,
    Json,
    Protobuf,
}

impl SchemaType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Avro => "AVRO",
            Self::Json => "JSON",
            Self::Protobuf => "PROTOBUF",
        }
    }

    /// Confluent parses `schemaType` case-insensitively.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Avro, Self::Json, Self::Protobuf]
            .into_iter()
            .find(|t| t.as_str().eq_ignore_ascii_case(s))
    }
}

/// `{name, subject, version}`: `name` is how the referencing schema imports the referenced one.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SchemaReference {
    pub name: String,
    pub subject: String,
    pub version: i32,
}

/// Data-contract metadata. Maps and sets are sorted (Confluent sorts them too), so equal
/// metadata serializes identically and identity hashing is stable.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub tags: BTreeMap<String, BTreeSet<String>>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub properties: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub sensitive: BTreeSet<String>,
}

impl Metadata {
    pub fn is_empty(&self) -> bool {
        self.tags.is_empty() && self.properties.is_empty() && self.sensitive.is_empty()
    }

    /// `base` overlaid by `over` (Confluent's `mergeMetadata`): tags and sensitive are unioned,
    /// properties of `over` win.
    pub fn merge(base: Option<&Metadata>, over: Option<&Metadata>) -> Option<Metadata> {
        match (base, over) {
            (None, None) => None,
            (Some(b), None) => Some(b.clone()),
            (None, Some(o)) => Some(o.clone()),
            (Some(b), Some(o)) => {
                let mut m = b.clone();
                for (path, tags) in &o.tags {
                    m.tags
                        .entry(path.clone())
                        .or_default()
                        .extend(tags.iter().cloned());
                }
                m.properties
                    .extend(o.properties.iter().map(|(k, v)| (k.clone(), v.clone())));
                m.sensitive.extend(o.sensitive.iter().cloned());
                Some(m)
            }
        }
    }
}

/// One data-contract rule. The registry stores and validates rules; clients execute them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Rule {
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub doc: Option<String>,
    pub kind: String,
    pub mode: String,
    #[serde(default, rename = "type", skip_serializing_if = "Option::is_none")]
    pub rule_type: Option<String>,
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub tags: BTreeSet<String>,
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub params: BTreeMap<String, String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expr: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_success: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub on_failure: Option<String>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub disabled: bool,
}

/// `{migrationRules, domainRules, encodingRules}`.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleSet {
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub migration_rules: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub domain_rules: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub encoding_rules: Vec<Rule>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enable_at: Option<String>,
}

const RULE_KINDS: [&str; 2] = ["TRANSFORM", "CONDITION"];
const RULE_MODES: [&str; 6] = [
    "UPGRADE",
    "DOWNGRADE",
    "UPDOWN",
    "WRITE",
    "READ",
    "WRITEREAD",
];

impl RuleSet {
    pub fn is_empty(&self) -> bool {
        self.migration_rules.is_empty()
            && self.domain_rules.is_empty()
            && self.encoding_rules.is_empty()
    }

    /// Why this rule set is invalid (error 42210), if it is. Migration rules must be
    /// UPGRADE/DOWNGRADE/UPDOWN, domain rules WRITE/READ/WRITEREAD, names unique and non-empty.
    pub fn validate(&self) -> Result<(), String> {
        let mut names = BTreeSet::new();
        let groups = [
            ("migration", &self.migration_rules, &RULE_MODES[..3]),
            ("domain", &self.domain_rules, &RULE_MODES[3..]),
            ("encoding", &self.encoding_rules, &RULE_MODES[3..]),
        ];
        for (group, rules, modes) in groups {
            for r in rules {
                if r.name.trim().is_empty() {
                    return Err("Empty rule name".into());
                }
                if !names.insert(r.name.as_str()) {
                    return Err(format!("Found rule with duplicate name '{}'", r.name));
                }
                if !RULE_KINDS.contains(&r.kind.as_str()) {
                    return Err(format!("Invalid kind '{}' for rule '{}'", r.kind, r.name));
                }
                if !modes.contains(&r.mode.as_str()) {
                    return Err(format!(
                        "Invalid mode '{}' for {group} rule '{}'",
                        r.mode, r.name
                    ));
                }
            }
        }
        Ok(())
    }

    /// `base` overlaid by `over`: a rule of `over` replaces the rule of `base` with its name.
    pub fn merge(base: Option<&RuleSet>, over: Option<&RuleSet>) -> Option<RuleSet> {
        fn rules(base: &[Rule], over: &[Rule]) -> Vec<Rule> {
            let mut out: Vec<Rule> = base
                .iter()
                .filter(|b| !over.iter().any(|o| o.name == b.name))
                .cloned()
                .collect();
            out.extend(over.iter().cloned());
            out
        }
        match (base, over) {
            (None, None) => None,
            (Some(b), None) => Some(b.clone()),
            (None, Some(o)) => Some(o.clone()),
            (Some(b), Some(o)) => Some(RuleSet {
                migration_rules: rules(&b.migration_rules, &o.migration_rules),
                domain_rules: rules(&b.domain_rules, &o.domain_rules),
                encoding_rules: rules(&b.encoding_rules, &o.encoding_rules),
                enable_at: o.enable_at.clone().or_else(|| b.enable_at.clone()),
            }),
        }
    }
}

/// A config (global or per subject). GET answers it as is (`compatibilityLevel`); PUT takes
/// [`ConfigUpdate`] (`compatibility`) — Confluent's field names are asymmetric.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Config {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalize: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validate_fields: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatibility_level: Option<CompatibilityLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub compatibility_group: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_rule_set: Option<RuleSet>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub override_rule_set: Option<RuleSet>,
}

/// Registry modes (`core/.../storage/Mode.java`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Mode {
    Readwrite,
    Readonly,
    ReadonlyOverride,
    Import,
    Forward,
}

impl Mode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Readwrite => "READWRITE",
            Self::Readonly => "READONLY",
            Self::ReadonlyOverride => "READONLY_OVERRIDE",
            Self::Import => "IMPORT",
            Self::Forward => "FORWARD",
        }
    }

    pub fn is_read_only(self) -> bool {
        matches!(self, Self::Readonly | Self::ReadonlyOverride)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = ();
    fn from_str(s: &str) -> Result<Self, ()> {
        [
            Self::Readwrite,
            Self::Readonly,
            Self::ReadonlyOverride,
            Self::Import,
            Self::Forward,
        ]
        .into_iter()
        .find(|m| m.as_str().eq_ignore_ascii_case(s))
        .ok_or(())
    }
}

/// The value of a SCHEMA record: one version of one subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SchemaValue {
    pub subject: String,
    pub version: i32,
    pub id: i32,
    pub schema: String,
    #[serde(default)]
    pub deleted: bool,
    /// Absent = AVRO (what Confluent before 8.0 and Karapace write).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub schema_type: Option<SchemaType>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub references: Vec<SchemaReference>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Metadata>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rule_set: Option<RuleSet>,
}

impl SchemaValue {
    pub fn schema_type(&self) -> SchemaType {
        self.schema_type.unwrap_or_default()
    }
}

/// The value of a CONFIG record: the config plus (optionally, legacy records lack it) its subject.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConfigValue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    #[serde(flatten)]
    pub config: Config,
}

/// The value of a MODE record.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModeValue {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<String>,
    pub mode: Mode,
}

/// One `_schemas` record. `None` values are tombstones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Record {
    Schema {
        subject: String,
        version: i32,
        value: Option<SchemaValue>,
    },
    /// `subject: None` = the global config.
    Config {
        subject: Option<String>,
        value: Option<ConfigValue>,
    },
    /// `subject: None` = the global mode.
    Mode {
        subject: Option<String>,
        value: Option<ModeValue>,
    },
    /// Soft-deletes every version of `subject` up to `version`.
    DeleteSubject {
        subject: String,
        version: i32,
    },
    Noop,
}

// Key layouts in Confluent's `@JsonPropertyOrder`; serde serializes fields in declaration order.
#[derive(Serialize)]
struct SchemaKeyOut<'a> {
    keytype: &'static str,
    subject: &'a str,
    version: i32,
    magic: i32,
}

#[derive(Serialize)]
struct SubjectKeyOut<'a> {
    keytype: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    subject: Option<&'a str>,
    magic: i32,
}

#[derive(Deserialize)]
struct KeyIn {
    keytype: String,
    #[serde(default)]
    subject: Option<String>,
    #[serde(default)]
    version: Option<i32>,
}

#[derive(Serialize, Deserialize)]
struct DeleteSubjectValue {
    subject: String,
    version: i32,
}

/// A record that cannot be decoded (corrupt or from an incompatible writer).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("undecodable _schemas record: {0}")]
pub struct DecodeError(pub String);

fn to_vec<T: Serialize>(v: &T) -> Vec<u8> {
    // Serializing these plain structs cannot fail (no maps with non-string keys, no I/O).
    serde_json::to_vec(v).unwrap_or_default()
}

impl Record {
    /// The key bytes and value bytes (`None` = tombstone), exactly as in Confluent's topic.
    pub fn encode(&self) -> (Vec<u8>, Option<Vec<u8>>) {
        let subj_key = |keytype, subject: Option<&str>| {
            to_vec(&SubjectKeyOut {
                keytype,
                subject,
                magic: 0,
            })
        };
        match self {
            Record::Schema {
                subject,
                version,
                value,
            } => (
                to_vec(&SchemaKeyOut {
                    keytype: "SCHEMA",
                    subject,
                    version: *version,
                    magic: 1,
                }),
                value.as_ref().map(to_vec),
            ),
            Record::Config { subject, value } => (
                subj_key("CONFIG", subject.as_deref()),
                value.as_ref().map(to_vec),
            ),
            Record::Mode { subject, value } => (
                subj_key("MODE", subject.as_deref()),
                value.as_ref().map(to_vec),
            ),
            Record::DeleteSubject { subject, version } => (
                subj_key("DELETE_SUBJECT", Some(subject)),
                Some(to_vec(&DeleteSubjectValue {
                    subject: subject.clone(),
                    version: *version,
                })),
            ),
            Record::Noop => (subj_key("NOOP", None), None),
        }
    }

    /// Decodes a record; `Ok(None)` for keytypes this registry does not handle (skipped on
    /// replay, like Confluent and Karapace do).
    pub fn decode(key: &[u8], value: Option<&[u8]>) -> Result<Option<Record>, DecodeError> {
        let err = |e: serde_json::Error| DecodeError(e.to_string());
        let k: KeyIn = serde_json::from_slice(key).map_err(err)?;
        let need_subject = |s: Option<String>| {
            s.ok_or_else(|| DecodeError(format!("{} key without subject", k.keytype)))
        };
        Ok(Some(match k.keytype.as_str() {
            "SCHEMA" => Record::Schema {
                subject: need_subject(k.subject.clone())?,
                version: k
                    .version
                    .ok_or_else(|| DecodeError("SCHEMA key without version".into()))?,
                value: value.map(serde_json::from_slice).transpose().map_err(err)?,
            },
            "CONFIG" => Record::Config {
                subject: k.subject.clone(),
                value: value.map(serde_json::from_slice).transpose().map_err(err)?,
            },
            "MODE" => Record::Mode {
                subject: k.subject.clone(),
                value: value.map(serde_json::from_slice).transpose().map_err(err)?,
            },
            "DELETE_SUBJECT" => match value {
                // A tombstoned DELETE_SUBJECT key (compaction) carries nothing to apply.
                None => return Ok(None),
                Some(v) => {
                    let d: DeleteSubjectValue = serde_json::from_slice(v).map_err(err)?;
                    Record::DeleteSubject {
                        subject: d.subject,
                        version: d.version,
                    }
                }
            },
            "NOOP" => Record::Noop,
            _ => return Ok(None),
        }))
    }
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
