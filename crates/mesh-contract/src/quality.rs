//! ODCS `quality` entries → rules: which ODCS quality forms are evaluated per event (and the
//! warning for those that are not), CEL compilation and the check that every `message.x` a
//! rule reads exists in the schema.

use std::sync::LazyLock;

use crate::diag::{Pos, Severity, code};
use crate::extensions::custom_properties;
use crate::model::{Action, Check, RuleKind, RuleSpec};
use crate::schema::{Ctx, RULE_NAME, is_record};
use crate::yaml::{Node, Value};

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

static MESSAGE_REF: LazyLock<regex::Regex> = LazyLock::new(|| {
    regex::Regex::new(r"\bmessage((?:\.[A-Za-z_][A-Za-z0-9_]*)+)").expect("static regex")
});

impl Ctx<'_, '_> {
    /// One ODCS quality entry; `field` = (path, physical type) for property-level entries.
    pub(crate) fn quality(&mut self, q: &Node, field: Option<(&str, &str)>) {
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
        if let Some((n, pos)) = &name
            && !RULE_NAME.is_match(n)
        {
            self.r.invalid(*pos, format!("rule name `{n}` is not a valid rule name"), "use letters, digits, `_` and `-`, starting with a letter or `_` (Confluent's rule-name syntax)");
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
