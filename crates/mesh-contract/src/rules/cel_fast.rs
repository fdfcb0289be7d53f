//! A native fast path for the common shapes of CEL rules.
//!
//! Most contract rules written in CEL compare a member of the event with a literal and combine
//! such comparisons: `message.total <= 10000.0`, `size(message.items) > 0`,
//! `has(message.coupon) && message.qty >= 1`. cel-rust interprets them through dynamic values
//! (name resolution, overload lookup, a boxed value per member), which cost more than decoding
//! and checking the rest of the event. Such expressions compile here to a small tree evaluated
//! straight on the [`EventRef`].
//!
//! Exactness: the fast path only answers when CEL's answer is not in doubt — both sides of a
//! comparison present and of the same CEL type (int, uint, double, string, bool). A missing
//! member, a null, mixed numeric types, lists or maps compared, anything unsupported: the
//! evaluation returns `None` and the rule runs through cel itself, which gives its own result
//! or error message. A differential test compares both on every shape.

use std::borrow::Cow;
use std::cmp::Ordering;

use cel::IdedExpr;
use cel::common::ast::operators as op;
use cel::common::ast::{Expr, LiteralValue};
use mesh_schema::avro::{Datum, latin1, non_finite_name};
use serde_json::Value;

use super::event::EventRef;

