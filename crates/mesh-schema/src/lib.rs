//! The pure core of mesh's schema handling: no I/O, no async, no Kafka.
//!
//! - [`compat`]: Confluent's compatibility levels and how a new schema is checked against the
//!   existing versions of a subject (latest only, or all for the transitive levels).
//! - [`avro`]: Avro schema resolution rules (reader vs writer), as the Avro specification and its
//!   Java reference implementation (`SchemaCompatibility`) define them.
//! - [`json`]: JSON Schema compatibility as Confluent's `SchemaDiff` defines it.
//!
//! The registry and the gateway depend on this crate; it depends on no other mesh crate.

pub mod avro;
pub mod compat;
pub mod json;

mod error;

pub use compat::{CompatibilityLevel, Incompatibility};
pub use error::SchemaError;
