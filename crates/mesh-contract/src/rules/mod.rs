//! Rule evaluation: what the gateway runs on every decoded event.
//!
//! Field rules compile to native checks (a pre-split path lookup plus a comparison); record rules
//! (and field rules written in CEL) compile once to `cel` programs. [`CompiledRules::evaluate_into`]
//! takes the event as an [`EventRef`] — a JSON value, or a decoded Avro datum read in place — and
//! returns *every* violation, not just the first. Messages describe the constraint and never
//! include the field's value, so PII cannot leak into DLQ headers.

mod cel_fast;
mod cel_fields;
mod event;
mod format;

use std::collections::BTreeSet;

use cel::{Context, Program};
use serde_json::Value;

use crate::ContractError;
use crate::diag::Severity;
use crate::model::{Action, Check, Format, RuleKind, RuleSpec};

pub use event::{EventRef, Scalar, json_to_cel};
pub(crate) use format::{format_name, format_ok};

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
    cel: CelInput,
}

/// What of the event the CEL rules need converted, once per event.
#[derive(Debug)]
enum CelInput {
    /// No CEL rules.
    None,
    /// Only these members of `message`.
    Members(Vec<String>),
    /// The whole message.
    Whole,
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
    /// The program, and its native fast path when the expression has a supported shape.
    Cel(Box<Program>, Option<cel_fast::Fast>),
}

impl CompiledRules {
    /// Compiles every rule; a pattern or CEL expression that does not compile is an error
    /// naming the rule (lint reports these with positions before anything is applied).
    pub fn compile(rules: &[RuleSpec]) -> Result<Self, ContractError> {
        let mut out = Vec::with_capacity(rules.len());
        let mut has_cel = false;
        // `None` once some program needs the whole message.
        let mut members = Some(BTreeSet::new());
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
                    let program = Program::compile(expr).map_err(|e| bad(e.to_string()))?;
                    members = members
                        .zip(cel_fields::message_members(program.expression()))
                        .map(|(mut all, more)| {
                            all.extend(more);
                            all
                        });
                    let fast = cel_fast::compile(program.expression());
                    Native::Cel(Box::new(program), fast)
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
        let cel = match (has_cel, members) {
            (false, _) => CelInput::None,
            (true, None) => CelInput::Whole,
            (true, Some(names)) => CelInput::Members(names.into_iter().collect()),
        };
        Ok(Self { rules: out, cel })
    }

    pub fn len(&self) -> usize {
        self.rules.len()
    }

    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Every violation of `event`.
    pub fn evaluate<'e>(&self, event: impl Into<EventRef<'e>>) -> Vec<Violation> {
        let mut out = Vec::new();
        self.evaluate_into(event, &mut out);
        out
    }

    /// [`CompiledRules::evaluate`] appending to `out` (no allocation when everything passes
    /// and there are no CEL rules).
    pub fn evaluate_into<'e>(&self, event: impl Into<EventRef<'e>>, out: &mut Vec<Violation>) {
        let event = event.into();
        match self.cel {
            CelInput::None => self.run(event, None, out),
            _ => ROOT.with(|root| self.run(event, Some(root), out)),
        }
    }

    fn run(&self, event: EventRef<'_>, root: Option<&Context<'_, '_>>, out: &mut Vec<Violation>) {
        // The scope the CEL rules cel itself evaluates run in, made on first need: the event
        // is converted once (only as far as the CEL rules can read it, straight to cel's own
        // values, borrowing its strings) and bound once.
        let mut scope = None;
        for c in &self.rules {
            let field = if c.spec.kind == RuleKind::Record {
                Some(event)
            } else {
                event.lookup(&c.path)
            };
            let failure = match &c.check {
                Native::Cel(program, fast) => {
                    let value = (c.spec.kind == RuleKind::Field).then_some(field);
                    match fast.as_ref().and_then(|f| f.eval(event, value.flatten())) {
                        Some(true) => None,
                        Some(false) => Some(CONDITION_FALSE.to_owned()),
                        None => {
                            let scope = scope.get_or_insert_with(|| {
                                root.map(|root| {
                                    let mut s = root.new_inner_scope();
                                    s.add_variable_as_val("message", self.message(event));
                                    s
                                })
                            });
                            eval_cel(program, scope.as_ref(), value)
                        }
                    }
                }
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

    /// The `message` variable: the members the CEL rules read, or the whole event.
    fn message<'e>(&self, event: EventRef<'e>) -> Box<dyn cel::common::value::Val + 'e> {
        match &self.cel {
            CelInput::Members(names) => event.to_val_members(names),
            CelInput::None | CelInput::Whole => event.to_val(),
        }
    }
}

