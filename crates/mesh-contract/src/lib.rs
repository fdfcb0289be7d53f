//! Data contracts for mesh: the pure core (no I/O, no async).
//!
//! A contract is an ODCS v3 YAML document (one per data product); mesh's own settings are ODCS
//! `customProperties` named `mesh.*`. This crate:
//!
//! - parses a contract into a spanned YAML tree ([`yaml`]) and resolves it ([`parse`]) into a
//!   [`ResolvedContract`] — the exact JSON written to `_mesh.contracts` and the only view of a
//!   contract the gateway and the freshness monitor read ([`model`]);
//! - reports every problem as a [`Diagnostic`] with file, line, column, code and hint ([`diag`]);
//! - evaluates rules on decoded events ([`rules`]): native field checks and CEL record rules;
//! - checks ownership against a domains file ([`domains`]) and governance policies written as
//!   CEL over the resolved contract ([`policy`]);
//! - defines the gateway's `_mesh.progress` records ([`events`]) the freshness monitor reads;
//! - projects a contract onto the registry (subject, metadata, `ruleSet`) and topics
//!   ([`project`]), and finds breaking changes between two versions ([`diff`]).
//!
//! Files are read by the caller through [`SourceReader`], so everything here is testable in memory.

pub mod diag;
pub mod diff;
pub mod domains;
pub mod events;
pub mod extensions;
pub mod fields;
pub mod lint;
pub mod model;
pub mod parse;
pub mod policy;
pub mod project;
pub mod reader;
pub mod rules;
pub mod yaml;

mod error;
mod quality;
mod schema;

pub use diag::{Diagnostic, Diagnostics, Severity};
pub use error::ContractError;
pub use model::{RECORD_FORMAT, ResolvedContract, Status};
pub use parse::{Loaded, load_contract};
pub use rules::{CompiledRules, Violation};

/// Reads files a contract refers to (schema files), by path relative to the contract's directory.
pub trait SourceReader {
    fn read(&self, path: &str) -> Result<String, String>;
}

/// An in-memory [`SourceReader`] (tests, `init` previews).
#[derive(Debug, Default)]
pub struct MemoryFiles(pub std::collections::BTreeMap<String, String>);

impl SourceReader for MemoryFiles {
    fn read(&self, path: &str) -> Result<String, String> {
        self.0
            .get(path)
            .cloned()
            .ok_or_else(|| "no such file".to_owned())
    }
}
