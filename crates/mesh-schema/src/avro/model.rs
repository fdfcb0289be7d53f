//! The parsed Avro schema model: an arena of [`Node`]s addressed by [`NodeId`].
//!
//! Each occurrence of a type in the JSON text becomes one node; every reference to a named type
//! (by name, from the same document or from a schema reference) points at the node where that
//! type was defined. This gives named types an identity, which the compatibility checker needs
//! to memoise recursive pairs (Java uses object identity for the same purpose), and lets a
//! decoder walk recursive schemas without cloning.

use std::collections::BTreeMap;
use std::fmt;

use serde_json::Value;

use super::json::Json;

/// Index of a node in an [`super::AvroSchema`]'s arena.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeId(pub(crate) usize);

/// A full Avro name: the simple name plus the namespace (None = the null namespace).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Name {
    pub name: String,
    pub namespace: Option<String>,
}

impl Name {
    /// `namespace.name`, or just `name` in the null namespace.
    pub fn fullname(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{ns}.{}", self.name),
            None => self.name.clone(),
        }
    }
}

impl fmt::Display for Name {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.fullname())
    }
}

/// Field sort order (only relevant to Avro's sort order, kept for round-tripping).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    #[default]
    Ascending,
    Descending,
    Ignore,
}

impl Order {
    pub fn as_str(self) -> &'static str {
        match self {
            Order::Ascending => "ascending",
            Order::Descending => "descending",
            Order::Ignore => "ignore",
        }
    }
}

/// One field of a record.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    pub name: String,
    pub doc: Option<String>,
    pub schema: NodeId,
    /// The JSON default, validated against `schema` at parse time. `Some(Value::Null)` is an
    /// explicit `"default": null`, which is different from no default at all.
    pub default: Option<Value>,
    pub order: Order,
    /// Field aliases are simple names (not namespace-qualified), as in the spec.
    pub aliases: Vec<String>,
    /// Any other attributes, kept for the normalized form.
    pub props: BTreeMap<String, Value>,
    /// The default and the other attributes as written (document key order), which
    /// [`super::AvroSchema::to_java_string`] needs.
    pub(crate) source: FieldSource,
}

/// A field's default and extra attributes in document order.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct FieldSource {
    pub(crate) default: Option<Json>,
    pub(crate) attrs: Vec<(String, Json)>,
}

/// Attributes shared by records, enums and fixed.
#[derive(Clone, Debug, PartialEq)]
pub struct Named {
    pub name: Name,
    /// Aliases resolved to full names (relative to the type's namespace), as Java stores them.
    pub aliases: Vec<String>,
    pub doc: Option<String>,
}

/// The shape of a node.
#[derive(Clone, Debug, PartialEq)]
pub enum Kind {
    Null,
    Boolean,
    Int,
    Long,
    Float,
    Double,
    Bytes,
    String,
    Array(NodeId),
    Map(NodeId),
    Union(Vec<NodeId>),
    Record {
        named: Named,
        fields: Vec<Field>,
        /// Declared as `"type": "error"` (protocol errors); otherwise identical to a record.
        is_error: bool,
    },
    Enum {
        named: Named,
        symbols: Vec<String>,
        default: Option<String>,
    },
    Fixed {
        named: Named,
        size: u64,
    },
}

impl Kind {
    /// The Avro type name as Java's `Schema.Type` prints it (`INT`, `RECORD`, ...); used in
    /// compatibility messages so they read like Confluent's.
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Null => "NULL",
            Kind::Boolean => "BOOLEAN",
            Kind::Int => "INT",
            Kind::Long => "LONG",
            Kind::Float => "FLOAT",
            Kind::Double => "DOUBLE",
            Kind::Bytes => "BYTES",
            Kind::String => "STRING",
            Kind::Array(_) => "ARRAY",
            Kind::Map(_) => "MAP",
            Kind::Union(_) => "UNION",
            Kind::Record { .. } => "RECORD",
            Kind::Enum { .. } => "ENUM",
            Kind::Fixed { .. } => "FIXED",
        }
    }

    /// The primitive kind for a primitive type name, if it is one.
    pub fn primitive(name: &str) -> Option<Kind> {
        Some(match name {
            "null" => Kind::Null,
            "boolean" => Kind::Boolean,
            "int" => Kind::Int,
            "long" => Kind::Long,
            "float" => Kind::Float,
            "double" => Kind::Double,
            "bytes" => Kind::Bytes,
            "string" => Kind::String,
            _ => return None,
        })
    }

    /// The lower-case spelling used in schema JSON for primitives, arrays, maps, etc.
    pub fn json_name(&self) -> &'static str {
        match self {
            Kind::Null => "null",
            Kind::Boolean => "boolean",
            Kind::Int => "int",
            Kind::Long => "long",
            Kind::Float => "float",
            Kind::Double => "double",
            Kind::Bytes => "bytes",
            Kind::String => "string",
            Kind::Array(_) => "array",
            Kind::Map(_) => "map",
            Kind::Union(_) => "union",
            Kind::Record { is_error: true, .. } => "error",
            Kind::Record { .. } => "record",
            Kind::Enum { .. } => "enum",
            Kind::Fixed { .. } => "fixed",
        }
    }

    /// The name block of a named type.
    pub fn named(&self) -> Option<&Named> {
        match self {
            Kind::Record { named, .. } | Kind::Enum { named, .. } | Kind::Fixed { named, .. } => {
                Some(named)
            }
            _ => None,
        }
    }
}

/// One schema node: its shape plus annotations.
#[derive(Clone, Debug, PartialEq)]
pub struct Node {
    pub kind: Kind,
    /// `logicalType`, kept as an annotation: like Java's `SchemaCompatibility`, resolution
    /// ignores it (a `timestamp-millis` long reads any long).
    pub logical_type: Option<String>,
    /// Every other attribute not part of the type's own syntax (e.g. `precision`, `scale`,
    /// custom properties such as `connect.name`), sorted by key.
    pub props: BTreeMap<String, Value>,
    /// Java's properties of the node in document order: every attribute that is not part of
    /// the type's syntax, `logicalType` included (see [`super::AvroSchema::to_java_string`]).
    pub(crate) attrs: Vec<(String, Json)>,
}
