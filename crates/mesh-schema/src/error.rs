//! The crate's one error type.

/// A schema that cannot be used at all (as opposed to an [`crate::Incompatibility`], which is a
/// verdict about two valid schemas).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SchemaError {
    /// The schema text does not parse; the message is the parser's.
    #[error("invalid {format} schema: {message}")]
    Parse {
        format: &'static str,
        message: String,
    },
    /// A reference (Avro named type, JSON `$ref`) that cannot be resolved.
    #[error("unresolved reference {reference:?} in {format} schema")]
    UnresolvedReference {
        format: &'static str,
        reference: String,
    },
}
