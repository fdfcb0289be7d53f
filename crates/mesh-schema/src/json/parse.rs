//! Loading JSON Schema documents into the node [`Graph`], the way the everit loader Confluent uses
//! does: `type` (or, without it, the keyword families present) picks typed schemas, `enum`,
//! `const`, `not` and the combinators are schemas of their own, and a schema object holding several
//! of these becomes a synthetic `allOf` (the typed schemas themselves are built in `keywords`).
//! `$ref`s are resolved after the walk, loading their targets on demand, so a reference may point
//! anywhere in any supplied document.

use std::collections::HashMap;

use serde_json::{Map, Value};

use super::keywords::{has_family, string};
use super::model::{Combined, Criterion, Draft, Graph, Kind, Node, NodeId};
use super::refs::Docs;
use crate::SchemaError;

const FORMAT: &str = "JSON";

pub(crate) fn parse_error(message: impl Into<String>) -> SchemaError {
    SchemaError::Parse {
        format: FORMAT,
        message: message.into(),
    }
}

/// Parses `text` with its references (name, schema text) into a graph and its root node.
pub(crate) fn build(
    text: &str,
    references: &[(String, String)],
) -> Result<(Graph, NodeId, Draft), SchemaError> {
    let root = parse_value(text, "schema")?;
    let draft = Draft::from_schema_uri(root.get("$schema").and_then(Value::as_str));
    let mut docs = Docs::default();
    docs.add(String::new(), root, draft);
    for (name, text) in references {
        let value = parse_value(text, &format!("referenced schema {name:?}"))?;
        let ref_draft = match value.get("$schema").and_then(Value::as_str) {
            Some(uri) => Draft::from_schema_uri(Some(uri)),
            None => draft,
        };
        docs.add(name.clone(), value, ref_draft);
    }
    let mut loader = Loader {
        docs,
        graph: Graph::default(),
        located: HashMap::new(),
        pending: Vec::new(),
    };
    let value = loader.docs.docs[0].value.clone();
    let root_id = loader.load(0, "", &value)?;
    while let Some((node, doc, reference)) = loader.pending.pop() {
        let target = loader.docs.locate(doc, &reference).ok_or_else(|| {
            SchemaError::UnresolvedReference {
                format: FORMAT,
                reference: reference.clone(),
            }
        })?;
        let value = loader.docs.docs[target.doc].value.clone();
        let sub = value.pointer(&target.pointer).unwrap_or(&Value::Null);
        let id = loader.load(target.doc, &target.pointer, sub)?;
        loader.graph.nodes[node].kind = Kind::Ref(Some(id));
    }
    Ok((loader.graph, root_id, draft))
}

