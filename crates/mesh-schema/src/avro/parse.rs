//! JSON text -> [`AvroSchema`] model, validating like Java's `Schema.Parser` (Avro 1.11):
//! names and namespaces, duplicates, undefined names, union rules and field defaults.
//!
//! Named types must be defined before they are used (a record may refer to itself from its own
//! fields, because it is registered before they are parsed), exactly as in Java. Unqualified
//! references resolve in the enclosing namespace first and then in the null namespace.

use std::collections::{BTreeMap, HashMap, HashSet};

use serde_json::Value;

use super::AvroSchema;
use super::defaults::validate_default;
use super::json::{self, Json};
use super::model::{Field, FieldSource, Kind, Name, Named, Node, NodeId, Order};

/// Attributes that are part of a type's own syntax and therefore not kept as properties.
const TYPE_RESERVED: &[&str] = &[
    "type",
    "name",
    "namespace",
    "doc",
    "aliases",
    "fields",
    "symbols",
    "items",
    "values",
    "size",
    "logicalType",
];
/// Java's `SCHEMA_RESERVED`: every other attribute of a type is one of its properties
/// (`logicalType` included); enums also reserve `default`.
const JAVA_TYPE_RESERVED: &[&str] = &[
    "doc",
    "fields",
    "items",
    "name",
    "namespace",
    "size",
    "symbols",
    "values",
    "type",
    "aliases",
];
const FIELD_RESERVED: &[&str] = &["name", "type", "doc", "default", "order", "aliases"];

/// The parser state shared by the referenced schemas and the main schema.
#[derive(Debug)]
pub(crate) struct Parser {
    nodes: Vec<Node>,
    /// Full name -> defining node.
    names: HashMap<String, NodeId>,
    /// Records whose field defaults are still to be validated: validation waits for the end of
    /// the document, because a default may involve a type (e.g. an enclosing record) that is
    /// not complete yet when the field is parsed.
    pending_defaults: Vec<NodeId>,
    /// Off for schemas that were accepted before (see [`super::ParseOptions`]).
    pub(crate) validate_defaults: bool,
}

type Res<T> = Result<T, String>;

/// A JSON object's members, in document order.
type Obj = [(String, Json)];

impl Parser {
    pub(crate) fn new(validate_defaults: bool) -> Self {
        Parser {
            nodes: Vec::new(),
            names: HashMap::new(),
            pending_defaults: Vec::new(),
            validate_defaults,
        }
    }

    /// Parses one document and returns its root; its named types stay defined for later
    /// documents (which is how schema references work).
    pub(crate) fn parse_document(&mut self, text: &str) -> Res<NodeId> {
        let json = Json::parse(text).map_err(|e| format!("not valid JSON: {e}"))?;
        let root = self.parse(&json, None)?;
        let pending = std::mem::take(&mut self.pending_defaults);
        if !self.validate_defaults {
            return Ok(root);
        }
        for record in pending {
            let Kind::Record { named, fields, .. } = &self.nodes[record.0].kind else {
                continue;
            };
            for f in fields {
                if let Some(d) = &f.default {
                    validate_default(&self.nodes, f.schema, d).map_err(|why| {
                        format!(
                            "invalid default for field {} in record {}: {d} {why}",
                            f.name, named.name
                        )
                    })?;
                }
            }
        }
        Ok(root)
    }

    /// A parser that already knows the types of `nodes` (the referenced schemas' part of an
    /// arena), so a document can use them by name, as after parsing those references.
    pub(crate) fn seeded(nodes: &[Node], validate_defaults: bool) -> Self {
        let names = (0..nodes.len())
            .filter_map(|i| Some((nodes[i].kind.named()?.name.fullname(), NodeId(i))))
            .collect();
        Parser {
            nodes: nodes.to_vec(),
            names,
            pending_defaults: Vec::new(),
            validate_defaults,
        }
    }

    /// How many nodes the documents parsed so far produced.
    pub(crate) fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// The schema rooted at `root`; `referenced` are the roots of the referenced schemas, whose
    /// nodes are the first `ref_nodes`.
    pub(crate) fn finish(
        self,
        root: NodeId,
        referenced: Vec<NodeId>,
        ref_nodes: usize,
    ) -> AvroSchema {
        AvroSchema {
            nodes: self.nodes,
            root,
            referenced,
            ref_nodes,
        }
    }

