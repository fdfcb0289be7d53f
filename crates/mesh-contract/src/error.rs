//! The crate's one error type (for API misuse and records; contract problems are
//! [`crate::Diagnostic`]s).

#[derive(Debug, thiserror::Error)]
pub enum ContractError {
    #[error("rule `{rule}`: {message}")]
    Rule { rule: String, message: String },
    #[error("`_mesh.contracts` record: {0}")]
    Record(String),
    #[error("policy `{policy}`: {message}")]
    Policy { policy: String, message: String },
}
