//! Bearer token → principal (gateway config) → domain (domains file), for HTTP produce.

use std::collections::HashMap;

use crate::GatewayError;
use crate::config::GatewayConfig;

/// Who may produce: token → (principal, domain).
#[derive(Debug, Default)]
pub struct Tokens {
    by_token: HashMap<String, (String, String)>,
}

impl Tokens {
    /// Resolves every configured token's principal to its domain up front: a token whose
    /// principal belongs to no domain is a configuration error, not a runtime 401.
    pub fn load(config: &GatewayConfig) -> Result<Self, GatewayError> {
        if config.tokens.is_empty() {
            return Ok(Self::default());
        }
        let Some(path) = &config.domains_file else {
            return Err(GatewayError::Config(
                "gateway.tokens is set but gateway.domains_file is not (principal → domain)".into(),
            ));
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            GatewayError::Config(format!("reading domains file {}: {e}", path.display()))
        })?;
        let (domains, diags) =
            mesh_contract::domains::Domains::parse(&path.to_string_lossy(), &text);
        if diags.has_errors() {
            return Err(GatewayError::Config(format!(
                "domains file {} has errors",
                path.display()
            )));
        }
        let mut by_token = HashMap::new();
        for (token, principal) in &config.tokens {
            let domain = domains
                .domains
                .values()
                .find(|d| d.principals.iter().any(|p| p == principal))
                .ok_or_else(|| {
                    GatewayError::Config(format!(
                        "gateway.tokens: principal {principal} belongs to no domain in {}",
                        path.display()
                    ))
                })?;
            by_token.insert(token.clone(), (principal.clone(), domain.name.clone()));
        }
        Ok(Self { by_token })
    }

    /// `(principal, domain)` of a token.
    pub fn resolve(&self, token: &str) -> Option<&(String, String)> {
        self.by_token.get(token)
    }
}
