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
const QUALITY_KEYS: &[&str] = &[
    "id",
    "name",
    "description",
    "type",
    "dimension",
    "severity",
    "businessImpact",
    "metric",
    "rule",
    "arguments",
    "mustBe",
    "mustNotBe",
    "mustBeGreaterThan",
    "mustBeGreaterOrEqualTo",
    "mustBeLessThan",
    "mustBeLessOrEqualTo",
    "mustBeBetween",
    "mustNotBeBetween",
    "unit",
    "validValues",
    "query",
    "engine",
    "implementation",
    "method",
    "schedule",
    "scheduler",
    "tags",
    "customProperties",
    "authoritativeDefinitions",
];

/// Confluent's rule-name syntax.
static RULE_NAME: LazyLock<regex::Regex> =
    LazyLock::new(|| regex::Regex::new(r"^[A-Za-z_][A-Za-z0-9_-]{0,255}$").expect("static regex"));
static MESSAGE_REF: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"\bmessage((?:\.[A-Za-z_][A-Za-z0-9_]*)+)").expect("static regex")
});

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

struct Ctx<'a, 'd> {
    r: &'a mut Reader<'d>,
    pfields: &'a [PhysicalField],
    fields: &'a mut Vec<FieldDoc>,
    rules: &'a mut Vec<RuleSpec>,
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
        f.logical_type = r.string(p, "logicalType").map(|s| s.0);
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

    /// One ODCS quality entry; `field` = (path, physical type) for property-level entries.
    fn quality(&mut self, q: &Node, field: Option<(&str, &str)>) {
        if self.r.map(q, "quality").is_none() {
            return;
        }
        self.r.known_keys(q, QUALITY_KEYS, "a quality rule");
        let ty = self
            .r
            .string(q, "type")
            .map(|s| s.0)
            .unwrap_or_else(|| "library".into());
        let severity = match self.r.string(q, "severity") {
            Some((s, pos)) => Severity::parse(&s).unwrap_or_else(|| {
                self.r.invalid(
                    pos,
                    format!("`{s}` is not a severity"),
                    "use error, warning or info",
                );
                Severity::Error
            }),
            None => Severity::Error,
        };
        let name = self.r.string(q, "name");
        let description = self.r.string(q, "description").map(|s| s.0);
        let action = self.action(q, severity);
        let check = match ty.as_str() {
            "text" => return,
            "custom" => {
                let (engine, epos) = self.r.required_string(q, "engine", "a custom quality rule");
                if engine != "cel" {
                    self.not_enforced(epos, &format!("custom engine `{engine}`"));
                    return;
                }
                let (expr, pos) = self.r.required_string(q, "implementation", "a CEL rule");
                if !self.cel_ok(&expr, pos, field.is_some()) {
                    return;
                }
                Check::Cel { expr }
            }
            "library" => {
                let metric = self
                    .r
                    .string(q, "metric")
                    .or_else(|| self.r.string(q, "rule"));
                let Some((metric, mpos)) = metric else {
                    self.r.diags.error_hint(
                        q.pos,
                        code::MISSING_KEY,
                        "a library quality rule has no `metric`",
                        "e.g. `metric: nullValues` with `mustBe: 0`",
                    );
                    return;
                };
                if field.is_none() || !zero_tolerance(q) {
                    self.not_enforced(mpos, &format!("metric `{metric}` as a dataset threshold"));
                    return;
                }
                match metric.as_str() {
                    "nullValues" | "missingValues" | "nullCheck" => Check::Required,
                    "invalidValues" => match self.invalid_values(q) {
                        Some(c) => c,
                        None => return,
                    },
                    _ => {
                        self.not_enforced(
                            mpos,
                            &format!("metric `{metric}` (needs the whole dataset)"),
                        );
                        return;
                    }
                }
            }
            other => {
                self.not_enforced(q.key_pos("type"), &format!("quality type `{other}`"));
                return;
            }
        };
        let (path, label) = match field {
            Some((p, _)) => (Some(p), "rule"),
            None => (None, "record"),
        };
        let rule_name = name.as_ref().map(|n| n.0.clone());
        if let Some((n, pos)) = &name {
            if !RULE_NAME.is_match(n) {
                self.r.invalid(*pos, format!("rule name `{n}` is not a valid rule name"), "use letters, digits, `_` and `-`, starting with a letter or `_` (Confluent's rule-name syntax)");
            }
        }
        match path {
            Some(p) => self.rule(p, label, check, severity, rule_name, description.clone()),
            None => {
                let n =
                    rule_name.unwrap_or_else(|| format!("record-rule-{}", self.rules.len() + 1));
                self.rules.push(RuleSpec {
                    name: n,
                    kind: RuleKind::Record,
                    field: None,
                    check,
                    severity,
                    action,
                    description,
                });
                return;
            }
        }
        if let Some(last) = self.rules.last_mut() {
            last.action = action;
        }
    }

