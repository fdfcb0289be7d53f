//! The registry's configuration (`[registry]` section): listen address, store location, request
//! size limit, Avro `schemaType` emission and optional authentication.

use std::net::SocketAddr;
use std::path::PathBuf;

use mesh_runtime::config::Secret;
use serde::{Deserialize, Serialize};

/// Everything `start` needs. Every field has a default, so an empty section is a valid config.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RegistryConfig {
    /// Where the Confluent API (plus /metrics and /health/*) is served; port 0 = any free port.
    pub listen: SocketAddr,
    /// Where the records live: `embedded` (on disk in `data_dir`, or in memory) or `kafka`
    /// (the `topic` on the `[kafka]` cluster, shared by every instance).
    pub store: StoreKind,
    /// Embedded store: `None` = in memory (tests, throwaway); `Some(dir)` = durable log in `dir`.
    pub data_dir: Option<PathBuf>,
    /// Kafka store: the topic (Confluent's `kafkastore.topic`); created as 1 partition,
    /// compacted, if missing.
    pub topic: String,
    /// Kafka store: a write the broker does not acknowledge, or that is not read back, within
    /// this time fails with 50002.
    pub write_timeout_ms: u64,
    /// Largest request body accepted; larger ones get 413 (or 42209 for an oversized schema).
    pub max_request_bytes: usize,
    /// `false` (Confluent 7.x) omits `"schemaType": "AVRO"` from responses; `true` (8.x) emits it.
    pub emit_avro_schema_type: bool,
    /// Optional HTTP basic / bearer credentials; empty = no authentication.
    pub auth: AuthConfig,
    /// Answered by `GET /v1/metadata/id`.
    pub cluster_id: String,
}

impl Default for RegistryConfig {
    fn default() -> Self {
        Self {
            listen: SocketAddr::from(([127, 0, 0, 1], 8081)),
            store: StoreKind::Embedded,
            data_dir: None,
            topic: "_schemas".into(),
            write_timeout_ms: 5_000,
            max_request_bytes: 8 * 1024 * 1024,
            emit_avro_schema_type: false,
            auth: AuthConfig::default(),
            cluster_id: "mesh-registry".into(),
        }
    }
}

/// The registry's store.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StoreKind {
    /// One process: an on-disk log (or memory).
    #[default]
    Embedded,
    /// The `_schemas` topic: any number of instances, takeover from Confluent/Karapace.
    Kafka,
}

impl std::str::FromStr for StoreKind {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "embedded" => Ok(Self::Embedded),
            "kafka" => Ok(Self::Kafka),
            _ => Err(format!("unknown store {s:?} (expected embedded or kafka)")),
        }
    }
}

/// Credentials accepted by the registry. With no users and no tokens, auth is off: anyone may
/// read and write (Confluent's default).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AuthConfig {
    /// HTTP basic users (`Authorization: Basic base64(user:password)`).
    pub users: Vec<BasicUser>,
    /// Bearer tokens (`Authorization: Bearer <token>`).
    pub tokens: Vec<BearerToken>,
}

impl AuthConfig {
    pub fn is_enabled(&self) -> bool {
        !self.users.is_empty() || !self.tokens.is_empty()
    }
}

/// What a credential may do.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Access {
    /// GET only.
    ReadOnly,
    /// Everything.
    #[default]
    ReadWrite,
}

/// One HTTP basic user.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicUser {
    pub username: String,
    pub password: Secret,
    #[serde(default)]
    pub access: Access,
}

/// One bearer token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BearerToken {
    pub token: Secret,
    #[serde(default)]
    pub access: Access,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_all_defaults_and_unknown_keys_are_rejected() {
        let c: RegistryConfig = serde_json::from_str("{}").unwrap();
        assert_eq!(c, RegistryConfig::default());
        assert_eq!(c.listen.port(), 8081);
        assert!(!c.auth.is_enabled());
        assert!(serde_json::from_str::<RegistryConfig>(r#"{"lisen":"1.2.3.4:1"}"#).is_err());
        let a: AuthConfig = serde_json::from_str(
            r#"{"users":[{"username":"u","password":"p","access":"read-only"}]}"#,
        )
        .unwrap();
        assert_eq!(a.users[0].access, Access::ReadOnly);
        assert!(a.is_enabled());
    }
}
