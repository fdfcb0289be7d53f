//! The runtime's one error type.

use std::net::SocketAddr;

/// Everything that can fail in the shared runtime.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    /// Configuration could not be read or does not fit the typed config. The message names the
    /// offending key and the source (file path or environment variable).
    #[error("invalid configuration: {0}")]
    Config(String),
    #[error("config file {path} does not exist")]
    ConfigFileMissing { path: std::path::PathBuf },
    #[error("could not install telemetry: {0}")]
    Telemetry(String),
    #[error("could not bind {what} to {addr}: {source}")]
    Bind {
        what: String,
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error("HTTP server failed: {0}")]
    Serve(#[source] std::io::Error),
}

impl From<figment::Error> for RuntimeError {
    fn from(e: figment::Error) -> Self {
        // Every error, each naming the key and where its value came from: the file path, or the
        // exact environment variable (figment only says "`MESH_` environment variable(s)").
        let all: Vec<String> = e.into_iter().map(|e| describe(&e)).collect();
        RuntimeError::Config(all.join("; "))
    }
}

fn describe(e: &figment::Error) -> String {
    let key = e.path.join(".");
    let source = match &e.metadata {
        Some(md) => match &md.source {
            Some(figment::Source::File(path)) => format!("file {}", path.display()),
            _ if md.name.contains("environment") => format!(
                "environment variable {}{}",
                crate::config::ENV_PREFIX,
                e.path.join("__").to_ascii_uppercase()
            ),
            _ => md.name.to_string(),
        },
        None => "unknown source".to_owned(),
    };
    if key.is_empty() {
        format!("{} (from {source})", e.kind)
    } else {
        format!("{} for key `{key}` (from {source})", e.kind)
    }
}
