//! Small helpers that read typed values out of the spanned YAML tree and report what is wrong
//! where: unknown keys (with "did you mean"), wrong types, missing keys.

use crate::diag::{Diagnostics, Pos, code, did_you_mean};
use crate::yaml::{Node, Value};

/// Reads one YAML document into values, collecting diagnostics.
#[derive(Debug)]
pub struct Reader<'d> {
    pub diags: &'d mut Diagnostics,
}

impl Reader<'_> {
    /// Reports every key of `node` not in `allowed`; `what` names the section.
    pub fn known_keys(&mut self, node: &Node, allowed: &[&str], what: &str) {
        let Value::Map(entries) = &node.value else {
            return;
        };
        for (k, _) in entries {
            if !allowed.contains(&k.name.as_str()) {
                let hint = match did_you_mean(&k.name, allowed) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => format!("{what} accepts: {}", allowed.join(", ")),
                };
                self.diags.error_hint(
                    k.pos,
                    code::UNKNOWN_KEY,
                    format!("unknown key `{}` in {what}", k.name),
                    &hint,
                );
            }
        }
    }

    pub fn type_error(&mut self, node: &Node, key: &str, expected: &str) {
        self.diags.error(
            node.pos,
            code::TYPE,
            format!("`{key}` must be {expected}, found {}", node.kind()),
        );
    }

    /// A mapping (or `None` after reporting a type error).
    pub fn map<'n>(&mut self, node: &'n Node, key: &str) -> Option<&'n Node> {
        match node.value {
            Value::Map(_) => Some(node),
            _ => {
                self.type_error(node, key, "a mapping");
                None
            }
        }
    }

    pub fn seq<'n>(&mut self, parent: &'n Node, key: &str) -> &'n [Node] {
        match parent.get(key) {
            None
            | Some(Node {
                value: Value::Null, ..
            }) => &[],
            Some(Node {
                value: Value::Seq(items),
                ..
            }) => items,
            Some(other) => {
                self.type_error(other, key, "a list");
                &[]
            }
        }
    }

    /// A string value; numbers are accepted where a string is expected only if `lenient`.
    pub fn string(&mut self, parent: &Node, key: &str) -> Option<(String, Pos)> {
        let node = parent.get(key)?;
        match &node.value {
            Value::Str(s) => Some((s.clone(), node.pos)),
            Value::Null => None,
            _ => {
                self.type_error(node, key, "a string");
                None
            }
        }
    }

    pub fn required_string(&mut self, parent: &Node, key: &str, what: &str) -> (String, Pos) {
        match self.string(parent, key) {
            Some(v) => v,
            None => {
                if parent.get(key).is_none() {
                    self.diags.error_hint(
                        parent.pos,
                        code::MISSING_KEY,
                        format!("{what} is missing `{key}`"),
                        &format!("add `{key}: ...`"),
                    );
                }
                (String::new(), parent.pos)
            }
        }
    }

    pub fn bool(&mut self, parent: &Node, key: &str) -> Option<bool> {
        let node = parent.get(key)?;
        match node.value {
            Value::Bool(b) => Some(b),
            Value::Null => None,
            _ => {
                self.type_error(node, key, "true or false");
                None
            }
        }
    }

    pub fn number(&mut self, parent: &Node, key: &str) -> Option<f64> {
        let node = parent.get(key)?;
        match node.as_f64() {
            Some(f) => Some(f),
            None if matches!(node.value, Value::Null) => None,
            None => {
                self.type_error(node, key, "a number");
                None
            }
        }
    }

    pub fn count(&mut self, parent: &Node, key: &str) -> Option<u64> {
        let node = parent.get(key)?;
        match node.value {
            Value::Int(i) if i >= 0 => Some(i as u64),
            _ => {
                self.type_error(node, key, "a non-negative integer");
                None
            }
        }
    }

    pub fn invalid(&mut self, pos: Pos, message: impl Into<String>, hint: &str) {
        self.diags
            .error_hint(pos, code::INVALID_VALUE, message, hint);
    }
}

/// Parses a duration: `500ms`, `30s`, `5m`, `2h`, `1d` (also `min`, `minutes`, `hours`, ...).
pub fn parse_duration_ms(text: &str) -> Option<u64> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit() && c != '.')?;
    let (num, unit) = t.split_at(split);
    let n: f64 = num.parse().ok()?;
    let ms = unit_ms(unit.trim())?;
    Some((n * ms as f64).round() as u64)
}

/// Milliseconds in one `unit` (ODCS SLA units: `d`, `h`, `m` = minutes, `s`, `ms`, spelled out
/// or abbreviated).
pub fn unit_ms(unit: &str) -> Option<u64> {
    Some(match unit.to_ascii_lowercase().as_str() {
        "ms" | "millisecond" | "milliseconds" => 1,
        "s" | "sec" | "secs" | "second" | "seconds" => 1_000,
        "m" | "min" | "mins" | "minute" | "minutes" => 60_000,
        "h" | "hr" | "hour" | "hours" => 3_600_000,
        "d" | "day" | "days" => 86_400_000,
        _ => return None,
    })
}
