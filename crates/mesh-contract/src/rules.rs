//! Rule evaluation: what the gateway runs on every decoded event.
//!
//! Field rules compile to native checks (a pre-split path lookup plus a comparison); record rules
//! (and field rules written in CEL) compile once to `cel` programs. [`CompiledRules::evaluate`]
//! takes the event as a `serde_json::Value` (the gateway decodes Avro and JSON payloads to that
//! one shape) and returns *every* violation, not just the first. Messages describe the
//! constraint and never include the field's value, so PII cannot leak into DLQ headers.

use cel::{Context, Program};
use serde_json::Value;

use crate::ContractError;
use crate::diag::Severity;
use crate::model::{Action, Check, Format, RuleKind, RuleSpec};

/// One failed rule for one event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Violation {
    pub rule: String,
    /// The field path (`customer.email`), or empty for a record rule.
    pub path: String,
    pub message: String,
    pub severity: Severity,
    pub action: Action,
}

/// Rules ready to evaluate.
#[derive(Debug)]
pub struct CompiledRules {
    rules: Vec<Compiled>,
    has_cel: bool,
}

struct Compiled {
    spec: RuleSpec,
    path: Vec<String>,
    check: Native,
}

impl std::fmt::Debug for Compiled {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Compiled")
            .field("rule", &self.spec.name)
            .finish()
    }
}

enum Native {
    Required,
    Min(f64, bool),
    Max(f64, bool),
    MinLen(u64),
    MaxLen(u64),
    Pattern(regex::Regex),
    Enum(Vec<Value>),
    Format(Format),
    Cel(Box<Program>),
}

impl CompiledRules {
    /// Compiles every rule; a pattern or CEL expression that does not compile is an error
    /// naming the rule (lint reports these with positions before anything is applied).
    pub fn compile(rules: &[RuleSpec]) -> Result<Self, ContractError> {
        let mut out = Vec::with_capacity(rules.len());
        let mut has_cel = false;
        for spec in rules {
            let bad = |e: String| ContractError::Rule {
                rule: spec.name.clone(),
                message: e,
            };
            let check = match &spec.check {
                Check::Required => Native::Required,
                Check::Minimum { value, exclusive } => Native::Min(*value, *exclusive),
                Check::Maximum { value, exclusive } => Native::Max(*value, *exclusive),
                Check::MinLength { value } => Native::MinLen(*value),
                Check::MaxLength { value } => Native::MaxLen(*value),
                Check::Pattern { regex } => {
                    Native::Pattern(regex::Regex::new(regex).map_err(|e| bad(e.to_string()))?)
                }
                Check::Enum { values } => Native::Enum(values.clone()),
                Check::Format { format } => Native::Format(*format),
                Check::Cel { expr } => {
                    has_cel = true;
                    Native::Cel(Box::new(
                        Program::compile(expr).map_err(|e| bad(e.to_string()))?,
                    ))
                }
            };
            let path = spec
                .field
                .as_deref()
                .map(|p| p.split('.').map(str::to_owned).collect())
                .unwrap_or_default();
            out.push(Compiled {
                spec: spec.clone(),
                path,
                check,
            });
        }
        Ok(Self {
            rules: out,
            has_cel,
        })
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Every violation of `event`.
    pub fn evaluate(&self, event: &Value) -> Vec<Violation> {
        let mut out = Vec::new();
        self.evaluate_into(event, &mut out);
        out
    }

    /// [`CompiledRules::evaluate`] appending to `out` (no allocation when everything passes
    /// and there are no CEL rules).
    pub fn evaluate_into(&self, event: &Value, out: &mut Vec<Violation>) {
        // The event is converted to a CEL value once, for all CEL rules.
        let cel_message = if self.has_cel {
            Some(Ok(to_cel(event)))
        } else {
            None
        };
        for c in &self.rules {
            let field = if c.spec.kind == RuleKind::Record {
                Some(event)
            } else {
                lookup(event, &c.path)
            };
            let failure = match &c.check {
                Native::Cel(program) => eval_cel(
                    program,
                    cel_message.as_ref(),
                    (c.spec.kind == RuleKind::Field).then_some(field.unwrap_or(&Value::Null)),
                ),
                check => check_native(check, field),
            };
            if let Some(message) = failure {
                out.push(Violation {
                    rule: c.spec.name.clone(),
                    path: c.spec.field.clone().unwrap_or_default(),
                    message,
                    severity: c.spec.severity,
                    action: c.spec.action,
                });
            }
        }
    }
}

/// Follows a dotted path through objects.
fn lookup<'v>(event: &'v Value, path: &[String]) -> Option<&'v Value> {
    let mut v = event;
    for seg in path {
        v = v.as_object()?.get(seg)?;
    }
    Some(v)
}

