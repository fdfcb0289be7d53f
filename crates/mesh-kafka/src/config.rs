//! The `[kafka]` config section and its translation to librdkafka settings.
//!
//! mesh names only what it must reason about (bootstrap, security protocol, SASL, TLS); anything
//! else librdkafka understands goes in `properties` and is passed through unchanged, so operators
//! can use every knob they know from other librdkafka clients.

use std::collections::BTreeMap;
use std::path::PathBuf;

use mesh_runtime::config::Secret;
use rdkafka::ClientConfig;
use serde::{Deserialize, Serialize};

use crate::KafkaError;

/// How to reach and authenticate to Kafka.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KafkaConfig {
    /// `host:port[,host:port...]`. Unset means "no Kafka configured": `mesh up` then starts the
    /// embedded broker.
    pub bootstrap_servers: Option<String>,
    /// `client.id` prefix; each client appends its role.
    pub client_id: Option<String>,
    pub security_protocol: SecurityProtocol,
    pub sasl: Option<SaslConfig>,
    pub ssl: SslConfig,
    /// Raw librdkafka properties (`"socket.keepalive.enable" = "true"`), applied last.
    pub properties: BTreeMap<String, String>,
    /// Known gaps of the broker, set by whoever knows (the embedded broker, the test harness);
    /// never read from config files.
    #[serde(skip)]
    pub quirks: BrokerQuirks,
}

/// Gaps of a Kafka-protocol peer that mesh's clients work around.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BrokerQuirks {
    /// The broker acknowledges TxnOffsetCommit but never stores the offsets (librdkafka's mock
    /// cluster). Pipelines then also commit each batch's offsets outside the transaction, right
    /// after it commits, so a restart resumes where the last batch ended; the mock refuses that
    /// commit while its group rebalances, see `pipeline/mirror.rs`.
    pub txn_offset_commit_ignored: bool,
}

impl BrokerQuirks {
    /// The gaps of librdkafka's mock cluster.
    pub fn mock_cluster() -> Self {
        Self {
            txn_offset_commit_ignored: true,
        }
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum SecurityProtocol {
    #[default]
    Plaintext,
    Ssl,
    SaslPlaintext,
    SaslSsl,
}

impl SecurityProtocol {
    fn as_librdkafka(self) -> &'static str {
        match self {
            Self::Plaintext => "plaintext",
            Self::Ssl => "ssl",
            Self::SaslPlaintext => "sasl_plaintext",
            Self::SaslSsl => "sasl_ssl",
        }
    }
    fn uses_sasl(self) -> bool {
        matches!(self, Self::SaslPlaintext | Self::SaslSsl)
    }
}

/// SASL credentials. GSSAPI (Kerberos) is not built in; PLAIN, SCRAM and OAUTHBEARER are.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SaslConfig {
    /// `PLAIN`, `SCRAM-SHA-256`, `SCRAM-SHA-512` or `OAUTHBEARER`.
    pub mechanism: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<Secret>,
}

/// TLS files and settings (PEM paths), as librdkafka's `ssl.*` properties.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SslConfig {
    pub ca_location: Option<PathBuf>,
    pub certificate_location: Option<PathBuf>,
    pub key_location: Option<PathBuf>,
    pub key_password: Option<Secret>,
    /// Verify the broker's hostname against its certificate.
    pub endpoint_identification: bool,
}

impl Default for SslConfig {
    fn default() -> Self {
        Self {
            ca_location: None,
            certificate_location: None,
            key_location: None,
            key_password: None,
            endpoint_identification: true,
        }
    }
}

const SASL_MECHANISMS: &[&str] = &["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512", "OAUTHBEARER"];

impl KafkaConfig {
    /// A config pointing at `bootstrap` with everything else default.
    pub fn with_bootstrap(bootstrap: impl Into<String>) -> Self {
        Self {
            bootstrap_servers: Some(bootstrap.into()),
            ..Self::default()
        }
    }

    /// Checks what librdkafka would only report at connect time, with a message naming the key.
    pub fn validate(&self) -> Result<(), KafkaError> {
        let err = |m: String| Err(KafkaError::Config(m));
        if let Some(b) = &self.bootstrap_servers
            && b.split(',').any(|s| s.trim().rsplit_once(':').is_none())
        {
            return err(format!(
                "kafka.bootstrap_servers = {b:?}: every entry must be host:port"
            ));
        }
        match (&self.sasl, self.security_protocol.uses_sasl()) {
            (None, true) => {
                return err(format!(
                    "kafka.security_protocol = {:?} needs a [kafka.sasl] section",
                    self.security_protocol
                ));
            }
            (Some(_), false) => {
                return err(format!(
                    "[kafka.sasl] is set but kafka.security_protocol = {:?} does not use SASL \
                     (use SASL_PLAINTEXT or SASL_SSL)",
                    self.security_protocol
                ));
            }
            (Some(s), true) if !SASL_MECHANISMS.contains(&s.mechanism.as_str()) => {
                return err(format!(
                    "kafka.sasl.mechanism = {:?} is not supported; use one of {SASL_MECHANISMS:?}",
                    s.mechanism
                ));
            }
            _ => {}
        }
        for (what, path) in [
            ("ca_location", &self.ssl.ca_location),
            ("certificate_location", &self.ssl.certificate_location),
            ("key_location", &self.ssl.key_location),
        ] {
            if let Some(p) = path
                && !p.exists()
            {
                return err(format!(
                    "kafka.ssl.{what} = {}: file does not exist",
                    p.display()
                ));
            }
        }
        Ok(())
    }

