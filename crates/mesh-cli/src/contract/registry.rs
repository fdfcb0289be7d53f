//! The few schema-registry calls `apply` and `diff` make (Confluent REST API).

use serde_json::Value;

use crate::CliError;

#[derive(Clone, Debug)]
pub struct RegistryClient {
    base: String,
    http: reqwest::Client,
}

impl RegistryClient {
    pub fn new(url: &str) -> Self {
        Self {
            base: url.trim_end_matches('/').to_owned(),
            http: reqwest::Client::new(),
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<(u16, Value), CliError> {
        let url = format!("{}{path}", self.base);
        let mut req = self
            .http
            .request(method, &url)
            .header("Accept", "application/vnd.schemaregistry.v1+json");
        if let Some(b) = body {
            req = req.json(b);
        }
        let resp = req
            .send()
            .await
            .map_err(|e| CliError::Contract(format!("schema registry {}: {e}", self.base)))?;
        let status = resp.status().as_u16();
        let json = resp.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, json))
    }

    fn fail(&self, what: &str, status: u16, body: &Value) -> CliError {
        let msg = body
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("unexpected answer");
        let code = body
            .get("error_code")
            .and_then(Value::as_i64)
            .unwrap_or(i64::from(status));
        CliError::Contract(format!("schema registry: {what}: {msg} (error {code})"))
    }

    /// The latest version of `subject`, if it has any.
    pub async fn latest(&self, subject: &str) -> Result<Option<Value>, CliError> {
        let (status, body) = self
            .call(
                reqwest::Method::GET,
                &format!("/subjects/{subject}/versions/latest"),
                None,
            )
            .await?;
        match status {
            200 => Ok(Some(body)),
            404 => Ok(None),
            _ => Err(self.fail(&format!("read {subject}"), status, &body)),
        }
    }

    /// The subject's own config (not the global fallback).
    pub async fn config(&self, subject: &str) -> Result<Option<Value>, CliError> {
        let (status, body) = self
            .call(reqwest::Method::GET, &format!("/config/{subject}"), None)
            .await?;
        match status {
            200 => Ok(Some(body)),
            404 => Ok(None),
            _ => Err(self.fail(&format!("read config of {subject}"), status, &body)),
        }
    }

    pub async fn set_config(&self, subject: &str, config: &Value) -> Result<(), CliError> {
        let (status, body) = self
            .call(
                reqwest::Method::PUT,
                &format!("/config/{subject}"),
                Some(config),
            )
            .await?;
        if status == 200 {
            Ok(())
        } else {
            Err(self.fail(&format!("set config of {subject}"), status, &body))
        }
    }

    /// Why `registration` is incompatible with the subject's versions (empty = compatible).
    pub async fn incompatibilities(
        &self,
        subject: &str,
        registration: &Value,
    ) -> Result<Vec<String>, CliError> {
        let path = format!("/compatibility/subjects/{subject}/versions/latest?verbose=true");
        let (status, body) = self
            .call(reqwest::Method::POST, &path, Some(registration))
            .await?;
        match status {
            200 if body.get("is_compatible").and_then(Value::as_bool) == Some(true) => {
                Ok(Vec::new())
            }
            200 => Ok(body
                .get("messages")
                .and_then(Value::as_array)
                .map(|m| {
                    m.iter()
                        .filter_map(|x| x.as_str().map(str::to_owned))
                        .collect()
                })
                .filter(|m: &Vec<String>| !m.is_empty())
                .unwrap_or_else(|| vec!["the registry found the schema incompatible".into()])),
            404 => Ok(Vec::new()),
            _ => Err(self.fail(&format!("check compatibility of {subject}"), status, &body)),
        }
    }

    /// Registers (or finds) the schema; returns its id.
    pub async fn register(&self, subject: &str, registration: &Value) -> Result<i64, CliError> {
        let (status, body) = self
            .call(
                reqwest::Method::POST,
                &format!("/subjects/{subject}/versions"),
                Some(registration),
            )
            .await?;
        match (status, body.get("id").and_then(Value::as_i64)) {
            (200, Some(id)) => Ok(id),
            _ => Err(self.fail(&format!("register {subject}"), status, &body)),
        }
    }
}
