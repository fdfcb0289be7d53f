//! The `schema[]` section: the physical schema it points at (`mesh.schema.file` or
//! `mesh.schema.inline`), the logical properties documenting its fields, and the quality rules
//! (field rules from `required`, `logicalTypeOptions` and field `quality`; record rules from
//! schema-level `quality` with `engine: cel`).

use std::sync::LazyLock;

use crate::SourceReader;
use crate::diag::{Pos, Severity, code};
use crate::extensions::{Extensions, custom_properties};
use crate::fields::{PhysicalField, physical_fields};
use crate::model::{Action, Check, FieldDoc, Format, PhysicalSchema, RuleKind, RuleSpec};
use crate::parse::{load_physical, physical_from_text};
use crate::reader::Reader;
use crate::yaml::{Node, Value};

const SCHEMA_KEYS: &[&str] = &[
    "id",
    "name",
    "physicalName",
    "physicalType",
    "logicalType",
    "businessName",
    "description",
    "dataGranularityDescription",
    "tags",
    "properties",
    "relationships",
    "quality",
    "customProperties",
    "authoritativeDefinitions",
];
const PROPERTY_KEYS: &[&str] = &[
    "id",
    "name",
    "physicalName",
    "physicalType",
    "logicalType",
    "logicalTypeOptions",
    "businessName",
    "description",
    "required",
    "unique",
    "primaryKey",
    "primaryKeyPosition",
    "partitioned",
    "partitionKeyPosition",
    "classification",
    "encryptedName",
    "criticalDataElement",
    "examples",
    "tags",
    "quality",
    "customProperties",
    "authoritativeDefinitions",
    "transformSourceObjects",
    "transformLogic",
    "transformDescription",
    "relationships",
    "items",
    "properties",
];
const OPTION_KEYS: &[&str] = &[
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "minLength",
    "maxLength",
    "pattern",
    "format",
    "multipleOf",
    "minItems",
    "maxItems",
    "uniqueItems",
    "timezone",
    "defaultTimezone",
    "minProperties",
    "maxProperties",
    "required",
];

/// Confluent's rule-name syntax.
pub(crate) static RULE_NAME: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^[A-Za-z_][A-Za-z0-9_-]{0,255}$").expect("static regex"));
type SchemaParts = (PhysicalSchema, Vec<FieldDoc>, Vec<RuleSpec>);

pub fn read_schema(
    r: &mut Reader<'_>,
    root: &Node,
    files: &dyn SourceReader,
    product_id: &str,
    _ext: &Extensions,
) -> Option<SchemaParts> {
    let objects = r.seq(root, "schema");
    let Some(obj) = objects.first() else {
        r.diags.error_hint(
            root.key_pos("schema"),
            code::MISSING_KEY,
            "the contract has no `schema` object",
            "add `schema: [{name: ..., physicalType: topic, customProperties: [{property: mesh.schema.file, value: x.avsc}], properties: [...]}]`",
        );
        return None;
    };
    if objects.len() > 1 {
        r.diags.push(
            objects[1].pos,
            Severity::Error,
            code::INVALID_VALUE,
            "a stream product has exactly one schema object (one event type per raw topic)",
            Some("split the other event types into their own contracts".into()),
        );
    }
    r.map(obj, "schema object")?;
    r.known_keys(obj, SCHEMA_KEYS, "a schema object");
    let subject = format!("{product_id}.raw-value");
    let mut physical = None;
    for (name, value, pos) in custom_properties(r, obj) {
        match name.as_str() {
            "mesh.schema.file" => match value.as_str() {
                Some(path) => physical = load_physical(r, files, path, value.pos, subject.clone()),
                None => r.type_error(value, &name, "a file path"),
            },
            "mesh.schema.inline" => match value.as_str() {
                Some(text) => {
                    physical =
                        physical_from_text(r, "inline", text.to_owned(), value.pos, subject.clone())
                }
                None => r.type_error(value, &name, "the schema text"),
            },
            n if n.starts_with("mesh.") => r.diags.error_hint(
                pos,
                code::UNKNOWN_KEY,
                format!("unknown mesh custom property `{n}` on a schema object"),
                "a schema object reads `mesh.schema.file` or `mesh.schema.inline`",
            ),
            _ => {}
        }
    }
    let Some(physical) = physical else {
        if !r.diags.has_errors() {
            r.diags.error_hint(
                obj.pos,
                code::MISSING_KEY,
                "the schema object names no physical schema",
                "add customProperties `mesh.schema.file` (an .avsc or JSON Schema file) or `mesh.schema.inline`",
            );
        }
        return None;
    };
    let pfields = physical_fields(&physical.schema_type, &physical.schema).unwrap_or_default();
    let mut fields: Vec<FieldDoc> = pfields
        .iter()
        .map(|f| FieldDoc {
            path: f.path.clone(),
            physical_type: f.type_name.clone(),
            required: f.required,
            description: f.doc.clone(),
            ..FieldDoc::default()
        })
        .collect();
    let mut rules = Vec::new();
    let mut ctx = Ctx {
        r,
        pfields: &pfields,
        fields: &mut fields,
        rules: &mut rules,
    };
    ctx.properties(obj, "");
    for q in ctx.r.seq(obj, "quality") {
        ctx.quality(q, None);
    }
    check_unique_names(r, &rules, obj.pos);
    Some((physical, fields, rules))
}