    fn push(
        &mut self,
        kind: Kind,
        logical_type: Option<String>,
        props: BTreeMap<String, Value>,
        attrs: Vec<(String, Json)>,
    ) -> NodeId {
        self.nodes.push(Node {
            kind,
            logical_type,
            props,
            attrs,
        });
        NodeId(self.nodes.len() - 1)
    }

    fn parse(&mut self, json: &Json, ns: Option<&str>) -> Res<NodeId> {
        match json {
            Json::String(name) => self.lookup(name, ns),
            Json::Array(branches) => self.parse_union(branches, ns),
            Json::Object(obj) => self.parse_object(obj, ns),
            other => Err(format!(
                "{other} is not a schema: expected a type name, an object or an array"
            )),
        }
    }

    /// A type referenced by name: a primitive, or a named type defined earlier.
    fn lookup(&mut self, name: &str, ns: Option<&str>) -> Res<NodeId> {
        if let Some(kind) = Kind::primitive(name) {
            return Ok(self.push(kind, None, BTreeMap::new(), Vec::new()));
        }
        let qualified = match ns {
            Some(ns) if !name.contains('.') => format!("{ns}.{name}"),
            _ => name.to_owned(),
        };
        // Java falls back to the null namespace for an unqualified name not found in the
        // enclosing one, so a type from a namespace-less reference stays usable.
        self.names
            .get(&qualified)
            .or_else(|| self.names.get(name))
            .copied()
            .ok_or_else(|| format!("undefined name: \"{qualified}\" is not a primitive type nor a previously defined named type"))
    }

    fn parse_union(&mut self, branches: &[Json], ns: Option<&str>) -> Res<NodeId> {
        let mut ids = Vec::with_capacity(branches.len());
        let mut seen = HashSet::new();
        for b in branches {
            let id = self.parse(b, ns)?;
            let kind = &self.nodes[id.0].kind;
            if matches!(kind, Kind::Union(_)) {
                return Err(format!("nested union: {}", Json::Array(branches.to_vec())));
            }
            // Unnamed types may appear once per union; named types once per full name.
            let key = kind
                .named()
                .map_or_else(|| kind.json_name().to_owned(), |n| n.name.fullname());
            if !seen.insert(key.clone()) {
                return Err(format!("duplicate in union: {key}"));
            }
            ids.push(id);
        }
        Ok(self.push(Kind::Union(ids), None, BTreeMap::new(), Vec::new()))
    }

    fn parse_object(&mut self, obj: &Obj, ns: Option<&str>) -> Res<NodeId> {
        let Some(Json::String(ty)) = json::get(obj, "type") else {
            return Err(format!("no type: {}", show(obj)));
        };
        let logical_type = json::get(obj, "logicalType")
            .and_then(Json::as_str)
            .map(str::to_owned);
        let props = extra_props(obj, TYPE_RESERVED);
        let attrs = java_attrs(obj, JAVA_TYPE_RESERVED, ty == "enum");
        if let Some(kind) = Kind::primitive(ty) {
            return Ok(self.push(kind, logical_type, props, attrs));
        }
        match ty.as_str() {
            "array" => {
                let items = json::get(obj, "items")
                    .ok_or_else(|| format!("array has no items type: {}", show(obj)))?;
                let items = self.parse(items, ns)?;
                Ok(self.push(Kind::Array(items), logical_type, props, attrs))
            }
            "map" => {
                let values = json::get(obj, "values")
                    .ok_or_else(|| format!("map has no values type: {}", show(obj)))?;
                let values = self.parse(values, ns)?;
                Ok(self.push(Kind::Map(values), logical_type, props, attrs))
            }
            "record" | "error" | "enum" | "fixed" => {
                self.parse_named(ty, obj, ns, logical_type, (props, attrs))
            }
            // `{"type": "Foo"}` refers to a defined named type; other attributes are ignored,
            // as in Java.
            other => self
                .lookup(other, ns)
                .map_err(|_| format!("type not supported: {other}")),
        }
    }

