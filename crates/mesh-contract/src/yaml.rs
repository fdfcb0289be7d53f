//! A YAML tree with a position on every node and key, built from `saphyr`'s marked loader, so
//! every diagnostic can point at the exact place in the file.

use saphyr::{LoadableYamlNode, MarkedYamlOwned, ScalarOwned, YamlDataOwned};

use crate::diag::Pos;

/// A YAML value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Node>),
    /// Entries in document order; keys are scalars rendered as strings.
    Map(Vec<(Key, Node)>),
}

/// A mapping key and where it is.
#[derive(Clone, Debug, PartialEq)]
pub struct Key {
    pub name: String,
    pub pos: Pos,
}

/// A value and where it starts.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub pos: Pos,
    pub value: Value,
}

/// A YAML syntax error with its position.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SyntaxError {
    pub pos: Pos,
    pub message: String,
}

/// Parses one YAML document (an empty file is an empty mapping).
pub fn parse(text: &str) -> Result<Node, SyntaxError> {
    let docs = MarkedYamlOwned::load_from_str(text).map_err(|e| SyntaxError {
        pos: Pos {
            line: e.marker().line(),
            column: e.marker().col() + 1,
        },
        message: e.info().to_owned(),
    })?;
    match docs.into_iter().next() {
        Some(doc) => Ok(convert(doc)),
        None => Ok(Node {
            pos: Pos { line: 1, column: 1 },
            value: Value::Map(Vec::new()),
        }),
    }
}

fn pos_of(n: &MarkedYamlOwned) -> Pos {
    Pos {
        line: n.span.start.line(),
        column: n.span.start.col() + 1,
    }
}

fn convert(n: MarkedYamlOwned) -> Node {
    let pos = pos_of(&n);
    let value = match n.data {
        YamlDataOwned::Value(s) => scalar(s),
        YamlDataOwned::Representation(s, _, _) => Value::Str(s),
        YamlDataOwned::Sequence(items) => Value::Seq(items.into_iter().map(convert).collect()),
        YamlDataOwned::Mapping(map) => Value::Map(
            map.into_iter()
                .map(|(k, v)| {
                    let kpos = pos_of(&k);
                    let name = match convert(k).value {
                        Value::Str(s) => s,
                        Value::Int(i) => i.to_string(),
                        Value::Float(f) => f.to_string(),
                        Value::Bool(b) => b.to_string(),
                        Value::Null => "null".to_owned(),
                        Value::Seq(_) | Value::Map(_) => "<complex key>".to_owned(),
                    };
                    (Key { name, pos: kpos }, convert(v))
                })
                .collect(),
        ),
        YamlDataOwned::Tagged(_, inner) => convert(*inner).value,
        YamlDataOwned::Alias(_) | YamlDataOwned::BadValue => Value::Null,
    };
    Node { pos, value }
}

fn scalar(s: ScalarOwned) -> Value {
    match s {
        ScalarOwned::Null => Value::Null,
        ScalarOwned::Boolean(b) => Value::Bool(b),
        ScalarOwned::Integer(i) => Value::Int(i),
        ScalarOwned::FloatingPoint(f) => Value::Float(f.into_inner()),
        ScalarOwned::String(s) => Value::Str(s),
    }
}

impl Node {
    /// The YAML type name, for "expected X, found Y" messages.
    pub fn kind(&self) -> &'static str {
        match self.value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Int(_) => "integer",
            Value::Float(_) => "number",
            Value::Str(_) => "string",
            Value::Seq(_) => "list",
            Value::Map(_) => "mapping",
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.value {
            Value::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A scalar rendered as text (numbers and booleans too), for free-form values.
    pub fn scalar_text(&self) -> Option<String> {
        match &self.value {
            Value::Str(s) => Some(s.clone()),
            Value::Int(i) => Some(i.to_string()),
            Value::Float(f) => Some(f.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        }
    }

    pub fn as_f64(&self) -> Option<f64> {
        match self.value {
            Value::Int(i) => Some(i as f64),
            Value::Float(f) => Some(f),
            _ => None,
        }
    }

    pub fn get(&self, key: &str) -> Option<&Node> {
        match &self.value {
            Value::Map(m) => m.iter().find(|(k, _)| k.name == key).map(|(_, v)| v),
            _ => None,
        }
    }

    /// The position of `key` in this mapping, or of the mapping itself.
    pub fn key_pos(&self, key: &str) -> Pos {
        match &self.value {
            Value::Map(m) => m
                .iter()
                .find(|(k, _)| k.name == key)
                .map(|(k, _)| k.pos)
                .unwrap_or(self.pos),
            _ => self.pos,
        }
    }

    /// The node as plain JSON (for examples and free-form custom property values).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.value {
            Value::Null => J::Null,
            Value::Bool(b) => J::Bool(*b),
            Value::Int(i) => J::from(*i),
            Value::Float(f) => serde_json::Number::from_f64(*f).map_or(J::Null, J::Number),
            Value::Str(s) => J::String(s.clone()),
            Value::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Value::Map(m) => J::Object(
                m.iter()
                    .map(|(k, v)| (k.name.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}
