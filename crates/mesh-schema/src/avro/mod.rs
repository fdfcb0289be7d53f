//! Avro schemas: parsing and validation ([`parse`]), the model ([`model`]), Parsing Canonical
//! Form and a normalized form ([`canonical`]), Avro-Java's `Schema.toString()` form
//! ([`java_form`], the text Confluent stores and hashes), Confluent's `normalize=true`
//! ([`normalize`]: [`AvroSchema::normalize`]), and reader/writer compatibility ([`compat`],
//! implementing [`crate::compat::CanRead`]) as Apache Avro's Java `SchemaCompatibility`
//! defines it, which is what Confluent Schema Registry runs.
//!
//! ```
//! use mesh_schema::avro::AvroSchema;
//! use mesh_schema::compat::CanRead;
//!
//! let old = AvroSchema::parse(r#"{"type":"record","name":"r","fields":[{"name":"a","type":"int"}]}"#).unwrap();
//! let new = AvroSchema::parse(r#"{"type":"record","name":"r","fields":[{"name":"a","type":"long"}]}"#).unwrap();
//! assert!(AvroSchema::can_read(&new, &old).is_empty()); // int promotes to long
//! assert_eq!(AvroSchema::can_read(&old, &new)[0].kind, "TYPE_MISMATCH");
//! ```

mod canonical;
mod compat;
mod datum;
mod decode;
mod defaults;
mod java_form;
mod json;
pub mod model;
mod normalize;
mod parse;
#[cfg(test)]
mod tests;

use crate::SchemaError;

pub use datum::{Datum, Record, float, latin1, non_finite_name};
pub use decode::{DecodeError, DecodeErrorKind};
pub use model::{Field, Kind, Name, Named, Node, NodeId, Order};

/// How strictly to parse.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ParseOptions {
    /// Check every field default against its type (Java's `validateDefaults`, on by default).
    /// Confluent validates defaults of *new* schemas only; schemas already stored (possibly by
    /// an older registry that did not validate) must still load, so turn this off for those.
    pub validate_defaults: bool,
}

impl Default for ParseOptions {
    fn default() -> Self {
        ParseOptions {
            validate_defaults: true,
        }
    }
}

/// A parsed, validated Avro schema: an arena of nodes and the root node.
///
/// When parsed with references, the arena also holds the referenced schemas' types; only the
/// ones reachable from [`AvroSchema::root`] matter.
#[derive(Clone, Debug, PartialEq)]
pub struct AvroSchema {
    nodes: Vec<Node>,
    root: NodeId,
    /// Roots of the referenced schemas, in the order given.
    referenced: Vec<NodeId>,
    /// `nodes[..ref_nodes]` are the referenced schemas' nodes (parsed before the main one).
    ref_nodes: usize,
}

impl AvroSchema {
    /// Parses and validates a self-contained schema.
    pub fn parse(text: &str) -> Result<Self, SchemaError> {
        Self::parse_with_references(text, &[])
    }

    /// Parses `text` with Confluent schema references: `references` are the referenced schemas'
    /// texts, dependencies first (the order in which the registry resolves them), and every
    /// named type they define can be used by full name in `text` (and in later references).
    /// Defining the same full name twice is an error, as in Java.
    pub fn parse_with_references(text: &str, references: &[&str]) -> Result<Self, SchemaError> {
        Self::parse_with_options(text, references, ParseOptions::default())
    }

    /// [`AvroSchema::parse_with_references`] with explicit [`ParseOptions`].
    pub fn parse_with_options(
        text: &str,
        references: &[&str],
        options: ParseOptions,
    ) -> Result<Self, SchemaError> {
        let mut parser = parse::Parser::new(options.validate_defaults);
        let mut referenced = Vec::with_capacity(references.len());
        for (i, reference) in references.iter().enumerate() {
            let root = parser
                .parse_document(reference)
                .map_err(|m| parse_error(format!("in reference {i}: {m}")))?;
            referenced.push(root);
        }
        let ref_nodes = parser.node_count();
        let root = parser.parse_document(text).map_err(parse_error)?;
        Ok(parser.finish(root, referenced, ref_nodes))
    }

    /// The root node.
    pub fn root(&self) -> NodeId {
        self.root
    }

    /// The node with this id (ids come from this schema: its root, fields, items, ...).
    pub fn node(&self, id: NodeId) -> &Node {
        &self.nodes[id.0]
    }

    /// The named type (record, enum or fixed) with this full name reachable by the parser,
    /// including those from references.
    pub fn named_type(&self, fullname: &str) -> Option<NodeId> {
        (0..self.nodes.len()).map(NodeId).find(|id| {
            self.node(*id)
                .kind
                .named()
                .is_some_and(|n| n.name.fullname() == fullname)
        })
    }
}

fn parse_error(message: String) -> SchemaError {
    SchemaError::Parse {
        format: "AVRO",
        message,
    }
}