fn parse_value(text: &str, what: &str) -> Result<Value, SchemaError> {
    let value: Value = serde_json::from_str(text)
        .map_err(|e| parse_error(format!("{what} is not valid JSON: {e}")))?;
    match value {
        Value::Object(_) | Value::Bool(_) => Ok(value),
        other => Err(parse_error(format!(
            "{what} must be a JSON object or boolean, not {}",
            type_name(&other)
        ))),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(super) struct Loader {
    docs: Docs,
    graph: Graph,
    /// (document, JSON pointer) -> node, so each schema location is loaded once.
    located: HashMap<(usize, String), NodeId>,
    /// `$ref` nodes still to resolve: (node, document the ref is written in, ref string).
    pending: Vec<(NodeId, usize, String)>,
}

/// One kind a schema object yields, before it is placed in a node.
enum Part {
    Kind(Kind),
    Ref(String),
}

impl Loader {
    pub(super) fn alloc(&mut self, node: Node) -> NodeId {
        self.graph.nodes.push(node);
        self.graph.nodes.len() - 1
    }

    pub(super) fn load(&mut self, doc: usize, ptr: &str, v: &Value) -> Result<NodeId, SchemaError> {
        if let Some(&id) = self.located.get(&(doc, ptr.to_owned())) {
            return Ok(id);
        }
        let id = self.alloc(Node::default());
        self.located.insert((doc, ptr.to_owned()), id);
        let map = match v {
            Value::Bool(true) => return Ok(id),
            Value::Bool(false) => {
                self.graph.nodes[id].kind = Kind::False;
                return Ok(id);
            }
            Value::Object(map) => map,
            other => {
                return Err(parse_error(format!(
                    "the schema at '#{ptr}' must be an object or boolean, not {}",
                    type_name(other)
                )));
            }
        };
        let draft = self.docs.docs[doc].draft;
        let id_key = if draft == Draft::Draft4 { "id" } else { "$id" };
        let node = &mut self.graph.nodes[id];
        // Confluent's 2019-09/2020-12 loader does not carry `$id` into the compared schema.
        node.id = if draft.is_modern() {
            None
        } else {
            string(map, id_key)
        };
        node.title = string(map, "title");
        node.description = string(map, "description");
        node.default = map.get("default").cloned();
        let parts = self.parts(doc, ptr, map, draft)?;
        let kind = self.place(id, doc, parts);
        self.graph.nodes[id].kind = kind;
        Ok(id)
    }

    /// Puts the parts of schema `id` together: nothing is the empty schema, one part is the
    /// schema itself, several are a synthetic `allOf`.
    fn place(&mut self, id: NodeId, doc: usize, mut parts: Vec<Part>) -> Kind {
        if parts.len() == 1 {
            return match parts.remove(0) {
                Part::Kind(kind) => kind,
                Part::Ref(reference) => {
                    self.pending.push((id, doc, reference));
                    Kind::Ref(None)
                }
            };
        }
        if parts.is_empty() {
            return Kind::Empty;
        }
        let subschemas = parts
            .into_iter()
            .map(|part| match part {
                Part::Kind(kind) => self.alloc(Node {
                    kind,
                    ..Node::default()
                }),
                Part::Ref(reference) => {
                    let sub = self.alloc(Node {
                        kind: Kind::Ref(None),
                        ..Node::default()
                    });
                    self.pending.push((sub, doc, reference));
                    sub
                }
            })
            .collect();
        Kind::Combined(Combined {
            criterion: Criterion::AllOf,
            subschemas,
        })
    }

    fn parts(
        &mut self,
        doc: usize,
        ptr: &str,
        map: &Map<String, Value>,
        draft: Draft,
    ) -> Result<Vec<Part>, SchemaError> {
        let mut parts = Vec::new();
        if let Some(r) = map.get("$ref") {
            let r = r
                .as_str()
                .ok_or_else(|| parse_error(format!("'$ref' at '#{ptr}' must be a string")))?;
            parts.push(Part::Ref(r.to_owned()));
            // Up to draft 7, keywords beside `$ref` are ignored.
            if !draft.is_modern() {
                return Ok(parts);
            }
        }
        if let Some(values) = map.get("enum") {
            let values = values
                .as_array()
                .ok_or_else(|| parse_error(format!("'enum' at '#{ptr}' must be an array")))?;
            let mut distinct: Vec<Value> = Vec::new();
            for v in values {
                if !distinct.contains(v) {
                    distinct.push(v.clone());
                }
            }
            parts.push(Part::Kind(Kind::Enum(distinct)));
        }
        for criterion in [Criterion::AllOf, Criterion::AnyOf, Criterion::OneOf] {
            if let Some(subs) = map.get(criterion.keyword()) {
                let kind = self.combined(doc, ptr, criterion, subs)?;
                parts.push(Part::Kind(kind));
            }
        }
        if let Some(not) = map.get("not") {
            let sub = self.load(doc, &format!("{ptr}/not"), not)?;
            parts.push(Part::Kind(Kind::Not(sub)));
        }
        if let Some(c) = map.get("const").filter(|_| draft >= Draft::Draft6) {
            parts.push(Part::Kind(Kind::Const(c.clone())));
        }
        match map.get("type") {
            Some(Value::String(t)) => parts.push(Part::Kind(self.typed(doc, ptr, map, t, draft)?)),
            Some(Value::Array(types)) => {
                let mut subschemas = Vec::new();
                for t in types {
                    let t = t.as_str().ok_or_else(|| {
                        parse_error(format!("'type' at '#{ptr}' must hold type names"))
                    })?;
                    let kind = self.typed(doc, ptr, map, t, draft)?;
                    subschemas.push(self.alloc(Node {
                        kind,
                        ..Node::default()
                    }));
                }
                parts.push(Part::Kind(Kind::Combined(Combined {
                    criterion: Criterion::AnyOf,
                    subschemas,
                })));
            }
            Some(_) => {
                return Err(parse_error(format!(
                    "'type' at '#{ptr}' must be a string or an array"
                )));
            }
            None => {
                for family in ["array", "object", "number", "string"] {
                    if has_family(map, family, draft) {
                        parts.push(Part::Kind(self.typed(doc, ptr, map, family, draft)?));
                    }
                }
            }
        }
        if draft >= Draft::Draft7 && map.contains_key("if") {
            parts.push(Part::Kind(Kind::Conditional));
        }
        Ok(parts)
    }

    fn combined(
        &mut self,
        doc: usize,
        ptr: &str,
        criterion: Criterion,
        subs: &Value,
    ) -> Result<Kind, SchemaError> {
        let kw = criterion.keyword();
        let subs = subs
            .as_array()
            .ok_or_else(|| parse_error(format!("'{kw}' at '#{ptr}' must be an array")))?;
        let mut seen: Vec<&Value> = Vec::new();
        let mut subschemas = Vec::new();
        for (i, sub) in subs.iter().enumerate() {
            // Confluent collapses duplicate subschemas before comparing.
            if seen.contains(&sub) {
                continue;
            }
            seen.push(sub);
            subschemas.push(self.load(doc, &format!("{ptr}/{kw}/{i}"), sub)?);
        }
        Ok(Kind::Combined(Combined {
            criterion,
            subschemas,
        }))
    }
}
