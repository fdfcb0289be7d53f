//! JSON Schema compatibility as Confluent's `SchemaDiff` (json-schema-provider) defines it.
//!
//! - [`JsonSchema`]: a parsed schema (drafts 4, 6, 7, 2019-09 and 2020-12, boolean schemas), with
//!   `$ref`s resolved inside the schema and into the Confluent schema references the caller
//!   supplies.
//! - [`diff`]: every [`Difference`] between an original and an update, each a Confluent
//!   [`DiffType`] at a JSON path such as `#/properties/foo`.
//! - [`CanRead`]: BACKWARD for a reader and a writer is the incompatible differences of
//!   `diff(writer, reader)` under [`CompatibilityPolicy::Strict`].
//!
//! Modules: `model` (the schema graph), `refs` (documents and `$ref` lookup), `parse` and
//! `keywords` (loading), `diff` (the comparison, one submodule per schema family), `tests`.

mod diff;
mod keywords;
mod model;
mod parse;
mod refs;
#[cfg(test)]
mod tests;

pub use diff::Difference;
pub use diff::types::{CompatibilityPolicy, DiffType};
pub use model::Draft;

use crate::SchemaError;
use crate::compat::{CanRead, Incompatibility};
use model::{Graph, NodeId};

/// A parsed JSON Schema and the schemas it references.
#[derive(Clone, Debug)]
pub struct JsonSchema {
    graph: Graph,
    root: NodeId,
    draft: Draft,
}

/// A Confluent schema reference: the name `$ref`s use for it (e.g. `customer.json` or a URL) and
/// the schema text registered under it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaReference {
    pub name: String,
    pub schema: String,
}

impl JsonSchema {
    /// Parses a schema without references.
    pub fn parse(text: &str) -> Result<Self, SchemaError> {
        Self::parse_with_references(text, &[])
    }

    /// Parses a schema whose `$ref`s may name the given referenced schemas (by reference name,
    /// by their `$id`, or by the last segment of either).
    pub fn parse_with_references(
        text: &str,
        references: &[SchemaReference],
    ) -> Result<Self, SchemaError> {
        let refs: Vec<(String, String)> = references
            .iter()
            .map(|r| (r.name.clone(), r.schema.clone()))
            .collect();
        let (graph, root, draft) = parse::build(text, &refs)?;
        Ok(Self { graph, root, draft })
    }

    /// The dialect the schema declares (draft 7 when it declares none).
    pub fn draft(&self) -> Draft {
        self.draft
    }
}

/// Every difference from `original` to `update`, judged under the strict policy.
pub fn diff(original: &JsonSchema, update: &JsonSchema) -> Vec<Difference> {
    diff_with_policy(original, update, CompatibilityPolicy::Strict)
}

/// Every difference from `original` to `update`; `policy` decides which nested comparisons count
/// as compatible (a subschema match, a property covered by a partially open model, ...).
pub fn diff_with_policy(
    original: &JsonSchema,
    update: &JsonSchema,
    policy: CompatibilityPolicy,
) -> Vec<Difference> {
    diff::compare(
        &original.graph,
        original.root,
        &update.graph,
        update.root,
        policy,
    )
}

/// The differences `policy` does not accept.
pub fn incompatible(differences: &[Difference], policy: CompatibilityPolicy) -> Vec<&Difference> {
    differences
        .iter()
        .filter(|d| !policy.accepts(d.kind))
        .collect()
}

impl CanRead for JsonSchema {
    /// BACKWARD: `reader` is the new schema, `writer` the one the data was written with.
    fn can_read(reader: &Self, writer: &Self) -> Vec<Incompatibility> {
        let policy = CompatibilityPolicy::Strict;
        diff_with_policy(writer, reader, policy)
            .into_iter()
            .filter(|d| !policy.accepts(d.kind))
            .map(|d| Incompatibility {
                kind: d.kind.name().to_owned(),
                message: diff::types::message(d.kind, &d.path),
                path: d.path.trim_start_matches('#').to_owned(),
            })
            .collect()
    }
}