pub(crate) struct Ctx<'a, 'd> {
    pub(crate) r: &'a mut Reader<'d>,
    pub(crate) pfields: &'a [PhysicalField],
    pub(crate) fields: &'a mut Vec<FieldDoc>,
    pub(crate) rules: &'a mut Vec<RuleSpec>,
}

impl Ctx<'_, '_> {
    fn properties(&mut self, parent: &Node, prefix: &str) {
        for p in self.r.seq(parent, "properties") {
            if self.r.map(p, "property").is_none() {
                continue;
            }
            self.r.known_keys(p, PROPERTY_KEYS, "a schema property");
            let (name, name_pos) = self.r.required_string(p, "name", "a property");
            if name.is_empty() {
                continue;
            }
            let path = if prefix.is_empty() {
                name.clone()
            } else {
                format!("{prefix}.{name}")
            };
            let Some(idx) = self.fields.iter().position(|f| f.path == path) else {
                let known: Vec<&str> = self.pfields.iter().map(|f| f.path.as_str()).collect();
                let hint = match crate::diag::did_you_mean(&path, &known) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("the schema's fields are: {}", known.join(", ")),
                };
                self.r.diags.error_hint(
                    name_pos,
                    code::UNKNOWN_FIELD,
                    format!("property `{path}` is not a field of the physical schema"),
                    &hint,
                );
                continue;
            };
            let doc = self.document(p, idx);
            let ftype = self.pfields[idx].type_name.clone();
            if doc {
                self.rule(
                    &path,
                    "required",
                    Check::Required,
                    Severity::Error,
                    None,
                    None,
                );
            }
            if let Some(opts) = p.get("logicalTypeOptions") {
                self.options(opts, &path, &ftype);
            }
            for q in self.r.seq(p, "quality") {
                self.quality(q, Some((&path, &ftype)));
            }
            self.properties(p, &path);
        }
    }

    /// Copies the documentation onto the field; returns whether `required: true`.
    fn document(&mut self, p: &Node, idx: usize) -> bool {
        let required = self.r.bool(p, "required").unwrap_or(false);
        let f = &mut self.fields[idx];
        let mut r = Reader {
            diags: self.r.diags,
        };
        if let Some((d, _)) = r.string(p, "description") {
            f.description = Some(d);
        }
        let logical = r.string(p, "logicalType");
        if let Some((lt, pos)) = &logical
            && !logical_fits(lt, &f.physical_type)
        {
            r.diags.error_hint(
                *pos,
                code::TYPE,
                format!("logicalType `{lt}` does not fit the schema's `{}` for `{}`", f.physical_type, f.path),
                "ODCS logical types: string, integer, number, boolean, timestamp, date, time, object, array",
            );
        }
        f.logical_type = logical.map(|s| s.0);
        f.classification = r.string(p, "classification").map(|s| s.0);
        f.required |= required;
        f.tags = r
            .seq(p, "tags")
            .iter()
            .filter_map(|t| t.scalar_text())
            .collect();
        f.examples = r.seq(p, "examples").iter().map(Node::to_json).collect();
        let class = f
            .classification
            .as_deref()
            .unwrap_or("")
            .to_ascii_lowercase();
        f.pii = f.tags.iter().any(|t| t.eq_ignore_ascii_case("pii"))
            || ["pii", "restricted", "confidential", "sensitive"].contains(&class.as_str());
        required
    }

    fn options(&mut self, opts: &Node, path: &str, ftype: &str) {
        if self.r.map(opts, "logicalTypeOptions").is_none() {
            return;
        }
        self.r.known_keys(opts, OPTION_KEYS, "logicalTypeOptions");
        let numeric = is_numeric(ftype);
        let Value::Map(entries) = &opts.value else {
            return;
        };
        for (k, v) in entries {
            let check = match k.name.as_str() {
                "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum" => {
                    let Some(value) = v.as_f64() else {
                        self.r.type_error(v, &k.name, "a number");
                        continue;
                    };
                    if !numeric {
                        self.bad_rule(k.pos, &k.name, path, ftype, "a number");
                        continue;
                    }
                    let exclusive = k.name.starts_with("exclusive");
                    if k.name.ends_with("inimum") {
                        Check::Minimum { value, exclusive }
                    } else {
                        Check::Maximum { value, exclusive }
                    }
                }
                "minLength" | "maxLength" | "minItems" | "maxItems" => {
                    let Value::Int(n) = v.value else {
                        self.r.type_error(v, &k.name, "a non-negative integer");
                        continue;
                    };
                    let value = n.max(0) as u64;
                    if k.name.starts_with("min") {
                        Check::MinLength { value }
                    } else {
                        Check::MaxLength { value }
                    }
                }
                "pattern" => {
                    let Some(re) = v.as_str() else {
                        self.r
                            .type_error(v, "pattern", "a regular expression string");
                        continue;
                    };
                    if let Err(e) = regex::Regex::new(re) {
                        self.r.diags.error(
                            v.pos,
                            code::INVALID_RULE,
                            format!("pattern does not compile: {e}"),
                        );
                        continue;
                    }
                    Check::Pattern {
                        regex: re.to_owned(),
                    }
                }
                "format" => match v.as_str().and_then(Format::parse) {
                    Some(format) => Check::Format { format },
                    None => {
                        self.r.invalid(
                            v.pos,
                            format!(
                                "`{}` is not a format mesh checks",
                                v.scalar_text().unwrap_or_default()
                            ),
                            "use email, uuid, timestamp (date-time), date or uri",
                        );
                        continue;
                    }
                },
                _ => continue, // documentation-only options
            };
            self.rule(path, &k.name, check, Severity::Error, None, None);
        }
    }

    fn bad_rule(&mut self, pos: Pos, what: &str, path: &str, ftype: &str, needs: &str) {
        self.r.diags.error_hint(
            pos,
            code::INVALID_RULE,
            format!("`{what}` on `{path}` needs {needs}, but the field is `{ftype}`"),
            "remove the option or fix the field type in the schema",
        );
    }

    pub(crate) fn rule(
        &mut self,
        path: &str,
        what: &str,
        check: Check,
        severity: Severity,
        name: Option<String>,
        description: Option<String>,
    ) {
        let name = name.unwrap_or_else(|| format!("{}-{}", path.replace('.', "_"), kebab(what)));
        let action = if severity == Severity::Error {
            Action::Reject
        } else {
            Action::Warn
        };
        self.rules.push(RuleSpec {
            name,
            kind: RuleKind::Field,
            field: Some(path.to_owned()),
            check,
            severity,
            action,
            description,
        });
    }
}