    fn parse_named(
        &mut self,
        ty: &str,
        obj: &Obj,
        ns: Option<&str>,
        logical_type: Option<String>,
        (mut props, attrs): (BTreeMap<String, Value>, Vec<(String, Json)>),
    ) -> Res<NodeId> {
        let named = self.parse_name_block(obj, ns)?;
        let full = named.name.fullname();
        let space = named.name.namespace.clone();
        if ty == "enum" {
            props.remove("default");
        }
        let kind = match ty {
            "enum" => parse_enum(obj, named)?,
            "fixed" => {
                let size = json::get(obj, "size")
                    .and_then(Json::as_i64)
                    .filter(|s| (0..=i64::from(i32::MAX)).contains(s));
                let size = size.ok_or_else(|| format!("invalid or no size: {}", show(obj)))?;
                Kind::Fixed {
                    named,
                    size: size as u64,
                }
            }
            // A record is registered (with no fields yet) before its fields are parsed, so that
            // it can refer to itself.
            _ => Kind::Record {
                named,
                fields: Vec::new(),
                is_error: ty == "error",
            },
        };
        let id = self.push(kind, logical_type, props, attrs);
        self.names.insert(full.clone(), id);
        if let Kind::Record { .. } = self.nodes[id.0].kind {
            let Some(Json::Array(list)) = json::get(obj, "fields") else {
                return Err(format!("record has no fields: {}", show(obj)));
            };
            let mut fields: Vec<Field> = Vec::with_capacity(list.len());
            for f in list {
                let field = self.parse_field(f, space.as_deref(), &full)?;
                if fields.iter().any(|g| g.name == field.name) {
                    return Err(format!("duplicate field {} in record {full}", field.name));
                }
                fields.push(field);
            }
            if let Kind::Record { fields: slot, .. } = &mut self.nodes[id.0].kind {
                *slot = fields;
            }
            self.pending_defaults.push(id);
        }
        Ok(id)
    }

    /// Name, namespace, aliases and doc of a record/enum/fixed.
    fn parse_name_block(&self, obj: &Obj, ns: Option<&str>) -> Res<Named> {
        let Some(Json::String(raw)) = json::get(obj, "name") else {
            return Err(format!("no name in schema: {}", show(obj)));
        };
        let own_ns = match json::get(obj, "namespace") {
            None | Some(Json::Null) => ns.map(str::to_owned),
            Some(Json::String(s)) => Some(s.clone()),
            Some(other) => return Err(format!("namespace must be a string, got {other}")),
        };
        let name = make_name(raw, own_ns.as_deref())?;
        if name.namespace.is_none() && Kind::primitive(&name.name).is_some() {
            return Err(format!("cannot redefine primitive type: {}", name.name));
        }
        if self.names.contains_key(&name.fullname()) {
            return Err(format!("can't redefine: {}", name.fullname()));
        }
        let aliases = string_list(json::get(obj, "aliases"), "aliases")?
            .into_iter()
            .map(|a| make_name(&a, name.namespace.as_deref()).map(|n| n.fullname()))
            .collect::<Res<Vec<_>>>()?;
        let doc = json::get(obj, "doc")
            .and_then(Json::as_str)
            .map(str::to_owned);
        Ok(Named { name, aliases, doc })
    }

    fn parse_field(&mut self, field: &Json, ns: Option<&str>, record: &str) -> Res<Field> {
        let Json::Object(obj) = field else {
            return Err(format!(
                "field of record {record} is not an object: {field}"
            ));
        };
        let Some(Json::String(name)) = json::get(obj, "name") else {
            return Err(format!("no field name in record {record}: {field}"));
        };
        validate_name(name)?;
        let ty = json::get(obj, "type")
            .ok_or_else(|| format!("no field type for field {name} in record {record}"))?;
        let schema = self
            .parse(ty, ns)
            .map_err(|e| format!("field {name} of record {record}: {e}"))?;
        let order = match json::get(obj, "order") {
            None => Order::Ascending,
            Some(Json::String(s)) if s.eq_ignore_ascii_case("ascending") => Order::Ascending,
            Some(Json::String(s)) if s.eq_ignore_ascii_case("descending") => Order::Descending,
            Some(Json::String(s)) if s.eq_ignore_ascii_case("ignore") => Order::Ignore,
            Some(other) => return Err(format!("invalid order {other} for field {name}")),
        };
        Ok(Field {
            name: name.clone(),
            doc: json::get(obj, "doc")
                .and_then(Json::as_str)
                .map(str::to_owned),
            schema,
            default: json::get(obj, "default").map(Json::to_value),
            order,
            aliases: string_list(json::get(obj, "aliases"), "aliases")?,
            props: extra_props(obj, FIELD_RESERVED),
            source: FieldSource {
                default: json::get(obj, "default").cloned(),
                attrs: java_attrs(obj, FIELD_RESERVED, false),
            },
        })
    }
}