/// `None` = passed; `Some(message)` = failed. Only `Required` fails on a missing or null field;
/// the other checks apply to values that are present.
fn check_native(check: &Native, value: Option<&Value>) -> Option<String> {
    let v = match value {
        None | Some(Value::Null) => {
            return matches!(check, Native::Required).then(|| "is required".to_owned());
        }
        Some(v) => v,
    };
    match check {
        Native::Required | Native::Cel(_) => None,
        Native::Min(min, excl) => match v.as_f64() {
            None => Some("must be a number".into()),
            Some(n) if (*excl && n <= *min) || (!*excl && n < *min) => {
                Some(format!("must be {} {min}", if *excl { ">" } else { ">=" }))
            }
            Some(_) => None,
        },
        Native::Max(max, excl) => match v.as_f64() {
            None => Some("must be a number".into()),
            Some(n) if (*excl && n >= *max) || (!*excl && n > *max) => {
                Some(format!("must be {} {max}", if *excl { "<" } else { "<=" }))
            }
            Some(_) => None,
        },
        Native::MinLen(min) => match length(v) {
            None => Some("must be a string or a list".into()),
            Some(n) if n < *min => Some(format!("must have at least {min} characters/items")),
            Some(_) => None,
        },
        Native::MaxLen(max) => match length(v) {
            None => Some("must be a string or a list".into()),
            Some(n) if n > *max => Some(format!("must have at most {max} characters/items")),
            Some(_) => None,
        },
        Native::Pattern(re) => match v.as_str() {
            None => Some("must be a string".into()),
            Some(s) if !re.is_match(s) => Some(format!("must match /{}/", re.as_str())),
            Some(_) => None,
        },
        Native::Enum(values) => (!values.iter().any(|x| enum_eq(x, v)))
            .then(|| format!("must be one of {}", render_values(values))),
        Native::Format(f) => {
            (!format_ok(*f, v)).then(|| format!("must be a valid {}", format_name(*f)))
        }
    }
}

fn length(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => Some(s.chars().count() as u64),
        Value::Array(a) => Some(a.len() as u64),
        _ => None,
    }
}

/// Numbers compare by value (`1` equals `1.0`), everything else structurally.
fn enum_eq(a: &Value, b: &Value) -> bool {
    match (a.as_f64(), b.as_f64()) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

fn render_values(values: &[Value]) -> String {
    let shown: Vec<String> = values.iter().take(10).map(|v| v.to_string()).collect();
    let more = if values.len() > 10 { ", ..." } else { "" };
    format!("[{}{more}]", shown.join(", "))
}

fn eval_cel(
    program: &Program,
    message: Option<&Result<cel::Value, String>>,
    field_value: Option<&Value>,
) -> Option<String> {
    let message = match message {
        Some(Ok(m)) => m.clone(),
        Some(Err(e)) => return Some(format!("event cannot be read by CEL: {e}")),
        None => return Some("internal: CEL rule without a converted event".into()),
    };
    ROOT.with(|root| {
        let mut ctx = root.new_inner_scope();
        ctx.add_variable_from_value("message", message);
        if let Some(v) = field_value {
            ctx.add_variable_from_value("value", to_cel(v));
        }
        match program.execute(&ctx) {
            Ok(cel::Value::Bool(true)) => None,
            Ok(cel::Value::Bool(false)) => Some("condition is false".into()),
            Ok(other) => Some(format!("condition returned {other:?}, not a boolean")),
            Err(e) => Some(format!("condition failed: {e}")),
        }
    })
}

thread_local! {
    /// CEL's standard library, built once per thread: building it per evaluation cost more
    /// than the evaluation itself.
    static ROOT: Context<'static, 'static> = Context::default();
}

pub fn to_cel(v: &Value) -> cel::Value {
    match v {
        Value::Null => cel::Value::Null,
        Value::Bool(b) => cel::Value::Bool(*b),
        Value::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => cel::Value::Int(i),
            (None, Some(u)) => cel::Value::UInt(u),
            _ => cel::Value::Float(n.as_f64().unwrap_or(f64::NAN)),
        },
        Value::String(s) => cel::Value::String(std::sync::Arc::new(s.clone())),
        Value::Array(a) => cel::Value::List(std::sync::Arc::new(a.iter().map(to_cel).collect())),
        Value::Object(m) => {
            let map: std::collections::HashMap<cel::objects::Key, cel::Value> = m
                .iter()
                .map(|(k, v)| {
                    (
                        cel::objects::Key::String(std::sync::Arc::new(k.clone())),
                        to_cel(v),
                    )
                })
                .collect();
            cel::Value::Map(cel::objects::Map {
                map: std::sync::Arc::new(map),
            })
        }
    }
}