fn check_unique_names(r: &mut Reader<'_>, rules: &[RuleSpec], pos: Pos) {
    let mut seen = std::collections::BTreeSet::new();
    for rule in rules {
        if !seen.insert(&rule.name) {
            r.invalid(
                pos,
                format!("two rules are named `{}`", rule.name),
                "rule names must be unique within a contract (they name DLQ reasons and metrics)",
            );
        }
    }
}

/// Whether an ODCS `logicalType` can describe a physical (Avro / JSON Schema) type.
fn logical_fits(logical: &str, physical: &str) -> bool {
    let p = physical.trim_end_matches('?');
    let p = p.split_whitespace().next().unwrap_or(p); // `enum com.x.Status` → `enum`
    match logical {
        "string" => ["string", "enum", "uuid", "bytes", "fixed"].contains(&p),
        "integer" => ["int", "long", "integer"].contains(&p),
        "number" => is_numeric(p) || p.starts_with("decimal"),
        "boolean" => p == "boolean",
        "timestamp" | "date" | "time" => {
            p == "string"
                || ["int", "long"].contains(&p)
                || p.starts_with("timestamp")
                || p.starts_with("date")
                || p.starts_with("time")
                || p.starts_with("local-timestamp")
        }
        "object" => ["record", "object", "map"].contains(&p),
        "array" => p == "array",
        _ => false,
    }
}

fn is_numeric(t: &str) -> bool {
    let t = t.trim_end_matches('?');
    [
        "int", "long", "float", "double", "number", "integer", "decimal",
    ]
    .contains(&t)
}

pub(crate) fn is_record(t: &str) -> bool {
    t.trim_end_matches('?') == "record" || t.trim_end_matches('?') == "object"
}

fn kebab(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_uppercase() {
            out.push('-');
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}
