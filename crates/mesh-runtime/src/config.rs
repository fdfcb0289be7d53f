//! Layered, typed configuration: built-in defaults → TOML file → `MESH_*` environment variables.
//!
//! Each layer overrides the one before. Environment variables use the `MESH_` prefix and `__` for
//! nesting (`MESH_KAFKA__BOOTSTRAP_SERVERS` sets `kafka.bootstrap_servers`). Config types use
//! `#[serde(deny_unknown_fields)]`, so a typo is an error that names the key and the file or
//! variable it came from, instead of a setting silently ignored.

use std::fmt;
use std::path::Path;

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::RuntimeError;

/// Prefix of the environment variables that configure mesh services.
pub const ENV_PREFIX: &str = "MESH_";

/// Loads `T` from its defaults, then `file` (if given; it must exist), then `MESH_*` variables.
pub fn load<T>(file: Option<&Path>) -> Result<T, RuntimeError>
where
    T: Serialize + DeserializeOwned + Default,
{
    figment::<T>(file)?.extract().map_err(RuntimeError::from)
}

/// The merged layers, for callers that want to extract a part of them.
pub fn figment<T: Serialize + Default>(file: Option<&Path>) -> Result<Figment, RuntimeError> {
    let mut fig = Figment::from(Serialized::defaults(T::default()));
    if let Some(path) = file {
        if !path.is_file() {
            return Err(RuntimeError::ConfigFileMissing {
                path: path.to_path_buf(),
            });
        }
        fig = fig.merge(Toml::file_exact(path));
    }
    Ok(fig.merge(Env::prefixed(ENV_PREFIX).split("__")))
}

/// Renders a config as TOML-like JSON with secret values replaced, for `mesh config check`.
pub fn redacted<T: Serialize>(config: &T) -> serde_json::Value {
    fn walk(v: &mut serde_json::Value) {
        match v {
            serde_json::Value::Object(map) => {
                for (k, v) in map.iter_mut() {
                    let k = k.to_ascii_lowercase();
                    let secret = ["password", "secret", "token", "credential"]
                        .iter()
                        .any(|s| k.contains(s));
                    if secret && !v.is_null() {
                        *v = serde_json::Value::String("<redacted>".into());
                    } else {
                        walk(v);
                    }
                }
            }
            serde_json::Value::Array(items) => items.iter_mut().for_each(walk),
            _ => {}
        }
    }
    let mut v = serde_json::to_value(config).unwrap_or(serde_json::Value::Null);
    walk(&mut v);
    v
}

/// A string that never shows up in `Debug` output (passwords, tokens). It serializes as itself,
/// because config layering round-trips through serde; use [`redacted`] to print configs.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Self(s.into())
    }
    /// The secret itself, for handing to the library that needs it.
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(***)")
    }
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's Jail closures return figment::Error
mod tests {
    use super::*;
    use figment::Jail;

    #[derive(Debug, Default, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct Inner {
        port: u16,
        password: Option<Secret>,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize)]
    #[serde(deny_unknown_fields, default)]
    struct Cfg {
        name: String,
        level: String,
        inner: Inner,
    }

    impl Default for Cfg {
        fn default() -> Self {
            Self {
                name: "default-name".into(),
                level: "info".into(),
                inner: Inner {
                    port: 8081,
                    password: None,
                },
            }
        }
    }

    #[test]
    fn defaults_then_file_then_env() {
        Jail::expect_with(|jail| {
            jail.create_file("mesh.toml", "name = \"from-file\"\n[inner]\nport = 9000\n")?;
            jail.set_env("MESH_INNER__PORT", "9100");
            let cfg: Cfg = load(Some(Path::new("mesh.toml"))).expect("loads");
            assert_eq!(cfg.name, "from-file", "file overrides default");
            assert_eq!(cfg.level, "info", "default kept where nothing overrides");
            assert_eq!(cfg.inner.port, 9100, "env overrides file");
            Ok(())
        });
    }

    #[test]
    fn no_file_means_defaults_and_env() {
        Jail::expect_with(|jail| {
            jail.set_env("MESH_LEVEL", "debug");
            let cfg: Cfg = load(None).expect("loads");
            assert_eq!(cfg.level, "debug");
            assert_eq!(cfg.inner.port, 8081);
            Ok(())
        });
    }

    #[test]
    fn unknown_key_in_file_names_key_and_file() {
        Jail::expect_with(|jail| {
            jail.create_file("mesh.toml", "[inner]\nprot = 9000\n")?;
            let err = load::<Cfg>(Some(Path::new("mesh.toml")))
                .unwrap_err()
                .to_string();
            assert!(
                err.contains("unknown field") && err.contains("prot"),
                "{err}"
            );
            assert!(err.contains("inner"), "names the table: {err}");
            assert!(err.contains("mesh.toml"), "names the file: {err}");
            Ok(())
        });
    }

    #[test]
    fn unknown_env_var_names_the_variable() {
        Jail::expect_with(|jail| {
            jail.set_env("MESH_INNER__PORTT", "1");
            let err = load::<Cfg>(None).unwrap_err().to_string();
            assert!(err.contains("portt"), "{err}");
            assert!(
                err.contains("MESH_INNER__PORTT"),
                "names the variable: {err}"
            );
            Ok(())
        });
    }

    #[test]
    fn wrong_type_is_an_error_naming_the_key() {
        Jail::expect_with(|jail| {
            jail.create_file("mesh.toml", "[inner]\nport = \"eighty\"\n")?;
            let err = load::<Cfg>(Some(Path::new("mesh.toml")))
                .unwrap_err()
                .to_string();
            assert!(err.contains("inner.port"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn missing_file_is_an_error() {
        let err = load::<Cfg>(Some(Path::new("/nonexistent/mesh.toml"))).unwrap_err();
        assert!(matches!(err, RuntimeError::ConfigFileMissing { .. }));
    }

    #[test]
    fn secrets_are_redacted_and_hidden_from_debug() {
        let mut cfg = Cfg::default();
        cfg.inner.password = Some(Secret::new("hunter2"));
        let shown = redacted(&cfg).to_string();
        assert!(
            !shown.contains("hunter2") && shown.contains("<redacted>"),
            "{shown}"
        );
        assert!(!format!("{cfg:?}").contains("hunter2"));
    }
}