    fn invalid_values(&mut self, q: &Node) -> Option<Check> {
        let args = q.get("arguments");
        let valid = args
            .and_then(|a| a.get("validValues"))
            .or_else(|| q.get("validValues"));
        if let Some(v) = valid {
            return match &v.value {
                Value::Seq(items) if !items.is_empty() => Some(Check::Enum {
                    values: items.iter().map(Node::to_json).collect(),
                }),
                _ => {
                    self.r.type_error(v, "validValues", "a non-empty list");
                    None
                }
            };
        }
        if let Some(p) = args.and_then(|a| a.get("pattern")) {
            let re = p.as_str().unwrap_or_default();
            if let Err(e) = regex::Regex::new(re) {
                self.r.diags.error(
                    p.pos,
                    code::INVALID_RULE,
                    format!("pattern does not compile: {e}"),
                );
                return None;
            }
            return Some(Check::Pattern {
                regex: re.to_owned(),
            });
        }
        self.r.diags.error_hint(
            q.pos,
            code::MISSING_KEY,
            "invalidValues needs `arguments.validValues` or `arguments.pattern`",
            "e.g. `arguments: {validValues: [EUR, USD]}`",
        );
        None
    }

    fn action(&mut self, q: &Node, severity: Severity) -> Action {
        let default = if severity == Severity::Error {
            Action::Reject
        } else {
            Action::Warn
        };
        for (name, value, pos) in custom_properties(self.r, q) {
            match name.as_str() {
                "mesh.action" => match value.as_str() {
                    Some("reject") => return Action::Reject,
                    Some("warn") => return Action::Warn,
                    _ => self.r.invalid(
                        value.pos,
                        "`mesh.action` must be `reject` or `warn`",
                        "reject = to the DLQ; warn = pass on and count",
                    ),
                },
                n if n.starts_with("mesh.") => self.r.diags.error_hint(
                    pos,
                    code::UNKNOWN_KEY,
                    format!("unknown mesh custom property `{n}` on a rule"),
                    "a rule reads `mesh.action`",
                ),
                _ => {}
            }
        }
        default
    }

    fn not_enforced(&mut self, pos: Pos, what: &str) {
        self.r.diags.push(pos, Severity::Warning, code::NOT_ENFORCED, format!("{what} is not evaluated per event; the gateway skips it"), Some("per-event rules: nullValues/invalidValues with mustBe: 0, logicalTypeOptions, or type: custom with engine: cel".into()));
    }

    /// Compiles CEL and checks every `message.x.y` it reads exists.
    fn cel_ok(&mut self, expr: &str, pos: Pos, field_rule: bool) -> bool {
        if let Err(e) = cel::Program::compile(expr) {
            let msg = e
                .to_string()
                .lines()
                .next()
                .unwrap_or("syntax error")
                .to_owned();
            self.r.diags.error_hint(
                pos,
                code::CEL_COMPILE,
                format!("CEL does not compile: {msg}"),
                if field_rule {
                    "a field rule sees `value` (the field) and `message` (the event)"
                } else {
                    "a record rule sees the event as `message`, e.g. `message.total >= 0`"
                },
            );
            return false;
        }
        let mut ok = true;
        for cap in MESSAGE_REF.captures_iter(expr) {
            let whole = cap.get(0).map_or(0..0, |m| m.range());
            let mut segs: Vec<&str> = cap[1][1..].split('.').collect();
            if expr[whole.end..].trim_start().starts_with('(') {
                segs.pop(); // `message.items.size()`: a method, not a field
            }
            if segs.is_empty() || self.path_exists(&segs) {
                continue;
            }
            let path = segs.join(".");
            let known: Vec<&str> = self.pfields.iter().map(|f| f.path.as_str()).collect();
            let hint = crate::diag::did_you_mean(&path, &known)
                .map(|s| format!("did you mean `message.{s}`?"));
            self.r.diags.push(
                pos,
                Severity::Error,
                code::UNKNOWN_FIELD,
                format!("rule reads `message.{path}`, which is not a field of the schema"),
                hint,
            );
            ok = false;
        }
        ok
    }

    /// A field path exists, or runs into a field whose inside the schema does not list (a map).
    fn path_exists(&self, segs: &[&str]) -> bool {
        for n in (1..=segs.len()).rev() {
            let prefix = segs[..n].join(".");
            if let Some(f) = self.pfields.iter().find(|f| f.path == prefix) {
                return n == segs.len() || !is_record(&f.type_name);
            }
        }
        false
    }

    fn rule(
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

/// `mustBe: 0` (or no threshold at all): a per-record "never".
fn zero_tolerance(q: &Node) -> bool {
    match q.get("mustBe") {
        Some(v) => v.as_f64() == Some(0.0),
        None => ![
            "mustNotBe",
            "mustBeGreaterThan",
            "mustBeGreaterOrEqualTo",
            "mustBeLessThan",
            "mustBeLessOrEqualTo",
            "mustBeBetween",
            "mustNotBeBetween",
        ]
        .iter()
        .any(|k| q.get(k).is_some()),
    }
}

fn is_numeric(t: &str) -> bool {
    let t = t.trim_end_matches('?');
    [
        "int", "long", "float", "double", "number", "integer", "decimal",
    ]
    .contains(&t)
}

fn is_record(t: &str) -> bool {
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