const CONDITION_FALSE: &str = "condition is false";

/// `None` = passed; `Some(message)` = failed. Only `Required` fails on a missing or null field;
/// the other checks apply to values that are present.
fn check_native(check: &Native, value: Option<EventRef<'_>>) -> Option<String> {
    let v = match value.map(EventRef::scalar) {
        None | Some(Scalar::Null) => {
            return matches!(check, Native::Required).then(|| "is required".to_owned());
        }
        Some(v) => v,
    };
    let number = match v {
        Scalar::Num(n) => Some(n),
        _ => None,
    };
    match check {
        Native::Required | Native::Cel(..) => None,
        Native::Min(min, excl) => match number {
            None => Some("must be a number".into()),
            Some(n) if (*excl && n <= *min) || (!*excl && n < *min) => {
                Some(format!("must be {} {min}", if *excl { ">" } else { ">=" }))
            }
            Some(_) => None,
        },
        Native::Max(max, excl) => match number {
            None => Some("must be a number".into()),
            Some(n) if (*excl && n >= *max) || (!*excl && n > *max) => {
                Some(format!("must be {} {max}", if *excl { "<" } else { "<=" }))
            }
            Some(_) => None,
        },
        Native::MinLen(min) => match length(&v) {
            None => Some("must be a string or a list".into()),
            Some(n) if n < *min => Some(format!("must have at least {min} characters/items")),
            Some(_) => None,
        },
        Native::MaxLen(max) => match length(&v) {
            None => Some("must be a string or a list".into()),
            Some(n) if n > *max => Some(format!("must have at most {max} characters/items")),
            Some(_) => None,
        },
        Native::Pattern(re) => match &v {
            Scalar::Str(s) if re.is_match(s) => None,
            Scalar::Str(_) => Some(format!("must match /{}/", re.as_str())),
            _ => Some("must be a string".into()),
        },
        Native::Enum(values) => {
            // Lists and objects compare structurally, through their JSON view.
            let whole = matches!(v, Scalar::List(_) | Scalar::Object)
                .then(|| value.map(EventRef::to_json))
                .flatten();
            (!values.iter().any(|x| enum_eq(x, &v, whole.as_ref())))
                .then(|| format!("must be one of {}", render_values(values)))
        }
        Native::Format(f) => {
            (!format_ok(*f, &v)).then(|| format!("must be a valid {}", format_name(*f)))
        }
    }
}

fn length(v: &Scalar<'_>) -> Option<u64> {
    match v {
        Scalar::Str(s) => Some(s.chars().count() as u64),
        Scalar::List(n) => Some(*n as u64),
        _ => None,
    }
}

/// Numbers compare by value (`1` equals `1.0`), everything else structurally.
fn enum_eq(allowed: &Value, v: &Scalar<'_>, whole: Option<&Value>) -> bool {
    match (allowed, v) {
        (Value::Number(a), Scalar::Num(b)) => a.as_f64() == Some(*b),
        (Value::String(a), Scalar::Str(b)) => a == b,
        (Value::Bool(a), Scalar::Bool(b)) => a == b,
        (Value::Array(_) | Value::Object(_), Scalar::List(_) | Scalar::Object) => {
            whole == Some(allowed)
        }
        _ => false,
    }
}

fn render_values(values: &[Value]) -> String {
    let shown: Vec<String> = values.iter().take(10).map(|v| v.to_string()).collect();
    let more = if values.len() > 10 { ", ..." } else { "" };
    format!("[{}{more}]", shown.join(", "))
}

/// `field`: `None` for a record rule; `Some(value)` for a field rule (a missing field is `null`).
fn eval_cel(
    program: &Program,
    scope: Option<&Context<'_, '_>>,
    field: Option<Option<EventRef<'_>>>,
) -> Option<String> {
    let Some(scope) = scope else {
        return Some("internal: CEL rule without a converted event".into());
    };
    let result = match field {
        Some(v) => {
            let mut inner = scope.new_inner_scope();
            match v {
                Some(v) => inner.add_variable_as_val("value", v.to_val()),
                None => inner.add_variable_from_value("value", cel::Value::Null),
            }
            program.execute(&inner)
        }
        None => program.execute(scope),
    };
    match result {
        Ok(cel::Value::Bool(true)) => None,
        Ok(cel::Value::Bool(false)) => Some(CONDITION_FALSE.into()),
        Ok(other) => Some(format!("condition returned {other:?}, not a boolean")),
        Err(e) => Some(format!("condition failed: {e}")),
    }
}

thread_local! {
    /// CEL's standard library, built once per thread: building it per evaluation cost more
    /// than the evaluation itself.
    static ROOT: Context<'static, 'static> = Context::default();
}
