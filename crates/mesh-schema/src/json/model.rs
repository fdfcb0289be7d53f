//! The parsed form of a JSON Schema: a graph of typed nodes, shaped like the schema classes of the
//! everit library that Confluent's `SchemaDiff` walks (string, number, object, array, enum, const,
//! combined, not, boolean `true`/`false`, ...). `$ref`s are edges to other nodes, so recursive
//! schemas are cycles in the graph rather than infinite trees.

use serde_json::Value;

/// Index of a node in a [`Graph`].
pub(crate) type NodeId = usize;

/// The JSON Schema dialect a schema declares with `$schema` (Confluent's default is draft 7).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Draft {
    Draft4,
    Draft6,
    #[default]
    Draft7,
    Draft2019_09,
    Draft2020_12,
}

impl Draft {
    /// The dialect named by a `$schema` URI; unknown or absent URIs mean draft 7.
    pub fn from_schema_uri(uri: Option<&str>) -> Self {
        match uri {
            Some(u) if u.contains("draft-04") => Self::Draft4,
            Some(u) if u.contains("draft-06") => Self::Draft6,
            Some(u) if u.contains("2019-09") => Self::Draft2019_09,
            Some(u) if u.contains("2020-12") => Self::Draft2020_12,
            _ => Self::Draft7,
        }
    }

    /// 2019-09 and later: `$defs`, `dependentRequired`, `unevaluated*`, `$ref` with siblings.
    pub(crate) fn is_modern(self) -> bool {
        self >= Self::Draft2019_09
    }
}

/// All nodes of one schema and its referenced schemas.
#[derive(Clone, Debug, Default)]
pub(crate) struct Graph {
    pub nodes: Vec<Node>,
}

impl Graph {
    /// Follows `$ref` edges to the schema they stand for (a ref loop stands for the empty schema).
    pub fn resolve(&self, mut id: NodeId) -> NodeId {
        for _ in 0..=self.nodes.len() {
            match self.nodes[id].kind {
                Kind::Ref(Some(target)) => id = target,
                _ => return id,
            }
        }
        id
    }

    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id]
    }
}

/// One schema: the annotations every schema has, and what it constrains.
#[derive(Clone, Debug, Default)]
pub(crate) struct Node {
    pub id: Option<String>,
    pub title: Option<String>,
    pub description: Option<String>,
    pub default: Option<Value>,
    pub kind: Kind,
}

/// What a schema constrains; each variant is one everit schema class.
#[derive(Clone, Debug, Default)]
pub(crate) enum Kind {
    /// `{}` or `true`: anything.
    #[default]
    Empty,
    /// `false`: nothing.
    False,
    Null,
    Boolean,
    String(StringSchema),
    Number(NumberSchema),
    Object(Box<ObjectSchema>),
    Array(Box<ArraySchema>),
    Enum(Vec<Value>),
    Const(Value),
    Combined(Combined),
    Not(NodeId),
    /// `if`/`then`/`else`: compared only by kind and annotations, as Confluent does.
    Conditional,
    /// A `$ref`; `None` only while parsing.
    Ref(Option<NodeId>),
}

impl Kind {
    /// The everit class name, for "same class" comparisons.
    pub fn class(&self) -> &'static str {
        match self {
            Kind::Empty => "empty",
            Kind::False => "false",
            Kind::Null => "null",
            Kind::Boolean => "boolean",
            Kind::String(_) => "string",
            Kind::Number(_) => "number",
            Kind::Object(_) => "object",
            Kind::Array(_) => "array",
            Kind::Enum(_) => "enum",
            Kind::Const(_) => "const",
            Kind::Combined(_) => "combined",
            Kind::Not(_) => "not",
            Kind::Conditional => "conditional",
            Kind::Ref(_) => "ref",
        }
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct StringSchema {
    pub min_length: Option<u64>,
    pub max_length: Option<u64>,
    pub pattern: Option<String>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct NumberSchema {
    pub integer: bool,
    pub minimum: Option<f64>,
    pub maximum: Option<f64>,
    pub exclusive_minimum: Option<f64>,
    pub exclusive_maximum: Option<f64>,
    pub multiple_of: Option<f64>,
}

/// `additionalProperties` / `additionalItems`: absent or `true` permits, `false` forbids, a
/// schema permits what it accepts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Additional {
    pub permits: bool,
    pub schema: Option<NodeId>,
}

impl Default for Additional {
    fn default() -> Self {
        Self {
            permits: true,
            schema: None,
        }
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct ObjectSchema {
    pub properties: Vec<(String, NodeId)>,
    pub required: Vec<String>,
    pub additional: Additional,
    /// `patternProperties` in declaration order (the first match covers a property).
    pub pattern_properties: Vec<(String, NodeId)>,
    pub unevaluated: Option<NodeId>,
    pub property_dependencies: Vec<(String, Vec<String>)>,
    pub schema_dependencies: Vec<(String, NodeId)>,
    pub min_properties: Option<u64>,
    pub max_properties: Option<u64>,
}

impl ObjectSchema {
    pub fn property(&self, name: &str) -> Option<NodeId> {
        self.properties
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| *v)
    }
}

#[derive(Clone, Debug, Default)]
pub(crate) struct ArraySchema {
    /// `items` as one schema for every element.
    pub all_items: Option<NodeId>,
    /// Tuple validation: `items` as an array (drafts 4 to 2019-09) or `prefixItems` (2020-12).
    pub item_schemas: Vec<NodeId>,
    pub additional: Additional,
    pub unevaluated: Option<NodeId>,
    pub min_items: Option<u64>,
    pub max_items: Option<u64>,
    pub unique_items: bool,
    pub min_contains: Option<u64>,
    pub max_contains: Option<u64>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[allow(clippy::enum_variant_names)] // named after the keywords
pub(crate) enum Criterion {
    AllOf,
    AnyOf,
    OneOf,
}

impl Criterion {
    pub fn keyword(self) -> &'static str {
        match self {
            Criterion::AllOf => "allOf",
            Criterion::AnyOf => "anyOf",
            Criterion::OneOf => "oneOf",
        }
    }
}

/// `allOf`/`anyOf`/`oneOf` (duplicates collapsed), a `type` array (an `anyOf`), or several
/// keyword families in one schema object (a synthetic `allOf`).
#[derive(Clone, Debug)]
pub(crate) struct Combined {
    pub criterion: Criterion,
    pub subschemas: Vec<NodeId>,
}