/// A compiled expression of the supported subset.
#[derive(Debug)]
pub(crate) enum Fast {
    And(Box<Fast>, Box<Fast>),
    Or(Box<Fast>, Box<Fast>),
    Not(Box<Fast>),
    Cmp(Cmp, Operand, Operand),
    /// `has(<root>.<path>)`: the last segment's presence in the object the rest leads to.
    Has(Root, Vec<String>),
    Lit(bool),
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cmp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Root {
    Message,
    Value,
}

#[derive(Debug)]
pub(crate) enum Operand {
    Path(Root, Vec<String>),
    Size(Root, Vec<String>),
    Lit(Scalar<'static>),
}

/// A CEL value of a comparable scalar type.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Scalar<'e> {
    Int(i64),
    UInt(u64),
    Double(f64),
    Str(Cow<'e, str>),
    Bool(bool),
}

/// Compiles `expr` if every node is of the supported subset.
pub(crate) fn compile(expr: &IdedExpr) -> Option<Fast> {
    match &expr.expr {
        Expr::Literal(LiteralValue::Boolean(_)) => match literal(expr)? {
            Scalar::Bool(b) => Some(Fast::Lit(b)),
            _ => None,
        },
        Expr::Select(s) if s.test => {
            let (root, mut path) = path(&s.operand)?;
            path.push(s.field.clone());
            Some(Fast::Has(root, path))
        }
        Expr::Call(c) if c.target.is_none() => {
            let args = &c.args;
            let cmp = match c.func_name.as_str() {
                op::LOGICAL_AND | op::LOGICAL_OR if args.len() == 2 => {
                    let (a, b) = (Box::new(compile(&args[0])?), Box::new(compile(&args[1])?));
                    return Some(if c.func_name == op::LOGICAL_AND {
                        Fast::And(a, b)
                    } else {
                        Fast::Or(a, b)
                    });
                }
                op::LOGICAL_NOT if args.len() == 1 => {
                    return Some(Fast::Not(Box::new(compile(&args[0])?)));
                }
                op::EQUALS => Cmp::Eq,
                op::NOT_EQUALS => Cmp::Ne,
                op::LESS => Cmp::Lt,
                op::LESS_EQUALS => Cmp::Le,
                op::GREATER => Cmp::Gt,
                op::GREATER_EQUALS => Cmp::Ge,
                _ => return None,
            };
            if args.len() != 2 {
                return None;
            }
            Some(Fast::Cmp(cmp, operand(&args[0])?, operand(&args[1])?))
        }
        _ => None,
    }
}

fn operand(e: &IdedExpr) -> Option<Operand> {
    match &e.expr {
        Expr::Literal(_) => literal(e).map(Operand::Lit),
        Expr::Call(c) if c.func_name == "size" && c.target.is_none() && c.args.len() == 1 => {
            let (root, path) = path(&c.args[0])?;
            Some(Operand::Size(root, path))
        }
        _ => {
            let (root, path) = path(e)?;
            Some(Operand::Path(root, path))
        }
    }
}

/// `message`, `value`, or member selects on them (`message.a.b`).
fn path(e: &IdedExpr) -> Option<(Root, Vec<String>)> {
    match &e.expr {
        Expr::Ident(name) if name == "message" => Some((Root::Message, Vec::new())),
        Expr::Ident(name) if name == "value" => Some((Root::Value, Vec::new())),
        Expr::Select(s) if !s.test => {
            let (root, mut p) = path(&s.operand)?;
            p.push(s.field.clone());
            Some((root, p))
        }
        _ => None,
    }
}

fn literal(e: &IdedExpr) -> Option<Scalar<'static>> {
    let Expr::Literal(l) = &e.expr else {
        return None;
    };
    match cel::Value::try_from(l.to_val().as_ref()).ok()? {
        cel::Value::Int(i) => Some(Scalar::Int(i)),
        cel::Value::UInt(u) => Some(Scalar::UInt(u)),
        cel::Value::Float(f) => Some(Scalar::Double(f)),
        cel::Value::String(s) => Some(Scalar::Str(Cow::Owned(s.as_ref().clone()))),
        cel::Value::Bool(b) => Some(Scalar::Bool(b)),
        _ => None,
    }
}

impl Fast {
    /// The verdict, or `None` when only cel itself can answer exactly.
    /// `value`: the field of a field rule (`None` for a record rule, or a missing field).
    pub(crate) fn eval(&self, message: EventRef<'_>, value: Option<EventRef<'_>>) -> Option<bool> {
        match self {
            Fast::And(a, b) => Some(a.eval(message, value)? && b.eval(message, value)?),
            Fast::Or(a, b) => Some(a.eval(message, value)? || b.eval(message, value)?),
            Fast::Not(a) => a.eval(message, value).map(|b| !b),
            Fast::Lit(b) => Some(*b),
            Fast::Has(root, path) => {
                let (last, parent) = path.split_last()?;
                let parent = resolve(*root, parent, message, value)?;
                match parent {
                    EventRef::Json(Value::Object(m)) => Some(m.contains_key(last.as_str())),
                    EventRef::Avro(Datum::Record(r)) => Some(r.get(last).is_some()),
                    EventRef::Avro(Datum::Map(m)) => Some(m.iter().any(|(k, _)| k == last)),
                    _ => None,
                }
            }
            Fast::Cmp(cmp, a, b) => {
                let (a, b) = (a.eval(message, value)?, b.eval(message, value)?);
                let ord = match (&a, &b) {
                    (Scalar::Int(x), Scalar::Int(y)) => x.cmp(y),
                    (Scalar::UInt(x), Scalar::UInt(y)) => x.cmp(y),
                    (Scalar::Str(x), Scalar::Str(y)) => x.cmp(y),
                    // Booleans only compare for equality in CEL.
                    (Scalar::Bool(x), Scalar::Bool(y)) if matches!(cmp, Cmp::Eq | Cmp::Ne) => {
                        x.cmp(y)
                    }
                    // NaN never reaches here (it reads as the string "NaN"), but be exact.
                    (Scalar::Double(x), Scalar::Double(y)) => x.partial_cmp(y)?,
                    _ => return None,
                };
                Some(match cmp {
                    Cmp::Eq => ord == Ordering::Equal,
                    Cmp::Ne => ord != Ordering::Equal,
                    Cmp::Lt => ord == Ordering::Less,
                    Cmp::Le => ord != Ordering::Greater,
                    Cmp::Gt => ord == Ordering::Greater,
                    Cmp::Ge => ord != Ordering::Less,
                })
            }
        }
    }
}

impl Operand {
    fn eval<'e>(
        &'e self,
        message: EventRef<'e>,
        value: Option<EventRef<'e>>,
    ) -> Option<Scalar<'e>> {
        match self {
            Operand::Lit(s) => Some(s.clone()),
            Operand::Path(root, path) => scalar(resolve(*root, path, message, value)?),
            Operand::Size(root, path) => {
                let n = match resolve(*root, path, message, value)? {
                    EventRef::Json(Value::String(s)) => s.chars().count(),
                    EventRef::Json(Value::Array(a)) => a.len(),
                    EventRef::Json(Value::Object(m)) => m.len(),
                    EventRef::Avro(Datum::String(s) | Datum::Enum(s)) => s.chars().count(),
                    EventRef::Avro(Datum::Bytes(b)) => b.len(),
                    EventRef::Avro(Datum::Array(a)) => a.len(),
                    EventRef::Avro(Datum::Record(r)) => r.iter().count(),
                    // Repeated keys make a map's CEL size differ from its entry count.
                    _ => return None,
                };
                Some(Scalar::Int(i64::try_from(n).ok()?))
            }
        }
    }
}

fn resolve<'e>(
    root: Root,
    path: &[String],
    message: EventRef<'e>,
    value: Option<EventRef<'e>>,
) -> Option<EventRef<'e>> {
    let start = match root {
        Root::Message => message,
        Root::Value => value?,
    };
    start.lookup(path)
}