pub(crate) fn format_name(f: Format) -> &'static str {
    match f {
        Format::Email => "email address",
        Format::Uuid => "UUID",
        Format::Timestamp => "RFC 3339 timestamp",
        Format::Date => "date (YYYY-MM-DD)",
        Format::Uri => "URI",
    }
}

/// Format checks, hand-written: they run per event and a regex per check would be slower.
pub(crate) fn format_ok(f: Format, v: &Value) -> bool {
    // Avro timestamp-millis / date arrive as numbers: the type already guarantees the format.
    if matches!(f, Format::Timestamp | Format::Date) && v.is_number() {
        return true;
    }
    let Some(s) = v.as_str() else {
        return false;
    };
    match f {
        Format::Email => {
            let Some((local, domain)) = s.split_once('@') else {
                return false;
            };
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !s.chars().any(|c| c.is_whitespace() || c.is_control())
        }
        Format::Uuid => {
            let b = s.as_bytes();
            b.len() == 36
                && b.iter().enumerate().all(|(i, c)| match i {
                    8 | 13 | 18 | 23 => *c == b'-',
                    _ => c.is_ascii_hexdigit(),
                })
        }
        Format::Date => date_ok(s.as_bytes()),
        Format::Timestamp => timestamp_ok(s.as_bytes()),
        Format::Uri => s.split_once(':').is_some_and(|(scheme, rest)| {
            !rest.is_empty()
                && scheme
                    .chars()
                    .next()
                    .is_some_and(|c| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+.-".contains(c))
        }),
    }
}

fn digits(b: &[u8]) -> Option<u32> {
    if b.is_empty() || !b.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(b.iter().fold(0, |n, d| n * 10 + u32::from(d - b'0')))
}

fn date_ok(b: &[u8]) -> bool {
    b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && digits(&b[0..4]).is_some()
        && digits(&b[5..7]).is_some_and(|m| (1..=12).contains(&m))
        && digits(&b[8..10]).is_some_and(|d| (1..=31).contains(&d))
}

/// RFC 3339: `YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)`.
fn timestamp_ok(b: &[u8]) -> bool {
    if b.len() < 20 || !date_ok(&b[..10]) || !matches!(b[10], b'T' | b't' | b' ') {
        return false;
    }
    let t = &b[11..];
    let time_ok = t.len() >= 8
        && t[2] == b':'
        && t[5] == b':'
        && digits(&t[0..2]).is_some_and(|h| h < 24)
        && digits(&t[3..5]).is_some_and(|m| m < 60)
        && digits(&t[6..8]).is_some_and(|s| s <= 60);
    if !time_ok {
        return false;
    }
    let mut rest = &t[8..];
    if let Some(frac) = rest.strip_prefix(b".") {
        let n = frac.iter().take_while(|c| c.is_ascii_digit()).count();
        if n == 0 {
            return false;
        }
        rest = &frac[n..];
    }
    match rest {
        [b'Z' | b'z'] => true,
        [b'+' | b'-', h1, h2, b':', m1, m2] => {
            digits(&[*h1, *h2]).is_some_and(|h| h < 24)
                && digits(&[*m1, *m2]).is_some_and(|m| m < 60)
        }
        _ => false,
    }
}
