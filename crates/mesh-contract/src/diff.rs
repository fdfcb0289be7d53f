//! What changed between the applied contract (from `_mesh.contracts`) and a new one of the same
//! major, and which changes are breaking. Breaking means: removed fields, a field that became
//! required, tightened or new rejecting rules (producers' events that passed would now be
//! rejected), and a loosened or removed SLA (consumers relied on it). Schema compatibility is
//! checked by the registry at the subject's level, not here.

use std::fmt;

use crate::model::{Action, Check, ResolvedContract, RuleSpec};

/// One difference.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Change {
    pub breaking: bool,
    pub what: String,
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let tag = if self.breaking { "BREAKING" } else { "change" };
        write!(f, "{tag}: {}", self.what)
    }
}

/// Every difference between `old` and `new` that matters to producers or consumers.
pub fn diff(old: &ResolvedContract, new: &ResolvedContract) -> Vec<Change> {
    let mut out = Vec::new();
    let mut push = |breaking: bool, what: String| out.push(Change { breaking, what });
    for f in &old.fields {
        match new.field(&f.path) {
            None => push(true, format!("field `{}` removed", f.path)),
            Some(n) => {
                if n.required && !f.required {
                    push(true, format!("field `{}` became required", f.path));
                }
                if n.physical_type != f.physical_type {
                    push(
                        false,
                        format!(
                            "field `{}` type {} → {}",
                            f.path, f.physical_type, n.physical_type
                        ),
                    );
                }
            }
        }
    }
    for f in &new.fields {
        if old.field(&f.path).is_none() {
            push(false, format!("field `{}` added", f.path));
        }
    }
    for r in &new.rules {
        match old.rules.iter().find(|o| o.name == r.name) {
            None if r.action == Action::Reject => {
                push(true, format!("new rejecting rule `{}`", r.name))
            }
            None => push(false, format!("new warning rule `{}`", r.name)),
            Some(o) => {
                if let Some(why) = tightened(o, r) {
                    push(true, format!("rule `{}` tightened: {why}", r.name));
                } else if o != r {
                    push(false, format!("rule `{}` changed", r.name));
                }
            }
        }
    }
    for o in &old.rules {
        if !new.rules.iter().any(|r| r.name == o.name) {
            push(false, format!("rule `{}` removed", o.name));
        }
    }
    match (&old.sla.freshness, &new.sla.freshness) {
        (Some(_), None) => push(true, "freshness SLA removed".into()),
        (Some(a), Some(b)) if b.objective_ms > a.objective_ms => push(
            true,
            format!(
                "freshness SLA loosened from {} to {}",
                ms(a.objective_ms),
                ms(b.objective_ms)
            ),
        ),
        (Some(a), Some(b)) if a != b => push(false, "freshness settings changed".into()),
        (None, Some(_)) => push(false, "freshness SLA added".into()),
        _ => {}
    }
    match (old.sla.availability, new.sla.availability) {
        (Some(a), None) => push(true, format!("availability SLA {a}% removed")),
        (Some(a), Some(b)) if b < a => {
            push(true, format!("availability SLA lowered from {a}% to {b}%"))
        }
        (a, b) if a != b => push(false, "availability SLA changed".into()),
        _ => {}
    }
    if old.status != new.status {
        push(
            false,
            format!("status {} → {}", old.status.as_str(), new.status.as_str()),
        );
    }
    if old.version != new.version {
        push(false, format!("version {} → {}", old.version, new.version));
    }
    if out.is_empty() && old != new {
        out.push(Change {
            breaking: false,
            what: "documentation or settings changed".into(),
        });
    }
    out
}

fn ms(v: u64) -> String {
    if v % 60_000 == 0 {
        format!("{}m", v / 60_000)
    } else {
        format!("{}s", v as f64 / 1000.0)
    }
}

/// Why `new` rejects events `old` accepted, if it does.
fn tightened(old: &RuleSpec, new: &RuleSpec) -> Option<String> {
    if new.action == Action::Reject && old.action == Action::Warn {
        return Some("action warn → reject".into());
    }
    if new.action == Action::Warn {
        return None;
    }
    match (&old.check, &new.check) {
        (
            Check::Minimum {
                value: a,
                exclusive: ea,
            },
            Check::Minimum {
                value: b,
                exclusive: eb,
            },
        ) if b > a || (b == a && *eb && !ea) => Some(format!("minimum {a} → {b}")),
        (
            Check::Maximum {
                value: a,
                exclusive: ea,
            },
            Check::Maximum {
                value: b,
                exclusive: eb,
            },
        ) if b < a || (b == a && *eb && !ea) => Some(format!("maximum {a} → {b}")),
        (Check::MinLength { value: a }, Check::MinLength { value: b }) if b > a => {
            Some(format!("minimum length {a} → {b}"))
        }
        (Check::MaxLength { value: a }, Check::MaxLength { value: b }) if b < a => {
            Some(format!("maximum length {a} → {b}"))
        }
        (Check::Enum { values: a }, Check::Enum { values: b }) => {
            let gone: Vec<String> = a
                .iter()
                .filter(|v| !b.contains(v))
                .map(|v| v.to_string())
                .collect();
            (!gone.is_empty()).then(|| format!("values no longer allowed: {}", gone.join(", ")))
        }
        (Check::Pattern { regex: a }, Check::Pattern { regex: b }) if a != b => {
            Some(format!("pattern /{a}/ → /{b}/"))
        }
        (Check::Cel { expr: a }, Check::Cel { expr: b }) if a != b => {
            Some("CEL condition changed".into())
        }
        (Check::Format { format: a }, Check::Format { format: b }) if a != b => {
            Some("format changed".into())
        }
        (a, b) if std::mem::discriminant(a) != std::mem::discriminant(b) => {
            Some("check replaced".into())
        }
        _ => None,
    }
}

/// True when any change is breaking.
pub fn is_breaking(changes: &[Change]) -> bool {
    changes.iter().any(|c| c.breaking)
}