/// The CEL scalar this part of the event converts to (as `EventRef::to_val` converts it).
fn scalar(v: EventRef<'_>) -> Option<Scalar<'_>> {
    Some(match v {
        EventRef::Json(v) => match v {
            Value::Bool(b) => Scalar::Bool(*b),
            Value::Number(n) => match (n.as_i64(), n.as_u64()) {
                (Some(i), _) => Scalar::Int(i),
                (None, Some(u)) => Scalar::UInt(u),
                _ => Scalar::Double(n.as_f64()?),
            },
            Value::String(s) => Scalar::Str(Cow::Borrowed(s)),
            _ => return None,
        },
        EventRef::Avro(d) => match d {
            Datum::Boolean(b) => Scalar::Bool(*b),
            Datum::Int(i) => Scalar::Int(i64::from(*i)),
            Datum::Long(i) => Scalar::Int(*i),
            Datum::Float(f) => double(f64::from(*f)),
            Datum::Double(f) => double(*f),
            Datum::Bytes(b) => Scalar::Str(Cow::Owned(latin1(b))),
            Datum::String(s) | Datum::Enum(s) => Scalar::Str(Cow::Borrowed(s)),
            _ => return None,
        },
    })
}

fn double(f: f64) -> Scalar<'static> {
    if f.is_finite() {
        Scalar::Double(f)
    } else {
        Scalar::Str(Cow::Borrowed(non_finite_name(f)))
    }
}

#[cfg(test)]
mod tests {
    use cel::{Context, Program};
    use mesh_schema::avro::AvroSchema;
    use serde_json::json;

    use super::*;

    /// What cel itself answers (`None` for an error or a non-boolean).
    fn by_cel(p: &Program, message: EventRef<'_>, value: Option<EventRef<'_>>) -> Option<bool> {
        let root = Context::default();
        let mut ctx = root.new_inner_scope();
        ctx.add_variable_as_val("message", message.to_val());
        match value {
            Some(v) => ctx.add_variable_as_val("value", v.to_val()),
            None => ctx.add_variable_from_value("value", cel::Value::Null),
        }
        match p.execute(&ctx) {
            Ok(cel::Value::Bool(b)) => Some(b),
            _ => None,
        }
    }

    /// On every expression shape and event, the fast path either defers (`None`) or agrees with
    /// cel; the shapes it is for are answered natively.
    #[test]
    fn the_fast_path_agrees_with_cel_or_defers() {
        let json = json!({"total": 12.5, "qty": 3, "big": 18446744073709551615u64,
            "items": [{"sku": "a"}, {"sku": "b"}], "name": "Zoë", "ok": true,
            "coupon": null, "nested": {"x": 1}, "nan": "NaN"});
        let schema = AvroSchema::parse(
            r#"{"type":"record","name":"R","fields":[
              {"name":"total","type":"double"},{"name":"qty","type":"int"},
              {"name":"items","type":{"type":"array","items":"string"}},
              {"name":"name","type":"string"},{"name":"ok","type":"boolean"},
              {"name":"coupon","type":["null","string"]},
              {"name":"nan","type":"double"},
              {"name":"m","type":{"type":"map","values":"long"}}]}"#,
        )
        .unwrap();
        let mut bytes = 12.5f64.to_le_bytes().to_vec();
        bytes.extend([6, 4, 2, b'a', 2, b'b', 0, 8]);
        bytes.extend("Zoë".as_bytes());
        bytes.extend([1, 0]);
        bytes.extend(f64::NAN.to_le_bytes());
        bytes.extend([2, 2, b'k', 14, 0]);
        let datum = schema.decode_datum(&bytes).unwrap();
        let events = [EventRef::Json(&json), EventRef::Avro(&datum)];

        let natively_answered = [
            "message.total <= 10000.0",
            "size(message.items) > 0",
            "message.qty >= 1 && message.qty < 10",
            "message.name == 'Zoë' || message.total > 1.0",
            "!(message.qty == 4)",
            "has(message.items) && size(message.name) == 3",
            "message.ok == true",
            "value > 1.0",
            "true",
        ];
        let all_shapes = [
            "message.total > 1",      // double vs int: cel decides
            "message.qty == 3.0",     // int vs double
            "message.coupon == null", // null
            "message.coupon != 'x'",  // null vs string
            "message.missing > 1",    // missing member
            "has(message.missing)",
            "has(message.nested.x)",
            "has(message.m.k)",
            "message.m.k == 7",
            "message.nan > 1.0", // NaN reads as a string
            "message.big > 1u",
            "message.ok > false", // bools do not order
            "size(message) > 2",
            "message.items == ['a', 'b']",
            "message.name < 'Zz' && message.name >= 'A'",
            "size(message.m) == 1",
            "value.x == 1",
        ];
        for (i, expr) in natively_answered
            .iter()
            .chain(all_shapes.iter())
            .enumerate()
        {
            let program = Program::compile(expr).unwrap();
            let fast = compile(program.expression());
            for event in events {
                let value = event.get(if expr.starts_with("value.") {
                    "nested"
                } else {
                    "total"
                });
                let native = fast.as_ref().and_then(|f| f.eval(event, value));
                if i < natively_answered.len() {
                    assert!(native.is_some(), "{expr} answered natively on {event:?}");
                }
                if let Some(n) = native {
                    assert_eq!(
                        Some(n),
                        by_cel(&program, event, value),
                        "{expr} on {event:?}"
                    );
                }
            }
        }
    }
}
