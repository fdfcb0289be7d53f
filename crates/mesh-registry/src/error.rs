//! Every error the registry answers with, and the ONE place that turns it into Confluent's
//! `{"error_code": <int>, "message": "<text>"}` envelope (registry-api.md §1.4). Messages are
//! Confluent's exact strings, sic grammar included, because clients and tests match on them.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

/// Every failure of the registry.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    #[error("Subject '{0}' not found.")]
    SubjectNotFound(String),
    #[error("Version {0} not found.")]
    VersionNotFound(String),
    #[error("Schema not found")]
    SchemaNotFound,
    #[error("Schema {0} not found")]
    SchemaIdNotFound(i32),
    #[error("Subject '{0}' was soft deleted.Set permanent=true to delete permanently")]
    SubjectSoftDeleted(String),
    #[error("Subject '{0}' was not deleted first before being permanently deleted")]
    SubjectNotSoftDeleted(String),
    #[error("Subject '{0}' Version {1} was soft deleted.Set permanent=true to delete permanently")]
    VersionSoftDeleted(String, i32),
    #[error("Subject '{0}' Version {1} was not deleted first before being permanently deleted")]
    VersionNotSoftDeleted(String, i32),
    #[error("Subject '{0}' does not have subject-level compatibility configured")]
    SubjectConfigNotFound(String),
    #[error("Subject '{0}' does not have subject-level mode configured")]
    SubjectModeNotFound(String),
    #[error(
        "Schema being registered is incompatible with an earlier schema for subject \"{subject}\", details: [{}]",
        details.join(", ")
    )]
    Incompatible {
        subject: String,
        details: Vec<String>,
    },
    /// The message is the parser's (or reference resolver's).
    #[error("{0}")]
    InvalidSchema(String),
    #[error(
        "The specified version '{0}' is not a valid version id. Allowed values are between [1, 2^31-1] and the string \"latest\""
    )]
    InvalidVersion(String),
    #[error(
        "Invalid compatibility level. Valid values are none, backward, forward, full, backward_transitive, forward_transitive, and full_transitive"
    )]
    InvalidCompatibilityLevel,
    #[error("Invalid mode. Valid values are READWRITE, READONLY, IMPORT and FORWARD.")]
    InvalidMode,
    #[error("{0}")]
    OperationNotPermitted(String),
    #[error(
        "One or more references exist to the schema {{magic=1,keytype=SCHEMA,subject={0},version={1}}}."
    )]
    ReferenceExists(String, i32),
    #[error("The ID of an imported schema does not match the existing ID")]
    IdMismatch,
    #[error("The specified subject '{0}' is not a valid.")]
    InvalidSubject(String),
    #[error("Write failed because schema is too large")]
    SchemaTooLarge,
    #[error("Invalid ruleSet: {0}")]
    InvalidRuleSet(String),
    #[error("Context '{0}' not empty")]
    ContextNotEmpty(String),
    #[error("Error in the backend data store: {0}")]
    Store(#[from] StoreError),
    /// HTTP-level errors (malformed JSON, unknown route, oversized body, auth) use the HTTP
    /// status as `error_code`, like Confluent's Jetty/Jersey layer.
    #[error("{message}")]
    Http { status: StatusCode, message: String },
    /// Start-up failures (bind, telemetry); never sent to a client in practice.
    #[error("{0}")]
    Runtime(#[from] mesh_runtime::RuntimeError),
}

impl RegistryError {
    pub fn http(status: StatusCode, message: impl Into<String>) -> Self {
        Self::Http {
            status,
            message: message.into(),
        }
    }

    /// (HTTP status, Confluent error code).
    pub fn status_and_code(&self) -> (StatusCode, u32) {
        use RegistryError::*;
        const NF: StatusCode = StatusCode::NOT_FOUND;
        const UE: StatusCode = StatusCode::UNPROCESSABLE_ENTITY;
        const ISE: StatusCode = StatusCode::INTERNAL_SERVER_ERROR;
        match self {
            SubjectNotFound(_) => (NF, 40401),
            VersionNotFound(_) => (NF, 40402),
            SchemaNotFound | SchemaIdNotFound(_) => (NF, 40403),
            SubjectSoftDeleted(_) => (NF, 40404),
            SubjectNotSoftDeleted(_) => (NF, 40405),
            VersionSoftDeleted(..) => (NF, 40406),
            VersionNotSoftDeleted(..) => (NF, 40407),
            SubjectConfigNotFound(_) => (NF, 40408),
            SubjectModeNotFound(_) => (NF, 40409),
            // Confluent before 8.0.4 and Karapace send 409 as the code; clients key on the
            // status. We keep the 7.x code, matching our 7.x default for schemaType.
            Incompatible { .. } => (StatusCode::CONFLICT, 409),
            InvalidSchema(_) => (UE, 42201),
            InvalidVersion(_) => (UE, 42202),
            InvalidCompatibilityLevel => (UE, 42203),
            InvalidMode => (UE, 42204),
            OperationNotPermitted(_) => (UE, 42205),
            ReferenceExists(..) => (UE, 42206),
            IdMismatch => (UE, 42207),
            InvalidSubject(_) => (UE, 42208),
            SchemaTooLarge => (UE, 42209),
            InvalidRuleSet(_) => (UE, 42210),
            ContextNotEmpty(_) => (UE, 42211),
            // Confluent's 50002 "operation timed out": the log did not acknowledge in time.
            Store(StoreError::Timeout(_)) => (ISE, 50002),
            Store(_) | Runtime(_) => (ISE, 50001),
            Http { status, .. } => (*status, u32::from(status.as_u16())),
        }
    }
}

impl IntoResponse for RegistryError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
        }
        crate::api::reply(
            status,
            &serde_json::json!({"error_code": code, "message": self.to_string()}),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_exact_messages() {
        let e = RegistryError::SubjectSoftDeleted("s".into());
        assert_eq!(e.status_and_code(), (StatusCode::NOT_FOUND, 40404));
        assert_eq!(
            e.to_string(),
            "Subject 's' was soft deleted.Set permanent=true to delete permanently"
        );
        let e = RegistryError::Incompatible {
            subject: "s".into(),
            details: vec!["a".into(), "b".into()],
        };
        assert_eq!(
            e.to_string(),
            "Schema being registered is incompatible with an earlier schema for subject \"s\", details: [a, b]"
        );
        assert_eq!(e.status_and_code().1, 409);
        let e = RegistryError::http(StatusCode::NOT_FOUND, "HTTP 404 Not Found");
        assert_eq!(e.status_and_code(), (StatusCode::NOT_FOUND, 404));
        assert_eq!(
            RegistryError::InvalidSubject("x".into()).to_string(),
            "The specified subject 'x' is not a valid."
        );
    }
}
