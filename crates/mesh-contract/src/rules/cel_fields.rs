//! Which members of `message` a CEL program can observe.
//!
//! Converting a whole event to a CEL value (a hash map per record, an `Arc<String>` per string)
//! cost far more than evaluating typical rules such as `size(message.items) > 0`. A program that
//! mentions `message` only as `message.<name>` (or `has(message.<name>)`) cannot tell a message
//! holding just those members from the whole one, so only they are converted. Any other use of
//! `message` (passed whole to a function, iterated, compared, shadowed by a comprehension
//! variable) needs the whole event.

use std::collections::BTreeSet;

use cel::IdedExpr;
use cel::common::ast::{EntryExpr, Expr};

/// The members of `message` the expression reads, or `None` when it needs the whole message.
pub(crate) fn message_members(expr: &IdedExpr) -> Option<BTreeSet<String>> {
    let mut out = BTreeSet::new();
    walk(expr, &mut out).then_some(out)
}

/// `false` as soon as `message` is used other than through a member select.
fn walk(e: &IdedExpr, out: &mut BTreeSet<String>) -> bool {
    match &e.expr {
        Expr::Select(s) => {
            if let Expr::Ident(name) = &s.operand.expr
                && name == "message"
            {
                out.insert(s.field.clone());
                true
            } else {
                walk(&s.operand, out)
            }
        }
        Expr::Ident(name) => name != "message",
        Expr::Call(c) => {
            c.target.as_deref().is_none_or(|t| walk(t, out)) && c.args.iter().all(|a| walk(a, out))
        }
        Expr::Comprehension(c) => {
            let shadows = [Some(&c.iter_var), c.iter_var2.as_ref(), Some(&c.accu_var)]
                .into_iter()
                .flatten()
                .any(|v| v == "message");
            !shadows
                && [
                    &c.iter_range,
                    &c.accu_init,
                    &c.loop_cond,
                    &c.loop_step,
                    &c.result,
                ]
                .into_iter()
                .all(|x| walk(x, out))
        }
        Expr::List(l) => l.elements.iter().all(|x| walk(x, out)),
        Expr::Map(m) => m.entries.iter().all(|x| entry(&x.expr, out)),
        Expr::Struct(s) => s.entries.iter().all(|x| entry(&x.expr, out)),
        Expr::Literal(_) | Expr::Unspecified => true,
    }
}

fn entry(e: &EntryExpr, out: &mut BTreeSet<String>) -> bool {
    match e {
        EntryExpr::StructField(f) => walk(&f.value, out),
        EntryExpr::MapEntry(m) => walk(&m.key, out) && walk(&m.value, out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn members(expr: &str) -> Option<Vec<String>> {
        let p = cel::Program::compile(expr).expect("compiles");
        message_members(p.expression()).map(|s| s.into_iter().collect())
    }

    #[test]
    fn member_selects_are_found_and_whole_uses_are_not_narrowed() {
        let v = |xs: &[&str]| Some(xs.iter().map(|s| s.to_string()).collect::<Vec<_>>());
        assert_eq!(members("size(message.items) > 0"), v(&["items"]));
        assert_eq!(
            members("message.total <= 10000.0 && has(message.coupon)"),
            v(&["coupon", "total"])
        );
        assert_eq!(
            members("message.items.all(i, i.qty > 0 && i.sku != message.id)"),
            v(&["id", "items"])
        );
        assert_eq!(
            members("message.a.b == {'k': message.c}['k']"),
            v(&["a", "c"])
        );
        assert_eq!(members("value > 1"), v(&[]));
        assert_eq!(members("size(message) > 2"), None);
        assert_eq!(members("message == {}"), None);
        assert_eq!(members("message.all(k, k != 'x')"), None);
        assert_eq!(members("[1].exists(message, message > 0)"), None);
        assert_eq!(members("'a' in message"), None);
    }
}