    /// librdkafka settings for a client in role `role` (appended to `client.id`).
    pub fn client_config(&self, role: &str) -> Result<ClientConfig, KafkaError> {
        self.validate()?;
        let bootstrap = self
            .bootstrap_servers
            .as_deref()
            .ok_or_else(|| KafkaError::Config("kafka.bootstrap_servers is not set".to_owned()))?;
        let mut c = ClientConfig::new();
        c.set("bootstrap.servers", bootstrap);
        let id = self.client_id.as_deref().unwrap_or("mesh");
        c.set("client.id", format!("{id}-{role}"));
        c.set("security.protocol", self.security_protocol.as_librdkafka());
        if let Some(sasl) = &self.sasl {
            c.set("sasl.mechanism", &sasl.mechanism);
            if let Some(u) = &sasl.username {
                c.set("sasl.username", u);
            }
            if let Some(p) = &sasl.password {
                c.set("sasl.password", p.expose());
            }
        }
        let ssl = &self.ssl;
        let path = |p: &PathBuf| p.to_string_lossy().into_owned();
        if let Some(p) = &ssl.ca_location {
            c.set("ssl.ca.location", path(p));
        }
        if let Some(p) = &ssl.certificate_location {
            c.set("ssl.certificate.location", path(p));
        }
        if let Some(p) = &ssl.key_location {
            c.set("ssl.key.location", path(p));
        }
        if let Some(p) = &ssl.key_password {
            c.set("ssl.key.password", p.expose());
        }
        if !ssl.endpoint_identification {
            c.set("ssl.endpoint.identification.algorithm", "none");
        }
        for (k, v) in &self.properties {
            c.set(k, v);
        }
        Ok(c)
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures return figment::Error
mod tests {
    use super::*;

    fn get(c: &ClientConfig, k: &str) -> Option<String> {
        c.get(k).map(str::to_owned)
    }

    #[test]
    fn sasl_ssl_settings_reach_librdkafka() {
        let cfg = KafkaConfig {
            bootstrap_servers: Some("b1:9093,b2:9093".into()),
            security_protocol: SecurityProtocol::SaslSsl,
            sasl: Some(SaslConfig {
                mechanism: "SCRAM-SHA-512".into(),
                username: Some("orders".into()),
                password: Some(Secret::new("pw")),
            }),
            ssl: SslConfig {
                endpoint_identification: false,
                ..SslConfig::default()
            },
            properties: [("socket.keepalive.enable".into(), "true".into())].into(),
            ..KafkaConfig::default()
        };
        let c = cfg.client_config("gateway").unwrap();
        assert_eq!(
            get(&c, "bootstrap.servers").as_deref(),
            Some("b1:9093,b2:9093")
        );
        assert_eq!(get(&c, "security.protocol").as_deref(), Some("sasl_ssl"));
        assert_eq!(get(&c, "sasl.mechanism").as_deref(), Some("SCRAM-SHA-512"));
        assert_eq!(get(&c, "sasl.password").as_deref(), Some("pw"));
        assert_eq!(get(&c, "client.id").as_deref(), Some("mesh-gateway"));
        assert_eq!(
            get(&c, "ssl.endpoint.identification.algorithm").as_deref(),
            Some("none")
        );
        assert_eq!(get(&c, "socket.keepalive.enable").as_deref(), Some("true"));
        // librdkafka itself accepts the result (this build has TLS and SCRAM).
        c.create::<rdkafka::producer::BaseProducer>()
            .expect("librdkafka accepts the config");
        assert!(!format!("{cfg:?}").contains("\"pw\""));
    }

    #[test]
    fn inconsistent_security_settings_name_the_key() {
        let mut cfg = KafkaConfig::with_bootstrap("localhost:9092");
        cfg.security_protocol = SecurityProtocol::SaslPlaintext;
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains("[kafka.sasl]"), "{e}");

        cfg.sasl = Some(SaslConfig {
            mechanism: "GSSAPI".into(),
            username: None,
            password: None,
        });
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains("kafka.sasl.mechanism"), "{e}");

        let mut cfg = KafkaConfig::with_bootstrap("localhost");
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains("host:port"), "{e}");
        cfg.bootstrap_servers = Some("localhost:9092".into());
        cfg.ssl.ca_location = Some("/nonexistent/ca.pem".into());
        let e = cfg.validate().unwrap_err().to_string();
        assert!(e.contains("kafka.ssl.ca_location"), "{e}");
    }

    #[test]
    fn parses_from_toml_with_env_style_names() {
        figment::Jail::expect_with(|jail| {
            jail.create_file(
                "k.toml",
                "bootstrap_servers = \"k:9092\"\nsecurity_protocol = \"SASL_SSL\"\n\
                 [sasl]\nmechanism = \"PLAIN\"\nusername = \"u\"\npassword = \"p\"\n\
                 [properties]\n\"linger.ms\" = \"5\"\n",
            )?;
            let cfg: KafkaConfig = mesh_runtime::config::load(Some("k.toml".as_ref())).unwrap();
            assert_eq!(cfg.security_protocol, SecurityProtocol::SaslSsl);
            assert_eq!(cfg.properties["linger.ms"], "5");
            jail.create_file("bad.toml", "[ssl]\nca_file = \"x\"\n")?;
            let e = mesh_runtime::config::load::<KafkaConfig>(Some("bad.toml".as_ref()))
                .unwrap_err()
                .to_string();
            assert!(e.contains("ca_file") && e.contains("bad.toml"), "{e}");
            Ok(())
        });
    }
}