fn parse_enum(obj: &Obj, named: Named) -> Res<Kind> {
    let Some(Json::Array(list)) = json::get(obj, "symbols") else {
        return Err(format!("enum has no symbols: {}", show(obj)));
    };
    let mut symbols: Vec<String> = Vec::with_capacity(list.len());
    for s in list {
        let s = s
            .as_str()
            .ok_or_else(|| format!("enum symbol is not a string: {s}"))?;
        validate_name(s)?;
        if symbols.iter().any(|t| t == s) {
            return Err(format!("duplicate enum symbol: {s}"));
        }
        symbols.push(s.to_owned());
    }
    let default = match json::get(obj, "default") {
        None | Some(Json::Null) => None,
        Some(Json::String(d)) if symbols.contains(d) => Some(d.clone()),
        Some(d) => {
            return Err(format!(
                "the enum default {d} of {} is not in the enum symbol set",
                named.name
            ));
        }
    };
    Ok(Kind::Enum {
        named,
        symbols,
        default,
    })
}

/// Splits a possibly dotted name into a [`Name`]: a dot makes it a full name and the given
/// namespace is ignored; an empty namespace is the null namespace.
fn make_name(raw: &str, ns: Option<&str>) -> Res<Name> {
    let (space, simple) = match raw.rfind('.') {
        Some(i) => (Some(&raw[..i]), &raw[i + 1..]),
        None => (ns, raw),
    };
    validate_name(simple)?;
    let namespace = match space {
        None | Some("") => None,
        Some(s) => {
            for part in s.split('.') {
                validate_name(part).map_err(|e| format!("invalid namespace {s:?}: {e}"))?;
            }
            Some(s.to_owned())
        }
    };
    Ok(Name {
        name: simple.to_owned(),
        namespace,
    })
}

/// Java's `validateName`: a letter or `_`, then letters, digits or `_` (Java's `isLetter` is
/// Unicode-aware, and so is this).
pub(crate) fn validate_name(name: &str) -> Res<()> {
    let mut chars = name.chars();
    match chars.next() {
        None => Err("empty name".to_owned()),
        Some(c) if !(c.is_alphabetic() || c == '_') => {
            Err(format!("illegal initial character: {name}"))
        }
        _ if chars.any(|c| !(c.is_alphanumeric() || c == '_')) => {
            Err(format!("illegal character in: {name}"))
        }
        _ => Ok(()),
    }
}

fn string_list(v: Option<&Json>, what: &str) -> Res<Vec<String>> {
    match v {
        None | Some(Json::Null) => Ok(Vec::new()),
        Some(Json::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| format!("{what} must be strings, got {i}"))
            })
            .collect(),
        Some(other) => Err(format!("{what} must be an array of strings, got {other}")),
    }
}

fn extra_props(obj: &Obj, reserved: &[&str]) -> BTreeMap<String, Value> {
    obj.iter()
        .filter(|(k, _)| !reserved.contains(&k.as_str()))
        .map(|(k, v)| (k.clone(), v.to_value()))
        .collect()
}

/// The attributes Java keeps as properties, in document order (`default` is reserved too for
/// enums).
fn java_attrs(obj: &Obj, reserved: &[&str], is_enum: bool) -> Vec<(String, Json)> {
    obj.iter()
        .filter(|(k, _)| !(reserved.contains(&k.as_str()) || is_enum && k == "default"))
        .cloned()
        .collect()
}

/// An object for an error message.
fn show(obj: &Obj) -> Json {
    Json::Object(obj.to_vec())
}
